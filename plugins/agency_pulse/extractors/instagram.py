"""Instagram professional accounts through Graph API business discovery.

One account at a time, seen from our own business account (the connection's
``ig_user_id``): ``GET {base}/{ig_user_id}?fields=business_discovery.username(NAME)
{followers_count,media_count,media.limit(50){...}}``; the next media page is asked with
``media.after(CURSOR)``. Business discovery has no ``since``: paging stops once a page
reaches posts older than min(last post seen, run day - settling window). Only Business
and Creator accounts are visible; others come back as "cannot find user" and are ``gone``.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from agency_pulse.errors import AccountGone, MalformedResponse, PermissionDenied, PlatformError
from agency_pulse.extract import ExtractResult, ExtractState, deletions_for, extract_each
from agency_pulse.extractors.facebook import graph_error, parse_time
from agency_pulse.registry import Account

log = logging.getLogger(__name__)

PLATFORM = "instagram"
MEDIA_FIELDS = ("id,timestamp,like_count,comments_count,media_type,media_product_type,"
                "permalink")
MEDIA_PER_PAGE = 50
# A few thousand posts are plenty; this only stops a paging loop gone wrong.
MAX_MEDIA_PAGES = 200
VIDEO_MEDIA_TYPES = {"VIDEO"}
VIDEO_PRODUCT_TYPES = {"REELS"}
# Graph's "cannot find user" for business discovery: not a Business/Creator account, or gone.
USER_NOT_FOUND = (110, 2207013)


def classify(response, body) -> PlatformError | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and (error.get("code"), error.get("error_subcode")) == USER_NOT_FOUND:
        message = error.get("error_user_msg") or error.get("message") or "user not found"
        return AccountGone(PLATFORM, f"not found or not a Business/Creator account: {message}",
                           http_status=getattr(response, "status_code", None), code=110)
    return graph_error(PLATFORM, response, body)


def discovery_fields(username: str, after: str | None = None) -> str:
    media = f"media.after({after}).limit({MEDIA_PER_PAGE})" if after else \
        f"media.limit({MEDIA_PER_PAGE})"
    return (f"business_discovery.username({username})"
            f"{{followers_count,media_count,{media}{{{MEDIA_FIELDS}}}}}")


def _count(value, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(PLATFORM, f"{what} is not a count: {value!r}")
    return value


class InstagramExtractor:
    def __init__(self, client, conn, run_date: date, state: ExtractState):
        self.client = client
        self.conn = conn
        self.run_date = run_date
        self.state = state
        self.result = ExtractResult()
        self.fetched_at = datetime.now(UTC)
        self.ig_user_id = str(conn.extra.get("ig_user_id") or "")
        self.headers = {"Authorization": f"Bearer {conn.token}"} if conn.token else {}

    def discover(self, account: Account, after: str | None) -> dict:
        try:
            body = self.client.get_json(f"{self.conn.base_url}/{self.ig_user_id}",
                                        {"fields": discovery_fields(account.handle, after)},
                                        headers=self.headers, classify=classify)
        except AccountGone as exc:
            if self.ig_user_id in exc.reason:
                # Our own account is the one missing: nothing on this platform can be read.
                raise PermissionDenied(PLATFORM, f"the connection's ig_user_id is not usable: "
                                       f"{exc.reason}", platform_wide=True) from None
            raise
        discovery = body.get("business_discovery") if isinstance(body, dict) else None
        if not isinstance(discovery, dict):
            raise AccountGone(PLATFORM, f"{account.handle}: no business_discovery in the answer "
                              "(not a Business/Creator account, or age-gated)")
        return discovery

    def extract_account(self, account: Account) -> None:
        since = self.state.since_for(account.account_id, self.run_date)
        discovery = self.discover(account, None)
        self.result.account_snapshots.append(self.snapshot_row(account, discovery))
        media, complete = self.media_since(account, discovery, since)
        returned = set()
        for item in media:
            row = self.post_row(account, item)
            returned.add(row["post_id"])
            self.result.posts.append(row)
        if complete:
            self.result.post_deletions += deletions_for(account, PLATFORM, self.state, returned,
                                                        self.run_date, since)

    def media_since(self, account: Account, discovery: dict, since: datetime | None
                    ) -> tuple[list[dict], bool]:
        """Media newer than ``since`` (all when None); ``complete`` False if paging was cut."""
        media: list[dict] = []
        seen_cursors: set[str] = set()
        for _ in range(MAX_MEDIA_PAGES):
            edge = discovery.get("media") or {}
            data = edge.get("data") if isinstance(edge, dict) else None
            if data is None and not edge:
                return media, True  # an account with no media at all
            if not isinstance(data, list):
                raise MalformedResponse(PLATFORM, f"media of {account.handle}: no 'data' list")
            if len(data) > MEDIA_PER_PAGE:
                raise MalformedResponse(PLATFORM, f"media of {account.handle}: a page of "
                                        f"{len(data)} items, asked for {MEDIA_PER_PAGE}")
            reached_since = False
            for item in data:
                if not isinstance(item, dict):
                    continue
                published = parse_time(item.get("timestamp"))
                if since is not None and published is not None and published < since:
                    reached_since = True
                    continue
                media.append(item)
            paging = edge.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            # Discovery pages may carry only cursors: a short page without "next" is the last.
            has_more = bool(after) and ("next" in paging or len(data) >= MEDIA_PER_PAGE)
            if reached_since or not has_more:
                return media, True
            if after in seen_cursors:
                log.warning("%s: media of %s: the paging cursor repeats; stopping there",
                            PLATFORM, account.handle)
                return media, False
            seen_cursors.add(after)
            discovery = self.discover(account, after)
        log.warning("%s: media of %s: more than %d pages; stopping there", PLATFORM,
                    account.handle, MAX_MEDIA_PAGES)
        return media, False

    def snapshot_row(self, account: Account, discovery: dict) -> dict:
        return {
            "snapshot_date": self.run_date, "account_id": account.account_id,
            "agency_id": account.agency_id, "platform": PLATFORM, "handle": account.handle,
            "platform_id": str(discovery["id"]) if discovery.get("id") else None,
            "name": discovery.get("name"),
            "followers": _count(discovery.get("followers_count"), "followers_count"),
            "followers_rounding": None, "likes": None,
            "posts_total": _count(discovery.get("media_count"), "media_count"),
            "views_total": None, "fetched_at": self.fetched_at,
        }

    def post_row(self, account: Account, item: dict) -> dict:
        if not item.get("id"):
            raise MalformedResponse(PLATFORM, f"a media item of {account.handle} has no id")
        media_type = item.get("media_type")
        product_type = item.get("media_product_type")
        return {
            "account_id": account.account_id, "agency_id": account.agency_id,
            "platform": PLATFORM, "post_id": str(item["id"]),
            "published_at": parse_time(item.get("timestamp")),
            "post_type": "/".join(t for t in (product_type, media_type) if t) or None,
            "is_video": media_type in VIDEO_MEDIA_TYPES or product_type in VIDEO_PRODUCT_TYPES,
            "is_live": False,  # business discovery does not expose live broadcasts
            "permalink": item.get("permalink"),
            # like_count is absent when the owner hides likes: unknown, not zero
            "reactions": _count(item.get("like_count"), "like_count"),
            "comments": _count(item.get("comments_count"), "comments_count"),
            "shares": None, "views": None, "views_rounding": None,
            "fetched_on": self.run_date, "fetched_at": self.fetched_at,
        }


def extract(client, conn, accounts: list[Account], run_date: date,
            state: ExtractState) -> ExtractResult:
    """Counts and media (with deletions) of every account, via business discovery."""
    client.add_secrets(conn.secrets)
    extractor = InstagramExtractor(client, conn, run_date, state)
    if not extractor.ig_user_id:
        extractor.result.stopped_by = PermissionDenied(
            PLATFORM, "the connection has no ig_user_id extra (our own business account, "
            "needed for business discovery)", platform_wide=True)
        return extractor.result
    return extract_each(client, accounts, extractor.result, extractor.extract_account)
