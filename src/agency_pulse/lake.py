"""The Parquet lake: dataset schemas, partition layout, atomic writes, raw archive.

Layout under ``$AGENCY_PULSE_HOME/lake``::

    {dataset}/platform={platform}/date={YYYY-MM-DD}/part-{key}.parquet
    raw/platform={platform}/date={YYYY-MM-DD}/part-{key}.jsonl.gz
    quarantine/{dataset}/platform={platform}/date={YYYY-MM-DD}/part-{key}.parquet (+ .result.json)

``date`` is the run's day (the data interval), never the wall clock. A partition file is
written under a temporary name and renamed into place, so a reader never sees half a file;
rewriting the same (dataset, platform, date, key) replaces it. Readers deduplicate on each
dataset's key, so overlapping files never double-count.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from agency_pulse import config
from agency_pulse.settings import Settings

UTC_TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    # One row per account and run day: the platform's current counts.
    "account_snapshots": pa.schema([
        ("snapshot_date", pa.date32()),
        ("account_id", pa.string()),
        ("agency_id", pa.string()),
        ("platform", pa.string()),
        ("handle", pa.string()),
        ("platform_id", pa.string()),
        ("name", pa.string()),
        ("followers", pa.int64()),          # NULL when hidden / not given, never 0
        ("followers_rounding", pa.string()),  # NULL exact; e.g. "3_significant_figures", "display_k"
        ("likes", pa.int64()),              # Facebook fan_count (page likes), not followers
        ("posts_total", pa.int64()),
        ("views_total", pa.int64()),
        ("fetched_at", UTC_TS),
    ]),
    # One row per post per fetch; the latest fetch of a post wins downstream.
    "posts": pa.schema([
        ("account_id", pa.string()),
        ("agency_id", pa.string()),
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("published_at", UTC_TS),
        ("post_type", pa.string()),         # the platform's own type label
        ("is_video", pa.bool_()),
        ("is_live", pa.bool_()),
        ("permalink", pa.string()),
        ("reactions", pa.int64()),          # reactions / likes
        ("comments", pa.int64()),           # comments / replies
        ("shares", pa.int64()),             # shares / retweets + quotes
        ("views", pa.int64()),
        ("views_rounding", pa.string()),
        ("fetched_on", pa.date32()),
        ("fetched_at", UTC_TS),
    ]),
    # Posts that were seen before and are no longer returned.
    "post_deletions": pa.schema([
        ("account_id", pa.string()),
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("last_seen_on", pa.date32()),
        ("detected_on", pa.date32()),
    ]),
    # Daily follower series the platform gives for owned accounts (insights).
    "follower_history": pa.schema([
        ("account_id", pa.string()),
        ("agency_id", pa.string()),
        ("platform", pa.string()),
        ("day", pa.date32()),
        ("followers", pa.int64()),
        ("metric", pa.string()),
        ("fetched_at", UTC_TS),
    ]),
    # Hand-collected observations (contract section 4), one file per imported CSV.
    "observations": pa.schema([
        ("agency_id", pa.string()),
        ("platform", pa.string()),
        ("handle", pa.string()),
        ("account_id", pa.string()),
        ("observed_on", pa.date32()),
        ("followers", pa.int64()),
        ("posts_total", pa.int64()),
        ("last_post_on", pa.date32()),
        ("note", pa.string()),
        ("source_file", pa.string()),
        ("file_sha256", pa.string()),
        ("row_number", pa.int32()),
        ("imported_at", UTC_TS),
    ]),
    # One row per registry account and extract run: why a number is or is not there.
    "extract_log": pa.schema([
        ("run_date", pa.date32()),
        ("platform", pa.string()),
        ("account_id", pa.string()),
        ("agency_id", pa.string()),
        ("handle", pa.string()),
        ("status", pa.string()),            # ok | gone | failed | skipped
        ("reason", pa.string()),
        ("calls", pa.int64()),
        ("units", pa.int64()),
        ("run_id", pa.string()),
        ("logged_at", UTC_TS),
    ]),
}

# Dedup keys: among rows with the same key, the latest (by the second element) wins.
KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "account_snapshots": (("account_id", "snapshot_date"), "fetched_at"),
    # A post's metrics as of the latest run day, not the latest wall-clock fetch: a backfill
    # of an older day run afterwards (or alongside) must not roll metrics back.
    "posts": (("platform", "post_id"), "fetched_on"),
    "post_deletions": (("platform", "post_id"), "detected_on"),
    "follower_history": (("account_id", "day"), "fetched_at"),
    "observations": (("account_id", "observed_on"), "imported_at"),
    "extract_log": (("run_date", "account_id"), "logged_at"),
}


def lake_root() -> Path:
    return config.paths().lake


def partition_dir(dataset: str, platform: str, day: date, root: Path | None = None) -> Path:
    _check_dataset(dataset)
    _check_segment(platform)
    return (root or lake_root()) / dataset / f"platform={platform}" / f"date={day.isoformat()}"


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

    With ``key="all"`` (a whole platform-day) every other file of the partition is removed
    after the new one is in place, so re-running a day replaces that day's partition.
    """
    _check_segment(key)
    table = table.cast(SCHEMAS[dataset]) if table.schema != SCHEMAS[dataset] else table
    directory = partition_dir(dataset, platform, day, root)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"part-{key}.parquet"
    tmp = directory / f".part-{key}.{uuid.uuid4().hex}.parquet.tmp"
    pq.write_table(table, tmp, compression="zstd")
    _fsync(tmp)
    os.replace(tmp, target)
    _remove_stale_temporaries(directory)
    replaced = []
    if replace_partition if replace_partition is not None else key == "all":
        for other in directory.glob("part-*.parquet"):
            if other != target:
                other.unlink()
                replaced.append(other)
    _share_with_other_hosts(target, replaced)
    return target


def dataset_glob(dataset: str, root: Path | None = None) -> str:
    """The glob DuckDB reads a dataset with (temporary files never match)."""
    _check_dataset(dataset)
    return str((root or lake_root()) / dataset / "*" / "*" / "*.parquet")


def read_dataset(dataset: str, root: Path | None = None,
                 platform: str | None = None) -> pa.Table:
    """Read every partition of a dataset (empty table with the schema when none).

    Without ``root``, from the shared lake when AGENCY_PULSE_LAKE_URL points at one.
    """
    if root is None and Settings.from_environment().lake_url:
        from agency_pulse import object_store

        store = object_store.remote_lake()
        if store is not None:
            tables = [table for path, table in object_store.read_lake_files(
                dataset, store, schema=SCHEMAS[dataset])
                if platform is None or path.split("/")[1] == f"platform={platform}"]
            return pa.concat_tables(tables) if tables else SCHEMAS[dataset].empty_table()
    base = (root or lake_root()) / dataset
    pattern = f"platform={platform}/*/*.parquet" if platform else "*/*/*.parquet"
    files = sorted(base.glob(pattern)) if base.exists() else []
    if not files:
        return SCHEMAS[dataset].empty_table()
    return pa.concat_tables(pq.read_table(f, schema=SCHEMAS[dataset]) for f in files)


def archive_raw(platform: str, day: date, records: Iterable[Mapping], *, key: str = "all",
                root: Path | None = None) -> Path:
    """Write raw API responses (already redacted) as gzip JSON lines, atomically."""
    _check_segment(platform)
    _check_segment(key)
    directory = (root or lake_root()) / "raw" / f"platform={platform}" / f"date={day.isoformat()}"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"part-{key}.jsonl.gz"
    tmp = directory / f".part-{key}.{uuid.uuid4().hex}.tmp"
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
    from agency_pulse import object_store

    store = object_store.remote_lake()
    if store is not None:
        object_store.upload_lake_file(written, store)
        object_store.delete_lake_files(replaced, store)


# A temporary file this old belongs to a writer that was killed: no reader ever saw it.
STALE_TEMPORARY_SECONDS = 3600


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete temporary files left by killed writers (fresh ones may be a live writer's)."""
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in directory.glob(".part-*.tmp"):
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


def _check_dataset(dataset: str) -> None:
    if dataset not in SCHEMAS:
        raise ValueError(f"unknown lake dataset {dataset!r}")


def _check_segment(segment: str) -> None:
    # Partition segments come from our own constants and ids; refuse anything path-like.
    if not segment or "/" in segment or "\\" in segment or segment.startswith(".") or "\0" in segment:
        raise ValueError(f"invalid partition segment {segment!r}")
