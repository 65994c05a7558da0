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


@pytest.fixture
def crowded_demo_home(demo_home):
    """The demo warehouse with two more agencies in 2026, for the boards' order and
    engagement per post: "twin" shares Education's rank and growth, and its names sort
    before Education's in Azerbaijani but after it in English; its Telegram channel's 90
    posts give no engagement, its Facebook page's 10 give 400, its Instagram account's 0
    posts give 7. "nameless" has no name (its id is shown), no rank, no growth, and only a
    Telegram channel."""
    import duckdb

    con = duckdb.connect(str(demo_home.warehouse))
    try:
        con.execute("""
            insert into marts.agency_annual
            select * replace ('twin' as agency_id, 'Abşeron sınaq' as agency_name,
                              'Zeta test' as agency_name_en)
            from marts.agency_annual where agency_id = 'education' and year = 2026""")
        con.execute("""
            insert into marts.agency_annual
            select * replace ('nameless' as agency_id, '' as agency_name, '' as agency_name_en,
                              null::bigint as rank_followers, null::bigint as rank_growth,
                              null::double as followers_growth_pct)
            from marts.agency_annual where agency_id = 'education' and year = 2026""")
        template = con.execute("select account_id from marts.account_annual "
                               "where year = 2026 order by account_id limit 1").fetchone()[0]
        for agency, platform, handle, posts, engagement in [
                ("twin", "telegram", "twin_tg", 90, None), ("twin", "facebook", "twin.fb", 10, 400),
                ("twin", "instagram", "twin_ig", 0, 7), ("nameless", "telegram", "nameless_tg", 5, None)]:
            con.execute("""
                insert into marts.account_annual
                select * replace (? as account_id, ? as agency_id, ? as platform, ? as handle,
                                  ?::bigint as posts, ?::bigint as engagement)
                from marts.account_annual where year = 2026 and account_id = ?""",
                [f"{platform}:{handle}", agency, platform, handle, posts, engagement, template])
    finally:
        con.close()
    return demo_home
