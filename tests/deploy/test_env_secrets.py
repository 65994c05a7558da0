"""The deployment refuses .env.example's placeholder secrets and says how to generate each
(scripts/compose/env_secrets.py, the image's entrypoint); its UI is published on loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "scripts" / "compose" / "env_secrets.py"
sys.path.insert(0, str(PROJECT / "scripts" / "compose"))
sys.path.insert(0, str(PROJECT / "scripts" / "distributed"))

import env_secrets  # noqa: E402
import local_cluster  # noqa: E402


def env_example_variables(text: str | None = None) -> dict[str, str]:
    text = (PROJECT / ".env.example").read_text(encoding="utf-8") if text is None else text
    variables = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip()
    return variables


def service_environments(variables: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each Airflow service's environment as docker compose gives it, from `variables`."""
    specs = local_cluster.service_specs(local_cluster.load_compose(), variables)
    return {name: spec.environment for name, spec in specs.items()
            if name.startswith("airflow-")}


def run_entrypoint(environment: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], **environment}
    return subprocess.run([sys.executable, str(SCRIPT), "exec", "--", *command], env=env,
                          capture_output=True, text=True, timeout=60)


def test_env_example_ships_a_placeholder_for_every_secret():
    variables = env_example_variables()
    for name, (placeholder, _) in env_secrets.SECRETS.items():
        assert variables[name] == placeholder, name
        assert placeholder.startswith(env_secrets.PLACEHOLDER_PREFIX)


def test_every_airflow_service_with_the_example_secrets_is_refused_naming_each_secret():
    environments = service_environments(env_example_variables())
    # The init service sees every secret (the admin password too); the others all but that.
    init_problems = env_secrets.placeholder_problems(environments["airflow-init"])
    assert [line.split(" ", 1)[0] for line in init_problems] == list(env_secrets.SECRETS)
    for line in init_problems:
        assert "\n" not in line
        assert "generate one with python -c" in line
    fernet_line = next(line for line in init_problems if line.startswith("AIRFLOW_FERNET_KEY"))
    assert "Fernet.generate_key()" in fernet_line
    for name, environment in environments.items():
        problems = env_secrets.placeholder_problems(environment)
        # Database and broker passwords hide inside URLs: found there too.
        assert any(p.startswith("POSTGRES_PASSWORD") for p in problems), name
        assert any(p.startswith("REDIS_PASSWORD") for p in problems), name


def test_generated_env_has_no_placeholder_and_starts():
    generated = env_secrets.generate_env((PROJECT / ".env.example").read_text(encoding="utf-8"))
    variables = env_example_variables(generated)
    assert not [name for name, value in variables.items()
                if value.startswith(env_secrets.PLACEHOLDER_PREFIX)]
    Fernet(variables["AIRFLOW_FERNET_KEY"].encode())  # a valid key, or this raises
    secrets = [variables[name] for name in env_secrets.SECRETS]
    assert len(set(secrets)) == len(secrets) and all(len(s) >= 32 for s in secrets)
    # Everything else is .env.example's, line for line.
    example = (PROJECT / ".env.example").read_text(encoding="utf-8").splitlines()
    kept = [line for line in generated.splitlines()
            if line.partition("=")[0] not in env_secrets.SECRETS]
    assert kept == [line for line in example if line.partition("=")[0] not in env_secrets.SECRETS]
    for environment in service_environments(variables).values():
        assert env_secrets.placeholder_problems(environment) == []


def test_the_entrypoint_refuses_to_run_the_command_with_a_placeholder(tmp_path):
    marker = tmp_path / "ran"
    environment = service_environments(env_example_variables())["airflow-scheduler"]
    completed = run_entrypoint(environment, sys.executable, "-c",
                               f"open({str(marker)!r}, 'w').close()")
    assert completed.returncode == 1
    assert not marker.exists()
    lines = completed.stderr.strip().splitlines()
    assert lines and all(line.startswith("refusing to start: ") for line in lines)
    assert {line.split()[3] for line in lines} == {
        "POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY"}


def test_the_entrypoint_runs_the_command_with_generated_secrets_and_never_prints_them():
    generated = env_example_variables(env_secrets.generate_env(
        (PROJECT / ".env.example").read_text(encoding="utf-8")))
    environment = service_environments(generated)["airflow-init"]
    completed = run_entrypoint(environment, sys.executable, "-c", "print('started')")
    assert (completed.returncode, completed.stdout.strip(), completed.stderr) == (0, "started", "")
    # A secret left as a placeholder: refused, and the other secrets' values are not shown.
    environment["AIRFLOW_ADMIN_PASSWORD"] = "change-me-admin"
    completed = run_entrypoint(environment, "true")
    assert completed.returncode == 1
    assert completed.stderr.startswith("refusing to start: AIRFLOW_ADMIN_PASSWORD in .env")
    for name in env_secrets.SECRETS:
        assert generated[name] not in completed.stderr


@pytest.mark.parametrize("argv", [[], ["exec"], ["exec", "--"], ["check", "extra"], ["bogus"]])
def test_bad_usage_exits_2(argv):
    completed = subprocess.run([sys.executable, str(SCRIPT), *argv], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 2
    assert completed.stderr.startswith("usage:")


def test_the_image_runs_every_command_through_the_check():
    dockerfile = (PROJECT / "Dockerfile").read_text(encoding="utf-8")
    entrypoint = re.search(r"^ENTRYPOINT (.*)$", dockerfile, re.MULTILINE).group(1)
    assert '"scripts/compose/env_secrets.py"' in entrypoint.replace("/opt/agency-pulse/", "")
    assert entrypoint.endswith('"exec", "--"]')
    assert re.search(r"^COPY .*\bscripts\b", dockerfile, re.MULTILINE)


def test_published_ports_bind_to_loopback_unless_the_user_says_otherwise():
    compose = local_cluster.load_compose()
    published = {name: [local_cluster.interpolate(str(port), variables)
                        for port in service.get("ports", [])
                        for variables in [env_example_variables()]]
                 for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"airflow-apiserver": ["127.0.0.1:8080:8080"]}
    port = compose["services"]["airflow-apiserver"]["ports"][0]
    assert local_cluster.interpolate(port, {}) == "127.0.0.1:8080:8080"
    assert local_cluster.interpolate(port, {"AIRFLOW_BIND_ADDRESS": "0.0.0.0",
                                            "AIRFLOW_PORT": "9000"}) == "0.0.0.0:9000:8080"
