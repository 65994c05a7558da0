"""Run one platform's extractor for a day and land what it returns (DESIGN.md, "Extractors").

Every extractor module ``agency_pulse.extractors.<platform>`` exposes
``extract(client, conn, accounts, run_date, state) -> ExtractResult``. This module holds the
state and result types they share, a per-account loop that maps errors to extract_log
outcomes, and ``run_platform`` which lands the datasets, the extract_log and the raw archive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from agency_pulse.errors import AccountGone, AgencyPulseError, PlatformError
from agency_pulse.registry import Account

log = logging.getLogger(__name__)

SETTLE_DAYS = 30
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
    # last day each known post was fetched, by post_id (for post_deletions.last_seen_on)
    post_last_seen: dict[str, date] = field(default_factory=dict)

    def settle_start(self, run_date: date) -> datetime:
        """Start (UTC midnight) of the window whose posts are re-read to refresh metrics."""
        return datetime.combine(run_date - timedelta(days=self.settle_days), time(), UTC)

    def since_for(self, account_id: str, run_date: date) -> datetime | None:
        """Earliest publication time to ask for: min(last post seen, settling window start).

        None for an account never seen before: read its whole reachable history.
        """
        last = self.last_post_at.get(account_id)
        if last is None:
            return None
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
