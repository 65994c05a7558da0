"""An account whose handle changed keeps one history (docs/REFERENCE.md, Account identity):
lake rows landed under a former handle count for the account under its current handle."""

from __future__ import annotations

from datetime import UTC, date, datetime

OLD, NEW = "x:culture_az", "x:kultura_az"


def _monthly(bench, account_id=None):
    rows = bench.rows("marts.account_monthly")
    return sorted((r["account_id"], r["month"], r["followers_start"], r["followers_end"],
                    r["followers_change"], r["posts"]) for r in rows
                   if account_id is None or r["account_id"] == account_id)


def test_history_under_the_old_handle_continues_under_the_new_one(bench):
    bench.agency("culture")
    bench.account("culture", "x", "kultura_az", platform_id="42")
    # October and November landed under the old handle, December under the new one.
    bench.snapshot(OLD, date(2024, 10, 31), 1000, platform_id="42")
    bench.snapshot(OLD, date(2024, 11, 30), 1100, platform_id="42")
    bench.snapshot(NEW, date(2024, 12, 31), 1250, platform_id="42")
    bench.post(OLD, "t1", datetime(2024, 11, 5, tzinfo=UTC))
    bench.post(NEW, "t2", datetime(2024, 12, 5, tzinfo=UTC))
    bench.observation(OLD, date(2024, 9, 30), 900)
    for day, account in ((date(2024, 10, 31), OLD), (date(2024, 11, 30), OLD),
                         (date(2024, 12, 31), NEW)):
        bench.extract_run(account, day)
    bench.run()

    assert _monthly(bench) == [
        (NEW, date(2024, 9, 1), None, 900, None, 0),
        (NEW, date(2024, 10, 1), 900, 1000, 100, 0),
        (NEW, date(2024, 11, 1), 1000, 1100, 100, 1),
        (NEW, date(2024, 12, 1), 1100, 1250, 150, 1),
    ]
    [annual] = bench.rows("marts.account_annual")
    assert (annual["account_id"], annual["handle"], annual["followers_start"],
            annual["followers_end"], annual["posts"]) == (NEW, "kultura_az", None, 1250, 2)


def test_a_day_landed_under_both_handles_counts_once_the_latest_fetch_winning(bench):
    bench.agency("culture")
    bench.account("culture", "x", "kultura_az", platform_id="42")
    bench.snapshot(OLD, date(2024, 11, 1), 1000, platform_id="42")
    bench.snapshot(OLD, date(2024, 11, 30), 1090, platform_id="42",
                   fetched_at=datetime(2024, 11, 30, 6, tzinfo=UTC))
    bench.snapshot(NEW, date(2024, 11, 30), 1100, platform_id="42",
                   fetched_at=datetime(2024, 11, 30, 9, tzinfo=UTC))
    bench.run()

    snapshots = bench.rows("staging.stg_lake__account_snapshots")
    assert sorted((r["account_id"], r["snapshot_date"], r["followers"]) for r in snapshots) == [
        (NEW, date(2024, 11, 1), 1000), (NEW, date(2024, 11, 30), 1100)]


def test_a_noted_handle_change_maps_an_account_without_a_platform_id(bench):
    bench.agency("tax")
    bench.account("tax", "telegram", "tax_news")
    old, new = "telegram:tax_channel", "telegram:tax_news"
    bench.snapshot(old, date(2024, 10, 31), 500)
    bench.extract_run(old, date(2024, 10, 31))
    bench.snapshot(old, date(2024, 11, 15), 520)
    bench.extract_run(old, date(2024, 11, 15), reason="handle changed: tax_channel -> tax_news")
    bench.snapshot(new, date(2024, 11, 30), 540)
    bench.extract_run(new, date(2024, 11, 30))
    # The same message read under each handle (Telegram writes the handle into the id).
    bench.post(old, "tax_channel/7", datetime(2024, 11, 10, tzinfo=UTC),
               fetched_at=datetime(2024, 11, 15, tzinfo=UTC))
    bench.post(new, "tax_news/7", datetime(2024, 11, 10, tzinfo=UTC),
               fetched_at=datetime(2024, 11, 30, tzinfo=UTC))
    bench.post(new, "tax_news/8", datetime(2024, 11, 20, tzinfo=UTC),
               fetched_at=datetime(2024, 11, 30, tzinfo=UTC))
    bench.run()

    assert _monthly(bench) == [
        (new, date(2024, 10, 1), None, 500, None, 0),
        (new, date(2024, 11, 1), 500, 540, 40, 2),
    ]
    log = bench.rows("staging.stg_lake__extract_log")
    assert {r["account_id"] for r in log} == {new}


def test_another_account_keeps_its_own_history(bench):
    # The old handle now names someone else (another platform id): nothing is moved.
    bench.agency("culture")
    bench.agency("sport")
    bench.account("culture", "x", "kultura_az", platform_id="42")
    bench.account("sport", "x", "culture_az", platform_id="77")
    bench.snapshot(OLD, date(2024, 11, 30), 300, platform_id="77")
    bench.snapshot(NEW, date(2024, 11, 30), 1100, platform_id="42")
    bench.run()

    assert _monthly(bench) == [
        (OLD, date(2024, 11, 1), None, 300, None, None),
        (NEW, date(2024, 11, 1), None, 1100, None, None),
    ]
    assert bench.rows("staging.stg_lake__account_identities") == []
