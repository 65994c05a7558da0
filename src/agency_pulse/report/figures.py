"""Everything the report says, read from the marts (and the extract log) for one period.

Only `marts.*` provide figures. `core.agencies`/`core.accounts` (the registry as loaded)
name the accounts that have no row in the period, and `quality.extract_log`, when it
exists, says why. Queries go through a read-only snapshot connection.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date

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
    # account_monthly rows for the charts: account_id, agency_id, month, followers_end
    monthly: list[dict] = field(default_factory=list)
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
    # agency_monthly rows for the charts: agency_id, month, followers_end, posts
    monthly: list[dict] = field(default_factory=list)

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
    # month -> ("start", first observation day) | ("end", latest observation day)
    partial: dict[date, tuple[str, date]] = field(default_factory=dict)

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


def load_figures(con: duckdb.DuckDBPyConnection, period: Period,
                 agency_id: str | None = None, *, charted: int | None = None) -> ReportFigures:
    """Read the period's rows from the marts, plus what explains the gaps.

    Linear in the rows read (every list is grouped by key once). With `agency_id`, only
    that agency's rows are read (`agencies` holds it alone, or nothing when unknown);
    `covered_until`, `months` and `agency_names` still describe the whole warehouse, so
    its page says what the report says.

    Accounts' month-by-month rows (`AccountFigures.monthly`) are what costs at scale.
    `charted=None`: every account's. `charted=N`: only those a report draws and says,
    the accounts of the first N agencies with figures (in `agencies` order) and the
    accounts first counted in the period (a sentence names their first month); the
    others' `monthly` is empty. Agencies' monthly rows are always read.
    """
    frame = load_frame(con, period)
    grain, suffix = period.grain, period.kind
    # every query below binds the agency filter (NULL: all agencies), never splices it in
    only_params = [agency_id, agency_id]
    account_rows = rows(con, f"select * from marts.account_{suffix} where {grain} = ? "
                             "and (?::varchar is null or agency_id = ?) "
                             "order by agency_id, platform, handle", [period.key, *only_params])
    agency_rows = {r["agency_id"]: r for r in rows(
        con, f"select * from marts.agency_{suffix} where {grain} = ? "
             "and (?::varchar is null or agency_id = ?)",
        [period.key, *only_params])}

    chart_from = _chart_from(period)
    # only what the charts and the sentences read: a row per account and month adds up
    agency_monthly = _group(rows(con, "select agency_id, month, followers_end, posts "
                                      "from marts.agency_monthly where month between ? and ? "
                                      "and (?::varchar is null or agency_id = ?) order by month",
                                 [chart_from, period.end, *only_params]),
                            "agency_id")

    lifetime = {r["account_id"]: r for r in rows(con, """
        select account_id, sum(posts) as posts, min(year) filter (where posts > 0) as first_post_year
        from marts.account_annual where (?::varchar is null or agency_id = ?)
        group by account_id""", only_params)}
    registry_accounts = _group(_registry_accounts(con, agency_id), "agency_id")
    registry_agencies = _registry_agencies(con)
    extract = _latest_extract_outcomes(con, agency_id)
    own_rows = _group(account_rows, "agency_id")

    listed = [a["agency_id"] for a in registry_agencies.values() if _active(a, period)]
    if agency_id is not None:
        listed = [a for a in listed if a == agency_id]
    agency_ids = list(dict.fromkeys([*agency_rows, *listed]))
    agencies = []
    for agency in agency_ids:
        mart_row = agency_rows.get(agency)
        registry_row = registry_agencies.get(agency, {})
        rows_by_account = {r["account_id"]: r for r in own_rows.get(agency, [])}
        expected = {a["account_id"]: a for a in registry_accounts.get(agency, [])
                    if _active(a, period)}
        accounts = []
        for account_id in dict.fromkeys([*rows_by_account, *expected]):
            row = rows_by_account.get(account_id)
            source = row or expected[account_id]
            status, reason = extract.get(account_id, (None, None))
            life = lifetime.get(account_id, {})
            accounts.append(AccountFigures(
                account_id=account_id, platform=source["platform"], handle=source["handle"],
                row=row, lifetime_posts=life.get("posts"), first_post_year=life.get("first_post_year"),
                extract_status=status, extract_reason=reason))
        accounts.sort(key=lambda a: (PLATFORMS.index(a.platform) if a.platform in PLATFORMS else 99,
                                     a.handle.lower()))
        name = (mart_row or {}).get("agency_name") or registry_row.get("name") or agency
        agencies.append(AgencyFigures(
            agency_id=agency, name=name,
            name_en=(mart_row or {}).get("agency_name_en") or registry_row.get("name_en"),
            successor_of=list((mart_row or {}).get("successor_of") or registry_row.get("successor_of") or []),
            row=mart_row, accounts=accounts,
            monthly=agency_monthly.get(agency, [])))
    agencies.sort(key=lambda a: (a.row is None, (a.row or {}).get("rank_followers") or 10**9,
                                 a.name_en or a.name))
    _attach_account_monthly(con, agencies, chart_from, period.end, charted)
    names = {a["agency_id"]: (a.get("name_en") or a.get("name")) for a in registry_agencies.values()}
    names.update({a.agency_id: a.name_en or a.name for a in agencies})
    names_az = {a["agency_id"]: a.get("name") or a["agency_id"] for a in registry_agencies.values()}
    names_az.update({a.agency_id: a.name for a in agencies})
    return replace(frame, agencies=agencies, account_rows=account_rows, agency_names=names,
                   agency_names_az=names_az)


def load_frame(con: duckdb.DuckDBPyConnection, period: Period) -> ReportFigures:
    """The period without its agencies: the months charted, the last day with data
    (`covered_until`, hence `weeks`), the partial months and the figures' sources, as
    `load_figures` gives them; `agencies`, `account_rows` and the name maps are empty.

    For a page that reads only the rows it shows (a leaderboard's page): a few small
    queries, whatever the number of accounts. UserInputError without the marts."""
    for table in ("marts.account_monthly", "marts.account_annual",
                  "marts.agency_monthly", "marts.agency_annual"):
        if not table_exists(con, table):
            raise UserInputError(f"the warehouse has no {table}: run `agency-pulse build` first")
    chart_from = _chart_from(period)
    months = [r[0] for r in con.execute(
        "select distinct month from marts.agency_monthly where month between ? and ? order by month",
        [chart_from, period.end]).fetchall()]
    return ReportFigures(period=period, covered_until=_covered_until(con, period, months),
                         agencies=[], account_rows=[], months=months, agency_names={},
                         sources=figure_sources(con, chart_from, period.end),
                         partial=partial_months(con))


def _chart_from(period: Period) -> date:
    """The first month charted: the period's; a monthly report shows the 12 months up to it."""
    return period.start if period.kind == "annual" else _months_back(period.start, 11)


def _attach_account_monthly(con, agencies: list[AgencyFigures], start: date, end: date,
                            charted: int | None) -> None:
    """Fill `AccountFigures.monthly` (see `load_figures`'s `charted`) in one query."""
    if charted is None:
        wanted = [a.account_id for agency in agencies for a in agency.accounts]
    else:
        drawn = [agency for agency in agencies if agency.row is not None][:charted]
        wanted = [a.account_id for agency in drawn for a in agency.accounts]
        wanted += [a.account_id for agency in agencies for a in agency.accounts
                   if a.row is not None and a.row.get("followers_start") is None]
    if not wanted:
        return
    found = _group(rows(con, "select account_id, agency_id, month, followers_end "
                             "from marts.account_monthly where month between ? and ? "
                             "and list_contains(?, account_id) order by month",
                        [start, end, list(dict.fromkeys(wanted))]), "account_id")
    for agency in agencies:
        for account in agency.accounts:
            account.monthly = found.get(account.account_id, [])


def partial_months(con: duckdb.DuckDBPyConnection) -> dict[date, tuple[str, date]]:
    """Months the warehouse's data window cuts: month -> ("start", first day) for the first
    month of the backfill window when its first observation day is not the 1st, and
    ("end", last day) for the running month when the latest observation day is not its
    last day. Empty without `quality.account_coverage`."""
    if not table_exists(con, "quality.account_coverage"):
        return {}
    first, last = con.execute("select min(first_observed_on), max(last_observed_on) "
                              "from quality.account_coverage").fetchone()
    found: dict[date, tuple[str, date]] = {}
    if first is not None and first.day != 1:
        found[first.replace(day=1)] = ("start", first)
    if last is not None and last != _month_end(last):
        found[last.replace(day=1)] = ("end", last)  # a window inside one month: the end wins
    return found


def _group(items: list[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for item in items:
        grouped.setdefault(item[key], []).append(item)
    return grouped


def _covered_until(con: duckdb.DuckDBPyConnection, period: Period, months: list[date]) -> date:
    """The period's end E, or for a running period the latest observation day.

    The marts give E per account as last_post_at + days_since_last_post; without that,
    the end of the last month with data.
    """
    grain, suffix = period.grain, period.kind
    latest = con.execute(
        f"select max(cast(last_post_at as date) + cast(days_since_last_post as integer)) "
        f"from marts.account_{suffix} where {grain} = ? and last_post_at is not null "
        f"and days_since_last_post is not null "
        f"and cast(last_post_at as date) + cast(days_since_last_post as integer) >= ?",
        [period.key, period.start]).fetchone()[0]
    if latest is not None:
        return min(period.end, latest)
    in_period = [m for m in months if m >= period.start]
    return min(period.end, _month_end(max(in_period))) if in_period else period.end


def _registry_accounts(con, agency_id: str | None = None) -> list[dict]:
    if not table_exists(con, "core.accounts"):
        return []
    return rows(con, "select account_id, agency_id, platform, handle, active_from, active_to "
                     "from core.accounts where (?::varchar is null or agency_id = ?)",
                [agency_id, agency_id])


def _registry_agencies(con) -> dict[str, dict]:
    if not table_exists(con, "core.agencies"):
        return {}
    return {r["agency_id"]: r for r in rows(
        con, "select agency_id, name, name_en, active_from, active_to, successor_of from core.agencies")}


def _latest_extract_outcomes(con, agency_id: str | None = None) -> dict[str, tuple[str, str | None]]:
    """account_id -> (status, reason) of its latest extract-log line, when the log exists."""
    if not table_exists(con, "quality.extract_log"):
        return {}
    return {r["account_id"]: (r["status"], r["reason"]) for r in rows(con, """
        select account_id, status, reason from quality.extract_log
        where (?::varchar is null or agency_id = ?)
        qualify row_number() over (partition by account_id order by run_date desc, logged_at desc) = 1""",
        [agency_id, agency_id])}


def _active(registry_row: dict, period: Period) -> bool:
    start, end = registry_row.get("active_from"), registry_row.get("active_to")
    return (start is None or start <= period.end) and (end is None or end >= period.start)


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _month_end(month: date) -> date:
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
