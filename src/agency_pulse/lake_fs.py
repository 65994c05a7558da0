"""The lake on one filesystem, for a local folder and for ``s3://`` alike.

``AGENCY_PULSE_LAKE_URL`` unset (the default) keeps the lake in the local folder
``$AGENCY_PULSE_HOME/lake``. Set to ``s3://bucket/prefix``, the S3 (or S3-compatible)
prefix *is* the lake: the same layout (every zone of ``lake_layout``) under the prefix, the
validation results under ``_quality/validation_runs``. Every lake operation (writes and
publishes, checksum records, validation moves, the raw archive, compaction, listings and
reads) goes through a ``LakeFS``: pyarrow's ``LocalFileSystem`` or ``S3FileSystem`` under
one interface. Nothing is mirrored: no host keeps a copy of an S3 lake (each host's extract
state, a derived cache, stays in its local folder).

Naming files. The rest of the code builds lake paths with ``lake_layout`` under the
configured local folder (``config.paths().lake`` and ``.quality``). For a local lake those
are the files themselves; for an S3 lake ``LakeFS.fs_path`` maps them to the same place
under the prefix, and listings give them back in that form (``lake_path``), so paths read
alike on every host. Readers that record what they loaded (the warehouse) name files by a
*location*: the local path, or ``lakes3://bucket/prefix/...`` for S3. DuckDB reads either
kind: ``register`` gives a connection an fsspec view of the same ``S3FileSystem``, so
Parquet is read from S3 directly, without the httpfs extension.

Consistency. Locally a file is written under a temporary name, synced and renamed into
place (``os.replace``), so a reader sees the old file or the new one, never half. S3 has no
rename, but an object appears whole when its upload completes (a PUT is atomic per key and
a later GET or LIST sees it: S3 is strongly read-after-write consistent), so a write goes
straight to its final key. A move (landing -> accepted or quarantine) is copy, then delete
of the source: a crash in between leaves the file in both zones, and validation retried
publishes the landing copy again over the same key (same bytes), so nothing is lost or
counted twice (readers keep one row per key). Publishing an accepted file always follows
the same order, on both filesystems: the old checksum record is deleted first, the file
written or moved into place, then the new record written. A reader in between sees a file
without a record (taken as it is and recorded by the next build or ``lake check``), never
a file beside another file's checksum, so never a false mismatch. Files a publish
replaces (the other parts of a whole-day partition, a month's compacted daily files) are
deleted only after their replacement and its record are in place; a crash in between
leaves both, which read the same.

Credentials: the Airflow connection ``agency_pulse_lake`` (aws type: login = access key id,
password = secret access key, extra ``region_name``, ``endpoint_url`` for S3-compatible
servers, ``aws_session_token``), from ``AIRFLOW_CONN_AGENCY_PULSE_LAKE`` or, inside a task,
Airflow's connection store; otherwise the standard AWS variables (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL_S3`` /
``AWS_ENDPOINT_URL``). Credentials never appear in a log line, an exception or a repr.

Paths inside the lake come from ``lake_layout`` (the only module spelling them).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from agency_pulse import config, lake_layout
from agency_pulse.errors import LakeFileCorrupted
from agency_pulse.settings import Settings

log = logging.getLogger(__name__)

REMOTE_PROTOCOL = "lakes3"  # the scheme DuckDB sees for S3 lake files (our own fsspec view)
LAKE_URL_ENV = "AGENCY_PULSE_LAKE_URL"
LAKE_CONN_ID = "agency_pulse_lake"


class LakeURLError(RuntimeError):
    """The lake URL or its credentials are not usable (the message never holds a secret)."""


@dataclass(frozen=True)
class LakeFS:
    """A lake root (and the validation results beside it) on one pyarrow filesystem.

    Every method takes a lake path (what ``lake_layout`` builds under the configured local
    folders), a location (``location``) or a filesystem path (``fs_path``) alike.
    """

    filesystem: pafs.FileSystem = field(repr=False)
    root: str  # filesystem path of the lake root, without a trailing slash
    quality_root: str  # filesystem path of the folder holding validation_runs/
    remote: bool
    # The configured local folders whose paths name this lake's files (remote lakes only).
    local_root: str = ""
    local_quality: str = ""
    url: str = ""  # as configured (never with credentials)

    # ----------------------------------------------------------------------- naming

    def location(self, fs_path: str) -> str:
        """The location string (what DuckDB reads and the warehouse records) of a path."""
        return f"{REMOTE_PROTOCOL}://{fs_path}" if self.remote else fs_path

    def fs_path(self, location: str | Path) -> str:
        """The pyarrow filesystem path of a lake path, location or filesystem path (pyarrow's
        local filesystem takes absolute paths only)."""
        if not self.remote:
            return os.path.abspath(location)
        text = str(location).removeprefix(f"{REMOTE_PROTOCOL}://")
        if text == self.root or text.startswith(self.root + "/"):
            _check_relative(text[len(self.root):].lstrip("/"))
            return text
        absolute = os.path.abspath(text)
        for local, fs_root in ((self.local_quality, self.quality_root),
                               (self.local_root, self.root)):
            if local and (absolute == local or absolute.startswith(local + "/")):
                relative = absolute[len(local):].lstrip("/")
                return f"{fs_root}/{relative}" if relative else fs_root
        raise ValueError(f"not a path of the lake {self.url}: {location}")

    def display(self, location: str | Path) -> str:
        """How a message or a recorded row names a lake file: its local path, or its
        ``s3://`` URL on an S3 lake (where the local lake path exists on no host)."""
        return f"s3://{self.fs_path(location)}" if self.remote else str(location)

    def lake_path(self, fs_path: str) -> Path:
        """The lake path (as ``lake_layout`` builds it) of a filesystem path."""
        if not self.remote:
            return Path(fs_path)
        for fs_root, local in ((self.quality_root, self.local_quality),
                               (self.root, self.local_root)):
            if fs_path == fs_root or fs_path.startswith(fs_root + "/"):
                return Path(local) / fs_path[len(fs_root):].lstrip("/")
        raise ValueError(f"not a path of the lake {self.url}: {fs_path}")

    def contains(self, path: str | Path) -> bool:
        """Whether a path names a file of this (remote) lake."""
        try:
            self.fs_path(path)
        except ValueError:
            return False
        return True

    # ----------------------------------------------------------------------- listing

    def dataset_files(self, dataset: str) -> list[tuple[str, int, int | None]]:
        """(location, size, modification time in ns) of every accepted partition file of a
        dataset (compacted month files included), sorted by location."""
        lake_layout.check_dataset(dataset)
        return self._files(f"{self.root}/{dataset}", depth=3)

    def validation_run_files(self) -> list[tuple[str, int, int | None]]:
        """(location, size, mtime) of every validation result file, sorted."""
        return self._files(f"{self.quality_root}/{lake_layout.VALIDATION_RUNS}", depth=2)

    def _files(self, folder: str, depth: int) -> list[tuple[str, int, int | None]]:
        # The layout's globs: exactly ``depth`` levels below ``folder``, a *.parquet name that
        # is not a temporary file (those start with a dot).
        selector = pafs.FileSelector(folder, recursive=True, allow_not_found=True)
        found = []
        for info in self.filesystem.get_file_info(selector):
            relative = info.path[len(folder):].lstrip("/")
            if info.type == pafs.FileType.File and relative.count("/") == depth - 1 \
                    and info.base_name.endswith(".parquet") \
                    and not info.base_name.startswith("."):
                found.append((self.location(info.path), info.size, info.mtime_ns))
        return sorted(found)

    def glob(self, base: str | Path, pattern: str) -> list[Path]:
        """The files under ``base`` matching a ``lake_layout`` glob ``pattern`` (``*``, ``?``
        per path segment), as lake paths, sorted (locally: ``Path.glob``)."""
        if not self.remote:
            base = Path(base)
            return sorted(base.glob(pattern)) if base.exists() else []
        segments = pattern.split("/")
        folder = self.fs_path(base)
        while len(segments) > 1 and not any(ch in segments[0] for ch in "*?["):
            folder, segments = f"{folder}/{segments[0]}", segments[1:]  # narrow the listing
        selector = pafs.FileSelector(folder, recursive=len(segments) > 1,
                                     allow_not_found=True)
        found = []
        for info in self.filesystem.get_file_info(selector):
            parts = info.path[len(folder):].lstrip("/").split("/")
            if info.type == pafs.FileType.File and len(parts) == len(segments) and all(
                    fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts, segments,
                                                                          strict=True)):
                found.append(self.lake_path(info.path))
        return sorted(found)

    def files_below(self, folder: str | Path) -> list[tuple[Path, int, int | None]]:
        """(lake path, size, mtime) of every file anywhere under a folder, sorted."""
        selector = pafs.FileSelector(self.fs_path(folder), recursive=True, allow_not_found=True)
        return sorted((self.lake_path(info.path) if self.remote else Path(info.path),
                       info.size, info.mtime_ns)
                      for info in self.filesystem.get_file_info(selector)
                      if info.type == pafs.FileType.File)

    def checksum_records(self, dataset: str) -> list[str]:
        """Locations of every checksum record in a dataset's accepted folders, sorted."""
        lake_layout.check_dataset(dataset)
        folder = f"{self.root}/{dataset}"
        selector = pafs.FileSelector(folder, recursive=True, allow_not_found=True)
        return sorted(
            self.location(info.path) for info in self.filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File and not info.base_name.startswith(".")
            # a checksum record is a name checksummed_file shortens
            and lake_layout.checksummed_file(Path(info.base_name)).name != info.base_name)

    # ----------------------------------------------------------------------- one file

    def info(self, location: str | Path) -> tuple[int, int | None] | None:
        """(size, modification time in ns) of a file, or None when there is none."""
        info = self.filesystem.get_file_info(self.fs_path(location))
        return (info.size, info.mtime_ns) if info.type == pafs.FileType.File else None

    def identity(self, location: str | Path) -> tuple | None:
        """What tells one version of a file from another, or None when there is no file:
        size, mtime and, locally, the inode (a rename replaces it); on S3, where a rewrite
        within the same second at the same size would look alike, the sha256 recorded beside
        an accepted file when it was published (a rewrite records its own)."""
        if not self.remote:
            try:
                stat = os.stat(self.fs_path(location))
            except FileNotFoundError:
                return None
            return (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        info = self.info(location)
        if info is None:
            return None
        return (*info, self.recorded_checksum(location))

    def exists(self, location: str | Path) -> bool:
        return self.info(location) is not None

    def read_bytes(self, location: str | Path) -> bytes:
        with self.filesystem.open_input_stream(self.fs_path(location)) as stream:
            return stream.read()

    def read_table(self, location: str | Path, columns: list[str] | None = None,
                   schema: pa.Schema | None = None) -> pa.Table:
        """A Parquet file read in full, or only ``columns`` (raises on a damaged file)."""
        return pq.read_table(self.fs_path(location), filesystem=self.filesystem,
                             columns=columns, schema=schema)

    def parquet_file(self, location: str | Path) -> pq.ParquetFile:
        return pq.ParquetFile(self.fs_path(location), filesystem=self.filesystem)

    def parquet_metadata(self, location: str | Path) -> dict:
        """The key-value metadata of a Parquet file's schema."""
        return pq.read_schema(self.fs_path(location), filesystem=self.filesystem).metadata or {}

    def sha256(self, location: str | Path) -> str:
        """The sha256 of a file's bytes, as lower-case hex."""
        digest = hashlib.sha256()
        with self.filesystem.open_input_stream(self.fs_path(location)) as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    # ----------------------------------------------------------------------- writing

    def write(self, location: str | Path, write: Callable, *, replace: bool = True) -> None:
        """Write a file whole: ``write`` gets a binary file object. Readers see the old file
        or the new one, never half: locally a temporary file (synced) renamed into place;
        on S3 the object appears when its upload completes. ``replace=False`` refuses to
        replace an existing file (FileExistsError; locally a link, which never replaces)."""
        target = self.fs_path(location)
        if self.remote:
            if not replace and self.exists(target):
                raise FileExistsError(target)
            with self.filesystem.open_output_stream(target) as out:
                write(out)
            return
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = lake_layout.temporary_path(Path(target))
        try:
            with open(tmp, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            if replace:
                os.replace(tmp, target)
            else:
                os.link(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def write_bytes(self, location: str | Path, data: bytes, *, replace: bool = True) -> None:
        self.write(location, lambda out: out.write(data), replace=replace)

    def write_table(self, location: str | Path, table: pa.Table, **options) -> None:
        """Write a Parquet file whole (zstd unless ``options`` say otherwise)."""
        options.setdefault("compression", "zstd")
        self.write(location, lambda out: pq.write_table(table, out, **options))

    def move(self, source: str | Path, target: str | Path) -> None:
        """Move one file, replacing ``target``: locally a rename (atomic); on S3 a copy,
        then the source deleted. FileNotFoundError when the source is gone."""
        source_path, target_path = self.fs_path(source), self.fs_path(target)
        if not self.remote:
            os.makedirs(os.path.dirname(target_path), exist_ok=True)
            os.replace(source_path, target_path)
            return
        if not self.exists(source_path):
            raise FileNotFoundError(source_path)
        self.filesystem.copy_file(source_path, target_path)
        self.filesystem.delete_file(source_path)

    def delete(self, location: str | Path) -> bool:
        """Delete one file; False when it was not there."""
        path = self.fs_path(location)
        try:
            if self.remote:
                self.filesystem.delete_file(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            return False
        return True

    def remove_empty_folder(self, location: str | Path) -> None:
        """Remove a folder once it is empty (S3 has no folders: nothing to do)."""
        if not self.remote:
            try:
                os.rmdir(self.fs_path(location))
            except OSError:
                pass

    # ----------------------------------------------------------------------- checksums

    def recorded_checksum(self, location: str | Path) -> str | None:
        """The sha256 recorded for a partition file, or None when none is recorded."""
        try:
            text = self.read_bytes(checksum_of(location)).decode("ascii", errors="replace")
        except FileNotFoundError:
            return None
        return (text.split() or [""])[0].lower()

    def record_checksum(self, location: str | Path, digest: str | None = None) -> str:
        """Record a partition file's sha256 beside it (``lake_layout.checksum_path``), in the
        ``sha256sum`` format, written whole. Returns the digest."""
        digest = digest or self.sha256(location)
        name = posixpath.basename(self.fs_path(location))
        self.write_bytes(checksum_of(location), f"{digest}  {name}\n".encode("ascii"))
        return digest

    def forget_checksum(self, location: str | Path) -> None:
        """Remove a partition file's checksum record (the file is being replaced or removed)."""
        self.delete(checksum_of(location))

    def verify_checksum(self, location: str | Path):
        """Compare an accepted file with the checksum recorded when it was published (a
        ``ChecksumCheck`` naming the file as given)."""
        actual = self.sha256(location)
        recorded = self.recorded_checksum(location)
        status = "missing" if recorded is None else "ok" if recorded == actual else "mismatch"
        return ChecksumCheck(path=Path(location) if isinstance(location, Path)
                                  or not self.remote else location,
                                  status=status, recorded=recorded, actual=actual,
                                  shown=self.display(location))

    def verify_accepted_files(self, locations) -> list:
        """Verify accepted files before they are read; returns every check. Raises
        ``LakeFileCorrupted`` naming every mismatch; records a missing checksum (a file
        published before checksums were kept) with one log line."""
        checks = [self.verify_checksum(location) for location in locations]
        mismatched = [check for check in checks if check.status == "mismatch"]
        if mismatched:
            raise LakeFileCorrupted("\n".join(map(mismatch_line, mismatched)))
        for check in checks:
            if check.status == "missing":
                self.record_checksum(check.path, check.actual)
                log.warning("lake: %s had no recorded checksum (published before checksums "
                            "were kept); recorded it now", check.path)
        return checks

    # ----------------------------------------------------------------------- DuckDB

    def register(self, con) -> None:
        """Let a DuckDB connection read this lake's locations (no-op for a local lake)."""
        if self.remote:
            con.register_filesystem(_ArrowS3View(self.filesystem))


@dataclass(frozen=True)
class ChecksumCheck:
    """One accepted file against its recorded checksum. ``status``: ``ok``, ``mismatch``
    or ``missing`` (no checksum recorded: a file published before checksums existed)."""

    path: Path
    status: str
    recorded: str | None
    actual: str
    # how messages name the file (``LakeFS.display``; else ``path``): not part of the check
    shown: str = field(default="", compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def what_to_do(path: Path) -> str:
    """What an operator does about a damaged accepted file: restore it, or redo its day."""
    try:
        found = lake_layout.parse_partition(path)
    except lake_layout.NotAPartitionFile:
        return "restore it from backup"
    if found.dataset == "observations":
        return ("restore it from backup or import the observations file again with "
                "agency-pulse observations import FILE")
    return ("restore it from backup or rerun the day with agency-pulse run --date "
            f"{found.day.isoformat()} --platform {found.platform}")


def mismatch_line(check: ChecksumCheck) -> str:
    """One line naming a file that does not match its checksum, and what to do."""
    return (f"accepted file {check.shown or check.path} does not match its checksum (recorded "
            f"{check.recorded[:16]}..., now {check.actual[:16]}...): {what_to_do(check.path)}")


def checksum_of(location: str | Path) -> str | Path:
    """The checksum record of a partition file (``lake_layout.checksum_path``), named the
    same way (a lake path, a location or a filesystem path)."""
    if isinstance(location, Path):
        return lake_layout.checksum_path(location)
    prefix = f"{REMOTE_PROTOCOL}://" if location.startswith(f"{REMOTE_PROTOCOL}://") else ""
    path = location.removeprefix(prefix)
    return prefix + lake_layout.checksum_path(Path(path)).as_posix()


def checksummed_location(record: str) -> str:
    """The file a checksum record's location describes (``checksum_of``'s inverse)."""
    prefix = f"{REMOTE_PROTOCOL}://" if record.startswith(f"{REMOTE_PROTOCOL}://") else ""
    path = record.removeprefix(prefix)
    return prefix + lake_layout.checksummed_file(Path(path)).as_posix()


def platform_folder(location: str) -> str:
    """The folder holding every partition of a file's dataset and platform (as a string:
    ``pathlib`` would fold the ``//`` of a remote location)."""
    return posixpath.dirname(posixpath.dirname(str(location)))


# --------------------------------------------------------------------------- the configured lake

_OPENED: dict[tuple, LakeFS] = {}
_OPENED_LOCK = threading.Lock()
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                         "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3",
                         "AWS_ENDPOINT_URL", f"AIRFLOW_CONN_{LAKE_CONN_ID.upper()}")


def open_lake(settings: Settings | None = None, home_paths: config.Paths | None = None
              ) -> LakeFS:
    """The configured lake: ``AGENCY_PULSE_LAKE_URL`` (``s3://bucket/prefix``) when set,
    else the local folder under ``$AGENCY_PULSE_HOME``. An S3 lake is opened once per
    process and configuration (its credentials read once)."""
    settings = settings or Settings.from_environment()
    home_paths = home_paths or config.paths(settings)
    url = settings.lake_url
    local_root = os.path.abspath(home_paths.lake)
    local_quality = os.path.abspath(home_paths.quality)
    if not url or url.startswith("file://"):
        root = _file_url_root(url) if url else local_root
        return LakeFS(pafs.LocalFileSystem(), root, local_quality, remote=False,
                      url=url or local_root)
    key = (url, local_root, local_quality, *(os.environ.get(v) for v in _CREDENTIAL_VARIABLES))
    with _OPENED_LOCK:
        opened = _OPENED.get(key)
    if opened is None:
        filesystem, root, safe_url = s3_lake(url)
        quality_root = f"{root}/{lake_layout.SHARED_VALIDATION_RUNS}".rsplit("/", 1)[0]
        opened = LakeFS(filesystem, root, quality_root, remote=True, local_root=local_root,
                        local_quality=local_quality, url=safe_url)
        with _OPENED_LOCK:
            _OPENED[key] = opened
    return opened


def for_path(path: str | Path) -> LakeFS:
    """The filesystem a lake path is on: the configured S3 lake for a path under the
    configured lake (or validation results) folder, or a ``lakes3://`` location, when the
    lake is on S3; else the local filesystem (any other folder: a test's, a backup's)."""
    if str(path).startswith(f"{REMOTE_PROTOCOL}://"):
        return open_lake()
    settings = Settings.from_environment()
    if not settings.lake_url or settings.lake_url.startswith("file://"):
        return LOCAL
    shared = open_lake(settings)
    return shared if shared.contains(path) else LOCAL


def _file_url_root(url: str) -> str:
    return unquote(urlsplit(url).path).rstrip("/") or "/"


def s3_lake(url: str, credentials: S3Credentials | None = None
            ) -> tuple[pafs.S3FileSystem, str, str]:
    """(filesystem, root path ``bucket/prefix``, URL without credentials) of an
    ``s3://bucket/prefix`` lake URL; LakeURLError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("s3", "s3a"):
        raise LakeURLError(f"{LAKE_URL_ENV}: unsupported scheme {parts.scheme!r} "
                           "(expected s3://bucket/prefix or file:///path)")
    if parts.username or parts.password or "@" in parts.netloc:
        raise LakeURLError(f"{LAKE_URL_ENV} must not hold credentials: put them in the "
                           f"Airflow connection {LAKE_CONN_ID} or the AWS variables")
    bucket = parts.netloc
    if not bucket:
        raise LakeURLError(f"{LAKE_URL_ENV}: no bucket in the URL")
    prefix = parts.path.strip("/")
    _check_relative(prefix)
    credentials = credentials or s3_credentials()
    root = f"{bucket}/{prefix}".rstrip("/")
    return s3_filesystem(credentials), root, f"s3://{root}"


@dataclass(frozen=True)
class S3Credentials:
    """What S3FileSystem needs; ``repr`` hides the keys."""

    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint_url: str | None = None  # e.g. http://127.0.0.1:9000 for an S3-compatible server
    source: str = "default"  # "airflow" | "environment" | "default" (pyarrow's own chain)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(v for v in (self.access_key, self.secret_key, self.session_token) if v)


def s3_filesystem(credentials: S3Credentials) -> pafs.S3FileSystem:
    options: dict = {}
    if credentials.access_key and credentials.secret_key:
        options.update(access_key=credentials.access_key, secret_key=credentials.secret_key)
        if credentials.session_token:
            options["session_token"] = credentials.session_token
    if credentials.region:
        options["region"] = credentials.region
    if credentials.endpoint_url:
        endpoint = urlsplit(credentials.endpoint_url if "://" in credentials.endpoint_url
                            else f"https://{credentials.endpoint_url}")
        options.update(endpoint_override=endpoint.netloc, scheme=endpoint.scheme or "https")
    return pafs.S3FileSystem(**options)


def s3_credentials() -> S3Credentials:
    """Credentials from the Airflow connection ``agency_pulse_lake``, else the AWS variables."""
    connection = _connection_from_airflow_task() or _connection_from_environment()
    if connection is not None:
        extra = connection.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        credentials = S3Credentials(
            access_key=connection.get("login") or extra.get("aws_access_key_id"),
            secret_key=connection.get("password") or extra.get("aws_secret_access_key"),
            session_token=extra.get("aws_session_token"),
            region=extra.get("region_name") or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION"),
            endpoint_url=extra.get("endpoint_url") or _endpoint_from_environment(),
            source="airflow")
        _register_secrets(credentials.secrets)
        return credentials
    environment = S3Credentials(
        access_key=os.environ.get("AWS_ACCESS_KEY_ID"),
        secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
        session_token=os.environ.get("AWS_SESSION_TOKEN"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        endpoint_url=_endpoint_from_environment(),
        source="environment" if os.environ.get("AWS_ACCESS_KEY_ID") else "default")
    _register_secrets(environment.secrets)
    return environment


def _endpoint_from_environment() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _connection_from_environment() -> dict | None:
    value = os.environ.get(f"AIRFLOW_CONN_{LAKE_CONN_ID.upper()}", "").strip()
    if not value:
        return None
    if value.startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise LakeURLError(f"AIRFLOW_CONN_{LAKE_CONN_ID.upper()} is not valid JSON") \
                from None
    parts = urlsplit(value)
    return {"login": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "extra": dict(parse_qsl(parts.query))}


def _connection_from_airflow_task() -> dict | None:
    from agency_pulse.connections import running_in_airflow_task

    if not running_in_airflow_task():
        return None
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(LAKE_CONN_ID)
    except Exception as exc:  # AirflowNotFoundException and friends: fall back
        log.debug("no Airflow connection %s (%s)", LAKE_CONN_ID, type(exc).__name__)
        return None
    return {"login": conn.login, "password": conn.password,
            "extra": conn.extra_dejson if conn.extra else {}}


def _register_secrets(secrets: tuple[str, ...]) -> None:
    from agency_pulse.connections import register_secrets_with_airflow

    register_secrets_with_airflow(secrets)


def _check_relative(relative: str) -> None:
    # Paths come from the lake's own layout; refuse anything that climbs out of the root.
    if any(part in ("..", ".") for part in relative.split("/")) or "\\" in relative:
        raise ValueError(f"invalid lake path {relative!r}")


def _arrow_s3_view_class():
    from fsspec.implementations.arrow import ArrowFSWrapper

    class ArrowS3View(ArrowFSWrapper):
        """fsspec over pyarrow's S3FileSystem, under our own scheme (DuckDB routes by it)."""

        protocol = (REMOTE_PROTOCOL,)

        @classmethod
        def _strip_protocol(cls, path):
            if isinstance(path, list):
                return [cls._strip_protocol(p) for p in path]
            return str(path).removeprefix(f"{REMOTE_PROTOCOL}://").rstrip("/")

    return ArrowS3View


def _ArrowS3View(filesystem: pafs.FileSystem):  # noqa: N802 - a class built on first use
    return _arrow_s3_view_class()(filesystem)


# Local files named by their paths (any root): what a local lake's operations go through.
LOCAL = LakeFS(pafs.LocalFileSystem(), "", "", remote=False)
