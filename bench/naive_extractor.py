"""The obvious alternative to Agency Pulse's extractors: one request per account.

A cron job that loops over its accounts and asks each platform about one account at a
time. It uses the very same extractor code, HTTP client and posts paging as Agency Pulse,
but hands the extractor a single account per call, so every count that our extractors
fetch in batches (Facebook ``?ids=`` 50, YouTube ``channels?id=`` 50, X ``users/by`` 100)
costs one request per account, and YouTube's video lookups (any 50 ids a call in ours) carry
one account's ids each. The difference in calls and time is therefore exactly what
batching buys; nothing else differs.
"""

from __future__ import annotations

from datetime import date

from agency_pulse import platforms
from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import ExtractResult, ExtractState
from agency_pulse.http_client import ApiClient
from agency_pulse.registry import Account


def extract_one_call_per_account(client: ApiClient, conn: PlatformConnection,
                                 accounts: list[Account], run_date: date,
                                 state: ExtractState) -> ExtractResult:
    """Extract every account on its own (no batching); the merged result of all accounts.

    Nothing is landed: the baseline only has to make the same requests.
    """
    extract = platforms.get(conn.platform).load_extractor()
    merged = ExtractResult()
    for account in accounts:
        one = extract(client, conn, [account], run_date, state)
        for dataset in ("account_snapshots", "posts", "post_deletions", "follower_history"):
            getattr(merged, dataset).extend(getattr(one, dataset))
        merged.outcomes.update(one.outcomes)
        if one.stopped_by is not None:
            merged.stopped_by = one.stopped_by
            break
    return merged
