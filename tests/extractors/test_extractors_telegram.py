"""Telegram extractor: Bot API member counts and the public preview, served on loopback."""

from __future__ import annotations

import gzip
import json
import logging
from datetime import UTC, date, datetime, timedelta
from html import escape

import pyarrow.parquet as pq
import pytest
from platform_api_fakes import load_fixture

from agency_pulse.connections import PlatformConnection
from agency_pulse.errors import InvalidToken, MalformedResponse
from agency_pulse.extract import ExtractState, run_platform
from agency_pulse.extractors import telegram
from agency_pulse.http_client import ApiClient
from agency_pulse.registry import Account, Agency, Registry

RUN_DATE = date(2026, 11, 26)
BOT_PREFIX = "/api.telegram.org"
PREVIEW_PREFIX = "/t.me"
TOKEN = "7012345678:AAH-canaryTelegramTokenDoNotLeak_x9"
PAGE_SIZE = 20  # t.me/s shows about 20 messages a page


def message_html(channel: str, message_id: int, published_at: datetime, views: str,
                 *, video: bool = False) -> str:
    """One message in the markup of the documented preview page (fixture)."""
    media = ('<a class="tgme_widget_message_video_player js-message_video_player" '
             f'href="https://t.me/{channel}/{message_id}"><video class="tgme_widget_message_video '
             'js-message_video"></video></a>') if video else ""
    return f"""
<div class="tgme_widget_message_wrap js-widget_message_wrap">
  <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{channel}/{message_id}">
    <div class="tgme_widget_message_bubble">{media}
      <div class="tgme_widget_message_text js-message_text" dir="auto">Post {message_id}</div>
      <div class="tgme_widget_message_footer compact js-message_footer">
        <div class="tgme_widget_message_info short js-message_info">
          <span class="tgme_widget_message_views">{views}</span>
          <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/{channel}/{message_id}"><time datetime="{published_at.isoformat()}" class="time">x</time></a></span>
        </div>
      </div>
    </div>
  </div>
</div>"""


def preview_html(channel: str, title: str, subscribers: str, messages: list[str]) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<section class="tgme_right_column"><div class="tgme_channel_info">
  <div class="tgme_channel_info_header_title"><span dir="auto">{escape(title)}</span></div>
  <div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter"><span class="counter_value">{subscribers}</span> <span class="counter_type">subscribers</span></div></div>
</div></section>
<section class="tgme_channel_history js-message_history">{''.join(messages)}</section>
</body></html>"""


class FakeTelegram:
    """Channels with member counts and posts (id -> published_at), paged like t.me/s."""

    def __init__(self, platform):
        self.platform = platform
        self.members: dict[str, int] = {}
        self.posts: dict[str, list[tuple[int, datetime]]] = {}
        self.no_preview: set[str] = set()
        self.bot_failures: list[tuple] = []
        self.preview_override: dict[str, str] = {}
        self.cut_short = 0  # the next N preview pages arrive cut in half (still HTTP 200)
        platform.route(f"{BOT_PREFIX}/bot{TOKEN}/getChatMemberCount", self.member_count)

    def add_channel(self, channel: str, members: int, posts=()) -> None:
        self.members[channel] = members
        self.posts[channel] = sorted(posts)
        self.platform.route(f"{PREVIEW_PREFIX}/s/{channel}", self.preview)
        self.platform.route(f"{PREVIEW_PREFIX}/{channel}",
                            lambda r: (200, load_fixture("telegram/channel_page.html")))

    def member_count(self, request):
        if self.bot_failures:
            return self.bot_failures.pop(0)
        chat = request.query["chat_id"].lstrip("@")
        if chat not in self.members:
            return 400, load_fixture("telegram/errors.json")["chat_not_found"]
        return 200, {"ok": True, "result": self.members[chat]}

    def preview(self, request):
        channel = request.path.rsplit("/", 1)[1]
        if channel in self.no_preview:
            return 302, "", {"Location": f"{PREVIEW_PREFIX}/{channel}"}
        if channel in self.preview_override:
            return 200, self.preview_override[channel]
        before = int(request.query.get("before", 10**9))
        older = [p for p in self.posts[channel] if p[0] < before][-PAGE_SIZE:]
        messages = [message_html(channel, mid, when, f"{mid}.5K", video=(mid % 10 == 0))
                    for mid, when in older]
        page = preview_html(channel, f"Channel {channel}", "12.3K", messages)
        if self.cut_short:
            self.cut_short -= 1
            return 200, page[:len(page) // 2]
        return 200, page


@pytest.fixture
def api(fake_platform):
    return FakeTelegram(fake_platform)


def make_conn(fake_platform, token=TOKEN):
    return PlatformConnection("telegram", fake_platform.url + BOT_PREFIX, token,
                              {"preview_url": fake_platform.url + PREVIEW_PREFIX}, "sandbox")


def make_client(sleeps):
    return ApiClient("telegram", secrets=[TOKEN], sleep=sleeps.append, max_retries=2,
                     jitter=lambda: 0.0)


def account(handle: str) -> Account:
    return Account(agency_id="culture", platform="telegram", handle=handle)


def daily_posts(count: int, newest: datetime) -> list[tuple[int, datetime]]:
    """Message ids 1..count, one a day, the highest id the newest."""
    return [(count - n, newest - timedelta(days=n)) for n in range(count)]


def test_documented_preview_page_parses_to_posts():
    page = telegram.parse_preview(load_fixture("telegram/preview_page.html"))

    assert page.channel_title == "Ministry of Culture"
    assert page.counters["subscribers"] == "12.3K"
    by_id = {p.message_id: p for p in page.posts}
    assert sorted(by_id) == [101, 102, 103]
    assert (by_id[101].views, by_id[101].views_rounding, by_id[101].reactions) == (
        1200, "display_k", 1285)
    assert (by_id[102].views, by_id[102].is_video, by_id[102].post_type) == (3_400_000, True,
                                                                             "video")
    assert by_id[102].published_at == datetime(2026, 11, 25, 14, tzinfo=UTC)  # +04:00 -> UTC
    assert (by_id[103].views, by_id[103].views_rounding) == (950, None)
    assert by_id[101].post_id == "culture_ministry/101" and by_id[101].post_type == "photo"


@pytest.mark.parametrize("text, expected", [
    ("950", (950, None)), ("1.2K", (1200, "display_k")), ("3.4M", (3_400_000, "display_k")),
    ("12K", (12_000, "display_k")), ("1,5K", (1500, "display_k")),
])
def test_display_counters(text, expected):
    assert telegram.parse_counter(text) == expected


@pytest.mark.parametrize("text", ["", "many", "1.2X", "-3"])
def test_unreadable_counters_are_refused(text):
    with pytest.raises(ValueError):
        telegram.parse_counter(text)


def test_unrecognised_markup_fails_loudly():
    with pytest.raises(MalformedResponse, match="no tgme channel widgets"):
        telegram.parse_preview(load_fixture("telegram/preview_unrecognised.html"))
    broken = load_fixture("telegram/preview_page.html").replace(
        'datetime="2026-11-20T09:15:00+00:00"', "")
    with pytest.raises(MalformedResponse, match="no date"):
        telegram.parse_preview(broken)


def test_member_count_and_posts_since_the_settling_window(api, fake_platform, sleeps):
    newest = datetime(2026, 11, 25, 10, tzinfo=UTC)
    api.add_channel("culture", 4321, daily_posts(95, newest))
    state = ExtractState(last_post_at={"telegram:culture": newest})

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("culture")], RUN_DATE, state)

    [snapshot] = result.account_snapshots
    assert (snapshot["followers"], snapshot["followers_rounding"], snapshot["name"]) == (
        4321, None, "Channel culture")
    since = datetime(2026, 10, 27, tzinfo=UTC)
    expected = {f"culture/{mid}" for mid, when in daily_posts(95, newest) if when >= since}
    assert {r["post_id"] for r in result.posts} == expected
    pages = fake_platform.calls_to(f"{PREVIEW_PREFIX}/s/culture")
    assert [p.query.get("before") for p in pages] == [None, "76"]  # 95..76, then 75..56
    row = next(r for r in result.posts if r["post_id"] == "culture/90")
    assert (row["views"], row["views_rounding"], row["is_video"], row["comments"],
            row["shares"]) == (90_500, "display_k", True, None, None)
    assert result.outcomes["telegram:culture"][:3] == ("ok", None, 3)


def test_first_run_pages_back_to_the_first_message(api, fake_platform, sleeps):
    api.add_channel("culture", 10, daily_posts(45, datetime(2026, 11, 25, tzinfo=UTC)))

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("culture")], RUN_DATE, ExtractState())

    assert len(result.posts) == 45
    pages = fake_platform.calls_to(f"{PREVIEW_PREFIX}/s/culture")
    assert [p.query.get("before") for p in pages] == [None, "26", "6"]


def test_channel_without_preview_has_no_post_tracking(api, fake_platform, sleeps):
    api.add_channel("private_agency", 4020)
    api.no_preview.add("private_agency")
    state = ExtractState(known_post_ids={"telegram:private_agency": {
        ("private_agency/5", datetime(2026, 11, 20, tzinfo=UTC))}})

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("private_agency")], RUN_DATE, state)

    status, reason, *_ = result.outcomes["telegram:private_agency"]
    assert status == "ok" and reason.startswith("posts not tracked: ")
    assert "no public preview" in reason
    assert result.account_snapshots[0]["followers"] == 4020
    assert result.posts == [] and result.post_deletions == []
    # The redirect is not followed: the channel page is never fetched, let alone parsed.
    assert len(fake_platform.calls_to(f"{PREVIEW_PREFIX}/s/private_agency")) == 1
    assert fake_platform.calls_to(f"{PREVIEW_PREFIX}/private_agency") == []


def test_a_preview_without_any_message_is_a_disabled_preview(api, fake_platform, sleeps):
    api.add_channel("quiet_agency", 310)
    api.preview_override["quiet_agency"] = preview_html("quiet_agency", "Quiet", "310", [])
    state = ExtractState(known_post_ids={"telegram:quiet_agency": {
        ("quiet_agency/5", datetime(2026, 11, 20, tzinfo=UTC))}})

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("quiet_agency")], RUN_DATE, state)

    status, reason, *_ = result.outcomes["telegram:quiet_agency"]
    assert (status, reason) == ("ok", "posts not tracked: the public preview shows no "
                                      "messages (disabled)")
    assert [r["followers"] for r in result.account_snapshots] == [310]
    assert result.posts == [] and result.post_deletions == []


def test_a_preview_showing_only_the_channel_created_message_is_tracked(api, fake_platform,
                                                                        sleeps):
    service = ('<div class="tgme_widget_message service_message js-widget_message" '
               'data-post="new_agency/1"><div class="tgme_widget_message_bubble">'
               'Channel created</div></div>')
    api.add_channel("new_agency", 12)
    api.preview_override["new_agency"] = preview_html("new_agency", "New", "12", [service])

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("new_agency")], RUN_DATE, ExtractState())

    assert result.outcomes["telegram:new_agency"][:2] == ("ok", None)  # tracked: no posts
    assert result.posts == [] and len(result.account_snapshots) == 1


def test_a_redirect_to_another_preview_page_is_followed(api, fake_platform, sleeps):
    newest = datetime(2026, 11, 25, tzinfo=UTC)
    api.add_channel("Culture", 10, daily_posts(3, newest))
    api.members["culture"] = 10
    fake_platform.route(f"{PREVIEW_PREFIX}/s/culture",
                        (302, "", {"Location": f"{PREVIEW_PREFIX}/s/Culture"}))

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("culture")], RUN_DATE, ExtractState())

    assert result.outcomes["telegram:culture"][:2] == ("ok", None)
    assert len(result.posts) == 3


def test_unrecognised_preview_keeps_the_count_and_fails_the_posts(api, fake_platform, sleeps):
    api.add_channel("culture", 777)
    api.preview_override["culture"] = load_fixture("telegram/preview_unrecognised.html")

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("culture")], RUN_DATE, ExtractState())

    status, reason, *_ = result.outcomes["telegram:culture"]
    assert status == "failed" and "no tgme channel widgets" in reason
    assert [r["followers"] for r in result.account_snapshots] == [777]
    assert result.posts == []


def test_without_a_bot_token_the_preview_counter_is_used(api, fake_platform, sleeps):
    api.add_channel("culture", 5, daily_posts(3, datetime(2026, 11, 25, tzinfo=UTC)))

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform, token=None),
                              [account("culture")], RUN_DATE, ExtractState())

    [snapshot] = result.account_snapshots
    assert (snapshot["followers"], snapshot["followers_rounding"]) == (12_300, "display_k")
    assert not fake_platform.calls_to(f"{BOT_PREFIX}/bot{TOKEN}/getChatMemberCount")


def test_deleted_posts_in_the_settling_window(api, fake_platform, sleeps):
    newest = datetime(2026, 11, 25, tzinfo=UTC)
    api.add_channel("culture", 10, [(40, newest), (38, newest - timedelta(days=2))])
    known = {("culture/40", newest), ("culture/39", newest - timedelta(days=1)),
             ("culture/38", newest - timedelta(days=2)),
             ("culture/2", datetime(2025, 5, 1, tzinfo=UTC))}
    state = ExtractState(last_post_at={"telegram:culture": newest},
                         known_post_ids={"telegram:culture": known},
                         post_last_seen={"culture/39": date(2026, 11, 25)})

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("culture")], RUN_DATE, state)

    assert [(d["post_id"], d["last_seen_on"]) for d in result.post_deletions] == [
        ("culture/39", date(2026, 11, 25))]


def test_bot_api_errors_map_to_the_taxonomy(api, fake_platform, sleeps):
    errors = load_fixture("telegram/errors.json")
    api.add_channel("throttled", 1)
    api.add_channel("forbidden", 2)
    api.bot_failures = [(429, errors["too_many_requests"], {"Retry-After": "3"})]
    accounts = [account("throttled"), account("missing"), account("forbidden")]

    client = make_client(sleeps)
    api_result = telegram.extract(client, make_conn(fake_platform), accounts[:2], RUN_DATE,
                                  ExtractState())
    assert sleeps == [3.0]
    assert api_result.outcomes["telegram:throttled"][0] == "ok"
    status, reason, *_ = api_result.outcomes["telegram:missing"]
    assert status == "gone" and "chat not found" in reason

    api.bot_failures = [(403, errors["forbidden"])]
    forbidden = telegram.extract(client, make_conn(fake_platform), accounts[2:], RUN_DATE,
                                 ExtractState())
    assert forbidden.outcomes["telegram:forbidden"][0] == "private"
    assert forbidden.stopped_by is None

    api.bot_failures = [(401, errors["unauthorized"])]
    unauthorized = telegram.extract(client, make_conn(fake_platform), accounts, RUN_DATE,
                                    ExtractState())
    assert isinstance(unauthorized.stopped_by, InvalidToken)
    assert list(unauthorized.outcomes) == ["telegram:throttled"]  # the loop stopped there


def test_the_bot_token_never_leaks(api, fake_platform, sleeps, caplog):
    errors = load_fixture("telegram/errors.json")
    api.add_channel("culture", 12, daily_posts(5, datetime(2026, 11, 25, tzinfo=UTC)))
    api.add_channel("broken", 13)
    api.preview_override["broken"] = load_fixture("telegram/preview_unrecognised.html")
    api.bot_failures = [(429, errors["too_many_requests"]), (500, "<html>oops</html>")]
    caplog.set_level(logging.DEBUG)
    client = make_client(sleeps)
    accounts = [account("culture"), account("missing"), account("broken")]

    result = telegram.extract(client, make_conn(fake_platform), accounts, RUN_DATE,
                              ExtractState())
    api.bot_failures = [(401, errors["unauthorized"])]
    stopped = telegram.extract(client, make_conn(fake_platform), accounts, RUN_DATE,
                               ExtractState())

    assert {o[0] for o in result.outcomes.values()} == {"ok", "gone", "failed"}
    assert stopped.stopped_by is not None
    token_forms = {TOKEN, TOKEN.replace(":", "%3A"), TOKEN.split(":")[1]}
    everything = "\n".join([
        caplog.text,
        json.dumps(client.raw, default=str),
        repr(result.outcomes), repr(stopped.outcomes),
        str(stopped.stopped_by), repr(stopped.stopped_by.args),
        json.dumps([result.account_snapshots, result.posts], default=str),
    ])
    assert any("/bot***/getChatMemberCount" in r["url"] for r in client.raw)
    for form in token_forms:
        assert form not in everything


def test_run_platform_lands_rows_and_a_raw_archive_without_the_token(api, fake_platform,
                                                                     sleeps, pulse_home,
                                                                     caplog):
    api.add_channel("culture", 4321, daily_posts(30, datetime(2026, 11, 25, tzinfo=UTC)))
    api.bot_failures = [(429, load_fixture("telegram/errors.json")["too_many_requests"])]
    registry = Registry(agencies=(Agency(id="culture", name="Mədəniyyət Nazirliyi", accounts=(
        account("culture"), account("missing"))),))
    caplog.set_level(logging.DEBUG)

    summary = run_platform("telegram", RUN_DATE, registry=registry,
                           connection=make_conn(fake_platform), client=make_client(sleeps))

    assert summary["statuses"] == {"ok": 1, "gone": 1}
    assert summary["rows"]["posts"] == 30 and summary["rows"]["account_snapshots"] == 1
    landed = {name: pq.read_table(path).to_pylist() for name, path in summary["files"].items()}
    log_rows = {r["account_id"]: r for r in landed["extract_log"]}
    assert log_rows["telegram:missing"]["status"] == "gone"
    assert log_rows["telegram:culture"]["calls"] == 4  # 2 bot attempts + 2 preview pages
    with gzip.open(summary["raw"], "rt", encoding="utf-8") as fh:
        raw = fh.read()
    assert "/bot***/getChatMemberCount" in raw
    everything = raw + caplog.text + json.dumps(landed, default=str) + json.dumps(summary)
    for form in (TOKEN, TOKEN.replace(":", "%3A"), TOKEN.split(":")[1]):
        assert form not in everything


def test_a_page_cut_short_is_read_again_not_half_parsed(api, fake_platform, sleeps):
    newest = datetime(2026, 11, 25, tzinfo=UTC)
    api.add_channel("culture", 10, daily_posts(15, newest))
    api.cut_short = 1

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("culture")], RUN_DATE, ExtractState())

    assert len(result.posts) == 15
    assert len(fake_platform.calls_to(f"{PREVIEW_PREFIX}/s/culture")) == 2


def test_pages_always_cut_short_fail_the_posts_loudly(api, fake_platform, sleeps):
    api.add_channel("culture", 10, daily_posts(15, datetime(2026, 11, 25, tzinfo=UTC)))
    known = {("culture/15", datetime(2026, 11, 25, tzinfo=UTC))}
    api.cut_short = 99

    result = telegram.extract(make_client(sleeps), make_conn(fake_platform),
                              [account("culture")], RUN_DATE,
                              ExtractState(known_post_ids={"telegram:culture": known}))

    status, reason, calls, _ = result.outcomes["telegram:culture"]
    assert status == "failed" and "cut short" in reason and calls == 1 + 3
    assert result.posts == [] and result.post_deletions == []
    assert [r["followers"] for r in result.account_snapshots] == [10]


@pytest.mark.parametrize("status, body, expected", [
    (429, load_fixture("telegram/errors.json")["too_many_requests"], "TransientError"),
    (401, load_fixture("telegram/errors.json")["unauthorized"], "InvalidToken"),
    (404, {"ok": False, "error_code": 404, "description": "Not Found"}, "InvalidToken"),
    (400, load_fixture("telegram/errors.json")["chat_not_found"], "AccountGone"),
    (403, load_fixture("telegram/errors.json")["forbidden"], "PermissionDenied"),
    (502, None, None),  # nginx's HTML page: the client's default (transient) applies
])
def test_classify_bot_api_errors(status, body, expected):
    class Response:
        status_code = status

    error = telegram.classify(Response(), body)
    assert (type(error).__name__ if error else None) == expected
    if expected == "TransientError":
        assert error.retry_after == 3.0
