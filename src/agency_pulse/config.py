"""Where the pipeline reads and writes, from the environment (contract section 3)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agency_pulse import platforms

# The monitored platforms, in report order (the table is agency_pulse.platforms).
PLATFORMS: tuple[str, ...] = platforms.NAMES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGISTRY = PROJECT_ROOT / "include" / "registry" / "agencies.yaml"
SQL_DIR = PROJECT_ROOT / "include" / "sql"

# The Airflow pool every warehouse writer runs in (one slot: DuckDB has one writer).
WAREHOUSE_POOL = "agency_pulse_warehouse"


@dataclass(frozen=True)
class Paths:
    """Every location under AGENCY_PULSE_HOME."""

    home: Path

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def landing(self) -> Path:
        """Written by extract/import, not yet validated; only validation reads it."""
        return self.home / "lake" / "landing"

    @property
    def raw(self) -> Path:
        return self.home / "lake" / "raw"

    @property
    def quarantine(self) -> Path:
        return self.home / "lake" / "quarantine"

    @property
    def warehouse(self) -> Path:
        """AGENCY_PULSE_WAREHOUSE when set (scale-out: a volume only the warehouse worker
        mounts), else warehouse.duckdb under home."""
        configured = os.environ.get("AGENCY_PULSE_WAREHOUSE")
        return Path(configured).resolve() if configured else self.home / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def quality(self) -> Path:
        return self.home / "quality"

    @property
    def data_docs(self) -> Path:
        return self.home / "quality" / "docs"

    @property
    def inbox(self) -> Path:
        """Drop folder for manual observation CSVs, picked up by the observations DAG."""
        return self.home / "inbox" / "observations"


def home() -> Path:
    return Path(os.environ.get("AGENCY_PULSE_HOME", "./data")).resolve()


def paths() -> Paths:
    return Paths(home())


def registry_path() -> Path:
    configured = os.environ.get("AGENCY_PULSE_REGISTRY")
    return Path(configured).resolve() if configured else DEFAULT_REGISTRY
