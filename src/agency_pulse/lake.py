"""The Parquet lake: atomic partition writes, reads, the raw archive.

Where everything lives (the partition layout, the dataset schemas and keys) is defined in
``lake_layout`` and re-exported here, so callers need only this module: build paths with
``partition_path`` / ``partition_dir`` / ``raw_path``, list files with ``list_partitions``,
parse one with ``parse_partition``.

A partition file is written under a temporary name and renamed into place, so a reader never
sees half a file; rewriting the same (dataset, platform, date, key) replaces it. Every file
that enters the accepted zone gets its sha256 recorded beside it (``record_checksum``), so
the warehouse load and ``agency-pulse lake check`` notice a file that changed since
(``verify_checksum``). The raw archive is append-only: each run writes its own file. Readers
deduplicate on each dataset's key, so overlapping files never double-count. With a shared
lake (``AGENCY_PULSE_LAKE_URL=s3://...``) every write lands there too, through
``object_store``, and ``read_dataset`` reads from there.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from agency_pulse import object_store
from agency_pulse.errors import LakeFileCorrupted
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
    dataset_files,
    dataset_glob,
    extract_state_path,
    is_month_file,
    is_whole_partition,
    lake_root,
    lake_root_of,
    list_month_files,
    list_partitions,
    list_validation_runs,
    month_of,
    month_path,
    parse_month_file,
    parse_partition,
    part_name,
    partition_dir,
    partition_files,
    partition_label,
    partition_path,
    platform_folder,
    raw_files,
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
from agency_pulse.settings import Settings

log = logging.getLogger(__name__)


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
    accepted = parse_partition(target).zone == ACCEPTED
    if accepted:
        forget_checksum(target)  # never a moment with the old file's checksum beside the new
    os.replace(tmp, target)
    _remove_stale_temporaries(directory)
    replaced = []
    if replace_partition if replace_partition is not None else key == "all":
        for other in partition_files(directory):
            if other != target:
                forget_checksum(other)
                other.unlink()
                replaced.append(other)
    if accepted:
        record_checksum(target)
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


# A compacted month file says, in its Parquet metadata under this key, which day each of its
# row groups holds and which files it replaced (``lake_compact``).
MONTH_METADATA_KEY = b"agency_pulse.compacted"


def month_file_manifest(path: Path) -> dict:
    """The manifest of a compacted month file: ``month``, ``days`` (the day of each row
    group, ISO) and ``sources`` (``[path relative to the platform folder, size, mtime_ns]``
    of each file it replaced)."""
    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata.get(MONTH_METADATA_KEY, b"{}"))


def read_month_days(path: Path | str, days: Iterable[date] | None = None, *,
                    filesystem=None) -> list[tuple[date, pa.Table]]:
    """The rows of a compacted month file as (partition day, rows), one per day it holds
    (of ``days`` when given), with the dataset's exact schema. ``filesystem``: the pyarrow
    filesystem ``path`` is on (default: local)."""
    found = parse_month_file(path)
    schema = SCHEMAS[found.dataset]
    wanted = None if days is None else {d.isoformat() for d in days}
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
    target = raw_path(platform, day, key, root=root)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(target)
    try:
        if gzipped is not None:
            tmp.write_bytes(gzipped)
        else:
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        _fsync(tmp)
        while True:
            try:
                os.link(tmp, target)  # unlike a rename, a link never replaces a file
                break
            except FileExistsError:
                target = raw_path(platform, day, key, root=root)
    finally:
        tmp.unlink(missing_ok=True)
    _share_with_other_hosts(target)
    return target


# --------------------------------------------------------------------------- checksums

@dataclass(frozen=True)
class ChecksumCheck:
    """One accepted file against its recorded checksum. ``status``: ``ok``, ``mismatch``
    or ``missing`` (no checksum recorded: a file published before checksums existed)."""

    path: Path
    status: str
    recorded: str | None
    actual: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, as lower-case hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def record_checksum(path: Path, digest: str | None = None) -> str:
    """Record a partition file's sha256 beside it (``checksum_path``), atomically, in the
    ``sha256sum`` format (``sha256sum -c`` checks it from the partition folder); with a
    shared lake the record is shared too. Returns the digest."""
    path = Path(path)
    digest = digest or file_sha256(path)
    target = checksum_path(path)
    tmp = temporary_path(target)
    tmp.write_text(f"{digest}  {path.name}\n", encoding="ascii")
    _fsync(tmp)
    os.replace(tmp, target)
    _share_with_other_hosts(target)
    return digest


def recorded_checksum(path: Path) -> str | None:
    """The sha256 recorded for a partition file, or None when none is recorded."""
    try:
        text = checksum_path(Path(path)).read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    return (text.split() or [""])[0].lower()


def forget_checksum(path: Path) -> None:
    """Remove a partition file's checksum record (the file is being replaced or removed)."""
    checksum_path(Path(path)).unlink(missing_ok=True)


def verify_checksum(path: Path) -> ChecksumCheck:
    """Compare an accepted file with the checksum recorded when it was published."""
    path = Path(path)
    actual = file_sha256(path)
    recorded = recorded_checksum(path)
    status = "missing" if recorded is None else "ok" if recorded == actual else "mismatch"
    return ChecksumCheck(path=path, status=status, recorded=recorded, actual=actual)


def what_to_do(path: Path) -> str:
    """What an operator does about a damaged accepted file: restore it, or redo its day."""
    try:
        found = parse_partition(path)
    except NotAPartitionFile:
        return "restore it from backup"
    if found.dataset == "observations":
        return ("restore it from backup or import the observations file again with "
                "agency-pulse observations import FILE")
    return ("restore it from backup or rerun the day with agency-pulse run --date "
            f"{found.day.isoformat()} --platform {found.platform}")


def mismatch_line(check: ChecksumCheck) -> str:
    """One line naming a file that does not match its checksum, and what to do."""
    return (f"accepted file {check.path} does not match its checksum (recorded "
            f"{check.recorded[:16]}..., now {check.actual[:16]}...): {what_to_do(check.path)}")


def verify_accepted_files(paths: Iterable[Path | str]) -> list[ChecksumCheck]:
    """Verify accepted files before they are read; returns every check.

    Raises LakeFileCorrupted with one line per file that does not match its checksum
    (``mismatch_line``). A file with no recorded checksum (published before checksums were
    kept) is taken as it is and its checksum recorded now, with one log line.
    """
    checks = [verify_checksum(Path(path)) for path in paths]
    mismatched = [check for check in checks if check.status == "mismatch"]
    if mismatched:
        raise LakeFileCorrupted("\n".join(map(mismatch_line, mismatched)))
    for check in checks:
        if check.status == "missing":
            record_checksum(check.path, check.actual)
            log.warning("lake: %s had no recorded checksum (published before checksums "
                        "were kept); recorded it now", check.path)
    return checks


def _share_with_other_hosts(written: Path, replaced: Iterable[Path] = ()) -> None:
    # With a shared lake (AGENCY_PULSE_LAKE_URL=s3://...), a write lands there too at once.
    if not Settings.from_environment().lake_url:
        return
    store = object_store.remote_lake()
    if store is not None:
        object_store.upload_lake_file(written, store)
        object_store.delete_lake_files(
            [path for file in replaced for path in (file, checksum_path(file))], store)


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
