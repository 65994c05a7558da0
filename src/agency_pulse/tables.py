"""Query results for people and files: `agency-pulse query "SQL" [--output FILE]`.

- `run_read_only_query(sql)` runs SELECT-like statements on a read-only snapshot of
  the warehouse (see `report.warehouse_snapshot`), with file access disabled and a
  memory limit; `run_capped_query(sql, max_rows=N)` fetches at most N rows and says
  whether more were left (the command line's default cap is `DEFAULT_MAX_ROWS`).
- `format_table(columns, rows)` aligns columns, right-aligns numbers, adds thousands
  separators, prints floats with fixed decimals and NULL as an em dash.
- `export(columns, rows, path)` writes CSV or Parquet by the file's extension. In CSV,
  a text cell starting with = + - @ tab or CR gets a leading apostrophe, so a
  spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from agency_pulse.errors import UserInputError
from agency_pulse.report.warehouse_snapshot import read_only_connection, reader_memory_limit

NULL = "—"
FLOAT_DECIMALS = 2
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
READ_STATEMENTS = {"SELECT", "EXPLAIN"}
PLAIN_INTEGER_COLUMN = re.compile(r"(^|_)(year|id)$", re.IGNORECASE)
DEFAULT_MAX_ROWS = 10_000
EXPORT_SUFFIXES = (".csv", ".parquet")
# The public interface (docs/REFERENCE.md, Warehouse), in the order an unknown-table error lists them.
MARTS = ("marts.account_monthly", "marts.account_annual", "marts.agency_monthly",
         "marts.agency_annual")
_UNKNOWN_RELATION = re.compile(r"Table with name .* does not exist")


class QueryRefused(UserInputError):
    """The statement is not a read, or the query failed; the message is one line."""


def run_read_only_query(sql: str, home: Path | str | None = None, *,
                        params: Sequence | None = None) -> tuple[list[str], list[tuple]]:
    """Run one read statement (with `?` parameters) on the warehouse snapshot.

    Returns (column names, rows); raises QueryRefused (one line) for anything but a read
    or a failing query, WarehouseUnavailable when there is nothing to read yet.
    """
    columns, rows, _ = run_capped_query(sql, home, params=params, max_rows=None)
    return columns, rows


def run_capped_query(sql: str, home: Path | str | None = None, *,
                     params: Sequence | None = None, max_rows: int | None = DEFAULT_MAX_ROWS,
                     ) -> tuple[list[str], list[tuple], bool]:
    """As `run_read_only_query`, but fetch at most ``max_rows`` rows (None: all).

    Returns (column names, rows, capped): ``capped`` is true when the result had more
    rows than were fetched. Only ``max_rows + 1`` rows ever reach Python.
    """
    if max_rows is not None and max_rows < 1:
        raise QueryRefused(f"the row cap must be at least 1, got {max_rows}")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(_one_line(exc)) from None
    if not statements:
        raise QueryRefused("no SQL statement given")
    if len(statements) > 1:
        raise QueryRefused("give one statement at a time")
    kind = statements[0].type.name
    if kind not in READ_STATEMENTS:
        raise QueryRefused(f"only read queries are allowed (SELECT, WITH, EXPLAIN), not {kind}")
    with read_only_connection(home) as con:
        try:
            cursor = con.execute(sql, list(params) if params is not None else None)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            if max_rows is None:
                return columns, cursor.fetchall(), False
            rows = cursor.fetchmany(max_rows + 1)
        except duckdb.CatalogException as exc:
            raise QueryRefused(_unknown_relation(exc, con)) from None
        except duckdb.OutOfMemoryException as exc:
            first = (str(exc).splitlines() or ["Out of Memory Error"])[0]
            raise QueryRefused(f"{first} (readers may use {reader_memory_limit()}: set "
                               "AGENCY_PULSE_READER_MEMORY_LIMIT, or ask for less)") from None
        except duckdb.Error as exc:
            raise QueryRefused(_one_line(exc)) from None
    return columns, rows[:max_rows], len(rows) > max_rows


def check_output_path(path: Path | str) -> None:
    """Refuse an export file name whose extension `export` cannot write (a usage error)."""
    if Path(path).suffix.lower() not in EXPORT_SUFFIXES:
        raise UserInputError(f"--output must end in .csv or .parquet, got {Path(path).name!r}")


def _unknown_relation(exc: duckdb.CatalogException, con: duckdb.DuckDBPyConnection) -> str:
    """DuckDB's unknown-table error, with the marts listed instead of its guess (which is
    often a system table such as pg_enum)."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    if not _UNKNOWN_RELATION.search(first):
        return _one_line(exc)
    try:
        found = {f"{schema}.{name}" for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = 'marts'").fetchall()}
    except duckdb.Error:
        found = set()
    marts = [m for m in MARTS if m in found or not found] + sorted(found - set(MARTS))
    return (f"{first.strip()} The marts are: {', '.join(marts)} "
            "(also the schemas core, staging and quality).")


def format_table(columns: Sequence[str], rows: Sequence[Sequence]) -> str:
    """An aligned plain-text table with a header rule and a row count.

    Integers get thousands separators, except in columns named like a year or an id.
    """
    plain = [bool(PLAIN_INTEGER_COLUMN.search(str(c))) for c in columns]
    cells = [[str(v) if p and isinstance(v, int) and not isinstance(v, bool) else format_value(v)
              for v, p in zip(row, plain, strict=True)] for row in rows]
    numeric = [all(_is_number(row[i]) for row in rows if row[i] is not None) and
               any(row[i] is not None for row in rows) for i in range(len(columns))]
    widths = [max([len(str(c))] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w)
                         for v, w, n in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line([str(c) for c in columns]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def format_value(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:,.{FLOAT_DECIMALS}f}"
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value).replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def export(columns: Sequence[str], rows: Sequence[Sequence], path: Path | str) -> Path:
    """Write the rows to `path`: .csv (formula-safe) or .parquet; return the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([csv_cell(c) for c in columns])
            writer.writerows([[csv_cell(v) for v in row] for row in rows])
    elif suffix == ".parquet":
        data = {str(c): [row[i] for row in rows] for i, c in enumerate(columns)}
        try:
            pq.write_table(pa.table(data), path)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise UserInputError(f"cannot write {path.name} as Parquet: {_one_line(exc)}") from None
    else:
        check_output_path(path)
    return path


def csv_cell(value) -> str:
    """CSV text for one cell; text that a spreadsheet would run as a formula is defused."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    text = format_value(value) if isinstance(value, (list, tuple)) else str(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
