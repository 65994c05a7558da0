"""The lake's partition layout, atomic replacement and raw archive."""

from __future__ import annotations

import gzip
import hashlib
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
    # each accepted file with its checksum beside it
    assert sorted(p.name for p in directory.iterdir()) == [
        "part-b000.parquet", "part-b000.parquet.sha256",
        "part-b001.parquet", "part-b001.parquet.sha256"]
    smaller = lake.table_from_rows("account_snapshots", [_snapshot("a", 11)])
    lake.write_partition("account_snapshots", "facebook", DAY, smaller, key="b000", root=root)
    assert pq.read_table(directory / "part-b000.parquet").num_rows == 1
    assert lake.verify_checksum(directory / "part-b000.parquet").status == "ok"
    lake.write_partition("account_snapshots", "facebook", DAY, smaller, root=root)
    assert sorted(p.name for p in directory.iterdir()) == ["part-all.parquet",
                                                           "part-all.parquet.sha256"]
    assert lake.read_dataset("account_snapshots", root=root).num_rows == 1
    assert lake.partition_files(directory) == [directory / "part-all.parquet"]


def test_accepted_writes_record_a_sha256sum_checksum_and_landing_writes_none(pulse_home):
    table = lake.table_from_rows("account_snapshots", [_snapshot("a", 10)])
    accepted = lake.write_partition("account_snapshots", "facebook", DAY, table)
    landed = lake.write_partition("account_snapshots", "facebook", DAY, table,
                                  root=pulse_home.landing)
    digest = hashlib.sha256(accepted.read_bytes()).hexdigest()
    assert lake.checksum_path(accepted).read_text() == f"{digest}  part-all.parquet\n"
    assert lake.verify_checksum(accepted) == lake.ChecksumCheck(accepted, "ok", digest, digest)
    assert not lake.checksum_path(landed).exists()
    assert lake.dataset_files("account_snapshots") == [accepted]  # the record is no part


def test_a_changed_accepted_file_fails_verification_and_one_without_checksum_gets_one(
        pulse_home, caplog):
    table = lake.table_from_rows("account_snapshots", [_snapshot("a", 10)])
    damaged = lake.write_partition("account_snapshots", "facebook", DAY, table)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 3] ^= 0x01
    damaged.write_bytes(bytes(data))
    older = lake.write_partition("account_snapshots", "x", DAY, table)
    lake.forget_checksum(older)
    with pytest.raises(lake.LakeFileCorrupted) as failure:
        lake.verify_accepted_files([older, damaged])
    (line,) = str(failure.value).splitlines()
    assert line.startswith(f"accepted file {damaged} does not match its checksum (recorded ")
    assert line.endswith("rerun the day with agency-pulse run --date 2026-11-20 "
                         "--platform facebook")
    assert not lake.checksum_path(older).exists()  # nothing recorded when the check fails
    with caplog.at_level("WARNING", logger="agency_pulse.lake"):
        checks = lake.verify_accepted_files([older])
    assert [c.status for c in checks] == ["missing"]
    assert lake.verify_checksum(older).status == "ok"
    assert "had no recorded checksum" in caplog.text and str(older) in caplog.text


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
    assert path.name.startswith("part-all-") and path.name.endswith(".jsonl.gz")
    assert "raw/platform=facebook/date=2026-11-20" in str(path)


def test_the_raw_archive_is_append_only_one_file_per_run(pulse_home):
    first = lake.archive_raw("facebook", DAY, [{"run": 1}], root=pulse_home.lake)
    second = lake.archive_raw("facebook", DAY, [{"run": 2}], root=pulse_home.lake)
    assert first != second and first.parent == second.parent
    assert lake.raw_files("facebook", DAY, root=pulse_home.lake) == [first, second]
    for path, run in ((first, 1), (second, 2)):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            assert [json.loads(line) for line in fh] == [{"run": run}]
    assert not lake.temporary_files(first.parent)
