"""A tiny warehouse built by the real models of the dbt project ``include/dbt`` from hand-written inputs.

Used by the report and UI tests, and to preview the UI without running the pipeline::

    python tests/demo_warehouse.py /tmp/demo-home

The inputs (registry rows, daily snapshots, posts, a manual observation, extract-log and
validation rows) go into the warehouse's source tables and ``warehouse.run_models`` builds
the marts, so the marts always have the contract's columns. They hold the situations the
report must word right: a page that doubled, a page that fell from 10 thousand to
4 thousand, a page whose only post is from 2011, a reorganised agency's new page, an account
with no data (and its extract-log reason), an agency with no data at all, names in
Azerbaijani and a name carrying hostile HTML.
"""

from __future__ import annotations

import calendar
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from agency_pulse import lake, warehouse

MONTHS = [date(2025 + (i // 12), i % 12 + 1, 1) for i in range(22)]  # 2025-01 .. 2026-10
LAST_DAY = date(2026, 10, 31)
FETCHED_AT = datetime(2026, 10, 31, 6, tzinfo=UTC)


@dataclass
class DemoAccount:
    agency_id: str
    platform: str
    handle: str
    followers: dict[date, int]                    # month -> last observation in it
    posts: dict[date, tuple[int, int, int, int]] = field(default_factory=dict)  # posts, video, live, engagement
    last_post_at: datetime | None = None  # the latest post (a manual observation's if untracked)
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
                _posts(30, video=6, engagement_per_post=55), datetime(2026, 10, 30, 9, tzinfo=UTC)),
    # The reorganised agency's new page, first counted in March 2026.
    DemoAccount("culture", "instagram", "culture_az", _series(1200, 5400, _NEW_PAGE_MONTHS),
                {m: (12, 4, 0, 600) for m in _NEW_PAGE_MONTHS}, datetime(2026, 10, 28, tzinfo=UTC)),
    # The old agency's page: one post ever, in 2011.
    DemoAccount("culture-tourism", "facebook", "mctgovaz", _series(3150, 3100),
                {date(2011, 6, 1): (1, 0, 0, 3)},
                datetime(2011, 6, 14, 10, tzinfo=UTC)),
    # 2026: 10,000 -> 4,000.
    DemoAccount("education", "facebook", "tehsilnazirliyi",
                {**_series(9500, 10000, MONTHS[:12]), **_series(10000, 4000, MONTHS[11:])},
                _posts(2, engagement_per_post=12), datetime(2026, 10, 2, tzinfo=UTC)),
    DemoAccount("education", "youtube", "TehsilNazirliyi", _series(2000, 2600),
                _posts(8, video=8, live=5, engagement_per_post=20), datetime(2026, 10, 25, tzinfo=UTC)),
    DemoAccount("sheki", "telegram", "sheki_ih", _series(700, 760), {},
                datetime(2026, 4, 3, tzinfo=UTC), tracked_posts=False),
]
# Registry accounts that the marts have no row for.
MISSING_ACCOUNTS = [("education", "x", "edu_gov_az"), ("youth-sports", "facebook", "mys.gov.az")]
# A page the registry retired on purpose (active_to): its runs are skipped, not failed.
RETIRED_ACCOUNTS = [("youth-sports", "instagram", "mys_archive", date(2025, 6, 30))]
EXTRACT_LOG = [
    (LAST_DAY, "x", "x:edu_gov_az", "education", "edu_gov_az", "failed",
     "access tier does not allow reading this account (HTTP 403)"),
    (LAST_DAY, "facebook", "facebook:mys.gov.az", "youth-sports", "mys.gov.az", "gone",
     "page not found or not visible (code 100/33)"),
    (LAST_DAY, "facebook", "facebook:culture.gov.az", "culture", "culture.gov.az", "ok", None),
    (LAST_DAY, "instagram", "instagram:mys_archive", "youth-sports", "mys_archive", "skipped",
     "inactive on 2026-10-31"),
]


VALIDATION_RUNS = [
    {"run_id": "run-1", "validated_at": datetime(2026, 10, 31, 6, 5, tzinfo=UTC),
     "dataset": "account_snapshots", "platform": "facebook", "partition_date": LAST_DAY,
     "file": "account_snapshots/platform=facebook/date=2026-10-31/part-a.parquet", "rows": 4,
     "success": True, "evaluated_expectations": 12, "failed_expectations": "[]",
     "warnings": '["followers of facebook:culture.gov.az jumped 40% in a day"]',
     "quarantined_to": None},
    {"run_id": "run-1", "validated_at": datetime(2026, 10, 31, 6, 5, tzinfo=UTC),
     "dataset": "posts", "platform": "youtube", "partition_date": LAST_DAY,
     "file": "posts/platform=youtube/date=2026-10-31/part-b.parquet", "rows": 9,
     "success": False, "evaluated_expectations": 14,
     "failed_expectations": '["expect_column_values_to_be_between(published_at): 2 in the '
                            'future", "expect_column_values_to_not_be_null(post_id): 1 null"]',
     "warnings": "[]",
     "quarantined_to": "quarantine/posts/platform=youtube/date=2026-10-31/part-b.parquet"},
]


def build_demo_warehouse(path: Path | str, source: str = "sandbox") -> Path:
    """Write the demo warehouse to `path` (replacing its tables) and return the path.

    ``source`` is what its extract log says the figures came from: they are made up, so
    ``sandbox`` by default.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        warehouse.create_source_tables(con)
        _insert(con, "core.agencies", pa.Table.from_pylist([
            {"agency_id": agency_id, "name": name, "name_en": name_en, "kind": "ministry",
             "jurisdiction": "AZ", "active_from": active_from, "active_to": active_to,
             "successor_of": successor_of}
            for agency_id, name, name_en, active_from, active_to, successor_of in AGENCIES],
            schema=warehouse.AGENCIES_SCHEMA))
        registry_accounts = [(a.agency_id, a.platform, a.handle) for a in ACCOUNTS] + MISSING_ACCOUNTS
        _insert(con, "core.accounts", pa.Table.from_pylist([
            {"account_id": f"{platform}:{handle.lower()}", "agency_id": agency_id,
             "platform": platform, "handle": handle, "verified": False}
            for agency_id, platform, handle in registry_accounts]
            + [{"account_id": f"{platform}:{handle.lower()}", "agency_id": agency_id,
                "platform": platform, "handle": handle, "active_to": active_to,
                "verified": False}
               for agency_id, platform, handle, active_to in RETIRED_ACCOUNTS],
            schema=warehouse.ACCOUNTS_SCHEMA))
        lake_rows = _lake_rows(source)
        for dataset, rows in lake_rows.items():
            _insert(con, f"staging.lake_{dataset}", lake.table_from_rows(dataset, rows))
        # as warehouse.build does: the extract log is also a quality table
        con.execute("insert into quality.extract_log select * from staging.lake_extract_log")
        _insert(con, "quality.validation_runs", pa.Table.from_pylist(
            VALIDATION_RUNS, schema=warehouse.VALIDATION_RUNS_SCHEMA))
        warehouse.run_models(con)
    return path


def set_source(path: Path | str, source: str) -> None:
    """Say the demo's figures came from ``source`` (e.g. ``api``) and rebuild the models."""
    with duckdb.connect(str(path)) as con:
        con.execute("update staging.lake_extract_log set source = ?", [source])
        con.execute("update quality.extract_log set source = ?", [source])
        warehouse.run_models(con)


def _lake_rows(source: str = "sandbox") -> dict[str, list[dict]]:
    """Snapshots on each month's last day (LAST_DAY is the latest), the posts of each month,
    the observation giving the untracked channel's last post, and the extract log: an `ok`
    row for each snapshot day (the run that took it), EXTRACT_LOG's rows on theirs."""
    snapshots, posts, observations = [], [], []
    for acc in ACCOUNTS:
        owner = {"account_id": acc.account_id, "agency_id": acc.agency_id,
                 "platform": acc.platform}
        for month, followers in acc.followers.items():
            snapshots.append({**owner, "handle": acc.handle, "snapshot_date": _month_end(month),
                              "followers": followers, "fetched_at": FETCHED_AT})
        for month, (count, video, live, engagement) in acc.posts.items():
            posts += [{**owner, **post} for post in _month_posts(acc, month, count, video,
                                                                  live, engagement)]
        if not acc.tracked_posts and acc.last_post_at:
            observations.append({**owner, "handle": acc.handle, "observed_on": LAST_DAY,
                                 "followers": acc.followers.get(MONTHS[-1]),
                                 "last_post_on": acc.last_post_at.date(),
                                 "imported_at": FETCHED_AT})
    runs = {(s["snapshot_date"], s["account_id"]): (s["platform"], s["agency_id"], s["handle"])
            for s in snapshots}
    logged = {(run_date, account_id): (platform, agency_id, handle, status, reason)
              for run_date, platform, account_id, agency_id, handle, status, reason in EXTRACT_LOG}
    untracked = {acc.account_id for acc in ACCOUNTS if not acc.tracked_posts}
    for key, (platform, agency_id, handle) in runs.items():
        # a channel without a public preview is counted but its posts are not read
        reason = "no public preview: posts not tracked" if key[1] in untracked else None
        logged.setdefault(key, (platform, agency_id, handle, "ok", reason))
    extract_log = [
        {"run_date": run_date, "platform": platform, "account_id": account_id,
         "agency_id": agency_id, "handle": handle, "status": status, "reason": reason,
         "calls": 3, "units": 3, "run_id": "demo-run", "logged_at": FETCHED_AT,
         "source": source}
        for (run_date, account_id), (platform, agency_id, handle, status, reason)
        in sorted(logged.items())]
    return {"account_snapshots": snapshots, "posts": posts, "observations": observations,
            "extract_log": extract_log}


def _month_posts(acc: DemoAccount, month: date, count: int, video: int, live: int,
                 engagement: int) -> list[dict]:
    """``count`` posts in ``month``, one a day from the 1st at 09:00 (the month's latest at
    the account's last_post_at when that falls in the month); the first ``video`` are
    videos, the first ``live`` of them live; ``engagement`` is their reactions' sum."""
    days = calendar.monthrange(month.year, month.month)[1]
    rows = []
    for i in range(count):
        published = datetime(month.year, month.month, i % days + 1, 9, tzinfo=UTC)
        rows.append({"post_id": f"{acc.handle}-{month:%Y%m}-{i}", "published_at": published,
                     "is_video": i < video, "is_live": i < live,
                     "reactions": engagement // count + (1 if i < engagement % count else 0),
                     "comments": 0, "shares": 0, "fetched_on": LAST_DAY,
                     "fetched_at": FETCHED_AT})
    last = acc.last_post_at
    if rows and last and (last.year, last.month) == (month.year, month.month):
        rows[-1]["published_at"] = last  # still the month's latest: earlier ones are on earlier days
    return rows


def _insert(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    con.register("_demo_rows", data)
    try:
        con.execute(f"insert into {table} by name select * from _demo_rows")
    finally:
        con.unregister("_demo_rows")


def _month_end(month: date) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


if __name__ == "__main__":
    home = Path(sys.argv[1] if len(sys.argv) > 1 else "./data-demo")
    print(build_demo_warehouse(home / "warehouse.duckdb"))
