"""The reader's side at scale: each UI page and the annual report, each in a fresh process.

A warehouse is built the way the pipeline builds it (a synthetic lake in the pipeline's
layout, then ``warehouse.build`` in a child process, which also publishes the readers'
file). Then every page is asked once in its own Python process
(``python -m bench.pages page HOME PATH`` / ``report HOME YEAR``): the time covers
building the app and answering the first request (opening the readers' file, reading
the marts, drawing the charts, rendering), not importing the modules (reported apart).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"leaderboard": "/", "agency page": "/agency/agency-000000", "quality page": "/quality"}
PAGE_TARGET_S = 2.0
REPORT_TARGET_S = 10.0


def run_child(kind: str, home: Path, target: str) -> dict:
    env = dict(os.environ, AGENCY_PULSE_HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, "-m", "bench.pages", kind, str(home), target],
                          env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"bench.pages {kind} {target} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(home: Path, year: int, runs: int = 1) -> dict[str, dict]:
    """name -> the fastest of `runs` child reports ({"seconds", "import_seconds", "bytes"})."""
    found = {}
    for name, path in PAGES.items():
        found[name] = min((run_child("page", home, path) for _ in range(runs)),
                          key=lambda r: r["seconds"])
    found["annual report"] = min((run_child("report", home, str(year)) for _ in range(runs)),
                                 key=lambda r: r["seconds"])
    return found


def main(argv: list[str]) -> int:
    kind, home, target = argv[:3]
    started = time.perf_counter()
    if kind == "page":
        from fastapi.testclient import TestClient

        from agency_pulse.report import charts  # noqa: F401  (the import is not the page's time)
        from agency_pulse.ui.app import create_app

        imported = time.perf_counter()
        response = TestClient(create_app(Path(home))).get(target)
        seconds = time.perf_counter() - imported
        if response.status_code != 200:
            raise SystemExit(f"{target}: HTTP {response.status_code}: {response.text[:300]}")
        size = len(response.content)
    elif kind == "report":
        from agency_pulse.report.writer import write_report

        imported = time.perf_counter()
        paths = write_report(year=int(target), home=Path(home))
        seconds = time.perf_counter() - imported
        size = paths.html.stat().st_size
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    # the machine's 1-minute load average when the page was answered: on a shared machine
    # it says how much of the time was waiting for a core
    print(json.dumps({"seconds": seconds, "import_seconds": imported - started, "bytes": size,
                      "load_average": os.getloadavg()[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
