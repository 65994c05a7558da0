"""The sandbox server itself: admin endpoints, stats, determinism, generic faults, scale, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
import requests

from agency_pulse_sandbox import run_sandbox
from agency_pulse_sandbox.cli import main, parse_fault_options
from agency_pulse_sandbox.data import synthetic_handle
from agency_pulse_sandbox.server import redact_path

DAY = date(2026, 11, 27)
AUTH = {"Authorization": "Bearer sandbox-token"}
FB = "/graph.facebook.com/v24.0"


def test_admin_config_round_trip_and_bad_config_is_400(http, fresh_sandbox):
    url = fresh_sandbox.url + "/_sandbox/config"
    assert http.get(url).json()["date"] == "2026-11-27"
    changed = http.post(url, json={"date": "2026-12-01", "seed": 9,
                                   "faults": {"x": {"throttle": 0.5}, "timeout_seconds": 0.5}}).json()
    assert (changed["date"], changed["seed"]) == ("2026-12-01", 9)
    assert changed["faults"] == {"timeout_seconds": 0.5, "x": {"throttle": 0.5}}
    assert http.get(url).json() == changed
    for bad in ({"date": "27/11/2026"}, {"faults": {"myspace": {"throttle": 1}}},
                {"faults": {"x": {"throttle": 2}}}, {"faults": {"x": {"melt": 1}}}, {"colour": "red"}):
        response = http.post(url, json=bad)
        assert response.status_code == 400 and response.json()["error"]
    assert http.get(url).json() == changed  # a refused change changes nothing


def test_stats_count_calls_per_platform_and_endpoint_and_reset(http, fresh_sandbox):
    for _ in range(3):
        http.get(fresh_sandbox.url + FB + "/tehsilnazirliyi", params={"fields": "id"}, headers=AUTH)
    http.get(fresh_sandbox.url + FB + "/tehsilnazirliyi/posts", params={"fields": "id"}, headers=AUTH)
    http.get(fresh_sandbox.url + "/t.me/s/fhn_gov_az")
    stats = http.get(fresh_sandbox.url + "/_sandbox/stats").json()
    assert stats["total"] == 5
    assert stats["platforms"]["facebook"]["endpoints"] == {"page": 3, "posts": 1}
    assert stats["platforms"]["telegram"]["endpoints"] == {"preview": 1}
    assert fresh_sandbox.stats() == stats
    assert http.post(fresh_sandbox.url + "/_sandbox/stats/reset").json()["total"] == 0


def test_two_servers_with_the_same_seed_and_day_answer_the_same_bodies(http):
    paths = [FB + "/tehsilnazirliyi/posts?fields=id,created_time,reactions.summary(total_count).limit(0)&limit=20",
             "/www.googleapis.com/youtube/v3/channels?part=statistics&forHandle=@TehsilNazirliyi&key=k",
             "/api.x.com/2/users/by?usernames=edu_gov_az&user.fields=public_metrics", "/t.me/s/fhn_gov_az"]
    bodies = []
    for _ in range(2):
        with run_sandbox(date=DAY, seed=11) as sb:
            bodies.append([http.get(sb.url + p, headers=AUTH).text.replace(sb.url, "") for p in paths])
    assert bodies[0] == bodies[1]
    with run_sandbox(date=DAY, seed=12) as sb:
        other = [http.get(sb.url + p, headers=AUTH).text.replace(sb.url, "") for p in paths]
    assert other != bodies[0]


def test_fault_rolls_repeat_for_the_same_request_sequence(http, fresh_sandbox):
    def statuses():
        fresh_sandbox.set(faults={"facebook": {"server_error": 0.4}})
        return [http.get(fresh_sandbox.url + FB + "/tehsilnazirliyi", headers=AUTH).status_code for _ in range(20)]

    first = statuses()
    assert first == statuses()
    assert set(first) >= {200} and set(first) - {200}


def test_no_faults_by_default(http):
    with run_sandbox(date=DAY) as sb:
        assert sb.config()["faults"] == {"timeout_seconds": 2.0}
        codes = {http.get(sb.url + FB + "/tehsilnazirliyi", headers=AUTH).status_code for _ in range(30)}
        assert codes == {200}


def test_malformed_answers_200_with_a_body_that_is_not_json(http, fresh_sandbox):
    fresh_sandbox.set(faults={"x": {"malformed": 1.0}})
    for _ in range(4):
        response = http.get(fresh_sandbox.url + "/api.x.com/2/users/by", params={"usernames": "edu_gov_az"},
                            headers=AUTH)
        assert response.status_code == 200
        with pytest.raises(ValueError):
            json.loads(response.text)


def test_timeout_fault_answers_later_than_the_configured_delay(http, fresh_sandbox):
    fresh_sandbox.set(faults={"telegram": {"timeout": 1.0}, "timeout_seconds": 0.6})
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(fresh_sandbox.url + "/api.telegram.org/bot1:t/getChatMemberCount",
                 params={"chat_id": "@fhn_gov_az"}, timeout=0.2)
    late = http.get(fresh_sandbox.url + "/api.telegram.org/bot1:t/getChatMemberCount",
                    params={"chat_id": "@fhn_gov_az"}, timeout=5)
    assert late.status_code == 200 and late.json()["ok"] is True


def test_server_errors_are_5xx_on_every_platform(http, fresh_sandbox):
    fresh_sandbox.set(faults={p: {"server_error": 1.0} for p in ("facebook", "youtube", "x", "telegram")})
    urls = [FB + "/tehsilnazirliyi", "/www.googleapis.com/youtube/v3/channels?part=id&forHandle=@a&key=k",
            "/api.x.com/2/users/by?usernames=edu_gov_az", "/api.telegram.org/bot1:t/getChatMemberCount?chat_id=@x"]
    for path in urls:
        assert http.get(fresh_sandbox.url + path, headers=AUTH).status_code >= 500


def test_tokens_never_appear_in_bodies_or_the_verbose_log(http, capfd):
    secret = "EAAB-very-secret-token"
    with run_sandbox(date=DAY, verbose=True, faults={"facebook": {"expired_token": 0.5}}) as sb:
        bodies = [http.get(sb.url + FB + "/tehsilnazirliyi/posts", params={"access_token": secret, "limit": 2}).text
                  for _ in range(6)]
        bodies.append(http.get(sb.url + f"/api.telegram.org/bot{secret}/getChatMemberCount",
                               params={"chat_id": "@nochannel"}).text)
    assert all(secret not in body for body in bodies)
    log = capfd.readouterr().err
    assert "getChatMemberCount" in log and secret not in log
    assert redact_path(f"/api.telegram.org/bot{secret}/getMe?key={secret}") == "/api.telegram.org/bot***/getMe?key=***"


def test_thousands_of_extra_accounts_answer_in_batches(http):
    with run_sandbox(date=DAY, extra_accounts_per_platform=5000) as sb:
        pages = ",".join(synthetic_handle("facebook", i) for i in range(4950, 5000))
        body = http.get(sb.url + FB + "/", params={"ids": pages, "fields": "followers_count"}, headers=AUTH).json()
        assert len(body) == 50 and all(v["followers_count"] > 0 for v in body.values())
        names = ",".join(synthetic_handle("x", i) for i in range(100))
        users = http.get(sb.url + "/api.x.com/2/users/by", params={"usernames": names}, headers=AUTH).json()
        assert len(users["data"]) == 100 and "errors" not in users
        beyond = http.get(sb.url + FB + "/" + synthetic_handle("facebook", 5000), headers=AUTH).json()
        assert beyond["error"]["code"] == 803
        posts = http.get(sb.url + FB + f"/{synthetic_handle('facebook', 4999)}/posts", params={"limit": 5},
                         headers=AUTH).json()
        assert posts["data"] or posts == {"data": []}


def test_parse_fault_options():
    assert parse_fault_options(["x:throttle:0.25", "facebook:deleted_account:a.b,c"], 1.5) == {
        "x": {"throttle": 0.25}, "facebook": {"deleted_account": ["a.b", "c"]}, "timeout_seconds": 1.5}
    for bad in (["x:throttle"], ["x:melt:1"], ["x:throttle:lots"], ["x:throttle:3"], ["myspace:throttle:1"]):
        with pytest.raises(ValueError):
            parse_fault_options(bad)


def test_cli_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--fault", "x:melt:1"])
    assert stopped.value.code == 2
    assert "unknown kind 'melt'" in capsys.readouterr().err


def test_python_dash_m_serves_on_the_port_it_prints(http):
    process = subprocess.Popen([sys.executable, "-m", "agency_pulse_sandbox", "--port", "0", "--date",
                                "2026-11-27", "--fault", "x:throttle:0.1"], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = line.split(" on ")[1].split(" ")[0]
        config = http.get(url + "/_sandbox/config", timeout=5).json()
        assert config["date"] == "2026-11-27" and config["faults"]["x"] == {"throttle": 0.1}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_latency_delays_each_platform_request_never_an_admin_one(http, fresh_sandbox, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(fresh_sandbox.state, "sleep", waits.append)  # record, do not wait
    try:
        config = http.post(fresh_sandbox.url + "/_sandbox/config", json={"latency_ms": 2}).json()
        assert config["latency_ms"] == 2.0 and waits == []
        http.get(fresh_sandbox.url + FB + "/tehsilnazirliyi", params={"fields": "id"}, headers=AUTH)
        http.get(fresh_sandbox.url + "/t.me/s/fhn_gov_az")
        http.get(fresh_sandbox.url + "/_sandbox/stats")
        assert waits == [0.002, 0.002]  # the two platform requests, not the admin ones
        fresh_sandbox.set(latency_ms=0)
        http.get(fresh_sandbox.url + "/t.me/s/fhn_gov_az")
        assert waits == [0.002, 0.002]
        for bad in (-1, "soon", True, None, [5]):
            response = http.post(fresh_sandbox.url + "/_sandbox/config", json={"latency_ms": bad})
            if bad is None:  # absent and null both leave it as it is
                assert response.json()["latency_ms"] == 0.0
                continue
            assert response.status_code == 400 and "latency_ms" in response.json()["error"]
    finally:
        fresh_sandbox.set(latency_ms=0)


def test_cli_latency_option(capsys):
    from agency_pulse_sandbox.cli import build_parser

    assert build_parser().parse_args(["--latency-ms", "200"]).latency_ms == 200.0
    with pytest.raises(SystemExit) as stopped:
        main(["--latency-ms", "-5"])
    assert stopped.value.code == 2
    assert "--latency-ms must be a number of milliseconds >= 0" in capsys.readouterr().err


def test_run_sandbox_takes_a_latency(http):
    waits: list[float] = []
    with run_sandbox(date=DAY, latency_ms=1.5) as sb:
        sb.state.sleep = waits.append
        assert sb.config()["latency_ms"] == 1.5
        http.get(sb.url + "/t.me/s/fhn_gov_az")
    assert waits == [0.0015]
