"""Airflow's own authentication for the plugin's pages.

Airflow 3 does not authenticate plugin FastAPI apps: it mounts them with ``app.mount``,
and the core API's router-level dependency does not reach a mounted app. So each
request here goes through Airflow's ``get_user`` dependency (the JWT in the
``Authorization: Bearer`` header, else in the ``_token`` cookie the UI sets at login;
expired -> 401, invalid -> 403), and the user must then be allowed the ``WEBSITE``
view by the configured auth manager (simple, FAB or any other).
"""

from __future__ import annotations

from fastapi import Depends, HTTPException, status


def require_airflow_user_dependency():
    """Build the dependency (Airflow is imported only when the plugin is loaded)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import get_user

    # A default, not Annotated: get_user is local, and string annotations resolve in module globals.
    async def require_airflow_user(user: object = Depends(get_user)) -> object:  # noqa: B008
        if not get_auth_manager().is_authorized_view(access_view=AccessView.WEBSITE, user=user):
            raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
        return user

    return require_airflow_user


def login_url() -> str:
    """Where the configured auth manager signs people in."""
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager().get_url_login()
    except Exception:  # no auth manager configured (tests, previews): Airflow's default
        return "/auth/login"
