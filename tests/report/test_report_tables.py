"""`agency-pulse query`: read-only queries, readable tables, formula-safe CSV, Parquet."""

from __future__ import annotations

import csv
from datetime import date

import pyarrow.parquet as pq
import pytest

from agency_pulse.errors import UserInputError
from agency_pulse.tables import QueryRefused, export, format_table, run_read_only_query


def test_format_table_aligns_and_formats_numbers():
    text = format_table(["agency", "followers", "growth", "since"],
                        [["culture", 22900, 100.877, date(2026, 1, 1)],
                         ["education", 4000, None, None]])
    lines = text.splitlines()
    assert lines[0] == "agency     followers  growth  since"
    assert lines[2] == "culture       22,900  100.88  2026-01-01"
    assert lines[3] == "education      4,000       —  —"
    assert lines[-1] == "(2 rows)"


def test_years_and_ids_have_no_thousands_separator():
    lines = format_table(["year", "run_id", "rows"], [[2026, 12345, 12345]]).splitlines()
    assert lines[2] == "2026   12345  12,345"


def test_query_returns_columns_and_rows(demo_home):
    columns, rows = run_read_only_query(
        "select agency_id, followers_end from marts.agency_annual where year = 2026 order by rank_followers")
    assert columns == ["agency_id", "followers_end"]
    assert rows[0] == ("culture", 28300)


def test_query_parameters(demo_home):
    columns, rows = run_read_only_query(
        "select agency_id from marts.agency_annual where year = ? order by rank_followers limit ?",
        params=[2026, 2])
    assert rows == [("culture",), ("education",)]


@pytest.mark.parametrize(("sql", "message"), [
    ("drop table marts.agency_annual", "only read queries are allowed"),
    ("insert into marts.agency_annual select * from marts.agency_annual", "only read queries"),
    ("copy marts.agency_annual to 'leak.csv'", "only read queries"),
    ("select 1; select 2", "one statement"),
    ("select * from read_csv('/etc/passwd')", "file system operations are disabled"),
    ("select * from nowhere", "nowhere does not exist"),
])
def test_non_reads_and_errors_are_refused_in_one_line(demo_home, sql, message):
    with pytest.raises(QueryRefused, match=message) as caught:
        run_read_only_query(sql)
    assert "\n" not in str(caught.value)


def test_refused_writes_leave_the_warehouse_unchanged(demo_home):
    with pytest.raises(QueryRefused):
        run_read_only_query("delete from marts.agency_annual")
    assert run_read_only_query("select count(*) from marts.agency_annual")[1] == [(9,)]


def test_csv_export_defuses_formulas(tmp_path):
    path = export(["name", "value"], [["=HYPERLINK(\"x\")", 1], ["+1", -2], ["-1", 3.5],
                                       ["@SUM(A1)", None], ["\tx", 0], ["\rx", 0], ["plain", 7]],
                  tmp_path / "out.csv")
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert rows[0] == ["name", "value"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"x\")", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain"]
    assert [r[1] for r in rows[1:]] == ["1", "-2", "3.5", "", "0", "0", "7"]


def test_parquet_export_keeps_types(tmp_path, demo_home):
    columns, rows = run_read_only_query(
        "select agency_id, followers_end, platforms from marts.agency_annual where year = 2026")
    table = pq.read_table(export(columns, rows, tmp_path / "out.parquet"))
    assert table.column_names == columns
    assert str(table.schema.field("followers_end").type) == "int64"
    assert sorted(table.column("agency_id").to_pylist()) == ["culture", "culture-tourism", "education", "sheki"]


def test_unknown_extension_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match=".csv or .parquet"):
        export(["a"], [[1]], tmp_path / "out.xlsx")


def test_capped_query_fetches_at_most_the_cap_and_says_so(demo_home):
    from agency_pulse.tables import DEFAULT_MAX_ROWS, run_capped_query

    sql = "select range as n from range(25000)"
    columns, rows, capped = run_capped_query(sql)
    assert columns == ["n"] and len(rows) == DEFAULT_MAX_ROWS == 10_000 and capped
    assert rows[-1] == (9_999,)
    _, rows, capped = run_capped_query(sql, max_rows=25_000)
    assert len(rows) == 25_000 and not capped
    _, rows, capped = run_capped_query(sql, max_rows=None)
    assert len(rows) == 25_000 and not capped
    with pytest.raises(QueryRefused, match="at least 1"):
        run_capped_query(sql, max_rows=0)


def test_reader_connections_have_a_memory_limit(demo_home, monkeypatch):
    from agency_pulse.report.warehouse_snapshot import read_only_connection

    with read_only_connection() as con:
        default = con.execute("select current_setting('memory_limit')").fetchone()[0]
    monkeypatch.setenv("AGENCY_PULSE_READER_MEMORY_LIMIT", "64MB")
    with read_only_connection() as con:
        small = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert default.replace(" ", "") in ("953.6MiB", "1.0GiB", "1GB", "1000.0MB")
    assert small.replace(" ", "") in ("61.0MiB", "64.0MB", "64MB")
    # a query that needs more than the limit fails with one line instead of taking the machine
    with pytest.raises(QueryRefused, match="Out of Memory Error") as caught:
        run_read_only_query("select string_agg(repeat('x', 1000), '') from range(200000)")
    assert "\n" not in str(caught.value) and "readers may use 64MB" in str(caught.value)


def test_a_bad_reader_memory_limit_is_a_clear_error(demo_home, monkeypatch):
    from agency_pulse.errors import AgencyPulseError

    monkeypatch.setenv("AGENCY_PULSE_READER_MEMORY_LIMIT", "lots")
    with pytest.raises(AgencyPulseError, match="AGENCY_PULSE_READER_MEMORY_LIMIT must be a size"):
        run_read_only_query("select 1")


@pytest.mark.parametrize("relation", ["nowhere", "pg_enu", "mart.account_monthly",
                                      "marts.acount_monthly"])
def test_unknown_table_or_schema_lists_the_marts(demo_home, relation):
    with pytest.raises(QueryRefused) as caught:
        run_read_only_query(f"select * from {relation}")
    message = str(caught.value)
    assert "does not exist" in message and "\n" not in message
    assert ("The marts are: marts.account_monthly, marts.account_annual, "
            "marts.agency_monthly, marts.agency_annual") in message
    assert "Did you mean" not in message and "pg_" not in message.replace(relation, "")
