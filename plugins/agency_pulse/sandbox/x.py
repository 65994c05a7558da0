"""x in the sandbox (being written)."""

from __future__ import annotations

from agency_pulse.sandbox.exchange import SandboxRequest, SandboxResponse, json_response
from agency_pulse.sandbox.state import SandboxState

PLATFORM = "x"


def endpoint(request: SandboxRequest) -> str:
    return "unknown"


def fault_response(kind: str, request: SandboxRequest, state: SandboxState) -> SandboxResponse | None:
    return None


def handle(request: SandboxRequest, state: SandboxState) -> SandboxResponse:
    return json_response({"error": "not yet"}, status=404)
