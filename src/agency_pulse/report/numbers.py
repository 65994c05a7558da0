"""Numbers as a reader of the report's language expects them.

Exact figures carry thousands separators ("22,900"); rounded figures in sentences say
how they were rounded ("nearly 23 thousand", "over 10 thousand", "4 thousand"). Only
English is written today; another language is another `NumberStyle`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class NumberStyle:
    thousands_separator: str = ","
    decimal_separator: str = "."
    thousand: str = "thousand"
    million: str = "million"
    nearly: str = "nearly"
    over: str = "over"
    months: tuple[str, ...] = ("January", "February", "March", "April", "May", "June", "July",
                               "August", "September", "October", "November", "December")


ENGLISH = NumberStyle()
# What a missing figure (NULL: the platform gives none, or nothing was observed) reads as:
# never 0, and not a dash a reader could take for zero.
NOT_AVAILABLE = "n/a"
STYLES = {"en": ENGLISH}


def style_for(language: str) -> NumberStyle:
    try:
        return STYLES[language]
    except KeyError:
        raise ValueError(f"no number style for language {language!r} (known: {', '.join(STYLES)})") from None


def exact(value: float | int | None, decimals: int = 0, style: NumberStyle = ENGLISH) -> str:
    """'22,900'; '1,234.5' with decimals=1; 'n/a' for a missing value."""
    if value is None:
        return NOT_AVAILABLE
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", style.decimal_separator).replace("\0", style.thousands_separator)


def signed(value: float | int | None, decimals: int = 0, style: NumberStyle = ENGLISH) -> str:
    """'+3,100' / '−6,000' (a real minus sign) / '0'."""
    if value is None:
        return NOT_AVAILABLE
    if value == 0:
        return exact(0, decimals, style)
    return ("+" if value > 0 else "−") + exact(abs(value), decimals, style)


def percent(value: float | None, style: NumberStyle = ENGLISH, *, sign: bool = True) -> str:
    """'+34%', '−60%', '+0.8%': whole percent from 10 up, one decimal below."""
    if value is None:
        return NOT_AVAILABLE
    decimals = 0 if abs(value) >= 10 else 1
    return (signed(value, decimals, style) if sign else exact(value, decimals, style)) + "%"


def approximate(value: int | float, style: NumberStyle = ENGLISH) -> str:
    """Words a reader can hold: 950, '4 thousand', 'nearly 23 thousand', '1.2 million'.

    Below 1,000 the exact figure. Otherwise rounded to whole thousands (one decimal below
    10 thousand when that matters) or to a tenth of a million; "nearly" when the figure
    is more than 0.1% under the rounded one, "over" when more than 0.1% above.
    """
    value = float(value)
    if abs(value) < 1000:
        return exact(value)
    unit, name = (1_000_000, style.million) if abs(value) >= 999_500 else (1000, style.thousand)
    scaled = value / unit
    decimals = 1 if (abs(scaled) < 10 and round(scaled, 1) != round(scaled)) or unit == 1_000_000 else 0
    rounded = _round_half_up(scaled, decimals)
    if decimals and rounded == int(rounded):
        decimals = 0
    words = f"{exact(rounded, decimals, style)} {name}"
    gap = (value - rounded * unit) / (rounded * unit) if rounded else 0.0
    if gap < -0.001:
        return f"{style.nearly} {words}"
    if gap > 0.001:
        return f"{style.over} {words}"
    return words


def _round_half_up(value: float, decimals: int) -> float:
    factor = 10 ** decimals
    return math.floor(abs(value) * factor + 0.5) / factor * (1 if value >= 0 else -1)


def long_date(day: date, style: NumberStyle = ENGLISH) -> str:
    """'14 June 2011'."""
    return f"{day.day} {style.months[day.month - 1]} {day.year}"


def month_name(month: date, style: NumberStyle = ENGLISH) -> str:
    """'November 2026'."""
    return f"{style.months[month.month - 1]} {month.year}"
