"""Connection resolution: Airflow env vars (JSON, URI), Airflow tasks, sandbox, none."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from datetime import date

import pytest

from agency_pulse import connections
from agency_pulse.errors import ConfigurationError

TOKEN = "EAAB-CANARY-conn"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for platform in ("FACEBOOK", "INSTAGRAM", "TELEGRAM", "YOUTUBE", "X"):
        monkeypatch.delenv(f"AIRFLOW_CONN_AGENCY_PULSE_{platform}", raising=False)
    monkeypatch.delenv("AGENCY_PULSE_SANDBOX_URL", raising=False)
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")


def test_json_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_FACEBOOK", json.dumps({
        "conn_type": "http", "host": "https://graph.facebook.com/v24.0/", "password": TOKEN,
        "extra": {"insights": True}}))
    conn = connections.resolve("facebook")
    assert conn.base_url == "https://graph.facebook.com/v24.0"
    assert conn.token == TOKEN and conn.extra == {"insights": True} and conn.source == "airflow"
    assert TOKEN not in repr(conn)


def test_json_connection_without_host_uses_the_real_api(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_INSTAGRAM", json.dumps({
        "conn_type": "http", "password": TOKEN, "extra": json.dumps({"ig_user_id": "1784"})}))
    conn = connections.resolve("instagram")
    assert conn.base_url == "https://graph.facebook.com/v24.0"
    assert conn.extra == {"ig_user_id": "1784"}


@pytest.mark.parametrize(("uri", "base_url", "extra"), [
    ("http://:tok%2Fen@graph.facebook.com/v24.0?insights=true",
     "https://graph.facebook.com/v24.0", {"insights": True}),
    ("http://https://:tok%2Fen@graph.facebook.com", "https://graph.facebook.com", {}),
    ("http://:tok%2Fen@127.0.0.1:8999/https?__extra__=%7B%22ig_user_id%22%3A%20%2217%22%7D",
     "https://127.0.0.1:8999", {"ig_user_id": "17"}),
])
def test_uri_connections(monkeypatch, uri, base_url, extra):
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_FACEBOOK", uri)
    conn = connections.resolve("facebook")
    assert (conn.base_url, conn.token, conn.extra) == (base_url, "tok/en", extra)


def test_bad_json_message_does_not_quote_the_token(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_FACEBOOK", '{"password": "' + TOKEN + '",')
    with pytest.raises(ValueError) as failure:
        connections.resolve("facebook")
    assert TOKEN not in str(failure.value) and failure.value.__suppress_context__


def test_sandbox_when_it_is_the_default(monkeypatch):
    from agency_pulse_sandbox import run_sandbox

    with run_sandbox(date=date(2026, 11, 27)) as sandbox:
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", sandbox.url + "/")
        fb = connections.resolve("facebook")
        ig = connections.resolve("instagram")
        tg = connections.resolve("telegram")
    assert fb.base_url == f"{sandbox.url}/graph.facebook.com/v24.0"
    assert fb.source == "sandbox" and fb.token
    assert ig.extra["ig_user_id"] == "17841400000000000"
    assert tg.base_url == f"{sandbox.url}/api.telegram.org"
    assert tg.extra["preview_url"] == f"{sandbox.url}/t.me"
    assert connections.resolve("youtube").base_url.endswith("/www.googleapis.com/youtube/v3")
    assert connections.resolve("x").base_url.endswith("/api.x.com/2")


def test_a_sandbox_url_where_nothing_answers_is_one_clear_error(monkeypatch):
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(ConfigurationError, match=f"AGENCY_PULSE_SANDBOX_URL=http://127.0.0.1:{port}"):
        connections.resolve("facebook")


def test_an_airflow_connection_wins_over_the_sandbox(monkeypatch):
    monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", "http://127.0.0.1:8999")
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_X", json.dumps({"password": TOKEN}))
    assert connections.resolve("x").source == "airflow"


def test_credentials_before_the_protocol_are_refused_without_echoing_them(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_FACEBOOK", f"http://:{TOKEN}@https://host")
    with pytest.raises(ValueError, match="protocol before the credentials") as failure:
        connections.resolve("facebook")
    assert TOKEN not in str(failure.value)


def test_none_without_connection_or_sandbox(monkeypatch):
    assert connections.resolve("facebook") is None
    monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", "http://127.0.0.1:8999")
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "none")
    assert connections.resolve("facebook") is None


def test_resolving_outside_a_task_does_not_import_airflow():
    code = ("import os, sys, json; os.environ['AIRFLOW_CONN_AGENCY_PULSE_FACEBOOK'] = "
            "json.dumps({'password': 'x'}); from agency_pulse import connections; "
            "assert connections.resolve('facebook').token == 'x'; "
            "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_inside_an_airflow_task_uses_basehook_and_masks_the_token(monkeypatch):
    masked = []
    asked = []

    class FakeConnection:
        host = "https://graph.facebook.com/v24.0"
        schema = port = None
        password = TOKEN
        extra = '{"insights": true, "app_secret": "s3cr3t"}'
        extra_dejson = {"insights": True, "app_secret": "s3cr3t"}

    class BaseHook:
        @staticmethod
        def get_connection(conn_id):
            asked.append(conn_id)
            return FakeConnection()

    task_runner = types.ModuleType("airflow.sdk.execution_time.task_runner")
    task_runner.SUPERVISOR_COMMS = object()
    sdk = types.ModuleType("airflow.sdk")
    sdk.BaseHook = BaseHook
    sdk_log = types.ModuleType("airflow.sdk.log")
    sdk_log.mask_secret = masked.append
    for name, module in {"airflow": types.ModuleType("airflow"), "airflow.sdk": sdk,
                         "airflow.sdk.log": sdk_log,
                         "airflow.sdk.execution_time.task_runner": task_runner}.items():
        monkeypatch.setitem(sys.modules, name, module)
    conn = connections.resolve("facebook")
    assert asked == ["agency_pulse_facebook"]
    assert conn.token == TOKEN and conn.extra["insights"] is True
    assert set(masked) == {TOKEN, "s3cr3t"}
    assert set(conn.secrets) == {TOKEN, "s3cr3t"}


def test_tokens_are_registered_with_the_real_airflow_secrets_masker():
    code = ("import airflow.sdk.log; from agency_pulse import connections; "
            "connections.register_secrets_with_airflow(['EAAB-canary-mask']); "
            "from airflow.sdk._shared.secrets_masker import redact; "
            "print(redact('token EAAB-canary-mask here'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "token *** here"
