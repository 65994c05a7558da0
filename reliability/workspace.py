"""A throw-away AGENCY_PULSE_HOME with its own platform sandbox, and what scenarios read back.

Every scenario runs the real pipeline functions in-process (or in child processes that
inherit the environment set here), against a sandbox serving a small registry whose
accounts were created a few months before the run day, so a first run stays fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from agency_pulse import config
from agency_pulse_sandbox.connections import connection_settings

REGISTRIES = Path(__file__).resolve().parent / "registries"
BASELINE_REGISTRY = REGISTRIES / "baseline.yaml"
# The day most scenarios run (a past day: validation refuses data from the future).
RUN_DAY = date(2026, 11, 20)
SEED = 7


@contextlib.contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def canary_connections(sandbox_url: str, canaries: Mapping[str, str]) -> dict[str, str]:
    """``AIRFLOW_CONN_AGENCY_PULSE_<P>`` JSON values pointing at the sandbox, canary as password."""
    values = {}
    for platform, token in canaries.items():
        settings = connection_settings(sandbox_url)[platform]
        values[f"AIRFLOW_CONN_AGENCY_PULSE_{platform.upper()}"] = json.dumps({
            "conn_type": "http", "host": settings["base_url"],
            "password": token, "extra": settings["extra"]})
    return values


@dataclass
class DayRun:
    """The outcome of one ``pipeline.run_daily``: its result, or the DailyRunFailed it raised."""

    day: date
    result: object | None = None
    failure: Exception | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None

    @property
    def summary(self):
        return self.result if self.failure is None else getattr(self.failure, "result", None)


@dataclass
class Workspace:
    """A temporary AGENCY_PULSE_HOME (under ``parent``) wired to a running sandbox."""

    parent: Path
    home: Path
    registry: Path
    sandbox: object | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> config.Paths:
        return config.Paths(self.home)

    def run_day(self, day: date, platforms=None, *, run_id: str | None = None,
                faults: dict | None = None) -> DayRun:
        """One daily run on the sandbox moved to ``day`` (faults replaced when given)."""
        from agency_pulse.pipeline import DailyRunFailed, run_daily

        if self.sandbox is not None:
            self.sandbox.set(date=day, faults=faults)
        try:
            return DayRun(day, result=run_daily(day, platforms, run_id=run_id))
        except DailyRunFailed as exc:
            return DayRun(day, failure=exc)

    def mart_digests(self) -> dict[str, tuple[int, str]]:
        return mart_digests(self.home)

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        from agency_pulse.warehouse import connect_read_only

        con = connect_read_only(self.paths.warehouse)
        try:
            return con.execute(sql, parameters or []).fetchall()
        finally:
            con.close()


@contextlib.contextmanager
def open_workspace(registry: Path | str = BASELINE_REGISTRY, *, day: date = RUN_DAY,
                   seed: int = SEED, faults: dict | None = None,
                   canaries: Mapping[str, str] | None = None, with_sandbox: bool = True,
                   extra_env: Mapping[str, str | None] | None = None,
                   registry_text: str | None = None, keep: bool = False) -> Iterator[Workspace]:
    """A fresh home and sandbox for the block; the environment and temp files are restored.

    ``registry_text`` (YAML) is written beside the home and used instead of ``registry``.
    """
    parent = Path(tempfile.mkdtemp(prefix="agency-pulse-reliability-"))
    home = parent / "home"
    home.mkdir()
    if registry_text is not None:
        registry = parent / "registry.yaml"
        registry.write_text(registry_text, encoding="utf-8")
    registry = Path(registry).resolve()
    env: dict[str, str | None] = {
        "AGENCY_PULSE_HOME": str(home), "AGENCY_PULSE_REGISTRY": str(registry),
        "AGENCY_PULSE_DEFAULT_SOURCE": "sandbox", "AGENCY_PULSE_WAREHOUSE": None,
        "GX_ANALYTICS_ENABLED": "false",
        # Waits asked by the sandbox are honoured at a thousandth of their length.
        "AGENCY_PULSE_WAIT_SCALE": "0.001",
        **{f"AIRFLOW_CONN_AGENCY_PULSE_{p.upper()}": None for p in config.PLATFORMS},
    }
    env.update(extra_env or {})
    sandbox_cm = contextlib.nullcontext(None)
    if with_sandbox:
        from agency_pulse_sandbox import run_sandbox

        sandbox_cm = run_sandbox(date=day, seed=seed, registry=registry, faults=faults)
    try:
        with sandbox_cm as sandbox:
            if sandbox is not None:
                env["AGENCY_PULSE_SANDBOX_URL"] = sandbox.url
                env.update(canary_connections(sandbox.url, canaries or {}))
            else:
                env.setdefault("AGENCY_PULSE_SANDBOX_URL", None)
            with environment(env):
                yield Workspace(parent=parent, home=home, registry=registry, sandbox=sandbox,
                                env={k: v for k, v in env.items() if v is not None})
    finally:
        if not keep:
            shutil.rmtree(parent, ignore_errors=True)


def mart_digests(home: Path) -> dict[str, tuple[int, str]]:
    """Row count and sha256 of every ``marts`` table, rows in a total order (``order by all``).

    Empty when there is no warehouse (or no marts) yet.
    """
    from agency_pulse.warehouse import connect_read_only, table_names

    warehouse = config.Paths(home).warehouse
    if not warehouse.exists():
        return {}
    con = connect_read_only(warehouse)
    try:
        digests = {}
        for table in table_names(con, ["marts"]):
            rows = con.execute(f"select * from {table} order by all").fetchall()
            digests[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
        return digests
    finally:
        con.close()


def describe_digests(digests: Mapping[str, tuple[int, str]]) -> str:
    """``account_monthly 65 rows #1a2b...`` for each mart, short enough for a table cell."""
    return ", ".join(f"{name.split('.')[-1]} {rows} rows #{digest[:8]}"
                     for name, (rows, digest) in sorted(digests.items())) or "no marts"


def dump_warehouse(home: Path) -> str:
    """Every table of every schema as text (for leak searches)."""
    from agency_pulse.warehouse import connect_read_only, table_names

    warehouse = config.Paths(home).warehouse
    if not warehouse.exists():
        return ""
    con = connect_read_only(warehouse)
    try:
        parts = []
        for table in table_names(con):
            parts.append(f"## {table}\n{con.execute(f'select * from {table}').fetchall()!r}")
        return "\n".join(parts)
    finally:
        con.close()


def extract_log(home: Path) -> list[dict]:
    """``quality.extract_log`` rows as dicts (empty when there is no warehouse)."""
    from agency_pulse.warehouse import connect_read_only

    warehouse = config.Paths(home).warehouse
    if not warehouse.exists():
        return []
    con = connect_read_only(warehouse)
    try:
        cursor = con.execute("select run_date, platform, account_id, status, reason "
                             "from quality.extract_log order by run_date, account_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
