"""The report's content, built once from the figures and rendered as HTML and Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from agency_pulse.report import caveats, chart_texts, charts
from agency_pulse.report.figures import AgencyFigures, ReportFigures
from agency_pulse.report.leaderboards import Leaderboard, overall_leaderboard, platform_leaderboards
from agency_pulse.report.narrative import (
    account_label,
    agency_heading,
    agency_name,
    agency_paragraph,
    missing_data_reason,
)
from agency_pulse.report.numbers import ENGLISH, NumberStyle, long_date, month_name
from agency_pulse.report.provenance import sandbox_notice

MAX_CHART_SERIES = 8


@dataclass
class Chart:
    name: str   # file stem for the Markdown copy
    title: str
    svg: str


@dataclass
class AgencySection:
    agency_id: str
    heading: str
    paragraph: str


@dataclass
class ReportDocument:
    title: str
    period_label: str
    coverage: list[str]
    leaderboards: list[Leaderboard]
    charts: list[Chart]
    agencies: list[AgencySection]
    notice: str | None = None            # the synthetic-data banner, when any figure is
    rules_note: str = ""
    methods: list[str] = field(default_factory=list)
    language: str = "en"
    headings: dict[str, str] = field(default_factory=dict)  # section -> heading, see HEADINGS


# The rules behind every figure and sentence, in the reader's words (issue 14: the report
# carries them itself; a reader cannot follow a link into the package): catalog keys.
METHOD_KEYS = ("methods.sources", "methods.growth", "methods.words", "methods.rounding",
               "methods.posts_per_week", "methods.engagement", "methods.activity",
               "methods.missing", "methods.dates")
METHODS = tuple(ENGLISH.text.text(key) for key in METHOD_KEYS)
HEADINGS = ("coverage", "leaderboards", "charts", "agencies", "methods")


def build_document(figures: ReportFigures, style: NumberStyle = ENGLISH) -> ReportDocument:
    """The report's content in the language of `style`."""
    text = style.text
    period = figures.period
    label = str(period.start.year) if period.kind == "annual" else month_name(period.start, style)
    return ReportDocument(
        title=text.text(f"report.title.{period.kind}", period=label),
        period_label=label,
        notice=text.text("notice.synthetic") if sandbox_notice(figures.sources) else None,
        rules_note=text.text("report.rules_note"),
        methods=[text.text(key) for key in METHOD_KEYS],
        language=style.language,
        headings={name: text.text(f"report.heading.{name}") for name in HEADINGS},
        coverage=coverage_notes(figures, style),
        leaderboards=[_marked_board(board, figures, style)
                      for board in [overall_leaderboard(figures, style), *platform_leaderboards(figures, style)]],
        charts=build_charts(figures, style),
        agencies=[AgencySection(a.agency_id, agency_heading(a, style), agency_paragraph(a, figures, style))
                  for a in figures.agencies])


def build_charts(figures: ReportFigures, style: NumberStyle = ENGLISH) -> list[Chart]:
    ranked = [a for a in figures.agencies if a.row is not None][:MAX_CHART_SERIES]
    followers = {agency_name(a, style): account_series(a) for a in ranked}
    posts: dict[date, float | None] = {}
    for agency in figures.agencies:
        for r in agency.monthly:
            if r.get("posts") is not None:
                posts[r["month"]] = (posts.get(r["month"]) or 0) + r["posts"]
    growth = [(agency_name(a, style), a.row["followers_growth_pct"]) for a in figures.agencies
              if a.row is not None and a.row.get("followers_growth_pct") is not None]
    followers_title = chart_texts.text("agency_followers", style)
    posts_title = chart_texts.text("all_posts", style)
    growth_title = partial_title(chart_texts.text("growth_ranking", style), figures, style)
    return [
        Chart("followers", followers_title,
              charts.agency_chart(followers_title, figures.months, followers, style,
                                  partial=figures.partial)),
        Chart("posts", posts_title,
              charts.bar_chart(posts_title, figures.months, posts, style, partial=figures.partial)),
        Chart("growth", growth_title, charts.ranking_chart(growth_title, growth, style)),
    ]


def account_series(agency: AgencyFigures) -> dict[str, dict[date, float | None]]:
    """Each account's month-end followers (the agency chart joins only pages counted at
    both ends of a step)."""
    return {a.account_id: {r["month"]: r.get("followers_end") for r in a.monthly}
            for a in agency.accounts}


def partial_notes(figures: ReportFigures, style: NumberStyle = ENGLISH,
                  months: list[date] | None = None) -> list[str]:
    """One sentence per partial month inside the period or the charts' months (`months`,
    default `figures.months`)."""
    notes = []
    shown = set(figures.months if months is None else months)
    for month, (side, day) in sorted(figures.partial.items()):
        if month not in shown and not (figures.period.start <= month <= figures.period.end):
            continue
        key = "partial_start" if side == "start" else "partial_end"
        note = chart_texts.text(key, style, month=month_name(month, style), day=long_date(day, style))
        # the sentence may open with a month, which Azerbaijani writes in lower case
        notes.append(note[:1].upper() + note[1:])
    return notes


def partial_title(title: str, figures: ReportFigures, style: NumberStyle = ENGLISH) -> str:
    """The title of a table or chart that holds the period's figures alone (a leaderboard,
    the growth ranking), marked when the period is a partial month (a monthly report of the
    backfill window's first month or of the running month): every cell below it is a
    partial month's figure. Charts along months mark their partial months themselves."""
    cut = figures.partial.get(figures.period.start) if figures.period.kind == "monthly" else None
    if cut is None:
        return title
    side, day = cut
    if side == "start":
        return chart_texts.text("partial_title_start", style, title=title, day=long_date(day, style))
    return chart_texts.text("partial_title_end", style, title=title, day=long_date(day, style))


def _marked_board(board: Leaderboard, figures: ReportFigures, style: NumberStyle) -> Leaderboard:
    board.title = partial_title(board.title, figures, style)
    return board


def coverage_notes(figures: ReportFigures, style: NumberStyle = ENGLISH) -> list[str]:
    """Which accounts had no data (and why, from the extract log when it exists)."""
    text = style.text
    accounts = [a for agency in figures.agencies for a in agency.accounts]
    with_data = [a for a in accounts if a.row is not None]
    notes = [text.plural("coverage.summary", len(accounts), start=long_date(figures.period.start, style),
                         end=long_date(figures.covered_until, style), with_data=len(with_data),
                         total=len(accounts))]
    for agency in figures.agencies:
        for account in agency.accounts:
            names = {"account": account_label(account), "agency": agency_name(agency, style)}
            if account.row is None:
                notes.append(text.text("coverage.no_data", reason=missing_data_reason(account, style), **names))
            elif account.row.get("followers_end") is None:
                notes.append(text.text("coverage.no_followers", **names))
            elif account.row.get("posts") is None:
                notes.append(text.text("coverage.posts_not_tracked", **names))
    notes += partial_notes(figures, style)
    if any(caveats.has_rounded_counts(a.platform) and a.row is not None for a in accounts):
        notes.append(chart_texts.text("youtube_rounding", style))
    if not any(a.extract_status for a in accounts):
        notes.append(text.text("coverage.no_extract_log"))
    return notes
