"""Facebook Pages through the Graph API: page counts, posts, live videos, follower history.

- Counts for up to 50 pages a call: ``GET {base}/?ids=a,b&fields=id,name,username,
  followers_count,fan_count`` (by platform id when known, else by handle). ``fan_count`` is
  page likes and lands in ``likes``, never in ``followers``.
- Posts: their first page rides in the same ``?ids=`` call, as the field expansion
  ``posts.since(T).limit(100){fields}`` (Graph's multiple-id read with nested edges), for
  the pages of the call sharing the call's ``since`` = min(last post seen, run day -
  settling window), so recent posts are re-read and their metrics refreshed across 50 pages
  a call. Further pages (and pages asked with another ``since``, or answered without the
  edge) are read from ``GET {base}/{page-id}/posts``, paged by ``paging.cursors.after``
  until ``paging.next`` is absent.
- Live: the ``live_videos`` edge, read only for pages that posted videos in the window.
- Follower history: ``{page-id}/insights/page_follows`` in windows of at most 90 days
  (about two years back on an account's first run, then only recent days), only when the
  connection's extra says the token may read insights (``{"insights": true}``).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from agency_pulse.errors import (
    AccountGone,
    InvalidHandle,
    MalformedResponse,
    PermissionDenied,
    PlatformError,
)
from agency_pulse.extractors.base import (
    AccountCost,
    AccountLookup,
    ExtractResult,
    ExtractState,
    Lookup,
    Outcome,
    Page,
    deletions_for,
    extract_each,
    list_item,
    lookup_from_error,
    note_handle_changes,
    pages,
    parse_count,
    parse_timestamp,
    path_segment,
    split_cost,
)
from agency_pulse.extractors.meta_graph import (
    auth_headers,
    graph_error,
    insights_points,
    is_invalid_metric,
    next_after,
    unix,
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


def classify(response, body) -> PlatformError | None:
    return graph_error(PLATFORM, response, body)


def parse_time(value, what: str = "timestamp") -> datetime | None:
    """Graph timestamps look like ``2024-01-15T10:00:00+0000``; absent gives None."""
    return parse_timestamp(value, what, PLATFORM, required=False)


def _named_objects(reason: str) -> set[str]:
    """Ids an error names: the (#803) alias list, or "Object with ID 'x'" (lower-cased)."""
    names = {n.strip().lower() for n in reason.rsplit(":", 1)[-1].split(",") if n.strip()}
    names |= {m.lower() for m in OBJECT_ID.findall(reason)}
    return names


def _summary_count(post: dict, edge: str) -> int | None:
    summary = (post.get(edge) or {}).get("summary") if isinstance(post.get(edge), dict) else None
    if not isinstance(summary, dict):
        return None
    return parse_count(summary.get("total_count"), f"{edge}.summary.total_count", PLATFORM)


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
        self.headers = auth_headers(conn)
        self.result = ExtractResult()
        self.fetched_at = datetime.now(UTC)
        self.pages: dict[str, dict] = {}  # account_id -> page object from the counts batch
        self.refused: list[PermissionDenied] = []  # pages whose counts were refused
        self.insights_enabled = bool(conn.extra.get("insights"))
        self.follower_metrics = list(FOLLOWER_METRICS)
        # account_id -> the first page of its posts edge, from the counts call
        self.first_posts: dict[str, dict] = {}
        # Off once the posts edge in a counts call is refused (no Page Public Content Access):
        # the counts must not be lost for that.
        self.batch_posts = True
        self.posts_probed = False

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
        """The page id (or, unknown yet, the handle) as one item of the ``ids`` list."""
        return list_item(account.platform_id or self.state.platform_ids.get(account.account_id)
                         or account.handle, "page id or handle", self.platform)

    def fetch_counts(self) -> dict[str, tuple[int, int]]:
        """Read every page's counts in batches; returns each account's share of the calls."""
        costs: dict[str, tuple[int, int]] = {}
        usable = []
        for account in self.accounts:
            try:
                self.identifier(account)
            except InvalidHandle as exc:
                # Kept out of the batch: a comma would split it into other ids.
                self.result.outcomes[account.account_id] = Outcome("failed", exc.reason, 0, 0)
                continue
            usable.append(account)
        for start in range(0, len(usable), IDS_PER_CALL):
            chunk = usable[start:start + IDS_PER_CALL]
            cost = AccountCost(self.client)
            try:
                self.fetch_counts_batch(chunk)
            except PlatformError as exc:
                if exc.stops_platform:
                    self.result.stopped_by = exc
                for account in chunk:
                    if account.account_id not in self.result.outcomes:
                        self.result.fail(account.account_id, exc, f"page counts: {exc.reason}")
            costs.update(split_cost([a.account_id for a in chunk], cost.calls, cost.units))
            if self.result.stopped_by is not None:
                break
        if self.refused and len(self.refused) == len(self.accounts):
            # Not one page may be read: the app lacks the feature, not these pages.
            self.result.stopped_by = PermissionDenied(
                self.platform, f"every page refused: {self.refused[0].reason}", platform_wide=True)
        for account_id, (status, reason, _c, _u) in list(self.result.outcomes.items()):
            calls, units = costs.get(account_id, (0, 0))
            if status == "private" and self.result.stopped_by is not None:
                status = "failed"  # the refusal is the app's, not a fact about the page
            self.result.outcomes[account_id] = Outcome(status, reason, calls, units)
        return costs

    def posts_expansion(self, accounts: list[Account]) -> tuple[str, datetime | None]:
        """The ``posts`` field expansion for the ``since`` most of ``accounts`` share."""
        starts = Counter(self.state.since_for(a.account_id, self.run_date) for a in accounts)
        since = max(starts, key=lambda start: (starts[start], start or datetime.min.replace(
            tzinfo=UTC)))
        window = f".since({unix(since)})" if since is not None else ""
        return f"posts{window}.limit({POSTS_PER_PAGE}){{{POST_FIELDS}}}", since

    def fetch_counts_batch(self, accounts: list[Account]) -> None:
        """One ``?ids=`` call (with the first page of posts of the pages sharing its
        ``since``); a page that spoils the batch is isolated by splitting it."""
        pending = {self.identifier(a): a for a in accounts}
        while pending:
            fields, since = PAGE_FIELDS, None
            with_posts = self.batch_posts
            if with_posts:
                expansion, since = self.posts_expansion(list(pending.values()))
                fields = f"{PAGE_FIELDS},{expansion}"
            try:
                try:
                    body = self.get("", {"ids": ",".join(pending), "fields": fields})
                except PermissionDenied as exc:
                    if not (with_posts and not self.posts_probed
                            and "content access" in exc.reason.lower()):
                        raise
                    # The posts edge needs Page Public Content Access, the counts only Page
                    # Public Metadata Access; a restricted page is refused in the same words.
                    # Asked once per run: the same call without the edge tells which.
                    self.posts_probed = True
                    body = self.get("", {"ids": ",".join(pending), "fields": PAGE_FIELDS})
                    log.info("%s: posts refused inside the counts call (%s); reading them "
                             "page by page", self.platform, exc.reason)
                    self.batch_posts = with_posts = False
            except (AccountGone, PermissionDenied) as exc:
                if len(pending) == 1:
                    [account] = pending.values()
                    if isinstance(exc, PermissionDenied):
                        self.refused.append(exc)
                    self.result.outcomes[account.account_id] = Outcome(exc.log_status,
                                                                       exc.reason, 0, 0)
                    return
                named = _named_objects(exc.reason) if isinstance(exc, AccountGone) else set()
                gone = [ident for ident in pending if ident.lower() in named]
                if gone:
                    # (#803) names the aliases that do not exist: mark those, retry the rest.
                    for ident in gone:
                        account = pending.pop(ident)
                        self.result.outcomes[account.account_id] = Outcome("gone", exc.reason,
                                                                           0, 0)
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
                    self.result.outcomes[account.account_id] = Outcome(
                        "failed", f"page {ident!r} missing from the counts answer", 0, 0)
                    continue
                self.pages[account.account_id] = page
                self.result.account_snapshots.append(self.snapshot_row(account, page))
                edge = page.get("posts")
                if (with_posts and isinstance(edge, dict)
                        and self.state.since_for(account.account_id, self.run_date) == since):
                    self.first_posts[account.account_id] = edge
            return

    def snapshot_row(self, account: Account, page: dict) -> dict:
        return {
            "snapshot_date": self.run_date, "account_id": account.account_id,
            "agency_id": account.agency_id, "platform": self.platform,
            "handle": account.handle, "platform_id": str(page["id"]),
            "name": page.get("name"),
            "followers": parse_count(page.get("followers_count"), "followers_count",
                                     self.platform),
            "followers_rounding": None,
            "likes": parse_count(page.get("fan_count"), "fan_count", self.platform),
            "posts_total": None, "views_total": None, "fetched_at": self.fetched_at,
        }

    # -- posts --------------------------------------------------------------------

    def extract_account(self, account: Account) -> None:
        page = self.pages.get(account.account_id)
        if page is None:
            return
        page_id = str(page["id"])
        since = self.state.since_for(account.account_id, self.run_date)
        posts = self.fetch_posts(account, page_id, since)
        # Only a listing read to its end makes an absence evidence of a deletion.
        complete = self.result.posts_complete(account.account_id)
        video_posts = [p for p in posts if p.get("status_type") in VIDEO_STATUS_TYPES]
        live_ids = (self.fetch_live_video_ids(account, page_id, since) if video_posts
                    else set())
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
            post = self.get(path_segment(candidate["post_id"], "post id", self.platform),
                            {"fields": POST_FIELDS})
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

    def fetch_posts(self, account: Account, page_id: str, since: datetime | None
                    ) -> list[dict]:
        """Every post since ``since``; a read cut short marks the account's posts incomplete."""
        params = {"fields": POST_FIELDS, "limit": POSTS_PER_PAGE}
        if since is not None:
            params["since"] = unix(since)
        path = f"{path_segment(page_id, 'page id', self.platform)}/posts"

        first = self.first_posts.pop(account.account_id, None)

        def fetch(after: str | None) -> Page:
            if after is None and first is not None:
                body = first  # came with the counts call
            else:
                body = self.get(path, {**params, "after": after} if after else params)
            data = body.get("data")
            if not isinstance(data, list):
                raise MalformedResponse(self.platform, f"posts of {page_id}: no 'data' list")
            if len(data) > POSTS_PER_PAGE:
                raise MalformedResponse(self.platform, f"posts of {page_id}: a page of "
                                        f"{len(data)} posts, asked for at most {POSTS_PER_PAGE}")
            return Page([p for p in data if isinstance(p, dict)], next_after(body))

        posts: list[dict] = []
        for page in pages(fetch, platform=self.platform, account=account, result=self.result,
                          max_pages=MAX_POST_PAGES):
            posts += page.items
        return posts

    def fetch_live_video_ids(self, account: Account, page_id: str,
                             since: datetime | None) -> set[str]:
        """Ids (live video and its video object) of the page's broadcasts since ``since``."""
        ids: set[str] = set()
        params = {"fields": LIVE_FIELDS, "limit": POSTS_PER_PAGE}
        path = f"{path_segment(page_id, 'page id', self.platform)}/live_videos"

        first = self.first_posts.pop(account.account_id, None)

        def fetch(after: str | None) -> Page:
            if after is None and first is not None:
                body = first  # came with the counts call
            else:
                body = self.get(path, {**params, "after": after} if after else params)
            data = body.get("data") if isinstance(body.get("data"), list) else []
            return Page(data, next_after(body))

        try:
            for page in pages(fetch, platform=self.platform, account=account,
                              result=self.result, what="live videos", max_pages=MAX_LIVE_PAGES):
                oldest = None
                for live in page.items:
                    if not isinstance(live, dict):
                        continue
                    ids.add(str(live.get("id")))
                    video = live.get("video")
                    if isinstance(video, dict) and video.get("id"):
                        ids.add(str(video["id"]))
                    link = VIDEO_LINK.search(str(live.get("permalink_url") or ""))
                    if link:
                        ids.add(link.group(1))
                    created = parse_time(live.get("creation_time"), "creation_time")
                    oldest = (created if oldest is None or (created and created < oldest)
                              else oldest)
                if since is not None and oldest is not None and oldest < since:
                    break
        except PermissionDenied as exc:
            log.info("%s: live videos of %s not readable (%s); live flags stay false",
                     self.platform, page_id, exc.reason)
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
            "published_at": parse_time(post.get("created_time"), "created_time"),
            "post_type": "live" if is_live and not status_type else status_type,
            "is_video": status_type in VIDEO_STATUS_TYPES or is_live,
            "is_live": is_live,
            "permalink": post.get("permalink_url"),
            "reactions": _summary_count(post, "reactions"),
            "comments": _summary_count(post, "comments"),
            # Graph omits "shares" on a post nobody shared.
            "shares": parse_count(shares.get("count"), "shares.count", self.platform)
            if isinstance(shares, dict) else 0,
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
                body = self.get(f"{path_segment(page_id, 'page id', self.platform)}/insights", {
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
        return [{"account_id": account.account_id, "agency_id": account.agency_id,
                 "platform": self.platform, "day": point.day, "followers": point.value,
                 "metric": point.metric, "fetched_at": self.fetched_at}
                for point in insights_points(body, self.follower_metrics, since, until,
                                             self.platform)]

def extract(client, conn, accounts: list[Account], run_date: date,
            state: ExtractState) -> ExtractResult:
    """Counts, posts (with deletions and live flags) and follower history of every page."""
    extractor = FacebookExtractor(client, conn, accounts, run_date, state)
    client.add_secrets(conn.secrets)
    shared_cost = extractor.fetch_counts()
    result = extract_each(client, accounts, extractor.result, extractor.extract_account,
                          shared_cost=shared_cost)
    # A page asked by its id may answer with a new username: say so, carry on under the id.
    by_id = [a for a in accounts if not a.handle.isdigit()
             and (a.platform_id or state.platform_ids.get(a.account_id))]
    return note_handle_changes(result, by_id, {account_id: page.get("username")
                                               for account_id, page in extractor.pages.items()})


# --------------------------------------------------------------------------- account identity

RESOLVE_FIELDS = "id,name,username"


def resolve_accounts(client, conn, accounts: list[Account]) -> dict[str, AccountLookup]:
    """Each page asked by handle, and by its registry ``platform_id``, in ``?ids=`` calls of 50.

    An unknown alias fails the whole call (#803, naming the aliases): those are ``missing``
    and the rest is asked again; an error naming none splits the batch to find the page.
    A platform-stopping error (token) is raised.
    """
    client.add_secrets(conn.secrets)
    headers = auth_headers(conn)
    answers: dict[str, Lookup] = {}  # lower-cased identifier -> answer
    wanted: list[str] = []
    for account in accounts:
        for ident in (account.handle, account.platform_id):
            if not ident:
                continue
            try:
                list_item(ident, "page id or handle", PLATFORM)
            except InvalidHandle as exc:
                answers[ident.lower()] = Lookup("failed", detail=exc.reason)
                continue
            if ident.lower() not in answers and ident not in wanted:
                wanted.append(ident)

    def ask(batch: list[str]) -> None:
        try:
            body = client.get_json(f"{conn.base_url}/", {"ids": ",".join(batch),
                                                         "fields": RESOLVE_FIELDS},
                                   headers=headers, classify=classify)
        except PlatformError as exc:
            if exc.stops_platform:
                raise
            if len(batch) == 1:
                answers[batch[0].lower()] = lookup_from_error(exc)
                return
            named = _named_objects(exc.reason) if isinstance(exc, AccountGone) else set()
            gone = [ident for ident in batch if ident.lower() in named]
            for ident in gone:
                answers[ident.lower()] = Lookup("missing", detail=exc.reason)
            rest = [ident for ident in batch if ident not in gone]
            if gone and rest:
                ask(rest)
            elif not gone:
                ask(batch[:len(batch) // 2])
                ask(batch[len(batch) // 2:])
            return
        lowered = {str(k).lower(): v for k, v in body.items()} if isinstance(body, dict) else {}
        for ident in batch:
            page = lowered.get(ident.lower())
            if isinstance(page, dict) and page.get("id"):
                answers[ident.lower()] = Lookup("found", str(page["id"]),
                                                page.get("username") or None)
            else:
                answers[ident.lower()] = Lookup("failed", detail=f"page {ident!r} missing from "
                                                "the answer")

    for start in range(0, len(wanted), IDS_PER_CALL):
        ask(wanted[start:start + IDS_PER_CALL])
    return {account.account_id: AccountLookup(
                answers[account.handle.lower()],
                answers[account.platform_id.lower()] if account.platform_id else None)
            for account in accounts}
