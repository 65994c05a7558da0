"""The command line's contract: exit statuses and one readable line per error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agency_pulse import cli


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "agency_pulse.cli", *args],
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("argv", [
    [], ["frobnicate"], ["run", "--date", "2026-02-30"], ["run", "--platform", "myspace"],
    ["report", "--year", "26"], ["report", "--month", "2026-13"], ["observations"],
    ["sandbox", "--date", "2026-99-01"], ["sandbox", "--fault", "myspace:throttle:0.5"],
])
def test_bad_usage_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_future_run_date_is_bad_usage(capsys):
    assert cli.main(["run", "--date", "2999-01-01"]) == 2
    assert "in the future" in capsys.readouterr().err


def test_missing_observations_file_is_one_line_exit_1(pulse_home, tmp_path):
    result = _run("observations", "import", str(tmp_path / "nope.csv"))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.csv" in lines[0] and "Traceback" not in result.stderr


def test_query_without_warehouse_is_a_clear_error(pulse_home):
    result = _run("query", "select 1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.strip()


def test_broken_registry_is_one_line_naming_the_path(pulse_home, tmp_path):
    import os

    registry = tmp_path / "agencies.yaml"
    registry.write_text("agencies:\n  - id: a\n    name: A\n    accounts:\n"
                        "      - platform: myspace\n        handle: h\n", encoding="utf-8")
    env = dict(os.environ, AGENCY_PULSE_REGISTRY=str(registry))
    csv = tmp_path / "obs.csv"
    csv.write_text("agency_id,platform,handle,observed_on,followers\n"
                   "a,facebook,h,2026-01-01,5\n", encoding="utf-8")
    result = _run("observations", "import", str(csv), env=env)
    assert result.returncode == 1
    assert "agencies[0].accounts[0].platform" in result.stderr
    assert "Traceback" not in result.stderr


def test_sandbox_command_serves_the_sandbox_with_its_own_options():
    import json
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "agency_pulse.cli", "sandbox", "--port", str(port),
         "--date", "2026-01-01", "--seed", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/config",
                                            timeout=1) as response:
                    config = json.load(response)
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                time.sleep(0.1)
        else:
            raise AssertionError("the sandbox did not answer")
        assert config["date"] == "2026-01-01" and config["seed"] == 3
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


@pytest.fixture
def cli_demo_home(demo_home, monkeypatch):
    return demo_home


def test_query_output_with_an_unsupported_extension_is_bad_usage(cli_demo_home, tmp_path, capsys):
    target = tmp_path / "x.xlsx"
    assert cli.main(["query", "select 1", "--output", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["agency-pulse: error: --output must end in .csv or .parquet, got 'x.xlsx'"]
    assert not target.exists()


def test_query_prints_at_most_10000_rows_by_default_and_says_so(cli_demo_home, capsys):
    assert cli.main(["query", "select range as n from range(12000)"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[-2] == "(10000 rows)"
    assert lines[-1] == "(capped at 10,000 rows; --max-rows N or --all for more)"
    assert len(lines) == 2 + 10_000 + 2
    assert "capped at 10,000 rows" in captured.err


def test_query_max_rows_and_all_lift_the_cap(cli_demo_home, capsys, tmp_path):
    assert cli.main(["query", "select range as n from range(12000)", "--max-rows", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == ["(5 rows)", "(capped at 5 rows; --max-rows N or --all for more)"]
    target = tmp_path / "all.csv"
    assert cli.main(["query", "select range as n from range(12000)", "--all",
                     "--output", str(target)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"12000 rows written to {target}" and captured.err == ""
    assert len(target.read_text(encoding="utf-8").splitlines()) == 12_001
    assert cli.main(["query", "select range as n from range(12000)",
                     "--output", str(target)]) == 0
    assert "capped at 10,000 rows" in capsys.readouterr().out
    assert len(target.read_text(encoding="utf-8").splitlines()) == 10_001


@pytest.mark.parametrize("argv", [
    ["query", "select 1", "--max-rows", "0"], ["query", "select 1", "--max-rows", "ten"],
    ["query", "select 1", "--max-rows", "5", "--all"],
])
def test_bad_row_caps_are_bad_usage(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2


def test_query_unknown_table_lists_the_marts(cli_demo_home, capsys):
    assert cli.main(["query", "select * from nowhere"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "marts.account_monthly, marts.account_annual" in err[0]
    assert "pg_" not in err[0]


def _summary_of_a_run(capsys) -> str:
    from types import SimpleNamespace

    from agency_pulse.settings import Settings

    result = SimpleNamespace(run_date="2026-10-31",
                             platforms={"facebook": {"statuses": {"ok": 3}}})
    cli._print_run_summary(result, Settings.from_environment())
    return capsys.readouterr().out


def test_the_run_summary_says_when_the_warehouse_holds_sandbox_figures(cli_demo_home, capsys):
    out = _summary_of_a_run(capsys)
    assert "facebook   ok 3" in out
    assert "*** Synthetic data: these figures come from the Agency Pulse sandbox" in out


def test_the_run_summary_of_api_figures_has_no_synthetic_line(cli_demo_home, capsys):
    from demo_warehouse import set_source

    set_source(cli_demo_home.warehouse, "api")
    assert "Synthetic data" not in _summary_of_a_run(capsys)


def test_the_run_summary_without_a_warehouse_has_no_synthetic_line(pulse_home, capsys):
    out = _summary_of_a_run(capsys)
    assert "Warehouse:" in out and "Synthetic data" not in out
