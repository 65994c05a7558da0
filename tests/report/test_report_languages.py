"""The report in Azerbaijani and English from the demo marts: whole sentences, names, file
names, the banner and the methods in the reader's language; the CLI's --lang and setting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from page_text import visible_text

from agency_pulse import cli
from agency_pulse.errors import UserInputError
from agency_pulse.report import latest_report, write_report


def _section(text: str, heading: str, length: int = 1200) -> str:
    start = text.index(heading)
    return text[start:start + length]


def test_azerbaijani_report_sentences_on_the_demo_marts(demo_home):
    paths = write_report(year=2026, language="az")
    assert paths.html == demo_home.reports / "annual-2026.az.html"
    assert paths.markdown == demo_home.reports / "annual-2026.az.md"
    assert paths.charts == demo_home.reports / "annual-2026.az.charts"
    html = paths.html.read_text(encoding="utf-8")
    assert '<html lang="az">' in html
    text = visible_text(html)
    assert "Agency Pulse: illik hesabat, 2026" in text
    culture = _section(text, "Mədəniyyət Nazirliyi İzləyici")
    assert culture.startswith(
        "Mədəniyyət Nazirliyi İzləyici sayına görə 1-ci yerdədir: 2 hesabda cəmi 28.300 izləyici "
        "(hər iki tarixdə sayılan səhifələr üzrə +101%). Əvəz etdiyi qurum: Mədəniyyət və Turizm Nazirliyi. "
        "Facebook @culture.gov.az: izləyici sayı iki dəfə artaraq 23 minə yaxın olub (11.400 → 22.900); "
        "300 paylaşım edib (həftədə 6,9); paylaşımların 20%-i video olub. "
        "Instagram @culture_az: yenidənqurmadan sonra yeni səhifə açıb, ilk sayım: 1.200 izləyici "
        "(mart 2026), indi 5.400;")
    education = _section(text, "Təhsil Nazirliyi İzləyici")
    assert ("Facebook @tehsilnazirliyi: izləyici sayı yarıdan çox azalıb: 10 min idi, 4 min olub "
            "(10.000 → 4.000, −60%); nadir hallarda paylaşım edib: 20 paylaşım, sonuncusu 2 oktyabr 2026 "
            "tarixində.") in education
    assert "paylaşımların çoxu canlı yayım olub (62%)" in education
    assert ("X @edu_gov_az: bu dövr üçün məlumat yoxdur; son toplamanın nəticəsi: uğursuz "
            "(access tier does not allow reading this account (HTTP 403)).") in education
    old = _section(text, "Mədəniyyət və Turizm Nazirliyi İzləyici")
    assert "Facebook @mctgovaz: izləyici sayı demək olar ki, dəyişməyib: 3,1 min (3.124 → 3.100); " \
           "səhifədəki yeganə paylaşım 2011-ci ildəndir." in old
    youth = _section(text, "Gənclər və İdman Nazirliyi Gənclər")
    assert youth.startswith("Gənclər və İdman Nazirliyi Gənclər və İdman Nazirliyi üzrə bu dövr üçün "
                            "izləyici rəqəmləri yoxdur.")
    # Azerbaijani readers get the agencies' Azerbaijani names only.
    assert "Ministry of" not in text


def test_azerbaijani_coverage_leaderboard_banner_and_methods(demo_home):
    paths = write_report(year=2026, language="az")
    html = paths.html.read_text(encoding="utf-8")
    text = visible_text(html)
    assert text.startswith("Sintetik məlumatlar: bu rəqəmlər platformalardan deyil, Agency Pulse sınaq "
                           "mühitindən (sandbox) götürülüb.")
    assert html.index('id="synthetic-data"') < html.index("<h1>")
    coverage = text[text.index("Məlumatların əhatəsi"):text.index("Reytinq cədvəlləri")]
    assert ("1 yanvar 2026 – 31 oktyabr 2026 dövrünün məlumatları: 8 hesabdan 6 hesab üzrə rəqəmlər var."
            in coverage)
    assert "Məlumat yoxdur: Facebook @mys.gov.az (Gənclər və İdman Nazirliyi): son toplamanın nəticəsi: " \
           "silinib" in coverage
    board = text[text.index("Bütün platformalar: qurumlar"):text.index("Facebook Yer")]
    assert board.startswith("Bütün platformalar: qurumlar Yer Qurum Platformalar İzləyicilər Dəyişiklik Artım "
                            "Artıma görə yer Paylaşım / həftə Reaksiya / paylaşım")
    assert "1 Mədəniyyət Nazirliyi Facebook, Instagram 28.300 +11.500 +101% 1 9,1 53,8" in board
    assert "3 Mədəniyyət və Turizm Nazirliyi Facebook 3.100 −24 −0,8% 3 0,0 məlumat yoxdur" in board
    facebook = text[text.index("Facebook Yer"):text.index("Instagram Yer")]
    assert "Fəallıq" in facebook and "fəal" in facebook and "az fəal" in facebook and "fəaliyyətsiz" in facebook
    assert " active" not in facebook and "dormant" not in facebook
    methods = text[text.index("Metodologiya Mənbələr."):]
    assert "İzləyici artımı dövrdən əvvəlki son sayımı dövr ərzindəki son sayımla müqayisə edir." in methods
    assert "Tarixlər və aylar UTC vaxtı ilə verilir." in methods
    markdown = paths.markdown.read_text(encoding="utf-8")
    assert markdown.startswith("> **Sintetik məlumatlar:")
    assert "\n## Metodologiya\n" in markdown and "](annual-2026.az.charts/followers.svg)" in markdown


def test_english_report_keeps_its_names_and_gains_ordinal_ranks(demo_home):
    text = visible_text(write_report(year=2026, language="en").html.read_text(encoding="utf-8"))
    culture = _section(text, "Ministry of Culture (Mədəniyyət Nazirliyi) Ranked")
    assert culture.startswith(
        "Ministry of Culture (Mədəniyyət Nazirliyi) Ranked 1st by followers, with 28,300 across 2 accounts "
        "(+101% on the pages counted at both ends). It succeeds the Ministry of Culture and Tourism. "
        "Facebook @culture.gov.az: followers doubled to nearly 23 thousand (11,400 → 22,900); "
        "posted 300 times (6.9 a week); video made up 20% of posts.")
    assert "Data from 1 January 2026 to 31 October 2026: 6 of 8 accounts have figures." in text


def test_monthly_report_in_azerbaijani_names_the_month(demo_home):
    paths = write_report(month="2026-10", language="az")
    assert paths.html.name == "monthly-2026-10.az.html"
    text = visible_text(paths.html.read_text(encoding="utf-8"))
    assert "Agency Pulse: aylıq hesabat, oktyabr 2026" in text
    assert "izləyici sayı 4,6 min idi, azalaraq 4 min olub (4.600 → 4.000, −13%)" in text


def test_both_languages_live_side_by_side(demo_home):
    english = write_report(year=2026, language="en")
    azerbaijani = write_report(year=2026, language="az")
    assert english.html.exists() and azerbaijani.html.exists()
    assert latest_report(demo_home.home, "en") == english.html
    assert latest_report(demo_home.home, "az") == azerbaijani.html


def test_an_unknown_language_is_a_user_error(demo_home):
    with pytest.raises(UserInputError, match=r"unknown language 'tr' \(known: en, az\)"):
        write_report(year=2026, language="tr")


def test_cli_lang_flag_and_setting(demo_home, monkeypatch, capsys):
    assert cli.main(["report", "--year", "2026", "--lang", "az"]) == 0
    assert capsys.readouterr().out.strip() == str(demo_home.reports / "annual-2026.az.html")
    monkeypatch.setenv("AGENCY_PULSE_LANGUAGE", "az")
    assert cli.main(["report", "--month", "2026-10"]) == 0
    assert capsys.readouterr().out.strip() == str(demo_home.reports / "monthly-2026-10.az.html")
    assert cli.main(["report", "--year", "2026", "--lang", "en"]) == 0
    assert capsys.readouterr().out.strip() == str(demo_home.reports / "annual-2026.html")


def test_cli_bad_language_is_bad_usage(demo_home, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["report", "--lang", "tr"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --lang: invalid choice: 'tr'" in err and "Traceback" not in err


def test_cli_bad_language_setting_is_one_line_exit_1(demo_home):
    env = dict(os.environ, AGENCY_PULSE_LANGUAGE="klingon")
    result = subprocess.run([sys.executable, "-m", "agency_pulse.cli", "report"], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == ("agency-pulse: AGENCY_PULSE_LANGUAGE must be one of en, az, "
                                     "not 'klingon'")
