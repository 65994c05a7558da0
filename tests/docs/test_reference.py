"""docs/REFERENCE.md against the code: every mart column (name and type) of a warehouse
built by the SQL models, every `agency-pulse` subcommand and option, and every link into
the reference resolves to one of its headings."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import duckdb
import pytest

from agency_pulse import cli, warehouse

PROJECT = Path(__file__).resolve().parents[2]
REFERENCE = PROJECT / "docs" / "REFERENCE.md"

# The reference section that holds each public table's column table.
TABLE_SECTIONS = {
    "marts.account_monthly": "Account marts",
    "marts.account_annual": "Account marts",
    "marts.agency_monthly": "Agency marts",
    "marts.agency_annual": "Agency marts",
    "quality.account_coverage": "`quality.account_coverage`",
    "quality.figure_sources": "`quality.figure_sources`",
}
PERIOD_COLUMNS = {"month", "year"}  # one table documents both grains


def _reference() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    """The body under the heading ``title``, up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"(#+) (.*)", line)
        if match and match.group(2).strip() == title:
            level = len(match.group(1))
            body = []
            for following in lines[i + 1:]:
                heading = re.match(r"(#+) ", following)
                if heading and len(heading.group(1)) <= level:
                    break
                body.append(following)
            return "\n".join(body)
    raise AssertionError(f"docs/REFERENCE.md has no heading {title!r}")


def _column_table(section: str) -> dict[str, str]:
    """{column: type} from the rows of the section's `| column | type | ... |` tables."""
    return {name: cells[1] for name, cells in _column_rows(section).items()}


def _column_rows(section: str) -> dict[str, list[str]]:
    """{column: its row's cells} from the section's `| column | type | ... |` tables."""
    documented: dict[str, list[str]] = {}
    in_table = False
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if not cells:
            in_table = False
        elif cells[0] == "column":
            in_table = True
        elif in_table and not set(cells[0]) <= {"-", ":"}:
            name = re.fullmatch(r"`([a-z0-9_]+)`", cells[0])
            assert name, f"a column cell must be one `name`: {line!r}"
            assert name.group(1) not in documented, f"{name.group(1)} documented twice"
            documented[name.group(1)] = cells
    return documented


@pytest.fixture(scope="module")
def built_columns() -> dict[str, dict[str, str]]:
    """{table: {column: DuckDB type}} of a warehouse the SQL models build from empty sources."""
    con = duckdb.connect()
    try:
        warehouse.create_source_tables(con)
        warehouse.run_models(con)
        return {table: {row[0]: row[1] for row in con.execute(f"describe {table}").fetchall()}
                for table in TABLE_SECTIONS}
    finally:
        con.close()


@pytest.mark.parametrize("table", sorted(TABLE_SECTIONS))
def test_every_column_is_documented_with_its_type(table, built_columns):
    documented = _column_table(_section(_reference(), TABLE_SECTIONS[table]))
    actual = built_columns[table]
    missing = [c for c in actual if c not in documented]
    assert not missing, f"{table}: columns missing from docs/REFERENCE.md: {missing}"
    wrong_type = {c: (documented[c], t) for c, t in actual.items() if documented[c] != t}
    assert not wrong_type, f"{table}: documented type differs from the built one: {wrong_type}"
    # The only documented names a table may lack are the other grain's period column.
    stale = set(documented) - set(actual) - (PERIOD_COLUMNS - set(actual))
    assert not stale, f"{table}: docs/REFERENCE.md documents columns it does not have: {stale}"


def test_every_public_column_carries_the_reference_definition_as_its_comment(pulse_home):
    """A SQL user sees the reference's words in duckdb_columns(), in the warehouse and in
    the readers' file: no column of a mart (or of quality.account_coverage) without one."""
    from agency_pulse import column_docs
    from agency_pulse.registry import parse_registry
    from agency_pulse.report.warehouse_snapshot import snapshot_path

    warehouse.build(registry=parse_registry({"agencies": []}))
    text = _reference()
    for path in (pulse_home.warehouse, snapshot_path()):
        with duckdb.connect(str(path), read_only=True) as con:
            for table, title in TABLE_SECTIONS.items():
                schema, name = table.split(".")
                comments = dict(con.execute(
                    "select column_name, comment from duckdb_columns() "
                    "where schema_name = ? and table_name = ?", [schema, name]).fetchall())
                assert comments, f"{path.name}: no table {table}"
                missing = [c for c, comment in comments.items() if not comment]
                assert not missing, f"{path.name}: {table} columns lack a description: {missing}"
                rows = _column_rows(_section(text, title))
                # the definition cell of the reference, as plain text
                differ = {c: comment for c, comment in comments.items()
                          if comment != column_docs.plain_text(rows[c][2])}
                assert not differ, f"{path.name}: {table} comments differ from the reference: " \
                    f"{differ}"
                assert "`" not in "".join(comments.values())
                table_comment = con.execute(
                    "select comment from duckdb_tables() where schema_name = ? and table_name = ?",
                    [schema, name]).fetchone()[0]
                # the table's comment is the paragraph its section opens with
                opening = _section(text, title).strip().split("\n\n")[0]
                assert table_comment == column_docs.plain_text(opening) != "", (path.name, table)


def _subcommands(parser: argparse.ArgumentParser, prefix: str) -> dict[str, argparse.ArgumentParser]:
    """{"agency-pulse run": its parser, "agency-pulse observations import": ..., ...}."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"{prefix} {name}"] = sub
                found.update(_subcommands(sub, f"{prefix} {name}"))
    return found


def test_every_subcommand_and_option_is_in_the_reference():
    from agency_pulse_sandbox.cli import build_parser as sandbox_parser

    text = _reference()
    commands = _subcommands(cli.build_parser(), "agency-pulse")
    assert "agency-pulse observations import" in commands  # the walk reaches nested commands
    missing = [c for c in commands if f"`{c}" not in text]
    assert not missing, f"subcommands missing from docs/REFERENCE.md: {missing}"

    # `agency-pulse sandbox` hands its options to the sandbox's own parser.
    parsers = {**commands, "agency-pulse sandbox": sandbox_parser(), "agency-pulse": cli.build_parser()}
    for command, parser in parsers.items():
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in text, f"{command} {option} missing from docs/REFERENCE.md"


def _github_anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_into_the_reference_resolve():
    text = _reference()
    anchors = {_github_anchor(m.group(1)) for m in re.finditer(r"^#+ (.*)$", text, re.MULTILINE)}
    links = [(REFERENCE.name, a) for a in re.findall(r"\]\(#([^)]+)\)", text)]
    for doc in (PROJECT / "README.md", PROJECT / "docs" / "DESIGN.md"):
        links += [(doc.name, a) for a in
                  re.findall(r"\]\((?:docs/)?REFERENCE\.md#([^)]+)\)", doc.read_text(encoding="utf-8"))]
    assert len(links) > 20, "the reference and the README link into it"
    broken = [(where, anchor) for where, anchor in links if anchor not in anchors]
    assert not broken, f"links to headings docs/REFERENCE.md does not have: {broken}"
    assert "docs/REFERENCE.md" in (PROJECT / "README.md").read_text(encoding="utf-8")


def _sql_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sql\n(.*?)```", text, re.DOTALL)]


def test_the_quick_start_queries_run_on_a_warehouse(demo_home):
    from agency_pulse import tables

    queries = _sql_blocks(_section(_reference(), "SQL quick start"))
    assert len(queries) == 3
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert _sql_blocks(_section(readme, "Querying the warehouse (SQL)")) == queries
    for sql in queries:
        columns, rows = tables.run_read_only_query(sql)
        assert columns and rows, f"no rows from the quick start query:\n{sql}"
