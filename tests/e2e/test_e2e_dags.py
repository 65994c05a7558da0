"""End to end through Airflow: `dag.test()` of the extract and marts DAGs on the sandbox.

dag.test() does not trigger Asset-scheduled DAGs, so the marts DAG is run after the
extract DAG, as the scheduler would.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
RUN_DAY = date(2026, 11, 20)
MARTS = ("account_monthly", "account_annual", "agency_monthly", "agency_annual")


@pytest.fixture
def airflow_on_sandbox(pulse_home, monkeypatch):
    from agency_pulse_sandbox import run_sandbox

    monkeypatch.setenv("AGENCY_PULSE_TASK_RETRIES", "0")
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")
    with run_sandbox(date=RUN_DAY, seed=7) as sandbox:
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", sandbox.url)
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS_DIR))
        assert bag.import_errors == {}
        yield pulse_home, bag


def _marts_checksums(paths) -> dict[str, str]:
    import duckdb

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        sums = {}
        for mart in MARTS:
            rows = con.execute(f"select * from marts.{mart} order by all").fetchall()
            sums[mart] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return sums


def _run(bag, dag_id: str, logical_date=None):
    from airflow.utils.state import DagRunState

    dag = bag.dags[dag_id]
    run = dag.test(logical_date=logical_date) if logical_date else dag.test()
    assert run.state == DagRunState.SUCCESS, f"{dag_id} ended {run.state}"
    return run


def test_extract_then_marts_dag_build_the_marts_and_rerun_is_identical(airflow_on_sandbox):
    import duckdb

    paths, bag = airflow_on_sandbox
    logical = datetime(RUN_DAY.year, RUN_DAY.month, RUN_DAY.day, tzinfo=UTC)
    _run(bag, "agency_pulse_extract", logical)
    _run(bag, "agency_pulse_marts")

    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        platforms = {r[0] for r in con.execute(
            "select distinct platform from marts.account_annual").fetchall()}
        assert "facebook" in platforms
        annual = con.execute("""select count(*), count(followers_end), sum(posts)
                                from marts.agency_annual where year = 2026""").fetchall()[0]
        assert annual[0] >= 15 and annual[1] >= 15 and annual[2] > 0
        years = con.execute("select min(year) from marts.account_annual").fetchall()[0][0]
        assert years <= 2024, "the first run should bring years of post history"
        logged = con.execute("""select count(*) from quality.extract_log
                                where run_date = ?""", [RUN_DAY]).fetchall()[0][0]
        assert logged >= 30  # one row per registry account
        validated = con.execute(
            "select count(*), bool_and(success) from quality.validation_runs").fetchall()[0]
        assert validated[0] > 0 and validated[1]
    assert (paths.data_docs / "index.html").exists()
    first = _marts_checksums(paths)

    _run(bag, "agency_pulse_extract", logical)
    _run(bag, "agency_pulse_marts")
    assert _marts_checksums(paths) == first
