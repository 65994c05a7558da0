"""Data-quality validation with Great Expectations: one suite per lake dataset.

Public interface::

    validate_landed(files, *, run_id=None, run_date=None) -> list[ValidationOutcome]
    validate_frame(dataset, table_or_df, *, run_date) -> ValidationOutcome
    raise_for_failures(outcomes)            # ValidationFailed naming files and expectations
    build_data_docs() -> Path               # quality/docs/index.html
    VALIDATION_RUNS_SCHEMA                  # quality/validation_runs: lake.validation_runs_dir

Great Expectations is imported lazily (it takes seconds): importing this package is cheap.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from agency_pulse.validation.follower_jumps import DEFAULT_FOLLOWER_JUMP, FollowerJumpRule
from agency_pulse.validation.outcomes import (
    VALIDATION_RUNS_SCHEMA,
    ValidationOutcome,
    raise_for_failures,
    record_outcomes,
)
from agency_pulse.validation.suites import SUITE_RULES

__all__ = [
    "VALIDATION_RUNS_SCHEMA", "SUITE_RULES", "FollowerJumpRule", "ValidationOutcome",
    "build_data_docs", "raise_for_failures", "record_outcomes", "validate_frame",
    "validate_landed",
]


def validate_landed(files, *, run_id: str | None = None, run_date: date | None = None,
                    **options) -> list[ValidationOutcome]:
    """See ``agency_pulse.validation.landed.validate_landed``."""
    from agency_pulse.validation.landed import validate_landed as _validate_landed

    return _validate_landed(files, run_id=run_id, run_date=run_date, **options)


def build_data_docs(outcomes=()):
    """See ``agency_pulse.validation.docs.build_data_docs``."""
    from agency_pulse.validation.docs import build_data_docs as _build_data_docs

    return _build_data_docs(outcomes)


def validate_frame(dataset: str, table_or_df, *, run_date: date, platform: str | None = None,
                   run_id: str | None = None,
                   follower_jump: FollowerJumpRule = DEFAULT_FOLLOWER_JUMP) -> ValidationOutcome:
    """Validate an in-memory Arrow table or pandas DataFrame against ``dataset``'s suite.

    Columns whose type casts safely to the lake type are accepted (e.g. pandas ``str`` or
    ``object`` strings, int32). Nothing is moved, recorded or kept for Data Docs: the caller
    decides what to do with the outcome. With ``platform``, account snapshots are also
    compared with the accepted lake for follower jumps (warnings).
    """
    from agency_pulse.validation.batches import conform_table, validate_batch

    run_id = run_id or f"validation-{uuid.uuid4().hex[:12]}"
    validated_at = datetime.now(UTC)
    table, type_problems = conform_table(dataset, table_or_df, strict=False)
    verdict = validate_batch(dataset, table, run_date=run_date, run_name=run_id,
                             validated_at=validated_at, platform=platform,
                             type_problems=type_problems, store=False,
                             follower_jump=follower_jump)
    return ValidationOutcome(
        run_id=run_id, validated_at=validated_at, dataset=dataset, platform=platform,
        partition_date=run_date, file=None, rows=verdict.rows, success=verdict.success,
        evaluated_expectations=verdict.evaluated_expectations,
        failed_expectations=verdict.failed_expectations, warnings=verdict.warnings)
