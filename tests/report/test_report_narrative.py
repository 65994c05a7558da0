"""Sentence rules on single accounts, without a warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from agency_pulse.report.figures import AccountFigures, AgencyFigures, Period, ReportFigures
from agency_pulse.report.narrative import agency_paragraph
from agency_pulse.report.numbers import ENGLISH, style_for

AZ = style_for("az")


def _paragraph(row: dict, *, successor_of=(), lifetime_posts=None, monthly=(), platform="facebook",
               style=ENGLISH, rank=1, accounts=1, growth=None) -> str:
    base = {"followers_start": None, "followers_end": None, "posts": None, "video_posts": None,
            "live_posts": None, "engagement": None, "last_post_at": None, "activity_status": "unknown"}
    account = AccountFigures(account_id=f"{platform}:page", platform=platform, handle="page",
                             row={**base, **row}, lifetime_posts=lifetime_posts, monthly=list(monthly))
    agency = AgencyFigures(agency_id="a", name="Agentlik", name_en="Agency", successor_of=list(successor_of),
                           row={"rank_followers": rank, "followers_end": row.get("followers_end"),
                                "accounts": accounts, "followers_growth_pct": growth},
                           accounts=[account])
    figures = ReportFigures(period=Period.year(2026), covered_until=date(2026, 12, 31), agencies=[agency],
                            account_rows=[account.row], months=[], agency_names={"old": "Old Agency"},
                            agency_names_az={"old": "Köhnə Agentlik"})
    return agency_paragraph(agency, figures, style)


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


# ---------------------------------------------------------------- both languages, whole sentences

@pytest.mark.parametrize(("start", "end", "english", "azerbaijani"), [
    (1000, 3000, "Facebook @page: followers tripled to 3 thousand (1,000 → 3,000); no post data.",
     "Facebook @page: izləyici sayı üç dəfə artaraq 3 min olub (1.000 → 3.000); paylaşım məlumatı yoxdur."),
    (1000, 5200, "Facebook @page: followers grew more than 5-fold to 5.2 thousand (1,000 → 5,200); no post data.",
     "Facebook @page: izləyici sayı 5 dəfədən çox artaraq 5,2 min olub (1.000 → 5.200); paylaşım məlumatı yoxdur."),
    (10_000, 19_200, "Facebook @page: followers nearly doubled to over 19 thousand (10,000 → 19,200); no post data.",
     "Facebook @page: izləyici sayı təxminən iki dəfə artaraq 19 mindən çox olub (10.000 → 19.200); "
     "paylaşım məlumatı yoxdur."),
    (10_000, 13_400, "Facebook @page: followers grew 34% to over 13 thousand (10,000 → 13,400); no post data.",
     "Facebook @page: izləyici sayı 34% artaraq 13 mindən çox olub (10.000 → 13.400); paylaşım məlumatı yoxdur."),
    (10_000, 10_100, "Facebook @page: followers held steady at over 10 thousand (10,000 → 10,100); no post data.",
     "Facebook @page: izləyici sayı demək olar ki, dəyişməyib: 10 mindən çox (10.000 → 10.100); "
     "paylaşım məlumatı yoxdur."),
    (10_000, 8_000, "Facebook @page: followers fell from 10 thousand to 8 thousand (10,000 → 8,000, −20%); no post data.",
     "Facebook @page: izləyici sayı 10 min idi, azalaraq 8 min olub (10.000 → 8.000, −20%); "
     "paylaşım məlumatı yoxdur."),
    (10_000, 4_000, "Facebook @page: followers fell from 10 thousand to 4 thousand, less than half "
                    "(10,000 → 4,000, −60%); no post data.",
     "Facebook @page: izləyici sayı yarıdan çox azalıb: 10 min idi, 4 min olub (10.000 → 4.000, −60%); "
     "paylaşım məlumatı yoxdur."),
])
def test_follower_sentences_in_both_languages(start, end, english, azerbaijani):
    row = {"followers_start": start, "followers_end": end}
    assert english in _paragraph(row)
    assert azerbaijani in _paragraph(row, style=AZ)


def test_standing_sentence_in_both_languages():
    row = {"followers_start": 12_000, "followers_end": 22_900}
    assert _paragraph(row, rank=3, accounts=2, growth=90.8).startswith(
        "Ranked 3rd by followers, with 22,900 across 2 accounts (+91% on the pages counted at both ends).")
    assert _paragraph(row, style=AZ, rank=3, accounts=2, growth=90.8).startswith(
        "İzləyici sayına görə 3-cü yerdədir: 2 hesabda cəmi 22.900 izləyici "
        "(hər iki tarixdə sayılan səhifələr üzrə +91%).")
    assert _paragraph(row, rank=1).startswith("Ranked 1st by followers, with 22,900 across 1 account.")
    assert _paragraph(row, style=AZ, rank=6).startswith(
        "İzləyici sayına görə 6-cı yerdədir: 1 hesabda cəmi 22.900 izləyici.")


def test_new_page_after_reorganisation_in_azerbaijani_names_the_predecessor_in_azerbaijani():
    text = _paragraph({"followers_end": 900}, successor_of=["old"], style=AZ,
                      monthly=[{"month": date(2026, 5, 1), "followers_end": 400}])
    assert "Əvəz etdiyi qurum: Köhnə Agentlik." in text
    assert ("Facebook @page: yenidənqurmadan sonra yeni səhifə açıb, ilk sayım: 400 izləyici (may 2026), "
            "indi 900; paylaşım məlumatı yoxdur.") in text
    first = _paragraph({"followers_end": 1}, monthly=[{"month": date(2026, 5, 1), "followers_end": 1}])
    assert "first counted with 1 follower in May 2026;" in first


@pytest.mark.parametrize(("row", "lifetime", "english", "azerbaijani"), [
    ({"posts": 300, "activity_status": "active"}, None,
     "posted 300 times (5.8 a week)", "300 paylaşım edib (həftədə 5,8)"),
    ({"posts": 1, "activity_status": "active"}, None, "posted 1 time (0.0 a week)", "1 paylaşım edib (həftədə 0,0)"),
    ({"posts": 20, "activity_status": "low", "last_post_at": datetime(2026, 10, 2, 9, tzinfo=UTC)}, None,
     "posted rarely: 20 posts, the last on 2 October 2026",
     "nadir hallarda paylaşım edib: 20 paylaşım, sonuncusu 2 oktyabr 2026 tarixində"),
    ({"posts": 0, "activity_status": "stale", "last_post_at": datetime(2026, 4, 3, tzinfo=UTC)}, None,
     "quiet since 3 April 2026", "3 aprel 2026 tarixindən bəri paylaşım yoxdur"),
    ({"posts": 0, "activity_status": "dormant", "last_post_at": datetime(2011, 5, 1, tzinfo=UTC)}, 1,
     "the only post on the page is from 2011", "səhifədəki yeganə paylaşım 2011-ci ildəndir"),
    ({"posts": 0, "activity_status": "dormant", "last_post_at": datetime(2019, 3, 12, tzinfo=UTC)}, 40,
     "dormant: the last post is from 12 March 2019",
     "fəaliyyətsizdir: son paylaşım 12 mart 2019 tarixindədir"),
    ({"activity_status": "unknown"}, None, "no post data", "paylaşım məlumatı yoxdur"),
])
def test_activity_in_both_languages(row, lifetime, english, azerbaijani):
    row = {"followers_start": 10, "followers_end": 10, **row}
    assert f"; {english}." in _paragraph(row, lifetime_posts=lifetime)
    assert f"; {azerbaijani}." in _paragraph(row, lifetime_posts=lifetime, style=AZ)


def test_live_and_video_shares_and_platforms_in_azerbaijani():
    text = _paragraph({"followers_start": 10, "followers_end": 10, "posts": 8, "live_posts": 5,
                       "video_posts": 0, "activity_status": "active"}, style=AZ)
    assert "paylaşımların çoxu canlı yayım olub (62%)" in text
    text = _paragraph({"followers_start": 10, "followers_end": 10, "posts": 10, "live_posts": 2,
                       "video_posts": 3, "activity_status": "active"}, style=AZ)
    assert "paylaşımların 20%-i canlı yayım olub; paylaşımların 30%-i video olub." in text
    assert text.endswith("Təmsil olunduğu platformalar: Facebook; hesabı olmayan platformalar: "
                         "Instagram, YouTube, X və Telegram.")
    assert _paragraph({"followers_start": 10, "followers_end": 10}).endswith(
        "Present on Facebook; no account on Instagram, YouTube, X or Telegram.")
