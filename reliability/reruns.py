"""Scenario 4, reruns and overlaps: the same day three times, two days at once, a manual run
racing the scheduled one. Marts must equal a single clean run's, with no DuckDB lock error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from reliability.verdict import ScenarioResult
from reliability.workspace import RUN_DAY, SEED, describe_digests, open_workspace

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHILD_TIMEOUT_SECONDS = 600


def same_day_three_times() -> ScenarioResult:
    result = ScenarioResult(
        "reruns_same_day", injected=f"run_daily({RUN_DAY}) three times in one home",
        expected="every run succeeds; marts checksums identical after runs 1, 2 and 3; "
                 "one snapshot per account and day")
    with open_workspace() as ws:
        runs, taken = [], []
        for n in (1, 2, 3):
            runs.append(ws.run_day(RUN_DAY, run_id=f"rerun-{n}"))
            taken.append(ws.mart_digests())
        accounts = ws.query("select count(*) from core.accounts")[0][0]
        snapshots, distinct = ws.query(
            "select count(*), count(distinct (account_id, snapshot_date)) "
            "from staging.lake_account_snapshots")[0]
        log_rows = ws.query("select count(*) from quality.extract_log")[0][0]
    failures = [str(r.failure) for r in runs if r.failed]
    result.check("runs succeed", not failures,
                 f"{3 - len(failures)}/3 runs succeeded"
                 + (f": {failures[0][:200]}" if failures else ""))
    identical = bool(taken[0]) and all(d == taken[0] for d in taken)
    result.check("marts identical", identical,
                 f"run 1: {describe_digests(taken[0])}"
                 + ("" if identical else f"; run 3: {describe_digests(taken[2])}"))
    result.check("no duplicate snapshots", snapshots == distinct == accounts,
                 f"{snapshots} snapshots for {accounts} accounts on one day")
    result.check("one extract_log row per account", log_rows == accounts,
                 f"{log_rows} extract_log rows for {accounts} accounts")
    return result


def _spawn(command: list[str], env_overrides: dict[str, str]) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(env_overrides)
    return subprocess.Popen([sys.executable, "-m", "reliability.child", *command],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=CHILD_TIMEOUT_SECONDS)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    outcome = json.loads(lines[-1]) if lines else {"ok": False, "error": "no answer"}
    outcome["returncode"] = process.returncode
    outcome["stderr"] = err
    return outcome


def _lock_errors(outcomes: list[dict]) -> list[str]:
    return [o["error"] for o in outcomes
            if o.get("error") and ("lock" in o["error"].lower())] + \
           [line for o in outcomes for line in o["stderr"].splitlines()
            if "Could not set lock" in line]


def overlapping_runs() -> ScenarioResult:
    first, second = RUN_DAY - timedelta(days=1), RUN_DAY
    result = ScenarioResult(
        "reruns_overlapping",
        injected=f"two processes backfilling {first} and {second} at once; two processes "
                 f"running {second} at once (manual over scheduled)",
        expected="both processes succeed, no DuckDB lock error; marts checksums equal to "
                 "clean sequential runs")
    from agency_pulse_sandbox import run_sandbox

    with open_workspace(day=first) as ws:
        ws.run_day(first)
        ws.run_day(second)
        after_both = ws.mart_digests()
    with open_workspace(day=second) as ws:
        ws.run_day(second)
        second_alone = ws.mart_digests()

    # Two days backfilled at once, each process with a sandbox serving its own day.
    with open_workspace(day=first) as ws, run_sandbox(date=second, seed=SEED,
                                                      registry=ws.registry) as second_sandbox:
        processes = [_spawn(["run-daily", first.isoformat()], {}),
                     _spawn(["run-daily", second.isoformat()],
                            {"AGENCY_PULSE_SANDBOX_URL": second_sandbox.url})]
        outcomes = [_finish(p) for p in processes]
        backfill = ws.mart_digests()
    ok = all(o["ok"] for o in outcomes)
    result.check("backfill processes succeed", ok,
                 "; ".join(f"{d}: {'ok' if o['ok'] else o['error'][:160]}"
                           for d, o in zip((first, second), outcomes, strict=True)))
    locks = _lock_errors(outcomes)
    backfill_locks = len(locks)
    result.check("backfill equals sequential runs", backfill == after_both,
                 f"concurrent: {describe_digests(backfill)}"
                 + ("" if backfill == after_both else f"; sequential: {describe_digests(after_both)}"))

    # A manual run of a day overlapping the scheduled run of the same day.
    with open_workspace(day=second) as ws:
        processes = [_spawn(["run-daily", second.isoformat()], {}) for _ in range(2)]
        outcomes = [_finish(p) for p in processes]
        overlap = ws.mart_digests()
    locks += _lock_errors(outcomes)
    result.check("overlapping processes succeed", all(o["ok"] for o in outcomes),
                 "; ".join("ok" if o["ok"] else o["error"][:160] for o in outcomes))
    result.check("overlap equals one clean run", overlap == second_alone,
                 f"overlapping: {describe_digests(overlap)}"
                 + ("" if overlap == second_alone else f"; clean: {describe_digests(second_alone)}"))
    result.check("no DuckDB lock error", not locks,
                 f"{len(locks)} lock errors ({backfill_locks} in the backfill)"
                 + (f": {locks[0][:160]}" if locks else ""))
    return result
