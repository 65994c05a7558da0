"""Telegram public channels: member counts from the Bot API, posts from the public preview.

Members: ``GET {base}/bot{TOKEN}/getChatMemberCount?chat_id=@channel`` -> ``{"ok": true,
"result": N}``. The token sits in the URL path, so only the client's redacted URLs may ever
reach a message, a log or the raw archive.

Identity: with a bot token, a channel whose registry entry has its ``platform_id`` (the
chat id) is asked ``getChat?chat_id={id}`` first: the username it answers with is the
channel's current handle. A handle changed on Telegram is noted (``handle changed: old ->
new`` in the extract_log reason), the member count is asked by id and the preview read under
the current handle: the rows keep the registry's account_id, so the history continues.
Without a bot token (or a ``platform_id``) the channel is known by its handle only.

Posts: the public preview ``{preview_url}/s/{channel}``, paged backwards with
``?before={smallest post id}`` (a page that does not move back counts as a repeating
cursor: the read stops there and the channel's posts are marked incomplete). Its counters are rounded for display ("1.2K"), recorded as
``views_rounding="display_k"``. A channel without a preview redirects to ``/{channel}``
(the redirect is not followed: the channel page is no preview), and a preview whose first
page shows no message at all (not even the "channel created" service message) has its
preview disabled: either way the channel keeps its member count, lands ``ok`` with
"posts not tracked" in its reason, and has no posts rows. Markup we do not recognise fails loudly (MalformedResponse),
never as zeros.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

from agency_pulse.errors import (
    AccountGone,
    InvalidToken,
    MalformedResponse,
    PermissionDenied,
    PlatformError,
    TransientError,
)
from agency_pulse.extractors.base import (
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
    path_segment,
)
from agency_pulse.registry import Account

PLATFORM = "telegram"
DEFAULT_PREVIEW_URL = "https://t.me"
DISPLAY_ROUNDING = "display_k"
# The extract_log reason of a channel whose posts cannot be read (the marts key on it).
POSTS_NOT_TRACKED = "posts not tracked"
# Redirects from one preview page to another (a renamed handle's case) followed at most.
MAX_PREVIEW_REDIRECTS = 3
# A channel has at most a few thousand posts a year; this only stops a page loop gone wrong.
MAX_PREVIEW_PAGES = 2000
PREVIEW_ATTEMPTS = 3
_COMPLETE_PAGE = re.compile(r"</html>\s*$", re.IGNORECASE)

_COUNTER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([KMB]?)\s*$", re.IGNORECASE)
_TRAILING_COUNTER = re.compile(r"(\d+(?:[.,]\d+)?\s*[KMB]?)\s*$", re.IGNORECASE)
_MULTIPLIERS = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}


# --------------------------------------------------------------------------- errors

def classify(response, body) -> PlatformError | None:
    """Map a Bot API error body (``{"ok": false, "error_code", "description"}``) to the taxonomy.

    Returns None for answers that are not a Bot API error (the client then applies its
    defaults: 5xx and cut-short bodies are transient).
    """
    status = getattr(response, "status_code", None)
    if isinstance(body, dict) and body.get("ok") is False:
        code = body.get("error_code", status)
        description = str(body.get("description") or "no description")
    elif status is not None and status >= 400:
        code, description = status, f"HTTP {status}"
    else:
        return None
    parameters = body.get("parameters") if isinstance(body, dict) else None
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(retry_after, bool) or not isinstance(retry_after, int | float):
        retry_after = None
    common = {"http_status": status, "code": code}
    if code == 429:
        return TransientError(PLATFORM, f"throttled: {description}",
                              retry_after=float(retry_after) if retry_after is not None else None,
                              **common)
    if code == 401:
        return InvalidToken(PLATFORM, f"bot token rejected: {description}", **common)
    if code == 404 and status == 404:
        # The Bot API answers 404 for a malformed token (the path names no bot).
        return InvalidToken(PLATFORM, f"bot token not recognised: {description}", **common)
    if code == 400 and "not found" in description.lower():
        return AccountGone(PLATFORM, description, **common)
    if code == 403:
        return PermissionDenied(PLATFORM, description, **common)
    if isinstance(code, int) and 400 <= code < 500:
        return PermissionDenied(PLATFORM, f"request refused: {description}", **common)
    return None


def parse_counter(text: str) -> tuple[int, str | None]:
    """Parse a display counter: "950" -> (950, None), "1.2K" -> (1200, "display_k"), "3.4M".

    Raises ValueError for anything else.
    """
    match = _COUNTER.match(text or "")
    if not match:
        raise ValueError(f"not a counter: {text!r}")
    number, suffix = match.group(1).replace(",", "."), match.group(2).upper()
    value = round(float(number) * _MULTIPLIERS[suffix])
    return value, (DISPLAY_ROUNDING if suffix else None)


# --------------------------------------------------------------------------- preview parsing

@dataclass
class PreviewPost:
    post_id: str            # the preview's data-post, "channel/123": unique across Telegram
    message_id: int
    published_at: datetime
    permalink: str | None
    views: int | None
    views_rounding: str | None
    reactions: int | None
    is_video: bool
    has_photo: bool

    @property
    def post_type(self) -> str:
        return "video" if self.is_video else "photo" if self.has_photo else "text"


@dataclass
class PreviewPage:
    posts: list[PreviewPost] = field(default_factory=list)
    channel_title: str | None = None
    counters: dict[str, str] = field(default_factory=dict)  # e.g. {"subscribers": "1.2K"}
    has_channel_markup: bool = False
    message_blocks: int = 0  # tgme_widget_message blocks, service messages included


_VIDEO_CLASSES = {"tgme_widget_message_video_player", "tgme_widget_message_video",
                  "tgme_widget_message_roundvideo_player"}
_PHOTO_CLASSES = {"tgme_widget_message_photo_wrap", "tgme_widget_message_photo"}


class _PreviewParser(HTMLParser):
    """Collects the channel header and the tgme widget messages of one preview page.

    Telegram's divs are well formed, so counting open divs tells where a message ends.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PreviewPage()
        self.problems: list[str] = []
        self._message: dict | None = None
        self._message_divs = 0
        self._span: str | None = None      # which span's text is being collected
        self._span_depth = 0
        self._text: list[str] = []
        self._in_date_link = False
        self._title: list[str] | None = None
        self._counter: dict[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        if classes & {"tgme_channel_info", "tgme_channel_history"}:
            self.page.has_channel_markup = True
        if self._span is not None and tag == "span":
            self._span_depth += 1
        if self._message is None:
            self._header_starttag(tag, classes)
            if tag == "div" and "tgme_widget_message" in classes:
                self.page.has_channel_markup = True
                self.page.message_blocks += 1
                self._message = {"data_post": attributes.get("data-post"),
                                 "service": "service_message" in classes,
                                 "reactions": [], "is_video": False, "has_photo": False}
                self._message_divs = 1
            return
        message = self._message
        if tag == "div":
            self._message_divs += 1
        if classes & _VIDEO_CLASSES or tag == "video":
            message["is_video"] = True
        if classes & _PHOTO_CLASSES:
            message["has_photo"] = True
        if tag == "a" and "tgme_widget_message_date" in classes:
            self._in_date_link = True
            message["permalink"] = attributes.get("href")
        if tag == "time" and self._in_date_link and attributes.get("datetime"):
            message["datetime"] = attributes["datetime"]
        if tag == "span" and self._span is None:
            if "tgme_widget_message_views" in classes:
                self._start_span("views")
            elif "tgme_reaction" in classes:
                self._start_span("reaction")

    def _header_starttag(self, tag: str, classes: set[str]) -> None:
        if tag == "div" and "tgme_channel_info_header_title" in classes:
            self._title = []
        elif tag == "div" and "tgme_channel_info_counter" in classes:
            self._counter = {"counter_value": [], "counter_type": []}
        elif tag == "span" and self._counter is not None and self._span is None:
            part = next((c for c in ("counter_value", "counter_type") if c in classes), None)
            if part:
                self._start_span(part)

    def handle_endtag(self, tag):
        if self._span is not None and tag == "span":
            self._span_depth -= 1
            if self._span_depth == 0:
                self._finish_span()
        if tag == "div" and self._message is None:
            if self._title is not None:
                self.page.channel_title = " ".join("".join(self._title).split()) or None
                self._title = None
            if self._counter is not None:
                kind = "".join(self._counter["counter_type"]).strip().lower()
                self.page.counters[kind] = "".join(self._counter["counter_value"]).strip()
                self._counter = None
            return
        if self._message is None:
            return
        if tag == "a":
            self._in_date_link = False
        if tag == "div":
            self._message_divs -= 1
            if self._message_divs == 0:
                self._finish_message()

    def handle_data(self, data):
        if self._span is not None:
            self._text.append(data)
        elif self._title is not None:
            self._title.append(data)

    def _start_span(self, kind: str) -> None:
        self._span, self._span_depth, self._text = kind, 1, []

    def _finish_span(self) -> None:
        text = "".join(self._text).strip()
        if self._span == "views":
            self._message["views_text"] = text
        elif self._span == "reaction":
            self._message["reactions"].append(text)
        elif self._counter is not None:
            self._counter[self._span].append(text)
        self._span = None

    def _finish_message(self) -> None:
        message, self._message = self._message, None
        if message["service"]:
            return  # "channel created" and the like are not posts
        try:
            self.page.posts.append(_preview_post(message))
        except ValueError as exc:
            self.problems.append(str(exc))


def _preview_post(message: dict) -> PreviewPost:
    data_post = message.get("data_post") or ""
    channel, _, number = data_post.rpartition("/")
    if not channel or not number.isdigit():
        raise ValueError(f"message without a usable data-post ({data_post!r})")
    if not message.get("datetime"):
        raise ValueError(f"message {data_post} has no date")
    published_at = datetime.fromisoformat(message["datetime"])
    if published_at.tzinfo is None:
        raise ValueError(f"message {data_post} has a date without a time zone")
    views, views_rounding = None, None
    if message.get("views_text") is not None:
        views, views_rounding = parse_counter(message["views_text"])
    reactions = None
    if message["reactions"]:  # shown per emoji and rounded like views: their sum is approximate
        reactions = 0
        for text in message["reactions"]:
            match = _TRAILING_COUNTER.search(text)
            if not match:
                raise ValueError(f"message {data_post}: unreadable reaction {text!r}")
            reactions += parse_counter(match.group(1))[0]
    return PreviewPost(
        post_id=data_post, message_id=int(number),
        published_at=published_at.astimezone(UTC),
        permalink=message.get("permalink"), views=views, views_rounding=views_rounding,
        reactions=reactions, is_video=message["is_video"], has_photo=message["has_photo"])


def parse_preview(html: str, where: str = "preview") -> PreviewPage:
    """Parse one t.me/s page; raise MalformedResponse when it is not a recognisable preview."""
    parser = _PreviewParser()
    parser.feed(html)
    parser.close()
    if parser.problems:
        raise MalformedResponse(PLATFORM, f"{where}: unrecognised message markup: "
                                          f"{parser.problems[0]}")
    if not parser.page.has_channel_markup:
        raise MalformedResponse(PLATFORM, f"{where}: no tgme channel widgets in the page; "
                                          "the preview markup may have changed")
    return parser.page


def classify_preview(response, body) -> PlatformError | None:
    """Map an error answer of the public preview (HTML, not the Bot API) to the taxonomy."""
    status = getattr(response, "status_code", None)
    if status == 429:
        return TransientError(PLATFORM, "preview throttled (HTTP 429)", http_status=status)
    if status in (404, 410):
        return AccountGone(PLATFORM, f"preview not found (HTTP {status})", http_status=status)
    if status is not None and 400 <= status < 500:
        return PermissionDenied(PLATFORM, f"preview refused (HTTP {status})", http_status=status)
    return None


# --------------------------------------------------------------------------- extraction

def extract(client, conn, accounts: list[Account], run_date: date,
            state: ExtractState) -> ExtractResult:
    """Snapshot every channel's member count and collect its posts since the incremental start.

    Promises: one outcome per account; a member count only from the Bot API (exact) or,
    without a bot token, from the preview's counter (rounded, ``display_k``); posts only from
    preview pages we recognised; posts of the settling window no longer shown become
    ``post_deletions``. A platform-stopping error (invalid token) ends the loop
    (``result.stopped_by``).
    """
    result = ExtractResult()
    fetched_at = datetime.now(UTC)
    preview_base = str(conn.extra.get("preview_url") or DEFAULT_PREVIEW_URL).rstrip("/")

    current: dict[str, str | None] = {}

    def extract_channel(account: Account) -> None:
        channel = account.handle.lstrip("@")
        chat = f"@{channel}"
        chat_id = account.platform_id
        if conn.token and chat_id and chat_id.lstrip("-").isdigit():
            # The id is the channel's identity: its answer says what the handle is today.
            chat = chat_id
            channel = _current_username(client, conn, chat_id) or channel
            current[account.account_id] = channel
        followers = _member_count(client, conn, chat) if conn.token else None
        since = state.since_for(account.account_id, run_date)
        try:
            preview = _read_preview(client, preview_base, channel, since, account, result)
        except PlatformError as exc:
            if followers is None or exc.stops_platform:
                raise
            # The member count is good and cannot be fetched later: keep it, fail the posts.
            result.account_snapshots.append(
                _snapshot_row(account, run_date, followers, None, None, state, fetched_at))
            result.fail(account.account_id, exc, f"posts: {exc.reason}")
            return
        followers_rounding = None
        if followers is None:
            followers, followers_rounding = _preview_followers(channel, preview)
        result.account_snapshots.append(_snapshot_row(
            account, run_date, followers, followers_rounding, preview.title, state, fetched_at))
        if preview.posts is None:
            result.outcomes[account.account_id] = Outcome(
                "ok", f"{POSTS_NOT_TRACKED}: {preview.untracked}", 0, 0)
            return
        result.posts.extend(_post_row(account, post, run_date, fetched_at)
                            for post in preview.posts)
        if result.posts_complete(account.account_id):
            result.post_deletions.extend(deletions_for(
                account, PLATFORM, state, _returned_ids(account, preview.posts, state),
                run_date, since))

    extract_each(client, accounts, result, extract_channel)
    return note_handle_changes(result, accounts, current)


def _returned_ids(account: Account, posts: list[PreviewPost], state: ExtractState) -> set[str]:
    """The post ids the preview returned, plus the known ids of the same messages.

    A post id is ``channel/number`` and the preview writes it with the channel's current
    handle: after a handle change the same message comes back under another id, which is
    no deletion of the id seen before (the message number is the channel's own).
    """
    returned = {p.post_id for p in posts}
    numbers = {p.message_id for p in posts}
    for post_id, _published in state.known_post_ids.get(account.account_id, ()):
        number = str(post_id).rpartition("/")[2]
        if number.isdigit() and int(number) in numbers:
            returned.add(post_id)
    return returned


def _current_username(client, conn, chat_id: str) -> str | None:
    """The channel's username today, from ``getChat`` by its id (None: it has none)."""
    body = client.get_json(f"{conn.base_url}/bot{conn.token}/getChat", {"chat_id": chat_id},
                           classify=classify)
    chat = body.get("result") if isinstance(body, dict) and body.get("ok") is True else None
    if not isinstance(chat, dict):
        raise MalformedResponse(PLATFORM, f"getChat {chat_id}: answered without a chat")
    username = chat.get("username")
    if username is not None and not isinstance(username, str):
        raise MalformedResponse(PLATFORM, f"getChat {chat_id}: username is not text")
    return username or None


def _preview_followers(channel: str, preview: _Preview) -> tuple[int, str | None]:
    """The preview's subscriber counter (used only without a bot token)."""
    counter = preview.counters.get("subscribers") or preview.counters.get("members")
    if counter is None:
        raise MalformedResponse(PLATFORM, f"@{channel}: no bot token and no subscriber "
                                          "counter in the preview")
    try:
        return parse_counter(counter)
    except ValueError:
        raise MalformedResponse(PLATFORM, f"@{channel}: unreadable subscriber counter "
                                          f"{counter!r}") from None


def _snapshot_row(account: Account, run_date: date, followers: int | None,
                  followers_rounding: str | None, title: str | None, state: ExtractState,
                  fetched_at: datetime) -> dict:
    return {
        "snapshot_date": run_date, "account_id": account.account_id,
        "agency_id": account.agency_id, "platform": PLATFORM, "handle": account.handle,
        "platform_id": state.platform_ids.get(account.account_id) or account.platform_id,
        "name": title, "followers": followers, "followers_rounding": followers_rounding,
        "likes": None, "posts_total": None, "views_total": None, "fetched_at": fetched_at,
    }


def _post_row(account: Account, post: PreviewPost, run_date: date, fetched_at: datetime) -> dict:
    return {
        "account_id": account.account_id, "agency_id": account.agency_id,
        "platform": PLATFORM, "post_id": post.post_id, "published_at": post.published_at,
        "post_type": post.post_type, "is_video": post.is_video, "is_live": False,
        "permalink": post.permalink, "reactions": post.reactions, "comments": None,
        "shares": None, "views": post.views, "views_rounding": post.views_rounding,
        "fetched_on": run_date, "fetched_at": fetched_at,
    }


def _member_count(client, conn, chat: str) -> int:
    """The member count of ``chat`` (``@username`` or a numeric chat id)."""
    body = client.get_json(f"{conn.base_url}/bot{conn.token}/getChatMemberCount",
                           {"chat_id": chat}, classify=classify)
    count = body.get("result") if isinstance(body, dict) and body.get("ok") is True else None
    # Only an int is a member count here; parse_count then refuses a bool or a negative.
    if not isinstance(count, int):
        raise MalformedResponse(PLATFORM, f"{chat}: getChatMemberCount answered without "
                                          "a member count")
    return parse_count(count, f"{chat}: getChatMemberCount result", PLATFORM)


@dataclass
class _Preview:
    title: str | None
    counters: dict[str, str]
    posts: list[PreviewPost] | None     # None: the channel has no public preview
    untracked: str | None = None        # why posts is None


def _preview_page(client, url: str, params: dict | None
                  ) -> tuple[PreviewPage | None, str]:
    """One preview page (None when t.me redirects away from /s/), read again when cut short.

    Redirects are not left to the HTTP client: one to the channel page (``/{channel}``)
    means no preview and is not fetched; one to another preview page is followed.
    A 200 page can arrive cut short or as an error page; parsing only half a page would
    silently lose its newest posts (and report them deleted), so it is fetched again and
    after ``PREVIEW_ATTEMPTS`` the account fails loudly.
    """
    problem: MalformedResponse | None = None
    for _ in range(PREVIEW_ATTEMPTS):
        text, final_url = _get_preview(client, url, params)
        if "/s/" not in urlsplit(final_url).path:
            return None, final_url
        try:
            if not _COMPLETE_PAGE.search(text):
                raise MalformedResponse(PLATFORM, f"{final_url}: page cut short (no </html>)")
            return parse_preview(text, where=final_url), final_url
        except MalformedResponse as exc:
            problem = exc
    raise MalformedResponse(PLATFORM, f"{problem.reason} ({PREVIEW_ATTEMPTS} attempts)")


def _get_preview(client, url: str, params: dict | None) -> tuple[str, str]:
    """``(text, url)`` of a preview page, following redirects only while they stay in /s/."""
    for _ in range(MAX_PREVIEW_REDIRECTS + 1):
        text, final_url = client.get_text(url, params, units=0, classify=classify_preview,
                                          follow_redirects=False)
        path = urlsplit(final_url).path
        if path == urlsplit(url).path or "/s/" not in path:
            return text, final_url
        url, params = final_url, None  # the Location carries its own query
    raise MalformedResponse(PLATFORM, f"{final_url}: more than {MAX_PREVIEW_REDIRECTS} "
                                      "redirects between preview pages")


def _read_preview(client, preview_base: str, channel: str, since: datetime | None,
                  account: Account, result: ExtractResult) -> _Preview:
    """Page back through ``/s/{channel}`` until posts are older than ``since`` (or run out).

    The cursor is the smallest message id seen (``?before=``); a page that does not move
    back repeats it, which stops the read and marks the channel's posts incomplete.
    """
    url = f"{preview_base}/s/{path_segment(channel, 'channel', PLATFORM)}"

    def fetch(before: int | None) -> Page:
        page, final_url = _preview_page(client, url, {"before": before} if before else None)
        if page is None:
            if before is None:
                return Page([], extra=final_url)  # no public preview at all
            raise MalformedResponse(PLATFORM, f"{final_url}: the preview stopped redirecting "
                                              "to itself while paging")
        if before is None and page.message_blocks == 0:
            # Not even the "channel created" message: the preview shows nothing to read.
            return Page([], extra=None)
        if not page.posts:
            return Page([], extra=page)
        smallest = min(p.message_id for p in page.posts)
        if before is not None and smallest >= before:
            return Page(page.posts, before, extra=page)  # did not move back: the cursor repeats
        return Page(page.posts, smallest if smallest > 1 else None, extra=page)

    first: PreviewPage | None = None
    posts: dict[str, PreviewPost] = {}
    for page in pages(fetch, platform=PLATFORM, account=account, result=result,
                      max_pages=MAX_PREVIEW_PAGES):
        if not isinstance(page.extra, PreviewPage):
            why = ("the channel has no public preview (t.me/s redirects to the channel page)"
                   if page.extra else "the public preview shows no messages (disabled)")
            return _Preview(title=None, counters={}, posts=None, untracked=why)
        first = first or page.extra
        for post in page.items:
            posts.setdefault(post.post_id, post)
        if since is not None and page.items and min(p.published_at for p in page.items) < since:
            break
    kept = [p for p in posts.values() if since is None or p.published_at >= since]
    return _Preview(title=first.channel_title, counters=first.counters,
                    posts=sorted(kept, key=lambda p: p.message_id, reverse=True))


# --------------------------------------------------------------------------- account identity

def _chat_lookup(client, conn, chat_id: str) -> Lookup:
    """``getChat`` for one ``@username`` or numeric id; errors become the Lookup they mean."""
    try:
        body = client.get_json(f"{conn.base_url}/bot{conn.token}/getChat", {"chat_id": chat_id},
                               classify=classify)
    except PlatformError as exc:
        if exc.stops_platform:
            raise
        return lookup_from_error(exc)
    chat = body.get("result") if isinstance(body, dict) and body.get("ok") is True else None
    if not isinstance(chat, dict) or chat.get("id") is None:
        return Lookup("failed", detail=f"getChat {chat_id}: answered without a chat")
    return Lookup("found", str(chat["id"]), chat.get("username") or None)


def resolve_accounts(client, conn, accounts: list[Account]) -> dict[str, AccountLookup]:
    """Each channel asked with ``getChat`` by ``@username`` and by its registry
    ``platform_id`` (one call each; the Bot API has no batch). "chat not found" is
    ``missing``, a refusal (403) ``private``; a platform-stopping error is raised."""
    client.add_secrets(conn.secrets)
    by_name: dict[str, Lookup] = {}
    by_id: dict[str, Lookup] = {}
    for account in accounts:
        name = account.handle.lower()
        if name not in by_name:
            by_name[name] = _chat_lookup(client, conn, f"@{account.handle}")
        if account.platform_id and account.platform_id not in by_id:
            by_id[account.platform_id] = (
                _chat_lookup(client, conn, account.platform_id)
                if account.platform_id.lstrip("-").isdigit() else
                Lookup("failed", detail="a Telegram chat id is a whole number: "
                       f"{account.platform_id!r}"))
    return {account.account_id: AccountLookup(
                by_name[account.handle.lower()],
                by_id[account.platform_id] if account.platform_id else None)
            for account in accounts}
