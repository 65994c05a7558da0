"""marts.agency_monthly and marts.agency_annual, every column (docs/REFERENCE.md, Warehouse).

The story: the Ministry of Culture and Tourism was reorganised; the new Ministry of Culture
(its successor) opened a new Facebook page in March 2024 and kept the Instagram account.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

MONTHLY_COLUMNS = [
    "agency_id", "agency_name", "agency_name_en", "successor_of", "month", "platforms",
    "platform_count", "accounts", "followers_end", "followers_change",
    "followers_growth_pct", "posts", "engagement", "activity_status", "rank_followers",
    "rank_growth",
]
ANNUAL_COLUMNS = [c if c != "month" else "year" for c in MONTHLY_COLUMNS]

NAMES = {
    "culture": ("Mədəniyyət Nazirliyi", "Ministry of Culture", ["culture-tourism"]),
    "culture-tourism": ("Mədəniyyət və Turizm Nazirliyi", "Ministry of Culture and Tourism", []),
    "tourism": ("Turizm Agentliyi", "Tourism Agency", []),
    "quiet": ("Sakit İdarə", None, []),
}


def agency_row(agency_id: str, period: date | int, **values) -> dict:
    name, name_en, successor_of = NAMES[agency_id]
    columns = ANNUAL_COLUMNS if isinstance(period, int) else MONTHLY_COLUMNS
    row = dict.fromkeys(columns)
    row.update(agency_id=agency_id, agency_name=name, agency_name_en=name_en,
               successor_of=successor_of)
    row["year" if isinstance(period, int) else "month"] = period
    assert set(values) <= set(columns), set(values) - set(columns)
    row.update(values)
    return row


@pytest.fixture
def reorganised(bench):
    for agency_id, (name, name_en, successor_of) in NAMES.items():
        bench.agency(agency_id, name, name_en, tuple(successor_of))

    old_page = bench.account("culture-tourism", "facebook", "mct.az")
    bench.snapshot(old_page, date(2023, 6, 30), 8000)
    bench.snapshot(old_page, date(2024, 2, 29), 7000)

    new_page = bench.account("culture", "facebook", "culture.az")
    bench.snapshot(new_page, date(2024, 3, 10), 5000)
    bench.snapshot(new_page, date(2024, 12, 31), 6100)
    for i, (day, reactions) in enumerate([(5, 10), (10, 20), (20, 30), (31, 40)]):
        bench.post(new_page, f"c{i}", datetime(2024, 12, day, 9, tzinfo=UTC),
                   reactions=reactions)
    instagram = bench.account("culture", "instagram", "culture")
    bench.snapshot(instagram, date(2023, 12, 31), 1000)
    bench.snapshot(instagram, date(2024, 12, 31), 1500)
    bench.extract_run(instagram, date(2024, 12, 31))  # tracked, never posted

    main_x = bench.account("tourism", "x", "tourism")
    bench.snapshot(main_x, date(2023, 12, 31), 5000)
    bench.snapshot(main_x, date(2024, 12, 31), 7500)
    bench.post(main_x, "t1", datetime(2024, 11, 15, 18, tzinfo=UTC), reactions=7,
               comments=2, shares=1)
    second_x = bench.account("tourism", "x", "visit")  # a second account, same platform
    bench.snapshot(second_x, date(2024, 6, 30), 100)

    posts_only = bench.account("quiet", "telegram", "quiet")
    bench.post(posts_only, "q1", datetime(2024, 1, 10, 8, tzinfo=UTC), reactions=5)
    bench.run()
    return bench


def test_agency_annual(reorganised, assert_rows):
    assert_rows(reorganised.rows("marts.agency_annual", "true order by year, agency_id"), [
        agency_row("culture", 2023, platforms=["instagram"], platform_count=1, accounts=1,
                   followers_end=1000, posts=0, engagement=0, activity_status="dormant",
                   rank_followers=3),
        agency_row("culture-tourism", 2023, platforms=["facebook"], platform_count=1,
                   accounts=1, followers_end=8000, activity_status="unknown",
                   rank_followers=1),
        agency_row("tourism", 2023, platforms=["x"], platform_count=1, accounts=1,
                   followers_end=5000, posts=0, engagement=0, activity_status="dormant",
                   rank_followers=2),
        # The new page has no start: only Instagram is comparable, so +500 on 1000, no loss.
        agency_row("culture", 2024, platforms=["facebook", "instagram"], platform_count=2,
                   accounts=2, followers_end=6100 + 1500, followers_change=500,
                   followers_growth_pct=50.0, posts=4, engagement=100,
                   activity_status="active", rank_followers=1, rank_growth=1),
        agency_row("culture-tourism", 2024, platforms=["facebook"], platform_count=1,
                   accounts=1, followers_end=7000, followers_change=-1000,
                   followers_growth_pct=-12.5, activity_status="unknown",
                   rank_followers=3, rank_growth=3),
        # Posts only, no follower figure: no rank. Last post 356 days before 12-31: stale.
        agency_row("quiet", 2024, platforms=["telegram"], platform_count=1, accounts=1,
                   posts=1, engagement=5, activity_status="stale"),
        # Ties with culture on both ranks; the second account has no post tracking (NULL
        # posts) and no start figure (not comparable).
        agency_row("tourism", 2024, platforms=["x"], platform_count=1, accounts=2,
                   followers_end=7500 + 100, followers_change=2500,
                   followers_growth_pct=50.0, posts=1, engagement=10,
                   activity_status="low", rank_followers=1, rank_growth=1),
    ])


def test_agency_monthly(reorganised, assert_rows):
    rows = reorganised.rows("marts.agency_monthly",
                            "month in ('2024-03-01', '2024-12-01') order by month, agency_id")
    assert_rows(rows, [
        # The new page's first month: an end figure, no change (never reported as a loss).
        agency_row("culture", date(2024, 3, 1), platforms=["facebook"], platform_count=1,
                   accounts=1, followers_end=5000, posts=0, engagement=0,
                   activity_status="dormant", rank_followers=1),
        agency_row("culture", date(2024, 12, 1), platforms=["facebook", "instagram"],
                   platform_count=2, accounts=2, followers_end=7600,
                   followers_change=1100 + 500, followers_growth_pct=100 * 1600 / 6000,
                   posts=4, engagement=100, activity_status="active",
                   rank_followers=1, rank_growth=2),
        agency_row("tourism", date(2024, 12, 1), platforms=["x"], platform_count=1,
                   accounts=1, followers_end=7500, followers_change=2500,
                   followers_growth_pct=50.0, posts=0, engagement=0,
                   activity_status="low", rank_followers=2, rank_growth=1),
    ])
    months = [(r["agency_id"], r["month"]) for r in reorganised.rows(
        "marts.agency_monthly", "true order by agency_id, month")]
    assert months == [
        ("culture", date(2023, 12, 1)), ("culture", date(2024, 3, 1)),
        ("culture", date(2024, 12, 1)),
        ("culture-tourism", date(2023, 6, 1)), ("culture-tourism", date(2024, 2, 1)),
        ("quiet", date(2024, 1, 1)),
        ("tourism", date(2023, 12, 1)), ("tourism", date(2024, 6, 1)),
        ("tourism", date(2024, 11, 1)), ("tourism", date(2024, 12, 1)),
    ]


def test_agency_rows_add_up_account_rows(reorganised):
    # Every account row is counted in exactly one agency row of the same period.
    mismatches = reorganised.con.sql("""
        select agency_monthly.agency_id, agency_monthly.month
        from marts.agency_monthly
        left join (
            select agency_id, month, count(*) as accounts, sum(followers_end) as followers_end
            from marts.account_monthly
            group by all
        ) as account_totals using (agency_id, month)
        where account_totals.accounts is distinct from agency_monthly.accounts
            or account_totals.followers_end is distinct from agency_monthly.followers_end
    """).fetchall()
    assert mismatches == []
    account_rows = reorganised.con.execute("select count(*) from marts.account_monthly")
    assert account_rows.fetchall() == [(11,)]


def test_rank_ties_share_a_rank_and_skip_the_next(bench):
    for agency_id in ("a", "b", "c", "d"):
        bench.agency(agency_id)
    for agency_id, start, end in (("a", 150, 300), ("b", 200, 300), ("c", 100, 200),
                                  ("d", 0, 50)):
        account_id = bench.account(agency_id, "youtube", f"{agency_id}tv")
        bench.snapshot(account_id, date(2023, 12, 31), start)
        bench.snapshot(account_id, date(2024, 12, 31), end)
    bench.run()

    ranks = {r["agency_id"]: (r["followers_end"], r["followers_growth_pct"],
                              r["rank_followers"], r["rank_growth"])
             for r in bench.rows("marts.agency_annual", "year = 2024")}
    assert ranks == {
        "a": (300, 100.0, 1, 1),
        "b": (300, 50.0, 1, 3),
        "c": (200, 100.0, 3, 1),
        "d": (50, None, 4, None),  # growth from 0 is undefined: no growth rank
    }
