"""The plugin's pages through a test client, on a hand-written warehouse."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from agency_pulse.report import write_report
from agency_pulse.ui import create_app


@pytest.fixture
def client(demo_home):
    return TestClient(create_app())


def test_leaderboard_shows_ranked_agencies_with_links(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Leaderboard 2026</h1>" in html
    culture = html.index('href="/agency/culture?year=2026">Ministry of Culture</a>')
    education = html.index('href="/agency/education?year=2026">Ministry of Education</a>')
    assert culture < education
    assert "28,300" in html and "+101%" in html
    assert 'href="/?year=2025"' in html
    assert "<svg" in html and "Follower growth 2026" in html


def test_links_follow_the_mount_prefix(demo_home):
    client = TestClient(create_app(), root_path="/agency-pulse")
    html = client.get("/").text
    assert 'href="/agency-pulse/agency/culture?year=2026"' in html
    assert 'href="/agency-pulse/quality"' in html


def test_agency_page_has_paragraph_trend_charts_and_accounts(client):
    html = client.get("/agency/education").text
    assert "Ministry of Education (Təhsil Nazirliyi)" in html
    assert "followers fell from 10 thousand to 4 thousand" in html
    assert "Followers by account, month by month" in html and "Posts per month" in html
    assert html.count('class="chart"') == 2 and "<script" not in html
    accounts = html[html.index('id="accounts"'):]
    assert "@tehsilnazirliyi" in accounts and "@TehsilNazirliyi" in accounts
    assert "no data in 2026" in accounts
    assert "access tier does not allow reading this account" in accounts


def test_hostile_agency_name_is_escaped(client):
    html = client.get("/agency/sheki").text
    assert "<script>" not in html and "<b>Executive" not in html
    assert "&lt;script&gt;" in html and "Şəki İcra Hakimiyyəti: ağ, qış, çöl, üzüm" in html


def test_unknown_agency_is_404(client):
    response = client.get("/agency/nobody")
    assert response.status_code == 404
    assert "no agency &#39;nobody&#39; in 2026" in response.text


def test_quality_page_shows_validations_quarantine_and_extract_log(client, demo_home):
    html = client.get("/quality").text
    validations = html[html.index('id="validations"'):html.index("Quarantined batches")]
    assert "posts" in validations and "2 failed of 14" in validations
    assert "expect_column_values_to_be_between(published_at): 2 in the future" in validations
    assert "jumped 40% in a day" in validations
    quarantined = html[html.index('id="quarantined"'):]
    assert "quarantine/posts/platform=youtube/date=2026-10-31/part-b.parquet" in quarantined
    log = html[html.index('id="extract-log"'):]
    assert log.index("x:edu_gov_az") < log.index("facebook:culture.gov.az")  # problems first
    assert "data-docs" not in html


@pytest.mark.parametrize("path", ["/data-docs/", "/data-docs/index.html",
                                  "/data-docs/validations/x.html"])
def test_gx_data_docs_are_never_served_their_addresses_lead_to_the_quality_page(client, demo_home, path):
    # GX's HTML loads Bootstrap, jQuery and Vega from CDNs and prints values unescaped
    demo_home.data_docs.mkdir(parents=True, exist_ok=True)
    (demo_home.data_docs / "index.html").write_text(
        '<script src="https://cdn.example/jquery.js"></script>', encoding="utf-8")
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/quality"
    assert "<script" not in client.get(path).text


@pytest.mark.parametrize("path", ["/", "/agency/culture", "/quality", "/agency/nobody", "/?year=abc"])
def test_every_page_carries_a_policy_that_forbids_scripts_and_foreign_assets(client, path):
    policy = client.get(path).headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'none'" in policy
    assert "http" not in policy


def test_a_served_report_carries_the_policy_too(client):
    write_report()
    response = client.get("/reports/annual-2026.html")
    assert "script-src 'none'" in response.headers["content-security-policy"]


def test_latest_report_link_and_files(client, demo_home):
    assert client.get("/reports/latest", follow_redirects=False).status_code == 404
    write_report()
    response = client.get("/reports/latest", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/reports/annual-2026.html"
    report = client.get("/reports/annual-2026.html")
    assert report.headers["content-type"] == "text/html; charset=utf-8"
    assert "doubled to nearly 23 thousand" in report.text
    assert client.get("/reports/annual-2026.charts/growth.svg").headers["content-type"] == "image/svg+xml"


def test_files_outside_the_served_folders_are_not_served(client, demo_home):
    write_report()
    for url in ("/reports/%2e%2e/warehouse.duckdb", "/reports/..%2fwarehouse.duckdb",
                "/reports/%2fetc%2fpasswd"):
        assert client.get(url).status_code == 404, url
    assert "DUCK" not in client.get("/data-docs/%2e%2e/warehouse.duckdb").text


def test_pages_say_when_there_is_no_warehouse_yet(pulse_home):
    response = TestClient(create_app()).get("/")
    assert response.status_code == 503
    assert "agency-pulse build" in response.text


def test_serving_never_leaves_the_folder(tmp_path):
    from fastapi import HTTPException

    from agency_pulse.ui.app import _serve_inside

    served = tmp_path / "reports"
    served.mkdir()
    (served / "ok.html").write_text("fine", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (served / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert _serve_inside(served, "ok.html").path == served / "ok.html"
    for escape in ("../secret.txt", "link.txt", "/etc/passwd", "missing.html", ""):
        with pytest.raises(HTTPException):
            _serve_inside(served, escape)


@pytest.mark.parametrize("path", ["/", "/?year=2025", "/agency/culture", "/quality",
                                  "/agency/nobody", "/reports/latest"])
def test_every_page_on_sandbox_figures_carries_the_synthetic_banner(client, path):
    html = client.get(path).text
    assert '<p class="synthetic" id="synthetic-data" role="alert">Synthetic data:' in html
    assert html.index('id="synthetic-data"') < html.index("<main>")


def test_pages_on_api_figures_have_no_banner(client, demo_home):
    from demo_warehouse import set_source

    set_source(demo_home.warehouse, "api")
    for path in ("/", "/agency/culture", "/quality"):
        assert "synthetic-data" not in client.get(path).text


def test_without_a_warehouse_the_page_says_so_without_a_banner(pulse_home):
    response = TestClient(create_app()).get("/")
    assert response.status_code == 503
    assert "synthetic-data" not in response.text


@pytest.mark.parametrize("query", ["?year=abc", "?year=0", "?year=99999", "?year=-1",
                                   "?year=2026.5", "?year=%D9%A2%D9%A0%D9%A2%D9%A6"])
@pytest.mark.parametrize("path", ["/", "/agency/culture"])
def test_a_bad_year_is_a_400_page_with_one_sentence(client, path, query):
    response = client.get(path + query)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert '<p id="message">year must be a year such as 2026, not' in response.text


@pytest.mark.parametrize("path", ["/?year=1999", "/agency/culture?year=1999"])
def test_a_year_without_figures_is_a_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert '<p id="message">no figures for 1999</p>' in response.text


def test_a_retired_account_is_neutral_on_the_quality_page_and_times_are_to_the_minute(client):
    html = client.get("/quality").text
    log = html[html.index('id="extract-log"'):]
    start = log.index("instagram:mys_archive")
    row = log[start:log.index("</tr>", start)]
    assert '<td class="neutral">retired</td>' in row and "inactive on 2026-10-31" in row
    assert 'class="bad"' not in row
    gone = log.index("facebook:mys.gov.az")
    assert '<td class="bad">gone</td>' in log[gone:log.index("</tr>", gone)]
    assert "<td>2026-10-31 06:05 UTC</td>" in html
    assert "06:05:00" not in html


def test_times_drop_seconds_and_microseconds():
    from datetime import UTC, datetime, timedelta, timezone

    from agency_pulse.ui.app import _to_minute

    assert _to_minute(datetime(2026, 10, 31, 6, 5, 59, 123456, tzinfo=UTC)) == "2026-10-31 06:05 UTC"
    baku = timezone(timedelta(hours=4))
    assert _to_minute(datetime(2026, 10, 31, 10, 5, 1, 7, tzinfo=baku)) == "2026-10-31 06:05 UTC"


@pytest.mark.parametrize("query", ["?year=abc", "?year=0", "?year=%00", "?year=" + "9" * 400])
@pytest.mark.parametrize("path", ["/", "/agency/culture", "/agency/nobody", "/agency/%3Cb%3E",
                                  "/quality", "/reports/latest", "/data-docs/"])
def test_no_route_answers_a_bad_parameter_with_a_500_or_json(client, path, query):
    response = client.get(path + query)
    assert response.status_code < 500
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    assert "<b>" not in response.text


def test_youtube_change_within_the_rounding_step_is_said_so(client):
    html = client.get("/agency/education").text
    assert "YouTube shows subscriber counts rounded to three significant figures" in html


def test_the_agency_page_names_the_partial_month_its_chart_hatches(client):
    # the demo's first observations are on 31 January 2025
    html = client.get("/agency/culture").text
    notes = html[html.index('id="notes"'):]
    assert "January 2025 is a partial month: data from 31 January 2025." in notes


def test_quality_page_escapes_values_that_landed_in_the_data(client, demo_home):
    # GX Data Docs printed a value landed in a post id as HTML; the quality page never does
    import duckdb

    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    with duckdb.connect(str(demo_home.warehouse)) as con:
        con.execute("update quality.validation_runs set failed_expectations = ?, file = ? "
                    "where dataset = 'posts'",
                    [json.dumps([f"expect_column_values_to_be_unique(post_id): {hostile}"]), hostile])
        con.execute("update quality.extract_log set reason = ? where account_id = 'x:edu_gov_az'",
                    [hostile])
    html = client.get("/quality").text
    assert "<img" not in html and "<script" not in html
    assert html.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") >= 2


def test_the_agency_page_in_azerbaijani_has_its_chart_words_partial_month_and_rounding_note(client):
    html = client.get("/agency/education?lang=az").text
    notes = html[html.index('id="notes"'):]
    assert "Yanvar 2025 natamam aydır: məlumatlar 31 yanvar 2025 tarixindən başlayır." in notes
    assert "YouTube abunəçi saylarını üç əhəmiyyətli rəqəmədək yuvarlaqlaşdırılmış göstərir" in notes
    assert 'aria-label="Hesabların izləyici sayı, aylar üzrə"' in html
    assert 'aria-label="Aylıq paylaşımlar"' in html
    assert "<!-- natamam ay -->" in html          # the hatched month's legend entry
    assert "partial month" not in html and "within rounding" not in html


def test_the_leaderboard_in_azerbaijani_titles_its_growth_chart_in_azerbaijani(client):
    html = client.get("/?lang=az").text
    assert 'aria-label="İzləyici artımı, 2026 (hər iki tarixdə sayılan səhifələr)"' in html
    assert "Follower growth" not in html
