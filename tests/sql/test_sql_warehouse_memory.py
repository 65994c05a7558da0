"""The warehouse writer's DuckDB memory limit (AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT)."""

from __future__ import annotations

import pytest

from agency_pulse import warehouse
from agency_pulse.errors import ConfigurationError
from agency_pulse.registry import parse_registry


def test_the_default_limit_keeps_a_rebuild_under_four_gigabytes(monkeypatch):
    monkeypatch.delenv("AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT", raising=False)
    assert warehouse.memory_limit() == "3GB"
    monkeypatch.setenv("AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT", "12GiB")
    assert warehouse.memory_limit() == "12GiB"


@pytest.mark.parametrize("value", ["lots", "3GB; drop table x", "80"])
def test_a_bad_limit_fails_the_build_with_a_message(value, pulse_home, monkeypatch):
    monkeypatch.setenv("AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT", value)

    with pytest.raises(ConfigurationError, match="AGENCY_PULSE_WAREHOUSE_MEMORY_LIMIT"):
        warehouse.build(registry=parse_registry({"agencies": []}))
