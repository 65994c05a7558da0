"""Fixtures of the extractor tests: the loopback platform and a recording fake sleep."""

from __future__ import annotations

import pytest
from extractors_more_fakes import serve_fake_platform


@pytest.fixture
def fake_platform():
    platform, stop = serve_fake_platform()
    try:
        yield platform
    finally:
        stop()


@pytest.fixture
def sleeps():
    """A list the client's fake sleep appends to (no test waits for real)."""
    return []
