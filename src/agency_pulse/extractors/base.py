"""What every extractor shares: its state and result types, parsers, paging and the account loop.

Every extractor (listed in ``agency_pulse.platforms``) exposes
``extract(client, conn, accounts, run_date, state) -> ExtractResult`` and builds it from:

- ``ExtractState`` (what earlier accepted runs tell it) and ``ExtractResult`` (rows per
  dataset plus one ``Outcome`` per account for the extract_log);
- ``parse_count`` and ``parse_timestamp``: the one way to read a count or a time from an
  answer, failing loudly (MalformedResponse), never as a zero;
- ``pages``: the one paging loop. A cursor that repeats (or a read past ``max_pages``)
  stops the read, logs one warning naming the platform and the account, and marks the
  account's posts incomplete: its extract_log reason says so, and no deletion is inferred
  from that listing;
- ``path_segment`` and ``list_item``: a handle or id reaches a request only as one quoted
  path segment or one parameter value (``requests`` encodes parameter values);
- ``extract_each``: the per-account loop that turns errors into outcomes.

This module imports nothing heavy: the runner (``agency_pulse.extract``) lands the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote

from agency_pulse.errors import (
    AccountGone,
    InvalidHandle,
    InvalidToken,
    MalformedResponse,
    PermissionDenied,
    PlatformError,
    QuotaExhausted,
    TransientError,
)
from agency_pulse.registry import Account

log = logging.getLogger(__name__)

SETTLE_DAYS = 30
# A first run reads two years of posts: as far back as follower history (insights) reaches.
BACKFILL_DAYS = 730
# The start of an extract_log reason for an account whose post read was cut short.
POSTS_INCOMPLETE = "posts incomplete"


class Outcome(NamedTuple):
    """One account's extract_log row: status (ok | gone | private | failed | skipped), why,
    and cost."""

    status: str
    reason: str | None
    calls: int
    units: int


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
    # last day each known post was read, by post_id (for post_deletions.last_seen_on): the
    # latest of its posts rows' fetched_on and of the post_reads rows listing it
    post_last_seen: dict[str, date] = field(default_factory=dict)
    # digest (``extract_state.post_digests``) of each known post's accepted version, by
    # post_id: the runner lands a post read again only when its digest differs
    post_digests: dict[str, str] = field(default_factory=dict)
    # posts an accepted run dated after the run day already read (a rerun of an older day):
    # the runner lands no version of them, the later read's version stands (lake.KEYS)
    posts_read_after: set[str] = field(default_factory=set)

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
    # filled by the runner from ``posts`` (``extract.settle_posts``), not by extractors
    post_reads: list[dict] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # the error that stopped the platform (remaining accounts are logged as failed with it)
    stopped_by: PlatformError | None = None
    # account id -> why its post read was cut short (lands in the extract_log reason)
    posts_incomplete: dict[str, str] = field(default_factory=dict)
    # accounts that failed for a reason that may pass (a retry can fetch them)
    retryable: set[str] = field(default_factory=set)

    def rows(self, dataset: str) -> list[dict]:
        return getattr(self, dataset)

    def fail(self, account_id: str, exc: PlatformError, reason: str | None = None,
             calls: int = 0, units: int = 0) -> None:
        """Record a failed account (``private`` when it refuses us: ``exc.log_status``); a
        failure that may pass is remembered as retryable."""
        self.outcomes[account_id] = Outcome(exc.log_status, reason or exc.reason, calls, units)
        if may_pass(exc):
            self.retryable.add(account_id)

    def mark_posts_incomplete(self, account_id: str, note: str) -> None:
        """Record that the account's posts were not all read (the first note is kept)."""
        self.posts_incomplete.setdefault(account_id, note)

    def posts_complete(self, account_id: str) -> bool:
        """Whether every page of the account's posts was read (so absences mean deletions)."""
        return account_id not in self.posts_incomplete


class AccountCost:
    """Counts the calls and units this thread spends through a client between two points
    (one account's share): exact while other threads use the same client."""

    def __init__(self, client):
        self.client = client
        self.calls_at, self.units_at = _thread_cost(client)

    @property
    def calls(self) -> int:
        return _thread_cost(self.client)[0] - self.calls_at

    @property
    def units(self) -> int:
        return _thread_cost(self.client)[1] - self.units_at


def _thread_cost(client) -> tuple[int, int]:
    thread_cost = getattr(client, "thread_cost", None)
    return thread_cost() if thread_cost else (client.calls, client.units)


# --------------------------------------------------------------------------- parsing

def parse_count(value, what: str, platform: str) -> int | None:
    """A count from an answer: an int >= 0 or a string of ASCII digits; None when absent.

    Anything else (a bool, a negative number, "1.2K", a float) raises MalformedResponse
    naming ``what``: a count we cannot read is never landed as a guess.
    """
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise MalformedResponse(platform, f"{what}: {value!r} is not a count")


def parse_timestamp(value, what: str, platform: str, *, required: bool = True
                    ) -> datetime | None:
    """An ISO 8601 time with a zone (``...Z``, ``+00:00`` or Graph's ``+0000``) as UTC.

    A missing value raises MalformedResponse when ``required``, else gives None; a value
    that is not a time, or has no zone, always raises.
    """
    if value is None or value == "":
        if required:
            raise MalformedResponse(platform, f"{what}: missing timestamp")
        return None
    if not isinstance(value, str):
        raise MalformedResponse(platform, f"{what}: bad timestamp {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedResponse(platform, f"{what}: bad timestamp {value!r}") from None
    if parsed.tzinfo is None:
        raise MalformedResponse(platform, f"{what}: timestamp without time zone {value!r}")
    return parsed.astimezone(UTC)


# --------------------------------------------------------------------------- requests

def path_segment(value: str, what: str, platform: str) -> str:
    """``value`` quoted as exactly one URL path segment (``/``, ``?``, ``#`` and ``%`` encoded).

    "." and ".." would still be read as a step up the path, and an empty value as no
    segment at all: those raise InvalidHandle.
    """
    text = str(value)
    if text in ("", ".", ".."):
        raise InvalidHandle(platform, f"{what} {text!r} cannot be used in a request path")
    return quote(text, safe="")


def list_item(value: str, what: str, platform: str) -> str:
    """``value`` as one item of a comma-separated parameter (``ids=a,b``): no comma allowed.

    ``requests`` encodes the parameter value; a comma inside an item would split it in two.
    """
    text = str(value)
    if not text or "," in text:
        raise InvalidHandle(platform, f"{what} {text!r} cannot be one item of a "
                            "comma-separated list: check the registry")
    return text


# --------------------------------------------------------------------------- paging

class Page(NamedTuple):
    """One page of a listing: its items, the cursor of the next page (None: last page) and
    whatever else the caller wants carried along with it (``extra``)."""

    items: list
    next_cursor: Any = None
    extra: Any = None


def pages(fetch: Callable[[Any], Page], *, platform: str, account: Account,
          result: ExtractResult, what: str = "posts",
          max_pages: int | None = None) -> Iterator[Page]:
    """Yield one page at a time: ``fetch(None)`` first, then ``fetch(cursor)`` for each next.

    The caller may stop early (e.g. once posts are older than it asked for): that read is
    complete. The read stops on its own when a page has no next cursor (complete), when a
    cursor repeats, or after ``max_pages`` pages with more to come; in the last two cases it
    logs one warning naming the platform and the account and marks the account's posts
    incomplete in ``result`` (``POSTS_INCOMPLETE`` in its extract_log reason). An extractor
    infers deletions only from a listing read completely (``result.posts_complete``).
    """
    seen: set = set()
    cursor = None
    read = 0
    while True:
        page = fetch(cursor)
        read += 1
        yield page
        cursor = page.next_cursor
        if cursor is None or cursor == "":
            return
        if cursor in seen:
            cut = f"the paging cursor repeats after {read} pages"
        elif max_pages is not None and read >= max_pages:
            cut = f"more than {max_pages} pages"
        else:
            seen.add(cursor)
            continue
        log.warning("%s: %s of %s: %s; stopping there", platform, what, account.account_id,
                    cut)
        result.mark_posts_incomplete(account.account_id, f"{POSTS_INCOMPLETE}: {what}: {cut}")
        return


# --------------------------------------------------------------------------- the account loop

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

    ``ok`` when it returns; ``gone`` on AccountGone; ``private`` when the account refuses us
    (PermissionDenied for this account only); ``failed`` with the (redacted) reason on any
    other PlatformError. A platform-stopping error ends the loop and sets
    ``result.stopped_by``; the runner then logs the remaining accounts as failed.
    ``shared_cost`` adds calls/units of batched requests already attributed to accounts.
    An outcome the callback recorded itself is kept (costs added); an ``ok`` account whose
    posts were cut short gets the ``POSTS_INCOMPLETE`` note in its reason.

    With ``client.concurrency`` above 1, that many accounts are handled at once, each
    wholly in one thread (so its cost is its own); the rows they add are then put in
    account order, so the result is the one a sequential run gives. After a
    platform-stopping error no further account starts (those in flight finish).
    """
    accounts = list(accounts)
    workers = min(int(getattr(client, "concurrency", 1) or 1), len(accounts))
    if workers <= 1:
        for account in accounts:
            if result.stopped_by is not None:
                break
            _extract_one(client, account, result, extract_account, shared_cost or {})
        return result
    starts = {dataset: len(result.rows(dataset)) for dataset in ROW_DATASETS}

    def run(account: Account) -> None:
        if result.stopped_by is None:
            _extract_one(client, account, result, extract_account, shared_cost or {})

    with ThreadPoolExecutor(max_workers=workers,
                            thread_name_prefix=f"extract-{accounts[0].platform}") as pool:
        for done in [pool.submit(run, account) for account in accounts]:
            done.result()  # a bug in one account's code is raised here, as sequentially
    order = {account.account_id: i for i, account in enumerate(accounts)}
    for dataset, start in starts.items():
        rows = result.rows(dataset)
        # stable: each account's rows keep the order its one thread added them in
        rows[start:] = sorted(rows[start:], key=lambda row: order.get(row.get("account_id"), -1))
    return result


# The datasets an extractor adds rows to (ExtractResult's lists).
ROW_DATASETS = ("account_snapshots", "posts", "post_deletions", "follower_history")


def _extract_one(client, account: Account, result: ExtractResult,
                 extract_account: Callable[[Account], None],
                 shared_cost: dict[str, tuple[int, int]]) -> None:
    """One account of ``extract_each``: its outcome, from what the callback did or raised."""
    if account.account_id in result.outcomes:
        return  # already decided by a batched call (e.g. gone in the counts batch)
    cost = AccountCost(client)
    status, reason = "ok", None
    try:
        extract_account(account)
    except AccountGone as exc:
        status, reason = "gone", exc.reason
    except PlatformError as exc:
        status, reason = exc.log_status, exc.reason
        if may_pass(exc):
            result.retryable.add(account.account_id)
        if exc.stops_platform and result.stopped_by is None:
            result.stopped_by = exc
    extra_calls, extra_units = shared_cost.get(account.account_id, (0, 0))
    if account.account_id in result.outcomes and status == "ok":
        status, reason = result.outcomes[account.account_id][:2]
    incomplete = result.posts_incomplete.get(account.account_id)
    if status == "ok" and incomplete:
        reason = f"{incomplete}; {reason}" if reason else incomplete
    result.outcomes[account.account_id] = Outcome(status, reason, cost.calls + extra_calls,
                                                  cost.units + extra_units)
    if status != "ok":
        log.warning("%s %s: %s%s", account.platform, account.account_id, status,
                    f" ({reason})" if reason else "")


def split_cost(account_ids: list[str], calls: int, units: int) -> dict[str, tuple[int, int]]:
    """Share a batched request's calls/units among its accounts (sums preserved)."""
    if not account_ids:
        return {}
    n = len(account_ids)
    return {account_id: (calls // n + (1 if i < calls % n else 0),
                         units // n + (1 if i < units % n else 0))
            for i, account_id in enumerate(account_ids)}


def may_pass(exc: PlatformError) -> bool:
    """Whether a retry may succeed: throttling, an outage, a spent quota, expired credentials.
    A deleted or private account, a refused permission or a malformed body will not pass by
    waiting: those are recorded, and the run does not fail for them."""
    return isinstance(exc, TransientError | QuotaExhausted | InvalidToken)


# --------------------------------------------------------------------------- account identity

class Lookup(NamedTuple):
    """What a platform answered for one handle or one id (``agency-pulse registry check``).

    ``status``: ``found`` (with the platform's ``platform_id`` and current ``handle``),
    ``missing`` (no such account, or deleted), ``private`` (it exists but may not be read),
    ``ambiguous`` (several accounts answer) or ``failed`` (the question could not be
    answered: ``detail`` says why).
    """

    status: str
    platform_id: str | None = None
    handle: str | None = None
    detail: str | None = None


class AccountLookup(NamedTuple):
    """One registry account's answers: by its handle, and by its ``platform_id`` when the
    registry has one and the platform can be asked by id (else None)."""

    by_handle: Lookup
    by_id: Lookup | None = None


def lookup_from_error(exc: PlatformError) -> Lookup:
    """The Lookup an error answer means: gone is ``missing``, a refusal ``private``."""
    if isinstance(exc, AccountGone):
        return Lookup("missing", detail=exc.reason)
    if isinstance(exc, PermissionDenied) and not exc.platform_wide:
        return Lookup("private", detail=exc.reason)
    return Lookup("failed", detail=exc.reason)


def note_handle_changes(result: ExtractResult, accounts: Iterable[Account],
                        current: dict[str, str | None]) -> ExtractResult:
    """Say in each ``ok`` outcome whose account the platform now calls by another handle
    ``handle changed: old -> new``; the rows keep the registry's account_id, so the
    account's history continues (``current``: account id -> the handle the API gave)."""
    for account in accounts:
        new = current.get(account.account_id)
        outcome = result.outcomes.get(account.account_id)
        if not new or outcome is None or outcome.status != "ok":
            continue
        if new.strip().lstrip("@").lower() == account.handle.strip().lstrip("@").lower():
            continue
        note = f"handle changed: {account.handle} -> {new.strip().lstrip('@')}"
        reason = f"{outcome.reason}; {note}" if outcome.reason else note
        result.outcomes[account.account_id] = outcome._replace(reason=reason)
        log.warning("%s %s: %s (history continues under the platform id)",
                    account.platform, account.account_id, note)
    return result
