"""Every ``AGENCY_PULSE_*`` setting, defined once: name, default, meaning and parser.

The entry points (a CLI command, an Airflow task, the UI app factory) read the environment
once per call with ``Settings.from_environment()`` and pass the result (or the values they
need) down; no other module reads these variables. A bad value raises ConfigurationError
with one line naming the variable. A blank value counts as unset.

``python -m agency_pulse.settings --markdown`` prints the table of docs/CONFIGURATION.md.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from agency_pulse.errors import ConfigurationError

PREFIX = "AGENCY_PULSE_"

_MEMORY_SIZE = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
_WORD = re.compile(r"^[A-Za-z0-9_.-]+$")


# --------------------------------------------------------------------------- parsers
# Each turns the text of a variable into its value, or raises ValueError with the end of
# the sentence "<VARIABLE> must be ...".

def _resolved_path(text: str) -> Path:
    return Path(text).resolve()


def _word(text: str) -> str:
    if not _WORD.match(text):
        raise ValueError("one word (letters, digits, '_', '.', '-')")
    return text


def _lower_word(text: str) -> str:
    return _word(text.lower())


def _yes_no(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise ValueError("true or false")


def _http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")) or len(text.split("://", 1)[1]) == 0:
        raise ValueError("an http:// or https:// URL")
    return text.rstrip("/")


def _days_or_all(text: str) -> int | None:
    lowered = text.lower()
    if lowered == "all":
        return None
    if not lowered.isdigit():
        raise ValueError("a number of days or 'all'")
    return int(lowered)


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < minimum:
            raise ValueError(f"a whole number of at least {minimum}")
        return int(text)
    return parse


def _seconds(*, positive: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")  # fails both comparisons below
        if not (value > 0 if positive else value >= 0) or value == float("inf"):
            raise ValueError("a number above 0" if positive else "a number of 0 or more")
        return value
    return parse


def _number(text: str) -> float:
    return _seconds(positive=False)(text)


def _memory_size(text: str) -> str:
    if not _MEMORY_SIZE.match(text):
        raise ValueError("a size such as 3GB or 512MB")
    return text


def _text(text: str) -> str:
    return text


def _concurrency(text: str) -> dict[str, int]:
    """``8`` (every platform) or ``facebook=8,x=2`` (those platforms; the rest keep their
    default): ``{"*": 8}`` / ``{"facebook": 8, "x": 2}``."""
    from agency_pulse.platforms import NAMES

    shape = "a number of requests of at least 1, or pairs such as facebook=8,x=2"
    if text.isdigit():
        if int(text) < 1:
            raise ValueError(shape)
        return {"*": int(text)}
    values: dict[str, int] = {}
    for part in text.split(","):
        name, _, number = part.strip().partition("=")
        name = name.strip().lower()
        if name not in NAMES or not number.strip().isdigit() or int(number) < 1:
            raise ValueError(f"{shape} (platforms: {', '.join(NAMES)})")
        values[name] = int(number)
    return values


def _language(text: str) -> str:
    from agency_pulse.i18n import LANGUAGES

    lowered = text.lower()
    if lowered not in LANGUAGES:
        raise ValueError("one of " + ", ".join(LANGUAGES))
    return lowered


# --------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class Setting:
    """One environment variable: ``default`` is the text used when it is unset or blank (None:
    no value, the reader decides); ``shown_default`` replaces it in the documentation when the
    effective default is not a plain text (derived from another setting, or differs by case)."""

    name: str
    default: str | None
    meaning: str
    parser: Callable[[str], object]
    shown_default: str | None = None

    @property
    def field(self) -> str:
        """The Settings attribute holding the parsed value."""
        return self.name.removeprefix(PREFIX).lower()

    @property
    def documented_default(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        return f"`{self.default}`" if self.default is not None else "(none)"

    def parse(self, raw: str | None) -> object:
        """The value for the variable's text (None or blank: the default)."""
        text = (raw or "").strip() or self.default
        if text is None:
            return None
        try:
            return self.parser(text)
        except ValueError as exc:
            shown = text if len(text) <= 80 else text[:77] + "..."
            raise ConfigurationError(f"{self.name} must be {exc}, not {shown!r}") from None


SETTINGS: tuple[Setting, ...] = (
    Setting("AGENCY_PULSE_HOME", "./data",
            "everything the pipeline writes: `lake/`, `warehouse.duckdb`, `reports/`, "
            "`quality/`, `inbox/`", _resolved_path),
    Setting("AGENCY_PULSE_REGISTRY", None, "the agency registry", _resolved_path,
            shown_default="`include/registry/agencies.yaml`"),
    Setting("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox",
            "`sandbox`: platforms without a connection use the sandbox; `none`: they are skipped",
            _lower_word),
    Setting("AGENCY_PULSE_SANDBOX_URL", None, "a running sandbox to use", _http_url,
            shown_default="(started by `agency-pulse run`, `make run`, `make airflow`)"),
    Setting("AGENCY_PULSE_BACKFILL_DAYS", "730",
            "how far back an account's first run reads posts (`all`: everything)", _days_or_all),
    Setting("AGENCY_PULSE_HTTP_READ_TIMEOUT", "30",
            "seconds a response may take before it counts as a transient failure",
            _seconds(positive=True)),
    Setting("AGENCY_PULSE_MAX_WAIT_SECONDS", "60",
            "longest single wait the client accepts (longer: the batch fails as transient, "
            "Airflow retries it later)", _seconds(positive=False)),
    Setting("AGENCY_PULSE_WAIT_SCALE", None, "scales real sleeping, for tests", _number,
            shown_default="`1` (`0.001` on the sandbox)"),
    Setting("AGENCY_PULSE_TASK_RETRIES", "3",
            "Airflow retries per task (exponential backoff from 2 minutes)", _count(0)),
    # 100: small enough to spread a platform over the workers, large enough to keep the
    # batched API calls (50-100 ids) full
    Setting("AGENCY_PULSE_EXTRACT_BATCH_SIZE", "100", "accounts per mapped extract task",
            _count(1)),
    Setting("AGENCY_PULSE_CONCURRENCY", None,
            "requests in flight at once within one platform's extract task: `8` for every "
            "platform, or `facebook=8,x=2` (the others keep their default); all of them pace "
            "on the API's limit headers together", _concurrency,
            shown_default="per platform (`agency_pulse.platforms`): facebook 8, instagram 4, "
                          "youtube 8, x 2, telegram 6"),
    Setting("AGENCY_PULSE_WAREHOUSE", None, "the warehouse file (its own volume in compose)",
            _resolved_path, shown_default="`$AGENCY_PULSE_HOME/warehouse.duckdb`"),
    Setting("AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT", "3GB", "DuckDB spills to disk beyond it",
            _memory_size),
    Setting("AGENCY_PULSE_READER_MEMORY_LIMIT", "1GB",
            "DuckDB memory limit of each reader (query, report, UI); a query needing more "
            "fails with one line", _memory_size),
    Setting("AGENCY_PULSE_LANGUAGE", "en",
            "language of the report and the UI pages when none is asked for: `en` (English) "
            "or `az` (Azerbaijani)", _language),
    Setting("AGENCY_PULSE_WAREHOUSE_QUEUE", "default",
            "the Celery queue of warehouse writers (`warehouse` in compose)", _word),
    Setting("AGENCY_PULSE_WORKER_WARM_START", "false",
            "`true` on the Celery worker of the warehouse queue: it imports dbt once before "
            "forking, so each marts model task skips dbt's start-up "
            "(`agency_pulse.celery_config`)", _yes_no),
    Setting("AGENCY_PULSE_LAKE_URL", None,
            "`s3://bucket/prefix` to share the lake across hosts (connection "
            "`agency_pulse_lake`)", _text, shown_default="(local lake)"),
    Setting("AGENCY_PULSE_ENV_FILE", None,
            "docker compose only: the env file the services read their secrets from",
            _text, shown_default="`.env`"),
    Setting("AGENCY_PULSE_SANDBOX_EXTRA_ACCOUNTS", "0",
            "docker compose only: synthetic accounts per platform the sandbox service serves "
            "besides the registry's (load demos)", _count(0)),
)

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The parsed configuration; one attribute per variable (name without the prefix, lower
    case). None where a setting has no value and its reader supplies the default."""

    home: Path
    registry: Path | None
    default_source: str
    sandbox_url: str | None
    backfill_days: int | None  # None: everything reachable
    http_read_timeout: float
    max_wait_seconds: float
    wait_scale: float | None
    task_retries: int
    extract_batch_size: int
    concurrency: dict[str, int] | None  # None: each platform's default
    warehouse: Path | None
    warehouse_memory_limit: str
    reader_memory_limit: str
    language: str
    warehouse_queue: str
    worker_warm_start: bool
    lake_url: str | None
    env_file: str | None
    sandbox_extra_accounts: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read and parse every setting now (relative paths against the current directory).

        Raises ConfigurationError naming the first variable with a bad value.
        """
        return cls(**{s.field: s.parse(environ.get(s.name)) for s in SETTINGS})

    def concurrency_for(self, platform: str) -> int:
        """Requests in flight at once for ``platform``: the setting, else the table's default."""
        from agency_pulse.platforms import get

        chosen = self.concurrency or {}
        return chosen.get(platform) or chosen.get("*") or get(platform).concurrency

    @property
    def uses_sandbox(self) -> bool:
        """Whether platforms without a connection fall back to the sandbox."""
        return self.default_source == "sandbox"


def markdown_table() -> str:
    """The configuration table (variable, default, meaning) as Markdown."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{s.name}` | {s.documented_default} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(lines) + "\n"


def _check_table() -> None:
    # The table and the dataclass must describe the same settings.
    declared = [f.name for f in fields(Settings)]
    if declared != [s.field for s in SETTINGS]:
        raise RuntimeError("agency_pulse.settings: SETTINGS and Settings fields differ")


_check_table()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agency_pulse.settings",
                                     description="Agency Pulse settings.")
    parser.add_argument("--markdown", action="store_true",
                        help="print the configuration table (variable, default, meaning)")
    parser.add_argument("--check", action="store_true",
                        help="read the environment; exit 1 with one line if a value is bad")
    args = parser.parse_args(argv)
    if not (args.markdown or args.check):
        parser.error("give --markdown or --check")
    if args.check:
        try:
            Settings.from_environment()
        except ConfigurationError as exc:
            print(f"agency-pulse: {exc}", file=sys.stderr)
            return 1
    if args.markdown:
        sys.stdout.write(markdown_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
