"""docker-compose.yaml, the image and the code agree (Docker cannot run here, so check it).

The distributed test runs the compose file's own settings (scripts/distributed/local_cluster.py
reads it); these checks make sure those settings are the ones the code needs: one executor,
the queues the DAGs use, the pools the init service creates, volumes where the code writes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT / "scripts" / "distributed"))

import local_cluster  # noqa: E402

AIRFLOW_IMAGE_SERVICES = {name for name in local_cluster.AIRFLOW_SERVICES} | {"airflow-init"}


@pytest.fixture(scope="module")
def example_variables() -> dict[str, str]:
    """.env.example's variables, with a value for each secret it leaves empty."""
    variables = {}
    for line in (PROJECT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip() or f"test-{name.strip().lower()}"
    return variables


@pytest.fixture(scope="module")
def compose() -> dict:
    return local_cluster.load_compose()


@pytest.fixture(scope="module")
def specs(compose, example_variables) -> dict[str, local_cluster.ServiceSpec]:
    return local_cluster.service_specs(compose, example_variables)


@pytest.fixture(scope="module")
def dag_tasks(specs) -> list[dict]:
    """Every task of the DAGs as the warehouse worker's environment parses them."""
    env = local_cluster.clean_base_environment()
    env.update(specs["airflow-worker-warehouse"].environment)
    env.update(AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT / "dags"),
               AIRFLOW__CORE__PLUGINS_FOLDER=str(PROJECT / "plugins"),
               AIRFLOW__CORE__LOAD_EXAMPLES="False", AGENCY_PULSE_HOME=str(PROJECT / "data"))
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")  # parsing needs no database
    script = (
        "import json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(PROJECT / 'dags')!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "print(json.dumps([{'dag': d.dag_id, 'task': t.task_id, 'queue': t.queue,"
        " 'pool': t.pool} for d in bag.dags.values() for t in d.tasks]))\n")
    completed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                               text=True, timeout=120, cwd=PROJECT)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_interpolation_follows_compose_rules():
    variables = {"SET": "value", "EMPTY": ""}
    assert local_cluster.interpolate("${SET}/${EMPTY:-fallback}/${EMPTY-kept}/$$HOME",
                                     variables) == "value/fallback//$HOME"
    with pytest.raises(local_cluster.ComposeError, match="MISSING is required: set it"):
        local_cluster.interpolate("${MISSING:?set it}", variables)
    with pytest.raises(local_cluster.ComposeError):
        local_cluster.interpolate("${EMPTY:?set it}", variables)


def test_every_secret_is_required_and_documented_in_env_example(compose, example_variables):
    text = (PROJECT / "docker-compose.yaml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used <= set(example_variables), f"not in .env.example: {used - set(example_variables)}"
    for secret in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY",
                   "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD"):
        assert re.search(r"\$\{" + secret + r":\?", text), f"{secret} must be required (:?)"
    # Each ships as a `change-me-*` placeholder the services refuse (tests/deploy).
    for secret in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY",
                   "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD"):
        assert example_variables[secret].startswith("change-me-"), secret
    gitignored = (PROJECT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in gitignored


def test_every_airflow_service_runs_the_celery_executor_with_shared_secrets(specs):
    common = {key: specs["airflow-scheduler"].environment[key] for key in (
        "AIRFLOW__CORE__EXECUTOR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AGENCY_PULSE_HOME",
        "AGENCY_PULSE_WAREHOUSE_QUEUE")}
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert "@postgres:5432/" in common["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert common["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert common["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == \
        "http://airflow-apiserver:8080/execution/"
    for name in AIRFLOW_IMAGE_SERVICES:
        for key, value in common.items():
            assert specs[name].environment.get(key) == value, f"{name}: {key} differs"


def test_the_local_cluster_starts_every_airflow_service_of_the_compose_file(compose):
    airflow_services = {name for name, service in compose["services"].items()
                        if (service.get("command") or [""])[0] == "airflow"}
    assert airflow_services == set(local_cluster.AIRFLOW_SERVICES)
    assert {"postgres", "redis", "sandbox", "airflow-init"} <= set(compose["services"])


def test_workers_serve_the_queues_the_dags_use(specs, dag_tasks):
    def served(name):
        command = specs[name].command
        assert command[:3] == ["airflow", "celery", "worker"], command
        return set(command[command.index("--queues") + 1].split(","))

    warehouse_queue = specs["airflow-worker"].environment["AGENCY_PULSE_WAREHOUSE_QUEUE"]
    default_queue = specs["airflow-worker"].environment["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    assert served("airflow-worker") == {default_queue}
    assert served("airflow-worker-warehouse") == {warehouse_queue}
    assert warehouse_queue != default_queue
    assert {t["queue"] for t in dag_tasks} == {default_queue, warehouse_queue}
    # The warehouse worker runs one task at a time: DuckDB has one writer process.
    command = specs["airflow-worker-warehouse"].command
    assert command[command.index("--concurrency") + 1] == "1"


def test_warehouse_writers_are_on_the_warehouse_queue_and_in_the_one_slot_pool(specs, dag_tasks):
    from agency_pulse.config import WAREHOUSE_POOL
    from agency_pulse.orchestration import POOLS

    warehouse_queue = specs["airflow-worker"].environment["AGENCY_PULSE_WAREHOUSE_QUEUE"]
    on_queue = {(t["dag"], t["task"]) for t in dag_tasks if t["queue"] == warehouse_queue}
    in_pool = {(t["dag"], t["task"]) for t in dag_tasks if t["pool"] == WAREHOUSE_POOL}
    # Every task of the marts DAG writes the warehouse (one build task, or one per dbt model
    # once the project's manifest is written, with the load and publish tasks around them).
    marts_tasks = {(t["dag"], t["task"]) for t in dag_tasks if t["dag"] == "agency_pulse_marts"}
    assert marts_tasks and marts_tasks <= on_queue
    assert on_queue == in_pool
    assert POOLS[WAREHOUSE_POOL][0] == 1
    # Every pool a task names is created by the init service (airflow_setup.create_pools).
    assert {t["pool"] for t in dag_tasks} - {"default_pool"} <= set(POOLS)


def test_init_service_migrates_and_creates_pools_connections_and_login(specs):
    init = specs["airflow-init"]
    script = PROJECT / init.command[-1].removeprefix(local_cluster.IMAGE_PROJECT_PATH + "/")
    assert script.is_file(), script
    text = script.read_text(encoding="utf-8")
    for step in ('"db", "migrate"', "create_pools()", "create_sandbox_connections()",
                 "write_ui_login()"):
        assert step in text
    assert init.environment["AIRFLOW_ADMIN_PASSWORD"]


def test_the_ui_requires_a_login(specs):
    api = specs["airflow-apiserver"].environment
    assert api["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    assert api.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "false").lower() != "true"
    passwords = Path(api["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    # The init service writes the passwords file on a volume the api-server reads.
    for name in ("airflow-init", "airflow-apiserver"):
        assert any(passwords.is_relative_to(target)
                   for target in specs[name].volumes.values()), name


def _volume_holding(spec: local_cluster.ServiceSpec, path: str) -> str | None:
    for volume, target in spec.volumes.items():
        if Path(path).is_relative_to(target):
            return volume
    return None


def test_data_lives_on_a_named_volume_every_airflow_service_shares(compose, specs):
    home = specs["airflow-worker"].environment["AGENCY_PULSE_HOME"]
    volumes = {_volume_holding(specs[name], home) for name in AIRFLOW_IMAGE_SERVICES}
    assert len(volumes) == 1 and None not in volumes, volumes
    assert volumes <= set(compose["volumes"])
    logs = specs["airflow-worker"].environment["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]
    assert _volume_holding(specs["airflow-worker"], logs) == \
        _volume_holding(specs["airflow-apiserver"], logs) is not None


def test_only_the_warehouse_worker_mounts_the_warehouse(compose, specs, monkeypatch):
    from agency_pulse import config

    env = specs["airflow-worker-warehouse"].environment
    monkeypatch.setenv("AGENCY_PULSE_HOME", env["AGENCY_PULSE_HOME"])
    monkeypatch.setenv("AGENCY_PULSE_WAREHOUSE", env["AGENCY_PULSE_WAREHOUSE"])
    warehouse = config.paths().warehouse
    volume = _volume_holding(specs["airflow-worker-warehouse"], str(warehouse))
    assert volume in compose["volumes"]
    assert volume != _volume_holding(specs["airflow-worker-warehouse"], env["AGENCY_PULSE_HOME"])
    others = {name for name, spec in specs.items()
              if name != "airflow-worker-warehouse" and volume in spec.volumes}
    assert not others, f"{others} must not mount the warehouse volume"


def test_image_installs_the_pinned_requirements_and_the_project(specs):
    dockerfile = (PROJECT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"install .*-r requirements\.txt", dockerfile)
    assert re.search(r"install .*--no-deps -e \.", dockerfile)
    for env in (specs["airflow-scheduler"].environment, specs["airflow-worker"].environment):
        for key in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER"):
            folder = env[key].removeprefix(local_cluster.IMAGE_PROJECT_PATH + "/")
            assert re.search(rf"^COPY .*\b{folder}\b", dockerfile, re.MULTILINE), key
            assert (PROJECT / folder).is_dir()


def test_every_agency_pulse_variable_in_compose_is_one_the_code_reads(specs):
    code = "\n".join(path.read_text(encoding="utf-8")
                     for path in (PROJECT / "src" / "agency_pulse").rglob("*.py"))
    read = set(re.findall(r"AGENCY_PULSE_[A-Z_]+", code))
    configured = {key for spec in specs.values() for key in spec.environment
                  if key.startswith("AGENCY_PULSE_")}
    assert {"AGENCY_PULSE_HOME", "AGENCY_PULSE_WAREHOUSE_QUEUE"} <= configured
    assert configured <= read, f"set but never read: {configured - read}"


def test_the_sandbox_service_command_is_one_the_sandbox_accepts(specs):
    from agency_pulse_sandbox.cli import build_parser

    command = specs["sandbox"].command
    assert command[:3] == ["python", "-m", "agency_pulse_sandbox"]
    args = build_parser().parse_args(command[3:])
    assert (args.host, args.port) == ("0.0.0.0", 8099)
    # The Airflow services reach it by its service name and port.
    assert specs["airflow-worker"].environment["AGENCY_PULSE_SANDBOX_URL"] == \
        f"http://sandbox:{args.port}"


def test_only_the_warehouse_worker_warm_starts_with_dbt_imported(specs):
    """Every Airflow service reads Airflow's Celery configuration through
    agency_pulse.celery_config; only the warehouse worker imports dbt before forking."""
    from agency_pulse.settings import Settings

    airflow_services = {name: spec for name, spec in specs.items()
                        if spec.environment.get("AIRFLOW__CORE__EXECUTOR") == "CeleryExecutor"}
    assert airflow_services
    for name, spec in airflow_services.items():
        assert (spec.environment["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"]
                == "agency_pulse.celery_config.CELERY_CONFIG"), name
        warm = Settings.from_environment(spec.environment).worker_warm_start
        assert warm == (name == "airflow-worker-warehouse"), name


@pytest.mark.parametrize("warm", [True, False])
def test_the_celery_configuration_is_airflows_and_warm_starts_on_request(warm):
    code = ("import sys, json\n"
            "from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG\n"
            "from agency_pulse.celery_config import CELERY_CONFIG\n"
            "print(json.dumps({'same': CELERY_CONFIG == DEFAULT_CELERY_CONFIG,\n"
            "                  'dbt': 'dbt.cli.main' in sys.modules,\n"
            "                  'warehouse': 'agency_pulse.warehouse' in sys.modules}))\n")
    import os

    env = dict(os.environ, AGENCY_PULSE_WORKER_WARM_START="true" if warm else "false")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"same": True, "dbt": warm, "warehouse": warm}
