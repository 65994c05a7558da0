"""What the DAG files share: assets, default arguments, the failure callback, the run day.

Imported at DAG-parse time, so it imports nothing heavy (no pandas, duckdb, GX, requests).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, timedelta

from agency_pulse import platforms
from agency_pulse.config import WAREHOUSE_POOL
from agency_pulse.settings import Settings

log = logging.getLogger("agency_pulse")

OWNER = "agency-pulse"
TAGS = ["agency-pulse"]

# Asset URIs: what each DAG produces; the marts DAG is scheduled on the first two.
LAKE_ASSET_URI = "agency-pulse://lake/platform-extracts"
OBSERVATIONS_ASSET_URI = "agency-pulse://lake/observations"
WAREHOUSE_ASSET_URI = "agency-pulse://warehouse/marts"
REPORT_ASSET_URI = "agency-pulse://reports/latest"

# Extract tasks of one platform running at once on ALL workers together. Each task paces itself
# by the API's rate-limit headers; the pool stops more workers from multiplying that rate.
API_POOL_SLOTS = {p.name: p.api_pool_slots for p in platforms.TABLE}


def api_pool(platform: str) -> str:
    """The Airflow pool a platform's extract tasks run in."""
    return platforms.get(platform).api_pool


# Airflow pools created at set-up: name -> (slots, description).
POOLS = {
    WAREHOUSE_POOL: (1, "DuckDB allows one writer process: every warehouse writer runs here"),
    **{api_pool(platform): (slots, f"{platform} API: extract tasks at once on all workers")
       for platform, slots in API_POOL_SLOTS.items()},
}


def default_args(settings: Settings) -> dict:
    """Retries (AGENCY_PULSE_TASK_RETRIES, 0 in tests) with exponential backoff."""
    return {
        "owner": OWNER,
        "retries": settings.task_retries,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": log_failure_summary,
    }


def log_failure_summary(context) -> None:
    """Log one readable line: which task, which day, which try, and why."""
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    map_index = getattr(ti, "map_index", -1)
    where = f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}"
    if map_index is not None and map_index >= 0:
        where += f"[{map_index}]"
    reason = (str(exc).splitlines() or [type(exc).__name__])[0] if exc else "unknown error"
    log.error("Agency Pulse task failed: %s for %s (try %s): %s", where,
              run_day(context).isoformat(), getattr(ti, "try_number", "?"), reason)


def run_day(context) -> date:
    """The day a run is for: its logical date, or for a manual run (no logical date) run_after."""
    logical = context.get("logical_date")
    if logical is not None:
        return logical.date()
    dag_run = context.get("dag_run")
    run_after = getattr(dag_run, "run_after", None)
    if run_after is not None:
        return run_after.date()
    from datetime import datetime

    return datetime.now(UTC).date()


def extract_batches(platform: str, batch_size: int | None = None, registry=None, *,
                    settings: Settings | None = None) -> list[dict]:
    """The platform's registry accounts in batches, as keyword arguments for the mapped extract
    task: ``[{"platform", "batch_key": "b000", "accounts": [account_id, ...]}, ...]``.

    Batch size: ``batch_size``, else the settings' extract_batch_size (without ``settings``,
    the environment read now). Reads the registry, so call it inside a task, never at parse time.
    """
    from agency_pulse.config import registry_path
    from agency_pulse.registry import load_registry

    settings = settings or Settings.from_environment()
    size = batch_size or settings.extract_batch_size
    if size < 1:
        raise ValueError(f"extract batch size must be at least 1, not {size}")
    registry = registry or load_registry(registry_path(settings))
    account_ids = [a.account_id for a in registry.accounts_for(platform)]
    return [{"platform": platform, "batch_key": f"b{number:03d}",
             "accounts": account_ids[start:start + size]}
            for number, start in enumerate(range(0, len(account_ids), size))]
