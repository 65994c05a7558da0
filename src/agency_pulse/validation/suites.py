"""The data-quality rules of every lake dataset, kept as code (one suite per dataset).

Rules are declared as plain data (``SUITE_RULES``) so they can be read without importing
Great Expectations; ``build_expectations`` turns them into GX expectations. Bounds that
depend on the batch (the run date) are GX suite parameters, so one suite object serves every
batch of a process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from agency_pulse import config, lake

EXTRACT_STATUSES: tuple[str, ...] = ("ok", "gone", "private", "failed", "skipped")
# extract_log.source: where a run's figures came from (NULL: no connection, or an older file).
EXTRACT_SOURCES: tuple[str, ...] = ("api", "sandbox")

# Suite parameter names (filled per batch by ``bound_parameters``).
MAX_CONTENT_DAY = "max_content_day"
MAX_CONTENT_TIME = "max_content_time"
MAX_RECORDED_DAY = "max_recorded_day"
MAX_RECORDED_TIME = "max_recorded_time"


@dataclass(frozen=True)
class SuiteRules:
    """What one dataset's suite checks."""

    key_columns: tuple[str, ...]
    count_columns: tuple[str, ...] = ()
    # Dates/times the data is about: not after the run date + 1 day.
    content_times: tuple[str, ...] = ()
    # When we recorded it (fetch, import, log): not after max(run date, today) + 1 day, so a
    # backfill of an old day, fetched today, is not mistaken for future data.
    recorded_times: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    value_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # (later, earlier): column `later` must be on or after column `earlier` when both are set.
    ordered_pairs: tuple[tuple[str, str], ...] = ()


SUITE_RULES: dict[str, SuiteRules] = {
    "account_snapshots": SuiteRules(
        key_columns=("account_id", "snapshot_date"),
        count_columns=("followers", "likes", "posts_total", "views_total"),
        content_times=("snapshot_date",),
        recorded_times=("fetched_at",),
        not_null=("platform",),
        value_sets={"platform": config.PLATFORMS},
    ),
    "posts": SuiteRules(
        key_columns=("platform", "post_id"),
        count_columns=("reactions", "comments", "shares", "views"),
        content_times=("published_at",),
        recorded_times=("fetched_on", "fetched_at"),
        not_null=("account_id",),
        value_sets={"platform": config.PLATFORMS},
    ),
    "post_deletions": SuiteRules(
        key_columns=("platform", "post_id"),
        recorded_times=("last_seen_on", "detected_on"),
        not_null=("account_id",),
        value_sets={"platform": config.PLATFORMS},
    ),
    "post_reads": SuiteRules(
        key_columns=("account_id", "read_on"),
        content_times=("read_on",),
        recorded_times=("fetched_at",),
        not_null=("platform", "post_ids"),
        value_sets={"platform": config.PLATFORMS},
    ),
    "follower_history": SuiteRules(
        key_columns=("account_id", "day"),
        count_columns=("followers",),
        content_times=("day",),
        recorded_times=("fetched_at",),
        not_null=("platform",),
        value_sets={"platform": config.PLATFORMS},
    ),
    "observations": SuiteRules(
        key_columns=("account_id", "observed_on"),
        count_columns=("followers", "posts_total"),
        content_times=("observed_on", "last_post_on"),
        recorded_times=("imported_at",),
        not_null=("platform",),
        value_sets={"platform": config.PLATFORMS},
        ordered_pairs=(("observed_on", "last_post_on"),),
    ),
    "extract_log": SuiteRules(
        key_columns=("run_date", "account_id"),
        count_columns=("calls", "units"),
        content_times=("run_date",),
        recorded_times=("logged_at",),
        not_null=("platform", "status"),
        value_sets={"platform": config.PLATFORMS, "status": EXTRACT_STATUSES,
                    "source": EXTRACT_SOURCES},
    ),
}

assert set(SUITE_RULES) == set(lake.SCHEMAS), "every lake dataset needs a suite"


def bound_parameters(run_date: date, today: date | None = None) -> dict[str, object]:
    """The suite parameters for a batch of ``run_date`` (dates as pandas sees them)."""
    import pandas as pd

    today = today or datetime.now(UTC).date()
    content_day = run_date + timedelta(days=1)
    recorded_day = max(run_date, today) + timedelta(days=1)
    # A time is in the future when it is past the end of the bounding day.
    return {
        MAX_CONTENT_DAY: pd.Timestamp(content_day),
        MAX_CONTENT_TIME: pd.Timestamp(datetime.combine(content_day + timedelta(days=1), time(), UTC)),
        MAX_RECORDED_DAY: pd.Timestamp(recorded_day),
        MAX_RECORDED_TIME: pd.Timestamp(datetime.combine(recorded_day + timedelta(days=1), time(), UTC)),
    }


def build_expectations(dataset: str) -> list:
    """The GX expectations of ``dataset``'s suite, in a stable order."""
    import great_expectations.expectations as gxe
    import pyarrow as pa

    rules = SUITE_RULES[dataset]
    schema = lake.SCHEMAS[dataset]
    expectations: list = [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(schema.names), exact_match=True),
    ]
    if len(rules.key_columns) > 1:
        expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(rules.key_columns)))
    else:
        expectations.append(gxe.ExpectColumnValuesToBeUnique(column=rules.key_columns[0]))
    for column in dict.fromkeys(rules.key_columns + rules.not_null):
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
    for column in rules.count_columns:
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0))
    for columns, day_parameter, time_parameter in (
            (rules.content_times, MAX_CONTENT_DAY, MAX_CONTENT_TIME),
            (rules.recorded_times, MAX_RECORDED_DAY, MAX_RECORDED_TIME)):
        for column in columns:
            if pa.types.is_timestamp(schema.field(column).type):
                expectations.append(gxe.ExpectColumnValuesToBeBetween(
                    column=column, max_value={"$PARAMETER": time_parameter}, strict_max=True))
            else:
                expectations.append(gxe.ExpectColumnValuesToBeBetween(
                    column=column, max_value={"$PARAMETER": day_parameter}))
    for column, allowed in rules.value_sets.items():
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(allowed)))
    for later, earlier in rules.ordered_pairs:
        expectations.append(gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing"))
    return expectations
