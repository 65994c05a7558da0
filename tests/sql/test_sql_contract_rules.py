"""One small case per rule of the mart definitions (docs/REFERENCE.md), expected rows written by hand.

Each test builds the marts from a few hand-written rows and states the expected figures
as the contract's sentences give them (not as the SQL computes them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

MONTHLY_COLUMNS = [
    "account_id", "agency_id", "platform", "handle", "month", "followers_start",
    "followers_end", "followers_change", "followers_growth_pct", "followers_growth_ratio",
    "posts", "video_posts", "live_posts", "engagement", "engagement_per_post",
    "engagement_rate_pct", "last_post_at", "days_since_last_post", "activity_status",
]
ANNUAL_COLUMNS = [c if c != "month" else "year" for c in MONTHLY_COLUMNS]
NO_PREVIEW = "posts not tracked: the channel has no public preview (t.me/s redirects to the channel page)"


def row(account_id: str, agency_id: str, period: date | int, **values) -> dict:
    """An expected account mart row: NULL and 'unknown' unless given, contract order."""
    platform, handle = account_id.split(":", 1)
    columns = ANNUAL_COLUMNS if isinstance(period, int) else MONTHLY_COLUMNS
    expected = dict.fromkeys(columns)
    expected.update(account_id=account_id, agency_id=agency_id, platform=platform,
                    handle=handle, activity_status="unknown")
    expected["year" if isinstance(period, int) else "month"] = period
    assert set(values) <= set(columns), set(values) - set(columns)
    expected.update(values)
    return expected


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def monthly(bench, account_id: str) -> list[dict]:
    return bench.rows("marts.account_monthly", f"account_id = '{account_id}' order by month")


def annual(bench, account_id: str) -> list[dict]:
    return bench.rows("marts.account_annual", f"account_id = '{account_id}' order by year")


# --------------------------------------------------------------------------- periods


def test_running_period_ends_at_the_latest_observation_of_any_account_and_source(
        bench, assert_rows):
    bench.agency("culture")
    page = bench.account("culture", "facebook", "page")
    other = bench.account("culture", "instagram", "other")
    third = bench.account("culture", "youtube", "third")
    bench.snapshot(page, date(2024, 7, 31), 900)
    bench.snapshot(page, date(2024, 8, 5), 1000)
    bench.extract_run(page, date(2024, 8, 5))
    for i, day in enumerate((date(2024, 7, 25), date(2024, 7, 28), date(2024, 8, 1),
                             date(2024, 8, 3))):
        bench.post(page, f"p{i}", at(day), reactions=10)
    # D is another account's manual observation (2024-08-20), after a history point (08-18)
    bench.observation(other, date(2024, 8, 20), 50)
    bench.history(third, date(2024, 8, 18), 70)
    bench.run()

    assert_rows(monthly(bench, page), [
        # July is closed: E = 07-31, the 30 days 07-02..07-31 hold two posts
        row(page, "culture", date(2024, 7, 1), followers_start=None, followers_end=900,
            posts=2, video_posts=0, live_posts=0, engagement=20, engagement_per_post=10.0,
            engagement_rate_pct=100 * 10.0 / 900, last_post_at=at(date(2024, 7, 28)),
            days_since_last_post=3, activity_status="low"),
        # August runs: E = D = 08-20, the 30 days 07-22..08-20 hold all four posts
        row(page, "culture", date(2024, 8, 1), followers_start=900, followers_end=1000,
            followers_change=100, followers_growth_pct=100 * 100 / 900,
            followers_growth_ratio=1000 / 900, posts=2, video_posts=0, live_posts=0,
            engagement=20, engagement_per_post=10.0, engagement_rate_pct=100 * 10.0 / 1000,
            last_post_at=at(date(2024, 8, 3)), days_since_last_post=17,
            activity_status="active"),
    ])
    assert_rows(annual(bench, page), [
        row(page, "culture", 2024, followers_end=1000, posts=4, video_posts=0, live_posts=0,
            engagement=40, engagement_per_post=10.0, engagement_rate_pct=100 * 10.0 / 1000,
            last_post_at=at(date(2024, 8, 3)), days_since_last_post=17,
            activity_status="active"),
    ])


def test_start_is_the_last_observation_before_the_period_however_far_back(bench, assert_rows):
    bench.agency("culture")
    channel = bench.account("culture", "youtube", "channel")
    bench.history(channel, date(2020, 1, 10), 0)  # four years back, and zero
    bench.snapshot(channel, date(2024, 5, 3), 70)
    bench.snapshot(channel, date(2024, 5, 20), 75)
    bench.run()

    assert_rows(monthly(bench, channel), [
        row(channel, "culture", date(2020, 1, 1), followers_end=0),
        # a start of 0: change = end, growth and ratio NULL
        row(channel, "culture", date(2024, 5, 1), followers_start=0, followers_end=75,
            followers_change=75),
    ])
    assert_rows(annual(bench, channel), [
        row(channel, "culture", 2020, followers_end=0),
        row(channel, "culture", 2024, followers_start=0, followers_end=75, followers_change=75),
    ])


def test_manual_beats_snapshot_beats_history_on_one_day(bench, assert_rows):
    bench.agency("culture")
    all_three = bench.account("culture", "facebook", "all.three")
    two = bench.account("culture", "instagram", "two")
    bench.history(all_three, date(2024, 3, 31), 300)
    bench.observation(all_three, date(2024, 3, 31), 100)
    bench.snapshot(all_three, date(2024, 3, 31), 200)
    bench.history(two, date(2024, 3, 31), 300)
    bench.snapshot(two, date(2024, 3, 31), 200)
    bench.run()

    assert [r["followers_end"] for r in monthly(bench, all_three)] == [100]
    assert [r["followers_end"] for r in monthly(bench, two)] == [200]


# --------------------------------------------------------------------------- activity


def test_last_post_on_recorded_after_the_period_still_counts_for_it(bench, assert_rows):
    bench.agency("culture")
    page = bench.account("culture", "instagram", "page")
    bench.snapshot(page, date(2024, 6, 10), 500)
    # observed in July, says the last post was on 06-20: known for June's end too
    bench.observation(page, date(2024, 7, 10), 520, last_post_on=date(2024, 6, 20))
    bench.run()

    assert_rows(monthly(bench, page), [
        row(page, "culture", date(2024, 6, 1), followers_end=500,
            last_post_at=datetime(2024, 6, 20, tzinfo=UTC), days_since_last_post=10,
            activity_status="low"),
        row(page, "culture", date(2024, 7, 1), followers_start=500, followers_end=520,
            followers_change=20, followers_growth_pct=4.0, followers_growth_ratio=1.04,
            last_post_at=datetime(2024, 6, 20, tzinfo=UTC), days_since_last_post=20,
            activity_status="low"),
    ])


def test_observations_alone_are_not_post_tracking(bench, assert_rows):
    bench.agency("culture")
    page = bench.account("culture", "facebook", "counted.by.hand")
    # posts_total grows by 40 within the month and the last post was yesterday: still no
    # post counts and never `active`; the March last_post_on makes no March row
    bench.observation(page, date(2024, 6, 1), 1000, posts_total=100,
                      last_post_on=date(2024, 3, 15))
    bench.observation(page, date(2024, 6, 30), 1100, posts_total=140,
                      last_post_on=date(2024, 6, 29))
    bench.run()

    assert_rows(monthly(bench, page), [
        row(page, "culture", date(2024, 6, 1), followers_end=1100,
            last_post_at=datetime(2024, 6, 29, tzinfo=UTC), days_since_last_post=1,
            activity_status="low"),
    ])


def test_an_account_whose_posts_cannot_be_read_has_null_posts_never_dormant(bench, assert_rows):
    bench.agency("culture")
    channel = bench.account("culture", "telegram", "private_channel")
    bench.snapshot(channel, date(2024, 6, 10), 4020)
    bench.extract_run(channel, date(2024, 6, 10), "ok", NO_PREVIEW)
    bench.snapshot(channel, date(2024, 7, 10), 4100)
    bench.extract_run(channel, date(2024, 7, 10), "ok", NO_PREVIEW)

    # a page read in January; from May its posts are refused (no permission)
    page = bench.account("culture", "facebook", "refused.page")
    bench.snapshot(page, date(2024, 1, 20), 800)
    bench.extract_run(page, date(2024, 1, 20), "ok")
    bench.post(page, "f1", at(date(2024, 1, 15)), reactions=3)
    bench.snapshot(page, date(2024, 5, 20), 900)
    bench.extract_run(page, date(2024, 5, 20), "failed", "permission missing: (#10)")
    bench.run()

    assert_rows(monthly(bench, channel), [
        row(channel, "culture", date(2024, 6, 1), followers_end=4020),
        row(channel, "culture", date(2024, 7, 1), followers_start=4020, followers_end=4100,
            followers_change=80, followers_growth_pct=100 * 80 / 4020,
            followers_growth_ratio=4100 / 4020),
    ])
    assert_rows(monthly(bench, page), [
        row(page, "culture", date(2024, 1, 1), followers_end=800, posts=1, video_posts=0,
            live_posts=0, engagement=3, engagement_per_post=3.0,
            engagement_rate_pct=100 * 3.0 / 800, last_post_at=at(date(2024, 1, 15)),
            days_since_last_post=16, activity_status="low"),
        # May's posts are unknown: NULL, and the status comes from the last known post
        row(page, "culture", date(2024, 5, 1), followers_start=800, followers_end=900,
            followers_change=100, followers_growth_pct=12.5, followers_growth_ratio=1.125,
            last_post_at=at(date(2024, 1, 15)), days_since_last_post=137,
            activity_status="stale"),
    ])
    coverage = bench.rows("quality.account_coverage", f"account_id = '{channel}'")
    assert coverage[0]["has_post_tracking"] is False


def test_a_retweet_is_no_post_and_a_quote_is(bench, assert_rows):
    bench.agency("culture")
    x = bench.account("culture", "x", "culture_x")
    bench.snapshot(x, date(2024, 4, 30), 2000)
    bench.post(x, "t1", at(date(2024, 4, 2)), post_type="tweet", reactions=5, comments=1,
               shares=2)
    bench.post(x, "q1", at(date(2024, 4, 10)), post_type="quote", reactions=7)
    # a plain retweet carries the original's metrics: neither a post nor engagement, nor
    # the last post; a month with only a retweet has no row
    bench.post(x, "rt1", at(date(2024, 4, 20)), post_type="retweet", reactions=9000,
               shares=3000)
    bench.post(x, "rt2", at(date(2024, 2, 20)), post_type="retweet", reactions=100)
    bench.run()

    assert_rows(monthly(bench, x), [
        row(x, "culture", date(2024, 4, 1), followers_end=2000, posts=2, video_posts=0,
            live_posts=0, engagement=15, engagement_per_post=7.5,
            engagement_rate_pct=100 * 7.5 / 2000, last_post_at=at(date(2024, 4, 10)),
            days_since_last_post=20, activity_status="low"),
    ])


def test_engagement_and_live_posts_are_null_where_the_platform_gives_none(bench, assert_rows):
    bench.agency("culture")
    channel = bench.account("culture", "telegram", "news")
    bench.snapshot(channel, date(2024, 3, 31), 300)
    bench.post(channel, "n1", at(date(2024, 3, 5)))  # a preview shows no reactions here
    bench.post(channel, "n2", at(date(2024, 3, 6)))
    bench.snapshot(channel, date(2024, 4, 30), 310)  # a tracked month without posts
    bench.extract_run(channel, date(2024, 4, 30))

    mixed = bench.account("culture", "telegram", "mixed")
    bench.post(mixed, "m1", at(date(2024, 4, 5)), reactions=12)
    bench.post(mixed, "m2", at(date(2024, 4, 6)))

    page = bench.account("culture", "facebook", "no.live.edge")
    bench.snapshot(page, date(2024, 3, 31), 1000)
    # the live_videos edge was refused: whether a video was live is unknown
    bench.post(page, "v1", at(date(2024, 3, 7)), reactions=4, is_video=True, is_live=None)
    bench.snapshot(page, date(2024, 4, 30), 1000)
    bench.extract_run(page, date(2024, 4, 30))
    bench.run()

    last = {"last_post_at": at(date(2024, 3, 6)), "activity_status": "low"}
    assert_rows(monthly(bench, channel), [
        row(channel, "culture", date(2024, 3, 1), followers_end=300, posts=2, video_posts=0,
            live_posts=0, days_since_last_post=25, **last),
        row(channel, "culture", date(2024, 4, 1), followers_start=300, followers_end=310,
            followers_change=10, followers_growth_pct=100 * 10 / 300,
            followers_growth_ratio=310 / 300, posts=0, video_posts=0, live_posts=0,
            days_since_last_post=55, **last),
    ])
    assert_rows(monthly(bench, mixed), [
        # the figures that are given are summed
        row(mixed, "culture", date(2024, 4, 1), posts=2, video_posts=0, live_posts=0,
            engagement=12, engagement_per_post=6.0, last_post_at=at(date(2024, 4, 6)),
            days_since_last_post=24, activity_status="low"),
    ])
    assert_rows(monthly(bench, page), [
        row(page, "culture", date(2024, 3, 1), followers_end=1000, posts=1, video_posts=1,
            engagement=4, engagement_per_post=4.0, engagement_rate_pct=100 * 4.0 / 1000,
            last_post_at=at(date(2024, 3, 7)), days_since_last_post=24,
            activity_status="low"),
        row(page, "culture", date(2024, 4, 1), followers_start=1000, followers_end=1000,
            followers_change=0, followers_growth_pct=0.0, followers_growth_ratio=1.0,
            posts=0, video_posts=0, engagement=0, last_post_at=at(date(2024, 3, 7)),
            days_since_last_post=54, activity_status="low"),
    ])
    agency = bench.rows("marts.agency_monthly", "month = '2024-03-01'")
    assert (agency[0]["posts"], agency[0]["engagement"]) == (3, 4)


# --------------------------------------------------------------------------- ownership


def test_a_moved_page_counts_wholly_for_its_successor_in_the_period_of_the_move(
        bench, assert_rows):
    bench.agency("culture-tourism", active_to=date(2024, 3, 15))
    bench.agency("culture", successor_of=("culture-tourism",), active_from=date(2024, 3, 16))
    bench.account("culture-tourism", "facebook", "heritage", active_to=date(2024, 3, 15))
    page = bench.account("culture", "facebook", "heritage", active_from=date(2024, 3, 16))
    bench.snapshot(page, date(2024, 2, 28), 1000)
    bench.snapshot(page, date(2024, 3, 10), 1100)  # still the old ministry's that day
    bench.snapshot(page, date(2024, 3, 31), 1200)
    # an account nobody holds from 03-11 to 04-04: March is the old ministry's
    gap = bench.account("culture-tourism", "youtube", "archive", active_to=date(2024, 3, 10))
    bench.account("culture", "youtube", "archive", active_from=date(2024, 4, 5))
    bench.snapshot(gap, date(2024, 3, 5), 10)
    bench.snapshot(gap, date(2024, 3, 31), 12)
    bench.run()

    assert_rows(monthly(bench, page), [
        row(page, "culture-tourism", date(2024, 2, 1), followers_end=1000),
        # the figure before the move stays the account's: the successor's change compares
        row(page, "culture", date(2024, 3, 1), followers_start=1000, followers_end=1200,
            followers_change=200, followers_growth_pct=20.0, followers_growth_ratio=1.2),
    ])
    # nobody held the archive after 03-10 in March: the last day anyone held it is 03-10
    assert [(r["month"], r["agency_id"]) for r in monthly(bench, gap)] == [
        (date(2024, 3, 1), "culture-tourism")]
    assert [(r["year"], r["agency_id"]) for r in annual(bench, page)] == [(2024, "culture")]
    assert [(r["agency_id"], r["month"], r["accounts"], r["followers_change"])
            for r in bench.rows("marts.agency_monthly", "true order by month, agency_id")] == [
        ("culture-tourism", date(2024, 2, 1), 1, None),
        ("culture", date(2024, 3, 1), 1, 200),
        ("culture-tourism", date(2024, 3, 1), 1, None),
    ]


# --------------------------------------------------------------------------- agency marts


def test_agency_change_only_from_comparable_accounts(bench, assert_rows):
    bench.agency("new")
    bench.agency("zero")
    new_page = bench.account("new", "facebook", "new.page")
    bench.snapshot(new_page, date(2024, 5, 10), 500)  # a new page: no start, no change
    from_zero = bench.account("zero", "x", "from_zero")
    bench.snapshot(from_zero, date(2024, 4, 30), 0)
    bench.snapshot(from_zero, date(2024, 5, 10), 40)
    also_zero = bench.account("zero", "youtube", "alsozero")
    bench.snapshot(also_zero, date(2024, 4, 30), 0)
    bench.snapshot(also_zero, date(2024, 5, 10), 0)
    bench.snapshot("telegram:lake_only", date(2024, 5, 10), 7, agency_id="gone-agency")
    bench.run()

    rows = bench.rows("marts.agency_monthly", "month = '2024-05-01' order by agency_id")
    assert [(r["agency_id"], r["successor_of"], r["platforms"], r["followers_end"],
             r["followers_change"], r["followers_growth_pct"], r["rank_followers"],
             r["rank_growth"]) for r in rows] == [
        # the registry no longer lists this agency: still [] for successor_of
        ("gone-agency", [], ["telegram"], 7, None, None, 3, None),
        ("new", [], ["facebook"], 500, None, None, 1, None),
        # a change of 40 on starts summing to 0: change kept, growth NULL
        ("zero", [], ["x", "youtube"], 40, 40, None, 2, None),
    ]
