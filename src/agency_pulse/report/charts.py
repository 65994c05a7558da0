"""Charts as static SVG drawn by matplotlib (Agg-free SVG canvas): no script, no network.

Promises, whatever the data:
- nothing is drawn outside the SVG's frame: the figure is cut to the bounding box of
  everything drawn (legend below the plot, long names shortened), at any number of series;
- colours never repeat within a chart (a colormap is sampled when there are many series);
- an agency's line joins only the pages counted at both ends of each step, so a page
  first counted in a month is a marked point, never drawn as growth;
- the output is byte-for-byte the same for the same input (fixed hash salt, no date);
- text is drawn as glyph paths (DejaVu Sans, which covers Azerbaijani letters), so no
  label can carry markup and its size is the same in every browser.

Every user-facing word comes from `chart_texts`, in the language of the `style` passed.
"""

from __future__ import annotations

import functools
import io
import re
import textwrap
from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: never a GUI backend in a server

from matplotlib import rc_context  # noqa: E402
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from agency_pulse.report.chart_texts import month_tick, text  # noqa: E402
from agency_pulse.report.numbers import ENGLISH, NumberStyle, exact, percent  # noqa: E402

WIDTH_IN = 10.0          # 720 pt: the SVG's viewBox is about 720 wide
HEIGHT_IN = 4.2
MAX_MONTH_LABELS = 12
LEGEND_COLUMNS = 3
MAX_LABEL = 40
# characters of a title line: about the plot's width at 13 pt bold, so a long title (an
# Azerbaijani one is a third longer than the English) adds a line, not width that would
# shrink the whole chart on the page
TITLE_CHARS = 64
RANKING_SHOWN = 15       # a ranking of many agencies shows its top and bottom 15
GOOD, BAD, PARTIAL = "#2ca02c", "#d62728", "#f0f0f0"
RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "agency-pulse",
    "svg.image_inline": True,
    "text.parse_math": False,   # a "$" in a name is a dollar sign, never TeX
    "font.family": "DejaVu Sans",
    # sizes in points of a 720-point-wide figure, shown at about 720 pixels: 1 pt ~ 1 px
    "font.size": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
}

Series = dict[date, float | None]


def _with_rc(function):
    """Draw under the project's settings (fonts, SVG output), never the process's."""
    @functools.wraps(function)
    def drawn(*args, **kwargs):
        with rc_context(RC):
            return function(*args, **kwargs)
    return drawn


def colours(count: int) -> list[str]:
    """`count` distinct colours: tab10, tab20, then evenly spaced samples of a colormap."""
    if count <= 10:
        cmap, picks = matplotlib.colormaps["tab10"], range(count)
        return [to_hex(cmap(i)) for i in picks]
    if count <= 20:
        cmap = matplotlib.colormaps["tab20"]
        return [to_hex(cmap(i)) for i in range(count)]
    cmap = matplotlib.colormaps["turbo"]
    found: list[str] = []
    for i in range(count):
        colour = to_hex(cmap(0.05 + 0.9 * i / (count - 1)))
        # hex rounding can merge two neighbours of a very long list: nudge the later one
        while colour in found:
            colour = _nudge(colour)
        found.append(colour)
    return found


@_with_rc
def line_chart(title: str, months: Sequence[date], series: dict[str, Series],
               style: NumberStyle = ENGLISH, *, partial: Mapping[date, object] | None = None,
               mark_first: bool = True) -> str:
    """One line per series over the months; gaps where a month has no value. A series
    whose first value comes after the chart's first month has that point marked as its
    first count (`mark_first`)."""
    months = list(months)
    if not months or not any(v is not None for s in series.values() for v in s.values()):
        return _empty(title, style)
    fig, ax = _figure(title)
    index = {m: i for i, m in enumerate(months)}
    _shade_partial(ax, months, partial)
    first_marked = False
    for n, (colour, (name, points)) in enumerate(zip(colours(len(series)), series.items(), strict=True)):
        xs = [index[m] for m in months]
        ys = [_float(points.get(m)) for m in months]
        ax.plot(xs, ys, color=colour, linewidth=1.8, marker="o", markersize=3, label=_short(name))
        present = [i for i, v in zip(xs, ys, strict=True) if v == v]
        if mark_first and present and present[0] > 0:
            ax.plot([present[0]], [ys[present[0]]], linestyle="none", marker="D", markersize=7,
                    markerfacecolor="white", markeredgecolor=colour, markeredgewidth=1.6,
                    gid=f"first-count-{n}-{present[0]}")
            first_marked = True
    _month_axis(ax, months)
    _count_axis(ax, style)
    extra = [_first_handle(style)] if first_marked else []
    extra += [_partial_handle(style)] if _any_partial(months, partial) else []
    _legend_below(ax, extra)
    return _svg(fig, title)


@_with_rc
def agency_chart(title: str, months: Sequence[date], agencies: dict[str, dict[str, Series]],
                 style: NumberStyle = ENGLISH, *, partial: Mapping[date, object] | None = None) -> str:
    """One line per agency over its accounts' month-end followers.

    At each month the point is the sum over the agency's accounts with a figure then. The
    segment from one month to the next is drawn over the accounts counted at *both*
    months only: it runs from their sum before to their sum after. A page first counted
    in a month adds a marked point (open diamond) above its segment's end, never a line
    going up; a page no longer counted leaves a gap below the previous point.
    """
    months = list(months)
    if not months or not any(v is not None for accounts in agencies.values()
                             for s in accounts.values() for v in s.values()):
        return _empty(title, style)
    fig, ax = _figure(title)
    _shade_partial(ax, months, partial)
    first_marked = False
    handles = []
    for n, (colour, (name, accounts)) in enumerate(zip(colours(len(agencies)), agencies.items(),
                                                        strict=True)):
        totals, steps, firsts = comparable_steps(months, accounts)
        xs = [i for i, t in enumerate(totals) if t is not None]
        ax.plot(xs, [totals[i] for i in xs], linestyle="none", marker="o", markersize=3,
                color=colour)
        handles.append(Line2D([], [], color=colour, linewidth=1.8, marker="o", markersize=3,
                              label=_short(name)))
        # ids (gid) let a test find each step and each first count in the drawn SVG
        for i, (before, after) in steps.items():
            ax.plot([i - 1, i], [before, after], color=colour, linewidth=1.8, gid=f"step-{n}-{i}")
        for i in firsts:
            ax.plot([i], [totals[i]], linestyle="none", marker="D", markersize=7,
                    markerfacecolor="white", markeredgecolor=colour, markeredgewidth=1.6,
                    gid=f"first-count-{n}-{i}")
            first_marked = True
    _month_axis(ax, months)
    _count_axis(ax, style)
    handles += [_first_handle(style)] if first_marked else []
    handles += [_partial_handle(style)] if _any_partial(months, partial) else []
    _legend_below(ax, handles, own=False)
    return _svg(fig, title)


def comparable_steps(months: Sequence[date], accounts: dict[str, Series]
                     ) -> tuple[list[float | None], dict[int, tuple[float, float]], list[int]]:
    """For one agency: the total per month (None: no account has a figure), the segment of
    each step i-1 -> i over the accounts with a figure at both ends (absent when none),
    and the months where an account is first counted after the chart's first month with
    data for the agency (linear in accounts x months)."""
    totals: list[float | None] = []
    steps: dict[int, tuple[float, float]] = {}
    firsts: list[int] = []
    seen: set[str] = set()
    started = False
    for i, month in enumerate(months):
        present = {name: s[month] for name, s in accounts.items() if s.get(month) is not None}
        totals.append(float(sum(present.values())) if present else None)
        if i > 0:
            previous = months[i - 1]
            both = [name for name in present if accounts[name].get(previous) is not None]
            if both:
                steps[i] = (float(sum(accounts[n][previous] for n in both)),
                            float(sum(accounts[n][month] for n in both)))
        if started and any(name not in seen for name in present):
            firsts.append(i)
        seen.update(present)
        started = started or bool(present)
    return totals, steps, firsts


@_with_rc
def bar_chart(title: str, months: Sequence[date], values: Series, style: NumberStyle = ENGLISH,
              colour: str = "#1f77b4", *, partial: Mapping[date, object] | None = None) -> str:
    """One bar per month; a partial month's bar is hatched."""
    months = list(months)
    if not months or not any(values.get(m) is not None for m in months):
        return _empty(title, style)
    fig, ax = _figure(title)
    for i, m in enumerate(months):
        v = values.get(m)
        if v is None:
            continue
        is_partial = bool(partial and m in partial)
        ax.bar([i], [v], width=0.7, color=PARTIAL if is_partial else colour,
               edgecolor=colour, hatch="///" if is_partial else None, linewidth=1)
    ax.set_xlim(-0.6, len(months) - 0.4)
    _month_axis(ax, months)
    _count_axis(ax, style)
    extra = [Patch(facecolor=PARTIAL, edgecolor=colour, hatch="///",
                   label=text("partial_month", style))] if _any_partial(months, partial) else []
    if extra:
        _legend_below(ax, extra, own=False)
    return _svg(fig, title)


@_with_rc
def ranking_chart(title: str, items: Sequence[tuple[str, float]],
                  style: NumberStyle = ENGLISH, *, total: int | None = None) -> str:
    """Horizontal bars of a percentage per name, largest first; declines go left. More
    than twice `RANKING_SHOWN` names: the top and bottom ones, and the title says so.

    `total`: how many names the ranking holds when `items` are already only its top and
    bottom `RANKING_SHOWN` (a caller that ranks in SQL, see `leaderboards.growth_ranking`);
    the title then says `total`."""
    if not items:
        return _empty(title, style)
    items = sorted(items, key=lambda item: item[1], reverse=True)
    count = max(len(items), total or 0)
    if count > 2 * RANKING_SHOWN:
        title = text("ranking_cut", style, title=title, top=RANKING_SHOWN, bottom=RANKING_SHOWN,
                     total=exact(count, style=style))
        items = items[:RANKING_SHOWN] + items[-RANKING_SHOWN:]
    fig = Figure(figsize=(WIDTH_IN, 1.0 + 0.3 * len(items)))
    ax = fig.add_subplot()
    _title(ax, title)
    ys = list(range(len(items)))
    values = [v for _, v in items]
    ax.barh(ys, values, color=[GOOD if v >= 0 else BAD for v in values], height=0.65)
    ax.set_yticks(ys, [_short(name) for name, _ in items])
    ax.invert_yaxis()
    ax.axvline(0, color="#999999", linewidth=0.8)
    span = max(abs(v) for v in values) or 1.0
    low, high = min(0.0, min(values)), max(0.0, max(values))
    # room for the value labels on both sides, inside the axes
    ax.set_xlim(low - 0.25 * span if low < 0 else -0.02 * span, high + 0.25 * span)
    for y, v in zip(ys, values, strict=True):
        ax.text(v, y, f" {percent(v, style)} ", va="center", ha="left" if v >= 0 else "right",
                fontsize=10)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: percent(v, style)))
    ax.tick_params(axis="y", length=0)
    return _svg(fig, title)


# -- drawing helpers ---------------------------------------------------------------------

def _figure(title: str):
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
    ax = fig.add_subplot()
    _title(ax, title)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _title(ax, title: str) -> None:
    # a plain text above the axes: Axes.set_title re-measures every tick label to place
    # itself, which is a third of a small chart's drawing time
    ax.text(0, 1.03, textwrap.fill(title, TITLE_CHARS), transform=ax.transAxes, ha="left", va="bottom",
            fontsize=matplotlib.rcParams["axes.titlesize"], fontweight="bold")


def _month_axis(ax, months: list[date]) -> None:
    every = max(1, -(-len(months) // MAX_MONTH_LABELS))
    ticks = list(range(0, len(months), every))
    ax.set_xticks(ticks, [month_tick(months[i]) for i in ticks], rotation=0)
    ax.set_xlim(-0.6, len(months) - 0.4)


def _count_axis(ax, style: NumberStyle) -> None:
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: exact(v, style=style)))


def _shade_partial(ax, months: list[date], partial: Mapping[date, object] | None) -> None:
    for i, m in enumerate(months):
        if partial and m in partial:
            ax.axvspan(i - 0.5, i + 0.5, facecolor=PARTIAL, hatch="///", edgecolor="#cccccc",
                       linewidth=0, zorder=0)


def _any_partial(months: list[date], partial: Mapping[date, object] | None) -> bool:
    return bool(partial) and any(m in partial for m in months)


def _first_handle(style: NumberStyle) -> Line2D:
    return Line2D([], [], linestyle="none", marker="D", markersize=7, markerfacecolor="white",
                  markeredgecolor="#333333", label=text("first_counted", style))


def _partial_handle(style: NumberStyle) -> Patch:
    return Patch(facecolor=PARTIAL, edgecolor="#cccccc", hatch="///", label=text("partial_month", style))


def _legend_below(ax, extra: list, *, own: bool = True) -> None:
    """The legend under the plot, in up to three columns; the saved figure is cut to fit it."""
    handles, labels = ax.get_legend_handles_labels() if own else ([], [])
    handles, labels = handles + extra, labels + [h.get_label() for h in extra]
    if not handles:
        return
    # as many columns as fit the figure's width (about 6 pt a character at 10 pt), so
    # the figure keeps its width and the rows add height instead
    widest = max(len(label) for label in labels)
    fit = max(1, int(620 // (6 * widest + 40)))
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0, -0.13), frameon=False,
              ncols=min(LEGEND_COLUMNS, fit, len(handles)), borderaxespad=0)


def _svg(fig: Figure, title: str) -> str:
    """The figure as an inline <svg> element: cut to everything drawn, no XML prologue,
    no date, a <title> and an aria-label for screen readers."""
    buffer = io.StringIO()
    # a salt per chart keeps clip-path ids unique when several charts share a page
    with rc_context({"svg.hashsalt": f"agency-pulse:{title}"}):
        FigureCanvasSVG(fig)
        fig.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.12,
                    metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<svg [^>]*?(viewBox=\"[^\"]+\")[^>]*>",
                 lambda m: (f'<svg xmlns="http://www.w3.org/2000/svg" '
                            f'xmlns:xlink="http://www.w3.org/1999/xlink" {m.group(1)} '
                            f'class="chart" role="img" aria-label="{escape(title)}">'
                            f"<title>{escape(title)}</title>"),
                 svg, count=1)
    return svg.strip()


def _empty(title: str, style: NumberStyle) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 60" class="chart" role="img" '
            f'aria-label="{escape(title)}"><text x="10" y="34" font-size="13">'
            f'{escape(text("no_data", style, title=title))}</text></svg>')


def _short(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[:MAX_LABEL - 1] + "…"


def _float(value) -> float:
    return float("nan") if value is None else float(value)


def _nudge(colour: str) -> str:
    value = (int(colour[1:], 16) + 1) % 0x1000000
    return f"#{value:06x}"
