"""Monthly compaction: a settled month's small daily files become one file per dataset,
platform and month.

A daily run writes one accepted file per dataset, platform, batch and day: after three
years at 10,000 accounts that is hundreds of thousands of small files, most of them posts
re-read during the settling window. Once a month is outside the settling window (its last
day is more than ``SETTLE_DAYS`` before the run day), nothing but a deliberate rerun writes
into it again, so its files are merged into one month file per dataset and platform
(``lake_layout.month_path``):

- rows are kept exactly as the warehouse keeps them: one per dataset key (``lake.KEYS``),
  the latest wins, a tie going to the later file (the warehouse's own rule), so the marts
  are the same before and after (a daily file of the month, a rerun after compaction,
  wins a tie over the month file, here and in the warehouse);
- one row group per partition day, named in the file's metadata (``lake.read_month_days``),
  so a rerun of a compacted day still finds what that day holds (``day_record``);
- the metadata also lists the files it replaced (path, size, mtime), so the warehouse's
  incremental load knows it already loaded those rows and never reads the month again;
- it is written whole (``lake_fs``: locally under a temporary name renamed into place, on
  S3 straight to its key) and its checksum recorded, and only then are the daily files (and
  their checksums) removed: a crash in between leaves both, which read the same (the key
  keeps one row) and the next compaction finishes.

Every read, write and removal goes through the lake's filesystem (``lake_fs``): a lake on
S3 is compacted where it is, without a local copy.

A rerun of a compacted day writes a daily file beside the month file again; the next
compaction merges it in. The extract state (``extract_state``) is brought up to date
before any file is removed, so no published day is lost to it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from agency_pulse import lake, lake_fs
from agency_pulse.extractors.base import SETTLE_DAYS

log = logging.getLogger(__name__)


# Observations stay one file per imported CSV: an import recognises a file it already
# imported by that file's own partition (``observations``).
DATASETS = tuple(dataset for dataset in lake.SCHEMAS if dataset != "observations")


@dataclass
class CompactionResult:
    """What ``compact_lake`` did: the month files written and the daily files they replaced."""

    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        return (f"lake compact: {len(self.written)} month file(s) written, "
                f"{len(self.removed)} daily file(s) merged into them")


def settled_before(today: date, settle_days: int = SETTLE_DAYS) -> date:
    """The first day still inside the settling window: a month ending before it is settled."""
    return today - timedelta(days=settle_days)


def compact_lake(today: date | None = None, *, root: Path | None = None,
                 settle_days: int = SETTLE_DAYS,
                 datasets: Iterable[str] | None = None) -> CompactionResult:
    """Compact every settled month of the accepted lake under ``root`` (default: the
    configured lake) that still has daily files. ``today`` is the run day (default: today,
    UTC). Idempotent: a month without daily files is left alone."""
    from agency_pulse import extract_state

    today = today or datetime.now(UTC).date()
    root = root or lake.lake_root()
    horizon = settled_before(today, settle_days)
    result = CompactionResult()
    pending: dict[tuple[str, str, str], list[Path]] = {}
    for dataset in datasets or DATASETS:
        for path in lake.list_partitions(lake.ACCEPTED, dataset, root=root):
            found = lake.parse_partition(path)
            if _month_end(found.day) < horizon:
                pending.setdefault((dataset, found.platform, lake.month_of(found.day)),
                                   []).append(path)
    # The extract state must have folded in every day before its daily files go.
    for platform in sorted({platform for _, platform, _ in pending}):
        extract_state.refresh(platform, root=root)
    for (dataset, platform, month), daily in sorted(pending.items()):
        written, removed = compact_month(dataset, platform, month, root=root, daily=daily)
        result.written.append(written)
        result.removed += removed
    if result.written:
        log.info("%s", result.summary())
    return result


def compact_month(dataset: str, platform: str, month: str, *, root: Path | None = None,
                  daily: list[Path] | None = None) -> tuple[Path, list[Path]]:
    """Merge one month's daily files (and its earlier month file, if any) into its month
    file; return it and the daily files removed. Refuses (LakeFileCorrupted) when a source
    does not match its recorded checksum: a damaged file is never spread into a month."""
    root = root or lake.lake_root()
    target = lake.month_path(dataset, platform, month, root)
    fs = lake_fs.for_path(target)
    if daily is None:
        daily = [path for path in lake.list_partitions(lake.ACCEPTED, dataset, platform,
                                                       root=root)
                 if lake.month_of(lake.parse_partition(path).day) == month]
    sources = ([target] if fs.exists(target) else []) + sorted(daily)
    fs.verify_accepted_files(sources)
    facts = [(path, _identity(fs, path)) for path in sources]
    parts = []
    for order, path in enumerate(sources):
        if path == target:
            pieces = lake.read_month_days(path)
        else:
            pieces = [(lake.parse_partition(path).day,
                       fs.read_table(path, schema=lake.SCHEMAS[dataset]))]
        for day, table in pieces:
            parts.append(table.append_column("_day", pa.array([day] * table.num_rows,
                                                                 pa.date32()))
                         .append_column("_order", pa.array([order] * table.num_rows,
                                                           pa.int32())))
    merged = _latest_per_key(dataset, pa.concat_tables(parts) if parts else None)
    platform_dir = target.parent.parent
    manifest = {"month": month, "days": [],
                "sources": [[path.relative_to(platform_dir).as_posix(), identity[0],
                             identity[1]] for path, identity in facts]}
    days = sorted(set(merged["_day"].to_pylist())) if merged is not None else []
    manifest["days"] = [day.isoformat() for day in days]
    schema = lake.SCHEMAS[dataset].with_metadata(
        {lake.MONTH_METADATA_KEY: json.dumps(manifest).encode()})

    def write(out) -> None:
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            for day in days:
                rows = merged.filter(pc.equal(merged["_day"], pa.scalar(day, pa.date32())))
                rows = rows.drop_columns(["_day", "_order"]).cast(lake.SCHEMAS[dataset])
                writer.write_table(rows.replace_schema_metadata(schema.metadata),
                                   row_group_size=max(rows.num_rows, 1))

    fs.forget_checksum(target)
    fs.write(target, write)
    fs.record_checksum(target)
    # A daily file replaced meanwhile (a rerun published it again) is not what was merged:
    # it stays, and the next compaction merges it.
    removed = [path for path, identity in facts
               if path != target and fs.identity(path) == identity]
    for path in removed:
        fs.forget_checksum(path)
        fs.delete(path)
        fs.remove_empty_folder(path.parent)  # the day's folder, once empty
    log.info("lake compact: %s <- %d file(s)", target, len(removed))
    return target, removed


def _latest_per_key(dataset: str, table: pa.Table | None) -> pa.Table | None:
    """One row per key: the latest wins, a tie going to the later source (the month file
    comes first, then the daily files in path order: the warehouse's rule)."""
    if table is None or table.num_rows == 0:
        return table
    keys, latest = lake.KEYS[dataset]
    partition = ", ".join(f'"{k}"' for k in keys)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("_rows", table)
        return con.sql(
            f"select * from _rows qualify row_number() over (partition by {partition} "
            f'order by "{latest}" desc nulls last, "_order" desc) = 1 '
            f"order by _day, {partition}").to_arrow_table()
    finally:
        con.close()


def _identity(fs: lake_fs.LakeFS, path: Path) -> tuple:
    """A source's (size, mtime_ns[, inode]) when it was read (``LakeFS.identity``): what
    tells whether it was replaced before its removal."""
    identity = fs.identity(path)
    if identity is None:
        raise FileNotFoundError(path)
    return identity


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
