"""Scenario 8, soak: thirty consecutive daily runs in one process, with faults on.

Row counts must grow by exactly one snapshot and one extract_log row per active account a
day, posts never shrink, and neither open files nor resident memory keep growing.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

from agency_pulse import config
from reliability.faults import CLIENT_READ_TIMEOUT_SECONDS, TRANSIENT_KINDS, short_read_timeouts
from reliability.verdict import ScenarioResult
from reliability.workspace import open_workspace

SOAK_DAYS = 30
FIRST_DAY = date(2026, 10, 1)
SOAK_RATE = 0.025  # per kind: 10% of calls faulted
WARM_UP_DAYS = 5   # caches fill during the first days; growth is measured after them
MAX_FD_GROWTH = 3
MAX_RSS_GROWTH_MB = 64.0


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def soak(days: int = SOAK_DAYS) -> ScenarioResult:
    faults = {"timeout_seconds": 1.5,
              **{p: dict.fromkeys(TRANSIENT_KINDS, SOAK_RATE) for p in config.PLATFORMS}}
    result = ScenarioResult(
        "soak",
        injected=f"{days} consecutive daily runs ({FIRST_DAY} on) in one process, 10% of calls "
                 "throttled / 5xx / timing out / cut short",
        expected="every day succeeds; snapshots and extract_log grow by exactly the active "
                 "accounts each day; posts never shrink; open files and RSS flat after "
                 f"{WARM_UP_DAYS} warm-up days (<= {MAX_FD_GROWTH} fds, <= {MAX_RSS_GROWTH_MB:.0f} MB)")
    from agency_pulse.registry import load_registry

    growth_errors, failures = [], []
    samples: list[tuple[int, float]] = []
    previous = None
    with open_workspace(day=FIRST_DAY, faults=faults,
                        extra_env={"AGENCY_PULSE_MAX_WAIT_SECONDS": "1000"}) as ws, \
            short_read_timeouts(CLIENT_READ_TIMEOUT_SECONDS):
        registry = load_registry(ws.registry)
        for offset in range(days):
            day = FIRST_DAY + timedelta(days=offset)
            run = ws.run_day(day, faults=faults)
            if run.failed:
                failures.append(f"{day}: {str(run.failure)[:120]}")
            counts = ws.query(
                "select (select count(*) from staging.lake_account_snapshots), "
                "(select count(*) from quality.extract_log), "
                "(select count(*) from staging.lake_posts)")[0]
            active = sum(1 for a in registry.accounts if a.active_on(day))
            if previous is not None:
                grew = (counts[0] - previous[0], counts[1] - previous[1])
                if grew != (active, active) or counts[2] < previous[2]:
                    growth_errors.append(f"{day}: snapshots +{grew[0]}, extract_log +{grew[1]} "
                                         f"for {active} accounts, posts {previous[2]}->{counts[2]}")
            previous = counts
            samples.append((open_files(), resident_mb()))
        final = previous
    result.check("every day succeeds", not failures,
                 f"{days - len(failures)}/{days} days without failure"
                 + (f"; {failures[:2]}" if failures else ""))
    result.check("rows grow exactly", not growth_errors,
                 f"after {days} days: {final[0]} snapshots, {final[1]} extract_log rows, "
                 f"{final[2]} posts" + (f"; {growth_errors[:2]}" if growth_errors else
                                        "; every day +1 snapshot and +1 log row per account"))
    base = samples[min(WARM_UP_DAYS, len(samples)) - 1]
    top_fds = max(s[0] for s in samples[WARM_UP_DAYS - 1:]) if samples else 0
    top_rss = max(s[1] for s in samples[WARM_UP_DAYS - 1:]) if samples else 0.0
    result.check("no fd or memory growth",
                 top_fds - base[0] <= MAX_FD_GROWTH and top_rss - base[1] <= MAX_RSS_GROWTH_MB,
                 f"open files {samples[0][0]} (day 1), {base[0]} (day {WARM_UP_DAYS}), max "
                 f"{top_fds} after; RSS {samples[0][1]:.0f} MB, {base[1]:.0f} MB, max "
                 f"{top_rss:.0f} MB after (+{top_rss - base[1]:.0f} MB)")
    return result
