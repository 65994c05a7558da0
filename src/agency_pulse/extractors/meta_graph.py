"""Meta Graph API helpers shared by the Facebook and Instagram extractors.

- ``graph_error``: the error body ``{"error": {"message", "code", "error_subcode"}}`` mapped
  to the taxonomy (codes in PLATFORM_APIS.md: 1/2 transient, 4/17/32/341/613 throttled,
  368 blocked, 10 and 200-299 permission, 190 token, 100/33 gone);
- ``auth_headers``: the token in a header, never in a URL (so never in a log or the archive);
- ``next_after``: the ``paging.cursors.after`` cursor of an edge when another page follows;
- ``insights_points``: the daily points of an insights answer within a window of days.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import NamedTuple

from agency_pulse.errors import (
    AccountGone,
    InvalidToken,
    PermissionDenied,
    PlatformError,
    TransientError,
)
from agency_pulse.extractors.base import parse_count, parse_timestamp

# Temporarily blocked (368): no point retrying within this run.
BLOCKED_WAIT_SECONDS = 3600.0
TRANSIENT_CODES = {1, 2}
THROTTLE_CODES = {4, 17, 32, 341, 613}


def is_permission_code(code) -> bool:
    return code == 10 or (isinstance(code, int) and 200 <= code <= 299)


def graph_error(platform: str, response, body) -> PlatformError | None:
    """Map a Graph API error body (``{"error": {"message", "code", "error_subcode"}}``)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    status = getattr(response, "status_code", None)
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = str(error.get("message") or "no message")
    described = f"Graph API error {code}" + (f"/{subcode}" if subcode else "") + f": {message}"
    common = {"http_status": status, "code": code}
    if code in TRANSIENT_CODES:
        return TransientError(platform, described, **common)
    if code in THROTTLE_CODES:
        return TransientError(platform, f"throttled: {described}", **common)
    if code == 368:
        return TransientError(platform, f"temporarily blocked: {described}",
                              retry_after=BLOCKED_WAIT_SECONDS, **common)
    if code == 190:
        return InvalidToken(platform, f"access token expired or invalid: {described}", **common)
    if is_permission_code(code):
        return PermissionDenied(platform, f"permission missing: {described}", **common)
    if code == 100 and subcode == 33:
        return AccountGone(platform, f"object gone or not visible: {described}", **common)
    if code == 803:
        return AccountGone(platform, f"unknown alias: {described}", **common)
    return PlatformError(platform, described, **common)


def is_invalid_metric(error: PlatformError) -> bool:
    """The (#100) error Meta returns when one requested insights metric was removed."""
    return error.code == 100 and "valid insights metric" in error.reason.lower()


def auth_headers(conn) -> dict:
    # A header keeps the token out of every URL (and so out of logs and the archive).
    return {"Authorization": f"Bearer {conn.token}"} if conn.token else {}


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def next_after(edge: dict, *, full_page: int | None = None) -> str | None:
    """The edge's ``paging.cursors.after`` when another page follows, else None.

    Another page follows when ``paging.next`` is given, or (business discovery, whose pages
    may carry only cursors) when the page holds ``full_page`` items.
    """
    paging = edge.get("paging") or {}
    after = (paging.get("cursors") or {}).get("after")
    if not after:
        return None
    data = edge.get("data")
    full = full_page is not None and isinstance(data, list) and len(data) >= full_page
    return str(after) if paging.get("next") or full else None


class InsightsPoint(NamedTuple):
    metric: str
    day: date
    value: int


def insights_points(body: dict, metrics: Iterable[str], since: date, until: date,
                    platform: str) -> Iterator[InsightsPoint]:
    """Daily points of ``metrics`` in ``body["data"][].values[]`` for days in [since, until).

    A daily value's ``end_time`` is the start of the next day (07:00/08:00 UTC, Pacific
    midnight), so its day is the one before. Points without a time or a value are skipped.
    """
    wanted = set(metrics)
    for series in body.get("data") or []:
        if not isinstance(series, dict) or series.get("name") not in wanted:
            continue
        for point in series.get("values") or []:
            if not isinstance(point, dict):
                continue
            end_time = parse_timestamp(point.get("end_time"), f"{series['name']} end_time",
                                       platform, required=False)
            if end_time is None or point.get("value") is None:
                continue
            day = (end_time - timedelta(days=1)).date()
            if since <= day < until:
                yield InsightsPoint(series["name"], day,
                                    parse_count(point["value"], series["name"], platform))
