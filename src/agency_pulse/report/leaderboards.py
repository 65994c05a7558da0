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
from agency_pulse.report.figures import AgencyFigures, Period, ReportFigures, rows, table_exists
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
    """Every agency with a mart row for the period, by `rank_followers` (the report's board;
    `overall_page` gives one page of the same board from the warehouse)."""
    rows, ids = [], []
    for agency in figures.agencies:
        if agency.row is None:
            continue
        rows.append(_overall_row(agency.row, agency_name(agency, style), figures.weeks,
                                 *_engagement_given(agency)))
        ids.append(agency.agency_id)
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0] is None, rows[i][0] or 0, rows[i][1]))
    return Leaderboard(style.text.text("board.overall"), _columns(OVERALL_COLUMNS, style),
                       [rows[i] for i in order], [ids[i] for i in order])


def _overall_row(row: dict, name: str, weeks: float, posts_with_engagement: int | None,
                 engagement: int | None) -> list:
    """The cells of an agency's row of the overall board (OVERALL_COLUMNS), from its mart
    row, its name in the reader's language, the period's weeks, and the posts and
    engagement of its accounts whose platform gives engagement (see `_engagement_given`)."""
    posts = row.get("posts")
    return [row.get("rank_followers"), name,
            ", ".join(platform_label(p) for p in (row.get("platforms") or [])),
            row.get("followers_end"), row.get("followers_change"), row.get("followers_growth_pct"),
            row.get("rank_growth"),
            posts / weeks if posts is not None else None,
            engagement / posts_with_engagement if posts_with_engagement else None]


def _engagement_given(agency) -> tuple[int, int]:
    """The posts and the engagement of the agency's accounts whose platform gives
    engagement, for engagement per post: a Telegram channel's posts (no engagement
    figures) neither count as zero nor dilute the others'; no such posts: not available.
    `_ENGAGEMENT_GIVEN_SQL` is the same rule over the account mart."""
    posts = engagement = 0
    for account in agency.accounts:
        row = account.row or {}
        if row.get("engagement") is not None and row.get("posts"):
            posts += row["posts"]
            engagement += row["engagement"]
    return posts, engagement


# The registry's agencies (names for agencies whose mart row has none), or no row at all
# when the warehouse has no `core.agencies`.
_NO_REGISTRY = ("(select null::varchar as agency_id, null::varchar as name, null::varchar as name_en, "
                "null::date as active_from, null::date as active_to where false)")
# An agency's names as `load_figures` gives them (`g`: its mart row, `r`: its registry row):
# the mart's, else the registry's, else its id; `name_en` null when neither has one.
_NAMES_SQL = ("coalesce(nullif(g.agency_name, ''), nullif(r.name, ''), g.agency_id, r.agency_id) as name, "
              "coalesce(nullif(g.agency_name_en, ''), nullif(r.name_en, '')) as name_en")
# `_engagement_given` over the account mart rows `a`, grouped by agency.
_ENGAGEMENT_GIVEN_SQL = ("sum(a.posts) filter (where a.engagement is not null and a.posts <> 0) "
                         "as posts_with_engagement, "
                         "sum(a.engagement) filter (where a.engagement is not null and a.posts <> 0) "
                         "as engagement_given")


def _registry(con) -> str:
    """The relation to name agencies from: `core.agencies`, or `_NO_REGISTRY`."""
    return "core.agencies" if table_exists(con, "core.agencies") else _NO_REGISTRY


def _named(r: dict, style: NumberStyle) -> str:
    """`agency_name` of a row holding `_NAMES_SQL`'s columns."""
    return agency_name(AgencyFigures(agency_id=r["agency_id"], name=r["name"], name_en=r["name_en"],
                                     successor_of=[], row=None, accounts=[]), style)


def overall_page(con, period: Period, weeks: float, style: NumberStyle = ENGLISH, *,
                 limit: int = 50, offset: int = 0) -> tuple[Leaderboard, int]:
    """One page of the overall board for `period`, and how many agencies the whole board
    holds: the rows `overall_leaderboard` gives for the same warehouse, in its order
    (rank, then the agency's name in the reader's language), `limit` of them from
    `offset`. DuckDB orders every agency; only the page's rows (and its agencies' account
    rows, for engagement per post) reach Python. `weeks`: the period's (`ReportFigures.weeks`)."""
    grain, suffix, relation = period.grain, period.kind, _registry(con)
    page = rows(con, f"""
        with named as (
            select g.*, {_NAMES_SQL}
            from marts.agency_{suffix} g left join {relation} r on r.agency_id = g.agency_id
            where g.{grain} = ?),
        board as (
            select *, row_number() over (
                       order by rank_followers nulls last,
                                case when ? then name else coalesce(name_en, name) end,
                                coalesce(name_en, name), agency_id) as board_position,
                   count(*) over () as board_total
            from named),
        shown as (select * from board where board_position > ? and board_position <= ?)
        select shown.*, e.posts_with_engagement, e.engagement_given
        from shown left join (
            select a.agency_id, {_ENGAGEMENT_GIVEN_SQL}
            from marts.account_{suffix} a
            where a.{grain} = ? and a.agency_id in (select agency_id from shown)
            group by a.agency_id) e on e.agency_id = shown.agency_id
        order by shown.board_position""",
        [period.key, style.language == "az", offset, offset + limit, period.key])
    if page:
        total = page[0]["board_total"]
    else:
        total = con.execute(f"select count(*) from marts.agency_{suffix} where {grain} = ?",
                            [period.key]).fetchone()[0]
    cells = [_overall_row(r, _named(r, style), weeks, r["posts_with_engagement"], r["engagement_given"])
             for r in page]
    return (Leaderboard(style.text.text("board.overall"), _columns(OVERALL_COLUMNS, style), cells,
                        [r["agency_id"] for r in page]), total)


def growth_ranking(con, period: Period, style: NumberStyle = ENGLISH, *,
                   shown: int) -> tuple[list[tuple[str, float]], int]:
    """The agencies' follower growth for `charts.ranking_chart(..., total=)`: (name in the
    reader's language, growth %) of the `shown` largest and the `shown` smallest (all of
    them when there are no more than twice `shown`), largest first, and how many agencies
    have a growth figure. Ties keep the report's order (rank, then name), as the report's
    chart orders the same items."""
    grain, suffix, relation = period.grain, period.kind, _registry(con)
    ranked = rows(con, f"""
        with named as (
            select g.agency_id, g.followers_growth_pct, g.rank_followers, {_NAMES_SQL}
            from marts.agency_{suffix} g left join {relation} r on r.agency_id = g.agency_id
            where g.{grain} = ? and g.followers_growth_pct is not null),
        ranked as (
            select *, row_number() over (
                       order by followers_growth_pct desc, rank_followers nulls last,
                                coalesce(name_en, name), agency_id) as position,
                   count(*) over () as ranked_total
            from named)
        select * from ranked where position <= ? or position > ranked_total - ?
        order by position""", [period.key, shown, shown])
    return ([(_named(r, style), r["followers_growth_pct"]) for r in ranked],
            ranked[0]["ranked_total"] if ranked else 0)


def agency_names(con, period: Period, agency_ids: list[str], style: NumberStyle = ENGLISH) -> dict[str, str]:
    """agency id -> name in the reader's language, for the agencies given, as the names
    `load_figures`' agencies carry (an agency with no mart row for the period and not in
    the registry that period: its id)."""
    if not agency_ids:
        return {}
    grain, suffix, relation = period.grain, period.kind, _registry(con)
    found = rows(con, f"""
        select i.agency_id as wanted, {_NAMES_SQL},
               g.agency_id is not null or (r.agency_id is not null
                   and (r.active_from is null or r.active_from <= ?)
                   and (r.active_to is null or r.active_to >= ?)) as listed
        from (select unnest(?::varchar[]) as agency_id) i
        left join marts.agency_{suffix} g on g.agency_id = i.agency_id and g.{grain} = ?
        left join {relation} r on r.agency_id = i.agency_id""",
        [period.end, period.start, list(dict.fromkeys(agency_ids)), period.key])
    names = {}
    for r in found:
        names[r["wanted"]] = _named({**r, "agency_id": r["wanted"]}, style) if r["listed"] else r["wanted"]
    return names


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


def platform_page(con, year: int, platform: str, names: dict[str, str] | None, weeks: float,
                  style: NumberStyle = ENGLISH, *, limit: int = 50, offset: int = 0) -> tuple[Leaderboard, int]:
    """One page of a platform's leaderboard for `year`, and how many accounts the whole
    board holds. Ranks are computed by DuckDB over every account of the platform (the same
    ranks as `platform_leaderboards`: followers at the period's end, ties share a rank, no
    rank without a figure); only the `limit` rows from `offset` are read. `names`: agency
    id -> name in the reader's language; None: read those of the page's agencies
    (`agency_names`)."""
    page = rows(con, """
        select *, case when followers_end is not null then rank() over (
                   order by followers_end desc nulls last) end as board_rank,
               count(*) over () as board_total
        from marts.account_annual where year = ? and platform = ?
        order by followers_end desc nulls last, agency_id, handle
        limit ? offset ?""", [year, platform, limit, offset])
    if page:
        total = page[0]["board_total"]
    else:
        total = con.execute("select count(*) from marts.account_annual where year = ? and platform = ?",
                            [year, platform]).fetchone()[0]
    if names is None:
        names = agency_names(con, Period.year(year), [r["agency_id"] for r in page], style)
    cells = [_platform_row(platform, r, names, weeks, r["board_rank"]) for r in page]
    return (Leaderboard(platform_label(platform), _columns(PLATFORM_COLUMNS, style), cells,
                        [r["agency_id"] for r in page]), total)


def _platform_row(platform: str, r: dict, names: dict[str, str], weeks: float, rank) -> list:
    posts, engagement = r.get("posts"), r.get("engagement")
    change, growth = r.get("followers_change"), r.get("followers_growth_pct")
    if within_rounding(platform, r):
        change = growth = Caveat("within_rounding")
    return [rank, names.get(r["agency_id"], r["agency_id"]), f"@{r['handle']}", r.get("followers_end"),
            change, growth, posts / weeks if posts is not None else None,
            engagement / posts if posts and engagement is not None else None, r.get("activity_status")]
