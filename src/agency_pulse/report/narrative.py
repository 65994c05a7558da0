"""One paragraph per agency, written from its figures by fixed rules.

Rules, in the order the sentences appear (every figure is also given exactly, so a
reader can check it against the marts):

1. Standing: rank by followers, total followers and accounts; a successor agency names
   the agencies it replaced.
2. Followers, per account with a start and an end figure:
   - ratio >= 1.9: a multiple ("doubled", "tripled", "grew 5-fold") to the rounded end;
   - change >= +2%: "grew N% to ...";  within ±2%: "held steady at ...";
   - change <= -2%: "fell from X to Y" ("less than half" when the ratio is <= 0.5).
   An account with an end figure but no start is new in the data, never a loss: for an
   agency that succeeds others it "opened a new page after the reorganisation",
   otherwise it "was first counted in <month>".
3. Activity, from the account's status at the period's end: active ("posted N times,
   M a week"), low ("posted rarely"), stale ("quiet since <date>"), dormant ("the only
   post on the page is from <year>" when the marts know of exactly one post ever,
   otherwise "dormant: the last post is from <date>"), unknown ("no post data").
4. Video and live share of the period's posts: live streams when >= 20% (every post,
   most posts, or the share); video when >= 20% (not for YouTube, where every upload is
   a video).
5. Platforms present (an account with data) and absent (no account at all).
6. Missing data: every registry account without a row in the period, with the reason
   from the extract log when there is one.
"""

from __future__ import annotations

from datetime import date

from agency_pulse import platforms
from agency_pulse.config import PLATFORMS
from agency_pulse.report.figures import AccountFigures, AgencyFigures, ReportFigures
from agency_pulse.report.numbers import (
    ENGLISH,
    NumberStyle,
    approximate,
    exact,
    long_date,
    month_name,
    percent,
)

PLATFORM_LABELS = {p.name: p.label for p in platforms.TABLE}
MULTIPLES = {2: "doubled", 3: "tripled", 4: "quadrupled"}
STRIKING_RATIO = 1.9
STEADY_PCT = 2.0
NOTABLE_SHARE = 0.2


def platform_label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform)


def account_label(account: AccountFigures) -> str:
    return f"{platform_label(account.platform)} @{account.handle}"


def agency_paragraph(agency: AgencyFigures, figures: ReportFigures,
                     style: NumberStyle = ENGLISH) -> str:
    """The agency's paragraph for the period, as plain text (the renderer escapes it)."""
    return " ".join(agency_sentences(agency, figures, style))


def agency_sentences(agency: AgencyFigures, figures: ReportFigures,
                     style: NumberStyle = ENGLISH) -> list[str]:
    sentences = [_standing(agency, figures, style)]
    for account in agency.accounts:
        if account.row is None:
            continue
        parts = [p for p in (_followers(account, agency, style), _activity(account, figures, style),
                             _formats(account)) if p]
        sentences.append(_capitalise(f"{account_label(account)}: " + "; ".join(parts) + "."))
    sentences.append(_platforms(agency))
    sentences.extend(_missing(agency, figures))
    return [s for s in sentences if s]


def _standing(agency: AgencyFigures, figures: ReportFigures, style: NumberStyle) -> str:
    successor = ""
    if agency.successor_of:
        names = [figures.agency_names.get(a, a) for a in agency.successor_of]
        successor = f" It succeeds the {_join(names)}."
    row = agency.row
    if row is None or row.get("followers_end") is None:
        return (f"No follower figures for {agency.name_en or agency.name} in this period."
                + successor).strip()
    accounts = row.get("accounts") or len([a for a in agency.accounts if a.row])
    text = (f"Ranked {row['rank_followers']} by followers, with {exact(row['followers_end'], style=style)} "
            f"across {accounts} account{'s' if accounts != 1 else ''}")
    if row.get("followers_growth_pct") is not None:
        text += f" ({percent(row['followers_growth_pct'], style)} on the pages counted at both ends)"
    return text + "." + successor


def _followers(account: AccountFigures, agency: AgencyFigures, style: NumberStyle) -> str:
    row = account.row
    start, end = row.get("followers_start"), row.get("followers_end")
    if end is None:
        return "no follower count in this period"
    if start is None:
        return _new_account(account, agency, end, style)
    figures = f"({exact(start, style=style)} → {exact(end, style=style)}"
    if start == 0:
        return f"followers rose from none to {approximate(end, style)} {figures})"
    ratio = end / start
    pct = 100 * (end - start) / start
    if ratio >= STRIKING_RATIO:
        multiple = round(ratio)
        qualifier = "nearly " if ratio < multiple * 0.97 else "more than " if ratio > multiple * 1.03 else ""
        word = (f"{qualifier}{MULTIPLES[multiple]}" if multiple in MULTIPLES
                else f"grew {qualifier}{multiple}-fold")
        return f"followers {word} to {approximate(end, style)} {figures})"
    if pct >= STEADY_PCT:
        return f"followers grew {percent(pct, style, sign=False)} to {approximate(end, style)} {figures})"
    if pct > -STEADY_PCT:
        return f"followers held steady at {approximate(end, style)} {figures})"
    halved = ", less than half" if ratio <= 0.5 else ""
    return (f"followers fell from {approximate(start, style)} to {approximate(end, style)}"
            f"{halved} {figures}, {percent(pct, style)})")


def _new_account(account: AccountFigures, agency: AgencyFigures, end: int,
                 style: NumberStyle) -> str:
    """An account with no count before the period: new in the data, never a loss."""
    first = next((r for r in account.monthly if r.get("followers_end") is not None), None)
    counted = ""
    if first:
        counted = (f"{exact(first['followers_end'], style=style)} followers "
                   f"in {month_name(first['month'], style)}")
    if agency.successor_of:
        text = "opened a new page after the reorganisation" + (f", first counted with {counted}" if first else "")
    else:
        text = f"first counted with {counted}" if first else "first counted in this period"
    if not first or first["followers_end"] != end:
        text += f", now {exact(end, style=style)}"
    return text


def _activity(account: AccountFigures, figures: ReportFigures, style: NumberStyle) -> str:
    row = account.row
    status = row.get("activity_status")
    posts = row.get("posts")
    last = row.get("last_post_at")
    last_day: date | None = last.date() if hasattr(last, "date") else last
    if status == "dormant":
        if account.lifetime_posts == 1 and last_day:
            return f"the only post on the page is from {last_day.year}"
        if last_day:
            return f"dormant: the last post is from {long_date(last_day, style)}"
        return "dormant: it has never posted"
    if status == "active" and posts:
        return (f"posted {exact(posts, style=style)} times "
                f"({exact(posts / figures.weeks, 1, style)} a week)")
    if status == "low":
        count = f"{exact(posts, style=style)} posts" if posts is not None else "few posts"
        tail = f", the last on {long_date(last_day, style)}" if last_day else ""
        return f"posted rarely: {count}{tail}"
    if status == "stale" and last_day:
        return f"quiet since {long_date(last_day, style)}"
    if status == "unknown" or (posts is None and not last_day):
        return "no post data"
    if posts is not None:
        return f"posted {exact(posts, style=style)} times"
    return ""


def _formats(account: AccountFigures) -> str:
    row = account.row
    posts = row.get("posts") or 0
    if posts <= 0:
        return ""
    parts = []
    live = row.get("live_posts") or 0
    video = row.get("video_posts") or 0
    if live == posts:
        parts.append("every post was a live stream")
    elif live / posts >= 0.5:
        parts.append(f"most posts were live streams ({round(100 * live / posts)}%)")
    elif live / posts >= NOTABLE_SHARE:
        parts.append(f"{round(100 * live / posts)}% of posts were live streams")
    # Where every post is a video (YouTube) a video share says nothing.
    videos_only = getattr(platforms.BY_NAME.get(account.platform), "posts_are_videos", False)
    if not videos_only and live != posts:
        if video / posts >= 0.5:
            parts.append(f"mostly video ({round(100 * video / posts)}% of posts)")
        elif video / posts >= NOTABLE_SHARE:
            parts.append(f"video made up {round(100 * video / posts)}% of posts")
    return "; ".join(parts)


def _platforms(agency: AgencyFigures) -> str:
    present = agency.platforms
    registered = {a.platform for a in agency.accounts}
    absent = [p for p in PLATFORMS if p not in registered]
    text = ""
    if present:
        text = f"Present on {_join([platform_label(p) for p in present])}"
    if absent:
        text += ("; " if text else "") + f"no account on {_join([platform_label(p) for p in absent], 'or')}"
    return _capitalise(text + ".") if text else ""


def _missing(agency: AgencyFigures, figures: ReportFigures) -> list[str]:
    notes = []
    for account in agency.accounts:
        if account.row is not None:
            continue
        notes.append(f"No data for {account_label(account)} in this period{_why(account)}.")
    return notes


def missing_data_reason(account: AccountFigures) -> str:
    """Why an account has no figures, for the coverage note."""
    return _why(account).removeprefix(": ") or "no observation in the period"


def _why(account: AccountFigures) -> str:
    if account.extract_status in (None, "ok", "success"):
        return ""
    reason = f" ({account.extract_reason})" if account.extract_reason else ""
    return f": the last extraction reported {account.extract_status}{reason}"


def _join(items: list[str], conjunction: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
