"""What the lake holds and where: dataset schemas, dedup keys and the partition layout.

This module is the one place that spells the lake's folder pattern; every other module
builds, lists and parses lake paths through it (usually as re-exported by ``lake``).
Layout under ``$AGENCY_PULSE_HOME/lake`` (the lake root), one folder per zone::

    {dataset}/platform={platform}/date={YYYY-MM-DD}/part-{key}.parquet              accepted
        (+ part-{key}.parquet.sha256, the file's checksum recorded when it was published)
    landing/{dataset}/platform={platform}/date={YYYY-MM-DD}/part-{key}.parquet      landing
    quarantine/{dataset}/platform={platform}/date={YYYY-MM-DD}/part-{key}.parquet   quarantine
        (+ part-{key}.result.json, the failed validation's result)
    raw/platform={platform}/date={YYYY-MM-DD}/part-{key}-{run}.jsonl.gz             raw archive
        ({run}: when the run wrote it, e.g. 20261126T101500123456Z-1a2b3c; one file per
        run, never replaced: the archive is append-only)
    {dataset}/platform={platform}/date={YYYY-MM}/part-month.parquet                 accepted,
        compacted: a settled month's daily files merged into one (``lake_compact``); the
        folder name sorts before every day of its month and after the month before
    _state/extract/platform={platform}/state.parquet                                 extract state
        (a small per-account table derived from the accepted zone, ``extract_state``)

``date`` is the run's day (the data interval), never the wall clock. A file being written
has a temporary name starting with a dot, which no listing here ever returns. Validation
results live beside the lake, in ``$AGENCY_PULSE_HOME/quality/validation_runs/date=D/``,
and in a shared lake under ``_quality/validation_runs/``.

It depends on nothing but ``config``: ``lake_fs`` (the filesystem, local or S3) and ``lake``
(writes and reads) both build on it, and it imports neither; its listings take the lake's
filesystem (``fs``) when it is not the local one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa

from agency_pulse import config

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
    # One row per version of a post: a run lands a post it reads only when it is new or its
    # figures changed since the version already accepted (``post_reads`` records the other
    # reads); the latest version wins downstream.
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
    # One row per account and run day: the ids of the posts the run read for the account
    # that landed no posts row (unchanged). With the posts rows' fetched_on, the "last seen"
    # record deletion detection needs.
    "post_reads": pa.schema([
        ("account_id", pa.string()),
        ("platform", pa.string()),
        ("read_on", pa.date32()),
        ("post_ids", pa.list_(pa.string())),
        ("fetched_at", UTC_TS),
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
    # Hand-collected observations (docs/REFERENCE.md, Manual observations CSV), one file per imported CSV.
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
        ("status", pa.string()),            # ok | gone | private | failed | skipped
        ("reason", pa.string()),
        ("calls", pa.int64()),
        ("units", pa.int64()),
        ("run_id", pa.string()),
        ("logged_at", UTC_TS),
        # Where the run's figures came from: "api" (a real platform connection), "sandbox"
        # (synthetic data), NULL without a connection. Files written before it read as NULL.
        ("source", pa.string()),
    ]),
}

# Dedup keys: among rows with the same key, the latest (by the second element) wins.
KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "account_snapshots": (("account_id", "snapshot_date"), "fetched_at"),
    # A post's metrics as of the latest run day, not the latest wall-clock fetch: a backfill
    # of an older day run afterwards (or alongside) must not roll metrics back.
    "posts": (("platform", "post_id"), "fetched_on"),
    "post_deletions": (("platform", "post_id"), "detected_on"),
    # A rerun of a day lands the union of the ids every run of that day read.
    "post_reads": (("account_id", "read_on"), "fetched_at"),
    "follower_history": (("account_id", "day"), "fetched_at"),
    "observations": (("account_id", "observed_on"), "imported_at"),
    "extract_log": (("run_date", "account_id"), "logged_at"),
}


# Zones of the lake and the folder each one takes under the lake root.
ACCEPTED, LANDING, QUARANTINE, RAW = "accepted", "landing", "quarantine", "raw"
ZONES = (ACCEPTED, LANDING, QUARANTINE, RAW)
_ZONE_FOLDERS = {ACCEPTED: None, LANDING: "landing", QUARANTINE: "quarantine", RAW: "raw"}

_PARTITION_FILES = "part-*.parquet"
_TEMPORARY_FILES = ".part-*.tmp"
_CHECKSUM_SUFFIX = ".sha256"
_CHECKSUM_FILES = "part-*.parquet" + _CHECKSUM_SUFFIX
_RAW_FILES = "part-*.jsonl.gz"
_WHOLE_PARTITION = "part-all.parquet"
_MONTH_FILE = MONTH_FILE_NAME = "part-month.parquet"
_STATE_FOLDER = "_state/extract"

# Validation results: their folder under $AGENCY_PULSE_HOME/quality, and their prefix in a
# shared lake, which no dataset name can take.
VALIDATION_RUNS = "validation_runs"
SHARED_VALIDATION_RUNS = "_quality/validation_runs"


class PartitionFile(NamedTuple):
    """Where a Parquet partition file sits in the layout."""

    zone: str
    dataset: str
    platform: str
    day: date
    key: str


class MonthFile(NamedTuple):
    """Where a compacted month file sits in the accepted zone (``month``: ``YYYY-MM``)."""

    dataset: str
    platform: str
    month: str


class NotAPartitionFile(ValueError):
    """A path that does not fit the partition layout; ``reason`` says what does not fit."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"not a lake partition file: {path} ({reason})")
        self.path, self.reason = path, reason


# --------------------------------------------------------------------------- building paths

def lake_root() -> Path:
    return config.paths().lake


def zone_root(zone: str, root: Path | None = None) -> Path:
    """The folder of a zone under the lake root ``root`` (default: the configured lake)."""
    folder = zone_prefix(zone)
    root = root or lake_root()
    return root / folder if folder else root


def zone_prefix(zone: str) -> str:
    """A zone's folder relative to the lake root ("" for the accepted zone)."""
    if zone not in _ZONE_FOLDERS:
        raise ValueError(f"unknown lake zone {zone!r} (expected one of {', '.join(ZONES)})")
    return _ZONE_FOLDERS[zone] or ""


def partition_dir(dataset: str, platform: str, day: date, root: Path | None = None) -> Path:
    """The folder of one (dataset, platform, day) partition under the zone folder ``root``
    (default: the accepted lake)."""
    check_dataset(dataset)
    check_segment(platform)
    return (root or lake_root()) / dataset / f"platform={platform}" / f"date={day.isoformat()}"


def part_name(key: str) -> str:
    """The file name of a partition's part ``key``."""
    check_segment(key)
    return f"part-{key}.parquet"


def partition_path(zone: str, dataset: str, platform: str, day: date, key: str = "all", *,
                   root: Path | None = None) -> Path:
    """The Parquet file of part ``key`` of a partition in ``zone`` under the lake root
    ``root`` (default: the configured lake)."""
    if zone == RAW:
        raise ValueError("the raw archive holds no Parquet partitions (see raw_path)")
    return partition_dir(dataset, platform, day, zone_root(zone, root)) / part_name(key)


def raw_path(platform: str, day: date, key: str = "all", run: str | None = None,
             root: Path | None = None) -> Path:
    """The raw archive file (gzip JSON lines) of one platform, day, batch and run under the
    lake root ``root``. ``run`` tells the runs apart (``raw_run_tag``; default: a fresh one),
    so a rerun of the day adds a file beside the earlier runs' instead of replacing one."""
    check_segment(platform)
    check_segment(key)
    run = raw_run_tag() if run is None else run
    check_segment(run)
    return raw_dir(platform, day, root) / f"part-{key}-{run}.jsonl.gz"


def raw_dir(platform: str, day: date, root: Path | None = None) -> Path:
    """The raw archive folder of one platform and day under the lake root ``root``."""
    check_segment(platform)
    return zone_root(RAW, root) / f"platform={platform}" / f"date={day.isoformat()}"


def raw_run_tag(at: datetime | None = None) -> str:
    """A path-safe, sortable tag naming one run's raw file: the UTC time it was written
    (microseconds) and a random suffix, so two runs never share a name."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    return f"{at.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:6]}"


def raw_files(platform: str, day: date, root: Path | None = None, *, fs=None) -> list[Path]:
    """Every run's raw archive file of one platform and day, oldest run first per batch."""
    return _glob(raw_dir(platform, day, root), _RAW_FILES, fs)


def checksum_path(partition_file: Path) -> Path:
    """The checksum record beside a partition file: part-{k}.parquet -> part-{k}.parquet.sha256."""
    partition_file = Path(partition_file)
    return partition_file.with_name(partition_file.name + _CHECKSUM_SUFFIX)


def checksummed_file(checksum_file: Path) -> Path:
    """The partition file a checksum record describes (``checksum_path``'s inverse)."""
    checksum_file = Path(checksum_file)
    return checksum_file.with_name(checksum_file.name.removesuffix(_CHECKSUM_SUFFIX))


def temporary_path(target: Path) -> Path:
    """A fresh temporary name beside ``target`` for writing it (readers never list it)."""
    stem = target.name.removesuffix(".jsonl.gz")
    if stem != target.name:
        return target.with_name(f".{stem}.{uuid.uuid4().hex}.tmp")
    if target.name.endswith(_CHECKSUM_SUFFIX):
        return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    return target.with_name(f".{target.name.removesuffix('.parquet')}.{uuid.uuid4().hex}"
                            ".parquet.tmp")


def result_path(partition_file: Path) -> Path:
    """The validation result beside a quarantined file: part-{k}.parquet -> part-{k}.result.json."""
    partition_file = Path(partition_file)
    return partition_file.with_name(partition_file.name.removesuffix(".parquet") + ".result.json")


def relocate(partition_file: Path, zone: str) -> Path:
    """The same partition file's place in another zone of the same lake."""
    found = parse_partition(partition_file)
    return partition_path(zone, found.dataset, found.platform, found.day, found.key,
                          root=lake_root_of(partition_file))


def month_of(day: date) -> str:
    """The ``YYYY-MM`` month a day belongs to (the compacted file's folder)."""
    return f"{day.year:04d}-{day.month:02d}"


def month_path(dataset: str, platform: str, month: str, root: Path | None = None) -> Path:
    """The compacted file of one (dataset, platform, month) under the accepted zone folder
    ``root`` (default: the configured lake)."""
    check_dataset(dataset)
    check_segment(platform)
    _check_month(month)
    return ((root or lake_root()) / dataset / f"platform={platform}" / f"date={month}"
            / _MONTH_FILE)


def list_month_files(dataset: str | None = None, platform: str | None = None,
                     month: str | None = None, root: Path | None = None, *,
                     fs=None) -> list[Path]:
    """The compacted month files of the accepted zone, sorted; None matches any."""
    if dataset is not None:
        check_dataset(dataset)
    if platform is not None:
        check_segment(platform)
    if month is not None:
        _check_month(month)
    base = root or lake_root()
    found = []
    for name in ([dataset] if dataset else SCHEMAS):
        pattern = "/".join((f"platform={platform}" if platform else "platform=*",
                            f"date={month}" if month else "date=????-??", _MONTH_FILE))
        found += _glob(base / name, pattern, fs)
    return sorted(found)


def parse_month_file(path: Path | str) -> MonthFile:
    """Parse ``.../{dataset}/platform={p}/date={YYYY-MM}/part-month.parquet``."""
    path = Path(path)
    if path.name != _MONTH_FILE or len(path.parents) < 3:
        raise NotAPartitionFile(path, "expected .../date={YYYY-MM}/part-month.parquet")
    month_dir, platform_dir, dataset_dir = path.parents[0:3]
    month = month_dir.name.removeprefix("date=")
    if dataset_dir.name not in SCHEMAS or not platform_dir.name.startswith("platform=") \
            or not month_dir.name.startswith("date=") or not _is_month(month):
        raise NotAPartitionFile(path, "expected {dataset}/platform={p}/date={YYYY-MM}/"
                                      "part-month.parquet")
    return MonthFile(dataset_dir.name, platform_dir.name.removeprefix("platform="), month)


def is_month_file(path: Path | str) -> bool:
    """Whether a file is a compacted month file."""
    try:
        parse_month_file(path)
    except NotAPartitionFile:
        return False
    return True


def extract_state_path(platform: str, root: Path | None = None) -> Path:
    """The extract state file of one platform under the lake root ``root``."""
    check_segment(platform)
    return (root or lake_root()) / _STATE_FOLDER / f"platform={platform}" / "state.parquet"


def _is_month(text: str) -> bool:
    try:
        date.fromisoformat(f"{text}-01")
    except ValueError:
        return False
    return len(text) == 7


def _check_month(month: str) -> None:
    if not _is_month(month):
        raise ValueError(f"invalid month {month!r} (expected YYYY-MM)")


def platform_folder(partition_file: Path) -> Path:
    """The folder holding every partition of the file's dataset and platform."""
    return Path(partition_file).parent.parent


def validation_runs_dir(day: date | str, quality_root: Path | None = None) -> Path:
    """The folder of one day's validation results under the quality folder."""
    day = day.isoformat() if isinstance(day, date) else day
    return validation_runs_root(quality_root) / f"date={day}"


def validation_runs_root(quality_root: Path | None = None) -> Path:
    return (quality_root or config.paths().quality) / VALIDATION_RUNS


def validation_runs_glob(quality_root: Path | None = None) -> str:
    """The glob every validation result file matches (temporary files never do)."""
    return str(validation_runs_root(quality_root) / "*" / "*.parquet")


def dataset_glob(dataset: str, root: Path | None = None) -> str:
    """The glob DuckDB reads a dataset with (temporary files never match)."""
    check_dataset(dataset)
    return str((root or lake_root()) / dataset / "*" / "*" / "*.parquet")


def shared_prefix(dataset: str, platform: str | None = None) -> str:
    """A dataset's (or one platform's) folder in the accepted zone, relative to the root."""
    check_dataset(dataset)
    if platform is None:
        return dataset
    check_segment(platform)
    return f"{dataset}/platform={platform}"


def relative_to_lake(path: Path) -> str | None:
    """Where a local file lives in the shared lake: its lake-relative path, or under
    ``_quality/validation_runs/`` for a validation result; None for anything else."""
    resolved = Path(path).resolve()
    for local_root, shared in ((lake_root(), ""),
                               (validation_runs_root(), SHARED_VALIDATION_RUNS)):
        try:
            relative = resolved.relative_to(local_root.resolve()).as_posix()
        except ValueError:
            continue
        return f"{shared}/{relative}" if shared else relative
    return None


# --------------------------------------------------------------------------- listing

def list_partitions(zone: str, dataset: str | None = None, platform: str | None = None,
                    day: date | None = None, *, key: str | None = None,
                    before: date | None = None, root: Path | None = None,
                    fs=None) -> list[Path]:
    """The daily Parquet partition files of a zone, sorted by path; None matches any.
    Compacted month files are listed by ``list_month_files``.

    ``before`` keeps the partitions dated before that day (a folder whose date does not
    parse never matches it). Temporary files never match. ``root`` is the lake root.
    """
    if dataset is not None:
        check_dataset(dataset)
    if platform is not None:
        check_segment(platform)
    base = zone_root(zone, root)
    pattern = "/".join((dataset or "*",
                        f"platform={platform}" if platform else "platform=*",
                        f"date={day.isoformat()}" if day else "date=*",
                        part_name(key) if key else _PARTITION_FILES))
    files = _glob(base, pattern, fs)
    # daily partitions only: a compacted month's folder (date=YYYY-MM) is not a day
    files = [f for f in files if not _is_month(f.parent.name.removeprefix("date="))]
    if before is not None:
        files = [f for f in files if (_folder_day(f.parent) or before) < before]
    return files


def partition_files(directory: Path, *, fs=None) -> list[Path]:
    """The part files of one partition folder (temporary files never match)."""
    return _glob(directory, _PARTITION_FILES, fs)


def partition_files_below(folder: Path) -> list[Path]:
    """Every part file anywhere under a lake folder, sorted (temporary files never match)."""
    return sorted(folder.rglob(_PARTITION_FILES)) if folder.exists() else []


def dataset_files(dataset: str, root: Path | None = None,
                  platform: str | None = None, *, fs=None) -> list[Path]:
    """Every part file (daily and compacted month files) of a dataset (of one platform when given) under the zone folder
    ``root`` (default: the accepted lake), sorted."""
    base = (root or lake_root()) / shared_prefix(dataset, platform)
    pattern = "*/*.parquet" if platform else "*/*/*.parquet"
    return _glob(base, pattern, fs)


def temporary_files(directory: Path) -> list[Path]:
    """The temporary files of writers in a partition folder (live ones or killed ones)."""
    return list(directory.glob(_TEMPORARY_FILES))


def temporary_files_below(folder: Path) -> list[Path]:
    """Every writer's temporary file anywhere under a lake folder, sorted."""
    return sorted(folder.rglob(_TEMPORARY_FILES)) if folder.exists() else []


def checksum_files_below(folder: Path) -> list[Path]:
    """Every checksum record anywhere under a lake folder, sorted."""
    return sorted(folder.rglob(_CHECKSUM_FILES)) if folder.exists() else []


def accepted_partition_files(root: Path | None = None) -> list[Path]:
    """Every partition file of the accepted zone under the lake root ``root`` (default: the
    configured lake), sorted: each dataset's files, never another zone's."""
    base = root or lake_root()
    return [path for dataset in SCHEMAS for path in dataset_files(dataset, base)]


def list_validation_runs(quality_root: Path | None = None, *, fs=None) -> list[Path]:
    """Every validation result file, sorted."""
    return _glob(validation_runs_root(quality_root), "*/*.parquet", fs)


def _glob(base: Path, pattern: str, fs=None) -> list[Path]:
    # ``fs``: the lake's filesystem (``lake_fs.LakeFS``, whose ``glob`` lists an S3 lake);
    # without one, the local folder.
    if fs is not None:
        return fs.glob(base, pattern)
    return sorted(base.glob(pattern)) if base.exists() else []


def is_whole_partition(path: Path | str) -> bool:
    """Whether the file is part ``all``: a whole platform-day that replaces its partition."""
    return Path(path).name == _WHOLE_PARTITION


def is_shared_partition_file(relative: str) -> bool:
    """Whether a path relative to the lake root is an accepted partition file (as the
    shared lake lists it: {dataset}/platform/date/part)."""
    return relative.count("/") == 3


# --------------------------------------------------------------------------- parsing

def partition_label(path: Path | str) -> str:
    """The day (``YYYY-MM-DD``) or, for a compacted month file, the month (``YYYY-MM``) that
    a partition file's folder names."""
    return Path(path).parent.name.removeprefix("date=")


def parse_partition(path: Path | str) -> PartitionFile:
    """Parse ``.../[landing/|quarantine/]{dataset}/platform={p}/date={d}/part-{k}.parquet``.

    Raises NotAPartitionFile (a ValueError) naming what does not fit the layout.
    """
    path = Path(path)
    if len(path.parents) < 4:
        raise NotAPartitionFile(path, "too short a path")
    date_dir, platform_dir, dataset_dir, above = path.parents[0:4]
    name = path.name
    if not (name.startswith("part-") and name.endswith(".parquet")) \
            or len(name) == len("part-.parquet") or "/" in name or "\\" in name:
        raise NotAPartitionFile(path, "expected part-{key}.parquet")
    if dataset_dir.name not in SCHEMAS:
        raise NotAPartitionFile(path, f"unknown dataset {dataset_dir.name!r}")
    if not platform_dir.name.startswith("platform=") or not date_dir.name.startswith("date="):
        raise NotAPartitionFile(
            path, "expected {dataset}/platform={p}/date={YYYY-MM-DD}/part-{key}.parquet")
    day = _folder_day(date_dir)
    if day is None:
        raise NotAPartitionFile(path, "bad date")
    zone = above.name if above.name in (LANDING, QUARANTINE) else ACCEPTED
    return PartitionFile(zone=zone, dataset=dataset_dir.name,
                         platform=platform_dir.name.removeprefix("platform="), day=day,
                         key=name.removeprefix("part-").removesuffix(".parquet"))


def lake_root_of(partition_file: Path) -> Path:
    """The lake root a partition file lives under (parsed from its path)."""
    found = parse_partition(partition_file)
    dataset_dir = Path(partition_file).parents[2]
    return dataset_dir.parent.parent if found.zone != ACCEPTED else dataset_dir.parent


def _folder_day(directory: Path) -> date | None:
    try:
        return date.fromisoformat(directory.name.removeprefix("date="))
    except ValueError:
        return None


# --------------------------------------------------------------------------- checks

def check_dataset(dataset: str) -> None:
    if dataset not in SCHEMAS:
        raise ValueError(f"unknown lake dataset {dataset!r}")


def check_segment(segment: str) -> None:
    # Partition segments come from our own constants and ids; refuse anything path-like.
    if not segment or "/" in segment or "\\" in segment or segment.startswith(".") or "\0" in segment:
        raise ValueError(f"invalid partition segment {segment!r}")
