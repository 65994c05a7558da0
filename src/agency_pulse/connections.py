"""Where each platform's API lives and with which credentials (DESIGN.md, "Connections").

Resolution order for a platform P:
1. the Airflow connection ``agency_pulse_P``: inside an Airflow task through
   ``airflow.sdk.BaseHook.get_connection``; outside one from the environment variable
   ``AIRFLOW_CONN_AGENCY_PULSE_P`` (JSON or URI), parsed here so that a plain CLI run does
   not pay for importing Airflow;
2. the platform sandbox, when ``AGENCY_PULSE_DEFAULT_SOURCE=sandbox`` and
   ``AGENCY_PULSE_SANDBOX_URL`` is set;
3. nothing (``None``): the caller skips the platform with one log line.

The token is never logged; under Airflow it is registered with the secrets masker.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from agency_pulse import platforms
from agency_pulse.config import PLATFORMS
from agency_pulse.errors import ConfigurationError
from agency_pulse.settings import Settings

log = logging.getLogger(__name__)

GRAPH_API = platforms.GRAPH_API

REAL_BASE_URLS: dict[str, str] = {p.name: p.real_base_url for p in platforms.TABLE}

@dataclass(frozen=True)
class PlatformConnection:
    platform: str
    base_url: str  # no trailing slash
    token: str | None = field(default=None, repr=False)  # never logged
    extra: dict = field(default_factory=dict)
    source: str = "airflow"  # "airflow" | "sandbox"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value a log, an error or an archive must never show."""
        found = [self.token] if self.token else []
        found += [str(v) for k, v in self.extra.items()
                  if isinstance(v, str | int) and _is_sensitive_name(k) and str(v)]
        return tuple(found)


def conn_id_for(platform: str) -> str:
    return f"agency_pulse_{platform}"


def resolve(platform: str, settings: Settings | None = None) -> PlatformConnection | None:
    """The platform's connection (Airflow first, then the sandbox), or None when it has none.

    The sandbox fallback follows ``settings`` (without them, the environment read now)."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}")
    connection = _from_airflow_task(platform) if running_in_airflow_task() else None
    if connection is None:
        connection = _from_environment(platform)
    if connection is None:
        connection = _sandbox(platform, settings or Settings.from_environment())
    if connection is not None and connection.source == "airflow":
        register_secrets_with_airflow(connection.secrets)
    return connection


def running_in_airflow_task() -> bool:
    """True inside an Airflow task process (the task runner is loaded and talks to a supervisor)."""
    task_runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    return task_runner is not None and getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


def register_secrets_with_airflow(secrets: tuple[str, ...] | list[str]) -> None:
    """Ask Airflow's secrets masker to hide these values in task logs (no-op outside Airflow)."""
    if not secrets or "airflow" not in sys.modules:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older Airflow layouts
        return
    for secret in secrets:
        mask_secret(secret)


def parse_connection_value(platform: str, value: str) -> PlatformConnection:
    """Parse an ``AIRFLOW_CONN_*`` value (JSON object or URI) the way Airflow does."""
    value = value.strip()
    if value.startswith("{"):
        try:
            document = json.loads(value)
        except json.JSONDecodeError as exc:
            # The message of a JSON error quotes the document, which holds the token.
            raise ValueError(f"connection {conn_id_for(platform)}: not valid JSON "
                             f"(line {exc.lineno}, column {exc.colno})") from None
        if not isinstance(document, dict):
            raise ValueError(f"connection {conn_id_for(platform)}: JSON must be an object")
        extra = document.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        return _build(platform, host=document.get("host"), schema=document.get("schema"),
                      port=document.get("port"), password=document.get("password"),
                      extra=extra, source="airflow")
    return _build(platform, source="airflow", **_parse_uri(platform, value))


def _parse_uri(platform: str, uri: str) -> dict:
    # Mirrors airflow.sdk.definitions.connection.Connection.from_uri, including the
    # "conn_type://protocol://host" form that keeps the protocol inside the host.
    if uri.count("://") > 2 or "://" not in uri:
        raise ValueError(f"connection {conn_id_for(platform)}: not a connection URI")
    conn_type = urlsplit(uri).scheme
    host_with_protocol = uri.count("://") == 2
    rest = uri.replace(f"{conn_type}://", "" if host_with_protocol else "//", 1)
    if host_with_protocol and any(ch in rest.split("://", 1)[0] for ch in "@:"):
        raise ValueError(f"connection {conn_id_for(platform)}: put the protocol before the "
                         "credentials (conn_type://protocol://:password@host)")
    parts = urlsplit(rest)
    protocol = parts.scheme if host_with_protocol else None
    host = unquote(parts.hostname or "")
    if "/" in host:
        host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        host = unquote(host)
    if protocol and host:
        host = f"{protocol}://{host}"
    extra: dict = {}
    if parts.query:
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        extra = json.loads(query["__extra__"]) if "__extra__" in query else query
    return {"host": host or None, "schema": unquote(parts.path[1:]) or None,
            "port": parts.port, "password": unquote(parts.password) if parts.password else None,
            "extra": extra}


def _build(platform: str, *, host: str | None, schema: str | None, port: int | str | None,
           password: str | None, extra: dict, source: str) -> PlatformConnection:
    extra = {k: _coerce_extra(v) for k, v in (extra or {}).items()}
    return PlatformConnection(platform=platform,
                              base_url=_base_url(platform, host, schema, port),
                              token=password or None, extra=extra, source=source)


def _base_url(platform: str, host: str | None, schema: str | None, port) -> str:
    """Host as given when it is a URL; else scheme from `schema` (Airflow's HTTP convention)."""
    if not host:
        return REAL_BASE_URLS[platform]
    if "://" in host:
        return host.rstrip("/")
    scheme = schema if schema in ("http", "https") else "https"
    netloc = f"{host}:{port}" if port else host
    path = f"/{schema.strip('/')}" if schema and schema not in ("http", "https") else ""
    return f"{scheme}://{netloc}{path}".rstrip("/")


def _coerce_extra(value):
    # URI query strings carry every extra as text: "true"/"false" mean booleans.
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _from_environment(platform: str) -> PlatformConnection | None:
    value = os.environ.get(f"AIRFLOW_CONN_{conn_id_for(platform).upper()}")
    if not value:
        return None
    return parse_connection_value(platform, value)


def _from_airflow_task(platform: str) -> PlatformConnection | None:
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id_for(platform))
    except Exception as exc:  # AirflowNotFoundException and friends: fall back
        log.debug("no Airflow connection %s (%s)", conn_id_for(platform), type(exc).__name__)
        return None
    extra = conn.extra_dejson if conn.extra else {}
    return _build(platform, host=conn.host, schema=conn.schema, port=conn.port,
                  password=conn.password, extra=extra, source="airflow")


def _sandbox(platform: str, settings: Settings) -> PlatformConnection | None:
    if not settings.uses_sandbox or not settings.sandbox_url:
        return None
    sandbox_url = settings.sandbox_url
    described = sandbox_connection_settings(sandbox_url).get(platform)
    if described is None:
        raise ConfigurationError(f"the sandbox at {sandbox_url} serves no {platform} API")
    return PlatformConnection(platform=platform, base_url=described["base_url"].rstrip("/"),
                              token=described.get("token"),
                              extra=dict(described.get("extra") or {}), source="sandbox")


@functools.lru_cache(maxsize=8)
def sandbox_connection_settings(sandbox_url: str) -> dict[str, dict]:
    """What the running sandbox says a client needs per platform (base URL, token, extras).

    The sandbox is a separate package the product never imports; it describes itself at
    ``GET /_sandbox/connections``. Asked once per sandbox URL and process.
    """
    url = f"{sandbox_url}/_sandbox/connections"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - a configured URL
            settings = json.loads(answer.read())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"AGENCY_PULSE_SANDBOX_URL={sandbox_url}: the sandbox did not describe its connections "
            f"({type(exc).__name__}); is `agency-pulse sandbox` running there?") from None
    if not isinstance(settings, dict):
        raise ConfigurationError(f"AGENCY_PULSE_SANDBOX_URL={sandbox_url}: not an Agency Pulse sandbox")
    return settings


def _is_sensitive_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in ("token", "secret", "password", "passwd",
                                            "api_key", "apikey", "authorization", "private_key"))
