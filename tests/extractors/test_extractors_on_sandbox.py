"""The YouTube, X and Telegram extractors against the platform sandbox, via run_platform."""

from __future__ import annotations

import gzip
import shutil
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest

from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import PlatformRunFailed, run_platform
from agency_pulse.http_client import ApiClient
from agency_pulse.registry import load_registry
from agency_pulse_sandbox import run_sandbox
from agency_pulse_sandbox.connections import PREFIXES as SANDBOX_PREFIXES

RUN_DATE = date(2026, 11, 26)
CANARY = "canary-secret-7Fq2:zz"
PLATFORMS = ("youtube", "x", "telegram")


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(date=RUN_DATE, seed=7) as server:
        yield server


@pytest.fixture
def fresh_sandbox(sandbox, pulse_home, monkeypatch):
    # a month of backfill keeps first runs small; the logic is the same as two years
    monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "30")
    sandbox.set(date=RUN_DATE, seed=7, faults={})
    sandbox.reset_stats()
    yield sandbox
    sandbox.set(date=RUN_DATE, seed=7, faults={})


def connection(sandbox, platform: str) -> PlatformConnection:
    extra = {"preview_url": f"{sandbox.url}/t.me"} if platform == "telegram" else {}
    return PlatformConnection(platform, sandbox.url + SANDBOX_PREFIXES[platform], CANARY,
                              extra, "sandbox")


def client_for(platform: str, **kw) -> ApiClient:
    return ApiClient(platform, secrets=[CANARY], sleep=lambda seconds: None, **kw)


def run(sandbox, platform: str, day: date = RUN_DATE, accounts=None, **client_kw) -> dict:
    try:
        return run_platform(platform, day, registry=load_registry(), accounts=accounts,
                            connection=connection(sandbox, platform),
                            client=client_for(platform, **client_kw))
    except PlatformRunFailed as failed:
        failed.summary["raised"] = failed.reason
        return failed.summary


def landed(summary: dict, dataset: str) -> list[dict]:
    path = summary["files"].get(dataset)
    return pq.read_table(path).to_pylist() if path else []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_registry_account_lands_counts_and_posts(fresh_sandbox, platform):
    summary = run(fresh_sandbox, platform)

    accounts = load_registry().accounts_for(platform)
    assert summary["statuses"] == {"ok": len(accounts)}
    snapshots = landed(summary, "account_snapshots")
    assert {r["account_id"] for r in snapshots} == {a.account_id for a in accounts}
    assert all(r["platform_id"] for r in snapshots if platform != "telegram")
    assert all(r["followers"] is None or r["followers"] > 0 for r in snapshots)
    posts = landed(summary, "posts")
    assert posts and all(r["published_at"].date() >= RUN_DATE - timedelta(days=30)
                         for r in posts)
    with gzip.open(summary["raw"], "rt", encoding="utf-8") as fh:
        raw = fh.read()
    assert CANARY not in raw and CANARY.replace(":", "%3A") not in raw


def test_youtube_handles_resolve_once_then_batch(fresh_sandbox, pulse_home):
    accounts = load_registry().accounts_for("youtube")
    first = run(fresh_sandbox, "youtube")
    first_endpoints = fresh_sandbox.stats()["platforms"]["youtube"]["endpoints"]
    # what validation does: publish the landed day to the accepted lake
    shutil.copytree(pulse_home.landing, pulse_home.lake, dirs_exist_ok=True)
    fresh_sandbox.reset_stats()

    second = run(fresh_sandbox, "youtube", RUN_DATE + timedelta(days=1))
    endpoints = fresh_sandbox.stats()["platforms"]["youtube"]["endpoints"]

    assert first["statuses"] == second["statuses"] == {"ok": len(accounts)}
    assert sum(v for k, v in first_endpoints.items() if "channels" in k) == len(accounts)
    assert sum(v for k, v in endpoints.items() if "channels" in k) == 1  # one batch of ids
    assert not [k for k in {**first_endpoints, **endpoints} if "search" in k]


def test_youtube_quota_exhaustion_stops_the_platform(pulse_home, monkeypatch):
    monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "30")
    with run_sandbox(date=RUN_DATE, seed=7, youtube_daily_quota=3) as small:
        summary = run(small, "youtube")

    assert "midnight Pacific time" in summary["raised"]
    assert summary["statuses"].get("failed")
    reasons = {r["reason"] for r in landed(summary, "extract_log") if r["status"] == "failed"}
    assert any("quota" in (reason or "") for reason in reasons)


def test_x_access_tier_stops_the_platform_with_its_message(fresh_sandbox):
    fresh_sandbox.set(faults={"x": {"access_tier": 1.0}})

    summary = run(fresh_sandbox, "x")

    assert "453" in summary["raised"]
    assert summary["statuses"] == {"failed": len(load_registry().accounts_for("x"))}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_deleted_accounts_are_gone_and_the_rest_carry_on(fresh_sandbox, platform):
    accounts = load_registry().accounts_for(platform)
    fresh_sandbox.set(faults={platform: {"deleted_account": [accounts[0].handle]}})

    summary = run(fresh_sandbox, platform)

    log = {r["account_id"]: r["status"] for r in landed(summary, "extract_log")}
    assert log[accounts[0].account_id] == "gone"
    assert [s for a, s in log.items() if a != accounts[0].account_id] == ["ok"] * (
        len(accounts) - 1)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_throttling_is_retried_to_the_same_result(fresh_sandbox, platform):
    calm = run(fresh_sandbox, platform)
    fresh_sandbox.set(faults={platform: {"throttle": 0.3}})

    throttled = run(fresh_sandbox, platform, max_retries=8)

    assert throttled["statuses"] == calm["statuses"]
    assert throttled["retries"] > 0
    assert throttled["rows"]["posts"] == calm["rows"]["posts"]
