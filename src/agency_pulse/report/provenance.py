"""Where the figures came from, as the warehouse records it (``quality.figure_sources``).

Every reader output (the report, the UI pages, the run summary) asks this module whether
the figures it shows include sandbox figures, and if so says so where a reader cannot
miss it. The answer comes from the data, never from a setting: a warehouse built from
the sandbox is marked even when read with a production configuration.
"""

from __future__ import annotations

from datetime import date

import duckdb

SANDBOX = "sandbox"
SANDBOX_NOTICE = ("Synthetic data: these figures come from the Agency Pulse sandbox, not from "
                  "the platforms. They are made up and say nothing true about the agencies "
                  "named; do not quote them.")


def figure_sources(con: duckdb.DuckDBPyConnection, start: date | None = None,
                   end: date | None = None) -> set[str]:
    """The sources (``api``, ``sandbox``, ``observation``, ``unknown``) of the figures of
    the months from ``start``'s to ``end``'s (every month when not given); empty when the
    warehouse predates ``quality.figure_sources``."""
    if not con.execute("select count(*) from information_schema.tables where "
                       "table_schema = 'quality' and table_name = 'figure_sources'").fetchone()[0]:
        return set()
    sql = "select distinct source from quality.figure_sources where true"
    params: list = []
    if start is not None:
        sql += " and month >= date_trunc('month', ?::date)"
        params.append(start)
    if end is not None:
        sql += " and month <= ?::date"
        params.append(end)
    return {row[0] for row in con.execute(sql, params).fetchall()}


def sandbox_notice(sources: set[str]) -> str | None:
    """The notice to show when any figure is synthetic, else None."""
    return SANDBOX_NOTICE if SANDBOX in sources else None
