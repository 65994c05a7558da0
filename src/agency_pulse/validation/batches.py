"""Validate one batch (a whole table of one dataset) and describe what failed."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from agency_pulse import lake
from agency_pulse.validation.follower_jumps import (
    DEFAULT_FOLLOWER_JUMP,
    FollowerJumpRule,
    find_follower_jumps,
    previous_snapshots,
)
from agency_pulse.validation.gx_runtime import runtime
from agency_pulse.validation.suites import bound_parameters

_RUN_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")
# Inside pandas' nanosecond datetime range (1677-09-21 .. 2262-04-11), with a margin.
_NS_FIRST_DAY = date(1678, 1, 1)
_NS_LAST_DAY = date(2262, 1, 1)


@dataclass
class BatchVerdict:
    """The checks of one batch: GX result (JSON-ready), failures and warnings, readable."""

    success: bool
    rows: int
    evaluated_expectations: int
    failed_expectations: list[str]
    warnings: list[str]
    result: dict = field(repr=False)


def conform_table(dataset: str, data, *, strict: bool) -> tuple[pa.Table, list[str]]:
    """Bring ``data`` (Arrow table or pandas DataFrame) to the dataset's column types.

    Returns the table and one problem per column whose type does not match. ``strict``
    (landed files, published as they are) accepts only the exact lake types; otherwise any
    type that casts safely is converted.
    """
    schema = lake.SCHEMAS[dataset]
    problems: list[str] = []
    table = data if isinstance(data, pa.Table) else _table_from_pandas(data, problems)
    columns = {}
    for name in table.column_names:
        column = table[name]
        if name in schema.names:
            expected = schema.field(name).type
            if column.type != expected:
                cast = None if strict else _safe_cast(column, expected)
                if cast is None:
                    problems.append(f"expect_column_values_to_be_of_type({name}): "
                                    f"observed {column.type}, expected {expected}")
                else:
                    column = cast
        columns[name] = column
    return pa.table(columns) if columns else table, problems


def _table_from_pandas(frame, problems: list[str]) -> pa.Table:
    """Convert column by column so one unconvertible column is reported, not raised."""
    columns = {}
    for name in frame.columns:
        try:
            columns[str(name)] = pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            problems.append(f"expect_column_values_to_be_of_type({name}): "
                            f"mixed or unsupported values ({type(exc).__name__})")
    return pa.table(columns) if columns else pa.table({})


def _safe_cast(column: pa.ChunkedArray, expected: pa.DataType) -> pa.ChunkedArray | None:
    try:
        return column.cast(expected, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def validate_batch(dataset: str, table: pa.Table, *, run_date: date, run_name: str,
                   validated_at: datetime | None = None, platform: str | None = None,
                   type_problems: list[str] | None = None, store: bool = True,
                   follower_jump: FollowerJumpRule = DEFAULT_FOLLOWER_JUMP,
                   lake_root: Path | None = None) -> BatchVerdict:
    """Run the dataset's suite on the whole table; for account snapshots, flag follower jumps.

    ``type_problems`` (from ``conform_table``) count as failures. With ``store`` the GX result
    is kept for Data Docs. Follower jumps compare with the accepted lake under ``lake_root``
    (default: the configured lake).
    """
    gx = runtime()
    frame = to_checkable_frame(table)
    validated_at = validated_at or datetime.now(UTC)
    result = gx.validate(dataset, frame, bound_parameters(run_date),
                         run_name=_RUN_NAME_UNSAFE.sub("_", run_name) or uuid.uuid4().hex,
                         run_time=validated_at, store=store)
    failures = list(type_problems or []) + [describe_failure(r) for r in result.results
                                            if not r.success]
    warnings: list[str] = []
    if dataset == "account_snapshots" and platform and table.num_rows and not type_problems \
            and {"account_id", "followers"} <= set(table.column_names):
        accounts = {a for a in table["account_id"].to_pylist() if a is not None}
        previous = previous_snapshots(accounts, run_date, platform, root=lake_root)
        warnings = find_follower_jumps(table, previous, follower_jump)
    document = result.to_json_dict()
    document["agency_pulse"] = {"type_problems": list(type_problems or []),
                                "failed_expectations": failures, "warnings": warnings}
    return BatchVerdict(
        success=not failures, rows=table.num_rows,
        evaluated_expectations=len(result.results) + len(type_problems or []),
        failed_expectations=failures, warnings=warnings, result=document)


def to_checkable_frame(table: pa.Table):
    """The table as pandas, with every date and time as datetime64[ns].

    GX compares only nanosecond datetimes vectorised (others go value by value, ~100x
    slower). Values beyond the nanosecond range (years 1678-2261) are clamped to its edge,
    which keeps them out of bounds for the "not in the future" checks instead of crashing.
    """
    columns = {}
    for name in table.column_names:
        column = table[name]
        if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
            column = _clamp_to_nanosecond_range(column)
        columns[name] = column
    clamped = pa.table(columns) if columns else table
    return clamped.to_pandas(date_as_object=False, coerce_temporal_nanoseconds=True)


def _clamp_to_nanosecond_range(column: pa.ChunkedArray) -> pa.ChunkedArray:
    bounds = pc.min_max(column)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None:
        return column
    low_day = low.date() if isinstance(low, datetime) else low
    high_day = high.date() if isinstance(high, datetime) else high
    if _NS_FIRST_DAY <= low_day and high_day <= _NS_LAST_DAY:
        return column
    first = pa.scalar(_NS_FIRST_DAY, pa.date32()).cast(column.type)
    last = pa.scalar(_NS_LAST_DAY, pa.date32()).cast(column.type)
    column = pc.if_else(pc.less(column, first), first, column)
    return pc.if_else(pc.greater(column, last), last, column)


def describe_failure(result) -> str:
    """``expectation_type(column): observed`` for one failed GX expectation result."""
    config = result.expectation_config
    kwargs = config.kwargs
    if "column" in kwargs:
        subject = kwargs["column"]
    elif "column_list" in kwargs:
        subject = ",".join(kwargs["column_list"])
    elif "column_A" in kwargs:
        subject = f"{kwargs['column_A']},{kwargs['column_B']}"
    else:
        subject = "table"
    return f"{config.type}({subject}): {_observed(result)}"


def _observed(result) -> str:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        message = str(info.get("exception_message") or "error").splitlines()[0]
        return f"error: {message[:200]}"
    details = result.result or {}
    if "unexpected_count" in details:
        examples = ", ".join(_short(v) for v in (details.get("partial_unexpected_list") or [])[:3])
        return f"{details['unexpected_count']} unexpected of {details.get('element_count')} " \
               f"(e.g. {examples})"
    mismatch = (details.get("details") or {}).get("mismatched")
    if mismatch:
        return ", ".join(f"{k} {sorted(v)}" for k, v in mismatch.items() if v)
    return _short(details.get("observed_value"))


def _short(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
