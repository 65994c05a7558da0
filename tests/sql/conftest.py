"""Hand-written warehouse inputs for the SQL model tests: rows in, marts out."""

from __future__ import annotations

import math
import shutil
from collections import defaultdict
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pytest

from agency_pulse import dbt_project, lake, warehouse

FETCHED_AT = datetime(2025, 1, 1, tzinfo=UTC)


class MartWorkbench:
    """An in-memory warehouse with empty source tables; add rows, run the models, read marts."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._pending: dict[str, list[dict]] = defaultdict(list)  # lake rows, inserted in run()
        warehouse.create_source_tables(con)

    def agency(self, agency_id: str, name: str | None = None, name_en: str | None = None,
               successor_of: tuple[str, ...] = (), active_from: date | None = None,
               active_to: date | None = None) -> str:
        self._insert("core.agencies", pa.Table.from_pylist([{
            "agency_id": agency_id, "name": name or agency_id.title(), "name_en": name_en,
            "kind": "ministry", "jurisdiction": "AZ", "active_from": active_from,
            "active_to": active_to,
            "successor_of": list(successor_of)}], schema=warehouse.AGENCIES_SCHEMA))
        return agency_id

    def account(self, agency_id: str, platform: str, handle: str, *,
                active_from: date | None = None, active_to: date | None = None,
                platform_id: str | None = None) -> str:
        account_id = f"{platform}:{handle.lower()}"
        self._insert("core.accounts", pa.Table.from_pylist([{
            "account_id": account_id, "agency_id": agency_id, "platform": platform,
            "handle": handle, "platform_id": platform_id, "label": None, "active_from": active_from,
            "active_to": active_to, "verified": True}], schema=warehouse.ACCOUNTS_SCHEMA))
        return account_id

    def snapshot(self, account_id: str, day: date, followers: int | None, *,
                 fetched_at: datetime = FETCHED_AT, agency_id: str | None = None,
                 platform_id: str | None = None) -> None:
        platform, handle = account_id.split(":", 1)
        self._lake("account_snapshots", snapshot_date=day, account_id=account_id,
                   agency_id=agency_id, platform=platform, handle=handle, followers=followers,
                   fetched_at=fetched_at, platform_id=platform_id)

    def observation(self, account_id: str, day: date, followers: int, *,
                    last_post_on: date | None = None, posts_total: int | None = None,
                    imported_at: datetime = FETCHED_AT) -> None:
        platform, handle = account_id.split(":", 1)
        self._lake("observations", account_id=account_id, platform=platform, handle=handle,
                   observed_on=day, followers=followers, posts_total=posts_total,
                   last_post_on=last_post_on, imported_at=imported_at)

    def history(self, account_id: str, day: date, followers: int) -> None:
        self._lake("follower_history", account_id=account_id,
                   platform=account_id.split(":")[0], day=day, followers=followers,
                   metric="followers", fetched_at=FETCHED_AT)

    def post(self, account_id: str, post_id: str, published_at: datetime, *,
             reactions: int | None = None, comments: int | None = None,
             shares: int | None = None, is_video: bool = False, is_live: bool | None = False,
             post_type: str | None = None, fetched_at: datetime = FETCHED_AT) -> None:
        self._lake("posts", account_id=account_id, platform=account_id.split(":")[0],
                   post_id=post_id, published_at=published_at, post_type=post_type,
                   is_video=is_video, is_live=is_live, reactions=reactions, comments=comments,
                   shares=shares, fetched_on=fetched_at.date(), fetched_at=fetched_at)

    def deletion(self, account_id: str, post_id: str, detected_on: date) -> None:
        self._lake("post_deletions", account_id=account_id, platform=account_id.split(":")[0],
                   post_id=post_id, last_seen_on=detected_on, detected_on=detected_on)

    def extract_run(self, account_id: str, run_date: date, status: str = "ok",
                    reason: str | None = None) -> None:
        platform, handle = account_id.split(":", 1)
        self._lake("extract_log", run_date=run_date, platform=platform, account_id=account_id,
                   handle=handle, status=status, reason=reason, calls=1, units=1,
                   run_id="test", logged_at=FETCHED_AT)

    def run(self) -> None:
        for dataset, rows in self._pending.items():
            table = f"staging.lake_{dataset}"
            self._insert(table, lake.table_from_rows(dataset, rows))
            # as the loader keeps them: one row per lake key, the latest (then the row
            # added last) wins
            keys, latest = lake.KEYS[dataset]
            self.con.execute(
                f"create or replace table {table} as select * exclude (_order) from "
                f"(select *, rowid as _order from {table}) qualify row_number() over ("
                f"partition by {', '.join(keys)} order by {latest} desc nulls last, "
                f"_order desc) = 1")
        self._pending.clear()
        warehouse.run_models(self.con)

    def rows(self, table: str, where: str = "true") -> list[dict]:
        relation = self.con.sql(f"select * from {table} where {where}")
        return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]

    def _lake(self, dataset: str, **row) -> None:
        self._pending[dataset].append(row)

    def _insert(self, table: str, data: pa.Table) -> None:
        self.con.register("_test_rows", data)
        try:
            self.con.execute(f"insert into {table} by name select * from _test_rows")
        finally:
            self.con.unregister("_test_rows")


@pytest.fixture
def bench():
    con = duckdb.connect()
    try:
        yield MartWorkbench(con)
    finally:
        con.close()


def _assert_rows(actual: list[dict], expected: list[dict]) -> None:
    """Every column of every row equal (floats to 1e-9 relative), in order."""
    assert len(actual) == len(expected), f"{len(actual)} rows, expected {len(expected)}: {actual}"
    for got, want in zip(actual, expected, strict=True):
        assert list(got) == list(want), f"columns {list(got)}"
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        for column, value in want.items():
            where = (i, column, got[column], value)
            if isinstance(value, float) and isinstance(got[column], float):
                assert math.isclose(got[column], value, rel_tol=1e-9), where
            else:
                assert got[column] == value, where
                assert value is None or type(got[column]) is type(value), where


@pytest.fixture
def assert_rows():
    """``assert_rows(actual, expected)``: same rows, same columns in the same order."""
    return _assert_rows


@pytest.fixture
def broken_project(tmp_path):
    """``broken_project("marts/account_monthly", sql)``: a copy of the shipped dbt project
    whose model (path under models/, no suffix) is ``sql``."""
    def make(model: str, sql: str):
        project = tmp_path / "dbt"
        shutil.copytree(dbt_project.PROJECT_DIR, project,
                        ignore=shutil.ignore_patterns("target", "logs"))
        (project / "models" / f"{model}.sql").write_text(sql, encoding="utf-8")
        return project
    return make
