"""Telegram in the sandbox: the Bot API and the public channel preview.

Bot API under ``/api.telegram.org/bot{TOKEN}/{method}`` (GET or POST, query or form):
``getChatMemberCount`` (and its old name ``getChatMembersCount``), ``getChat``, ``getMe``.
Answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``; an unknown channel is ``400 Bad Request: chat not found``.

Preview under ``/t.me/s/{channel}`` (``?before={message_id}`` for older posts, 20 a page,
oldest first on the page): ``tgme_widget_message`` blocks with ``data-post="channel/123"``,
``<time datetime=...>``, ``tgme_widget_message_views`` rounded down for display ("1.2K",
"15K", "1.3M"), a video player block for videos, reactions on some channels. The link to
older posts is relative (``/s/{channel}?before=N``, served too). A channel without a preview
(or that does not exist) redirects 302 to ``{sandbox}/t.me/{channel}``, whose page shows
``tgme_page_extra`` ("12 345 subscribers") only for an existing channel. A channel with no
post shows the "Channel created" service message, as t.me does: a preview page without any
message is a preview that is switched off.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC

from agency_pulse_sandbox.data import SYNTHETIC_BASE, Post, SandboxAccount, metrics_on, stable_hash
from agency_pulse_sandbox.exchange import (
    SandboxRequest,
    SandboxResponse,
    html_response,
    json_response,
)
from agency_pulse_sandbox.state import SandboxState

PLATFORM = "telegram"
PAGE_SIZE = 20
RETRY_AFTER_SECONDS = 1
_BOT_PATH = re.compile(r"^/bot([^/]*)/([A-Za-z]+)$")
_PREVIEW_PATH = re.compile(r"^/t\.me/s/([A-Za-z0-9_]+)/?$")
_CHANNEL_PATH = re.compile(r"^/t\.me/([A-Za-z0-9_]+)/?$")
_METHODS = {"getchatmembercount": "getChatMemberCount", "getchatmemberscount": "getChatMemberCount",
            "getchat": "getChat", "getme": "getMe"}


def endpoint(request: SandboxRequest) -> str:
    if _PREVIEW_PATH.match(request.path):
        return "preview"
    if _CHANNEL_PATH.match(request.path):
        return "channel_page"
    match = _BOT_PATH.match(request.path)
    return _METHODS.get(match.group(2).lower(), "unknown") if match else "unknown"


def _bot_error(code: int, description: str, **parameters: object) -> SandboxResponse:
    body: dict = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json_response(body, status=code)


def fault_response(kind: str, request: SandboxRequest, state: SandboxState) -> SandboxResponse | None:
    """Telegram's answer to a fault; None where the fault means nothing for Telegram."""
    preview = not request.path.startswith("/bot")
    if kind == "throttle":
        if preview:
            return html_response("<html><body>Too Many Requests</body></html>", status=429,
                                 headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return _bot_error(429, f"Too Many Requests: retry after {RETRY_AFTER_SECONDS}",
                          retry_after=RETRY_AFTER_SECONDS)
    if kind == "server_error":
        if preview or stable_hash(request.path) % 2:
            return html_response("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                                 "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0"
                                 "</center>\r\n</body>\r\n</html>\r\n", status=502)
        return _bot_error(500, "Internal Server Error")
    if kind == "expired_token" and not preview:
        return _bot_error(401, "Unauthorized")
    return None


def handle(request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    """Answer one Bot API call or one preview page."""
    preview = _PREVIEW_PATH.match(request.path)
    if preview:
        return _preview(request, state, preview.group(1))
    page = _CHANNEL_PATH.match(request.path)
    if page:
        return _channel_page(state, page.group(1))
    if request.path.startswith("/t.me"):
        return html_response("<html><body><h1>Not Found</h1></body></html>", status=404)
    match = _BOT_PATH.match(request.path)
    if not match or not match.group(1):
        return _bot_error(404, "Not Found")
    method = _METHODS.get(match.group(2).lower())
    if method is None:
        return _bot_error(404, "Not Found")
    if method == "getMe":
        return json_response({"ok": True, "result": {
            "id": int(stable_hash(match.group(1)) % 10**10), "is_bot": True, "first_name": "Agency Pulse",
            "username": "agency_pulse_bot", "can_join_groups": False,
            "can_read_all_group_messages": False, "supports_inline_queries": False}})
    chat_id = request.query.get("chat_id", "")
    if not chat_id and request.body and "json" in request.headers.get("content-type", ""):
        try:
            chat_id = str(json.loads(request.body).get("chat_id", ""))
        except (ValueError, AttributeError):
            chat_id = ""
    if not chat_id:
        return _bot_error(400, "Bad Request: chat_id is empty")
    account = _find(state, chat_id)
    if account is None:
        return _bot_error(400, "Bad Request: chat not found")
    if state.account_fault(PLATFORM, account) == "private":
        return _bot_error(403, "Forbidden: bot is not a member of the channel chat")
    if method == "getChatMemberCount":
        return json_response({"ok": True, "result": state.world.followers_on(account, state.day)})
    return json_response({"ok": True, "result": {
        "id": int(account.platform_id), "title": account.name, "username": account.handle,
        "type": "channel", "active_usernames": [account.handle],
        "description": f"{account.name} — rəsmi kanal", "has_visible_history": True,
        "accent_color_id": account.number % 7, "max_reaction_count": 11,
        "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                "unique_gifts": False, "premium_subscription": False}}})


def _find(state: SandboxState, chat: str) -> SandboxAccount | None:
    """A live channel by ``@username`` or numeric id; None when unknown, not yet created or deleted."""
    chat = chat.strip()
    account = state.world.find(PLATFORM, chat.lstrip("@")) if chat.startswith("@") or not chat.lstrip(
        "-").isdigit() else state.world.find(PLATFORM, chat)
    if account is None or account.created_on > state.day:
        return None
    return None if state.account_fault(PLATFORM, account) == "deleted_account" else account


def compact_count(count: int) -> str:
    """Telegram's display of a counter: exact below 1000, else rounded down ("1.2K", "15K", "1.3M")."""
    for unit, size in (("M", 1_000_000), ("K", 1_000)):
        if count >= size:
            if count < 100 * size:
                tenths = count * 10 // size
                return f"{tenths // 10}.{tenths % 10}{unit}" if tenths % 10 else f"{tenths // 10}{unit}"
            return f"{count // size}{unit}"
    return str(count)


def _has_preview(account: SandboxAccount, seed: int) -> bool:
    # A few synthetic channels switched their preview off; registry channels all have one.
    return account.number < SYNTHETIC_BASE or stable_hash(seed, account.number, "preview") % 20 != 0


def _redirect(request: SandboxRequest, channel: str) -> SandboxResponse:
    location = f"{request.server_url}/t.me/{channel}"
    return html_response(f'<html><head><meta http-equiv="refresh" content="0; url={html.escape(location)}">'
                         "</head></html>", status=302, headers={"Location": location})


def _preview(request: SandboxRequest, state: SandboxState, channel: str) -> SandboxResponse:
    account = _find(state, channel)
    if account is None or not _has_preview(account, state.world.seed) or state.account_fault(
            PLATFORM, account) == "private":
        return _redirect(request, channel)
    world, day = state.world, state.day
    offsets = world.message_offsets(account, day.year)

    def number(post: Post) -> int:
        return offsets[post.year] + post.index + 1

    before = request.query.get("before", "")
    after = request.query.get("after", "")
    if after.isdigit():
        visible = world.posts_visible_on(account, day)
        page = [p for p in reversed(visible) if number(p) > int(after)][:PAGE_SIZE]
    else:  # newest first, built only as far as the page reaches
        older = (p for p in world.iter_visible_posts(account, day)
                 if not before.isdigit() or number(p) < int(before))
        page = [p for _, p in zip(range(PAGE_SIZE), older, strict=False)][::-1]
    blocks = "\n".join(_message_html(account, number(post), post, state) for post in page)
    # the whole history's counts from the world's per-year tallies, not by building every post
    oldest = world.oldest_visible_position(account, day)
    if oldest is None:
        blocks = ('<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message '
                  'service_message js-widget_message"><div class="tgme_widget_message_bubble">'
                  '<div class="tgme_widget_message_service_date">Channel created</div></div></div></div>')
    more = ""
    if page and oldest is not None and number(page[0]) > offsets[oldest[0]] + oldest[1] + 1:
        oldest_shown = number(page[0])
        more = (f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{account.handle}'
                f'?before={oldest_shown}" class="tme_messages_more js-messages_more" data-before="{oldest_shown}"></a></div>')
    kinds = world.visible_kind_counts(account, day)
    name = html.escape(account.name)
    members = compact_count(world.followers_on(account, day))
    counters = [(members, "subscribers"),
                (compact_count(kinds["photo"] + kinds["album"]), "photos"),
                (compact_count(kinds["video"] + kinds["live"]), "videos")]
    counter_html = "".join(f'<div class="tgme_channel_info_counter"><span class="counter_value">{v}</span> '
                           f'<span class="counter_type">{t}</span></div>' for v, t in counters)
    prev_link = (f'<link rel="prev" href="/s/{account.handle}?before={number(page[0])}">' if more else "")
    document = f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{name} – Telegram</title>
    <meta property="og:title" content="{name}">
    <link rel="canonical" href="https://t.me/s/{account.handle}">
    {prev_link}
  </head>
  <body class="widget_frame_base tgme_webpage_body">
    <header class="tgme_header search_collapsed">
      <div class="tgme_header_title"><span dir="auto">{name}</span></div>
    </header>
    <section class="tgme_right_column">
      <div class="tgme_channel_info">
        <div class="tgme_channel_info_header">
          <div class="tgme_channel_info_header_title"><span dir="auto">{name}</span></div>
          <div class="tgme_channel_info_header_username"><a href="https://t.me/{account.handle}">@{account.handle}</a></div>
        </div>
        <div class="tgme_channel_info_description">{name} — rəsmi kanal</div>
        <div class="tgme_channel_info_counters">{counter_html}</div>
      </div>
    </section>
    <main class="tgme_main">
      <section class="tgme_channel_history js-message_history">
        {more}
{blocks}
      </section>
    </main>
  </body>
</html>
"""
    return html_response(document)


def _message_html(account: SandboxAccount, number: int, post: Post, state: SandboxState) -> str:
    metrics = metrics_on(post, state.day)
    handle = account.handle
    published = post.published_at.astimezone(UTC)
    media = ""
    if post.is_video:
        minutes, seconds = divmod(post.duration_seconds, 60)
        media = (f'<a class="tgme_widget_message_video_player js-message_video_player" '
                 f'href="https://t.me/{handle}/{number}"><i class="tgme_widget_message_video_thumb" '
                 f"style=\"background-image:url('https://cdn4.telesco.pe/file/{number}.jpg')\"></i>"
                 f'<div class="tgme_widget_message_video_wrap"><video class="tgme_widget_message_video '
                 f'js-message_video" src="https://cdn4.telesco.pe/file/{number}.mp4" width="100%" '
                 f'height="100%"></video></div><div class="message_video_play"></div>'
                 f'<time class="message_video_duration js-message_video_duration">{minutes}:{seconds:02d}'
                 f"</time></a>")
    elif post.kind in ("photo", "album"):
        media = (f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{handle}/{number}" '
                 f"style=\"width:800px;background-image:url('https://cdn4.telesco.pe/file/{number}.jpg')\"></a>")
    reactions = ""
    if account.number % 2 == 0 and metrics.reactions:
        reactions = ('<div class="tgme_widget_message_reactions js-message_reactions">'
                     f'<span class="tgme_reaction"><i class="emoji"><b>👍</b></i>{compact_count(metrics.reactions)}'
                     "</span></div>")
    text = html.escape(f"Rəsmi məlumat #{number}")
    return f"""<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{handle}/{number}" data-view="{stable_hash(number) % 10**12}">
  <div class="tgme_widget_message_bubble">
    <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/{handle}"><span dir="auto">{html.escape(account.name)}</span></a></div>
    {media}
    <div class="tgme_widget_message_text js-message_text" dir="auto">{text}</div>
    {reactions}
    <div class="tgme_widget_message_footer compact js-message_footer">
      <div class="tgme_widget_message_info short js-message_info">
        <span class="tgme_widget_message_views">{compact_count(metrics.views)}</span><span class="copyonly"> views</span>
        <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/{handle}/{number}"><time datetime="{published.strftime('%Y-%m-%dT%H:%M:%S+00:00')}" class="time">{published.strftime('%H:%M')}</time></a></span>
      </div>
    </div>
  </div>
</div></div>"""


def _channel_page(state: SandboxState, channel: str) -> SandboxResponse:
    account = _find(state, channel)
    if account is None:
        extra = ""
        title = f"Telegram: Contact @{html.escape(channel)}"
        description = f"If you have <strong>Telegram</strong>, you can contact <a class=\"tgme_username_link\" href=\"tg://resolve?domain={html.escape(channel)}\">@{html.escape(channel)}</a> right away."
    else:
        members = f"{state.world.followers_on(account, state.day):,}".replace(",", " ")
        extra = f'<div class="tgme_page_extra">{members} subscribers</div>'
        title = html.escape(account.name)
        description = f"{title} — rəsmi kanal"
    return html_response(f"""<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>{title}</title></head>
  <body class="no_transition">
    <div class="tgme_page_wrap"><div class="tgme_body_wrap"><div class="tgme_page">
      <div class="tgme_page_title"><span dir="auto">{title}</span></div>
      {extra}
      <div class="tgme_page_description">{description}</div>
    </div></div></div>
  </body>
</html>
""")
