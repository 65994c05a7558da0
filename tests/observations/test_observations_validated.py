"""Observations through the real Great Expectations validation: landing -> accepted lake."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from agency_pulse import lake, observations
from agency_pulse.registry import parse_registry
from agency_pulse.validation import VALIDATION_RUNS_SCHEMA

CORPUS = Path(__file__).parent / "corpus"
HEADER = "agency_id,platform,handle,observed_on,followers,posts_total,last_post_on,note"


def test_import_is_validated_published_and_recorded_then_corrected(pulse_home, tmp_path):
    registry = parse_registry(yaml.safe_load((CORPUS / "registry.yaml").read_text(encoding="utf-8")))
    today = datetime.now(UTC).date()
    observed = date.fromordinal(today.toordinal() - 3)
    first = tmp_path / "first.csv"
    first.write_text(f"{HEADER}\nculture,facebook,culture.gov.az,{observed},1200,40,{observed},"
                     f"=SUM(A1)\nculture,x,@Culture_AZ,{observed},75,,,\n", encoding="utf-8")
    correction = tmp_path / "second.csv"
    correction.write_text(f"{HEADER}\nculture,facebook,culture.gov.az,{observed},1210,,,\n",
                          encoding="utf-8")

    result = observations.import_observations(first, registry=registry)
    fixed = observations.import_observations(correction, registry=registry)
    again = observations.import_observations(first, registry=registry)

    assert result.path.parent.parent.parent == pulse_home.lake / "observations"
    assert result.path.is_file() and fixed.path.is_file()
    assert list(pulse_home.landing.rglob("*.parquet")) == []
    assert not pulse_home.quarantine.exists() or list(pulse_home.quarantine.rglob("*.parquet")) == []
    assert again.already_imported and again.path == result.path

    runs = [pq.read_table(f, schema=VALIDATION_RUNS_SCHEMA)
            for f in (pulse_home.quality / "validation_runs").rglob("*.parquet")]
    recorded = [row for table in runs for row in table.to_pylist()]
    assert sorted((r["dataset"], r["platform"], r["rows"], r["success"]) for r in recorded) == [
        ("observations", "manual", 1, True), ("observations", "manual", 2, True)]

    rows = lake.read_dataset("observations").to_pylist()
    facebook = sorted((r for r in rows if r["platform"] == "facebook"),
                      key=lambda r: r["imported_at"])
    assert [r["followers"] for r in facebook] == [1200, 1210]
    assert facebook[0]["note"] == "=SUM(A1)"
