"""Requests in flight side by side: the same rows and the same per-account cost as one at a
time, and no call past a spent rate-limit window (a fake clock, never real time)."""

from __future__ import annotations

import gzip
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import ExtractState
from agency_pulse.http_client import ApiClient
from agency_pulse.platforms import get
from agency_pulse.registry import Account
from agency_pulse_sandbox import run_sandbox
from agency_pulse_sandbox.connections import connection_settings
from agency_pulse_sandbox.data import synthetic_handle

RUN_DATE = date(2026, 11, 26)
ACCOUNTS = 24
PLATFORMS = ("facebook", "instagram", "youtube", "x", "telegram")


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(date=RUN_DATE, seed=11, extra_accounts_per_platform=ACCOUNTS) as server:
        yield server


def extract_with(sandbox, platform: str, concurrency: int):
    settings = connection_settings(sandbox.url)[platform]
    conn = PlatformConnection(platform, settings["base_url"], settings["token"],
                              settings["extra"], "sandbox")
    accounts = [Account(f"agency-{i}", platform, synthetic_handle(platform, i))
                for i in range(ACCOUNTS)]
    client = ApiClient(platform, secrets=conn.secrets, sleep=lambda seconds: None,
                       concurrency=concurrency)
    result = get(platform).load_extractor()(client, conn, accounts, RUN_DATE,
                                            ExtractState(backfill_days=30))
    return client, result


def comparable(result) -> dict:
    """The result without the fetch times (the two runs fetch at different moments)."""
    return {dataset: [{k: v for k, v in row.items() if k != "fetched_at"}
                      for row in result.rows(dataset)]
            for dataset in ("account_snapshots", "posts", "post_deletions", "follower_history")}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_concurrent_run_lands_what_the_sequential_run_lands_at_the_same_cost(sandbox, platform):
    sequential_client, sequential = extract_with(sandbox, platform, 1)
    concurrent_client, concurrent = extract_with(sandbox, platform, 6)

    assert concurrent.stopped_by is None and sequential.stopped_by is None
    assert comparable(concurrent) == comparable(sequential)
    assert concurrent.outcomes == sequential.outcomes  # status, reason, calls and units
    assert {o.status for o in concurrent.outcomes.values()} == {"ok"}
    # every call and unit charged to exactly one account
    assert sum(o.calls for o in concurrent.outcomes.values()) == concurrent_client.calls
    assert sum(o.units for o in concurrent.outcomes.values()) == concurrent_client.units
    assert concurrent_client.calls == sequential_client.calls


class FakeClock:
    """Time that passes only when a thread sleeps (shared by the client and the fake API)."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.now = start
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_threads_never_call_past_a_spent_window_before_its_reset(fake_platform):
    clock = FakeClock()
    limit, window_seconds = 5, 60
    window = {"reset": clock() + window_seconds, "used": 0}
    over_limit: list[float] = []
    lock = threading.Lock()

    def answer(request):
        with lock:
            now = clock()
            if now >= window["reset"]:
                window.update(reset=now + window_seconds, used=0)
            window["used"] += 1
            remaining = limit - window["used"]
            headers = {"x-rate-limit-limit": str(limit),
                       "x-rate-limit-remaining": str(max(0, remaining)),
                       "x-rate-limit-reset": str(int(window["reset"]))}
            if remaining < 0:
                over_limit.append(now)
                return 429, {"title": "Too Many Requests"}, headers
            return 200, {"data": []}, headers

    fake_platform.route(r"/2/users/\d+/tweets", answer)
    client = ApiClient("x", sleep=clock.sleep, clock=clock, jitter=lambda: 1.0,
                       backoff_max=120.0, concurrency=4)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: client.get_json(f"{fake_platform.url}/2/users/{i}/tweets"),
                      range(30)))

    assert over_limit == [] and client.retries == 0
    assert client.calls == 30 and len(fake_platform.requests) == 30
    # 30 calls at 5 a window: at least 5 resets waited for, never a call early
    assert clock() - 1_700_000_000.0 >= 5 * window_seconds


def test_a_hold_from_any_answer_holds_every_thread_once(fake_platform):
    clock = FakeClock()
    fake_platform.route("/v24.0/me", (200, {"id": "1"}, {"Retry-After": "30"}), {"id": "1"})
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.sleep(seconds)

    client = ApiClient("facebook", sleep=sleep, clock=clock, concurrency=3)
    client.get_json(f"{fake_platform.url}/v24.0/me")  # asks every next call to wait 30 s
    barrier = threading.Barrier(3)

    def call(_):
        barrier.wait()
        return client.get_json(f"{fake_platform.url}/v24.0/me")

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(call, range(3)))
    # the first thread to wait serves the hold; the clock then says it is over for the rest
    assert sleeps and sum(sleeps) >= 30.0
    assert all(r.path == "/v24.0/me" for r in fake_platform.requests)


def test_archive_redacts_secrets_written_inside_json_strings(fake_platform):
    secret = "tok/en+9"
    fake_platform.route("/v24.0/me", (200, '{"next": "https://x/?access_token=tok\\/en+9&a=1",'
                                           ' "echo": "tok\\/en+9"}',
                                      {"Content-Type": "application/json"}))
    fake_platform.route("/v24.0/clean", {"id": "7", "name": "no secret here"})
    client = ApiClient("facebook", secrets=[secret], sleep=lambda s: None)
    client.get_json(f"{fake_platform.url}/v24.0/me")
    client.get_json(f"{fake_platform.url}/v24.0/clean")

    dirty, clean = client.raw
    assert "en+9" not in str(dirty["body"]) and dirty["body"]["echo"] == "***"
    assert clean["body"] == {"id": "7", "name": "no secret here"}
    lines = gzip.decompress(client.raw_archive()).decode().splitlines()
    assert [json.loads(line)["body"] for line in lines] == [dirty["body"], clean["body"]]
