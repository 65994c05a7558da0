"""Every accepted file is checked: the build refuses a file that changed since it was
published (a flipped bit), and `agency-pulse lake check` verifies the whole accepted lake."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

import pyarrow.parquet as pq
import pytest

from agency_pulse import cli, lake, warehouse

DAY = date(2026, 11, 26)
FETCHED_AT = datetime(2026, 11, 26, 6, tzinfo=UTC)
# Accounts of the default registry (include/registry/agencies.yaml), so the marts hold them.
HANDLES = ("agro.gov.az", "aqroazerbaycan", "tehsilnazirliyi")


def _snapshots() -> list[dict]:
    return [{"snapshot_date": DAY, "account_id": f"facebook:{handle}", "agency_id": agency,
             "platform": "facebook", "handle": handle, "followers": 1000 * (i + 1),
             "fetched_at": FETCHED_AT}
            for i, (handle, agency) in enumerate(zip(HANDLES, ("agriculture", "agriculture",
                                                               "education"), strict=True))]


def _land_and_build(pulse_home, capsys) -> None:
    lake.write_partition("account_snapshots", "facebook", DAY,
                         lake.table_from_rows("account_snapshots", _snapshots()),
                         root=pulse_home.landing)
    assert cli.main(["build"]) == 0
    capsys.readouterr()


def _marts(pulse_home) -> dict[str, list[tuple]]:
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        return {name: con.execute(f"select * from marts.{name} order by all").fetchall()
                for name in warehouse.MARTS} | {
            "snapshots": con.execute("select * from staging.lake_account_snapshots "
                                     "order by all").fetchall()}


def _flip_a_bit_in_a_data_page(path, column: str = "followers") -> None:
    """Flip one bit inside the data page of ``column`` (the bytes after the page header),
    keeping the file's size, as a failing disk would."""
    metadata = pq.ParquetFile(path).metadata.row_group(0)
    chunk = next(metadata.column(i) for i in range(metadata.num_columns)
                 if metadata.column(i).path_in_schema == column)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    end = start + chunk.total_compressed_size  # the chunk ends with its (only) data page
    assert chunk.data_page_offset < end - 3
    data = bytearray(path.read_bytes())
    data[end - 3] ^= 0x10
    path.write_bytes(bytes(data))


def test_a_flipped_bit_fails_the_build_naming_the_file_and_leaves_the_marts(pulse_home,
                                                                            capsys):
    _land_and_build(pulse_home, capsys)
    accepted = lake.partition_path(lake.ACCEPTED, "account_snapshots", "facebook", DAY)
    assert lake.verify_checksum(accepted).status == "ok"
    before = _marts(pulse_home)
    assert any(row[1] == "facebook:agro.gov.az" for row in before["snapshots"])

    _flip_a_bit_in_a_data_page(accepted)
    assert cli.main(["build"]) == 1
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith(f"agency-pulse: accepted file {accepted} does not match its "
                           "checksum (recorded ")
    assert line.endswith("restore it from backup or rerun the day with agency-pulse run "
                         "--date 2026-11-26 --platform facebook")
    assert _marts(pulse_home) == before  # the build was rolled back whole

    assert cli.main(["lake", "check"]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [line]
    assert out.startswith("lake check: 1 accepted files checked: 1 not matching their checksum")
    assert "FAILED" in out


def test_the_incremental_build_verifies_new_files_and_records_missing_checksums(
        pulse_home, capsys, caplog):
    _land_and_build(pulse_home, capsys)
    newer = lake.write_partition("account_snapshots", "facebook", date(2026, 11, 27),
                                 lake.table_from_rows("account_snapshots", _snapshots()))
    lake.forget_checksum(newer)  # as published before checksums were kept
    with caplog.at_level("WARNING", logger="agency_pulse.lake"):
        assert cli.main(["build"]) == 0
    assert f"{newer} had no recorded checksum" in caplog.text
    assert lake.verify_checksum(newer).status == "ok"
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        assert con.execute("select last_mode from quality.build_state").fetchall() == [
            ("incremental",)]

    latest = lake.write_partition("account_snapshots", "facebook", date(2026, 11, 28),
                                  lake.table_from_rows("account_snapshots", _snapshots()))
    _flip_a_bit_in_a_data_page(latest)
    capsys.readouterr()
    assert cli.main(["build"]) == 1
    assert f"accepted file {latest} does not match its checksum" in capsys.readouterr().err


def test_lake_check_lists_each_problem_and_records_missing_checksums_on_request(
        pulse_home, capsys):
    table = lake.table_from_rows("account_snapshots", _snapshots())
    good = lake.write_partition("account_snapshots", "facebook", DAY, table)
    unrecorded = lake.write_partition("account_snapshots", "x", DAY, table)
    lake.forget_checksum(unrecorded)
    truncated = lake.write_partition("posts", "x", DAY, lake.table_from_rows("posts", []))
    truncated.write_bytes(truncated.read_bytes()[:20])
    lake.record_checksum(truncated)  # damaged before it was published: the checksum agrees
    stale = good.parent / f".{good.name}.dead.tmp"
    stale.write_bytes(b"half")
    old = time.time() - lake.STALE_TEMPORARY_SECONDS - 60
    os.utime(stale, (old, old))
    (good.parent / f".{good.name}.live.tmp").write_bytes(b"a writer at work")
    orphan = lake.checksum_path(good.with_name("part-b007.parquet"))
    orphan.write_text("0" * 64 + "  part-b007.parquet\n")
    landing_only = lake.write_partition("posts", "x", DAY, lake.table_from_rows("posts", []),
                                        root=pulse_home.landing)

    assert cli.main(["lake", "check"]) == 1
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 4
    assert any(line.startswith(f"agency-pulse: accepted file {truncated} is not readable "
                               "Parquet") for line in lines)
    assert f"agency-pulse: accepted file {unrecorded} has no recorded checksum" in err
    assert f"stray temporary file {stale}: " in err and ".live.tmp" not in err
    assert f"stray checksum record {orphan}: " in err
    assert str(landing_only) not in err  # only the accepted zone is checked
    assert out == ("lake check: 3 accepted files checked: 0 not matching their checksum, "
                   "1 unreadable, 1 without a recorded checksum, 2 stray files; FAILED: "
                   "restore the damaged files from backup or rerun their days (each line "
                   "above says how)\n")

    truncated.unlink()
    lake.forget_checksum(truncated)
    stale.unlink()
    orphan.unlink()
    assert cli.main(["lake", "check", "--record-missing"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.endswith("; 1 checksums recorded; ok\n")
    assert lake.verify_checksum(unrecorded).status == "ok"
    assert cli.main(["lake", "check"]) == 0
    assert capsys.readouterr().out.startswith("lake check: 2 accepted files checked: 0 not")


@pytest.mark.parametrize("argv", [["lake"], ["lake", "verify"], ["lake", "check", "--fix"]])
def test_lake_without_a_known_subcommand_is_bad_usage(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
