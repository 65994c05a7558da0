"""Shared fixtures: every test gets its own AGENCY_PULSE_HOME, and no analytics calls home."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


@pytest.fixture
def pulse_home(tmp_path, monkeypatch):
    """A fresh AGENCY_PULSE_HOME for the test; returns config.Paths."""
    from agency_pulse import config

    home = tmp_path / "pulse"
    home.mkdir()
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(home))
    return config.Paths(home)

# Outside `make`, use the project's Airflow home (the Makefile migrates it).
os.environ.setdefault(
    "AIRFLOW_HOME", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".airflow"))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER",
                      os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER",
                      os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plugins"))
