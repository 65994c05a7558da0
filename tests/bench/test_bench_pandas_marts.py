"""bench.pandas_marts: the pandas alternative computes the same four marts as the warehouse."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `bench`

from agency_pulse import lake, warehouse  # noqa: E402
from agency_pulse.registry import load_registry  # noqa: E402
from bench.pandas_marts import compare_marts, compute_marts  # noqa: E402
from bench.workload import Workload, write_posts, write_registry, write_snapshots  # noqa: E402


def warehouse_marts(path) -> dict:
    with warehouse.connect_read_only(path) as con:
        return {name: con.sql(f"select * from marts.{name}").to_arrow_table().to_pandas()
                for name in warehouse.MARTS}


def test_pandas_marts_equal_the_warehouse_marts(pulse_home, monkeypatch):
    # 40 days ending 2026-02-05: two month boundaries and a year boundary
    workload = Workload(accounts=10, days=40, posts=600, end=date(2026, 2, 5))
    registry_path = write_registry(workload, pulse_home.home / "registry.yaml")
    monkeypatch.setenv("AGENCY_PULSE_REGISTRY", str(registry_path))
    write_snapshots(workload, pulse_home.lake)
    write_posts(workload, pulse_home.lake)
    registry = load_registry(registry_path)
    warehouse.build(registry=registry)

    ours = warehouse_marts(pulse_home.warehouse)
    theirs = compute_marts(pulse_home.lake, registry)

    assert {name: len(frame) for name, frame in theirs.items()} == \
        {name: len(frame) for name, frame in ours.items()}
    assert len(ours["account_monthly"]) > 10 and len(ours["agency_annual"]) == 4  # 2 agencies, 2 years
    assert compare_marts(ours, theirs) == dict.fromkeys(warehouse.MARTS, [])


def test_a_later_fetch_of_a_post_wins_in_pandas_too(pulse_home):
    workload = Workload(accounts=5, days=3, posts=5, end=date(2026, 2, 5))
    registry_path = write_registry(workload, pulse_home.home / "registry.yaml")
    write_snapshots(workload, pulse_home.lake)
    write_posts(workload, pulse_home.lake)
    posts = lake.read_dataset("posts", root=pulse_home.lake)
    refetched = posts.slice(0, 1)
    refetched = refetched.set_column(refetched.schema.get_field_index("reactions"), "reactions",
                                     pa.array([10_000], pa.int64()))
    refetched = refetched.set_column(
        refetched.schema.get_field_index("fetched_at"), "fetched_at",
        pa.array([posts["fetched_at"][0].as_py().replace(year=2027)], lake.UTC_TS))
    lake.write_partition("posts", refetched["platform"][0].as_py(), date(2027, 1, 1), refetched,
                         root=pulse_home.lake, key="refetch")
    registry = load_registry(registry_path)
    warehouse.build(registry=registry)

    ours = warehouse_marts(pulse_home.warehouse)
    theirs = compute_marts(pulse_home.lake, registry)

    assert compare_marts(ours, theirs) == dict.fromkeys(warehouse.MARTS, [])
    assert theirs["account_annual"]["engagement"].max() >= 10_000


def test_compare_marts_reports_a_difference(pulse_home):
    workload = Workload(accounts=5, days=5, posts=20, end=date(2026, 2, 5))
    registry_path = write_registry(workload, pulse_home.home / "registry.yaml")
    write_snapshots(workload, pulse_home.lake)
    write_posts(workload, pulse_home.lake)
    registry = load_registry(registry_path)
    theirs = compute_marts(pulse_home.lake, registry)
    changed = {name: frame.copy() for name, frame in theirs.items()}
    changed["account_monthly"].loc[0, "followers_end"] += 1

    differences = compare_marts(changed, theirs)

    assert differences["account_monthly"] and "followers_end" in differences["account_monthly"][0]
    assert differences["agency_annual"] == []


def test_pandas_marts_follow_the_post_rules_too(pulse_home):
    # retweets (no posts), posts without any engagement figure and with unknown live flags
    workload = Workload(accounts=6, days=40, posts=300, end=date(2026, 2, 5))
    registry_path = write_registry(workload, pulse_home.home / "registry.yaml")
    write_snapshots(workload, pulse_home.lake)
    write_posts(workload, pulse_home.lake)
    rows = lake.read_dataset("posts", root=pulse_home.lake).to_pylist()
    for i, row in enumerate(rows):
        row["fetched_on"] = date(2027, 1, 1)
        if i % 5 == 0:
            row["post_type"] = "retweet"
        if i % 7 == 0:
            row.update(reactions=None, comments=None, shares=None)
        if row["account_id"] == rows[0]["account_id"]:
            row["is_live"] = None
    for platform in sorted({row["platform"] for row in rows}):
        lake.write_partition("posts", platform, date(2027, 1, 1),
                             lake.table_from_rows("posts", [r for r in rows
                                                            if r["platform"] == platform]),
                             root=pulse_home.lake, key="rules")
    registry = load_registry(registry_path)
    warehouse.build(registry=registry)

    ours = warehouse_marts(pulse_home.warehouse)
    theirs = compute_marts(pulse_home.lake, registry)

    assert compare_marts(ours, theirs) == dict.fromkeys(warehouse.MARTS, [])
    annual = theirs["account_annual"]
    retweets = len(range(0, len(rows), 5))
    assert annual["posts"].sum() == len(rows) - retweets  # retweets are not counted
    assert annual.loc[annual["account_id"] == rows[0]["account_id"], "live_posts"].isna().all()
