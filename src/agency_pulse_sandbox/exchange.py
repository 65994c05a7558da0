"""The request and response objects the platform modules of the sandbox work with."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode


@dataclass(frozen=True)
class SandboxRequest:
    """One HTTP request, with the sandbox's platform prefix (e.g. ``/api.x.com``) removed."""

    method: str
    path: str                      # e.g. "/2/users/by"
    query: dict[str, str]          # last value wins, as most APIs do
    headers: dict[str, str]        # names lower-cased
    body: bytes = b""
    server_url: str = ""           # "http://127.0.0.1:PORT", for absolute links (paging.next)

    def bearer_token(self) -> str | None:
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def url(self, prefix: str, path: str, query: dict[str, str]) -> str:
        """An absolute sandbox URL; tokens are never put into it (clients send their own)."""
        clean = {k: v for k, v in query.items() if k not in SECRET_PARAMETERS}
        return f"{self.server_url}{prefix}{path}" + (f"?{urlencode(clean)}" if clean else "")


# Query parameters that carry credentials: never echoed, never logged.
SECRET_PARAMETERS = frozenset({"access_token", "key", "appsecret_proof", "token"})


@dataclass
class SandboxResponse:
    status: int
    body: bytes
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(payload: object, status: int = 200, headers: dict[str, str] | None = None) -> SandboxResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return SandboxResponse(status=status, body=body, headers=dict(headers or {}))


def html_response(text: str, status: int = 200, headers: dict[str, str] | None = None) -> SandboxResponse:
    return SandboxResponse(status=status, body=text.encode("utf-8"),
                           content_type="text/html; charset=utf-8", headers=dict(headers or {}))
