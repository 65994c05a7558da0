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
    rng = np.random.default_rng(workload.seed)
    ids = account_ids(workload)
    written = 0
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
            table = pa.table({
                "snapshot_date": pa.array([day] * n, pa.date32()),
                "account_id": account_col, "agency_id": agency_col,
                "platform": platform_col, "handle": handle_col,
                "platform_id": pa.nulls(n, pa.string()), "name": pa.nulls(n, pa.string()),
                "followers": pa.array(followers), "followers_rounding": pa.nulls(n, pa.string()),
                "likes": pa.nulls(n, pa.int64()), "posts_total": pa.nulls(n, pa.int64()),
                "views_total": pa.nulls(n, pa.int64()),
                "fetched_at": pa.array([fetched] * n, lake.UTC_TS),
            }, schema=lake.SCHEMAS["account_snapshots"])
            lake.write_partition("account_snapshots", platform, day, table, root=root)
            written += n
    return written


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
