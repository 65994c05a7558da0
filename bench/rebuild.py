"""Full rebuild of the warehouse and its marts vs the same marts in pandas, in child processes.

Each side runs in its own Python process (``python -m bench.rebuild warehouse|pandas ...``)
that reports its wall time and its own peak resident memory (``ru_maxrss`` of RUSAGE_SELF,
which is what RUSAGE_CHILDREN reports to the parent for that one child) as JSON on stdout.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def run_child(mode: str, home: Path, registry: Path, output: Path | None = None) -> dict:
    """Run one side in a fresh interpreter; its JSON report (seconds, peak_rss_mib, ...)."""
    env = dict(os.environ, AGENCY_PULSE_HOME=str(home), AGENCY_PULSE_REGISTRY=str(registry))
    command = [sys.executable, "-m", "bench.rebuild", mode, str(home), str(registry)]
    if output is not None:
        command.append(str(output))
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise RuntimeError(f"bench.rebuild {mode} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str]) -> int:
    mode, home, registry = argv[:3]
    started = time.perf_counter()
    if mode == "warehouse":
        from agency_pulse import warehouse

        full = "--incremental" not in argv
        summary = warehouse.build(full=full) if _accepts_full(warehouse) else warehouse.build()
        report = {"marts": summary.get("marts"), "mode": summary.get("mode", "full")}
    elif mode == "pandas":
        from agency_pulse.registry import load_registry
        from bench.pandas_marts import compute_marts

        marts = compute_marts(Path(home) / "lake", load_registry(Path(registry)))
        report = {"marts": {name: len(frame) for name, frame in marts.items()}}
        seconds = time.perf_counter() - started
        output = Path(argv[3])
        output.mkdir(parents=True, exist_ok=True)
        for name, frame in marts.items():  # after the clock: saving is for the equality check
            frame.to_pickle(output / f"{name}.pkl")
        print(json.dumps({**report, "seconds": seconds, "peak_rss_mib": _peak_rss_mib()}))
        return 0
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps({**report, "seconds": time.perf_counter() - started,
                      "peak_rss_mib": _peak_rss_mib()}))
    return 0


def _accepts_full(warehouse_module) -> bool:
    import inspect

    return "full" in inspect.signature(warehouse_module.build).parameters


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
