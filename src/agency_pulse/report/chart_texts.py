"""Every reader-facing word the charts, the partial-month marks and the metric caveats add.

One table so a translation wraps them in one place: `text(key, **values)` formats the
English template; a language module may replace `TEXTS` entries (same keys, same
placeholders).
"""

from __future__ import annotations

from datetime import date

TEXTS: dict[str, str] = {
    "no_data": "{title}: no data",
    "first_counted": "account first counted (not growth)",
    "partial_month": "partial month",
    "partial_start": "{month} is a partial month: data from {day}.",
    "partial_end": "{month} is a partial month: data to {day}.",
    "within_rounding": "within rounding",
    "youtube_rounding": ("YouTube shows subscriber counts rounded to three significant figures: "
                         "a change no larger than the rounding step is shown as \"within rounding\"."),
    "ranking_cut": "{title} (top {top} and bottom {bottom} of {total})",
    "agency_followers": "Followers by agency, month by month (lines join pages counted at both ends)",
    "account_followers": "Followers by account, month by month",
    "agency_posts": "Posts per month",
    "all_posts": "Posts per month, all agencies",
    "growth_ranking": "Follower growth ranking (pages counted at both ends)",
    "growth_year": "Follower growth {year} (pages counted at both ends)",
}


def text(key: str, **values) -> str:
    return TEXTS[key].format(**values)


def month_tick(month: date) -> str:
    """A month on a chart's axis: language-neutral ISO."""
    return f"{month:%Y-%m}"
