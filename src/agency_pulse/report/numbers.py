"""Numbers and dates as a reader of the report's language expects them.

Separators, the minus and percent signs, month names and the date pattern come from
Babel's CLDR data for the language (`en`: "22,900", "1,234.5", "14 June 2011"; `az`:
"22.900", "1.234,5", "14 iyun 2011"). Rounded figures in sentences say how they were
rounded ("nearly 23 thousand", "over 10 thousand"; "23 minə yaxın", "10 mindən çox"),
in the words of the language's catalog (`agency_pulse.i18n`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from babel.dates import get_month_names
from babel.numbers import format_decimal

from agency_pulse.i18n import LANGUAGES, Translator, translator


@dataclass(frozen=True)
class NumberStyle:
    """How one language writes figures: `language` is a code of `agency_pulse.i18n`."""

    language: str = "en"

    @property
    def text(self) -> Translator:
        """The language's catalog of sentences and labels."""
        return translator(self.language)

    @property
    def not_available(self) -> str:
        return self.text.text("number.not_available")


ENGLISH = NumberStyle("en")
AZERBAIJANI = NumberStyle("az")
STYLES = {"en": ENGLISH, "az": AZERBAIJANI}
assert tuple(STYLES) == LANGUAGES
# What a missing figure (NULL: the platform gives none, or nothing was observed) reads as
# in English: never 0, and not a dash a reader could take for zero. Other languages: the
# catalog's "number.not_available".
NOT_AVAILABLE = ENGLISH.not_available
# A real minus sign, not the hyphen CLDR gives for en and az.
MINUS = "−"


def style_for(language: str) -> NumberStyle:
    try:
        return STYLES[language]
    except KeyError:
        raise ValueError(f"no number style for language {language!r} (known: {', '.join(STYLES)})") from None


@dataclass(frozen=True)
class _Symbols:
    group: str
    decimal: str
    groups_of_three: bool      # the locale groups digits by threes, as Python's "," does
    percent_prefix: str
    percent_suffix: str
    months: tuple[str, ...]            # format context: "14 iyun 2011"
    standalone_months: tuple[str, ...]  # stand-alone: "noyabr 2026"


@cache
def _symbols(language: str) -> _Symbols:
    """The locale's CLDR data the formatting needs, read from Babel once per language (a
    figure is formatted often: ten thousand accounts make ninety thousand table cells)."""
    locale = translator(language).locale
    symbols = locale.number_symbols["latn"]
    percent_pattern = locale.percent_formats[None]
    return _Symbols(
        group=symbols["group"], decimal=symbols["decimal"],
        groups_of_three=tuple(locale.decimal_formats[None].grouping) == (3, 3),
        percent_prefix=percent_pattern.prefix[0], percent_suffix=percent_pattern.suffix[0],
        months=tuple(get_month_names("wide", "format", locale).values()),
        standalone_months=tuple(get_month_names("wide", "stand-alone", locale).values()))


def exact(value: float | int | None, decimals: int = 0, style: NumberStyle = ENGLISH) -> str:
    """'22,900' / '22.900'; '1,234.5' / '1.234,5' with decimals=1; 'n/a' for a missing value."""
    if value is None:
        return style.not_available
    symbols = _symbols(style.language)
    # Round as Python does ("{:.1f}"), then put in the locale's separators.
    if symbols.groups_of_three:
        text = f"{value:,.{decimals}f}"
        return (text.replace(",", "\0").replace(".", symbols.decimal).replace("\0", symbols.group)
                .replace("-", MINUS))
    rounded = Decimal(f"{value:.{decimals}f}")
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(rounded, format=pattern, locale=style.language).replace("-", MINUS)


def signed(value: float | int | None, decimals: int = 0, style: NumberStyle = ENGLISH) -> str:
    """'+3,100' / '−6,000' (a real minus sign) / '0'."""
    if value is None:
        return style.not_available
    if value == 0:
        return exact(0, decimals, style)
    return ("+" if value > 0 else MINUS) + exact(abs(value), decimals, style)


def percent(value: float | None, style: NumberStyle = ENGLISH, *, sign: bool = True) -> str:
    """'+34%', '−60%', '+0.8%' ('+0,8%' in az): whole percent from 10 up, one decimal below."""
    if value is None:
        return style.not_available
    decimals = 0 if abs(value) >= 10 else 1
    number = signed(value, decimals, style) if sign else exact(value, decimals, style)
    return _percent_pattern(style, number)


def share(value: float, style: NumberStyle = ENGLISH) -> str:
    """A whole-percent share of something: '62%'."""
    return _percent_pattern(style, exact(round(value), style=style))


def _percent_pattern(style: NumberStyle, number: str) -> str:
    # The locale's own place for the sign ("34%" in en and az; "%34" in Turkish).
    symbols = _symbols(style.language)
    return f"{symbols.percent_prefix}{number}{symbols.percent_suffix}"


def approximate(value: int | float, style: NumberStyle = ENGLISH) -> str:
    """Words a reader can hold: 950, '4 thousand', 'nearly 23 thousand', '1.2 million'.

    Below 1,000 the exact figure. Otherwise rounded to whole thousands (one decimal below
    10 thousand when that matters) or to a tenth of a million; "nearly" when the figure
    is more than 0.1% under the rounded one, "over" when more than 0.1% above.
    """
    value = float(value)
    if abs(value) < 1000:
        return exact(value, style=style)
    unit, name = (1_000_000, "million") if abs(value) >= 999_500 else (1000, "thousand")
    scaled = value / unit
    decimals = 1 if (abs(scaled) < 10 and round(scaled, 1) != round(scaled)) or unit == 1_000_000 else 0
    rounded = _round_half_up(scaled, decimals)
    if decimals and rounded == int(rounded):
        decimals = 0
    number = exact(rounded, decimals, style)
    gap = (value - rounded * unit) / (rounded * unit) if rounded else 0.0
    if gap < -0.001:
        return style.text.text(f"number.{name}.nearly", n=number)
    if gap > 0.001:
        return style.text.text(f"number.{name}.over", n=number)
    return style.text.text(f"number.{name}", n=number)


def _round_half_up(value: float, decimals: int) -> float:
    factor = 10 ** decimals
    return math.floor(abs(value) * factor + 0.5) / factor * (1 if value >= 0 else -1)


def long_date(day: date, style: NumberStyle = ENGLISH) -> str:
    """'14 June 2011' / '14 iyun 2011' (Babel's month names; the same as Babel's
    format_date(day, "d MMMM y"), without parsing the pattern for every date)."""
    return f"{day.day} {_symbols(style.language).months[day.month - 1]} {day.year}"


def month_name(month: date, style: NumberStyle = ENGLISH) -> str:
    """'November 2026' / 'noyabr 2026' (Babel's stand-alone month names, as format_date's
    "LLLL y")."""
    return f"{_symbols(style.language).standalone_months[month.month - 1]} {month.year}"
