"""activity_status and days_since_last_post at the boundaries of the definitions in docs/REFERENCE.md."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

PERIOD_END = date(2024, 6, 30)  # June 2024 is a closed month: E is its last day
LATEST_OBSERVATION = date(2024, 12, 31)


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def june_row(bench, account_id: str) -> dict:
    rows = bench.rows("marts.account_monthly",
                      f"account_id = '{account_id}' and month = '2024-06-01'")
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def june(bench):
    """A bench where the latest observation overall is after June (June is not running)."""
    bench.agency("culture")
    anchor = bench.account("culture", "facebook", "anchor")
    bench.snapshot(anchor, LATEST_OBSERVATION, 1)
    return bench


def tracked_account(bench, handle: str, post_days: list[date]) -> str:
    account_id = bench.account("culture", "x", handle)
    bench.snapshot(account_id, date(2024, 6, 15), 100)  # a June row even without June posts
    bench.extract_run(account_id, date(2024, 6, 15))
    for i, day in enumerate(post_days):
        bench.post(account_id, f"{handle}-{i}", at_noon(day))
    return account_id


@pytest.mark.parametrize(("days_before_end", "status"), [
    (0, "low"),
    (90, "low"),
    (91, "stale"),
    (365, "stale"),
    (366, "dormant"),
    (2000, "dormant"),
])
def test_last_post_age_decides_status(june, days_before_end, status):
    account_id = tracked_account(june, "single", [PERIOD_END - timedelta(days=days_before_end)])
    june.run()

    row = june_row(june, account_id)
    assert (row["days_since_last_post"], row["activity_status"]) == (days_before_end, status)


@pytest.mark.parametrize(("post_days", "status"), [
    # four posts in E-29 .. E: active
    ([PERIOD_END - timedelta(days=d) for d in (29, 20, 10, 0)], "active"),
    # the oldest on E-30 is outside the 30 days: three posts, last one today: low
    ([PERIOD_END - timedelta(days=d) for d in (30, 20, 10, 0)], "low"),
    # a post after E does not count for E
    ([PERIOD_END - timedelta(days=d) for d in (29, 20, 10)] + [date(2024, 7, 1)], "low"),
    # many posts long ago are not activity now
    ([date(2023, 1, d) for d in range(1, 11)], "dormant"),
])
def test_posts_in_the_30_days_up_to_the_end(june, post_days, status):
    account_id = tracked_account(june, "busy", post_days)
    june.run()

    assert june_row(june, account_id)["activity_status"] == status


def test_tracked_account_that_never_posted_is_dormant(june):
    account_id = tracked_account(june, "silent", [])
    june.run()

    row = june_row(june, account_id)
    assert (row["last_post_at"], row["days_since_last_post"], row["activity_status"]) == (
        None, None, "dormant")


def test_tracked_account_posting_only_after_the_period_had_never_posted_then(june):
    account_id = tracked_account(june, "late", [date(2024, 8, 1)])
    june.run()

    assert june_row(june, account_id)["activity_status"] == "dormant"


def test_no_post_information_is_unknown(june):
    account_id = june.account("culture", "telegram", "quiet")
    june.snapshot(account_id, date(2024, 6, 15), 100)
    june.extract_run(account_id, date(2024, 6, 15), status="failed")
    june.run()

    row = june_row(june, account_id)
    assert (row["posts"], row["last_post_at"], row["activity_status"]) == (None, None, "unknown")


@pytest.mark.parametrize(("days_before_end", "status"), [
    (90, "low"), (91, "stale"), (365, "stale"), (366, "dormant")])
def test_manual_last_post_on_without_post_tracking(june, days_before_end, status):
    account_id = june.account("culture", "instagram", "hand.counted")
    june.observation(account_id, date(2024, 6, 20), 100,
                     last_post_on=PERIOD_END - timedelta(days=days_before_end))
    june.run()

    row = june_row(june, account_id)
    assert (row["posts"], row["days_since_last_post"], row["activity_status"]) == (
        None, days_before_end, status)


def test_running_period_is_judged_at_the_latest_observation_day(bench):
    bench.agency("culture")
    account_id = bench.account("culture", "youtube", "channel")
    bench.extract_run(account_id, date(2024, 7, 10))
    for day in (1, 2, 3, 4):  # four posts early in July
        bench.post(account_id, f"v{day}", at_noon(date(2024, 7, day)))
    bench.snapshot(account_id, date(2024, 8, 10), 500)  # the latest observation overall
    bench.run()

    months = {r["month"]: r for r in bench.rows("marts.account_monthly")}
    # July is closed, judged at 07-31: 07-01 is E-30, so only three posts in the window.
    assert (months[date(2024, 7, 1)]["days_since_last_post"],
            months[date(2024, 7, 1)]["activity_status"]) == (27, "low")
    # August runs: judged at 08-10, 37 days after the last post.
    assert (months[date(2024, 8, 1)]["days_since_last_post"],
            months[date(2024, 8, 1)]["activity_status"]) == (37, "low")
    year = bench.rows("marts.account_annual")[0]
    assert (year["days_since_last_post"], year["activity_status"]) == (37, "low")
