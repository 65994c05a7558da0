"""The marts' arithmetic holds for any count the lake accepts, not only for small ones."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from agency_pulse.warehouse import WarehouseError


def test_growth_of_counts_near_int64_does_not_overflow(bench):
    """100 x (end - start) used to be computed in BIGINT: 10^17 followers failed every build
    with an INT64 overflow. The growth figures are DOUBLE all the way."""
    bench.agency("culture")
    big = bench.account("culture", "x", "big_one")
    small = bench.account("culture", "x", "small_one")
    bench.snapshot(big, date(2025, 12, 31), 1)
    bench.snapshot(big, date(2026, 1, 31), 10**17)
    bench.snapshot(small, date(2025, 12, 31), 4 * 10**18)
    bench.snapshot(small, date(2026, 1, 31), 5 * 10**18)
    bench.run()

    rows = {r["handle"]: r for r in bench.rows("marts.account_monthly", "month = date '2026-01-01'")}
    assert rows["big_one"]["followers_change"] == 10**17 - 1
    assert math.isclose(rows["big_one"]["followers_growth_pct"], 100 * (10**17 - 1))
    assert math.isclose(rows["small_one"]["followers_growth_pct"], 25.0)
    agency = bench.rows("marts.agency_monthly", "month = date '2026-01-01'")[0]
    assert math.isclose(agency["followers_growth_pct"],
                        100 * (10**17 - 1 + 10**18) / (1 + 4 * 10**18))


def test_an_arithmetic_error_names_the_observations_behind_it(bench):
    """Counts beyond the import's cap (landed by an older version) that still break a sum:
    the build error names the account, the file and the row, on one line."""
    bench.agency("culture")
    for handle, row in (("huge_a", 2), ("huge_b", 3)):
        account = bench.account("culture", "x", handle)
        bench._lake("observations", account_id=account, platform="x", handle=handle,
                    observed_on=date(2026, 1, 31), followers=6 * 10**18,
                    source_file="old-import.csv", row_number=row,
                    imported_at=datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(WarehouseError) as caught:
        bench.run()
    message = str(caught.value)
    assert "\n" not in message
    assert ("observation of x:huge_a in 'old-import.csv' row 2 has followers "
            "6000000000000000000") in message
    assert "observation of x:huge_b in 'old-import.csv' row 3" in message
