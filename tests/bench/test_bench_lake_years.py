"""bench.lake_years: the simulated years leave one file per dataset, platform and settled
month, and one batch's measure reads the state the lake implies."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `bench`

from agency_pulse import extract, lake  # noqa: E402
from bench.lake_years import DATASETS, measure_batch, simulate  # noqa: E402

END = date(2026, 11, 26)


def test_simulated_months_are_compacted_and_a_batch_reads_the_same_state(pulse_home):
    counts = simulate(pulse_home.home, platforms=("facebook",), accounts=4, days=95, end=END,
                      batch_size=2)
    # 95 days back from 2026-11-26 start on 2026-08-24: August and September are settled.
    assert counts["files_written"] == 95 * 2 * len(DATASETS)
    assert counts["daily_files_settled"] == 0
    assert counts["month_files"] == counts["settled_groups"] == 2 * len(DATASETS)
    assert counts["daily_files_window"] == (31 + 26) * 2 * len(DATASETS)
    assert counts["files"] == counts["month_files"] + counts["daily_files_window"]
    assert {m.month for m in map(lake.parse_month_file, lake.list_month_files())} == {
        "2026-08", "2026-09"}
    measured = measure_batch(pulse_home.home, "facebook", END + timedelta(days=1), 4,
                             batch_size=2)
    state = extract.scan_state("facebook", END + timedelta(days=1))
    assert measured["known_posts"] == sum(len(v) for v in state.known_post_ids.values()) > 0
    assert measured["accounts_with_posts"] == len(state.last_post_at) == 4
    assert len(lake.list_partitions(lake.LANDING, day=END + timedelta(days=1))) == len(DATASETS)  # one file per dataset landed
