"""YouTube Data API v3: channel counts in batches, uploads through the uploads playlist.

Quota (10,000 units a day per project, reset at midnight Pacific time) decides the shape:
- counts: ``channels?part=snippet,statistics,contentDetails&id=UC1,...`` for up to 50 channels
  a call (1 unit); a handle without a known channel id is resolved once with
  ``forHandle=@handle`` (1 unit) and its id is carried in the snapshot's ``platform_id``;
- posts: ``playlistItems`` of the uploads playlist (1 unit a page of 50), stopping once items
  are older than the incremental start, then ``videos`` for any 50 ids a call (1 unit): the
  ids of every channel are batched together, and each call's cost is split among the
  accounts whose ids it carried.
``search.list`` (100 units) is never used. Counts for every channel come first, so a quota
that runs out mid-run costs post refreshes, not follower snapshots.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agency_pulse.errors import (
    AccountGone,
    InvalidHandle,
    InvalidToken,
    MalformedResponse,
    PermissionDenied,
    PlatformError,
    QuotaExhausted,
    TransientError,
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
    split_cost,
)
from agency_pulse.registry import Account

log = logging.getLogger(__name__)

PLATFORM = "youtube"
CHANNEL_PARTS = "snippet,statistics,contentDetails"
VIDEO_PARTS = "snippet,statistics,liveStreamingDetails"
IDS_PER_CALL = 50
PAGE_SIZE = 50
DAILY_QUOTA_UNITS = 10_000
SUBSCRIBER_ROUNDING = "3_significant_figures"
QUOTA_TIME_ZONE = ZoneInfo("America/Los_Angeles")
_CHANNEL_ID = re.compile(r"^UC[A-Za-z0-9_-]{22}$")
_HTML_TAG = re.compile(r"<[^>]+>")

_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"}
_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_GONE_REASONS = {"channelNotFound", "videoNotFound", "playlistNotFound", "notFound"}
_TOKEN_REASONS = {"authError", "keyInvalid", "keyExpired", "API_KEY_INVALID", "API_KEY_EXPIRED"}
_PLATFORM_DENIED_REASONS = {"accessNotConfigured", "SERVICE_DISABLED", "ipRefererBlocked",
                            "API_KEY_SERVICE_BLOCKED"}


# --------------------------------------------------------------------------- errors

def quota_resets_at(now: datetime) -> datetime:
    """The next midnight Pacific time after ``now``, as a UTC instant (daylight saving aware)."""
    local = now.astimezone(QUOTA_TIME_ZONE)
    next_midnight = datetime.combine(local.date() + timedelta(days=1), time(),
                                     tzinfo=QUOTA_TIME_ZONE)
    return next_midnight.astimezone(UTC)


def classify(response, body) -> PlatformError | None:
    """Map a Google API error body (``{"error": {"code", "message", "errors": [{"reason"}]}}``).

    Returns None for what it does not recognise; the client's defaults then apply
    (5xx transient, 401 invalid token, 404 gone, ...).
    """
    status = getattr(response, "status_code", None)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    # Google's messages carry HTML links ("exceeded your <a href=...>quota</a>").
    message = _HTML_TAG.sub("", str(error.get("message") or f"HTTP {status}"))
    reasons = _error_reasons(error)

    def matched(group: set[str]) -> str | None:
        return next(iter(sorted(reasons & group)), None)

    if code := matched(_QUOTA_REASONS):
        resets_text = quota_resets_at(datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return QuotaExhausted(
            PLATFORM, f"daily quota exhausted ({code}): {message}; not retrying before the "
            f"reset at midnight Pacific time ({resets_text})",
            resets_at=resets_text, http_status=status, code=code)
    if code := matched(_RATE_REASONS):
        return TransientError(PLATFORM, f"rate limited ({code}): {message}",
                              http_status=status, code=code)
    if status == 401 or matched(_TOKEN_REASONS):
        return InvalidToken(PLATFORM, f"API key or token rejected: {message}",
                            http_status=status, code=matched(_TOKEN_REASONS) or status)
    if code := matched(_GONE_REASONS):
        return AccountGone(PLATFORM, f"{code}: {message}", http_status=status, code=code)
    if code := matched(_PLATFORM_DENIED_REASONS):
        return PermissionDenied(PLATFORM, f"{code}: {message}", platform_wide=True,
                                http_status=status, code=code)
    if status == 403 or "forbidden" in reasons:
        return PermissionDenied(PLATFORM, f"forbidden: {message}", http_status=status,
                                code=matched({"forbidden"}) or status)
    return None


def _error_reasons(error: dict) -> set[str]:
    reasons = {str(e.get("reason")) for e in error.get("errors") or []
               if isinstance(e, dict) and e.get("reason")}
    # Newer Google errors carry the reason in details[].reason (e.g. API_KEY_INVALID).
    reasons |= {str(d.get("reason")) for d in error.get("details") or []
                if isinstance(d, dict) and d.get("reason")}
    return reasons


# --------------------------------------------------------------------------- parsing

def floor_to_significant_figures(value: int, figures: int = 3) -> int:
    """YouTube shows subscriber counts rounded down to three significant figures."""
    if value < 10 ** figures:
        return value
    scale = 10 ** (int(math.log10(value)) + 1 - figures)
    return value // scale * scale


def _items(body, what: str) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
        raise MalformedResponse(PLATFORM, f"{what}: answer has no items list")
    items = body.get("items", [])
    if not all(isinstance(item, dict) and isinstance(item.get("id"), str)
               for item in items):
        raise MalformedResponse(PLATFORM, f"{what}: item without an id")
    return items


def snapshot_row(account: Account, channel: dict, run_date: date, fetched_at: datetime) -> dict:
    """One account_snapshots row from a channel resource (hidden subscribers -> NULL)."""
    what = f"channel {channel.get('id')}"
    statistics = channel.get("statistics")
    snippet = channel.get("snippet") or {}
    if not isinstance(statistics, dict):
        raise MalformedResponse(PLATFORM, f"{what}: no statistics")
    followers = None
    if not statistics.get("hiddenSubscriberCount"):
        subscribers = parse_count(statistics.get("subscriberCount"), f"{what} subscriberCount",
                                  PLATFORM)
        if subscribers is not None:
            followers = floor_to_significant_figures(subscribers)
    return {
        "snapshot_date": run_date, "account_id": account.account_id,
        "agency_id": account.agency_id, "platform": PLATFORM, "handle": account.handle,
        "platform_id": channel["id"], "name": snippet.get("title"),
        "followers": followers,
        "followers_rounding": SUBSCRIBER_ROUNDING if followers is not None else None,
        "likes": None,
        "posts_total": parse_count(statistics.get("videoCount"), f"{what} videoCount", PLATFORM),
        "views_total": parse_count(statistics.get("viewCount"), f"{what} viewCount", PLATFORM),
        "fetched_at": fetched_at,
    }


def post_row(account: Account, video: dict, run_date: date, fetched_at: datetime) -> dict:
    """One posts row from a video resource; live when it has liveStreamingDetails."""
    what = f"video {video.get('id')}"
    snippet = video.get("snippet")
    if not isinstance(snippet, dict):
        raise MalformedResponse(PLATFORM, f"{what}: no snippet")
    statistics = video.get("statistics") or {}
    is_live = ("liveStreamingDetails" in video
               or snippet.get("liveBroadcastContent") in ("live", "upcoming"))
    return {
        "account_id": account.account_id, "agency_id": account.agency_id,
        "platform": PLATFORM, "post_id": video["id"],
        "published_at": parse_timestamp(snippet.get("publishedAt"), f"{what} publishedAt",
                                        PLATFORM),
        "post_type": "live" if is_live else "video", "is_video": True, "is_live": is_live,
        "permalink": f"https://www.youtube.com/watch?v={video['id']}",
        # likeCount / commentCount are absent when hidden or disabled: NULL, not 0
        "reactions": parse_count(statistics.get("likeCount"), f"{what} likeCount", PLATFORM),
        "comments": parse_count(statistics.get("commentCount"), f"{what} commentCount",
                                PLATFORM),
        "shares": None,
        "views": parse_count(statistics.get("viewCount"), f"{what} viewCount", PLATFORM),
        "views_rounding": None, "fetched_on": run_date, "fetched_at": fetched_at,
    }


# --------------------------------------------------------------------------- extraction

def known_channel_id(account: Account, state: ExtractState) -> str | None:
    """The channel id from an earlier snapshot, the registry, or a handle that is an id."""
    known = state.platform_ids.get(account.account_id) or account.platform_id
    if known:
        return known
    return account.handle if _CHANNEL_ID.match(account.handle) else None


def extract(client, conn, accounts: list[Account], run_date: date,
            state: ExtractState) -> ExtractResult:
    """Snapshot every channel, then refresh its uploads since the incremental start.

    Promises: followers NULL when the channel hides its count (never 0), otherwise the
    count rounded down to 3 significant figures; counts for all channels before any post
    call; one videos lookup per 50 ids across all channels (ceil(ids / 50) calls), including
    settling-window posts the playlist no longer lists, so a post is reported deleted only
    when ``videos`` does not return it; an account lands posts only when every lookup that
    carried its ids succeeded (else it fails), and its calls and units are its own
    playlist pages plus its share of the calls that carried its ids;
    quota exhaustion stops the platform (``result.stopped_by``) without retrying; a client
    without a budget gets the daily quota (10,000 units, or ``extra["daily_quota_units"]``).
    """
    result = ExtractResult()
    fetched_at = datetime.now(UTC)
    auth = {"key": conn.token} if conn.token else {}
    if client.budget is None:
        # Never plan past the project's daily quota (the connection may state a smaller one).
        client.budget = int(conn.extra.get("daily_quota_units") or DAILY_QUOTA_UNITS)
    channels, shared_cost = _fetch_channels(client, conn.base_url, auth, accounts, state,
                                            result)
    # Snapshots land before any post call: a quota spent later cannot cost a count.
    for account in accounts:
        if account.account_id not in channels:
            continue
        try:
            result.account_snapshots.append(
                snapshot_row(account, channels[account.account_id], run_date, fetched_at))
        except MalformedResponse as exc:
            del channels[account.account_id]
            calls, units = shared_cost.pop(account.account_id, (0, 0))
            result.outcomes[account.account_id] = Outcome("failed", exc.reason, calls, units)
    if result.stopped_by is not None:
        return result

    wanted: dict[str, list[str]] = {}  # account id -> video ids to look up, in order
    since_by: dict[str, datetime | None] = {}

    def read_uploads(account: Account) -> None:
        channel = channels[account.account_id]
        uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}
                   ).get("uploads")
        since = state.since_for(account.account_id, run_date)
        video_ids = (list(_upload_ids(client, conn.base_url, auth, uploads, since,
                                      account, result)) if uploads else [])
        # Window posts the playlist skipped (deleted between pages, or reordered) are
        # looked up directly: only the videos endpoint may declare a post deleted.
        window_ids = [post_id for post_id, published_at
                      in sorted(state.known_post_ids.get(account.account_id, set()),
                                key=lambda item: str(item[0]))
                      if since is None or published_at is None or published_at >= since]
        wanted[account.account_id] = list(dict.fromkeys(video_ids + window_ids))
        since_by[account.account_id] = since
        if not uploads:
            result.outcomes[account.account_id] = Outcome("ok", "channel has no uploads playlist",
                                                          0, 0)

    lookups = _VideoLookups(client, conn.base_url, auth, result)
    readable: list[Account] = []
    with_channel = [a for a in accounts if a.account_id in channels]
    if getattr(client, "concurrency", 1) > 1:
        # Playlists read side by side, then the lookups (the same calls of 50 ids, formed
        # in account order) side by side.
        extract_each(client, with_channel, result, read_uploads, shared_cost)
        for account in with_channel:
            outcome = result.outcomes.get(account.account_id)
            if account.account_id in wanted and outcome is not None and outcome.status == "ok":
                readable.append(account)
                lookups.add(account.account_id, wanted[account.account_id])
        lookups.send_all_at_once()
    else:
        for account in with_channel:
            if result.stopped_by is not None:
                break
            extract_each(client, [account], result, read_uploads, shared_cost)
            if (account.account_id in wanted
                    and result.outcomes[account.account_id].status == "ok"):
                readable.append(account)
                lookups.add(account.account_id, wanted[account.account_id])
            # Only full calls go out now: each account's ids wait for the next ones' to fill
            # it, and a quota that runs out costs at most the accounts of the last partial call.
            lookups.send(full_only=True)
        lookups.send(full_only=False)
    for account in readable:
        status, reason, calls, units = result.outcomes[account.account_id]
        extra_calls, extra_units = lookups.costs.get(account.account_id, (0, 0))
        calls, units = calls + extra_calls, units + extra_units
        since = since_by[account.account_id]
        try:
            if account.account_id in lookups.failures:
                raise lookups.failures[account.account_id]
            found = [lookups.videos[v] for v in wanted[account.account_id]
                     if v in lookups.videos]
            rows = [post_row(account, video, run_date, fetched_at) for video in found]
        except PlatformError as exc:
            status, reason = exc.log_status, exc.reason
            log.warning("%s %s: %s (%s)", PLATFORM, account.account_id, status, reason)
        else:
            result.posts.extend(r for r in rows if since is None or r["published_at"] >= since)
            result.post_deletions.extend(deletions_for(
                account, PLATFORM, state, {v["id"] for v in found}, run_date, since))
        result.outcomes[account.account_id] = Outcome(status, reason, calls, units)
    return note_handle_changes(result, accounts, _current_handles(accounts, channels))


class _VideoLookups:
    """``videos`` lookups of any 50 ids, whichever accounts they belong to.

    ``videos`` holds what came back by id, ``failures`` the error of each account one of
    whose lookups failed, ``costs`` each account's share of the calls and units: a call's
    cost is split among the accounts whose ids it carried, so the shares add up to what was
    spent. An error that stops the platform sets ``result.stopped_by``; every account whose
    ids were not all looked up then fails with it.
    """

    def __init__(self, client, base_url: str, auth: dict, result: ExtractResult):
        self.client, self.base_url, self.auth, self.result = client, base_url, auth, result
        self.pending: dict[str, list[str]] = {}  # video id -> the accounts wanting it
        self.videos: dict[str, dict] = {}
        self.failures: dict[str, PlatformError] = {}
        self.costs: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def add(self, account_id: str, video_ids: list[str]) -> None:
        for video_id in video_ids:
            self.pending.setdefault(video_id, []).append(account_id)

    def send(self, *, full_only: bool) -> None:
        """Look up the pending ids, 50 a call (with ``full_only``, only full calls)."""
        while len(self.pending) >= IDS_PER_CALL or (self.pending and not full_only):
            batch = list(self.pending)[:IDS_PER_CALL]
            carried = list(dict.fromkeys(a for video_id in batch
                                         for a in self.pending.pop(video_id)))
            self._look_up(batch, carried)

    def send_all_at_once(self) -> None:
        """Look up every pending id, 50 a call, ``client.concurrency`` calls at a time."""
        calls = []
        while self.pending:
            batch = list(self.pending)[:IDS_PER_CALL]
            calls.append((batch, list(dict.fromkeys(a for video_id in batch
                                                    for a in self.pending.pop(video_id)))))
        workers = min(max(1, int(getattr(self.client, "concurrency", 1))), len(calls))
        if workers <= 1:
            for batch, carried in calls:
                self._look_up(batch, carried)
            return
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="youtube-videos") as pool:
            for done in [pool.submit(self._look_up, b, c) for b, c in calls]:
                done.result()

    def _look_up(self, batch: list[str], carried: list[str]) -> None:
        cost = AccountCost(self.client)
        try:
            if self.result.stopped_by is not None:
                raise self.result.stopped_by
            body = self.client.get_json(f"{self.base_url}/videos",
                                        {"part": VIDEO_PARTS, "id": ",".join(batch),
                                         "maxResults": IDS_PER_CALL, **self.auth},
                                        units=1, classify=classify)
            found = {item["id"]: item for item in _items(body, "videos")}
            with self._lock:
                self.videos.update(found)
        except PlatformError as exc:
            with self._lock:
                for account_id in carried:
                    self.failures.setdefault(account_id, exc)
                if exc.stops_platform and self.result.stopped_by is None:
                    self.result.stopped_by = exc
        with self._lock:  # an account's ids may ride in calls made by two threads
            for account_id, (calls, units) in split_cost(carried, cost.calls,
                                                         cost.units).items():
                before = self.costs.get(account_id, (0, 0))
                self.costs[account_id] = (before[0] + calls, before[1] + units)


def _fetch_channels(client, base_url: str, auth: dict, accounts: list[Account],
                    state: ExtractState, result: ExtractResult
                    ) -> tuple[dict[str, dict], dict[str, tuple[int, int]]]:
    """Channel resources by account id, with each account's share of the calls.

    Accounts whose channel is gone or whose call failed get their outcome here.
    """
    channels: dict[str, dict] = {}
    shared_cost: dict[str, tuple[int, int]] = {}
    by_id: dict[str, list[Account]] = {}
    to_resolve: list[Account] = []
    for account in accounts:
        channel_id = known_channel_id(account, state)
        if channel_id:
            try:
                list_item(channel_id, "channel id", PLATFORM)
            except InvalidHandle as exc:
                # Kept out of the batch: a comma would split it into other ids.
                result.outcomes[account.account_id] = Outcome("failed", exc.reason, 0, 0)
                continue
            by_id.setdefault(channel_id, []).append(account)
        else:
            to_resolve.append(account)

    for account in to_resolve:  # one forHandle call each; the id then travels in snapshots
        cost = AccountCost(client)
        try:
            body = client.get_json(f"{base_url}/channels",
                                   {"part": CHANNEL_PARTS, "forHandle": f"@{account.handle}",
                                    **auth}, units=1, classify=classify)
            items = _items(body, f"channels forHandle=@{account.handle}")
            if not items:
                raise AccountGone(PLATFORM, f"no channel for handle @{account.handle}")
            channels[account.account_id] = items[0]
            shared_cost[account.account_id] = (cost.calls, cost.units)
        except PlatformError as exc:
            if not _record_failure(result, [account], exc, {account.account_id:
                                                            (cost.calls, cost.units)}):
                return channels, shared_cost

    ids = list(by_id)
    for start in range(0, len(ids), IDS_PER_CALL):
        batch = ids[start:start + IDS_PER_CALL]
        batch_accounts = [a for channel_id in batch for a in by_id[channel_id]]
        cost = AccountCost(client)
        try:
            body = client.get_json(f"{base_url}/channels",
                                   {"part": CHANNEL_PARTS, "id": ",".join(batch),
                                    "maxResults": IDS_PER_CALL, **auth},
                                   units=1, classify=classify)
            items = {item["id"]: item for item in _items(body, "channels")}
        except PlatformError as exc:
            costs = split_cost([a.account_id for a in batch_accounts], cost.calls, cost.units)
            if not _record_failure(result, batch_accounts, exc, costs):
                return channels, shared_cost
            continue
        shared_cost.update(split_cost([a.account_id for a in batch_accounts],
                                      cost.calls, cost.units))
        for channel_id in batch:
            for account in by_id[channel_id]:
                if channel_id in items:
                    channels[account.account_id] = items[channel_id]
                else:
                    calls, units = shared_cost.pop(account.account_id)
                    result.outcomes[account.account_id] = Outcome(
                        "gone", f"channelNotFound: no channel with id {channel_id}",
                        calls, units)
    return channels, shared_cost


def _record_failure(result: ExtractResult, accounts: list[Account], exc: PlatformError,
                    costs: dict[str, tuple[int, int]]) -> bool:
    """Give each account the error's outcome; False when the error stops the platform."""
    for account in accounts:
        calls, units = costs.get(account.account_id, (0, 0))
        # a batch lost to an outage is retryable: the run (and the task) fails
        result.fail(account.account_id, exc, calls=calls, units=units)
    if exc.stops_platform:
        result.stopped_by = exc
        return False
    return True


def _upload_ids(client, base_url: str, auth: dict, playlist_id: str,
                since: datetime | None, account: Account, result: ExtractResult
                ) -> Iterator[str]:
    """Video ids of the uploads playlist, newest first, down to ``since`` (all when None).

    A page token that repeats stops the read and marks the account's posts incomplete.
    """

    def fetch(page_token: str | None) -> Page:
        params = {"part": "contentDetails", "playlistId": playlist_id,
                  "maxResults": PAGE_SIZE, **auth}
        if page_token:
            params["pageToken"] = page_token
        try:
            body = client.get_json(f"{base_url}/playlistItems", params, units=1,
                                   classify=classify)
        except AccountGone as exc:
            if exc.code == "playlistNotFound" and page_token is None:
                return Page([])  # a channel that never uploaded has no uploads playlist to read
            raise
        return Page(_items(body, f"playlistItems {playlist_id}"), body.get("nextPageToken"))

    for page in pages(fetch, platform=PLATFORM, account=account, result=result):
        reached_since = False
        for item in page.items:
            details = item.get("contentDetails")
            if not isinstance(details, dict) or not details.get("videoId"):
                raise MalformedResponse(PLATFORM, f"playlistItems {playlist_id}: item "
                                                  "without contentDetails.videoId")
            if not details.get("videoPublishedAt"):
                continue  # private or deleted video: nothing public to measure
            published_at = parse_timestamp(details["videoPublishedAt"], "videoPublishedAt",
                                           PLATFORM)
            if since is not None and published_at < since:
                reached_since = True
                continue
            yield details["videoId"]
        if reached_since:
            return


# --------------------------------------------------------------------------- account identity

def _channel_handle(channel: dict) -> str | None:
    """The channel's handle as YouTube shows it (``snippet.customUrl``, ``@`` dropped)."""
    custom = (channel.get("snippet") or {}).get("customUrl")
    return custom.lstrip("@") if isinstance(custom, str) and custom.strip("@") else None


def _current_handles(accounts: list[Account], channels: dict[str, dict]) -> dict[str, str | None]:
    """The handle each channel answered with, for accounts the registry names by handle."""
    return {a.account_id: _channel_handle(channels[a.account_id]) for a in accounts
            if a.account_id in channels and not _CHANNEL_ID.match(a.handle)}


def resolve_accounts(client, conn, accounts: list[Account]) -> dict[str, AccountLookup]:
    """Each channel asked by handle (``forHandle=@name``, one call each, 1 unit; a handle
    that is a channel id is asked by id) and by its registry ``platform_id`` (``id=`` in
    calls of 50, 1 unit). A platform-stopping error (quota, key) is raised."""
    auth = {"key": conn.token} if conn.token else {}
    by_id: dict[str, Lookup] = {}
    ids: list[str] = []
    for account in accounts:
        for ident in (account.platform_id,
                      account.handle if _CHANNEL_ID.match(account.handle) else None):
            if not ident or ident in by_id or ident in ids:
                continue
            try:
                ids.append(list_item(ident, "channel id", PLATFORM))
            except InvalidHandle as exc:
                by_id[ident] = Lookup("failed", detail=exc.reason)
    for start in range(0, len(ids), IDS_PER_CALL):
        batch = ids[start:start + IDS_PER_CALL]
        try:
            body = client.get_json(f"{conn.base_url}/channels",
                                   {"part": "snippet", "id": ",".join(batch),
                                    "maxResults": IDS_PER_CALL, **auth},
                                   units=1, classify=classify)
            items = {item["id"]: item for item in _items(body, "channels")}
        except PlatformError as exc:
            if exc.stops_platform:
                raise
            by_id.update({ident: lookup_from_error(exc) for ident in batch})
            continue
        for ident in batch:
            channel = items.get(ident)
            by_id[ident] = (Lookup("found", ident, _channel_handle(channel)) if channel else
                            Lookup("missing", detail=f"channelNotFound: no channel with id {ident}"))

    by_handle: dict[str, Lookup] = {}
    for account in accounts:
        key = account.handle.lower()
        if _CHANNEL_ID.match(account.handle) or key in by_handle:
            continue
        try:
            body = client.get_json(f"{conn.base_url}/channels",
                                   {"part": "snippet", "forHandle": f"@{account.handle}", **auth},
                                   units=1, classify=classify)
            items = _items(body, f"channels forHandle=@{account.handle}")
        except PlatformError as exc:
            if exc.stops_platform:
                raise
            by_handle[key] = lookup_from_error(exc)
            continue
        if not items:
            by_handle[key] = Lookup("missing", detail=f"no channel for handle @{account.handle}")
        elif len(items) > 1:
            by_handle[key] = Lookup("ambiguous", detail=f"{len(items)} channels answer to handle "
                                    f"@{account.handle}: " + ", ".join(i["id"] for i in items))
        else:
            by_handle[key] = Lookup("found", items[0]["id"], _channel_handle(items[0]))

    return {account.account_id: AccountLookup(
                by_id[account.handle] if _CHANNEL_ID.match(account.handle)
                else by_handle[account.handle.lower()],
                by_id[account.platform_id] if account.platform_id else None)
            for account in accounts}
