"""Facebook Pages through the Graph API: page counts, posts, live videos, follower history.

- Counts for up to 50 pages a call: ``GET {base}/?ids=a,b&fields=id,name,username,
  followers_count,fan_count`` (by platform id when known, else by handle). ``fan_count`` is
  page likes and lands in ``likes``, never in ``followers``.
- Posts per page: ``GET {base}/{page-id}/posts`` with the engagement summaries, 100 a page,
  ``since`` = min(last post seen, run day - settling window) so recent posts are re-read and
  their metrics refreshed; paged by ``paging.cursors.after`` until ``paging.next`` is absent.
- Live: the ``live_videos`` edge, read only for pages that posted videos in the window.
- Follower history: ``{page-id}/insights/page_follows`` in windows of at most 90 days
  (about two years back on an account's first run, then only recent days), only when the
  connection's extra says the token may read insights (``{"insights": true}``).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

from agency_pulse.errors import (
    AccountGone,
    InvalidToken,
    MalformedResponse,
    PermissionDenied,
    PlatformError,
    TransientError,
)
from agency_pulse.extract import (
    ExtractResult,
    ExtractState,
    deletions_for,
    extract_each,
    split_cost,
)
from agency_pulse.registry import Account

log = logging.getLogger(__name__)

PLATFORM = "facebook"
PAGE_FIELDS = "id,name,username,followers_count,fan_count"
POST_FIELDS = ("id,created_time,status_type,permalink_url,"
               "reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares")
LIVE_FIELDS = "id,status,permalink_url,creation_time,video{id}"
IDS_PER_CALL = 50
POSTS_PER_PAGE = 100
# About 600 posts a year reach the API; this only stops a paging loop gone wrong.
MAX_POST_PAGES = 500
MAX_LIVE_PAGES = 20
VIDEO_STATUS_TYPES = {"added_video"}
VIDEO_LINK = re.compile(r"/videos/(\d+)")
OBJECT_ID = re.compile(r"Object with ID '([^']+)'")
FOLLOWER_METRICS = ("page_follows",)
INSIGHTS_WINDOW_DAYS = 90
INSIGHTS_HISTORY_DAYS = 730
# Re-read a few recent days of history: the platform revises the latest values.
INSIGHTS_REFRESH_DAYS = 3
# Temporarily blocked (368): no point retrying within this run.
BLOCKED_WAIT_SECONDS = 3600.0

TRANSIENT_CODES = {1, 2}
THROTTLE_CODES = {4, 17, 32, 341, 613}


def is_permission_code(code) -> bool:
    return code == 10 or (isinstance(code, int) and 200 <= code <= 299)


def graph_error(platform: str, response, body) -> PlatformError | None:
    """Map a Graph API error body (``{"error": {"message", "code", "error_subcode"}}``)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    status = getattr(response, "status_code", None)
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = str(error.get("message") or "no message")
    described = f"Graph API error {code}" + (f"/{subcode}" if subcode else "") + f": {message}"
    common = {"http_status": status, "code": code}
    if code in TRANSIENT_CODES:
        return TransientError(platform, described, **common)
    if code in THROTTLE_CODES:
        return TransientError(platform, f"throttled: {described}", **common)
    if code == 368:
        return TransientError(platform, f"temporarily blocked: {described}",
                              retry_after=BLOCKED_WAIT_SECONDS, **common)
    if code == 190:
        return InvalidToken(platform, f"access token expired or invalid: {described}", **common)
    if is_permission_code(code):
        return PermissionDenied(platform, f"permission missing: {described}", **common)
    if code == 100 and subcode == 33:
        return AccountGone(platform, f"object gone or not visible: {described}", **common)
    if code == 803:
        return AccountGone(platform, f"unknown alias: {described}", **common)
    return PlatformError(platform, described, **common)


def classify(response, body) -> PlatformError | None:
    return graph_error(PLATFORM, response, body)


def is_invalid_metric(error: PlatformError) -> bool:
    """The (#100) error Meta returns when one requested insights metric was removed."""
    return error.code == 100 and "valid insights metric" in error.reason.lower()


def parse_time(value: str | None) -> datetime | None:
    """Graph timestamps look like ``2024-01-15T10:00:00+0000``."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise MalformedResponse(PLATFORM, f"unreadable timestamp {value!r}") from None


def _named_objects(reason: str) -> set[str]:
    """Ids an error names: the (#803) alias list, or "Object with ID 'x'" (lower-cased)."""
    names = {n.strip().lower() for n in reason.rsplit(":", 1)[-1].split(",") if n.strip()}
    names |= {m.lower() for m in OBJECT_ID.findall(reason)}
    return names


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _auth_headers(conn) -> dict:
    # A header keeps the token out of every URL (and so out of logs and the archive).
    return {"Authorization": f"Bearer {conn.token}"} if conn.token else {}


def _count(value, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise MalformedResponse(PLATFORM, f"{what} is not a count: {value!r}")
    return int(value)


def _summary_count(post: dict, edge: str) -> int | None:
    summary = (post.get(edge) or {}).get("summary") if isinstance(post.get(edge), dict) else None
    if not isinstance(summary, dict):
        return None
    return _count(summary.get("total_count"), f"{edge}.summary.total_count")


class FacebookExtractor:
    """One run over the pages of the registry; rows go into ``result``."""

    def __init__(self, client, conn, accounts: list[Account], run_date: date,
                 state: ExtractState, platform: str = PLATFORM):
        self.client = client
        self.conn = conn
        self.accounts = accounts
        self.run_date = run_date
        self.state = state
        self.platform = platform
        self.headers = _auth_headers(conn)
        self.result = ExtractResult()
        self.fetched_at = datetime.now(UTC)
        self.pages: dict[str, dict] = {}  # account_id -> page object from the counts batch
        self.refused: list[PermissionDenied] = []  # pages whose counts were refused
        self.insights_enabled = bool(conn.extra.get("insights"))
        self.follower_metrics = list(FOLLOWER_METRICS)

    def url(self, path: str = "") -> str:
        return f"{self.conn.base_url}/{path.lstrip('/')}" if path else f"{self.conn.base_url}/"

    def get(self, path: str, params: dict) -> dict:
        body = self.client.get_json(self.url(path), params, headers=self.headers,
                                    classify=classify)
        if not isinstance(body, dict):
            raise MalformedResponse(self.platform, f"GET {path or '/'}: body is not an object")
        return body

    # -- counts -------------------------------------------------------------------

    def identifier(self, account: Account) -> str:
        return (account.platform_id or self.state.platform_ids.get(account.account_id)
                or account.handle)

    def fetch_counts(self) -> dict[str, tuple[int, int]]:
        """Read every page's counts in batches; returns each account's share of the calls."""
        costs: dict[str, tuple[int, int]] = {}
        for start in range(0, len(self.accounts), IDS_PER_CALL):
            chunk = self.accounts[start:start + IDS_PER_CALL]
            calls_at, units_at = self.client.calls, self.client.units
            try:
                self.fetch_counts_batch(chunk)
            except PlatformError as exc:
                if exc.stops_platform:
                    self.result.stopped_by = exc
                for account in chunk:
                    self.result.outcomes.setdefault(
                        account.account_id, ("failed", f"page counts: {exc.reason}", 0, 0))
            costs.update(split_cost([a.account_id for a in chunk],
                                    self.client.calls - calls_at, self.client.units - units_at))
            if self.result.stopped_by is not None:
                break
        if self.refused and len(self.refused) == len(self.accounts):
            # Not one page may be read: the app lacks the feature, not these pages.
            self.result.stopped_by = PermissionDenied(
                self.platform, f"every page refused: {self.refused[0].reason}", platform_wide=True)
        for account_id, (status, reason, _c, _u) in list(self.result.outcomes.items()):
            calls, units = costs.get(account_id, (0, 0))
            self.result.outcomes[account_id] = (status, reason, calls, units)
        return costs

    def fetch_counts_batch(self, accounts: list[Account]) -> None:
        """One ``?ids=`` call; a page that spoils the batch is isolated by splitting it."""
        pending = {self.identifier(a): a for a in accounts}
        while pending:
            try:
                body = self.get("", {"ids": ",".join(pending), "fields": PAGE_FIELDS})
            except (AccountGone, PermissionDenied) as exc:
                if len(pending) == 1:
                    [account] = pending.values()
                    if isinstance(exc, PermissionDenied):
                        self.refused.append(exc)
                    status = "gone" if isinstance(exc, AccountGone) else "failed"
                    self.result.outcomes[account.account_id] = (status, exc.reason, 0, 0)
                    return
                named = _named_objects(exc.reason) if isinstance(exc, AccountGone) else set()
                gone = [ident for ident in pending if ident.lower() in named]
                if gone:
                    # (#803) names the aliases that do not exist: mark those, retry the rest.
                    for ident in gone:
                        account = pending.pop(ident)
                        self.result.outcomes[account.account_id] = ("gone", exc.reason, 0, 0)
                    continue
                # The whole call fails for one page the error does not name: split to find it.
                items = list(pending.values())
                self.fetch_counts_batch(items[:len(items) // 2])
                self.fetch_counts_batch(items[len(items) // 2:])
                return
            lowered = {str(k).lower(): v for k, v in body.items()}
            for ident, account in pending.items():
                page = body.get(ident, lowered.get(ident.lower()))
                if not isinstance(page, dict) or not page.get("id"):
                    self.result.outcomes[account.account_id] = (
                        "failed", f"page {ident!r} missing from the counts answer", 0, 0)
                    continue
                self.pages[account.account_id] = page
                self.result.account_snapshots.append(self.snapshot_row(account, page))
            return

    def snapshot_row(self, account: Account, page: dict) -> dict:
        return {
            "snapshot_date": self.run_date, "account_id": account.account_id,
            "agency_id": account.agency_id, "platform": self.platform,
            "handle": account.handle, "platform_id": str(page["id"]),
            "name": page.get("name"),
            "followers": _count(page.get("followers_count"), "followers_count"),
            "followers_rounding": None,
            "likes": _count(page.get("fan_count"), "fan_count"),
            "posts_total": None, "views_total": None, "fetched_at": self.fetched_at,
        }

    # -- posts --------------------------------------------------------------------

    def extract_account(self, account: Account) -> None:
        page = self.pages.get(account.account_id)
        if page is None:
            return
        page_id = str(page["id"])
        since = self.state.since_for(account.account_id, self.run_date)
        posts, complete = self.fetch_posts(page_id, since)
        video_posts = [p for p in posts if p.get("status_type") in VIDEO_STATUS_TYPES]
        live_ids = self.fetch_live_video_ids(page_id, since) if video_posts else set()
        returned = set()
        for post in posts:
            row = self.post_row(account, post, live_ids)
            returned.add(row["post_id"])
            self.result.posts.append(row)
        if complete:
            for candidate in deletions_for(account, self.platform, self.state, returned,
                                           self.run_date, since):
                self.confirm_deletion(account, candidate, live_ids)
        if self.insights_enabled:
            self.fetch_follower_history(account, page_id)

    def confirm_deletion(self, account: Account, candidate: dict, live_ids: set[str]) -> None:
        """Ask for a missing post itself: only "object gone" (100/33) proves a deletion.

        A post the listing skipped (ranking, or paging while posts were deleted) that still
        exists is landed as a post instead.
        """
        try:
            post = self.get(candidate["post_id"], {"fields": POST_FIELDS})
        except AccountGone:
            self.result.post_deletions.append(candidate)
            return
        except PlatformError as exc:
            if exc.stops_platform:
                raise
            log.warning("%s: could not check whether post %s was deleted (%s)",
                        self.platform, candidate["post_id"], exc.reason)
            return
        self.result.posts.append(self.post_row(account, post, live_ids))

    def fetch_posts(self, page_id: str, since: datetime | None) -> tuple[list[dict], bool]:
        """Every post since ``since``; ``complete`` is False when paging had to be cut off."""
        params = {"fields": POST_FIELDS, "limit": POSTS_PER_PAGE}
        if since is not None:
            params["since"] = unix(since)
        posts: list[dict] = []
        seen_cursors: set[str] = set()
        for _ in range(MAX_POST_PAGES):
            body = self.get(f"{page_id}/posts", params)
            data = body.get("data")
            if not isinstance(data, list):
                raise MalformedResponse(self.platform, f"posts of {page_id}: no 'data' list")
            if len(data) > POSTS_PER_PAGE:
                raise MalformedResponse(self.platform, f"posts of {page_id}: a page of "
                                        f"{len(data)} posts, asked for at most {POSTS_PER_PAGE}")
            posts += [p for p in data if isinstance(p, dict)]
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return posts, True
            if after in seen_cursors:
                log.warning("%s: posts of page %s: the paging cursor repeats; stopping there",
                            self.platform, page_id)
                return posts, False
            seen_cursors.add(after)
            params = {**params, "after": after}
        log.warning("%s: posts of page %s: more than %d pages; stopping there",
                    self.platform, page_id, MAX_POST_PAGES)
        return posts, False

    def fetch_live_video_ids(self, page_id: str, since: datetime | None) -> set[str]:
        """Ids (live video and its video object) of the page's broadcasts since ``since``."""
        ids: set[str] = set()
        params = {"fields": LIVE_FIELDS, "limit": POSTS_PER_PAGE}
        seen_cursors: set[str] = set()
        for _ in range(MAX_LIVE_PAGES):
            try:
                body = self.get(f"{page_id}/live_videos", params)
            except PermissionDenied as exc:
                log.info("%s: live videos of %s not readable (%s); live flags stay false",
                         self.platform, page_id, exc.reason)
                return ids
            data = body.get("data") if isinstance(body.get("data"), list) else []
            oldest = None
            for live in data:
                if not isinstance(live, dict):
                    continue
                ids.add(str(live.get("id")))
                video = live.get("video")
                if isinstance(video, dict) and video.get("id"):
                    ids.add(str(video["id"]))
                link = VIDEO_LINK.search(str(live.get("permalink_url") or ""))
                if link:
                    ids.add(link.group(1))
                created = parse_time(live.get("creation_time"))
                oldest = created if oldest is None or (created and created < oldest) else oldest
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if (not paging.get("next") or not after or after in seen_cursors
                    or (since is not None and oldest is not None and oldest < since)):
                return ids
            seen_cursors.add(after)
            params = {**params, "after": after}
        return ids

    def post_row(self, account: Account, post: dict, live_ids: set[str]) -> dict:
        if not post.get("id"):
            raise MalformedResponse(self.platform, f"a post of {account.handle} has no id")
        post_id = str(post["id"])
        status_type = post.get("status_type")
        # A video post links to /videos/<video id>/: match that id to a broadcast's video.
        video_link = VIDEO_LINK.search(post.get("permalink_url") or "")
        is_live = bool(video_link and video_link.group(1) in live_ids)
        shares = post.get("shares")
        return {
            "account_id": account.account_id, "agency_id": account.agency_id,
            "platform": self.platform, "post_id": post_id,
            "published_at": parse_time(post.get("created_time")),
            "post_type": "live" if is_live and not status_type else status_type,
            "is_video": status_type in VIDEO_STATUS_TYPES or is_live,
            "is_live": is_live,
            "permalink": post.get("permalink_url"),
            "reactions": _summary_count(post, "reactions"),
            "comments": _summary_count(post, "comments"),
            # Graph omits "shares" on a post nobody shared.
            "shares": _count(shares.get("count"), "shares.count") if isinstance(shares, dict)
            else 0,
            "views": None, "views_rounding": None,
            "fetched_on": self.run_date, "fetched_at": self.fetched_at,
        }

    # -- follower history (insights) ---------------------------------------------

    def history_windows(self, account: Account) -> list[tuple[date, date]]:
        """[since, until) day windows of at most 90 days covering the days still to read."""
        end = self.run_date  # exclusive: the run day itself is not complete yet
        through = self.state.history_through.get(account.account_id)
        if through is None:
            start = end - timedelta(days=INSIGHTS_HISTORY_DAYS)
        else:
            start = min(through + timedelta(days=1), end - timedelta(days=INSIGHTS_REFRESH_DAYS))
        windows = []
        while start < end:
            stop = min(start + timedelta(days=INSIGHTS_WINDOW_DAYS), end)
            windows.append((start, stop))
            start = stop
        return windows

    def fetch_follower_history(self, account: Account, page_id: str) -> None:
        for since, until in self.history_windows(account):
            if not self.follower_metrics or not self.insights_enabled:
                return
            try:
                body = self.get(f"{page_id}/insights", {
                    "metric": ",".join(self.follower_metrics), "period": "day",
                    "since": unix(datetime.combine(since, time(), UTC)),
                    "until": unix(datetime.combine(until, time(), UTC))})
            except PlatformError as exc:
                if exc.stops_platform:
                    raise
                if is_invalid_metric(exc):
                    log.warning("%s: insights metric %s is no longer offered (%s); follower "
                                "history skipped from now on", self.platform,
                                ",".join(self.follower_metrics), exc.reason)
                    self.follower_metrics.clear()
                    return
                # The counts and posts stand; only the history is out of reach.
                log.warning("%s: follower history of %s not readable (%s); skipped",
                            self.platform, account.account_id, exc.reason)
                if isinstance(exc, PermissionDenied):
                    self.insights_enabled = False  # the token lacks insights for every page
                return
            self.result.follower_history += self.history_rows(account, body, since, until)

    def history_rows(self, account: Account, body: dict, since: date, until: date) -> list[dict]:
        rows = []
        for series in body.get("data") or []:
            if not isinstance(series, dict) or series.get("name") not in self.follower_metrics:
                continue
            for point in series.get("values") or []:
                end_time = parse_time(point.get("end_time")) if isinstance(point, dict) else None
                if end_time is None or point.get("value") is None:
                    continue
                # A daily value's end_time is the next day (08:00 UTC, Pacific midnight).
                day = (end_time - timedelta(days=1)).date()
                if not since <= day < until:
                    continue
                rows.append({"account_id": account.account_id, "agency_id": account.agency_id,
                             "platform": self.platform, "day": day,
                             "followers": _count(point["value"], series["name"]),
                             "metric": series["name"], "fetched_at": self.fetched_at})
        return rows


def extract(client, conn, accounts: list[Account], run_date: date,
            state: ExtractState) -> ExtractResult:
    """Counts, posts (with deletions and live flags) and follower history of every page."""
    extractor = FacebookExtractor(client, conn, accounts, run_date, state)
    client.add_secrets(conn.secrets)
    shared_cost = extractor.fetch_counts()
    return extract_each(client, accounts, extractor.result, extractor.extract_account,
                        shared_cost=shared_cost)
