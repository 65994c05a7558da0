"""The leaderboard in pages: a few rows per table, ranks over the whole board (computed
by DuckDB, not by the page), links that keep the year and the language, and a 400 page in
the reader's language for a page that cannot be shown. The demo marts hold four agencies
and three Facebook accounts in 2026; two rows a page make their second pages."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from agency_pulse.ui import app as ui_app
from agency_pulse.ui import create_app


@pytest.fixture
def client(demo_home, monkeypatch):
    monkeypatch.setattr(ui_app, "BOARD_ROWS", 2)
    return TestClient(create_app())


def _board(html: str, title: str) -> str:
    start = html.index(f"<h2>{title}</h2>")
    return html[start:html.index("</table>", start)]


def _ranks_and_names(board: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr><td class="num">([^<]*)</td><td><a href="[^"]*">([^<]*)</a>', board)


def test_first_page_shows_the_top_rows_of_each_board_and_links_to_the_next(client):
    html = client.get("/").text
    overall = _board(html, "All platforms: agencies")
    assert _ranks_and_names(overall) == [("1", "Ministry of Culture"), ("2", "Ministry of Education")]
    assert "Rows 1–2 of 4." in overall and 'rel="next" href="/?year=2026&amp;page=2"' in overall
    facebook = _board(html, "Facebook")
    assert _ranks_and_names(facebook) == [("1", "Ministry of Culture"), ("2", "Ministry of Education")]
    assert "Rows 1–2 of 3." in facebook
    assert 'rel="next" href="/?year=2026&amp;platform=facebook&amp;page=2"' in facebook
    assert 'rel="prev"' not in facebook
    assert "<svg" in html  # the growth chart stays on the first page of every board


def test_page_two_of_a_platform_keeps_the_ranks_of_the_whole_board(client):
    response = client.get("/?platform=facebook&page=2")
    assert response.status_code == 200
    html = response.text
    facebook = _board(html, "Facebook")
    # Culture-Tourism's 3,100 followers are third of three Facebook accounts, not first
    assert _ranks_and_names(facebook) == [("3", "Ministry of Culture and Tourism")]
    assert "Rows 3–3 of 3." in facebook
    assert 'rel="prev" href="/?year=2026&amp;platform=facebook&amp;page=1"' in facebook
    assert 'rel="next"' not in facebook
    assert "<h2>Instagram</h2>" not in html and "<svg" not in html  # that board alone
    assert 'href="/?year=2026">All leaderboards</a>' in html


def test_page_two_of_every_board_ranks_agencies_from_three(client):
    html = client.get("/?page=2").text
    ranks = re.findall(r'<tr><td class="num">([^<]*)</td>', html[:html.index("<h2>Facebook</h2>")])
    assert ranks == ["3", "4"]
    assert "No rows on this page (1 in all)." in _board(html, "Instagram")


def test_paging_links_keep_the_language_and_the_year(client):
    html = client.get("/?year=2026&lang=az").text
    assert 'href="/?year=2026&amp;platform=facebook&amp;page=2&amp;lang=az"' in html
    assert "3 sətirdən 1–2." in html and "növbəti səhifə" in html
    html = client.get("/?year=2026&platform=facebook&page=2&lang=az").text
    assert "əvvəlki səhifə" in html and "Bütün reytinqlər" in html


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "²", "9999999999"])
def test_a_bad_page_is_a_400_page_in_the_readers_language(client, page):
    response = client.get(f"/?page={page}&lang=az")
    assert response.status_code == 400
    assert "<h1>" in response.text and "səhifə 1-dən başlayan tam ədəd olmalıdır" in response.text
    response = client.get(f"/?page={page}")
    assert response.status_code == 400
    assert "page must be a whole number from 1" in response.text


def test_a_page_after_the_last_is_a_400_page(client):
    response = client.get("/?platform=facebook&page=3")
    assert response.status_code == 400
    assert "there is no page 3: the last page is 2" in response.text
    response = client.get("/?page=3&lang=az")
    assert response.status_code == 400
    assert "3 nömrəli səhifə yoxdur: son səhifənin nömrəsi 2" in response.text


def test_an_unknown_platform_is_a_400_page(client):
    response = client.get("/?platform=myspace&lang=az")
    assert response.status_code == 400
    assert "platforma bunlardan biri olmalıdır" in response.text and "&#39;myspace&#39;" in response.text


@pytest.mark.parametrize("language", ["en", "az"])
def test_the_agencies_pages_one_row_each_are_the_reports_board_in_order(crowded_demo_home, monkeypatch,
                                                                          language):
    from agency_pulse import config
    from agency_pulse.report.figures import Period, load_figures
    from agency_pulse.report.leaderboards import overall_leaderboard
    from agency_pulse.report.numbers import style_for
    from agency_pulse.report.warehouse_snapshot import read_only_connection

    style = style_for(language)
    with read_only_connection(config.paths()) as con:
        board = overall_leaderboard(load_figures(con, Period.year(2026)), style)
    monkeypatch.setattr(ui_app, "BOARD_ROWS", 1)
    client = TestClient(create_app())
    shown = []
    for number in range(1, 7):
        html = client.get(f"/?page={number}&lang={language}").text
        overall = html[html.index(f"<h2>{board.title}</h2>"):]
        overall = overall[:overall.index("</table>")]
        cells = re.findall(r"<td[^>]*>(?:<a [^>]*>)?([^<]*)(?:</a>)?</td>", overall)
        shown.append([unescape(cell) for cell in cells])
    assert shown == board.formatted_rows(style)
    assert [row[1] for row in shown][1:3] == (["Ministry of Education", "Zeta test"] if language == "en"
                                              else ["Abşeron sınaq", "Təhsil Nazirliyi"])
    response = client.get(f"/?page=7&lang={language}")
    assert response.status_code == 400
