"""The settings object: defaults, parsing, and one line naming the variable for a bad value."""

from __future__ import annotations

import dataclasses

import pytest

from agency_pulse import cli, config, extract
from agency_pulse.connections import PlatformConnection
from agency_pulse.errors import ConfigurationError
from agency_pulse.settings import SETTINGS, Settings


def test_defaults_without_any_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_environment({})

    assert settings == Settings(
        home=tmp_path / "data", registry=None, default_source="sandbox", sandbox_url=None,
        backfill_days=730, http_read_timeout=30.0, max_wait_seconds=60.0, wait_scale=None,
        task_retries=3, extract_batch_size=100, concurrency=None, warehouse=None, warehouse_memory_limit="3GB",
        reader_memory_limit="1GB", language="en", warehouse_queue="default", worker_warm_start=False,
        lake_url=None, env_file=None,
        sandbox_extra_accounts=0)
    assert settings.uses_sandbox
    assert config.registry_path(settings) == config.DEFAULT_REGISTRY
    assert config.paths(settings).warehouse == tmp_path / "data" / "warehouse.duckdb"


def test_a_blank_value_counts_as_unset():
    blank = {s.name: "  " for s in SETTINGS}
    assert Settings.from_environment(blank) == Settings.from_environment({})


def test_values_are_parsed(tmp_path):
    settings = Settings.from_environment({
        "AGENCY_PULSE_HOME": str(tmp_path / "home"),
        "AGENCY_PULSE_REGISTRY": str(tmp_path / "agencies.yaml"),
        "AGENCY_PULSE_DEFAULT_SOURCE": " None ",
        "AGENCY_PULSE_SANDBOX_URL": "http://127.0.0.1:8099/",
        "AGENCY_PULSE_BACKFILL_DAYS": " 45 ",
        "AGENCY_PULSE_HTTP_READ_TIMEOUT": "2.5",
        "AGENCY_PULSE_MAX_WAIT_SECONDS": "0",
        "AGENCY_PULSE_WAIT_SCALE": "0.01",
        "AGENCY_PULSE_TASK_RETRIES": "0",
        "AGENCY_PULSE_EXTRACT_BATCH_SIZE": "7",
        "AGENCY_PULSE_WAREHOUSE": str(tmp_path / "wh" / "w.duckdb"),
        "AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT": "512MiB",
        "AGENCY_PULSE_WAREHOUSE_QUEUE": "warehouse",
        "AGENCY_PULSE_LAKE_URL": " s3://bucket/lake ",
        "AGENCY_PULSE_SANDBOX_EXTRA_ACCOUNTS": "250",
        "AGENCY_PULSE_LANGUAGE": " AZ ",
    })

    assert settings.home == tmp_path / "home"
    assert settings.registry == tmp_path / "agencies.yaml"
    assert settings.default_source == "none" and not settings.uses_sandbox
    assert settings.sandbox_url == "http://127.0.0.1:8099"
    assert settings.backfill_days == 45
    assert settings.language == "az"
    assert (settings.http_read_timeout, settings.max_wait_seconds) == (2.5, 0.0)
    assert settings.wait_scale == 0.01
    assert (settings.task_retries, settings.extract_batch_size) == (0, 7)
    assert settings.warehouse_memory_limit == "512MiB"
    assert settings.warehouse_queue == "warehouse"
    assert settings.lake_url == "s3://bucket/lake"
    assert settings.sandbox_extra_accounts == 250
    paths = config.paths(settings)
    assert paths.warehouse == tmp_path / "wh" / "w.duckdb" and paths.lake == tmp_path / "home" / "lake"
    assert config.registry_path(settings) == tmp_path / "agencies.yaml"


def test_all_means_the_whole_history():
    assert Settings.from_environment({"AGENCY_PULSE_BACKFILL_DAYS": "ALL"}).backfill_days is None


@pytest.mark.parametrize(("name", "value"), [
    ("AGENCY_PULSE_BACKFILL_DAYS", "abc"),
    ("AGENCY_PULSE_BACKFILL_DAYS", "-5"),
    ("AGENCY_PULSE_HTTP_READ_TIMEOUT", "0"),
    ("AGENCY_PULSE_HTTP_READ_TIMEOUT", "soon"),
    ("AGENCY_PULSE_MAX_WAIT_SECONDS", "-1"),
    ("AGENCY_PULSE_MAX_WAIT_SECONDS", "inf"),
    ("AGENCY_PULSE_WAIT_SCALE", "nan"),
    ("AGENCY_PULSE_TASK_RETRIES", "three"),
    ("AGENCY_PULSE_TASK_RETRIES", "1.5"),
    ("AGENCY_PULSE_EXTRACT_BATCH_SIZE", "0"),
    ("AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT", "lots"),
    ("AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT", "80"),
    ("AGENCY_PULSE_WAREHOUSE_QUEUE", "two words"),
    ("AGENCY_PULSE_WORKER_WARM_START", "sometimes"),
    ("AGENCY_PULSE_DEFAULT_SOURCE", "sand box"),
    ("AGENCY_PULSE_SANDBOX_URL", "localhost:8099"),
    ("AGENCY_PULSE_SANDBOX_EXTRA_ACCOUNTS", "many"),
    ("AGENCY_PULSE_LANGUAGE", "tr"),
    ("AGENCY_PULSE_LANGUAGE", "az-Cyrl"),
])
def test_a_bad_value_is_one_line_naming_the_variable(name, value):
    with pytest.raises(ConfigurationError) as info:
        Settings.from_environment({name: value})

    message = str(info.value)
    assert message.startswith(f"{name} must be ")
    assert message.endswith(f"not {value!r}")
    assert "\n" not in message


def test_a_long_or_multi_line_bad_value_stays_one_short_line():
    with pytest.raises(ConfigurationError) as info:
        Settings.from_environment({"AGENCY_PULSE_TASK_RETRIES": "x\n" * 200})
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_the_environment_is_read_at_each_call_not_at_import(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "one"))
    assert config.paths().home == tmp_path / "one"
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "two"))
    monkeypatch.setenv("AGENCY_PULSE_WAREHOUSE", str(tmp_path / "elsewhere.duckdb"))
    assert config.paths().home == tmp_path / "two"
    assert config.paths().warehouse == tmp_path / "elsewhere.duckdb"


def test_passed_settings_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("AGENCY_PULSE_HTTP_READ_TIMEOUT", "9")
    conn = PlatformConnection(platform="x", base_url="https://api.x.com/2", token="t",
                              extra={}, source="sandbox")
    settings = dataclasses.replace(Settings.from_environment({}), http_read_timeout=4.0,
                                   max_wait_seconds=3.0)
    client = extract.build_client(conn, settings=settings)
    assert client.timeout == (5, 4.0) and client.backoff_max == 3.0
    assert extract.build_client(conn).timeout == (5, 9.0)


@pytest.mark.parametrize("command", [["build"], ["query", "select 1"], ["report"]])
def test_the_cli_exits_1_with_the_line_for_a_bad_value(command, pulse_home, monkeypatch, capsys):
    monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "abc")

    assert cli.main(command) == 1
    err = capsys.readouterr().err
    assert err == "agency-pulse: AGENCY_PULSE_BACKFILL_DAYS must be a number of days or 'all', " \
                  "not 'abc'\n"
    assert not (pulse_home.home / "warehouse.duckdb").exists()


def test_bad_usage_still_wins_over_a_bad_setting(monkeypatch, capsys):
    monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "abc")
    with pytest.raises(SystemExit) as info:
        cli.main(["report", "--year", "26"])
    assert info.value.code == 2


def test_paths_keep_their_own_warehouse_file(tmp_path):
    home = tmp_path / "h"
    assert config.Paths(home).warehouse == home / "warehouse.duckdb"
    elsewhere = tmp_path / "volume" / "w.duckdb"
    assert config.Paths(home, elsewhere).warehouse == elsewhere


def test_concurrency_is_one_number_or_pairs_and_defaults_to_the_platform_table():
    from agency_pulse.platforms import get

    assert Settings.from_environment({}).concurrency_for("x") == get("x").concurrency
    every = Settings.from_environment({"AGENCY_PULSE_CONCURRENCY": "3"})
    assert [every.concurrency_for(p) for p in ("facebook", "x")] == [3, 3]
    some = Settings.from_environment({"AGENCY_PULSE_CONCURRENCY": "facebook=12, x=1"})
    assert some.concurrency_for("facebook") == 12 and some.concurrency_for("x") == 1
    assert some.concurrency_for("youtube") == get("youtube").concurrency
    for bad in ("0", "x=0", "mastodon=3", "facebook:8", "facebook=8,"):
        with pytest.raises(ConfigurationError, match="AGENCY_PULSE_CONCURRENCY must be"):
            Settings.from_environment({"AGENCY_PULSE_CONCURRENCY": bad})
