"""Table and column descriptions for SQL users, taken from docs/REFERENCE.md.

The reference's column tables (``| column | type | definition |``) are the one place a
column is described: ``descriptions()`` reads them, and ``comment_tables`` writes them as
DuckDB comments (``COMMENT ON TABLE`` / ``COMMENT ON COLUMN``), so
``select table_name, column_name, comment from duckdb_columns()`` shows the same words
as the reference. Markdown is turned into plain text: backticks dropped, a link kept as
its text, and a link that stands alone in brackets becomes "(see <text> in
docs/REFERENCE.md)".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from agency_pulse import config, platforms

log = logging.getLogger(__name__)

REFERENCE = config.PROJECT_ROOT / "docs" / "REFERENCE.md"

# The reference section holding each described table's column table (several tables may
# share one section: the monthly and annual marts differ only in their period column).
SECTIONS = {
    "marts.account_monthly": "Account marts",
    "marts.account_annual": "Account marts",
    "marts.agency_monthly": "Agency marts",
    "marts.agency_annual": "Agency marts",
    "quality.account_coverage": "`quality.account_coverage`",
    "quality.extract_log": "`quality.extract_log`",
    "quality.validation_runs": "`quality.validation_runs`",
    "quality.figure_sources": "`quality.figure_sources`",
}

_HEADING = re.compile(r"(#+) (.*)")
_LONE_LINK = re.compile(r"\(\[([^\]]+)\]\([^)]*\)\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


@dataclass(frozen=True)
class TableDocs:
    """A table's description and ``{column: description}``, in plain text."""

    description: str
    columns: dict[str, str]


def plain_text(markdown: str) -> str:
    """The reference's Markdown as a one-line comment: no backticks, links as their text."""
    text = _LONE_LINK.sub(r"(see \1 in docs/REFERENCE.md)", markdown)
    text = _LINK.sub(r"\1", text).replace("`", "")
    return " ".join(text.split())


def descriptions(reference: Path | None = None) -> dict[str, TableDocs]:
    """``{"marts.account_monthly": TableDocs, ...}`` for every table of ``SECTIONS``.

    A table's description is the paragraph its section opens with; its columns are the
    rows of the section's column table (the other grain's period column included: the
    caller comments only the columns a table has). ``ValueError`` when a section or its
    column table is missing.
    """
    return _descriptions(reference or REFERENCE)


@cache
def _descriptions(reference: Path) -> dict[str, TableDocs]:
    text = reference.read_text(encoding="utf-8")
    docs = {}
    for table, title in SECTIONS.items():
        intro, columns = _parse_section(_section(text, title, reference))
        if not columns:
            raise ValueError(f"{reference}: section {title!r} has no column table")
        docs[table] = TableDocs(description=plain_text(intro), columns=columns)
    return docs


def comment_tables(con: duckdb.DuckDBPyConnection, reference: Path | None = None,
                   only: tuple[str, ...] | None = None) -> None:
    """Comment every described table the connection's database has (or those of ``only``),
    and its columns.

    A described table that does not exist (yet) is skipped; a column the reference does
    not describe keeps no comment, and is logged (the reference test fails on it).
    """
    try:
        docs = descriptions(reference)
    except (OSError, ValueError) as exc:
        log.warning("no table comments: cannot read the column reference: %s", exc)
        return
    existing = {f"{schema}.{name}" for schema, name in con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database()").fetchall()}
    for table, table_docs in docs.items():
        if table not in existing or (only is not None and table not in only):
            continue
        con.execute(f"comment on table {table} is {sql_string(table_docs.description)}")
        schema, name = table.split(".")
        columns = [row[0] for row in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = $schema and table_name = $name order by column_index",
            {"schema": schema, "name": name}).fetchall()]
        for column in columns:
            description = table_docs.columns.get(column)
            if description is None:
                log.warning("%s.%s has no description in docs/REFERENCE.md", table, column)
                continue
            con.execute(f'comment on column {table}."{column}" is {sql_string(description)}')


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (COMMENT ON takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _section(text: str, title: str, reference: Path) -> list[str]:
    """The lines under the heading ``title``, up to the next heading of its level or higher."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = _HEADING.fullmatch(line)
        if match and match.group(2).strip() == title:
            level = len(match.group(1))
            body = []
            for following in lines[i + 1:]:
                heading = _HEADING.match(following)
                if heading and len(heading.group(1)) <= level:
                    break
                body.append(following)
            return body
    raise ValueError(f"{reference}: no heading {title!r}")


def _parse_section(lines: list[str]) -> tuple[str, dict[str, str]]:
    """(the opening paragraph, {column: definition}) of a section's lines."""
    intro: list[str] = []
    columns: dict[str, str] = {}
    in_table = False
    for line in lines:
        if not line.startswith("|"):
            if in_table:
                break  # one column table per section
            if line.strip():
                intro.append(line)
            elif intro:
                intro.append("\n")  # only the first paragraph describes the table
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "column":
            in_table = True
            definition_at = cells.index("definition")
        elif in_table and not set(cells[0]) <= {"-", ":"}:
            name = re.fullmatch(r"`([a-z0-9_]+)`", cells[0])
            if name:
                columns[name.group(1)] = plain_text(cells[definition_at])
    paragraph = " ".join(intro).split("\n")[0]
    return plain_text(paragraph), columns


# --- dbt: the project's schema.yml files are generated from the same reference ----------

# The dbt model each described table is, and the data tests that guard its contract.
_PLATFORMS = list(platforms.NAMES)
_STATUSES = ["active", "low", "stale", "dormant", "unknown"]
_STATUS_TESTS = ["not_null", {"accepted_values": {"arguments": {"values": _STATUSES}}}]
_PLATFORM_TESTS = ["not_null", {"accepted_values": {"arguments": {"values": _PLATFORMS}}}]
DBT_MODELS: dict[str, dict] = {
    "marts.account_monthly": {
        "key": ["account_id", "month"], "not_period": "year",
        "columns": {"account_id": ["not_null"], "month": ["not_null"],
                    "agency_id": ["not_null"], "platform": _PLATFORM_TESTS,
                    "activity_status": _STATUS_TESTS}},
    "marts.account_annual": {
        "key": ["account_id", "year"], "not_period": "month",
        "columns": {"account_id": ["not_null"], "year": ["not_null"],
                    "agency_id": ["not_null"], "platform": _PLATFORM_TESTS,
                    "activity_status": _STATUS_TESTS}},
    "marts.agency_monthly": {
        "key": ["agency_id", "month"], "not_period": "year",
        "columns": {"agency_id": ["not_null"], "month": ["not_null"],
                    "activity_status": _STATUS_TESTS}},
    "marts.agency_annual": {
        "key": ["agency_id", "year"], "not_period": "month",
        "columns": {"agency_id": ["not_null"], "year": ["not_null"],
                    "activity_status": _STATUS_TESTS}},
    "quality.account_coverage": {
        "key": ["account_id"],
        "columns": {"account_id": ["not_null", "unique"], "platform": _PLATFORM_TESTS}},
    "quality.figure_sources": {
        "key": ["account_id", "month", "source"],
        "columns": {"account_id": ["not_null"], "month": ["not_null"],
                    "source": ["not_null", {"accepted_values": {"arguments": {
                        "values": ["api", "sandbox", "observation", "unknown"]}}}]}},
}

SCHEMA_YML_HEADER = ("# Generated from docs/REFERENCE.md by `python -m agency_pulse.column_docs "
                     "--write-dbt-schema`:\n# edit the reference (descriptions) or "
                     "column_docs.DBT_MODELS (tests), then regenerate.\n")


def dbt_schema_files(reference: Path | None = None) -> dict[str, str]:
    """``{path relative to the dbt project: text}`` of the generated schema.yml files: each
    described model with its description, its columns' descriptions and its data tests."""
    import yaml

    docs = descriptions(reference)
    by_folder: dict[str, list[dict]] = {}
    for table, spec in DBT_MODELS.items():
        schema, name = table.split(".")
        folder = "marts" if schema == "marts" else schema
        table_docs = docs[table]
        columns = []
        for column, description in table_docs.columns.items():
            if column == spec.get("not_period"):
                continue  # the other grain's period column
            entry: dict = {"name": column, "description": description}
            if spec["columns"].get(column):
                entry["data_tests"] = spec["columns"][column]
            columns.append(entry)
        model = {"name": name, "description": table_docs.description,
                 "data_tests": [{"unique_combination": {"arguments": {"columns": spec["key"]}}}],
                 "columns": columns}
        by_folder.setdefault(folder, []).append(model)
    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):  # every test list written out, no YAML anchors
            return True

    return {f"models/{folder}/schema.yml": SCHEMA_YML_HEADER + yaml.dump(
                {"version": 2, "models": models}, Dumper=Dumper, sort_keys=False,
                allow_unicode=True, width=100)
            for folder, models in by_folder.items()}


def write_dbt_schema(project_dir: Path | None = None) -> list[Path]:
    """Write ``dbt_schema_files()`` into the dbt project; return the files written."""
    project_dir = project_dir or config.PROJECT_ROOT / "include" / "dbt"
    written = []
    for relative, text in dbt_schema_files().items():
        path = project_dir / relative
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m agency_pulse.column_docs",
                                     description="Column descriptions from docs/REFERENCE.md.")
    parser.add_argument("--write-dbt-schema", action="store_true",
                        help="regenerate include/dbt/models/*/schema.yml")
    args = parser.parse_args(argv)
    if not args.write_dbt_schema:
        parser.print_help()
        return 2
    for path in write_dbt_schema():
        print(path.relative_to(config.PROJECT_ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
