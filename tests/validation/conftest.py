"""A helper fixture that lands sample rows as a landing-zone partition file."""

from __future__ import annotations

from datetime import date

import pytest
from validation_samples import RUN_DAY

from agency_pulse import config, lake


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    """One AGENCY_PULSE_HOME for a module whose tests write nothing (one GX context for all)."""
    home = tmp_path_factory.mktemp("shared_pulse")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AGENCY_PULSE_HOME", str(home))
        yield config.Paths(home)


@pytest.fixture
def land(pulse_home):
    """land(dataset, platform, rows, day=RUN_DAY, key="all") -> the landing file's path."""

    def _land(dataset: str, platform: str, rows: list[dict], day: date = RUN_DAY,
              key: str = "all"):
        table = lake.table_from_rows(dataset, rows)
        return lake.write_partition(dataset, platform, day, table, key=key, root=pulse_home.landing)

    return _land
