"""The plugin's pages through a test client, on a hand-written warehouse."""

from __future__ import annotations

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
    assert html.count("<polyline") >= 2
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
    (demo_home.data_docs).mkdir(parents=True)
    (demo_home.data_docs / "index.html").write_text("<h1>GX docs</h1>", encoding="utf-8")
    html = client.get("/quality").text
    validations = html[html.index('id="validations"'):html.index("Quarantined batches")]
    assert "posts" in validations and "2 failed of 14" in validations
    assert "expect_column_values_to_be_between(published_at): 2 in the future" in validations
    assert "jumped 40% in a day" in validations
    quarantined = html[html.index('id="quarantined"'):]
    assert "quarantine/posts/platform=youtube/date=2026-10-31/part-b.parquet" in quarantined
    log = html[html.index('id="extract-log"'):]
    assert log.index("x:edu_gov_az") < log.index("facebook:culture.gov.az")  # problems first
    assert 'href="/data-docs/"' in html
    assert client.get("/data-docs/").text == "<h1>GX docs</h1>"


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
                "/data-docs/%2e%2e/warehouse.duckdb", "/reports/%2fetc%2fpasswd"):
        assert client.get(url).status_code == 404, url


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
