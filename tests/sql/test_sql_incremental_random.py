"""Incremental builds on seeded random data: the rows of the reference test's generator
(observations with old last posts, reposts, unreadable live videos, platforms without
engagement figures, runs that read no posts, deletions), landed day by day as daily runs
land them, with re-reads of recent posts, late backfills and an account the registry no
longer lists. At every build the warehouse kept by increments equals a full rebuild of the
same lake, table by table and cell by cell."""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import duckdb
import pytest

from agency_pulse import lake, warehouse
from agency_pulse.registry import parse_registry
from tests.sql.conftest import MartWorkbench
from tests.sql.test_sql_incremental import built_tables
from tests.sql.test_sql_marts_against_reference import generate

LAKE_ONLY = "facebook:former.page"  # in the lake, no longer in the registry


def lake_rows(seed: int) -> tuple[dict[str, list[dict]], list[tuple[str, str, str, str]]]:
    """The generator's lake rows per dataset, and its registry accounts."""
    con = duckdb.connect()
    try:
        workbench = MartWorkbench(con)
        data = generate(workbench, seed)
        return {dataset: list(rows) for dataset, rows in workbench._pending.items()}, \
            data["accounts"]
    finally:
        con.close()


def landing_plan(rows: dict[str, list[dict]], seed: int) -> dict[date, dict[str, list[dict]]]:
    """Each row on the day a daily run would land it: a post on (or a few days after) its
    publication day, some again with new figures a few days later (the settling window's
    re-reads), some only months later (a backfill); every other row on its own day."""
    rng = random.Random(seed)
    plan: dict[date, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))

    def land(day: date, dataset: str, row: dict) -> None:
        plan[day][dataset].append(row)

    for row in rows.get("posts", []):
        published = row["published_at"].date()
        first = published + timedelta(days=rng.choice([0, 0, 1, 3, 200]))
        land(first, "posts", fetched(row, first))
        if rng.random() < 0.3:
            again = first + timedelta(days=rng.randrange(1, 20))
            land(again, "posts", fetched({**row, "reactions": (row["reactions"] or 0) + 7},
                                         again))
    day_of = {"account_snapshots": "snapshot_date", "follower_history": "day",
              "observations": "observed_on", "extract_log": "run_date",
              "post_deletions": "detected_on"}
    for dataset, column in day_of.items():
        for row in rows.get(dataset, []):
            land(row[column], dataset, row)
    # an account dropped from the registry: it keeps the agency it was last seen with
    for number, day in enumerate(sorted(plan)[::9]):
        agency = "culture" if number < 5 else "sports"
        land(day, "account_snapshots", {
            "snapshot_date": day, "account_id": LAKE_ONLY, "agency_id": agency,
            "platform": "facebook", "handle": "former.page", "followers": 100 + number,
            "fetched_at": datetime.combine(day, time(6), tzinfo=UTC)})
    return plan


def fetched(post: dict, day: date) -> dict:
    return {**post, "fetched_on": day, "fetched_at": datetime.combine(day, time(6), tzinfo=UTC)}


def land(paths, day: date, datasets: dict[str, list[dict]]) -> None:
    for dataset, rows in datasets.items():
        by_platform = defaultdict(list)
        for row in rows:
            by_platform[row["platform"]].append(row)
        for platform, platform_rows in by_platform.items():
            lake.write_partition(dataset, platform, day,
                                 lake.table_from_rows(dataset, platform_rows), root=paths.lake)


def registry_of(accounts) -> object:
    agencies = defaultdict(list)
    for _account_id, agency_id, platform, handle in accounts:
        agencies[agency_id].append({"platform": platform, "handle": handle})
    return parse_registry({"agencies": [
        {"id": agency_id, "name": agency_id.title(), "accounts": accounts}
        for agency_id, accounts in sorted(agencies.items())]})


@pytest.mark.parametrize("seed", [3, 11])
def test_random_days_landed_and_built_incrementally_equal_full_rebuilds(pulse_home, tmp_path,
                                                                        seed):
    rows, accounts = lake_rows(seed)
    registry = registry_of(accounts)
    plan = landing_plan(rows, seed)
    days = sorted(plan)
    rng = random.Random(seed)
    builds, index = 0, 0
    while index < len(days):
        # builds after a day or after weeks of landing days (an outage, a first backfill)
        step = rng.choice([1, 4, 15, 30])
        for day in days[index:index + step]:
            land(pulse_home, day, plan[day])
        index += step
        warehouse.build(registry=registry, home_paths=pulse_home)
        builds += 1
        with warehouse.connect_read_only(pulse_home.warehouse) as con:
            modes = con.execute("select last_mode, models_mode from quality.build_state"
                                ).fetchone()
        assert modes == (("full", "full") if builds == 1 else ("incremental", "incremental"))
        if builds % 4 == 0 or index >= len(days):
            elsewhere = dataclasses.replace(
                pulse_home, warehouse_file=tmp_path / f"full{builds}.duckdb")
            warehouse.build(registry=registry, home_paths=elsewhere, full=True)
            assert built_tables(pulse_home.warehouse) == built_tables(elsewhere.warehouse), \
                f"build {builds}, landed up to {days[min(index, len(days)) - 1]}"
    assert builds > 5
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        lake_only = con.execute(
            "select distinct agency_id from marts.account_monthly where account_id = $a",
            {"a": LAKE_ONLY}).fetchall()
    assert lake_only == [("sports",)]  # the owner it was last seen with, for every period
