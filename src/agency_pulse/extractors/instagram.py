"""Instagram professional accounts through Graph API business discovery.

One account at a time, seen from our own business account (the connection's
``ig_user_id``): ``GET {base}/{ig_user_id}?fields=business_discovery.username(NAME)
{followers_count,media_count,media.limit(50){...}}``; the next media page is asked with
``media.after(CURSOR)``. Business discovery has no ``since``: paging stops once a page
reaches posts older than min(last post seen, run day - settling window). Only Business
and Creator accounts are visible; others come back as "cannot find user" and are ``gone``.

Follower history, only for our own account (the monitored account whose id is the
connection's ``ig_user_id``, or whose handle is its ``ig_username``) and only when the
connection's extra says the token may read insights (``{"insights": true}``):
``GET {base}/{ig_user_id}/insights?metric=follower_count&period=day&since=&until=``.
Instagram keeps about 30 days of it, excluding today: the first run reads those 30 days,
later runs only the days after the last one landed (``ExtractState.history_through``).
``follower_count`` is the number of NEW followers each day, not an audience size: each
day's absolute count is derived back from today's ``followers_count`` snapshot, taken as
the count at the end of yesterday, by subtracting the new followers of every later day.
Unfollows are not in the metric, so days further back may read a little low. Rows land
with metric ``follower_count``; the marts prefer a same-day snapshot over them.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

from agency_pulse.errors import (
    AccountGone,
    InvalidHandle,
    MalformedResponse,
    PermissionDenied,
    PlatformError,
)
from agency_pulse.extractors.base import (
    AccountLookup,
    ExtractResult,
    ExtractState,
    Lookup,
    Page,
    deletions_for,
    extract_each,
    lookup_from_error,
    pages,
    parse_count,
    parse_timestamp,
    path_segment,
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
FOLLOWER_METRIC = "follower_count"
# Instagram answers follower_count for the last 30 days only (today excluded).
INSIGHTS_HISTORY_DAYS = 30
# What an Instagram username may hold. It goes inside a Graph field expression
# (business_discovery.username(NAME)), where anything else could rewrite the expression.
# (A leading @ has always been sent as given: it cannot break out.)
USERNAME = re.compile(r"^@?[A-Za-z0-9._]{1,30}$")
# Graph paging cursors are base64url text; inside media.after(...) nothing else is safe.
CURSOR = re.compile(r"^[A-Za-z0-9_=-]+$")


def classify(response, body) -> PlatformError | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and (error.get("code"), error.get("error_subcode")) == USER_NOT_FOUND:
        message = error.get("error_user_msg") or error.get("message") or "user not found"
        return AccountGone(PLATFORM, f"not found or not a Business/Creator account: {message}",
                           http_status=getattr(response, "status_code", None), code=110)
    return graph_error(PLATFORM, response, body)


def discovery_fields(username: str, after: str | None = None) -> str:
    """The ``fields`` value of a business discovery call; refuses what could break out of it.

    Raises InvalidHandle for a username that is not one (``foo){id},username(bar`` would
    ask for another account), MalformedResponse for a cursor that is not a Graph cursor.
    """
    if not USERNAME.match(username):
        raise InvalidHandle(PLATFORM, f"{username!r} is not a valid Instagram username "
                            "(1-30 letters, digits, . or _): check the registry")
    if after is not None and not CURSOR.match(after):
        raise MalformedResponse(PLATFORM, f"media of {username}: unusable paging cursor "
                                f"{after!r}")
    media = f"media.after({after}).limit({MEDIA_PER_PAGE})" if after else \
        f"media.limit({MEDIA_PER_PAGE})"
    return (f"business_discovery.username({username})"
            f"{{followers_count,media_count,{media}{{{MEDIA_FIELDS}}}}}")


def parse_time(value, what: str) -> datetime | None:
    return parse_timestamp(value, what, PLATFORM, required=False)


class InstagramExtractor:
    def __init__(self, client, conn, run_date: date, state: ExtractState):
        self.client = client
        self.conn = conn
        self.run_date = run_date
        self.state = state
        self.result = ExtractResult()
        self.fetched_at = datetime.now(UTC)
        self.ig_user_id = str(conn.extra.get("ig_user_id") or "")
        self.headers = auth_headers(conn)
        self.own_username = str(conn.extra.get("ig_username") or "").lstrip("@").lower()
        self.insights_enabled = bool(conn.extra.get("insights"))

    @property
    def own_id_segment(self) -> str:
        return path_segment(self.ig_user_id, "ig_user_id", PLATFORM)

    def discover(self, account: Account, after: str | None) -> dict:
        try:
            fields = discovery_fields(account.handle, after)
            body = self.client.get_json(f"{self.conn.base_url}/{self.own_id_segment}",
                                        {"fields": fields},
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
        snapshot = self.snapshot_row(account, discovery)
        self.result.account_snapshots.append(snapshot)
        media = self.media_since(account, discovery, since)
        returned = set()
        for item in media:
            row = self.post_row(account, item)
            returned.add(row["post_id"])
            self.result.posts.append(row)
        if self.result.posts_complete(account.account_id):
            self.result.post_deletions += deletions_for(account, PLATFORM, self.state, returned,
                                                        self.run_date, since)
        if self.insights_enabled and self.is_own_account(account, snapshot["platform_id"]):
            self.fetch_follower_history(account, snapshot["followers"])

    def media_since(self, account: Account, discovery: dict, since: datetime | None
                    ) -> list[dict]:
        """Media newer than ``since`` (all when None), from the first discovery answer on.

        A read cut short (the cursor repeats, too many pages) marks the account's posts
        incomplete.
        """

        def fetch(after: str | None) -> Page:
            answer = discovery if after is None else self.discover(account, after)
            edge = answer.get("media") or {}
            data = edge.get("data") if isinstance(edge, dict) else None
            if data is None and not edge:
                return Page([])  # an account with no media at all
            if not isinstance(data, list):
                raise MalformedResponse(PLATFORM, f"media of {account.handle}: no 'data' list")
            if len(data) > MEDIA_PER_PAGE:
                raise MalformedResponse(PLATFORM, f"media of {account.handle}: a page of "
                                        f"{len(data)} items, asked for {MEDIA_PER_PAGE}")
            # Discovery pages may carry only cursors: a short page without "next" is the last.
            return Page(data, next_after(edge, full_page=MEDIA_PER_PAGE))

        media: list[dict] = []
        for page in pages(fetch, platform=PLATFORM, account=account, result=self.result,
                          max_pages=MAX_MEDIA_PAGES):
            reached_since = False
            for item in page.items:
                if not isinstance(item, dict):
                    continue
                published = parse_time(item.get("timestamp"), "timestamp")
                if since is not None and published is not None and published < since:
                    reached_since = True
                    continue
                media.append(item)
            if reached_since:
                break
        return media

    def snapshot_row(self, account: Account, discovery: dict) -> dict:
        return {
            "snapshot_date": self.run_date, "account_id": account.account_id,
            "agency_id": account.agency_id, "platform": PLATFORM, "handle": account.handle,
            "platform_id": str(discovery["id"]) if discovery.get("id") else None,
            "name": discovery.get("name"),
            "followers": parse_count(discovery.get("followers_count"), "followers_count",
                                     PLATFORM),
            "followers_rounding": None, "likes": None,
            "posts_total": parse_count(discovery.get("media_count"), "media_count", PLATFORM),
            "views_total": None, "fetched_at": self.fetched_at,
        }

    # -- follower history (own account insights) ------------------------------------

    def is_own_account(self, account: Account, discovered_id: str | None) -> bool:
        """True when ``account`` is the connection's own business account (by id or handle)."""
        ids = {account.platform_id, self.state.platform_ids.get(account.account_id),
               discovered_id}
        if self.ig_user_id in {str(i) for i in ids if i}:
            return True
        return bool(self.own_username) and account.handle.lstrip("@").lower() == self.own_username

    def history_window(self, account: Account) -> tuple[date, date] | None:
        """[since, until) days still to read: 30 days on the first run, then the days after."""
        until = self.run_date  # exclusive: today is not complete, and Instagram leaves it out
        since = until - timedelta(days=INSIGHTS_HISTORY_DAYS)
        through = self.state.history_through.get(account.account_id)
        if through is not None:
            since = max(since, through + timedelta(days=1))
        return (since, until) if since < until else None

    def fetch_follower_history(self, account: Account, followers_now: int | None) -> None:
        window = self.history_window(account)
        if window is None:
            return
        if followers_now is None:
            log.info("%s: no followers_count for %s today; its history has no anchor, skipped",
                     PLATFORM, account.account_id)
            return
        since, until = window
        try:
            body = self.client.get_json(
                f"{self.conn.base_url}/{self.own_id_segment}/insights",
                {"metric": FOLLOWER_METRIC, "period": "day",
                 "since": unix(datetime.combine(since, time(), UTC)),
                 "until": unix(datetime.combine(until, time(), UTC))},
                headers=self.headers, classify=classify)
        except PlatformError as exc:
            if exc.stops_platform:
                raise
            # The counts and media stand; only the history is out of reach (and stays so).
            self.insights_enabled = False
            if is_invalid_metric(exc):
                log.warning("%s: insights metric %s is no longer offered (%s); follower "
                            "history skipped from now on", PLATFORM, FOLLOWER_METRIC, exc.reason)
            else:
                log.warning("%s: follower history of %s not readable (%s); skipped",
                            PLATFORM, account.account_id, exc.reason)
            return
        if not isinstance(body, dict):
            raise MalformedResponse(PLATFORM, "insights: body is not an object")
        new_followers = self.new_followers_by_day(body, since, until)
        self.result.follower_history += self.history_rows(account, new_followers, followers_now,
                                                          since, until)

    def new_followers_by_day(self, body: dict, since: date, until: date) -> dict[date, int]:
        """``{day: new followers}`` from ``data[0].values[{value, end_time}]``, within the window."""
        return {point.day: point.value
                for point in insights_points(body, (FOLLOWER_METRIC,), since, until, PLATFORM)}

    def history_rows(self, account: Account, new_followers: dict[date, int], followers_now: int,
                     since: date, until: date) -> list[dict]:
        """Absolute counts for the days answered, walking back from today's snapshot."""
        rows = []
        followers = followers_now  # taken as the count at the end of yesterday
        day = until - timedelta(days=1)
        while day >= since:
            if day in new_followers:
                rows.append({"account_id": account.account_id, "agency_id": account.agency_id,
                             "platform": PLATFORM, "day": day, "followers": max(0, followers),
                             "metric": FOLLOWER_METRIC, "fetched_at": self.fetched_at})
            # The end of the day before had this day's new followers fewer.
            followers -= new_followers.get(day, 0)
            day -= timedelta(days=1)
        rows.reverse()
        return rows

    def post_row(self, account: Account, item: dict) -> dict:
        if not item.get("id"):
            raise MalformedResponse(PLATFORM, f"a media item of {account.handle} has no id")
        media_type = item.get("media_type")
        product_type = item.get("media_product_type")
        return {
            "account_id": account.account_id, "agency_id": account.agency_id,
            "platform": PLATFORM, "post_id": str(item["id"]),
            "published_at": parse_time(item.get("timestamp"), "timestamp"),
            "post_type": "/".join(t for t in (product_type, media_type) if t) or None,
            "is_video": media_type in VIDEO_MEDIA_TYPES or product_type in VIDEO_PRODUCT_TYPES,
            "is_live": False,  # business discovery does not expose live broadcasts
            "permalink": item.get("permalink"),
            # like_count is absent when the owner hides likes: unknown, not zero
            "reactions": parse_count(item.get("like_count"), "like_count", PLATFORM),
            "comments": parse_count(item.get("comments_count"), "comments_count", PLATFORM),
            "shares": None, "views": None, "views_rounding": None,
            "fetched_on": self.run_date, "fetched_at": self.fetched_at,
        }


def extract(client, conn, accounts: list[Account], run_date: date,
            state: ExtractState) -> ExtractResult:
    """Counts and media (with deletions) of every account, via business discovery, and the
    follower history of our own account when the connection may read its insights."""
    client.add_secrets(conn.secrets)
    extractor = InstagramExtractor(client, conn, run_date, state)
    if not extractor.ig_user_id:
        extractor.result.stopped_by = PermissionDenied(
            PLATFORM, "the connection has no ig_user_id extra (our own business account, "
            "needed for business discovery)", platform_wide=True)
        return extractor.result
    return extract_each(client, accounts, extractor.result, extractor.extract_account)


# --------------------------------------------------------------------------- account identity

def resolve_accounts(client, conn, accounts: list[Account]) -> dict[str, AccountLookup]:
    """Each account asked by username through business discovery (one call each).

    Instagram cannot be asked for another account by id, so there is no ``by_id`` answer:
    a registry ``platform_id`` is compared with the id the username answers with. A
    platform-stopping error (token, no usable ``ig_user_id``) is raised.
    """
    client.add_secrets(conn.secrets)
    ig_user_id = str(conn.extra.get("ig_user_id") or "")
    if not ig_user_id:
        raise PermissionDenied(PLATFORM, "the connection has no ig_user_id extra (our own "
                               "business account, needed for business discovery)",
                               platform_wide=True)
    own = path_segment(ig_user_id, "ig_user_id", PLATFORM)
    answers: dict[str, Lookup] = {}
    for account in accounts:
        key = account.handle.lower()
        if key in answers:
            continue
        try:
            username = account.handle
            if not USERNAME.match(username):
                raise InvalidHandle(PLATFORM, f"{username!r} is not a valid Instagram username")
            body = client.get_json(
                f"{conn.base_url}/{own}",
                {"fields": f"business_discovery.username({username}){{id,username}}"},
                headers=auth_headers(conn), classify=classify)
        except PlatformError as exc:
            if exc.stops_platform:
                raise
            if isinstance(exc, AccountGone) and ig_user_id in exc.reason:
                raise PermissionDenied(PLATFORM, f"the connection's ig_user_id is not usable: "
                                       f"{exc.reason}", platform_wide=True) from None
            answers[key] = lookup_from_error(exc)
            continue
        discovery = body.get("business_discovery") if isinstance(body, dict) else None
        if isinstance(discovery, dict) and discovery.get("id"):
            answers[key] = Lookup("found", str(discovery["id"]),
                                  discovery.get("username") or None)
        else:
            answers[key] = Lookup("missing", detail="no business_discovery in the answer (not a "
                                  "Business/Creator account, or age-gated)")
    return {account.account_id: AccountLookup(answers[account.handle.lower()])
            for account in accounts}
