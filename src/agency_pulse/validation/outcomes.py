"""What a validation decided, how it is recorded (quality/validation_runs) and reported."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from agency_pulse import config, lake, lake_fs
from agency_pulse.errors import ValidationFailed

VALIDATION_RUNS_SCHEMA = pa.schema([
    ("run_id", pa.string()),
    ("validated_at", pa.timestamp("us", tz="UTC")),
    ("dataset", pa.string()),
    ("platform", pa.string()),
    ("partition_date", pa.date32()),
    ("file", pa.string()),                   # the landing file (NULL for an in-memory frame)
    ("rows", pa.int64()),
    ("success", pa.bool_()),
    ("evaluated_expectations", pa.int64()),
    ("failed_expectations", pa.string()),    # JSON list of "expectation_type(column): observed"
    ("warnings", pa.string()),               # JSON list of readable warnings (follower jumps)
    ("quarantined_to", pa.string()),         # NULL when published
])


@dataclass
class ValidationOutcome:
    """One batch's validation: one row of ``VALIDATION_RUNS_SCHEMA``.

    ``failed_expectations`` and ``warnings`` are lists here, JSON strings in the record.
    Not recorded: ``published_to``, where an accepted file now lives, and ``superseded``,
    the files its publication removed (the rest of a replaced partition, an old quarantined
    copy), told to the caller (the extract state folds the published files in).
    """

    run_id: str
    validated_at: datetime
    dataset: str
    platform: str | None
    partition_date: date | None
    file: str | None
    rows: int
    success: bool
    evaluated_expectations: int
    failed_expectations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    quarantined_to: str | None = None
    published_to: str | None = None
    superseded: list[str] = field(default_factory=list)

    def record(self) -> dict:
        """This outcome as a row of ``VALIDATION_RUNS_SCHEMA``."""
        row = asdict(self)
        row.pop("published_to")
        row.pop("superseded")
        row["failed_expectations"] = json.dumps(self.failed_expectations, ensure_ascii=False)
        row["warnings"] = json.dumps(self.warnings, ensure_ascii=False)
        return row


def record_outcomes(outcomes: Sequence[ValidationOutcome],
                    paths: config.Paths | None = None) -> list[Path]:
    """Append the outcomes to quality/validation_runs (with an S3 lake, its
    ``_quality/validation_runs``), one new file per partition date."""
    paths = paths or config.paths()
    by_day: dict[str, list[dict]] = {}
    for outcome in outcomes:
        day = (outcome.partition_date or outcome.validated_at.date()).isoformat()
        by_day.setdefault(day, []).append(outcome.record())
    written = []
    for day, rows in sorted(by_day.items()):
        target = lake.validation_runs_dir(day, paths.quality) / f"{uuid.uuid4().hex}.parquet"
        lake_fs.for_path(target).write_table(
            target, pa.Table.from_pylist(rows, schema=VALIDATION_RUNS_SCHEMA),
            compression="snappy")
        written.append(target)
    return written


def raise_for_failures(outcomes: Iterable[ValidationOutcome]) -> None:
    """Raise ValidationFailed naming every failed file and its failed expectations."""
    failed = [o for o in outcomes if not o.success]
    if not failed:
        return
    parts = []
    for outcome in failed:
        what = outcome.file or f"{outcome.dataset} batch"
        where = f" (quarantined to {outcome.quarantined_to})" if outcome.quarantined_to else ""
        parts.append(f"{what}{where}: {'; '.join(outcome.failed_expectations)}")
    raise ValidationFailed(f"{len(failed)} batch(es) failed validation: " + " | ".join(parts))
