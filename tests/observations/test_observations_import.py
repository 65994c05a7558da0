"""Manual observations CSV import (docs/REFERENCE.md, Manual observations CSV): the rules, landing, idempotency."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from agency_pulse import config, lake, observations
from agency_pulse.errors import UserInputError
from agency_pulse.registry import parse_registry

CORPUS = Path(__file__).parent / "corpus"
BAD_FILES = sorted((CORPUS / "bad").glob("*.csv"))
TODAY = date(2026, 6, 30)
NOON = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
HEADER = "agency_id,platform,handle,observed_on,followers,posts_total,last_post_on,note"


@pytest.fixture
def registry():
    return parse_registry(yaml.safe_load((CORPUS / "registry.yaml").read_text(encoding="utf-8")))


@pytest.fixture
def publish_like_validation(monkeypatch):
    """Publishing as validation does on success (landing -> accepted lake), without GX."""
    published: list[Path] = []

    def publish(landed: Path, *, run_id: str, run_date: date) -> Path:
        paths = config.paths()
        target = paths.lake / landed.relative_to(paths.landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(landed, target)
        published.append(target)
        return target

    monkeypatch.setattr(observations, "_validate_and_publish", publish)
    return published


def write_csv(folder: Path, name: str, *rows: str, header: str = HEADER) -> Path:
    path = folder / name
    path.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8", newline="")
    return path


def all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def import_file(path: Path, registry, now: datetime = NOON):
    return observations.import_observations(path, registry=registry, today=TODAY, now=now)


# ---------------------------------------------------------------------------------------
# Bad files: rejected whole, every problem listed, nothing lands


@pytest.mark.parametrize("bad_file", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_file_is_rejected_whole_with_every_problem(bad_file, registry, pulse_home,
                                                        publish_like_validation):
    expected = bad_file.with_suffix(".expected.txt").read_text(encoding="utf-8").rstrip("\n")

    with pytest.raises(UserInputError) as caught:
        import_file(bad_file, registry)

    assert str(caught.value) == expected
    assert not pulse_home.lake.exists() or all_files(pulse_home.lake) == {}
    assert publish_like_validation == []


def test_corpus_covers_every_contract_rule():
    # One corpus case per rule: a missing case here means a rule went untested.
    expected_cases = {
        "unknown_agency", "unknown_platform", "handle_of_another_agency", "handle_unknown",
        "agency_without_that_platform", "observed_on_future", "observed_on_bad",
        "followers_bad", "posts_total_bad", "last_post_on_bad", "duplicate_rows",
        "unknown_columns", "missing_required_columns", "repeated_column", "unnamed_column",
        "empty", "blank_lines_only", "header_only", "header_and_blank_rows", "unclosed_quote",
        "stray_quote", "wrong_value_count", "semicolons", "several_bad_rows",
        "not_utf8_latin1", "not_utf8_utf16", "counts_too_large", "control_characters",
    }
    assert {p.stem for p in BAD_FILES} == expected_cases
    assert all(p.with_suffix(".expected.txt").exists() for p in BAD_FILES)


def test_every_rejected_number_form_named(registry, pulse_home):
    lines = str(_rejection_of(CORPUS / "bad" / "followers_bad.csv", registry)).splitlines()
    assert lines[0] == "followers_bad.csv: 9 bad rows, nothing imported"
    for shown in ("'1,234'", "'12.5'", "'-3'", "'1e3'", "'+7'", "'1 200'"):
        assert any(line.endswith(f"got {shown}") for line in lines), shown
    assert "row 5, column followers: required (a whole number >= 0)" in lines


def test_non_utf8_names_line_and_offset(registry, pulse_home):
    data = (CORPUS / "bad" / "not_utf8_latin1.csv").read_bytes()
    offset = data.index(b"\xe9")
    message = str(_rejection_of(CORPUS / "bad" / "not_utf8_latin1.csv", registry))
    assert f"line 3: byte 0xe9 at offset {offset} is not valid UTF-8" in message


def test_counts_above_ten_to_the_tenth_are_row_errors(registry, pulse_home):
    lines = str(_rejection_of(CORPUS / "bad" / "counts_too_large.csv", registry)).splitlines()
    assert lines[0] == "counts_too_large.csv: 3 bad rows, nothing imported"
    # 10^10 itself is accepted (row 2 is not listed); 10^17 used to land and break every build
    assert lines[1].startswith("row 3, column followers: too large: '100000000000000000'")
    assert lines[2].startswith("row 4, column posts_total: too large: '10000000001'")
    # 5,000 digits: refused, quoted short, and not a Python "exceeds the limit" crash
    assert lines[3].startswith("row 5, column followers: too large: '99999")
    assert all(len(line) < 200 for line in lines)


def test_control_characters_other_than_tab_are_row_errors(registry, pulse_home):
    lines = str(_rejection_of(CORPUS / "bad" / "control_characters.csv", registry)).splitlines()
    assert lines[1:] == [
        "row 3, column note: contains the control character U+0000 (only tab is allowed): "
        "'NUL \\x00 in a note'",
        "row 4, column note: contains the control character U+000A (only tab is allowed): "
        "'two\\nlines'",
        "row 5, column handle: contains the control character U+0007 (only tab is allowed): "
        "'culture\\x07govaz'",
        "row 6, column observed_on: contains the control character U+001B (only tab is "
        "allowed): '2026-06-01\\x1b'",
    ]


@pytest.mark.parametrize("character", ["\x00", "\x07", "\r", "\x7f", "\x85"])
def test_no_control_character_is_stored_in_a_note(registry, pulse_home, tmp_path, character):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # quotes a value holding a CR
    writer.writerow(HEADER.split(","))
    writer.writerow(["culture", "x", "culture_az", "2026-06-01", 5, "", "", f"a{character}b"])
    source = tmp_path / "control.csv"
    source.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    message = str(_rejection_of(source, registry))
    assert f"row 2, column note: contains the control character U+{ord(character):04X}" in message
    assert not pulse_home.lake.exists()


def _rejection_of(path: Path, registry) -> observations.ObservationFileRejected:
    with pytest.raises(observations.ObservationFileRejected) as caught:
        import_file(path, registry)
    return caught.value


# ---------------------------------------------------------------------------------------
# Good files land, with the lake schema


def test_good_file_lands_one_parquet_with_the_lake_schema(registry, pulse_home, tmp_path,
                                                          publish_like_validation):
    source = write_csv(tmp_path, "june.csv",
                       "culture,facebook,culture.gov.az,2026-06-01,1200,340,2026-05-31,first count",
                       "culture,instagram,@CULTURE_az,2026-06-01,5600,,,",
                       " culture , X , @Culture_AZ ,2026-06-02, 77 ,0,,")
    sha = hashlib.sha256(source.read_bytes()).hexdigest()

    result = import_file(source, registry)

    expected_path = (pulse_home.lake / "observations" / "platform=manual" / "date=2026-06-30"
                     / f"part-{sha[:16]}.parquet")
    assert result.path == expected_path
    assert (result.rows, result.accounts, result.already_imported) == (3, 3, False)
    assert result.file_sha256 == sha
    assert list(pulse_home.lake.rglob("*.parquet")) == [expected_path]
    table = pq.read_table(result.path)
    assert table.schema == lake.SCHEMAS["observations"]
    rows = table.to_pylist()
    assert [(r["account_id"], r["handle"], r["platform"], r["followers"], r["row_number"])
            for r in rows] == [
        ("facebook:culture.gov.az", "culture.gov.az", "facebook", 1200, 2),
        ("instagram:culture_az", "Culture_AZ", "instagram", 5600, 3),
        ("x:culture_az", "culture_az", "x", 77, 4),
    ]
    assert rows[0]["posts_total"] == 340 and rows[0]["last_post_on"] == date(2026, 5, 31)
    assert rows[0]["note"] == "first count" and rows[1]["note"] is None
    assert rows[1]["posts_total"] is None and rows[1]["last_post_on"] is None
    assert {r["source_file"] for r in rows} == {"june.csv"}
    assert {r["file_sha256"] for r in rows} == {sha}
    assert {r["imported_at"] for r in rows} == {NOON}


def test_bom_and_crlf_are_tolerated(registry, pulse_home, publish_like_validation):
    result = import_file(CORPUS / "good" / "bom_crlf.csv", registry)
    rows = pq.read_table(result.path).to_pylist()
    assert [(r["agency_id"], r["followers"], r["note"]) for r in rows] == [("culture", 1200, "Ok")]


def test_observed_today_and_last_post_same_day_are_accepted(registry, pulse_home, tmp_path,
                                                            publish_like_validation):
    source = write_csv(tmp_path, "edge.csv",
                       f"culture,facebook,culture.gov.az,{TODAY},0,0,{TODAY},")
    result = import_file(source, registry)
    assert pq.read_table(result.path).column("followers").to_pylist() == [0]


def test_future_is_judged_against_today(registry, pulse_home, tmp_path, publish_like_validation):
    source = write_csv(tmp_path, "future.csv", "culture,facebook,culture.gov.az,2026-07-01,5,,,")
    with pytest.raises(UserInputError, match="2026-07-01 is in the future"):
        import_file(source, registry)
    later = observations.import_observations(source, registry=registry, today=date(2026, 7, 1),
                                             now=NOON)
    assert later.rows == 1


def test_bad_rows_among_good_ones_land_nothing(registry, pulse_home, tmp_path,
                                               publish_like_validation):
    source = write_csv(tmp_path, "mixed.csv",
                       "culture,facebook,culture.gov.az,2026-06-01,1200,,,",
                       "culture,x,culture_az,2026-06-01,12.5,,,",
                       "culture,youtube,MedeniyyetTV,2026-06-01,800,,,")
    with pytest.raises(UserInputError) as caught:
        import_file(source, registry)
    assert str(caught.value).splitlines() == [
        "mixed.csv: 1 bad row, nothing imported",
        "row 3, column followers: must be a whole number >= 0 written with digits only "
        "(no separators, decimals or exponents), got '12.5'",
    ]
    assert not pulse_home.lake.exists()


# ---------------------------------------------------------------------------------------
# Idempotency and corrections


def test_reimporting_the_same_file_changes_nothing(registry, pulse_home, tmp_path,
                                                   publish_like_validation):
    source = write_csv(tmp_path, "june.csv", "culture,facebook,culture.gov.az,2026-06-01,1200,,,")
    first = import_file(source, registry)
    before = all_files(pulse_home.home)

    renamed = tmp_path / "june-copy.csv"
    renamed.write_bytes(source.read_bytes())
    again = import_file(source, registry, now=datetime(2026, 7, 2, tzinfo=UTC))
    copy = import_file(renamed, registry, now=datetime(2026, 7, 3, tzinfo=UTC))

    assert all_files(pulse_home.home) == before
    for result in (again, copy):
        assert result.already_imported
        assert (result.path, result.rows, result.accounts) == (first.path, 1, 1)
    assert len(publish_like_validation) == 1


def test_a_later_file_corrects_an_earlier_observation(registry, pulse_home, tmp_path,
                                                      publish_like_validation):
    first = write_csv(tmp_path, "a.csv", "culture,facebook,culture.gov.az,2026-06-01,1200,,,")
    correction = write_csv(tmp_path, "b.csv",
                           "culture,facebook,@Culture.Gov.AZ,2026-06-01,1250,,,recounted")
    import_file(first, registry, now=NOON)
    # Same wall-clock instant: the correction must still sort strictly later.
    import_file(correction, registry, now=NOON)

    table = lake.read_dataset("observations")
    rows = sorted(table.to_pylist(), key=lambda r: r["imported_at"])
    assert [(r["followers"], r["source_file"]) for r in rows] == [(1200, "a.csv"), (1250, "b.csv")]
    assert rows[1]["imported_at"] > rows[0]["imported_at"]

    # The warehouse's rule (lake.KEYS: latest imported_at per account and day) picks the fix.
    keys, order = lake.KEYS["observations"]
    winner = duckdb.sql(
        f"select followers from read_parquet('{lake.dataset_glob('observations')}') "
        f"qualify row_number() over (partition by {', '.join(keys)} order by {order} desc) = 1"
    ).fetchall()
    assert winner == [(1250,)]


def test_import_time_moves_past_a_clock_that_went_back(registry, pulse_home, tmp_path,
                                                       publish_like_validation):
    import_file(write_csv(tmp_path, "a.csv", "culture,x,culture_az,2026-06-01,5,,,"), registry)
    earlier_clock = datetime(2026, 6, 29, tzinfo=UTC)
    second = import_file(write_csv(tmp_path, "b.csv", "culture,x,culture_az,2026-06-01,6,,,"),
                         registry, now=earlier_clock)
    stamps = pq.read_table(second.path).column("imported_at").to_pylist()
    assert stamps == [datetime(2026, 6, 30, 12, 0, 0, 1, tzinfo=UTC)]


def test_leftover_landing_copy_of_an_interrupted_import_is_replaced(registry, pulse_home,
                                                                    tmp_path, monkeypatch):
    source = write_csv(tmp_path, "june.csv", "culture,facebook,culture.gov.az,2026-06-01,1200,,,")

    def crash(landed, *, run_id, run_date):
        raise OSError("validation died")

    monkeypatch.setattr(observations, "_validate_and_publish", crash)
    with pytest.raises(OSError):
        import_file(source, registry, now=datetime(2026, 6, 29, tzinfo=UTC))
    leftovers = list(pulse_home.landing.rglob("*.parquet"))
    assert [p.parent.name for p in leftovers] == ["date=2026-06-29"]

    landed: list[Path] = []
    monkeypatch.setattr(observations, "_validate_and_publish",
                        lambda path, **_: landed.append(path) or path)
    import_file(source, registry, now=NOON)
    assert [p.parent.name for p in pulse_home.landing.rglob("*.parquet")] == ["date=2026-06-30"]
    assert landed == list(pulse_home.landing.rglob("*.parquet"))


def test_concurrent_imports_get_distinct_ordered_import_times(registry, pulse_home, tmp_path,
                                                               publish_like_validation):
    files = [write_csv(tmp_path, f"c{i}.csv", f"culture,x,culture_az,2026-06-01,{i},,,")
             for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda f: import_file(f, registry, now=NOON), files))

    stamps = lake.read_dataset("observations").column("imported_at").to_pylist()
    assert len(results) == 8 and len(set(stamps)) == 8


# ---------------------------------------------------------------------------------------
# Hostile input and spreadsheet formulas


def test_a_value_beyond_the_csv_field_limit_is_refused_cleanly(registry, pulse_home, tmp_path):
    source = write_csv(tmp_path, "huge.csv",
                       "culture,x,culture_az,2026-06-01,5,,,\"" + "n" * 200_000 + "\"")
    assert str(_rejection_of(source, registry)).splitlines() == [
        "huge.csv: not a readable CSV, nothing imported",
        f"row 2: a value longer than {csv.field_size_limit()} characters",
    ]


def test_hostile_values_are_stored_verbatim_and_stay_inside_home(registry, pulse_home, tmp_path,
                                                                 publish_like_validation):
    hostile_notes = [
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "'; drop table observations; --",
        "\u202eevil\u202c mixed \u200f RTL",
        "tab\tand \"quotes\" and \u00a0 no-break space",
        "x" * 10_000,
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    for day, note in enumerate(hostile_notes, start=1):
        writer.writerow(["culture", "facebook", "culture.gov.az", f"2026-06-0{day}", 10, "", "", note])
    source = tmp_path / "hostile.csv"
    source.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    outside_before = {p for p in tmp_path.rglob("*") if pulse_home.home not in p.parents}

    result = import_file(source, registry)

    assert pq.read_table(result.path).column("note").to_pylist() == hostile_notes
    outside_after = {p for p in tmp_path.rglob("*") if pulse_home.home not in p.parents}
    assert outside_after == outside_before


def test_hostile_handles_are_rejected_with_readable_one_line_problems(registry, pulse_home,
                                                                      tmp_path):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    handles = ["../../etc/passwd", "a\"b'c", "x; drop table core.accounts", "\u202eza_erutluc",
               "line\nbreak", "h" * 10_000]
    for handle in handles:
        writer.writerow(["culture", "x", handle, "2026-06-01", 1, "", "", ""])
    writer.writerow(["../culture", "x", "culture_az", "2026-06-02", 1, "", "", ""])
    source = tmp_path / "hostile.csv"
    source.write_text(buffer.getvalue(), encoding="utf-8", newline="")

    lines = str(_rejection_of(source, registry)).splitlines()

    assert lines[0] == "hostile.csv: 7 bad rows, nothing imported"
    assert len(lines) == 8
    assert lines[1].startswith("row 2, column handle: no x account '../../etc/passwd' for agency")
    assert "'\\u202eza_erutluc'" in lines[4]
    assert "'line\\nbreak'" in lines[5]
    assert "... (10000 characters)" in lines[6] and len(lines[6]) < 300
    assert lines[7] == "row 8, column agency_id: unknown agency '../culture'"
    assert all(ch.isprintable() for line in lines for ch in line)
    assert not pulse_home.lake.exists()


@pytest.mark.parametrize(("value", "exported"), [
    ("=1+1", "'=1+1"),
    ("+33 1 23", "'+33 1 23"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=cmd", "'\t=cmd"),
    ("\r=cmd", "'\r=cmd"),
    ("plain note", "plain note"),
    ("a=b", "a=b"),
    ("", ""),
    (None, ""),
    (-3, "-3"),
    (1200, "1200"),
    (date(2026, 6, 1), "2026-06-01"),
])
def test_escape_csv_cell_neutralises_formulas(value, exported):
    assert observations.escape_csv_cell(value) == exported


def test_imported_formula_note_is_neutralised_on_export(registry, pulse_home, tmp_path,
                                                        publish_like_validation):
    formula = "=HYPERLINK(\"http://evil.example\",\"x\")"
    quoted = '"' + formula.replace('"', '""') + '"'
    source = write_csv(tmp_path, "f.csv", f"culture,facebook,culture.gov.az,2026-06-01,1,,,{quoted}")
    rows = pq.read_table(import_file(source, registry).path).to_pylist()
    assert rows[0]["note"] == formula

    exported = io.StringIO()
    csv.writer(exported).writerow([observations.escape_csv_cell(v) for v in rows[0].values()])
    cells = next(csv.reader(io.StringIO(exported.getvalue())))
    assert not any(cell.startswith(observations.FORMULA_TRIGGERS) for cell in cells)
    assert "'" + formula in cells
