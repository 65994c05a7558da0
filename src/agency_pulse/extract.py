"""Run one platform's extractor for a day and land what it returns (DESIGN.md, "Extractors").

Every platform's extractor (``agency_pulse.platforms.TABLE``) is a function
``extract(client, conn, accounts, run_date, state) -> ExtractResult``; the types and helpers
extractors share live in ``agency_pulse.extractors.base`` (re-exported here). This module
builds their state from the accepted lake and holds ``run_platform``, which lands the
datasets, the extract_log and the raw archive.
"""

from __future__ import annotations

import logging
import time as time_module
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from agency_pulse import config, connections, day_record, lake, platforms
from agency_pulse.config import PLATFORMS
from agency_pulse.connections import PlatformConnection
from agency_pulse.errors import AgencyPulseError, PlatformError
from agency_pulse.extractors.base import (  # noqa: F401 - re-exported for the extractors' users
    BACKFILL_DAYS,
    SETTLE_DAYS,
    AccountCost,
    ExtractResult,
    ExtractState,
    Outcome,
    deletions_for,
    extract_each,
    split_cost,
)
from agency_pulse.http_client import ApiClient
from agency_pulse.registry import Account, Registry, load_registry
from agency_pulse.settings import Settings

log = logging.getLogger(__name__)

DATASETS = ("account_snapshots", "posts", "post_deletions", "follower_history", "post_reads")
# A connection's source -> extract_log.source: a real platform API, or the synthetic sandbox.
FIGURE_SOURCES = {"airflow": "api", "sandbox": "sandbox"}


class PlatformRunFailed(AgencyPulseError):
    """A platform-stopping error ended the run; what succeeded was landed first."""

    def __init__(self, platform: str, reason: str, summary: dict):
        super().__init__(f"{platform}: {reason}")
        self.platform = platform
        self.reason = reason
        self.summary = summary


class AccountsFailed(PlatformRunFailed):
    """Accounts failed for a reason that may pass (a retry fetches only them); what
    succeeded, and everything the day already held, was landed first."""

    def __init__(self, platform: str, failed: dict[str, str | None], summary: dict):
        reason = f"{len(failed)} account(s) failed"
        super().__init__(platform, reason, summary)
        self.problems = [f"{platform} {account_id}: {why or 'failed'}"
                         for account_id, why in sorted(failed.items())]
        self.args = ("\n".join(self.problems),)


# --------------------------------------------------------------------------- the runner

def build_state(platform: str, run_date: date, *, root: Path | None = None,
                settle_days: int = SETTLE_DAYS,
                backfill_days: int | None = BACKFILL_DAYS) -> ExtractState:
    """What the ACCEPTED lake knew before ``run_date`` (a rerun of a day ignores that day).

    Read from the platform's extract state table (``extract_state``, refreshed first), so
    it costs the same whatever the length of the history; a day older than the table's
    kept window (a backfill) reads the lake itself (``scan_state``)."""
    from agency_pulse import extract_state

    state = extract_state.read_state(platform, run_date, root=root, settle_days=settle_days,
                                     backfill_days=backfill_days)
    if state is not None:
        return state
    return scan_state(platform, run_date, root=root, settle_days=settle_days,
                      backfill_days=backfill_days)


def scan_state(platform: str, run_date: date, *, root: Path | None = None,
               settle_days: int = SETTLE_DAYS,
               backfill_days: int | None = BACKFILL_DAYS) -> ExtractState:
    """``build_state`` read from every accepted partition (and compacted month) dated
    before ``run_date``: the reference the state table must agree with."""
    from agency_pulse import extract_state

    state = ExtractState(settle_days=settle_days, backfill_days=backfill_days)
    settle_start = state.settle_start(run_date)

    posts = _read_before("posts", platform, run_date, root)
    if posts.num_rows:
        latest = posts.group_by("account_id").aggregate([("published_at", "max")])
        for account_id, published in zip(latest["account_id"].to_pylist(),
                                         latest["published_at_max"].to_pylist(), strict=True):
            if account_id and published is not None:
                state.last_post_at[account_id] = published
        recent = posts.filter(pc.greater_equal(posts["published_at"], settle_start))
        recent = recent.select(["account_id", "post_id", "published_at", "fetched_on"]) \
            .append_column("digest", pa.array(extract_state.post_digests(recent), pa.string()))
        deleted = _deleted_post_ids(platform, run_date, root)
        reads = extract_state.read_post_ids(_read_before("post_reads", platform, run_date, root))
        seen = reads.group_by("post_id").aggregate([("read_on", "max")])
        extract_state.add_settling_posts(
            state, extract_state.latest_versions(recent), deleted,
            dict(zip(seen["post_id"].to_pylist(), seen["read_on_max"].to_pylist(), strict=True)))
    state.posts_read_after = _read_after(platform, run_date, root)

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


def run_platform(platform: str, run_date: date, *, registry: Registry | None = None,
                 connection: PlatformConnection | None = None, run_id: str | None = None,
                 accounts: Sequence[Account | str] | None = None, batch_key: str = "all",
                 budget: int | None = None, client: ApiClient | None = None,
                 settings: Settings | None = None, only_missing: bool = False) -> dict:
    """Extract one platform for ``run_date`` and land every dataset in the landing zone.

    Every registry account of the platform (or of ``accounts``) gets exactly one extract_log
    row. What the day already holds is kept (``day_record``): an account that fails in a
    rerun keeps its rows, and a rerun that fetched less never lands less. With
    ``only_missing`` (an Airflow retry), accounts the day already has in full are not
    fetched again. Returns a JSON-serialisable summary. A platform-stopping error (invalid
    token, quota, platform-wide permission) marks the remaining accounts failed, lands what
    succeeded and then raises PlatformRunFailed carrying the summary; so does any account
    that failed (AccountsFailed, one problem line per account). Without ``settings``, reads
    the environment now.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}")
    settings = settings or Settings.from_environment()
    registry = registry or load_registry(config.registry_path(settings))
    selected = _select_accounts(registry, platform, accounts)
    run_id = run_id or f"manual__{run_date.isoformat()}"
    outcomes: dict[str, Outcome] = {}
    active = []
    for account in selected:
        if account.active_on(run_date):
            active.append(account)
        else:
            outcomes[account.account_id] = Outcome("skipped", f"inactive on {run_date.isoformat()}",
                                                   0, 0)

    earlier = day_record.earlier_rows(platform, run_date, [a.account_id for a in selected],
                                      batch_key=batch_key, lake_root=config.paths(settings).lake)
    carried = day_record.complete_accounts(earlier["extract_log"]) if only_missing else set()
    carried &= {a.account_id for a in active}
    active = [a for a in active if a.account_id not in carried]
    for account_id in carried:
        outcomes[account_id] = Outcome("ok", "kept: fetched in full earlier that day", 0, 0)

    conn = connection or connections.resolve(platform, settings)
    result = ExtractResult()
    if conn is None:
        log.warning("%s: no connection %s and no sandbox configured; skipping %d accounts",
                    platform, connections.conn_id_for(platform), len(active))
        for account in active:
            outcomes[account.account_id] = Outcome("skipped", f"no connection for {platform}",
                                                   0, 0)
        return _land(platform, run_date, run_id, batch_key, selected, outcomes, result,
                     client=None, source=None, earlier=earlier, carried=carried,
                     landing=config.paths(settings).landing)

    client = client or build_client(conn, budget=budget, settings=settings)
    if budget is not None:
        client.budget = budget
    internal_error: Exception | None = None
    client.add_secrets(conn.secrets)
    state = None
    if active:
        state = build_state(platform, run_date, backfill_days=settings.backfill_days)
        extract = platforms.get(platform).load_extractor()
        try:
            result = extract(client, conn, active, run_date, state)
        except PlatformError as exc:
            # Raised out of the extractor: nothing it gathered is available to land.
            result = ExtractResult(stopped_by=exc)
        except Exception as exc:
            # A bug, not an API answer: log every account failed, land that, then fail loudly.
            internal_error = exc
            result = ExtractResult(stopped_by=PlatformError(
                platform, f"internal error {type(exc).__name__}: {client.redact(str(exc))}"))
    _redact_rows(result, client)
    if state is not None:
        settle_posts(result, state, platform, run_date, earlier["posts"])
    stop_reason = None
    if result.stopped_by is not None:
        stop_reason = client.redact(result.stopped_by.reason)
    for account in active:
        outcome = result.outcomes.get(account.account_id)
        if outcome is None:
            reason = (f"platform stopped: {stop_reason}" if stop_reason
                      else "the extractor reported no outcome")
            outcome = Outcome("failed", reason, 0, 0)
        status, reason, calls, units = outcome
        outcomes[account.account_id] = Outcome(status, client.redact(reason) if reason else None,
                                               calls, units)
    summary = _land(platform, run_date, run_id, batch_key, selected, outcomes, result,
                    client=client, source=conn.source, earlier=earlier, carried=carried,
                    landing=config.paths(settings).landing)
    if stop_reason is not None:
        summary["stopped_by"] = stop_reason
        raise PlatformRunFailed(platform, stop_reason, summary) from internal_error
    # Only a failure that may pass fails the run (and the Airflow task, whose retry fetches
    # what is missing); a refused permission or a malformed body is recorded, not retried.
    failed = {account_id: outcomes[account_id].reason for account_id in sorted(result.retryable)
              if outcomes.get(account_id) and outcomes[account_id].status == "failed"}
    if failed:
        summary["failed_accounts"] = failed
        raise AccountsFailed(platform, failed, summary)
    return summary


def build_client(conn: PlatformConnection, *, budget: int | None = None,
                 settings: Settings | None = None) -> ApiClient:
    """The production client; against the sandbox its waits are scaled down (same logic).

    ``AGENCY_PULSE_MAX_WAIT_SECONDS`` caps any single wait (default 60);
    ``AGENCY_PULSE_WAIT_SCALE`` multiplies real sleeping (default 1, or 0.001 on the sandbox);
    ``AGENCY_PULSE_HTTP_READ_TIMEOUT`` is the seconds a response may take (default 30);
    ``AGENCY_PULSE_CONCURRENCY`` the requests in flight at once (default: the platform's).
    Without ``settings``, reads the environment now.
    """
    settings = settings or Settings.from_environment()
    max_wait = settings.max_wait_seconds
    read_timeout = settings.http_read_timeout
    default_scale = 0.001 if conn.source == "sandbox" else 1.0
    scale = settings.wait_scale if settings.wait_scale is not None else default_scale

    def sleep(seconds: float) -> None:
        time_module.sleep(seconds * scale)

    return ApiClient(conn.platform, secrets=conn.secrets, budget=budget, backoff_max=max_wait,
                     sleep=sleep, timeout=(5, read_timeout),
                     concurrency=settings.concurrency_for(conn.platform))


def _land(platform: str, run_date: date, run_id: str, batch_key: str,
          selected: list[Account], outcomes: dict[str, Outcome], result: ExtractResult,
          *, client: ApiClient | None, source: str | None, earlier: dict[str, list[dict]],
          carried: set[str], landing: Path) -> dict:
    logged_at = datetime.now(UTC)
    # The log row records where the figures came from, so every output built on them can
    # say so (a sandbox's figures are synthetic); the connection's own word is "airflow".
    figure_source = FIGURE_SOURCES.get(source) if source else None
    log_rows = []
    for account in selected:
        status, reason, calls, units = outcomes[account.account_id]
        log_rows.append({"run_date": run_date, "platform": platform,
                         "account_id": account.account_id, "agency_id": account.agency_id,
                         "handle": account.handle, "status": status, "reason": reason,
                         "calls": calls, "units": units, "run_id": run_id,
                         "logged_at": logged_at, "source": figure_source})
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    kept: dict[str, int] = {}
    for dataset in (*DATASETS, "extract_log"):
        if dataset == "extract_log":
            dataset_rows = day_record.merge_log(earlier[dataset], log_rows, carried)
        else:
            dataset_rows = day_record.merge(dataset, earlier[dataset], result.rows(dataset))
            kept[dataset] = len(dataset_rows) - len(result.rows(dataset))
        rows[dataset] = len(dataset_rows)
        # An empty file is written only to replace one an earlier run of the day left.
        if not dataset_rows and not _partition_exists(dataset, platform, run_date, batch_key):
            continue
        table = lake.table_from_rows(dataset, dataset_rows)
        path = lake.write_partition(dataset, platform, run_date, table, key=batch_key,
                                    root=landing)
        files[dataset] = str(path)
    raw_path = None
    archive = client.raw_archive() if client is not None else None
    if archive:
        raw_path = str(lake.archive_raw(platform, run_date, key=batch_key, gzipped=archive))
    statuses: dict[str, int] = {}
    for status, *_ in outcomes.values():
        statuses[status] = statuses.get(status, 0) + 1
    if carried:
        statuses["kept"] = len(carried)
        statuses["ok"] -= len(carried)
        if not statuses["ok"]:
            del statuses["ok"]
    summary = {
        "platform": platform, "run_date": run_date.isoformat(), "run_id": run_id,
        "source": source, "files": files, "raw": raw_path, "rows": rows,
        "statuses": statuses, "calls": client.calls if client else 0,
        "units": client.units if client else 0, "retries": client.retries if client else 0,
        "waited_seconds": round(client.waited, 3) if client else 0.0,
        "stopped_by": None, "kept_rows": {k: n for k, n in kept.items() if n},
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
    """The accepted partitions of a dataset dated before ``run_date``, compacted months
    included."""
    tables = [table for month_file in lake.list_month_files(dataset, platform, root=root)
              for day, table in lake.read_month_days(month_file) if day < run_date]
    tables += [lake.read_file(f, schema=lake.SCHEMAS[dataset])
               for f in lake.list_partitions(lake.ACCEPTED, dataset, platform, before=run_date,
                                             root=root)]
    return pa.concat_tables(tables) if tables else lake.SCHEMAS[dataset].empty_table()


def _read_after(platform: str, run_date: date, root: Path | None) -> set[str]:
    """The post ids an accepted run dated after ``run_date`` read (``post_reads``, and the
    posts rows of lakes written before it): what a rerun of an older day must not cover."""
    from agency_pulse import extract_state

    found: set[str] = set()
    for dataset in ("post_reads", "posts"):
        tables = [table for month_file in lake.list_month_files(dataset, platform, root=root)
                  for day, table in lake.read_month_days(month_file) if day > run_date]
        tables += [lake.read_file(f, schema=lake.SCHEMAS[dataset])
                   for f in lake.list_partitions(lake.ACCEPTED, dataset, platform, root=root)
                   if lake.parse_partition(f).day > run_date]
        for table in tables:
            ids = (extract_state.read_post_ids(table)["post_id"] if dataset == "post_reads"
                   else table["post_id"])
            found.update(ids.to_pylist())
    return found


def settle_posts(result: ExtractResult, state: ExtractState, platform: str, run_date: date,
                 earlier_posts: Sequence[dict] = ()) -> ExtractResult:
    """Keep in ``result.posts`` only the versions to land, and record the other posts read
    in ``result.post_reads`` (one row per account: the ids read that landed no row, so a
    post's rows and its reads together say every day it was seen).

    A post lands when it is new to the accepted lake, or when the fields the warehouse uses
    (``extract_state.DIGEST_COLUMNS``) differ from the version accepted before
    (``state.post_digests``), or from the version an earlier run of the same day landed
    (``earlier_posts``: a rerun corrects it). A post an accepted later day already read
    (``state.posts_read_after``) lands no version: the later one stands, as it did when
    every read landed a row."""
    from agency_pulse import extract_state

    if not result.posts:
        return result
    day_versions = {}
    if earlier_posts:
        earlier = lake.table_from_rows("posts", earlier_posts)
        day_versions = dict(zip(earlier["post_id"].to_pylist(),
                                extract_state.post_digests(earlier), strict=True))
    digests = extract_state.post_digests(lake.table_from_rows("posts", result.posts))
    landed, unchanged = [], {}
    for row, digest in zip(result.posts, digests, strict=True):
        post_id = row["post_id"]
        if post_id not in state.posts_read_after and digest != day_versions.get(
                post_id, state.post_digests.get(post_id)):
            landed.append(row)
        else:
            unchanged.setdefault(row["account_id"], []).append(row)
    landed_ids = {(row["account_id"], str(row["post_id"])) for row in landed}
    result.posts = landed
    result.post_reads = [
        {"account_id": account_id, "platform": platform, "read_on": run_date,
         "post_ids": sorted({str(row["post_id"]) for row in rows} - {
             post_id for account, post_id in landed_ids if account == account_id}),
         "fetched_at": max((row["fetched_at"] for row in rows if row.get("fetched_at")),
                           default=None) or datetime.now(UTC)}
        for account_id, rows in unchanged.items()]
    result.post_reads = [row for row in result.post_reads if row["post_ids"]]
    return result


def _deleted_post_ids(platform: str, run_date: date, root: Path | None) -> dict[str, date]:
    deletions = _read_before("post_deletions", platform, run_date, root)
    found: dict[str, date] = {}
    for post_id, detected in zip(deletions["post_id"].to_pylist(),
                                 deletions["detected_on"].to_pylist(), strict=True):
        if detected is not None and (post_id not in found or detected > found[post_id]):
            found[post_id] = detected
    return found
