"""Charts as inline SVG, drawn here: no library, no script, no network.

Every label is escaped, so a name carrying markup stays text. Colours repeat after
eight series; each chart has a legend and a <title> per point for hover values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from html import escape

from agency_pulse.report.numbers import ENGLISH, NumberStyle, exact, percent

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 30, 60
AXIS_STEPS = 5
MAX_MONTH_LABELS = 8


def line_chart(title: str, months: Sequence[date], series: dict[str, dict[date, float | None]],
               style: NumberStyle = ENGLISH) -> str:
    """One line per series over the months; gaps where a month has no value."""
    values = [v for points in series.values() for v in points.values() if v is not None]
    if not months or not values:
        return _empty(title)
    top = _nice_ceiling(max(values))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(months) - 1)
    x = {m: LEFT + i * step for i, m in enumerate(months)}

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    parts = [_open(title), _axes(top, style)]
    parts += _month_ticks(months, x)
    for index, (name, points) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        segment: list[str] = []
        for m in months:
            v = points.get(m)
            if v is None:
                parts.append(_polyline(segment, colour))
                segment = []
                continue
            segment.append(f"{x[m]:.1f},{y(v):.1f}")
            parts.append(f'<circle cx="{x[m]:.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
                         f"<title>{escape(name)} {m:%Y-%m}: {exact(v, style=style)}</title></circle>")
        parts.append(_polyline(segment, colour))
    parts.append(_legend(list(series)))
    return "\n".join(p for p in parts if p) + "</svg>"


def bar_chart(title: str, months: Sequence[date], values: dict[date, float | None],
              style: NumberStyle = ENGLISH, colour: str = PALETTE[0]) -> str:
    """One bar per month."""
    present = [v for v in values.values() if v is not None]
    if not months or not present:
        return _empty(title)
    top = _nice_ceiling(max(present))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(months)
    parts = [_open(title), _axes(top, style)]
    centres = {m: LEFT + slot * (i + 0.5) for i, m in enumerate(months)}
    parts += _month_ticks(months, centres)
    for m in months:
        v = values.get(m)
        if v is None:
            continue
        h = plot_h * v / top
        parts.append(f'<rect x="{centres[m] - slot * 0.35:.1f}" y="{TOP + plot_h - h:.1f}" '
                     f'width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                     f"<title>{m:%Y-%m}: {exact(v, style=style)}</title></rect>")
    return "\n".join(parts) + "</svg>"


def ranking_chart(title: str, items: Sequence[tuple[str, float]],
                  style: NumberStyle = ENGLISH) -> str:
    """Horizontal bars of a percentage per name, largest first; negative bars go left."""
    if not items:
        return _empty(title)
    items = sorted(items, key=lambda item: item[1], reverse=True)
    row_h, label_w = 26, 260
    height = TOP + row_h * len(items) + 20
    span = max(abs(v) for _, v in items) or 1
    low = min(0.0, min(v for _, v in items))
    high = max(0.0, max(v for _, v in items))
    plot_w = WIDTH - label_w - RIGHT - 60
    scale = plot_w / ((high - low) or span)
    zero = label_w + (-low) * scale
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'role="img" aria-label="{escape(title)}" class="chart">',
             f"<title>{escape(title)}</title>",
             f'<text x="{LEFT}" y="18" class="chart-title" font-size="14" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{zero:.1f}" y1="{TOP - 4}" x2="{zero:.1f}" y2="{height - 16}" stroke="#999"/>']
    for i, (name, v) in enumerate(items):
        top = TOP + i * row_h
        width = abs(v) * scale
        left = zero if v >= 0 else zero - width
        colour = PALETTE[2] if v >= 0 else PALETTE[1]
        label = name if len(name) <= 38 else name[:37] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{top + 16}" text-anchor="end" font-size="12">'
                     f"{escape(label)}</text>")
        parts.append(f'<rect x="{left:.1f}" y="{top + 4}" width="{max(width, 1):.1f}" height="{row_h - 8}" '
                     f'fill="{colour}"><title>{escape(name)}: {percent(v, style)}</title></rect>')
        # Value labels sit right of the bar, or right of the zero line for a decline.
        text_x = (left + width + 4) if v >= 0 else (zero + 4)
        parts.append(f'<text x="{text_x:.1f}" y="{top + 16}" font-size="12">'
                     f"{percent(v, style)}</text>")
    return "\n".join(parts) + "</svg>"


def _open(title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}" class="chart">\n<title>{escape(title)}</title>\n'
            f'<text x="{LEFT}" y="18" class="chart-title" font-size="14" font-weight="bold">{escape(title)}</text>')


def _axes(top: float, style: NumberStyle) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    lines = []
    for i in range(AXIS_STEPS + 1):
        value = top * i / AXIS_STEPS
        yy = TOP + plot_h * (1 - i / AXIS_STEPS)
        lines.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{WIDTH - RIGHT}" y2="{yy:.1f}" stroke="#e5e5e5"/>')
        lines.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11">'
                     f"{exact(value, style=style)}</text>")
    return "\n".join(lines)


def _month_ticks(months: Sequence[date], x: dict[date, float]) -> list[str]:
    every = max(1, math.ceil(len(months) / MAX_MONTH_LABELS))
    return [f'<text x="{x[m]:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11">'
            f"{m:%Y-%m}</text>" for i, m in enumerate(months) if i % every == 0]


def _polyline(points: list[str], colour: str) -> str:
    if len(points) < 2:
        return ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>'


def _legend(names: list[str]) -> str:
    parts, x, y = [], LEFT, HEIGHT - 22
    for index, name in enumerate(names):
        label = name if len(name) <= 30 else name[:29] + "…"
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[index % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{y}" font-size="11">{escape(label)}</text>')
        x += 24 + 6.5 * len(label)
        if x > WIDTH - 150:
            x, y = LEFT, y + 14
    return "\n".join(parts)


def _empty(title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 60" class="chart" role="img" '
            f'aria-label="{escape(title)}"><text x="10" y="34" font-size="13">{escape(title)}: no data</text></svg>')


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude
