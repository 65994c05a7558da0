"""YouTube extractor against documented API bodies served on loopback."""

from __future__ import annotations

import copy
import shutil
from datetime import UTC, date, datetime, timedelta

import pytest
from platform_api_fakes import load_fixture

from agency_pulse.connections import PlatformConnection
from agency_pulse.errors import QuotaExhausted
from agency_pulse.extract import ExtractState, run_platform
from agency_pulse.extractors import youtube
from agency_pulse.http_client import ApiClient
from agency_pulse.registry import Account, Agency, Registry

RUN_DATE = date(2026, 11, 26)
PREFIX = "/www.googleapis.com/youtube/v3"
API_KEY = "AIzaSy-canary-youtube-key-0001"


def channel_id(n: int) -> str:
    return f"UC{n:022d}"


def channel_item(cid: str, *, subscribers: str | None = "2480000", hidden: bool = False,
                 title: str = "Google for Developers") -> dict:
    item = copy.deepcopy(load_fixture("youtube/channels_list.json")["items"][0])
    item["id"] = cid
    item["snippet"]["title"] = title
    item["contentDetails"]["relatedPlaylists"]["uploads"] = "UU" + cid[2:]
    item["statistics"]["hiddenSubscriberCount"] = hidden
    if subscribers is None:
        del item["statistics"]["subscriberCount"]
    else:
        item["statistics"]["subscriberCount"] = subscribers
    return item


def video_item(vid: str, published_at: datetime, *, live: bool = False,
               likes: str | None = "1186") -> dict:
    item = copy.deepcopy(load_fixture("youtube/videos_list.json")["items"][0])
    item["id"] = vid
    item["snippet"]["publishedAt"] = published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if live:
        item["snippet"]["liveBroadcastContent"] = "none"
        item["liveStreamingDetails"] = {"actualStartTime": item["snippet"]["publishedAt"]}
    if likes is None:
        del item["statistics"]["likeCount"]
    return item


class FakeYouTube:
    """Channels, an uploads playlist per channel (newest first) and their videos."""

    def __init__(self, platform):
        self.platform = platform
        self.channels: dict[str, dict] = {}
        self.handles: dict[str, str] = {}
        self.uploads: dict[str, list[dict]] = {}      # playlist id -> videos, newest first
        self.unlisted: dict[str, dict] = {}           # videos no longer in the playlist
        self.deleted: set[str] = set()                # videos the videos endpoint omits
        self.fail: dict[str, tuple] = {}              # path -> (status, body) answered once
        platform.route(PREFIX + "/channels", self.channels_list)
        platform.route(PREFIX + "/playlistItems", self.playlist_items)
        platform.route(PREFIX + "/videos", self.videos_list)

    def add_channel(self, cid: str, videos: list[dict] = (), handle: str | None = None,
                    **kw) -> None:
        self.channels[cid] = channel_item(cid, **kw)
        self.uploads["UU" + cid[2:]] = list(videos)
        if handle:
            self.handles[handle.lower()] = cid

    def _failure(self, path: str):
        answers = self.fail.get(path)
        return answers.pop(0) if answers else None

    def channels_list(self, request):
        if failure := self._failure("channels"):
            return failure
        if "forHandle" in request.query:
            cid = self.handles.get(request.query["forHandle"].lstrip("@").lower())
            items = [self.channels[cid]] if cid else []
        else:
            ids = request.query["id"].split(",")
            assert len(ids) <= 50
            items = [self.channels[i] for i in ids if i in self.channels]
        return 200, {"kind": "youtube#channelListResponse", "items": items,
                     "pageInfo": {"totalResults": len(items), "resultsPerPage": 50}}

    def playlist_items(self, request):
        if failure := self._failure("playlistItems"):
            return failure
        videos = self.uploads.get(request.query["playlistId"])
        if videos is None:
            return 404, {"error": {"code": 404, "message": "The playlist identified with the "
                                   "request's <code>playlistId</code> parameter cannot be found.",
                                   "errors": [{"reason": "playlistNotFound",
                                               "domain": "youtube.playlistItem"}]}}
        start = int(request.query.get("pageToken") or 0)
        size = int(request.query["maxResults"])
        page = videos[start:start + size]
        body = {"kind": "youtube#playlistItemListResponse",
                "items": [{"kind": "youtube#playlistItem", "id": f"PLI{v['id']}",
                           "contentDetails": {"videoId": v["id"],
                                              "videoPublishedAt": v["snippet"]["publishedAt"]}}
                          for v in page],
                "pageInfo": {"totalResults": len(videos), "resultsPerPage": size}}
        if start + size < len(videos):
            body["nextPageToken"] = str(start + size)
        return 200, body

    def videos_list(self, request):
        if failure := self._failure("videos"):
            return failure
        ids = request.query["id"].split(",")
        assert len(ids) <= 50
        known = {v["id"]: v for vs in self.uploads.values() for v in vs}
        known.update(self.unlisted)
        return 200, {"kind": "youtube#videoListResponse",
                     "items": [known[i] for i in ids if i in known and i not in self.deleted]}


@pytest.fixture
def api(fake_platform):
    return FakeYouTube(fake_platform)


@pytest.fixture
def conn(fake_platform):
    return PlatformConnection("youtube", fake_platform.url + PREFIX, API_KEY, {}, "sandbox")


def make_client(sleeps, budget=None):
    return ApiClient("youtube", secrets=[API_KEY], sleep=sleeps.append, max_retries=2,
                     budget=budget, jitter=lambda: 0.0)


def account(handle: str, platform_id: str | None = None) -> Account:
    return Account(agency_id="culture", platform="youtube", handle=handle,
                   platform_id=platform_id)


def test_75_channels_take_two_channels_calls_and_one_unit_each(api, conn, fake_platform,
                                                               sleeps):
    accounts = []
    for n in range(75):
        api.add_channel(channel_id(n), videos=[])
        accounts.append(account(f"agency{n}", channel_id(n)))
    client = make_client(sleeps)

    result = youtube.extract(client, conn, accounts, RUN_DATE, ExtractState())

    channel_calls = fake_platform.calls_to(PREFIX + "/channels")
    assert [len(c.query["id"].split(",")) for c in channel_calls] == [50, 25]
    assert all(c.query["part"] == "snippet,statistics,contentDetails" for c in channel_calls)
    assert len(result.account_snapshots) == 75
    assert {o[0] for o in result.outcomes.values()} == {"ok"}
    # 2 channels calls + one playlistItems page per channel, nothing else
    assert client.units == 2 + 75
    assert sum(o[3] for o in result.outcomes.values()) == client.units
    assert not [r for r in fake_platform.requests if r.path.endswith("/search")]


def test_handle_resolved_once_then_batched_by_its_carried_id(api, conn, fake_platform, sleeps):
    api.add_channel(channel_id(1), handle="culturetv")
    client = make_client(sleeps)

    first = youtube.extract(client, conn, [account("culturetv")], RUN_DATE, ExtractState())

    [call] = fake_platform.calls_to(PREFIX + "/channels")
    assert call.query["forHandle"] == "@culturetv" and "id" not in call.query
    [snapshot] = first.account_snapshots
    assert snapshot["platform_id"] == channel_id(1)

    fake_platform.requests.clear()
    state = ExtractState(platform_ids={"youtube:culturetv": snapshot["platform_id"]})
    youtube.extract(make_client(sleeps), conn, [account("culturetv")], RUN_DATE, state)
    [call] = fake_platform.calls_to(PREFIX + "/channels")
    assert call.query["id"] == channel_id(1) and "forHandle" not in call.query


def test_unknown_handle_is_gone(api, conn, sleeps):
    result = youtube.extract(make_client(sleeps), conn, [account("nobody")], RUN_DATE,
                             ExtractState())
    status, reason, calls, units = result.outcomes["youtube:nobody"]
    assert (status, calls, units) == ("gone", 1, 1)
    assert "@nobody" in reason
    assert result.account_snapshots == []


def test_counts_rounding_hidden_subscribers_and_digit_strings(api, conn, sleeps):
    api.add_channel(channel_id(1), subscribers="1234567")
    api.add_channel(channel_id(2), subscribers=None, hidden=True)
    api.add_channel(channel_id(3), subscribers="999")
    accounts = [account("a", channel_id(1)), account("b", channel_id(2)),
                account("c", channel_id(3))]

    result = youtube.extract(make_client(sleeps), conn, accounts, RUN_DATE, ExtractState())

    rows = {r["handle"]: r for r in result.account_snapshots}
    assert rows["a"]["followers"] == 1_230_000
    assert rows["a"]["followers_rounding"] == "3_significant_figures"
    assert rows["b"]["followers"] is None and rows["b"]["followers_rounding"] is None
    assert rows["c"]["followers"] == 999
    assert rows["a"]["posts_total"] == 6394 and rows["a"]["views_total"] == 254_353_087
    assert rows["a"]["snapshot_date"] == RUN_DATE and rows["a"]["name"] == "Google for Developers"


def test_floor_to_three_significant_figures():
    assert youtube.floor_to_significant_figures(164_583) == 164_000
    assert youtube.floor_to_significant_figures(2_480_000) == 2_480_000
    assert youtube.floor_to_significant_figures(1_999) == 1_990
    assert youtube.floor_to_significant_figures(42) == 42


def test_uploads_paged_until_older_than_the_settling_window(api, conn, fake_platform, sleeps):
    # 130 uploads one a day, newest first, starting the day before the run
    newest = datetime(2026, 11, 25, 12, tzinfo=UTC)
    videos = [video_item(f"vid{n:08d}", newest - timedelta(days=n), live=(n == 3))
              for n in range(130)]
    api.add_channel(channel_id(1), videos=videos)
    state = ExtractState(last_post_at={"youtube:a": newest - timedelta(days=2)})
    client = make_client(sleeps)

    result = youtube.extract(client, conn, [account("a", channel_id(1))], RUN_DATE, state)

    since = datetime(2026, 10, 27, tzinfo=UTC)  # run date - 30 days
    expected = [v["id"] for v in videos
                if datetime.fromisoformat(v["snippet"]["publishedAt"]) >= since]
    assert sorted(r["post_id"] for r in result.posts) == sorted(expected)
    # first page holds 50 items, all newer than the window start plus older ones: one page
    assert len(fake_platform.calls_to(PREFIX + "/playlistItems")) == 1
    assert len(fake_platform.calls_to(PREFIX + "/videos")) == 1
    live = [r for r in result.posts if r["is_live"]]
    assert [r["post_id"] for r in live] == ["vid00000003"]
    row = next(r for r in result.posts if r["post_id"] == "vid00000000")
    assert (row["reactions"], row["comments"], row["shares"], row["views"]) == (1186, 57, None,
                                                                                25038)
    assert row["is_video"] and row["permalink"].endswith("watch?v=vid00000000")


def test_first_run_without_backfill_limit_reads_every_page(api, conn, fake_platform, sleeps):
    start = datetime(2026, 11, 25, tzinfo=UTC)
    videos = [video_item(f"old{n:08d}", start - timedelta(days=7 * n)) for n in range(230)]
    api.add_channel(channel_id(1), videos=videos)
    client = make_client(sleeps)

    result = youtube.extract(client, conn, [account("a", channel_id(1))], RUN_DATE,
                             ExtractState(backfill_days=None))

    assert len(result.posts) == 230
    pages = fake_platform.calls_to(PREFIX + "/playlistItems")
    assert [p.query.get("pageToken") for p in pages] == [None, "50", "100", "150", "200"]
    assert len(fake_platform.calls_to(PREFIX + "/videos")) == 5
    assert result.outcomes["youtube:a"][2:] == (1 + 5 + 5, 1 + 5 + 5)


def test_settling_window_posts_missing_from_videos_are_deletions(api, conn, sleeps):
    newest = datetime(2026, 11, 20, tzinfo=UTC)
    kept = video_item("keptvideo01", newest)
    skipped = video_item("skippedvid1", newest - timedelta(days=2))  # not in the playlist now
    api.add_channel(channel_id(1), videos=[kept])
    api.unlisted = {"skippedvid1": skipped}
    known = {("keptvideo01", newest), ("skippedvid1", newest - timedelta(days=2)),
             ("deletedvid1", newest - timedelta(days=5)),
             ("ancientvid1", datetime(2026, 1, 1, tzinfo=UTC))}  # before since: not judged
    state = ExtractState(last_post_at={"youtube:a": newest},
                         known_post_ids={"youtube:a": known},
                         post_last_seen={"deletedvid1": date(2026, 11, 25)})

    result = youtube.extract(make_client(sleeps), conn, [account("a", channel_id(1))],
                             RUN_DATE, state)

    assert [(d["post_id"], d["last_seen_on"], d["detected_on"]) for d in result.post_deletions] \
        == [("deletedvid1", date(2026, 11, 25), RUN_DATE)]
    assert {r["post_id"] for r in result.posts} == {"keptvideo01", "skippedvid1"}


def test_channel_without_uploads_playlist_has_no_posts(api, conn, sleeps):
    api.add_channel(channel_id(1))
    del api.uploads["UU" + channel_id(1)[2:]]  # the API answers playlistNotFound

    result = youtube.extract(make_client(sleeps), conn, [account("a", channel_id(1))],
                             RUN_DATE, ExtractState())

    assert result.outcomes["youtube:a"][0] == "ok"
    assert result.posts == [] and len(result.account_snapshots) == 1


def test_missing_channel_in_batch_is_gone_others_kept(api, conn, sleeps):
    api.add_channel(channel_id(1))
    accounts = [account("a", channel_id(1)), account("b", channel_id(2))]

    result = youtube.extract(make_client(sleeps), conn, accounts, RUN_DATE, ExtractState())

    assert result.outcomes["youtube:a"][0] == "ok"
    status, reason, *_ = result.outcomes["youtube:b"]
    assert status == "gone" and "channelNotFound" in reason
    assert [r["handle"] for r in result.account_snapshots] == ["a"]


def test_quota_exceeded_stops_without_retry_and_names_the_reset(api, conn, fake_platform,
                                                                sleeps):
    api.add_channel(channel_id(1))
    api.fail["channels"] = [(403, load_fixture("youtube/error_quota.json"))]

    result = youtube.extract(make_client(sleeps), conn, [account("a", channel_id(1))],
                             RUN_DATE, ExtractState())

    assert len(fake_platform.requests) == 1 and sleeps == []
    assert isinstance(result.stopped_by, QuotaExhausted)
    assert "midnight Pacific time" in result.stopped_by.reason
    assert "exceeded your quota." in result.stopped_by.reason  # the HTML link is dropped
    assert result.stopped_by.resets_at in result.stopped_by.reason
    assert result.outcomes["youtube:a"][0] == "failed"


def test_quota_reset_is_next_pacific_midnight_in_utc():
    winter = youtube.quota_resets_at(datetime(2026, 11, 27, 3, 30, tzinfo=UTC))
    assert winter == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # PST, UTC-8
    summer = youtube.quota_resets_at(datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    assert summer == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)   # PDT, UTC-7


def test_run_budget_stops_before_spending_more_units(api, conn, fake_platform, sleeps):
    for n in range(3):
        api.add_channel(channel_id(n), videos=[video_item(f"v{n}", datetime(2026, 11, 1,
                                                                             tzinfo=UTC))])
    accounts = [account(f"a{n}", channel_id(n)) for n in range(3)]
    client = make_client(sleeps, budget=3)

    result = youtube.extract(client, conn, accounts, RUN_DATE, ExtractState())

    assert client.units == 3 and len(fake_platform.requests) == 3
    assert isinstance(result.stopped_by, QuotaExhausted)
    assert len(result.account_snapshots) == 3  # counts come first: every channel has one
    # a0's and a1's uploads were read; their ids waited to fill a videos call that the
    # budget never allowed, so their posts are not landed half-read: they fail with it.
    assert [result.outcomes[f"youtube:a{n}"][0] for n in range(3)] == ["failed"] * 3
    assert all("budget of 3 units" in result.outcomes[f"youtube:a{n}"][1] for n in range(3))
    assert result.posts == [] and not fake_platform.calls_to(PREFIX + "/videos")
    assert sum(o.calls for o in result.outcomes.values()) == client.calls


def uploads(prefix: str, count: int) -> list[dict]:
    newest = datetime(2026, 11, 20, tzinfo=UTC)
    return [video_item(f"{prefix}{i:02d}", newest - timedelta(hours=i)) for i in range(count)]


def test_videos_are_looked_up_50_ids_a_call_across_accounts(api, conn, fake_platform, sleeps):
    for n, count in enumerate((20, 20, 15)):
        api.add_channel(channel_id(n), videos=uploads(f"c{n}v", count))
    accounts = [account(f"a{n}", channel_id(n)) for n in range(3)]
    client = make_client(sleeps)

    result = youtube.extract(client, conn, accounts, RUN_DATE, ExtractState())

    lookups = fake_platform.calls_to(PREFIX + "/videos")
    assert [len(r.query["id"].split(",")) for r in lookups] == [50, 5]  # not 3 calls
    assert len(result.posts) == 55
    assert {r["post_id"][:2] for r in result.posts if r["account_id"] == "youtube:a2"} == {"c2"}
    # 1 channels call + 3 playlist pages + 2 videos calls, each account paying its share:
    # channels split 3 ways (1, 0, 0); the first videos call carried a0, a1 and a2 (1, 0, 0),
    # the second only a2 (its 5 last ids).
    assert {a: o[2:] for a, o in result.outcomes.items()} == {
        "youtube:a0": (3, 3), "youtube:a1": (1, 1), "youtube:a2": (2, 2)}
    assert sum(o.calls for o in result.outcomes.values()) == client.calls == 6
    assert all(o.status == "ok" for o in result.outcomes.values())


def test_a_quota_spent_mid_run_keeps_the_accounts_whose_lookups_went_out(api, conn,
                                                                         fake_platform, sleeps):
    for n, count in enumerate((30, 30, 5)):
        api.add_channel(channel_id(n), videos=uploads(f"c{n}v", count))
    accounts = [account(f"a{n}", channel_id(n)) for n in range(3)]
    client = make_client(sleeps, budget=4)  # channels, 2 playlists, 1 full videos call

    result = youtube.extract(client, conn, accounts, RUN_DATE, ExtractState())

    assert isinstance(result.stopped_by, QuotaExhausted)
    [lookup] = fake_platform.calls_to(PREFIX + "/videos")
    assert len(lookup.query["id"].split(",")) == 50  # a0's 30 ids and 20 of a1's
    assert result.outcomes["youtube:a0"].status == "ok"
    assert "handle changed" in (result.outcomes["youtube:a0"].reason or "")  # fixture's customUrl
    assert len([r for r in result.posts if r["account_id"] == "youtube:a0"]) == 30
    assert result.outcomes["youtube:a1"][0] == "failed"  # 10 of its ids never looked up
    assert not [r for r in result.posts if r["account_id"] == "youtube:a1"]
    assert sum(o.calls for o in result.outcomes.values()) == client.calls == 4


def test_a_failed_lookup_fails_only_the_accounts_it_carried(api, conn, fake_platform, sleeps):
    for n, count in enumerate((30, 30, 30)):
        api.add_channel(channel_id(n), videos=uploads(f"c{n}v", count))
    boom = (500, {"error": {"code": 500, "message": "Backend Error"}})
    api.fail["videos"] = [boom, boom, boom]  # the first call: every attempt
    accounts = [account(f"a{n}", channel_id(n)) for n in range(3)]
    client = make_client(sleeps)

    result = youtube.extract(client, conn, accounts, RUN_DATE, ExtractState())

    assert [len(r.query["id"].split(",")) for r in fake_platform.calls_to(PREFIX + "/videos")
            ] == [50, 50, 50, 40]
    statuses = {a: o.status for a, o in result.outcomes.items()}
    assert statuses == {"youtube:a0": "failed", "youtube:a1": "failed", "youtube:a2": "ok"}
    assert "gave up after 3 attempts" in result.outcomes["youtube:a0"].reason
    assert {r["account_id"] for r in result.posts} == {"youtube:a2"}
    assert len(result.posts) == 30
    assert sum(o.calls for o in result.outcomes.values()) == client.calls == 1 + 3 + 4


def test_rate_limit_is_retried(api, conn, fake_platform, sleeps):
    api.add_channel(channel_id(1))
    api.fail["channels"] = [(403, {"error": {"code": 403, "message": "Rate limit",
                                             "errors": [{"reason": "rateLimitExceeded"}]}})]

    result = youtube.extract(make_client(sleeps), conn, [account("a", channel_id(1))],
                             RUN_DATE, ExtractState())

    assert len(sleeps) == 1
    assert result.outcomes["youtube:a"][0] == "ok"
    assert result.outcomes["youtube:a"][2] == 3  # 2 channels attempts + 1 playlist page


@pytest.mark.parametrize("status, body, expected_status, stops", [
    (400, load_fixture("youtube/error_key_invalid.json"), "failed", True),
    (401, {"error": {"code": 401, "message": "Login Required",
                     "errors": [{"reason": "authError"}]}}, "failed", True),
    (403, {"error": {"code": 403, "message": "Forbidden",
                     "errors": [{"reason": "forbidden"}]}}, "private", False),
    (404, {"error": {"code": 404, "message": "Channel not found",
                     "errors": [{"reason": "channelNotFound"}]}}, "gone", False),
])
def test_error_bodies_map_to_the_taxonomy(api, conn, sleeps, status, body, expected_status,
                                          stops):
    api.add_channel(channel_id(1))
    api.fail["channels"] = [(status, body)]

    result = youtube.extract(make_client(sleeps), conn, [account("a", channel_id(1))],
                             RUN_DATE, ExtractState())

    assert result.outcomes["youtube:a"][0] == expected_status
    assert (result.stopped_by is not None) == stops
    assert sleeps == []
    assert API_KEY not in repr(result.outcomes) + repr(result.stopped_by)


def test_classify_names_each_class():
    class Response:
        def __init__(self, status):
            self.status_code = status

    def kind(status, reason):
        error = youtube.classify(Response(status),
                                 {"error": {"code": status, "message": "m",
                                            "errors": [{"reason": reason}]}})
        return type(error).__name__ if error else None

    assert kind(403, "quotaExceeded") == "QuotaExhausted"
    assert kind(403, "dailyLimitExceeded") == "QuotaExhausted"
    assert kind(403, "rateLimitExceeded") == "TransientError"
    assert kind(404, "channelNotFound") == "AccountGone"
    assert kind(400, "keyInvalid") == "InvalidToken"
    assert kind(403, "forbidden") == "PermissionDenied"
    assert kind(500, "backendError") is None  # the client's default: transient


def test_malformed_counts_fail_the_account_not_zero(api, conn, sleeps):
    api.add_channel(channel_id(1))
    api.channels[channel_id(1)]["statistics"]["subscriberCount"] = "lots"

    result = youtube.extract(make_client(sleeps), conn, [account("a", channel_id(1))],
                             RUN_DATE, ExtractState())

    assert result.outcomes["youtube:a"][0] == "failed"
    assert "subscriberCount" in result.outcomes["youtube:a"][1]
    assert result.account_snapshots == []


def test_a_client_without_budget_gets_the_daily_quota(api, fake_platform, sleeps):
    api.add_channel(channel_id(1))
    api.add_channel(channel_id(2))
    conn = PlatformConnection("youtube", fake_platform.url + PREFIX, API_KEY,
                              {"daily_quota_units": 2}, "sandbox")
    client = make_client(sleeps)

    result = youtube.extract(client, conn, [account("a", channel_id(1)),
                                            account("b", channel_id(2))], RUN_DATE,
                             ExtractState())

    assert client.budget == 2 and client.units == 2
    assert isinstance(result.stopped_by, QuotaExhausted)
    default_client = make_client(sleeps)
    youtube.extract(default_client, PlatformConnection("youtube", conn.base_url, API_KEY, {},
                                                       "sandbox"), [], RUN_DATE, ExtractState())
    assert default_client.budget == 10_000


def test_resolved_channel_id_carries_to_the_next_run_through_the_lake(api, conn,
                                                                      fake_platform, sleeps,
                                                                      pulse_home):
    api.add_channel(channel_id(9), handle="culturetv",
                    videos=[video_item("firstvideo1", datetime(2026, 11, 20, tzinfo=UTC))])
    registry = Registry(agencies=(Agency(id="culture", name="Culture",
                                         accounts=(account("culturetv"),)),))

    first = run_platform("youtube", RUN_DATE, registry=registry, connection=conn,
                         client=make_client(sleeps))
    assert first["statuses"] == {"ok": 1}
    # what validation would do: publish the landed day to the accepted lake
    shutil.copytree(pulse_home.landing, pulse_home.lake, dirs_exist_ok=True)
    fake_platform.requests.clear()

    second = run_platform("youtube", RUN_DATE + timedelta(days=1), registry=registry,
                          connection=conn, client=make_client(sleeps))

    assert second["statuses"] == {"ok": 1}
    [channels_call] = fake_platform.calls_to(PREFIX + "/channels")
    assert channels_call.query["id"] == channel_id(9)
    assert "forHandle" not in channels_call.query


def test_first_run_reads_back_to_the_backfill_start(api, conn, fake_platform, sleeps):
    start = datetime(2026, 11, 25, tzinfo=UTC)
    videos = [video_item(f"old{n:08d}", start - timedelta(days=7 * n)) for n in range(230)]
    api.add_channel(channel_id(1), videos=videos)

    result = youtube.extract(make_client(sleeps), conn, [account("a", channel_id(1))],
                             RUN_DATE, ExtractState(backfill_days=730))

    backfill_start = datetime(2024, 11, 26, tzinfo=UTC)
    assert min(r["published_at"] for r in result.posts) >= backfill_start
    assert len(result.posts) == 105  # weekly uploads over two years
    assert len(fake_platform.calls_to(PREFIX + "/playlistItems")) == 3
