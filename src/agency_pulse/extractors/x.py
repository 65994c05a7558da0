"""X API v2: user counts in batches of 100, each user's posts paged by ``meta.next_token``.

- counts: ``users/by?usernames=a,b,...&user.fields=public_metrics,created_at,verified``; a
  user that is missing or suspended comes back in the body's ``errors`` (HTTP 200) and is
  marked gone, the rest of the batch is kept. An account whose registry entry has its
  ``platform_id`` is asked by id instead (``users?ids=``, also 100 a call): the id is its
  identity, so a handle changed on X is seen (``handle changed: old -> new`` in its
  extract_log reason) and the account carries on under the id;
- posts: ``users/{id}/tweets`` with ``start_time`` = the incremental start (the settling
  window start, or the last post seen when older), 100 a page. ``since_id`` would skip the
  window's posts whose metrics are still settling, hence ``start_time``. Only the 3,200 most
  recent posts are reachable; when that cuts a read short, the outcome says so.
Rate limits (15-minute windows): every answer carries ``x-rate-limit-remaining`` and
``x-rate-limit-reset``; the client holds an endpoint whose window is spent until the reset
(and waits for it after a 429). A 429 ``UsageCapExceeded`` is the plan's monthly cap: the platform stops. A 403 carrying error 453 means the access tier lacks the endpoint: the
platform stops with X's own message.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

from agency_pulse.errors import (
    AccountGone,
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
    lookup_from_error,
    note_handle_changes,
    pages,
    parse_count,
    parse_timestamp,
    path_segment,
    split_cost,
)
from agency_pulse.registry import Account, normalize_handle

PLATFORM = "x"
USERNAMES_PER_CALL = 100
PAGE_SIZE = 100
REACHABLE_POSTS = 3200
USER_FIELDS = "public_metrics,created_at,verified"
# referenced_tweets tells a retweet (not the account's own post) from a quote or a reply.
TWEET_FIELDS = "created_at,public_metrics,attachments,referenced_tweets"
VIDEO_MEDIA_TYPES = {"video", "animated_gif"}
ACCESS_TIER_ERROR = 453
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")


# --------------------------------------------------------------------------- errors

def classify(response, body) -> PlatformError | None:
    """Map an X API v2 error answer to the taxonomy.

    429 is transient; its wait comes from ``x-rate-limit-reset`` (Unix seconds), which the
    client reads from the response. Returns None for what it does not recognise.
    """
    status = getattr(response, "status_code", None)
    message = _error_message(body) or f"HTTP {status}"
    if status == 429 and _is_usage_cap(body):
        # The monthly post cap of the plan: no wait within a run brings it back.
        return QuotaExhausted(PLATFORM, f"usage cap of the X plan reached: {message}",
                              http_status=status, code="UsageCapExceeded")
    if status == 429:
        return TransientError(PLATFORM, f"rate limited: {message}", http_status=status,
                              code=88)
    if status == 401:
        return InvalidToken(PLATFORM, f"bearer token rejected: {message}", http_status=status)
    if status == 403:
        if _has_error_code(body, ACCESS_TIER_ERROR):
            return PermissionDenied(PLATFORM, f"access tier lacks this endpoint (453): {message}",
                                    platform_wide=True, http_status=status,
                                    code=ACCESS_TIER_ERROR)
        return PermissionDenied(PLATFORM, message, http_status=status)
    if status == 404:
        return AccountGone(PLATFORM, message, http_status=status)
    return None


def _is_usage_cap(body) -> bool:
    return isinstance(body, dict) and (
        body.get("title") == "UsageCapExceeded"
        or str(body.get("type", "")).endswith("/usage-capped"))


def _error_message(body) -> str | None:
    if not isinstance(body, dict):
        return None
    for error in body.get("errors") or []:
        if isinstance(error, dict) and (error.get("message") or error.get("detail")):
            return str(error.get("message") or error.get("detail"))
    parts = [str(body[k]) for k in ("title", "detail") if body.get(k)]
    return ": ".join(parts) or None


def _has_error_code(body, code: int) -> bool:
    if isinstance(body, dict):
        codes = [e.get("code") for e in body.get("errors") or [] if isinstance(e, dict)]
        if code in codes or str(code) in (str(c) for c in codes):
            return True
    # Some answers carry the code only inside a problem's text ("... error 453 ...").
    return body is not None and re.search(rf"(?<![\w.]){code}(?![\w.])",
                                          json.dumps(body)) is not None


# --------------------------------------------------------------------------- parsing

def _metric(metrics: dict, name: str, what: str) -> int | None:
    """The public metric ``name`` as a count; None when X does not give it."""
    return parse_count(metrics.get(name), f"{what} {name}", PLATFORM)


def snapshot_row(account: Account, user: dict, run_date: date, fetched_at: datetime) -> dict:
    """One account_snapshots row from a user object (followers exact)."""
    what = f"user @{user.get('username')}"
    metrics = user.get("public_metrics")
    if not isinstance(metrics, dict):
        raise MalformedResponse(PLATFORM, f"{what}: no public_metrics")
    followers = _metric(metrics, "followers_count", what)
    if followers is None:
        raise MalformedResponse(PLATFORM, f"{what}: public_metrics without followers_count")
    return {
        "snapshot_date": run_date, "account_id": account.account_id,
        "agency_id": account.agency_id, "platform": PLATFORM, "handle": account.handle,
        "platform_id": str(user["id"]), "name": user.get("name"),
        "followers": followers, "followers_rounding": None, "likes": None,
        "posts_total": _metric(metrics, "tweet_count", what), "views_total": None,
        "fetched_at": fetched_at,
    }


# referenced_tweets[].type -> post_type; the first that applies wins.
_REFERENCE_TYPES = (("retweeted", "retweet"), ("quoted", "quote"), ("replied_to", "reply"))


def post_type(tweet: dict) -> str:
    """``retweet`` (a plain repost carrying the original's metrics: the marts do not count it),
    ``quote`` and ``reply`` (the account's own posts), else ``tweet``."""
    references = tweet.get("referenced_tweets") or []
    kinds = {ref.get("type") for ref in references if isinstance(ref, dict)}
    return next((label for kind, label in _REFERENCE_TYPES if kind in kinds), "tweet")


def post_row(account: Account, username: str, tweet: dict, media_types: dict[str, str],
             run_date: date, fetched_at: datetime) -> dict:
    """One posts row from a tweet; shares = retweets + quotes, views = impressions."""
    what = f"post {tweet.get('id')}"
    metrics = tweet.get("public_metrics")
    if not isinstance(metrics, dict):
        raise MalformedResponse(PLATFORM, f"{what}: no public_metrics")
    retweets = _metric(metrics, "retweet_count", what)
    quotes = _metric(metrics, "quote_count", what)
    media_keys = (tweet.get("attachments") or {}).get("media_keys") or []
    is_video = any(media_types.get(key) in VIDEO_MEDIA_TYPES for key in media_keys)
    return {
        "account_id": account.account_id, "agency_id": account.agency_id,
        "platform": PLATFORM, "post_id": str(tweet["id"]),
        "published_at": parse_timestamp(tweet.get("created_at"), f"{what} created_at",
                                        PLATFORM),
        "post_type": post_type(tweet), "is_video": is_video, "is_live": False,
        "permalink": f"https://x.com/{username}/status/{tweet['id']}",
        "reactions": _metric(metrics, "like_count", what),
        "comments": _metric(metrics, "reply_count", what),
        "shares": None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0),
        "views": _metric(metrics, "impression_count", what),
        "views_rounding": None, "fetched_on": run_date, "fetched_at": fetched_at,
    }


# --------------------------------------------------------------------------- extraction

def extract(client, conn, accounts: list[Account], run_date: date,
            state: ExtractState) -> ExtractResult:
    """Snapshot every user (100 a call), then read each one's posts since the incremental start.

    Promises: users X reports missing or suspended are ``gone`` with X's own words; posts
    of the settling window no longer returned become ``post_deletions`` (only when the read
    reached back to the incremental start); a 453 or 401 stops the platform.
    """
    result = ExtractResult()
    fetched_at = datetime.now(UTC)
    headers = {"Authorization": f"Bearer {conn.token}"} if conn.token else None
    users, shared_cost = _fetch_users(client, conn.base_url, headers, accounts, result)
    # Snapshots land before any timeline call: a stop later cannot cost a count.
    for account in accounts:
        if account.account_id not in users:
            continue
        try:
            result.account_snapshots.append(
                snapshot_row(account, users[account.account_id], run_date, fetched_at))
        except MalformedResponse as exc:
            del users[account.account_id]
            calls, units = shared_cost.pop(account.account_id, (0, 0))
            result.outcomes[account.account_id] = Outcome("failed", exc.reason, calls, units)
    if result.stopped_by is not None:
        return result

    def extract_posts(account: Account) -> None:
        user = users[account.account_id]
        posts_total = user["public_metrics"].get("tweet_count")
        since = state.since_for(account.account_id, run_date)
        tweets = _read_timeline(client, conn.base_url, headers, str(user["id"]), since,
                                account, result)
        username = user.get("username") or account.handle
        returned = set()
        for tweet, media_types in tweets:
            row = post_row(account, username, tweet, media_types, run_date, fetched_at)
            returned.add(row["post_id"])
            result.posts.append(row)
        if not result.posts_complete(account.account_id):
            return  # paging went wrong: the outcome says so, absences prove nothing
        # The API ends the timeline at 3,200 posts; fewer means we saw all it holds since `since`.
        if len(tweets) < REACHABLE_POSTS:
            result.post_deletions.extend(
                deletions_for(account, PLATFORM, state, returned, run_date, since))
        elif since is None:
            result.outcomes[account.account_id] = Outcome(
                "ok", f"history cut at the {REACHABLE_POSTS:,} most recent posts X serves "
                f"({len(returned)} read of {posts_total} posted)", 0, 0)
        else:
            result.outcomes[account.account_id] = Outcome(
                "ok", f"the {REACHABLE_POSTS:,}-post limit stopped the read before "
                f"{since:%Y-%m-%d}: deletions not checked", 0, 0)

    with_users = [a for a in accounts if a.account_id in users]
    extract_each(client, with_users, result, extract_posts, shared_cost)
    return note_handle_changes(result, with_users, {account_id: user.get("username")
                                                    for account_id, user in users.items()})


def _fetch_users(client, base_url: str, headers: dict | None, accounts: list[Account],
                 result: ExtractResult) -> tuple[dict[str, dict], dict[str, tuple[int, int]]]:
    """User objects by account id, with each account's share of the batched calls.

    Accounts with a registry ``platform_id`` are asked by id (``users?ids=``), the others by
    username (``users/by?usernames=``). Missing and suspended users, and accounts of a
    failed batch, get their outcome here.
    """
    users: dict[str, dict] = {}
    shared_cost: dict[str, tuple[int, int]] = {}
    by_username: dict[str, list[Account]] = {}
    by_id: dict[str, list[Account]] = {}
    for account in accounts:
        if account.platform_id:
            if account.platform_id.isdigit():
                by_id.setdefault(account.platform_id, []).append(account)
            else:
                result.outcomes[account.account_id] = Outcome(
                    "failed", f"platform_id {account.platform_id!r} is not an X user id "
                    "(digits only): check the registry", 0, 0)
            continue
        username = normalize_handle(account.handle)
        if not _USERNAME.match(username):
            # X refuses the whole batch (400) for one bad name: keep it out of the call.
            result.outcomes[account.account_id] = Outcome(
                "failed", f"{account.handle!r} is not a valid X username "
                "(1-15 letters, digits or _): check the registry", 0, 0)
            continue
        by_username.setdefault(username, []).append(account)
    for parameter, path, wanted in (("usernames", "users/by", by_username),
                                    ("ids", "users", by_id)):
        if not _fetch_user_batches(client, f"{base_url}/{path}", headers, parameter, wanted,
                                   result, users, shared_cost):
            break
    return users, shared_cost


def _fetch_user_batches(client, url: str, headers: dict | None, parameter: str,
                        wanted: dict[str, list[Account]], result: ExtractResult,
                        users: dict[str, dict], shared_cost: dict[str, tuple[int, int]]) -> bool:
    """Ask for ``wanted`` (username or id -> accounts) 100 a call; False when the platform
    stopped (``result.stopped_by`` set)."""
    keys = list(wanted)
    for start in range(0, len(keys), USERNAMES_PER_CALL):
        batch = keys[start:start + USERNAMES_PER_CALL]
        batch_accounts = [a for key in batch for a in wanted[key]]
        cost = AccountCost(client)
        try:
            body = client.get_json(url, {parameter: ",".join(batch), "user.fields": USER_FIELDS},
                                   headers=headers, units=1, classify=classify)
            found, problems = _users_in(body)
            if parameter == "ids":
                found = {str(user["id"]): user for user in found.values()}
        except PlatformError as exc:
            costs = split_cost([a.account_id for a in batch_accounts], cost.calls, cost.units)
            for account in batch_accounts:
                calls, units = costs[account.account_id]
                # a batch lost to an outage is retryable: the run (and the task) fails
                result.fail(account.account_id, exc, calls=calls, units=units)
            if exc.stops_platform:
                result.stopped_by = exc
                return False
            continue
        shared_cost.update(split_cost([a.account_id for a in batch_accounts],
                                      cost.calls, cost.units))
        for key in batch:
            for account in wanted[key]:
                if key in found:
                    users[account.account_id] = found[key]
                    continue
                calls, units = shared_cost.pop(account.account_id)
                missing = (f"user @{key} not returned by users/by" if parameter == "usernames"
                           else f"user id {key} not returned by users")
                result.outcomes[account.account_id] = Outcome(
                    "gone", problems.get(key, missing), calls, units)
    return True


def _users_in(body) -> tuple[dict[str, dict], dict[str, str]]:
    """(users by lower-case username, X's reason by lower-case username for the missing)."""
    if not isinstance(body, dict):
        raise MalformedResponse(PLATFORM, "users/by: answer is not an object")
    data = body.get("data", [])
    if not isinstance(data, list) or not all(
            isinstance(u, dict) and u.get("id") and isinstance(u.get("username"), str)
            for u in data):
        raise MalformedResponse(PLATFORM, "users/by: data is not a list of users")
    found = {u["username"].lower(): u for u in data}
    problems = {}
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        name = str(error.get("value") or error.get("resource_id") or "").lstrip("@").lower()
        if name:
            problems[name] = str(error.get("detail") or error.get("title") or "not found")
    return found, problems


def _read_timeline(client, base_url: str, headers: dict | None, user_id: str,
                   since: datetime | None, account: Account, result: ExtractResult
                   ) -> list[tuple[dict, dict[str, str]]]:
    """Tweets since ``since`` with their media types, newest first, paged by next_token.

    A token that repeats stops the read and marks the account's posts incomplete.
    """
    params = {"max_results": PAGE_SIZE, "tweet.fields": TWEET_FIELDS,
              "expansions": "attachments.media_keys", "media.fields": "type"}
    if since is not None:
        params["start_time"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = f"users/{path_segment(user_id, 'user id', PLATFORM)}/tweets"

    def fetch(token: str | None) -> Page:
        body = client.get_json(f"{base_url}/{path}",
                               {**params, "pagination_token": token} if token else params,
                               headers=headers, units=1, classify=classify)
        if not isinstance(body, dict) or not isinstance(body.get("meta", {}), dict):
            raise MalformedResponse(PLATFORM, f"{path}: answer is not an object")
        data = body.get("data", [])
        if not data and body.get("errors") and "meta" not in body:
            # 200 with only errors: e.g. a protected or suspended account's timeline
            raise PermissionDenied(PLATFORM, f"{path}: {_error_message(body) or 'no data'}")
        if not isinstance(data, list) or not all(isinstance(t, dict) and t.get("id")
                                                 for t in data):
            raise MalformedResponse(PLATFORM, f"{path}: data is not a list of posts")
        media = (body.get("includes") or {}).get("media") or []
        media_types = {m.get("media_key"): m.get("type") for m in media if isinstance(m, dict)}
        return Page(data, body.get("meta", {}).get("next_token"), extra=media_types)

    tweets = []
    for page in pages(fetch, platform=PLATFORM, account=account, result=result):
        tweets.extend((tweet, page.extra) for tweet in page.items)
    return tweets


# --------------------------------------------------------------------------- account identity

def resolve_accounts(client, conn, accounts: list[Account]) -> dict[str, AccountLookup]:
    """Each user asked by username (``users/by?usernames=``) and by its registry
    ``platform_id`` (``users?ids=``), 100 a call. A protected user is ``private``; one X
    reports missing or suspended is ``missing``. A platform-stopping error is raised."""
    headers = {"Authorization": f"Bearer {conn.token}"} if conn.token else None
    by_name: dict[str, Lookup] = {}
    by_id: dict[str, Lookup] = {}
    names: list[str] = []
    ids: list[str] = []
    for account in accounts:
        name = normalize_handle(account.handle)
        if not _USERNAME.match(name):
            by_name[name] = Lookup("failed", detail=f"{account.handle!r} is not a valid X "
                                   "username (1-15 letters, digits or _)")
        elif name not in names:
            names.append(name)
        if account.platform_id and account.platform_id not in ids:
            if account.platform_id.isdigit():
                ids.append(account.platform_id)
            else:
                by_id[account.platform_id] = Lookup("failed", detail="an X user id is digits "
                                                    f"only: {account.platform_id!r}")
    for wanted, parameter, path, answers in ((names, "usernames", "users/by", by_name),
                                             (ids, "ids", "users", by_id)):
        for start in range(0, len(wanted), USERNAMES_PER_CALL):
            batch = wanted[start:start + USERNAMES_PER_CALL]
            try:
                body = client.get_json(f"{conn.base_url}/{path}",
                                       {parameter: ",".join(batch), "user.fields": "protected"},
                                       headers=headers, units=1, classify=classify)
                found, problems = _users_in(body)
            except PlatformError as exc:
                if exc.stops_platform:
                    raise
                answers.update({key: lookup_from_error(exc) for key in batch})
                continue
            if parameter == "ids":
                found = {str(user["id"]): user for user in found.values()}
            for key in batch:
                user = found.get(key)
                if user is None:
                    answers[key] = Lookup("missing", detail=problems.get(
                        key, f"user {key} not returned by {path}"))
                else:
                    answers[key] = Lookup("private" if user.get("protected") else "found",
                                          str(user["id"]), user["username"])
    return {account.account_id: AccountLookup(
                by_name[normalize_handle(account.handle)],
                by_id[account.platform_id] if account.platform_id else None)
            for account in accounts}
