"""The lake's partition layout, atomic replacement and raw archive."""

from __future__ import annotations

import gzip
import json
import os
import time
from datetime import UTC, date, datetime

import pyarrow.parquet as pq
import pytest

from agency_pulse import lake

DAY = date(2026, 11, 20)


def _snapshot(account: str, followers: int | None) -> dict:
    return {"snapshot_date": DAY, "account_id": f"facebook:{account}", "agency_id": "culture",
            "platform": "facebook", "handle": account, "followers": followers,
            "fetched_at": datetime(2026, 11, 20, 6, tzinfo=UTC)}


def test_rows_take_the_dataset_schema_and_unknown_columns_are_refused():
    table = lake.table_from_rows("account_snapshots", [_snapshot("a", None)])
    assert table.schema == lake.SCHEMAS["account_snapshots"]
    assert table.column("followers").null_count == 1  # NULL stays NULL, never 0
    with pytest.raises(ValueError, match="unknown columns"):
        lake.table_from_rows("account_snapshots", [{**_snapshot("a", 1), "fans": 3}])


def test_a_whole_day_write_replaces_the_partition_and_batches_replace_their_file(pulse_home):
    root = pulse_home.lake
    table = lake.table_from_rows("account_snapshots", [_snapshot("a", 10), _snapshot("b", 20)])
    lake.write_partition("account_snapshots", "facebook", DAY, table, key="b000", root=root)
    lake.write_partition("account_snapshots", "facebook", DAY, table, key="b001", root=root)
    directory = lake.partition_dir("account_snapshots", "facebook", DAY, root)
    assert sorted(p.name for p in directory.iterdir()) == ["part-b000.parquet",
                                                           "part-b001.parquet"]
    smaller = lake.table_from_rows("account_snapshots", [_snapshot("a", 11)])
    lake.write_partition("account_snapshots", "facebook", DAY, smaller, key="b000", root=root)
    assert pq.read_table(directory / "part-b000.parquet").num_rows == 1
    lake.write_partition("account_snapshots", "facebook", DAY, smaller, root=root)
    assert [p.name for p in directory.iterdir()] == ["part-all.parquet"]
    assert lake.read_dataset("account_snapshots", root=root).num_rows == 1


def test_temporary_files_never_match_the_readers_glob_and_stale_ones_are_removed(pulse_home):
    root = pulse_home.lake
    directory = lake.partition_dir("account_snapshots", "facebook", DAY, root)
    directory.mkdir(parents=True)
    stale = directory / ".part-all.deadbeef.parquet.tmp"
    fresh = directory / ".part-b001.cafe.parquet.tmp"
    for leftover in (stale, fresh):
        leftover.write_bytes(b"half a parquet file")
    old = time.time() - lake.STALE_TEMPORARY_SECONDS - 60
    os.utime(stale, (old, old))
    assert lake.read_dataset("account_snapshots", root=root).num_rows == 0
    table = lake.table_from_rows("account_snapshots", [_snapshot("a", 10)])
    lake.write_partition("account_snapshots", "facebook", DAY, table, key="b000", root=root)
    assert not stale.exists()  # a killed writer's leftover
    assert fresh.exists()      # may belong to a writer still at work
    assert lake.read_dataset("account_snapshots", root=root).num_rows == 1


@pytest.mark.parametrize("segment", ["../etc", "a/b", ".hidden", "", "a\\b"])
def test_partition_segments_that_look_like_paths_are_refused(pulse_home, segment):
    table = lake.table_from_rows("account_snapshots", [])
    with pytest.raises(ValueError):
        lake.write_partition("account_snapshots", segment, DAY, table, root=pulse_home.lake)
    with pytest.raises(ValueError):
        lake.write_partition("account_snapshots", "facebook", DAY, table, key=segment,
                             root=pulse_home.lake)


def test_raw_archive_is_gzip_json_lines(pulse_home):
    records = [{"url": "https://graph.facebook.com/v24.0/?ids=a", "status": 200,
                "body": {"data": ["Mədəniyyət"]}}]
    path = lake.archive_raw("facebook", DAY, records, root=pulse_home.lake)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        assert [json.loads(line) for line in fh] == records
    assert path.name == "part-all.jsonl.gz" and "raw/platform=facebook" in str(path)
