"""The lake on object storage, against a local S3-compatible server (moto) on loopback:
every read, write and move goes to S3 through ``lake_fs``; no host keeps a copy."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from agency_pulse import config, lake, lake_fs

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


def _shared(prefix: str = "") -> list[str]:
    """Every object under ``prefix`` of the S3 lake, relative to its root (listed with
    pyarrow directly, not through the code under test)."""
    shared = lake_fs.open_lake()
    assert shared.remote
    folder = f"{shared.root}/{prefix}".rstrip("/")
    selector = pafs.FileSelector(folder, recursive=True, allow_not_found=True)
    return sorted(info.path[len(shared.root) + 1:]
                  for info in shared.filesystem.get_file_info(selector)
                  if info.type == pafs.FileType.File)


def _local_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_without_a_lake_url_the_lake_stays_local(pulse_home, monkeypatch):
    monkeypatch.delenv("AGENCY_PULSE_LAKE_URL", raising=False)
    local = lake_fs.open_lake()
    assert not local.remote and local.root == str(pulse_home.lake)
    path = lake.partition_path(lake.ACCEPTED, "account_snapshots", "x", date(2026, 3, 1))
    assert lake_fs.for_path(path) is lake_fs.LOCAL
    assert local.fs_path(path) == str(path)  # lake paths are the files themselves
    local.write_table(path, _snapshots("a"))
    assert path.is_file()
    assert lake.read_dataset("account_snapshots").column("handle").to_pylist() == ["a"]


def test_lake_url_refuses_credentials_and_unknown_schemes(monkeypatch):
    with pytest.raises(lake_fs.LakeURLError) as caught:
        lake_fs.s3_lake(f"s3://{ACCESS_KEY}:{SECRET_KEY}@bucket/prefix")
    assert SECRET_KEY not in str(caught.value)
    assert "agency_pulse_lake" in str(caught.value)
    with pytest.raises(lake_fs.LakeURLError, match="unsupported scheme 'gs'"):
        lake_fs.s3_lake("gs://bucket/prefix")
    with pytest.raises(lake_fs.LakeURLError, match="no bucket"):
        lake_fs.s3_lake("s3:///prefix")


def test_credentials_come_from_the_airflow_connection_then_the_aws_variables(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_LAKE", json.dumps({
        "conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY,
        "extra": {"region_name": "eu-central-1", "endpoint_url": "http://127.0.0.1:9"}}))
    credentials = lake_fs.s3_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.region,
            credentials.endpoint_url, credentials.source) == (
        ACCESS_KEY, SECRET_KEY, "eu-central-1", "http://127.0.0.1:9", "airflow")
    assert SECRET_KEY not in repr(credentials) and ACCESS_KEY not in repr(credentials)

    monkeypatch.delenv("AIRFLOW_CONN_AGENCY_PULSE_LAKE")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:10")
    credentials = lake_fs.s3_credentials()
    assert (credentials.access_key, credentials.endpoint_url, credentials.source) == (
        "from-env", "http://127.0.0.1:10", "environment")

    monkeypatch.setenv("AIRFLOW_CONN_AGENCY_PULSE_LAKE", "aws://key%2Fid:pass%40word@/?region_name=x")
    credentials = lake_fs.s3_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.region) == (
        "key/id", "pass@word", "x")


def test_lake_fs_round_trip_on_s3(pulse_home, lake_connection):
    shared = lake_fs.open_lake()
    assert shared.remote and shared.url == f"s3://{lake_connection}/agency-pulse"
    path = lake.partition_path(lake.LANDING, "account_snapshots", "x", date(2026, 3, 1),
                               "b001")
    assert lake_fs.for_path(path) is shared
    relative = "landing/account_snapshots/platform=x/date=2026-03-01/part-b001.parquet"
    assert shared.fs_path(path) == f"{lake_connection}/agency-pulse/{relative}"
    shared.write_table(path, _snapshots("a", "b"))
    raw = lake.raw_path("x", date(2026, 3, 1), "b001", run="r1")
    shared.write_bytes(raw, b"raw")
    with pytest.raises(FileExistsError):
        shared.write_bytes(raw, b"other", replace=False)  # the archive never replaces
    assert _shared() == ["landing/account_snapshots/platform=x/date=2026-03-01/part-b001.parquet",
                         "raw/platform=x/date=2026-03-01/part-b001-r1.jsonl.gz"]
    assert shared.exists(path) and shared.read_bytes(raw) == b"raw"
    assert lake.list_partitions(lake.LANDING) == [path]  # named as lake_layout builds it
    assert shared.read_table(path).column("followers").to_pylist() == [10, 11]

    accepted = lake.relocate(path, lake.ACCEPTED)
    shared.move(path, accepted)
    assert not shared.exists(path) and shared.exists(accepted)
    with pytest.raises(FileNotFoundError):
        shared.move(path, accepted)
    assert shared.record_checksum(accepted) == shared.sha256(accepted)
    assert shared.verify_checksum(accepted).status == "ok"
    assert shared.delete(accepted) is True
    assert shared.delete(accepted) is False
    with pytest.raises(ValueError, match="invalid lake path"):
        shared.fs_path(f"{shared.root}/../outside")
    assert not pulse_home.lake.exists()  # nothing was written locally


def test_a_batch_one_host_lands_is_validated_by_another_on_s3(
        tmp_path, monkeypatch, lake_connection):
    from agency_pulse import pipeline

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "host-a"))
    landed = lake.write_partition("account_snapshots", "x", date(2026, 3, 1), _snapshots("a"),
                                  key="b000", root=config.paths().landing)
    assert not landed.exists()  # written to S3 only

    host_b = tmp_path / "host-b"
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(host_b))
    waiting = pipeline.landed_files()
    assert waiting == [host_b / landed.relative_to(tmp_path / "host-a")]
    outcomes = pipeline.validate_landing(day=date(2026, 3, 1))
    assert [o.success for o in outcomes] == [True]
    assert _shared("landing") == []
    assert _shared("account_snapshots") == [
        "account_snapshots/platform=x/date=2026-03-01/part-b000.parquet",
        "account_snapshots/platform=x/date=2026-03-01/part-b000.parquet.sha256"]
    assert _shared("_quality/validation_runs")
    # host B keeps only its extract state (a cache): no lake file, no validation result
    assert [f for f in _local_files(host_b / "lake") if not f.startswith("_state/")] == []
    assert not list((host_b / "quality").rglob("*.parquet"))


def test_a_failing_batch_is_quarantined_on_s3_with_its_result(
        tmp_path, monkeypatch, lake_connection):
    from agency_pulse import pipeline

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "host"))
    broken = _snapshots("a").set_column(1, "account_id", pa.array([None], pa.string()))
    lake.write_partition("account_snapshots", "x", date(2026, 3, 1), broken, key="b000",
                         root=config.paths().landing)
    outcomes = pipeline.validate_landing(day=date(2026, 3, 1), raise_on_failure=False)
    assert [o.success for o in outcomes] == [False]
    # the outcome (and quality.validation_runs) names the file where it is, not a host path
    assert outcomes[0].quarantined_to.startswith("s3://")
    assert outcomes[0].quarantined_to.endswith(
        "/quarantine/account_snapshots/platform=x/date=2026-03-01/part-b000.parquet")
    assert _shared("quarantine") == [
        "quarantine/account_snapshots/platform=x/date=2026-03-01/part-b000.parquet",
        "quarantine/account_snapshots/platform=x/date=2026-03-01/part-b000.result.json"]
    assert _shared("landing") == [] and _shared("account_snapshots") == []
    assert not config.paths().lake.exists()


def test_errors_never_show_the_secret_key(pulse_home, lake_connection, monkeypatch):
    monkeypatch.setenv("AGENCY_PULSE_LAKE_URL", "s3://no-such-bucket-here/prefix")
    shared = lake_fs.open_lake()
    with pytest.raises(OSError) as caught:
        shared.write_bytes(pulse_home.lake / "landing" / "x.parquet", b"data")
    assert SECRET_KEY not in str(caught.value)
    assert SECRET_KEY not in repr(shared)


def test_compaction_merges_a_settled_month_on_s3_where_it_is(
        tmp_path, monkeypatch, lake_connection):
    from agency_pulse import lake_compact

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "writer"))
    for day, handles in ((date(2026, 3, 1), ("a",)), (date(2026, 3, 2), ("a", "b"))):
        rows = _snapshots(*handles).set_column(
            0, "snapshot_date", pa.array([day] * len(handles), pa.date32()))
        lake.write_partition("account_snapshots", "x", day, rows)

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "compactor"))  # nothing local
    result = lake_compact.compact_lake(date(2026, 5, 15), datasets=["account_snapshots"])
    assert len(result.written) == 1 and len(result.removed) == 2
    assert _shared("account_snapshots") == [
        "account_snapshots/platform=x/date=2026-03/part-month.parquet",
        "account_snapshots/platform=x/date=2026-03/part-month.parquet.sha256"]
    month = lake.list_month_files("account_snapshots")
    assert lake.month_file_manifest(month[0])["days"] == ["2026-03-01", "2026-03-02"]
    assert sorted(lake.read_dataset("account_snapshots").column("handle").to_pylist()) == [
        "a", "a", "b"]
    assert lake_compact.compact_lake(date(2026, 5, 15)).written == []  # nothing left to merge
    assert [f for f in _local_files(tmp_path / "compactor")
            if not f.startswith("lake/_state/")] == []


def _sandbox_registry(tmp_path, monkeypatch, platforms, count: int) -> None:
    """A registry of `count` agencies, each with one sandbox account on every platform given,
    and the sandbox as the default source."""
    import yaml

    from agency_pulse_sandbox.data import synthetic_handle

    registry = tmp_path / "registry.yaml"
    registry.write_text(yaml.safe_dump({"agencies": [
        {"id": f"sbx-{i}", "name": f"Agency {i}", "kind": "test", "jurisdiction": "AZ",
         "accounts": [{"platform": p, "handle": synthetic_handle(p, i)} for p in platforms]}
        for i in range(count)]}), encoding="utf-8")
    monkeypatch.setenv("AGENCY_PULSE_REGISTRY", str(registry))
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")


def test_hosts_that_share_only_the_s3_lake_extract_validate_and_build_the_marts(
        tmp_path, monkeypatch, lake_connection):
    """Extract on two hosts, validate on a third, build on a fourth: only S3 is shared."""
    from agency_pulse import pipeline
    from agency_pulse_sandbox import run_sandbox
    from agency_pulse_sandbox.data import synthetic_handle

    day = date(2026, 11, 20)
    platforms, count = ("x", "youtube"), 4
    _sandbox_registry(tmp_path, monkeypatch, platforms, count)

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

    assert _shared("landing") == []  # every landed batch was published
    # each accepted file travels with its checksum record
    assert {f.rsplit("/", 1)[-1] for f in _shared("extract_log/platform=x")} == {
        "part-b000.parquet", "part-b001.parquet",
        "part-b000.parquet.sha256", "part-b001.parquet.sha256"}
    assert _shared("raw/platform=youtube")
    assert _shared(lake.SHARED_VALIDATION_RUNS)
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
    assert _shared("account_snapshots/platform=x") == [
        "account_snapshots/platform=x/date=2026-03-01/part-all.parquet",
        "account_snapshots/platform=x/date=2026-03-01/part-all.parquet.sha256"]
    assert _shared("raw") == [raw.relative_to(config.paths().lake).as_posix()]
    assert not config.paths().lake.exists()  # written to S3 only

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
    shared = lake_fs.open_lake()
    root = shared.root
    damaged = "account_snapshots/platform=youtube/date=2026-03-01/part-b000.parquet"
    shared.write_table(f"{root}/{damaged}", _snapshots("b", "forged"))  # changed since
    unrecorded = "account_snapshots/platform=x/date=2026-03-02/part-all.parquet"
    shared.write_table(f"{root}/{unrecorded}", _snapshots("c"))
    gone = "posts/platform=x/date=2026-03-01/part-b000.parquet.sha256"
    shared.write_bytes(f"{root}/{gone}", b"0" * 64 + b"  part-b000.parquet\n")

    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "checker"))  # nothing local
    result = lake_check.check_lake()
    assert result.files == 3 and result.failed
    found = {(p.kind, str(p.path).rsplit("/agency-pulse/", 1)[-1]) for p in result.problems}
    assert found == {("mismatch", damaged), ("missing", unrecorded), ("stray", gone)}
    assert not config.paths().lake.exists()  # nothing was copied to check it

    result = lake_check.check_lake(record_missing=True)
    assert result.recorded == 1 and result.count("missing") == 0
    assert unrecorded + ".sha256" in _shared("account_snapshots")
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


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted, without its timestamp columns (when the run happened)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()]
        marts = {}
        for name in tables:
            columns = [column for column, kind in con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [name]).fetchall() if not kind.startswith("TIMESTAMP")]
            relation = con.table(f"marts.{name}").select(*columns)
            marts[name] = sorted(relation.fetchall(), key=repr)
    return marts


@pytest.mark.slow
def test_daily_runs_with_compaction_on_s3_keep_no_local_lake_and_give_the_local_marts(
        tmp_path, monkeypatch, lake_connection):
    """Two daily runs (extract, validate, compact, build) against the S3 lake leave no lake
    file on the host and build the same marts as the same runs on a local lake."""
    from agency_pulse import pipeline
    from agency_pulse_sandbox import run_sandbox

    platforms, count = ("x", "youtube"), 3
    _sandbox_registry(tmp_path, monkeypatch, platforms, count)
    s3_url = f"s3://{lake_connection}/agency-pulse"
    # the second day settles the first day's month: its run compacts it
    days = (date(2026, 10, 10), date(2026, 12, 5))

    def run_both_days(home: Path) -> Path:
        monkeypatch.setenv("AGENCY_PULSE_HOME", str(home))
        for day in days:
            with run_sandbox(date=day, extra_accounts_per_platform=count) as sandbox:
                monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", sandbox.url)
                result = pipeline.run_daily(day, platforms)
            assert not result.failed_platforms and not result.validation_failures
        return config.paths().warehouse

    monkeypatch.delenv("AGENCY_PULSE_LAKE_URL")
    local_home = tmp_path / "local"
    local_warehouse = run_both_days(local_home)
    assert lake.list_month_files(root=local_home / "lake")  # the local run compacted

    monkeypatch.setenv("AGENCY_PULSE_LAKE_URL", s3_url)
    s3_home = tmp_path / "s3"
    s3_warehouse = run_both_days(s3_home)
    months = [f for f in _shared() if f.endswith("/part-month.parquet")]
    assert months and all("/date=2026-10/" in f for f in months)
    assert not [f for f in _shared() if "/date=2026-10-10/" in f and f.endswith(".parquet")
                and not f.startswith(("raw/", "_quality/"))]  # merged into the month
    assert _shared("raw") and _shared("_quality/validation_runs")
    assert _shared("landing") == []

    # no copy of the lake on the host: only its extract state (a cache) under lake/
    assert [f for f in _local_files(s3_home / "lake") if not f.startswith("_state/")] == []
    assert not list((s3_home / "quality").rglob("*.parquet"))

    local_marts = _marts(local_warehouse)
    assert local_marts and any(local_marts.values())
    assert _marts(s3_warehouse) == local_marts
