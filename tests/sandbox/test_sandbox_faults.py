"""Every fault kind answers in the platform's own error shape (and only when switched on)."""

from __future__ import annotations

import json

import pytest

AUTH = {"Authorization": "Bearer sandbox-token"}
# YouTube gets its key in the URL here: with a Bearer header it would answer as OAuth does.
HEADERS = {"facebook": AUTH, "instagram": AUTH, "x": AUTH, "youtube": {}, "telegram": {}}
REQUESTS = {
    "facebook": "/graph.facebook.com/v24.0/tehsilnazirliyi?fields=id,followers_count",
    "instagram": "/graph.facebook.com/v24.0/17841400000000000?fields=business_discovery.username(taxes.gov.az){followers_count}",
    "youtube": "/www.googleapis.com/youtube/v3/channels?part=statistics&forHandle=@TehsilNazirliyi&key=k",
    "x": "/api.x.com/2/users/by?usernames=edu_gov_az",
    "telegram": "/api.telegram.org/bot1:token/getChatMemberCount?chat_id=@fhn_gov_az",
}


def graph_code(*codes):
    return lambda r: r.status_code in (400, 403, 500, 503) and r.json()["error"]["code"] in codes \
        and r.json()["error"]["fbtrace_id"]


def google_reason(status, reason):
    return lambda r: r.status_code == status and r.json()["error"]["errors"][0]["reason"] == reason


def x_problem(status, title):
    return lambda r: r.status_code == status and r.json()["title"] == title


def bot_error(status):
    return lambda r: r.status_code == status and r.json()["ok"] is False and r.json()["error_code"] == status


SHAPES = {
    ("facebook", "throttle"): graph_code(4, 17, 32, 613),
    ("facebook", "server_error"): graph_code(1, 2),
    ("facebook", "expired_token"): graph_code(190),
    ("facebook", "quota_exceeded"): graph_code(4),
    ("facebook", "access_tier"): graph_code(10),
    ("instagram", "throttle"): graph_code(4, 17, 32, 613),
    ("instagram", "expired_token"): graph_code(190),
    ("youtube", "throttle"): google_reason(403, "rateLimitExceeded"),
    ("youtube", "server_error"): lambda r: r.status_code in (500, 503)
    and r.json()["error"]["errors"][0]["reason"] == "backendError",
    ("youtube", "expired_token"): google_reason(400, "badRequest"),
    ("youtube", "quota_exceeded"): google_reason(403, "quotaExceeded"),
    ("youtube", "access_tier"): google_reason(403, "accessNotConfigured"),
    ("x", "throttle"): x_problem(429, "Too Many Requests"),
    ("x", "server_error"): lambda r: r.status_code in (500, 503) and r.json()["status"] == r.status_code,
    ("x", "expired_token"): x_problem(401, "Unauthorized"),
    ("x", "quota_exceeded"): x_problem(429, "UsageCapExceeded"),
    ("x", "access_tier"): lambda r: r.status_code == 403 and r.json()["errors"][0]["code"] == 453,
    ("telegram", "throttle"): lambda r: bot_error(429)(r) and r.json()["parameters"]["retry_after"] > 0,
    ("telegram", "server_error"): lambda r: r.status_code in (500, 502),
    ("telegram", "expired_token"): bot_error(401),
}


@pytest.mark.parametrize(("platform", "kind"), sorted(SHAPES))
def test_fault_answers_in_the_platform_shape(http, fresh_sandbox, platform, kind):
    assert http.get(fresh_sandbox.url + REQUESTS[platform], headers=HEADERS[platform]).status_code == 200
    fresh_sandbox.set(faults={platform: {kind: 1.0}})
    response = http.get(fresh_sandbox.url + REQUESTS[platform], headers=HEADERS[platform])
    assert SHAPES[(platform, kind)](response), response.text
    assert "sandbox-token" not in response.text and "1:token" not in response.text
    assert fresh_sandbox.stats()["platforms"][platform]["faults"] == {kind: 1}


@pytest.mark.parametrize("platform", sorted(REQUESTS))
def test_malformed_is_a_200_that_does_not_parse(http, fresh_sandbox, platform):
    fresh_sandbox.set(faults={platform: {"malformed": 1.0}})
    response = http.get(fresh_sandbox.url + REQUESTS[platform], headers=HEADERS[platform])
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_faults_on_one_platform_leave_the_others_alone(http, fresh_sandbox):
    fresh_sandbox.set(faults={"x": {"server_error": 1.0, "throttle": 1.0}})
    for platform, path in REQUESTS.items():
        status = http.get(fresh_sandbox.url + path, headers=HEADERS[platform]).status_code
        assert (status != 200) == (platform == "x")


def test_telegram_private_channel_is_forbidden_and_its_preview_redirects(http, fresh_sandbox):
    fresh_sandbox.set(faults={"telegram": {"private": ["fhn_gov_az"]}})
    response = http.get(fresh_sandbox.url + REQUESTS["telegram"])
    assert bot_error(403)(response)
    preview = http.get(fresh_sandbox.url + "/t.me/s/fhn_gov_az", allow_redirects=False)
    assert preview.status_code == 302 and preview.headers["Location"].endswith("/t.me/fhn_gov_az")


def test_youtube_private_channel_hides_its_uploads(http, fresh_sandbox):
    item = http.get(fresh_sandbox.url + REQUESTS["youtube"].replace("statistics", "contentDetails")).json()["items"][0]
    uploads = item["contentDetails"]["relatedPlaylists"]["uploads"]
    fresh_sandbox.set(faults={"youtube": {"private": ["TehsilNazirliyi"]}})
    response = http.get(fresh_sandbox.url + "/www.googleapis.com/youtube/v3/playlistItems",
                        params={"part": "contentDetails", "playlistId": uploads, "key": "k"})
    assert google_reason(403, "playlistItemsNotAccessible")(response)
