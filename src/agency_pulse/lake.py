"""The Parquet lake: atomic partition writes, reads, the raw archive.

Where everything lives (the partition layout, the dataset schemas and keys) is defined in
``lake_layout`` and re-exported here, so callers need only this module: build paths with
``partition_path`` / ``partition_dir`` / ``raw_path``, list files with ``list_partitions``,
parse one with ``parse_partition``.

Every read, write, move and listing goes through the lake's filesystem (``lake_fs``): the
local folder, or the S3 prefix ``AGENCY_PULSE_LAKE_URL=s3://...`` names, alike (paths are
built under the configured local folder either way; ``lake_fs`` maps them). A partition
file is written whole (locally under a temporary name, synced and renamed into place; on S3
the object appears when its upload completes), so a reader never sees half a file;
rewriting the same (dataset, platform, date, key) replaces it. Every file that enters the
accepted zone gets its sha256 recorded beside it (``record_checksum``), after the file is in
place, so the warehouse load and ``agency-pulse lake check`` notice a file that changed
since (``verify_checksum``). The raw archive is append-only: each run writes its own file.
Readers deduplicate on each dataset's key, so overlapping files never double-count.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from agency_pulse import config, lake_fs, lake_layout
from agency_pulse.errors import LakeFileCorrupted  # noqa: F401  (re-exported)
from agency_pulse.lake_fs import ChecksumCheck, mismatch_line, what_to_do  # noqa: F401
from agency_pulse.lake_layout import (  # noqa: F401  (re-exported: the lake's public layout)
    ACCEPTED,
    KEYS,
    LANDING,
    MONTH_FILE_NAME,
    QUARANTINE,
    RAW,
    SCHEMAS,
    SHARED_VALIDATION_RUNS,
    UTC_TS,
    ZONES,
    MonthFile,
    NotAPartitionFile,
    PartitionFile,
    accepted_partition_files,
    checksum_files_below,
    checksum_path,
    checksummed_file,
    dataset_glob,
    extract_state_path,
    is_month_file,
    is_whole_partition,
    lake_root,
    lake_root_of,
    month_of,
    month_path,
    parse_month_file,
    parse_partition,
    part_name,
    partition_dir,
    partition_label,
    partition_path,
    platform_folder,
    raw_path,
    raw_run_tag,
    relative_to_lake,
    relocate,
    result_path,
    shared_prefix,
    temporary_files,
    temporary_files_below,
    temporary_path,
    validation_runs_dir,
    validation_runs_glob,
    zone_prefix,
    zone_root,
)
from agency_pulse.lake_layout import check_segment as _check_segment

log = logging.getLogger(__name__)


def table_from_rows(dataset: str, rows: Sequence[Mapping]) -> pa.Table:
    """Build a table with the dataset's exact schema; unknown keys are an error."""
    schema = SCHEMAS[dataset]
    extra = {k for row in rows for k in row} - set(schema.names)
    if extra:
        raise ValueError(f"{dataset}: unknown columns {sorted(extra)}")
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


# --------------------------------------------------------------------------- listing
# ``lake_layout``'s listings, on the filesystem the listed folder is on (``lake_fs.for_path``).

def list_partitions(zone: str, dataset: str | None = None, platform: str | None = None,
                    day: date | None = None, *, key: str | None = None,
                    before: date | None = None, root: Path | None = None) -> list[Path]:
    """The daily partition files of a zone, sorted (``lake_layout.list_partitions``)."""
    return lake_layout.list_partitions(zone, dataset, platform, day, key=key, before=before,
                                       root=root, fs=_listing_fs(root or lake_root()))


def list_month_files(dataset: str | None = None, platform: str | None = None,
                     month: str | None = None, root: Path | None = None) -> list[Path]:
    """The compacted month files of the accepted zone (``lake_layout.list_month_files``)."""
    return lake_layout.list_month_files(dataset, platform, month, root,
                                        fs=_listing_fs(root or lake_root()))


def partition_files(directory: Path) -> list[Path]:
    """The part files of one partition folder (``lake_layout.partition_files``)."""
    return lake_layout.partition_files(directory, fs=_listing_fs(directory))


def dataset_files(dataset: str, root: Path | None = None,
                  platform: str | None = None) -> list[Path]:
    """Every part file of a dataset, month files included (``lake_layout.dataset_files``)."""
    return lake_layout.dataset_files(dataset, root, platform,
                                     fs=_listing_fs(root or lake_root()))


def raw_files(platform: str, day: date, root: Path | None = None) -> list[Path]:
    """Every run's raw archive file of one platform and day (``lake_layout.raw_files``)."""
    return lake_layout.raw_files(platform, day, root, fs=_listing_fs(root or lake_root()))


def list_validation_runs(quality_root: Path | None = None) -> list[Path]:
    """Every validation result file, sorted (``lake_layout.list_validation_runs``)."""
    folder = quality_root or config.paths().quality
    return lake_layout.list_validation_runs(quality_root, fs=_listing_fs(folder))


def _listing_fs(folder: Path) -> lake_fs.LakeFS | None:
    fs = lake_fs.for_path(folder)
    return fs if fs.remote else None  # a local folder: lake_layout's own glob


# --------------------------------------------------------------------------- writing

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
    target = directory / part_name(key)
    fs = lake_fs.for_path(target)
    accepted = parse_partition(target).zone == ACCEPTED
    if accepted:
        fs.forget_checksum(target)  # never a moment with the old file's checksum beside the new
    fs.write_table(target, table)
    if not fs.remote:
        _remove_stale_temporaries(directory)
    if replace_partition if replace_partition is not None else key == "all":
        for other in partition_files(directory):
            if other != target:
                fs.forget_checksum(other)
                fs.delete(other)
    if accepted:
        fs.record_checksum(target)
    return target


def read_dataset(dataset: str, root: Path | None = None,
                 platform: str | None = None) -> pa.Table:
    """Read every partition of a dataset (empty table with the schema when none).

    ``root``: the zone folder (default: the accepted zone of the configured lake, on S3
    when AGENCY_PULSE_LAKE_URL points there).
    """
    files = dataset_files(dataset, root, platform)
    if not files:
        return SCHEMAS[dataset].empty_table()
    fs = lake_fs.for_path(files[0])
    return pa.concat_tables(fs.read_table(f, schema=SCHEMAS[dataset]) for f in files)


def read_file(path: Path | str, columns: list[str] | None = None,
              schema: pa.Schema | None = None) -> pa.Table:
    """One Parquet file of the lake (or only ``columns``), from the filesystem it is on."""
    return lake_fs.for_path(path).read_table(path, columns=columns, schema=schema)


def remove_file(path: Path) -> bool:
    """Delete one lake file (and nothing else) from the filesystem it is on; False when it
    was not there."""
    return lake_fs.for_path(path).delete(path)


# A compacted month file says, in its Parquet metadata under this key, which day each of its
# row groups holds and which files it replaced (``lake_compact``).
MONTH_METADATA_KEY = b"agency_pulse.compacted"


def month_file_manifest(path: Path) -> dict:
    """The manifest of a compacted month file: ``month``, ``days`` (the day of each row
    group, ISO) and ``sources`` (``[path relative to the platform folder, size, mtime_ns]``
    of each file it replaced)."""
    metadata = lake_fs.for_path(path).parquet_metadata(path)
    return json.loads(metadata.get(MONTH_METADATA_KEY, b"{}"))


def read_month_days(path: Path | str, days: Iterable[date] | None = None, *,
                    filesystem=None) -> list[tuple[date, pa.Table]]:
    """The rows of a compacted month file as (partition day, rows), one per day it holds
    (of ``days`` when given), with the dataset's exact schema. ``filesystem``: the pyarrow
    filesystem ``path`` is on (default: the lake's filesystem ``path`` is on)."""
    found = parse_month_file(path)
    schema = SCHEMAS[found.dataset]
    wanted = None if days is None else {d.isoformat() for d in days}
    if filesystem is None:
        parquet = lake_fs.for_path(path).parquet_file(path)
    else:
        parquet = pq.ParquetFile(path, filesystem=filesystem)
    manifest = json.loads((parquet.schema_arrow.metadata or {}).get(MONTH_METADATA_KEY, b"{}"))
    result = []
    for index, day in enumerate(manifest.get("days", [])):
        if wanted is not None and day not in wanted:
            continue
        table = parquet.read_row_group(index).select(schema.names).cast(schema)
        result.append((date.fromisoformat(day), table))
    return result


def archive_raw(platform: str, day: date, records: Iterable[Mapping] = (), *,
                key: str = "all", root: Path | None = None,
                gzipped: bytes | None = None) -> Path:
    """Write raw API responses (already redacted) as gzip JSON lines, atomically, in a new
    file of this run (``raw_path``): the archive only grows, a rerun never replaces an
    earlier run's file. ``gzipped``: the file's content, already compressed (the client's
    background writer made it), instead of ``records``.

    ``root`` is the lake root (the archive is its ``raw`` zone)."""
    if gzipped is None:
        lines = "".join(json.dumps(record, ensure_ascii=False, default=str) + "\n"
                        for record in records)
        gzipped = gzip.compress(lines.encode("utf-8"))
    target = raw_path(platform, day, key, root=root)
    fs = lake_fs.for_path(target)
    while True:
        try:
            fs.write_bytes(target, gzipped, replace=False)  # never over an earlier run's file
            return target
        except FileExistsError:
            target = raw_path(platform, day, key, root=root)


# --------------------------------------------------------------------------- checksums

def file_sha256(path: Path) -> str:
    """The sha256 of a lake file's bytes, as lower-case hex."""
    return lake_fs.for_path(path).sha256(path)


def record_checksum(path: Path, digest: str | None = None) -> str:
    """Record a partition file's sha256 beside it (``checksum_path``), written whole, in the
    ``sha256sum`` format (``sha256sum -c`` checks it from the partition folder). Returns the
    digest."""
    return lake_fs.for_path(path).record_checksum(Path(path), digest)


def recorded_checksum(path: Path) -> str | None:
    """The sha256 recorded for a partition file, or None when none is recorded."""
    return lake_fs.for_path(path).recorded_checksum(Path(path))


def forget_checksum(path: Path) -> None:
    """Remove a partition file's checksum record (the file is being replaced or removed)."""
    lake_fs.for_path(path).forget_checksum(Path(path))


def verify_checksum(path: Path) -> ChecksumCheck:
    """Compare an accepted file with the checksum recorded when it was published."""
    return lake_fs.for_path(path).verify_checksum(Path(path))


def verify_accepted_files(paths: Iterable[Path | str]) -> list[ChecksumCheck]:
    """Verify accepted files before they are read; returns every check.

    Raises LakeFileCorrupted with one line per file that does not match its checksum
    (``mismatch_line``). A file with no recorded checksum (published before checksums were
    kept) is taken as it is and its checksum recorded now, with one log line.
    """
    paths = [Path(path) for path in paths]
    if not paths:
        return []
    return lake_fs.for_path(paths[0]).verify_accepted_files(paths)


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


