"""A day's record only grows: what a (re)run of a day lands is merged with what that day
already holds, so a rerun under a partial outage never erases accepted data.

A follower snapshot can never be fetched again later, so the lake is the record. Before a
run lands a platform's batch for a day, ``earlier_rows`` reads what the day already has for
the batch's accounts: the accepted partitions of that day (any batch) and an earlier attempt
of the same batch still waiting in the landing zone (an Airflow retry lands before the
batch is validated). ``merge`` then keeps, per dataset key (``lake.KEYS``), the new row where
the run fetched one and the earlier row otherwise (a ``post_reads`` row lists the post ids of
both). The extract log keeps one row per
account and day: the new one, unless the account failed this time and the day already had
a row for it (its data are kept, so is the record of how they were fetched).

``complete_accounts`` names the accounts the day already has in full (``ok`` without an
incomplete note, ``gone`` or ``private``): a retry fetches only the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path

from agency_pulse import lake

log = logging.getLogger(__name__)

DATASETS = ("account_snapshots", "posts", "post_deletions", "follower_history", "post_reads",
            "extract_log")
# Datasets whose rows list what a run read: a rerun's row lists what every run of the day
# read (the union), so a rerun that read less never records less.
_UNION_LISTS = {"post_reads": "post_ids"}

# Extract-log outcomes that leave nothing to fetch again for the day.
_FINAL_STATUSES = ("ok", "gone", "private")
_INCOMPLETE_NOTE = "posts incomplete"
# Statuses a rerun records over an earlier ok row of the day (facts, not failures), and
# the note their reason then carries (the marts read it: the earlier run read the posts).
_FACTS = ("gone", "private")
EARLIER_OK = "earlier that day: ok"


def earlier_rows(platform: str, day: date, account_ids: Iterable[str], *, batch_key: str,
                 lake_root: Path) -> dict[str, list[dict]]:
    """What the day already holds for these accounts, per dataset (latest row per key).

    The day's rows in a compacted month file come first, then the accepted partitions of
    the day, then the batch's own file in the landing zone (a newer, not yet validated
    attempt), so the latter wins on a shared key.
    """
    wanted = set(account_ids)
    found: dict[str, list[dict]] = {}
    for dataset in DATASETS:
        files = [path for path in lake.list_partitions(lake.ACCEPTED, dataset, platform, day,
                                                       root=lake_root)
                 if _intact(path)]
        files += lake.list_partitions(lake.LANDING, dataset, platform, day, key=batch_key,
                                      root=lake_root)
        rows: list[dict] = []
        # A compacted month holding the day comes first: its daily files sort after it.
        for month_file in lake.list_month_files(dataset, platform, lake.month_of(day),
                                                root=lake_root):
            if _intact(month_file):
                for _, table in lake.read_month_days(month_file, [day]):
                    rows += [row for row in table.to_pylist() if row.get("account_id") in wanted]
        for path in files:
            table = lake.read_file(path, schema=lake.SCHEMAS[dataset])
            rows += [row for row in table.to_pylist() if row.get("account_id") in wanted]
        found[dataset] = _latest_per_key(dataset, rows)
    return found


def complete_accounts(log_rows: Sequence[Mapping]) -> set[str]:
    """Accounts whose extract-log row for the day says there is nothing left to fetch."""
    return {row["account_id"] for row in log_rows
            if row.get("status") in _FINAL_STATUSES
            and not str(row.get("reason") or "").startswith(_INCOMPLETE_NOTE)}


def merge(dataset: str, earlier: Sequence[Mapping], new: Sequence[Mapping]) -> list[dict]:
    """Earlier and new rows of a dataset, one per key: the new row wins, nothing is dropped
    (a ``post_reads`` row lists the ids of both)."""
    keys, _ = lake.KEYS[dataset]
    fresh = {tuple(row.get(k) for k in keys) for row in new}
    kept = [dict(row) for row in earlier if tuple(row.get(k) for k in keys) not in fresh]
    merged = [dict(row) for row in new]
    column = _UNION_LISTS.get(dataset)
    if column:
        before = {tuple(row.get(k) for k in keys): row for row in earlier}
        for row in merged:
            previous = before.get(tuple(row.get(k) for k in keys))
            if previous is not None:
                row[column] = sorted(set(previous.get(column) or ()) | set(row.get(column) or ()))
    return kept + merged


def merge_log(earlier: Sequence[Mapping], new: Sequence[Mapping],
              carried: Iterable[str] = ()) -> list[dict]:
    """One extract-log row per account: the new one, unless the account was not fetched
    again (``carried``) or failed this time while the day has a better row for it. A
    ``gone`` or ``private`` row replacing an ``ok`` one says ``earlier that day: ok`` (with
    the earlier reason) in its reason."""
    before = {row["account_id"]: row for row in earlier}
    carried = set(carried)
    merged = []
    for row in new:
        previous = before.get(row["account_id"])
        keep_previous = previous is not None and (
            row["account_id"] in carried
            or (row.get("status") == "failed" and previous.get("status") != "failed"))
        merged.append(dict(previous if keep_previous else row))
        note = _earlier_ok_note(previous)
        if not keep_previous and note and row.get("status") in _FACTS:
            # The fact replaces the row, but what the earlier run read stays known: the
            # marts count that day's posts as read (include/sql, post tracking).
            merged[-1]["reason"] = "; ".join(filter(None, [row.get("reason"), note]))
    return merged


def _earlier_ok_note(previous: Mapping | None) -> str | None:
    """``earlier that day: ok (...)`` for a day's row that was ok, or already carries it."""
    if previous is None:
        return None
    reason = previous.get("reason") or ""
    if previous.get("status") == "ok":
        return f"{EARLIER_OK} ({reason})" if reason else EARLIER_OK
    at = reason.find(EARLIER_OK)
    return reason[at:] if at >= 0 else None


def _latest_per_key(dataset: str, rows: list[dict]) -> list[dict]:
    keys, latest = lake.KEYS[dataset]
    chosen: dict[tuple, dict] = {}
    for row in rows:  # files in order: a later file wins a tie
        key = tuple(row.get(k) for k in keys)
        current = chosen.get(key)
        if current is None or _not_older(row.get(latest), current.get(latest)):
            chosen[key] = row
    return list(chosen.values())


def _not_older(candidate, current) -> bool:
    if candidate is None:
        return current is None
    return current is None or candidate >= current


def _intact(path: Path) -> bool:
    """Whether an accepted file still matches its recorded checksum (or has none). A damaged
    one is not carried into the rerun that repairs its day: the rerun's fresh rows replace it."""
    check = lake.verify_checksum(path)
    if check.status == "mismatch":
        log.warning("rerun: %s (not carried over; this run's rows replace it)",
                    lake.mismatch_line(check))
        return False
    return True
