"""Readers never hold the lock the pipeline's single writer needs."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from agency_pulse.report.warehouse_snapshot import (
    WarehouseUnavailable,
    publish_snapshot,
    read_only_connection,
    snapshot_path,
)

HOLD_WRITE_LOCK = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
"""
TRY_TO_WRITE = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("create table written_while_read as select 1 as x")
con.close()
print("wrote")
"""


def _make_warehouse(path, value: int) -> None:
    """A warehouse whose reader table marts.agency_annual holds ``value`` (and an internal table)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists staging")
        con.execute("create or replace table marts.agency_annual as select ? as v", [value])
        con.execute("create or replace table staging.internal as select ? as v", [value])


def test_publish_snapshot_copies_the_reader_tables_of_the_closed_warehouse(pulse_home):
    _make_warehouse(pulse_home.warehouse, 1)
    assert publish_snapshot() == snapshot_path() == pulse_home.home / "warehouse.snapshot.duckdb"
    with read_only_connection() as con:
        assert con.execute("select v from marts.agency_annual").fetchone() == (1,)
        # only what readers read: the warehouse's internal tables stay in warehouse.duckdb
        assert con.execute("select schema_name || '.' || table_name from duckdb_tables() "
                           "order by 1").fetchall() == [("marts.agency_annual",)]
    leftovers = sorted(p.name for p in pulse_home.home.iterdir() if p.name.endswith((".tmp", ".wal")))
    assert leftovers == []


def test_publish_keeps_the_comments(pulse_home):
    _make_warehouse(pulse_home.warehouse, 1)
    with duckdb.connect(str(pulse_home.warehouse)) as con:
        con.execute("comment on table marts.agency_annual is 'one row per agency and year'")
        con.execute("comment on column marts.agency_annual.v is 'the agency''s value'")
    publish_snapshot()
    with read_only_connection() as con:
        assert con.execute("select comment from duckdb_tables()").fetchall() == [
            ("one row per agency and year",)]
        assert con.execute("select column_name, comment from duckdb_columns() "
                           "where schema_name = 'marts'").fetchall() == [("v", "the agency's value")]


def test_a_reader_keeps_its_file_while_a_new_one_is_published(pulse_home):
    _make_warehouse(pulse_home.warehouse, 1)
    publish_snapshot()
    with read_only_connection() as con:
        _make_warehouse(pulse_home.warehouse, 2)
        publish_snapshot()
        assert con.execute("select v from marts.agency_annual").fetchone() == (1,)
    assert duckdb.connect(str(snapshot_path()), read_only=True).execute(
        "select v from marts.agency_annual").fetchone() == (2,)


def test_reader_refreshes_a_stale_snapshot(pulse_home):
    _make_warehouse(pulse_home.warehouse, 1)
    publish_snapshot()
    _make_warehouse(pulse_home.warehouse, 2)
    with read_only_connection() as con:
        assert con.execute("select v from marts.agency_annual").fetchone() == (2,)


def test_writer_can_write_while_a_reader_is_open(pulse_home):
    _make_warehouse(pulse_home.warehouse, 1)
    with read_only_connection() as con:
        result = subprocess.run([sys.executable, "-c", TRY_TO_WRITE, str(pulse_home.warehouse)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert con.execute("select v from marts.agency_annual").fetchone() == (1,)


def test_reader_serves_the_snapshot_while_the_writer_holds_the_warehouse(pulse_home):
    _make_warehouse(pulse_home.warehouse, 1)
    publish_snapshot()
    # The warehouse is newer than the snapshot, so the reader wants to refresh it...
    newer = snapshot_path().stat().st_mtime + 60
    os.utime(pulse_home.warehouse, (newer, newer))
    process = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(pulse_home.warehouse)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    waits = []
    try:
        assert process.stdout.readline().strip() == "locked"
        # ...but the writer holds it: the reader serves the old snapshot at once, without waiting.
        with read_only_connection(sleep=waits.append) as con:
            assert con.execute("select v from marts.agency_annual").fetchone() == (1,)
    finally:
        process.stdin.write("\n")
        process.stdin.close()
        process.wait(timeout=30)
    assert waits == []


def test_without_snapshot_a_busy_writer_gives_a_clear_error(pulse_home):
    _make_warehouse(pulse_home.warehouse, 1)
    process = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(pulse_home.warehouse)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    waits = []
    try:
        assert process.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseUnavailable, match="being written"):
            with read_only_connection(retries=3, sleep=waits.append):
                pass
    finally:
        process.stdin.write("\n")
        process.stdin.close()
        process.wait(timeout=30)
    assert len(waits) == 3


def test_no_warehouse_at_all(pulse_home):
    with pytest.raises(WarehouseUnavailable, match="agency-pulse build"):
        with read_only_connection():
            pass


def test_snapshot_connection_cannot_write_or_touch_files(pulse_home):
    _make_warehouse(pulse_home.warehouse, 1)
    with read_only_connection() as con:
        with pytest.raises(duckdb.Error):
            con.execute("create table x as select 1")
        with pytest.raises(duckdb.Error):
            con.execute(f"copy marts.agency_annual to '{pulse_home.home / 'leak.csv'}'")
    assert not (pulse_home.home / "leak.csv").exists()
