"""The report from small hand-written marts: sentences, escaping, charts, coverage."""

from __future__ import annotations

import re

import pytest
from page_text import visible_text

from agency_pulse.errors import UserInputError
from agency_pulse.report import write_report


def _paragraph(text: str, heading: str) -> str:
    start = text.index(heading)
    return text[start:start + 900]


def test_default_report_is_the_latest_year_and_has_both_formats(demo_home):
    paths = write_report()
    assert paths.html == demo_home.reports / "annual-2026.html"
    assert paths.markdown == demo_home.reports / "annual-2026.md"
    assert sorted(p.name for p in paths.charts.iterdir()) == ["followers.svg", "growth.svg", "posts.svg"]
    markdown = paths.markdown.read_text(encoding="utf-8")
    assert "](annual-2026.charts/followers.svg)" in markdown
    assert "doubled to nearly 23 thousand" in markdown


def test_growth_decline_dormancy_and_reorganisation_sentences(demo_home):
    text = visible_text(write_report(year=2026).html.read_text(encoding="utf-8"))
    culture = _paragraph(text, "Ministry of Culture (Mədəniyyət Nazirliyi)")
    assert "Facebook @culture.gov.az: followers doubled to nearly 23 thousand (11,400 → 22,900)" in culture
    assert "Instagram @culture_az: opened a new page after the reorganisation" in culture
    assert "It succeeds the Ministry of Culture and Tourism" in culture
    education = _paragraph(text, "Ministry of Education (Təhsil Nazirliyi)")
    assert "followers fell from 10 thousand to 4 thousand" in education
    assert "(10,000 → 4,000, −60%)" in education
    assert "most posts were live streams (62%)" in education
    old_ministry = _paragraph(text, "Ministry of Culture and Tourism (Mədəniyyət və Turizm Nazirliyi)")
    assert "the only post on the page is from 2011" in old_ministry
    assert "Present on Facebook; no account on Instagram, YouTube, X or Telegram" in old_ministry


def test_new_page_of_reorganised_agency_is_never_a_loss(demo_home):
    text = visible_text(write_report(year=2026).html.read_text(encoding="utf-8"))
    new_page = text[text.index("Instagram @culture_az: opened"):][:200]
    assert "fell" not in new_page and "−" not in new_page
    assert "first counted with 1,200 followers in March 2026, now 5,400" in new_page


def test_missing_data_is_noted_with_the_extract_log_reason(demo_home):
    text = visible_text(write_report(year=2026).html.read_text(encoding="utf-8"))
    coverage = text[text.index("Data coverage"):text.index("Leaderboards")]
    assert "6 of 8 accounts have figures" in coverage
    assert "No data: X @edu_gov_az (Ministry of Education): the last extraction reported failed" in coverage
    assert "No data: Facebook @mys.gov.az (Ministry of Youth and Sports)" in coverage
    assert "gone" in coverage
    youth = _paragraph(text, "Ministry of Youth and Sports (Gənclər və İdman Nazirliyi)")
    assert "No follower figures" in youth


def test_hostile_names_are_escaped_and_azerbaijani_letters_survive(demo_home):
    paths = write_report(year=2026)
    html = paths.html.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in html
    assert "<script" not in html and "<b>Executive" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Şəki İcra Hakimiyyəti: ağ, qış, çöl, üzüm" in html
    assert "Gənclər və İdman Nazirliyi" in html
    markdown = paths.markdown.read_text(encoding="utf-8")
    assert "<script" not in markdown and "&lt;b&gt;Executive&lt;/b&gt;" in markdown


def test_report_is_self_contained_with_inline_svg_charts(demo_home):
    html = write_report(year=2026).html.read_text(encoding="utf-8")
    assert html.count("<svg") == 3
    assert re.search(r"(src|href)=\"(https?:)?//", html) is None
    assert "<link" not in html and "<script" not in html
    assert "Follower growth ranking" in html
    charts = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(charts) == 3
    for svg in charts:  # static: no script, no event handler, no outside reference
        assert re.search(r"<script|\son\w+=|(href|src)=\"(https?:)?//", svg) is None
        assert 'class="chart"' in svg and "<title>" in svg


def test_leaderboard_ranks_and_formats_numbers(demo_home):
    text = visible_text(write_report(year=2026).html.read_text(encoding="utf-8"))
    board = text[text.index("All platforms: agencies"):text.index("Facebook Rank")]
    assert "1 Ministry of Culture Facebook, Instagram 28,300 +11,500 +101% 1" in board
    assert "2 Ministry of Education Facebook, YouTube 6,600 −5,714 −46% 4" in board
    facebook = text[text.index("Facebook Rank"):text.index("Instagram Rank")]
    assert facebook.index("@culture.gov.az") < facebook.index("@tehsilnazirliyi") < facebook.index("@mctgovaz")


def test_monthly_report(demo_home):
    paths = write_report(month="2026-10")
    assert paths.html.name == "monthly-2026-10.html"
    text = visible_text(paths.html.read_text(encoding="utf-8"))
    assert "monthly report October 2026" in text
    assert "followers fell from 4.6 thousand to 4 thousand (4,600 → 4,000, −13%)" in text


def test_bad_requests_are_user_errors(demo_home):
    with pytest.raises(UserInputError, match="not both"):
        write_report(year=2026, month="2026-10")
    with pytest.raises(UserInputError, match="YYYY-MM"):
        write_report(month="October")
    with pytest.raises(UserInputError, match="no rows for 2019"):
        write_report(year=2019)


def test_a_report_on_sandbox_figures_says_so_at_the_top(demo_home):
    paths = write_report()
    html = paths.html.read_text(encoding="utf-8")
    banner = html.index('id="synthetic-data"')
    assert banner < html.index("<h1>")
    assert "Synthetic data: these figures come from the Agency Pulse sandbox" in visible_text(html)
    markdown = paths.markdown.read_text(encoding="utf-8")
    assert markdown.startswith("> **Synthetic data: these figures come from the Agency Pulse sandbox")


def test_a_report_on_api_figures_has_no_synthetic_banner(demo_home):
    from demo_warehouse import set_source

    set_source(demo_home.warehouse, "api")
    paths = write_report()
    assert "synthetic-data" not in paths.html.read_text(encoding="utf-8")
    assert "Synthetic data" not in paths.markdown.read_text(encoding="utf-8")


def test_the_rules_are_a_methods_section_inside_the_report(demo_home):
    paths = write_report()
    html = paths.html.read_text(encoding="utf-8")
    text = visible_text(html)
    methods = text[text.index("Methods Sources."):]
    assert "Follower growth compares the last count before the period" in methods
    assert '"held steady" within 2% either way' in methods
    assert "Telegram" in methods and "never 0" in methods
    assert "README" not in html and "README" not in paths.markdown.read_text(encoding="utf-8")
    assert "\n## Methods\n" in paths.markdown.read_text(encoding="utf-8")
    assert "see Methods at the end" in text


@pytest.mark.parametrize(("language", "mark"), [
    ("en", "(partial month: data from 31 January 2025)"),
    ("az", "(natamam ay: məlumatlar 31 yanvar 2025 tarixindən)"),
])
def test_a_partial_months_tables_and_ranking_are_marked_in_their_titles(demo_home, language, mark):
    # the demo's backfill window opens on 31 January 2025: that month's report holds a
    # partial month's figures in every table cell and in the growth ranking
    paths = write_report(month="2025-01", language=language)
    html = paths.html.read_text(encoding="utf-8")
    titles = re.findall(r"<h3>([^<]*)</h3>", html)
    boards = [t for t in titles if "Facebook" in t or "Bütün platformalar" in t or "All platforms" in t]
    assert len(boards) >= 2 and all(t.endswith(mark) for t in boards)
    labels = re.findall(r'<svg [^>]*aria-label="([^"]*)"', html)
    assert len(labels) == 3 and [label.endswith(mark) for label in labels] == [False, False, True]
    markdown = paths.markdown.read_text(encoding="utf-8")
    assert sum(line.startswith("### ") and line.endswith(mark) for line in markdown.splitlines()) >= 2
    unmarked = write_report(month="2026-10", language=language).html.read_text(encoding="utf-8")
    assert "partial month:" not in unmarked and "natamam ay:" not in unmarked


def test_the_running_months_titles_say_where_its_data_ends():
    from datetime import date

    from agency_pulse.report.document import partial_title
    from agency_pulse.report.figures import Period, ReportFigures
    from agency_pulse.report.numbers import style_for

    november = Period.month("2026-11")
    figures = ReportFigures(period=november, covered_until=date(2026, 11, 26), agencies=[],
                            account_rows=[], months=[], agency_names={},
                            partial={date(2026, 11, 1): ("end", date(2026, 11, 26))})
    assert partial_title("Facebook", figures) == "Facebook (partial month: data to 26 November 2026)"
    assert partial_title("Facebook", figures, style_for("az")) == \
        "Facebook (natamam ay: məlumatlar 26 noyabr 2026 tarixinədək)"
    annual = ReportFigures(period=Period.year(2026), covered_until=date(2026, 11, 26), agencies=[],
                           account_rows=[], months=[], agency_names={}, partial=figures.partial)
    assert partial_title("Facebook", annual) == "Facebook"  # a year's figures: its notes say it
