"""The settings table is the one list of variables: the docs show it, every file uses only it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from agency_pulse import settings

PROJECT = Path(__file__).resolve().parents[2]
CONFIGURATION_DOC = PROJECT / "docs" / "CONFIGURATION.md"
# AGENCY_PULSE_X, but not the tail of AIRFLOW_CONN_AGENCY_PULSE_X (a connection, not a setting)
VARIABLE = re.compile(r"(?<![A-Za-z0-9_])AGENCY_PULSE_[A-Z_]+")


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def test_the_committed_configuration_table_is_the_generated_one():
    generated = subprocess.run([sys.executable, "-m", "agency_pulse.settings", "--markdown"],
                               capture_output=True, text=True, check=True, timeout=60).stdout
    assert generated == settings.markdown_table()
    # the doc's only table is exactly the generated one (regenerate it with the command above)
    assert _table_rows(CONFIGURATION_DOC.read_text(encoding="utf-8")) == _table_rows(generated)


def test_the_table_lists_every_setting_once_with_a_meaning():
    rows = _table_rows(settings.markdown_table())[2:]
    assert [row.split("|")[1].strip(" `") for row in rows] == [s.name for s in settings.SETTINGS]
    assert len(set(settings.BY_NAME)) == len(settings.SETTINGS)
    assert all(s.meaning.strip() for s in settings.SETTINGS)


def test_the_readme_links_the_configuration_instead_of_copying_it():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert "docs/CONFIGURATION.md" in readme
    # no row of a variable table (other tables may mention a variable in passing)
    assert not [row for row in _table_rows(readme) if row.startswith("| `AGENCY_PULSE_")]


def _files_that_may_name_settings() -> list[Path]:
    files = [PROJECT / "docker-compose.yaml", PROJECT / ".env.example", PROJECT / "Makefile"]
    for folder in ("src", "dags", "plugins"):
        files += [p for p in sorted((PROJECT / folder).rglob("*"))
                  if p.is_file() and p.suffix in (".py", ".md", ".yaml", ".yml", ".sql", ".txt")]
    return files


def test_every_agency_pulse_variable_in_the_project_is_defined_in_settings():
    seen: dict[str, set[str]] = {}
    for path in _files_that_may_name_settings():
        for name in VARIABLE.findall(path.read_text(encoding="utf-8")):
            seen.setdefault(name, set()).add(str(path.relative_to(PROJECT)))
    assert "AGENCY_PULSE_HOME" in seen  # the scan does find the variables
    undefined = {name: sorted(where) for name, where in seen.items()
                 if name not in settings.BY_NAME}
    assert undefined == {}


def test_the_scan_tells_settings_from_connections():
    text = "AGENCY_PULSE_HOME=x AIRFLOW_CONN_AGENCY_PULSE_FACEBOOK=y ${AGENCY_PULSE_LAKE_URL:-}"
    assert VARIABLE.findall(text) == ["AGENCY_PULSE_HOME", "AGENCY_PULSE_LAKE_URL"]


def test_the_module_without_an_option_is_bad_usage():
    result = subprocess.run([sys.executable, "-m", "agency_pulse.settings"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--markdown" in result.stderr


def test_check_exits_1_with_one_line_for_a_bad_value(tmp_path):
    env = {"PATH": "", "AGENCY_PULSE_TASK_RETRIES": "lots", "PYTHONPATH": str(PROJECT / "src")}
    result = subprocess.run([sys.executable, "-m", "agency_pulse.settings", "--check"],
                            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == ("agency-pulse: AGENCY_PULSE_TASK_RETRIES must be a whole number "
                             "of at least 0, not 'lots'\n")
    env["AGENCY_PULSE_TASK_RETRIES"] = "2"
    ok = subprocess.run([sys.executable, "-m", "agency_pulse.settings", "--check"],
                        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
