"""Test doubles of the platform APIs and their documented example bodies (no network).

- ``FakeApi``: an in-process ``requests`` transport adapter routing by path regex.
- ``serve_fake_platform``: a loopback HTTP server routing by exact path.
- ``load_fixture('<platform>/<name>')``: a documented body from ``tests/fixtures/``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str):
    """A documented example body: parsed JSON for .json files, text otherwise."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


class FakeApi(requests.adapters.BaseAdapter):
    """Routes GET requests by path regex to handlers; records every request it saw.

    A handler gets ``(query: dict, request)`` and returns ``body`` or ``(status, body)`` or
    ``(status, body, headers)``; it may raise a requests exception. A list of handlers is
    consumed one call at a time (the last one repeats).
    """

    def __init__(self):
        super().__init__()
        self.routes: list[tuple[re.Pattern, list]] = []
        self.seen: list[dict] = []

    def on(self, path_pattern: str, *handlers):
        self.routes.append((re.compile(path_pattern + r"$"), list(handlers)))
        return self

    def calls_to(self, path_pattern: str) -> list[dict]:
        pattern = re.compile(path_pattern + r"$")
        return [s for s in self.seen if pattern.search(s["path"])]

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.seen.append({"path": parts.path, "query": query, "url": request.url,
                          "headers": dict(request.headers)})
        for pattern, handlers in self.routes:
            if pattern.search(parts.path):
                handler = handlers.pop(0) if len(handlers) > 1 else handlers[0]
                answer = handler(query, request) if callable(handler) else handler
                break
        else:
            answer = (404, {"error": {"message": f"no route {parts.path}", "code": 803}})
        status, body, headers = 200, answer, {}
        if isinstance(answer, tuple):
            status, body, *rest = answer
            headers = rest[0] if rest else {}
        response = requests.Response()
        response.status_code = status
        response._content = (body.encode() if isinstance(body, str)
                             else body if isinstance(body, bytes) else json.dumps(body).encode())
        response.headers = CaseInsensitiveDict(
            {"Content-Type": "application/json", **headers})
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self):
        pass


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
