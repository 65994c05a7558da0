"""Test doubles for the extractor tests: a loopback platform server and fixture loading.

Handlers receive the request (path, query, headers) and return ``(status, body)`` or
``(status, body, headers)``; a dict/list body is sent as JSON, a str as HTML. Every request
is recorded, so tests assert call counts and parameters.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str):
    """A documented example body: parsed JSON for .json files, text otherwise."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakePlatform:
    url: str = ""
    routes: dict[str, Callable[[Request], tuple]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def route(self, path: str, handler: Callable[[Request], tuple]) -> None:
        self.routes[path] = handler

    def calls_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def serve_fake_platform():
    """Start a FakePlatform on 127.0.0.1 (a free port); returns (platform, stop)."""
    platform = FakePlatform()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            parts = urlsplit(self.path)
            request = Request(parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                              dict(self.headers.items()))
            platform.requests.append(request)
            handler = platform.routes.get(parts.path)
            if handler is None:
                answer = (404, {"error": f"no route {parts.path}"})
            else:
                answer = handler(request)
            status, body = answer[0], answer[1]
            headers = answer[2] if len(answer) > 2 else {}
            if isinstance(body, dict | list):
                payload, content_type = json.dumps(body).encode(), "application/json"
            else:
                payload, content_type = str(body).encode(), "text/html; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    platform.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return platform, stop
