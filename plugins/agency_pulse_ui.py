"""Airflow plugin: the Agency Pulse pages inside the Airflow UI.

Airflow 3 plugins add a FastAPI app (`fastapi_apps`, mounted by the API server under
`url_prefix`) and a navigation entry (`external_views`: with a `url_route` the page opens
inside the Airflow UI, in an iframe at /plugin/agency-pulse). Airflow does not
authenticate mounted plugin apps, so the app runs Airflow's own authentication on every
request (agency_pulse.ui.airflow_auth). The app is built on its first request, so
importing this file stays cheap in the components that never serve it. The pages read
$AGENCY_PULSE_HOME of the API server's environment.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from agency_pulse.ui.plugin_app import LazyASGIApp, build_authenticated_app

URL_PREFIX = "/agency-pulse"


class AgencyPulseUIPlugin(AirflowPlugin):
    name = "agency_pulse_ui"
    fastapi_apps = [{
        "app": LazyASGIApp(build_authenticated_app),
        "url_prefix": URL_PREFIX,
        "name": "Agency Pulse",
    }]
    external_views = [{
        "name": "Agency Pulse",
        "href": f"{URL_PREFIX}/",
        "url_route": "agency-pulse",
        "destination": "nav",
        "nav_top_level": True,
    }]
