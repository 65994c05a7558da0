"""`make airflow`'s AIRFLOW_PORT and SANDBOX_PORT: every port the standalone Airflow listens
on and every URL its tasks call follow them, so two checkouts on one machine do not collide;
Ctrl-C stops every process it started within 10 seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agency_pulse import airflow_setup

PROJECT = Path(__file__).resolve().parents[2]


def ports_of(env: dict[str, str]) -> set[int]:
    return {int(env[key]) for key in ("AIRFLOW__API__PORT", "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
                                      "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT")}


def test_the_ports_set_every_listener_and_url():
    env = airflow_setup.standalone_environment({"PATH": "/usr/bin", "KEEP": "x"}, 9090, 9199,
                                               "/venv/bin")
    assert env["AIRFLOW__API__PORT"] == "9090"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://localhost:9090/execution/"
    assert ports_of(env) == {9090, 9091, 9092}
    assert env["AGENCY_PULSE_SANDBOX_URL"] == "http://127.0.0.1:9199"
    assert env["PATH"].split(os.pathsep)[0] == "/venv/bin" and env["KEEP"] == "x"
    # New DAGs wait, paused, until the API server answers (no storm of early retries).
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "True"


def test_two_checkouts_with_different_ports_share_none():
    first = airflow_setup.standalone_environment({}, 8080, 8099, "")
    second = airflow_setup.standalone_environment({}, 8090, 8199, "")
    assert ports_of(first) | {8099} == {8080, 8081, 8082, 8099}
    assert not (ports_of(first) | {8099}) & (ports_of(second) | {8199})
    assert first["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] != \
        second["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]


@pytest.mark.parametrize("airflow_port, sandbox_port", [(8080, 8081), (8080, 8080), (0, 8099),
                                                        (65535, 8099)])
def test_colliding_or_impossible_ports_are_refused(airflow_port, sandbox_port):
    with pytest.raises(ValueError, match="PORT"):
        airflow_setup.standalone_environment({}, airflow_port, sandbox_port, "")
    completed = subprocess.run(
        [sys.executable, "-m", "agency_pulse.airflow_setup", "--standalone",
         "--airflow-port", str(airflow_port), "--sandbox-port", str(sandbox_port)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(
            PROJECT / "src")))
    assert completed.returncode == 2
    assert "PORT" in completed.stderr.strip().splitlines()[-1]


def test_make_airflow_passes_both_variables():
    completed = subprocess.run(["make", "--no-print-directory", "-n", "airflow", "AIRFLOW_PORT=9090", "SANDBOX_PORT=9199"],
                               cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    command = completed.stdout.strip().splitlines()[-1]
    assert "agency_pulse.airflow_setup --standalone" in command
    assert "--airflow-port 9090" in command and "--sandbox-port 9199" in command


def test_the_login_comes_from_the_generated_passwords_file(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", raising=False)
    assert airflow_setup.ui_login(tmp_path) is None
    (tmp_path / "simple_auth_manager_passwords.json.generated").write_text(
        json.dumps({"admin": "s3cret"}), encoding="utf-8")
    assert airflow_setup.ui_login(tmp_path) == ("admin", "s3cret")


def test_stopping_reaches_every_process_of_the_group_within_ten_seconds(tmp_path):
    """A stand-in for `airflow standalone`: a parent and a child that both ignore SIGTERM."""
    pid_file = tmp_path / "child.pid"
    script = (
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n")
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(pid_file.read_text())
    started = time.monotonic()
    airflow_setup.stop_process_group(process, grace=1.0)
    assert time.monotonic() - started < 10
    assert process.poll() is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # reaped by init once killed; a zombie still answers kill(0) briefly
        time.sleep(0.05)
    else:
        status = Path(f"/proc/{child}/status")
        assert not status.exists() or "zombie" in status.read_text()
