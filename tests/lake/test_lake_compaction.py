"""Monthly compaction: settled months become one checksummed file per dataset, platform and
month; the marts do not change and the warehouse never reads a day twice; reruns of a
compacted day still find what the day holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from agency_pulse import cli, day_record, lake, lake_compact, warehouse
from agency_pulse.errors import LakeFileCorrupted

TODAY = date(2026, 11, 26)  # the settling window starts 2026-10-27: August and September settle
FIRST = date(2026, 8, 28)
# Accounts of the default registry (include/registry/agencies.yaml), so the marts hold them.
ACCOUNTS = (("facebook:agro.gov.az", "agriculture"), ("facebook:tehsilnazirliyi", "education"))


def _days() -> list[date]:
    return [FIRST + timedelta(days=offset) for offset in range(0, (TODAY - FIRST).days, 4)]


def _publish(day: date, *, followers_bonus: int = 0, batches: int = 2) -> None:
    """A day as the daily run publishes it: per batch a snapshot and extract-log file, and
    posts read again over the settling window (each read a new copy with new counts)."""
    fetched = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    for batch in range(batches):
        account, agency = ACCOUNTS[batch % len(ACCOUNTS)]
        key = f"b{batch:03d}"
        lake.write_partition("account_snapshots", "facebook", day, lake.table_from_rows(
            "account_snapshots", [{"snapshot_date": day, "account_id": account,
                                   "agency_id": agency, "platform": "facebook",
                                   "followers": 1000 + (day - FIRST).days + followers_bonus,
                                   "fetched_at": fetched}]), key=key)
        lake.write_partition("extract_log", "facebook", day, lake.table_from_rows(
            "extract_log", [{"run_date": day, "platform": "facebook", "account_id": account,
                             "agency_id": agency, "status": "ok", "calls": 2, "units": 2,
                             "run_id": "test", "logged_at": fetched}]), key=key)
        posts = [{"account_id": account, "agency_id": agency, "platform": "facebook",
                  "post_id": f"{account}-{published.isoformat()}",
                  "published_at": datetime(published.year, published.month, published.day, 9,
                                           tzinfo=UTC),
                  "reactions": (day - published).days + 1, "comments": 1, "shares": 0,
                  "fetched_on": day, "fetched_at": fetched}
                 for published in _days() if day - timedelta(days=30) <= published <= day]
        lake.write_partition("posts", "facebook", day, lake.table_from_rows("posts", posts),
                             key=key)


def _marts(pulse_home) -> dict[str, list[tuple]]:
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        tables = {name: con.execute(f"select * from marts.{name} order by all").fetchall()
                  for name in warehouse.MARTS}
        for dataset in ("posts", "account_snapshots", "extract_log"):
            tables[dataset] = con.execute(
                f"select * from staging.lake_{dataset} order by all").fetchall()
        return tables


def _build_mode(pulse_home) -> str:
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        return con.execute("select last_mode from quality.build_state").fetchall()[0][0]


@pytest.fixture
def history(pulse_home):
    for day in _days():
        _publish(day)
    return pulse_home


def test_settled_months_become_one_checksummed_file_and_the_window_stays_daily(history):
    before = {dataset: lake.read_dataset(dataset).num_rows for dataset in lake.SCHEMAS}
    result = lake_compact.compact_lake(TODAY)
    months = lake.list_month_files()
    assert [(m.dataset, m.month) for m in map(lake.parse_month_file, months)] == [
        (dataset, month) for dataset in ("account_snapshots", "extract_log", "posts")
        for month in ("2026-08", "2026-09")]
    assert sorted(result.written) == months
    for month_file in months:
        assert lake.verify_checksum(month_file).status == "ok"
    daily_days = {lake.parse_partition(p).day for p in lake.list_partitions(lake.ACCEPTED)}
    assert min(daily_days) == date(2026, 10, 3)  # October is inside the settling window
    assert all(day >= date(2026, 10, 1) for day in daily_days)
    assert not any(p.exists() for p in result.removed)
    assert not any(lake.checksum_path(p).exists() for p in result.removed)
    # Posts re-read on many days keep one row each (the latest read); the rest are the same.
    after = {dataset: lake.read_dataset(dataset).num_rows for dataset in lake.SCHEMAS}
    assert after["posts"] < before["posts"]
    assert after["account_snapshots"] == before["account_snapshots"]
    assert after["extract_log"] == before["extract_log"]
    # One row group per day it holds, named in its metadata.
    august = lake.month_path("account_snapshots", "facebook", "2026-08")
    assert [d.isoformat() for d, _ in lake.read_month_days(august)] == \
        lake.month_file_manifest(august)["days"] == ["2026-08-28"]
    assert pq.ParquetFile(august).metadata.num_row_groups == 1
    assert lake_compact.compact_lake(TODAY).written == []  # nothing left to compact


def test_the_marts_are_identical_and_the_warehouse_never_reads_a_day_twice(
        history, capsys, monkeypatch):
    assert cli.main(["build"]) == 0
    before = _marts(history)
    capsys.readouterr()
    assert cli.main(["lake", "compact", "--date", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lake compact: 6 month file(s) written, ")
    read = []
    real = warehouse._upsert_lake_files
    monkeypatch.setattr(warehouse, "_upsert_lake_files",
                        lambda con, dataset, files: read.extend(files) or real(con, dataset, files))
    assert cli.main(["build"]) == 0
    assert _build_mode(history) == "incremental"
    assert not any(lake.is_month_file(path) for path in read)  # taken as loaded, not read
    assert _marts(history) == before
    with warehouse.connect_read_only(history.warehouse) as con:
        loaded = {row[0] for row in con.execute("select path from quality.loaded_files").fetchall()}
    assert {str(p) for p in lake.list_month_files()} <= loaded
    # The next day loads incrementally too, and a full rebuild gives the same marts.
    _publish(TODAY)
    assert cli.main(["build"]) == 0
    assert _build_mode(history) == "incremental"
    incremental = _marts(history)
    warehouse.build(full=True)
    assert _marts(history) == incremental


def test_a_rerun_of_a_compacted_day_finds_its_rows_and_is_merged_in_later(history):
    assert cli.main(["build"]) == 0
    lake_compact.compact_lake(TODAY)
    day = date(2026, 9, 29)  # the month's last day: its posts' latest read in September
    earlier = day_record.earlier_rows("facebook", day, [a for a, _ in ACCOUNTS],
                                      batch_key="b000", lake_root=history.lake)
    assert [r["followers"] for r in earlier["account_snapshots"]] == [1032, 1032]
    assert len(earlier["posts"]) > 0 and {r["fetched_on"] for r in earlier["posts"]} == {day}
    assert len(earlier["extract_log"]) == 2
    # The rerun lands a correction of that day beside the month file ...
    _publish(day, followers_bonus=5, batches=1)
    assert cli.main(["build"]) == 0
    corrected = _marts(history)
    snapshots = [row for row in corrected["account_snapshots"] if row[0] == day]
    assert sorted(row[7] for row in snapshots) == [1032, 1037]
    # ... which the next compaction merges in: one file for the month again, same marts.
    result = lake_compact.compact_lake(TODAY)
    assert len(result.written) == 3 and len(result.removed) == 3
    assert lake.list_partitions(lake.ACCEPTED, day=day) == []
    assert cli.main(["build"]) == 0
    assert _build_mode(history) == "incremental"
    assert _marts(history) == corrected


def test_a_damaged_file_is_never_compacted(history):
    victim = lake.list_partitions(lake.ACCEPTED, "posts", "facebook", date(2026, 9, 1))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(LakeFileCorrupted, match=str(victim)):
        lake_compact.compact_month("posts", "facebook", "2026-09")
    assert victim.exists()
    assert not lake.month_path("posts", "facebook", "2026-09").exists()


def test_observations_stay_one_file_per_imported_csv(pulse_home):
    imported = lake.write_partition("observations", "manual", date(2026, 6, 30),
                                    lake.table_from_rows("observations", [{
                                        "agency_id": "agriculture", "platform": "facebook",
                                        "account_id": "facebook:agro.gov.az",
                                        "observed_on": date(2026, 6, 1), "followers": 5}]),
                                    key="0123456789abcdef")
    _publish(date(2026, 6, 30), batches=1)
    result = lake_compact.compact_lake(TODAY)
    assert [lake.parse_month_file(m).dataset for m in result.written] == [
        "account_snapshots", "extract_log", "posts"]
    assert imported.exists() and lake.list_month_files("observations") == []
