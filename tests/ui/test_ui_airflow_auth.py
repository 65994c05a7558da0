"""With Airflow's authentication on, the pages refuse anonymous and forged requests."""

from __future__ import annotations

import pytest
from demo_warehouse import build_demo_warehouse
from fastapi.testclient import TestClient

from agency_pulse.ui import create_app


@pytest.fixture(scope="module")
def auth_manager():
    from airflow.api_fastapi.app import create_auth_manager

    return create_auth_manager()


@pytest.fixture
def client(pulse_home, tmp_path, auth_manager, monkeypatch):
    from agency_pulse.ui.airflow_auth import require_airflow_user_dependency

    build_demo_warehouse(pulse_home.warehouse)
    # Token revocation lives in Airflow's metadata database, which these tests do not create.
    from airflow.models.revoked_token import RevokedToken

    monkeypatch.setattr(RevokedToken, "is_revoked", classmethod(lambda cls, jti: False))
    return TestClient(create_app(authenticate=require_airflow_user_dependency()))


def _token(auth_manager) -> str:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return auth_manager.generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))


@pytest.mark.parametrize("path", ["/", "/agency/culture", "/quality", "/reports/latest", "/data-docs/"])
def test_anonymous_requests_are_refused(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 401
    assert "Sign in to Airflow" in response.text
    assert "Ministry of Culture" not in response.text


def test_forged_token_is_refused(client):
    client.cookies.set("_token", "not-a-jwt")
    assert client.get("/").status_code == 403
    response = client.get("/", headers={"Authorization": "Bearer also.not.valid"})
    assert response.status_code == 403


def test_airflow_session_cookie_is_accepted(client, auth_manager):
    client.cookies.set("_token", _token(auth_manager))
    response = client.get("/")
    assert response.status_code == 200
    assert "Ministry of Culture" in response.text


def test_bearer_token_is_accepted(client, auth_manager):
    response = client.get("/agency/culture", headers={"Authorization": f"Bearer {_token(auth_manager)}"})
    assert response.status_code == 200
    assert "opened a new page after the reorganisation" in response.text


def test_the_plugin_mounts_the_app_with_authentication_and_a_nav_link():
    import importlib.util

    from airflow.plugins_manager import AirflowPlugin

    from agency_pulse import config

    spec = importlib.util.spec_from_file_location(
        "agency_pulse_ui_under_test", config.PROJECT_ROOT / "plugins" / "agency_pulse_ui.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugin = module.AgencyPulseUIPlugin
    assert issubclass(plugin, AirflowPlugin)
    [app] = plugin.fastapi_apps
    assert app["url_prefix"] == "/agency-pulse"
    assert app["app"].app.router.dependencies, "the mounted app must authenticate every route"
    anonymous = TestClient(app["app"]).get("/")
    assert anonymous.status_code == 401
    [view] = plugin.external_views
    assert view["href"] == "/agency-pulse/" and view["destination"] == "nav"
