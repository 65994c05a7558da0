"""A tiny warehouse with exactly the contract's marts (CONTRACTS.md section 6).

Used by the report and UI tests, and to preview the UI without running the pipeline::

    python -m agency_pulse.report.demo_warehouse /tmp/demo-home

It holds the situations the report must word right: a page that doubled, a page that
fell from 10 thousand to 4 thousand, a page whose only post is from 2011, a reorganised
agency's new page, an account with no data (and its extract-log reason), an agency with
no data at all, names in Azerbaijani and a name carrying hostile HTML.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

_DDL_TEMPLATE = """
create schema if not exists core;
create schema if not exists marts;
create schema if not exists quality;
create or replace table core.agencies (
    agency_id varchar, name varchar, name_en varchar, kind varchar, jurisdiction varchar,
    active_from date, active_to date, successor_of varchar[]);
create or replace table core.accounts (
    account_id varchar, agency_id varchar, platform varchar, handle varchar,
    platform_id varchar, label varchar, active_from date, active_to date, verified boolean);
create or replace table marts.account_monthly ({account_columns});
create or replace table marts.account_annual ({account_columns_annual});
create or replace table marts.agency_monthly ({agency_columns});
create or replace table marts.agency_annual ({agency_columns_annual});
create or replace table quality.validation_runs (
    run_id varchar, validated_at timestamptz, dataset varchar, platform varchar,
    partition_date date, file varchar, rows bigint, success boolean,
    evaluated_expectations bigint, failed_expectations varchar, warnings varchar,
    quarantined_to varchar);  -- failures and warnings: JSON lists (validation.VALIDATION_RUNS_SCHEMA)
create or replace table quality.extract_log (
    run_date date, platform varchar, account_id varchar, agency_id varchar, handle varchar,
    status varchar, reason varchar, calls bigint, units bigint, run_id varchar,
    logged_at timestamptz);
"""

ACCOUNT_COLUMNS = """
    account_id varchar, agency_id varchar, platform varchar, handle varchar, {period},
    followers_start bigint, followers_end bigint, followers_change bigint,
    followers_growth_pct double, followers_growth_ratio double, posts bigint,
    video_posts bigint, live_posts bigint, engagement bigint, engagement_per_post double,
    engagement_rate_pct double, last_post_at timestamptz, days_since_last_post integer,
    activity_status varchar"""
AGENCY_COLUMNS = """
    agency_id varchar, agency_name varchar, agency_name_en varchar, successor_of varchar[],
    {period}, platforms varchar[], platform_count bigint, accounts bigint,
    followers_end bigint, followers_change bigint, followers_growth_pct double,
    posts bigint, engagement bigint, activity_status varchar, rank_followers bigint,
    rank_growth bigint"""
DDL = _DDL_TEMPLATE.format(
    account_columns=ACCOUNT_COLUMNS.format(period="month date"),
    account_columns_annual=ACCOUNT_COLUMNS.format(period="year integer"),
    agency_columns=AGENCY_COLUMNS.format(period="month date"),
    agency_columns_annual=AGENCY_COLUMNS.format(period="year integer"))

ACTIVITY_ORDER = ["active", "low", "stale", "dormant", "unknown"]
MONTHS = [date(2025 + (i // 12), i % 12 + 1, 1) for i in range(22)]  # 2025-01 .. 2026-10
LAST_DAY = date(2026, 10, 31)


@dataclass
class DemoAccount:
    agency_id: str
    platform: str
    handle: str
    followers: dict[date, int]                    # month -> last observation in it
    posts: dict[date, tuple[int, int, int, int]] = field(default_factory=dict)  # posts, video, live, engagement
    last_post_at: datetime | None = None
    status: str = "unknown"
    tracked_posts: bool = True

    @property
    def account_id(self) -> str:
        return f"{self.platform}:{self.handle.lower()}"


def _series(start: int, end: int, months=MONTHS) -> dict[date, int]:
    steps = len(months) - 1
    return {m: round(start + (end - start) * i / steps) for i, m in enumerate(months)}


def _posts(per_month: int, video: int = 0, live: int = 0, engagement_per_post: int = 40):
    return {m: (per_month, video, live, per_month * engagement_per_post) for m in MONTHS}


AGENCIES = [
    # agency_id, name, name_en, active_from, active_to, successor_of
    ("culture", "Mədəniyyət Nazirliyi", "Ministry of Culture", date(2018, 4, 20), None, ["culture-tourism"]),
    ("culture-tourism", "Mədəniyyət və Turizm Nazirliyi", "Ministry of Culture and Tourism", None, None, []),
    ("education", "Təhsil Nazirliyi", "Ministry of Education", None, None, []),
    ("sheki", '<script>alert("x")</script> Şəki İcra Hakimiyyəti: ağ, qış, çöl, üzüm', "Sheki <b>Executive</b> Authority",
     None, None, []),
    ("youth-sports", "Gənclər və İdman Nazirliyi", "Ministry of Youth and Sports", None, None, []),
]

_NEW_PAGE_MONTHS = [m for m in MONTHS if m >= date(2026, 3, 1)]
ACCOUNTS = [
    # 2025: 8,000 -> 11,400; 2026: 11,400 -> 22,900 (doubled to nearly 23 thousand)
    DemoAccount("culture", "facebook", "culture.gov.az",
                {**_series(8000, 11400, MONTHS[:12]), **_series(11400, 22900, MONTHS[11:])},
                _posts(30, video=6, engagement_per_post=55), datetime(2026, 10, 30, 9, tzinfo=UTC), "active"),
    # The reorganised agency's new page, first counted in March 2026.
    DemoAccount("culture", "instagram", "culture_az", _series(1200, 5400, _NEW_PAGE_MONTHS),
                {m: (12, 4, 0, 600) for m in _NEW_PAGE_MONTHS}, datetime(2026, 10, 28, tzinfo=UTC), "active"),
    # The old agency's page: one post ever, in 2011.
    DemoAccount("culture-tourism", "facebook", "mctgovaz", _series(3150, 3100),
                {date(2011, 6, 1): (1, 0, 0, 3)},
                datetime(2011, 6, 14, 10, tzinfo=UTC), "dormant"),
    # 2026: 10,000 -> 4,000.
    DemoAccount("education", "facebook", "tehsilnazirliyi",
                {**_series(9500, 10000, MONTHS[:12]), **_series(10000, 4000, MONTHS[11:])},
                _posts(2, engagement_per_post=12), datetime(2026, 10, 2, tzinfo=UTC), "low"),
    DemoAccount("education", "youtube", "TehsilNazirliyi", _series(2000, 2600),
                _posts(8, video=8, live=5, engagement_per_post=20), datetime(2026, 10, 25, tzinfo=UTC), "active"),
    DemoAccount("sheki", "telegram", "sheki_ih", _series(700, 760), {},
                datetime(2026, 4, 3, tzinfo=UTC), "stale", tracked_posts=False),
]
# Registry accounts that the marts have no row for.
MISSING_ACCOUNTS = [("education", "x", "edu_gov_az"), ("youth-sports", "facebook", "mys.gov.az")]
EXTRACT_LOG = [
    (LAST_DAY, "x", "x:edu_gov_az", "education", "edu_gov_az", "failed",
     "access tier does not allow reading this account (HTTP 403)"),
    (LAST_DAY, "facebook", "facebook:mys.gov.az", "youth-sports", "mys.gov.az", "gone",
     "page not found or not visible (code 100/33)"),
    (LAST_DAY, "facebook", "facebook:culture.gov.az", "culture", "culture.gov.az", "ok", None),
]


def build_demo_warehouse(path: Path | str) -> Path:
    """Write the demo warehouse to `path` (replacing its tables) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(DDL)
        con.executemany("insert into core.agencies values (?, ?, ?, 'ministry', 'AZ', ?, ?, ?)",
                        [list(a) for a in AGENCIES])
        registry_accounts = [(a.agency_id, a.platform, a.handle) for a in ACCOUNTS] + MISSING_ACCOUNTS
        con.executemany(
            "insert into core.accounts values (?, ?, ?, ?, null, null, null, null, false)",
            [(f"{p}:{h.lower()}", ag, p, h) for ag, p, h in registry_accounts])
        _insert_account_marts(con)
        _insert_agency_marts(con)
        con.executemany(
            "insert into quality.extract_log values (?, ?, ?, ?, ?, ?, ?, 3, 3, 'demo-run', ?)",
            [(*row, datetime(2026, 10, 31, 6, tzinfo=UTC)) for row in EXTRACT_LOG])
        con.executemany(
            "insert into quality.validation_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                ("run-1", datetime(2026, 10, 31, 6, 5, tzinfo=UTC), "account_snapshots",
                 "facebook", LAST_DAY, "account_snapshots/platform=facebook/date=2026-10-31/part-a.parquet",
                 4, True, 12, "[]", '["followers of facebook:culture.gov.az jumped 40% in a day"]', None),
                ("run-1", datetime(2026, 10, 31, 6, 5, tzinfo=UTC), "posts", "youtube",
                 LAST_DAY, "posts/platform=youtube/date=2026-10-31/part-b.parquet", 9, False, 14,
                 '["expect_column_values_to_be_between(published_at): 2 in the future", '
                 '"expect_column_values_to_not_be_null(post_id): 1 null"]', "[]",
                 "quarantine/posts/platform=youtube/date=2026-10-31/part-b.parquet"),
            ])
    return path


def _insert_account_marts(con) -> None:
    monthly, annual = [], []
    for acc in ACCOUNTS:
        months = sorted(set(acc.followers) | set(acc.posts))
        for m in months:
            start = _last_before(acc.followers, m)
            monthly.append(_account_row(acc, m, _month_end(m), start, acc.followers.get(m),
                                        [acc.posts[m]] if m in acc.posts else []))
        for year in sorted({m.year for m in months}):
            in_year = [m for m in months if m.year == year]
            observed = [m for m in in_year if m in acc.followers]
            end = acc.followers[max(observed)] if observed else None
            start = _last_before(acc.followers, date(year, 1, 1))
            annual.append(_account_row(acc, year, min(date(year, 12, 31), LAST_DAY), start, end,
                                       [acc.posts[m] for m in in_year if m in acc.posts]))
    con.executemany(f"insert into marts.account_monthly values ({', '.join(['?'] * 19)})", monthly)
    con.executemany(f"insert into marts.account_annual values ({', '.join(['?'] * 19)})", annual)


def _account_row(acc: DemoAccount, period, period_end: date, start, end, post_months) -> list:
    change = end - start if start is not None and end is not None else None
    pct = 100 * change / start if change is not None and start else None
    ratio = end / start if start and end is not None else None
    if acc.tracked_posts:
        posts = sum(p[0] for p in post_months)
        video, live, engagement = (sum(p[i] for p in post_months) for i in (1, 2, 3))
    else:
        posts = video = live = engagement = None
    per_post = engagement / posts if posts and engagement is not None else None
    rate = 100 * per_post / end if per_post is not None and end else None
    last = acc.last_post_at
    if last and last.date() > period_end:  # as seen at the period's end
        last = datetime(period_end.year, period_end.month, period_end.day, 12, tzinfo=UTC)
    days = (period_end - last.date()).days if last else None
    return [acc.account_id, acc.agency_id, acc.platform, acc.handle, period, start, end, change,
            pct, ratio, posts, video, live, engagement, per_post, rate, last, days, acc.status]


def _insert_agency_marts(con) -> None:
    for grain, table in (("month", "monthly"), ("year", "annual")):
        con.execute(f"""
            insert into marts.agency_{table}
            with per_agency as (
                select a.agency_id, g.name as agency_name, g.name_en as agency_name_en,
                       g.successor_of, a.{grain},
                       list_sort(list_distinct(list(a.platform))) as platforms,
                       count(distinct a.platform) as platform_count, count(*) as accounts,
                       sum(a.followers_end) as followers_end,
                       sum(a.followers_change) filter (where a.followers_start is not null
                           and a.followers_end is not null) as followers_change,
                       100 * sum(a.followers_change) filter (where a.followers_start is not null
                           and a.followers_end is not null)
                         / nullif(sum(a.followers_start) filter (where a.followers_start is not null
                           and a.followers_end is not null), 0) as followers_growth_pct,
                       sum(a.posts) as posts, sum(a.engagement) as engagement,
                       list_sort(list(a.activity_status), 'ASC')[1] as status_any
                from marts.account_{table} a join core.agencies g using (agency_id)
                group by all
            )
            select agency_id, agency_name, agency_name_en, successor_of, {grain}, platforms,
                   platform_count, accounts, followers_end, followers_change, followers_growth_pct,
                   posts, engagement,
                   ['active', 'low', 'stale', 'dormant', 'unknown'][
                     (select min(list_position(['active', 'low', 'stale', 'dormant', 'unknown'], s))
                      from (select unnest(list(x.activity_status)) as s
                            from marts.account_{table} x
                            where x.agency_id = per_agency.agency_id and x.{grain} = per_agency.{grain}))
                   ] as activity_status,
                   rank() over (partition by {grain} order by followers_end desc nulls last),
                   case when followers_growth_pct is not null then rank() over (
                       partition by {grain}, followers_growth_pct is null
                       order by followers_growth_pct desc) end
            from per_agency
        """)


def _last_before(series: dict[date, int], month: date) -> int | None:
    earlier = [m for m in series if m < month]
    return series[max(earlier)] if earlier else None


def _month_end(month: date) -> date:
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


if __name__ == "__main__":
    home = Path(sys.argv[1] if len(sys.argv) > 1 else "./data-demo")
    print(build_demo_warehouse(home / "warehouse.duckdb"))
