"""The Celery configuration of Agency Pulse's Airflow services: Airflow's own, and a warm
start for the worker that writes the warehouse.

Set as ``AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=agency_pulse.celery_config.CELERY_CONFIG``
(docker-compose.yaml does, for every Airflow service). ``CELERY_CONFIG`` is Airflow's default
Celery configuration, unchanged.

The warm start: a process started with ``AGENCY_PULSE_WORKER_WARM_START=true`` (in
docker-compose.yaml, the warehouse worker only) imports dbt and the warehouse code once, when
Celery loads this configuration, before it forks its pool. Airflow 3 runs every task in a
fork of the worker process that received it, so each task starts with them imported: a
marts DAG model task costs its model's SQL, not dbt's start-up (about 3 s of the 4 a model
task took on a 2-core machine). Other services and workers import nothing more.
"""

from __future__ import annotations

import importlib
import logging

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

from agency_pulse.settings import Settings

log = logging.getLogger(__name__)

CELERY_CONFIG = dict(DEFAULT_CELERY_CONFIG)

# What the warehouse worker's tasks import: dbt's runner and its DuckDB adapter, the
# warehouse, and what the marts DAG file imports when a task parses it.
WARM_START_MODULES = ("dbt.cli.main", "dbt.adapters.duckdb", "agency_pulse.warehouse",
                      "agency_pulse.marts_dag", "cosmos")


def warm_start(modules: tuple[str, ...] = WARM_START_MODULES) -> list[str]:
    """Import ``modules`` now; return those imported (one that fails to import is logged and
    left to the task that needs it, which then reports the error itself)."""
    imported = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a warm start must never stop the worker
            log.warning("warm start: %s not imported: %s", name, exc)
        else:
            imported.append(name)
    return imported


if Settings.from_environment().worker_warm_start:
    warm_start()
