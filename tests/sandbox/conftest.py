"""A sandbox server per test module, on a free loopback port, on a fixed day and seed."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from agency_pulse_sandbox import run_sandbox

SANDBOX_DAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(date=SANDBOX_DAY, seed=7) as server:
        yield server


@pytest.fixture
def fresh_sandbox(sandbox):
    """The module's sandbox, back on its day and seed, with no faults and zeroed counts."""
    sandbox.set(date=SANDBOX_DAY, seed=7, faults={})
    sandbox.reset_stats()
    yield sandbox
    sandbox.set(date=SANDBOX_DAY, seed=7, faults={})


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session
