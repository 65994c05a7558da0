"""The observations drop folder: good files to processed/, bad ones to rejected/ with reasons."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from agency_pulse import config, lake, observations
from agency_pulse.errors import UserInputError, ValidationFailed
from agency_pulse.registry import parse_registry

CORPUS = Path(__file__).parent / "corpus"
TODAY = date(2026, 6, 30)
NOON = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
HEADER = "agency_id,platform,handle,observed_on,followers,posts_total,last_post_on,note"


@pytest.fixture
def registry():
    return parse_registry(yaml.safe_load((CORPUS / "registry.yaml").read_text(encoding="utf-8")))


@pytest.fixture
def publish_like_validation(monkeypatch):
    """Publishing as validation does on success (landing -> accepted lake), without GX."""

    def publish(landed: Path, *, run_id: str, run_date: date) -> Path:
        paths = config.paths()
        target = paths.lake / landed.relative_to(paths.landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(landed, target)
        return target

    monkeypatch.setattr(observations, "_validate_and_publish", publish)


def drop(inbox: Path, name: str, *rows: str) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_good_files_are_imported_in_name_order_and_moved_to_processed(
        registry, pulse_home, publish_like_validation):
    inbox = pulse_home.inbox
    drop(inbox, "b.csv", "culture,facebook,culture.gov.az,2026-06-01,1250,,,recount")
    drop(inbox, "a.csv", "culture,facebook,culture.gov.az,2026-06-01,1200,,,",
         "culture,x,culture_az,2026-06-01,5,,,")
    (inbox / "readme.txt").write_text("not a csv", encoding="utf-8")

    results = observations.import_inbox(registry=registry, today=TODAY, now=NOON)

    assert [(r.file.name, r.rows, r.accounts) for r in results] == [("a.csv", 2, 2), ("b.csv", 1, 1)]
    assert all(isinstance(r, observations.ImportResult) for r in results)
    assert listing(inbox) == ["processed/a.csv", "processed/b.csv", "readme.txt"]
    table = lake.read_dataset("observations")
    by_file = {r["source_file"]: r["imported_at"] for r in table.to_pylist()}
    assert by_file["b.csv"] > by_file["a.csv"]  # name order is import order: b corrects a


def test_bad_file_is_rejected_with_its_reasons_and_the_others_still_import(
        registry, pulse_home, publish_like_validation):
    inbox = pulse_home.inbox
    drop(inbox, "1-good.csv", "culture,facebook,culture.gov.az,2026-06-01,1200,,,")
    drop(inbox, "2-bad.csv", "culture,facebook,culture.gov.az,2026-06-01,\"1,234\",,,",
         "nobody,x,culture_az,2026-06-01,5,,,")
    drop(inbox, "3-good.csv", "culture,x,culture_az,2026-06-01,5,,,")

    with pytest.raises(UserInputError) as caught:
        observations.import_inbox(registry=registry, today=TODAY, now=NOON)

    error = caught.value
    assert isinstance(error, observations.InboxRejected)
    assert str(error).startswith("observations inbox: 1 of 3 files rejected: 2-bad.csv")
    assert listing(inbox) == ["processed/1-good.csv", "processed/3-good.csv",
                              "rejected/2-bad.csv", "rejected/2-bad.csv.errors.txt"]
    assert (inbox / "rejected" / "2-bad.csv.errors.txt").read_text(encoding="utf-8") == (
        "2-bad.csv: 2 bad rows, nothing imported\n"
        "row 2, column followers: must be a whole number >= 0 written with digits only "
        "(no separators, decimals or exponents), got '1,234'\n"
        "row 3, column agency_id: unknown agency 'nobody'\n")
    rejected = [r for r in error.results if isinstance(r, observations.RejectedFile)]
    assert [r.file for r in rejected] == [inbox / "rejected" / "2-bad.csv"]
    assert rejected[0].problems[1] == "row 3, column agency_id: unknown agency 'nobody'"
    assert sorted(lake.read_dataset("observations").column("source_file").to_pylist()) == [
        "1-good.csv", "3-good.csv"]


def test_file_failing_the_quality_suite_is_rejected_with_the_reason(
        registry, pulse_home, monkeypatch):
    def quarantine(landed: Path, *, run_id: str, run_date: date) -> Path:
        raise ValidationFailed("1 batch(es) failed validation: expect_column_values_to_be_between")

    monkeypatch.setattr(observations, "_validate_and_publish", quarantine)
    drop(pulse_home.inbox, "odd.csv", "culture,facebook,culture.gov.az,2026-06-01,1200,,,")

    with pytest.raises(observations.InboxRejected, match="odd.csv"):
        observations.import_inbox(registry=registry, today=TODAY, now=NOON)

    errors = (pulse_home.inbox / "rejected" / "odd.csv.errors.txt").read_text(encoding="utf-8")
    assert "failed validation: expect_column_values_to_be_between" in errors


def test_same_name_dropped_again_never_overwrites_an_earlier_file(
        registry, pulse_home, publish_like_validation):
    inbox = pulse_home.inbox
    drop(inbox, "june.csv", "culture,facebook,culture.gov.az,2026-06-01,1200,,,")
    observations.import_inbox(registry=registry, today=TODAY, now=NOON)
    drop(inbox, "june.csv", "culture,facebook,culture.gov.az,2026-06-02,1210,,,")
    observations.import_inbox(registry=registry, today=TODAY, now=NOON)
    drop(inbox, "june.csv", "culture,facebook,culture.gov.az,2026-06-02,1210,,,")

    results = observations.import_inbox(registry=registry, today=TODAY, now=NOON)

    assert results[0].already_imported
    assert listing(inbox) == ["processed/june.1.csv", "processed/june.2.csv", "processed/june.csv"]
    assert len(lake.read_dataset("observations")) == 2


def test_empty_inbox_is_created_and_imports_nothing(registry, pulse_home):
    assert observations.import_inbox(registry=registry, today=TODAY, now=NOON) == []
    assert pulse_home.inbox.is_dir()


def test_explicit_inbox_folder(registry, pulse_home, tmp_path, publish_like_validation):
    inbox = tmp_path / "elsewhere"
    drop(inbox, "x.CSV", "culture,x,culture_az,2026-06-01,5,,,")
    results = observations.import_inbox(inbox, registry=registry, today=TODAY, now=NOON)
    assert [r.file for r in results] == [inbox / "processed" / "x.CSV"]
    assert pq.read_table(results[0].path).column("followers").to_pylist() == [5]


def _private_file(folder: Path, name: str, *rows: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("private_row", [
    "culture,x,SECRET_TOKEN_123,2026-06-01,5,,,",  # bad: the old error quoted the secret
    "culture,x,culture_az,2026-06-01,5,,,private note",  # good: the old inbox imported it
])
def test_a_symlink_in_the_inbox_is_rejected_unread(registry, pulse_home, tmp_path,
                                                   publish_like_validation, private_row):
    private = _private_file(tmp_path / "elsewhere", "private.csv", private_row)
    inbox = pulse_home.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "link.csv").symlink_to(private)
    drop(inbox, "z-good.csv", "culture,facebook,culture.gov.az,2026-06-01,1200,,,")

    with pytest.raises(observations.InboxRejected) as caught:
        observations.import_inbox(registry=registry, today=TODAY, now=NOON)

    assert "1 of 2 files rejected: link.csv" in str(caught.value)
    errors = inbox / "rejected" / "link.csv.errors.txt"
    text = errors.read_text(encoding="utf-8")
    assert text == "link.csv: a symbolic link, not a regular file; not read (drop the file itself)\n"
    assert "SECRET" not in text and "private" not in text
    assert (inbox / "rejected" / "link.csv").is_symlink()  # the link moved, its target untouched
    assert private.read_text(encoding="utf-8").endswith(private_row + "\n")
    assert lake.read_dataset("observations").column("source_file").to_pylist() == ["z-good.csv"]


def test_rejected_reasons_are_private_to_the_owner(registry, pulse_home,
                                                   publish_like_validation):
    inbox = pulse_home.inbox
    drop(inbox, "bad.csv", "nobody,x,culture_az,2026-06-01,5,,,")
    old_umask = os.umask(0o022)  # a umask that would make a plain write world-readable
    try:
        with pytest.raises(observations.InboxRejected):
            observations.import_inbox(registry=registry, today=TODAY, now=NOON)
    finally:
        os.umask(old_umask)
    mode = (inbox / "rejected" / "bad.csv.errors.txt").stat().st_mode & 0o777
    assert mode == 0o600


def test_a_planted_link_in_rejected_is_never_written_through(registry, pulse_home, tmp_path,
                                                             publish_like_validation):
    inbox = pulse_home.inbox
    target = tmp_path / "victim.txt"
    (inbox / "rejected").mkdir(parents=True)
    (inbox / "rejected" / "bad.csv.errors.txt").symlink_to(target)  # dangling on purpose
    drop(inbox, "bad.csv", "nobody,x,culture_az,2026-06-01,5,,,")

    with pytest.raises(observations.InboxRejected):
        observations.import_inbox(registry=registry, today=TODAY, now=NOON)

    assert not target.exists()
    assert (inbox / "rejected" / "bad.1.csv.errors.txt").read_text(encoding="utf-8").startswith(
        "bad.csv: 1 bad row")


def test_a_named_pipe_in_the_inbox_is_rejected_without_blocking(registry, pulse_home,
                                                                publish_like_validation):
    inbox = pulse_home.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    os.mkfifo(inbox / "pipe.csv")

    with pytest.raises(observations.InboxRejected) as caught:
        observations.import_inbox(registry=registry, today=TODAY, now=NOON)

    assert "pipe.csv" in str(caught.value)
    assert (inbox / "rejected" / "pipe.csv.errors.txt").read_text(encoding="utf-8") == (
        "pipe.csv: not a regular file (a named pipe); not read\n")


def test_the_command_line_import_reads_only_regular_files(registry, pulse_home, tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(UserInputError, match=r"^folder.csv: not a regular file \(a directory\)"):
        observations.import_observations(folder, registry=registry, today=TODAY, now=NOON)
