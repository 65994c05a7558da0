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
# The measured day's sandbox latency (a real API answers in 100-500 ms).
LATENCY_MS = 200
# Listings the API filters by time itself (Graph ``since``, X ``start_time``); the others are
# read newest first until an item older than the start shows up.
SERVER_FILTERED = {"facebook", "x"}
# The settling window every daily run re-reads (CONTRACTS: metrics of recent posts settle).
SETTLE_DAYS = 30
# The rate limits the sandbox enforces, as the real APIs do: (calls, per seconds, on which
# endpoint; None: all of the platform's). X: 1,500 timeline reads per 15 minutes; Graph:
# usage reaches 100 % at 3,000 calls a minute and a client must slow down well before (ours
# at 80 %). YouTube has a daily unit quota, Telegram no rate the sandbox enforces.
RATE_WINDOWS = {"facebook": (2400, 60, None), "instagram": (2400, 60, None),
                "x": (1500, 900, "users/:id/tweets")}
X_WINDOW_SECONDS = 900
# The X endpoints the sandbox limits (lifted for the backfill only).
X_RATE_LIMITED = ("users", "users/by", "users/by/username", "users/:id", "users/:id/tweets")


def rate_bound_seconds(platform: str, endpoints: dict[str, int]) -> float:
    """The least time a platform's rate limit allows for these calls: a window's worth go at
    once, every further window's worth waits for a reset (0 within the first window)."""
    if platform not in RATE_WINDOWS:
        return 0.0
    allowed, window, endpoint = RATE_WINDOWS[platform]
    calls = endpoints.get(endpoint, 0) if endpoint else sum(endpoints.values())
    return max(0, math.ceil(calls / allowed) - 1) * window


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
             "--extra-accounts", str(extra_accounts)],
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

    def set_latency(self, milliseconds: float) -> None:
        self.admin("POST", "config", {"latency_ms": milliseconds})

    def set_x_rate_limits(self, limits: dict[str, int]) -> None:
        """X limit overrides per endpoint (``{}``: the real limits)."""
        self.admin("POST", "config", {"x_rate_limits": limits})

    def cpu_seconds(self) -> float:
        """User and system CPU the sandbox process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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


def ground_truth_minimum(platform: str, per_platform: int, *, seed: int, run_day: date,
                         backfill_days: int) -> dict[str, int]:
    """The fewest calls the measured day needs, from the sandbox's own world (not our run).

    Per account: the posts to (re)read are those visible on ``run_day`` published since the
    incremental start (min(last post seen the day before, run day - 30 days); a first run
    reads ``backfill_days``). Then each API's documented batch and page sizes:
    counts batched (Facebook 50, YouTube 50, X 100 ids a call; Instagram's business
    discovery and Telegram's member count one per account); posts pages of 100 / 50 / 50 /
    100 / 20, at least one, plus the page showing the first older item where the API cannot
    filter by time (Facebook's first page of each page rides in its counts call: Graph's
    multiple-id read expands the posts edge of 50 pages at once); YouTube video details any 50 ids a call across accounts (the window's
    posts of today and of yesterday, so a vanished one is asked about); Facebook: one
    insights window per page, one live_videos read per page with a video in the window,
    one read by id per post gone since yesterday (a listing's absence proves nothing);
    Telegram: a channel without a preview answers the preview with one redirect.
    Returns calls by kind and ``total``.
    """
    from datetime import UTC, datetime
    from datetime import time as day_time

    from agency_pulse_sandbox.data import SandboxWorld, synthetic_handle
    from agency_pulse_sandbox.telegram import _has_preview

    world = SandboxWorld(seed, None, extra_accounts_per_platform=per_platform)
    settle = datetime.combine(run_day - timedelta(days=SETTLE_DAYS), day_time(), UTC)
    first = datetime.combine(run_day - timedelta(days=1 + backfill_days), day_time(), UTC)
    page = POSTS_PAGE[platform]
    calls = {"counts": 0, "posts": 0, "details": 0, "other": 0}
    detail_ids = 0
    for index in range(per_platform):
        account = world.find(platform, synthetic_handle(platform, index))
        # only posts since ``first`` matter (``since`` is never earlier); older ones are counted
        yesterday = list(world.iter_visible_posts(account, run_day - timedelta(days=1), first))
        today = list(world.iter_visible_posts(account, run_day, first))
        seen = yesterday
        since = min(seen[0].published_at, settle) if seen else first
        window = [p for p in today if p.published_at >= since]
        if platform in ("instagram", "telegram"):
            calls["counts"] += 1 if platform == "telegram" else 0
        if platform == "telegram" and not _has_preview(account, seed):
            calls["posts"] += 1
            continue
        if platform == "facebook":
            # the first page rides in the counts call (multiple-id read, nested posts edge)
            calls["posts"] += max(0, math.ceil(len(window) / page) - 1)
        elif platform in SERVER_FILTERED:
            calls["posts"] += max(1, math.ceil(len(window) / page))
        else:
            needed = len(window) + (1 if world.count_visible_posts(account, run_day) > len(window) else 0)
            calls["posts"] += max(1, math.ceil(needed / page))
        gone = {(p.year, p.index) for p in yesterday if p.published_at >= since} - {
            (p.year, p.index) for p in today}
        if platform == "youtube":
            detail_ids += len(window) + len(gone)
        if platform == "facebook":
            calls["other"] += 1 + (1 if any(p.is_video for p in window) else 0) + len(gone)
    batch = COUNT_BATCH[platform]
    if batch:
        calls["counts"] = math.ceil(per_platform / batch)
    calls["details"] = math.ceil(detail_ids / 50)
    calls["total"] = sum(calls.values())
    return calls


def run_daily_comparison(per_platform: int, *, seed: int = 7, run_day: date = RUN_DAY,
                         work_dir: Path | None = None, platforms=PLATFORMS,
                         latency_ms: float = LATENCY_MS) -> dict:
    """Backfill day ``run_day - 1`` (no latency), then run ``run_day`` with the sandbox's
    latency and real limits: ours with every platform side by side (as ``agency-pulse run``),
    then the baseline: one cron job per platform (side by side), each one account and one
    request after another.

    Returns ``platforms``: per platform ``ours`` / ``naive`` {calls, seconds, endpoints,
    accounts_ok}, ``concurrency``, ``fixed_seconds`` (state read and landing, measured);
    ``wall_seconds`` of our whole run, ``cpu_seconds`` of this process and
    ``sandbox_cpu_seconds`` of the sandbox's during it; ``naive_wall_seconds``.
    """
    from concurrent.futures import ThreadPoolExecutor

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
            AGENCY_PULSE_BACKFILL_DAYS="31",
            # real waits, as long as X's 15-minute window: a run over more accounts than a
            # window allows waits for the reset (the bound counts it) instead of failing them
            AGENCY_PULSE_WAIT_SCALE="1", AGENCY_PULSE_MAX_WAIT_SECONDS=str(X_WINDOW_SECONDS + 60)))
        registry = load_registry(registry_path)
        settings = Settings.from_environment()
        # the backfill only prepares the state: X's limits do not hold it up (the measured day
        # meets the real ones)
        sandbox.set_x_rate_limits(dict.fromkeys(X_RATE_LIMITED, 10**9))
        with ThreadPoolExecutor(max_workers=len(platforms)) as pool:
            list(pool.map(lambda p: extract.run_platform(p, run_day - timedelta(days=1),
                                                         registry=registry), platforms))
        promote_landing(home)
        sandbox.set_x_rate_limits({})
        sandbox.set_date(run_day)
        sandbox.set_latency(latency_ms)
        sandbox.reset_stats()

        fixed: dict[str, float] = dict.fromkeys(platforms, 0.0)
        seconds: dict[str, float] = {}
        summaries: dict[str, dict] = {}
        timed = {"build_state": extract.build_state, "_land": extract._land}

        def timing(name, function):
            def wrapper(platform, *args, **kwargs):
                started = time.perf_counter()
                try:
                    return function(platform, *args, **kwargs)
                finally:
                    fixed[platform] += time.perf_counter() - started
            return wrapper

        def ours(platform: str) -> None:
            started = time.perf_counter()
            summaries[platform] = extract.run_platform(platform, run_day, registry=registry)
            seconds[platform] = time.perf_counter() - started

        for name, function in timed.items():
            setattr(extract, name, timing(name, function))
        try:
            sandbox_cpu_started = sandbox.cpu_seconds()
            cpu_started, started = time.process_time(), time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(platforms)) as pool:
                list(pool.map(ours, platforms))
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu_started
        finally:
            for name, function in timed.items():
                setattr(extract, name, function)
        ours_stats = sandbox.stats()["platforms"]

        sandbox.reset_stats()
        naive_runs: dict[str, tuple] = {}

        def baseline(platform: str) -> None:
            conn = connections.resolve(platform)
            state = extract.build_state(platform, run_day, backfill_days=settings.backfill_days)
            client = extract.build_client(conn)
            client.concurrency = 1  # a cron job: one account, one request after another
            accounts = registry.accounts_for(platform)
            started = time.perf_counter()
            naive = extract_one_call_per_account(client, conn, accounts, run_day, state)
            naive_runs[platform] = (naive, time.perf_counter() - started)

        # one cron job per platform, side by side as ours; a cron job waits at most the
        # client's default 60 s (past X's 300 user lookups per 15 minutes its accounts fail
        # as transient instead of holding the job for windows on end)
        started = time.perf_counter()
        with patched_environ(AGENCY_PULSE_MAX_WAIT_SECONDS="60"), \
                ThreadPoolExecutor(max_workers=len(platforms)) as pool:
            list(pool.map(baseline, platforms))
        naive_wall = time.perf_counter() - started
        naive_all = sandbox.stats()["platforms"]

        results: dict[str, dict] = {}
        for platform in platforms:
            accounts = registry.accounts_for(platform)
            naive, naive_seconds = naive_runs[platform]
            naive_stats = naive_all.get(platform, {})
            stats = ours_stats.get(platform, {})
            results[platform] = {
                "accounts": len(accounts),
                "concurrency": settings.concurrency_for(platform),
                "fixed_seconds": fixed[platform],
                "ours": {"calls": stats.get("total", 0), "seconds": seconds[platform],
                         "endpoints": stats.get("endpoints", {}),
                         "accounts_ok": _ok_accounts(summaries[platform])},
                "naive": {"calls": naive_stats.get("total", 0), "seconds": naive_seconds,
                          "endpoints": naive_stats.get("endpoints", {}),
                          "accounts_ok": sum(1 for o in naive.outcomes.values() if o[0] == "ok")},
                "posts_per_account": _posts_per_account(home, platform, run_day, registry),
            }
        return {"platforms": results, "wall_seconds": wall, "cpu_seconds": cpu,
                "sandbox_cpu_seconds": sandbox_cpu, "naive_wall_seconds": naive_wall,
                "latency_ms": latency_ms, "seed": seed}


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
