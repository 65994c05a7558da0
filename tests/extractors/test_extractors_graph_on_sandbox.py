"""run_platform for Facebook and Instagram end to end against the platform sandbox (loopback)."""

from __future__ import annotations

import gzip
import shutil
from datetime import date, timedelta

import pytest

from agency_pulse import lake
from agency_pulse.extract import PlatformRunFailed, run_platform
from agency_pulse.registry import parse_registry
from agency_pulse_sandbox import connections as sandbox_connections
from agency_pulse_sandbox import run_sandbox

DAY = date(2026, 11, 26)
REGISTRY = parse_registry({"agencies": [
    {"id": "agriculture", "name": "Kənd Təsərrüfatı Nazirliyi", "accounts": [
        {"platform": "facebook", "handle": "agro.gov.az"},
        {"platform": "facebook", "handle": "aqroazerbaycan"}]},
    {"id": "ecology", "name": "Ekologiya Nazirliyi", "accounts": [
        {"platform": "facebook", "handle": "eco.gov.az"}]},
]})


@pytest.fixture
def sandbox(pulse_home, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AGENCY_PULSE_FACEBOOK", raising=False)
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")
    monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "90")
    with run_sandbox(date=DAY, seed=7, registry=REGISTRY) as server:
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", server.url)
        yield server


def landed(dataset, home):
    return lake.read_dataset(dataset, root=home.landing, platform="facebook")


def accept_landing(home):
    """Stand-in for validation: publish every landed file to the accepted lake."""
    for path in home.landing.rglob("*.parquet"):
        target = home.lake / path.relative_to(home.landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)


def test_a_first_run_then_a_daily_run_against_the_sandbox(sandbox, pulse_home):
    summary = run_platform("facebook", DAY, registry=REGISTRY)
    assert summary["source"] == "sandbox"
    assert summary["statuses"] == {"ok": 3}
    snapshots = landed("account_snapshots", pulse_home).to_pylist()
    assert len(snapshots) == 3 and all(s["followers"] and s["followers"] > 0 for s in snapshots)
    posts = landed("posts", pulse_home)
    assert posts.num_rows > 0
    published = posts["published_at"].to_pylist()
    assert min(published).date() >= DAY - timedelta(days=90)
    assert len(set(posts["post_id"].to_pylist())) == posts.num_rows
    history = landed("follower_history", pulse_home).to_pylist()
    assert {h["account_id"] for h in history} == {s["account_id"] for s in snapshots}
    assert max(h["day"] for h in history) == DAY - timedelta(days=1)
    raw = gzip.open(summary["raw"], "rt").read()
    assert sandbox_connections.TOKEN not in raw
    first_calls = summary["calls"]

    accept_landing(pulse_home)
    next_day = DAY + timedelta(days=1)
    sandbox.set(date=next_day)
    summary = run_platform("facebook", next_day, registry=REGISTRY)
    assert summary["statuses"] == {"ok": 3}
    assert summary["calls"] < first_calls  # no backfill the second time
    later = landed("posts", pulse_home)
    # re-read window: posts of the last 30 days again, nothing older than the window
    assert min(later["published_at"].to_pylist()).date() >= next_day - timedelta(days=30)
    history = landed("follower_history", pulse_home).to_pylist()
    assert max(h["day"] for h in history) == DAY
    assert landed("extract_log", pulse_home).num_rows == 3


def test_sandbox_faults_map_to_account_and_platform_outcomes(sandbox, pulse_home):
    sandbox.set(faults={"facebook": {"deleted_account": ["eco.gov.az"],
                                     "private": ["agro.gov.az"]}})
    # a refused page is recorded, not a failure of the run: waiting will not change it
    summary = run_platform("facebook", DAY, registry=REGISTRY)
    rows = {r["account_id"]: r for r in landed("extract_log", pulse_home).to_pylist()}
    assert rows["facebook:eco.gov.az"]["status"] == "gone"
    assert rows["facebook:agro.gov.az"]["status"] == "private"
    assert "Page Public Metadata Access" in rows["facebook:agro.gov.az"]["reason"]
    assert summary["statuses"] == {"ok": 1, "gone": 1, "private": 1}

    sandbox.set(faults={"facebook": {"expired_token": 1.0}})
    with pytest.raises(PlatformRunFailed, match="Session has expired") as failure:
        run_platform("facebook", DAY, registry=REGISTRY)
    assert failure.value.summary["statuses"] == {"failed": 3}
    assert failure.value.summary["calls"] == 1
    # the day keeps what the earlier run recorded; the stopped run erased nothing
    assert {r["account_id"]: r["status"] for r in landed("extract_log", pulse_home).to_pylist()} \
        == {"facebook:eco.gov.az": "gone", "facebook:agro.gov.az": "private",
            "facebook:aqroazerbaycan": "ok"}


def test_throttling_and_server_errors_are_retried_through(sandbox, pulse_home):
    sandbox.set(faults={"facebook": {"throttle": 0.15, "server_error": 0.1}})
    summary = run_platform("facebook", DAY, registry=REGISTRY)
    assert summary["statuses"] == {"ok": 3}
    assert summary["retries"] > 0 and summary["waited_seconds"] > 0
    assert summary["calls"] == sum(r["calls"] for r in
                                   landed("extract_log", pulse_home).to_pylist())


def test_instagram_business_discovery_against_the_sandbox(pulse_home, monkeypatch):
    registry = parse_registry({"agencies": [{"id": "taxes", "name": "Dövlət Vergi Xidməti",
                                             "accounts": [{"platform": "instagram",
                                                           "handle": "taxes.gov.az"},
                                                          {"platform": "instagram",
                                                           "handle": "closed.account"}]}]})
    monkeypatch.delenv("AIRFLOW_CONN_AGENCY_PULSE_INSTAGRAM", raising=False)
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")
    monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "60")
    faults = {"instagram": {"deleted_account": ["closed.account"]}}
    with run_sandbox(date=DAY, seed=7, registry=registry, faults=faults) as server:
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", server.url)
        summary = run_platform("instagram", DAY, registry=registry)
    assert summary["statuses"] == {"ok": 1, "gone": 1}
    root = pulse_home.landing
    [snapshot] = lake.read_dataset("account_snapshots", root=root, platform="instagram").to_pylist()
    assert snapshot["followers"] > 0 and snapshot["posts_total"] > 0
    posts = lake.read_dataset("posts", root=root, platform="instagram").to_pylist()
    assert posts and min(p["published_at"] for p in posts).date() >= DAY - timedelta(days=60)
    assert all(p["is_video"] == ("VIDEO" in p["post_type"]) for p in posts)
    assert all(p["shares"] is None for p in posts)
