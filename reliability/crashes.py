"""Scenario 3, crashes: an extract killed while writing Parquet, the warehouse build killed
with SIGKILL part-way. No half-written partition is ever read, the warehouse keeps its
previous complete build, and a rerun gives the marts of an uninterrupted run."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from agency_pulse import config, lake, pipeline, warehouse
from reliability.verdict import ScenarioResult
from reliability.workspace import (
    RUN_DAY,
    describe_digests,
    environment,
    mart_digests,
    open_workspace,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIG_PARTITION_ROWS = 600_000
CHILD_START_TIMEOUT = 120.0


def _spawn_child(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reliability.child", *args], cwd=PROJECT_ROOT,
                            env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def _wait_for(condition, process: subprocess.Popen, timeout: float) -> bool:
    """Poll ``condition`` every few milliseconds until true, the process ends, or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return condition()
        time.sleep(0.002)
    return False


def _kill(process: subprocess.Popen) -> tuple[int, str]:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    out, _ = process.communicate(timeout=30)
    return process.returncode, out


def extract_killed_mid_write() -> ScenarioResult:
    platforms = ["x", "telegram"]
    result = ScenarioResult(
        "crash_extract_write",
        injected=f"SIGKILL to a process writing a {BIG_PARTITION_ROWS:,}-row posts partition "
                 f"into landing (x, {RUN_DAY}) over an accepted day",
        expected="the half-written file is never read (landing list, validation, warehouse "
                 "glob); the warehouse builds; a rerun gives the uninterrupted run's marts")
    with open_workspace() as ws:
        first = ws.run_day(RUN_DAY, platforms)
        before = mart_digests(ws.home)
        directory = lake.partition_dir("posts", "x", RUN_DAY, ws.paths.landing)
        process = _spawn_child("write-posts", str(BIG_PARTITION_ROWS), RUN_DAY.isoformat())
        caught = _wait_for(lambda: bool(lake.temporary_files(directory)), process,
                           CHILD_START_TIMEOUT)
        code, _ = _kill(process)
        leftovers = sorted(p.name for p in lake.temporary_files(directory))
        complete = lake.partition_path(lake.LANDING, "posts", "x", RUN_DAY, root=ws.paths.lake)
        result.check("killed mid-write", not first.failed and before and caught
                     and code == -signal.SIGKILL and leftovers and not complete.exists(),
                     f"exit {code}; {len(leftovers)} temporary file(s) left, "
                     f"{'a' if complete.exists() else 'no'} part-all.parquet in landing"
                     + (f"; first run failed: {first.failure}" if first.failed else ""))
        listed = [p.name for p in pipeline.landed_files()]
        globbed = [f for f in glob.glob(lake.dataset_glob("posts")) if ".tmp" in f]
        outcomes = pipeline.validate_landing(day=RUN_DAY, raise_on_failure=False)
        build_error = None
        try:
            warehouse.build()
        except Exception as exc:  # reported by the check
            build_error = f"{type(exc).__name__}: {exc}"
        after_kill = mart_digests(ws.home)
        result.check("half-written file never read",
                     not [n for n in listed if ".tmp" in n] and not globbed and not outcomes
                     and build_error is None and after_kill == before,
                     f"{len(listed)} landing files listed, {len(globbed)} temporary files in "
                     f"the warehouse glob, {len(outcomes)} validated; build "
                     f"{'ok' if build_error is None else build_error}; marts "
                     f"{'unchanged' if after_kill == before else 'CHANGED'}")
        rerun = ws.run_day(RUN_DAY, platforms)
        again = mart_digests(ws.home)
        result.check("rerun equals uninterrupted run", not rerun.failed and again == before,
                     f"rerun {'ok' if not rerun.failed else str(rerun.failure)[:100]}; "
                     f"{describe_digests(again)}")
    return result


def _holds_file(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (Linux /proc)."""
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(path)
                   for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def warehouse_build_killed() -> ScenarioResult:
    day1, day2 = RUN_DAY - timedelta(days=1), RUN_DAY
    kill_points = (0.15, 0.5, 0.85)
    result = ScenarioResult(
        "crash_warehouse_build",
        injected="SIGKILL to `warehouse.build()` in a child process at 15%, 50% and 85% of an "
                 f"uninterrupted build's duration after it opened the database ({day2} landed "
                 f"over a built {day1})",
        expected="each time the warehouse opens read-only with the previous complete build's "
                 "marts; a rerun gives the same marts as an uninterrupted build")
    with open_workspace(day=day1) as ws:
        ws.run_day(day1)
        previous = mart_digests(ws.home)
        ws.sandbox.set(date=day2)
        for platform in config.PLATFORMS:
            try:
                pipeline.extract_platform(platform, day2)
            except Exception:  # noqa: S110 - a failed platform is visible in the marts compare
                pass
        pipeline.validate_landing(day=day2, raise_on_failure=False)
        reference_home = ws.parent / "reference"
        shutil.copytree(ws.home, reference_home)
        with environment({"AGENCY_PULSE_HOME": str(reference_home)}):
            started = time.monotonic()
            warehouse.build()
            build_seconds = time.monotonic() - started
        reference = mart_digests(reference_home)
        database = ws.paths.warehouse.resolve()
        kills = []
        for point in kill_points:
            process = _spawn_child("build")
            opened = _wait_for(lambda p=process: _holds_file(p.pid, database), process,
                               CHILD_START_TIMEOUT)
            time.sleep(build_seconds * point)
            code, out = _kill(process)
            finished = '"ok": true' in out
            state = mart_digests(ws.home)
            kills.append((point, opened, code, finished, state == previous))
        consistent = all(same for *_, finished, same in kills if not finished)
        interrupted = sum(1 for _, opened, code, finished, _ in kills
                          if opened and code == -signal.SIGKILL and not finished)
        result.check("warehouse keeps the previous build", interrupted >= 2 and consistent,
                     f"uninterrupted build {build_seconds:.2f}s; {interrupted}/{len(kills)} "
                     f"builds killed before committing, warehouse "
                     f"{'= previous build' if consistent else 'INCONSISTENT'} after each: "
                     + ", ".join(f"{int(p * 100)}%: {'killed' if not f else 'finished first'}"
                                 f"{'' if s else ' (marts differ)'}" for p, _, _, f, s in kills))
        warehouse.build()
        rebuilt = mart_digests(ws.home)
        result.check("rerun equals uninterrupted build", rebuilt == reference and rebuilt != previous,
                     f"{describe_digests(rebuilt)}")
    return result
