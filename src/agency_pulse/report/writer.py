"""Write a report to $AGENCY_PULSE_HOME/reports/ (atomically, file by file)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from agency_pulse import config
from agency_pulse.errors import UserInputError
from agency_pulse.i18n import LANGUAGES, check_language
from agency_pulse.report.document import MAX_CHART_SERIES, build_document
from agency_pulse.report.figures import Period, latest_year, load_figures
from agency_pulse.report.numbers import style_for
from agency_pulse.report.rendering import render_html, render_markdown
from agency_pulse.report.warehouse_snapshot import read_only_connection

# The language whose reports keep the plain period name (the names before issue 14).
PLAIN_NAME_LANGUAGE = "en"


@dataclass(frozen=True)
class ReportPaths:
    html: Path
    markdown: Path
    charts: Path  # folder of the SVG files the Markdown links to


def write_report(*, year: int | None = None, month: str | None = None,
                 home: config.Paths | Path | str | None = None,
                 language: str = "en") -> ReportPaths:
    """Write the report for `month` ("YYYY-MM"), else `year`, else the latest year with data,
    in `language` (`en`: annual-2026.html; `az`: annual-2026.az.html, and so on).

    Raises UserInputError when both are given, the language is unknown, the warehouse has
    no marts, or the period has no data; WarehouseUnavailable when there is no warehouse.
    """
    if year is not None and month is not None:
        raise UserInputError("give --year or --month, not both")
    try:
        check_language(language)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    if isinstance(home, config.Paths):
        paths = home
    else:
        paths = config.Paths(Path(home).resolve()) if home is not None else config.paths()
    style = style_for(language)
    with read_only_connection(paths) as con:
        if month is not None:
            period = Period.month(month)
        else:
            year = year if year is not None else latest_year(con)
            if year is None:
                raise UserInputError("the marts have no data yet: run `agency-pulse build` first")
            period = Period.year(year)
        figures = load_figures(con, period, charted=MAX_CHART_SERIES)
    if not figures.account_rows:
        raise UserInputError(f"the marts have no rows for {period.slug.split('-', 1)[1]}")
    document = build_document(figures, style)
    paths.reports.mkdir(parents=True, exist_ok=True)
    stem = report_stem(period.slug, language)
    charts_dir = paths.reports / f"{stem}.charts"
    charts_dir.mkdir(exist_ok=True)
    links = {}
    for chart in document.charts:
        _write_atomically(charts_dir / f"{chart.name}.svg", chart.svg)
        links[chart.name] = f"{charts_dir.name}/{chart.name}.svg"
    html_path = paths.reports / f"{stem}.html"
    markdown_path = paths.reports / f"{stem}.md"
    _write_atomically(markdown_path, render_markdown(document, links, style))
    _write_atomically(html_path, render_html(document, style, lang=language))
    return ReportPaths(html=html_path, markdown=markdown_path, charts=charts_dir)


def report_stem(slug: str, language: str) -> str:
    """The file name of a report without its extension: the English one keeps the plain
    period name ("annual-2026"), another language adds its code ("annual-2026.az")."""
    return slug if language == PLAIN_NAME_LANGUAGE else f"{slug}.{language}"


def report_language(path: Path) -> str:
    """The language a report file was written in, from its name."""
    parts = path.name.split(".")
    return parts[-2] if len(parts) >= 3 and parts[-2] in LANGUAGES else PLAIN_NAME_LANGUAGE


def latest_report(home: Path | str | None = None, language: str | None = None) -> Path | None:
    """The most recently written HTML report (in `language`, when given), if any."""
    paths = config.Paths(Path(home).resolve()) if home is not None else config.paths()
    reports = sorted((p for p in paths.reports.glob("*.html")
                      if language is None or report_language(p) == language),
                     key=lambda p: p.stat().st_mtime) if paths.reports.exists() else []
    return reports[-1] if reports else None


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
