"""Valid sample rows for every lake dataset (tests override one field to break a rule)."""

from __future__ import annotations

from datetime import UTC, date, datetime

RUN_DAY = date(2026, 11, 26)
FETCHED = datetime(2026, 11, 26, 5, 30, tzinfo=UTC)


def snapshot(account: str = "facebook:culture.az", followers: int | None = 1500,
             day: date = RUN_DAY, **overrides) -> dict:
    platform = account.split(":")[0]
    row = dict(snapshot_date=day, account_id=account, agency_id="culture", platform=platform,
               handle=account.split(":")[1], platform_id="1001", name="Culture",
               followers=followers, likes=1200, posts_total=340, views_total=None,
               fetched_at=datetime(day.year, day.month, day.day, 5, 30, tzinfo=UTC))
    return {**row, **overrides}


def post(post_id: str = "p1", **overrides) -> dict:
    row = dict(account_id="x:culture_az", agency_id="culture", platform="x", post_id=post_id,
               published_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC), post_type="tweet",
               is_video=False, is_live=False, permalink=f"https://x.com/culture_az/status/{post_id}",
               reactions=10, comments=2, shares=1, views=500, views_rounding=None,
               fetched_on=RUN_DAY, fetched_at=FETCHED)
    return {**row, **overrides}


def post_deletion(post_id: str = "p1", **overrides) -> dict:
    row = dict(account_id="x:culture_az", platform="x", post_id=post_id,
               last_seen_on=date(2026, 11, 25), detected_on=RUN_DAY)
    return {**row, **overrides}


def post_read(account: str = "x:culture_az", **overrides) -> dict:
    row = dict(account_id=account, platform=account.split(":")[0], read_on=RUN_DAY,
               post_ids=["p1", "p2"], fetched_at=FETCHED)
    return {**row, **overrides}


def follower_point(day: date = date(2026, 11, 25), **overrides) -> dict:
    row = dict(account_id="facebook:culture.az", agency_id="culture", platform="facebook",
               day=day, followers=1490, metric="page_follows", fetched_at=FETCHED)
    return {**row, **overrides}


def observation(**overrides) -> dict:
    row = dict(agency_id="culture", platform="telegram", handle="culture_az",
               account_id="telegram:culture_az", observed_on=date(2026, 11, 20), followers=900,
               posts_total=120, last_post_on=date(2026, 11, 19), note="seen by hand",
               source_file="obs.csv", file_sha256="ab" * 32, row_number=2, imported_at=FETCHED)
    return {**row, **overrides}


def extract_log_entry(account: str = "youtube:culture", **overrides) -> dict:
    row = dict(run_date=RUN_DAY, platform=account.split(":")[0], account_id=account,
               agency_id="culture", handle=account.split(":")[1], status="ok", reason=None,
               calls=3, units=3, run_id="manual__2026-11-26", logged_at=FETCHED)
    return {**row, **overrides}


SAMPLE_ROWS = {
    "account_snapshots": lambda **o: snapshot(**o),
    "posts": lambda **o: post(**o),
    "post_deletions": lambda **o: post_deletion(**o),
    "post_reads": lambda **o: post_read(**o),
    "follower_history": lambda **o: follower_point(**o),
    "observations": lambda **o: observation(**o),
    "extract_log": lambda **o: extract_log_entry(**o),
}
