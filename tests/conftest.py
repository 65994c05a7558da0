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


# ---- the platform API fake (testkit/fake_platform.py) ----

@pytest.fixture
def fake_platform():
    """The loopback fake platform: ``fake_platform.route(path_regex, answer...)``.

    A handler that raised (an assertion about a request) fails the test at teardown.
    """
    from testkit.fake_platform import serve

    with serve() as platform:
        yield platform
    platform.check()


@pytest.fixture
def sleeps():
    """A list the client's fake sleep appends to (no test waits for real)."""
    return []


@pytest.fixture
def make_client(sleeps):
    """An ApiClient sleeping into the `sleeps` list, no jitter, a fixed clock."""
    from agency_pulse.http_client import ApiClient

    def build(platform="facebook", **options):
        options.setdefault("sleep", sleeps.append)
        options.setdefault("jitter", lambda: 1.0)
        options.setdefault("clock", lambda: 1_700_000_000.0)
        return ApiClient(platform, **options)

    return build


# ---- the demo warehouse: small hand-written marts for the report and UI tests ----

@pytest.fixture(scope="session")
def demo_warehouse_file(tmp_path_factory):
    from demo_warehouse import build_demo_warehouse

    return build_demo_warehouse(tmp_path_factory.mktemp("demo") / "warehouse.duckdb")


@pytest.fixture
def demo_home(pulse_home, demo_warehouse_file):
    """A pulse_home whose warehouse is a copy of the demo warehouse."""
    import shutil

    shutil.copy(demo_warehouse_file, pulse_home.warehouse)
    return pulse_home
