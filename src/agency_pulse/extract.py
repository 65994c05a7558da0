"""Run one platform's extractor for a day and land what it returns (DESIGN.md, "Extractors").

Every extractor module ``agency_pulse.extractors.<platform>`` exposes
``extract(client, conn, accounts, run_date, state) -> ExtractResult``. This module holds the
state and result types they share, a per-account loop that maps errors to extract_log
outcomes, and ``run_platform`` which lands the datasets, the extract_log and the raw archive.
"""

from __future__ import annotations

import importlib
import logging
import os
import time as time_module
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from agency_pulse import config, connections, lake
from agency_pulse.config import PLATFORMS
from agency_pulse.connections import PlatformConnection
from agency_pulse.errors import AccountGone, AgencyPulseError, PlatformError
from agency_pulse.http_client import ApiClient
from agency_pulse.registry import Account, Registry, load_registry

log = logging.getLogger(__name__)

SETTLE_DAYS = 30
# A first run reads two years of posts: as far back as follower history (insights) reaches.
BACKFILL_DAYS = 730
DATASETS = ("account_snapshots", "posts", "post_deletions", "follower_history")

# (status, reason, calls, units) for one account's extract_log row.
Outcome = tuple[str, str | None, int, int]


@dataclass
class ExtractState:
    """What earlier accepted runs tell an extractor (read from the accepted lake)."""

    last_post_at: dict[str, datetime] = field(default_factory=dict)
    # (post_id, published_at) of posts seen before, published within the settling window
    known_post_ids: dict[str, set[tuple[str, datetime]]] = field(default_factory=dict)
    platform_ids: dict[str, str] = field(default_factory=dict)
    settle_days: int = SETTLE_DAYS
    # last day of follower history already landed per account (absent: backfill)
    history_through: dict[str, date] = field(default_factory=dict)
    # how far back an account's first run reads posts (None: everything reachable)
    backfill_days: int | None = BACKFILL_DAYS
    # last day each known post was fetched, by post_id (for post_deletions.last_seen_on)
    post_last_seen: dict[str, date] = field(default_factory=dict)

    def settle_start(self, run_date: date) -> datetime:
        """Start (UTC midnight) of the window whose posts are re-read to refresh metrics."""
        return datetime.combine(run_date - timedelta(days=self.settle_days), time(), UTC)

    def since_for(self, account_id: str, run_date: date) -> datetime | None:
        """Earliest publication time to ask for: min(last post seen, settling window start).

        For an account never seen before: ``backfill_days`` back (None: whole history).
        """
        last = self.last_post_at.get(account_id)
        if last is None:
            if self.backfill_days is None:
                return None
            return datetime.combine(run_date - timedelta(days=self.backfill_days), time(), UTC)
        return min(last, self.settle_start(run_date))


@dataclass
class ExtractResult:
    """Rows for each landed dataset, plus one outcome per account the extractor handled."""

    account_snapshots: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    post_deletions: list[dict] = field(default_factory=list)
    follower_history: list[dict] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # the error that stopped the platform (remaining accounts are logged as failed with it)
    stopped_by: PlatformError | None = None

    def rows(self, dataset: str) -> list[dict]:
        return getattr(self, dataset)


class AccountCost:
    """Counts the calls and units a client spends between two points (one account's share)."""

    def __init__(self, client):
        self.client = client
        self.calls_at = client.calls
        self.units_at = client.units

    @property
    def calls(self) -> int:
        return self.client.calls - self.calls_at

    @property
    def units(self) -> int:
        return self.client.units - self.units_at


def deletions_for(account: Account, platform: str, state: ExtractState, returned_ids: set[str],
                  run_date: date, since: datetime | None) -> list[dict]:
    """Rows for posts seen before (inside the settling window, not before ``since``) and gone now."""
    rows = []
    for post_id, published_at in sorted(state.known_post_ids.get(account.account_id, set()),
                                        key=lambda item: str(item[0])):
        if since is not None and published_at is not None and published_at < since:
            continue  # not asked for this time, so its absence proves nothing
        if post_id not in returned_ids:
            rows.append({"account_id": account.account_id, "platform": platform,
                         "post_id": post_id,
                         "last_seen_on": state.post_last_seen.get(post_id), "detected_on": run_date})
    return rows


def extract_each(client, accounts: Iterable[Account], result: ExtractResult,
                 extract_account: Callable[[Account], None],
                 shared_cost: dict[str, tuple[int, int]] | None = None) -> ExtractResult:
    """Call ``extract_account`` per account, turning errors into extract_log outcomes.

    ``ok`` when it returns; ``gone`` on AccountGone; ``failed`` with the (redacted) reason on
    any other PlatformError. A platform-stopping error ends the loop and sets
    ``result.stopped_by``; the runner then logs the remaining accounts as failed.
    ``shared_cost`` adds calls/units of batched requests already attributed to accounts.
    An outcome the callback recorded itself is kept (costs added).
    """
    shared_cost = shared_cost or {}
    for account in accounts:
        if result.stopped_by is not None:
            break
        if account.account_id in result.outcomes:
            continue  # already decided by a batched call (e.g. gone in the counts batch)
        cost = AccountCost(client)
        status, reason = "ok", None
        try:
            extract_account(account)
        except AccountGone as exc:
            status, reason = "gone", exc.reason
        except PlatformError as exc:
            status, reason = "failed", exc.reason
            if exc.stops_platform:
                result.stopped_by = exc
        extra_calls, extra_units = shared_cost.get(account.account_id, (0, 0))
        if account.account_id in result.outcomes and status == "ok":
            status, reason = result.outcomes[account.account_id][:2]
        result.outcomes[account.account_id] = (status, reason, cost.calls + extra_calls,
                                               cost.units + extra_units)
        if status != "ok":
            log.warning("%s %s: %s%s", account.platform, account.account_id, status,
                        f" ({reason})" if reason else "")
    return result


def split_cost(account_ids: list[str], calls: int, units: int) -> dict[str, tuple[int, int]]:
    """Share a batched request's calls/units among its accounts (sums preserved)."""
    if not account_ids:
        return {}
    n = len(account_ids)
    return {account_id: (calls // n + (1 if i < calls % n else 0),
                         units // n + (1 if i < units % n else 0))
            for i, account_id in enumerate(account_ids)}


class PlatformRunFailed(AgencyPulseError):
    """A platform-stopping error ended the run; what succeeded was landed first."""

    def __init__(self, platform: str, reason: str, summary: dict):
        super().__init__(f"{platform}: {reason}")
        self.platform = platform
        self.reason = reason
        self.summary = summary


# --------------------------------------------------------------------------- the runner

def build_state(platform: str, run_date: date, *, root: Path | None = None,
                settle_days: int = SETTLE_DAYS) -> ExtractState:
    """What the ACCEPTED lake knew before ``run_date`` (a rerun of a day ignores that day)."""
    state = ExtractState(settle_days=settle_days, backfill_days=backfill_days_from_env())
    settle_start = state.settle_start(run_date)

    posts = _read_before("posts", platform, run_date, root)
    if posts.num_rows:
        latest = posts.group_by("account_id").aggregate([("published_at", "max")])
        for account_id, published in zip(latest["account_id"].to_pylist(),
                                         latest["published_at_max"].to_pylist(), strict=True):
            if account_id and published is not None:
                state.last_post_at[account_id] = published
        recent = posts.filter(pc.greater_equal(posts["published_at"], settle_start))
        recent = recent.group_by(["account_id", "post_id"]).aggregate(
            [("published_at", "max"), ("fetched_on", "max")])
        deleted = _deleted_post_ids(platform, run_date, root)
        for account_id, post_id, published, seen_on in zip(
                recent["account_id"].to_pylist(), recent["post_id"].to_pylist(),
                recent["published_at_max"].to_pylist(), recent["fetched_on_max"].to_pylist(),
                strict=True):
            deleted_on = deleted.get(post_id)
            if deleted_on is not None and (seen_on is None or deleted_on >= seen_on):
                continue  # already reported deleted, not seen since
            state.known_post_ids.setdefault(account_id, set()).add((post_id, published))
            if seen_on is not None:
                state.post_last_seen[post_id] = seen_on

    snapshots = _read_before("account_snapshots", platform, run_date, root)
    if snapshots.num_rows:
        snapshots = snapshots.filter(pc.is_valid(snapshots["platform_id"]))
        ordered = snapshots.sort_by([("snapshot_date", "ascending"), ("fetched_at", "ascending")])
        for account_id, platform_id in zip(ordered["account_id"].to_pylist(),
                                           ordered["platform_id"].to_pylist(), strict=True):
            state.platform_ids[account_id] = platform_id  # the latest wins

    history = _read_before("follower_history", platform, run_date, root)
    if history.num_rows:
        through = history.group_by("account_id").aggregate([("day", "max")])
        state.history_through = dict(zip(through["account_id"].to_pylist(),
                                         through["day_max"].to_pylist(), strict=True))
    return state


def backfill_days_from_env() -> int | None:
    """``AGENCY_PULSE_BACKFILL_DAYS``: days of posts a first run reads ("all" for everything)."""
    configured = os.environ.get("AGENCY_PULSE_BACKFILL_DAYS", "").strip().lower()
    if not configured:
        return BACKFILL_DAYS
    if configured == "all":
        return None
    if not configured.isdigit():
        raise ValueError(f"AGENCY_PULSE_BACKFILL_DAYS must be a number of days or 'all', "
                         f"not {configured!r}")
    return int(configured)


def run_platform(platform: str, run_date: date, *, registry: Registry | None = None,
                 connection: PlatformConnection | None = None, run_id: str | None = None,
                 accounts: Sequence[Account | str] | None = None, batch_key: str = "all",
                 budget: int | None = None, client: ApiClient | None = None) -> dict:
    """Extract one platform for ``run_date`` and land every dataset in the landing zone.

    Every registry account of the platform (or of ``accounts``) gets exactly one extract_log
    row. Returns a JSON-serialisable summary. A platform-stopping error (invalid token, quota,
    platform-wide permission) marks the remaining accounts failed, lands what succeeded and
    then raises PlatformRunFailed carrying the summary.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}")
    registry = registry or load_registry()
    selected = _select_accounts(registry, platform, accounts)
    run_id = run_id or f"manual__{run_date.isoformat()}"
    outcomes: dict[str, Outcome] = {}
    active = []
    for account in selected:
        if account.active_on(run_date):
            active.append(account)
        else:
            outcomes[account.account_id] = ("skipped", f"inactive on {run_date.isoformat()}", 0, 0)

    conn = connection or connections.resolve(platform)
    result = ExtractResult()
    if conn is None:
        log.warning("%s: no connection %s and no sandbox configured; skipping %d accounts",
                    platform, connections.conn_id_for(platform), len(active))
        for account in active:
            outcomes[account.account_id] = ("skipped", f"no connection for {platform}", 0, 0)
        return _land(platform, run_date, run_id, batch_key, selected, outcomes, result,
                     client=None, source=None)

    client = client or build_client(conn, budget=budget)
    if budget is not None:
        client.budget = budget
    internal_error: Exception | None = None
    client.add_secrets(conn.secrets)
    if active:
        state = build_state(platform, run_date)
        extractor = importlib.import_module(f"agency_pulse.extractors.{platform}")
        try:
            result = extractor.extract(client, conn, active, run_date, state)
        except PlatformError as exc:
            # Raised out of the extractor: nothing it gathered is available to land.
            result = ExtractResult(stopped_by=exc)
        except Exception as exc:
            # A bug, not an API answer: log every account failed, land that, then fail loudly.
            internal_error = exc
            result = ExtractResult(stopped_by=PlatformError(
                platform, f"internal error {type(exc).__name__}: {client.redact(str(exc))}"))
    _redact_rows(result, client)
    stop_reason = None
    if result.stopped_by is not None:
        stop_reason = client.redact(result.stopped_by.reason)
    for account in active:
        outcome = result.outcomes.get(account.account_id)
        if outcome is None:
            reason = (f"platform stopped: {stop_reason}" if stop_reason
                      else "the extractor reported no outcome")
            outcome = ("failed", reason, 0, 0)
        status, reason, calls, units = outcome
        outcomes[account.account_id] = (status, client.redact(reason) if reason else None,
                                        calls, units)
    summary = _land(platform, run_date, run_id, batch_key, selected, outcomes, result,
                    client=client, source=conn.source)
    if stop_reason is not None:
        summary["stopped_by"] = stop_reason
        raise PlatformRunFailed(platform, stop_reason, summary) from internal_error
    return summary


def build_client(conn: PlatformConnection, *, budget: int | None = None) -> ApiClient:
    """The production client; against the sandbox its waits are scaled down (same logic).

    ``AGENCY_PULSE_MAX_WAIT_SECONDS`` caps any single wait (default 60);
    ``AGENCY_PULSE_WAIT_SCALE`` multiplies real sleeping (default 1, or 0.001 on the sandbox);
    ``AGENCY_PULSE_HTTP_READ_TIMEOUT`` is the seconds a response may take (default 30).
    """
    max_wait = float(os.environ.get("AGENCY_PULSE_MAX_WAIT_SECONDS", "60"))
    read_timeout = float(os.environ.get("AGENCY_PULSE_HTTP_READ_TIMEOUT", "30"))
    default_scale = "0.001" if conn.source == "sandbox" else "1"
    scale = float(os.environ.get("AGENCY_PULSE_WAIT_SCALE", default_scale))

    def sleep(seconds: float) -> None:
        time_module.sleep(seconds * scale)

    return ApiClient(conn.platform, secrets=conn.secrets, budget=budget, backoff_max=max_wait,
                     sleep=sleep, timeout=(5, read_timeout))


def _land(platform: str, run_date: date, run_id: str, batch_key: str,
          selected: list[Account], outcomes: dict[str, Outcome], result: ExtractResult,
          *, client: ApiClient | None, source: str | None) -> dict:
    landing = config.paths().landing
    logged_at = datetime.now(UTC)
    log_rows = []
    for account in selected:
        status, reason, calls, units = outcomes[account.account_id]
        log_rows.append({"run_date": run_date, "platform": platform,
                         "account_id": account.account_id, "agency_id": account.agency_id,
                         "handle": account.handle, "status": status, "reason": reason,
                         "calls": calls, "units": units, "run_id": run_id,
                         "logged_at": logged_at})
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    for dataset in (*DATASETS, "extract_log"):
        dataset_rows = log_rows if dataset == "extract_log" else result.rows(dataset)
        rows[dataset] = len(dataset_rows)
        # An empty file is written only to replace one an earlier run of the day left.
        if not dataset_rows and not _partition_exists(dataset, platform, run_date, batch_key):
            continue
        table = lake.table_from_rows(dataset, dataset_rows)
        path = lake.write_partition(dataset, platform, run_date, table, key=batch_key,
                                    root=landing)
        files[dataset] = str(path)
    raw_path = None
    if client is not None and client.raw:
        raw_path = str(lake.archive_raw(platform, run_date, client.raw, key=batch_key))
    statuses: dict[str, int] = {}
    for status, *_ in outcomes.values():
        statuses[status] = statuses.get(status, 0) + 1
    summary = {
        "platform": platform, "run_date": run_date.isoformat(), "run_id": run_id,
        "source": source, "files": files, "raw": raw_path, "rows": rows,
        "statuses": statuses, "calls": client.calls if client else 0,
        "units": client.units if client else 0, "retries": client.retries if client else 0,
        "waited_seconds": round(client.waited, 3) if client else 0.0,
        "stopped_by": None,
    }
    log.info("%s %s: %s; %d calls, %d units; rows %s", platform, run_date.isoformat(),
             ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "no accounts",
             summary["calls"], summary["units"], rows)
    return summary


def _redact_rows(result: ExtractResult, client: ApiClient) -> None:
    """A secret echoed by an API into any text field (a permalink, a name) never lands."""
    for dataset in DATASETS:
        for row in result.rows(dataset):
            for name, value in row.items():
                if isinstance(value, str):
                    row[name] = client.redact(value)


def _select_accounts(registry: Registry, platform: str,
                     accounts: Sequence[Account | str] | None) -> list[Account]:
    registered = registry.accounts_for(platform)
    if accounts is None:
        return registered
    by_id = {a.account_id: a for a in registered}
    chosen = []
    for item in accounts:
        if isinstance(item, Account):
            if item.platform == platform:
                chosen.append(item)
        elif item in by_id:
            chosen.append(by_id[item])
        else:
            raise ValueError(f"{platform}: account {item!r} is not in the registry")
    return chosen


def _partition_exists(dataset: str, platform: str, day: date, key: str) -> bool:
    """Whether an earlier run of this day left a file (landing or accepted) to replace."""
    for zone in (lake.LANDING, lake.ACCEPTED):
        if lake.list_partitions(zone, dataset, platform, day, key=None if key == "all" else key):
            return True
    return False


def _read_before(dataset: str, platform: str, run_date: date, root: Path | None) -> pa.Table:
    """The accepted partitions of a dataset dated before ``run_date``."""
    tables = [pq.read_table(f, schema=lake.SCHEMAS[dataset])
              for f in lake.list_partitions(lake.ACCEPTED, dataset, platform, before=run_date,
                                            root=root)]
    return pa.concat_tables(tables) if tables else lake.SCHEMAS[dataset].empty_table()


def _deleted_post_ids(platform: str, run_date: date, root: Path | None) -> dict[str, date]:
    deletions = _read_before("post_deletions", platform, run_date, root)
    found: dict[str, date] = {}
    for post_id, detected in zip(deletions["post_id"].to_pylist(),
                                 deletions["detected_on"].to_pylist(), strict=True):
        if detected is not None and (post_id not in found or detected > found[post_id]):
            found[post_id] = detected
    return found
