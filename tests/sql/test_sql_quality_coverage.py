"""quality.account_coverage: what the warehouse knows of each registry account, and why not."""

from __future__ import annotations

from datetime import UTC, date, datetime


def test_account_coverage(bench, assert_rows):
    bench.agency("culture")
    seen = bench.account("culture", "facebook", "culture.page")
    never_seen = bench.account("culture", "x", "culture_x")
    bench.history(seen, date(2024, 5, 1), 90)
    bench.snapshot(seen, date(2024, 5, 10), 100)
    bench.observation(seen, date(2024, 5, 10), 105)  # manual wins the day
    bench.snapshot("youtube:other", date(2024, 6, 1), 1)  # latest observation overall
    bench.post(seen, "p1", datetime(2024, 5, 9, 8, tzinfo=UTC))
    bench.post(seen, "p2", datetime(2024, 5, 9, 9, tzinfo=UTC))
    bench.deletion(seen, "p1", date(2024, 5, 10))
    bench.extract_run(seen, date(2024, 5, 9), "failed")
    bench.extract_run(seen, date(2024, 5, 10), "ok")
    bench.extract_run(never_seen, date(2024, 5, 10), "gone")
    bench.run()

    assert_rows(bench.rows("quality.account_coverage"), [
        {"account_id": seen, "agency_id": "culture", "platform": "facebook",
         "handle": "culture.page", "verified": True, "first_observed_on": date(2024, 5, 1),
         "last_observed_on": date(2024, 5, 10), "observed_days": 2,
         "days_behind_latest_observation": 22, "last_followers": 105,
         "last_followers_source": "manual", "has_post_tracking": True, "known_posts": 2,
         "deleted_posts": 1, "last_post_at": datetime(2024, 5, 9, 9, tzinfo=UTC),
         "last_extract_run_date": date(2024, 5, 10), "last_extract_status": "ok",
         "last_extract_reason": None},
        {"account_id": never_seen, "agency_id": "culture", "platform": "x",
         "handle": "culture_x", "verified": True, "first_observed_on": None,
         "last_observed_on": None, "observed_days": 0,
         "days_behind_latest_observation": None, "last_followers": None,
         "last_followers_source": None, "has_post_tracking": False, "known_posts": 0,
         "deleted_posts": 0, "last_post_at": None,
         "last_extract_run_date": date(2024, 5, 10), "last_extract_status": "gone",
         "last_extract_reason": None},
    ])
