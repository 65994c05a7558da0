"""X API v2 in the sandbox, under ``/api.x.com/2``.

- ``GET /users/by?usernames=a,b&user.fields=public_metrics,created_at,verified`` (1..100
  names matching ``^[A-Za-z0-9_]{1,15}$``, else the whole request is a 400): found users in
  ``data``, the others in ``errors`` ("Could not find user with usernames: [x].").
- ``GET /users?ids=1,2&user.fields=...`` (1..100 numeric ids): as ``users/by``, by id.
- ``GET /users/by/username/{name}``, ``GET /users/{id}``.
- ``GET /users/{id}/tweets?max_results=5..100&pagination_token=&since_id=&until_id=
  &start_time=&end_time=&tweet.fields=created_at,public_metrics,attachments
  &expansions=attachments.media_keys&media.fields=type`` — newest first, only the 3,200 most
  recent posts are reachable, ``meta.next_token`` absent on the last page, ``data`` absent
  when nothing matched. Post ids are time-ordered snowflakes, so ``since_id`` works.
  The timelines hold original posts only (``exclude`` is accepted and changes nothing).
- Rate limits per 15-minute window (``x-rate-limit-limit/-remaining/-reset`` on every
  answer; over the limit: 429 until the reset). A protected account is listed with
  ``protected: true`` and its timeline answers 200 with an "Authorization Error".
- Bearer token required (401 otherwise).
"""

from __future__ import annotations

import base64
import re
import time as wallclock
from datetime import UTC, datetime, timedelta

from agency_pulse_sandbox.data import Post, SandboxAccount, metrics_on, stable_hash
from agency_pulse_sandbox.exchange import SandboxRequest, SandboxResponse, json_response
from agency_pulse_sandbox.state import SandboxState

PLATFORM = "x"
MAX_USERNAMES = 100
TIMELINE_REACH = 3200
SNOWFLAKE_EPOCH_MS = 1288834974657
USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
USER_ID = re.compile(r"^[0-9]{1,19}$")
# Requests per 15-minute window for an app (Pro tier figures).
RATE_LIMITS = {"users": 300, "users/by": 300, "users/by/username": 300, "users/:id": 300, "users/:id/tweets": 1500}
USER_FIELDS = ("affiliation", "connection_status", "created_at", "description", "entities", "id",
               "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody",
               "pinned_tweet_id", "profile_banner_url", "profile_image_url", "protected",
               "public_metrics", "receives_your_dm", "subscription", "subscription_type", "url",
               "username", "verified", "verified_followers_count", "verified_type", "withheld")
TWEET_FIELDS = ("article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
                "conversation_id", "created_at", "display_text_range", "edit_controls",
                "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
                "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
                "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets",
                "reply_settings", "scopes", "source", "text", "withheld")
MEDIA_FIELDS = ("alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics",
                "preview_image_url", "promoted_metrics", "public_metrics", "type", "url", "variants", "width")
_PROBLEM = "https://api.twitter.com/2/problems/"


def endpoint(request: SandboxRequest) -> str:
    parts = [p for p in request.path.split("/") if p]
    if parts[:2] == ["users", "by"]:
        return "users/by/username" if len(parts) == 4 and parts[2] == "username" else "users/by"
    if parts == ["users"]:
        return "users"
    if parts[:1] == ["users"] and len(parts) == 2:
        return "users/:id"
    if parts[:1] == ["users"] and len(parts) == 3 and parts[2] == "tweets":
        return "users/:id/tweets"
    return "unknown"


def _problem(status: int, title: str, detail: str, problem_type: str = "about:blank",
             headers: dict | None = None, **extra: object) -> SandboxResponse:
    body = {"title": title, "detail": detail, "type": problem_type, **extra}
    if problem_type == "about:blank":
        body["status"] = status
    return json_response(body, status=status, headers=headers)


def _invalid_request(parameter: str, values: list[str], message: str) -> SandboxResponse:
    return json_response({"errors": [{"parameters": {parameter: values}, "message": message}],
                          "title": "Invalid Request",
                          "detail": "One or more parameters to your request was invalid.",
                          "type": _PROBLEM + "invalid-request"}, status=400)


def fault_response(kind: str, request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    """X's own answer to a throttle, outage, bad token, access tier or usage cap."""
    now = int(wallclock.time())
    if kind == "throttle":
        limit = RATE_LIMITS.get(endpoint(request), 300)
        # The reset is near so that tests honouring it stay fast.
        headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": "0",
                   "x-rate-limit-reset": str(now + 1)}
        return _problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    if kind == "server_error":
        if stable_hash(request.path, sorted(request.query.items())) % 2:
            return _problem(503, "Service Unavailable", "Service Unavailable")
        return _problem(500, "Internal Server Error", "Internal Server Error")
    if kind == "expired_token":
        return _problem(401, "Unauthorized", "Unauthorized")
    if kind == "access_tier":
        return json_response({"errors": [{
            "message": "You currently have access to a subset of X API V2 endpoints and limited v1.1 "
                       "endpoints (e.g. media post, oauth) only. If you need access to this endpoint, "
                       "you may need a different access level. You can learn more here: "
                       "https://developer.x.com/en/portal/product", "code": 453}]}, status=403)
    if kind == "quota_exceeded":
        return _problem(429, "UsageCapExceeded", "Usage cap exceeded: Monthly product cap",
                        _PROBLEM + "usage-capped", period="Monthly", scope="Product")
    raise ValueError(f"no X answer for fault {kind!r}")


def handle(request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    """Answer one X API v2 request, with the endpoint's rate-limit headers."""
    name = endpoint(request)
    if name == "unknown":
        return _problem(404, "Not Found Error", f"Sorry, that page does not exist: {request.path}",
                        _PROBLEM + "resource-not-found")
    if not request.bearer_token():
        return _problem(401, "Unauthorized", "Unauthorized")
    limit = state.x_rate_limits.get(name, RATE_LIMITS[name])
    remaining, reset = state.rate_window(f"x:{name}", limit, 900)
    headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(max(0, remaining)),
               "x-rate-limit-reset": str(reset)}
    if remaining < 0:
        return _problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    view = _XView(request, state)
    parts = [p for p in request.path.split("/") if p]
    if name == "users/by":
        response = view.users_by()
    elif name == "users":
        response = view.users_by("ids")
    elif name == "users/by/username":
        response = view.single_user(parts[3], "username")
    elif name == "users/:id":
        response = view.single_user(parts[1], "id")
    else:
        response = view.timeline(parts[1])
    response.headers.update(headers)
    return response


def tweet_id(account: SandboxAccount, post: Post) -> str:
    """A snowflake: milliseconds since X's epoch, then the account and the post's position."""
    millis = int(post.published_at.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS
    return str((max(0, millis) << 22) | ((account.number % 1024) << 12) | (post.index % 4096))


def _x_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _fields(request: SandboxRequest, parameter: str, allowed: tuple[str, ...]) -> list[str] | SandboxResponse:
    values = [v.strip() for v in request.query.get(parameter, "").split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        return _invalid_request(parameter, [unknown[0]], f"The `{parameter}` query parameter value "
                                f"[{unknown[0]}] is not one of [{','.join(allowed)}]")
    return values


class _XView:
    def __init__(self, request: SandboxRequest, state: SandboxState):
        self.request = request
        self.state = state
        self.world = state.world
        self.day = state.day

    def _account(self, value: str, by: str) -> tuple[SandboxAccount | None, str | None]:
        """(account, None) or (None, fault) where fault is "deleted_account" or "missing"."""
        account = self.world.find(PLATFORM, value) if by == "username" or value.isdigit() else None
        if account is not None and by == "id" and account.platform_id != value:
            account = None  # ids must match exactly; handles are not ids
        if account is None or account.created_on > self.day:
            return None, "missing"
        if self.state.account_fault(PLATFORM, account) == "deleted_account":
            return None, "deleted_account"
        return account, None

    def _user(self, account: SandboxAccount, fields: list[str]) -> dict:
        # Counting and finding the latest post cost the most: only when asked for.
        tweet_count = self.world.count_visible_posts(account, self.day) if "public_metrics" in fields else 0
        latest = (next(self.world.iter_visible_posts(account, self.day), None)
                  if "most_recent_tweet_id" in fields else None)
        values = {
            "created_at": _x_time(datetime.combine(account.created_on, datetime.min.time(), UTC)
                                  + timedelta(hours=9)),
            "description": f"{account.name} — rəsmi hesab",
            "location": "Bakı, Azərbaycan",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{account.platform_id}/photo_normal.jpg",
            "protected": self.state.account_fault(PLATFORM, account) == "private",
            "public_metrics": {"followers_count": self.world.followers_on(account, self.day),
                               "following_count": 50 + account.number % 300,
                               "tweet_count": tweet_count, "listed_count": 10 + account.number % 90,
                               "like_count": 100 + account.number % 1000,
                               # about four posts in five carry media (counting them would build every post)
                               "media_count": tweet_count * 4 // 5},
            "url": f"https://t.co/{account.key[:10]}",
            "verified": account.number % 2 == 0,
            "verified_type": "government" if account.number % 2 == 0 else "none",
            "most_recent_tweet_id": tweet_id(account, latest) if latest else None,
        }
        user = {"id": account.platform_id, "name": account.name, "username": account.handle}
        for name in fields:
            if values.get(name) is not None:
                user[name] = values[name]
        return user

    def users_by(self, parameter: str = "usernames") -> SandboxResponse:
        """``users/by?usernames=`` (or ``users?ids=`` with ``parameter="ids"``)."""
        names = [n.strip() for n in self.request.query.get(parameter, "").split(",") if n.strip()]
        if not 1 <= len(names) <= MAX_USERNAMES:
            return _invalid_request(parameter, names[:1], f"The number of values in the `{parameter}` "
                                    f"query parameter list [{len(names)}] is not between 1 and {MAX_USERNAMES}")
        pattern = USERNAME if parameter == "usernames" else USER_ID
        bad = next((n for n in names if not pattern.match(n)), None)
        if bad is not None:
            return _invalid_request(parameter, [bad], f"The `{parameter}` query parameter value [{bad}] "
                                    f"does not match {pattern.pattern}")
        fields = _fields(self.request, "user.fields", USER_FIELDS)
        if isinstance(fields, SandboxResponse):
            return fields
        data, errors = [], []
        for name in names:
            account, _ = self._account(name, "username" if parameter == "usernames" else "id")
            if account is None:
                errors.append({"value": name, "detail": f"Could not find user with {parameter}: [{name}].",
                               "title": "Not Found Error", "resource_type": "user",
                               "parameter": parameter, "resource_id": name,
                               "type": _PROBLEM + "resource-not-found"})
            else:
                data.append(self._user(account, fields))
        body: dict = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return json_response(body)

    def single_user(self, value: str, by: str) -> SandboxResponse:
        fields = _fields(self.request, "user.fields", USER_FIELDS)
        if isinstance(fields, SandboxResponse):
            return fields
        if by == "username" and not USERNAME.match(value):
            return _invalid_request("username", [value], f"The `username` query parameter value [{value}] "
                                    "does not match ^[A-Za-z0-9_]{1,15}$")
        account, _ = self._account(value, by)
        if account is None:
            parameter = "username" if by == "username" else "id"
            return json_response({"errors": [{
                "value": value, "detail": f"Could not find user with {parameter}: [{value}].",
                "title": "Not Found Error", "resource_type": "user", "parameter": parameter,
                "resource_id": value, "type": _PROBLEM + "resource-not-found"}]})
        return json_response({"data": self._user(account, fields)})

    def timeline(self, user_id: str) -> SandboxResponse:
        query = self.request.query
        raw_max = query.get("max_results", "10")
        if not raw_max.isdigit() or not 5 <= int(raw_max) <= 100:
            return _invalid_request("max_results", [raw_max], f"The `max_results` query parameter value "
                                    f"[{raw_max}] is not between 5 and 100")
        max_results = int(raw_max)
        tweet_fields = _fields(self.request, "tweet.fields", TWEET_FIELDS)
        media_fields = _fields(self.request, "media.fields", MEDIA_FIELDS)
        for checked in (tweet_fields, media_fields):
            if isinstance(checked, SandboxResponse):
                return checked
        bounds = {}
        for name in ("since_id", "until_id"):
            if query.get(name):
                if not query[name].isdigit():
                    return _invalid_request(name, [query[name]], f"The `{name}` query parameter value "
                                            f"[{query[name]}] is not valid")
                bounds[name] = int(query[name])
        for name in ("start_time", "end_time"):
            if query.get(name):
                try:
                    bounds[name] = datetime.fromisoformat(query[name].replace("Z", "+00:00"))
                except ValueError:
                    return _invalid_request(name, [query[name]], f"Invalid '{name}':'{query[name]}'. "
                                            f"'{name}' must be a valid RFC3339 date-time")
        account, _ = self._account(user_id, "id")
        if account is None:
            return json_response({"errors": [{
                "value": user_id, "detail": f"Could not find user with id: [{user_id}].",
                "title": "Not Found Error", "resource_type": "user", "parameter": "id",
                "resource_id": user_id, "type": _PROBLEM + "resource-not-found"}]})
        if self.state.account_fault(PLATFORM, account) == "private":
            return json_response({"errors": [{
                "value": user_id, "detail": f"Sorry, you are not authorized to see the user with id: [{user_id}].",
                "title": "Authorization Error", "resource_type": "user", "parameter": "id",
                "resource_id": user_id, "type": _PROBLEM + "not-authorized-for-resource"}]})
        token = query.get("pagination_token")
        position = _decode_token(token) if token else None
        if token and position is None:
            return _invalid_request("pagination_token", [token], "The `pagination_token` query "
                                    f"parameter value [{token}] is not valid")
        page, more, skipped = self._select(account, bounds, position, max_results)
        want_media = "attachments.media_keys" in query.get("expansions", "")
        data, media = [], []
        for identifier, post in page:
            data.append(self._tweet(account, post, str(identifier), tweet_fields))
            if want_media and post.kind != "status":
                media.append(self._media(account, post, media_fields))
        body: dict = {}
        if data:
            body["data"] = data
        if media:
            body["includes"] = {"media": media}
        meta: dict = {"result_count": len(data)}
        if page:
            meta["newest_id"] = str(page[0][0])
            meta["oldest_id"] = str(page[-1][0])
            if more:
                meta["next_token"] = _encode_token(page[-1][0])
            if skipped:
                meta["previous_token"] = _encode_token(page[0][0] + 1)
        body["meta"] = meta
        return json_response(body)

    def _select(self, account: SandboxAccount, bounds: dict, position: int | None,
                max_results: int) -> tuple[list[tuple[int, Post]], bool, bool]:
        """(page of (id, post), whether more follow, whether newer ones were skipped), walking
        the newest 3,200 posts lazily."""
        since_id, until_id = bounds.get("since_id", -1), bounds.get("until_id", 1 << 64)
        start_time, end_time = bounds.get("start_time"), bounds.get("end_time")
        page: list[tuple[int, Post]] = []
        skipped = False
        for reach, post in enumerate(self.world.iter_visible_posts(account, self.day)):
            if reach == TIMELINE_REACH:
                break
            identifier = int(tweet_id(account, post))
            if identifier <= since_id or (start_time and post.published_at < start_time):
                break  # everything further is older still
            if identifier >= until_id or (end_time and post.published_at > end_time):
                continue
            if position is not None and identifier >= position:
                skipped = True
                continue
            if len(page) == max_results:
                return page, True, skipped
            page.append((identifier, post))
        return page, False, skipped

    def _tweet(self, account: SandboxAccount, post: Post, identifier: str, fields: list[str]) -> dict:
        metrics = metrics_on(post, self.day)
        tweet: dict = {"id": identifier, "text": f"Rəsmi məlumat #{post.index + 1} https://t.co/{identifier[-8:]}",
                       "edit_history_tweet_ids": [identifier]}
        values: dict = {
            "created_at": _x_time(post.published_at),
            "author_id": account.platform_id,
            "conversation_id": identifier,
            "lang": "az",
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "public_metrics": {"retweet_count": metrics.shares * 7 // 10, "reply_count": metrics.comments,
                               "like_count": metrics.reactions, "quote_count": metrics.shares - metrics.shares * 7 // 10,
                               "bookmark_count": metrics.reactions // 20, "impression_count": metrics.views},
        }
        if post.kind != "status":
            values["attachments"] = {"media_keys": [self._media_key(account, post)]}
        for name in fields:
            if name in values:
                tweet[name] = values[name]
        return tweet

    def _media_key(self, account: SandboxAccount, post: Post) -> str:
        prefix = "13" if post.is_video else "3"
        return f"{prefix}_{stable_hash(self.world.seed, account.number, post.year, post.index) % 10**18}"

    def _media(self, account: SandboxAccount, post: Post, fields: list[str]) -> dict:
        metrics = metrics_on(post, self.day)
        item = {"media_key": self._media_key(account, post), "type": "video" if post.is_video else "photo"}
        values = {"duration_ms": post.duration_seconds * 1000 if post.is_video else None,
                  "public_metrics": {"view_count": metrics.views} if post.is_video else None,
                  "preview_image_url": f"https://pbs.twimg.com/media/{item['media_key']}.jpg",
                  "width": 1280, "height": 720}
        for name in fields:
            if values.get(name) is not None:
                item[name] = values[name]
        return item


def _encode_token(identifier: int) -> str:
    return base64.b32encode(identifier.to_bytes(8, "big")).decode().rstrip("=").lower()


def _decode_token(token: str) -> int | None:
    try:
        return int.from_bytes(base64.b32decode(token.upper() + "=" * (-len(token) % 8)), "big")
    except (ValueError, TypeError):
        return None
