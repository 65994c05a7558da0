"""The platform APIs' documented example bodies, one folder a platform in ``tests/fixtures/``.

The fake that serves them is ``testkit.fake_platform`` (the ``fake_platform`` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str):
    """A documented example body: parsed JSON for .json files, text otherwise."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text
