"""The reliability scenarios in table order, and which of them are fast enough for `make test`."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from reliability import (
    bad_input,
    bit_flip,
    crashes,
    faults,
    hostile_names,
    rerun_faults,
    reruns,
    secrets_scenario,
    soak,
)
from reliability.verdict import ScenarioResult


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[], ScenarioResult]
    fast: bool  # also run by tests/reliability/test_reliability_fast.py (`make test`)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("transient_faults", faults.transient_faults, fast=False),
    Scenario("hard_faults", faults.hard_faults, fast=False),
    Scenario("crash_extract_write", crashes.extract_killed_mid_write, fast=True),
    Scenario("crash_warehouse_build", crashes.warehouse_build_killed, fast=False),
    Scenario("reruns_same_day", reruns.same_day_three_times, fast=True),
    Scenario("reruns_overlapping", reruns.overlapping_runs, fast=False),
    Scenario("bad_input_corpus", bad_input.bad_input_corpus, fast=True),
    Scenario("hostile_names", hostile_names.hostile_names, fast=True),
    Scenario("secrets", secrets_scenario.secrets_never_leak, fast=True),
    Scenario("bit_flip", bit_flip.bit_flip, fast=True),
    Scenario("rerun_faults", rerun_faults.rerun_faults, fast=False),
    Scenario("rerun_faults_fast", rerun_faults.rerun_faults_fast, fast=True),
    Scenario("soak", soak.soak, fast=False),
)


def by_name(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(f"no scenario {name!r} (one of {', '.join(s.name for s in SCENARIOS)})")


def execute(scenario: Scenario) -> ScenarioResult:
    """Run one scenario; a crash of the scenario itself becomes a failed row, not an exit."""
    started = time.monotonic()
    try:
        result = scenario.run()
    except Exception as exc:
        result = ScenarioResult(scenario.name, injected="(scenario crashed)", expected="",
                                error=f"{type(exc).__name__}: {exc}")
        result.error += " | " + traceback.format_exc().strip().splitlines()[-3].strip()
    result.seconds = time.monotonic() - started
    return result
