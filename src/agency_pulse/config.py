"""Where the pipeline reads and writes, from the settings (docs/CONFIGURATION.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agency_pulse import platforms
from agency_pulse.settings import Settings

# The monitored platforms, in report order (the table is agency_pulse.platforms).
PLATFORMS: tuple[str, ...] = platforms.NAMES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGISTRY = PROJECT_ROOT / "include" / "registry" / "agencies.yaml"
# The dbt project holding the SQL models (include/dbt/models/<layer>/*.sql).
SQL_DIR = PROJECT_ROOT / "include" / "dbt" / "models"

# The Airflow pool every warehouse writer runs in (one slot: DuckDB has one writer).
WAREHOUSE_POOL = "agency_pulse_warehouse"


@dataclass(frozen=True)
class Paths:
    """Every location under AGENCY_PULSE_HOME."""

    home: Path
    # AGENCY_PULSE_WAREHOUSE (scale-out: a volume only the warehouse worker mounts)
    warehouse_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Paths:
        return cls(settings.home, settings.warehouse)

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
        """``warehouse_file`` when set, else warehouse.duckdb under home."""
        return self.warehouse_file or self.home / "warehouse.duckdb"

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


# Without `settings`, the functions below read the environment now (Settings.from_environment):
# for library callers and the many helpers no entry point passes the settings to.

def home(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_environment()).home


def paths(settings: Settings | None = None) -> Paths:
    return Paths.from_settings(settings or Settings.from_environment())


def registry_path(settings: Settings | None = None) -> Path:
    return (settings or Settings.from_environment()).registry or DEFAULT_REGISTRY
