from datetime import date

import pytest

from agency_pulse.report.numbers import (
    approximate,
    exact,
    long_date,
    month_name,
    percent,
    signed,
    style_for,
)


@pytest.mark.parametrize(("value", "words"), [
    (950, "950"), (4000, "4 thousand"), (10_000, "10 thousand"), (22_900, "nearly 23 thousand"),
    (10_300, "over 10 thousand"), (5400, "5.4 thousand"), (12_500, "nearly 13 thousand"),
    (1_234_567, "over 1.2 million"), (999_999, "1 million"),
])
def test_approximate_says_how_it_rounded(value, words):
    assert approximate(value) == words


def test_exact_figures():
    assert exact(22_900) == "22,900"
    assert exact(1234.567, 1) == "1,234.6"
    assert exact(None) == "n/a"
    assert signed(-5714) == "−5,714" and signed(3100) == "+3,100" and signed(0) == "0"
    assert percent(100.877) == "+101%" and percent(-0.77) == "−0.8%"
    assert long_date(date(2011, 6, 14)) == "14 June 2011"


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="no number style"):
        style_for("xx")


@pytest.mark.parametrize(("value", "words"), [
    (950, "950"), (4000, "4 min"), (22_900, "23 minə yaxın"), (10_300, "10 mindən çox"),
    (5400, "5,4 min"), (1_234_567, "1,2 milyondan çox"), (999_999, "1 milyon"), (980_000, "980 min"),
])
def test_azerbaijani_rounded_figures_need_no_suffix_on_the_number(value, words):
    assert approximate(value, style_for("az")) == words


def test_azerbaijani_figures_and_dates_come_from_babel():
    az = style_for("az")
    # CLDR's az: '.' groups thousands, ',' is the decimal mark, month names are lower case.
    assert exact(79_964, style=az) == "79.964"
    assert exact(1234.567, 1, az) == "1.234,6"
    assert exact(None, style=az) == "məlumat yoxdur"
    assert signed(-5714, style=az) == "−5.714" and signed(3100, style=az) == "+3.100"
    assert percent(100.877, az) == "+101%" and percent(-0.77, az) == "−0,8%"
    assert long_date(date(2011, 6, 14), az) == "14 iyun 2011"
    assert [month_name(date(2026, m, 1), az) for m in (1, 5, 11)] == ["yanvar 2026", "may 2026", "noyabr 2026"]
    assert month_name(date(2026, 11, 1)) == "November 2026"


@pytest.mark.parametrize("language", ["en", "az"])
def test_figures_and_dates_match_babel_for_the_language(language):
    from babel.dates import format_date
    from babel.numbers import format_decimal

    style = style_for(language)
    for value in (0, 7, 950, 1000, 22_900, 79_964, 1_234_567, 987_654_321, -5714):
        assert exact(value, style=style) == format_decimal(value, "#,##0", locale=language).replace("-", "−")
    for value in (0.25, 6.94, 1234.56, -0.77):
        assert exact(value, 1, style) == format_decimal(round(value, 1), "#,##0.0",
                                                        locale=language).replace("-", "−")
    for day in (date(2011, 6, 14), date(2026, 1, 1), date(2026, 11, 30)):
        assert long_date(day, style) == format_date(day, "d MMMM y", locale=language)
        assert month_name(day, style) == format_date(day, "LLLL y", locale=language)
