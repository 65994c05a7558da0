"""Set-up of the Airflow home (pools) and `make airflow` (standalone on the sandbox).

    python -m agency_pulse.airflow_setup                 # create/update the pools
    python -m agency_pulse.airflow_setup --standalone    # + sandbox + `airflow standalone`
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from agency_pulse.orchestration import POOLS


def create_pools() -> None:
    """Create or update every pool the DAGs use (idempotent)."""
    from airflow.models.pool import Pool

    for name, (slots, description) in POOLS.items():
        Pool.create_or_update_pool(name, slots, description, include_deferred=False)
        print(f"pool {name}: {slots} slot(s)")


def start_sandbox(port: int) -> subprocess.Popen:
    """Start the sandbox in the background and wait until it answers."""
    process = subprocess.Popen([sys.executable, "-m", "agency_pulse_sandbox", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/_sandbox/config"
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"sandbox failed to start on port {port}") from None
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"sandbox did not answer on port {port}")


def standalone(sandbox_port: int) -> int:
    sandbox = start_sandbox(sandbox_port)
    venv_bin = str(Path(sys.executable).parent)
    # `airflow standalone` starts its components as `airflow ...` from PATH
    env = dict(os.environ, AGENCY_PULSE_SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}",
               PATH=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))
    print(f"sandbox on http://127.0.0.1:{sandbox_port}; Airflow UI on http://localhost:8080")
    airflow = shutil.which("airflow", path=venv_bin) or "airflow"
    try:
        return subprocess.call([airflow, "standalone"], env=env)
    except KeyboardInterrupt:
        return 0
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standalone", action="store_true")
    parser.add_argument("--sandbox-port", type=int, default=8099)
    args = parser.parse_args(argv)
    create_pools()
    return standalone(args.sandbox_port) if args.standalone else 0


if __name__ == "__main__":
    sys.exit(main())
