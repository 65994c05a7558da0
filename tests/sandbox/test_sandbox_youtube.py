"""YouTube Data API v3 in the sandbox: channels, uploads, videos, quota and errors."""

from __future__ import annotations

YT = "/www.googleapis.com/youtube/v3"


def get(http, sb, resource, **params):
    params.setdefault("key", "sandbox-key")
    return http.get(sb.url + YT + f"/{resource}", params=params, timeout=10)


def channel(http, sb, handle):
    body = get(http, sb, "channels", part="snippet,statistics,contentDetails", forHandle=f"@{handle}").json()
    return body["items"][0]


def test_channel_list_shape_and_rounded_subscribers(http, fresh_sandbox):
    body = get(http, fresh_sandbox, "channels", part="snippet,statistics,contentDetails",
               forHandle="@VergilerNazirliyi").json()
    assert body["kind"] == "youtube#channelListResponse" and body["etag"]
    assert body["pageInfo"]["totalResults"] == 1
    item = body["items"][0]
    assert item["kind"] == "youtube#channel" and item["id"].startswith("UC") and len(item["id"]) == 24
    stats = item["statistics"]
    assert all(isinstance(stats[k], str) and stats[k].isdigit() for k in ("viewCount", "videoCount"))
    subscribers = stats["subscriberCount"]
    assert subscribers.isdigit() and len(subscribers.rstrip("0")) <= 3
    assert item["contentDetails"]["relatedPlaylists"]["uploads"] == "UU" + item["id"][2:]


def test_channels_by_ids_skip_unknown_and_refuse_more_than_50(http, fresh_sandbox):
    known = channel(http, fresh_sandbox, "TehsilNazirliyi")["id"]
    body = get(http, fresh_sandbox, "channels", part="id", id=f"{known},UCnotarealchannel000000").json()
    assert [i["id"] for i in body["items"]] == [known]
    nothing = get(http, fresh_sandbox, "channels", part="id", id="UCnotarealchannel000000").json()
    assert "items" not in nothing and nothing["pageInfo"]["totalResults"] == 0
    too_many = get(http, fresh_sandbox, "channels", part="id", id=",".join([known] * 51))
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == 400


def test_hidden_subscriber_count_has_no_count_field(http):
    from datetime import date

    from agency_pulse_sandbox import run_sandbox
    from agency_pulse_sandbox.data import synthetic_handle

    with run_sandbox(date=date(2026, 11, 27), seed=7, extra_accounts_per_platform=60) as sb:
        world = sb.state.world
        hidden = [synthetic_handle("youtube", i) for i in range(60)
                  if world.find("youtube", synthetic_handle("youtube", i)).hidden_follower_count]
        assert hidden
        stats = channel(http, sb, hidden[0])["statistics"]
        assert stats["hiddenSubscriberCount"] is True and "subscriberCount" not in stats


def test_uploads_page_to_the_end_then_videos_show_lives(http, fresh_sandbox):
    uploads = channel(http, fresh_sandbox, "TehsilNazirliyi")["contentDetails"]["relatedPlaylists"]["uploads"]
    video_ids, token, pages = [], None, 0
    while True:
        params = {"part": "contentDetails", "playlistId": uploads, "maxResults": 50}
        if token:
            params["pageToken"] = token
        body = get(http, fresh_sandbox, "playlistItems", **params).json()
        assert body["kind"] == "youtube#playlistItemListResponse"
        video_ids += [i["contentDetails"]["videoId"] for i in body["items"]]
        pages += 1
        token = body.get("nextPageToken")
        if not token:
            break
    assert len(video_ids) == len(set(video_ids)) == body["pageInfo"]["totalResults"]
    assert pages == -(-len(video_ids) // 50)
    videos = get(http, fresh_sandbox, "videos", part="snippet,statistics,liveStreamingDetails",
                 id=",".join(video_ids[:50])).json()["items"]
    assert [v["id"] for v in videos] == video_ids[:50]
    lives = [v for v in videos if "liveStreamingDetails" in v]
    assert lives and all(v["liveStreamingDetails"]["actualStartTime"] for v in lives)
    assert all(v["statistics"]["viewCount"].isdigit() for v in videos)


def test_quota_units_are_counted_and_search_costs_100(http, fresh_sandbox):
    item = channel(http, fresh_sandbox, "TehsilNazirliyi")
    get(http, fresh_sandbox, "search", part="snippet", channelId=item["id"], type="video", order="date")
    stats = fresh_sandbox.stats()["platforms"]["youtube"]
    assert stats["endpoints"] == {"channels": 1, "search": 1}
    assert stats["units"] == 101


def test_spent_daily_quota_answers_quota_exceeded_until_the_next_day(http):
    from datetime import date, timedelta

    from agency_pulse_sandbox import run_sandbox

    with run_sandbox(date=date(2026, 11, 27), youtube_daily_quota=3) as sb:
        statuses = [get(http, sb, "channels", part="id", forHandle="@TehsilNazirliyi").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 403]
        error = get(http, sb, "channels", part="id", forHandle="@TehsilNazirliyi").json()["error"]
        assert error["errors"][0]["reason"] == "quotaExceeded"
        sb.set(date=date(2026, 11, 27) + timedelta(days=1))
        assert get(http, sb, "channels", part="id", forHandle="@TehsilNazirliyi").status_code == 200


def test_missing_key_is_403_and_faults_use_google_error_bodies(http, fresh_sandbox):
    bare = http.get(fresh_sandbox.url + YT + "/channels", params={"part": "id", "forHandle": "@x"})
    assert bare.status_code == 403
    expected = {"throttle": (403, "rateLimitExceeded"), "quota_exceeded": (403, "quotaExceeded"),
                "access_tier": (403, "accessNotConfigured")}
    for kind, (status, reason) in expected.items():
        fresh_sandbox.set(faults={"youtube": {kind: 1.0}})
        response = get(http, fresh_sandbox, "channels", part="id", forHandle="@TehsilNazirliyi")
        assert response.status_code == status
        assert response.json()["error"]["errors"][0]["reason"] == reason
    fresh_sandbox.set(faults={"youtube": {"expired_token": 1.0}})
    bearer = http.get(fresh_sandbox.url + YT + "/channels", params={"part": "id", "forHandle": "@x"},
                      headers={"Authorization": "Bearer expired-token"})
    assert bearer.status_code == 401 and "expired-token" not in bearer.text


def test_deleted_channel_is_missing_and_its_uploads_are_not_found(http, fresh_sandbox):
    uploads = channel(http, fresh_sandbox, "TehsilNazirliyi")["contentDetails"]["relatedPlaylists"]["uploads"]
    fresh_sandbox.set(faults={"youtube": {"deleted_account": ["TehsilNazirliyi"]}})
    body = get(http, fresh_sandbox, "channels", part="id", forHandle="@TehsilNazirliyi").json()
    assert "items" not in body
    gone = get(http, fresh_sandbox, "playlistItems", part="contentDetails", playlistId=uploads)
    assert gone.status_code == 404 and gone.json()["error"]["errors"][0]["reason"] == "playlistNotFound"
