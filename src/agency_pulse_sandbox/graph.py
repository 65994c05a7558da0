"""What Facebook and Instagram share in the sandbox: the Graph API's field syntax, tokens,
errors, usage headers, timestamps and cursors."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from agency_pulse_sandbox.data import stable_hash
from agency_pulse_sandbox.exchange import SandboxRequest, SandboxResponse, json_response
from agency_pulse_sandbox.state import SandboxState

GRAPH_PREFIX_PATTERN = re.compile(r"^/(v\d+\.\d+)(/.*)?$")
# Calls per minute that the sandbox reports as 100% in the usage headers.
CALLS_PER_MINUTE_AT_FULL_USAGE = 3000


@dataclass
class GraphField:
    """One entry of a ``fields=`` list: ``name.modifier(arg)...{subfields}``."""

    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    subfields: list[GraphField] | None = None


class FieldSyntaxError(ValueError):
    pass


def parse_fields(text: str) -> list[GraphField]:
    """Parse Graph field-expansion syntax, e.g. ``a,b.summary(true).limit(0),c{d,e}``."""
    fields, position = _parse_field_list(text or "", 0)
    if position != len(text or ""):
        raise FieldSyntaxError(f"unexpected {text[position]!r} at {position}")
    return fields


def _parse_field_list(text: str, position: int) -> tuple[list[GraphField], int]:
    fields: list[GraphField] = []
    while position < len(text) and text[position] != "}":
        match = re.compile(r"\s*([A-Za-z0-9_]+)\s*").match(text, position)
        if not match:
            raise FieldSyntaxError(f"expected a field name at {position}")
        current = GraphField(match.group(1))
        position = match.end()
        while position < len(text) and text[position] == ".":
            modifier = re.compile(r"\.([A-Za-z_]+)\(([^)]*)\)").match(text, position)
            if not modifier:
                raise FieldSyntaxError(f"bad modifier at {position}")
            current.modifiers[modifier.group(1)] = modifier.group(2)
            position = modifier.end()
        if position < len(text) and text[position] == "{":
            current.subfields, position = _parse_field_list(text, position + 1)
            if position >= len(text) or text[position] != "}":
                raise FieldSyntaxError("unclosed '{'")
            position += 1
        fields.append(current)
        if position < len(text) and text[position] == ",":
            position += 1
    return fields, position


def format_fields(fields: list[GraphField]) -> str:
    """The inverse of ``parse_fields`` (used to build ``paging.next`` of expanded edges)."""
    parts = []
    for item in fields:
        text = item.name + "".join(f".{k}({v})" for k, v in item.modifiers.items())
        if item.subfields is not None:
            text += "{" + format_fields(item.subfields) + "}"
        parts.append(text)
    return ",".join(parts)


def graph_path(request: SandboxRequest) -> tuple[str, list[str]] | None:
    """(version, path segments) of a Graph request path such as ``/v24.0/page/posts``."""
    match = GRAPH_PREFIX_PATTERN.match(request.path)
    if not match:
        return None
    return match.group(1), [s for s in (match.group(2) or "").split("/") if s]


def graph_time(moment: datetime) -> str:
    """Graph API timestamps: ``2026-11-27T08:15:00+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_graph_time(value: str) -> datetime | None:
    """``since``/``until`` as the Graph API takes them: Unix seconds or an ISO date/time."""
    value = (value or "").strip()
    if not value:
        return None
    if re.fullmatch(r"-?\d+", value):
        return datetime.fromtimestamp(int(value), UTC)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def encode_cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(("QVF" + ":".join(map(str, parts))).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[str] | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return text[3:].split(":") if text.startswith("QVF") else None


def access_token(request: SandboxRequest) -> str | None:
    """The token from ``access_token`` or an ``Authorization: Bearer`` header."""
    return request.query.get("access_token") or request.bearer_token()


def graph_error(request: SandboxRequest, message: str, code: int, *, status: int = 400,
                error_type: str = "OAuthException", subcode: int | None = None,
                headers: dict[str, str] | None = None, **extra: object) -> SandboxResponse:
    """The Graph API's error body: ``{"error": {message, type, code, error_subcode, fbtrace_id}}``."""
    error: dict = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    error["fbtrace_id"] = _trace_id(request, message)
    all_headers = {}
    if code in (104, 190):  # the real API names the token problem in this header too
        all_headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "{_www_auth_kind(code)}" "{message}"'
    all_headers.update(headers or {})
    return json_response({"error": error}, status=status, headers=all_headers)


def _www_auth_kind(code: int) -> str:
    return "invalid_token" if code == 190 else "invalid_request"


def _trace_id(request: SandboxRequest, message: str) -> str:
    digest = stable_hash(request.path, sorted((k, v) for k, v in request.query.items()
                                              if k != "access_token"), message)
    return base64.b64encode(digest.to_bytes(8, "big")).decode()[:11]


def missing_token(request: SandboxRequest) -> SandboxResponse:
    return graph_error(request, "An access token is required to request this resource.", 104)


def usage_headers(state: SandboxState, platform: str, percent: int | None = None) -> dict[str, str]:
    """``X-App-Usage`` as percentages; ``percent`` forces a value (throttling sends ~100)."""
    if percent is None:
        remaining, _ = state.rate_window(f"{platform}-usage", CALLS_PER_MINUTE_AT_FULL_USAGE, 60)
        used = CALLS_PER_MINUTE_AT_FULL_USAGE - remaining
        percent = min(99, used * 100 // CALLS_PER_MINUTE_AT_FULL_USAGE)
    usage = {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
    return {"X-App-Usage": json.dumps(usage, separators=(",", ":"))}


# -- responses to switched-on faults, shared by Facebook and Instagram ----------------------

_THROTTLES = (
    (4, 403, "(#4) Application request limit reached", "X-App-Usage"),
    (17, 403, "(#17) User request limit reached", "X-App-Usage"),
    (32, 400, "(#32) Page request limit reached", "X-Page-Usage"),
    (613, 400, "(#613) Calls to this api have exceeded the rate limit.", "X-App-Usage"),
)


def fault_response(kind: str, request: SandboxRequest, state: SandboxState,
                   platform: str) -> SandboxResponse:
    """The Graph API's own answer to a throttle, outage, expired token or similar fault."""
    pick = stable_hash(request.path, sorted((k, v) for k, v in request.query.items()
                                            if k != "access_token"))
    if kind == "throttle":
        code, status, message, header = _THROTTLES[pick % len(_THROTTLES)]
        usage = json.dumps({"call_count": 100, "total_cputime": 42, "total_time": 100,
                            "estimated_time_to_regain_access": 1}, separators=(",", ":"))
        headers = {"X-App-Usage": json.dumps({"call_count": 100, "total_cputime": 42, "total_time": 100},
                                             separators=(",", ":"))}
        headers[header] = usage if header != "X-App-Usage" else headers["X-App-Usage"]
        extra: dict = {"is_transient": True}
        if code == 17:
            return graph_error(request, message, code, status=status, subcode=2446079,
                               headers=headers, **extra)
        return graph_error(request, message, code, status=status, headers=headers, **extra)
    if kind == "server_error":
        if pick % 2:
            return graph_error(request, "An unknown error has occurred.", 1, status=500, is_transient=True)
        return graph_error(request, "An unexpected error has occurred. Please retry your request later.",
                           2, status=503, is_transient=True)
    if kind == "expired_token":
        return graph_error(request, "Error validating access token: Session has expired on "
                           "Thursday, 26-Nov-26 01:00:00 PST. The current time is Friday, 27-Nov-26 "
                           "01:00:00 PST.", 190, subcode=463)
    if kind == "access_tier":
        return permission_error(request, "Page Public Content Access")
    if kind == "quota_exceeded":
        code, status, message, _ = _THROTTLES[0]
        return graph_error(request, message, code, status=status, is_transient=False,
                           headers={"X-App-Usage": json.dumps({"call_count": 100, "total_cputime": 100,
                                                               "total_time": 100})})
    raise ValueError(f"no Graph API answer for fault {kind!r}")


def permission_error(request: SandboxRequest, feature: str) -> SandboxResponse:
    """Code 10: the app lacks the feature (or the object is not visible to it)."""
    return graph_error(
        request, f"(#10) To use '{feature}', your use of this endpoint must be reviewed and "
        f"approved by Facebook. To submit this '{feature}' feature for review please read our "
        "documentation on reviewable features: https://developers.facebook.com/docs/apps/review.", 10)


def object_missing(request: SandboxRequest, object_id: str) -> SandboxResponse:
    """Code 100, subcode 33: the object is gone or cannot be seen."""
    return graph_error(
        request, f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read the "
        "Graph API documentation at https://developers.facebook.com/docs/graph-api", 100,
        subcode=33, error_type="GraphMethodException")


def nonexisting_field(request: SandboxRequest, name: str, node_type: str) -> SandboxResponse:
    return graph_error(request, f"(#100) Tried accessing nonexisting field ({name}) on node type "
                       f"({node_type})", 100)
