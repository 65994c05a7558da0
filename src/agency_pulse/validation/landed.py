"""Validate landed partition files, then publish each to the accepted lake or quarantine it.

A file moves from the landing zone to the same place in the accepted zone, or in the
quarantine zone with its GX result beside it (the zones and their layout: ``lake_layout``).
Every read, move and write goes through the lake's filesystem (``lake_fs``): locally a
move is a rename, on S3 a copy then a delete (``lake_fs`` says why that is safe).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from agency_pulse import lake, lake_fs
from agency_pulse.validation.batches import BatchVerdict, conform_table, validate_batch
from agency_pulse.validation.docs import build_data_docs
from agency_pulse.validation.follower_jumps import DEFAULT_FOLLOWER_JUMP, FollowerJumpRule
from agency_pulse.validation.outcomes import ValidationOutcome, record_outcomes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LandedFile:
    """Where a landing file sits in the partition layout, parsed from its path."""

    path: Path
    lake_root: Path
    dataset: str
    platform: str
    day: date
    key: str

    @classmethod
    def parse(cls, path: Path) -> LandedFile:
        """Parse a partition file of the landing zone (``lake.parse_partition``)."""
        path = Path(path)
        try:
            found = lake.parse_partition(path)
        except lake.NotAPartitionFile as exc:
            raise ValueError(f"not a landing partition file: {path} ({exc.reason})") from None
        if found.zone != lake.LANDING:
            raise ValueError(f"not a landing partition file: {path} (it is in the {found.zone} "
                             "zone, expected lake/landing/...)")
        return cls(path=path, lake_root=lake.lake_root_of(path), dataset=found.dataset,
                   platform=found.platform, day=found.day, key=found.key)

    def zone_path(self, zone: str) -> Path:
        """This file's place in another zone of its lake (accepted or quarantine)."""
        return lake.partition_path(zone, self.dataset, self.platform, self.day, self.key,
                                   root=self.lake_root)


def validate_landed(files: list[Path], *, run_id: str | None = None,
                    run_date: date | None = None,
                    follower_jump: FollowerJumpRule = DEFAULT_FOLLOWER_JUMP,
                    data_docs: bool = True) -> list[ValidationOutcome]:
    """Validate each landed file as one batch; publish it or quarantine it; record every run.

    A passing file is moved atomically into the accepted lake (with key ``all`` the rest of
    that accepted partition is removed, as ``lake.write_partition`` does); a failing one goes
    to quarantine with its GX result beside it. Files already gone (a retried task) are
    skipped. One outcome per file, in order; call ``raise_for_failures`` afterwards.
    ``run_date`` bounds "not in the future" (default: each file's partition date).
    """
    run_id = run_id or f"validation-{uuid.uuid4().hex[:12]}"
    parsed = [LandedFile.parse(Path(f)) for f in files]
    outcomes: list[ValidationOutcome] = []
    try:
        for landed in parsed:
            if not lake_fs.for_path(landed.path).exists(landed.path):
                log.warning("validation: %s is no longer in landing (already validated?); "
                            "skipped", landed.path)
                continue
            try:
                outcome = _validate_one(landed, run_id=run_id, run_date=run_date or landed.day,
                                        follower_jump=follower_jump)
            except FileNotFoundError:
                if lake_fs.for_path(landed.path).exists(landed.path):
                    raise
                # An overlapping run of the same day (a manual run over the scheduled one)
                # published or quarantined it between our listing and our move.
                log.warning("validation: %s was validated by another run meanwhile; skipped",
                            landed.path)
                continue
            outcomes.append(outcome)
    finally:
        # Files already moved must be on record even if a later one raised.
        if outcomes:
            record_outcomes(outcomes)
            if data_docs:
                build_data_docs(outcomes)
            _refresh_extract_state(parsed, outcomes)
    return outcomes


def _refresh_extract_state(parsed: list[LandedFile], outcomes: list[ValidationOutcome]) -> None:
    """Fold what was just published into each platform's extract state (``extract_state``).
    A failure here loses nothing: the next extract refreshes the state before reading it."""
    from agency_pulse import extract_state

    roots = {str(landed.path): landed.lake_root for landed in parsed}
    published = {(o.platform, roots[o.file]) for o in outcomes
                 if o.published_to and o.dataset in extract_state.DATASETS and o.file in roots}
    for platform, root in sorted(published, key=lambda p: (p[0], str(p[1]))):
        try:
            extract_state.refresh(platform, root=root)
        except Exception as exc:  # a cache: never fail a publish that already happened
            log.warning("extract state of %s not refreshed (%s: %s); the next extract "
                        "refreshes it", platform, type(exc).__name__, exc)


def _validate_one(landed: LandedFile, *, run_id: str, run_date: date,
                  follower_jump: FollowerJumpRule) -> ValidationOutcome:
    validated_at = datetime.now(UTC)
    try:
        table = lake_fs.for_path(landed.path).read_table(landed.path)
    except FileNotFoundError:
        raise  # gone, not unreadable: the caller decides (another run moved it)
    except (pa.ArrowException, OSError) as exc:
        verdict = _unreadable(landed, exc)
    else:
        table, type_problems = conform_table(landed.dataset, table, strict=True)
        verdict = validate_batch(
            landed.dataset, table, run_date=run_date, validated_at=validated_at,
            run_name=f"{run_id}__{landed.platform}__{landed.day.isoformat()}__{landed.key}",
            platform=landed.platform, type_problems=type_problems, follower_jump=follower_jump,
            lake_root=landed.lake_root)
    outcome = ValidationOutcome(
        run_id=run_id, validated_at=validated_at, dataset=landed.dataset,
        platform=landed.platform, partition_date=landed.day, file=str(landed.path),
        rows=verdict.rows, success=verdict.success,
        evaluated_expectations=verdict.evaluated_expectations,
        failed_expectations=verdict.failed_expectations, warnings=verdict.warnings)
    if verdict.success:
        target, superseded = _publish(landed)
        outcome.published_to, outcome.superseded = str(target), [str(p) for p in superseded]
        for warning in verdict.warnings:
            log.warning("validation: %s: %s", landed.path.name, warning)
    else:
        outcome.quarantined_to = _quarantine(landed, verdict)
        log.error("validation: %s failed: %s", landed.path,
                  "; ".join(verdict.failed_expectations))
    return outcome


def _unreadable(landed: LandedFile, exc: Exception) -> BatchVerdict:
    """A file that is not readable Parquet fails without reaching GX."""
    failure = f"read_parquet(file): error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return BatchVerdict(success=False, rows=0, evaluated_expectations=1,
                        failed_expectations=[failure], warnings=[],
                        result={"success": False, "results": [],
                                "agency_pulse": {"failed_expectations": [failure], "warnings": []}})


def _publish(landed: LandedFile) -> tuple[Path, list[Path]]:
    """Move the file into the accepted lake and record its checksum beside it; return it
    and the files it superseded."""
    target = landed.zone_path(lake.ACCEPTED)
    fs = lake_fs.for_path(target)
    digest = fs.sha256(landed.path)  # the bytes validation just passed
    # A file replacing an earlier version never sits beside the earlier one's checksum: a
    # crash before the new record leaves no checksum (accepted and recorded by the next
    # build), never a false mismatch.
    fs.forget_checksum(target)
    fs.move(landed.path, target)
    fs.record_checksum(target, digest)
    superseded = []
    if landed.key == "all":
        # A whole platform-day replaces the accepted partition, like lake.write_partition.
        superseded += [other for other in lake.partition_files(target.parent) if other != target]
    for other in superseded:
        fs.forget_checksum(other)
    # An earlier, failed version of the same file is now superseded.
    stale = landed.zone_path(lake.QUARANTINE)
    superseded += [leftover for leftover in (stale, lake.result_path(stale))
                   if fs.exists(leftover)]
    for path in superseded:
        fs.delete(path)
    return target, superseded


def _quarantine(landed: LandedFile, verdict: BatchVerdict) -> str:
    """Move a failed file to the quarantine beside its result; return where it now is, as
    messages and the validation record name it (``LakeFS.display``)."""
    target = landed.zone_path(lake.QUARANTINE)
    fs = lake_fs.for_path(target)  # the landing zone is on the same lake (the move needs it)
    result_path = lake.result_path(target)
    quarantined_to = fs.display(target)
    document = dict(verdict.result)
    document["agency_pulse"] = {**document.get("agency_pulse", {}),
                                "file": fs.display(landed.path), "quarantined_to": quarantined_to}
    fs.write_bytes(result_path, json.dumps(document, indent=2, ensure_ascii=False,
                                           default=str).encode("utf-8"))
    fs.move(landed.path, target)
    return quarantined_to
