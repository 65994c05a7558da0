"""Read the warehouse without ever holding the lock the pipeline's writer needs.

DuckDB lets one process write a database file, and a reader in another process holds a
lock that makes the writer's ``connect`` fail ("Could not set lock on file"). So readers
(the report, ``agency-pulse query``, the Airflow UI plugin) read a *snapshot*:
``$AGENCY_PULSE_HOME/warehouse.snapshot.duckdb``.

- The writer calls :func:`publish_snapshot` after each build, once its connection is
  closed: the file is copied under a temporary name and renamed into place, so a reader
  sees the old or the new snapshot, never half of one. Readers that still have the old
  snapshot open keep reading it (POSIX rename keeps the old inode alive).
- A reader opens the snapshot read-only, with file-system access disabled (no COPY TO,
  no read_csv, no ATTACH). It touches the live file only when the snapshot is missing
  or older than the warehouse: then it takes a short read-only lock to refresh the
  snapshot (retrying a few times if the writer holds the file), and when the writer
  is busy it serves the existing snapshot, however old, rather than wait.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from agency_pulse import config
from agency_pulse.errors import AgencyPulseError
from agency_pulse.settings import Settings

SNAPSHOT_NAME = "warehouse.snapshot.duckdb"
# A reader (a query, the report, the UI) shares the machine with the pipeline: one
# careless query must fail with a clear error rather than take all the memory.
LOCK_RETRIES = 5
LOCK_RETRY_DELAY = 0.2


class WarehouseUnavailable(AgencyPulseError):
    """There is no warehouse to read yet, or the writer holds it and no snapshot exists."""


def snapshot_path(home: config.Paths | Path | str | None = None) -> Path:
    return _paths(home).home / SNAPSHOT_NAME


def publish_snapshot(home: config.Paths | Path | str | None = None) -> Path:
    """Copy the closed warehouse to the snapshot atomically; call after each build.

    The caller must be the writer (or hold the file read-only), so that nothing writes
    the warehouse during the copy.
    """
    paths = _paths(home)
    if not paths.warehouse.exists():
        raise WarehouseUnavailable(f"no warehouse at {paths.warehouse}: run `agency-pulse build` first")
    target = snapshot_path(home)
    _copy_atomically(paths.warehouse, target)
    return target


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
    snapshot = snapshot_path(home)
    if not paths.warehouse.exists():
        if snapshot.exists():
            return snapshot
        raise WarehouseUnavailable(f"no warehouse at {paths.warehouse}: run `agency-pulse build` first")
    if snapshot.exists() and _mtime(snapshot) >= _mtime(paths.warehouse):
        return snapshot
    for attempt in range(retries + 1):
        try:
            # The read-only open takes a shared lock: no writer can change the file while we copy.
            with duckdb.connect(str(paths.warehouse), read_only=True):
                _copy_atomically(paths.warehouse, snapshot)
            return snapshot
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


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy the database and its write-ahead log (if any), each under a temporary name."""
    source_wal, target_wal = _wal(source), _wal(target)
    if source_wal.exists():
        _replace_with_copy(source_wal, target_wal)
    else:
        target_wal.unlink(missing_ok=True)
    _replace_with_copy(source, target)


def _replace_with_copy(source: Path, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        shutil.copy2(source, temporary)  # copy2 keeps the mtime: the snapshot's age is the source's
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _mtime(path: Path) -> float:
    wal = _wal(path)
    return max(path.stat().st_mtime, wal.stat().st_mtime if wal.exists() else 0.0)


def _paths(home: config.Paths | Path | str | None) -> config.Paths:
    # a Paths keeps its own warehouse file (AGENCY_PULSE_WAREHOUSE); a bare home folder
    # means warehouse.duckdb under it
    if isinstance(home, config.Paths):
        return home
    return config.Paths(Path(home).resolve()) if home is not None else config.paths()
