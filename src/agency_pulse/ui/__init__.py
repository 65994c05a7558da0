"""Agency Pulse inside the Airflow UI: a FastAPI app the plugin mounts at /agency-pulse.

Importing this package is cheap (Airflow imports the plugin in every component); the
app and its dependencies load on first use.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name == "create_app":
        from agency_pulse.ui.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
