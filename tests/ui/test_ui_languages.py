"""The pages in Azerbaijani and English: ?lang=, the default setting, the switch link, the
sentences on the demo marts, and a 400 page for an unknown language."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from agency_pulse.report import write_report
from agency_pulse.settings import Settings
from agency_pulse.ui import create_app


@pytest.fixture
def client(demo_home):
    return TestClient(create_app())


def _visible(html: str) -> str:
    html = re.sub(r"<(style|svg|title)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_leaderboard_in_azerbaijani(client):
    response = client.get("/?lang=az")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="az">' in html
    assert "<h1>Reytinq, 2026</h1>" in html
    text = _visible(html)
    assert "Məlumatlar 31 oktyabr 2026 tarixinədək." in text
    assert ("Yer Qurum Platformalar İzləyicilər Dəyişiklik Artım Artıma görə yer Paylaşım / həftə "
            "Reaksiya / paylaşım 1 Mədəniyyət Nazirliyi Facebook, Instagram 28.300 +11.500 +101% 1 9,1 53,8") in text
    assert "Artım reytinqi" in text and "İzləyici artımı, 2026" in html
    # Links keep the language; the switch leads to the same page in English.
    assert 'href="/agency/culture?year=2026&amp;lang=az">Mədəniyyət Nazirliyi</a>' in html
    assert 'href="/?year=2025&amp;lang=az"' in html and 'href="/quality?lang=az"' in html
    assert '<a class="lang" id="language-switch" href="/?lang=en" hreflang="en" lang="en">English</a>' in html


def test_leaderboard_in_english_has_a_switch_to_azerbaijani(client):
    html = client.get("/?year=2026").text
    assert '<html lang="en">' in html and "<h1>Leaderboard 2026</h1>" in html
    assert ('<a class="lang" id="language-switch" href="/?year=2026&amp;lang=az" hreflang="az" '
            'lang="az">Azərbaycanca</a>') in html
    # English is the default: its links carry no lang.
    assert 'href="/agency/culture?year=2026">Ministry of Culture</a>' in html


def test_agency_page_in_azerbaijani(client):
    html = client.get("/agency/education?lang=az").text
    assert '<h1 id="agency-name">Təhsil Nazirliyi</h1>' in html
    text = _visible(html)
    assert ("İzləyici sayına görə 2-ci yerdədir: 2 hesabda cəmi 6.600 izləyici (hər iki tarixdə sayılan "
            "səhifələr üzrə −46%). Facebook @tehsilnazirliyi: izləyici sayı yarıdan çox azalıb: 10 min idi, "
            "4 min olub (10.000 → 4.000, −60%); nadir hallarda paylaşım edib: 20 paylaşım, sonuncusu "
            "2 oktyabr 2026 tarixində.") in text
    accounts = text[text.index("Platforma Hesab İzləyicilər"):]
    assert accounts.startswith("Platforma Hesab İzləyicilər Dəyişiklik Artım Paylaşımlar Fəallıq Son paylaşım "
                               "Son toplama Facebook @tehsilnazirliyi 4.000 −6.000 −60% 20 az fəal "
                               "2 oktyabr 2026 uğurlu")
    assert "X @edu_gov_az 2026-cı il üçün məlumat yoxdur uğursuz: access tier" in accounts
    assert "Hesabların izləyici sayı, aylar üzrə" in html and "Aylıq paylaşımlar" in html
    assert 'href="/?year=2026&amp;lang=az">reytinqə qayıt</a>' in html
    assert "Ministry of" not in text


def test_agency_page_in_english(client):
    text = _visible(client.get("/agency/education?lang=en").text)
    assert ("Ranked 2nd by followers, with 6,600 across 2 accounts (−46% on the pages counted at both ends). "
            "Facebook @tehsilnazirliyi: followers fell from 10 thousand to 4 thousand, less than half "
            "(10,000 → 4,000, −60%); posted rarely: 20 posts, the last on 2 October 2026.") in text
    assert "Facebook @tehsilnazirliyi 4,000 −6,000 −60% 20 low 2 October 2026 ok" in text


def test_quality_page_in_azerbaijani(client):
    html = client.get("/quality?lang=az").text
    assert "<h1>Məlumat keyfiyyəti</h1>" in html
    validations = html[html.index('id="validations"'):html.index("Karantinə alınmış partiyalar")]
    assert "keçmədi" in validations and "14 gözləntidən 2 keçmədi" in validations
    log = html[html.index('id="extract-log"'):]
    start = log.index("instagram:mys_archive")
    assert '<td class="neutral">istifadədən çıxarılıb</td>' in log[start:log.index("</tr>", start)]
    gone = log.index("facebook:mys.gov.az")
    assert '<td class="bad">silinib</td>' in log[gone:log.index("</tr>", gone)]


@pytest.mark.parametrize("path", ["/", "/agency/culture", "/quality", "/agency/nobody"])
def test_the_synthetic_banner_is_in_the_readers_language(client, path):
    html = client.get(path + "?lang=az").text
    assert ('<p class="synthetic" id="synthetic-data" role="alert">Sintetik məlumatlar: bu rəqəmlər '
            'platformalardan deyil, Agency Pulse sınaq mühitindən (sandbox) götürülüb.') in html


@pytest.mark.parametrize("query", ["lang=tr", "lang=AZ", "lang=az-Latn", "lang=%3Cscript%3E"])
@pytest.mark.parametrize("path", ["/", "/agency/culture", "/quality", "/reports/latest"])
def test_an_unknown_language_is_a_400_page(client, path, query):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert '<p id="message">lang must be one of en, az, not' in response.text
    assert "<script>" not in response.text


def test_errors_are_in_the_readers_language(client):
    response = client.get("/agency/nobody?lang=az")
    assert response.status_code == 404
    assert "<h1>Tapılmadı</h1>" in response.text
    assert '<p id="message">2026-cı ildə &#39;nobody&#39; qurumu yoxdur</p>' in response.text
    response = client.get("/?year=abc&lang=az")
    assert response.status_code == 400
    assert '<p id="message">il 2026 kimi dörd rəqəmli il olmalıdır, &#39;abc&#39; yox</p>' in response.text
    response = client.get("/?year=1999&lang=az")
    assert response.status_code == 404
    assert '<p id="message">1999-cu il üçün rəqəm yoxdur</p>' in response.text


def test_without_a_warehouse_the_page_says_so_in_azerbaijani(pulse_home):
    response = TestClient(create_app()).get("/?lang=az")
    assert response.status_code == 503
    assert "<h1>Hələ məlumat yoxdur</h1>" in response.text
    assert '<p id="message">Anbar hələ oxuna bilmir; əvvəlcə `agency-pulse build` işə salın (no warehouse at ' \
        in response.text


def test_the_default_language_comes_from_the_setting(demo_home):
    settings = Settings.from_environment({"AGENCY_PULSE_HOME": str(demo_home.home),
                                          "AGENCY_PULSE_LANGUAGE": "az"})
    client = TestClient(create_app(settings=settings))
    html = client.get("/").text
    assert '<html lang="az">' in html and "<h1>Reytinq, 2026</h1>" in html
    # The default needs no lang in links; English does.
    assert 'href="/agency/culture?year=2026">Mədəniyyət Nazirliyi</a>' in html
    english = client.get("/?lang=en").text
    assert "<h1>Leaderboard 2026</h1>" in english
    assert 'href="/agency/culture?year=2026&amp;lang=en">Ministry of Culture</a>' in english


def test_latest_report_in_the_readers_language(client, demo_home):
    write_report(language="en")
    write_report(language="az")
    response = client.get("/reports/latest?lang=az", follow_redirects=False)
    assert response.headers["location"] == "/reports/annual-2026.az.html"
    response = client.get("/reports/latest", follow_redirects=False)
    assert response.headers["location"] == "/reports/annual-2026.html"
    assert "Son hesabat (annual-2026.az.html)" in client.get("/?lang=az").text


def test_the_language_links_follow_the_mount_prefix(demo_home):
    client = TestClient(create_app(), root_path="/agency-pulse")
    html = client.get("/agency/culture?lang=az&year=2026").text
    assert 'id="language-switch" href="/agency-pulse/agency/culture?year=2026&amp;lang=en"' in html
    assert 'href="/agency-pulse/quality?lang=az"' in html
