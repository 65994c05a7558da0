"""Follower jumps: which changes are flagged, and which earlier snapshot they compare with."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
from validation_samples import RUN_DAY, snapshot

from agency_pulse import lake
from agency_pulse.validation.follower_jumps import (
    FollowerJumpRule,
    find_follower_jumps,
    previous_snapshots,
)


def batch(*rows: dict) -> pa.Table:
    return lake.table_from_rows("account_snapshots", list(rows))


def previous(**followers_by_account: int | None) -> pa.Table:
    return pa.table({
        "account_id": pa.array([f"facebook:{a}" for a in followers_by_account], pa.string()),
        "snapshot_date": pa.array([RUN_DAY - timedelta(days=1)] * len(followers_by_account), pa.date32()),
        "followers": pa.array(list(followers_by_account.values()), pa.int64()),
    })


def test_changes_beyond_the_factor_either_way_are_flagged():
    today = batch(snapshot("facebook:up", 10_001), snapshot("facebook:down", 99),
                  snapshot("facebook:steady", 5_000), snapshot("facebook:edge", 10_000))

    warnings = find_follower_jumps(today, previous(up=1000, down=1000, steady=1000, edge=1000))

    assert [w.split(":", 2)[1].split(")")[0] for w in warnings] == ["down", "up"]
    assert "1000" in warnings[1] and "10001" in warnings[1]


def test_small_bases_new_accounts_and_missing_counts_are_not_flagged():
    today = batch(snapshot("facebook:tiny", 50_000), snapshot("facebook:new", 1_000_000),
                  snapshot("facebook:hidden", None))

    assert find_follower_jumps(today, previous(tiny=99, hidden=5000)) == []


def test_the_rule_is_configurable():
    today = batch(snapshot("facebook:a", 350))

    assert find_follower_jumps(today, previous(a=100)) == []
    assert len(find_follower_jumps(today, previous(a=100), FollowerJumpRule(factor=3))) == 1
    assert find_follower_jumps(today, previous(a=100), FollowerJumpRule(factor=3, min_base=101)) == []


def test_previous_snapshot_is_the_latest_accepted_before_the_run_day(pulse_home):
    def accept(day: date, followers: int, account: str = "facebook:a"):
        lake.write_partition("account_snapshots", "facebook", day,
                             batch(snapshot(account, followers, day=day)), root=pulse_home.lake)

    accept(RUN_DAY - timedelta(days=10), 100)
    accept(RUN_DAY - timedelta(days=3), 300)
    accept(RUN_DAY, 999)  # the day being re-validated never counts as "previous"
    accept(RUN_DAY - timedelta(days=20), 7, account="facebook:b")

    found = previous_snapshots({"facebook:a", "facebook:b", "facebook:c"}, RUN_DAY, "facebook")

    assert sorted(zip(found["account_id"].to_pylist(), found["followers"].to_pylist(),
                      strict=True)) == [("facebook:a", 300), ("facebook:b", 7)]
    assert found["snapshot_date"].to_pylist()[found["account_id"].to_pylist().index("facebook:a")] \
        == RUN_DAY - timedelta(days=3)


def test_a_hidden_count_does_not_hide_the_last_known_one(pulse_home):
    for day, followers in ((RUN_DAY - timedelta(days=2), 800), (RUN_DAY - timedelta(days=1), None)):
        lake.write_partition("account_snapshots", "facebook", day,
                             batch(snapshot("facebook:a", followers, day=day)), root=pulse_home.lake)

    found = previous_snapshots({"facebook:a"}, RUN_DAY, "facebook")

    assert found["followers"].to_pylist() == [800]


def test_no_history_means_no_previous_snapshot(pulse_home):
    assert previous_snapshots({"facebook:a"}, RUN_DAY, "facebook").num_rows == 0


def test_the_last_snapshot_may_be_in_a_compacted_month(pulse_home):
    from agency_pulse import lake_compact

    months_ago = RUN_DAY - timedelta(days=80)
    lake.write_partition("account_snapshots", "facebook", months_ago,
                         batch(snapshot("facebook:a", 640, day=months_ago)), root=pulse_home.lake)
    lake.write_partition("account_snapshots", "facebook", RUN_DAY - timedelta(days=1),
                         batch(snapshot("facebook:b", 90, day=RUN_DAY - timedelta(days=1))),
                         root=pulse_home.lake)
    lake_compact.compact_lake(RUN_DAY, root=pulse_home.lake)
    assert lake.list_partitions(lake.ACCEPTED, day=months_ago) == []  # merged into its month

    found = previous_snapshots({"facebook:a", "facebook:b"}, RUN_DAY, "facebook")

    assert sorted(zip(found["account_id"].to_pylist(), found["followers"].to_pylist(),
                      strict=True)) == [("facebook:a", 640), ("facebook:b", 90)]
