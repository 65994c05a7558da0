"""A figure the platform does not give reads "n/a", never 0, in tables and pages."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from agency_pulse.report.figures import AccountFigures, AgencyFigures, Period, ReportFigures
from agency_pulse.report.leaderboards import overall_leaderboard, platform_leaderboards
from agency_pulse.ui import create_app


def _account(platform: str, posts: int, engagement: int | None) -> AccountFigures:
    return AccountFigures(account_id=f"{platform}:a", platform=platform, handle="a",
                          row={"agency_id": "culture", "platform": platform, "handle": "a",
                               "posts": posts, "engagement": engagement,
                               "followers_end": 100})


def _figures(*accounts: AccountFigures) -> ReportFigures:
    posts = sum(a.row["posts"] for a in accounts)
    given = [a.row["engagement"] for a in accounts if a.row["engagement"] is not None]
    agency = AgencyFigures(agency_id="culture", name="Culture", name_en=None, successor_of=[],
                           row={"rank_followers": 1, "followers_end": 100, "posts": posts,
                                "engagement": sum(given) if given else None},
                           accounts=list(accounts))
    return ReportFigures(period=Period.year(2026), covered_until=date(2026, 12, 31),
                         agencies=[agency], account_rows=[a.row for a in accounts],
                         months=[], agency_names={})


def _cell(board, column: str) -> str:
    return board.formatted_rows()[0][[name for name, _ in board.columns].index(column)]


def test_telegram_engagement_per_post_is_not_available_not_zero():
    figures = _figures(_account("telegram", 52, None))
    assert _cell(overall_leaderboard(figures), "Engagement / post") == "n/a"
    [telegram] = platform_leaderboards(figures)
    assert _cell(telegram, "Engagement / post") == "n/a"
    assert _cell(telegram, "Change") == "n/a"  # no start figure: not 0


def test_an_agencys_engagement_per_post_counts_only_posts_that_give_engagement():
    # 10 Facebook posts with 400 engagement; 90 Telegram posts without any figure
    figures = _figures(_account("facebook", 10, 400), _account("telegram", 90, None))
    assert _cell(overall_leaderboard(figures), "Engagement / post") == "40.0"


def test_the_leaderboard_page_shows_the_untracked_telegram_channel_as_not_available(demo_home):
    html = TestClient(create_app()).get("/").text
    telegram = html[html.index(">Telegram</h2>"):]
    start = telegram.index("@sheki_ih")
    row = telegram[start:telegram.index("</tr>", start)]
    assert "n/a" in row and ">0.0<" not in row and "—" not in row
