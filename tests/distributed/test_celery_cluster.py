"""Agency Pulse on a real CeleryExecutor cluster, without Docker.

Starts what docker-compose.yaml describes, with its own settings (read from the file by
scripts/distributed/local_cluster.py): a private PostgreSQL and Redis, the sandbox serving
several hundred synthetic accounts, `airflow db migrate` + pools + connections (the init
service), then the scheduler, dag-processor, api-server and two Celery workers, one on the
`default` queue and one on the `warehouse` queue. It triggers the extract DAG through the
REST API (logged in), waits for it and for the marts DAG its Asset triggers, then checks
the marts, where each task ran, and that no task ever hit DuckDB's single-writer lock.
Everything is stopped at the end, even on failure. The figures it measures are printed
(and written to tests/artifacts/distributed_figures.json) for the README's scaling section.

    .venv/bin/pytest tests/distributed/test_celery_cluster.py -m distributed -s
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import yaml

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT / "scripts" / "distributed"))

import local_cluster  # noqa: E402

pytestmark = [pytest.mark.distributed, pytest.mark.slow, pytest.mark.timeout(900)]

PLATFORMS = ("facebook", "instagram", "youtube", "x", "telegram")
# Synthetic accounts per platform (the registry the cluster extracts holds exactly these).
ACCOUNTS_PER_PLATFORM = int(os.environ.get("AGENCY_PULSE_DISTRIBUTED_ACCOUNTS", "21"))
WORKER_CONCURRENCY = os.environ.get("AGENCY_PULSE_DISTRIBUTED_CONCURRENCY", "3")
# Three batches per platform, so each platform's extraction fans out over mapped tasks.
BATCHES_PER_PLATFORM = 3
BATCH_SIZE = -(-ACCOUNTS_PER_PLATFORM // BATCHES_PER_PLATFORM)
# The day the scheduler's own @daily run is for once the DAG is unpaused (catchup off): the
# triggered run takes that logical date, so the scheduler adds no second run.
RUN_DAY = datetime.now(UTC).date()
LOCK_MESSAGE = "Could not set lock"
EXTRACT_DAG, MARTS_DAG = "agency_pulse_extract", "agency_pulse_marts"
WAREHOUSE_POOL = "agency_pulse_warehouse"


def write_synthetic_registry(path: Path, per_platform: int) -> Path:
    """A registry of `per_platform` agencies, each with one sandbox account on every platform."""
    from agency_pulse.registry import load_registry
    from agency_pulse_sandbox.data import synthetic_handle

    document = {"agencies": [
        {"id": f"sbx-{index:05d}", "name": f"Sandbox Agency {index:05d}", "kind": "synthetic",
         "jurisdiction": "AZ",
         "accounts": [{"platform": p, "handle": synthetic_handle(p, index)} for p in PLATFORMS]}
        for index in range(per_platform)]}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    assert len(load_registry(path).accounts) == per_platform * len(PLATFORMS)
    return path


class Figures:
    """Wall-clock measurements, printed and saved for the README."""

    def __init__(self):
        self.values: dict = {}
        self._started = time.monotonic()

    def mark(self, name: str) -> None:
        self.values[f"{name}_s"] = round(time.monotonic() - self._started, 1)

    def save(self) -> None:
        target = PROJECT / "tests" / "artifacts" / "distributed_figures.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.values, indent=2, default=str), encoding="utf-8")
        print("\nDistributed run figures:\n" + json.dumps(self.values, indent=2, default=str))


@pytest.fixture(scope="module")
def figures():
    collected = Figures()
    yield collected
    collected.save()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, figures):
    """The compose services as local processes; stopped (process groups killed) at the end."""
    workdir = tmp_path_factory.mktemp("cluster")
    registry = write_synthetic_registry(workdir / "registry.yaml", ACCOUNTS_PER_PLATFORM)
    variables = local_cluster.LocalCluster.generated_secrets()
    variables.update(AGENCY_PULSE_SANDBOX_EXTRA_ACCOUNTS=str(ACCOUNTS_PER_PLATFORM),
                     AIRFLOW_WORKER_CONCURRENCY=WORKER_CONCURRENCY)
    # Test-only: the synthetic registry, and no retries so a failure shows at once.
    extra = {"AGENCY_PULSE_REGISTRY": str(registry), "AGENCY_PULSE_TASK_RETRIES": "0",
             "AGENCY_PULSE_EXTRACT_BATCH_SIZE": str(BATCH_SIZE)}
    with local_cluster.running_cluster(workdir, variables=variables, extra_environment=extra,
                                       sandbox_argv=["--date", RUN_DAY.isoformat()]) as running:
        figures.mark("cluster_ready")
        yield running


@pytest.fixture(scope="module")
def api(cluster):
    """A REST session logged in as the UI user (the UI and API require a login)."""
    anonymous = requests.get(f"{cluster.api_url}/api/v2/dags", timeout=30)
    assert anonymous.status_code == 401
    token = requests.post(f"{cluster.api_url}/auth/token", timeout=30, json={
        "username": cluster.variables["AIRFLOW_ADMIN_USER"],
        "password": cluster.variables["AIRFLOW_ADMIN_PASSWORD"]})
    assert token.status_code == 201, token.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    session.base_url = f"{cluster.api_url}/api/v2"
    return session


def _get(api, path: str) -> requests.Response:
    return api.get(api.base_url + path, timeout=30)


def _wait(condition, timeout: float, what: str, cluster, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cluster.group.check_alive()
        try:
            result = condition()
        except requests.Timeout:  # a busy api-server answers late: ask again until the deadline
            result = None
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def finished_runs(cluster, api, figures):
    """Trigger the extract DAG for RUN_DAY; wait for it and the Asset-triggered marts run."""
    for dag_id in (EXTRACT_DAG, MARTS_DAG):
        _wait(lambda d=dag_id: _get(api, f"/dags/{d}").status_code == 200, 240,
              f"the dag-processor to parse {dag_id}", cluster)
    figures.mark("dags_parsed")
    assert api.patch(f"{api.base_url}/dags/{MARTS_DAG}", json={"is_paused": False},
                     timeout=30).status_code == 200
    run_id = f"distributed__{RUN_DAY.isoformat()}"
    triggered = api.post(f"{api.base_url}/dags/{EXTRACT_DAG}/dagRuns", timeout=30, json={
        "dag_run_id": run_id, "logical_date": f"{RUN_DAY.isoformat()}T00:00:00Z"})
    assert triggered.status_code == 200, triggered.text
    assert api.patch(f"{api.base_url}/dags/{EXTRACT_DAG}", json={"is_paused": False},
                     timeout=30).status_code == 200

    def extract_done():
        state = _get(api, f"/dags/{EXTRACT_DAG}/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None

    extract_state = _wait(extract_done, 600, "the extract run", cluster)
    figures.mark("extract_run_finished")

    def marts_done():
        runs = _get(api, f"/dags/{MARTS_DAG}/dagRuns").json()["dag_runs"]
        finished = [r for r in runs if r["state"] in ("success", "failed")]
        return finished[0] if finished else None

    marts_run = (_wait(marts_done, 300, "the Asset-triggered marts run", cluster)
                 if extract_state == "success" else None)
    figures.mark("marts_run_finished")
    return {"extract_state": extract_state, "run_id": run_id, "marts_run": marts_run}


@pytest.fixture(scope="module")
def metadata(cluster, finished_runs, figures) -> dict[str, list[dict]]:
    """Every task instance and DAG run of the cluster's database, with timings and placement."""
    import psycopg2
    import psycopg2.extras

    database = cluster.database
    con = psycopg2.connect(host="127.0.0.1", port=database.port, user=database.user,
                           password=database.password, dbname=database.name)
    try:
        with con.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute(
                "select dag_id, task_id, map_index, state, queue, pool, hostname, "
                "external_executor_id, start_date, end_date, "
                "extract(epoch from end_date - start_date) as seconds "
                "from task_instance order by start_date")
            rows = [dict(row) for row in cursor.fetchall()]
            cursor.execute("select dag_id, run_type, state, "
                           "extract(epoch from end_date - start_date) as seconds from dag_run")
            runs = [dict(row) for row in cursor.fetchall()]
    finally:
        con.close()
    _record_task_figures(figures, rows, runs)
    return {"tasks": rows, "runs": runs}


@pytest.fixture(scope="module")
def task_instances(metadata) -> list[dict]:
    return metadata["tasks"]


def _record_task_figures(figures: Figures, rows: list[dict], runs: list[dict]) -> None:
    figures.values.update(
        accounts_per_platform=ACCOUNTS_PER_PLATFORM, platforms=len(PLATFORMS),
        accounts_total=ACCOUNTS_PER_PLATFORM * len(PLATFORMS), run_day=RUN_DAY.isoformat(),
        cpu_count=os.cpu_count(), default_worker_concurrency=int(WORKER_CONCURRENCY),
        extract_batch_size=BATCH_SIZE,
        tasks=len(rows))
    figures.values["dag_runs"] = {f"{r['dag_id']} ({r['run_type']})": {
        "state": r["state"], "seconds": round(float(r["seconds"] or 0), 1)} for r in runs}
    stages: dict[str, dict] = {}
    for row in rows:
        name = f"{row['dag_id']}.{row['task_id']}"
        stage = stages.setdefault(name, {"tasks": 0, "task_seconds": 0.0, "queue": row["queue"],
                                         "start": row["start_date"], "end": row["end_date"]})
        stage["tasks"] += 1
        stage["task_seconds"] = round(stage["task_seconds"] + float(row["seconds"] or 0), 1)
        if row["start_date"] and (stage["start"] is None or row["start_date"] < stage["start"]):
            stage["start"] = row["start_date"]
        if row["end_date"] and (stage["end"] is None or row["end_date"] > stage["end"]):
            stage["end"] = row["end_date"]
    for stage in stages.values():
        start, end = stage.pop("start"), stage.pop("end")
        stage["wall_seconds"] = round((end - start).total_seconds(), 1) if start and end else None
    figures.values["stages"] = stages


def test_extract_and_the_asset_triggered_marts_run_succeed(finished_runs, metadata,
                                                           task_instances):
    failed = [(t["dag_id"], t["task_id"], t["map_index"], t["state"]) for t in task_instances
              if t["state"] != "success"]
    assert finished_runs["extract_state"] == "success", failed
    extract_runs = [r for r in metadata["runs"] if r["dag_id"] == EXTRACT_DAG]
    assert [r["run_type"] for r in extract_runs] == ["manual"]
    marts_run = finished_runs["marts_run"]
    assert marts_run["state"] == "success", failed
    assert marts_run["run_type"] == "asset_triggered"
    # Each platform fanned out into its batches, every batch in the platform's API pool.
    for platform in PLATFORMS:
        batches = [t for t in task_instances
                   if t["dag_id"] == EXTRACT_DAG and t["task_id"] == f"extract_{platform}"]
        assert len(batches) == BATCHES_PER_PLATFORM, platform
        assert {t["pool"] for t in batches} == {f"agency_pulse_api_{platform}"}
        assert sorted(t["map_index"] for t in batches) == list(range(BATCHES_PER_PLATFORM))


def test_the_marts_hold_every_sandbox_account(cluster, finished_runs):
    import duckdb

    warehouse = cluster.volume("agency-pulse-warehouse") / "warehouse.duckdb"
    assert warehouse.is_file()
    # The default worker's home never got a warehouse: only the warehouse worker writes one.
    assert not (cluster.volume("agency-pulse-data") / "warehouse.duckdb").exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select platform, count(distinct account_id), count(*), sum(posts), "
            "count(followers_end) from marts.account_monthly "
            "where account_id in (select account_id from core.accounts) group by platform"
        ).fetchall()
        logged = con.execute(
            "select status, count(*) from quality.extract_log where run_date = $day "
            "group by status", {"day": RUN_DAY}).fetchall()
        snapshots = con.execute(
            "select count(distinct account_id) from staging.lake_account_snapshots "
            "where snapshot_date = $day", {"day": RUN_DAY}).fetchone()[0]
    by_platform = {platform: (accounts, months, posts, with_followers)
                   for platform, accounts, months, posts, with_followers in rows}
    assert set(by_platform) == set(PLATFORMS)
    for platform, (accounts, months, posts, with_followers) in by_platform.items():
        assert accounts == ACCOUNTS_PER_PLATFORM, platform
        # Years of history: many months per account; a hidden count is NULL, not 0.
        assert months > 12 * accounts and posts > 0 and with_followers > 0, platform
    # Every account of every batch was extracted that day and its snapshot loaded.
    assert dict(logged) == {"ok": ACCOUNTS_PER_PLATFORM * len(PLATFORMS)}
    assert snapshots == ACCOUNTS_PER_PLATFORM * len(PLATFORMS)


def test_every_warehouse_task_ran_on_the_warehouse_worker(cluster, task_instances):
    warehouse_log = cluster.group.processes["airflow-worker-warehouse"].log_text()
    default_log = cluster.group.processes["airflow-worker"].log_text()
    warehouse_tasks = [t for t in task_instances if t["pool"] == WAREHOUSE_POOL]
    marts_tasks = {t["task_id"] for t in task_instances if t["dag_id"] == MARTS_DAG}
    assert {t["task_id"] for t in warehouse_tasks} == marts_tasks  # every one writes
    assert {"load_warehouse", "publish_warehouse"} <= marts_tasks or "build_warehouse" in marts_tasks
    for task in task_instances:
        celery_id = task["external_executor_id"]
        assert celery_id, task
        if task["pool"] == WAREHOUSE_POOL:
            assert task["queue"] == "warehouse", task
            assert celery_id in warehouse_log and celery_id not in default_log, task
        else:
            assert task["queue"] == "default", task
            assert celery_id in default_log and celery_id not in warehouse_log, task


def test_no_task_ever_hit_the_duckdb_lock(cluster, task_instances):
    logs = [p for p in (cluster.volume("airflow-logs")).rglob("*") if p.is_file()]
    task_logs = [p for p in logs if "dag_id=" in str(p)]
    assert len(task_logs) >= len(task_instances)
    offenders = [str(p) for p in [*logs, *cluster.group.log_dir.glob("*.log")]
                 if LOCK_MESSAGE in p.read_text(encoding="utf-8", errors="replace")]
    assert not offenders
