"""Years of daily runs on the lake, simulated cheaply: the files the DAG writes, compacted as
the DAG compacts them, and one daily batch's extract-state read and landing measured on it.

``simulate`` publishes, day after day, what a daily run publishes per platform and batch
(account snapshots, the posts read that day, the settling window's included, the extract
log) straight into the accepted zone with ``lake.write_partition`` (checksummed, as
validation publishes), and once a month runs ``lake_compact.compact_lake`` for that day
(which brings the extract state up to date first, as publishing does). No API, no
validation: what is measured is the lake's shape and the state's read cost.

``python -m bench.lake_years HOME PLATFORM DAY ACCOUNTS`` (a fresh process) times one
batch's ``extract.build_state`` plus its landing (``day_record.earlier_rows`` and the
landing-zone writes) and prints it as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

DATASETS = ("account_snapshots", "posts", "post_reads", "extract_log")
SETTLE_DAYS = 30
POST_EVERY = 5  # each account publishes every fifth day
SETTLED_AFTER = 7  # a post's figures change during its first week, then stay


def day_tables(platform: str, day: date, accounts: list[str]) -> dict[str, pa.Table]:
    """What one daily run of a batch lands for ``day``: snapshots, the posts it lands (every
    post of the settling window is read again; one lands a version only while its figures
    still change, its first ``SETTLED_AFTER`` days), ``post_reads`` (the other ids read),
    the extract log."""
    from agency_pulse import lake

    fetched = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    n = len(accounts)
    ordinal = day.toordinal()
    snapshots = pa.table({
        "snapshot_date": pa.array([day] * n, pa.date32()),
        "account_id": pa.array(accounts), "agency_id": pa.array([f"agency-{a}" for a in accounts]),
        "platform": pa.array([platform] * n), "handle": pa.array(accounts),
        "platform_id": pa.array([f"id-{a}" for a in accounts]),
        "name": pa.nulls(n, pa.string()),
        "followers": pa.array([1000 + (ordinal % 997) + i for i in range(n)], pa.int64()),
        "followers_rounding": pa.nulls(n, pa.string()), "likes": pa.nulls(n, pa.int64()),
        "posts_total": pa.nulls(n, pa.int64()), "views_total": pa.nulls(n, pa.int64()),
        "fetched_at": pa.array([fetched] * n, lake.UTC_TS),
    }, schema=lake.SCHEMAS["account_snapshots"])
    post_rows = {"account_id": [], "post_id": [], "published_at": [], "reactions": []}
    unchanged: dict[str, list[str]] = {}
    for back in range(SETTLE_DAYS + 1):
        published = ordinal - back
        for i, account in enumerate(accounts):
            if (published + i) % POST_EVERY == 0 and back > SETTLED_AFTER:
                unchanged.setdefault(account, []).append(f"{account}-{published}")
            elif (published + i) % POST_EVERY == 0:
                post_rows["account_id"].append(account)
                post_rows["post_id"].append(f"{account}-{published}")
                post_rows["published_at"].append(
                    datetime.combine(date.fromordinal(published), datetime.min.time(), UTC)
                    + timedelta(hours=9))
                post_rows["reactions"].append(back * 3 + i % 7)
    m = len(post_rows["post_id"])
    posts = pa.table({
        "account_id": pa.array(post_rows["account_id"], pa.string()),
        "agency_id": pa.nulls(m, pa.string()), "platform": pa.array([platform] * m, pa.string()),
        "post_id": pa.array(post_rows["post_id"], pa.string()),
        "published_at": pa.array(post_rows["published_at"], lake.UTC_TS),
        "post_type": pa.array(["status"] * m, pa.string()), "is_video": pa.nulls(m, pa.bool_()),
        "is_live": pa.nulls(m, pa.bool_()), "permalink": pa.nulls(m, pa.string()),
        "reactions": pa.array(post_rows["reactions"], pa.int64()),
        "comments": pa.nulls(m, pa.int64()), "shares": pa.nulls(m, pa.int64()),
        "views": pa.nulls(m, pa.int64()), "views_rounding": pa.nulls(m, pa.string()),
        "fetched_on": pa.array([day] * m, pa.date32()),
        "fetched_at": pa.array([fetched] * m, lake.UTC_TS),
    }, schema=lake.SCHEMAS["posts"])
    extract_log = pa.table({
        "run_date": pa.array([day] * n, pa.date32()), "platform": pa.array([platform] * n),
        "account_id": pa.array(accounts), "agency_id": pa.array([f"agency-{a}" for a in accounts]),
        "handle": pa.array(accounts), "status": pa.array(["ok"] * n),
        "reason": pa.nulls(n, pa.string()), "calls": pa.array([1] * n, pa.int64()),
        "units": pa.array([1] * n, pa.int64()), "run_id": pa.array(["bench"] * n),
        "logged_at": pa.array([fetched] * n, lake.UTC_TS),
        "source": pa.array(["sandbox"] * n),
    }, schema=lake.SCHEMAS["extract_log"])
    reads = sorted(unchanged)
    post_reads = pa.table({
        "account_id": pa.array(reads, pa.string()),
        "platform": pa.array([platform] * len(reads), pa.string()),
        "read_on": pa.array([day] * len(reads), pa.date32()),
        "post_ids": pa.array([unchanged[a] for a in reads], pa.list_(pa.string())),
        "fetched_at": pa.array([fetched] * len(reads), lake.UTC_TS),
    }, schema=lake.SCHEMAS["post_reads"])
    return {"account_snapshots": snapshots, "posts": posts, "post_reads": post_reads,
            "extract_log": extract_log}


def batches(platform: str, accounts: int, batch_size: int) -> dict[str, list[str]]:
    ids = [f"{platform}:bench{i:06d}" for i in range(accounts)]
    return {f"b{n:03d}": ids[start:start + batch_size]
            for n, start in enumerate(range(0, accounts, batch_size))}


def simulate(home: Path, *, platforms: tuple[str, ...], accounts: int, days: int, end: date,
             batch_size: int = 100) -> dict:
    """Publish ``days`` daily runs up to ``end`` for ``accounts`` accounts per platform in
    batches of ``batch_size``, compacting once a month; return what the lake holds."""
    os.environ["AGENCY_PULSE_HOME"] = str(home)
    from agency_pulse import extract_state, lake, lake_compact

    written = 0
    start = end - timedelta(days=days - 1)
    for offset in range(days):
        day = start + timedelta(days=offset)
        if day.day == 1:
            lake_compact.compact_lake(day)  # the daily DAG's step; once a month is enough here
        for platform in platforms:
            for key, ids in batches(platform, accounts, batch_size).items():
                for dataset, table in day_tables(platform, day, ids).items():
                    lake.write_partition(dataset, platform, day, table, key=key)
                    written += 1
    lake_compact.compact_lake(end)
    for platform in platforms:
        extract_state.refresh(platform)  # as publishing the last day does
    return count_files(home / "lake", end) | {"files_written": written}


def count_files(root: Path, end: date) -> dict:
    """Accepted Parquet files: daily ones inside / outside the settling window, month files."""
    from agency_pulse import lake

    horizon = lake_compact_horizon(end)
    daily = [lake.parse_partition(p) for p in lake.list_partitions(lake.ACCEPTED, root=root)]
    months = lake.list_month_files(root=root)
    settled = {(m.dataset, m.platform, m.month) for m in map(lake.parse_month_file, months)}
    return {"files": len(daily) + len(months), "month_files": len(months),
            "daily_files_settled": sum(1 for f in daily if _month_end(f.day) < horizon),
            "daily_files_window": sum(1 for f in daily if _month_end(f.day) >= horizon),
            "settled_groups": len(settled),
            "state_bytes": sum(p.stat().st_size for p in (root / "_state").rglob("*.parquet"))}


def lake_compact_horizon(end: date) -> date:
    from agency_pulse import lake_compact

    return lake_compact.settled_before(end)


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def measure_batch(home: Path, platform: str, day: date, accounts: int,
                  batch_size: int = 100) -> dict:
    """One batch of ``day``: the extract state read plus the landing, timed (this process)."""
    os.environ["AGENCY_PULSE_HOME"] = str(home)
    # Module imports are the same on any lake: done before the clock starts, the measure is
    # the reading and writing itself (every file is read afresh in this process).
    import pyarrow.dataset  # noqa: F401

    from agency_pulse import config, day_record, extract, extract_state, lake  # noqa: F401

    shutil.rmtree(config.paths().landing, ignore_errors=True)  # every run a first landing
    key, ids = next(iter(batches(platform, accounts, batch_size).items()))
    tables = day_tables(platform, day, ids)  # what the API gave: not part of the measure
    started = time.perf_counter()
    state = extract.build_state(platform, day)
    state_seconds = time.perf_counter() - started
    earlier = day_record.earlier_rows(platform, day, ids, batch_key=key,
                                      lake_root=config.paths().lake)
    for dataset, table in tables.items():
        rows = day_record.merge(dataset, earlier[dataset], table.to_pylist())
        lake.write_partition(dataset, platform, day, lake.table_from_rows(dataset, rows),
                             key=key, root=config.paths().landing)
    seconds = time.perf_counter() - started
    # For comparison (after the measure, so the files may be cached): the same state read
    # from every accepted file of the platform, as it was read before the state table.
    scan_started = time.perf_counter()
    extract.scan_state(platform, day)
    scan_seconds = time.perf_counter() - scan_started
    return {"seconds": seconds, "state_seconds": state_seconds, "scan_seconds": scan_seconds,
            "known_posts": sum(len(v) for v in state.known_post_ids.values()),
            "accounts_with_posts": len(state.last_post_at)}


if __name__ == "__main__":
    home_arg, platform_arg, day_arg, accounts_arg = sys.argv[1:5]
    print(json.dumps(measure_batch(Path(home_arg), platform_arg,
                                   date.fromisoformat(day_arg), int(accounts_arg))))
