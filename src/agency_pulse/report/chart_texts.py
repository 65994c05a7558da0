"""Every reader-facing word the charts, the partial-month marks and the metric caveats add.

The words live in the language catalogs (`agency_pulse.i18n`) under ``charts.`` + key, so
a chart, a partial-month note or a "within rounding" cell is written in the language of
the `NumberStyle` its caller passes; there is no English fallback to drift from them.
"""

from __future__ import annotations

from datetime import date

from agency_pulse.report.numbers import NumberStyle


def text(key: str, style: NumberStyle, /, **values) -> str:
    """The catalog message ``charts.<key>`` in the language of `style`, `values` filled in
    (KeyError for a key the catalogs do not hold)."""
    return style.text.text("charts." + key, **values)


def month_tick(month: date) -> str:
    """A month on a chart's axis: language-neutral ISO."""
    return f"{month:%Y-%m}"
