"""Object storage for the lake, so workers on different hosts share it.

``AGENCY_PULSE_LAKE_URL`` unset (the default) keeps the lake on the local filesystem under
``$AGENCY_PULSE_HOME/lake``, exactly as before. Set to ``s3://bucket/prefix``, the S3 (or
S3-compatible) prefix becomes the shared lake: the same layout as locally (every zone of
``lake_layout``) under the prefix.

Each host keeps working on its local lake folder (extract writes, validation moves, readers
glob it) and this module keeps the shared copy in step:

- ``lake.write_partition`` / ``lake.archive_raw`` upload each file they write
  (``upload_lake_file``), so a landed extract is visible to every host at once;
- validation first fetches the landed batches (``download_missing("landing")``), then
  mirrors each publish or quarantine move and its results (``share_validation_outcomes``);
- the readers read the shared lake where it is, through ``lake_fs`` (the same
  ``S3FileSystem``): the warehouse build (DuckDB, no httpfs extension needed), the extract
  state, the follower-jump rule and the lake check; ``lake.read_dataset`` too. Only
  compaction still works on a local copy of the accepted zone (``mirror_accepted_lake``:
  changed objects fetched, replaced parts dropped).

Credentials: the Airflow connection ``agency_pulse_lake`` (aws type: login = access key id,
password = secret access key, extra ``region_name``, ``endpoint_url`` for S3-compatible
servers, ``aws_session_token``), from ``AIRFLOW_CONN_AGENCY_PULSE_LAKE`` or, inside a task,
Airflow's connection store; otherwise the standard AWS variables (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL_S3`` /
``AWS_ENDPOINT_URL``). Credentials never appear in a log line, an exception or a repr.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, unquote, urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from agency_pulse import config, lake_layout
from agency_pulse.lake_layout import SHARED_VALIDATION_RUNS, relative_to_lake  # noqa: F401 (re-export)
from agency_pulse.settings import Settings

log = logging.getLogger(__name__)

LAKE_URL_ENV = "AGENCY_PULSE_LAKE_URL"
LAKE_CONN_ID = "agency_pulse_lake"


class ObjectStoreError(RuntimeError):
    """The lake URL or its credentials are not usable (the message never holds a secret)."""


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


@dataclass(frozen=True)
class LakeStore:
    """A lake root on a pyarrow filesystem; every path argument is relative to the root."""

    filesystem: pafs.FileSystem = field(repr=False)
    root: str  # filesystem path of the lake root, without a trailing slash
    url: str  # as configured (never with credentials)

    @property
    def is_remote(self) -> bool:
        return not isinstance(self.filesystem, pafs.LocalFileSystem)

    def path(self, relative: str | PurePosixPath = "") -> str:
        relative = str(relative).strip("/")
        _check_relative(relative)
        return f"{self.root}/{relative}" if relative else self.root

    def write_table(self, relative: str, table: pa.Table) -> str:
        """Write a Parquet file whole: readers see the old object or the new one, never half."""
        return self._write(relative, lambda out: pq.write_table(table, out, compression="zstd"))

    def write_bytes(self, relative: str, data: bytes) -> str:
        return self._write(relative, lambda out: out.write(data))

    def read_table(self, relative: str, schema: pa.Schema | None = None) -> pa.Table:
        return pq.read_table(self.path(relative), filesystem=self.filesystem, schema=schema)

    def read_bytes(self, relative: str) -> bytes:
        with self.filesystem.open_input_stream(self.path(relative)) as stream:
            return stream.read()

    def exists(self, relative: str) -> bool:
        return self.filesystem.get_file_info(self.path(relative)).type == pafs.FileType.File

    def list_files(self, prefix: str = "", suffix: str = "") -> list[str]:
        """Relative paths of the files under ``prefix`` (recursive), sorted; temporary
        files (a name starting with a dot) never match."""
        selector = pafs.FileSelector(self.path(prefix), recursive=True, allow_not_found=True)
        found = []
        for info in self.filesystem.get_file_info(selector):
            name = info.path.rsplit("/", 1)[-1]
            if info.type == pafs.FileType.File and name.endswith(suffix) \
                    and not name.startswith("."):
                found.append(info.path[len(self.root):].lstrip("/"))
        return sorted(found)

    def infos(self, prefix: str = "") -> dict[str, tuple[int, int | None]]:
        """Relative path -> (size, modification time in ns or None) of every file under
        ``prefix`` except temporary ones (a name starting with a dot)."""
        selector = pafs.FileSelector(self.path(prefix), recursive=True, allow_not_found=True)
        found = {}
        for info in self.filesystem.get_file_info(selector):
            if info.type == pafs.FileType.File and not info.base_name.startswith("."):
                found[info.path[len(self.root):].lstrip("/")] = (info.size, info.mtime_ns)
        return found

    def move(self, source: str, target: str) -> None:
        """Move one file (on S3: copy, then delete the source)."""
        self._make_parent(target)
        if self.is_remote:
            self.filesystem.copy_file(self.path(source), self.path(target))
            self.filesystem.delete_file(self.path(source))
        else:
            self.filesystem.move(self.path(source), self.path(target))

    def delete(self, relative: str) -> bool:
        """Delete one file; False when it was not there."""
        try:
            self.filesystem.delete_file(self.path(relative))
        except FileNotFoundError:
            return False
        return True

    def _write(self, relative: str, write) -> str:
        target = self.path(relative)
        self._make_parent(relative)
        if self.is_remote:
            # An S3 object appears whole when its upload completes.
            with self.filesystem.open_output_stream(target) as out:
                write(out)
            return target
        parent, name = target.rsplit("/", 1)
        tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
        with self.filesystem.open_output_stream(tmp) as out:
            write(out)
        self.filesystem.move(tmp, target)
        return target

    def _make_parent(self, relative: str) -> None:
        if not self.is_remote:
            self.filesystem.create_dir(self.path(relative).rsplit("/", 1)[0], recursive=True)


# --------------------------------------------------------------------------- configuration

def lake_url(settings: Settings | None = None) -> str | None:
    """The configured shared lake URL, or None for the local lake (without ``settings``,
    from the environment read now)."""
    return (settings or Settings.from_environment()).lake_url


def remote_lake() -> LakeStore | None:
    """The shared lake when AGENCY_PULSE_LAKE_URL points at object storage, else None."""
    url = lake_url()
    if url is None or url.startswith("file://"):
        return None
    return open_lake(url)


def lake_store() -> LakeStore:
    """Where the lake is: the shared object store when configured, else the local folder."""
    return remote_lake() or open_lake(None)


def open_lake(url: str | None, credentials: S3Credentials | None = None) -> LakeStore:
    """A LakeStore for ``s3://bucket/prefix``, ``file:///path`` or None (the local lake)."""
    if url is None:
        root = config.paths().lake
        return LakeStore(pafs.LocalFileSystem(), str(root).rstrip("/"), str(root))
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LakeStore(pafs.LocalFileSystem(), unquote(parts.path).rstrip("/") or "/", url)
    if parts.scheme not in ("s3", "s3a"):
        raise ObjectStoreError(f"{LAKE_URL_ENV}: unsupported scheme {parts.scheme!r} "
                               "(expected s3://bucket/prefix or file:///path)")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ObjectStoreError(f"{LAKE_URL_ENV} must not hold credentials: put them in the "
                               f"Airflow connection {LAKE_CONN_ID} or the AWS variables")
    bucket = parts.netloc
    if not bucket:
        raise ObjectStoreError(f"{LAKE_URL_ENV}: no bucket in the URL")
    prefix = parts.path.strip("/")
    credentials = credentials or s3_credentials()
    safe_url = f"s3://{bucket}/{prefix}".rstrip("/")
    return LakeStore(s3_filesystem(credentials), f"{bucket}/{prefix}".rstrip("/"), safe_url)


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
            raise ObjectStoreError(f"AIRFLOW_CONN_{LAKE_CONN_ID.upper()} is not valid JSON") \
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


# --------------------------------------------------------------------------- local <-> shared

# Where a local file lives in the shared lake (``relative_to_lake``) and where validation
# results live (``SHARED_VALIDATION_RUNS``) is the layout's to say: both come from
# lake_layout, imported above.


def upload_lake_file(path: Path, store: LakeStore | None = None) -> str | None:
    """Copy one local lake file to the same place in the shared lake (no-op without one).

    Returns the shared path, or None when the lake is local or the file is outside it.
    """
    store = store or remote_lake()
    relative = relative_to_lake(path) if store is not None else None
    if store is None or relative is None:
        return None
    return store.write_bytes(relative, Path(path).read_bytes())


def download_missing(prefix: str, store: LakeStore | None = None,
                     local_root: Path | None = None, *, delete_stale: bool = False) -> list[Path]:
    """Bring the local lake's files under ``prefix`` in step with the shared lake.

    Fetches every shared file the local lake lacks or holds with another size or time;
    with ``delete_stale`` also removes local Parquet files the shared lake no longer has
    (a partition another host replaced). Returns the local paths written. No-op without a
    shared lake.
    """
    store = store or remote_lake()
    if store is None:
        return []
    local_root = local_root or config.paths().lake
    remote = store.infos(prefix)
    fetched = []
    for relative, (size, mtime_ns) in sorted(remote.items()):
        local = local_root / relative
        if local.exists():
            stat = local.stat()
            if stat.st_size == size and (mtime_ns is None or stat.st_mtime_ns == mtime_ns):
                continue
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(store.read_bytes(relative))
        if mtime_ns is not None:
            # The shared copy's time: an unchanged object is never fetched twice, and the
            # warehouse's incremental load sees a replaced one as changed.
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.replace(tmp, local)
        fetched.append(local)
    if delete_stale:
        for local in (lake_layout.partition_files_below(local_root / prefix)
                      + lake_layout.checksum_files_below(local_root / prefix)):
            if local.relative_to(local_root).as_posix() not in remote:
                local.unlink()
    if fetched:
        log.info("lake: fetched %d file(s) under %s from %s", len(fetched), prefix or "/",
                 store.url)
    return fetched


def mirror_accepted_lake(platform: str | None = None, *, datasets: Iterable[str] | None = None,
                         store: LakeStore | None = None, local_root: Path | None = None
                         ) -> list[Path]:
    """Make the local accepted lake (every dataset or ``datasets``, every platform or one)
    an exact copy of the shared one, for readers that glob local files (the warehouse,
    the extract state, validation's follower-jump rule). No-op without a shared lake."""
    store = store or remote_lake()
    if store is None:
        return []
    fetched = []
    for dataset in datasets or lake_layout.SCHEMAS:
        prefix = lake_layout.shared_prefix(dataset, platform)
        fetched += download_missing(prefix, store, local_root, delete_stale=True)
    return fetched


def publish_moves(moves: Iterable[tuple[Path, Path]], store: LakeStore | None = None) -> int:
    """Mirror local moves (landing -> accepted or quarantine) in the shared lake.

    Each (source, target) pair is local lake paths after the move: the target's bytes are
    uploaded, then the source object deleted. Returns the number mirrored.
    """
    store = store or remote_lake()
    if store is None:
        return 0
    count = 0
    for source, target in moves:
        source_relative, target_relative = relative_to_lake(source), relative_to_lake(target)
        if source_relative is None or target_relative is None or not Path(target).exists():
            continue
        checksum = lake_layout.checksum_path(Path(target))
        checksum_relative = relative_to_lake(checksum)
        # Never the old record beside the new bytes: a host mirroring meanwhile sees a file
        # without a checksum (accepted), never a false mismatch.
        if checksum_relative is not None:
            store.delete(checksum_relative)
        store.write_bytes(target_relative, Path(target).read_bytes())
        if checksum_relative is not None and checksum.exists():
            store.write_bytes(checksum_relative, checksum.read_bytes())
        store.delete(source_relative)
        if lake_layout.is_whole_partition(target):
            # A whole platform-day replaces its partition (lake.write_partition's rule).
            _delete_other_parts(store, target_relative)
        count += 1
    return count


def _delete_other_parts(store: LakeStore, kept_relative: str) -> None:
    directory = kept_relative.rsplit("/", 1)[0]
    for relative in store.list_files(directory, suffix=".parquet"):
        if relative != kept_relative and relative.count("/") == kept_relative.count("/"):
            store.delete(relative)
            store.delete(lake_layout.checksum_path(PurePosixPath(relative)).as_posix())


def share_files(paths: Iterable[Path], store: LakeStore | None = None) -> int:
    """Upload local files (lake files, validation results) that the shared lake lacks or
    holds with another size. Returns the number uploaded; no-op without a shared lake."""
    store = store or remote_lake()
    if store is None:
        return 0
    count = 0
    known: dict[str, dict[str, tuple[int, int | None]]] = {}  # one listing per folder
    for path in paths:
        relative = relative_to_lake(path)
        if relative is None or not Path(path).is_file():
            continue
        folder = relative.rsplit("/", 1)[0]
        if folder not in known:
            known[folder] = store.infos(folder)
        shared = known[folder].get(relative)
        if shared is None or shared[0] != Path(path).stat().st_size:
            store.write_bytes(relative, Path(path).read_bytes())
            count += 1
    return count


def delete_lake_files(paths: Iterable[Path], store: LakeStore | None = None) -> int:
    """Delete the shared copies of local lake files (e.g. partition files a rerun replaced)."""
    store = store or remote_lake()
    if store is None:
        return 0
    return sum(store.delete(relative) for relative in map(relative_to_lake, paths)
               if relative is not None)


def read_lake_files(dataset: str, store: LakeStore, schema: pa.Schema | None = None
                    ) -> list[tuple[str, pa.Table]]:
    """Every accepted Parquet file of a dataset as (lake path, table), sorted by path."""
    return [(relative, store.read_table(relative, schema=schema))
            for relative in store.list_files(dataset, suffix=".parquet")
            if lake_layout.is_shared_partition_file(relative)]


def share_validation_outcomes(outcomes: Iterable, store: LakeStore | None = None) -> int:
    """Mirror validation's verdicts in the shared lake: each landed file's move to the
    accepted zone or quarantine (with its result), and the validation results."""
    store = store or remote_lake()
    if store is None:
        return 0
    outcomes = list(outcomes)
    moves = [(Path(o.file), Path(o.published_to or o.quarantined_to)) for o in outcomes
             if getattr(o, "published_to", None) or o.quarantined_to]
    mirrored = publish_moves(moves, store)
    results = [lake_layout.result_path(Path(o.quarantined_to))
               for o in outcomes if o.quarantined_to]
    validation_runs = lake_layout.list_validation_runs()
    share_files([*results, *validation_runs], store)
    return mirrored
