"""ApiClient: retries, server-requested waits, Facebook usage headers, budget, redaction."""

from __future__ import annotations

import json

import pytest

from agency_pulse.errors import (
    AccountGone,
    InvalidToken,
    MalformedResponse,
    PermissionDenied,
    QuotaExhausted,
    TransientError,
)
from testkit.fake_platform import DROP, Stall

CANARY = "CANARY-tok/en+123"


def test_retries_a_server_error_then_returns_the_body(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/me", (500, {"error": "boom"}), (503, "Service Unavailable"), {"id": "1"})
    client = make_client(backoff_base=0.5)
    assert client.get_json(f"{fake_platform.url}/v24.0/me") == {"id": "1"}
    assert client.calls == 3 and client.units == 3 and client.retries == 2
    assert sleeps == [0.5, 1.0]  # exponential; jitter fixed at its maximum
    assert [r["status"] for r in client.raw] == [500, 503, 200]


def test_jitter_spreads_each_wait_between_half_and_full_backoff(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/me", (500, {}), (500, {}), {"ok": True})
    client = make_client(backoff_base=2.0, jitter=lambda: 0.0)
    client.get_json(f"{fake_platform.url}/v24.0/me")
    assert sleeps == [1.0, 2.0]


def test_honours_retry_after_header(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/me", (429, {}, {"Retry-After": "7"}), {"id": "1"})
    make_client().get_json(f"{fake_platform.url}/v24.0/me")
    assert sleeps == [7.0]


def test_honours_retry_after_as_an_http_date(fake_platform, make_client, sleeps):
    import email.utils

    when = email.utils.formatdate(1_700_000_000 + 30, usegmt=True)
    fake_platform.route("/v24.0/me", (503, {}, {"Retry-After": when}), {"id": "1"})
    make_client().get_json(f"{fake_platform.url}/v24.0/me")
    assert sleeps == [30.0]


def test_honours_x_rate_limit_reset(fake_platform, make_client, sleeps):
    reset = str(int(1_700_000_000 + 42))
    fake_platform.route("/2/users/by", (429, {"title": "Too Many Requests", "status": 429},
                                {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}),
                {"data": []})
    make_client("x").get_json(f"{fake_platform.url}/2/users/by", {"usernames": "a"})
    assert sleeps == [42.0]


def test_honours_telegram_retry_after_in_the_body(fake_platform, make_client, sleeps):
    fake_platform.route(r"/bot[^/]+/getChatMemberCount",
                (429, {"ok": False, "error_code": 429,
                       "description": "Too Many Requests: retry after 9",
                       "parameters": {"retry_after": 9}}),
                {"ok": True, "result": 12345})
    client = make_client("telegram", secrets=["123456:ABC-DEF"])
    body = client.get_json(f"{fake_platform.url}/bot123456:ABC-DEF/getChatMemberCount",
                           {"chat_id": "@channel"})
    assert body["result"] == 12345
    assert sleeps == [9.0]
    assert all("ABC-DEF" not in r["url"] for r in client.raw)
    assert client.raw[0]["url"].startswith(f"{fake_platform.url}/bot***/getChatMemberCount")


def test_a_wait_longer_than_the_cap_gives_up_at_once(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/me", (429, {}, {"Retry-After": "3600"}), {"id": "1"})
    client = make_client(backoff_max=60.0)
    with pytest.raises(TransientError, match="3600s, more than the 60s cap"):
        client.get_json(f"{fake_platform.url}/v24.0/me")
    assert sleeps == [] and client.calls == 1


def test_gives_up_with_transient_error_after_max_retries(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/me", (502, "Bad Gateway"))
    client = make_client(max_retries=3)
    with pytest.raises(TransientError, match="gave up after 4 attempts"):
        client.get_json(f"{fake_platform.url}/v24.0/me")
    assert client.calls == 4 and len(sleeps) == 3


def test_body_not_json_on_2xx_is_retried_then_malformed(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/me", (200, '{"id": "1", "na'))
    client = make_client(max_retries=2)
    with pytest.raises(MalformedResponse, match="not JSON"):
        client.get_json(f"{fake_platform.url}/v24.0/me")
    assert client.calls == 3


def test_body_cut_short_then_whole_succeeds(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/me", (200, '{"data": [1, 2'), {"data": [1, 2, 3]})
    assert make_client().get_json(f"{fake_platform.url}/v24.0/me") == {"data": [1, 2, 3]}


def test_timeouts_and_connection_errors_are_retried(fake_platform, make_client, sleeps):
    # a read timeout (the server holds the answer past the client's limit), then a
    # connection closed without an answer
    fake_platform.route("/v24.0/me", Stall(1.0), DROP, {"id": "1"})
    client = make_client(timeout=(2, 0.2))
    assert client.get_json(f"{fake_platform.url}/v24.0/me") == {"id": "1"}
    assert client.calls == 3 and len(sleeps) == 2


def test_default_error_mapping(fake_platform, make_client):
    fake_platform.route("/v24.0/unauthorized", (401, {"title": "Unauthorized"}))
    fake_platform.route("/v24.0/forbidden", (403, {"title": "Forbidden"}))
    fake_platform.route("/v24.0/missing", (404, {"title": "Not Found"}))
    client = make_client()
    with pytest.raises(InvalidToken):
        client.get_json(f"{fake_platform.url}/v24.0/unauthorized")
    with pytest.raises(PermissionDenied):
        client.get_json(f"{fake_platform.url}/v24.0/forbidden")
    with pytest.raises(AccountGone):
        client.get_json(f"{fake_platform.url}/v24.0/missing")
    assert client.calls == 3  # none of these is retried


def test_classifier_decides_for_error_answers(fake_platform, make_client):
    fake_platform.route("/v24.0/me", (400, {"error": {"code": 190, "message": "expired"}}))
    client = make_client()

    def classify(response, body):
        assert response.status_code == 400
        return InvalidToken("facebook", body["error"]["message"])

    with pytest.raises(InvalidToken, match="expired"):
        client.get_json(f"{fake_platform.url}/v24.0/me", classify=classify)


def test_facebook_usage_above_80_slows_down_before_the_next_call(fake_platform, make_client, sleeps):
    usage = {"X-App-Usage": json.dumps({"call_count": 92, "total_cputime": 10, "total_time": 12})}
    fake_platform.route("/v24.0/me", (200, {"id": "1"}, usage), {"id": "1"})
    client = make_client(backoff_base=0.5)
    client.get_json(f"{fake_platform.url}/v24.0/me")
    assert sleeps == []  # nothing to wait for until there is a next call
    client.get_json(f"{fake_platform.url}/v24.0/me")
    assert sleeps == [pytest.approx(0.5 * 2 ** 3)]


def test_facebook_usage_at_100_waits_for_regained_access(fake_platform, make_client, sleeps):
    buc = {"X-Business-Use-Case-Usage": json.dumps({"20531316728": [{
        "type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 45,
        "estimated_time_to_regain_access": 2}]})}
    fake_platform.route("/v24.0/me", (200, {"id": "1"}, buc), {"id": "1"})
    client = make_client(backoff_max=300.0)
    client.get_json(f"{fake_platform.url}/v24.0/me")
    client.get_json(f"{fake_platform.url}/v24.0/me")
    assert sleeps == [120.0]


def test_facebook_throttle_error_waits_the_regain_time(fake_platform, make_client, sleeps):
    headers = {"X-Page-Usage": json.dumps({"call_count": 100, "total_cputime": 5,
                                           "total_time": 5,
                                           "estimated_time_to_regain_access": 1})}
    fake_platform.route("/v24.0/me", (400, {"error": {"code": 32, "message": "Page request limit"}},
                              headers), {"id": "1"})
    from agency_pulse.extractors.facebook import classify

    client = make_client(backoff_max=120.0)
    assert client.get_json(f"{fake_platform.url}/v24.0/me", classify=classify) == {"id": "1"}
    assert sleeps[0] == 60.0


def test_budget_raises_quota_exhausted_before_the_call(fake_platform, make_client):
    fake_platform.route("/v24.0/me", {"id": "1"})
    client = make_client(budget=3)
    client.get_json(f"{fake_platform.url}/v24.0/me", units=2)
    with pytest.raises(QuotaExhausted, match="budget of 3 units"):
        client.get_json(f"{fake_platform.url}/v24.0/me", units=2)
    assert client.calls == 1 and client.units == 2 and len(fake_platform.requests) == 1


def test_redact_hides_secrets_and_their_url_encoded_forms(make_client):
    client = make_client(secrets=[CANARY])
    text = (f"token {CANARY} url ?access_token=CANARY-tok%2Fen%2B123 "
            f"tg /bot{CANARY}/getMe auth Bearer abc.def other key=XYZ")
    redacted = client.redact(text)
    assert "CANARY" not in redacted and "abc.def" not in redacted and "XYZ" not in redacted
    assert "/bot***/getMe" in redacted


def test_no_secret_in_exceptions_raw_or_logs(fake_platform, make_client, caplog):
    def echo(request):
        return (400, {"error": {"code": 100, "message": f"bad token {CANARY} in {request.url}"}})

    fake_platform.route("/v24.0/echo", echo)
    fake_platform.route(r"/bot.+/getMe", DROP)  # the connection closes without an answer
    client = make_client(secrets=[CANARY], max_retries=1)
    caplog.set_level("DEBUG")
    with pytest.raises(Exception) as first:
        client.get_json(f"{fake_platform.url}/v24.0/echo", {"access_token": CANARY})
    with pytest.raises(TransientError) as second:
        client.get_json(f"{fake_platform.url}/bot{CANARY}/getMe")
    for exc in (first.value, second.value):
        assert "CANARY" not in str(exc) and "CANARY" not in repr(exc.args)
        assert exc.__cause__ is None and exc.__context__ is None
    dumped = json.dumps(client.raw)
    assert "CANARY" not in dumped and "CANARY" not in caplog.text
    assert "***" in dumped


# ---- pacing on the limit headers of successful answers ----

def x_limits(remaining: int, reset_in: int) -> dict[str, str]:
    return {"x-rate-limit-limit": "300", "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(1_700_000_000 + reset_in)}


def test_x_remaining_zero_on_a_success_waits_for_the_reset_before_the_next_call(
        fake_platform, make_client, sleeps):
    def answer(request):
        # The window is spent after the first call: a call before the reset is a 429.
        if len(fake_platform.calls_to("/2/users/by")) > 1 and not sleeps:
            return 429, {"title": "Too Many Requests"}, x_limits(0, 42)
        return 200, {"data": []}, x_limits(0, 42)

    fake_platform.route("/2/users/by", answer)
    client = make_client("x", backoff_max=60.0)
    client.get_json(f"{fake_platform.url}/2/users/by", {"usernames": "a"})
    assert sleeps == []  # nothing to wait for until there is a next call
    client.get_json(f"{fake_platform.url}/2/users/by", {"usernames": "b"})
    assert sleeps == [42.0]
    assert [r["status"] for r in client.raw] == [200, 200] and client.retries == 0


def test_x_pacing_is_per_endpoint_with_ids_folded(fake_platform, make_client, sleeps):
    fake_platform.route(r"/2/users/\d+/tweets", (200, {"data": []}, x_limits(0, 30)))
    fake_platform.route("/2/users/by", (200, {"data": []}, x_limits(12, 30)))
    client = make_client("x", backoff_max=60.0)
    client.get_json(f"{fake_platform.url}/2/users/1/tweets")
    client.get_json(f"{fake_platform.url}/2/users/by")  # another endpoint: not held
    assert sleeps == []
    client.get_json(f"{fake_platform.url}/2/users/2/tweets")  # same endpoint, another user
    assert sleeps == [30.0]
    client.get_json(f"{fake_platform.url}/2/users/by")  # 12 remaining: no wait
    assert sleeps == [30.0]


def test_x_remaining_above_zero_or_a_past_reset_never_waits(fake_platform, make_client, sleeps):
    fake_platform.route("/2/users/by", (200, {"data": []}, x_limits(1, 42)),
                        (200, {"data": []}, x_limits(0, -5)), {"data": []})
    client = make_client("x")
    for _ in range(3):
        client.get_json(f"{fake_platform.url}/2/users/by")
    assert sleeps == []


def test_x_reset_beyond_the_cap_fails_as_transient_without_sending(
        fake_platform, make_client, sleeps):
    fake_platform.route("/2/users/by", (200, {"data": []}, x_limits(0, 900)))
    client = make_client("x", backoff_max=60.0)
    client.get_json(f"{fake_platform.url}/2/users/by")
    with pytest.raises(TransientError, match="resets in 900s, more than the 60s cap"):
        client.get_json(f"{fake_platform.url}/2/users/by")
    assert sleeps == [] and client.calls == 1 and len(fake_platform.requests) == 1


def test_retry_after_on_a_success_holds_the_next_call(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/me", (200, {"id": "1"}, {"Retry-After": "5"}))
    fake_platform.route("/v24.0/other", {"id": "2"})
    client = make_client()
    client.get_json(f"{fake_platform.url}/v24.0/me")
    client.get_json(f"{fake_platform.url}/v24.0/other")  # it holds every endpoint
    assert sleeps == [5.0]


def test_app_usage_at_100_on_a_success_holds_the_next_call(fake_platform, make_client, sleeps):
    full = {"x-app-usage": json.dumps({"call_count": 100, "total_cputime": 3, "total_time": 9})}
    fake_platform.route("/v24.0/me", (200, {"id": "1"}, full), {"id": "1"})
    client = make_client(backoff_base=0.5, backoff_max=300.0)
    client.get_json(f"{fake_platform.url}/v24.0/me")
    client.get_json(f"{fake_platform.url}/v24.0/me")
    # no regain estimate in X-App-Usage: the client's longest backoff step
    assert sleeps == [0.5 * 2 ** 5] and [r["status"] for r in client.raw] == [200, 200]


def test_the_bot_token_in_a_held_endpoint_never_reaches_the_error(fake_platform, make_client):
    token = "123456:ABC-DEF"
    fake_platform.route(r"/bot[^/]+/getChatMemberCount",
                        (200, {"ok": True, "result": 1}, x_limits(0, 900)))
    client = make_client("telegram", secrets=[token], backoff_max=60.0)
    client.get_json(f"{fake_platform.url}/bot{token}/getChatMemberCount")
    with pytest.raises(TransientError) as raised:
        client.get_json(f"{fake_platform.url}/bot{token}/getChatMemberCount")
    assert "ABC-DEF" not in str(raised.value) and "/bot***/" in str(raised.value)


def test_follow_redirects_false_returns_where_a_3xx_points(fake_platform, make_client):
    fake_platform.route("/t.me/s/closed", (302, "", {"Location": "/t.me/closed"}))
    fake_platform.route("/t.me/closed", "<html>channel page</html>")
    client = make_client("telegram")
    text, where = client.get_text(f"{fake_platform.url}/t.me/s/closed", follow_redirects=False)
    assert where == f"{fake_platform.url}/t.me/closed" and "channel page" not in text
    assert [r.path for r in fake_platform.requests] == ["/t.me/s/closed"]
    text, where = client.get_text(f"{fake_platform.url}/t.me/s/closed")  # the default follows
    assert where == f"{fake_platform.url}/t.me/closed" and "channel page" in text
