"""
### Agency Pulse: warehouse and marts

Runs whenever the lake gets new extracts or observations: loads the accepted lake into
DuckDB (`$AGENCY_PULSE_HOME/warehouse.duckdb`), runs each model of the dbt project
`include/dbt/` as its own task (staging, intermediate, marts, quality, in dbt's order),
publishes the readers' file, then writes the annual report. Every task holds the one-slot
warehouse pool: DuckDB allows one writer process. Until the project's manifest is written
(at set-up), one task builds the whole warehouse.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from agency_pulse.config import WAREHOUSE_POOL
from agency_pulse.marts_dag import manifest_is_current, model_task_group
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
PER_MODEL_TASKS = manifest_is_current()


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
    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def load_warehouse() -> dict:
        from agency_pulse import marts_dag, pipeline

        marts_dag.refresh_manifest()  # the next parse renders a changed project
        summary = pipeline.load_warehouse(Settings.from_environment())
        return {"loaded": summary["loaded"]}

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[Asset(WAREHOUSE_ASSET_URI)])
    def publish_warehouse() -> None:
        from agency_pulse import warehouse

        warehouse.publish(settings=Settings.from_environment())

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[Asset(WAREHOUSE_ASSET_URI)])
    def build_warehouse() -> dict:
        from agency_pulse import marts_dag, pipeline

        marts_dag.refresh_manifest()
        summary = pipeline.build_warehouse(Settings.from_environment())
        return {"loaded": summary["loaded"], "marts": summary["marts"]}

    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE, outlets=[Asset(REPORT_ASSET_URI)])
    def write_report() -> str:
        from agency_pulse import config, report

        settings = Settings.from_environment()
        written = report.write_report(home=config.paths(settings), language=settings.language)
        return str(getattr(written, "html", written))

    if PER_MODEL_TASKS:
        models = model_task_group("dbt_models", pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE,
                                  default_args=default_args(DAG_SETTINGS))
        load_warehouse() >> models >> publish_warehouse() >> write_report()
    else:
        build_warehouse() >> write_report()


agency_pulse_marts()
