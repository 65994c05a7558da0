"""One-shot set-up of a distributed Airflow for Agency Pulse (docker compose's airflow-init).

Idempotent, so it runs on every `docker compose up`:
1. migrates the metadata database (`airflow db migrate`);
2. creates the pools the DAGs use (`agency_pulse.airflow_setup.create_pools`);
3. when the sandbox is the default source, creates an Airflow connection
   `agency_pulse_<platform>` pointing at the sandbox for every platform that has none
   (a real connection, in the database or as AIRFLOW_CONN_*, is never touched);
4. writes the UI login (simple auth manager) from AIRFLOW_ADMIN_USER / AIRFLOW_ADMIN_PASSWORD.

The distributed test runs this same file against its private PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def migrate_database() -> None:
    airflow = shutil.which("airflow", path=str(Path(sys.executable).parent)) or "airflow"
    subprocess.run([airflow, "db", "migrate"], check=True, stdout=subprocess.DEVNULL)
    print("metadata database migrated")


def create_sandbox_connections() -> list[str]:
    """Create the missing `agency_pulse_<platform>` connections to the sandbox; return their ids."""
    if os.environ.get("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox").strip().lower() != "sandbox":
        return []
    sandbox_url = os.environ.get("AGENCY_PULSE_SANDBOX_URL", "").strip().rstrip("/")
    if not sandbox_url:
        return []
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    from agency_pulse import connections
    from agency_pulse.config import PLATFORMS

    created = []
    with create_session() as session:
        for platform in PLATFORMS:
            conn_id = connections.conn_id_for(platform)
            # Outside a task, resolve() gives the environment's connection, else the sandbox.
            sandbox = connections.resolve(platform)
            if sandbox is None or sandbox.source != "sandbox":
                continue  # a real connection from the environment wins
            if session.query(Connection).filter(Connection.conn_id == conn_id).first():
                continue
            session.add(Connection(conn_id=conn_id, conn_type="http", host=sandbox.base_url,
                                   password=sandbox.token, extra=json.dumps(sandbox.extra),
                                   description=f"Agency Pulse sandbox for {platform}"))
            created.append(conn_id)
    for conn_id in created:
        print(f"connection {conn_id}: sandbox at {sandbox_url}")
    return created


def write_ui_login() -> Path | None:
    """Write the simple auth manager's passwords file (0600) from the environment."""
    user = os.environ.get("AIRFLOW_ADMIN_USER", "admin")
    password = os.environ.get("AIRFLOW_ADMIN_PASSWORD")
    target = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    if not password or not target:
        return None
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump({user: password}, file)
    print(f"UI login written for user {user}")
    return path


def main() -> int:
    migrate_database()
    from agency_pulse.airflow_setup import create_pools

    create_pools()
    create_sandbox_connections()
    write_ui_login()
    return 0


if __name__ == "__main__":
    sys.exit(main())
