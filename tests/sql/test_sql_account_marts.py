"""marts.account_monthly and marts.account_annual, every column (docs/REFERENCE.md, Warehouse)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

MONTHLY_COLUMNS = [
    "account_id", "agency_id", "platform", "handle", "month", "followers_start",
    "followers_end", "followers_change", "followers_growth_pct", "followers_growth_ratio",
    "posts", "video_posts", "live_posts", "engagement", "engagement_per_post",
    "engagement_rate_pct", "last_post_at", "days_since_last_post", "activity_status",
]
ANNUAL_COLUMNS = [c if c != "month" else "year" for c in MONTHLY_COLUMNS]


def account_row(account_id: str, agency_id: str, period: date | int, **values) -> dict:
    """An expected mart row: NULL and 'unknown' unless given, columns in contract order."""
    platform, handle = account_id.split(":", 1)
    period_column = "year" if isinstance(period, int) else "month"
    columns = ANNUAL_COLUMNS if period_column == "year" else MONTHLY_COLUMNS
    row = dict.fromkeys(columns)
    row.update(account_id=account_id, agency_id=agency_id, platform=platform, handle=handle,
               activity_status="unknown")
    row[period_column] = period
    unknown = set(values) - set(columns)
    assert not unknown, unknown
    row.update(values)
    return row


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def followers(start: int | None, end: int | None) -> dict:
    """The five follower columns, computed as the contract defines them."""
    change = end - start if start is not None and end is not None else None
    comparable = change is not None and start != 0
    return {
        "followers_start": start,
        "followers_end": end,
        "followers_change": change,
        "followers_growth_pct": 100 * change / start if comparable else None,
        "followers_growth_ratio": end / start if comparable else None,
    }


def test_follower_figures_and_source_precedence(bench, assert_rows):
    bench.agency("culture")
    years_back = bench.account("culture", "facebook", "ministry")
    precedence = bench.account("culture", "instagram", "ministry.az")
    from_zero = bench.account("culture", "youtube", "MinistryTV")

    # A start figure from years back: nothing between 2021-06 and 2023-12.
    bench.history(years_back, date(2021, 6, 15), 800)
    bench.snapshot(years_back, date(2023, 12, 31), 1000)
    bench.snapshot(years_back, date(2024, 2, 29), 1300)
    # Snapshot over history on one day; manual over both on another.
    bench.history(precedence, date(2024, 5, 31), 500)
    bench.snapshot(precedence, date(2024, 5, 31), 510)
    bench.history(precedence, date(2024, 6, 30), 640)
    bench.snapshot(precedence, date(2024, 6, 30), 600)
    bench.observation(precedence, date(2024, 6, 30), 650)
    bench.history(precedence, date(2024, 7, 15), 700)
    # A snapshot without a count is no observation: the history point of that day stands.
    bench.snapshot(precedence, date(2024, 7, 20), None)
    bench.history(precedence, date(2024, 7, 20), 710)
    # A count of zero: change defined, growth and ratio not.
    bench.history(from_zero, date(2024, 3, 10), 0)
    bench.snapshot(from_zero, date(2024, 4, 10), 50)
    # A snapshot without a count makes no row of its own (no observation, no post).
    bench.snapshot(from_zero, date(2024, 9, 1), None)
    bench.run()

    assert_rows(bench.rows("marts.account_monthly", "agency_id = 'culture'"), [
        account_row(years_back, "culture", date(2021, 6, 1), **followers(None, 800)),
        account_row(years_back, "culture", date(2023, 12, 1), **followers(800, 1000)),
        account_row(years_back, "culture", date(2024, 2, 1), **followers(1000, 1300)),
        account_row(precedence, "culture", date(2024, 5, 1), **followers(None, 510)),
        account_row(precedence, "culture", date(2024, 6, 1), **followers(510, 650)),
        account_row(precedence, "culture", date(2024, 7, 1), **followers(650, 710)),
        account_row(from_zero, "culture", date(2024, 3, 1), handle="MinistryTV",
                    **followers(None, 0)),
        account_row(from_zero, "culture", date(2024, 4, 1), handle="MinistryTV",
                    **followers(0, 50)),
    ])
    assert_rows(bench.rows("marts.account_annual"), [
        account_row(years_back, "culture", 2021, **followers(None, 800)),
        account_row(years_back, "culture", 2023, **followers(800, 1000)),
        account_row(years_back, "culture", 2024, **followers(1000, 1300)),
        account_row(precedence, "culture", 2024, **followers(None, 710)),
        account_row(from_zero, "culture", 2024, handle="MinistryTV", **followers(None, 50)),
    ])
    # The literal contract figures, not only the helper's arithmetic.
    june = bench.rows("marts.account_monthly", f"account_id = '{precedence}' and month = '2024-06-01'")
    assert (june[0]["followers_change"], june[0]["followers_growth_ratio"]) == (140, 650 / 510)
    zero = bench.rows("marts.account_monthly", f"account_id = '{from_zero}' and month = '2024-04-01'")
    assert (zero[0]["followers_change"], zero[0]["followers_growth_pct"]) == (50, None)


def test_posts_engagement_and_last_post(bench, assert_rows):
    bench.agency("culture")
    page = bench.account("culture", "facebook", "culture.page")
    bench.snapshot(page, date(2024, 3, 31), 1000)
    bench.snapshot(page, date(2024, 4, 15), 2000)  # latest observation day overall
    # A manual observation: its last_post_on is later than every post (as midnight UTC).
    bench.observation(page, date(2024, 4, 10), 1500, last_post_on=date(2024, 4, 5))

    bench.post(page, "p1", datetime(2024, 3, 2, 10, tzinfo=UTC), reactions=10, comments=5,
               shares=1, is_video=True)
    # An older fetch of p1: the latest fetch wins.
    bench.post(page, "p1", datetime(2024, 3, 2, 10, tzinfo=UTC), reactions=999,
               fetched_at=datetime(2024, 3, 3, tzinfo=UTC))
    bench.post(page, "p2", datetime(2024, 3, 15, 23, 30, tzinfo=UTC), comments=3,
               is_video=True, is_live=True)
    bench.post(page, "p3", datetime(2024, 3, 31, 23, 59, 59, tzinfo=UTC), reactions=100,
               shares=20)
    bench.deletion(page, "p3", date(2024, 4, 2))  # deleted later: it was still published
    # 2024-02-29 23:30 at UTC-2 is 2024-03-01 01:30 UTC: a March post.
    bench.post(page, "p5", datetime(2024, 2, 29, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
               reactions=0, comments=0, shares=0)
    bench.post(page, "p4", datetime(2024, 4, 1, 0, 0, tzinfo=UTC), reactions=1)
    bench.run()

    march_engagement = 16 + 3 + 120 + 0
    assert_rows(bench.rows("marts.account_monthly"), [
        account_row(
            page, "culture", date(2024, 3, 1), **followers(None, 1000),
            posts=4, video_posts=2, live_posts=1, engagement=march_engagement,
            engagement_per_post=march_engagement / 4,
            engagement_rate_pct=100 * (march_engagement / 4) / 1000,
            # the manual last_post_on (04-05) is after March: not known at March's end
            last_post_at=datetime(2024, 3, 31, 23, 59, 59, tzinfo=UTC),
            days_since_last_post=0,
            # 30 days up to 03-31 are 03-02..03-31: p1, p2, p3 (p5 on 03-01 is outside)
            activity_status="low"),
        account_row(
            page, "culture", date(2024, 4, 1), **followers(1000, 2000),
            posts=1, video_posts=0, live_posts=0, engagement=1, engagement_per_post=1.0,
            engagement_rate_pct=100 * 1.0 / 2000,
            last_post_at=midnight(date(2024, 4, 5)),
            # the running month ends on the latest observation day, 2024-04-15
            days_since_last_post=10, activity_status="low"),
    ])
    assert_rows(bench.rows("marts.account_annual"), [
        account_row(
            page, "culture", 2024, **followers(None, 2000),
            posts=5, video_posts=2, live_posts=1, engagement=march_engagement + 1,
            engagement_per_post=(march_engagement + 1) / 5,
            engagement_rate_pct=100 * ((march_engagement + 1) / 5) / 2000,
            last_post_at=midnight(date(2024, 4, 5)), days_since_last_post=10,
            activity_status="low"),
    ])


def test_post_tracking_decides_between_zero_and_null(bench, assert_rows):
    bench.agency("culture")
    untracked = bench.account("culture", "telegram", "culture_news")
    tracked_by_log = bench.account("culture", "x", "culture_x")
    failed_runs_only = bench.account("culture", "youtube", "CultureTV")
    manual_only = bench.account("culture", "instagram", "culture.insta")
    no_end_figure = bench.account("culture", "facebook", "culture.fb")

    bench.snapshot(untracked, date(2024, 4, 15), 300)
    bench.snapshot(tracked_by_log, date(2024, 4, 10), 400)
    bench.extract_run(tracked_by_log, date(2024, 4, 10), "ok")
    bench.snapshot(failed_runs_only, date(2024, 4, 10), 500)
    bench.extract_run(failed_runs_only, date(2024, 4, 10), "failed")
    bench.observation(manual_only, date(2024, 4, 10), 600, last_post_on=date(2024, 1, 20))
    bench.snapshot(no_end_figure, date(2024, 1, 5), 600)
    bench.post(no_end_figure, "f1", datetime(2024, 2, 10, 12, tzinfo=UTC), reactions=6,
               comments=4)
    bench.run()

    assert_rows(bench.rows("marts.account_monthly"), [
        account_row(no_end_figure, "culture", date(2024, 1, 1), **followers(None, 600),
                    posts=0, video_posts=0, live_posts=0, engagement=0,
                    activity_status="dormant"),
        account_row(no_end_figure, "culture", date(2024, 2, 1), **followers(600, None),
                    posts=1, video_posts=0, live_posts=0, engagement=10,
                    engagement_per_post=10.0, engagement_rate_pct=None,
                    last_post_at=datetime(2024, 2, 10, 12, tzinfo=UTC),
                    days_since_last_post=19, activity_status="low"),
        account_row(manual_only, "culture", date(2024, 4, 1), **followers(None, 600),
                    last_post_at=midnight(date(2024, 1, 20)),
                    days_since_last_post=(date(2024, 4, 15) - date(2024, 1, 20)).days,
                    activity_status="low"),
        account_row(untracked, "culture", date(2024, 4, 1), **followers(None, 300)),
        account_row(tracked_by_log, "culture", date(2024, 4, 1), **followers(None, 400),
                    posts=0, video_posts=0, live_posts=0, engagement=0,
                    activity_status="dormant"),
        account_row(failed_runs_only, "culture", date(2024, 4, 1), handle="CultureTV",
                    **followers(None, 500)),
    ])
    assert bench.rows("marts.account_monthly", f"account_id = '{manual_only}'")[0][
        "days_since_last_post"] == 86


def test_account_changing_agency_is_reported_under_its_owner_of_the_period(bench, assert_rows):
    bench.agency("culture-tourism")
    bench.agency("culture", successor_of=("culture-tourism",))
    bench.account("culture-tourism", "facebook", "heritage", active_to=date(2024, 3, 31))
    heritage = bench.account("culture", "facebook", "heritage", active_from=date(2024, 4, 1))
    bench.snapshot(heritage, date(2024, 2, 10), 100)
    bench.snapshot(heritage, date(2024, 5, 10), 150)
    bench.run()

    assert [(r["month"], r["agency_id"]) for r in bench.rows("marts.account_monthly")] == [
        (date(2024, 2, 1), "culture-tourism"), (date(2024, 5, 1), "culture")]
    # The year is reported under the agency owning the account at its end.
    assert [(r["year"], r["agency_id"]) for r in bench.rows("marts.account_annual")] == [
        (2024, "culture")]


def test_lake_account_missing_from_registry_keeps_its_history(bench, assert_rows):
    bench.agency("culture")
    bench.snapshot("x:old_handle", date(2024, 2, 10), 70, agency_id="culture")
    bench.run()

    assert_rows(bench.rows("marts.account_monthly"), [
        account_row("x:old_handle", "culture", date(2024, 2, 1), **followers(None, 70)),
    ])


def test_observation_without_account_id_is_matched_by_platform_and_handle(bench, assert_rows):
    bench.agency("culture")
    account_id = bench.account("culture", "instagram", "culture.gram")
    bench.observation(account_id, date(2024, 2, 10), 70)
    bench.run()
    bench.con.execute("update staging.lake_observations set account_id = null, "
                      "handle = ' @Culture.Gram'")
    bench.run()

    assert_rows(bench.rows("marts.account_monthly"), [
        account_row(account_id, "culture", date(2024, 2, 1), **followers(None, 70)),
    ])
