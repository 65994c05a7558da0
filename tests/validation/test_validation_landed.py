"""validate_landed: publish good files, quarantine bad ones, record every validation."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from validation_samples import (
    RUN_DAY,
    SAMPLE_ROWS,
    extract_log_entry,
    observation,
    post,
    snapshot,
)

from agency_pulse import lake
from agency_pulse.errors import ValidationFailed
from agency_pulse.validation import (
    VALIDATION_RUNS_SCHEMA,
    raise_for_failures,
    validate_landed,
)

# Data Docs have their own tests; the others skip rendering to stay fast.
validate_without_docs = partial(validate_landed, data_docs=False)


def accepted_file(paths, dataset, platform, day=RUN_DAY, key="all"):
    return lake.partition_dir(dataset, platform, day, paths.lake) / f"part-{key}.parquet"


def quarantined_file(paths, dataset, platform, day=RUN_DAY, key="all"):
    return lake.partition_dir(dataset, platform, day, paths.quarantine) / f"part-{key}.parquet"


def recorded_runs(paths):
    files = sorted((paths.quality / "validation_runs").glob("date=*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def test_good_batch_is_published_and_recorded(pulse_home, land):
    landed = land("posts", "x", [post("p1"), post("p2", reactions=0, views=None)])

    [outcome] = validate_landed([landed], run_id="run-1")

    target = accepted_file(pulse_home, "posts", "x")
    assert outcome.success and outcome.rows == 2
    assert outcome.failed_expectations == [] and outcome.quarantined_to is None
    assert outcome.published_to == str(target)
    assert not landed.exists() and target.exists()
    assert pq.read_table(target).column("post_id").to_pylist() == ["p1", "p2"]
    # its checksum recorded beside it on publishing
    assert lake.recorded_checksum(target) == hashlib.sha256(target.read_bytes()).hexdigest()
    raise_for_failures([outcome])  # nothing to raise

    [record] = recorded_runs(pulse_home)
    runs_file = next((pulse_home.quality / "validation_runs").glob("date=*/*.parquet"))
    assert runs_file.parent.name == f"date={RUN_DAY.isoformat()}"
    assert pq.read_schema(runs_file).names == VALIDATION_RUNS_SCHEMA.names
    assert record["run_id"] == "run-1" and record["dataset"] == "posts"
    assert record["platform"] == "x" and record["partition_date"] == RUN_DAY
    assert record["file"] == str(landed) and record["rows"] == 2 and record["success"] is True
    assert record["evaluated_expectations"] >= 10
    assert json.loads(record["failed_expectations"]) == []
    assert json.loads(record["warnings"]) == [] and record["quarantined_to"] is None


@pytest.mark.parametrize("dataset, platform, rows, expectation", [
    ("posts", "x", [post("p1", reactions=-3)],
     "expect_column_values_to_be_between(reactions)"),
    ("account_snapshots", "facebook", [snapshot(followers=-1)],
     "expect_column_values_to_be_between(followers)"),
    ("extract_log", "youtube", [extract_log_entry(units=-1)],
     "expect_column_values_to_be_between(units)"),
    ("posts", "x", [post("p1"), post("p1", fetched_at=datetime(2026, 11, 26, 6, 0,
                                                                  tzinfo=post()["fetched_at"].tzinfo))],
     "expect_compound_columns_to_be_unique(platform,post_id)"),
    ("account_snapshots", "facebook", [snapshot(), snapshot(followers=1600)],
     "expect_compound_columns_to_be_unique(account_id,snapshot_date)"),
    ("posts", "x", [post(None)], "expect_column_values_to_not_be_null(post_id)"),
    ("account_snapshots", "facebook", [snapshot(account_id=None)],
     "expect_column_values_to_not_be_null(account_id)"),
    ("posts", "x", [post("p1", published_at=post()["published_at"] + timedelta(days=3))],
     "expect_column_values_to_be_between(published_at)"),
    ("account_snapshots", "facebook", [snapshot(snapshot_date=RUN_DAY + timedelta(days=2))],
     "expect_column_values_to_be_between(snapshot_date)"),
    ("posts", "x", [post("p1", platform="myspace")],
     "expect_column_values_to_be_in_set(platform)"),
    ("observations", "manual", [observation(platform="tiktok")],
     "expect_column_values_to_be_in_set(platform)"),
    ("extract_log", "youtube", [extract_log_entry(status="maybe")],
     "expect_column_values_to_be_in_set(status)"),
    ("observations", "manual", [observation(last_post_on=date(2026, 11, 21))],
     "expect_column_pair_values_a_to_be_greater_than_b(observed_on,last_post_on)"),
])
def test_each_rule_failing_quarantines_the_file(pulse_home, land, dataset, platform, rows,
                                                expectation):
    landed = land(dataset, platform, rows)

    [outcome] = validate_without_docs([landed], run_id="run-bad")

    quarantined = quarantined_file(pulse_home, dataset, platform)
    assert not outcome.success
    assert any(f.startswith(expectation + ":") for f in outcome.failed_expectations), \
        outcome.failed_expectations
    assert outcome.quarantined_to == str(quarantined) and outcome.published_to is None
    assert quarantined.exists() and not landed.exists()
    assert not accepted_file(pulse_home, dataset, platform).exists()
    result = json.loads(quarantined.with_name("part-all.result.json").read_text())
    assert result["success"] is False
    failed_types = {r["expectation_config"]["type"] for r in result["results"] if not r["success"]}
    assert expectation.split("(")[0] in failed_types
    assert result["agency_pulse"]["failed_expectations"] == outcome.failed_expectations

    [record] = recorded_runs(pulse_home)
    assert record["success"] is False and record["quarantined_to"] == str(quarantined)
    assert json.loads(record["failed_expectations"]) == outcome.failed_expectations

    with pytest.raises(ValidationFailed) as raised:
        raise_for_failures([outcome])
    assert str(landed) in str(raised.value) and expectation in str(raised.value)


def test_good_files_are_published_even_when_another_fails(pulse_home, land):
    good = land("posts", "facebook", [post("f1", platform="facebook", account_id="facebook:c")])
    bad = land("posts", "x", [post("x1", comments=-1)])

    outcomes = validate_without_docs([good, bad], run_id="run-mixed")

    assert [o.success for o in outcomes] == [True, False]
    assert accepted_file(pulse_home, "posts", "facebook").exists()
    assert quarantined_file(pulse_home, "posts", "x").exists()
    with pytest.raises(ValidationFailed) as raised:
        raise_for_failures(outcomes)
    message = str(raised.value)
    assert str(bad) in message and str(good) not in message
    assert "expect_column_values_to_be_between(comments)" in message
    assert len(recorded_runs(pulse_home)) == 2


def test_fetch_time_of_a_backfill_is_not_future(pulse_home, land):
    # A day long past, fetched today: only the data's own dates are bound to the run day.
    old_day = date(2024, 3, 1)
    today_fetch = datetime.now(post()["fetched_at"].tzinfo)
    landed = land("account_snapshots", "facebook",
                  [snapshot(day=old_day, fetched_at=today_fetch)], day=old_day)

    [outcome] = validate_without_docs([landed])

    assert outcome.success, outcome.failed_expectations


def test_follower_jump_is_a_warning_and_still_published(pulse_home, land):
    yesterday = RUN_DAY - timedelta(days=1)
    earlier = land("account_snapshots", "facebook", [
        snapshot("facebook:culture.az", 1500, day=yesterday),
        snapshot("facebook:tourism.az", 2000, day=yesterday),
        snapshot("facebook:small.az", 40, day=yesterday)], day=yesterday)
    assert validate_without_docs([earlier])[0].success

    today = land("account_snapshots", "facebook", [
        snapshot("facebook:culture.az", 1600),          # ordinary growth
        snapshot("facebook:tourism.az", 150),            # fell more than 10x
        snapshot("facebook:small.az", 4000)])            # small base: ignored
    [outcome] = validate_without_docs([today], run_id="run-jump")

    assert outcome.success and outcome.failed_expectations == []
    assert len(outcome.warnings) == 1
    assert "facebook:tourism.az" in outcome.warnings[0] and "2000" in outcome.warnings[0]
    assert accepted_file(pulse_home, "account_snapshots", "facebook").exists()
    today_record = [r for r in recorded_runs(pulse_home) if r["run_id"] == "run-jump"]
    assert json.loads(today_record[0]["warnings"]) == outcome.warnings


def test_follower_jump_factor_is_configurable(pulse_home, land):
    from agency_pulse.validation import FollowerJumpRule

    yesterday = RUN_DAY - timedelta(days=1)
    validate_without_docs([land("account_snapshots", "facebook", [snapshot(followers=1000, day=yesterday)],
                          day=yesterday)])
    today = land("account_snapshots", "facebook", [snapshot(followers=2500)])

    [outcome] = validate_without_docs([today], follower_jump=FollowerJumpRule(factor=2.0))

    assert outcome.success and len(outcome.warnings) == 1


def test_every_dataset_accepts_a_valid_and_an_empty_batch(pulse_home, land):
    landed = []
    for dataset in sorted(lake.SCHEMAS):
        platform = "manual" if dataset == "observations" else "x"
        landed += [land(dataset, platform, [SAMPLE_ROWS[dataset]()], key="valid"),
                   land(dataset, platform, [], key="empty")]

    outcomes = validate_without_docs(landed)

    assert [(o.dataset, o.success, o.rows) for o in outcomes] == [
        (dataset, True, rows) for dataset in sorted(lake.SCHEMAS) for rows in (1, 0)], \
        [o.failed_expectations for o in outcomes]
    assert all(Path(o.published_to).exists() for o in outcomes)


def test_revalidating_a_day_replaces_the_accepted_partition(pulse_home, land):
    # An earlier partial run left a keyed file; a whole-day rerun (key "all") replaces it.
    validate_without_docs([land("posts", "x", [post("old")], key="batch1")])
    [first] = validate_without_docs([land("posts", "x", [post("p1"), post("p2")])])
    [outcome] = validate_without_docs([land("posts", "x", [post("p1", reactions=99)])])

    directory = lake.partition_dir("posts", "x", RUN_DAY, pulse_home.lake)
    assert first.superseded == [str(directory / "part-batch1.parquet")]
    assert outcome.success
    assert sorted(p.name for p in directory.glob("*.parquet")) == ["part-all.parquet"]
    table = lake.read_dataset("posts", root=pulse_home.lake)
    assert table.column("post_id").to_pylist() == ["p1"]
    assert table.column("reactions").to_pylist() == [99]


def test_a_fixed_rerun_clears_the_quarantined_version(pulse_home, land):
    validate_without_docs([land("posts", "x", [post("p1", shares=-1)])])
    assert quarantined_file(pulse_home, "posts", "x").exists()

    [outcome] = validate_without_docs([land("posts", "x", [post("p1")])])

    assert outcome.success
    assert outcome.superseded == [str(quarantined_file(pulse_home, "posts", "x")), str(
        quarantined_file(pulse_home, "posts", "x").with_name("part-all.result.json"))]
    assert not quarantined_file(pulse_home, "posts", "x").exists()
    assert not quarantined_file(pulse_home, "posts", "x").with_name("part-all.result.json").exists()


def test_a_failed_rerun_keeps_the_accepted_version(pulse_home, land):
    validate_without_docs([land("posts", "x", [post("p1")])])
    validate_without_docs([land("posts", "x", [post("p1", views=-5)])])

    table = lake.read_dataset("posts", root=pulse_home.lake)
    assert table.column("views").to_pylist() == [500]


def test_data_docs_index_is_written(pulse_home, land):
    validate_landed([land("posts", "x", [post("p1")]), land("posts", "facebook",
                     [post("f1", platform="facebook", reactions=-1)])], run_id="docs-run")

    index = pulse_home.data_docs / "index.html"
    assert index.exists()
    html = index.read_text(encoding="utf-8")
    assert "docs-run" in html
    pages = list((pulse_home.data_docs / "validations" / "posts").rglob("*.html"))
    assert len(pages) == 2
    assert (pulse_home.data_docs / "expectations" / "account_snapshots.html").exists()


def test_data_docs_keep_earlier_runs(pulse_home, land):
    validate_landed([land("posts", "x", [post("p1")])], run_id="first-run")
    validate_landed([land("posts", "x", [post("p2")])], run_id="second-run")

    html = (pulse_home.data_docs / "index.html").read_text(encoding="utf-8")
    assert "first-run" in html and "second-run" in html


def test_a_file_already_moved_is_skipped(pulse_home, land):
    landed = land("posts", "x", [post("p1")])
    validate_without_docs([landed])

    assert validate_without_docs([landed]) == []


def test_a_path_outside_the_landing_layout_is_refused(pulse_home, tmp_path):
    stray = tmp_path / "posts.parquet"
    stray.write_bytes(b"")

    with pytest.raises(ValueError, match="not a landing partition file"):
        validate_landed([stray])


def test_a_file_with_wrong_column_types_is_quarantined(pulse_home):
    import pyarrow as pa

    directory = lake.partition_dir("posts", "x", RUN_DAY, pulse_home.landing)
    directory.mkdir(parents=True)
    table = lake.table_from_rows("posts", [post("p1")])
    table = table.set_column(table.schema.get_field_index("reactions"), "reactions",
                             pa.array(["ten"]))
    pq.write_table(table, directory / "part-all.parquet")

    [outcome] = validate_without_docs([directory / "part-all.parquet"])

    assert not outcome.success
    assert any(f.startswith("expect_column_values_to_be_of_type(reactions)")
               for f in outcome.failed_expectations)
    assert quarantined_file(pulse_home, "posts", "x").exists()


def test_an_unreadable_file_is_quarantined_and_the_rest_still_processed(pulse_home, land):
    directory = lake.partition_dir("posts", "x", RUN_DAY, pulse_home.landing)
    directory.mkdir(parents=True)
    broken = directory / "part-broken.parquet"
    broken.write_bytes(b"not parquet at all")
    good = land("posts", "facebook", [post("f1", platform="facebook")])

    outcomes = validate_without_docs([broken, good])

    assert [o.success for o in outcomes] == [False, True]
    assert outcomes[0].failed_expectations[0].startswith("read_parquet(file): error")
    assert quarantined_file(pulse_home, "posts", "x", key="broken").exists()
    assert quarantined_file(pulse_home, "posts", "x", key="broken") \
        .with_name("part-broken.result.json").exists()
    assert len(recorded_runs(pulse_home)) == 2


def test_follower_jumps_compare_with_the_lake_the_file_landed_in(pulse_home, tmp_path, land):
    # A landing file under another lake root is compared with, and published to, that lake.
    other_lake = tmp_path / "elsewhere" / "lake"
    yesterday = RUN_DAY - timedelta(days=1)
    lake.write_partition("account_snapshots", "facebook", yesterday,
                         lake.table_from_rows("account_snapshots",
                                              [snapshot(followers=100_000, day=yesterday)]),
                         root=other_lake)
    landed = lake.write_partition("account_snapshots", "facebook", RUN_DAY,
                                  lake.table_from_rows("account_snapshots", [snapshot(followers=5)]),
                                  root=other_lake / "landing")

    [outcome] = validate_without_docs([landed])

    assert outcome.success and len(outcome.warnings) == 1
    assert outcome.published_to == str(accepted_file(config_paths(other_lake), "account_snapshots",
                                                     "facebook"))


def config_paths(lake_root):
    from agency_pulse import config

    return config.Paths(lake_root.parent)


def test_a_republished_day_carries_the_new_files_checksum_and_superseded_ones_lose_theirs(
        pulse_home, land):
    validate_landed([land("posts", "x", [post("p1")], key="b000")], run_id="run-1")
    batch = accepted_file(pulse_home, "posts", "x").with_name("part-b000.parquet")
    assert lake.verify_checksum(batch).status == "ok"
    validate_landed([land("posts", "x", [post("p1"), post("p2")])], run_id="run-2")
    whole = accepted_file(pulse_home, "posts", "x")
    assert not batch.exists() and not lake.checksum_path(batch).exists()
    assert lake.verify_checksum(whole).status == "ok"
    validate_landed([land("posts", "x", [post("p3")])], run_id="run-3")
    assert pq.read_table(whole).column("post_id").to_pylist() == ["p3"]
    assert lake.verify_checksum(whole).status == "ok"  # the new bytes, not the old record
