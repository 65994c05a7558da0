"""validate_frame: in-memory batches (pandas 3 or Arrow), bounds and column types."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from validation_samples import RUN_DAY, observation, post, snapshot

from agency_pulse import lake
from agency_pulse.validation import validate_frame


def failed_types(outcome) -> list[str]:
    return [f.split(":")[0] for f in outcome.failed_expectations]


def test_pandas3_string_columns_are_validated(shared_home):
    frame = pd.DataFrame([observation(), observation(account_id="telegram:other", handle="other")])
    assert str(frame["platform"].dtype) == "str"  # pandas 3: not object

    outcome = validate_frame("observations", frame, run_date=RUN_DAY)

    assert outcome.success, outcome.failed_expectations
    assert outcome.rows == 2 and outcome.file is None and outcome.partition_date == RUN_DAY


def test_pandas3_string_column_with_unknown_platform_fails(shared_home):
    frame = pd.DataFrame([observation(platform="tiktok")])

    outcome = validate_frame("observations", frame, run_date=RUN_DAY)

    assert failed_types(outcome) == ["expect_column_values_to_be_in_set(platform)"]
    assert "tiktok" in outcome.failed_expectations[0]


def test_object_dtype_strings_and_narrow_ints_are_accepted(shared_home):
    frame = pd.DataFrame([observation()]).astype({"handle": object, "followers": "int32"})

    assert validate_frame("observations", frame, run_date=RUN_DAY).success


def test_a_column_of_the_wrong_type_fails(shared_home):
    frame = pd.DataFrame([observation()])
    frame["followers"] = "many"

    outcome = validate_frame("observations", frame, run_date=RUN_DAY)

    assert "expect_column_values_to_be_of_type(followers)" in failed_types(outcome)


def test_a_missing_column_fails_and_is_named(shared_home):
    frame = pd.DataFrame([observation()]).drop(columns=["note"])

    outcome = validate_frame("observations", frame, run_date=RUN_DAY)

    [failure] = [f for f in outcome.failed_expectations
                 if f.startswith("expect_table_columns_to_match_set")]
    assert "note" in failure


def test_content_times_may_reach_the_end_of_the_day_after_the_run(shared_home):
    last_moment = datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
    ok = lake.table_from_rows("posts", [post("p1", published_at=last_moment)])
    late = lake.table_from_rows("posts", [post("p2", published_at=last_moment + timedelta(seconds=1))])

    assert validate_frame("posts", ok, run_date=RUN_DAY).success
    assert failed_types(validate_frame("posts", late, run_date=RUN_DAY)) == [
        "expect_column_values_to_be_between(published_at)"]


def test_a_date_beyond_pandas_range_fails_instead_of_crashing(shared_home):
    table = lake.table_from_rows("account_snapshots", [snapshot(snapshot_date=date(9999, 1, 1))])

    outcome = validate_frame("account_snapshots", table, run_date=RUN_DAY)

    assert failed_types(outcome) == ["expect_column_values_to_be_between(snapshot_date)"]


def test_an_empty_frame_is_valid(shared_home):
    empty = lake.SCHEMAS["posts"].empty_table().to_pandas()

    outcome = validate_frame("posts", empty, run_date=RUN_DAY)

    assert outcome.success and outcome.rows == 0


def test_observation_may_not_report_a_last_post_after_the_day_observed(shared_home):
    same_day = pd.DataFrame([observation(last_post_on=date(2026, 11, 20))])
    after = pd.DataFrame([observation(last_post_on=date(2026, 11, 21))])
    no_post = pd.DataFrame([observation(last_post_on=None)])

    assert validate_frame("observations", same_day, run_date=RUN_DAY).success
    assert validate_frame("observations", no_post, run_date=RUN_DAY).success
    assert failed_types(validate_frame("observations", after, run_date=RUN_DAY)) == [
        "expect_column_pair_values_a_to_be_greater_than_b(observed_on,last_post_on)"]


def test_validate_frame_writes_nothing(shared_home):
    validate_frame("posts", pd.DataFrame([post("p1", views=-1)]), run_date=RUN_DAY)

    assert [p for p in shared_home.home.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("dataset", sorted(lake.SCHEMAS))
def test_every_dataset_has_a_suite_on_its_keys(dataset):
    from agency_pulse.validation.suites import SUITE_RULES, build_expectations

    rules = SUITE_RULES[dataset]
    expectations = build_expectations(dataset)
    types = {e.expectation_type for e in expectations}
    assert "expect_table_columns_to_match_set" in types
    assert set(rules.key_columns) <= set(lake.SCHEMAS[dataset].names)
    assert ("expect_compound_columns_to_be_unique" in types) == (len(rules.key_columns) > 1)


def test_a_timestamp_beyond_pandas_range_fails_instead_of_crashing(shared_home):
    far = datetime(9999, 1, 1, tzinfo=UTC)
    table = lake.table_from_rows("posts", [post("p1", published_at=far, fetched_at=far)])

    outcome = validate_frame("posts", table, run_date=RUN_DAY)

    assert failed_types(outcome) == ["expect_column_values_to_be_between(published_at)",
                                     "expect_column_values_to_be_between(fetched_at)"]


def test_a_column_of_mixed_values_is_reported_not_raised(shared_home):
    frame = pd.DataFrame([observation(), observation(account_id="telegram:b")])
    frame["followers"] = pd.Series([10, "ten"], dtype=object)

    outcome = validate_frame("observations", frame, run_date=RUN_DAY)

    assert "expect_column_values_to_be_of_type(followers)" in failed_types(outcome)
