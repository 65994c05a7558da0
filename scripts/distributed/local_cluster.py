"""Run docker-compose.yaml's Airflow services as local processes, without Docker.

Reads the compose file itself (environment, commands, volumes), so a local cluster and the
containers cannot drift apart. What differs is only what a single host forces:

- each service's host name (``postgres:5432``, ``redis:6379``, ``airflow-apiserver:8080``,
  ``sandbox:8099``) becomes ``127.0.0.1:<free port>``;
- each named volume becomes a folder under the cluster's work directory, and the image's
  project path ``/opt/agency-pulse`` becomes this checkout;
- ports two processes would share on one host (log servers, the scheduler's health check)
  get free ones, and the api-server listens on loopback only.

PostgreSQL and Redis are private instances started in the work directory on free ports when
their Debian binaries are present, else the machine's own servers (a database of our own).

    python scripts/distributed/local_cluster.py --workdir /tmp/pulse-cluster

starts everything and runs until Ctrl-C; tests/distributed/test_celery_cluster.py uses the
same classes.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yaml"
IMAGE_PROJECT_PATH = "/opt/agency-pulse"
IMAGE_AIRFLOW_HOME = "/opt/airflow"

# Services that run Airflow and the container port each listens on (None: no listener).
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-worker", "airflow-worker-warehouse", "airflow-triggerer")
SERVICE_PORTS = {"postgres": 5432, "redis": 6379, "airflow-apiserver": 8080, "sandbox": 8099}

_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class ComposeError(ValueError):
    """The compose file or its variables are not usable."""


# --------------------------------------------------------------------------- compose file

def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Substitute ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``, ``$$``
    the way docker compose does."""
    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        current = variables.get(name)
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if current is not None else arg
        if op in (":?", "?") and (current is None or (op == ":?" and not current)):
            raise ComposeError(f"variable {name} is required: {arg}")
        return current or ""
    return _VARIABLE.sub(substitute, value)


def load_compose(path: Path = COMPOSE_FILE) -> dict:
    """The compose document with YAML anchors and merge keys resolved (not interpolated)."""
    with open(path, encoding="utf-8") as file:
        return yaml.safe_load(file)


@dataclass(frozen=True)
class ServiceSpec:
    """One compose service as a process needs it: argv, environment, volume mounts."""

    name: str
    command: list[str]
    environment: dict[str, str]
    volumes: dict[str, str]  # named volume -> container path


def service_specs(compose: dict, variables: Mapping[str, str]) -> dict[str, ServiceSpec]:
    """Every service of the compose file, interpolated with ``variables``."""
    specs = {}
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if isinstance(command, str):
            command = command.split()
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        volumes = {}
        for mount in service.get("volumes") or []:
            source, target = str(mount).split(":")[:2]
            volumes[source] = target
        specs[name] = ServiceSpec(
            name=name,
            command=[interpolate(str(part), variables) for part in command],
            environment={key: interpolate("" if value is None else str(value), variables)
                         for key, value in environment.items()},
            volumes=volumes)
    return specs


# --------------------------------------------------------------------------- host mapping

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None,
                  what: str = "service") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before listening")
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


@dataclass
class HostLayout:
    """Where the compose file's hosts and volumes are on this machine."""

    workdir: Path
    ports: dict[str, int] = field(default_factory=dict)  # service -> local port

    def volume_dir(self, volume: str) -> Path:
        return self.workdir / "volumes" / volume

    def localize(self, value: str, mounts: Mapping[str, str]) -> str:
        """Rewrite service host names to 127.0.0.1 ports and container paths to local ones."""
        for service, container_port in SERVICE_PORTS.items():
            if service in self.ports:
                value = value.replace(f"{service}:{container_port}",
                                      f"127.0.0.1:{self.ports[service]}")
        # Longest container path first, so a mount inside the project wins over the project.
        paths = {target: str(self.volume_dir(volume)) for volume, target in mounts.items()}
        paths.setdefault(IMAGE_PROJECT_PATH, str(PROJECT_ROOT))
        paths.setdefault(IMAGE_AIRFLOW_HOME, str(self.workdir / "airflow-home"))
        for target in sorted(paths, key=len, reverse=True):
            value = re.sub(re.escape(target) + r"(?=/|$)", lambda _m, t=target: paths[t], value)
        return value

    def environment(self, spec: ServiceSpec) -> dict[str, str]:
        """The service's environment for a local process (volumes created)."""
        for volume in spec.volumes:
            self.volume_dir(volume).mkdir(parents=True, exist_ok=True)
        env = {key: self.localize(value, spec.volumes) for key, value in spec.environment.items()}
        env["AIRFLOW_HOME"] = self.localize(IMAGE_AIRFLOW_HOME, spec.volumes)
        return env


def clean_base_environment() -> dict[str, str]:
    """This process's environment without any Airflow or Agency Pulse setting of its own."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW", "AGENCY_PULSE_", "PYTEST_"))}


# --------------------------------------------------------------------------- processes

@dataclass
class ManagedProcess:
    name: str
    process: subprocess.Popen
    log_path: Path

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # Children (Celery pool, task runners) may outlive the leader: kill the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") \
            if self.log_path.exists() else ""


class ProcessGroup:
    """Processes started in their own sessions, stopped in reverse order."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, ManagedProcess] = {}
        self.cleanup_paths: list[Path] = []  # temporary folders removed after the processes

    def start(self, name: str, argv: list[str], env: Mapping[str, str],
              cwd: Path | None = None, user: str | None = None) -> ManagedProcess:
        log_path = self.log_dir / f"{name}.log"
        log_file = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        try:
            process = subprocess.Popen(argv, env=dict(env), cwd=cwd or PROJECT_ROOT,
                                       stdout=log_file, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       user=user)
        finally:
            log_file.close()
        managed = ManagedProcess(name, process, log_path)
        self.processes[name] = managed
        return managed

    def check_alive(self) -> None:
        dead = {name: p.process.returncode for name, p in self.processes.items()
                if p.process.poll() is not None}
        if dead:
            raise RuntimeError(f"processes exited early: {dead}")

    def stop_all(self) -> None:
        for managed in reversed(list(self.processes.values())):
            managed.stop()


# --------------------------------------------------------------------------- PostgreSQL, Redis

def postgres_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class Database:
    """A PostgreSQL database this cluster owns, and how to drop it if it lives on a shared server."""

    port: int
    user: str
    password: str
    name: str
    shared_server: bool


def start_postgres(group: ProcessGroup, user: str, password: str, name: str) -> Database:
    """A private PostgreSQL cluster on a free port (initdb in a temporary folder); without the
    binaries, a fresh database on the machine's server at 127.0.0.1:5432."""
    binaries = postgres_binaries()
    if binaries is None:
        return _database_on_machine_server(user, password, name)
    port = free_port()
    run_as = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    data_root = Path(tempfile.mkdtemp(prefix="agency-pulse-pg-"))
    if run_as:
        shutil.chown(data_root, run_as)
    data_dir = data_root / "data"
    password_file = data_root / "password"
    password_file.write_text(password + "\n", encoding="utf-8")
    if run_as:
        shutil.chown(password_file, run_as)
    subprocess.run([str(binaries / "initdb"), "-D", str(data_dir), "-U", user, "-A", "md5",
                    "--pwfile", str(password_file), "-E", "UTF8", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, user=run_as)
    managed = group.start("postgres", [
        str(binaries / "postgres"), "-D", str(data_dir), "-p", str(port), "-k", str(data_root),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300",
        "-c", "synchronous_commit=off", "-c", "full_page_writes=off"], os.environ, cwd=data_root,
        user=run_as)
    group.cleanup_paths.append(data_root)
    wait_for_port(port, 60, managed.process, "postgres")
    _wait_for_postgres(port, user, password)
    _create_database(port, user, password, name)
    return Database(port, user, password, name, shared_server=False)


def _database_on_machine_server(user: str, password: str, name: str) -> Database:
    import psycopg2

    # Trust authentication on the machine's server: connect as postgres, create our role.
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("select 1 from pg_roles where rolname = %s", (user,))
        if cursor.fetchone() is None:
            cursor.execute(f'create role "{user}" login password %s', (password,))
        cursor.execute(f'create database "{name}" owner "{user}"')
    admin.close()
    return Database(5432, user, password, name, shared_server=True)


def drop_database(database: Database) -> None:
    if not database.shared_server:
        return
    import psycopg2

    admin = psycopg2.connect(host="127.0.0.1", port=database.port, user="postgres",
                             dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'drop database if exists "{database.name}" with (force)')
    admin.close()


def _wait_for_postgres(port: int, user: str, password: str, timeout: float = 60) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(host="127.0.0.1", port=port, user=user, password=password,
                             dbname="postgres").close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _create_database(port: int, user: str, password: str, name: str) -> None:
    import psycopg2

    con = psycopg2.connect(host="127.0.0.1", port=port, user=user, password=password,
                           dbname="postgres")
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    con.close()


def start_redis(group: ProcessGroup, password: str) -> int:
    """A private Redis on a free port (no persistence); without the binary, the machine's."""
    binary = shutil.which("redis-server")
    if binary is None:
        return 6379
    port = free_port()
    managed = group.start("redis", [binary, "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--daemonize", "no",
                                    "--requirepass", password], os.environ)
    wait_for_port(port, 30, managed.process, "redis")
    return port


# --------------------------------------------------------------------------- the cluster

@dataclass
class LocalCluster:
    """docker-compose.yaml's services as local processes (see the module docstring)."""

    workdir: Path
    variables: dict[str, str]
    extra_environment: dict[str, str] = field(default_factory=dict)
    sandbox_argv: list[str] | None = None  # extra arguments for the sandbox service
    layout: HostLayout = field(init=False)
    group: ProcessGroup = field(init=False)
    specs: dict[str, ServiceSpec] = field(init=False)
    database: Database | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.layout = HostLayout(self.workdir)
        self.group = ProcessGroup(self.workdir / "process-logs")
        self.specs = service_specs(load_compose(), self.variables)

    @staticmethod
    def generated_secrets() -> dict[str, str]:
        """Fresh values for every secret .env.example asks for."""
        from cryptography.fernet import Fernet

        token = uuid.uuid4().hex
        return {"POSTGRES_USER": "airflow", "POSTGRES_PASSWORD": f"pg-{token[:12]}",
                "POSTGRES_DB": "airflow", "REDIS_PASSWORD": f"redis-{token[12:24]}",
                "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW_JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
                "AIRFLOW_API_SECRET_KEY": uuid.uuid4().hex,
                "AIRFLOW_ADMIN_USER": "admin", "AIRFLOW_ADMIN_PASSWORD": f"ui-{token[24:]}"}

    def service_environment(self, name: str) -> dict[str, str]:
        env = clean_base_environment()
        env.update(self.layout.environment(self.specs[name]))
        env.update(self.extra_environment)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def start_backends(self) -> None:
        """PostgreSQL and Redis, then the sandbox; records their local ports."""
        self.database = start_postgres(self.group, self.variables["POSTGRES_USER"],
                                       self.variables["POSTGRES_PASSWORD"],
                                       self.variables["POSTGRES_DB"])
        self.layout.ports["postgres"] = self.database.port
        self.layout.ports["redis"] = start_redis(self.group, self.variables["REDIS_PASSWORD"])
        self.layout.ports["airflow-apiserver"] = free_port()
        self.layout.ports["sandbox"] = free_port()

    def start_sandbox(self) -> ManagedProcess:
        spec = self.specs["sandbox"]
        argv = [sys.executable if part == "python" else part for part in spec.command]
        argv[argv.index("--port") + 1] = str(self.layout.ports["sandbox"])
        argv[argv.index("--host") + 1] = "127.0.0.1"  # a container listens on all interfaces
        argv += self.sandbox_argv or []
        managed = self.group.start("sandbox", argv, self.service_environment("sandbox"))
        wait_for_port(self.layout.ports["sandbox"], 120, managed.process, "sandbox")
        return managed

    def run_init(self) -> None:
        """The airflow-init service: migrate, pools, sandbox connections, UI login."""
        spec = self.specs["airflow-init"]
        argv = [sys.executable if part == "python" else self.layout.localize(part, spec.volumes)
                for part in spec.command]
        completed = subprocess.run(argv, env=self.service_environment("airflow-init"),
                                   cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
        (self.group.log_dir / "airflow-init.log").write_text(
            completed.stdout + completed.stderr, encoding="utf-8")
        if completed.returncode != 0:
            raise RuntimeError(f"airflow-init failed ({completed.returncode}):\n"
                               f"{completed.stderr[-3000:]}")

    def start_airflow(self, services: tuple[str, ...] = AIRFLOW_SERVICES) -> None:
        """Start each Airflow service with its compose command and environment."""
        airflow = str(Path(sys.executable).parent / "airflow")
        for name in services:
            spec = self.specs[name]
            argv = [airflow if part == "airflow" else part for part in spec.command]
            env = self.service_environment(name)
            # One host: listeners the containers each have to themselves need their own ports.
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
            env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(free_port())
            env["AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT"] = str(free_port())
            if name == "airflow-apiserver":
                argv[argv.index("--port") + 1] = str(self.layout.ports["airflow-apiserver"])
                argv += ["--host", "127.0.0.1"]
            managed = self.group.start(name, argv, env)
            if name == "airflow-apiserver":
                wait_for_port(self.layout.ports["airflow-apiserver"], 120, managed.process,
                              "airflow api-server")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.ports['airflow-apiserver']}"

    def volume(self, name: str) -> Path:
        return self.layout.volume_dir(name)

    def stop(self) -> None:
        self.group.stop_all()
        if self.database is not None:
            with contextlib.suppress(Exception):
                drop_database(self.database)
        for path in self.group.cleanup_paths:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def running_cluster(workdir: Path, *, variables: Mapping[str, str] | None = None,
                    extra_environment: Mapping[str, str] | None = None,
                    sandbox_argv: list[str] | None = None,
                    services: tuple[str, ...] = AIRFLOW_SERVICES) -> Iterator[LocalCluster]:
    """Start backends, sandbox, init and the Airflow services; stop everything on exit."""
    cluster = LocalCluster(workdir, dict(variables or LocalCluster.generated_secrets()),
                           dict(extra_environment or {}), sandbox_argv)
    try:
        cluster.start_backends()
        cluster.start_sandbox()
        cluster.run_init()
        cluster.start_airflow(services)
        yield cluster
    finally:
        cluster.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--extra-accounts", type=int, default=0)
    args = parser.parse_args(argv)
    with running_cluster(args.workdir.resolve(),
                         sandbox_argv=["--extra-accounts", str(args.extra_accounts)]) as cluster:
        print(f"Airflow UI: {cluster.api_url} (user {cluster.variables['AIRFLOW_ADMIN_USER']}, "
              f"password {cluster.variables['AIRFLOW_ADMIN_PASSWORD']}); Ctrl-C stops")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                cluster.group.check_alive()
                time.sleep(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
