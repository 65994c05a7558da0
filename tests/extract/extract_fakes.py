"""A fake HTTP transport and documented API bodies for the extraction tests (no network)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


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

