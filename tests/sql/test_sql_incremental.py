"""warehouse.build() incremental: day by day it loads only new lake files, and every table it
builds equals a full rebuild of the same lake."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

from agency_pulse import lake, warehouse
from agency_pulse.registry import parse_registry

REGISTRY = parse_registry({"agencies": [
    {"id": "culture", "name": "Mədəniyyət Nazirliyi", "accounts": [
        {"platform": "facebook", "handle": "culture.az"},
        {"platform": "x", "handle": "culture_az"}]},
    {"id": "health", "name": "Səhiyyə Nazirliyi", "accounts": [
        {"platform": "facebook", "handle": "health.az"}]},
]})
ACCOUNTS = [("facebook", "facebook:culture.az", "culture"), ("x", "x:culture_az", "culture"),
            ("facebook", "facebook:health.az", "health")]
FIRST_DAY = date(2024, 12, 27)


def land_day(paths, day: date, index: int) -> None:
    """One daily run's accepted files: snapshots, posts (re-reading recent ones with new
    metrics), a deletion now and then and the extract log."""
    fetched_at = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    for platform, account_id, _agency_id in ACCOUNTS:
        mine = [a for a in ACCOUNTS if a[0] == platform]
        snapshots = [{"snapshot_date": day, "account_id": a, "agency_id": g, "platform": p,
                      "handle": a.split(":")[1], "followers": 1000 + 37 * index + 5 * n,
                      "fetched_at": fetched_at} for n, (p, a, g) in enumerate(mine)]
        if account_id != mine[0][1]:
            continue  # one file per platform and day, as the extractors land them
        lake.write_partition("account_snapshots", platform, day,
                             lake.table_from_rows("account_snapshots", snapshots), root=paths.lake)
        posts = []
        for p, a, g in mine:
            for back in range(0, 3):  # today's post and the two before, re-read
                published = day - timedelta(days=back)
                if (published.toordinal() + len(a)) % 3 == 0:
                    continue
                posts.append({"account_id": a, "agency_id": g, "platform": p,
                              "post_id": f"{a}-{published.isoformat()}",
                              "published_at": datetime(published.year, published.month,
                                                       published.day, 9, tzinfo=UTC),
                              "is_video": published.day % 4 == 0, "reactions": 10 + back * 3,
                              "comments": back, "fetched_on": day, "fetched_at": fetched_at})
        lake.write_partition("posts", platform, day, lake.table_from_rows("posts", posts),
                             root=paths.lake)
        if index % 4 == 3:
            gone = day - timedelta(days=2)
            lake.write_partition("post_deletions", platform, day, lake.table_from_rows(
                "post_deletions", [{"account_id": mine[0][1], "platform": platform,
                                    "post_id": f"{mine[0][1]}-{gone.isoformat()}",
                                    "last_seen_on": day - timedelta(days=1),
                                    "detected_on": day}]), root=paths.lake)
        lake.write_partition("extract_log", platform, day, lake.table_from_rows("extract_log", [
            {"run_date": day, "platform": p, "account_id": a, "agency_id": g,
             "handle": a.split(":")[1], "status": "ok", "calls": 1, "units": 1,
             "run_id": f"scheduled__{day}", "logged_at": fetched_at} for p, a, g in mine]),
            root=paths.lake)


def built_tables(path) -> dict[str, list[tuple]]:
    with warehouse.connect_read_only(path) as con:
        names = [n for n in warehouse.table_names(con, ("staging", "core", "marts"))
                 if n.startswith(("staging.lake_", "core.", "marts."))]
        return {n: con.execute(f"select * from {n} order by all").fetchall() for n in names}


def last_mode(path) -> str:
    with warehouse.connect_read_only(path) as con:
        return con.execute("select last_mode from quality.build_state").fetchall()[0][0]


def full_rebuild(paths, tmp_path, monkeypatch, name: str) -> dict[str, list[tuple]]:
    # the same lake into a warehouse file of its own (AGENCY_PULSE_WAREHOUSE)
    elsewhere = dataclasses.replace(paths, warehouse_file=tmp_path / f"{name}.duckdb")
    warehouse.build(registry=REGISTRY, home_paths=elsewhere, full=True)
    assert elsewhere.warehouse != paths.warehouse
    return built_tables(elsewhere.warehouse)


def test_day_by_day_increments_equal_full_rebuilds(pulse_home, tmp_path, monkeypatch):
    # across a month and a year boundary, so running periods close and new ones open
    for index in range(8):
        day = FIRST_DAY + timedelta(days=index)
        land_day(pulse_home, day, index)
        warehouse.build(registry=REGISTRY, home_paths=pulse_home)
        assert last_mode(pulse_home.warehouse) == ("full" if index == 0 else "incremental")
        incremental = built_tables(pulse_home.warehouse)
        assert incremental == full_rebuild(pulse_home, tmp_path, monkeypatch, f"full{index}")
    assert incremental["marts.account_monthly"] and incremental["marts.agency_annual"]


def test_a_rewritten_lake_file_forces_a_full_load(pulse_home, tmp_path, monkeypatch):
    land_day(pulse_home, FIRST_DAY, 0)
    land_day(pulse_home, FIRST_DAY + timedelta(days=1), 1)
    warehouse.build(registry=REGISTRY, home_paths=pulse_home)
    land_day(pulse_home, FIRST_DAY, 5)  # a rerun of the first day replaces its files

    warehouse.build(registry=REGISTRY, home_paths=pulse_home)

    assert last_mode(pulse_home.warehouse) == "full"
    assert built_tables(pulse_home.warehouse) == full_rebuild(pulse_home, tmp_path, monkeypatch,
                                                              "rerun")


def test_a_changed_registry_forces_a_full_load(pulse_home):
    land_day(pulse_home, FIRST_DAY, 0)
    warehouse.build(registry=REGISTRY, home_paths=pulse_home)
    land_day(pulse_home, FIRST_DAY + timedelta(days=1), 1)
    renamed = parse_registry({"agencies": [
        {**{"id": "culture", "name": "Ministry of Culture"}, "accounts": [
            {"platform": "facebook", "handle": "culture.az"},
            {"platform": "x", "handle": "culture_az"}]},
        {"id": "health", "name": "Səhiyyə Nazirliyi", "accounts": [
            {"platform": "facebook", "handle": "health.az"}]}]})

    warehouse.build(registry=renamed, home_paths=pulse_home)

    assert last_mode(pulse_home.warehouse) == "full"
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        names = con.execute("select distinct agency_name from marts.agency_monthly "
                            "where agency_id = 'culture'").fetchall()
    assert names == [("Ministry of Culture",)]


def test_a_late_file_for_an_earlier_day_is_upserted(pulse_home, tmp_path, monkeypatch):
    for index in (0, 1, 3):
        land_day(pulse_home, FIRST_DAY + timedelta(days=index), index)
    warehouse.build(registry=REGISTRY, home_paths=pulse_home)
    land_day(pulse_home, FIRST_DAY + timedelta(days=2), 2)  # arrives after a later day

    warehouse.build(registry=REGISTRY, home_paths=pulse_home)

    assert built_tables(pulse_home.warehouse) == full_rebuild(pulse_home, tmp_path, monkeypatch,
                                                              "late")


# Days between two builds in the replay: a daily schedule, with the gaps an outage leaves
# (never more than the settling window, so every compacted month was loaded day by day).
REPLAY_STEPS = [1, 1, 1, 7, 30, 2, 29, 1, 14, 30, 3, 30, 1, 28, 30, 30, 1, 29, 30, 30, 30, 30, 12, 1]
REPLAY_CHECKPOINTS = {4, 10, 15, 19, len(REPLAY_STEPS) - 1}  # step indexes compared in full


def test_a_400_day_replay_with_compaction_equals_full_rebuilds(pulse_home, tmp_path, monkeypatch):
    """401 days landed as the daily runs land them, the settled months compacted before each
    build (as the extract DAG does), an incremental build after each step; at checkpoints
    across month and year boundaries the warehouse kept by increments equals a full rebuild
    of the same lake, table by table and cell by cell."""
    from agency_pulse import lake_compact

    assert sum(REPLAY_STEPS) == 401
    index = 0
    compacted = 0
    for step, days in enumerate(REPLAY_STEPS):
        for _ in range(days):
            land_day(pulse_home, FIRST_DAY + timedelta(days=index), index)
            index += 1
        today = FIRST_DAY + timedelta(days=index - 1)
        compacted += len(lake_compact.compact_lake(today, root=pulse_home.lake).written)
        warehouse.build(registry=REGISTRY, home_paths=pulse_home)
        assert last_mode(pulse_home.warehouse) == ("full" if step == 0 else "incremental"), step
        if step in REPLAY_CHECKPOINTS:
            assert built_tables(pulse_home.warehouse) == full_rebuild(
                pulse_home, tmp_path, monkeypatch, f"replay{step}"), f"step {step}, {today}"
    assert index == 401 and compacted > 0
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        months = con.execute("select count(distinct month), min(month), max(month) "
                             "from marts.account_monthly").fetchone()
        years = con.execute("select list(distinct year order by year) "
                            "from marts.agency_annual").fetchone()[0]
    assert months[0] >= 14 and years == [2024, 2025, 2026]


def test_build_says_what_it_recomputed_and_full_recomputes_everything(pulse_home, capsys,
                                                                      monkeypatch):
    # the default registry's accounts (cli reads the registry of the settings)
    accounts = [("facebook", "facebook:agro.gov.az", "agriculture")]
    monkeypatch.setitem(globals(), "ACCOUNTS", accounts)
    from agency_pulse import cli

    land_day(pulse_home, FIRST_DAY, 0)
    assert cli.main(["build"]) == 0
    assert "lake loaded full, periods recomputed all" in capsys.readouterr().out
    land_day(pulse_home, FIRST_DAY + timedelta(days=1), 1)
    assert cli.main(["build"]) == 0
    assert ("lake loaded incremental, periods recomputed where new data fell"
            in capsys.readouterr().out)
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        scope = con.execute("select account_id, from_day from quality.build_scope "
                            "order by account_id nulls first").fetchall()
    # the new day's rows, and the running period the previous build closed (all accounts)
    assert scope == [(None, FIRST_DAY), ("facebook:agro.gov.az", FIRST_DAY)]
    incremental = built_tables(pulse_home.warehouse)

    assert cli.main(["build", "--full"]) == 0
    assert "lake loaded full, periods recomputed all" in capsys.readouterr().out
    assert built_tables(pulse_home.warehouse) == incremental


def models_state(path) -> tuple:
    with warehouse.connect_read_only(path) as con:
        return con.execute("select last_mode, models_mode, models_done from quality.build_state"
                           ).fetchone()


def run_each_model_then_publish() -> None:
    """What the marts DAG does after its load task: one task per model, then publish."""
    from agency_pulse import dbt_project

    for model in dbt_project.compiled_models("warehouse"):
        warehouse.run_model(model.name)
    warehouse.publish()


def test_changes_wait_for_model_tasks_that_did_not_run(pulse_home, tmp_path, monkeypatch):
    # the marts DAG: a load task, then a task per model; a day whose model tasks failed
    # leaves its changes for the next run's model tasks
    land_day(pulse_home, FIRST_DAY, 0)
    warehouse.build(registry=REGISTRY, home_paths=pulse_home)
    land_day(pulse_home, FIRST_DAY + timedelta(days=1), 1)
    warehouse.build(registry=REGISTRY, home_paths=pulse_home, models=False)
    assert models_state(pulse_home.warehouse) == ("incremental", "incremental", False)
    # the model tasks of that day never ran; the next day loads again
    land_day(pulse_home, FIRST_DAY + timedelta(days=2), 2)
    warehouse.build(registry=REGISTRY, home_paths=pulse_home, models=False)
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        changed_days = con.execute("select distinct day from quality.build_changes "
                                   "where dataset = 'account_snapshots' order by day").fetchall()
    assert changed_days == [(FIRST_DAY + timedelta(days=1),), (FIRST_DAY + timedelta(days=2),)]

    run_each_model_then_publish()

    assert models_state(pulse_home.warehouse) == ("incremental", "incremental", True)
    assert built_tables(pulse_home.warehouse) == full_rebuild(pulse_home, tmp_path, monkeypatch,
                                                              "tasks")
    land_day(pulse_home, FIRST_DAY + timedelta(days=3), 3)
    warehouse.build(registry=REGISTRY, home_paths=pulse_home, models=False)
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        assert con.execute("select distinct day from quality.build_changes "
                           "where dataset = 'account_snapshots'").fetchall() == [
            (FIRST_DAY + timedelta(days=3),)]  # published: the next load starts afresh


def test_every_lake_dataset_says_which_days_its_rows_change():
    # an incremental load notes each new row's days: a dataset without them could not load
    assert set(warehouse.CHANGE_DAYS) == set(lake.SCHEMAS)
