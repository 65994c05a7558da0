"""`agency-pulse lake check`: verify the whole accepted lake against its recorded checksums.

Every accepted partition file is compared with the sha256 recorded beside it when it was
published (``lake.record_checksum``) and read in full as Parquet. One line per problem:

- ``mismatch``: the file's bytes changed since it was published (exit 1);
- ``unreadable``: the file is not readable Parquet (exit 1);
- ``missing``: no checksum recorded (the file was published before checksums were kept);
  ``--record-missing`` records it after the file reads as Parquet;
- ``stray``: a temporary file a killed writer left (older than
  ``lake.STALE_TEMPORARY_SECONDS``; a younger one may be a live writer's and is not
  listed), or a checksum record whose file is gone; both are safe to delete;
- ``state``: a platform's extract state (``extract_state``) is damaged; the next extract
  rebuilds it, ``agency-pulse lake state --rebuild`` does it now.

Compacted month files (``lake_compact``) are accepted files like the daily ones.

Then one summary line. With a lake on object storage (``AGENCY_PULSE_LAKE_URL``) the
objects there are checked where they are (``lake_fs``), nothing is copied; an S3 object
appears whole, so there are no temporary files to list there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from agency_pulse import lake, lake_fs

# Problems that make the check fail: the accepted data are not what was published.
SERIOUS = ("mismatch", "unreadable")


@dataclass(frozen=True)
class LakeProblem:
    """One problem found: its kind (``mismatch``, ``unreadable``, ``missing``, ``stray``),
    the file, and one line saying what is wrong and what to do."""

    kind: str
    path: Path
    line: str

    @property
    def serious(self) -> bool:
        return self.kind in SERIOUS


@dataclass
class LakeCheckResult:
    """What ``check_lake`` found: the accepted files checked and every problem, in path order."""

    files: int = 0
    problems: list[LakeProblem] = field(default_factory=list)
    recorded: int = 0  # checksums recorded by --record-missing

    @property
    def failed(self) -> bool:
        return any(problem.serious for problem in self.problems)

    def count(self, kind: str) -> int:
        return sum(problem.kind == kind for problem in self.problems)

    def summary(self) -> str:
        """One line: how many files were checked and how many of each problem."""
        counts = ", ".join(f"{self.count(kind)} {label}" for kind, label in (
            ("mismatch", "not matching their checksum"), ("unreadable", "unreadable"),
            ("missing", "without a recorded checksum"), ("stray", "stray files")))
        if self.count("state"):
            counts += f", {self.count('state')} damaged extract states"

        verdict = ("FAILED: restore the damaged files from backup or rerun their days "
                   "(each line above says how)" if self.failed else "ok")
        recorded = f"; {self.recorded} checksums recorded" if self.recorded else ""
        return f"lake check: {self.files} accepted files checked: {counts}{recorded}; {verdict}"


def check_lake(root: Path | None = None, *, record_missing: bool = False) -> LakeCheckResult:
    """Verify every accepted file under the lake root ``root`` (default: the configured
    lake). Reads only, except that ``record_missing`` records the checksum of each readable
    file that has none."""
    if root is None:
        shared = lake_fs.open_lake()
        if shared.remote:
            return _check_remote_lake(shared, record_missing)
    root = root or lake.lake_root()
    result = LakeCheckResult()
    files = lake.accepted_partition_files(root)
    result.files = len(files)
    for path in files:
        result.problems += _check_file(path, record_missing, result)
    known = set(files)
    cutoff = time.time() - lake.STALE_TEMPORARY_SECONDS
    for dataset in lake.SCHEMAS:
        folder = root / dataset
        for record in lake.checksum_files_below(folder):
            if lake.checksummed_file(record) not in known:
                result.problems.append(LakeProblem("stray", record, (
                    f"stray checksum record {record}: the file it describes is gone; "
                    "delete the record")))
        for leftover in lake.temporary_files_below(folder):
            try:
                stale = leftover.stat().st_mtime < cutoff
            except FileNotFoundError:
                continue  # a live writer finished meanwhile
            if stale:
                result.problems.append(LakeProblem("stray", leftover, (
                    f"stray temporary file {leftover}: left by a writer that was stopped; "
                    "no reader uses it, delete it")))
    result.problems += _check_extract_states(root)
    result.problems.sort(key=lambda problem: str(problem.path))
    return result


def _check_remote_lake(shared: lake_fs.LakeFS, record_missing: bool) -> LakeCheckResult:
    """``check_lake`` for a lake on object storage: the accepted objects and their
    checksum records, read where they are; the extract states are this host's."""
    result = LakeCheckResult()
    files = [location for dataset in lake.SCHEMAS
             for location, *_ in shared.dataset_files(dataset)]
    result.files = len(files)
    for location in files:
        result.problems += _check_file(location, record_missing, result, shared)
    known = set(files)
    for dataset in lake.SCHEMAS:
        for record in shared.checksum_records(dataset):
            if lake_fs.checksummed_location(record) not in known:
                result.problems.append(LakeProblem("stray", record, (
                    f"stray checksum record {record}: the file it describes is gone; "
                    "delete the record")))
    result.problems += _check_extract_states(lake.lake_root())
    result.problems.sort(key=lambda problem: str(problem.path))
    return result


def _check_extract_states(root: Path) -> list[LakeProblem]:
    """A damaged extract state is rebuilt by the next extract; say so, and how to now."""
    from agency_pulse import config, extract_state

    problems = []
    for platform in config.PLATFORMS:
        line = extract_state.check(platform, root)
        if line is not None:
            problems.append(LakeProblem("state", lake.extract_state_path(platform, root), (
                f"extract state: {line}: the next extract rebuilds it; to rebuild it now: "
                f"agency-pulse lake state --rebuild --platform {platform}")))
    return problems


def _check_file(path: Path | str, record_missing: bool, result: LakeCheckResult,
                shared: lake_fs.LakeFS | None = None) -> list[LakeProblem]:
    shared = shared or lake_fs.LOCAL
    try:
        check = shared.verify_checksum(str(path))
    except OSError as exc:
        return [LakeProblem("unreadable", path, (
            f"accepted file {path} cannot be read ({type(exc).__name__}: {exc.strerror or exc}): "
            f"{lake.what_to_do(path)}"))]
    if check.status == "mismatch":
        return [LakeProblem("mismatch", path, lake.mismatch_line(check))]
    try:
        shared.read_table(str(path))
    except (pa.ArrowException, OSError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        return [LakeProblem("unreadable", path, (
            f"accepted file {path} is not readable Parquet ({first}): "
            f"{lake.what_to_do(path)}"))]
    if check.status == "missing":
        if record_missing:
            shared.record_checksum(str(path), check.actual)
            result.recorded += 1
            return []
        return [LakeProblem("missing", path, (
            f"accepted file {path} has no recorded checksum (published before checksums "
            "were kept); it reads as Parquet: record it with agency-pulse lake check "
            "--record-missing"))]
    return []

