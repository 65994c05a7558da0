"""The Agency Pulse pages: leaderboard, one page per agency, data quality, report, Data Docs.

Server-rendered HTML (Jinja2, autoescaped), links relative to where the app is mounted,
no script and no external asset. Every request reads the warehouse through a read-only
snapshot (see `report.warehouse_snapshot`), so the pages never block the pipeline's
writer. `authenticate` is a FastAPI dependency run before every route: the Airflow
plugin passes Airflow's own authentication (see `airflow_auth`); tests and local
previews may pass None.

Every page is written in the reader's language: `?lang=az|en` (links keep it), else the
app's default (`AGENCY_PULSE_LANGUAGE`); each page links to itself in the other language.
An unknown `lang` is a 400 page in the default language.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from html import escape
from pathlib import Path
from urllib.parse import quote, urlencode

import duckdb
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from agency_pulse import config
from agency_pulse.config import PLATFORMS
from agency_pulse.errors import UserInputError
from agency_pulse.i18n import LANGUAGE_NAMES, LANGUAGES
from agency_pulse.report import caveats, chart_texts, charts
from agency_pulse.report.caveats import has_rounded_counts_in, within_rounding
from agency_pulse.report.document import partial_notes
from agency_pulse.report.figures import (
    Period,
    latest_year,
    load_figures,
    load_frame,
    rows,
    table_exists,
)
from agency_pulse.report.leaderboards import (
    format_cell,
    growth_ranking,
    overall_page,
    platform_page,
)
from agency_pulse.report.narrative import (
    agency_heading,
    agency_name,
    agency_sentences,
    platform_label,
)
from agency_pulse.report.numbers import NumberStyle, exact, long_date, percent, signed, style_for
from agency_pulse.report.provenance import figure_sources, sandbox_notice
from agency_pulse.report.warehouse_snapshot import WarehouseUnavailable, read_only_connection
from agency_pulse.report.writer import latest_report
from agency_pulse.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
# Every page and every served report: no script at all, styles inline only, images from
# this origin (the reports' SVG files), no frame of another site, no form elsewhere.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'none'; connect-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
NUMERIC_KINDS = {"rank", "count", "change", "pct", "rate"}
# Rows per leaderboard table and page: the rows a leaderboard is read for; the rest are
# one `?page=` away, so the page costs the same at 1,000 or 100,000 accounts.
BOARD_ROWS = 50


def create_app(home: Path | str | None = None, *, authenticate: Callable | None = None,
               settings: Settings | None = None) -> FastAPI:
    """The app; without `home`, its folders come from `settings`, else from the environment
    read now (a bad setting raises ConfigurationError here, not at a request)."""
    settings = settings or Settings.from_environment()
    app_paths = config.Paths(Path(home).resolve()) if home is not None else config.paths(settings)
    default_language = settings.language
    dependencies = [Depends(authenticate)] if authenticate else []
    app = FastAPI(title="Agency Pulse", dependencies=dependencies, docs_url=None,
                  redoc_url=None, openapi_url=None)
    templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    templates.globals.update(platform_label=platform_label, retired=_retired, to_minute=_to_minute,
                             within_rounding=within_rounding)

    def paths() -> config.Paths:
        return app_paths

    def language(request: Request, *, strict: bool = True) -> str:
        """The `?lang=` asked for, else the default; BadParameter for an unknown one
        (`strict=False`: the default instead, for pages that report another error)."""
        asked = request.query_params.get("lang")
        if not asked:
            return default_language
        if asked not in LANGUAGES:
            if not strict:
                return default_language
            raise BadParameter(style_for(default_language).text.text(
                "ui.error.bad_language", languages=", ".join(LANGUAGES), value=repr(asked[:20])))
        return asked

    def reader_style(request: Request) -> NumberStyle:
        return style_for(language(request))

    def lang_query(request: Request) -> str:
        """The query that keeps the reader's language in a link: empty for the app's
        default, so default links stay as they were."""
        lang = language(request, strict=False)
        return "" if lang == default_language else urlencode({"lang": lang})

    def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
        base = request.scope.get("root_path", "").rstrip("/")
        lang = language(request, strict=False)
        style = style_for(lang)
        text = style.text
        other = next(code for code in LANGUAGES if code != lang)
        query = lang_query(request)
        path = request.url.path
        if base and not path.startswith(base):
            path = base + path
        params = {k: v for k, v in request.query_params.items() if k != "lang"}
        switch = path + "?" + urlencode({**params, "lang": other})
        notice = text.text("notice.synthetic") if _sandbox_notice(paths()) else None
        html = templates.get_template(template).render(
            base=base, notice=notice, lang=lang, t=text.text, plural=text.plural, word=text.word,
            lang_query=query, and_lang=f"&{query}" if query else "",
            switch_url=switch, switch_label=LANGUAGE_NAMES[other], switch_lang=other,
            exact=partial(_exact, style=style), signed=partial(signed, style=style),
            percent=partial(percent, style=style), long_date=partial(long_date, style=style),
            format_cell=partial(format_cell, style=style), not_available=style.not_available,
            caveat=lambda key, **values: chart_texts.text(key, style, **values),
            **context)
        return HTMLResponse(html, status_code=status_code)

    def words(request: Request):
        return style_for(language(request, strict=False)).text

    @app.exception_handler(WarehouseUnavailable)
    async def no_warehouse(request: Request, exc: WarehouseUnavailable):
        text = words(request)
        return page(request, "message.html", 503, title=text.text("ui.error.no_data_title"),
                    message=text.text("ui.error.no_warehouse", detail=str(exc)))

    @app.exception_handler(UserInputError)
    async def bad_request(request: Request, exc: UserInputError):
        return page(request, "message.html", 404, title=words(request).text("ui.error.not_found_title"),
                    message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError):
        # FastAPI's default is a JSON 422 a reader cannot read: one sentence instead.
        names = sorted({str(e.get("loc", ["", "?"])[-1]) for e in exc.errors()})
        text = words(request)
        return page(request, "message.html", 400, title=text.text("ui.error.bad_request_title"),
                    message=text.text("ui.error.bad_parameter", names=", ".join(names)))

    @app.exception_handler(BadParameter)
    async def bad_value(request: Request, exc: BadParameter):
        return page(request, "message.html", 400, title=words(request).text("ui.error.bad_request_title"),
                    message=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        text = words(request)
        if exc.status_code in (401, 403):
            from agency_pulse.ui.airflow_auth import login_url

            return page(request, "message.html", exc.status_code, title=text.text("ui.error.sign_in_title"),
                        message=text.text("ui.error.sign_in"),
                        link=(login_url(), text.text("ui.error.sign_in_link")))
        return page(request, "message.html", exc.status_code, title=text.text("ui.error.not_found_title"),
                    message=str(exc.detail))

    @app.get("/", response_class=HTMLResponse, name="leaderboard")
    def leaderboard(request: Request, year: str | None = None, platform: str | None = None,
                    page_number: str | None = Query(None, alias="page")):
        style = reader_style(request)
        number = _chosen_page(page_number, style)
        if platform is not None and platform not in PLATFORMS:
            raise BadParameter(style.text.text("ui.error.bad_platform", platforms=", ".join(PLATFORMS),
                                               value=repr(platform[:20])))
        offset = (number - 1) * BOARD_ROWS
        with read_only_connection(paths()) as con:
            year = _chosen_year(con, year, style)
            period = Period.year(year)
            # the period without its agencies: every board below reads only the rows it
            # shows (ranks, totals and orders over every agency and account in SQL), so the
            # page costs the same at 1,000 or 100,000 accounts
            figures = load_frame(con, period)
            years = [r["year"] for r in rows(con, "select distinct year from marts.agency_annual order by year desc")]
            boards = []
            if platform is None:
                boards.append((*overall_page(con, period, figures.weeks, style,
                                             limit=BOARD_ROWS, offset=offset), None))
            for p in ([platform] if platform else PLATFORMS):
                board, total = platform_page(con, year, p, None, figures.weeks, style,
                                             limit=BOARD_ROWS, offset=offset)
                if total:
                    boards.append((board, total, p))
            growth, ranked = (growth_ranking(con, period, style, shown=charts.RANKING_SHOWN)
                              if platform is None else ([], 0))
            rounded = has_rounded_counts_in(con, period)
        base = request.scope.get("root_path", "").rstrip("/")
        query = lang_query(request)
        last = max((_page_count(total) for _, total, _ in boards), default=1)
        if number > last:
            raise BadParameter(style.text.text("ui.error.bad_page_range", page=number, last=last))
        shown = [{**_board(board, base, year, style, query),
                  **_paging(base, year, query, p, number, total, style)}
                 for board, total, p in boards]
        title = chart_texts.text("growth_year", style, year=year)
        return page(request, "leaderboard.html", year=year, years=years, figures=figures,
                    boards=shown, notes=_notes(figures, style, rounded), platform=platform,
                    growth_chart=(Markup(charts.ranking_chart(title, growth, style, total=ranked))
                                  if platform is None else None),
                    report=_report_name(paths(), style.language))

    @app.get("/agency/{agency_id}", response_class=HTMLResponse, name="agency")
    def agency(request: Request, agency_id: str, year: str | None = None):
        style = reader_style(request)
        with read_only_connection(paths()) as con:
            year = _chosen_year(con, year, style)
            # only this agency's rows: the page costs the same at 10 or 10,000 agencies
            figures = load_figures(con, Period.year(year), agency_id=agency_id)
            history = rows(con, "select * from marts.account_monthly where agency_id = ? order by month",
                           [agency_id])
            agency_history = rows(con, "select month, posts from marts.agency_monthly "
                                       "where agency_id = ? order by month", [agency_id])
        found = next((a for a in figures.agencies if a.agency_id == agency_id), None)
        if found is None:
            raise UserInputError(style.text.text("ui.error.no_agency", agency=repr(agency_id[:80]), year=year))
        months = sorted({r["month"] for r in history})
        followers: dict[str, dict[date, float | None]] = {}
        for r in history:
            followers.setdefault(f"{platform_label(r['platform'])} @{r['handle']}", {})[r["month"]] = r["followers_end"]
        posts = {r["month"]: r["posts"] for r in agency_history}
        return page(request, "agency.html", agency=found, year=year,
                    heading=agency_heading(found, style), name=agency_name(found, style),
                    sentences=agency_sentences(found, figures, style),
                    notes=_notes(figures, style, any(caveats.has_rounded_counts(a.platform)
                                                     and a.row is not None for a in found.accounts),
                                 months),
                    followers_chart=Markup(charts.line_chart(chart_texts.text("account_followers", style),
                                                             months, followers, style,
                                                             partial=figures.partial)),
                    posts_chart=Markup(charts.bar_chart(chart_texts.text("agency_posts", style), months,
                                                        posts, style, partial=figures.partial)))

    @app.get("/quality", response_class=HTMLResponse, name="quality")
    def quality(request: Request):
        reader_style(request)  # a bad ?lang= is a 400 before any work
        with read_only_connection(paths()) as con:
            has_runs = table_exists(con, "quality.validation_runs")
            has_log = table_exists(con, "quality.extract_log")
            latest_runs = rows(con, """
                select * from quality.validation_runs
                qualify row_number() over (partition by dataset, platform order by validated_at desc) = 1
                order by success, dataset, platform""") if has_runs else []
            quarantined = rows(con, """
                select * from quality.validation_runs where quarantined_to is not null
                order by validated_at desc limit 50""") if has_runs else []
            extract_log = rows(con, """
                select * from quality.extract_log
                where run_date = (select max(run_date) from quality.extract_log)
                order by status = 'ok', platform, account_id""") if has_log else []
        for run in latest_runs + quarantined:
            run["failures"] = _json_list(run.get("failed_expectations"))
            run["warning_list"] = _json_list(run.get("warnings"))
        return page(request, "quality.html", has_runs=has_runs, has_log=has_log,
                    latest_runs=latest_runs, quarantined=quarantined, extract_log=extract_log)

    @app.get("/reports/latest", name="latest_report")
    def latest(request: Request):
        style = reader_style(request)
        # The report in the reader's language, else the latest in any language.
        name = _report_name(paths(), style.language) or _report_name(paths())
        if name is None:
            raise UserInputError(style.text.text("ui.error.no_report"))
        base = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(f"{base}/reports/{name}", status_code=307)

    @app.get("/reports/{file_path:path}", name="report_file")
    def report_file(file_path: str):
        return _serve_inside(paths().reports, file_path)

    # GX Data Docs load Bootstrap, jQuery and Vega from CDNs (empty offline, third-party
    # script on Airflow's origin when online) and print values unescaped: never served.
    # Their old addresses lead to the quality page, which shows the same validations.
    @app.get("/data-docs/", name="data_docs")
    @app.get("/data-docs/{file_path:path}", name="data_docs_file")
    def data_docs(request: Request, file_path: str = ""):
        base = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(f"{base}/quality", status_code=307)

    @app.middleware("http")
    async def content_security_policy(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


def _notes(figures, style: NumberStyle, rounded: bool, months=None) -> list[str]:
    """Partial months (of the period, or of the charted `months`), and the YouTube rounding
    caveat when `rounded` (a figure of a platform with rounded counts is shown), in the
    language of `style`."""
    notes = partial_notes(figures, style, months=months)
    if rounded:
        notes.append(chart_texts.text("youtube_rounding", style))
    return notes


def _sandbox_notice(paths: config.Paths) -> str | None:
    """The synthetic-data banner when the warehouse holds any sandbox figure (every page
    shows it, whatever it is about); None without one, or without a warehouse to ask."""
    try:
        with read_only_connection(paths) as con:
            return sandbox_notice(figure_sources(con))
    except (WarehouseUnavailable, duckdb.Error):
        return None


class BadParameter(ValueError):
    """A query parameter no page can be shown for (HTTP 400, one sentence)."""


def _chosen_year(con, text: str | None, style: NumberStyle | None = None) -> int:
    """The `?year=` asked for, else the latest year with data.

    BadParameter for anything but a year of four digits; UserInputError (404) for a year
    the marts have no row for, or when they have none at all.
    """
    words = (style or style_for("en")).text
    if text is None or text == "":
        year = latest_year(con)
        if year is None:
            raise UserInputError(words.text("ui.error.no_marts"))
        return year
    if not (len(text) == 4 and text.isascii() and text.isdigit()) or int(text) < 1000:
        raise BadParameter(words.text("ui.error.bad_year", value=repr(text[:20])))
    year = int(text)
    if not table_exists(con, "marts.agency_annual"):
        raise UserInputError(words.text("ui.error.no_marts"))
    if not con.execute("select count(*) from marts.agency_annual where year = ?", [year]).fetchone()[0]:
        raise UserInputError(words.text("ui.error.no_year", year=year))
    return year


def _chosen_page(text: str | None, style: NumberStyle) -> int:
    """The `?page=` asked for (1 without one); BadParameter for anything but a whole
    number from 1 (a page after the last is checked once the boards are counted)."""
    if text is None or text == "":
        return 1
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or int(text) < 1:
        raise BadParameter(style.text.text("ui.error.bad_page", value=repr(text[:20])))
    return int(text)


def _page_count(total: int) -> int:
    return max(1, -(-total // BOARD_ROWS))


def _paging(base: str, year: int, lang_query: str, platform: str | None, number: int, total: int,
            style: NumberStyle) -> dict:
    """A board's place in its pages: 'rows 51–100 of 2,000' and the links to the pages
    before and after (a platform's board pages alone; the agencies' pages every board)."""
    words = style.text
    first, last = (number - 1) * BOARD_ROWS + 1, min(number * BOARD_ROWS, total)

    def link(to: int) -> str:
        params = {"year": year, **({"platform": platform} if platform else {}), "page": to}
        return f"{base}/?{urlencode(params)}{'&' + lang_query if lang_query else ''}"

    return {
        "position": (words.text("ui.leaderboard.rows", first=exact(first, style=style),
                                last=exact(last, style=style), total=exact(total, style=style))
                     if first <= total else words.text("ui.leaderboard.no_rows_here",
                                                       total=exact(total, style=style))),
        "previous": link(number - 1) if number > 1 else None,
        "next": link(number + 1) if last < total else None,
    }


def _retired(status: str | None, reason: str | None) -> bool:
    """An account skipped because its registry dates have ended: retired on purpose, no error."""
    return status == "skipped" and (reason or "").startswith("inactive on ")


def _to_minute(value) -> str:
    """A time as a reader wants it: to the minute, in UTC ('2026-10-31 06:05 UTC')."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return str(value)


def _json_list(value) -> list[str]:
    """validation_runs keeps failures and warnings as JSON lists of text."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def _board(board, base: str, year: int, style: NumberStyle, lang_query: str = "") -> dict:
    """A leaderboard for the template, its rows already HTML in the language of `style`
    (every cell escaped; the second cell links to the agency's page, keeping `lang_query`).
    A template loop costs seconds at 10,000 rows."""
    numeric = [kind in NUMERIC_KINDS for _, kind in board.columns]
    links: dict[str, str] = {}
    cell_open = ['<td class="num">' if n else "<td>" for n in numeric]
    lines = []
    and_lang = f"&{lang_query}" if lang_query else ""
    for agency_id, cells in zip(board.agency_ids, board.formatted_rows(style), strict=True):
        if agency_id not in links:
            links[agency_id] = escape(f"{base}/agency/{quote(agency_id, safe='')}?year={year}{and_lang}")
        parts = [f'<td><a href="{links[agency_id]}">{escape(cell)}</a></td>' if i == 1
                 else f"{cell_open[i]}{escape(cell)}</td>" for i, cell in enumerate(cells)]
        lines.append("<tr>" + "".join(parts) + "</tr>")
    return {"title": board.title, "columns": [name for name, _ in board.columns], "numeric": numeric,
            "body": Markup("\n".join(lines))}


def _exact(value, decimals: int = 0, *, style: NumberStyle) -> str:
    return exact(value, decimals, style)


def _report_name(paths: config.Paths, language: str | None = None) -> str | None:
    report = latest_report(paths.home, language)
    return report.name if report else None


def _serve_inside(root: Path, relative: str) -> FileResponse:
    """A file under `root`, never outside it (no '..', no symlink escape)."""
    root = root.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise HTTPException(status_code=404, detail=f"{relative} not found")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if target.suffix == ".md":
        media_type = "text/markdown"
    return FileResponse(target, media_type=media_type)
