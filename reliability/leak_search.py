"""Look for a secret everywhere the pipeline leaves text: files of a home (Parquet read as
rows, gzip archives decompressed, everything else as bytes), warehouse tables, logs."""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path


@contextlib.contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """Every log record of the process at ``level`` and above, formatted with its arguments."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    # Loggers something else quietened (GX, the CLI) must speak too, for the block.
    quietened = {name: logger.level for name, logger in logging.root.manager.loggerDict.items()
                 if isinstance(logger, logging.Logger) and logger.level > level}
    saved_level, saved_disable = root.level, logging.root.manager.disable
    root.addHandler(handler)
    root.setLevel(level)
    logging.disable(logging.NOTSET)
    for name in quietened:
        logging.getLogger(name).setLevel(level)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        logging.disable(saved_disable)
        for name, saved in quietened.items():
            logging.getLogger(name).setLevel(saved)


def file_text(path: Path) -> str:
    """A file's content as searchable text (Parquet as its rows, gzip decompressed)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
            return repr(table.schema) + repr(table.to_pylist())
        except Exception:  # a half-written or foreign file: search its bytes instead
            pass
    data = path.read_bytes()
    if path.suffix == ".gz":
        with contextlib.suppress(OSError, EOFError):
            data = gzip.decompress(data)
    return data.decode("latin-1")


def files_containing(root: Path, needles: Iterable[str]) -> dict[str, list[str]]:
    """Relative paths of the files under ``root`` that contain each needle."""
    needles = [n for n in needles if n]
    found: dict[str, list[str]] = {n: [] for n in needles}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = file_text(path)
        for needle in needles:
            if needle in text:
                found[needle].append(str(path.relative_to(root)))
    return found


def zone_of(relative: str) -> str:
    """The part of the home a leaked file belongs to, for the table (lake, raw, quality...)."""
    parts = Path(relative).parts
    if parts[:2] == ("lake", "raw"):
        return "raw archive"
    if parts and parts[0] == "lake":
        return "lake"
    return parts[0] if parts else relative
