"""The language catalogs: complete in both languages, and every key the code asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agency_pulse import i18n
from agency_pulse.i18n import catalog_problems, translator

SOURCE = Path(i18n.__file__).resolve().parents[1]
# A literal key passed to the translator in Python (.text("k"), .plural("k", ...)) or in a
# template (t("k"), plural("k", ...)).
KEY_USE = re.compile(r"""(?:\.text|\.plural|\bt|\bplural)\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""")


def _catalogs() -> dict[str, dict]:
    return {code: dict(translator(code).messages) for code in i18n.LANGUAGES}


def test_both_languages_hold_the_same_keys_placeholders_and_plural_forms():
    assert catalog_problems() == []


def test_a_key_missing_in_one_language_is_reported():
    catalogs = _catalogs()
    del catalogs["az"]["activity.stale"]
    assert catalog_problems(catalogs) == ["az: missing 'activity.stale'"]


def test_a_changed_placeholder_or_a_missing_plural_form_is_reported():
    catalogs = _catalogs()
    catalogs["az"]["activity.stale"] = "{day} tarixindən bəri paylaşım yoxdur"
    catalogs["en"]["activity.low.posts"] = {"one": "{posts} post"}
    problems = catalog_problems(catalogs)
    assert "az: 'activity.stale' has placeholders ['day'], en ['date']" in problems
    assert "en: 'activity.low.posts' has no 'other' form" in problems


def test_every_key_the_code_and_templates_use_is_in_the_catalog():
    used = set()
    for path in [*SOURCE.rglob("*.py"), *SOURCE.rglob("*.html")]:
        used |= set(KEY_USE.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 100, "the scan found too few keys: the pattern no longer matches the code"
    missing = sorted(used - set(translator("en").messages))
    assert missing == []


@pytest.mark.parametrize(("code", "numbers", "expected"), [
    ("en", (1, 2, 3, 4, 11, 12, 13, 21, 102), ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd"]),
    # The suffix follows the vowel of the number's last spoken word (bir, iki, üç, dörd, altı,
    # doqquz, on, qırx, yüz, min).
    ("az", (1, 2, 3, 4, 6, 9, 10, 40, 100, 2011, 2026), ["1-ci", "2-ci", "3-cü", "4-cü", "6-cı", "9-cu",
                                                        "10-cu", "40-cı", "100-cü", "2011-ci", "2026-cı"]),
])
def test_ordinals_follow_the_language(code, numbers, expected):
    assert [translator(code).ordinal(n) for n in numbers] == expected


def test_plural_forms_follow_the_count():
    en, az = translator("en"), translator("az")
    assert en.plural("activity.low.posts", 1, posts="1") == "1 post"
    assert en.plural("activity.low.posts", 20, posts="20") == "20 posts"
    # Azerbaijani keeps the noun singular after a numeral.
    assert az.plural("activity.low.posts", 20, posts="20") == "20 paylaşım"


def test_an_unknown_language_is_one_line():
    with pytest.raises(ValueError, match=r"^unknown language 'tr' \(known: en, az\)$"):
        translator("tr")


def test_the_english_banner_is_the_console_one():
    from agency_pulse.report.provenance import SANDBOX_NOTICE

    assert translator("en").text("notice.synthetic") == SANDBOX_NOTICE


# A literal key passed to `report.chart_texts.text(key, style, ...)`, or named as a
# `Caveat(key)` cell of a leaderboard; partial-month notes pick "partial_start"/"partial_end".
CHART_KEY_USE = re.compile(r"""(?:\btext|\bcaveat|\bCaveat)\(\s*["']([a-z_]+)["']""")


def test_every_chart_text_the_code_uses_is_in_the_catalog_and_none_is_left_unused():
    used = {"partial_start", "partial_end"}
    for path in [*SOURCE.rglob("*.py"), *SOURCE.rglob("*.html")]:
        used |= set(CHART_KEY_USE.findall(path.read_text(encoding="utf-8")))
    held = {key.removeprefix("charts.") for key in translator("en").messages if key.startswith("charts.")}
    assert "agency_followers" in used, "the scan no longer finds the chart_texts calls"
    assert sorted(used - held) == []
    assert sorted(held - used) == []


def test_the_chart_texts_are_written_in_the_language_asked_for():
    from agency_pulse.report.chart_texts import text
    from agency_pulse.report.numbers import AZERBAIJANI, ENGLISH

    assert text("within_rounding", ENGLISH) == "within rounding"
    assert text("within_rounding", AZERBAIJANI) == "yuvarlaqlaşdırma həddində"
    assert text("growth_year", AZERBAIJANI, year=2026) == (
        "İzləyici artımı, 2026 (hər iki tarixdə sayılan səhifələr)")
