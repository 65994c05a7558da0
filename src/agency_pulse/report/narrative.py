"""One paragraph per agency, written from its figures by fixed rules, in the language of
the `NumberStyle` given (the words are the catalog's: `agency_pulse.i18n`).

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
    share,
)

PLATFORM_LABELS = {p.name: p.label for p in platforms.TABLE}
NAMED_MULTIPLES = (2, 3, 4)
STRIKING_RATIO = 1.9
STEADY_PCT = 2.0
NOTABLE_SHARE = 0.2


def platform_label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform)


def account_label(account: AccountFigures) -> str:
    return f"{platform_label(account.platform)} @{account.handle}"


def agency_name(agency: AgencyFigures, style: NumberStyle = ENGLISH) -> str:
    """The agency's name in the reader's language: English readers get `agency_name_en`
    (the Azerbaijani name when there is none), Azerbaijani readers `agency_name`."""
    if style.language == "az":
        return agency.name
    return agency.name_en or agency.name


def agency_heading(agency: AgencyFigures, style: NumberStyle = ENGLISH) -> str:
    """The heading of the agency's section: 'Ministry of Culture (Mədəniyyət Nazirliyi)' in
    English, the Azerbaijani name alone in Azerbaijani."""
    return agency.name if style.language == "az" else agency.display_name


def agency_paragraph(agency: AgencyFigures, figures: ReportFigures,
                     style: NumberStyle = ENGLISH) -> str:
    """The agency's paragraph for the period, as plain text (the renderer escapes it)."""
    return " ".join(agency_sentences(agency, figures, style))


def agency_sentences(agency: AgencyFigures, figures: ReportFigures,
                     style: NumberStyle = ENGLISH) -> list[str]:
    text = style.text
    sentences = [_standing(agency, figures, style)]
    for account in agency.accounts:
        if account.row is None:
            continue
        parts = [p for p in (_followers(account, agency, style), _activity(account, figures, style),
                             _formats(account, style)) if p]
        sentences.append(_capitalise(text.text("account.sentence", account=account_label(account),
                                               details="; ".join(parts))))
    sentences.append(_platforms(agency, style))
    sentences.extend(_missing(agency, style))
    return [s for s in sentences if s]


def _standing(agency: AgencyFigures, figures: ReportFigures, style: NumberStyle) -> str:
    text = style.text
    successor = ""
    if agency.successor_of:
        names = [_predecessor_name(a, figures, style) for a in agency.successor_of]
        successor = " " + text.plural("standing.successor", len(names), agencies=text.join(names))
    row = agency.row
    if row is None or row.get("followers_end") is None:
        return (text.text("standing.no_followers", agency=agency_name(agency, style)) + successor).strip()
    accounts = row.get("accounts") or len([a for a in agency.accounts if a.row])
    values = {"rank": row["rank_followers"], "followers": exact(row["followers_end"], style=style),
              "accounts": accounts}
    if row.get("followers_growth_pct") is not None:
        sentence = text.plural("standing.ranked_growth", accounts,
                               growth=percent(row["followers_growth_pct"], style), **values)
    else:
        sentence = text.plural("standing.ranked", accounts, **values)
    return sentence + successor


def _predecessor_name(agency_id: str, figures: ReportFigures, style: NumberStyle) -> str:
    if style.language == "az":
        local = figures.agency_names_az
        if agency_id in local:
            return local[agency_id]
    return figures.agency_names.get(agency_id, agency_id)


def _followers(account: AccountFigures, agency: AgencyFigures, style: NumberStyle) -> str:
    text = style.text
    row = account.row
    start, end = row.get("followers_start"), row.get("followers_end")
    if end is None:
        return text.text("followers.none")
    if start is None:
        return _new_account(account, agency, end, style)
    exact_start, exact_end = exact(start, style=style), exact(end, style=style)
    figures = text.text("followers.figures", start=exact_start, end=exact_end)
    if start == 0:
        return text.text("followers.from_none", end=approximate(end, style), figures=figures)
    ratio = end / start
    pct = 100 * (end - start) / start
    if ratio >= STRIKING_RATIO:
        multiple = round(ratio)
        qualifier = ".nearly" if ratio < multiple * 0.97 else ".more" if ratio > multiple * 1.03 else ""
        key = f"multiple.{multiple if multiple in NAMED_MULTIPLES else 'n'}{qualifier}"
        return text.text("followers.multiple", multiple=text.text(key, n=multiple),
                         end=approximate(end, style), figures=figures)
    if pct >= STEADY_PCT:
        return text.text("followers.grew", change=percent(pct, style, sign=False),
                         end=approximate(end, style), figures=figures)
    if pct > -STEADY_PCT:
        return text.text("followers.steady", end=approximate(end, style), figures=figures)
    figures = text.text("followers.figures_change", start=exact_start, end=exact_end,
                        change=percent(pct, style))
    key = "followers.fell_halved" if ratio <= 0.5 else "followers.fell"
    return text.text(key, start=approximate(start, style), end=approximate(end, style), figures=figures)


def _new_account(account: AccountFigures, agency: AgencyFigures, end: int,
                 style: NumberStyle) -> str:
    """An account with no count before the period: new in the data, never a loss."""
    text = style.text
    first = next((r for r in account.monthly if r.get("followers_end") is not None), None)
    counted = ""
    if first:
        counted = text.plural("new.counted", first["followers_end"],
                              followers=exact(first["followers_end"], style=style),
                              month=month_name(first["month"], style))
    if agency.successor_of:
        words = (text.text("new.successor_counted", counted=counted) if first
                 else text.text("new.successor"))
    else:
        words = (text.text("new.first_counted", counted=counted) if first
                 else text.text("new.first_in_period"))
    if not first or first["followers_end"] != end:
        words += text.text("new.now", followers=exact(end, style=style))
    return words


def _activity(account: AccountFigures, figures: ReportFigures, style: NumberStyle) -> str:
    text = style.text
    row = account.row
    status = row.get("activity_status")
    posts = row.get("posts")
    last = row.get("last_post_at")
    last_day: date | None = last.date() if hasattr(last, "date") else last
    if status == "dormant":
        if account.lifetime_posts == 1 and last_day:
            return text.text("activity.only_post", year=last_day.year)
        if last_day:
            return text.text("activity.dormant_since", date=long_date(last_day, style))
        return text.text("activity.never_posted")
    if status == "active" and posts:
        return text.plural("activity.active", posts, posts=exact(posts, style=style),
                           rate=exact(posts / figures.weeks, 1, style))
    if status == "low":
        count = (text.plural("activity.low.posts", posts, posts=exact(posts, style=style))
                 if posts is not None else text.text("activity.low.few"))
        tail = text.text("activity.low.last", date=long_date(last_day, style)) if last_day else ""
        return text.text("activity.low", count=count, last=tail)
    if status == "stale" and last_day:
        return text.text("activity.stale", date=long_date(last_day, style))
    if status == "unknown" or (posts is None and not last_day):
        return text.text("activity.unknown")
    if posts is not None:
        return text.plural("activity.posted", posts, posts=exact(posts, style=style))
    return ""


def _formats(account: AccountFigures, style: NumberStyle = ENGLISH) -> str:
    text = style.text
    row = account.row
    posts = row.get("posts") or 0
    if posts <= 0:
        return ""
    parts = []
    live = row.get("live_posts") or 0
    video = row.get("video_posts") or 0
    if live == posts:
        parts.append(text.text("formats.all_live"))
    elif live / posts >= 0.5:
        parts.append(text.text("formats.mostly_live", share=share(100 * live / posts, style)))
    elif live / posts >= NOTABLE_SHARE:
        parts.append(text.text("formats.some_live", share=share(100 * live / posts, style)))
    # Where every post is a video (YouTube) a video share says nothing.
    videos_only = getattr(platforms.BY_NAME.get(account.platform), "posts_are_videos", False)
    if not videos_only and live != posts:
        if video / posts >= 0.5:
            parts.append(text.text("formats.mostly_video", share=share(100 * video / posts, style)))
        elif video / posts >= NOTABLE_SHARE:
            parts.append(text.text("formats.some_video", share=share(100 * video / posts, style)))
    return "; ".join(parts)


def _platforms(agency: AgencyFigures, style: NumberStyle = ENGLISH) -> str:
    text = style.text
    present = agency.platforms
    registered = {a.platform for a in agency.accounts}
    absent = [p for p in PLATFORMS if p not in registered]
    absent_names = text.join([platform_label(p) for p in absent], "none_of")
    if present:
        sentence = text.text("platforms.present", platforms=text.join([platform_label(p) for p in present]))
        if absent:
            sentence += "; " + text.text("platforms.absent", platforms=absent_names)
    elif absent:
        sentence = text.text("platforms.absent_only", platforms=absent_names)
    else:
        return ""
    return sentence + "."


def _missing(agency: AgencyFigures, style: NumberStyle = ENGLISH) -> list[str]:
    text = style.text
    notes = []
    for account in agency.accounts:
        if account.row is not None:
            continue
        why = _why(account, style)
        notes.append(text.text("missing.account_why", account=account_label(account), why=why) if why
                     else text.text("missing.account", account=account_label(account)))
    return notes


def missing_data_reason(account: AccountFigures, style: NumberStyle = ENGLISH) -> str:
    """Why an account has no figures, for the coverage note."""
    return _why(account, style) or style.text.text("missing.no_observation")


def _why(account: AccountFigures, style: NumberStyle) -> str:
    if account.extract_status in (None, "ok", "success"):
        return ""
    status = style.text.word("extract", account.extract_status)
    if account.extract_reason:
        return style.text.text("missing.why_reason", status=status, reason=account.extract_reason)
    return style.text.text("missing.why", status=status)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
