"""The lake on object storage, against a local S3-compatible server (moto) on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from agency_pulse import config, lake, object_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "distributed"))
from local_cluster import free_port, wait_for_port  # noqa: E402

ACCESS_KEY = "AKIAAGENCYPULSETEST"
SECRET_KEY = "s3cr3t-lake-key-never-logged"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """A moto S3 server on a free loopback port, stopped after the module."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                   "-p", str(port)], stdout=log_file, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        wait_for_port(port, 60, server, "moto server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def bucket(s3_endpoint, request):
    import boto3

    name = "lake-" + request.node.name.replace("_", "-")[:40].lower().strip("-")
    client = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def lake_connection(monkeypatch, s3_endpoint, bucket):
    """The shared lake configured the way a deployment does: URL + Airflow connection."""
    monkeypatch.setenv("AGENCY_PULSE_LAKE_URL", f"s3://{bucket}/agency-pulse")
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_LAKE", json.dumps({
        "conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY,
        "extra": {"region_name": "us-east-1", "endpoint_url": s3_endpoint}}))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    return bucket


def _snapshots(*handles: str) -> pa.Table:
    return lake.table_from_rows("account_snapshots", [
        {"snapshot_date": date(2026, 3, 1), "account_id": f"x:{h}", "agency_id": "culture",
         "platform": "x", "handle": h, "followers": 10 + i}
        for i, h in enumerate(handles)])


def test_without_a_lake_url_the_lake_stays_local(pulse_home, monkeypatch):
    monkeypatch.delenv("AGENCY_PULSE_LAKE_URL", raising=False)
    assert object_store.remote_lake() is None
    store = object_store.lake_store()
    assert not store.is_remote
    assert store.root == str(pulse_home.lake)
    store.write_table("account_snapshots/platform=x/date=2026-03-01/part-all.parquet",
                      _snapshots("a"))
    assert lake.read_dataset("account_snapshots").column("handle").to_pylist() == ["a"]
    # Nothing to mirror without a shared lake.
    assert object_store.upload_lake_file(pulse_home.lake / "anything.parquet") is None
    assert object_store.download_missing("") == []


def test_lake_url_refuses_credentials_and_unknown_schemes(monkeypatch):
    with pytest.raises(object_store.ObjectStoreError) as caught:
        object_store.open_lake(f"s3://{ACCESS_KEY}:{SECRET_KEY}@bucket/prefix")
    assert SECRET_KEY not in str(caught.value)
    assert "agency_pulse_lake" in str(caught.value)
    with pytest.raises(object_store.ObjectStoreError, match="unsupported scheme 'gs'"):
        object_store.open_lake("gs://bucket/prefix")
    with pytest.raises(object_store.ObjectStoreError, match="no bucket"):
        object_store.open_lake("s3:///prefix")


def test_credentials_come_from_the_airflow_connection_then_the_aws_variables(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_LAKE", json.dumps({
        "conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY,
        "extra": {"region_name": "eu-central-1", "endpoint_url": "http://127.0.0.1:9"}}))
    credentials = object_store.s3_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.region,
            credentials.endpoint_url, credentials.source) == (
        ACCESS_KEY, SECRET_KEY, "eu-central-1", "http://127.0.0.1:9", "airflow")
    assert SECRET_KEY not in repr(credentials) and ACCESS_KEY not in repr(credentials)

    monkeypatch.delenv("AIRFLOW_CONN_AGENCY_PULSE_LAKE")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:10")
    credentials = object_store.s3_credentials()
    assert (credentials.access_key, credentials.endpoint_url, credentials.source) == (
        "from-env", "http://127.0.0.1:10", "environment")

    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_LAKE", "aws://key%2Fid:pass%40word@/?region_name=x")
    credentials = object_store.s3_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.region) == (
        "key/id", "pass@word", "x")


def test_store_round_trip_on_s3(pulse_home, lake_connection):
    store = object_store.remote_lake()
    assert store.is_remote and store.url == f"s3://{lake_connection}/agency-pulse"
    relative = "account_snapshots/platform=x/date=2026-03-01/part-b001.parquet"
    store.write_table(relative, _snapshots("a", "b"))
    store.write_bytes("raw/platform=x/date=2026-03-01/part-b001.jsonl.gz", b"raw")
    assert store.exists(relative)
    assert store.list_files("account_snapshots") == [relative]
    assert store.list_files("", suffix=".gz") == ["raw/platform=x/date=2026-03-01/part-b001.jsonl.gz"]
    assert store.read_table(relative).column("followers").to_pylist() == [10, 11]

    moved = relative.replace("part-b001", "part-b002")
    store.move(relative, moved)
    assert not store.exists(relative) and store.exists(moved)
    assert store.delete(moved) is True
    assert store.delete(moved) is False
    with pytest.raises(ValueError, match="invalid lake path"):
        store.path("../outside")


def test_files_a_host_lands_reach_another_host_through_the_shared_lake(
        tmp_path, monkeypatch, lake_connection):
    host_a, host_b = tmp_path / "host-a", tmp_path / "host-b"
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(host_a))
    landed = lake.write_partition("account_snapshots", "x", date(2026, 3, 1), _snapshots("a"),
                                  key="b000", root=config.paths().landing)
    object_store.upload_lake_file(landed)

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(host_b))
    fetched = object_store.download_missing("landing")
    expected = host_b / "lake" / landed.relative_to(host_a / "lake")
    assert fetched == [expected]
    assert object_store.download_missing("landing") == []  # already there, same size

    # Host B publishes it (a local move) and mirrors the move in the shared lake.
    accepted = host_b / "lake" / "account_snapshots" / expected.relative_to(
        host_b / "lake" / "landing" / "account_snapshots")
    accepted.parent.mkdir(parents=True)
    expected.replace(accepted)
    assert object_store.publish_moves([(expected, accepted)]) == 1
    store = object_store.remote_lake()
    assert store.list_files("landing") == []
    tables = object_store.read_lake_files("account_snapshots", store,
                                          schema=lake.SCHEMAS["account_snapshots"])
    assert [(path, table.column("handle").to_pylist()) for path, table in tables] == [
        ("account_snapshots/platform=x/date=2026-03-01/part-b000.parquet", ["a"])]


def test_errors_never_show_the_secret_key(pulse_home, lake_connection, monkeypatch):
    monkeypatch.setenv("AGENCY_PULSE_LAKE_URL", "s3://no-such-bucket-here/prefix")
    store = object_store.remote_lake()
    with pytest.raises(OSError) as caught:
        store.write_bytes("landing/x.parquet", b"data")
    assert SECRET_KEY not in str(caught.value)
    assert SECRET_KEY not in repr(store)


def test_mirroring_the_accepted_lake_fetches_changes_and_drops_replaced_files(
        tmp_path, monkeypatch, lake_connection):
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "warehouse-host"))
    store = object_store.remote_lake()
    first = "account_snapshots/platform=x/date=2026-03-01/part-b000.parquet"
    second = "account_snapshots/platform=x/date=2026-03-01/part-b001.parquet"
    store.write_table(first, _snapshots("a"))
    store.write_table(second, _snapshots("b"))
    store.write_table("landing/posts/platform=x/date=2026-03-02/part-all.parquet",
                      lake.SCHEMAS["posts"].empty_table())
    local = config.paths().lake
    assert sorted(p.relative_to(local).as_posix()
                  for p in object_store.mirror_accepted_lake()) == [first, second]
    assert object_store.mirror_accepted_lake() == []  # unchanged objects are not fetched again
    assert not (local / "landing").exists()  # only the accepted zone is mirrored

    # Another host replaces the partition: one new file, the old parts gone.
    store.write_table(first, _snapshots("a", "c"))
    store.delete(second)
    assert [p.relative_to(local).as_posix()
            for p in object_store.mirror_accepted_lake(platform="x")] == [first]
    assert not (local / second).exists()
    assert sorted(lake.read_dataset("account_snapshots").column("handle").to_pylist()) == [
        "a", "c"]


def test_hosts_that_share_only_the_s3_lake_extract_validate_and_build_the_marts(
        tmp_path, monkeypatch, lake_connection):
    """Extract on two hosts, validate on a third, build on a fourth: only S3 is shared."""
    import yaml

    from agency_pulse import pipeline
    from agency_pulse_sandbox import run_sandbox
    from agency_pulse_sandbox.data import synthetic_handle

    day = date(2026, 11, 20)
    platforms, count = ("x", "youtube"), 4
    registry = tmp_path / "registry.yaml"
    registry.write_text(yaml.safe_dump({"agencies": [
        {"id": f"sbx-{i}", "name": f"Agency {i}", "kind": "test", "jurisdiction": "AZ",
         "accounts": [{"platform": p, "handle": synthetic_handle(p, i)} for p in platforms]}
        for i in range(count)]}), encoding="utf-8")
    monkeypatch.setenv("AGENCY_PULSE_REGISTRY", str(registry))
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")

    def on_host(name: str) -> config.Paths:
        monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / name))
        return config.paths()

    x_ids = [f"x:{synthetic_handle('x', i)}" for i in range(count)]
    with run_sandbox(date=day, extra_accounts_per_platform=count) as sandbox:
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", sandbox.url)
        first = on_host("extract-a")
        pipeline.extract_platform("x", day, batch_key="b000", accounts=x_ids[:2])
        second = on_host("extract-b")
        pipeline.extract_platform("x", day, batch_key="b001", accounts=x_ids[2:])
        pipeline.extract_platform("youtube", day)
        on_host("validate")
        outcomes = pipeline.validate_landing(day=day)
    assert outcomes and all(o.success for o in outcomes)
    assert {o.platform for o in outcomes} == set(platforms)

    store = object_store.remote_lake()
    assert store.list_files("landing") == []  # every landed batch was published
    # each accepted file travels with its checksum record
    assert {f.rsplit("/", 1)[-1] for f in store.list_files("extract_log/platform=x")} == {
        "part-b000.parquet", "part-b001.parquet",
        "part-b000.parquet.sha256", "part-b001.parquet.sha256"}
    assert store.list_files("raw/platform=youtube")
    assert store.list_files(object_store.SHARED_VALIDATION_RUNS)
    for extract_host in (first, second):  # they never saw an accepted file
        assert not list(extract_host.lake.glob("extract_log/*/*/*.parquet"))

    warehouse_host = on_host("warehouse")
    summary = pipeline.build_warehouse()
    assert summary["marts"]["account_monthly"] > 0
    import duckdb

    with duckdb.connect(str(warehouse_host.warehouse), read_only=True) as con:
        accounts = con.execute("select platform, count(distinct account_id) "
                               "from marts.account_monthly group by all").fetchall()
        validated = con.execute("select count(*) from quality.validation_runs").fetchone()[0]
    assert dict(accounts) == {p: count for p in platforms}
    assert validated == len(outcomes)
    # the build read the S3 lake where it is: no accepted file, checksum or validation
    # result was copied to the warehouse host
    assert not warehouse_host.lake.exists()
    assert not list(warehouse_host.quality.rglob("*.parquet"))


def test_lake_writes_go_through_and_reads_come_from_the_shared_lake(
        tmp_path, monkeypatch, lake_connection):
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "writer"))
    day = date(2026, 3, 1)
    lake.write_partition("account_snapshots", "x", day, _snapshots("a"), key="b000")
    lake.write_partition("account_snapshots", "youtube", day, _snapshots("b"), key="b000")
    raw = lake.archive_raw("x", day, [{"url": "https://api.x.com/2/users/by", "status": 200}])
    # A whole-day write replaces the partition's batches, here and in the shared lake.
    lake.write_partition("account_snapshots", "x", day, _snapshots("c"))
    store = object_store.remote_lake()
    assert store.list_files("account_snapshots/platform=x") == [
        "account_snapshots/platform=x/date=2026-03-01/part-all.parquet",
        "account_snapshots/platform=x/date=2026-03-01/part-all.parquet.sha256"]
    assert store.exists(raw.relative_to(config.paths().lake).as_posix())

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "reader"))  # nothing local
    assert sorted(lake.read_dataset("account_snapshots").column("handle").to_pylist()) == [
        "b", "c"]
    assert lake.read_dataset("account_snapshots", platform="x").column(
        "handle").to_pylist() == ["c"]
    assert lake.read_dataset("posts").num_rows == 0


def test_lake_check_verifies_the_s3_lake_where_it_is(tmp_path, monkeypatch, lake_connection):
    from agency_pulse import lake_check

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "writer"))
    day = date(2026, 3, 1)
    lake.write_partition("account_snapshots", "x", day, _snapshots("a"), key="b000")
    lake.write_partition("account_snapshots", "youtube", day, _snapshots("b"), key="b000")
    store = object_store.remote_lake()
    damaged = "account_snapshots/platform=youtube/date=2026-03-01/part-b000.parquet"
    store.write_table(damaged, _snapshots("b", "forged"))  # bytes changed after publishing
    unrecorded = "account_snapshots/platform=x/date=2026-03-02/part-all.parquet"
    store.write_table(unrecorded, _snapshots("c"))
    gone = "posts/platform=x/date=2026-03-01/part-b000.parquet.sha256"
    store.write_bytes(gone, b"0" * 64 + b"  part-b000.parquet\n")

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "checker"))  # nothing local
    result = lake_check.check_lake()
    assert result.files == 3 and result.failed
    found = {(p.kind, str(p.path).rsplit("/agency-pulse/", 1)[-1]) for p in result.problems}
    assert found == {("mismatch", damaged), ("missing", unrecorded), ("stray", gone)}
    assert not config.paths().lake.exists()  # nothing was copied to check it

    result = lake_check.check_lake(record_missing=True)
    assert result.recorded == 1 and result.count("missing") == 0
    assert store.exists(unrecorded + ".sha256")
    assert lake_check.check_lake().count("missing") == 0


def test_the_follower_jump_rule_reads_earlier_snapshots_on_s3(tmp_path, monkeypatch,
                                                              lake_connection):
    from agency_pulse.validation.follower_jumps import previous_snapshots

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "extract-host"))
    for day, followers in ((date(2026, 3, 1), 10), (date(2026, 3, 2), 20)):
        rows = _snapshots("a", "b").set_column(
            0, "snapshot_date", pa.array([day, day], pa.date32())).set_column(
            7, "followers", pa.array([followers, followers + 1], pa.int64()))
        lake.write_partition("account_snapshots", "x", day, rows, key="b000")
    lake.write_partition("account_snapshots", "youtube", date(2026, 3, 2), _snapshots("a"),
                         key="b000")

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "validation-host"))  # nothing local
    previous = previous_snapshots({"x:a", "x:b", "x:z"}, date(2026, 3, 3), "x")
    assert sorted(previous.to_pylist(), key=lambda r: r["account_id"]) == [
        {"account_id": "x:a", "snapshot_date": date(2026, 3, 2), "followers": 20},
        {"account_id": "x:b", "snapshot_date": date(2026, 3, 2), "followers": 21}]
    before_second = previous_snapshots({"x:a"}, date(2026, 3, 2), "x")
    assert before_second.column("followers").to_pylist() == [10]
    assert not config.paths().lake.exists()


def test_the_extract_state_folds_the_days_other_hosts_published_on_s3(
        tmp_path, monkeypatch, lake_connection):
    from agency_pulse import extract_state

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "validation-host"))
    lake.write_partition("account_snapshots", "x", date(2026, 3, 1), _snapshots("a", "b"),
                         key="b000")
    lake.write_partition("account_snapshots", "youtube", date(2026, 3, 1), _snapshots("c"),
                         key="b000")

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "extract-host"))  # nothing local
    state = extract_state.refresh("x")
    assert state.through == date(2026, 3, 1)
    assert sorted(state.signatures["account_snapshots"]) == ["2026-03-01"]
    assert [name for name, *_ in state.signatures["account_snapshots"]["2026-03-01"]] == [
        "part-b000.parquet"]
    # no accepted file was copied: only this host's state (a derived cache) is local
    assert not list(config.paths().lake.glob("account_snapshots/**/*.parquet"))
    assert extract_state.refresh("x").signatures == state.signatures  # nothing changed

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "validation-host"))
    lake.write_partition("account_snapshots", "x", date(2026, 3, 2), _snapshots("a"),
                         key="b000")
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "extract-host"))
    assert extract_state.refresh("x").through == date(2026, 3, 2)
