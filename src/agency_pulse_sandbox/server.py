"""The sandbox HTTP server: one loopback port, every platform under its real host name.

| path prefix                         | platform            |
|-------------------------------------|---------------------|
| ``/graph.facebook.com/vNN.N/...``   | facebook, instagram |
| ``/www.googleapis.com/youtube/v3/`` | youtube             |
| ``/api.x.com/2/...``                | x                   |
| ``/api.telegram.org/bot{TOKEN}/``   | telegram (Bot API)  |
| ``/t.me/s/{channel}``, ``/t.me/{channel}`` (and ``/s/{channel}``, as the preview's own links are relative) | telegram preview |

Admin: ``GET/POST /_sandbox/config`` (``{"date", "seed", "faults", "latency_ms",
"x_rate_limits"}``; faults are replaced whole; ``latency_ms`` delays every platform answer,
never an admin one; ``x_rate_limits`` maps X endpoints to requests per 15 minutes, replaced
whole, ``{}`` for the real limits), ``GET /_sandbox/stats``, ``POST /_sandbox/stats/reset``, ``GET /_sandbox/health``,
``GET /_sandbox/connections`` (per platform: the base URL, token and extras a client uses).

Faults (never on by default) are rolled per platform from a seeded RNG, one roll per request,
so a given request sequence meets the same faults every time: ``timeout`` delays the real
answer by ``timeout_seconds``, ``malformed`` answers 200 with HTML or a body cut short, the
others answer with the platform's own error body (see each platform module).

Nothing is logged unless ``verbose``; then paths are logged with every token redacted.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time as wallclock
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qsl, urlsplit

from agency_pulse.registry import Registry, load_registry
from agency_pulse_sandbox import facebook, graph, instagram, telegram, x, youtube
from agency_pulse_sandbox.connections import connection_settings
from agency_pulse_sandbox.data import OWN_INSTAGRAM_USER_ID, stable_hash
from agency_pulse_sandbox.exchange import (
    SECRET_PARAMETERS,
    SandboxRequest,
    SandboxResponse,
    html_response,
    json_response,
)
from agency_pulse_sandbox.state import SandboxState

# Host-name prefixes and the platform module that answers under each.
_ROUTES: tuple[tuple[str, ModuleType | None], ...] = (
    ("/graph.facebook.com", None),  # Facebook or Instagram, decided per request
    ("/www.googleapis.com/youtube/v3", youtube),
    ("/api.x.com/2", x),
    ("/api.telegram.org", telegram),
    ("/t.me", telegram),
    ("/s", telegram),
)
_PLATFORM_MODULES = {"facebook": facebook, "instagram": instagram, "youtube": youtube, "x": x,
                     "telegram": telegram}
_BOT_TOKEN = re.compile(r"/bot[^/]+")


def redact_path(path: str) -> str:
    """The path with the Telegram bot token and credential parameters replaced by ``***``."""
    split = urlsplit(path)
    cleaned = _BOT_TOKEN.sub("/bot***", split.path)
    if split.query:
        pairs = [(k, "***" if k in SECRET_PARAMETERS else v)
                 for k, v in parse_qsl(split.query, keep_blank_values=True)]
        cleaned += "?" + "&".join(f"{k}={v}" for k, v in pairs)
    return cleaned


def _graph_platform(request: SandboxRequest, state: SandboxState) -> str:
    """Instagram when the node is an Instagram user or business discovery is asked for."""
    parsed = graph.graph_path(request)
    node = parsed[1][0] if parsed and parsed[1] else ""
    if node == OWN_INSTAGRAM_USER_ID or "business_discovery" in request.query.get("fields", ""):
        return "instagram"
    if node and node.isdigit() and state.world.find("instagram", node) is not None:
        return "instagram"
    return "facebook"


class _Handler(BaseHTTPRequestHandler):
    server_version = "AgencyPulseSandbox/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without this, keep-alive clients wait ~40 ms each.
    disable_nagle_algorithm = True
    state: SandboxState  # set on the subclass made per server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.state.verbose:
            sys.stderr.write(f"sandbox: {self.command} {redact_path(self.path)} {args[1] if len(args) > 1 else ''}\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.state.verbose:
            self.log_message("%s %s", redact_path(self.path), code)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        if self.command == "POST" and body and "x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
            query.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            if split.path.startswith("/_sandbox/"):
                response = self._admin(split.path, body, f"http://{host}")
            else:
                response = self._platform(split.path, query, headers, body, f"http://{host}")
        except Exception as exc:  # a sandbox bug must not hang the client: answer 500
            response = json_response({"sandbox_error": type(exc).__name__}, status=500)
        self._send(response)

    def _platform(self, path: str, query: dict, headers: dict, body: bytes, server_url: str) -> SandboxResponse:
        route = next(((prefix, module) for prefix, module in _ROUTES
                      if path == prefix or path.startswith(prefix + "/")), None)
        if route is None:
            return json_response({"error": "not found", "path": redact_path(path)}, status=404)
        prefix, module = route
        request = SandboxRequest(method=self.command, path=path[len(prefix):] or "/", query=query,
                                 headers=headers, body=body, server_url=server_url)
        if prefix in ("/t.me", "/s"):
            # The preview keeps its own path space ("/t.me/s/{channel}") inside the module.
            request = SandboxRequest(method=self.command, path="/t.me" + path[len("/t.me"):] if prefix == "/t.me"
                                     else "/t.me" + path, query=query, headers=headers, body=body,
                                     server_url=server_url)
        if module is None:
            module = _PLATFORM_MODULES[_graph_platform(request, self.state)]
        platform = module.PLATFORM
        self.state.count(platform, module.endpoint(request))
        self.state.delay_answer()
        fault = self.state.roll_fault(platform)
        if fault == "timeout":
            wallclock.sleep(self.state.timeout_seconds())
            fault = None
        if fault and fault != "malformed":
            answer = module.fault_response(fault, request, self.state)
            if answer is not None:
                return answer
        response = module.handle(request, self.state)
        if fault == "malformed":
            return _malformed(response)
        return response

    def _admin(self, path: str, body: bytes, server_url: str) -> SandboxResponse:
        if path == "/_sandbox/connections" and self.command == "GET":
            return json_response(connection_settings(server_url))
        if path == "/_sandbox/config" and self.command == "GET":
            return json_response(self.state.config())
        if path == "/_sandbox/config" and self.command == "POST":
            try:
                spec = json.loads(body or b"{}")
                if not isinstance(spec, dict):
                    raise ValueError("the body must be a JSON object")
                unknown = set(spec) - {"date", "seed", "faults", "latency_ms", "x_rate_limits"}
                if unknown:
                    raise ValueError(f"unknown keys {sorted(unknown)} (allowed: date, seed, faults, "
                                     "latency_ms, x_rate_limits)")
                day = date.fromisoformat(spec["date"]) if spec.get("date") else None
                return json_response(self.state.configure(day=day, seed=spec.get("seed"),
                                                          faults=spec.get("faults"),
                                                          latency_ms=spec.get("latency_ms"),
                                                          x_rate_limits=spec.get("x_rate_limits")))
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, status=400)
        if path == "/_sandbox/stats" and self.command == "GET":
            return json_response(self.state.stats())
        if path == "/_sandbox/stats/reset" and self.command == "POST":
            self.state.reset_stats()
            return json_response(self.state.stats())
        if path == "/_sandbox/health":
            return json_response({"ok": True, "date": self.state.day.isoformat()})
        return json_response({"error": f"no admin endpoint {self.command} {path}"}, status=404)

    def _send(self, response: SandboxResponse) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired during a timeout fault)


def _malformed(response: SandboxResponse) -> SandboxResponse:
    """A 200 whose body is an HTML error page or the real body cut short."""
    if stable_hash(response.body) % 2 and len(response.body) > 2:
        return SandboxResponse(status=200, body=response.body[: len(response.body) // 2],
                               content_type=response.content_type)
    return html_response("<!DOCTYPE html><html><head><title>Error</title></head><body>"
                         "<h1>Sorry, something went wrong.</h1><p>We're working on it.</p></body></html>")


def _as_day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


class SandboxServer:
    """A running sandbox: ``url``, ``set(...)``, ``stats()``, ``reset_stats()``, ``close()``."""

    def __init__(self, *, date: date, seed: int = 7, registry: Registry | str | Path | None = None,
                 extra_accounts_per_platform: int = 0, faults: dict | None = None, port: int = 0,
                 host: str = "127.0.0.1", verbose: bool = False,
                 youtube_daily_quota: int | None = None, x_rate_limits: dict[str, int] | None = None,
                 latency_ms: float = 0.0):
        if not isinstance(registry, Registry):
            registry = load_registry(registry)
        kwargs: dict = {"x_rate_limits": x_rate_limits, "latency_ms": latency_ms}
        if youtube_daily_quota is not None:
            kwargs["youtube_daily_quota"] = youtube_daily_quota
        self.state = SandboxState(day=date, seed=seed, registry=registry,
                                  extra_accounts_per_platform=extra_accounts_per_platform,
                                  faults=faults, verbose=verbose, **kwargs)
        handler = type("SandboxHandler", (_Handler,), {"state": self.state})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a sleeping timeout fault must not block close()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="agency-pulse-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def set(self, *, date: date | str | None = None, seed: int | None = None,
            faults: dict | None = None, latency_ms: float | None = None,
            x_rate_limits: dict[str, int] | None = None) -> dict:
        """Same as ``POST /_sandbox/config``: change the day, seed, faults, latency and/or X
        limit overrides."""
        return self.state.configure(day=_as_day(date), seed=seed, faults=faults,
                                    latency_ms=latency_ms, x_rate_limits=x_rate_limits)

    def config(self) -> dict:
        return self.state.config()

    def stats(self) -> dict:
        return self.state.stats()

    def reset_stats(self) -> None:
        self.state.reset_stats()

    def close_socket(self) -> None:
        """Release the port (after ``serve_forever`` returned)."""
        self._httpd.server_close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self if self._thread else self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def run_sandbox(date: date, seed: int = 7, registry: Registry | str | Path | None = None,
                extra_accounts_per_platform: int = 0, faults: dict | None = None, port: int = 0,
                **options: object):
    """Serve the sandbox on loopback in a background thread for the ``with`` block."""
    server = SandboxServer(date=date, seed=seed, registry=registry,
                           extra_accounts_per_platform=extra_accounts_per_platform, faults=faults,
                           port=port, **options).start()
    try:
        yield server
    finally:
        server.close()
