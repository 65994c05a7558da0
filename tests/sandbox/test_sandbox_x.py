"""X API v2 in the sandbox: user lookup, timelines, limits, errors."""

from __future__ import annotations

X = "/api.x.com/2"
AUTH = {"Authorization": "Bearer sandbox-token"}


def get(http, sb, path, **params):
    return http.get(sb.url + X + path, params=params, headers=AUTH, timeout=10)


def user(http, sb, username):
    return get(http, sb, "/users/by", usernames=username, **{"user.fields": "public_metrics,created_at"}).json()["data"][0]


def test_users_by_returns_found_users_and_errors_for_the_rest(http, fresh_sandbox):
    response = get(http, fresh_sandbox, "/users/by", usernames="edu_gov_az,MFA_Azerbaijan,ghost_account",
                   **{"user.fields": "public_metrics,created_at,verified"})
    body = response.json()
    assert [u["username"] for u in body["data"]] == ["edu_gov_az", "MFA_Azerbaijan"]
    assert set(body["data"][0]["public_metrics"]) >= {"followers_count", "following_count", "tweet_count",
                                                       "listed_count"}
    assert body["errors"][0]["detail"] == "Could not find user with usernames: [ghost_account]."
    assert int(response.headers["x-rate-limit-remaining"]) < int(response.headers["x-rate-limit-limit"])
    assert int(response.headers["x-rate-limit-reset"]) > 1_700_000_000


def test_users_by_limits_and_username_syntax(http, fresh_sandbox):
    too_many = get(http, fresh_sandbox, "/users/by", usernames=",".join(f"u{i}" for i in range(101)))
    assert too_many.status_code == 400 and too_many.json()["title"] == "Invalid Request"
    bad = get(http, fresh_sandbox, "/users/by", usernames="edu_gov_az,not.valid")
    assert bad.status_code == 400


def test_timeline_pages_by_next_token_and_stops_at_3200(http, fresh_sandbox):
    account = user(http, fresh_sandbox, "MFA_Azerbaijan")
    assert account["public_metrics"]["tweet_count"] > 3200
    ids, token, pages = [], None, 0
    while True:
        params = {"max_results": 100, "tweet.fields": "created_at,public_metrics"}
        if token:
            params["pagination_token"] = token
        body = get(http, fresh_sandbox, f"/users/{account['id']}/tweets", **params).json()
        ids += [t["id"] for t in body.get("data", [])]
        assert body["meta"]["result_count"] == len(body.get("data", []))
        pages += 1
        token = body["meta"].get("next_token")
        if not token:
            break
    assert len(ids) == len(set(ids)) == 3200 and pages == 32
    assert [int(i) for i in ids] == sorted((int(i) for i in ids), reverse=True)


def test_since_id_returns_only_newer_posts_and_max_results_bounds(http, fresh_sandbox):
    account = user(http, fresh_sandbox, "edu_gov_az")
    latest = get(http, fresh_sandbox, f"/users/{account['id']}/tweets", max_results=10).json()
    cut = latest["data"][4]["id"]
    newer = get(http, fresh_sandbox, f"/users/{account['id']}/tweets", max_results=100, since_id=cut).json()
    assert [t["id"] for t in newer["data"]] == [t["id"] for t in latest["data"][:4]]
    assert "next_token" not in newer["meta"]
    for wrong in (4, 101):
        assert get(http, fresh_sandbox, f"/users/{account['id']}/tweets", max_results=wrong).status_code == 400


def test_video_posts_carry_media_in_includes(http, fresh_sandbox):
    account = user(http, fresh_sandbox, "edu_gov_az")
    body = get(http, fresh_sandbox, f"/users/{account['id']}/tweets", max_results=100,
               expansions="attachments.media_keys", **{"tweet.fields": "attachments,public_metrics",
                                                       "media.fields": "type"}).json()
    media = {m["media_key"]: m["type"] for m in body["includes"]["media"]}
    keys = [k for t in body["data"] for k in t.get("attachments", {}).get("media_keys", [])]
    assert set(keys) == set(media) and "video" in media.values()


def test_missing_bearer_token_is_401(http, fresh_sandbox):
    response = http.get(fresh_sandbox.url + X + "/users/by", params={"usernames": "edu_gov_az"})
    assert response.status_code == 401 and response.json()["title"] == "Unauthorized"


def test_x_faults_use_x_error_shapes(http, fresh_sandbox):
    fresh_sandbox.set(faults={"x": {"throttle": 1.0}})
    throttled = get(http, fresh_sandbox, "/users/by", usernames="edu_gov_az")
    assert throttled.status_code == 429 and throttled.headers["x-rate-limit-remaining"] == "0"
    assert int(throttled.headers["x-rate-limit-reset"]) > 0
    fresh_sandbox.set(faults={"x": {"access_tier": 1.0}})
    tier = get(http, fresh_sandbox, "/users/by", usernames="edu_gov_az")
    assert tier.status_code == 403 and "453" in tier.text
    fresh_sandbox.set(faults={"x": {"expired_token": 1.0}})
    assert get(http, fresh_sandbox, "/users/by", usernames="edu_gov_az").status_code == 401


def test_deleted_and_protected_accounts(http, fresh_sandbox):
    account = user(http, fresh_sandbox, "customs_az")
    fresh_sandbox.set(faults={"x": {"deleted_account": ["customs_az"], "private": ["mia_az"]}})
    body = get(http, fresh_sandbox, "/users/by", usernames="customs_az,mia_az", **{"user.fields": "protected"}).json()
    assert "Could not find user" in body["errors"][0]["detail"]
    assert body["data"][0]["protected"] is True
    timeline = get(http, fresh_sandbox, f"/users/{body['data'][0]['id']}/tweets").json()
    assert "data" not in timeline and timeline["errors"][0]["title"] == "Authorization Error"
    gone = get(http, fresh_sandbox, f"/users/{account['id']}/tweets").json()
    assert gone["errors"][0]["title"] == "Not Found Error"


def test_rate_limit_window_runs_out_into_a_429(http, fresh_sandbox):
    for _ in range(300):
        fresh_sandbox.state.rate_window("x:users/by", 300, 900)
    response = get(http, fresh_sandbox, "/users/by", usernames="edu_gov_az")
    assert response.status_code == 429 and response.headers["x-rate-limit-remaining"] == "0"


def test_rate_limits_can_be_lowered_for_a_run(http):
    from datetime import date

    from agency_pulse_sandbox import run_sandbox

    with run_sandbox(date=date(2026, 11, 27), x_rate_limits={"users/by": 2}) as sb:
        codes = [get(http, sb, "/users/by", usernames="edu_gov_az").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert sb.config()["x_rate_limits"] == {"users/by": 2}


def test_rate_limits_can_be_changed_and_restored_through_the_admin_config(http, fresh_sandbox):
    url = fresh_sandbox.url + "/_sandbox/config"
    try:
        changed = http.post(url, json={"x_rate_limits": {"users/by": 1}}).json()
        assert changed["x_rate_limits"] == {"users/by": 1}
        codes = [get(http, fresh_sandbox, "/users/by", usernames="edu_gov_az").status_code for _ in range(2)]
        assert codes == [200, 429]
        bad = http.post(url, json={"x_rate_limits": {"users/by": 0}})
        assert bad.status_code == 400 and "x_rate_limits" in bad.json()["error"]
        assert http.post(url, json={"x_rate_limits": {}}).json()["x_rate_limits"] == {}
        fresh_sandbox.reset_stats()  # a new window, under the real limit again
        assert get(http, fresh_sandbox, "/users/by", usernames="edu_gov_az").status_code == 200
    finally:
        fresh_sandbox.set(x_rate_limits={})
