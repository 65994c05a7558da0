"""The ASGI app the Airflow plugin mounts, built on its first request.

Airflow imports plugin files in every component (scheduler, DAG processor, task
runners), but only the API server serves `fastapi_apps`. Building the FastAPI app, its
templates and Airflow's auth dependency lazily keeps that import cheap everywhere else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class LazyASGIApp:
    """An ASGI app that calls `factory()` once, on the first request, and delegates to it."""

    def __init__(self, factory: Callable[[], Callable]):
        self._factory = factory
        self._app: Callable | None = None
        self._lock = threading.Lock()

    @property
    def app(self) -> Callable:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._factory()
        return self._app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


def build_authenticated_app():
    """The pages behind Airflow's authentication, with the settings of the API server's
    environment (read here, at the first request)."""
    from agency_pulse.ui.airflow_auth import require_airflow_user_dependency
    from agency_pulse.ui.app import create_app

    return create_app(authenticate=require_airflow_user_dependency())
