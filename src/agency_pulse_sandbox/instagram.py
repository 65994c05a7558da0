"""Instagram in the sandbox: business discovery on the Graph API.

Served under ``/graph.facebook.com/vNN.N`` on the sandbox's own Instagram user
(``17841400000000000``, the ``ig_user_id`` extra of the sandbox connection):

``GET /{ig_user_id}?fields=business_discovery.username(NAME){followers_count,media_count,
media.limit(50).after(CURSOR){id,timestamp,like_count,comments_count,media_type,
media_product_type,permalink,caption}}``

- ``media`` pages newest first: ``limit`` default 25 (at most 100), ``after``/``before``
  cursors in ``paging.cursors``; on the last page there is no ``after`` cursor.
- ``like_count`` is absent on the few posts whose owner hides like counts.
- Videos are ``media_type: VIDEO`` with ``media_product_type: REELS``; albums are
  ``CAROUSEL_ALBUM``; there is no live video in media.
- ``GET /{ig_user_id}/insights?metric=follower_count&period=day&since=&until=``: the NEW
  followers of each day (the rise of the follower curve, never below 0) of the account the
  sandbox's own user represents (``taxes.gov.az``, also the connection's ``ig_username``);
  only the last 30 days, today excluded. Another metric fails with ``(#100) The value must
  be a valid insights metric``, a window reaching further back with ``(#100)`` too.
- An unknown (or deleted) username answers code 110 subcode 2207013 ("Cannot find User");
  an account in the ``private`` fault list answers code 10. Throttling and other faults
  answer as on Facebook.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, time, timedelta

from agency_pulse_sandbox import graph
from agency_pulse_sandbox.data import (
    OWN_INSTAGRAM_USER_ID,
    Post,
    SandboxAccount,
    metrics_on,
    stable_hash,
)
from agency_pulse_sandbox.exchange import SandboxRequest, SandboxResponse, json_response
from agency_pulse_sandbox.graph import GraphField
from agency_pulse_sandbox.state import SandboxState

PLATFORM = "instagram"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
OWN_USERNAME = "agency_pulse_monitor"
# The monitored account the sandbox's own business user stands for (its insights).
OWN_ACCOUNT_HANDLE = "taxes.gov.az"
INSIGHT_METRICS = {"follower_count": (
    "Follower Count", "Total number of new followers each day within the specified range")}
INSIGHTS_MAX_AGE_DAYS = 30

MEDIA_TYPES = {"photo": ("IMAGE", "FEED"), "status": ("IMAGE", "FEED"), "link": ("IMAGE", "FEED"),
               "shared": ("IMAGE", "FEED"), "album": ("CAROUSEL_ALBUM", "FEED"),
               "video": ("VIDEO", "REELS"), "live": ("VIDEO", "REELS")}


def endpoint(request: SandboxRequest) -> str:
    if request.path.rstrip("/").endswith("/insights"):
        return "insights"
    if "business_discovery" in request.query.get("fields", ""):
        return "business_discovery"
    return "user"


def fault_response(kind: str, request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    return graph.fault_response(kind, request, state, PLATFORM)


def handle(request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    """Answer one Graph API request on the sandbox's own Instagram user."""
    parsed = graph.graph_path(request)
    if parsed is None:
        return graph.graph_error(request, "Unknown path components: " + request.path, 2500)
    _, segments = parsed
    if not graph.access_token(request):
        return graph.missing_token(request)
    if not segments or segments[0] != OWN_INSTAGRAM_USER_ID:
        return graph.object_missing(request, segments[0] if segments else "")
    if len(segments) == 2 and segments[1] == "insights":
        return _insights(request, state)
    if len(segments) > 1:
        return graph.nonexisting_field(request, segments[1], "IGUser")
    try:
        fields = graph.parse_fields(request.query.get("fields", "")) or [GraphField("id")]
    except graph.FieldSyntaxError as exc:
        return graph.graph_error(request, f"(#100) Syntax error in fields: {exc}", 100)
    own = {"id": OWN_INSTAGRAM_USER_ID, "username": OWN_USERNAME, "name": "Agency Pulse",
           "followers_count": 12, "follows_count": 250, "media_count": 0}
    body: dict = {}
    for item in fields:
        if item.name == "business_discovery":
            found = _business_discovery(request, state, item)
            if isinstance(found, SandboxResponse):
                return found
            body["business_discovery"] = found
        elif item.name in own:
            body[item.name] = own[item.name]
        else:
            return graph.nonexisting_field(request, item.name, "IGUser")
    body["id"] = OWN_INSTAGRAM_USER_ID
    return json_response(body, headers=graph.usage_headers(state, PLATFORM))


def _insights(request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    """Daily new followers of the own account, as ``data[0].values[{value, end_time}]``."""
    names = [m.strip() for m in request.query.get("metric", "").split(",") if m.strip()]
    if not names or any(n not in INSIGHT_METRICS for n in names):
        return graph.graph_error(request, "(#100) The value must be a valid insights metric", 100)
    if request.query.get("period", "day") != "day":
        return graph.graph_error(request, "(#100) The value must be a valid insights period", 100)
    since = graph.parse_graph_time(request.query.get("since", ""))
    until = graph.parse_graph_time(request.query.get("until", ""))
    until_day = min(until.date() if until else state.day, state.day)
    since_day = since.date() if since else until_day - timedelta(days=1)
    if since_day < state.day - timedelta(days=INSIGHTS_MAX_AGE_DAYS):
        return graph.graph_error(request, "(#100) follower_count only supports the last "
                                 f"{INSIGHTS_MAX_AGE_DAYS} days, excluding the current day", 100)
    account = state.world.find(PLATFORM, OWN_ACCOUNT_HANDLE)
    days = [since_day + timedelta(days=i) for i in range(max(0, (until_day - since_day).days))]
    data = []
    for name in names:
        title, description = INSIGHT_METRICS[name]
        values = [{"value": _new_followers(state, account, day),
                   "end_time": graph.graph_time(datetime.combine(day + timedelta(days=1), time(7),
                                                                 tzinfo=UTC))}
                  for day in days] if account is not None else []
        data.append({"name": name, "period": "day", "values": values, "title": title,
                     "description": description,
                     "id": f"{OWN_INSTAGRAM_USER_ID}/insights/{name}/day"})
    return json_response({"data": data}, headers=graph.usage_headers(state, PLATFORM))


def _new_followers(state: SandboxState, account: SandboxAccount, day: date) -> int:
    # Only gains: the metric counts follows, and losses show in no day's value.
    gained = state.world.followers_on(account, day) - state.world.followers_on(
        account, day - timedelta(days=1))
    return max(0, gained)


def _business_discovery(request: SandboxRequest, state: SandboxState,
                        item: GraphField) -> dict | SandboxResponse:
    username = item.modifiers.get("username", "").strip()
    if not username:
        return graph.graph_error(request, "(#100) The parameter username is required", 100)
    account = state.world.find(PLATFORM, username)
    fault = state.account_fault(PLATFORM, account) if account else None
    if account is None or account.created_on > state.day or fault == "deleted_account":
        return graph.graph_error(request, "Invalid user id", 110, subcode=2207013,
                                 is_transient=False, error_user_title="Cannot find User",
                                 error_user_msg=f"The user with username: {username} cannot be found.")
    if fault == "private":
        return graph.graph_error(request, "(#10) Application does not have permission for this action", 10)
    values = {
        "id": account.platform_id, "ig_id": int(account.platform_id[-10:]),
        "username": account.handle, "name": account.name,
        "biography": f"{account.name} — rəsmi hesab",
        "website": f"https://{account.handle}" if "." in account.handle else None,
        "profile_picture_url": f"https://scontent.cdninstagram.com/v/{account.platform_id}.jpg",
        "followers_count": state.world.followers_on(account, state.day),
        "follows_count": 40 + account.number % 200,
        "media_count": state.world.count_visible_posts(account, state.day),
    }
    result: dict = {}
    for sub in item.subfields or [GraphField("id")]:
        if sub.name == "media":
            media = _media_page(request, state, account, sub)
            if isinstance(media, SandboxResponse):
                return media
            result["media"] = media
        elif sub.name in values:
            if values[sub.name] is not None:
                result[sub.name] = values[sub.name]
        else:
            return graph.nonexisting_field(request, sub.name, "IGUser")
    result.setdefault("id", account.platform_id)
    return result


def _media_page(request: SandboxRequest, state: SandboxState, account: SandboxAccount,
                item: GraphField) -> dict | SandboxResponse:
    try:
        limit = min(MAX_LIMIT, max(1, int(item.modifiers.get("limit", DEFAULT_LIMIT))))
    except ValueError:
        return graph.graph_error(request, "(#100) Param limit must be an integer", 100)
    positions = {}
    for name in ("after", "before"):
        cursor = item.modifiers.get(name)
        if not cursor:
            continue
        parts = graph.decode_cursor(cursor)
        if not parts or len(parts) != 2 or not all(p.isdigit() for p in parts):
            return graph.graph_error(request, f"(#100) The {name} parameter is not a valid cursor", 100)
        positions[name] = (int(parts[0]), int(parts[1]))
    newest_first = state.world.iter_visible_posts(account, state.day)
    if "before" in positions:  # the page just newer than the cursor
        newer = [p for p in newest_first if (p.year, p.index) > positions["before"]]
        page, more = newer[-limit:], True
    else:
        after = positions.get("after")
        page, more = [], False
        for post in newest_first:
            if after is not None and (post.year, post.index) >= after:
                continue
            if len(page) == limit:
                more = True
                break
            page.append(post)
    data = []
    for post in page:
        media = _media_object(request, state, account, post, item.subfields or [GraphField("id")])
        if isinstance(media, SandboxResponse):
            return media
        data.append(media)
    body: dict = {"data": data}
    if page:
        cursors = {"before": graph.encode_cursor(page[0].year, page[0].index)}
        if more:
            cursors["after"] = graph.encode_cursor(page[-1].year, page[-1].index)
        body["paging"] = {"cursors": cursors}
    return body


def _media_object(request: SandboxRequest, state: SandboxState, account: SandboxAccount, post: Post,
                  fields: list[GraphField]) -> dict | SandboxResponse:
    metrics = metrics_on(post, state.day)
    media_type, product_type = MEDIA_TYPES[post.kind]
    shortcode = base64.urlsafe_b64encode(
        stable_hash(state.world.seed, account.number, post.year, post.index).to_bytes(8, "big")).decode()[:11]
    hides_likes = stable_hash(state.world.seed, account.number, post.year, post.index, "likes") % 20 == 0
    values = {
        "id": f"17{account.number % 10**7:07d}{post.year % 100:02d}{post.index:05d}",
        "timestamp": graph.graph_time(post.published_at),
        "caption": f"#{post.index + 1}",
        "like_count": None if hides_likes else metrics.reactions,
        "comments_count": metrics.comments,
        "media_type": media_type,
        "media_product_type": product_type,
        "permalink": f"https://www.instagram.com/{'reel' if product_type == 'REELS' else 'p'}/{shortcode}/",
        "media_url": f"https://scontent.cdninstagram.com/v/{shortcode}.jpg",
        "username": account.handle,
    }
    result: dict = {}
    for item in fields:
        if item.name not in values:
            return graph.nonexisting_field(request, item.name, "IGMedia")
        if values[item.name] is not None:
            result[item.name] = values[item.name]
    result.setdefault("id", values["id"])
    return result
