"""One policy for a paging cursor that repeats, on every extractor: stop, warn once, mark.

The read stops at the repeat, one warning names the platform and the account, the posts
read so far land, the account's outcome stays ``ok`` with a ``posts incomplete`` reason
(which the runner writes to the extract_log), and no deletion is inferred from the listing.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, date, datetime

import pyarrow.parquet as pq
from platform_api_fakes import load_fixture

from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import ExtractState, run_platform
from agency_pulse.extractors import facebook, instagram, telegram, x, youtube
from agency_pulse.registry import Account, parse_registry

RUN_DATE = date(2026, 11, 26)
KNOWN_POST = datetime(2026, 11, 20, tzinfo=UTC)


def account(platform: str, handle: str, platform_id: str | None = None) -> Account:
    return Account(agency_id="culture", platform=platform, handle=handle,
                   platform_id=platform_id)


def state_knowing(account_id: str, post_id: str) -> ExtractState:
    """A state with one post seen before in the settling window (a deletion candidate)."""
    return ExtractState(known_post_ids={account_id: {(post_id, KNOWN_POST)}})


def cursor_warnings(caplog, platform: str, account_id: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "cursor repeats" in r.getMessage()
            and platform in r.getMessage() and account_id in r.getMessage()]


def assert_incomplete(result, account_id: str) -> None:
    status, reason, calls, _ = result.outcomes[account_id]
    assert status == "ok" and calls > 0
    assert reason.startswith("posts incomplete") and "cursor repeats" in reason
    assert result.post_deletions == []


def test_facebook(fake_platform, make_client, caplog):
    fake_platform.route("/v24.0/", lambda request: {
        i: {**load_fixture("facebook/page.json"), "id": i} for i in request.query["ids"].split(",")})
    fake_platform.route(r"/v24.0/\d+/posts", load_fixture("facebook/posts_page1.json"))
    fake_platform.route(r"/v24.0/\d+/live_videos", {"data": []})
    page = account("facebook", "culture.page", "111")
    conn = PlatformConnection("facebook", fake_platform.url + "/v24.0", token="canary-token-0001", extra={}, source="airflow")
    result = facebook.extract(make_client(), conn, [page], RUN_DATE,
                              state_knowing(page.account_id, "111_999"))
    assert len(fake_platform.calls_to(r"/v24.0/111/posts")) == 2
    assert len(result.posts) == 2 * len(load_fixture("facebook/posts_page1.json")["data"])
    assert_incomplete(result, page.account_id)
    assert len(cursor_warnings(caplog, "facebook", page.account_id)) == 1


def test_instagram(fake_platform, make_client, caplog):
    body = load_fixture("instagram/business_discovery.json")
    # a full page whose cursor comes back again on the next page
    media = body["business_discovery"]["media"]
    media["data"] = [copy.deepcopy(media["data"][0]) | {"id": str(n)} for n in range(50)]
    fake_platform.route("/v24.0/17841405309211844", body)
    profile = account("instagram", "bluebottle")
    conn = PlatformConnection("instagram", fake_platform.url + "/v24.0", token="canary-token-0001",
                              extra={"ig_user_id": "17841405309211844"}, source="airflow")
    result = instagram.extract(make_client("instagram"), conn, [profile], RUN_DATE,
                               state_knowing(profile.account_id, "999"))
    calls = fake_platform.calls_to("/v24.0/17841405309211844")
    assert len(calls) == 2 and "media.after(QVFIUkIGAfter1)" in calls[1].query["fields"]
    assert {p["post_id"] for p in result.posts} == {str(n) for n in range(50)}
    assert_incomplete(result, profile.account_id)
    assert len(cursor_warnings(caplog, "instagram", profile.account_id)) == 1


def youtube_routes(fake_platform):
    channel = copy.deepcopy(load_fixture("youtube/channels_list.json")["items"][0])
    channel["id"] = "UC" + "0" * 22
    channel["contentDetails"]["relatedPlaylists"]["uploads"] = "UU" + "0" * 22
    video = copy.deepcopy(load_fixture("youtube/videos_list.json")["items"][0])
    video["id"] = "vid1"
    video["snippet"]["publishedAt"] = "2026-11-25T10:00:00Z"
    fake_platform.route(r".*/channels", {"items": [channel]})
    fake_platform.route(r".*/playlistItems", {"items": [
        {"id": "pli1", "contentDetails": {"videoId": "vid1",
                                          "videoPublishedAt": "2026-11-25T10:00:00Z"}}],
        "nextPageToken": "CAUQAA"})
    fake_platform.route(r".*/videos", lambda request: {
        "items": [video] if "vid1" in request.query["id"].split(",") else []})
    return channel["id"]


def test_youtube_which_had_no_guard_at_all(fake_platform, make_client, caplog):
    channel_id = youtube_routes(fake_platform)
    chan = account("youtube", "culture", channel_id)
    conn = PlatformConnection("youtube", fake_platform.url + "/youtube/v3", token="k",
                              extra={}, source="airflow")
    result = youtube.extract(make_client("youtube"), conn, [chan], RUN_DATE, ExtractState())
    playlist_calls = fake_platform.calls_to(r".*/playlistItems")
    assert [c.query.get("pageToken") for c in playlist_calls] == [None, "CAUQAA"]
    assert [p["post_id"] for p in result.posts] == ["vid1"]
    status, reason, *_ = result.outcomes[chan.account_id]
    assert status == "ok" and reason.startswith("posts incomplete")
    assert len(cursor_warnings(caplog, "youtube", chan.account_id)) == 1


def test_x_no_longer_fails_the_account(fake_platform, make_client, caplog):
    user = load_fixture("x/users_by.json")["data"][0] | {"id": "2244994945",
                                                         "username": "culture"}
    fake_platform.route(r".*/users/by", {"data": [user]})
    fake_platform.route(r".*/users/2244994945/tweets", load_fixture("x/user_tweets.json"))
    handle = account("x", "culture")
    conn = PlatformConnection("x", fake_platform.url + "/2", token="canary-token-0001", extra={},
                              source="airflow")
    result = x.extract(make_client("x"), conn, [handle], RUN_DATE,
                       state_knowing(handle.account_id, "1"))
    assert len(fake_platform.calls_to(r".*/users/2244994945/tweets")) == 2
    assert len(result.posts) == 2 * 2  # both pages landed (the same posts twice)
    assert_incomplete(result, handle.account_id)
    assert len(cursor_warnings(caplog, "x", handle.account_id)) == 1


def test_telegram_a_page_that_does_not_move_back(fake_platform, make_client, caplog):
    preview = load_fixture("telegram/preview_page.html")
    fake_platform.route(r".*/s/[^/]+", (200, preview, {"Content-Type": "text/html"}))
    channel = account("telegram", "durov")
    conn = PlatformConnection("telegram", fake_platform.url, token=None,
                              extra={"preview_url": fake_platform.url},
                              source="airflow")
    result = telegram.extract(make_client("telegram"), conn, [channel], RUN_DATE,
                              ExtractState(backfill_days=None,
                                           known_post_ids={channel.account_id: {
                                               ("gone/1", KNOWN_POST)}}))
    calls = fake_platform.calls_to(r".*/s/[^/]+")
    assert len(calls) == 2 and "before" in calls[1].query
    assert result.posts and result.account_snapshots
    assert_incomplete(result, channel.account_id)
    assert len(cursor_warnings(caplog, "telegram", channel.account_id)) == 1


def test_the_note_reaches_the_landed_extract_log(pulse_home, fake_platform, make_client):
    # The page keeps the registry's username (another one would add "handle changed: ...").
    fake_platform.route("/v24.0/", lambda request: {
        i: {**load_fixture("facebook/page.json"), "id": i, "username": "culture.page"}
        for i in request.query["ids"].split(",")})
    fake_platform.route(r"/v24.0/\d+/posts", load_fixture("facebook/posts_page1.json"))
    fake_platform.route(r"/v24.0/\d+/live_videos", {"data": []})
    registry = parse_registry({"agencies": [{"id": "culture", "name": "Culture", "accounts": [
        {"platform": "facebook", "handle": "culture.page", "platform_id": "111"}]}]})
    conn = PlatformConnection("facebook", fake_platform.url + "/v24.0", token="canary-token-0001", extra={}, source="airflow")
    summary = run_platform("facebook", RUN_DATE, registry=registry, connection=conn,
                           client=make_client())
    [row] = pq.read_table(summary["files"]["extract_log"]).to_pylist()
    assert row["status"] == "ok"
    assert row["reason"] == ("posts incomplete: posts: the paging cursor repeats after 2 pages")
