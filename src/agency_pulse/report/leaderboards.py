"""Leaderboards: overall (agencies) and per platform (accounts), with ranks.

Ranks follow the marts: agencies by `rank_followers`; accounts of a platform by
followers at the period's end (ties share a rank). Posts per week divide the period's
posts by the weeks covered so far (a running year counts only its months with data);
engagement per post is engagement / posts.
"""

from __future__ import annotations

from dataclasses import dataclass

from agency_pulse.config import PLATFORMS
from agency_pulse.report.caveats import within_rounding
from agency_pulse.report.chart_texts import text
from agency_pulse.report.figures import ReportFigures
from agency_pulse.report.narrative import platform_label
from agency_pulse.report.numbers import ENGLISH, NOT_AVAILABLE, NumberStyle, exact, percent, signed

# Column kinds decide formatting: text, rank, count, change, pct, rate.
Column = tuple[str, str]


@dataclass
class Leaderboard:
    title: str
    columns: list[Column]
    rows: list[list]
    agency_ids: list[str]  # the agency of each row, for links

    def formatted_rows(self, style: NumberStyle = ENGLISH) -> list[list[str]]:
        return [[format_cell(kind, value, style) for (_, kind), value in zip(self.columns, row, strict=True)]
                for row in self.rows]


def format_cell(kind: str, value, style: NumberStyle = ENGLISH) -> str:
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, Caveat):
        return value.text
    if kind == "count" or kind == "rank":
        return exact(value, style=style)
    if kind == "change":
        return signed(value, style=style)
    if kind == "pct":
        return percent(value, style)
    if kind == "rate":
        return exact(value, 1, style)
    return str(value)


@dataclass(frozen=True)
class Caveat:
    """A cell shown as words instead of its figure (see `report.caveats`)."""

    text: str


OVERALL_COLUMNS: list[Column] = [
    ("Rank", "rank"), ("Agency", "text"), ("Platforms", "text"), ("Followers", "count"),
    ("Change", "change"), ("Growth", "pct"), ("Growth rank", "rank"), ("Posts / week", "rate"),
    ("Engagement / post", "rate")]
PLATFORM_COLUMNS: list[Column] = [
    ("Rank", "rank"), ("Agency", "text"), ("Account", "text"), ("Followers", "count"),
    ("Change", "change"), ("Growth", "pct"), ("Posts / week", "rate"),
    ("Engagement / post", "rate"), ("Activity", "text")]


def overall_leaderboard(figures: ReportFigures) -> Leaderboard:
    rows, ids = [], []
    for agency in figures.agencies:
        row = agency.row
        if row is None:
            continue
        posts = row.get("posts")
        rows.append([
            row.get("rank_followers"), agency.name_en or agency.name,
            ", ".join(platform_label(p) for p in (row.get("platforms") or [])),
            row.get("followers_end"), row.get("followers_change"), row.get("followers_growth_pct"),
            row.get("rank_growth"),
            posts / figures.weeks if posts is not None else None,
            _engagement_per_post(agency)])
        ids.append(agency.agency_id)
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0] is None, rows[i][0] or 0, rows[i][1]))
    return Leaderboard("All platforms: agencies", OVERALL_COLUMNS,
                       [rows[i] for i in order], [ids[i] for i in order])


def _engagement_per_post(agency) -> float | None:
    """Engagement per post over the accounts whose platform gives engagement: a Telegram
    channel's posts (no engagement figures) neither count as zero nor dilute the others';
    None (not available) when no account of the agency gives engagement."""
    posts = engagement = 0
    for account in agency.accounts:
        row = account.row or {}
        if row.get("engagement") is not None and row.get("posts"):
            posts += row["posts"]
            engagement += row["engagement"]
    return engagement / posts if posts else None


def platform_leaderboards(figures: ReportFigures) -> list[Leaderboard]:
    names = {a.agency_id: a.name_en or a.name for a in figures.agencies}
    boards = []
    for platform in PLATFORMS:
        accounts = [r for r in figures.account_rows if r["platform"] == platform]
        if not accounts:
            continue
        accounts.sort(key=lambda r: (r.get("followers_end") is None, -(r.get("followers_end") or 0)))
        rows, ids, previous, rank = [], [], None, 0
        for position, r in enumerate(accounts, start=1):
            followers = r.get("followers_end")
            if followers != previous:
                rank, previous = position, followers
            posts, engagement = r.get("posts"), r.get("engagement")
            change, growth = r.get("followers_change"), r.get("followers_growth_pct")
            if within_rounding(platform, r):
                change = growth = Caveat(text("within_rounding"))
            rows.append([
                rank if followers is not None else None, names.get(r["agency_id"], r["agency_id"]),
                f"@{r['handle']}", followers, change, growth,
                posts / figures.weeks if posts is not None else None,
                engagement / posts if posts and engagement is not None else None,
                r.get("activity_status")])
            ids.append(r["agency_id"])
        boards.append(Leaderboard(platform_label(platform), PLATFORM_COLUMNS, rows, ids))
    return boards
