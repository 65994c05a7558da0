"""A handle reaches a request only as one quoted path segment or one parameter value.

Hostile handles are sent to a loopback server; the tests assert the exact path (still
percent-encoded, as it arrives on the request line) and the decoded parameters it receives.
What cannot be sent intact (a comma in an ``ids`` list, anything in a Graph field expression
that is not a username) is refused before any request, as that account's one-line failure.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
from platform_api_fakes import load_fixture

from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import ExtractState
from agency_pulse.extractors import facebook, instagram, telegram, x, youtube
from agency_pulse.http_client import ApiClient
from agency_pulse.registry import Account

RUN_DATE = date(2026, 11, 26)
TRAVERSAL = "../../evil/x?y=1#frag"
BREAKOUT = "foo){id},username(bar"
TOKEN = "canary-token-hostile-0001"


def client(platform: str, sleeps) -> ApiClient:
    return ApiClient(platform, secrets=[TOKEN], sleep=sleeps.append, max_retries=1,
                     jitter=lambda: 0.0)


def account(platform: str, handle: str, platform_id: str | None = None) -> Account:
    return Account(agency_id="culture", platform=platform, handle=handle,
                   platform_id=platform_id)


def test_telegram_channel_is_one_path_segment_and_one_chat_id(fake_platform, sleeps):
    preview = load_fixture("telegram/preview_page.html")
    fake_platform.route("/bot/bot" + TOKEN + "/getChatMemberCount",
                        lambda request: (200, {"ok": True, "result": 5}))
    for quoted in ("..%2F..%2Fevil%2Fx%3Fy%3D1%23frag", "foo%29%7Bid%7D%2Cusername%28bar"):
        fake_platform.route(f"/preview/s/{quoted}", lambda request: (200, preview))
    conn = PlatformConnection("telegram", fake_platform.url + "/bot", TOKEN,
                              {"preview_url": fake_platform.url + "/preview"}, "sandbox")
    accounts = [account("telegram", TRAVERSAL), account("telegram", BREAKOUT)]
    result = telegram.extract(client("telegram", sleeps), conn, accounts, RUN_DATE,
                              ExtractState(backfill_days=None))
    member_calls = fake_platform.calls_to("/bot/bot" + TOKEN + "/getChatMemberCount")
    assert [r.query for r in member_calls] == [{"chat_id": "@" + TRAVERSAL},
                                               {"chat_id": "@" + BREAKOUT}]
    # (the static page does not move back, so each channel is asked twice: page, before=)
    preview_paths = [r.path for r in fake_platform.requests if r.path.startswith("/preview")]
    assert set(preview_paths) == {"/preview/s/..%2F..%2Fevil%2Fx%3Fy%3D1%23frag",
                                  "/preview/s/foo%29%7Bid%7D%2Cusername%28bar"}
    assert len(preview_paths) == 4
    assert {o.status for o in result.outcomes.values()} == {"ok"}


def test_telegram_dot_segments_are_refused_not_sent(fake_platform, sleeps):
    conn = PlatformConnection("telegram", fake_platform.url + "/bot", None,
                              {"preview_url": fake_platform.url + "/preview"}, "sandbox")
    result = telegram.extract(client("telegram", sleeps), conn, [account("telegram", "..")],
                              RUN_DATE, ExtractState())
    assert fake_platform.requests == []
    status, reason, calls, _ = result.outcomes["telegram:.."]
    assert (status, calls) == ("failed", 0) and "cannot be used in a request path" in reason


def test_youtube_handle_is_one_for_handle_value(fake_platform, sleeps):
    fake_platform.route("/yt/channels", lambda request: (200, {"items": []}))
    conn = PlatformConnection("youtube", fake_platform.url + "/yt", TOKEN, {}, "sandbox")
    accounts = [account("youtube", TRAVERSAL), account("youtube", BREAKOUT)]
    result = youtube.extract(client("youtube", sleeps), conn, accounts, RUN_DATE,
                             ExtractState())
    assert [(r.path, r.query) for r in fake_platform.requests] == [
        ("/yt/channels", {"part": "snippet,statistics,contentDetails",
                          "forHandle": "@" + TRAVERSAL, "key": TOKEN}),
        ("/yt/channels", {"part": "snippet,statistics,contentDetails",
                          "forHandle": "@" + BREAKOUT, "key": TOKEN})]
    assert {o.status for o in result.outcomes.values()} == {"gone"}


def test_youtube_channel_id_with_a_comma_stays_out_of_the_id_list(fake_platform, sleeps):
    channel = copy.deepcopy(load_fixture("youtube/channels_list.json")["items"][0])
    channel["id"] = "UC" + "1" * 22
    channel["contentDetails"]["relatedPlaylists"] = {}
    fake_platform.route("/yt/channels", lambda request: (200, {"items": [channel]}))
    conn = PlatformConnection("youtube", fake_platform.url + "/yt", TOKEN, {}, "sandbox")
    accounts = [account("youtube", "good", channel["id"]),
                account("youtube", "bad", "UCa,UCb")]
    result = youtube.extract(client("youtube", sleeps), conn, accounts, RUN_DATE,
                             ExtractState())
    [call] = fake_platform.calls_to("/yt/channels")
    assert call.query["id"] == channel["id"]
    status, reason, *_ = result.outcomes["youtube:bad"]
    assert status == "failed" and "comma-separated" in reason
    assert result.outcomes["youtube:good"].status == "ok"


def test_facebook_handle_is_one_item_of_ids_and_a_comma_is_refused(fake_platform, sleeps):
    def pages(request):
        return 200, {ident: {**load_fixture("facebook/page.json"), "id": "777"}
                     for ident in request.query["ids"].split(",")}

    fake_platform.route("/v24.0/", pages)
    fake_platform.route("/v24.0/777/posts", lambda request: (200, {"data": []}))
    conn = PlatformConnection("facebook", fake_platform.url + "/v24.0", TOKEN, {}, "sandbox")
    accounts = [account("facebook", TRAVERSAL), account("facebook", BREAKOUT)]
    result = facebook.extract(client("facebook", sleeps), conn, accounts, RUN_DATE,
                              ExtractState())
    assert [(r.path, r.query) for r in fake_platform.requests] == [
        ("/v24.0/", {"ids": TRAVERSAL, "fields": fake_platform.requests[0].query["fields"]}),
        ("/v24.0/777/posts", {"fields": facebook.POST_FIELDS, "limit": "100",
                              "since": fake_platform.requests[1].query["since"]})]
    assert fake_platform.requests[0].query["fields"].startswith(facebook.PAGE_FIELDS + ",posts")
    assert result.outcomes["facebook:" + TRAVERSAL].status == "ok"
    status, reason, calls, _ = result.outcomes["facebook:" + BREAKOUT]
    assert (status, calls) == ("failed", 0) and "comma-separated" in reason


def test_facebook_post_ids_from_the_state_are_quoted_path_segments(fake_platform, sleeps):
    from datetime import UTC, datetime

    fake_platform.route("/v24.0/", lambda request: (200, {
        "777": {**load_fixture("facebook/page.json"), "id": "777"}}))
    fake_platform.route("/v24.0/777/posts", lambda request: (200, {"data": []}))
    fake_platform.route("/v24.0/..%2Fevil%3Fq", lambda request: (
        400, load_fixture("facebook/errors.json")["object_gone"]))
    conn = PlatformConnection("facebook", fake_platform.url + "/v24.0", TOKEN, {}, "sandbox")
    page = account("facebook", "culture", "777")
    state = ExtractState(known_post_ids={page.account_id: {
        ("../evil?q", datetime(2026, 11, 25, tzinfo=UTC))}})
    result = facebook.extract(client("facebook", sleeps), conn, [page], RUN_DATE, state)
    assert fake_platform.requests[-1].path == "/v24.0/..%2Fevil%3Fq"
    assert [d["post_id"] for d in result.post_deletions] == ["../evil?q"]


@pytest.mark.parametrize("handle", [TRAVERSAL, BREAKOUT, "good)", "a b"])
def test_instagram_refuses_what_would_rewrite_the_field_expression(fake_platform, sleeps,
                                                                   handle):
    fake_platform.route("/v24.0/17841405309211844", lambda request: (
        200, load_fixture("instagram/business_discovery_page2.json")))
    conn = PlatformConnection("instagram", fake_platform.url + "/v24.0", TOKEN,
                              {"ig_user_id": "17841405309211844"}, "sandbox")
    accounts = [account("instagram", handle), account("instagram", "blue.bottle_1")]
    result = instagram.extract(client("instagram", sleeps), conn, accounts, RUN_DATE,
                               ExtractState())
    [request] = fake_platform.requests
    assert request.path == "/v24.0/17841405309211844"
    assert request.query == {"fields": (
        "business_discovery.username(blue.bottle_1){followers_count,media_count,"
        "media.limit(50){id,timestamp,like_count,comments_count,media_type,"
        "media_product_type,permalink}}")}
    status, reason, calls, _ = result.outcomes[accounts[0].account_id]
    assert (status, calls) == ("failed", 0)
    assert "not a valid Instagram username" in reason


def test_instagram_refuses_a_cursor_that_would_rewrite_the_expression(fake_platform, sleeps):
    body = load_fixture("instagram/business_discovery.json")
    media = body["business_discovery"]["media"]
    media["paging"]["cursors"]["after"] = "abc).limit(1){id},username(other"
    fake_platform.route("/v24.0/17841405309211844", lambda request: (200, body))
    conn = PlatformConnection("instagram", fake_platform.url + "/v24.0", TOKEN,
                              {"ig_user_id": "17841405309211844"}, "sandbox")
    result = instagram.extract(client("instagram", sleeps), conn,
                               [account("instagram", "bluebottle")], RUN_DATE, ExtractState())
    assert len(fake_platform.requests) == 1
    status, reason, *_ = result.outcomes["instagram:bluebottle"]
    assert status == "failed" and "unusable paging cursor" in reason


def test_x_usernames_outside_the_rules_never_reach_the_request(fake_platform, sleeps):
    user = load_fixture("x/users_by.json")["data"][0] | {"id": "42", "username": "culture"}
    fake_platform.route("/x/users/by", lambda request: (200, {"data": [user]}))
    fake_platform.route("/x/users/42/tweets", lambda request: (200, {"meta": {}}))
    conn = PlatformConnection("x", fake_platform.url + "/x", TOKEN, {}, "sandbox")
    accounts = [account("x", TRAVERSAL), account("x", BREAKOUT), account("x", "culture")]
    result = x.extract(client("x", sleeps), conn, accounts, RUN_DATE, ExtractState())
    assert [r.path for r in fake_platform.requests] == ["/x/users/by", "/x/users/42/tweets"]
    assert fake_platform.requests[0].query["usernames"] == "culture"
    assert [result.outcomes[a.account_id].status for a in accounts] == ["failed", "failed", "ok"]
