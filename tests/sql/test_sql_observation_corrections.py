"""Manual observations through import and build (docs/REFERENCE.md, Manual observations CSV): a later file replaces
the whole observation of an account and day, and re-importing an earlier file changes nothing."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from agency_pulse import config, observations, warehouse
from agency_pulse.registry import parse_registry

REGISTRY = Path(__file__).parents[1] / "observations" / "corpus" / "registry.yaml"
HEADER = "agency_id,platform,handle,observed_on,followers,posts_total,last_post_on,note"
TODAY = date(2026, 6, 30)


@pytest.fixture
def registry():
    return parse_registry(yaml.safe_load(REGISTRY.read_text(encoding="utf-8")))


@pytest.fixture
def publish_without_gx(monkeypatch):
    """Publish as validation does on success (landing -> accepted lake), without GX."""

    def publish(landed: Path, *, run_id: str, run_date: date) -> Path:
        paths = config.paths()
        target = paths.lake / landed.relative_to(paths.landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(landed, target)
        return target

    monkeypatch.setattr(observations, "_validate_and_publish", publish)


def import_csv(folder: Path, name: str, row: str, registry, now: datetime):
    path = folder / name
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    return observations.import_observations(path, registry=registry, today=TODAY, now=now)


def june_row(pulse_home, registry, *, full: bool) -> tuple:
    warehouse.build(registry=registry, full=full)
    with warehouse.connect_read_only(pulse_home.warehouse) as con:
        rows = con.execute(
            "select followers_end, last_post_at, activity_status from marts.account_monthly "
            "where account_id = 'facebook:culture.gov.az'").fetchall()
        manual = con.execute(
            "select followers, posts_total, last_post_on, note "
            "from staging.stg_lake__observations").fetchall()
    assert len(rows) == 1
    return rows[0], manual


def test_a_later_file_replaces_the_whole_observation_and_a_reimport_changes_nothing(
        registry, pulse_home, tmp_path, publish_without_gx):
    first_row = "culture,facebook,culture.gov.az,2026-06-01,1200,40,2026-05-20,first count"
    first = import_csv(tmp_path, "a.csv", first_row, registry,
                       datetime(2026, 6, 2, 9, tzinfo=UTC))
    assert june_row(pulse_home, registry, full=True) == (
        (1200, datetime(2026, 5, 20, tzinfo=UTC), "low"),
        [(1200, 40, date(2026, 5, 20), "first count")])

    # the correction leaves posts_total, last_post_on and note empty: they are withdrawn
    import_csv(tmp_path, "b.csv", "culture,facebook,@Culture.Gov.AZ,2026-06-01,1250,,,",
               registry, datetime(2026, 6, 3, 9, tzinfo=UTC))
    corrected = ((1250, None, "unknown"), [(1250, None, None, None)])
    assert june_row(pulse_home, registry, full=False) == corrected

    # the first file again, after the later one: already imported, nothing changes
    again = import_csv(tmp_path, "a-again.csv", first_row, registry,
                       datetime(2026, 6, 4, 9, tzinfo=UTC))
    assert again.already_imported and again.path == first.path
    assert june_row(pulse_home, registry, full=False) == corrected
    assert june_row(pulse_home, registry, full=True) == corrected
