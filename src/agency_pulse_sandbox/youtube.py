"""YouTube Data API v3 in the sandbox, under ``/www.googleapis.com/youtube/v3``.

- ``channels?part=snippet,statistics,contentDetails&id=UC1,UC2`` (at most 50 ids) or
  ``forHandle=@name`` / ``forUsername=``: unknown or deleted channels are simply missing,
  and ``items`` is absent when nothing matched (as on the real API).
  ``statistics.subscriberCount`` is rounded down to three significant figures; channels that
  hide it have ``hiddenSubscriberCount: true`` and no ``subscriberCount``. Counts are strings.
- ``playlistItems?part=contentDetails&playlistId=UU...&maxResults=50&pageToken=`` newest
  first, ``nextPageToken`` absent on the last page; 404 ``playlistNotFound`` for a deleted
  channel's uploads, 403 ``playlistItemsNotAccessible`` for a private one.
- ``videos?part=snippet,statistics,contentDetails,liveStreamingDetails&id=...`` (at most 50):
  lives carry ``liveStreamingDetails`` (``actualStartTime``/``actualEndTime``).
- ``search`` exists and costs 100 units; every other call costs 1. The day's quota
  (10,000 units by default) ends in 403 ``quotaExceeded`` until the sandbox's date changes.
- Credentials: ``key`` parameter or ``Authorization: Bearer``.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from agency_pulse_sandbox.data import Post, SandboxAccount, day_end, metrics_on, stable_hash
from agency_pulse_sandbox.exchange import SandboxRequest, SandboxResponse, json_response
from agency_pulse_sandbox.state import SandboxState

PLATFORM = "youtube"
MAX_IDS = 50
MAX_RESULTS = 50
UNIT_COSTS = {"channels": 1, "playlistItems": 1, "videos": 1, "search": 100}
CHANNEL_PARTS = {"id", "snippet", "statistics", "contentDetails", "brandingSettings", "status",
                 "topicDetails", "localizations"}
PLAYLIST_ITEM_PARTS = {"id", "snippet", "contentDetails", "status"}
VIDEO_PARTS = {"id", "snippet", "statistics", "contentDetails", "liveStreamingDetails", "status",
               "topicDetails", "player"}
_TITLES = ("Nazirliyin brifinqi", "Canlı yayım: mətbuat konfransı", "Yeni layihə haqqında",
           "Vətəndaşlar üçün izah", "Rəsmi tədbirdən görüntülər", "Müsahibə")


def endpoint(request: SandboxRequest) -> str:
    name = request.path.strip("/")
    return name if name in UNIT_COSTS else "unknown"


def youtube_error(code: int, message: str, reason: str, *, domain: str = "youtube.parameter",
                  status: str | None = None, location: str | None = None,
                  details: list | None = None) -> SandboxResponse:
    """Google's error body: ``{"error": {"code", "message", "errors": [{"reason", ...}], "status"}}``."""
    entry: dict = {"message": message, "domain": domain, "reason": reason}
    if location:
        entry.update(location=location, locationType="parameter" if location != "Authorization" else "header")
    error: dict = {"code": code, "message": message, "errors": [entry]}
    if status:
        error["status"] = status
    if details:
        error["details"] = details
    return json_response({"error": error}, status=code, headers={"Vary": "Origin, X-Origin, Referer"})


def quota_exceeded() -> SandboxResponse:
    return youtube_error(403, "The request cannot be completed because you have exceeded your "
                         '<a href="/youtube/v3/getting-started#quota">quota</a>.', "quotaExceeded",
                         domain="youtube.quota")


def fault_response(kind: str, request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    """YouTube's own answer to a throttle, outage, expired credential or spent quota."""
    if kind == "throttle":
        return youtube_error(403, "The request cannot be completed because you have exceeded your "
                             "rate limit.", "rateLimitExceeded", domain="youtube.quota")
    if kind == "quota_exceeded":
        return quota_exceeded()
    if kind == "server_error":
        if stable_hash(request.path, sorted(request.query.items())) % 2:
            return youtube_error(503, "The service is currently unavailable.", "backendError",
                                 domain="global", status="UNAVAILABLE")
        return youtube_error(500, "Internal error encountered.", "backendError", domain="global",
                             status="INTERNAL")
    if kind == "expired_token":
        if request.bearer_token():
            return youtube_error(401, "Request had invalid authentication credentials. Expected OAuth 2 "
                                 "access token, login cookie or other valid authentication credential.",
                                 "authError", domain="global", status="UNAUTHENTICATED",
                                 location="Authorization")
        return youtube_error(400, "API key expired. Please renew the API key.", "badRequest",
                             domain="global", status="INVALID_ARGUMENT", details=[{
                                 "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                 "reason": "API_KEY_EXPIRED", "domain": "googleapis.com",
                                 "metadata": {"service": "youtube.googleapis.com"}}])
    if kind == "access_tier":
        return youtube_error(403, "YouTube Data API v3 has not been used in this project before or "
                             "it is disabled.", "accessNotConfigured", domain="usageLimits",
                             status="PERMISSION_DENIED")
    raise ValueError(f"no YouTube answer for fault {kind!r}")


def handle(request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    """Answer one YouTube Data API request."""
    resource = endpoint(request)
    if resource == "unknown":
        return youtube_error(404, "Not Found", "notFound", domain="global", status="NOT_FOUND")
    if not (request.query.get("key") or request.bearer_token()):
        return youtube_error(403, "The request is missing a valid API key.", "forbidden",
                             domain="global", status="PERMISSION_DENIED")
    if not state.spend_youtube_units(UNIT_COSTS[resource]):
        return quota_exceeded()
    view = _YouTubeView(request, state)
    return {"channels": view.channels, "playlistItems": view.playlist_items, "videos": view.videos,
            "search": view.search}[resource]()


def three_significant_figures(count: int) -> int:
    """Rounded down to three significant figures, as YouTube shows subscriber counts."""
    if count < 1000:
        return count
    step = 10 ** (len(str(count)) - 3)
    return count // step * step


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _etag(payload: object) -> str:
    digest = stable_hash(json.dumps(payload, sort_keys=True, ensure_ascii=False))
    return base64.urlsafe_b64encode(digest.to_bytes(8, "big") * 2).decode()[:27]


def _list_response(kind: str, items: list[dict], total: int, per_page: int, **extra: object) -> dict:
    body: dict = {"kind": kind}
    body.update({k: v for k, v in extra.items() if v is not None})
    body["pageInfo"] = {"totalResults": total, "resultsPerPage": per_page}
    if items:
        body["items"] = items
    body["etag"] = _etag(body)
    return body


def _page_token(post: Post) -> str:
    return base64.urlsafe_b64encode(f"CDIQAA:{post.year}:{post.index}".encode()).decode().rstrip("=")


def _position(token: str) -> tuple[int, int] | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        marker, year, index = text.split(":")
        return (int(year), int(index)) if marker == "CDIQAA" else None
    except (ValueError, UnicodeDecodeError):
        return None


class _YouTubeView:
    def __init__(self, request: SandboxRequest, state: SandboxState):
        self.request = request
        self.state = state
        self.world = state.world
        self.day = state.day

    def _parts(self, allowed: set[str]) -> list[str] | SandboxResponse:
        raw = self.request.query.get("part", "")
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not parts:
            return youtube_error(400, "Required parameter: part", "required", location="part")
        unknown = [p for p in parts if p not in allowed]
        if unknown:
            return youtube_error(400, unknown[0], "unknownPart", domain="youtube.part", location="part")
        return parts

    def _max_results(self, default: int) -> int | SandboxResponse:
        raw = self.request.query.get("maxResults", str(default))
        if not raw.isdigit() or not 0 <= int(raw) <= MAX_RESULTS:
            return youtube_error(400, f"Invalid value '{raw}'. Values must be within the range: "
                                 f"[0, {MAX_RESULTS}]", "invalidParameter", location="maxResults")
        return int(raw)

    def _ids(self) -> list[str] | SandboxResponse:
        ids = [i.strip() for i in self.request.query.get("id", "").split(",") if i.strip()]
        if len(ids) > MAX_IDS:
            return youtube_error(400, "The request specifies an invalid filter parameter.",
                                 "invalidFilters", location="id")
        return ids

    def _visible(self, account: SandboxAccount | None) -> SandboxAccount | None:
        if account is None or account.created_on > self.day:
            return None
        return None if self.state.account_fault(PLATFORM, account) == "deleted_account" else account

    # -- channels -------------------------------------------------------------------------

    def channels(self) -> SandboxResponse:
        parts = self._parts(CHANNEL_PARTS)
        if isinstance(parts, SandboxResponse):
            return parts
        query = self.request.query
        filters = [f for f in ("id", "forHandle", "forUsername", "mine") if query.get(f)]
        if len(filters) != 1:
            return youtube_error(400, "No filter selected. Expected one of: forHandle, forUsername, "
                                 "id, managedByMe, mine, mySubscribers, categoryId",
                                 "missingRequiredParameter")
        if filters[0] == "id":
            ids = self._ids()
            if isinstance(ids, SandboxResponse):
                return ids
            accounts = [self._visible(self.world.find(PLATFORM, i)) if i.startswith("UC") else None
                        for i in ids]
        elif filters[0] == "mine":
            return youtube_error(401, "The request uses the <code>mine</code> parameter but is not "
                                 "properly authorized.", "authorizationRequired", domain="youtube.parameter")
        else:
            accounts = [self._visible(self.world.find(PLATFORM, query[filters[0]]))]
        items = [self._channel(a, parts) for a in accounts if a is not None]
        return json_response(_list_response("youtube#channelListResponse", items, len(items),
                                            max(5, len(items))))

    def _channel(self, account: SandboxAccount, parts: list[str]) -> dict:
        item: dict = {"kind": "youtube#channel", "etag": "", "id": account.platform_id}
        if "snippet" in parts:
            item["snippet"] = {
                "title": account.name,
                "description": f"{account.name} — rəsmi YouTube kanalı",
                "customUrl": "@" + account.key,
                "publishedAt": _timestamp(datetime.combine(account.created_on, datetime.min.time(), UTC)
                                          + timedelta(hours=10)),
                "thumbnails": {"default": {"url": f"https://yt3.ggpht.com/{account.platform_id}=s88",
                                           "width": 88, "height": 88}},
                "localized": {"title": account.name, "description": f"{account.name} — rəsmi YouTube kanalı"},
                "country": "AZ",
            }
        if "contentDetails" in parts:
            item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": "UU" + account.platform_id[2:]}}
        if "statistics" in parts:
            # the whole history's views and count from the world's per-year tallies
            views = self.world.visible_views(account, self.day)
            statistics: dict = {"viewCount": str(views)}
            if account.hidden_follower_count:
                statistics["hiddenSubscriberCount"] = True
            else:
                statistics["subscriberCount"] = str(three_significant_figures(
                    self.world.followers_on(account, self.day)))
                statistics["hiddenSubscriberCount"] = False
            statistics["videoCount"] = str(self.world.count_visible_posts(account, self.day))
            item["statistics"] = statistics
        if "status" in parts:
            item["status"] = {"privacyStatus": "public", "isLinked": True, "longUploadsStatus": "longUploadsUnspecified"}
        item["etag"] = _etag(item)
        return item

    # -- uploads --------------------------------------------------------------------------

    def playlist_items(self) -> SandboxResponse:
        parts = self._parts(PLAYLIST_ITEM_PARTS)
        if isinstance(parts, SandboxResponse):
            return parts
        playlist_id = self.request.query.get("playlistId", "")
        if not playlist_id:
            return youtube_error(400, "No filter selected. Expected one of: id, playlistId",
                                 "missingRequiredParameter")
        max_results = self._max_results(5)
        if isinstance(max_results, SandboxResponse):
            return max_results
        account = self.world.find(PLATFORM, "UC" + playlist_id[2:]) if playlist_id.startswith("UU") else None
        account = self._visible(account)
        if account is None:
            return youtube_error(404, "The playlist identified with the request's <code>playlistId</code> "
                                 "parameter cannot be found.", "playlistNotFound",
                                 domain="youtube.playlistItem", location="playlistId")
        if self.state.account_fault(PLATFORM, account) == "private":
            return youtube_error(403, "The request is not properly authorized to retrieve the specified "
                                 "playlist.", "playlistItemsNotAccessible",
                                 domain="youtube.playlistItem", location="id")
        page, next_token, total, offset = self._page(account, max_results)
        if isinstance(page, SandboxResponse):
            return page
        items = []
        for position, post in enumerate(page, start=offset):
            video_id = self.world.encode_video_id(post)
            item: dict = {"kind": "youtube#playlistItem", "etag": "",
                          "id": base64.b64encode(f"{playlist_id}.{video_id}".encode()).decode().rstrip("=")}
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": _timestamp(post.published_at), "channelId": account.platform_id,
                    "title": self._title(post), "description": "",
                    "thumbnails": {"default": {"url": f"https://i.ytimg.com/vi/{video_id}/default.jpg",
                                               "width": 120, "height": 90}},
                    "channelTitle": account.name, "playlistId": playlist_id, "position": position,
                    "resourceId": {"kind": "youtube#video", "videoId": video_id},
                    "videoOwnerChannelTitle": account.name, "videoOwnerChannelId": account.platform_id}
            if "contentDetails" in parts:
                item["contentDetails"] = {"videoId": video_id, "videoPublishedAt": _timestamp(post.published_at)}
            if "status" in parts:
                item["status"] = {"privacyStatus": "public"}
            item["etag"] = _etag(item)
            items.append(item)
        return json_response(_list_response("youtube#playlistItemListResponse", items, total, max_results,
                                            nextPageToken=next_token))

    def _page(self, account: SandboxAccount, max_results: int):
        """(posts of this page, next page token or None, total, offset of the page)."""
        total = self.world.count_visible_posts(account, self.day)
        token = self.request.query.get("pageToken")
        position = None
        if token:
            position = _position(token)
            if position is None:
                return youtube_error(400, "The request specifies an invalid page token.",
                                     "invalidPageToken", location="pageToken"), None, 0, 0
        # newest first, built only as far as the page reaches: the page starts at the first
        # post older than the token's position
        page: list[Post] = []
        start = None
        for i, post in enumerate(self.world.iter_visible_posts(account, self.day)):
            if start is None:
                if position is not None and (post.year, post.index) >= position:
                    continue
                start = i
            if len(page) == max_results:
                break
            page.append(post)
        start = total if start is None else start
        next_token = _page_token(page[-1]) if page and start + max_results < total else None
        return page, next_token, total, start

    def _title(self, post: Post) -> str:
        return f"{_TITLES[stable_hash(self.world.seed, post.account_number, post.year, post.index) % len(_TITLES)]}" \
               f" #{post.index + 1}"

    # -- videos ---------------------------------------------------------------------------

    def videos(self) -> SandboxResponse:
        parts = self._parts(VIDEO_PARTS)
        if isinstance(parts, SandboxResponse):
            return parts
        ids = self._ids()
        if isinstance(ids, SandboxResponse):
            return ids
        if not ids:
            return youtube_error(400, "No filter selected. Expected one of: chart, id, myRating",
                                 "missingRequiredParameter")
        items = []
        for video_id in ids:
            found = self._video(video_id)
            if found is not None:
                items.append(self._video_item(video_id, *found, parts))
        return json_response(_list_response("youtube#videoListResponse", items, len(items), len(items)))

    def _video(self, video_id: str) -> tuple[SandboxAccount, Post] | None:
        decoded = self.world.decode_video_id(video_id)
        if decoded is None:
            return None
        number, year, index = decoded
        account = self._visible(self.world.by_number(PLATFORM, number))
        if account is None or self.state.account_fault(PLATFORM, account) == "private":
            return None
        post = self.world.post_by_position(account, year, index)
        return (account, post) if post is not None and post.visible_on(self.day) else None

    def _video_item(self, video_id: str, account: SandboxAccount, post: Post, parts: list[str]) -> dict:
        metrics = metrics_on(post, self.day)
        now = day_end(self.day)
        live_until = post.published_at + timedelta(seconds=post.duration_seconds)
        live_now = post.kind == "live" and live_until > now
        item: dict = {"kind": "youtube#video", "etag": "", "id": video_id}
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": _timestamp(post.published_at), "channelId": account.platform_id,
                "title": self._title(post), "description": "",
                "thumbnails": {"default": {"url": f"https://i.ytimg.com/vi/{video_id}/default.jpg",
                                           "width": 120, "height": 90}},
                "channelTitle": account.name, "categoryId": "25",
                "liveBroadcastContent": "live" if live_now else "none",
                "defaultAudioLanguage": "az",
                "localized": {"title": self._title(post), "description": ""}}
        if "contentDetails" in parts:
            minutes, seconds = divmod(post.duration_seconds, 60)
            hours, minutes = divmod(minutes, 60)
            duration = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{seconds}S"
            item["contentDetails"] = {"duration": "P0D" if live_now else duration, "dimension": "2d",
                                      "definition": "hd", "caption": "false", "licensedContent": False,
                                      "contentRating": {}, "projection": "rectangular"}
        if "statistics" in parts:
            item["statistics"] = {"viewCount": str(metrics.views), "likeCount": str(metrics.reactions),
                                  "favoriteCount": "0", "commentCount": str(metrics.comments)}
        if "status" in parts:
            item["status"] = {"uploadStatus": "processed", "privacyStatus": "public",
                              "license": "youtube", "embeddable": True, "publicStatsViewable": True,
                              "madeForKids": False}
        if "liveStreamingDetails" in parts and post.kind == "live":
            details = {"actualStartTime": _timestamp(post.published_at),
                       "scheduledStartTime": _timestamp(post.published_at - timedelta(minutes=5))}
            if live_now:
                details["concurrentViewers"] = str(max(1, metrics.views // 50))
            else:
                details["actualEndTime"] = _timestamp(live_until)
            item["liveStreamingDetails"] = details
        item["etag"] = _etag(item)
        return item

    # -- search (expensive on purpose) ----------------------------------------------------

    def search(self) -> SandboxResponse:
        parts = self._parts({"snippet", "id"})
        if isinstance(parts, SandboxResponse):
            return parts
        max_results = self._max_results(5)
        if isinstance(max_results, SandboxResponse):
            return max_results
        account = self._visible(self.world.find(PLATFORM, self.request.query.get("channelId", "")))
        if account is None:
            return json_response(_list_response("youtube#searchListResponse", [], 0, max_results,
                                                regionCode="AZ"))
        page, next_token, total, _ = self._page(account, max_results)
        if isinstance(page, SandboxResponse):
            return page
        items = []
        for post in page:
            video_id = self.world.encode_video_id(post)
            item: dict = {"kind": "youtube#searchResult", "etag": "",
                          "id": {"kind": "youtube#video", "videoId": video_id}}
            if "snippet" in parts:
                item["snippet"] = {"publishedAt": _timestamp(post.published_at), "channelId": account.platform_id,
                                   "title": self._title(post), "description": "",
                                   "channelTitle": account.name, "liveBroadcastContent": "none",
                                   "publishTime": _timestamp(post.published_at)}
            item["etag"] = _etag(item)
            items.append(item)
        return json_response(_list_response("youtube#searchListResponse", items, total, max_results,
                                            nextPageToken=next_token, regionCode="AZ"))
