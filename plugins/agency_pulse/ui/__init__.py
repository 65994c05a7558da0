"""Agency Pulse inside the Airflow UI: a FastAPI app the plugin mounts at /agency-pulse."""

from agency_pulse.ui.app import create_app

__all__ = ["create_app"]
