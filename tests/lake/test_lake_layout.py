"""The lake's layout API: every path is built, listed and parsed by one module."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from agency_pulse import lake

DAY = date(2026, 11, 20)


def _land(pulse_home, dataset: str, platform: str, day: date, key: str):
    table = lake.SCHEMAS[dataset].empty_table()
    return lake.write_partition(dataset, platform, day, table, key=key, root=pulse_home.landing)


def test_paths_built_parsed_and_moved_between_zones_round_trip(pulse_home):
    landed = _land(pulse_home, "posts", "x", DAY, "b001")
    assert landed == lake.partition_path(lake.LANDING, "posts", "x", DAY, "b001")
    assert landed.relative_to(pulse_home.lake).as_posix() == \
        "landing/posts/platform=x/date=2026-11-20/part-b001.parquet"
    zone, dataset, platform, day, key = lake.parse_partition(landed)
    assert (zone, dataset, platform, day, key) == ("landing", "posts", "x", DAY, "b001")
    assert lake.lake_root_of(landed) == pulse_home.lake

    accepted = lake.relocate(landed, lake.ACCEPTED)
    assert accepted == pulse_home.lake / "posts" / "platform=x" / "date=2026-11-20" / landed.name
    assert lake.parse_partition(accepted).zone == "accepted"
    quarantined = lake.relocate(accepted, lake.QUARANTINE)
    assert quarantined == pulse_home.quarantine / accepted.relative_to(pulse_home.lake)
    assert lake.result_path(quarantined).name == "part-b001.result.json"
    assert lake.lake_root_of(quarantined) == pulse_home.lake


def test_the_raw_archive_and_validation_runs_have_their_own_places(pulse_home):
    raw = lake.archive_raw("x", DAY, [{"status": 200}], key="b002")
    tag = raw.name.removeprefix("part-b002-").removesuffix(".jsonl.gz")
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{6}", tag)
    assert raw == lake.raw_path("x", DAY, "b002", tag)
    assert lake.raw_path("x", DAY, "b002") != raw  # a new run, a new file
    assert lake.raw_run_tag(datetime(2026, 11, 20, 6, 5, 4, 3, tzinfo=UTC)).startswith(
        "20261120T060504000003Z-")
    assert raw.relative_to(pulse_home.lake).as_posix() == \
        f"raw/platform=x/date=2026-11-20/part-b002-{tag}.jsonl.gz"
    assert lake.validation_runs_dir(DAY) == pulse_home.quality / "validation_runs" / "date=2026-11-20"
    assert lake.relative_to_lake(lake.validation_runs_dir(DAY) / "a.parquet") == \
        "_quality/validation_runs/date=2026-11-20/a.parquet"
    assert lake.relative_to_lake(raw) == f"raw/platform=x/date=2026-11-20/part-b002-{tag}.jsonl.gz"
    assert lake.relative_to_lake(pulse_home.home / "elsewhere.txt") is None


def test_listing_filters_by_dataset_platform_day_key_and_date_and_skips_temporaries(pulse_home):
    first = _land(pulse_home, "posts", "x", date(2026, 11, 18), "all")
    second = _land(pulse_home, "posts", "x", DAY, "b001")
    other_platform = _land(pulse_home, "posts", "youtube", DAY, "b001")
    other_dataset = _land(pulse_home, "account_snapshots", "x", DAY, "b001")
    (second.parent / ".part-b009.cafe.parquet.tmp").write_bytes(b"half")
    (second.parent.parent / "date=not-a-day").mkdir()
    (second.parent.parent / "date=not-a-day" / "part-all.parquet").write_bytes(b"")

    everything = lake.list_partitions(lake.LANDING)
    assert everything == sorted(everything)
    assert set(everything) == {first, second, other_platform, other_dataset,
                               second.parent.parent / "date=not-a-day" / "part-all.parquet"}
    assert lake.list_partitions(lake.LANDING, "posts", "x", DAY) == [second]
    assert lake.list_partitions(lake.LANDING, platform="youtube") == [other_platform]
    assert lake.list_partitions(lake.LANDING, "posts", key="b001") == [second, other_platform]
    # A folder whose date does not parse is never "before" a day.
    assert lake.list_partitions(lake.LANDING, "posts", "x", before=DAY) == [first]
    assert lake.list_partitions(lake.ACCEPTED, "posts") == []


def test_paths_that_do_not_fit_the_layout_are_refused_with_the_reason(pulse_home):
    base = pulse_home.lake / "posts" / "platform=x"
    with pytest.raises(lake.NotAPartitionFile, match="bad date"):
        lake.parse_partition(base / "date=2026-13-01" / "part-all.parquet")
    with pytest.raises(lake.NotAPartitionFile, match="unknown dataset 'nope'"):
        lake.parse_partition(pulse_home.lake / "nope" / "platform=x" / "date=2026-11-20"
                             / "part-all.parquet")
    with pytest.raises(ValueError, match=r"expected part-\{key\}\.parquet"):
        lake.parse_partition(base / "date=2026-11-20" / "data.parquet")
    with pytest.raises(ValueError, match="unknown lake zone"):
        lake.list_partitions("archive")
    with pytest.raises(ValueError, match="unknown lake dataset"):
        lake.partition_path(lake.ACCEPTED, "nope", "x", DAY)
    with pytest.raises(ValueError, match="invalid partition segment"):
        lake.partition_path(lake.ACCEPTED, "posts", "../x", DAY)
    with pytest.raises(ValueError, match="raw archive"):
        lake.partition_path(lake.RAW, "posts", "x", DAY)
