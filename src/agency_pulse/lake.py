"""The Parquet lake: atomic partition writes, reads, the raw archive.

Where everything lives (the partition layout, the dataset schemas and keys) is defined in
``lake_layout`` and re-exported here, so callers need only this module: build paths with
``partition_path`` / ``partition_dir`` / ``raw_path``, list files with ``list_partitions``,
parse one with ``parse_partition``.

A partition file is written under a temporary name and renamed into place, so a reader never
sees half a file; rewriting the same (dataset, platform, date, key) replaces it. Readers
deduplicate on each dataset's key, so overlapping files never double-count. With a shared
lake (``AGENCY_PULSE_LAKE_URL=s3://...``) every write lands there too, through
``object_store``, and ``read_dataset`` reads from there.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from agency_pulse import object_store
from agency_pulse.lake_layout import (  # noqa: F401  (re-exported: the lake's public layout)
    ACCEPTED,
    KEYS,
    LANDING,
    QUARANTINE,
    RAW,
    SCHEMAS,
    SHARED_VALIDATION_RUNS,
    UTC_TS,
    ZONES,
    NotAPartitionFile,
    PartitionFile,
    dataset_files,
    dataset_glob,
    is_whole_partition,
    lake_root,
    lake_root_of,
    list_partitions,
    list_validation_runs,
    parse_partition,
    part_name,
    partition_dir,
    partition_files,
    partition_path,
    platform_folder,
    raw_path,
    relative_to_lake,
    relocate,
    result_path,
    shared_prefix,
    temporary_files,
    temporary_path,
    validation_runs_dir,
    validation_runs_glob,
    zone_prefix,
    zone_root,
)
from agency_pulse.lake_layout import check_segment as _check_segment
from agency_pulse.settings import Settings


def table_from_rows(dataset: str, rows: Sequence[Mapping]) -> pa.Table:
    """Build a table with the dataset's exact schema; unknown keys are an error."""
    schema = SCHEMAS[dataset]
    extra = {k for row in rows for k in row} - set(schema.names)
    if extra:
        raise ValueError(f"{dataset}: unknown columns {sorted(extra)}")
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


def write_partition(dataset: str, platform: str, day: date, table: pa.Table, *,
                    key: str = "all", root: Path | None = None,
                    replace_partition: bool | None = None) -> Path:
    """Atomically write one partition file; return its path.

    ``root`` is the zone folder (default: the accepted lake; extract passes the landing
    zone). With ``key="all"`` (a whole platform-day) every other file of the partition is
    removed after the new one is in place, so re-running a day replaces that day's partition.
    """
    _check_segment(key)
    table = table.cast(SCHEMAS[dataset]) if table.schema != SCHEMAS[dataset] else table
    directory = partition_dir(dataset, platform, day, root)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / part_name(key)
    tmp = temporary_path(target)
    pq.write_table(table, tmp, compression="zstd")
    _fsync(tmp)
    os.replace(tmp, target)
    _remove_stale_temporaries(directory)
    replaced = []
    if replace_partition if replace_partition is not None else key == "all":
        for other in partition_files(directory):
            if other != target:
                other.unlink()
                replaced.append(other)
    _share_with_other_hosts(target, replaced)
    return target


def read_dataset(dataset: str, root: Path | None = None,
                 platform: str | None = None) -> pa.Table:
    """Read every partition of a dataset (empty table with the schema when none).

    Without ``root``, from the shared lake when AGENCY_PULSE_LAKE_URL points at one.
    """
    if root is None and Settings.from_environment().lake_url:
        store = object_store.remote_lake()
        if store is not None:
            wanted = shared_prefix(dataset, platform) + "/"
            tables = [table for path, table in object_store.read_lake_files(
                dataset, store, schema=SCHEMAS[dataset]) if path.startswith(wanted)]
            return pa.concat_tables(tables) if tables else SCHEMAS[dataset].empty_table()
    files = dataset_files(dataset, root, platform)
    if not files:
        return SCHEMAS[dataset].empty_table()
    return pa.concat_tables(pq.read_table(f, schema=SCHEMAS[dataset]) for f in files)


def archive_raw(platform: str, day: date, records: Iterable[Mapping], *, key: str = "all",
                root: Path | None = None) -> Path:
    """Write raw API responses (already redacted) as gzip JSON lines, atomically.

    ``root`` is the lake root (the archive is its ``raw`` zone)."""
    target = raw_path(platform, day, key, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(target)
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    _fsync(tmp)
    os.replace(tmp, target)
    _share_with_other_hosts(target)
    return target


def _share_with_other_hosts(written: Path, replaced: Iterable[Path] = ()) -> None:
    # With a shared lake (AGENCY_PULSE_LAKE_URL=s3://...), a write lands there too at once.
    if not Settings.from_environment().lake_url:
        return
    store = object_store.remote_lake()
    if store is not None:
        object_store.upload_lake_file(written, store)
        object_store.delete_lake_files(replaced, store)


# A temporary file this old belongs to a writer that was killed: no reader ever saw it.
STALE_TEMPORARY_SECONDS = 3600


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete temporary files left by killed writers (fresh ones may be a live writer's)."""
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in temporary_files(directory):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except FileNotFoundError:
            pass  # another writer cleaned it up first


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
