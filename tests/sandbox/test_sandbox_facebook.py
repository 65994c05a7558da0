"""Facebook Graph API fidelity of the sandbox: pages, batches, posts paging, lives, insights."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

GRAPH = "/graph.facebook.com/v24.0"
AUTH = {"Authorization": "Bearer sandbox-token"}
POST_FIELDS = ("id,created_time,status_type,permalink_url,attachments,"
               "reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares")


def get(http, sb, path, **params):
    return http.get(sb.url + GRAPH + path, params=params, headers=AUTH, timeout=10)


def all_posts(http, sb, page, **params):
    response = get(http, sb, f"/{page}/posts", fields=POST_FIELDS, limit=100, **params)
    pages = 0
    posts = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        posts += body["data"]
        pages += 1
        if "next" not in body.get("paging", {}):
            return posts, pages
        response = http.get(body["paging"]["next"], headers=AUTH, timeout=10)


def test_page_by_handle_and_by_id_give_the_same_page(http, fresh_sandbox):
    by_handle = get(http, fresh_sandbox, "/tehsilnazirliyi", fields="id,name,username,followers_count").json()
    assert by_handle["username"] == "tehsilnazirliyi" and by_handle["followers_count"] > 0
    by_id = get(http, fresh_sandbox, f"/{by_handle['id']}", fields="id,name,username,followers_count").json()
    assert by_id == by_handle


def test_token_in_parameter_works_and_a_missing_token_is_code_104(http, fresh_sandbox):
    url = fresh_sandbox.url + GRAPH + "/tehsilnazirliyi"
    assert http.get(url, params={"access_token": "t0k3n-secret"}).status_code == 200
    missing = http.get(url)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 104


def test_unknown_field_is_the_real_nonexisting_field_error(http, fresh_sandbox):
    body = get(http, fresh_sandbox, "/tehsilnazirliyi", fields="id,followerz").json()
    assert body["error"]["code"] == 100
    assert "nonexisting field (followerz) on node type (Page)" in body["error"]["message"]


def test_ids_batch_keys_by_what_was_asked_and_refuses_more_than_50(http, fresh_sandbox):
    body = get(http, fresh_sandbox, "/", ids="tehsilnazirliyi,MCT.gov.az", fields="followers_count").json()
    assert set(body) == {"tehsilnazirliyi", "MCT.gov.az"}
    assert all(v["followers_count"] > 0 and v["id"].isdigit() for v in body.values())
    too_many = get(http, fresh_sandbox, "/", ids=",".join(f"p{i}" for i in range(51)), fields="id")
    assert too_many.status_code == 400
    assert too_many.json()["error"]["message"] == "(#100) Too many IDs. Maximum: 50. Provided: 51."
    unknown = get(http, fresh_sandbox, "/", ids="tehsilnazirliyi,no.such.page", fields="id").json()
    assert unknown["error"]["code"] == 803 and "no.such.page" in unknown["error"]["message"]


def test_posts_page_until_paging_next_is_absent_and_never_after_today(http, fresh_sandbox):
    posts, pages = all_posts(http, fresh_sandbox, "culture.gov.az", since="2026-06-01")
    assert pages > 1
    times = [datetime.strptime(p["created_time"], "%Y-%m-%dT%H:%M:%S%z") for p in posts]
    assert times == sorted(times, reverse=True)
    assert len({p["id"] for p in posts}) == len(posts)
    assert times[-1].date().isoformat() >= "2026-06-01"
    assert times[0].date() <= fresh_sandbox.state.day
    for post in posts:
        assert post["reactions"]["summary"]["total_count"] >= 0
        assert post["comments"]["summary"]["total_count"] >= 0
        assert "shares" not in post or post["shares"]["count"] > 0
        assert post["status_type"] in {"added_video", "added_photos", "mobile_status_update", "shared_story"}


def test_posts_history_covers_years_and_a_defunct_page_stops_in_2018(http, fresh_sandbox):
    old = get(http, fresh_sandbox, "/tehsilnazirliyi/posts", fields="created_time", limit=5,
              until="2023-12-31").json()["data"]
    assert old and all(p["created_time"] < "2024" for p in old)
    defunct = get(http, fresh_sandbox, "/mct.gov.az/posts", fields="created_time", limit=1).json()["data"]
    assert defunct[0]["created_time"].startswith("2018-04")
    lonely, pages = all_posts(http, fresh_sandbox, "aqroazerbaycan")
    assert [p["created_time"][:4] for p in lonely] == ["2011"] and pages == 1


def test_moving_the_clock_forward_adds_posts_and_engagement_only_grows(http, fresh_sandbox):
    day = fresh_sandbox.state.day
    today = {p["id"]: p for p in all_posts(http, fresh_sandbox, "mys.gov.az", since=str(day - timedelta(days=20)))[0]}
    fresh_sandbox.set(date=day + timedelta(days=1))
    tomorrow = {p["id"]: p for p in all_posts(http, fresh_sandbox, "mys.gov.az", since=str(day - timedelta(days=20)))[0]}
    assert any(p["created_time"].startswith(str(day + timedelta(days=1))) for p in tomorrow.values())
    for post_id in set(today) & set(tomorrow):
        assert (tomorrow[post_id]["reactions"]["summary"]["total_count"]
                >= today[post_id]["reactions"]["summary"]["total_count"])


def test_a_post_deleted_on_a_day_is_listed_the_day_before_and_gone_that_day(http, fresh_sandbox):
    day = fresh_sandbox.state.day
    world = fresh_sandbox.state.world
    account = world.find("facebook", "mod.gov.az")
    doomed = next(p for p in reversed(world.posts_of_year(account, day.year))
                  if p.deleted_on and p.deleted_on <= day)
    since = str(doomed.published_at.date())
    until = str(doomed.published_at.date() + timedelta(days=1))
    fresh_sandbox.set(date=doomed.deleted_on - timedelta(days=1))
    before = {p["created_time"] for p in all_posts(http, fresh_sandbox, "mod.gov.az", since=since, until=until)[0]}
    fresh_sandbox.set(date=doomed.deleted_on)
    after = {p["created_time"] for p in all_posts(http, fresh_sandbox, "mod.gov.az", since=since, until=until)[0]}
    stamp = doomed.published_at.strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert stamp in before and stamp not in after
    assert after < before


def test_a_deleted_post_node_answers_code_100_subcode_33(http, fresh_sandbox):
    post_id = get(http, fresh_sandbox, "/tehsilnazirliyi/posts", fields="id", limit=1).json()["data"][0]["id"]
    assert get(http, fresh_sandbox, f"/{post_id}", fields="id,created_time").json()["id"] == post_id
    missing = get(http, fresh_sandbox, f"/{post_id[:-1]}9", fields="id").json()
    if not post_id.endswith("9"):
        assert missing["error"]["code"] == 100 and missing["error"]["error_subcode"] == 33


def test_live_videos_edge_matches_video_posts(http, fresh_sandbox):
    lives = get(http, fresh_sandbox, "/tehsilnazirliyi/live_videos", fields="id,status,video{id},broadcast_start_time",
                limit=10).json()["data"]
    assert lives and all(v["status"] == "VOD" for v in lives)
    posts, _ = all_posts(http, fresh_sandbox, "tehsilnazirliyi", since=lives[-1]["broadcast_start_time"][:10])
    video_targets = {p["attachments"]["data"][0]["target"]["id"]: p for p in posts
                     if p["status_type"] == "added_video"}
    for live in lives:
        assert live["video"]["id"] in video_targets
        assert video_targets[live["video"]["id"]]["permalink_url"].endswith(f"/videos/{live['video']['id']}/")


def test_insights_daily_window_limits_and_deprecated_metric(http, fresh_sandbox):
    ok = get(http, fresh_sandbox, "/tehsilnazirliyi/insights", metric="page_follows", period="day",
             since="2026-10-01", until="2026-10-31").json()
    values = ok["data"][0]["values"]
    assert len(values) == 30 and all(isinstance(v["value"], int) for v in values)
    too_wide = get(http, fresh_sandbox, "/tehsilnazirliyi/insights", metric="page_follows", period="day",
                   since="2026-01-01", until="2026-06-01").json()
    assert too_wide["error"]["code"] == 100
    too_old = get(http, fresh_sandbox, "/tehsilnazirliyi/insights", metric="page_follows", period="day",
                  since="2023-01-01", until="2023-02-01").json()
    assert too_old["error"]["code"] == 100
    deprecated = get(http, fresh_sandbox, "/tehsilnazirliyi/insights", metric="page_follows,page_fans",
                     period="day").json()
    assert deprecated["error"]["message"] == "(#100) The value must be a valid insights metric"


def test_snapshot_followers_match_insights_for_the_same_day(http, fresh_sandbox):
    day = fresh_sandbox.state.day
    page = get(http, fresh_sandbox, "/eco.gov.az", fields="followers_count").json()
    series = get(http, fresh_sandbox, "/eco.gov.az/insights", metric="page_follows", period="day",
                 since=str(day - timedelta(days=1)), until=str(day + timedelta(days=1))).json()
    assert series["data"][0]["values"][-1]["value"] == page["followers_count"]


@pytest.mark.parametrize("kind", ["deleted_account", "private"])
def test_account_faults_answer_the_real_error(http, fresh_sandbox, kind):
    fresh_sandbox.set(faults={"facebook": {kind: ["eco.gov.az"]}})
    error = get(http, fresh_sandbox, "/eco.gov.az", fields="id").json()["error"]
    if kind == "deleted_account":
        assert (error["code"], error["error_subcode"]) == (100, 33)
    else:
        assert error["code"] == 10
    assert get(http, fresh_sandbox, "/tehsilnazirliyi", fields="id").status_code == 200


def test_throttle_is_a_graph_code_with_usage_headers(http, fresh_sandbox):
    fresh_sandbox.set(faults={"facebook": {"throttle": 1.0}})
    response = get(http, fresh_sandbox, "/tehsilnazirliyi", fields="id")
    assert response.status_code in (400, 403)
    assert response.json()["error"]["code"] in (4, 17, 32, 613)
    assert '"call_count":100' in response.headers["X-App-Usage"]


def test_expired_token_is_code_190(http, fresh_sandbox):
    fresh_sandbox.set(faults={"facebook": {"expired_token": 1.0}})
    response = get(http, fresh_sandbox, "/tehsilnazirliyi", fields="id")
    assert response.json()["error"]["code"] == 190
    assert "sandbox-token" not in response.text
