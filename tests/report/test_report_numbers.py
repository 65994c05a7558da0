from datetime import date

import pytest

from agency_pulse.report.numbers import approximate, exact, long_date, percent, signed, style_for


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
