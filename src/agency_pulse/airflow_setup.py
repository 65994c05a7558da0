"""Set-up of the Airflow home (pools) and `make airflow` (standalone on the sandbox).

    python -m agency_pulse.airflow_setup                 # create/update the pools, the dbt manifest
    python -m agency_pulse.airflow_setup --standalone    # + sandbox + `airflow standalone`
        [--airflow-port 8080] [--sandbox-port 8099]      # (`make airflow AIRFLOW_PORT=...`)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
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


def write_dbt_manifest() -> None:
    """The dbt project's manifest, from which the marts DAG renders one task per model
    (parsing the DAG file never runs dbt); rewritten only when the project changed."""
    from agency_pulse import marts_dag

    if marts_dag.refresh_manifest():
        print(f"dbt manifest written: {marts_dag.MANIFEST}")


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


DEFAULT_AIRFLOW_PORT = 8080
DEFAULT_SANDBOX_PORT = 8099
HELD_DAGS_FILE = "agency_pulse_held_dags.json"
STOP_GRACE_SECONDS = 7.0


def standalone_ports(airflow_port: int) -> dict[str, int]:
    """Every port `airflow standalone` listens on, derived from the UI port so that two
    checkouts with different AIRFLOW_PORTs (at least 3 apart) never share one: the API
    server on airflow_port, the scheduler's log server on +1, the triggerer's on +2."""
    if not 1 <= airflow_port <= 65533:
        raise ValueError(f"AIRFLOW_PORT must be between 1 and 65533, not {airflow_port}")
    return {"api": airflow_port, "worker_log": airflow_port + 1, "trigger_log": airflow_port + 2}


def standalone_environment(base: dict[str, str], airflow_port: int, sandbox_port: int,
                           venv_bin: str) -> dict[str, str]:
    """The environment `airflow standalone` runs with: its ports, the Execution API URL the
    tasks call, the sandbox's URL, the venv first on PATH (standalone starts its components
    as `airflow ...`), and new DAGs paused until the API server answers (start())."""
    ports = standalone_ports(airflow_port)
    if sandbox_port in ports.values():
        raise ValueError(f"SANDBOX_PORT {sandbox_port} collides with Airflow's ports "
                         f"{sorted(ports.values())}")
    env = dict(base)
    env.update({
        "AIRFLOW__API__PORT": str(ports["api"]),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{ports['api']}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["worker_log"]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["trigger_log"]),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AGENCY_PULSE_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
        "PATH": os.pathsep.join([venv_bin, base.get("PATH", "")]),
    })
    return env


def _dag_states() -> dict[str, bool]:
    """dag_id -> is_paused for every DAG in the metadata database."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return {dag_id: paused for dag_id, paused in
                session.query(DagModel.dag_id, DagModel.is_paused).all()}


def _set_paused(dag_ids: set[str], paused: bool) -> None:
    if not dag_ids:
        return
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(DagModel).filter(DagModel.dag_id.in_(dag_ids)).update(
            {DagModel.is_paused: paused}, synchronize_session=False)


def hold_dags(airflow_home: Path) -> tuple[set[str], set[str]]:
    """Pause the active DAGs until the API server answers, so that no task starts before
    the Execution API can take it (and fails into retries). Returns (held, known): the DAGs
    to unpause later and every DAG that exists now. The held ids are kept in a file, so a
    start that was killed before release_dags() still unpauses them next time."""
    record = airflow_home / HELD_DAGS_FILE
    held = set(json.loads(record.read_text(encoding="utf-8"))) if record.exists() else set()
    states = _dag_states()
    held |= {dag_id for dag_id, paused in states.items() if not paused}
    held &= set(states)
    record.write_text(json.dumps(sorted(held)), encoding="utf-8")
    _set_paused(held, True)
    return held, set(states)


def release_dags(airflow_home: Path, held: set[str]) -> None:
    _set_paused(held, False)
    (airflow_home / HELD_DAGS_FILE).unlink(missing_ok=True)


def unpause_new_dags(known: set[str]) -> set[str]:
    """Unpause DAGs that appeared since `known` (created paused); add them to `known`."""
    new = {dag_id for dag_id in _dag_states() if dag_id not in known}
    _set_paused(new, False)
    known |= new
    return new


def wait_for_api(port: int, process: subprocess.Popen, timeout: float = 300) -> None:
    """Wait until the API server answers /api/v2/version (SystemExit if it never does)."""
    url = f"http://127.0.0.1:{port}/api/v2/version"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"airflow standalone exited ({process.returncode}) before the "
                             f"API server answered on port {port}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the API server did not answer on port {port} within {timeout:.0f} s")


def ui_login(airflow_home: Path) -> tuple[str, str] | None:
    """The user and password `airflow standalone` generated for the UI, if it wrote them."""
    configured = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    path = Path(configured) if configured else \
        airflow_home / "simple_auth_manager_passwords.json.generated"
    try:
        users = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return next(iter(users.items()), None)


def stop_process_group(process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the process's whole group (standalone and every component it started), then
    SIGKILL what is left after `grace` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Components can outlive standalone itself: clear the group either way.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=2)


def standalone(sandbox_port: int, airflow_port: int = DEFAULT_AIRFLOW_PORT) -> int:
    """Run the sandbox and `airflow standalone` until Ctrl-C (or until standalone exits);
    print the UI address and login once the API server answers; stop everything it started
    within 10 seconds."""
    venv_bin = str(Path(sys.executable).parent)
    env = standalone_environment(dict(os.environ), airflow_port, sandbox_port, venv_bin)
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow"))
    log_path = airflow_home / "standalone.log"
    airflow = shutil.which("airflow", path=venv_bin) or "airflow"
    held, known = hold_dags(airflow_home)
    sandbox = start_sandbox(sandbox_port)
    process = None
    try:
        with open(log_path, "ab") as log:
            # Its own process group, so that stopping it reaches every component it started.
            process = subprocess.Popen([airflow, "standalone"], env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        print(f"starting Airflow (log: {log_path}) ...", flush=True)
        wait_for_api(airflow_port, process)
        release_dags(airflow_home, held)
        login = ui_login(airflow_home)
        print(f"sandbox on http://127.0.0.1:{sandbox_port}")
        print(f"Airflow UI: http://localhost:{airflow_port}   "
              + (f"login: {login[0]} / {login[1]}" if login else
                 "login: see the simple auth manager's passwords file")
              + "   (Ctrl-C stops everything)", flush=True)
        while process.poll() is None:
            unpause_new_dags(known)
            time.sleep(2)
        print(f"airflow standalone exited ({process.returncode}); see {log_path}", file=sys.stderr)
        return process.returncode or 1
    except KeyboardInterrupt:
        print("\nstopping Airflow and the sandbox ...", flush=True)
        return 0
    finally:
        if process is not None:
            stop_process_group(process)
        sandbox.terminate()
        try:
            sandbox.wait(timeout=2)
        except subprocess.TimeoutExpired:
            sandbox.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standalone", action="store_true")
    parser.add_argument("--sandbox-port", type=int, default=DEFAULT_SANDBOX_PORT)
    parser.add_argument("--airflow-port", type=int, default=DEFAULT_AIRFLOW_PORT)
    args = parser.parse_args(argv)
    if args.standalone:
        try:
            standalone_environment({}, args.airflow_port, args.sandbox_port, "")
        except ValueError as error:
            parser.error(str(error))
    create_pools()
    write_dbt_manifest()
    return standalone(args.sandbox_port, args.airflow_port) if args.standalone else 0


if __name__ == "__main__":
    sys.exit(main())
