"""Synthetic workloads for the benchmarks: a registry of N accounts and years of lake data.

Generated vectorised (numpy + pyarrow), deterministic for a seed, in the exact lake layout
and schemas the pipeline writes (`agency_pulse.lake`), so the warehouse reads them as it
reads real extracts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from agency_pulse import lake
from agency_pulse.config import PLATFORMS

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Workload:
    accounts: int            # total, spread evenly over the five platforms
    days: int                # daily snapshots up to `end`
    posts: int               # total posts over the period
    end: date = date(2026, 11, 26)
    seed: int = 7

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)


def account_ids(workload: Workload) -> dict[str, list[str]]:
    per = workload.accounts // len(PLATFORMS)
    return {p: [f"bench{i:06d}" for i in range(per)] for p in PLATFORMS}


def write_registry(workload: Workload, path: Path, accounts_per_agency: int = 5) -> Path:
    """A registry YAML with one agency per `accounts_per_agency` accounts (one per platform)."""
    handles = account_ids(workload)
    per = len(next(iter(handles.values())))
    agencies = [{
        "id": f"agency-{i:06d}", "name": f"Agency {i}", "name_en": f"Agency {i}",
        "kind": "ministry", "jurisdiction": "AZ",
        "accounts": [{"platform": p, "handle": handles[p][i]} for p in PLATFORMS],
    } for i in range(per)]
    path.write_text(yaml.safe_dump({"agencies": agencies}, sort_keys=False), encoding="utf-8")
    return path


def _days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def write_snapshots(workload: Workload, root: Path, days: list[date] | None = None) -> int:
    """One partition per platform and day, followers following a per-account curve."""
    written = 0
    for (platform, day), table in _snapshot_tables(workload, days):
        lake.write_partition("account_snapshots", platform, day, table, root=root)
        written += table.num_rows
    return written


def _snapshot_tables(workload: Workload, days: list[date] | None = None):
    """((platform, day), snapshot table) for every platform and day (default: all days)."""
    rng = np.random.default_rng(workload.seed)
    ids = account_ids(workload)
    for platform in PLATFORMS:
        handles = ids[platform]
        n = len(handles)
        base = rng.integers(100, 500_000, n).astype(np.float64)
        daily_growth = rng.normal(0.0004, 0.0006, n)
        account_col = pa.array([f"{platform}:{h}" for h in handles])
        agency_col = pa.array([f"agency-{i:06d}" for i in range(n)])
        platform_col = pa.array([platform] * n)
        handle_col = pa.array(handles)
        for day in days or _days(workload.start, workload.days):
            t = (day - workload.start).days
            followers = np.maximum(0, base * np.exp(daily_growth * t)).astype(np.int64)
            fetched = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
            yield (platform, day), pa.table({
                "snapshot_date": pa.array([day] * n, pa.date32()),
                "account_id": account_col, "agency_id": agency_col,
                "platform": platform_col, "handle": handle_col,
                "platform_id": pa.nulls(n, pa.string()), "name": pa.nulls(n, pa.string()),
                "followers": pa.array(followers), "followers_rounding": pa.nulls(n, pa.string()),
                "likes": pa.nulls(n, pa.int64()), "posts_total": pa.nulls(n, pa.int64()),
                "views_total": pa.nulls(n, pa.int64()),
                "fetched_at": pa.array([fetched] * n, lake.UTC_TS),
            }, schema=lake.SCHEMAS["account_snapshots"])


def write_posts(workload: Workload, root: Path, *, start: date | None = None,
                end: date | None = None, posts: int | None = None, key_prefix: str = "bench") -> int:
    """Posts published between start and end, landed in monthly fetch partitions
    (file names ``part-<key_prefix><n>``: a later batch with another prefix adds files)."""
    rng = np.random.default_rng(workload.seed + 1)
    ids = account_ids(workload)
    start = start or workload.start
    end = end or workload.end
    total = posts if posts is not None else workload.posts
    per_platform = total // len(PLATFORMS)
    span = (end - start).days + 1
    start_s = int((datetime(start.year, start.month, start.day, tzinfo=UTC)
                   - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    written = 0
    for p_index, platform in enumerate(PLATFORMS):
        handles = np.array([f"{platform}:{h}" for h in ids[platform]], dtype=object)
        # a skewed posting rate: some accounts post a lot, many rarely
        weights = rng.pareto(1.5, len(handles)) + 0.05
        weights /= weights.sum()
        owner = rng.choice(len(handles), size=per_platform, p=weights)
        published = start_s + rng.integers(0, span * 86_400, per_platform)
        order = np.argsort(published, kind="stable")
        owner, published = owner[order], published[order]
        chunk_bounds = _month_bounds(published)
        for lo, hi, month_end in chunk_bounds:
            fetch_day = min(month_end, end)  # never fetched after the workload's last day
            n = hi - lo
            reactions = rng.poisson(40, n).astype(np.int64)
            table = pa.table({
                "account_id": pa.array(handles[owner[lo:hi]].tolist(), pa.string()),
                "agency_id": pa.array([f"agency-{i:06d}" for i in owner[lo:hi]], pa.string()),
                "platform": pa.array([platform] * n, pa.string()),
                "post_id": pa.array([f"{p_index}{i:011d}" for i in range(written, written + n)],
                                    pa.string()),
                "published_at": pa.array(published[lo:hi] * 1_000_000, pa.int64()).cast(lake.UTC_TS),
                "post_type": pa.array(["status"] * n, pa.string()),
                "is_video": pa.array(rng.random(n) < 0.2),
                "is_live": pa.array(rng.random(n) < 0.02),
                "permalink": pa.nulls(n, pa.string()),
                "reactions": pa.array(reactions),
                "comments": pa.array(rng.poisson(5, n).astype(np.int64)),
                "shares": pa.array(rng.poisson(2, n).astype(np.int64)),
                "views": pa.nulls(n, pa.int64()),
                "views_rounding": pa.nulls(n, pa.string()),
                "fetched_on": pa.array([fetch_day] * n, pa.date32()),
                "fetched_at": pa.array([datetime(fetch_day.year, fetch_day.month, fetch_day.day, 6,
                                                 tzinfo=UTC)] * n, lake.UTC_TS),
            }, schema=lake.SCHEMAS["posts"])
            lake.write_partition("posts", platform, fetch_day, table, root=root,
                                 key=f"{key_prefix}{lo}")
            written += n
    return written


def _month_bounds(published_seconds: np.ndarray) -> list[tuple[int, int, date]]:
    """Split sorted publication times by calendar month; fetch day = the month's last day."""
    days = published_seconds // 86_400
    months = np.array([(EPOCH + timedelta(days=int(d))).replace(day=1).toordinal()
                       for d in days[np.r_[0, np.flatnonzero(np.diff(days)) + 1]]])
    starts = np.r_[0, np.flatnonzero(np.diff(days)) + 1]
    bounds: list[tuple[int, int, date]] = []
    current, lo = None, 0
    for s, m in zip(starts, months, strict=True):
        if current is None:
            current = m
        elif m != current:
            bounds.append((lo, int(s), _month_end(date.fromordinal(int(current)))))
            current, lo = m, int(s)
    bounds.append((lo, len(published_seconds), _month_end(date.fromordinal(int(current)))))
    return bounds


def _month_end(first: date) -> date:
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def write_daily_run(workload: Workload, root: Path, day: date, *, new_posts: int,
                    batch_size: int = 100, settling_days: int = 30) -> dict[str, int]:
    """One daily run's accepted files, shaped as the extract DAG lands them: per platform and
    batch of ``batch_size`` accounts a snapshot file, a posts file and an extract log file.
    The posts file holds the day's ``new_posts`` and the settling window's re-reads: every
    post the lake has from the ``settling_days`` before, fetched again with new figures.
    Returns the rows written per dataset."""
    import duckdb

    written = {"account_snapshots": 0, "posts": 0, "extract_log": 0}
    fetched_at = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    recent = _settling_posts(root, day, settling_days)
    day_posts = _day_posts(workload, day, new_posts)
    snapshots = dict(_snapshot_tables(workload, [day]))
    con = duckdb.connect()
    try:
        for platform in PLATFORMS:
            handles = [f"{platform}:{h}" for h in account_ids(workload)[platform]]
            snapshot = snapshots[(platform, day)]
            con.register("recent", recent)
            con.register("today", day_posts)
            posts = con.sql(
                "select * replace (reactions + 1 as reactions, $day as fetched_on, "
                "$at as fetched_at) from recent where platform = $p "
                "union all by name select * from today where platform = $p",
                params={"day": day, "at": fetched_at, "p": platform}).to_arrow_table()
            for batch, lo in enumerate(range(0, len(handles), batch_size)):
                members = handles[lo:lo + batch_size]
                key = f"batch{batch:04d}"
                lake.write_partition("account_snapshots", platform, day,
                                     snapshot.slice(lo, len(members)), root=root, key=key)
                mine = posts.filter(pc.is_in(posts["account_id"],
                                                     value_set=pa.array(members)))
                lake.write_partition("posts", platform, day,
                                     mine.cast(lake.SCHEMAS["posts"]), root=root, key=key)
                log = lake.table_from_rows("extract_log", [
                    {"run_date": day, "platform": platform, "account_id": account,
                     "agency_id": f"agency-{lo + n:06d}", "handle": account.split(":", 1)[1],
                     "status": "ok", "calls": 2, "units": 2, "run_id": f"scheduled__{day}",
                     "logged_at": fetched_at, "source": "sandbox"}
                    for n, account in enumerate(members)])
                lake.write_partition("extract_log", platform, day, log, root=root, key=key)
                written["account_snapshots"] += len(members)
                written["posts"] += mine.num_rows
                written["extract_log"] += len(members)
            con.unregister("recent")
            con.unregister("today")
    finally:
        con.close()
    return written


def _settling_posts(root: Path, day: date, settling_days: int) -> pa.Table:
    """Every post in the lake published in the ``settling_days`` before ``day``, one row per
    post (its latest fetch)."""
    import duckdb

    files = sorted(str(p) for p in (root / "posts").rglob("*.parquet"))
    if not files:
        return lake.SCHEMAS["posts"].empty_table()
    first = datetime.combine(day - timedelta(days=settling_days), datetime.min.time(), UTC)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.sql(
            "select * exclude (filename) from read_parquet($files, union_by_name = true, "
            "hive_partitioning = false, filename = true) where published_at >= $first and published_at < $day "
            "qualify row_number() over (partition by platform, post_id "
            "order by fetched_on desc, filename desc) = 1",
            params={"files": files, "first": first, "day": day}).to_arrow_table() \
            .cast(lake.SCHEMAS["posts"])
    finally:
        con.close()


def _day_posts(workload: Workload, day: date, count: int) -> pa.Table:
    """``count`` posts published on ``day`` (ids unique to the day), as write_posts makes them."""
    rng = np.random.default_rng(workload.seed + day.toordinal())
    ids = account_ids(workload)
    rows = []
    start_s = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    fetched_at = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    per_platform = max(1, count // len(PLATFORMS))
    for p_index, platform in enumerate(PLATFORMS):
        handles = ids[platform]
        owners = rng.integers(0, len(handles), per_platform)
        for n, owner in enumerate(owners):
            rows.append({
                "account_id": f"{platform}:{handles[owner]}", "agency_id": f"agency-{owner:06d}",
                "platform": platform, "post_id": f"{p_index}d{day:%Y%m%d}{n:07d}",
                "published_at": datetime.fromtimestamp(start_s + int(rng.integers(0, 86_400)),
                                                       UTC),
                "post_type": "status", "is_video": bool(rng.random() < 0.2),
                "is_live": bool(rng.random() < 0.02), "reactions": int(rng.poisson(40)),
                "comments": int(rng.poisson(5)), "shares": int(rng.poisson(2)),
                "fetched_on": day, "fetched_at": fetched_at})
    return lake.table_from_rows("posts", rows)
