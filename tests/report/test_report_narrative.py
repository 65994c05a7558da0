"""Sentence rules on single accounts, without a warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from agency_pulse.report.figures import AccountFigures, AgencyFigures, Period, ReportFigures
from agency_pulse.report.narrative import agency_paragraph


def _paragraph(row: dict, *, successor_of=(), lifetime_posts=None, monthly=(), platform="facebook") -> str:
    base = {"followers_start": None, "followers_end": None, "posts": None, "video_posts": None,
            "live_posts": None, "engagement": None, "last_post_at": None, "activity_status": "unknown"}
    account = AccountFigures(account_id=f"{platform}:page", platform=platform, handle="page",
                             row={**base, **row}, lifetime_posts=lifetime_posts, monthly=list(monthly))
    agency = AgencyFigures(agency_id="a", name="Agentlik", name_en="Agency", successor_of=list(successor_of),
                           row={"rank_followers": 1, "followers_end": row.get("followers_end"), "accounts": 1},
                           accounts=[account])
    figures = ReportFigures(period=Period.year(2026), covered_until=date(2026, 12, 31), agencies=[agency],
                            account_rows=[account.row], months=[], agency_names={"old": "Old Agency"})
    return agency_paragraph(agency, figures)


@pytest.mark.parametrize(("start", "end", "words"), [
    (1000, 3000, "followers tripled to 3 thousand (1,000 → 3,000)"),
    (1000, 5200, "followers grew more than 5-fold to 5.2 thousand (1,000 → 5,200)"),
    (10_000, 19_200, "followers nearly doubled to over 19 thousand"),
    (10_000, 13_400, "followers grew 34% to over 13 thousand (10,000 → 13,400)"),
    (10_000, 10_100, "followers held steady at over 10 thousand"),
    (10_000, 8_000, "followers fell from 10 thousand to 8 thousand (10,000 → 8,000, −20%)"),
])
def test_follower_sentences(start, end, words):
    assert words in _paragraph({"followers_start": start, "followers_end": end})


def test_new_account_without_reorganisation_is_first_counted_not_lost():
    text = _paragraph({"followers_end": 900}, monthly=[{"month": date(2026, 5, 1), "followers_end": 400}])
    assert "first counted with 400 followers in May 2026, now 900" in text
    assert "fell" not in text and "reorganisation" not in text


def test_new_page_after_reorganisation_names_the_predecessor():
    text = _paragraph({"followers_end": 900}, successor_of=["old"],
                      monthly=[{"month": date(2026, 5, 1), "followers_end": 900}])
    assert "opened a new page after the reorganisation, first counted with 900 followers in May 2026;" in text
    assert ", now" not in text
    assert "It succeeds the Old Agency." in text


def test_dormancy_with_the_date_of_the_last_post():
    text = _paragraph({"followers_start": 10, "followers_end": 10, "posts": 0, "activity_status": "dormant",
                       "last_post_at": datetime(2019, 3, 12, tzinfo=UTC)}, lifetime_posts=40)
    assert "dormant: the last post is from 12 March 2019" in text


def test_live_and_video_shares():
    every_live = _paragraph({"followers_end": 10, "posts": 8, "live_posts": 8, "video_posts": 8,
                             "activity_status": "active"})
    assert "every post was a live stream" in every_live
    video = _paragraph({"followers_end": 10, "posts": 10, "live_posts": 0, "video_posts": 7,
                        "activity_status": "active"})
    assert "mostly video (70% of posts)" in video
    youtube = _paragraph({"followers_end": 10, "posts": 10, "live_posts": 0, "video_posts": 10,
                          "activity_status": "active"}, platform="youtube")
    assert "video" not in youtube.split("YouTube @page:")[1].split(".")[0]


def test_missing_follower_count_is_said():
    assert "no follower count in this period" in _paragraph({"posts": 3, "activity_status": "active"})
