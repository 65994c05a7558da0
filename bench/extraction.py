"""API economy and extraction time of one steady-state daily run, against the naive baseline.

The sandbox serves N synthetic accounts per platform. A first run (the backfill) lands and
is promoted to the accepted lake; the measured run is the NEXT day, incremental, as every
daily run after the first one. Agency Pulse (``extract.run_platform``, batched counts) and
the one-request-per-account baseline (``bench.naive_extractor``) then run the same day from
the same accepted state, on the same sandbox, with the same HTTP client; the sandbox counts
their requests per platform and endpoint.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import yaml

from agency_pulse.config import PLATFORMS
from agency_pulse.settings import Settings

# Accounts a counts request may name (PLATFORM_APIS.md); None: one account per request.
COUNT_BATCH = {"facebook": 50, "instagram": None, "youtube": 50, "x": 100, "telegram": None}
# Posts a page of each platform's posts listing holds.
POSTS_PAGE = {"facebook": 100, "instagram": 50, "youtube": 50, "x": 100, "telegram": 20}
# Sandbox endpoints that list posts (one page each) and that fetch post details by id.
POSTS_ENDPOINTS = {"facebook": "posts", "instagram": "business_discovery",
                   "youtube": "playlistItems", "x": "users/:id/tweets", "telegram": "preview"}
COUNT_ENDPOINTS = {"facebook": "ids", "youtube": "channels", "x": "users/by",
                   "telegram": "getChatMemberCount"}
DETAIL_ENDPOINTS = {"youtube": "videos"}
RUN_DAY = date(2026, 11, 27)


class SandboxProcess:
    """The sandbox CLI in its own process, as a real API is: its work does not share our GIL."""

    def __init__(self, *, day: date, seed: int, registry: Path, extra_accounts: int):
        with socket.socket() as probe:  # a free loopback port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agency_pulse_sandbox", "--port", str(port),
             "--date", day.isoformat(), "--seed", str(seed), "--registry", str(registry),
             "--extra-accounts", str(extra_accounts), "--x-rate-limit", str(10**9),
             "--youtube-quota", str(10**12)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.admin("GET", "config")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.1)

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(f"{self.url}/_sandbox/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def set_date(self, day: date) -> None:
        self.admin("POST", "config", {"date": day.isoformat()})

    def reset_stats(self) -> None:
        self.admin("POST", "stats/reset")

    def stats(self) -> dict:
        return self.admin("GET", "stats")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def patched_environ(**values: str) -> Iterator[None]:
    """Set environment variables for the block, then restore the previous values."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def write_sandbox_registry(path: Path, per_platform: int) -> Path:
    """A registry of the sandbox's synthetic accounts: agency i owns account i of each platform."""
    from agency_pulse_sandbox.data import synthetic_handle

    agencies = [{
        "id": f"sandbox-agency-{i:05d}", "name": f"Sandbox Agency {i:05d}",
        "name_en": f"Sandbox Agency {i:05d}", "kind": "ministry", "jurisdiction": "AZ",
        "accounts": [{"platform": p, "handle": synthetic_handle(p, i)} for p in PLATFORMS],
    } for i in range(per_platform)]
    path.write_text(yaml.safe_dump({"agencies": agencies}, sort_keys=False), encoding="utf-8")
    return path


def promote_landing(home: Path) -> int:
    """Move every landed file to the accepted zone (stands in for validation between runs)."""
    landing = home / "lake" / "landing"
    moved = 0
    for source in sorted(landing.rglob("*.parquet")):
        target = home / "lake" / source.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        moved += 1
    return moved


def calls_minimum(platform: str, posts_per_account: list[int], endpoints: dict[str, int]) -> int:
    """The fewest requests the run can make: counts in full batches (one per account where
    the platform has no batch), one posts page per account and per page size of posts read,
    YouTube video details in batches of 50 ids across accounts, plus the calls ``endpoints`` (our run's sandbox
    counts) made to any other endpoint (Facebook insights and live videos, Telegram redirects),
    taken as they are."""
    accounts = len(posts_per_account)
    batch = COUNT_BATCH[platform]
    counts = 0
    if platform in COUNT_ENDPOINTS:
        counts = math.ceil(accounts / batch) if batch else accounts
    page = POSTS_PAGE[platform]
    pages = sum(max(1, math.ceil(n / page)) for n in posts_per_account)
    # any 50 ids a call, whichever accounts they belong to
    details = math.ceil(sum(posts_per_account) / 50) if platform in DETAIL_ENDPOINTS else 0
    known = {COUNT_ENDPOINTS.get(platform), POSTS_ENDPOINTS[platform], DETAIL_ENDPOINTS.get(platform)}
    other = sum(n for name, n in endpoints.items() if name not in known)
    return counts + pages + details + other


def run_daily_comparison(per_platform: int, *, seed: int = 7, run_day: date = RUN_DAY,
                         work_dir: Path | None = None, platforms=PLATFORMS) -> dict:
    """Backfill day ``run_day - 1``, then run ``run_day`` with ours and with the baseline.

    Returns per platform: ``ours`` / ``naive`` {calls, seconds, endpoints, accounts_ok},
    ``posts_per_account`` (posts our run read, for the paging minimum).
    """
    from agency_pulse import connections, extract
    from agency_pulse.registry import load_registry
    from bench.naive_extractor import extract_one_call_per_account

    with contextlib.ExitStack() as stack:
        base = work_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        home = base / "home"
        registry_path = write_sandbox_registry(base / "registry.yaml", per_platform)
        empty_registry = base / "sandbox-registry.yaml"
        empty_registry.write_text("agencies: []\n", encoding="utf-8")
        sandbox = stack.enter_context(SandboxProcess(
            day=run_day - timedelta(days=1), seed=seed, registry=empty_registry,
            extra_accounts=per_platform))
        stack.enter_context(patched_environ(
            AGENCY_PULSE_HOME=str(home), AGENCY_PULSE_REGISTRY=str(registry_path),
            AGENCY_PULSE_DEFAULT_SOURCE="sandbox", AGENCY_PULSE_SANDBOX_URL=sandbox.url,
            # the backfill only prepares the state; a month (the settling window) is as good as two years
            AGENCY_PULSE_BACKFILL_DAYS="31"))
        registry = load_registry(registry_path)
        for platform in platforms:
            extract.run_platform(platform, run_day - timedelta(days=1), registry=registry)
        promote_landing(home)
        sandbox.set_date(run_day)

        results: dict[str, dict] = {}
        for platform in platforms:
            sandbox.reset_stats()
            started = time.perf_counter()
            summary = extract.run_platform(platform, run_day, registry=registry)
            ours_seconds = time.perf_counter() - started
            ours_stats = sandbox.stats()["platforms"].get(platform, {})
            posts_per_account = _posts_per_account(home, platform, run_day, registry)

            sandbox.reset_stats()
            conn = connections.resolve(platform)
            state = extract.build_state(
                platform, run_day, backfill_days=Settings.from_environment().backfill_days)
            client = extract.build_client(conn)
            accounts = registry.accounts_for(platform)
            started = time.perf_counter()
            naive = extract_one_call_per_account(client, conn, accounts, run_day, state)
            naive_seconds = time.perf_counter() - started
            naive_stats = sandbox.stats()["platforms"].get(platform, {})
            results[platform] = {
                "accounts": len(accounts),
                "ours": {"calls": ours_stats.get("total", 0), "seconds": ours_seconds,
                         "endpoints": ours_stats.get("endpoints", {}),
                         "accounts_ok": _ok_accounts(summary)},
                "naive": {"calls": naive_stats.get("total", 0), "seconds": naive_seconds,
                          "endpoints": naive_stats.get("endpoints", {}),
                          "accounts_ok": sum(1 for o in naive.outcomes.values() if o[0] == "ok")},
                "posts_per_account": posts_per_account,
            }
        return results


def _ok_accounts(summary: dict) -> int:
    return summary.get("statuses", {}).get("ok", 0)


def _posts_per_account(home: Path, platform: str, day: date, registry) -> list[int]:
    """Posts our run landed per account (0 for accounts without any)."""
    import pyarrow.parquet as pq

    from agency_pulse import lake

    files = lake.list_partitions(lake.LANDING, "posts", platform, day, root=home / "lake")
    counts = dict.fromkeys((a.account_id for a in registry.accounts_for(platform)), 0)
    for file in files:
        for account_id in pq.read_table(file, columns=["account_id"])["account_id"].to_pylist():
            counts[account_id] = counts.get(account_id, 0) + 1
    return list(counts.values())
