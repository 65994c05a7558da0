"""Charts (matplotlib, static SVG), partial months and the YouTube rounding caveat."""

from __future__ import annotations

import re
from datetime import date

import duckdb

from agency_pulse.report import charts
from agency_pulse.report.caveats import rounding_step, within_rounding
from agency_pulse.report.figures import (
    AccountFigures,
    AgencyFigures,
    Period,
    ReportFigures,
    partial_months,
)
from agency_pulse.report.leaderboards import platform_leaderboards

MONTHS = [date(2026, m, 1) for m in range(1, 11)]


def _agency_with_a_new_page() -> dict[str, dict[date, float | None]]:
    # a page growing 10 a month, and a bigger page first counted in April
    return {"facebook:old": {m: 1000 + 10 * i for i, m in enumerate(MONTHS)},
            "x:new": {m: 50_000 for m in MONTHS[3:]}}


def test_an_agency_line_joins_only_pages_counted_at_both_ends():
    totals, steps, firsts = charts.comparable_steps(MONTHS, _agency_with_a_new_page())
    assert totals[2] == 1020 and totals[3] == 51_030  # the point is every page counted then
    assert steps[3] == (1020, 1030)                     # the segment: the old page only
    assert steps[4] == (51_030, 51_040)
    assert firsts == [3]                                # the new page's first count is marked
    # no step ever rises by the new page's 50,000
    assert all(after - before == 10 for before, after in steps.values())


def test_a_page_missing_for_a_month_leaves_no_segment_and_is_not_a_first_count():
    accounts = {"a": {MONTHS[0]: 100, MONTHS[2]: 120}, "b": {m: 10 for m in MONTHS[:3]}}
    totals, steps, firsts = charts.comparable_steps(MONTHS[:3], accounts)
    assert steps == {1: (10, 10), 2: (10, 10)} and firsts == []
    assert totals == [110, 10, 130]


def test_the_first_count_is_marked_in_the_svg_and_named_in_the_legend():
    svg = charts.agency_chart("Followers", MONTHS, {"Culture": _agency_with_a_new_page()})
    without = charts.agency_chart("Followers", MONTHS,
                                  {"Culture": {"facebook:old": _agency_with_a_new_page()["facebook:old"]}})
    assert 'aria-label="Followers"' in svg
    # the legend's extra entry (its glyphs are paths, so compare sizes of the drawings)
    assert svg.count("<path") > without.count("<path")


def test_svg_is_static_deterministic_and_escapes_names():
    hostile = {f'<script>alert("{i}")</script> Şəki': {m: 100 + i for m in MONTHS} for i in range(3)}
    first = charts.line_chart("Followers <b>", MONTHS, hostile)
    assert first == charts.line_chart("Followers <b>", MONTHS, hostile)
    assert first.startswith("<svg ") and first.endswith("</svg>")
    assert "<script" not in first and "<b>" not in first and "&lt;b&gt;" in first
    assert re.search(r"\son\w+=|(href|src)=\"(https?:)?//|<foreignObject|<image", first) is None
    assert "Date" not in first and "<dc:date" not in first


def test_two_charts_on_one_page_share_no_clip_path_id():
    a = charts.line_chart("A", MONTHS, {"x": {m: 1 for m in MONTHS}})
    b = charts.line_chart("B", MONTHS, {"x": {m: 1 for m in MONTHS}})
    clip = re.compile(r'<clipPath id="([^"]+)"')
    assert clip.findall(a) and not set(clip.findall(a)) & set(clip.findall(b))


def test_colours_never_repeat_at_any_number_of_series():
    for count in (1, 8, 10, 11, 20, 21, 300, 2000):
        found = charts.colours(count)
        assert len(found) == count and len(set(found)) == count, count


def test_many_series_fit_a_taller_frame_instead_of_spilling():
    few = charts.agency_chart("F", MONTHS, {f"Agency {i}": {"a": {m: i for m in MONTHS}} for i in range(2)})
    many = charts.agency_chart("F", MONTHS, {f"Agency {i}": {"a": {m: i for m in MONTHS}} for i in range(30)})

    def height(svg: str) -> float:
        return float(re.search(r'viewBox="0 0 [\d.]+ ([\d.]+)"', svg).group(1))

    assert height(many) > height(few) + 60  # the legend's rows are inside the frame


def test_ranking_of_many_names_shows_top_and_bottom_and_says_so():
    svg = charts.ranking_chart("Growth", [(f"Agency {i}", float(i)) for i in range(100)])
    assert 'aria-label="Growth (top 15 and bottom 15 of 100)"' in svg


def test_partial_bars_and_months_are_drawn_hatched():
    plain = charts.bar_chart("Posts", MONTHS, {m: 10 for m in MONTHS})
    marked = charts.bar_chart("Posts", MONTHS, {m: 10 for m in MONTHS},
                              partial={MONTHS[-1]: ("end", date(2026, 10, 14))})
    assert "<pattern" not in plain and "<pattern" in marked  # matplotlib draws hatches as patterns


def test_partial_months_come_from_the_observation_window():
    con = duckdb.connect()
    con.execute("create schema quality")
    con.execute("create table quality.account_coverage (first_observed_on date, last_observed_on date)")
    con.execute("insert into quality.account_coverage values "
                "('2024-11-30', '2026-10-14'), ('2025-01-01', '2026-10-13'), (null, null)")
    assert partial_months(con) == {date(2024, 11, 1): ("start", date(2024, 11, 30)),
                                   date(2026, 10, 1): ("end", date(2026, 10, 14))}
    con.execute("delete from quality.account_coverage")
    con.execute("insert into quality.account_coverage values ('2025-01-01', '2026-10-31')")
    assert partial_months(con) == {}


def test_youtube_rounding_step_is_three_significant_figures():
    assert [rounding_step("youtube", n) for n in (999, 1000, 12_345, 2_340_000)] == [1, 10, 100, 10_000]
    assert rounding_step("facebook", 2_340_000) == 1
    row = {"followers_start": 12_300, "followers_end": 12_400, "followers_change": 100}
    assert within_rounding("youtube", row)
    assert not within_rounding("facebook", row)
    assert not within_rounding("youtube", {**row, "followers_end": 12_500, "followers_change": 200})
    assert not within_rounding("youtube", {**row, "followers_change": None})


def test_a_youtube_change_within_rounding_is_said_so_in_the_leaderboard():
    row = {"agency_id": "edu", "platform": "youtube", "handle": "edu", "followers_start": 12_300,
           "followers_end": 12_300, "followers_change": 0, "followers_growth_pct": 0.0,
           "posts": 4, "engagement": 40, "activity_status": "active"}
    account = AccountFigures(account_id="youtube:edu", platform="youtube", handle="edu", row=row)
    agency = AgencyFigures(agency_id="edu", name="Edu", name_en=None, successor_of=[], row=None,
                           accounts=[account])
    figures = ReportFigures(period=Period.year(2026), covered_until=date(2026, 12, 31),
                            agencies=[agency], account_rows=[row], months=[], agency_names={})
    [board] = platform_leaderboards(figures)
    cells = dict(zip([name for name, _ in board.columns], board.formatted_rows()[0], strict=True))
    assert cells["Change"] == "within rounding" and cells["Growth"] == "within rounding"
    assert cells["Followers"] == "12,300"


def test_a_youtube_change_within_rounding_is_said_in_the_readers_language():
    from agency_pulse.report.numbers import AZERBAIJANI

    row = {"agency_id": "edu", "platform": "youtube", "handle": "edu", "followers_start": 12_300,
           "followers_end": 12_300, "followers_change": 0, "followers_growth_pct": 0.0,
           "posts": 4, "engagement": 40, "activity_status": "active"}
    account = AccountFigures(account_id="youtube:edu", platform="youtube", handle="edu", row=row)
    agency = AgencyFigures(agency_id="edu", name="Təhsil Nazirliyi", name_en="Ministry of Education",
                           successor_of=[], row=None, accounts=[account])
    figures = ReportFigures(period=Period.year(2026), covered_until=date(2026, 12, 31),
                            agencies=[agency], account_rows=[row], months=[], agency_names={})
    [board] = platform_leaderboards(figures, AZERBAIJANI)
    cells = dict(zip([name for name, _ in board.columns], board.formatted_rows(AZERBAIJANI)[0], strict=True))
    assert cells["Dəyişiklik"] == "yuvarlaqlaşdırma həddində" and cells["Artım"] == "yuvarlaqlaşdırma həddində"
    assert cells["İzləyicilər"] == "12.300" and cells["Fəallıq"] == "fəal"


def test_chart_words_and_partial_notes_follow_the_language():
    from agency_pulse.report.document import partial_notes
    from agency_pulse.report.numbers import AZERBAIJANI

    svg = charts.bar_chart("Paylaşımlar", MONTHS, {m: 10 for m in MONTHS}, AZERBAIJANI,
                           partial={MONTHS[-1]: ("end", date(2026, 10, 14))})
    assert "<!-- natamam ay -->" in svg and "partial month" not in svg
    assert "məlumat yoxdur" in charts.line_chart("Boş", MONTHS, {}, AZERBAIJANI)
    figures = ReportFigures(period=Period.year(2026), covered_until=date(2026, 10, 14), agencies=[],
                            account_rows=[], months=MONTHS, agency_names={},
                            partial={MONTHS[-1]: ("end", date(2026, 10, 14))})
    assert partial_notes(figures, AZERBAIJANI) == [
        "Oktyabr 2026 natamam aydır: məlumatlar 14 oktyabr 2026 tarixinə qədərdir."]
    assert partial_notes(figures) == ["October 2026 is a partial month: data to 14 October 2026."]
