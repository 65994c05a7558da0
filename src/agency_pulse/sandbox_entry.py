"""The one door from the product to the platform sandbox.

The sandbox (package ``agency_pulse_sandbox``) is a separate package beside the product; no
product module imports it. It registers what the product may start under the Python
entry-point group ``agency_pulse.sandbox`` (see ``pyproject.toml``):

| name  | what it is                                                                    |
|-------|-------------------------------------------------------------------------------|
| `run` | ``run_sandbox(date, seed)``: a context manager serving it in a thread, ``.url`` |
| `cli` | ``main(argv)``: the ``agency-pulse sandbox`` command, serving until Ctrl-C    |

Clients then talk to the running sandbox over HTTP only (``connections.py`` reads its
connection settings from ``GET /_sandbox/connections``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from agency_pulse.errors import ConfigurationError

GROUP = "agency_pulse.sandbox"


def sandbox_entry(name: str) -> Callable:
    """The sandbox's entry point ``name`` (``run`` or ``cli``), loaded on demand."""
    found = entry_points(group=GROUP, name=name)
    if not found:
        raise ConfigurationError(
            "the platform sandbox is not installed (package agency_pulse_sandbox); install the "
            "project with `make setup`, or set AGENCY_PULSE_DEFAULT_SOURCE=airflow")
    return next(iter(found)).load()
