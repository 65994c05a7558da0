"""The DAG files parse without errors and follow the project's rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agency_pulse.config import WAREHOUSE_POOL
from agency_pulse.orchestration import POOLS

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
HEAVY = re.compile(r"^(import|from) +(pandas|duckdb|great_expectations|pyarrow|requests)\b", re.M)
EXPECTED = {"agency_pulse_extract", "agency_pulse_observations", "agency_pulse_marts"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    from agency_pulse import marts_dag

    marts_dag.refresh_manifest()  # as make setup does (a no-op when the project is unchanged)
    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


def test_every_dag_has_tags_owner_docs_and_retries(dagbag):
    for dag_id in EXPECTED:
        dag = dagbag.dags[dag_id]
        assert "agency-pulse" in dag.tags, dag_id
        assert dag.doc_md and len(dag.doc_md) > 100, dag_id
        for task in dag.tasks:
            assert task.owner == "agency-pulse", (dag_id, task.task_id)
            assert task.retries >= 1, (dag_id, task.task_id)
            assert task.retry_exponential_backoff, (dag_id, task.task_id)
            assert task.on_failure_callback, (dag_id, task.task_id)


def test_pools_are_known_and_warehouse_writers_use_the_one_slot_pool(dagbag):
    assert POOLS[WAREHOUSE_POOL][0] == 1
    known = set(POOLS) | {"default_pool"}
    for dag_id in EXPECTED:
        for task in dagbag.dags[dag_id].tasks:
            assert task.pool in known, (dag_id, task.task_id, task.pool)
    marts = dagbag.dags["agency_pulse_marts"]
    # every task of the marts DAG writes the warehouse (or its readers' file): one at a time
    assert {t.task_id for t in marts.tasks if t.pool == WAREHOUSE_POOL} == {
        t.task_id for t in marts.tasks}


def test_marts_dag_runs_each_dbt_model_as_its_own_task_in_dbt_order(dagbag):
    from agency_pulse import dbt_project, marts_dag

    assert marts_dag.manifest_is_current(), "make setup writes the dbt manifest"
    marts = dagbag.dags["agency_pulse_marts"]
    models = {m.name: m for m in dbt_project.compiled_models("warehouse")}
    tasks = {t.task_id: t for t in marts.tasks}
    by_model = {t.op_kwargs["model"]: t for t in marts.tasks
                if t.task_id.startswith("dbt_models.")}
    assert set(by_model) == set(models)
    for name, model in models.items():
        upstream = {tasks[u].op_kwargs["model"] for u in by_model[name].upstream_task_ids
                    if u.startswith("dbt_models.")}
        referenced = {m for m in models if m != name
                      and f'"{models[m].schema}"."{m}"' in model.compiled_sql}
        assert upstream == referenced, name
    assert [t for t in marts.tasks if t.task_id == "load_warehouse"][0].downstream_task_ids
    assert {"publish_warehouse", "write_report"} <= set(tasks)


def test_marts_dag_is_scheduled_on_the_extract_and_observation_assets(dagbag):
    extract = dagbag.dags["agency_pulse_extract"]
    observations = dagbag.dags["agency_pulse_observations"]
    produced = {o.uri for t in [*extract.tasks, *observations.tasks] for o in t.outlets}
    marts = dagbag.dags["agency_pulse_marts"]
    condition = marts.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"  # either new extracts or new observations
    consumed = {asset.uri for asset in condition.objects}
    assert produced == consumed


def test_settled_months_are_compacted_after_validation_whatever_it_found(dagbag):
    extract = dagbag.dags["agency_pulse_extract"]
    compact = extract.get_task("compact_settled_months")
    assert compact.upstream_task_ids == {"validate_landed_batches"}
    assert compact.trigger_rule == "all_done"
    assert not compact.outlets  # the marts follow validation's publish, not compaction


@pytest.mark.parametrize("path", sorted(DAGS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_dag_files_are_thin(path):
    text = path.read_text()
    assert not HEAVY.search(text), f"{path.name} imports a heavy library at module level"
    assert len(text.splitlines()) <= 150


def test_plugins_folder_loads_without_import_errors(tmp_path):
    """Airflow's plugin loader must not import the package modules as plugins."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "plugins", "--output", "json"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Failed to import" not in result.stdout + result.stderr
    plugins = json.loads(result.stdout[result.stdout.index("["):]) if "[" in result.stdout else []
    sources = [p["source"] for p in plugins]
    assert not [s for s in sources if "/agency_pulse/" in s], sources
