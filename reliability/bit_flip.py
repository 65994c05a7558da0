"""Silent corruption: one flipped bit inside an accepted Parquet data page. The build must
refuse the file by name and leave the marts as they were; `agency-pulse lake check` must
fail; rerunning the day (what the error line says to do) must repair it."""

from __future__ import annotations

import contextlib
import io

import pyarrow.parquet as pq

from reliability.verdict import ScenarioResult
from reliability.workspace import RUN_DAY, describe_digests, open_workspace


def flip_a_bit_in_a_data_page(path, column: str = "followers") -> None:
    """Flip one bit near the end of ``column``'s data page, keeping the file's size."""
    metadata = pq.ParquetFile(path).metadata.row_group(0)
    chunk = next(metadata.column(i) for i in range(metadata.num_columns)
                 if metadata.column(i).path_in_schema == column)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    end = start + chunk.total_compressed_size  # the chunk ends with its data page
    data = bytearray(path.read_bytes())
    data[end - 3] ^= 0x10
    path.write_bytes(bytes(data))


def _cli(*argv: str) -> tuple[int, str, str]:
    from agency_pulse import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(argv))
    return status, out.getvalue(), err.getvalue()


def bit_flip() -> ScenarioResult:
    result = ScenarioResult(
        "bit_flip", injected="one bit flipped inside the followers data page of an accepted "
                             "Facebook snapshot file, then agency-pulse build",
        expected="build exits 1 naming the file, marts identical to before; lake check exits "
                 "1; a rerun of the day repairs it (marts identical, lake check 0)")
    from agency_pulse import lake

    with open_workspace() as ws:
        first = ws.run_day(RUN_DAY, ["facebook"], run_id="bit-flip-1")
        before = ws.mart_digests()
        [damaged] = [path for path in lake.list_partitions(
            lake.ACCEPTED, "account_snapshots", "facebook", RUN_DAY)][-1:] or [None]
        if first.failed or damaged is None:
            result.check("first run", False, f"no accepted snapshot file ({first.failure})")
            return result
        flip_a_bit_in_a_data_page(damaged)
        status, _, err = _cli("build")
        after = ws.mart_digests()
        check_status, check_out, _ = _cli("lake", "check")
        repaired = ws.run_day(RUN_DAY, ["facebook"], run_id="bit-flip-2")
        after_rerun = ws.mart_digests()
        final_status, final_out, final_err = _cli("lake", "check")
    result.check("build exits 1 naming the file",
                 status == 1 and f"accepted file {damaged} does not match its checksum" in err,
                 f"exit {status}: {err.strip()[:200]}")
    result.check("marts unchanged", after == before,
                 f"before: {describe_digests(before)}"
                 + ("" if after == before else f"; after: {describe_digests(after)}"))
    result.check("lake check fails", check_status == 1,
                 f"exit {check_status}: {check_out.strip()[:160]}")
    result.check("a rerun of the day repairs it",
                 not repaired.failed and after_rerun == before and final_status == 0,
                 f"rerun {'failed: ' + str(repaired.failure)[:120] if repaired.failed else 'ok'}"
                 f"; marts {'identical' if after_rerun == before else 'differ'}; lake check "
                 f"exit {final_status}: {(final_err or final_out).strip()[:160]}")
    return result
