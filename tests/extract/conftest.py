"""Fixtures for the extraction tests: a fake transport, a client that never really waits."""

from __future__ import annotations

import pytest
import requests
from extract_fakes import FakeApi


@pytest.fixture
def fake_api():
    return FakeApi()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(fake_api, sleeps):
    """An ApiClient on the fake transport, sleeping into the `sleeps` list, no jitter."""
    from agency_pulse.http_client import ApiClient

    def build(platform="facebook", **options):
        session = requests.Session()
        session.mount("https://", fake_api)
        session.mount("http://", fake_api)
        options.setdefault("sleep", sleeps.append)
        options.setdefault("jitter", lambda: 1.0)
        options.setdefault("clock", lambda: 1_700_000_000.0)
        return ApiClient(platform, session=session, **options)

    return build
