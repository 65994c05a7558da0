"""Find SQL built from text at run time in the package: every ``execute``/``sql``/``query``
call whose SQL argument is an f-string, a ``+``/``%`` expression or a ``.format`` call, and
every such string that reads like SQL wherever it is built (it may be executed later)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

SQL_METHODS = {"execute", "executemany", "sql", "query", "read_sql", "read_sql_query"}
# Interpolated names that hold identifiers from our own constants or code-built fragments
# (reviewed: table/schema names from lake.SCHEMAS, warehouse.SCHEMAS, MARTS, LAYERS and
# model files; column lists and key comparisons quoted from lake.SCHEMAS and lake.KEYS),
# never a data value.
IDENTIFIER_NAMES = {
    "schema", "table", "view", "select", "partition", "latest", "name", "qualified",
    "qualified_name", "dataset", "mart", "columns", "column", "order", "source", "target",
    "relation", "table_name", "schema_name", "grain", "suffix", "same_key",
    "latest_rows",  # warehouse._latest_rows_query: built from select, partition, latest
    # dbt_project.run_compiled: a model's materialization (table | view) and dbt's compiled
    # SQL of the project's own model files
    "materialized", "compiled_sql",
    # lake_layout.MONTH_FILE_NAME: the fixed file name of a compacted month ("part-month.parquet")
    "MONTH_FILE_NAME",
    # warehouse._record_changes: warehouse.CHANGE_DAYS' constant expressions over a lake
    # dataset's own columns, and that dataset's post columns (or a NULL)
    "change_day", "change_from", "post_columns",
    # warehouse._upsert_lake_files: the day column of the dataset's lake.KEYS, the condition
    # on it (the day itself a parameter) and the latest-wins comparison quoted from lake.KEYS
    "day_key", "prune", "replaces",
    # report.leaderboards: fixed SQL fragments, module constants without any value in them
    # (an agency's names as load_figures gives them; engagement over the accounts that give it)
    "_NAMES_SQL", "_ENGAGEMENT_GIVEN_SQL",
}
# The one reviewed quoting function (agency_pulse.column_docs.sql_string): its output is a
# SQL string literal with every quote doubled, for the statements that take no parameters
# (ATTACH a path, COMMENT ON with a description from the docs).
_QUOTED = re.compile(r"^(\w+\.)?sql_string\(.*\)$", re.DOTALL)
_LOOKS_LIKE_SQL = re.compile(r"\b(select\b.*\bfrom|insert\s+into|delete\s+from|update\s+\w+\s+set|"
                             r"create\s+(or\s+replace\s+)?(table|view|schema)|\bwhere\b)",
                             re.IGNORECASE | re.DOTALL)
# A run of "?" placeholders (", ".join(["?"] * n)) binds values, it does not embed them.
_PLACEHOLDERS = re.compile(r"""^['"], ['"]\.join\(\[['"]\?['"]\] \* \w+\)$""")


@dataclass(frozen=True)
class DynamicSql:
    """One call site building SQL from text, and the expressions it interpolates."""

    file: str
    line: int
    expressions: tuple[str, ...]

    @property
    def carries_data(self) -> bool:
        """True when an interpolated expression is not a reviewed identifier name."""
        return any(_base_name(e) not in IDENTIFIER_NAMES and not _PLACEHOLDERS.match(e)
                   and not _QUOTED.match(e) for e in self.expressions)

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({', '.join(self.expressions) or 'concatenation'})"


def _base_name(expression: str) -> str:
    """``model.sql`` -> ``sql``; ``self.table`` -> ``table``; ``f(x)`` -> the call text."""
    return expression.rsplit(".", 1)[-1]


def _interpolated(node: ast.AST) -> list[str] | None:
    """The expressions a dynamic SQL argument interpolates, or None when it is a literal."""
    if isinstance(node, ast.JoinedStr):
        return [ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        parts = []
        for side in (node.left, node.right):
            inner = _interpolated(side)
            if inner is None and not isinstance(side, ast.Constant):
                parts.append(ast.unparse(side))
            elif inner:
                parts.extend(inner)
        return parts
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        return [ast.unparse(a) for a in [*node.args, *(k.value for k in node.keywords)]]
    return None


def scan(package: Path) -> list[DynamicSql]:
    """Every call site under ``package`` passing dynamically built text as SQL."""
    found: dict[tuple[str, int], DynamicSql] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = str(path.relative_to(package.parent))
        # Error messages may quote SQL shapes; they are never executed.
        in_raise = {id(n) for r in ast.walk(tree) if isinstance(r, ast.Raise) for n in ast.walk(r)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in SQL_METHODS and node.args):
                expressions = _interpolated(node.args[0])
                if expressions is not None:
                    found[(where, node.lineno)] = DynamicSql(where, node.lineno, tuple(expressions))
            elif (isinstance(node, ast.JoinedStr) and (where, node.lineno) not in found
                  and id(node) not in in_raise):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if _LOOKS_LIKE_SQL.search(text):
                    found[(where, node.lineno)] = DynamicSql(where, node.lineno,
                                                             tuple(_interpolated(node) or ()))
    return sorted(found.values(), key=lambda d: (d.file, d.line))
