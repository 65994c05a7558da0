"""The lake as readers see it: one filesystem for a local folder and for ``s3://`` alike.

``LakeFS`` names every lake file by a *location* string: the file's local path when the
lake is local (exactly what ``glob`` gives, so local warehouses keep their loaded-file
records), and ``lakes3://bucket/prefix/...`` when the lake is on object storage. DuckDB
reads either kind: for an S3 lake ``register`` gives the connection an fsspec view of the
same pyarrow ``S3FileSystem`` (``object_store``'s credentials), so Parquet is read from S3
directly, without the httpfs extension and without a local copy.

Paths inside the lake come from ``lake_layout`` (the only module spelling them); this module
only lists, reads and verifies them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from agency_pulse import config, lake_layout
from agency_pulse.settings import Settings

log = logging.getLogger(__name__)

REMOTE_PROTOCOL = "lakes3"  # the scheme DuckDB sees for S3 lake files (our own fsspec view)


@dataclass(frozen=True)
class LakeFS:
    """A lake root (and the validation results beside it) on one pyarrow filesystem."""

    filesystem: pafs.FileSystem = field(repr=False)
    root: str  # filesystem path of the lake root, without a trailing slash
    quality_root: str  # filesystem path of the folder holding validation_runs/
    remote: bool

    # ----------------------------------------------------------------------- locations

    def location(self, fs_path: str) -> str:
        """The location string (what DuckDB reads and the warehouse records) of a path."""
        return f"{REMOTE_PROTOCOL}://{fs_path}" if self.remote else fs_path

    def fs_path(self, location: str | Path) -> str:
        """The pyarrow filesystem path of a location string (pyarrow's local filesystem
        takes absolute paths only)."""
        if not self.remote:
            return os.path.abspath(location)
        return str(location).removeprefix(f"{REMOTE_PROTOCOL}://")

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

    # ----------------------------------------------------------------------- reading

    def read_bytes(self, location: str) -> bytes:
        with self.filesystem.open_input_stream(self.fs_path(location)) as stream:
            return stream.read()

    def parquet_metadata(self, location: str) -> dict:
        """The key-value metadata of a Parquet file's schema."""
        return pq.read_schema(self.fs_path(location), filesystem=self.filesystem).metadata or {}

    def sha256(self, location: str) -> str:
        digest = hashlib.sha256()
        with self.filesystem.open_input_stream(self.fs_path(location)) as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def verify_checksum(self, location: str):
        """``lake.verify_checksum`` for a file on this filesystem (a ``lake.ChecksumCheck``)."""
        from agency_pulse import lake

        if not self.remote:
            return lake.verify_checksum(Path(location))
        actual = self.sha256(location)
        try:
            text = self.read_bytes(checksum_of(location)).decode("ascii", errors="replace")
            recorded = (text.split() or [""])[0].lower()
        except FileNotFoundError:
            recorded = None
        status = "missing" if recorded is None else "ok" if recorded == actual else "mismatch"
        return lake.ChecksumCheck(path=location, status=status, recorded=recorded,
                                  actual=actual)

    def record_checksum(self, location: str, digest: str) -> None:
        """``lake.record_checksum`` for a file on this filesystem (an S3 object appears
        whole, so the record is written in place)."""
        from agency_pulse import lake

        if not self.remote:
            lake.record_checksum(Path(location), digest)
            return
        name = posixpath.basename(self.fs_path(location))
        with self.filesystem.open_output_stream(self.fs_path(checksum_of(location))) as out:
            out.write(f"{digest}  {name}\n".encode("ascii"))

    def verify_accepted_files(self, locations) -> list:
        """``lake.verify_accepted_files`` for files on this filesystem: raises
        ``lake.LakeFileCorrupted`` naming every mismatch; records a missing checksum."""
        from agency_pulse import lake

        if not self.remote:
            return lake.verify_accepted_files(locations)
        checks = [self.verify_checksum(location) for location in locations]
        mismatched = [check for check in checks if check.status == "mismatch"]
        if mismatched:
            raise lake.LakeFileCorrupted("\n".join(map(lake.mismatch_line, mismatched)))
        for check in checks:
            if check.status == "missing":
                self.record_checksum(check.path, check.actual)
                log.warning("lake: %s had no recorded checksum (published before checksums "
                            "were kept); recorded it now", check.path)
        return checks

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

    def read_table(self, location: str, columns: list[str] | None = None, schema=None):
        """A Parquet file read in full, or only ``columns`` (raises on a damaged file)."""
        return pq.read_table(self.fs_path(location), filesystem=self.filesystem,
                             columns=columns, schema=schema)

    def register(self, con) -> None:
        """Let a DuckDB connection read this lake's locations (no-op for a local lake)."""
        if self.remote:
            con.register_filesystem(_ArrowS3View(self.filesystem))


def checksum_of(location: str) -> str:
    """The location of a partition file's checksum record (``lake_layout.checksum_path``)."""
    prefix = f"{REMOTE_PROTOCOL}://" if location.startswith(f"{REMOTE_PROTOCOL}://") else ""
    path = location.removeprefix(prefix)
    return prefix + lake_layout.checksum_path(Path(path)).as_posix()


def platform_folder(location: str) -> str:
    """The folder holding every partition of a file's dataset and platform (as a string:
    ``pathlib`` would fold the ``//`` of a remote location)."""
    return posixpath.dirname(posixpath.dirname(str(location)))


def open_lake(settings: Settings | None = None, home_paths: config.Paths | None = None
              ) -> LakeFS:
    """The configured lake: ``AGENCY_PULSE_LAKE_URL`` (``s3://bucket/prefix``) when set,
    else the local folder under ``$AGENCY_PULSE_HOME``."""
    from agency_pulse import object_store

    settings = settings or Settings.from_environment()
    home_paths = home_paths or config.paths(settings)
    url = settings.lake_url
    if url and not url.startswith("file://"):
        store = object_store.open_lake(url)
        return LakeFS(store.filesystem, store.root,
                      f"{store.root}/{lake_layout.SHARED_VALIDATION_RUNS}".rsplit("/", 1)[0],
                      remote=True)
    root = object_store.open_lake(url).root if url else str(home_paths.lake).rstrip("/")
    return LakeFS(pafs.LocalFileSystem(), root, str(home_paths.quality).rstrip("/"),
                  remote=False)


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


def checksummed_location(record: str) -> str:
    """The file a checksum record's location describes (``checksum_of``'s inverse)."""
    prefix = f"{REMOTE_PROTOCOL}://" if record.startswith(f"{REMOTE_PROTOCOL}://") else ""
    path = record.removeprefix(prefix)
    return prefix + lake_layout.checksummed_file(Path(path)).as_posix()


# Local files named by their paths (any root): what the local lake's checks go through.
LOCAL = LakeFS(pafs.LocalFileSystem(), "", "", remote=False)
