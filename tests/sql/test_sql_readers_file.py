"""The readers' file during builds: a session holding it never fails a build and keeps
its version, every new open sees one whole build, and the file holds the reader tables only."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime

import duckdb

from agency_pulse import lake, warehouse
from agency_pulse.registry import parse_registry
from agency_pulse.report.warehouse_snapshot import (
    READER_TABLES,
    read_only_connection,
    snapshot_path,
)

REGISTRY = parse_registry({"agencies": [
    {"id": "culture", "name": "Mədəniyyət Nazirliyi",
     "accounts": [{"platform": "facebook", "handle": "culture.az"}]},
]})
LATEST = "select max(followers_end) from marts.account_monthly"

# A SQL session in another process: reads, waits for a line on stdin, reads again.
HOLDER = f"""
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("{LATEST}").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("{LATEST}").fetchone()[0], flush=True)
"""
# Opens the readers' file again and again until stdin closes; prints what each open saw.
POLLER = f"""
import duckdb, json, sys, threading
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
seen, failures = [], []
print("polling", flush=True)
while not stop.is_set():
    try:
        con = duckdb.connect(sys.argv[1], read_only=True)
        tables = con.execute("select count(*) from duckdb_tables()").fetchone()[0]
        seen.append([tables, con.execute("{LATEST}").fetchone()[0]])
        con.close()
    except Exception as exc:
        failures.append(" ".join(str(exc).split()))
print(json.dumps({{"seen": seen, "failures": failures}}), flush=True)
"""


def _land_followers(root, day: date, followers: int) -> None:
    rows = [{"snapshot_date": day, "account_id": "facebook:culture.az", "agency_id": "culture",
             "platform": "facebook", "handle": "culture.az", "followers": followers,
             "fetched_at": datetime(day.year, day.month, day.day, 6, tzinfo=UTC)}]
    lake.write_partition("account_snapshots", "facebook", day,
                         lake.table_from_rows("account_snapshots", rows), key="all", root=root)


def _start(script: str, path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sessions_on_the_readers_file_never_fail_a_build_and_see_whole_versions(pulse_home):
    _land_followers(pulse_home.lake, date(2024, 5, 10), 100)
    warehouse.build(registry=REGISTRY)
    holder = _start(HOLDER, snapshot_path())
    poller = _start(POLLER, snapshot_path())
    try:
        assert holder.stdout.readline().strip() == "100", holder.stderr.read()
        assert poller.stdout.readline().strip() == "polling", poller.stderr.read()

        _land_followers(pulse_home.lake, date(2024, 5, 20), 250)
        assert warehouse.build(registry=REGISTRY, full=True)["marts"]["account_monthly"] == 1
        # a new session sees the new build at once...
        with read_only_connection() as con:
            assert con.execute(LATEST).fetchone() == (250,)
        _land_followers(pulse_home.lake, date(2024, 5, 30), 300)
        warehouse.build(registry=REGISTRY)  # incremental: publishes the same way

        # ...while the session opened before both builds still reads its own version.
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "100", holder.stderr.read()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        poller.stdin.close()
    report = json.loads(poller.stdout.readline())
    poller.wait(timeout=60)

    assert report["failures"] == []
    # every open saw one whole build: all reader tables, and one of the three builds' figures
    assert len(report["seen"]) > 1
    assert {tables for tables, _ in report["seen"]} == {len(READER_TABLES)}
    assert {value for _, value in report["seen"]} <= {100, 250, 300}
    with read_only_connection() as con:
        assert con.execute(LATEST).fetchone() == (300,)
    assert [p.name for p in pulse_home.home.iterdir() if p.name.endswith(".tmp")] == []


def test_the_readers_file_holds_the_reader_tables_only(pulse_home):
    _land_followers(pulse_home.lake, date(2024, 5, 10), 100)
    warehouse.build(registry=REGISTRY)

    with duckdb.connect(str(snapshot_path()), read_only=True) as con:
        tables = {row[0] for row in con.execute(
            "select schema_name || '.' || table_name from duckdb_tables()").fetchall()}
        assert con.execute(LATEST).fetchone() == (100,)
        assert con.execute("select account_id from core.accounts").fetchall() == [
            ("facebook:culture.az",)]
    assert tables == set(READER_TABLES)
    # far smaller than the warehouse it comes from (no staging, no intermediate models)
    assert snapshot_path().stat().st_size < pulse_home.warehouse.stat().st_size
