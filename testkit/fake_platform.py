"""The one fake of the platform APIs: a loopback HTTP server with a route table.

Tests point a ``PlatformConnection`` (or any URL) at ``fake.url`` so every request goes
through the real HTTP client, sockets included. ``fake.route(pattern, *answers)`` serves a
path; ``fake.requests`` records what was asked.

- A *pattern* is a regular expression matched against the whole path (``/v24.0/\\d+/posts``);
  the newest route matching a path answers it, so routing a pattern again replaces it.
- An *answer* is ``body``, ``(status, body)`` or ``(status, body, headers)``, or a handler
  ``handler(request) -> answer``. A dict or list body is sent as JSON, a str as HTML (UTF-8),
  bytes as they are; ``headers`` add to or replace the Content-Type. ``DROP`` closes the
  connection without answering (the client sees a connection error); ``Stall(seconds)``
  holds the connection that long first (a client with a shorter read timeout times out).
- Several answers are used one per request, the last one repeating.
- A path no route matches gets 404 with a JSON error body naming the path.
- A handler that raises is answered with 500 and recorded in ``handler_errors``;
  ``check()`` re-raises the first one so a failed assertion inside a handler fails the test.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    """One request the fake received (``query``: the last value of each parameter)."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    url: str


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()


@dataclass(frozen=True)
class Stall:
    """Hold the connection ``seconds``, then close it without answering."""

    seconds: float


Answer = object  # body | (status, body) | (status, body, headers) | DROP | Stall | handler


class FakePlatform:
    """A loopback server answering from a route table; see the module docstring."""

    def __init__(self) -> None:
        self.routes: list[tuple[re.Pattern, list[Answer]]] = []
        self.requests: list[Request] = []
        self.handler_errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- the route table -------------------------------------------------------------

    def route(self, pattern: str, *answers: Answer) -> FakePlatform:
        """Answer GETs whose whole path matches ``pattern`` (replaces the same pattern)."""
        if not answers:
            raise ValueError(f"route {pattern!r} needs at least one answer")
        compiled = re.compile(pattern)
        with self._lock:
            self.routes = [r for r in self.routes if r[0].pattern != pattern]
            self.routes.append((compiled, list(answers)))
        return self

    def calls_to(self, pattern: str) -> list[Request]:
        """The recorded requests whose whole path matches ``pattern``, in order."""
        compiled = re.compile(pattern)
        return [r for r in self.requests if compiled.fullmatch(r.path)]

    def check(self) -> None:
        """Raise the first exception a handler raised (an assertion about a request)."""
        if self.handler_errors:
            raise self.handler_errors[0]

    def _answer_for(self, request: Request) -> Answer:
        with self._lock:
            for pattern, answers in reversed(self.routes):
                if pattern.fullmatch(request.path):
                    answer = answers.pop(0) if len(answers) > 1 else answers[0]
                    break
            else:
                return 404, {"error": {"message": f"fake platform: no route for {request.path}",
                                       "code": 404}}
        if callable(answer):
            try:
                return answer(request)
            except Exception as exc:  # the test sees it through check()
                self.handler_errors.append(exc)
                return 500, f"fake platform: the handler raised {type(exc).__name__}: {exc}"
        return answer

    # -- the server ------------------------------------------------------------------

    def start(self) -> FakePlatform:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                parts = urlsplit(self.path)
                request = Request(parts.path,
                                  dict(parse_qsl(parts.query, keep_blank_values=True)),
                                  dict(self.headers.items()), fake.url + self.path)
                fake.requests.append(request)
                self._send(fake._answer_for(request))

            def _send(self, answer: Answer) -> None:
                if isinstance(answer, Stall):
                    time.sleep(answer.seconds)
                if answer is DROP or isinstance(answer, Stall):
                    self.close_connection = True
                    return
                status, body, headers = 200, answer, {}
                if isinstance(answer, tuple):
                    status, body, *rest = answer
                    headers = rest[0] if rest else {}
                if isinstance(body, dict | list):
                    payload, content_type = json.dumps(body).encode(), "application/json"
                elif isinstance(body, bytes):
                    payload, content_type = body, "application/octet-stream"
                else:
                    payload, content_type = str(body).encode(), "text/html; charset=utf-8"
                headers = {"Content-Type": content_type, **headers}
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True  # a stalled answer never blocks stop()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None


@contextmanager
def serve() -> Iterator[FakePlatform]:
    """A started FakePlatform on 127.0.0.1 (a free port), stopped on exit."""
    fake = FakePlatform().start()
    try:
        yield fake
    finally:
        fake.stop()

