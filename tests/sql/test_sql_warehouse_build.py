"""warehouse.build(): what it loads (only the accepted lake), dedup, idempotency, rollback."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agency_pulse import config, dbt_project, lake, warehouse
from agency_pulse.registry import parse_registry
from agency_pulse.validation import VALIDATION_RUNS_SCHEMA

REGISTRY = parse_registry({"agencies": [
    {"id": "culture-tourism", "name": "Mədəniyyət və Turizm Nazirliyi",
     "accounts": [{"platform": "facebook", "handle": "mct.az", "verified": False}]},
    {"id": "culture", "name": "Mədəniyyət Nazirliyi", "name_en": "Ministry of Culture",
     "kind": "ministry", "jurisdiction": "AZ", "active_from": date(2024, 3, 1),
     "successor_of": ["culture-tourism"],
     "accounts": [
         {"platform": "facebook", "handle": "Culture.AZ", "platform_id": "1234",
          "label": "Main page", "active_from": date(2024, 3, 1)},
         {"platform": "telegram", "handle": "@culture_news"},
     ]},
]})
DAY = date(2024, 5, 10)


def snapshot_rows(followers: int, fetched_at: datetime, day: date = DAY) -> list[dict]:
    return [{"snapshot_date": day, "account_id": "facebook:culture.az", "agency_id": "culture",
             "platform": "facebook", "handle": "Culture.AZ", "followers": followers,
             "fetched_at": fetched_at}]


def write(dataset: str, rows: list[dict], *, root, key: str = "all", day: date = DAY,
          platform: str = "facebook"):
    return lake.write_partition(dataset, platform, day, lake.table_from_rows(dataset, rows),
                                key=key, root=root)


def table(paths: config.Paths, query: str) -> list[tuple]:
    with warehouse.connect_read_only(paths.warehouse) as con:
        return con.execute(query).fetchall()


def test_build_on_an_empty_home(pulse_home):
    summary = warehouse.build(registry=REGISTRY)

    assert summary["warehouse"] == str(pulse_home.warehouse)
    assert summary["marts"] == dict.fromkeys(warehouse.MARTS, 0)
    assert summary["loaded"]["core.accounts"] == 3
    # dbt ran every model of the project, in an order that respects their references
    compiled = dbt_project.compiled_models("warehouse")
    assert sorted(summary["models"]) == sorted(m.qualified_name for m in compiled)
    assert summary["models"][0].startswith("staging.")
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        schemas = {r[0] for r in con.execute(
            "select schema_name from information_schema.schemata").fetchall()}
        assert set(warehouse.SCHEMAS) <= schemas
        for dataset, schema in lake.SCHEMAS.items():
            arrow = con.sql(f"select * from staging.lake_{dataset}").to_arrow_table()
            assert arrow.num_rows == 0
            assert arrow.schema.names == schema.names
        assert con.sql("select * from quality.validation_runs").columns == \
            VALIDATION_RUNS_SCHEMA.names


def test_registry_is_loaded_into_core(pulse_home):
    warehouse.build(registry=REGISTRY)

    assert table(pulse_home, "select * from core.agencies order by agency_id") == [
        ("culture", "Mədəniyyət Nazirliyi", "Ministry of Culture", "ministry", "AZ",
         date(2024, 3, 1), None, ["culture-tourism"]),
        ("culture-tourism", "Mədəniyyət və Turizm Nazirliyi", None, None, None, None, None, []),
    ]
    assert table(pulse_home, "select * from core.accounts order by account_id") == [
        ("facebook:culture.az", "culture", "facebook", "Culture.AZ", "1234", "Main page",
         date(2024, 3, 1), None, True),
        ("facebook:mct.az", "culture-tourism", "facebook", "mct.az", None, None, None, None,
         False),
        ("telegram:culture_news", "culture", "telegram", "culture_news", None, None, None,
         None, True),
    ]


def test_only_the_accepted_lake_is_loaded_latest_row_wins(pulse_home):
    early = datetime(2024, 5, 10, 6, tzinfo=UTC)
    late = datetime(2024, 5, 10, 18, tzinfo=UTC)
    write("account_snapshots", snapshot_rows(100, early), root=pulse_home.lake, key="morning")
    write("account_snapshots", snapshot_rows(120, late), root=pulse_home.lake, key="evening")
    # Not validated, or refused: never in the warehouse.
    write("account_snapshots", snapshot_rows(999_999, late), root=pulse_home.landing)
    write("account_snapshots", snapshot_rows(888_888, late), root=pulse_home.quarantine)
    lake.archive_raw("facebook", DAY, [{"followers_count": 777_777}], root=pulse_home.lake)

    summary = warehouse.build(registry=REGISTRY)

    assert summary["loaded"]["staging.lake_account_snapshots"] == 1
    assert table(pulse_home, "select followers, fetched_at from staging.lake_account_snapshots") \
        == [(120, late)]
    assert table(pulse_home, "select account_id, month, followers_end "
                             "from marts.account_monthly") == [
        ("facebook:culture.az", date(2024, 5, 1), 120)]


def test_every_dataset_is_deduplicated_on_its_key(pulse_home):
    older = datetime(2024, 5, 10, tzinfo=UTC)
    newer = datetime(2024, 5, 11, tzinfo=UTC)
    post = {"account_id": "facebook:culture.az", "agency_id": "culture", "platform": "facebook",
            "post_id": "1234_1", "published_at": datetime(2024, 5, 9, 12, tzinfo=UTC)}
    # The same post fetched on two days, in two partitions: the later fetch wins.
    write("posts", [{**post, "reactions": 5, "fetched_at": older}], root=pulse_home.lake)
    write("posts", [{**post, "reactions": 9, "fetched_at": newer}], root=pulse_home.lake,
          day=date(2024, 5, 11))
    observation = {"agency_id": "culture", "platform": "facebook", "handle": "Culture.AZ",
                   "account_id": "facebook:culture.az", "observed_on": DAY}
    write("observations", [{**observation, "followers": 10, "imported_at": older}],
          root=pulse_home.lake, platform="manual", key="a" * 16)
    write("observations", [{**observation, "followers": 11, "imported_at": newer}],
          root=pulse_home.lake, platform="manual", key="b" * 16)
    warehouse.build(registry=REGISTRY)

    assert table(pulse_home, "select reactions from staging.lake_posts") == [(9,)]
    assert table(pulse_home, "select followers from staging.lake_observations") == [(11,)]
    assert table(pulse_home, "select posts, engagement from marts.account_monthly") == [(1, 9)]


def test_files_written_with_fewer_columns_still_load(pulse_home):
    directory = lake.partition_dir("follower_history", "youtube", DAY, pulse_home.lake)
    directory.mkdir(parents=True)
    # An older writer without the "metric" column.
    pq.write_table(pa.table({
        "account_id": ["youtube:culturetv"], "agency_id": ["culture"],
        "platform": ["youtube"], "day": pa.array([DAY], pa.date32()),
        "followers": pa.array([42], pa.int64()),
        "fetched_at": pa.array([datetime(2024, 5, 10, tzinfo=UTC)], lake.UTC_TS),
    }), directory / "part-all.parquet")
    warehouse.build(registry=REGISTRY)

    assert table(pulse_home, "select account_id, followers, metric "
                             "from staging.lake_follower_history") == [
        ("youtube:culturetv", 42, None)]


def test_figure_sources_follow_the_extract_log_and_old_logs_still_load(pulse_home):
    """An extract log written before it kept `source` loads with NULL (`unknown` figures);
    a sandbox run's figures are `sandbox`, an observation's `observation`."""
    earlier = date(2024, 4, 30)
    write("account_snapshots", snapshot_rows(90, datetime(2024, 4, 30, tzinfo=UTC), earlier),
          root=pulse_home.lake, day=earlier)
    write("account_snapshots", snapshot_rows(100, datetime(2024, 5, 10, tzinfo=UTC)),
          root=pulse_home.lake)
    old_log = lake.partition_dir("extract_log", "facebook", earlier, pulse_home.lake)
    old_log.mkdir(parents=True)
    pq.write_table(lake.table_from_rows("extract_log", [{
        "run_date": earlier, "platform": "facebook", "account_id": "facebook:culture.az",
        "status": "ok", "logged_at": datetime(2024, 4, 30, tzinfo=UTC)}]).drop_columns(["source"]),
        old_log / "part-all.parquet")
    write("extract_log", [{"run_date": DAY, "platform": "facebook",
                           "account_id": "facebook:culture.az", "status": "ok",
                           "logged_at": datetime(2024, 5, 10, tzinfo=UTC), "source": "sandbox"}],
          root=pulse_home.lake)
    write("observations", [{"agency_id": "culture", "platform": "telegram",
                            "handle": "culture_news", "account_id": "telegram:culture_news",
                            "observed_on": DAY, "followers": 11,
                            "imported_at": datetime(2024, 5, 11, tzinfo=UTC)}],
          root=pulse_home.lake, platform="manual")
    warehouse.build(registry=REGISTRY)

    assert table(pulse_home, "select run_date, source from quality.extract_log order by 1") == [
        (earlier, None), (DAY, "sandbox")]
    assert table(pulse_home, "select account_id, month, source, days from quality.figure_sources "
                             "order by 1, 2") == [
        ("facebook:culture.az", date(2024, 4, 1), "unknown", 1),
        ("facebook:culture.az", date(2024, 5, 1), "sandbox", 1),
        ("telegram:culture_news", date(2024, 5, 1), "observation", 1)]


def test_quality_tables(pulse_home):
    runs = pulse_home.quality / "validation_runs" / "date=2024-05-10"
    runs.mkdir(parents=True)
    pq.write_table(pa.table({"run_id": ["r1"], "dataset": ["posts"], "success": [True]}),
                   runs / "a.parquet")
    pq.write_table(pa.table({"run_id": ["r2"], "dataset": ["posts"], "success": [False],
                             "quarantined_to": ["lake/quarantine/posts/x.parquet"]}),
                   runs / "b.parquet")
    write("extract_log", [{"run_date": DAY, "platform": "telegram",
                           "account_id": "telegram:culture_news", "status": "ok",
                           "logged_at": datetime(2024, 5, 10, tzinfo=UTC)}],
          root=pulse_home.lake, platform="telegram")
    warehouse.build(registry=REGISTRY)

    assert table(pulse_home, "select run_id, success, quarantined_to "
                             "from quality.validation_runs order by run_id") == [
        ("r1", True, None), ("r2", False, "lake/quarantine/posts/x.parquet")]
    assert table(pulse_home, "select account_id, status from quality.extract_log") == [
        ("telegram:culture_news", "ok")]


def test_building_twice_gives_identical_tables(pulse_home):
    for i, day in enumerate([date(2023, 12, 31), date(2024, 3, 15), date(2024, 5, 10)]):
        write("account_snapshots",
              [{**snapshot_rows(1000 + 100 * i, datetime(2024, 5, 10, tzinfo=UTC), day)[0]}],
              root=pulse_home.lake, day=day)
    write("posts", [{"account_id": "facebook:culture.az", "platform": "facebook",
                     "post_id": f"p{i}", "published_at": datetime(2024, 3, i, tzinfo=UTC),
                     "reactions": i, "fetched_at": datetime(2024, 5, 10, tzinfo=UTC)}
                    for i in range(1, 6)], root=pulse_home.lake)

    def contents() -> dict[str, list[tuple]]:
        with warehouse.connect_read_only(pulse_home.warehouse) as con:
            names = warehouse.table_names(con, ("core", "marts"))
            return {name: con.execute(f"select * from {name} order by all").fetchall()
                    for name in names}

    first_summary = warehouse.build(registry=REGISTRY)
    first = contents()
    second_summary = warehouse.build(registry=REGISTRY)

    assert contents() == first
    # the second build loads nothing new and recomputes only the running periods
    assert (first_summary.pop("mode"), first_summary.pop("models_mode")) == ("full", "full")
    assert (second_summary.pop("mode"), second_summary.pop("models_mode")) == (
        "incremental", "incremental")
    assert first_summary == second_summary
    assert first["marts.account_monthly"] and first["marts.agency_annual"]


def test_a_failing_model_rolls_back_and_keeps_the_previous_build(pulse_home, monkeypatch,
                                                                broken_project):
    write("account_snapshots", snapshot_rows(100, datetime(2024, 5, 10, tzinfo=UTC)),
          root=pulse_home.lake)
    warehouse.build(registry=REGISTRY)
    broken = broken_project("marts/account_monthly", "select 1 / 'x' as nonsense\n")
    monkeypatch.setattr(dbt_project, "PROJECT_DIR", broken)
    write("account_snapshots", snapshot_rows(200, datetime(2024, 5, 11, tzinfo=UTC)),
          root=pulse_home.lake, key="later")

    with pytest.raises(warehouse.WarehouseError, match="marts.account_monthly"):
        warehouse.build(registry=REGISTRY)

    assert table(pulse_home, "select followers from staging.lake_account_snapshots") == [(100,)]
    assert table(pulse_home, "select followers_end from marts.account_monthly") == [(100,)]


def test_read_only_connection_cannot_write(pulse_home):
    warehouse.build(registry=REGISTRY)

    with warehouse.connect_read_only() as con, pytest.raises(duckdb.Error):
        con.execute("create table marts.scratch (x integer)")


def test_default_registry_is_the_configured_one(pulse_home, monkeypatch, tmp_path):
    registry_file = tmp_path / "agencies.yaml"
    registry_file.write_text(
        "agencies:\n  - id: solo\n    name: Solo\n    accounts:\n"
        "      - {platform: x, handle: solo_x}\n", encoding="utf-8")
    monkeypatch.setenv("AGENCY_PULSE_REGISTRY", str(registry_file))
    warehouse.build()

    assert table(pulse_home, "select account_id, agency_id from core.accounts") == [
        ("x:solo_x", "solo")]


def test_a_reader_in_another_process_delays_then_fails_the_writer(pulse_home):
    warehouse.build(registry=REGISTRY)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, duckdb\n"
         "con = duckdb.connect(sys.argv[1], read_only=True)\n"
         "print('holding', flush=True)\n"
         "sys.stdin.read()\n",
         str(pulse_home.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(warehouse.WarehouseError, match="cannot open .* for writing") as error:
            warehouse.build(registry=REGISTRY, lock_timeout=0.3)
        # one line naming the holder and the file SQL sessions should open instead
        message = str(error.value)
        assert "\n" not in message
        assert f"(PID {holder.pid}) has it open" in message
        assert "warehouse.snapshot.duckdb" in message
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)

    assert warehouse.build(registry=REGISTRY)["marts"] == dict.fromkeys(warehouse.MARTS, 0)


def test_an_unreadable_lake_file_is_named_and_nothing_changes(pulse_home):
    write("account_snapshots", snapshot_rows(100, datetime(2024, 5, 10, tzinfo=UTC)),
          root=pulse_home.lake)
    warehouse.build(registry=REGISTRY)
    bad = lake.partition_dir("posts", "facebook", DAY, pulse_home.lake) / "part-all.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 this is not parquet PAR1")

    with pytest.raises(warehouse.WarehouseError, match="part-all.parquet"):
        warehouse.build(registry=REGISTRY)

    assert table(pulse_home, "select followers_end from marts.account_monthly") == [(100,)]
