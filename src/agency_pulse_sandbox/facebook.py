"""Facebook Pages in the sandbox: the Graph API subset the extractors use.

Served under ``/graph.facebook.com/vNN.N`` (any version):

- ``GET /{page}?fields=...`` — a page by username or numeric id: ``id, name, username, link,
  category, about, website, verification_status, followers_count, fan_count`` (``fan_count``
  is absent for pages on the New Pages Experience), plus ``posts``/``live_videos`` expansions.
- ``GET /?ids=a,b,c&fields=...`` — up to 50 pages keyed as asked; more fails with ``(#100)``,
  an alias that does not exist fails the whole call with ``(#803)`` as the real API does.
- ``GET /{page}/posts`` (also ``/feed``, ``/published_posts``) — newest first; ``limit``
  (default 25, at most 100), ``since``/``until`` (Unix seconds or ISO), ``after`` cursor;
  ``paging.cursors.after`` and ``paging.next`` (absent on the last page). Post fields: ``id``
  (``{page_id}_{post}``), ``created_time``, ``message``, ``status_type``, ``permalink_url``,
  ``from``, ``full_picture``, ``is_published``, ``attachments``,
  ``reactions.summary(total_count).limit(0)``, ``comments.summary(true).limit(0)``,
  ``shares`` (absent when nobody shared, as on the real API).
- ``GET /{post_id}?fields=...`` — one post; a deleted one answers code 100 subcode 33.
- Live video: ``GET /{page}/live_videos`` (``id, title, status, creation_time,
  broadcast_start_time, permalink_url, video{id}``). A live broadcast also appears on the
  posts edge as ``status_type: added_video`` whose ``attachments.data[0].target.id`` equals
  the live video's ``video.id`` and whose ``permalink_url`` is ``.../videos/{video_id}/``.
  ``GET /{page}/videos`` lists every video post with ``live_status`` (``VOD`` for past lives).
- ``GET /{page}/insights?metric=page_follows&period=day&since=&until=`` — daily values,
  at most 90 days per window, at most 2 years back; removed metric names fail the whole
  request with ``(#100) The value must be a valid insights metric``.

``paging.next`` never carries a token (the real one does): send yours again when following it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from agency_pulse_sandbox import graph
from agency_pulse_sandbox.data import Post, SandboxAccount, metrics_on, stable_hash
from agency_pulse_sandbox.exchange import SandboxRequest, SandboxResponse, json_response
from agency_pulse_sandbox.graph import GraphField
from agency_pulse_sandbox.state import SandboxState

PLATFORM = "facebook"
PREFIX = "/graph.facebook.com"
MAX_IDS = 50
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
INSIGHTS_MAX_WINDOW_DAYS = 90
INSIGHTS_MAX_AGE_DAYS = 730
POST_EDGES = ("posts", "feed", "published_posts")

STATUS_TYPES = {"status": "mobile_status_update", "photo": "added_photos", "album": "added_photos",
                "link": "shared_story", "shared": "shared_story", "video": "added_video",
                "live": "added_video"}
ATTACHMENT_TYPES = {"photo": ("photo", "photo"), "album": ("album", "album"), "link": ("link", "share"),
                    "shared": ("link", "share"), "video": ("video", "video_inline"),
                    "live": ("video", "video_inline")}
INSIGHT_METRICS = {
    "page_follows": ("Lifetime Page follows", "Lifetime: The number of people who follow your Page."),
    "page_daily_follows_unique": ("Daily New follows", "Daily: The number of people who followed your Page."),
    "page_daily_unfollows_unique": ("Daily Unfollows", "Daily: The number of people who unfollowed your Page."),
    "page_post_engagements": ("Daily Post Engagements", "Daily: The number of times people engaged with your posts."),
    "page_media_view": ("Daily Media Views", "Daily: The number of times your content was viewed."),
}
# Removed by Meta in its 2025-11-15 and 2026-06-15 waves: asking for one fails the request.
DEPRECATED_INSIGHT_METRICS = {
    "page_fans", "page_fan_adds", "page_fan_removes", "page_fan_adds_unique", "page_fans_city",
    "page_fans_country", "page_impressions", "page_impressions_unique", "page_impressions_paid",
    "page_engaged_users", "page_consumptions", "page_views_total", "page_posts_impressions",
}
_MESSAGES = ("Nazirliyin rəsmi məlumatı", "Mətbuat konfransı keçirildi", "Vətəndaşların nəzərinə!",
             "Yeni layihənin təqdimatı", "Beynəlxalq əməkdaşlıq çərçivəsində görüş",
             "Bayram münasibətilə təbrik", "Canlı yayım", "Müsabiqə elan olunur")


def endpoint(request: SandboxRequest) -> str:
    """The name request counts are kept under: ``page``, ``ids``, ``posts``, ``post``, ..."""
    parsed = graph.graph_path(request)
    if parsed is None:
        return "unknown"
    segments = parsed[1]
    if not segments:
        return "ids"
    if len(segments) == 1:
        return "post" if "_" in segments[0] else "page"
    return "posts" if segments[1] in POST_EDGES else segments[1]


def fault_response(kind: str, request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    return graph.fault_response(kind, request, state, PLATFORM)


def handle(request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    """Answer one Graph API request about Facebook pages and posts."""
    parsed = graph.graph_path(request)
    if parsed is None:
        return graph.graph_error(request, "Unknown path components: " + request.path, 2500)
    version, segments = parsed
    if not graph.access_token(request):
        return graph.missing_token(request)
    try:
        fields = graph.parse_fields(request.query.get("fields", ""))
    except graph.FieldSyntaxError as exc:
        return graph.graph_error(request, f"(#100) Syntax error in fields: {exc}", 100)
    view = _PageView(request, state, version)
    if not segments:
        return view.many_pages(fields)
    if len(segments) > 2:
        return graph.graph_error(request, "Unknown path components: /" + "/".join(segments[2:]), 2500)
    if "_" in segments[0]:
        return view.one_post(segments[0], fields) if len(segments) == 1 else graph.graph_error(
            request, f"(#100) Tried accessing nonexisting field ({segments[1]}) on node type (Post)", 100)
    account, problem = view.resolve(segments[0])
    if problem:
        return problem
    if len(segments) == 1:
        return view.answer(view.page_object(account, fields or [GraphField("name"), GraphField("id")]))
    edge = segments[1]
    params = {k: v for k, v in request.query.items() if k not in ("fields", "access_token")}
    edge_path = f"/{version}/{segments[0]}/{edge}"
    if edge in POST_EDGES:
        return view.answer(view.post_edge(account, fields, params, edge_path))
    if edge == "live_videos":
        return view.answer(view.video_edge(account, fields, params, edge_path, lives_only=True))
    if edge == "videos":
        return view.answer(view.video_edge(account, fields, params, edge_path, lives_only=False))
    if edge == "insights":
        return view.insights(account, segments[0], edge_path)
    return graph.nonexisting_field(request, edge, "Page")


class _PageView:
    """Builds Graph API bodies for one request (day, seed and faults fixed for it)."""

    def __init__(self, request: SandboxRequest, state: SandboxState, version: str):
        self.request = request
        self.state = state
        self.world = state.world
        self.day = state.day
        self.version = version

    def answer(self, payload: dict | SandboxResponse) -> SandboxResponse:
        if isinstance(payload, SandboxResponse):
            return payload
        return json_response(payload, headers=graph.usage_headers(self.state, PLATFORM))

    # -- pages ----------------------------------------------------------------------------

    def resolve(self, node: str) -> tuple[SandboxAccount | None, SandboxResponse | None]:
        account = self.world.find(PLATFORM, node)
        if account is None or account.created_on > self.day:
            if node.isdigit():
                return None, graph.object_missing(self.request, node)
            return None, graph.graph_error(
                self.request, f"(#803) Some of the aliases you requested do not exist: {node}", 803)
        fault = self.state.account_fault(PLATFORM, account)
        if fault == "deleted_account":
            return None, graph.object_missing(self.request, node)
        if fault == "private":
            return None, graph.permission_error(self.request, "Page Public Metadata Access")
        return account, None

    def many_pages(self, fields: list[GraphField]) -> SandboxResponse:
        ids = [i.strip() for i in self.request.query.get("ids", "").split(",") if i.strip()]
        if not ids:
            return graph.graph_error(self.request, "(#100) The parameter ids is required", 100)
        if len(ids) > MAX_IDS:
            return graph.graph_error(self.request, f"(#100) Too many IDs. Maximum: {MAX_IDS}. "
                                     f"Provided: {len(ids)}.", 100)
        found: dict[str, SandboxAccount] = {}
        missing: list[str] = []
        for node in ids:
            account = self.world.find(PLATFORM, node)
            fault = self.state.account_fault(PLATFORM, account) if account else None
            if account is None or account.created_on > self.day or fault == "deleted_account":
                missing.append(node)
            elif fault == "private":
                return graph.permission_error(self.request, "Page Public Metadata Access")
            else:
                found[node] = account
        if missing:
            # The real API fails the whole call when one alias is unknown.
            return graph.graph_error(self.request, "(#803) Some of the aliases you requested do not "
                                     f"exist: {','.join(missing)}", 803)
        body = {}
        for node, account in found.items():
            page = self.page_object(account, fields or [GraphField("name"), GraphField("id")])
            if isinstance(page, SandboxResponse):
                return page
            body[node] = page
        return self.answer(body)

    def page_object(self, account: SandboxAccount, fields: list[GraphField]) -> dict | SandboxResponse:
        followers = self.world.followers_on(account, self.day)
        new_pages_experience = account.created_on >= date(2021, 1, 1) or stable_hash(
            self.world.seed, account.number, "npe") % 5 == 0
        values: dict[str, object] = {
            "id": account.platform_id,
            "name": account.name,
            "username": account.handle,
            "link": f"https://www.facebook.com/{account.handle}",
            "category": "Government organization",
            "about": f"{account.name} — rəsmi səhifə",
            "website": f"https://{account.handle}" if "." in account.handle else None,
            "verification_status": "blue_verified" if account.number % 3 == 0 else "not_verified",
            "followers_count": followers,
        }
        if not new_pages_experience:
            values["fan_count"] = int(followers * (0.85 + 0.1 * (account.number % 5) / 5))
        result: dict[str, object] = {}
        for item in fields:
            if item.name in ("posts", "feed", "published_posts", "live_videos", "videos"):
                params = dict(item.modifiers)
                edge_path = f"/{self.version}/{account.platform_id}/{item.name}"
                sub = item.subfields or []
                result[item.name] = (self.video_edge(account, sub, params, edge_path, item.name == "live_videos")
                                     if "videos" in item.name else self.post_edge(account, sub, params, edge_path))
            elif item.name == "fan_count" and "fan_count" not in values:
                continue  # New Pages Experience: followers only
            elif item.name in values:
                if values[item.name] is not None:
                    result[item.name] = values[item.name]
            else:
                return graph.nonexisting_field(self.request, item.name, "Page")
        result.setdefault("id", account.platform_id)
        return result

    # -- posts ----------------------------------------------------------------------------

    def post_edge(self, account: SandboxAccount, fields: list[GraphField], params: dict,
                  edge_path: str) -> dict | SandboxResponse:
        fields = fields or [GraphField("created_time"), GraphField("message"), GraphField("id")]
        posts = self.world.iter_visible_posts(account, self.day)
        return self._edge_page(account, posts, fields, params, edge_path, self.post_object)

    def video_edge(self, account: SandboxAccount, fields: list[GraphField], params: dict,
                   edge_path: str, lives_only: bool) -> dict | SandboxResponse:
        fields = fields or [GraphField("id"), GraphField("title" if lives_only else "description")]
        wanted = ("live",) if lives_only else ("live", "video")
        posts = (p for p in self.world.iter_visible_posts(account, self.day) if p.kind in wanted)
        if lives_only and account.live_share == 0:
            posts = iter(())  # a page that never streams has no broadcast in all its history

        builder = self.live_video_object if lives_only else self.video_object
        return self._edge_page(account, posts, fields, params, edge_path, builder)

    def _edge_page(self, account: SandboxAccount, posts: Iterator[Post], fields: list[GraphField],
                   params: dict, edge_path: str, builder) -> dict | SandboxResponse:
        try:
            limit = min(MAX_LIMIT, max(1, int(params.get("limit", DEFAULT_LIMIT))))
        except ValueError:
            return graph.graph_error(self.request, "(#100) Param limit must be an integer", 100)
        since = graph.parse_graph_time(params.get("since", ""))
        until = graph.parse_graph_time(params.get("until", ""))
        if (params.get("since") and since is None) or (params.get("until") and until is None):
            return graph.graph_error(self.request, "(#100) The parameter since/until is not a valid "
                                     "date or Unix timestamp", 100)
        after = _position(params.get("after"))
        if params.get("after") and after is None:
            return graph.graph_error(self.request, "(#100) The after parameter is not a valid cursor", 100)
        page: list[Post] = []
        more = False
        for post in posts:
            if after is not None and (post.year, post.index) >= after:
                continue
            if until is not None and post.published_at > until:
                continue
            if since is not None and post.published_at < since:
                break
            if len(page) == limit:
                more = True
                break
            page.append(post)
        data = []
        for post in page:
            item = builder(account, post, fields)
            if isinstance(item, SandboxResponse):
                return item
            data.append(item)
        body: dict = {"data": data}
        if page:
            cursors = {"before": graph.encode_cursor(page[0].year, page[0].index),
                       "after": graph.encode_cursor(page[-1].year, page[-1].index)}
            body["paging"] = {"cursors": cursors}
            if more:
                query = {k: v for k, v in params.items() if k != "before"}
                query.update(fields=graph.format_fields(fields), limit=str(limit), after=cursors["after"])
                body["paging"]["next"] = self.request.url(PREFIX, edge_path, query)
        return body

    def post_object(self, account: SandboxAccount, post: Post, fields: list[GraphField]) -> dict | SandboxResponse:
        metrics = metrics_on(post, self.day)
        local_id = _local_post_id(self.world.seed, account, post)
        video_id = _video_id(self.world.seed, account, post, "video") if post.is_video else None
        permalink = (f"https://www.facebook.com/{account.handle}/videos/{video_id}/" if video_id
                     else f"https://www.facebook.com/{account.platform_id}/posts/{local_id}")
        result: dict[str, object] = {}
        for item in fields:
            name = item.name
            if name == "id":
                result["id"] = f"{account.platform_id}_{local_id}"
            elif name in ("created_time", "updated_time"):
                result[name] = graph.graph_time(post.published_at)
            elif name == "message":
                result["message"] = _message(self.world.seed, account, post)
            elif name == "status_type":
                result["status_type"] = STATUS_TYPES[post.kind]
            elif name == "permalink_url":
                result["permalink_url"] = permalink
            elif name == "is_published":
                result["is_published"] = True
            elif name == "from":
                result["from"] = {"name": account.name, "id": account.platform_id}
            elif name == "full_picture":
                if post.kind != "status":
                    result["full_picture"] = f"https://scontent.xx.fbcdn.net/v/{local_id}.jpg"
            elif name == "reactions":
                result["reactions"] = _summary_edge(item, metrics.reactions, {"viewer_reaction": "NONE"})
            elif name == "comments":
                result["comments"] = _summary_edge(item, metrics.comments,
                                                   {"order": "ranked", "can_comment": False})
            elif name == "shares":
                if metrics.shares:
                    result["shares"] = {"count": metrics.shares}
            elif name == "attachments":
                if post.kind != "status":
                    media_type, kind = ATTACHMENT_TYPES[post.kind]
                    target = {"id": video_id or local_id, "url": permalink}
                    result["attachments"] = {"data": [{"media_type": media_type, "type": kind,
                                                       "target": target, "url": permalink}]}
            elif name == "type":
                return graph.graph_error(self.request, "(#12) type field is deprecated for versions "
                                         "v3.3 and higher", 12)
            else:
                return graph.nonexisting_field(self.request, name, "Post")
        return result

    def live_video_object(self, account: SandboxAccount, post: Post, fields: list[GraphField]) -> dict | SandboxResponse:
        video_id = _video_id(self.world.seed, account, post, "video")
        values = {
            "id": _video_id(self.world.seed, account, post, "live"),
            "title": _message(self.world.seed, account, post),
            "description": _message(self.world.seed, account, post),
            "status": "VOD",
            "creation_time": graph.graph_time(post.published_at - timedelta(minutes=10)),
            "broadcast_start_time": graph.graph_time(post.published_at),
            "permalink_url": f"/{account.handle}/videos/{video_id}/",
            "video": {"id": video_id},
            "live_views": 0,
        }
        return self._pick(values, fields, "LiveVideo")

    def video_object(self, account: SandboxAccount, post: Post, fields: list[GraphField]) -> dict | SandboxResponse:
        video_id = _video_id(self.world.seed, account, post, "video")
        metrics = metrics_on(post, self.day)
        values = {
            "id": video_id,
            "title": _message(self.world.seed, account, post),
            "description": _message(self.world.seed, account, post),
            "created_time": graph.graph_time(post.published_at),
            "updated_time": graph.graph_time(post.published_at),
            "permalink_url": f"/{account.handle}/videos/{video_id}/",
            "length": float(post.duration_seconds),
            "live_status": "VOD" if post.kind == "live" else None,
            "views": metrics.views,
            "published": True,
        }
        return self._pick(values, fields, "Video")

    def _pick(self, values: dict, fields: list[GraphField], node_type: str) -> dict | SandboxResponse:
        result = {}
        for item in fields:
            if item.name not in values:
                return graph.nonexisting_field(self.request, item.name, node_type)
            if values[item.name] is not None:
                result[item.name] = values[item.name]
        return result

    def one_post(self, node: str, fields: list[GraphField]) -> SandboxResponse:
        page_id, _, local_id = node.partition("_")
        account = self.world.find(PLATFORM, page_id)
        post = _post_from_local_id(self.world, account, local_id) if account else None
        if account is None or post is None or not post.visible_on(self.day) or self.state.account_fault(
                PLATFORM, account) == "deleted_account":
            return graph.object_missing(self.request, node)
        if self.state.account_fault(PLATFORM, account) == "private":
            return graph.permission_error(self.request, "Page Public Content Access")
        result = self.post_object(account, post, fields or [GraphField("created_time"),
                                                            GraphField("message"), GraphField("id")])
        if isinstance(result, dict):
            result.setdefault("id", node)
        return self.answer(result)

    # -- insights -------------------------------------------------------------------------

    def insights(self, account: SandboxAccount, node: str, edge_path: str) -> SandboxResponse:
        names = [m.strip() for m in self.request.query.get("metric", "").split(",") if m.strip()]
        if not names or any(n not in INSIGHT_METRICS for n in names):
            return graph.graph_error(self.request, "(#100) The value must be a valid insights metric", 100)
        period = self.request.query.get("period", "day")
        if period != "day":
            return graph.graph_error(self.request, "(#100) The value must be a valid insights period", 100)
        since = graph.parse_graph_time(self.request.query.get("since", ""))
        until = graph.parse_graph_time(self.request.query.get("until", ""))
        last_day = self.day
        until_day = until.date() if until else last_day
        since_day = since.date() if since else until_day - timedelta(days=2)
        if (until_day - since_day).days > INSIGHTS_MAX_WINDOW_DAYS:
            return graph.graph_error(self.request, "(#100) There cannot be more than "
                                     f"{INSIGHTS_MAX_WINDOW_DAYS} days ({INSIGHTS_MAX_WINDOW_DAYS * 86400} s) "
                                     "between since and until", 100)
        if since_day < self.day - timedelta(days=INSIGHTS_MAX_AGE_DAYS):
            return graph.graph_error(self.request, "(#100) since param is not valid. Metrics data is "
                                     "available for the last 2 years.", 100)
        days = [since_day + timedelta(days=i) for i in range((until_day - since_day).days)
                if since_day + timedelta(days=i) <= last_day]
        data = []
        for name in names:
            title, description = INSIGHT_METRICS[name]
            values = [{"value": self._insight_value(account, name, day),
                       "end_time": graph.graph_time(datetime.combine(day + timedelta(days=1), time(8), tzinfo=UTC))}
                      for day in days]
            data.append({"name": name, "period": "day", "values": values, "title": title,
                         "description": description, "id": f"{account.platform_id}/insights/{name}/day"})
        width = timedelta(days=max(1, (until_day - since_day).days))
        paging = {"previous": self.request.url(PREFIX, edge_path, {
            **self.request.query, "since": str(_unix(since_day - width)), "until": str(_unix(since_day))})}
        if until_day <= last_day:
            paging["next"] = self.request.url(PREFIX, edge_path, {
                **self.request.query, "since": str(_unix(until_day)), "until": str(_unix(until_day + width))})
        return self.answer({"data": data, "paging": paging})

    def _insight_value(self, account: SandboxAccount, metric: str, day: date) -> int:
        today = self.world.followers_on(account, day)
        yesterday = self.world.followers_on(account, day - timedelta(days=1))
        churn = int(stable_hash(self.world.seed, account.number, day.toordinal(), "churn") % (1 + today // 2000))
        if metric == "page_follows":
            return today
        if metric == "page_daily_follows_unique":
            return max(0, today - yesterday) + churn
        if metric == "page_daily_unfollows_unique":
            return max(0, yesterday - today) + churn
        posts = [p for p in self.world.iter_visible_posts(account, day, datetime.combine(day, time(0), tzinfo=UTC))]
        engaged = sum(metrics_on(p, day).reactions + metrics_on(p, day).comments for p in posts)
        return engaged if metric == "page_post_engagements" else engaged * 7 + today // 10


def _summary_edge(item: GraphField, total: int, extra: dict) -> dict:
    """``reactions``/``comments`` as ``.summary(...).limit(0)`` returns them."""
    body: dict = {"data": []}
    if item.modifiers.get("summary") in ("true", "total_count", "1"):
        body["summary"] = {"total_count": total, **extra}
    return body


def _local_post_id(seed: int, account: SandboxAccount, post: Post) -> str:
    return f"{post.year}{post.index:05d}{stable_hash(seed, account.number, post.year, post.index) % 10**5:05d}"


def _post_from_local_id(world, account: SandboxAccount, local_id: str) -> Post | None:
    if len(local_id) != 14 or not local_id.isdigit():
        return None
    post = world.post_by_position(account, int(local_id[:4]), int(local_id[4:9]))
    return post if post and _local_post_id(world.seed, account, post) == local_id else None


def _video_id(seed: int, account: SandboxAccount, post: Post, kind: str) -> str:
    prefix = "10" if kind == "video" else "20"
    return f"{prefix}{post.year}{post.index:05d}{stable_hash(seed, account.number, post.index, kind) % 10**4:04d}"


def _position(cursor: str | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    parts = graph.decode_cursor(cursor)
    if not parts or len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _message(seed: int, account: SandboxAccount, post: Post) -> str:
    digest = hashlib.blake2b(f"{seed}:{account.number}:{post.year}:{post.index}".encode(), digest_size=4)
    return f"{_MESSAGES[int.from_bytes(digest.digest(), 'big') % len(_MESSAGES)]} #{post.index + 1}"


def _unix(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())
