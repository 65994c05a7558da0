"""Everything the report says, read from the marts (and the extract log) for one period.

Only `marts.*` provide figures. `core.agencies`/`core.accounts` (the registry as loaded)
name the accounts that have no row in the period, and `quality.extract_log`, when it
exists, says why. Queries go through a read-only snapshot connection.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from agency_pulse.config import PLATFORMS
from agency_pulse.errors import UserInputError
from agency_pulse.report.provenance import figure_sources


@dataclass(frozen=True)
class Period:
    """A calendar year or month (UTC)."""

    kind: str  # "annual" | "monthly"
    start: date
    end: date  # last day

    @classmethod
    def year(cls, year: int) -> Period:
        return cls("annual", date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def month(cls, text: str) -> Period:
        try:
            year, month = (int(part) for part in text.split("-"))
            start = date(year, month, 1)
        except ValueError:
            raise UserInputError(f"--month must be YYYY-MM, got {text!r}") from None
        return cls("monthly", start, date(year, month, calendar.monthrange(year, month)[1]))

    @property
    def grain(self) -> str:
        return "year" if self.kind == "annual" else "month"

    @property
    def key(self) -> int | date:
        """The value of the marts' `year` or `month` column for this period."""
        return self.start.year if self.kind == "annual" else self.start

    @property
    def slug(self) -> str:
        return f"annual-{self.start.year}" if self.kind == "annual" else f"monthly-{self.start:%Y-%m}"


@dataclass
class AccountFigures:
    account_id: str
    platform: str
    handle: str
    row: dict | None                     # the account mart row for the period; None: no data
    lifetime_posts: int | None = None    # posts over every period the marts know
    first_post_year: int | None = None
    monthly: list[dict] = field(default_factory=list)   # account_monthly rows for the chart
    extract_status: str | None = None    # latest extract_log status / reason, when logged
    extract_reason: str | None = None


@dataclass
class AgencyFigures:
    agency_id: str
    name: str
    name_en: str | None
    successor_of: list[str]
    row: dict | None                     # the agency mart row for the period; None: no data
    accounts: list[AccountFigures]
    monthly: list[dict] = field(default_factory=list)   # agency_monthly rows for the chart

    @property
    def display_name(self) -> str:
        if self.name_en and self.name_en != self.name:
            return f"{self.name_en} ({self.name})"
        return self.name

    @property
    def platforms(self) -> list[str]:
        return sorted({a.platform for a in self.accounts if a.row is not None},
                      key=PLATFORMS.index)


@dataclass
class ReportFigures:
    period: Period
    covered_until: date                  # last day with data inside the period
    agencies: list[AgencyFigures]
    account_rows: list[dict]             # every account mart row of the period
    months: list[date]                   # months charted
    agency_names: dict[str, str]         # agency_id -> display name, predecessors included
    sources: set[str] = field(default_factory=set)  # where the figures shown came from
    agency_names_az: dict[str, str] = field(default_factory=dict)  # agency_id -> agency_name

    @property
    def weeks(self) -> float:
        return max(1, (self.covered_until - self.period.start).days + 1) / 7


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name]).fetchone()[0])


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def latest_year(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest year the agency marts have any row for."""
    if not table_exists(con, "marts.agency_annual"):
        return None
    return con.execute("select max(year) from marts.agency_annual").fetchone()[0]


def load_figures(con: duckdb.DuckDBPyConnection, period: Period) -> ReportFigures:
    """Read the period's rows from the marts, plus what explains the gaps."""
    for table in ("marts.account_monthly", "marts.account_annual",
                  "marts.agency_monthly", "marts.agency_annual"):
        if not table_exists(con, table):
            raise UserInputError(f"the warehouse has no {table}: run `agency-pulse build` first")
    grain, suffix = period.grain, period.kind
    account_rows = rows(con, f"select * from marts.account_{suffix} where {grain} = ? "
                             "order by agency_id, platform, handle", [period.key])
    agency_rows = {r["agency_id"]: r for r in rows(
        con, f"select * from marts.agency_{suffix} where {grain} = ?", [period.key])}

    # Charts show the period's months; a monthly report shows the 12 months up to it.
    chart_from = period.start if period.kind == "annual" else _months_back(period.start, 11)
    account_monthly = rows(con, "select * from marts.account_monthly where month between ? and ? "
                                "order by month", [chart_from, period.end])
    agency_monthly = rows(con, "select * from marts.agency_monthly where month between ? and ? "
                               "order by month", [chart_from, period.end])
    months = sorted({r["month"] for r in agency_monthly})
    covered_until = _covered_until(period, account_rows, months)

    lifetime = {r["account_id"]: r for r in rows(con, """
        select account_id, sum(posts) as posts, min(year) filter (where posts > 0) as first_post_year
        from marts.account_annual group by account_id""")}
    registry_accounts = _registry_accounts(con)
    registry_agencies = _registry_agencies(con)
    extract = _latest_extract_outcomes(con)

    agency_ids = list(dict.fromkeys(
        [r["agency_id"] for r in agency_rows.values()]
        + [a["agency_id"] for a in registry_agencies.values() if _active(a, period)]))
    agencies = []
    for agency_id in agency_ids:
        mart_row = agency_rows.get(agency_id)
        registry_row = registry_agencies.get(agency_id, {})
        own_rows = [r for r in account_rows if r["agency_id"] == agency_id]
        expected = [a for a in registry_accounts if a["agency_id"] == agency_id
                    and _active(a, period)]
        ids = list(dict.fromkeys([r["account_id"] for r in own_rows]
                                 + [a["account_id"] for a in expected]))
        accounts = []
        for account_id in ids:
            row = next((r for r in own_rows if r["account_id"] == account_id), None)
            source = row or next(a for a in expected if a["account_id"] == account_id)
            status, reason = extract.get(account_id, (None, None))
            life = lifetime.get(account_id, {})
            accounts.append(AccountFigures(
                account_id=account_id, platform=source["platform"], handle=source["handle"],
                row=row, lifetime_posts=life.get("posts"), first_post_year=life.get("first_post_year"),
                monthly=[r for r in account_monthly if r["account_id"] == account_id],
                extract_status=status, extract_reason=reason))
        accounts.sort(key=lambda a: (PLATFORMS.index(a.platform) if a.platform in PLATFORMS else 99,
                                     a.handle.lower()))
        name = (mart_row or {}).get("agency_name") or registry_row.get("name") or agency_id
        agencies.append(AgencyFigures(
            agency_id=agency_id, name=name,
            name_en=(mart_row or {}).get("agency_name_en") or registry_row.get("name_en"),
            successor_of=list((mart_row or {}).get("successor_of") or registry_row.get("successor_of") or []),
            row=mart_row, accounts=accounts,
            monthly=[r for r in agency_monthly if r["agency_id"] == agency_id]))
    agencies.sort(key=lambda a: (a.row is None, (a.row or {}).get("rank_followers") or 10**9,
                                 a.name_en or a.name))
    names = {a["agency_id"]: (a.get("name_en") or a.get("name")) for a in registry_agencies.values()}
    names.update({a.agency_id: a.name_en or a.name for a in agencies})
    names_az = {a["agency_id"]: a.get("name") or a["agency_id"] for a in registry_agencies.values()}
    names_az.update({a.agency_id: a.name for a in agencies})
    return ReportFigures(period=period, covered_until=covered_until, agencies=agencies,
                         account_rows=account_rows, months=months, agency_names=names,
                         sources=figure_sources(con, chart_from, period.end),
                         agency_names_az=names_az)


def _covered_until(period: Period, account_rows: list[dict], months: list[date]) -> date:
    """The period's end E, or for a running period the latest observation day.

    The marts give E per account as last_post_at + days_since_last_post; without that,
    the end of the last month with data.
    """
    ends = [r["last_post_at"].date() + timedelta(days=r["days_since_last_post"])
            for r in account_rows
            if r.get("last_post_at") is not None and r.get("days_since_last_post") is not None]
    ends = [e for e in ends if period.start <= e]
    if ends:
        return min(period.end, max(ends))
    in_period = [m for m in months if m >= period.start]
    return min(period.end, _month_end(max(in_period))) if in_period else period.end


def _registry_accounts(con) -> list[dict]:
    if not table_exists(con, "core.accounts"):
        return []
    return rows(con, "select account_id, agency_id, platform, handle, active_from, active_to "
                     "from core.accounts")


def _registry_agencies(con) -> dict[str, dict]:
    if not table_exists(con, "core.agencies"):
        return {}
    return {r["agency_id"]: r for r in rows(
        con, "select agency_id, name, name_en, active_from, active_to, successor_of from core.agencies")}


def _latest_extract_outcomes(con) -> dict[str, tuple[str, str | None]]:
    """account_id -> (status, reason) of its latest extract-log line, when the log exists."""
    if not table_exists(con, "quality.extract_log"):
        return {}
    return {r["account_id"]: (r["status"], r["reason"]) for r in rows(con, """
        select account_id, status, reason from quality.extract_log
        qualify row_number() over (partition by account_id order by run_date desc, logged_at desc) = 1""")}


def _active(registry_row: dict, period: Period) -> bool:
    start, end = registry_row.get("active_from"), registry_row.get("active_to")
    return (start is None or start <= period.end) and (end is None or end >= period.start)


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _month_end(month: date) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
