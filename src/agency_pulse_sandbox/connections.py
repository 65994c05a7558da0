"""How a client connects to this sandbox: per platform, a base URL, a token and extras.

The sandbox mirrors each real API host under its own name (``/graph.facebook.com/v24.0``,
``/api.x.com/2``, ...), so a client's base URL is the sandbox URL plus that prefix. The
product never imports this package: it reads the same settings from the running server at
``GET /_sandbox/connections`` (see ``server.py``). Scripts that create Airflow connections to a
sandbox (the reliability canaries) may use ``connection_settings`` directly.
"""

from __future__ import annotations

from agency_pulse_sandbox.data import OWN_INSTAGRAM_USER_ID

# Path prefixes of the one sandbox server (it mirrors each real host under its name).
PREFIXES: dict[str, str] = {
    "facebook": "/graph.facebook.com/v24.0",
    "instagram": "/graph.facebook.com/v24.0",
    "youtube": "/www.googleapis.com/youtube/v3",
    "x": "/api.x.com/2",
    "telegram": "/api.telegram.org",
}

# Any token is accepted unless an expired-token fault is on; this one is as good as any.
TOKEN = "sandbox-token"

# The registry account the sandbox's own Instagram business user stands for.
OWN_INSTAGRAM_USERNAME = "taxes.gov.az"


def extras(platform: str, sandbox_url: str) -> dict:
    """The connection extras ``platform`` needs against the sandbox at ``sandbox_url``."""
    extra: dict = {}
    if platform == "instagram":
        extra.update(ig_user_id=OWN_INSTAGRAM_USER_ID, ig_username=OWN_INSTAGRAM_USERNAME,
                     insights=True)
    if platform == "telegram":
        extra["preview_url"] = f"{sandbox_url}/t.me"
    if platform == "facebook":
        extra["insights"] = True
    return extra


def connection_settings(sandbox_url: str) -> dict[str, dict]:
    """``{platform: {"base_url", "token", "extra"}}`` for a sandbox served at ``sandbox_url``."""
    sandbox_url = sandbox_url.rstrip("/")
    return {platform: {"base_url": sandbox_url + prefix, "token": TOKEN,
                       "extra": extras(platform, sandbox_url)}
            for platform, prefix in PREFIXES.items()}
