"""Manual observations CSV import (docs/REFERENCE.md, Manual observations CSV).

A person who counted followers by hand drops a CSV (UTF-8, header row, comma separated)::

    agency_id,platform,handle,observed_on,followers,posts_total,last_post_on,note

The file is all or nothing: every row is checked against the contract and the registry,
and if any row is bad a ``UserInputError`` lists every problem as
``row N, column C: reason`` and nothing lands. Row numbers are the ones a spreadsheet
shows: the header is row 1, the first data row is row 2 (a quoted value spanning several
lines is still one row).

A good file becomes one Parquet file in the landing zone (dataset ``observations``,
platform ``manual``, the import day as partition date, part key ``sha16``: the first 16
hex digits of the file's SHA-256), which validation then
publishes to the accepted lake. Importing the same bytes again changes nothing; a later
file with a different content may correct an earlier observation of the same account and
day, and wins because its ``imported_at`` is strictly later.

Notes are stored exactly as typed; a control character other than tab (NUL, a line
break...) in any cell, or a count above 10^10, is a bad row. Cells that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, CR at the start) are harmless in Parquet and DuckDB;
anything that exports them back to CSV must pass each cell through ``escape_csv_cell``.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from agency_pulse import config, lake
from agency_pulse.errors import UserInputError, ValidationFailed
from agency_pulse.registry import Registry, account_id_for, load_registry, normalize_handle

log = logging.getLogger(__name__)

DATASET = "observations"
# Observations are not tied to one platform's extract: they get their own partition.
PARTITION_PLATFORM = "manual"

REQUIRED_COLUMNS: tuple[str, ...] = ("agency_id", "platform", "handle", "observed_on", "followers")
OPTIONAL_COLUMNS: tuple[str, ...] = ("posts_total", "last_post_on", "note")
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula (OWASP).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]+")
# docs/REFERENCE.md, Manual observations CSV: no audience or post count is above 10^10; the cap also keeps every
# figure the marts derive from a count (100 x change, sums over accounts) far from overflow.
MAX_COUNT = 10**10
_SHOWN_CHARS = 40  # how much of a bad value an error line quotes


# ---------------------------------------------------------------------------------------
# Results and errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, located as a spreadsheet user would find it."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


class ObservationFileRejected(UserInputError):
    """The whole file was refused; ``problems`` holds one readable line per problem."""

    def __init__(self, file_name: str, summary: str, problems: Sequence[str]):
        self.file_name = file_name
        self.summary = summary
        self.problems = tuple(problems)
        super().__init__("\n".join((summary, *self.problems)))


class InboxRejected(UserInputError):
    """Some inbox files were rejected; the others were imported. ``results`` has them all."""

    def __init__(self, message: str, results: list[ImportResult | RejectedFile]):
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class ImportResult:
    """What one import did. ``path`` is the accepted Parquet file holding the rows."""

    file: Path
    rows: int
    accounts: int
    already_imported: bool
    path: Path
    file_sha256: str

    def summary(self) -> str:
        name = _printable(self.file.name)
        if self.already_imported:
            return f"{name}: already imported ({self.path})"
        return (f"{name}: {self.rows} {_plural(self.rows, 'row')} for {self.accounts} "
                f"{_plural(self.accounts, 'account')} imported ({self.path})")


@dataclass(frozen=True)
class RejectedFile:
    """An inbox file that was refused, moved to ``inbox/rejected/`` with its reasons."""

    file: Path
    errors_file: Path
    problems: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        return f"{_printable(self.file.name)}: rejected, see {self.errors_file}"


@dataclass(frozen=True)
class CsvRow:
    """One data row of the file as read: its spreadsheet row number and raw values."""

    row_number: int
    header: tuple[str, ...]
    values: tuple[str, ...]

    @property
    def cells(self) -> dict[str, str]:
        """Values by column name; a column the file lacks (or the row is short of) is ''."""
        return dict(zip(self.header, self.values, strict=False))


@dataclass(frozen=True)
class Observation:
    """One checked row, ready for the lake."""

    agency_id: str
    platform: str
    handle: str
    account_id: str
    observed_on: date
    followers: int
    posts_total: int | None
    last_post_on: date | None
    note: str | None
    row_number: int


# ---------------------------------------------------------------------------------------
# Public entry points


def import_observations(path: Path, *, registry: Registry | None = None,
                        today: date | None = None, now: datetime | None = None,
                        follow_symlinks: bool = True) -> ImportResult:
    """Check a CSV against the contract and the registry, land it and publish it.

    Raises ``ObservationFileRejected`` (a ``UserInputError``) listing every problem when any
    row is bad, and lands nothing; ``ValidationFailed`` when the quality suite quarantines
    the landed file. Re-importing a file whose bytes were already accepted returns
    ``already_imported=True`` and touches nothing. ``today`` bounds ``observed_on``
    (default: today in UTC); ``now`` is the import time (default: now in UTC). Only a
    regular file is read; with ``follow_symlinks=False`` (the inbox) a symbolic link is
    refused without being opened.
    """
    path = Path(path)
    name = path.name
    data = read_regular_file(path, follow_symlinks=follow_symlinks)
    file_sha256 = hashlib.sha256(data).hexdigest()
    key = file_sha256[:16]

    accepted_before = find_accepted_import(file_sha256)
    if accepted_before is not None:
        return _already_imported(path, accepted_before, file_sha256)

    registry = registry if registry is not None else load_registry()
    today = today or datetime.now(UTC).date()
    csv_rows = parse_observations_csv(data, file_name=name)
    observations, problems = check_observations(csv_rows, registry, today=today)
    if problems:
        raise _rejection(name, problems)

    # One import at a time (CLI and DAG alike): "already imported?" and the order of
    # import times must not race.
    with _import_lock():
        accepted_before = find_accepted_import(file_sha256)
        if accepted_before is not None:
            return _already_imported(path, accepted_before, file_sha256)
        imported_at = next_import_time(now or datetime.now(UTC))
        table = observations_table(observations, source_file=name, file_sha256=file_sha256,
                                   imported_at=imported_at)
        landed = land_observations(table, key=key, day=imported_at.date())
        accepted = _validate_and_publish(landed, run_id=f"observations-{key}",
                                         run_date=imported_at.date())
    result = ImportResult(file=path, rows=table.num_rows,
                          accounts=len({o.account_id for o in observations}),
                          already_imported=False, path=accepted, file_sha256=file_sha256)
    log.info("%s", result.summary())
    return result


def _already_imported(path: Path, accepted: Path, file_sha256: str) -> ImportResult:
    accounts = lake.read_file(accepted, columns=["account_id"]).column("account_id").to_pylist()
    log.info("%s: already imported as %s", _printable(path.name), accepted)
    return ImportResult(file=path, rows=len(accounts), accounts=len(set(accounts)),
                        already_imported=True, path=accepted, file_sha256=file_sha256)


def import_inbox(inbox: Path | None = None, *, registry: Registry | None = None,
                 today: date | None = None, now: datetime | None = None,
                 ) -> list[ImportResult | RejectedFile]:
    """Import every ``*.csv`` of the drop folder, in name order.

    A good file moves to ``inbox/processed/``; a refused one to ``inbox/rejected/`` with a
    ``<name>.errors.txt`` beside it. After all files are handled, raises ``InboxRejected``
    (a ``UserInputError`` naming the rejected files, carrying every result) if any was
    refused. Writers should drop files atomically (write elsewhere, then rename in), since
    a half-copied CSV would be read as it is.
    """
    inbox = Path(inbox) if inbox is not None else config.paths().inbox
    inbox.mkdir(parents=True, exist_ok=True)
    registry = registry if registry is not None else load_registry()
    # Every *.csv entry but folders: a symbolic link or a pipe is listed so that it is
    # rejected with a reason, never silently skipped nor followed (lstat, not stat).
    files = sorted((p for p in inbox.iterdir()
                    if p.suffix.lower() == ".csv" and not p.name.startswith(".")
                    and not stat.S_ISDIR(p.lstat().st_mode)),
                   key=lambda p: p.name)
    results: list[ImportResult | RejectedFile] = []
    for file in files:
        try:
            result = import_observations(file, registry=registry, today=today, now=now,
                                         follow_symlinks=False)
        except (UserInputError, ValidationFailed) as exc:
            results.append(_reject_inbox_file(file, inbox / "rejected", exc))
            log.warning("%s", results[-1].summary())
            continue
        moved = _move_into(file, inbox / "processed")
        results.append(ImportResult(file=moved, rows=result.rows, accounts=result.accounts,
                                    already_imported=result.already_imported, path=result.path,
                                    file_sha256=result.file_sha256))
    rejected = [r for r in results if isinstance(r, RejectedFile)]
    if rejected:
        names = ", ".join(_printable(r.file.name) for r in rejected)
        raise InboxRejected(f"observations inbox: {len(rejected)} of {len(results)} "
                            f"{_plural(len(results), 'file')} rejected: {names} "
                            f"(reasons in {inbox / 'rejected'})", results)
    return results


def read_regular_file(path: Path, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of ``path`` if it is a regular file; else a ``UserInputError`` that names
    the file and says what it is, quoting nothing of what it points to.

    The type is checked on the opened descriptor (no race between a check and the
    read); ``O_NOFOLLOW`` makes opening a symbolic link fail instead of following it, and
    ``O_NONBLOCK`` keeps a named pipe from blocking the import.
    """
    shown = _printable(Path(path).name)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        if not follow_symlinks and os.path.islink(path):
            raise UserInputError(f"{shown}: a symbolic link, not a regular file; not read "
                                 "(drop the file itself)") from None
        raise UserInputError(f"{shown}: cannot read the file ({exc.strerror})") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise UserInputError(f"{shown}: not a regular file ({_file_kind(mode)}); not read")
    with os.fdopen(descriptor, "rb") as handle:
        try:
            return handle.read()
        except OSError as exc:
            raise UserInputError(f"{shown}: cannot read the file ({exc.strerror})") from None


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return kind
    return "not a file"


def escape_csv_cell(value: object) -> str:
    """Render one cell for a CSV export so no spreadsheet runs it as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe
    (shown by spreadsheets, never evaluated). Numbers are numbers: ``-3`` stays ``-3``.
    ``None`` becomes an empty cell. Quoting of commas and quotes is the csv writer's job.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


# ---------------------------------------------------------------------------------------
# Stages (each usable and testable on its own)


def parse_observations_csv(data: bytes, *, file_name: str = "observations.csv") -> list[CsvRow]:
    """Decode and split the CSV; check the header. Rows are not checked here.

    Raises ``ObservationFileRejected`` for file-level problems: not UTF-8, empty, bad
    header (unknown, missing or repeated columns), broken quoting. Blank rows are skipped
    but still counted in row numbers.
    """
    shown = _printable(file_name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        what = ("the file is UTF-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else
                f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid UTF-8")
        raise ObservationFileRejected(file_name, f"{shown}: not UTF-8, nothing imported", [
            f"line {line}: {what} (save the file as 'CSV UTF-8')"]) from None
    if not text.strip():
        raise ObservationFileRejected(file_name, f"{shown}: the file is empty, nothing imported", [
            "row 1: expected a header row: " + ",".join(COLUMNS)])

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error as exc:
        raise ObservationFileRejected(file_name, f"{shown}: not a readable CSV, nothing imported", [
            f"row {len(records) + 1}: {_csv_error_reason(str(exc))}"]) from None

    header = [cell.strip() for cell in records[0]]
    _check_header(header, file_name)
    rows: list[CsvRow] = []
    for index, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        rows.append(CsvRow(row_number=index, header=tuple(header), values=tuple(record)))
    if not rows:
        raise ObservationFileRejected(file_name, f"{shown}: header only, nothing imported", [
            "row 2: the file has a header but no data rows"])
    return rows


def check_observations(rows: Iterable[CsvRow], registry: Registry, *,
                       today: date) -> tuple[list[Observation], list[Problem]]:
    """Check every row against the contract and the registry; collect every problem.

    Returns the observations of the good rows and the problems of the bad ones (in row
    order). A file is importable only when the problem list is empty.
    """
    observations: list[Observation] = []
    problems: list[Problem] = []
    first_row_of: dict[tuple[str, date], int] = {}
    for row in rows:
        row_problems: list[Problem] = []
        observation = _check_row(row, registry, today, row_problems)
        if observation is not None:
            seen = first_row_of.setdefault((observation.account_id, observation.observed_on),
                                           row.row_number)
            if seen != row.row_number:
                row_problems.append(Problem(row.row_number, "observed_on", (
                    f"same account and day as row {seen} ({_show(observation.account_id)} on "
                    f"{observation.observed_on}); keep one of rows {seen} and {row.row_number}")))
            else:
                observations.append(observation)
        problems.extend(row_problems)
    return observations, problems


def observations_table(observations: Sequence[Observation], *, source_file: str,
                       file_sha256: str, imported_at: datetime) -> pa.Table:
    """The rows of one import with the exact ``lake.SCHEMAS['observations']`` schema."""
    return lake.table_from_rows(DATASET, [{
        "agency_id": o.agency_id,
        "platform": o.platform,
        "handle": o.handle,
        "account_id": o.account_id,
        "observed_on": o.observed_on,
        "followers": o.followers,
        "posts_total": o.posts_total,
        "last_post_on": o.last_post_on,
        "note": o.note,
        "source_file": Path(source_file).name,
        "file_sha256": file_sha256,
        "row_number": o.row_number,
        "imported_at": imported_at,
    } for o in observations])


def land_observations(table: pa.Table, *, key: str, day: date) -> Path:
    """Write the import to the landing zone (replacing any leftover of the same file)."""
    # An interrupted earlier import of the same bytes may have left a copy on another day.
    for leftover in _manual_partition_files(lake.LANDING, key):
        lake.remove_file(leftover)
    return lake.write_partition(DATASET, PARTITION_PLATFORM, day, table, key=key,
                                root=config.paths().landing)


def find_accepted_import(file_sha256: str) -> Path | None:
    """The accepted lake file of an earlier import of exactly these bytes, if any."""
    for candidate in _manual_partition_files(lake.ACCEPTED, file_sha256[:16]):
        shas = lake.read_file(candidate, columns=["file_sha256"]).column("file_sha256")
        if file_sha256 in set(shas.to_pylist()):
            return candidate
    return None


def next_import_time(now: datetime) -> datetime:
    """``now`` in UTC, moved just past the latest earlier import if the clock disagrees.

    The warehouse keeps, per account and day, the row with the largest ``imported_at``:
    a later import must carry a strictly larger one, even within the same microsecond.
    """
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    latest = _latest_import_time()
    if latest is not None and now <= latest:
        return latest + timedelta(microseconds=1)
    return now


# ---------------------------------------------------------------------------------------
# Row checks


def _check_row(row: CsvRow, registry: Registry, today: date,
               problems: list[Problem]) -> Observation | None:
    """Check one row; append its problems; return the observation when it has none."""
    n = row.row_number
    cells = row.cells
    start = len(problems)

    # A control character (NUL, bell, line break...) is never part of a real value: the
    # cell is refused as a whole and not checked further. Tab is allowed.
    for column, value in cells.items():
        bad = next((ch for ch in value if _is_control(ch)), None)
        if bad is not None:
            problems.append(Problem(n, column, (
                f"contains the control character U+{ord(bad):04X} (only tab is allowed): "
                f"{_show(value)}")))
            cells[column] = ""
    tainted = {p.column for p in problems[start:]}

    if len(row.values) > len(row.header):
        problems.append(Problem(n, str(len(row.header) + 1), (
            f"{_count(len(row.values) - len(row.header), 'value')} beyond the header's "
            f"{len(row.header)} columns (a comma inside a value needs quotes)")))
    elif len(row.values) < len(row.header):
        problems.append(Problem(n, row.header[len(row.values)], (
            f"missing: the row has {len(row.values)} values, the header {len(row.header)} columns")))

    agency_id = cells.get("agency_id", "").strip()
    agency = None
    if "agency_id" in tainted:
        pass
    elif not agency_id:
        problems.append(Problem(n, "agency_id", "required"))
    else:
        agency = registry.agency(agency_id)
        if agency is None:
            hint = (f" (ids are lower case: {_show(agency_id.lower())})"
                    if registry.agency(agency_id.lower()) else "")
            problems.append(Problem(n, "agency_id", f"unknown agency {_show(agency_id)}{hint}"))

    platform = cells.get("platform", "").strip().lower()
    if not platform:
        if "platform" not in tainted:
            problems.append(Problem(n, "platform", "required"))
        platform = None
    elif platform not in config.PLATFORMS:
        problems.append(Problem(n, "platform", f"unknown platform {_show(cells['platform'].strip())} "
                                               f"(one of {', '.join(config.PLATFORMS)})"))
        platform = None

    handle = cells.get("handle", "")
    account = None
    if "handle" in tainted:
        pass
    elif not normalize_handle(handle):
        problems.append(Problem(n, "handle", "required"))
    elif agency is not None and platform is not None:
        account = registry.find_account(agency.id, platform, handle)
        if account is None:
            problems.append(Problem(n, "handle", _unknown_handle(registry, agency.id,
                                                                 platform, handle)))

    observed_on = _parse_date(cells.get("observed_on", ""), n, "observed_on", problems,
                              required="observed_on" not in tainted)
    if observed_on is not None and observed_on > today:
        problems.append(Problem(n, "observed_on", f"{observed_on} is in the future (today is {today})"))
        observed_on = None

    followers = _parse_count(cells.get("followers", ""), n, "followers", problems,
                             required="followers" not in tainted)
    posts_total = _parse_count(cells.get("posts_total", ""), n, "posts_total", problems,
                               required=False)
    last_post_on = _parse_date(cells.get("last_post_on", ""), n, "last_post_on", problems,
                               required=False)
    if last_post_on is not None and observed_on is not None and last_post_on > observed_on:
        problems.append(Problem(n, "last_post_on",
                                f"{last_post_on} is after observed_on {observed_on}"))

    note = cells.get("note", "")
    if len(problems) > start or account is None or observed_on is None or followers is None:
        return None
    return Observation(
        agency_id=account.agency_id, platform=account.platform, handle=account.handle,
        account_id=account.account_id, observed_on=observed_on, followers=followers,
        posts_total=posts_total, last_post_on=last_post_on,
        note=note if note.strip() else None, row_number=n)


def _parse_date(text: str, row: int, column: str, problems: list[Problem], *,
                required: bool) -> date | None:
    text = text.strip()
    if not text:
        if required:
            problems.append(Problem(row, column, "required (a date written YYYY-MM-DD)"))
        return None
    if not _ISO_DATE.fullmatch(text):
        problems.append(Problem(row, column, f"must be a date written YYYY-MM-DD, got {_show(text)}"))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(row, column, f"{_show(text)} is not a real date"))
        return None


def _parse_count(text: str, row: int, column: str, problems: list[Problem], *,
                 required: bool) -> int | None:
    text = text.strip()
    if not text:
        if required:
            problems.append(Problem(row, column, "required (a whole number >= 0)"))
        return None
    if text.startswith("-") and _DIGITS.fullmatch(text[1:]):
        problems.append(Problem(row, column, f"must be >= 0, got {_show(text)}"))
        return None
    if not _DIGITS.fullmatch(text):
        problems.append(Problem(row, column, "must be a whole number >= 0 written with digits only "
                                             f"(no separators, decimals or exponents), got {_show(text)}"))
        return None
    # Compare the digits' length first: int() of thousands of digits is refused by Python.
    significant = text.lstrip("0")
    if len(significant) > len(str(MAX_COUNT)) or int(significant or "0") > MAX_COUNT:
        # the wording the corpus and users already know; the 10^10 limit is documented
        problems.append(Problem(row, column, f"too large: {_show(text)}"))
        return None
    return int(text)


def _unknown_handle(registry: Registry, agency_id: str, platform: str, handle: str) -> str:
    wanted = account_id_for(platform, handle)
    owner = next((a for a in registry.accounts if a.account_id == wanted), None)
    if owner is not None:
        return (f"{platform} account {_show(handle)} belongs to agency {_show(owner.agency_id)}, "
                f"not {_show(agency_id)}")
    known = [a.handle for a in registry.accounts_for(platform) if a.agency_id == agency_id]
    if not known:
        return f"agency {_show(agency_id)} has no {platform} account in the registry"
    return (f"no {platform} account {_show(handle)} for agency {_show(agency_id)} in the "
            f"registry (its {platform} accounts: {', '.join(_show(h) for h in known)})")


def _check_header(header: list[str], file_name: str) -> None:
    problems: list[str] = []
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name:
            problems.append(f"row 1, column {position}: the column has no name")
        elif name not in COLUMNS:
            hint = (f"did you mean {name.lower()}? names are lower case" if name.lower() in COLUMNS
                    else f"allowed: {', '.join(COLUMNS)}")
            problems.append(f"row 1, column {_show(name)}: unknown column ({hint})")
        elif name in seen:
            problems.append(f"row 1, column {name}: repeated (also column {seen[name]})")
        seen.setdefault(name, position)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(f"row 1, column {name}: required column missing")
    if problems:
        if len(header) == 1 and ";" in header[0]:
            problems.append("row 1: the file looks separated by semicolons; save it as CSV "
                            "with commas (e.g. 'CSV UTF-8' in Excel)")
        raise ObservationFileRejected(file_name, f"{_printable(file_name)}: bad header, "
                                                 "nothing imported", problems)


def _csv_error_reason(message: str) -> str:
    """The csv module's terse complaint, said so that a spreadsheet user can act on it."""
    if "unexpected end of data" in message:
        return "a quoted value starts here and is never closed"
    if "expected after" in message:
        return 'text after a closing quote (a quote inside a quoted value is written "")'
    if "field larger than field limit" in message:
        return f"a value longer than {csv.field_size_limit()} characters"
    return message


def _rejection(file_name: str, problems: list[Problem]) -> ObservationFileRejected:
    bad_rows = len({p.row for p in problems})
    return ObservationFileRejected(
        file_name, f"{_printable(file_name)}: {bad_rows} bad {_plural(bad_rows, 'row')}, nothing imported",
        [str(p) for p in problems])


# ---------------------------------------------------------------------------------------
# Lake and inbox plumbing


def _validate_and_publish(landed: Path, *, run_id: str, run_date: date) -> Path:
    """Run the observations suite on the landed file; return where the rows were accepted.

    Raises ``ValidationFailed`` when the suite quarantined the file.
    """
    from agency_pulse.validation import raise_for_failures, validate_landed

    outcomes = validate_landed([landed], run_id=run_id, run_date=run_date)
    raise_for_failures(outcomes)
    published = next((o.published_to for o in outcomes if o.published_to), None)
    return Path(published) if published else lake.relocate(landed, lake.ACCEPTED)


@contextmanager
def _import_lock() -> Iterator[None]:
    landing = config.paths().landing
    landing.mkdir(parents=True, exist_ok=True)
    with open(landing / ".observations-import.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _manual_partition_files(zone: str, key: str | None = None) -> list[Path]:
    return lake.list_partitions(zone, DATASET, PARTITION_PLATFORM, key=key)


def _latest_import_time() -> datetime | None:
    latest: datetime | None = None
    for zone in (lake.ACCEPTED, lake.LANDING):
        for file in _manual_partition_files(zone):
            column = lake.read_file(file, columns=["imported_at"]).column("imported_at")
            values = [v for v in column.to_pylist() if v is not None]
            if values and (latest is None or max(values) > latest):
                latest = max(values)
    return latest


def _reject_inbox_file(file: Path, rejected_dir: Path, exc: Exception) -> RejectedFile:
    moved = _move_into(file, rejected_dir)
    lines = str(exc).splitlines() or [type(exc).__name__]
    errors_file = moved.with_name(moved.name + ".errors.txt")
    # Private to the owner (the reasons quote the file's values), created afresh: never
    # through a link or over a file someone placed there.
    descriptor = os.open(errors_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | getattr(os, "O_CLOEXEC", 0), 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write("\n".join(lines) + "\n")
    problems = exc.problems if isinstance(exc, ObservationFileRejected) else tuple(lines)
    return RejectedFile(file=moved, errors_file=errors_file, problems=tuple(problems))


def _move_into(file: Path, directory: Path) -> Path:
    """Move a file into ``directory`` without overwriting a namesake already there."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / file.name
    counter = 1
    # lexists: a dangling link is a namesake too, and must not be replaced or written through
    while (os.path.lexists(target)
           or os.path.lexists(target.with_name(target.name + ".errors.txt"))):
        target = directory / f"{file.stem}.{counter}{file.suffix}"
        counter += 1
    os.replace(file, target)
    return target


def _is_control(ch: str) -> bool:
    """A C0/C1 control character other than tab (docs/REFERENCE.md, Manual observations CSV)."""
    return ch != "\t" and (ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F)


def _printable(text: str) -> str:
    """Text safe for one log or error line: control and bidi characters escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _show(value: str) -> str:
    """A user's value quoted for an error line: escaped and cut to a readable length."""
    shown = _printable(value)
    if len(shown) > _SHOWN_CHARS:
        shown = shown[:_SHOWN_CHARS] + f"... ({len(value)} characters)"
    return f"'{shown}'"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _count(count: int, word: str) -> str:
    return f"{count} {_plural(count, word)}"
