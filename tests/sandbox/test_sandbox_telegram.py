"""Telegram in the sandbox: Bot API member counts and the t.me/s preview."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from agency_pulse_sandbox.data import KINDS

BOT = "/api.telegram.org/bot123456:SECRET-token"
POST = re.compile(r'data-post="fhn_gov_az/(\d+)"')
TIME = re.compile(r'<time datetime="([^"]+)" class="time">')
VIEWS = re.compile(r'<span class="tgme_widget_message_views">([^<]+)</span>')


def test_member_count_and_chat_not_found(http, fresh_sandbox):
    body = http.get(fresh_sandbox.url + BOT + "/getChatMemberCount", params={"chat_id": "@fhn_gov_az"}).json()
    assert body["ok"] is True and isinstance(body["result"], int) and body["result"] > 0
    posted = http.post(fresh_sandbox.url + BOT + "/getChatMemberCount", data={"chat_id": "@fhn_gov_az"}).json()
    assert posted == body
    missing = http.get(fresh_sandbox.url + BOT + "/getChatMemberCount", params={"chat_id": "@nochannel"})
    assert missing.status_code == 400
    assert missing.json() == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}


def test_preview_pages_back_with_before_until_the_first_post(http, fresh_sandbox):
    page = http.get(fresh_sandbox.url + "/t.me/s/fhn_gov_az").text
    numbers = [int(n) for n in POST.findall(page)]
    assert len(numbers) == 20 and numbers == sorted(numbers)
    stamps = [datetime.fromisoformat(t) for t in TIME.findall(page)]
    assert len(stamps) == 20 and max(stamps).date() <= fresh_sandbox.state.day
    assert all(re.fullmatch(r"\d{1,3}|\d+(\.\d)?[KM]", v) for v in VIEWS.findall(page))
    older_link = re.search(r'href="(/s/fhn_gov_az\?before=(\d+))"', page)
    assert int(older_link.group(2)) == numbers[0]
    older = http.get(fresh_sandbox.url + older_link.group(1)).text
    older_numbers = [int(n) for n in POST.findall(older)]
    assert older_numbers and max(older_numbers) < numbers[0]


def test_preview_never_shows_tomorrow(http, fresh_sandbox):
    day = fresh_sandbox.state.day
    fresh_sandbox.set(date=day - timedelta(days=30))
    page = http.get(fresh_sandbox.url + "/t.me/s/fhn_gov_az").text
    assert max(datetime.fromisoformat(t) for t in TIME.findall(page)).date() <= day - timedelta(days=30)


def test_channel_without_preview_redirects_to_the_channel_page(http, fresh_sandbox):
    response = http.get(fresh_sandbox.url + "/t.me/s/nochannel", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == fresh_sandbox.url + "/t.me/nochannel"
    page = http.get(fresh_sandbox.url + "/t.me/fhn_gov_az").text
    members = http.get(fresh_sandbox.url + BOT + "/getChatMemberCount", params={"chat_id": "@fhn_gov_az"}).json()
    shown = re.search(r'tgme_page_extra">([\d ]+) subscribers', page).group(1)
    assert int(shown.replace(" ", "")) == members["result"]


def test_telegram_faults_in_bot_api_shape(http, fresh_sandbox):
    fresh_sandbox.set(faults={"telegram": {"throttle": 1.0}})
    throttled = http.get(fresh_sandbox.url + BOT + "/getChatMemberCount", params={"chat_id": "@fhn_gov_az"})
    body = throttled.json()
    assert throttled.status_code == 429 and body["error_code"] == 429
    assert body["parameters"]["retry_after"] >= 1
    fresh_sandbox.set(faults={"telegram": {"expired_token": 1.0}})
    expired = http.get(fresh_sandbox.url + BOT + "/getChatMemberCount", params={"chat_id": "@fhn_gov_az"})
    assert expired.status_code == 401 and expired.json()["description"] == "Unauthorized"
    assert "SECRET" not in expired.text
    fresh_sandbox.set(faults={"telegram": {"deleted_account": ["fhn_gov_az"]}})
    gone = http.get(fresh_sandbox.url + BOT + "/getChatMemberCount", params={"chat_id": "@fhn_gov_az"})
    assert gone.json()["description"] == "Bad Request: chat not found"


def test_a_channel_without_posts_shows_the_channel_created_message(http, fresh_sandbox,
                                                                    monkeypatch):
    from agency_pulse.extractors.telegram import parse_preview

    # A channel that has posted nothing yet (or deleted everything it posted).
    world = fresh_sandbox.state.world
    monkeypatch.setattr(world, "iter_visible_posts", lambda account, day, not_before=None: iter(()))
    monkeypatch.setattr(world, "oldest_visible_position", lambda account, day: None)
    monkeypatch.setattr(world, "visible_kind_counts", lambda account, day: dict.fromkeys(KINDS, 0))
    page = http.get(fresh_sandbox.url + "/t.me/s/fhn_gov_az").text
    assert POST.findall(page) == [] and "Channel created" in page
    parsed = parse_preview(page)  # a preview that is on, with nothing posted
    assert parsed.message_blocks == 1 and parsed.posts == []
