"""Leaderboards: overall (agencies) and per platform (accounts), with ranks.

Ranks follow the marts: agencies by `rank_followers`; accounts of a platform by
followers at the period's end (ties share a rank). Posts per week divide the period's
posts by the weeks covered so far (a running year counts only its months with data);
engagement per post is engagement / posts. Headers, titles, agency names and activity
words are in the language of the `NumberStyle` given.
"""

from __future__ import annotations

from dataclasses import dataclass

from agency_pulse.config import PLATFORMS
from agency_pulse.report import chart_texts
from agency_pulse.report.caveats import within_rounding
from agency_pulse.report.figures import ReportFigures
from agency_pulse.report.narrative import agency_name, platform_label
from agency_pulse.report.numbers import ENGLISH, NumberStyle, exact, percent, signed

# (header, kind). Kinds decide formatting: text, rank, count, change, pct, rate, and status
# (an activity status of the marts, shown as a word of the reader's language).
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
        return style.not_available
    if isinstance(value, Caveat):
        return chart_texts.text(value.key, style)
    if kind == "status":
        return style.text.word("status", value)
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
    """A cell shown as words instead of its figure (see `report.caveats`): `key` names the
    words in `chart_texts`, written in the language the board is formatted in."""

    key: str


# (catalog key under "column.", kind)
OVERALL_COLUMNS: list[Column] = [
    ("rank", "rank"), ("agency", "text"), ("platforms", "text"), ("followers", "count"),
    ("change", "change"), ("growth", "pct"), ("growth_rank", "rank"), ("posts_per_week", "rate"),
    ("engagement_per_post", "rate")]
PLATFORM_COLUMNS: list[Column] = [
    ("rank", "rank"), ("agency", "text"), ("account", "text"), ("followers", "count"),
    ("change", "change"), ("growth", "pct"), ("posts_per_week", "rate"),
    ("engagement_per_post", "rate"), ("activity", "status")]


def _columns(keys: list[Column], style: NumberStyle) -> list[Column]:
    return [(style.text.text(f"column.{key}"), kind) for key, kind in keys]


def overall_leaderboard(figures: ReportFigures, style: NumberStyle = ENGLISH) -> Leaderboard:
    rows, ids = [], []
    for agency in figures.agencies:
        row = agency.row
        if row is None:
            continue
        posts = row.get("posts")
        rows.append([
            row.get("rank_followers"), agency_name(agency, style),
            ", ".join(platform_label(p) for p in (row.get("platforms") or [])),
            row.get("followers_end"), row.get("followers_change"), row.get("followers_growth_pct"),
            row.get("rank_growth"),
            posts / figures.weeks if posts is not None else None,
            _engagement_per_post(agency)])
        ids.append(agency.agency_id)
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0] is None, rows[i][0] or 0, rows[i][1]))
    return Leaderboard(style.text.text("board.overall"), _columns(OVERALL_COLUMNS, style),
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


def platform_leaderboards(figures: ReportFigures, style: NumberStyle = ENGLISH) -> list[Leaderboard]:
    names = {a.agency_id: agency_name(a, style) for a in figures.agencies}
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
            rows.append(_platform_row(platform, r, names, figures.weeks,
                                      rank if followers is not None else None))
            ids.append(r["agency_id"])
        boards.append(Leaderboard(platform_label(platform), _columns(PLATFORM_COLUMNS, style), rows, ids))
    return boards


def platform_page(con, year: int, platform: str, names: dict[str, str], weeks: float,
                  style: NumberStyle = ENGLISH, *, limit: int = 50, offset: int = 0) -> tuple[Leaderboard, int]:
    """One page of a platform's leaderboard for `year`, and how many accounts the whole
    board holds. Ranks are computed by DuckDB over every account of the platform (the same
    ranks as `platform_leaderboards`: followers at the period's end, ties share a rank, no
    rank without a figure); only the `limit` rows from `offset` are read. `names`: agency
    id -> name in the reader's language."""
    found = con.execute("""
        select *, case when followers_end is not null then rank() over (
                   order by followers_end desc nulls last) end as board_rank,
               count(*) over () as board_total
        from marts.account_annual where year = ? and platform = ?
        order by followers_end desc nulls last, agency_id, handle
        limit ? offset ?""", [year, platform, limit, offset])
    header = [d[0] for d in found.description]
    page = [dict(zip(header, r, strict=True)) for r in found.fetchall()]
    if page:
        total = page[0]["board_total"]
    else:
        total = con.execute("select count(*) from marts.account_annual where year = ? and platform = ?",
                            [year, platform]).fetchone()[0]
    rows, ids = [], []
    for r in page:
        rows.append(_platform_row(platform, r, names, weeks, r["board_rank"]))
        ids.append(r["agency_id"])
    return Leaderboard(platform_label(platform), _columns(PLATFORM_COLUMNS, style), rows, ids), total


def _platform_row(platform: str, r: dict, names: dict[str, str], weeks: float, rank) -> list:
    posts, engagement = r.get("posts"), r.get("engagement")
    change, growth = r.get("followers_change"), r.get("followers_growth_pct")
    if within_rounding(platform, r):
        change = growth = Caveat("within_rounding")
    return [rank, names.get(r["agency_id"], r["agency_id"]), f"@{r['handle']}", r.get("followers_end"),
            change, growth, posts / weeks if posts is not None else None,
            engagement / posts if posts and engagement is not None else None, r.get("activity_status")]
