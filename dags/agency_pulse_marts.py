"""
### Agency Pulse: warehouse and marts

Runs whenever the lake gets new extracts or observations: loads the accepted lake into
DuckDB (`$AGENCY_PULSE_HOME/warehouse.duckdb`), rebuilds the staging, intermediate and
mart models of the dbt project `include/dbt/`, then writes the annual report. Both tasks hold the
one-slot warehouse pool: DuckDB allows one writer process.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from agency_pulse.config import WAREHOUSE_POOL
from agency_pulse.orchestration import (
    LAKE_ASSET_URI,
    OBSERVATIONS_ASSET_URI,
    REPORT_ASSET_URI,
    TAGS,
    WAREHOUSE_ASSET_URI,
    default_args,
)
from agency_pulse.settings import Settings

# Read when the file is parsed, for the DAG's own arguments (retries, the queue of the
# warehouse writers); each task reads the settings of the worker it runs on when it starts.
DAG_SETTINGS = Settings.from_environment()
# Tasks that write the warehouse run on this queue (served by the worker owning the volume).
WAREHOUSE_QUEUE = DAG_SETTINGS.warehouse_queue


@dag(
    dag_id="agency_pulse_marts",
    schedule=(Asset(LAKE_ASSET_URI) | Asset(OBSERVATIONS_ASSET_URI)),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=[*TAGS, "warehouse"],
    default_args=default_args(DAG_SETTINGS),
    doc_md=__doc__,
)
def agency_pulse_marts():
    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[Asset(WAREHOUSE_ASSET_URI)])
    def build_warehouse() -> dict:
        from agency_pulse import pipeline

        summary = pipeline.build_warehouse(Settings.from_environment())
        return {"loaded": summary["loaded"], "marts": summary["marts"]}

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[Asset(REPORT_ASSET_URI)])
    def write_report() -> str:
        from agency_pulse import config, report

        written = report.write_report(home=config.paths(Settings.from_environment()))
        return str(getattr(written, "html", written))

    build_warehouse() >> write_report()


agency_pulse_marts()
