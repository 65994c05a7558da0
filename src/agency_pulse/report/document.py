"""The report's content, built once from the figures and rendered as HTML and Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from agency_pulse.report import charts
from agency_pulse.report.chart_texts import text
from agency_pulse.report.figures import AgencyFigures, ReportFigures
from agency_pulse.report.leaderboards import Leaderboard, overall_leaderboard, platform_leaderboards
from agency_pulse.report.narrative import account_label, agency_paragraph, missing_data_reason
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
    rules_note: str = field(default=(
        "Paragraphs follow fixed rules (see Methods at the end): growth is compared between "
        "the last count before the period and the last count inside it; a page first "
        "counted in the period is new, never a loss."))
    methods: list[str] = field(default_factory=lambda: list(METHODS))


# The rules behind every figure and sentence, in the reader's words (issue 14: the report
# carries them itself; a reader cannot follow a link into the package).
METHODS = (
    "Sources. Figures come from the platforms' public interfaces (a daily count of each "
    "account's followers and the posts it published) and, where a platform gives none, from "
    "counts observed by hand. Only the monitoring's own tables are used; nothing is estimated.",
    "Follower growth compares the last count before the period with the last count inside "
    "it. An agency's growth counts only the pages counted at both ends, so a page first "
    "counted during the period is new in the data, never a gain or a loss.",
    "Words for change: \"doubled\", \"tripled\" or \"grew 5-fold\" when followers grew by a "
    "ratio of 1.9 or more; \"grew\" at +2% or more; \"held steady\" within 2% either way; "
    "\"fell\" at −2% or less, with \"less than half\" when half or more were lost.",
    "Rounded figures say how they were rounded: \"nearly 23 thousand\" is a little under "
    "23,000, \"over 10 thousand\" a little above; the exact figures follow in brackets.",
    "Posts per week divide the period's posts by the weeks covered; a period still running "
    "counts only the days up to its last day with data.",
    "Engagement per post is reactions, comments and shares per post, where the platform "
    "gives them; it is \"not available\" where the platform gives none (Telegram), never 0.",
    "Activity at the period's end: active (4 or more posts in the last 30 days), posting "
    "rarely (the last post within 90 days), quiet (91 to 365 days), dormant (over a year, "
    "or never posted).",
    "Missing data: an account listed for an agency but without figures in the period is "
    "named under Data coverage with the reason its latest collection gave. An account "
    "retired on purpose is no longer collected; that is not an error.",
    "Dates and months are UTC.",
)


def build_document(figures: ReportFigures, style: NumberStyle = ENGLISH) -> ReportDocument:
    period = figures.period
    label = str(period.start.year) if period.kind == "annual" else month_name(period.start, style)
    kind = "Annual" if period.kind == "annual" else "Monthly"
    return ReportDocument(
        title=f"Agency Pulse: {kind.lower()} report {label}",
        period_label=label,
        notice=sandbox_notice(figures.sources),
        coverage=coverage_notes(figures, style),
        leaderboards=[overall_leaderboard(figures), *platform_leaderboards(figures)],
        charts=build_charts(figures, style),
        agencies=[AgencySection(a.agency_id, a.display_name, agency_paragraph(a, figures, style))
                  for a in figures.agencies])


def build_charts(figures: ReportFigures, style: NumberStyle = ENGLISH) -> list[Chart]:
    ranked = [a for a in figures.agencies if a.row is not None][:MAX_CHART_SERIES]
    followers = {a.name_en or a.name: account_series(a) for a in ranked}
    posts: dict[date, float | None] = {}
    for agency in figures.agencies:
        for r in agency.monthly:
            if r.get("posts") is not None:
                posts[r["month"]] = (posts.get(r["month"]) or 0) + r["posts"]
    growth = [(a.name_en or a.name, a.row["followers_growth_pct"]) for a in figures.agencies
              if a.row is not None and a.row.get("followers_growth_pct") is not None]
    followers_title, posts_title = text("agency_followers"), text("all_posts")
    growth_title = text("growth_ranking")
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
        notes.append(text(key, month=month_name(month, style), day=long_date(day, style)))
    return notes


def coverage_notes(figures: ReportFigures, style: NumberStyle = ENGLISH) -> list[str]:
    """Which accounts had no data (and why, from the extract log when it exists)."""
    accounts = [a for agency in figures.agencies for a in agency.accounts]
    with_data = [a for a in accounts if a.row is not None]
    notes = [f"Data from {long_date(figures.period.start, style)} to "
             f"{long_date(figures.covered_until, style)}: {len(with_data)} of {len(accounts)} "
             f"accounts have figures."]
    for agency in figures.agencies:
        for account in agency.accounts:
            name = agency.name_en or agency.name
            if account.row is None:
                notes.append(f"No data: {account_label(account)} ({name}): {missing_data_reason(account)}.")
            elif account.row.get("followers_end") is None:
                notes.append(f"No follower count: {account_label(account)} ({name}).")
            elif account.row.get("posts") is None:
                notes.append(f"Posts not tracked: {account_label(account)} ({name}).")
    notes += partial_notes(figures, style)
    if any(a.platform == "youtube" and a.row is not None for a in accounts):
        notes.append(text("youtube_rounding"))
    if not any(a.extract_status for a in accounts):
        notes.append("The warehouse has no extract log for these accounts, so reasons for gaps are not known.")
    return notes
