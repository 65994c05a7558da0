"""The overall board's page read from the warehouse (`overall_page`, the UI's) is the
report's board (`overall_leaderboard`) cut to the page: the same ranks, rows, order and
engagement per post, in either language; and the growth ranking's top and bottom, the
page's agency names and the rounding caveat come from SQL the way the report gets them."""

from __future__ import annotations

import pytest

from agency_pulse import config
from agency_pulse.report import charts
from agency_pulse.report.caveats import has_rounded_counts_in
from agency_pulse.report.figures import Period, load_figures, load_frame
from agency_pulse.report.leaderboards import (
    agency_names,
    growth_ranking,
    overall_leaderboard,
    overall_page,
)
from agency_pulse.report.narrative import agency_name
from agency_pulse.report.numbers import style_for
from agency_pulse.report.warehouse_snapshot import read_only_connection

YEAR = Period.year(2026)


@pytest.fixture
def con(crowded_demo_home):
    with read_only_connection(config.paths()) as connection:
        yield connection


@pytest.mark.parametrize("language", ["en", "az"])
def test_every_page_is_the_reports_board_cut_to_it(con, language):
    style = style_for(language)
    figures = load_figures(con, YEAR)
    board = overall_leaderboard(figures, style)
    assert len(board.rows) == 6
    for size in (1, 2, 4, 50):
        for offset in range(0, 7, size):
            page, total = overall_page(con, YEAR, figures.weeks, style, limit=size, offset=offset)
            assert total == 6
            assert page.rows == board.rows[offset:offset + size]
            assert page.agency_ids == board.agency_ids[offset:offset + size]
            assert page.formatted_rows(style) == board.formatted_rows(style)[offset:offset + size]
            assert (page.title, page.columns) == (board.title, board.columns)


def test_ties_are_ordered_by_the_name_in_the_readers_language(con):
    weeks = load_frame(con, YEAR).weeks
    english, _ = overall_page(con, YEAR, weeks, style_for("en"))
    azerbaijani, _ = overall_page(con, YEAR, weeks, style_for("az"))
    assert [r[0] for r in english.rows] == [1, 2, 2, 3, 4, None]
    assert english.agency_ids[1:3] == ["education", "twin"]
    assert azerbaijani.agency_ids[1:3] == ["twin", "education"]
    assert english.agency_ids[-1] == "nameless" and english.rows[-1][1] == "nameless"


def test_engagement_per_post_counts_only_posts_that_give_engagement(con):
    page, _ = overall_page(con, YEAR, load_frame(con, YEAR).weeks)
    cells = dict(zip(page.agency_ids, (row[-1] for row in page.rows), strict=True))
    # Telegram's 90 posts without engagement and Instagram's 0 posts neither count nor dilute
    assert cells["twin"] == 40.0
    assert cells["nameless"] is None  # a Telegram channel alone: not available, not 0
    assert page.formatted_rows()[page.agency_ids.index("nameless")][-1] == "n/a"


def test_a_page_after_the_last_is_empty_and_still_counts_the_board(con):
    page, total = overall_page(con, YEAR, 1.0, limit=50, offset=50)
    assert (page.rows, page.agency_ids, total) == ([], [], 6)
    page, total = overall_page(con, Period.year(2019), 1.0)
    assert (page.rows, total) == ([], 0)


def test_the_frame_is_the_figures_without_their_agencies(con):
    figures, frame = load_figures(con, YEAR), load_frame(con, YEAR)
    assert (frame.covered_until, frame.months, frame.partial, frame.sources, frame.weeks) == \
        (figures.covered_until, figures.months, figures.partial, figures.sources, figures.weeks)
    assert frame.agencies == [] and frame.account_rows == []


@pytest.mark.parametrize(("language", "shown"), [("en", 2), ("az", 2), ("en", 10)])
def test_growth_ranking_is_the_reports_chart_items(con, language, shown):
    style = style_for(language)
    figures = load_figures(con, YEAR)
    items = sorted([(agency_name(a, style), a.row["followers_growth_pct"]) for a in figures.agencies
                    if a.row is not None and a.row.get("followers_growth_pct") is not None],
                   key=lambda item: item[1], reverse=True)
    assert len(items) == 5
    found, total = growth_ranking(con, YEAR, style, shown=shown)
    assert total == 5
    assert found == (items[:shown] + items[-shown:] if len(items) > 2 * shown else items)


def test_the_ranking_chart_of_the_sql_items_is_the_chart_of_every_item():
    top = [(f"Top {i}", 100.0 - i) for i in range(charts.RANKING_SHOWN)]
    bottom = [(f"Bottom {i}", -50.0 - i) for i in range(charts.RANKING_SHOWN)]
    middle = [(f"Middle {i}", float(i % 40)) for i in range(1970)]
    svg = charts.ranking_chart("Growth", top + bottom, total=2000)
    assert 'aria-label="Growth (top 15 and bottom 15 of 2,000)"' in svg
    assert svg == charts.ranking_chart("Growth", middle + bottom + top)


def test_page_agency_names_are_the_figures_names(con):
    for language in ("en", "az"):
        style = style_for(language)
        figures = load_figures(con, YEAR)
        expected = {a.agency_id: agency_name(a, style) for a in figures.agencies}
        found = agency_names(con, YEAR, [*expected, "unknown-agency"], style)
        assert found == {**expected, "unknown-agency": "unknown-agency"}
        assert found["nameless"] == "nameless"


def test_the_rounding_caveat_follows_the_rounded_platforms_rows(crowded_demo_home):
    import duckdb

    with read_only_connection(config.paths()) as con:
        assert has_rounded_counts_in(con, YEAR)  # Education's YouTube channel
        rounded = [a for a in load_figures(con, YEAR).agencies for b in a.accounts
                   if b.row is not None and b.platform == "youtube"]
        assert rounded
    writer = duckdb.connect(str(crowded_demo_home.warehouse))
    writer.execute("delete from marts.account_annual where platform = 'youtube'")
    writer.close()
    with read_only_connection(config.paths()) as con:
        assert not has_rounded_counts_in(con, YEAR)
