"""The DuckDB warehouse: load the accepted lake and the registry, then build the SQL models.

``build()`` is the one warehouse writer. In a single transaction on
``$AGENCY_PULSE_HOME/warehouse.duckdb`` it

1. creates the schemas ``staging``, ``core``, ``marts`` and ``quality``;
2. loads every accepted lake dataset into ``staging.lake_<dataset>`` with the dataset's exact
   schema (``lake.SCHEMAS``), keeping one row per ``lake.KEYS`` key (the latest wins). Only the
   accepted zone is read: ``lake/landing``, ``lake/quarantine`` and ``lake/raw`` are never
   listed. The lake is read where it is (``lake_fs``): the local folder, or the S3 prefix of
   ``AGENCY_PULSE_LAKE_URL`` directly (no local copy), validation results included;
3. loads the registry into ``core.agencies`` and ``core.accounts``, and the validation results
   and extract log into ``quality.validation_runs`` and ``quality.extract_log``;
4. runs the dbt project of ``include/dbt`` in-process on the same connection (``dbt run``:
   staging views, then the ``core``, ``marts`` and ``quality`` tables, in dbt's dependency
   order; ``dbt_project.run``). dbt comments the models and their columns with
   docs/REFERENCE.md's words (``persist_docs``; the descriptions are generated into the
   project's schema.yml by ``column_docs``); ``column_docs`` comments the source tables.

A failure rolls the whole transaction back, so readers keep the previous complete build.
After the commit, still holding the build lock, it publishes the readers' file
(``report.warehouse_snapshot.publish_snapshot``): the tables readers use, in a new file
renamed into place.
Every lake file is verified against the checksum recorded when it was published before it
is read (``lake.verify_accepted_files``): a file that changed since fails the build with
``LakeFileCorrupted`` naming it.

Incremental builds (the default): ``quality.loaded_files`` remembers every lake file loaded
(path, size, mtime) and ``quality.build_state`` a fingerprint of the registry and the SQL.
A compacted month file (``lake_compact``) whose replaced files were all loaded as they were
is taken as loaded without reading it: a day is never read twice.
When the fingerprint is unchanged and no loaded file changed or disappeared, only the new
files are read and upserted into ``staging.lake_<dataset>`` (by key, the latest wins exactly
as in a full load); the registry is not reloaded. Otherwise, or with ``build(full=True)``,
everything is reloaded.

Models after an incremental load: the load notes in ``quality.build_changes`` every row it
added and the loaded row each replaced (``CHANGE_DAYS``: its key day and the earliest day it
can move a figure), and the latest observation day the models had seen; dbt then runs
without ``--full-refresh`` and the incremental models (``include/dbt/macros/increments.sql``)
recompute only the account days, posts and periods those rows touch
(``quality.build_scope``). After a full load, or when a new row maps a lake account to
another registry account, dbt runs with ``--full-refresh``: every model from all its input.
``quality.build_state.models_mode`` records which, for the marts DAG's model tasks.

Models: one ``.sql`` file of ``include/dbt/models/<layer>`` is one model, created in the
schema its folder names in ``dbt_project.yml``; ``{{ ref() }}`` and ``{{ source() }}`` give
the order, so a new file needs no registration anywhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import re
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from agency_pulse import column_docs, config, dbt_project, lake, lake_fs
from agency_pulse.registry import Registry, load_registry
from agency_pulse.settings import Settings
from agency_pulse.validation.outcomes import VALIDATION_RUNS_SCHEMA

log = logging.getLogger(__name__)

SCHEMAS = ("staging", "core", "marts", "quality")

# How long a build waits for another process's build of the same warehouse.
BUILD_LOCK_TIMEOUT_SECONDS = 1800.0

# Loaded by build() itself (not dbt models): column_docs comments them.
SOURCE_TABLES = ("quality.extract_log", "quality.validation_runs")

MARTS = ("account_monthly", "account_annual", "agency_monthly", "agency_annual")

# What an incremental load changed (``quality.build_changes``), for the models that update
# by period: per dataset the day a row is keyed by and the earliest day it can change a
# figure of (an observation's last post moves the last post of every period after it).
# Constant SQL over the dataset's own columns (lake.SCHEMAS), never a value.
CHANGE_DAYS: dict[str, tuple[str, str]] = {
    "account_snapshots": ("snapshot_date", "snapshot_date"),
    "follower_history": ("day", "day"),
    "observations": ("observed_on", "least(observed_on, coalesce(last_post_on, observed_on))"),
    "extract_log": ("run_date", "run_date"),
    "posts": ("cast(published_at at time zone 'UTC' as date)",
              "cast(published_at at time zone 'UTC' as date)"),
    "post_deletions": ("detected_on", "detected_on"),
    # the reads that landed no post row (deletion detection's last seen): no model uses them
    "post_reads": ("read_on", "read_on"),
}

BUILD_CHANGES_SCHEMA = pa.schema([
    ("dataset", pa.string()),       # a lake dataset, or 'latest_observation' (see below)
    ("account_id", pa.string()),    # as in the lake (before stg_lake__account_identities)
    ("platform", pa.string()),
    ("post_id", pa.string()),
    ("day", pa.date32()),           # CHANGE_DAYS' key day
    ("from_day", pa.date32()),      # CHANGE_DAYS' earliest day the row can change
])

AGENCIES_SCHEMA = pa.schema([
    ("agency_id", pa.string()),
    ("name", pa.string()),
    ("name_en", pa.string()),
    ("kind", pa.string()),
    ("jurisdiction", pa.string()),
    ("active_from", pa.date32()),
    ("active_to", pa.date32()),
    ("successor_of", pa.list_(pa.string())),
])

ACCOUNTS_SCHEMA = pa.schema([
    ("account_id", pa.string()),
    ("agency_id", pa.string()),
    ("platform", pa.string()),
    ("handle", pa.string()),
    ("platform_id", pa.string()),
    ("label", pa.string()),
    ("active_from", pa.date32()),
    ("active_to", pa.date32()),
    ("verified", pa.bool_()),
])

class WarehouseError(RuntimeError):
    """The warehouse could not be built (a model, a lake file or the lock)."""


def connect_read_only(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse (CLI query, reports), session time zone UTC."""
    con = duckdb.connect(str(path or config.paths().warehouse), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    return con


def build(*, registry: Registry | None = None, home_paths: config.Paths | None = None,
          lock_timeout: float = 30.0, full: bool = False,
          settings: Settings | None = None, models: bool = True) -> dict:
    """Load the accepted lake, the registry and the quality results, and rebuild every model.

    Incremental unless ``full`` (or the registry or SQL changed, or a loaded lake file changed
    or disappeared): only lake files not loaded before are read; the result equals a full
    build's (``quality.build_state.last_mode`` says which was done). Returns a
    JSON-serialisable summary: the warehouse path, the rows loaded per source table, the models run in order, and the rows
    of each mart. All or nothing: on any error the transaction is rolled back and
    ``WarehouseError`` names what failed. Without ``settings``, reads the environment now.

    ``models=False`` loads the sources only (and publishes nothing): the marts DAG then runs
    each model as its own task (``run_model``) and publishes at the end (``publish``).
    """
    settings = settings or Settings.from_environment()
    home_paths = home_paths or config.paths(settings)
    registry = registry if registry is not None else load_registry(config.registry_path(settings))
    home_paths.home.mkdir(parents=True, exist_ok=True)
    fingerprint = build_fingerprint(registry)
    build_lock = _hold_build_lock(home_paths.warehouse, BUILD_LOCK_TIMEOUT_SECONDS)
    try:
        lake_files = lake_fs.open_lake(settings, home_paths)
        con = _connect_writer(home_paths.warehouse, lock_timeout,
                              settings.warehouse_memory_limit)
        lake_files.register(con)
    except BaseException:
        build_lock.close()
        raise
    try:
        con.execute("begin transaction")
        try:
            files = {dataset: lake_files.dataset_files(dataset) for dataset in lake.SCHEMAS}
            new_files = None if full else _new_files(con, files, fingerprint, lake_files)
            mode = "full" if new_files is None else "incremental"
            # the models recompute every period after a full load, else only what changed
            models_mode = mode
            log.info("warehouse build: %s load", mode)
            # Every file read is first checked against the checksum recorded when it was
            # published: a damaged file fails the build (rolled back) instead of loading.
            to_read = files if new_files is None else new_files
            lake_files.verify_accepted_files(
                [path for facts in to_read.values() for path, *_ in facts])
            loaded = {}
            if new_files is None:
                create_source_tables(con)
                for dataset in lake.SCHEMAS:
                    loaded[f"staging.lake_{dataset}"] = _load_lake_dataset(
                        con, dataset, [path for path, *_ in files[dataset]])
                loaded["core.agencies"], loaded["core.accounts"] = _load_registry(con, registry)
                con.execute("create or replace table quality.extract_log as "
                            "select * from staging.lake_extract_log")
            else:
                con.execute("set TimeZone = 'UTC'")
                identities = _identities(con)
                previous_mode, previous_done = _models_state(con)
                if not previous_done and previous_mode == "full":
                    models_mode = "full"  # the last load's full recompute never finished
                # the changes of a load whose model tasks did not all run are kept for them
                _start_changes(con, keep=not previous_done)
                for dataset in lake.SCHEMAS:
                    loaded[f"staging.lake_{dataset}"] = _upsert_lake_files(
                        con, dataset, [path for path, *_ in new_files[dataset]])
                if new_files["extract_log"]:
                    con.execute("create or replace table quality.extract_log as "
                                "select * from staging.lake_extract_log")
                loaded["core.agencies"] = _count(con, "core.agencies")
                loaded["core.accounts"] = _count(con, "core.accounts")
                if identities is None or _identities(con) != identities:
                    # a lake account now maps to another registry account: its rows move
                    models_mode = "full"
            loaded["quality.validation_runs"] = _load_validation_runs(
                con, [path for path, *_ in lake_files.validation_run_files()])
            loaded["quality.extract_log"] = _count(con, "quality.extract_log")
            _remember_loaded_files(con, files, fingerprint, mode, models_mode,
                                   models_done=models)
            ran = _run_dbt(con, full_refresh=models_mode == "full") if models else []
            log.info("models (%s): %s", models_mode, ", ".join(
                f"{m.qualified_name} {m.seconds:.2f}s" for m in ran))
            # the models' comments come from dbt (persist_docs); these are the sources'
            column_docs.comment_tables(con, only=SOURCE_TABLES)
            marts = {name: _count(con, f"marts.{name}") for name in MARTS
                     if any(m.qualified_name == f"marts.{name}" for m in ran)}
            con.execute("commit")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # keep the original error, not the rollback's
                con.execute("rollback")
            raise
        con.close()
        # Still under the build lock, so no other build writes the file while it is read.
        if models:
            _publish_for_readers(home_paths, settings)
    finally:
        con.close()  # a second close does nothing
        build_lock.close()  # closing the file releases the lock
    summary = {
        "warehouse": str(home_paths.warehouse),
        # full: the whole lake reloaded; incremental: only lake files not loaded before
        "mode": mode,
        # full: every period recomputed; incremental: only what the new rows touch
        "models_mode": models_mode,
        "loaded": loaded,
        "models": [m.qualified_name for m in ran],
        "marts": marts,
    }
    log.info("warehouse built: %s", summary)
    return summary


def run_model(name: str, *, settings: Settings | None = None,
              lock_timeout: float = 30.0) -> dict:
    """Run one dbt model (``dbt run --select name``, in-process) on the warehouse, in its own
    transaction under the build lock: the marts DAG's task for that model. Returns the
    model's qualified name and, for a mart, its rows."""
    settings = settings or Settings.from_environment()
    home_paths = config.paths(settings)
    build_lock = _hold_build_lock(home_paths.warehouse, BUILD_LOCK_TIMEOUT_SECONDS)
    try:
        con = _connect_writer(home_paths.warehouse, lock_timeout,
                              settings.warehouse_memory_limit)
        try:
            con.execute("begin transaction")
            try:
                ran = _run_dbt(con, select=[name],
                               full_refresh=_models_state(con)[0] == "full")
                con.execute("commit")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("rollback")
                raise
            summary = {"models": [m.qualified_name for m in ran]}
            if name in MARTS:
                summary["rows"] = _count(con, f"marts.{name}")
            return summary
        finally:
            con.close()
    finally:
        build_lock.close()


def _models_state(con: duckdb.DuckDBPyConnection) -> tuple[str, bool]:
    """The last load's models mode, and whether its models all ran (``build()`` runs them
    in the load's transaction; the marts DAG's last task, ``publish``, marks them done)."""
    # (checked first: inside the build's transaction a failed query would abort it)
    if not {"models_mode", "models_done"} <= _build_state_columns(con):
        return "full", True
    rows = con.execute("select models_mode, models_done from quality.build_state").fetchall()
    return rows[0] if rows else ("full", True)


def _build_state_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'quality' and table_name = 'build_state'").fetchall()}


def publish(*, settings: Settings | None = None) -> None:
    """Publish the readers' file from the warehouse as it is (after the model tasks), and
    note that the load's models all ran: the next load starts its changes afresh."""
    settings = settings or Settings.from_environment()
    home_paths = config.paths(settings)
    build_lock = _hold_build_lock(home_paths.warehouse, BUILD_LOCK_TIMEOUT_SECONDS)
    try:
        con = _connect_writer(home_paths.warehouse, 30.0, settings.warehouse_memory_limit)
        try:
            if "models_done" in _build_state_columns(con):
                con.execute("update quality.build_state set models_done = true")
        finally:
            con.close()
        _publish_for_readers(home_paths, settings)
    finally:
        build_lock.close()


def _publish_for_readers(home_paths: config.Paths, settings: Settings) -> None:
    from agency_pulse.report.warehouse_snapshot import publish_snapshot

    try:
        publish_snapshot(home_paths, memory_limit=settings.warehouse_memory_limit)
    except (duckdb.Error, OSError) as exc:
        raise WarehouseError(f"the warehouse was built but its readers' file could not be "
                             f"published: {' '.join(str(exc).split())}") from exc


def build_fingerprint(registry: Registry, project_dir: Path | None = None) -> str:
    """A hash of the registry and the dbt project: when it changes, build() loads in full."""
    digest = hashlib.sha256()
    for agency in registry.agencies:
        digest.update(repr(agency).encode())
    digest.update(dbt_project.project_fingerprint(project_dir).encode())
    return digest.hexdigest()


def _new_files(con: duckdb.DuckDBPyConnection, files: dict[str, list[tuple[str, int, int]]],
               fingerprint: str, lake_files: lake_fs.LakeFS
               ) -> dict[str, list[tuple[str, int, int]]] | None:
    """Per dataset, the lake files not loaded yet; None when only a full load is right.

    Full when the warehouse is new, the registry or SQL changed, a loaded file changed or
    disappeared, or a new file sorts before a loaded one of its partition folder (ties on
    the latest column go to the later file name, as in a full load).
    """
    tables = set(table_names(con, ("quality", "staging", "core")))
    needed = {"quality.loaded_files", "quality.build_state", "core.agencies", "core.accounts",
              "quality.extract_log", *(f"staging.lake_{d}" for d in lake.SCHEMAS)}
    if not needed <= tables:
        return None
    state = con.execute("select fingerprint from quality.build_state").fetchall()
    if state != [(fingerprint,)]:
        return None
    loaded = {path: (dataset, size, mtime) for dataset, path, size, mtime in con.execute(
        "select dataset, path, size, mtime_ns from quality.loaded_files").fetchall()}
    current = {path for facts in files.values() for path, *_ in facts}
    absorbed, covered = _absorbed_month_files(files, loaded, lake_files)
    if any(path not in current and path not in covered for path in loaded):
        return None
    new: dict[str, list[tuple[str, int, int]]] = {}
    last_loaded_in_folder: dict[str, str] = {}
    for path, (_, _, _) in loaded.items():
        folder = lake_fs.platform_folder(path)
        last_loaded_in_folder[folder] = max(last_loaded_in_folder.get(folder, ""), path)
    for dataset, facts in files.items():
        new[dataset] = []
        for path, size, mtime in facts:
            if path in absorbed:
                continue  # its rows are the loaded daily files' rows: never read twice
            if path in loaded:
                if loaded[path][1:] != (size, mtime):
                    return None
                continue
            if path < last_loaded_in_folder.get(lake_fs.platform_folder(path), ""):
                return None
            new[dataset].append((path, size, mtime))
    return new


def _absorbed_month_files(files: dict[str, list[tuple[str, int, int]]],
                          loaded: dict[str, tuple[str, int, int]], lake_files: lake_fs.LakeFS
                          ) -> tuple[set[str], set[str]]:
    """Compacted month files (``lake_compact``) that are new or changed but hold only rows
    already loaded: every file they replaced was loaded as it was then (path, size, mtime).
    Returns them and the loaded paths they cover (gone from the lake, yet nothing changed)."""
    absorbed: set[str] = set()
    covered: set[str] = set()
    for facts in files.values():
        for path, size, mtime in facts:
            if not lake.is_month_file(path) or loaded.get(path, (None,))[1:] == (size, mtime):
                continue
            folder = lake_fs.platform_folder(path)
            manifest = json.loads(lake_files.parquet_metadata(path).get(
                lake.MONTH_METADATA_KEY, b"{}"))
            sources = [(f"{folder}/{relative}", source_size, source_mtime)
                       for relative, source_size, source_mtime in manifest.get("sources", [])]
            if sources and all(loaded.get(source, (None,))[1:] == (source_size, source_mtime)
                               for source, source_size, source_mtime in sources):
                absorbed.add(path)
                covered.update(source for source, *_ in sources)
    return absorbed, covered


def _start_changes(con: duckdb.DuckDBPyConnection, *, keep: bool = False) -> None:
    """Empty ``quality.build_changes`` (unless ``keep``: the last load's model tasks did not
    all run, so its changes still wait for them) and note the latest observation day the
    models saw (dataset ``latest_observation``): the running period it closed is
    recomputed too."""
    existing = set(table_names(con, ("quality", "core")))
    if not keep or "quality.build_changes" not in existing:
        _create_from_arrow(con, "quality.build_changes", BUILD_CHANGES_SCHEMA.empty_table())
    if "core.int_account_daily_followers" in existing:
        con.execute(
            "insert into quality.build_changes (dataset, day, from_day) "
            "select 'latest_observation', max(observed_on), max(observed_on) "
            "from core.int_account_daily_followers")


def _remember_loaded_files(con: duckdb.DuckDBPyConnection,
                           files: dict[str, list[tuple[str, int, int]]], fingerprint: str,
                           mode: str, models_mode: str = "full",
                           models_done: bool = True) -> None:
    rows = [(dataset, path, size, mtime) for dataset, facts in files.items()
            for path, size, mtime in facts]
    table = pa.table({"dataset": pa.array([r[0] for r in rows], pa.string()),
                      "path": pa.array([r[1] for r in rows], pa.string()),
                      "size": pa.array([r[2] for r in rows], pa.int64()),
                      "mtime_ns": pa.array([r[3] for r in rows], pa.int64())})
    _create_from_arrow(con, "quality.loaded_files", table)
    con.execute("create or replace table quality.build_state as "
                "select $f as fingerprint, $mode as last_mode, $models as models_mode, "
                "$done as models_done",
                {"f": fingerprint, "mode": mode, "models": models_mode, "done": models_done})


def _upsert_lake_files(con: duckdb.DuckDBPyConnection, dataset: str, files: list[str]) -> int:
    """Upsert new lake files into ``staging.lake_<dataset>``: per key the latest row wins,
    a tie going to the new file (it sorts after every loaded file of its folder).

    The loaded rows the new ones meet are found in one pass (``_old_rows``; where the key
    holds a day, only from the new rows' first day on: the table is not read whole), then
    noted in ``quality.build_changes`` with the new rows, replaced, or kept where newer."""
    table = f"staging.lake_{dataset}"
    if not files:
        return _count(con, table)
    latest_rows = _latest_rows_query(con, dataset, files)
    keys, latest = lake.KEYS[dataset]
    same_key = " and ".join(f'old."{k}" is not distinct from new."{k}"' for k in keys)
    replaces = (f'(old."{latest}" is null '
                f'or coalesce(new."{latest}" >= old."{latest}", false))')
    day_key = next((k for k in keys if k == CHANGE_DAYS[dataset][0]), None)
    try:
        con.execute(f"create or replace temp table _new_rows as {latest_rows}", {"files": files})
        prune, params = "true", {}
        if day_key:
            prune = f'old."{day_key}" >= $first'
            params["first"] = con.execute(
                f'select min("{day_key}") from _new_rows').fetchone()[0]
        con.execute(
            f"create or replace temp table _old_rows as select old.*, old.rowid as _rowid "
            f"from {table} as old semi join _new_rows as new on {same_key} where {prune}",
            params)
        _record_changes(con, dataset)
        con.execute(
            f"delete from {table} where rowid in (select old._rowid from _old_rows as old "
            f"join _new_rows as new on {same_key} where {replaces})")
        con.execute(
            f"insert into {table} by name select * from _new_rows as new where not exists "
            f"(select 1 from _old_rows as old where {same_key} and not {replaces})")
        con.execute("drop table _new_rows")
        con.execute("drop table _old_rows")
    except duckdb.Error as exc:
        raise WarehouseError(f"lake dataset {dataset}: cannot load: {exc}") from exc
    return _count(con, table)


def _record_changes(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    """Note in ``quality.build_changes`` the rows of ``_new_rows`` and the loaded rows they
    may replace (``_old_rows``: a post may move to another day), for the models that update
    by period."""
    change_day, change_from = CHANGE_DAYS[dataset]
    post_columns = ("platform, post_id" if "post_id" in lake.SCHEMAS[dataset].names
                    else "platform, null")
    con.execute(
        f"insert into quality.build_changes select $dataset, account_id, {post_columns}, "
        f"{change_day}, {change_from} from (select * from _new_rows union all by name "
        f"select * exclude (_rowid) from _old_rows)", {"dataset": dataset})


def _identities(con: duckdb.DuckDBPyConnection) -> list[tuple] | None:
    """The lake-to-registry account mapping as the models see it now (None if not built)."""
    if "staging.stg_lake__account_identities" not in table_names(con, ("staging",)):
        return None
    return con.execute(
        "select * from staging.stg_lake__account_identities order by all").fetchall()


def create_source_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas and empty source tables (``staging.lake_*``, ``core.agencies``,
    ``core.accounts``, ``quality.validation_runs``, ``quality.extract_log``), replacing any.

    Tests use it to start from empty tables, insert hand-written rows and call ``run_models``.
    """
    con.execute("set TimeZone = 'UTC'")
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    for dataset, schema in lake.SCHEMAS.items():
        _create_from_arrow(con, f"staging.lake_{dataset}", schema.empty_table())
    _create_from_arrow(con, "core.agencies", AGENCIES_SCHEMA.empty_table())
    _create_from_arrow(con, "core.accounts", ACCOUNTS_SCHEMA.empty_table())
    _create_from_arrow(con, "quality.validation_runs", VALIDATION_RUNS_SCHEMA.empty_table())
    _create_from_arrow(con, "quality.extract_log", lake.SCHEMAS["extract_log"].empty_table())
    _create_from_arrow(con, "quality.build_changes", BUILD_CHANGES_SCHEMA.empty_table())


def run_models(con: duckdb.DuckDBPyConnection,
               project_dir: Path | None = None) -> list[dbt_project.CompiledModel]:
    """Create every model of the dbt project on an open connection from dbt's compiled SQL
    (``dbt_project.run_compiled``: the tables ``build`` makes, without dbt's per-model
    bookkeeping); return them in run order. For tests and demo warehouses.

    The source tables must exist (``build`` or ``create_source_tables``). Sets the session
    time zone to UTC: periods and days are UTC.
    """
    con.execute("set TimeZone = 'UTC'")
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    try:
        return dbt_project.run_compiled(con, project_dir)
    except dbt_project.DbtProjectError as exc:
        raise WarehouseError(f"{exc}{_suspects(con, exc)}") from exc


def _run_dbt(con: duckdb.DuckDBPyConnection, select: list[str] | None = None, *,
             full_refresh: bool = True) -> list[dbt_project.ModelRun]:
    """``dbt run`` of the project (or ``select``), in-process, inside the caller's transaction.
    ``full_refresh=False``: the incremental models update only the periods that changed."""
    try:
        return dbt_project.run(con, select=select, full_refresh=full_refresh)
    except dbt_project.DbtProjectError as exc:
        raise WarehouseError(f"{exc}{_suspects(con, exc)}") from exc


def _suspects(con: duckdb.DuckDBPyConnection, exc: Exception) -> str:
    cause = exc.__cause__
    message = str(exc)
    arithmetic = (isinstance(cause, duckdb.OutOfRangeException | duckdb.ConversionException)
                  or "Out of Range Error" in message or "Conversion Error" in message)
    return _oversized_counts(con) if arithmetic else ""


# Counts above this cannot come from a valid observation file (docs/REFERENCE.md, Manual observations CSV).
_MAX_OBSERVED_COUNT = 10**10


def _oversized_counts(con: duckdb.DuckDBPyConnection) -> str:
    """For an arithmetic error: the observations (account, file, row) whose counts are
    beyond what an import accepts today, e.g. landed by an older version; '' if none."""
    try:
        found = con.execute(
            "select account_id, source_file, row_number, followers, posts_total "
            "from staging.lake_observations where followers > ? or posts_total > ? "
            "order by source_file, row_number limit 3",
            [_MAX_OBSERVED_COUNT, _MAX_OBSERVED_COUNT]).fetchall()
    except duckdb.Error:
        return ""
    return "".join(f"; observation of {account} in {source_file!r} row {row} has "
                   f"{'followers' if (followers or 0) > _MAX_OBSERVED_COUNT else 'posts_total'} "
                   f"{max(followers or 0, posts or 0)}"
                   for account, source_file, row, followers, posts in found)


def _hold_build_lock(warehouse: Path, timeout: float):
    """Wait for the other builds of this warehouse (other processes) and hold the lock.

    DuckDB lets one process write and fails a second at once ("Could not set lock"), so a
    CLI build and a DAG's build, or two backfill days, queue here. Returns the open lock
    file: closing it releases the lock. WarehouseError after ``timeout`` seconds.
    """
    lock_path = warehouse.with_name(warehouse.name + ".build-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a")  # noqa: SIM115 (held until the build ends)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                raise WarehouseError(f"another warehouse build held {lock_path} for more than "
                                     f"{timeout:.0f}s; try again when it has finished") from None
            time.sleep(0.2)


def memory_limit(settings: Settings | None = None) -> str:
    """``AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT`` (default 3GB): DuckDB spills to disk beyond it,
    so a full rebuild of years of history stays under 4 GB (a larger limit builds faster).
    Without ``settings``, reads the environment now."""
    return (settings or Settings.from_environment()).warehouse_memory_limit


def _connect_writer(path: Path, lock_timeout: float, limit: str) -> duckdb.DuckDBPyConnection:
    # A reader (CLI query, report) may hold the file for a moment: wait for it, then give up.
    deadline = time.monotonic() + lock_timeout
    delay = 0.1
    while True:
        try:
            # the limit as connection config, not SQL: no value is spliced into a statement
            con = duckdb.connect(str(path), config={"memory_limit": limit})
            con.execute("set TimeZone = 'UTC'")
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WarehouseError(f"cannot open {path} for writing: {exc}") from exc
            if time.monotonic() >= deadline:
                # DuckDB lets no writer in while another process has the file open, even
                # read-only: name the way out (readers open the readers' file instead).
                pid = re.search(r"\(PID (\d+)\)", str(exc))
                holder = f"another process (PID {pid.group(1)})" if pid else "another process"
                raise WarehouseError(
                    f"cannot open {path} for writing: {holder} has it open, even read-only; "
                    "close it: SQL sessions should open warehouse.snapshot.duckdb, which "
                    "builds never lock") from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _create_from_arrow(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    view = "_arrow_source"
    con.register(view, data)
    try:
        con.execute(f"create or replace table {table} as select * from {view}")
    finally:
        con.unregister(view)


def _load_lake_dataset(con: duckdb.DuckDBPyConnection, dataset: str, files: list[str]) -> int:
    """Load one accepted dataset into ``staging.lake_<dataset>``, one row per key (latest wins)."""
    table = f"staging.lake_{dataset}"
    schema = lake.SCHEMAS[dataset]
    _create_from_arrow(con, table, schema.empty_table())
    if not files:
        return 0
    latest_rows = _latest_rows_query(con, dataset, files)
    try:
        con.execute(f"insert into {table} by name {latest_rows}", {"files": files})
    except duckdb.Error as exc:
        raise WarehouseError(f"lake dataset {dataset}: cannot load: {exc}") from exc
    return _count(con, table)


def _latest_rows_query(con: duckdb.DuckDBPyConnection, dataset: str, files: list[str]) -> str:
    """The query (files as ``$files``) keeping one row per ``lake.KEYS`` key: the latest
    wins, a tie going to a daily file over a compacted month (a rerun of a compacted day
    corrects it), then to the later file (later partition date, then name)."""
    present = _parquet_columns(con, files)
    columns = [name for name in lake.SCHEMAS[dataset].names if name in present]
    keys, latest = lake.KEYS[dataset]
    if latest not in present or not set(keys) <= present:
        raise WarehouseError(f"lake dataset {dataset}: files lack the key columns "
                             f"{', '.join((*keys, latest))}")
    select = ", ".join(f'"{c}"' for c in columns)
    partition = ", ".join(f'"{k}"' for k in keys)
    return (f"select {select} from read_parquet($files, hive_partitioning = false, "
            f"union_by_name = true, filename = '_source_file') "
            f"qualify row_number() over (partition by {partition} "
            f'order by "{latest}" desc nulls last, '
            f"_source_file like '%/{lake.MONTH_FILE_NAME}', _source_file desc) = 1")


def _parquet_columns(con: duckdb.DuckDBPyConnection, files: list[str]) -> set[str]:
    try:
        rows = con.execute(
            "describe select * from read_parquet($files, hive_partitioning = false, "
            "union_by_name = true)", {"files": files}).fetchall()
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot read the lake files: {exc}") from exc
    return {row[0] for row in rows}


def _load_registry(con: duckdb.DuckDBPyConnection, registry: Registry) -> tuple[int, int]:
    agencies = pa.Table.from_pylist([
        {"agency_id": a.id, "name": a.name, "name_en": a.name_en, "kind": a.kind,
         "jurisdiction": a.jurisdiction, "active_from": a.active_from,
         "active_to": a.active_to, "successor_of": list(a.successor_of)}
        for a in registry.agencies
    ], schema=AGENCIES_SCHEMA)
    accounts = pa.Table.from_pylist([
        {"account_id": a.account_id, "agency_id": a.agency_id, "platform": a.platform,
         "handle": a.handle, "platform_id": a.platform_id, "label": a.label,
         "active_from": a.active_from, "active_to": a.active_to, "verified": a.verified}
        for a in registry.accounts
    ], schema=ACCOUNTS_SCHEMA)
    _create_from_arrow(con, "core.agencies", agencies)
    _create_from_arrow(con, "core.accounts", accounts)
    return agencies.num_rows, accounts.num_rows


def _load_validation_runs(con: duckdb.DuckDBPyConnection, files: list[str]) -> int:
    """Load every validation result file as it is (union of their columns); when there is
    none yet, an empty table with ``validation.VALIDATION_RUNS_SCHEMA``."""
    if not files:
        _create_from_arrow(con, "quality.validation_runs",
                           VALIDATION_RUNS_SCHEMA.empty_table())
        return 0
    con.execute(
        "create or replace table quality.validation_runs as "
        "select * from read_parquet($files, hive_partitioning = false, union_by_name = true)",
        {"files": files})
    return _count(con, "quality.validation_runs")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and refuses register()
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


def table_names(con: duckdb.DuckDBPyConnection, schemas: Iterable[str] = SCHEMAS) -> list[str]:
    """Qualified names of the tables and views in the given schemas, sorted."""
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in (select unnest($schemas)) order by 1",
        {"schemas": list(schemas)}).fetchall()
    return [row[0] for row in rows]
