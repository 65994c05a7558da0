"""The daily run, stage by stage: the same functions the Airflow tasks call.

extract (per platform, to the landing zone) -> validate (publish or quarantine)
-> compact (settled months into one file each) -> build (load the accepted lake into
DuckDB, run the SQL models).

Each stage takes the ``settings`` its caller (a CLI command, an Airflow task) read at its
entry; without them it reads the environment itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from agency_pulse import config
from agency_pulse.errors import AgencyPulseError
from agency_pulse.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class DailyRunResult:
    run_date: date
    platforms: dict[str, dict] = field(default_factory=dict)
    failed_platforms: dict[str, str] = field(default_factory=dict)
    validation_failures: list[str] = field(default_factory=list)
    build: dict | None = None


class DailyRunFailed(AgencyPulseError):
    """Some part of the run failed after everything that succeeded was landed and loaded."""

    def __init__(self, message: str, result: DailyRunResult):
        super().__init__(message)
        self.result = result


def extract_platform(platform: str, run_date: date, *, run_id: str | None = None,
                     batch_key: str = "all", accounts: Sequence | None = None,
                     settings: Settings | None = None, only_missing: bool = False) -> dict:
    """Extract one platform for one day into the landing zone; returns the run summary."""
    from agency_pulse import extract

    settings = settings or Settings.from_environment()
    # With a shared lake the extract state reads the days other hosts published there
    # (``extract_state`` through ``lake_fs``); nothing is copied first.
    return extract.run_platform(platform, run_date, run_id=run_id, batch_key=batch_key,
                                accounts=list(accounts) if accounts is not None else None,
                                settings=settings, only_missing=only_missing)


def landed_files(dataset: str | None = None, platform: str | None = None,
                 day: date | None = None, *, settings: Settings | None = None) -> list[Path]:
    """Landing-zone partition files waiting for validation, sorted by path."""
    from agency_pulse import lake

    return lake.list_partitions(lake.LANDING, dataset, platform, day,
                                root=config.paths(settings).lake)


def validate_landing(*, platform: str | None = None, day: date | None = None,
                     run_id: str | None = None, raise_on_failure: bool = True,
                     settings: Settings | None = None) -> list:
    """Validate every waiting landing file (of a platform/day when given)."""
    from agency_pulse import validation

    # With a lake on S3 the landed batches of every host are listed, read and moved there
    # (``lake_fs``); nothing is copied to this host.
    files = landed_files(platform=platform, day=day, settings=settings)
    outcomes = validation.validate_landed(files, run_id=run_id, run_date=day) if files else []
    if raise_on_failure:
        validation.raise_for_failures(outcomes)
    return outcomes


def compact_lake(run_date: date, *, settings: Settings | None = None):
    """Merge each settled month's daily files (``lake_compact``), holding the warehouse's
    build lock so that no build lists files while they are merged. Returns the result."""
    from agency_pulse import lake_compact, warehouse

    paths = config.paths(settings or Settings.from_environment())
    paths.home.mkdir(parents=True, exist_ok=True)
    lock = warehouse._hold_build_lock(paths.warehouse, warehouse.BUILD_LOCK_TIMEOUT_SECONDS)
    try:
        # With a lake on S3, compacted where it is (``lake_fs``), whatever host published it.
        return lake_compact.compact_lake(run_date, root=paths.lake)
    finally:
        lock.close()


def build_warehouse(settings: Settings | None = None, *, full: bool = False) -> dict:
    """Load the accepted lake, rebuild the marts, then publish the readers' file.
    Incremental unless ``full`` (``warehouse.build``).

    Readers (report, query, UI) read ``warehouse.snapshot.duckdb``, which the build
    publishes (``report.warehouse_snapshot``), so they never hold the lock the single
    DuckDB writer needs.
    """
    from agency_pulse import warehouse

    settings = settings or Settings.from_environment()
    return warehouse.build(settings=settings, full=full)


def load_warehouse(settings: Settings | None = None) -> dict:
    """Load the accepted lake, the registry and the quality results into the warehouse,
    without running the models (the marts DAG runs them one task each)."""
    from agency_pulse import warehouse

    settings = settings or Settings.from_environment()
    return warehouse.build(settings=settings, models=False)


def run_daily(run_date: date, platforms: Sequence[str] | None = None, *,
              run_id: str | None = None, settings: Settings | None = None) -> DailyRunResult:
    """One daily run in-process: extract every platform, validate, load, transform.

    The platforms are extracted side by side (one thread each, every one pacing on its own
    API's limits). A platform that fails does not stop the others; whatever succeeded is
    validated and loaded before DailyRunFailed is raised naming what failed.
    """
    from concurrent.futures import ThreadPoolExecutor

    from agency_pulse.extract import PlatformRunFailed

    settings = settings or Settings.from_environment()
    run_id = run_id or f"cli__{run_date.isoformat()}"
    result = DailyRunResult(run_date=run_date)
    names = list(platforms or config.PLATFORMS)

    def extract_one(platform: str) -> tuple[dict, str | None]:
        try:
            return extract_platform(platform, run_date, run_id=run_id, settings=settings), None
        except PlatformRunFailed as exc:
            return getattr(exc, "summary", {}) or {}, str(exc)

    with ThreadPoolExecutor(max_workers=max(1, len(names)),
                            thread_name_prefix="extract-platform") as pool:
        # in the platforms' order, whichever finishes first
        for platform, (summary, failure) in zip(names, pool.map(extract_one, names),
                                                strict=True):
            result.platforms[platform] = summary
            if failure is not None:
                result.failed_platforms[platform] = failure
    outcomes = validate_landing(day=run_date, run_id=run_id, raise_on_failure=False,
                                settings=settings)
    result.validation_failures = [_describe_failure(o) for o in outcomes if not o.success]
    compact_lake(run_date, settings=settings)
    result.build = build_warehouse(settings)
    # one line per problem, each naming its platform (and account, where there is one)
    problems = list(result.failed_platforms.values())
    problems += result.validation_failures
    if problems:
        raise DailyRunFailed("\n".join(problems), result)
    return result


def _describe_failure(outcome) -> str:
    return (f"validation failed for {outcome.dataset} {outcome.platform} "
            f"{outcome.partition_date}: {outcome.failed_expectations} "
            f"(quarantined to {outcome.quarantined_to})")


@contextlib.contextmanager
def sandbox_if_default(run_date: date, *, seed: int = 7,
                       settings: Settings | None = None) -> Iterator[str | None]:
    """Start an embedded sandbox when it is the configured default and none is running.

    Yields the configured sandbox URL (None when there is none), or the embedded sandbox's;
    pass the settings on with ``sandbox_url`` replaced by it. The embedded URL is also
    exported as AGENCY_PULSE_SANDBOX_URL while it runs, for anything that reads the
    environment itself (a child process, a library caller without settings).
    """
    settings = settings or Settings.from_environment()
    if not settings.uses_sandbox or settings.sandbox_url:
        yield settings.sandbox_url
        return
    from agency_pulse.sandbox_entry import sandbox_entry

    with sandbox_entry("run")(date=run_date, seed=seed) as sandbox:
        os.environ["AGENCY_PULSE_SANDBOX_URL"] = sandbox.url
        try:
            yield sandbox.url
        finally:
            os.environ.pop("AGENCY_PULSE_SANDBOX_URL", None)
