"""Metric caveats a reader needs next to a figure.

YouTube's public subscriber counts are rounded down to three significant figures
(the platform's own rule): 12,345 subscribers show as 12,300, so a change no larger
than one rounding step at that size (100 here) may be no change at all, or nearly twice
the step. Such a change is shown as "within rounding", never as growth or a loss.
"""

from __future__ import annotations

from agency_pulse import platforms

# platform -> significant figures of its public counts (the platform table says which)
ROUNDED_PLATFORMS = {p.name: p.count_significant_figures for p in platforms.TABLE
                     if p.count_significant_figures}


def has_rounded_counts(platform: str) -> bool:
    """True when `platform`'s public counts are rounded (a reader needs the caveat)."""
    return platform in ROUNDED_PLATFORMS


def rounding_step(platform: str, count: int | float | None) -> int:
    """The step between two public counts of this size on `platform` (1: exact)."""
    figures = ROUNDED_PLATFORMS.get(platform)
    if figures is None or count is None or abs(count) < 10 ** figures:
        return 1
    return 10 ** (len(str(int(abs(count)))) - figures)


def within_rounding(platform: str, row: dict | None) -> bool:
    """True when `row` (an account mart row) has a follower change no larger than the
    rounding step of its platform's public counts at the larger of its two ends."""
    if not row or row.get("followers_change") is None:
        return False
    size = max(row.get("followers_start") or 0, row.get("followers_end") or 0)
    step = rounding_step(platform, size)
    return step > 1 and abs(row["followers_change"]) <= step


def has_rounded_counts_in(con, period) -> bool:
    """True when any account has a mart row for `period` (a `figures.Period`) on a platform
    whose counts are rounded: the pages that show such figures carry the caveat. One
    query, whatever the number of accounts."""
    grain, suffix = period.grain, period.kind
    return bool(con.execute(
        f"select exists (select 1 from marts.account_{suffix} where {grain} = ? "
        "and list_contains(?, platform))", [period.key, sorted(ROUNDED_PLATFORMS)]).fetchone()[0])
