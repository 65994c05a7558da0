"""Read the warehouse without ever holding the lock the pipeline's writer needs.

DuckDB lets one process write a database file, and a reader in another process holds a
lock that makes the writer's ``connect`` fail ("Could not set lock on file"). So readers
(the report, ``agency-pulse query``, the Airflow UI plugin, SQL users) read the *readers'
file* ``$AGENCY_PULSE_HOME/warehouse.snapshot.duckdb``: the tables of ``READER_TABLES``
(the marts, the quality tables and the registry as loaded), with their comments.

- The writer calls :func:`publish_snapshot` at the end of each build (``warehouse.build``,
  still under its build lock): the reader tables are copied into a new DuckDB file under a
  temporary name, which is then renamed over the readers' file (``os.replace``). A reader
  sees the old or the new file, never half of one; a reader that has the old file open
  keeps reading it (POSIX rename keeps the old inode alive), the next open sees the new
  one. Only those tables are written, never a copy of the whole warehouse.
- A reader opens the readers' file read-only, with file-system access disabled (no COPY
  TO, no read_csv, no ATTACH). It touches the live file only when the readers' file is
  missing or older than the warehouse (a warehouse built by an older version, or copied
  in): then it takes a short read-only lock to publish it (retrying a few times if the
  writer holds the file), and when the writer is busy it serves the existing readers'
  file, however old, rather than wait.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from agency_pulse import config
from agency_pulse.column_docs import sql_string
from agency_pulse.errors import AgencyPulseError
from agency_pulse.settings import Settings

SNAPSHOT_NAME = "warehouse.snapshot.duckdb"
# What readers read (the report, the UI, `agency-pulse query`, docs/REFERENCE.md's
# "for users" schemas); the rest of the warehouse (staging, core.int_*, the build's
# bookkeeping) stays in warehouse.duckdb.
READER_TABLES = (
    "marts.account_monthly", "marts.account_annual", "marts.agency_monthly",
    "marts.agency_annual",
    "quality.account_coverage", "quality.extract_log", "quality.validation_runs",
    "quality.figure_sources",
    "core.agencies", "core.accounts",
    "staging.lake_observations",  # the observations as imported, notes included
)
# A reader (a query, the report, the UI) shares the machine with the pipeline: one
# careless query must fail with a clear error rather than take all the memory.
LOCK_RETRIES = 5
LOCK_RETRY_DELAY = 0.2


class WarehouseUnavailable(AgencyPulseError):
    """There is no warehouse to read yet, or the writer holds it and no snapshot exists."""


def snapshot_path(home: config.Paths | Path | str | None = None) -> Path:
    return _paths(home).home / SNAPSHOT_NAME


def publish_snapshot(home: config.Paths | Path | str | None = None, *,
                     memory_limit: str | None = None) -> Path:
    """Write the reader tables of the warehouse to a new readers' file and rename it into
    place atomically; return its path. Called at the end of each build.

    Nothing may write the warehouse meanwhile (the caller holds the build lock, or the
    read-only open fails on the writer's lock: ``duckdb.IOException``). ``memory_limit``:
    DuckDB's limit for the copy (default: the readers' limit).
    """
    paths = _paths(home)
    if not paths.warehouse.exists():
        raise WarehouseUnavailable(f"no warehouse at {paths.warehouse}: run `agency-pulse build` first")
    target = snapshot_path(paths)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        _write_reader_tables(paths.warehouse, temporary, memory_limit or reader_memory_limit())
        # Never older than the warehouse: a reader would otherwise publish it again.
        newest = max(time.time_ns(), _mtime_ns(paths.warehouse))
        os.utime(temporary, ns=(newest, newest))
        # A write-ahead log beside the readers' file (a full copy made by an older version)
        # would be replayed onto the new file: remove it first.
        _wal(target).unlink(missing_ok=True)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
        _wal(temporary).unlink(missing_ok=True)
    return target


def _write_reader_tables(warehouse: Path, target: Path, memory_limit: str) -> None:
    """Copy each table of ``READER_TABLES`` the warehouse has, with its comments, to ``target``."""
    con = duckdb.connect(config={"memory_limit": memory_limit})
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach {sql_string(str(warehouse))} as live (read_only)")
        con.execute(f"attach {sql_string(str(target))} as readers")
        present = {f"{schema}.{name}": comment for schema, name, comment in con.execute(
            "select schema_name, table_name, comment from duckdb_tables() "
            "where database_name = 'live'").fetchall()}
        # one catalog scan for every column comment (duckdb_columns() is slow to ask per table)
        column_comments = con.execute(
            "select schema_name || '.' || table_name, column_name, comment from duckdb_columns() "
            "where database_name = 'live' and comment <> ''").fetchall()
        con.execute("begin transaction")  # one commit: a commit per comment costs seconds
        for table in READER_TABLES:
            if table not in present:
                continue
            schema = table.split(".")[0]  # READER_TABLES: our own constants
            con.execute(f"create schema if not exists readers.{schema}")
            con.execute(f"create table readers.{table} as select * from live.{table}")
            if present[table]:
                con.execute(f"comment on table readers.{table} is {sql_string(present[table])}")
        for table, column, comment in column_comments:
            if table in READER_TABLES:
                con.execute(f'comment on column readers.{table}."{column}" is '
                            f"{sql_string(comment)}")
        con.execute("commit")
        con.execute("detach readers")  # writes the file out: no log is left beside it
    finally:
        con.close()


@contextmanager
def read_only_connection(home: config.Paths | Path | str | None = None, *,
                         retries: int = LOCK_RETRIES,
                         delay: float = LOCK_RETRY_DELAY,
                         sleep: Callable[[float], None] = time.sleep,
                         ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the newest snapshot the writer allows; closed on exit.

    ``home``: a home folder or a ``config.Paths`` (default: from the settings).
    """
    snapshot = _fresh_snapshot(home, retries=retries, delay=delay, sleep=sleep)
    connection = duckdb.connect(str(snapshot), read_only=True,
                                config={"enable_external_access": False,
                                        "memory_limit": reader_memory_limit()})
    connection.execute("set TimeZone = 'UTC'")  # periods and dates are UTC (docs/REFERENCE.md, Warehouse)
    try:
        yield connection
    finally:
        connection.close()


def reader_memory_limit() -> str:
    """``AGENCY_PULSE_READER_MEMORY_LIMIT`` (default 1GB): DuckDB's memory limit on every
    read-only connection; a query needing more fails with DuckDB's out-of-memory error."""
    return Settings.from_environment().reader_memory_limit


def _fresh_snapshot(home, *, retries: int, delay: float, sleep) -> Path:
    paths = _paths(home)
    snapshot = snapshot_path(paths)
    if not paths.warehouse.exists():
        if snapshot.exists():
            return snapshot
        raise WarehouseUnavailable(f"no warehouse at {paths.warehouse}: run `agency-pulse build` first")
    if snapshot.exists() and _mtime_ns(snapshot) >= _mtime_ns(paths.warehouse):
        return snapshot
    for attempt in range(retries + 1):
        try:
            # The read-only attach takes a shared lock: no writer can change the file meanwhile.
            return publish_snapshot(paths)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise WarehouseUnavailable(f"cannot read {paths.warehouse}: {exc}") from None
            if snapshot.exists():
                return snapshot  # the writer is busy: an older snapshot beats waiting
            if attempt < retries:
                sleep(delay)
    raise WarehouseUnavailable(
        f"the warehouse {paths.warehouse} is being written and no snapshot exists yet; "
        "try again when the build has finished")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _mtime_ns(path: Path) -> int:
    wal = _wal(path)
    return max(path.stat().st_mtime_ns, wal.stat().st_mtime_ns if wal.exists() else 0)


def _paths(home: config.Paths | Path | str | None) -> config.Paths:
    # a Paths keeps its own warehouse file (AGENCY_PULSE_WAREHOUSE); a bare home folder
    # means warehouse.duckdb under it
    if isinstance(home, config.Paths):
        return home
    return config.Paths(Path(home).resolve()) if home is not None else config.paths()
