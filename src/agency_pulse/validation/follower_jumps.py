"""Flag implausible follower jumps: a warning for a person to look at, never a failure.

A platform may legitimately jump (a viral week, a purge of bots, a merged page), so a jump is
recorded beside the validation result, and the batch is still published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from agency_pulse import config, lake, lake_fs


@dataclass(frozen=True)
class FollowerJumpRule:
    """A change by more than ``factor`` (up or down) from a base of ``min_base`` or more."""

    factor: float = 10.0
    min_base: int = 100


DEFAULT_FOLLOWER_JUMP = FollowerJumpRule()


def previous_snapshots(accounts: set[str], before: date, platform: str,
                       root: Path | None = None) -> pa.Table:
    """Each account's latest accepted snapshot (with a follower count) before ``before``.

    Reads the accepted partitions newest first and stops once every account is found, so the
    usual daily case reads a single file rather than years of history. The accepted lake is
    the one under ``root``; with a lake on object storage (``AGENCY_PULSE_LAKE_URL``) and
    ``root`` the local lake folder (or None), the objects there, read where they are.
    """
    wanted = set(accounts)
    found: list[pa.Table] = []
    shared = _shared_lake(root)
    by_day: dict[date, list[str]] = {}
    if shared is None:
        dailies = [str(f) for f in lake.list_partitions(
            lake.ACCEPTED, "account_snapshots", platform, before=before, root=root)]
        months = [str(f) for f in lake.list_month_files("account_snapshots", platform,
                                                        root=root)]
        shared = lake_fs.LOCAL
    else:
        dailies, months = _shared_files(shared, platform, before)
    for file in dailies:
        by_day.setdefault(lake.parse_partition(shared.fs_path(file)).day, []).append(file)
    for _day, files in sorted(by_day.items(), reverse=True):
        if not wanted:
            break
        table = pa.concat_tables(shared.read_table(f, columns=["account_id", "snapshot_date",
                                                               "followers", "fetched_at"])
                                 for f in files)
        table = table.filter(pc.and_(pc.is_in(table["account_id"], pa.array(sorted(wanted))),
                                     pc.and_(pc.is_valid(table["followers"]),
                                             pc.less(table["snapshot_date"], pa.scalar(before)))))
        if table.num_rows:
            found.append(table)
            wanted -= set(table["account_id"].to_pylist())
    # Accounts not seen in the daily files: their last snapshot may be in a compacted month.
    for month_file in reversed(months):
        if not wanted or lake.parse_month_file(shared.fs_path(month_file)).month \
                > lake.month_of(before):
            continue
        for _day, table in sorted(lake.read_month_days(shared.fs_path(month_file),
                                                       filesystem=shared.filesystem),
                                  key=lambda d: d[0], reverse=True):
            table = table.select(["account_id", "snapshot_date", "followers", "fetched_at"])
            table = table.filter(pc.and_(
                pc.is_in(table["account_id"], pa.array(sorted(wanted))),
                pc.and_(pc.is_valid(table["followers"]),
                        pc.less(table["snapshot_date"], pa.scalar(before)))))
            if table.num_rows:
                found.append(table)
                wanted -= set(table["account_id"].to_pylist())
    if not found:
        return pa.table({"account_id": pa.array([], pa.string()),
                         "snapshot_date": pa.array([], pa.date32()),
                         "followers": pa.array([], pa.int64())})
    history = pa.concat_tables(found)
    # Latest first, then keep the first row of each account.
    history = history.sort_by([("account_id", "ascending"), ("snapshot_date", "descending"),
                               ("fetched_at", "descending")])
    ids = history["account_id"].to_numpy(zero_copy_only=False)
    keep = [0] + [i for i in range(1, len(ids)) if ids[i] != ids[i - 1]] if len(ids) else []
    return history.take(pa.array(keep, pa.int64())).select(["account_id", "snapshot_date", "followers"])


def _shared_lake(root: Path | None) -> lake_fs.LakeFS | None:
    """The lake on object storage when it is configured and ``root`` means the lake."""
    if root is not None and Path(root) != config.paths().lake:
        return None  # an explicit lake folder (a test's, a sandbox's): read it
    shared = lake_fs.open_lake()
    return shared if shared.remote else None


def _shared_files(shared: lake_fs.LakeFS, platform: str, before: date
                  ) -> tuple[list[str], list[str]]:
    """A platform's accepted account_snapshots on the shared lake: the daily files dated
    before ``before`` and the compacted month files, each sorted."""
    dailies, months = [], []
    for location, *_ in shared.dataset_files("account_snapshots"):
        path = shared.fs_path(location)
        if lake.is_month_file(path):
            if lake.parse_month_file(path).platform == platform:
                months.append(location)
            continue
        try:
            found = lake.parse_partition(path)
        except lake.NotAPartitionFile:
            continue  # not the layout's: never read (as no local glob would match it)
        if found.platform == platform and found.day < before:
            dailies.append(location)
    return dailies, months


def find_follower_jumps(batch: pa.Table, previous: pa.Table,
                        rule: FollowerJumpRule = DEFAULT_FOLLOWER_JUMP) -> list[str]:
    """One readable warning per account whose followers moved by more than the rule allows.

    ``batch`` has account_id and followers (an account_snapshots batch); ``previous`` has each
    account's previous account_id, snapshot_date, followers.
    """
    if batch.num_rows == 0 or previous.num_rows == 0:
        return []
    current = batch.select(["account_id", "followers"]).filter(pc.is_valid(batch["followers"]))
    joined = current.join(previous.rename_columns(["account_id", "previous_date", "previous"]),
                          "account_id", join_type="inner")
    base = joined["previous"]
    now = joined["followers"]
    large_base = pc.greater_equal(base, rule.min_base)
    up = pc.greater(pc.cast(now, pa.float64()), pc.multiply(pc.cast(base, pa.float64()), rule.factor))
    down = pc.less(pc.multiply(pc.cast(now, pa.float64()), rule.factor), pc.cast(base, pa.float64()))
    jumps = joined.filter(pc.and_(large_base, pc.or_(up, down))).sort_by("account_id")
    warnings = []
    for row in jumps.to_pylist():
        ratio = row["followers"] / row["previous"]
        warnings.append(
            f"follower_jump({row['account_id']}): {row['previous']} on {row['previous_date']} "
            f"-> {row['followers']} ({ratio:.3g}x, limit {rule.factor:g}x)")
    return warnings
