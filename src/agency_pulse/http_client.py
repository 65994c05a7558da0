"""One HTTP session per platform run: timeouts, retries, rate limits, redaction, counting.

Every error leaving this module is a ``PlatformError`` whose message was built from
redacted text only (and raised ``from None``, so no traceback carries a URL with a token).
Waits go through an injectable ``sleep`` so tests never wait for real.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus, urljoin, urlsplit

import requests

from agency_pulse.errors import (
    AccountGone,
    InvalidToken,
    MalformedResponse,
    PermissionDenied,
    PlatformError,
    QuotaExhausted,
    TransientError,
)

log = logging.getLogger(__name__)

REDACTED = "***"
# Telegram puts the bot token in the path; any access_token/key parameter is a secret too.
_BOT_PATH = re.compile(r"/bot[^/?#\s\"']+")
_SECRET_PARAMS = re.compile(r"(?<![A-Za-z0-9_])((?:access_token|token|key|api_key|client_secret)=)[^&\s\"'#]+",
                            re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")
FACEBOOK_USAGE_HEADERS = ("X-App-Usage", "X-Page-Usage", "X-Business-Use-Case-Usage")
# Above this percentage of a Facebook usage budget, pause between calls.
USAGE_SLOW_DOWN_PCT = 80
# A raw archive record keeps at most this much of a non-JSON body.
RAW_TEXT_LIMIT = 200_000
# A path segment that is an id: X's rate limits are per endpoint, not per user.
_ID_SEGMENT = re.compile(r"^\d+$")



class _BodyNotJson(TransientError):
    """A 2xx answer whose body is not JSON: retried, then reported as MalformedResponse."""


Classifier = Callable[[requests.Response, object], PlatformError | None]


def redact_credential_patterns(text: str) -> str:
    """Replace the credential shapes any URL or header may carry (no secret list needed)."""
    text = _BOT_PATH.sub("/bot" + REDACTED, text)
    text = _SECRET_PARAMS.sub(lambda m: m.group(1) + REDACTED, text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


class _RedactRequestLines(logging.Filter):
    """urllib3 logs every request line (path and query: a bot token, a key=) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_credential_patterns(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactRequestLines())


class ApiClient:
    """A requests session that retries transient failures and never leaks a secret.

    ``calls`` counts HTTP requests sent, ``units`` the quota units they cost, ``raw`` the
    archived responses (``{"url": redacted, "status", "body", "fetched_at"}``).
    """

    def __init__(self, platform: str, *, secrets: Iterable[str] = (), timeout=(5, 30),
                 max_retries: int = 5, backoff_base: float = 0.5, backoff_max: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, budget: int | None = None,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time,
                 jitter: Callable[[], float] = random.random,
                 default_headers: Mapping[str, str] | None = None):
        self.platform = platform
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max  # also the cap of any single wait
        self.sleep = sleep
        self.budget = budget
        self.clock = clock
        self.jitter = jitter
        self.session = session or requests.Session()
        if default_headers:
            self.session.headers.update(default_headers)
        self.calls = 0
        self.units = 0
        self.retries = 0
        self.waited = 0.0
        self.raw: list[dict] = []
        self._secrets: list[str] = []
        self._pause_before_next = 0.0
        # endpoint -> clock time its rate-limit window resets (X said none remain)
        self._endpoint_resets: dict[str, float] = {}
        self._blocked_reason: str | None = None
        self.add_secrets(secrets)

    # -- secrets -----------------------------------------------------------------------

    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        """Register more values to redact (plus their URL-encoded forms)."""
        for secret in secrets:
            if not secret:
                continue
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                if form and form not in self._secrets:
                    self._secrets.append(form)
        self._secrets.sort(key=len, reverse=True)  # longest first: no partial leftovers

    def redact(self, text: str) -> str:
        """Replace every secret (and a Telegram ``/bot<token>`` path, token parameters) by ***."""
        if not text:
            return text
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return redact_credential_patterns(text)

    def redact_value(self, value):
        """Redact every string inside a parsed JSON value (keys included)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_value(v) for v in value]
        return value

    # -- requests ----------------------------------------------------------------------

    def get_json(self, url: str, params: dict | None = None, *, headers: dict | None = None,
                 units: int = 1, classify: Classifier | None = None) -> object:
        """GET and return the parsed JSON body of a 2xx answer, retrying transient failures.

        Raises the taxonomy error ``classify`` (or the default mapping) gives for an error
        answer; ``MalformedResponse`` when a 2xx body stays unparseable after the retries.
        """
        body, _text, _url = self._get(url, params, headers=headers, units=units,
                                      classify=classify, want_json=True)
        return body

    def get_text(self, url: str, params: dict | None = None, *, headers: dict | None = None,
                 units: int = 1, classify: Classifier | None = None,
                 follow_redirects: bool = True) -> tuple[str, str]:
        """GET and return ``(text, final redacted url)`` of a 2xx answer (redirects followed).

        With ``follow_redirects=False`` a 3xx answer is returned as it is: its body, and as
        the url the (redacted, absolute) ``Location`` it points to; the redirect is not
        followed, so the caller sees that it was sent elsewhere.
        """
        _body, text, final_url = self._get(url, params, headers=headers, units=units,
                                           classify=classify, want_json=False,
                                           follow_redirects=follow_redirects)
        return text, final_url

    def _get(self, url, params, *, headers, units, classify, want_json, follow_redirects=True):
        attempt = 0
        endpoint = endpoint_key(url)
        while True:
            self._check_budget(units)
            self._pause_if_asked()
            self._wait_for_endpoint(endpoint)
            error, result = self._attempt(url, params, headers, units, classify, want_json,
                                          follow_redirects, endpoint)
            if error is None:
                return result
            if not isinstance(error, TransientError) or attempt >= self.max_retries:
                if isinstance(error, _BodyNotJson):
                    error = MalformedResponse(self.platform, f"{error.reason} (after "
                                              f"{attempt + 1} attempts)",
                                              http_status=error.http_status)
                elif isinstance(error, TransientError) and attempt >= self.max_retries:
                    error = TransientError(self.platform,
                                        f"{error.reason} (gave up after {attempt + 1} attempts)",
                                        http_status=error.http_status, code=error.code,
                                        retry_after=error.retry_after)
                raise error
            wait = self._backoff(attempt, error.retry_after)
            if wait > self.backoff_max:
                raise TransientError(
                    self.platform, f"{error.reason} (asked to wait {wait:.0f}s, more than the "
                    f"{self.backoff_max:.0f}s cap: try again later)",
                    http_status=error.http_status, code=error.code, retry_after=wait)
            log.warning("%s: %s; retry %d/%d in %.1fs", self.platform, error.reason,
                        attempt + 1, self.max_retries, wait)
            self._sleep(wait)
            self.retries += 1
            attempt += 1

    def _attempt(self, url, params, headers, units, classify, want_json, follow_redirects=True,
                 endpoint=None):
        """One request: (None, result) on success, (error, None) otherwise."""
        shown_url = self.redact(_with_params(url, params))
        self.calls += 1
        self.units += units
        try:
            response = self.session.get(url, params=params, headers=headers,
                                        timeout=self.timeout, allow_redirects=follow_redirects)
            text = response.text  # reads the whole body: a cut-short body fails here
        except requests.Timeout:
            return TransientError(self.platform, f"timeout on GET {shown_url}"), None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            return TransientError(self.platform,
                                  f"{type(exc).__name__} on GET {shown_url}"), None
        except requests.RequestException as exc:
            return MalformedResponse(self.platform,
                                     f"{type(exc).__name__} on GET {shown_url}"), None
        shown_url = self.redact(response.url or shown_url)
        body, parsed = _parse_json(text)
        self._archive(shown_url, response.status_code, body if parsed else text)
        self._read_usage_headers(response)
        status = response.status_code
        if 200 <= status < 300:
            self._read_limit_headers(response, endpoint)
        if not follow_redirects and not want_json and 300 <= status < 400:
            location = response.headers.get("Location")
            if not location:
                return MalformedResponse(self.platform, f"HTTP {status} without a Location on "
                                         f"GET {shown_url}", http_status=status), None
            return None, (None, text, self.redact(urljoin(response.url or url, location)))
        if 200 <= status < 300:
            if not want_json:
                return None, (None, text, shown_url)
            if parsed:
                return None, (body, text, shown_url)
            return _BodyNotJson(self.platform,
                                f"HTTP {status} body is not JSON (cut short?) on GET {shown_url}",
                                  http_status=status), None
        error = classify(response, body if parsed else None) if classify else None
        if error is None:
            error = default_error(self.platform, response, body if parsed else None, shown_url)
        error = self._with_redacted_reason(error)
        if isinstance(error, TransientError) and error.retry_after is None:
            error.retry_after = self._server_wait(response, body if parsed else None)
        return error, None

    # -- waiting -----------------------------------------------------------------------

    def _backoff(self, attempt: int, server_wait: float | None) -> float:
        """Exponential backoff with full jitter, but never less than the server asked."""
        exponential = self.backoff_base * (2 ** attempt)
        jittered = exponential * (0.5 + self.jitter() / 2)
        return max(jittered, server_wait or 0.0)

    def _server_wait(self, response: requests.Response, body) -> float | None:
        """Seconds the server asked us to wait: Retry-After, X reset time, Telegram retry_after."""
        waits = []
        retry_after = response.headers.get("Retry-After")
        if retry_after:
            waits.append(_retry_after_seconds(retry_after, self.clock()))
        reset = response.headers.get("x-rate-limit-reset")
        if reset and reset.strip().isdigit():
            waits.append(max(0.0, int(reset) - self.clock()))
        if isinstance(body, dict):
            parameters = body.get("parameters")
            if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"),
                                                           int | float):
                waits.append(float(parameters["retry_after"]))
        regain = _facebook_regain_seconds(response.headers)
        if regain:
            waits.append(regain)
        waits = [w for w in waits if w is not None]
        return max(waits) if waits else None

    def _read_usage_headers(self, response: requests.Response) -> None:
        """Facebook usage headers: pause above 80 %, wait for access to return at 100 %."""
        highest = _facebook_usage_pct(response.headers)
        if highest is None:
            return
        if highest >= 100:
            regain = (_facebook_regain_seconds(response.headers)
                      or min(self.backoff_max, self.backoff_base * 2 ** 5))
            self._pause_before_next = max(self._pause_before_next, regain)
            log.warning("%s: API usage at %d%%, pausing %.0fs before the next call",
                        self.platform, highest, regain)
        elif highest > USAGE_SLOW_DOWN_PCT:
            pause = min(self.backoff_max,
                        self.backoff_base * 2 ** ((highest - USAGE_SLOW_DOWN_PCT) / 4))
            self._pause_before_next = max(self._pause_before_next, pause)
            log.info("%s: API usage at %d%%, slowing down (%.1fs between calls)",
                     self.platform, highest, pause)

    def _read_limit_headers(self, response: requests.Response, endpoint: str | None) -> None:
        """Pace on a successful answer's limits, so the next call does not take a 429.

        X: ``x-rate-limit-remaining: 0`` holds the endpoint until ``x-rate-limit-reset``;
        a ``Retry-After`` on a success holds every next call that long.
        """
        headers = response.headers
        reset = (headers.get("x-rate-limit-reset") or "").strip()
        if (endpoint is not None and (headers.get("x-rate-limit-remaining") or "").strip() == "0"
                and reset.isdigit() and int(reset) > self.clock()):
            self._endpoint_resets[endpoint] = float(reset)
            log.info("%s: no calls left to %s until its reset in %.0fs", self.platform,
                     self.redact(endpoint), int(reset) - self.clock())
        retry_after = headers.get("Retry-After")
        wait = _retry_after_seconds(retry_after, self.clock()) if retry_after else None
        if wait:
            self._pause_before_next = max(self._pause_before_next, wait)

    def _wait_for_endpoint(self, endpoint: str) -> None:
        """Sleep until the endpoint's spent rate-limit window resets (capped by backoff_max)."""
        reset = self._endpoint_resets.get(endpoint)
        if reset is None:
            return
        wait = reset - self.clock()
        if wait > self.backoff_max:
            # Kept: every next call to this endpoint fails the same way without being sent.
            raise TransientError(self.platform, f"rate limit of {self.redact(endpoint)} spent: it resets in "
                                 f"{wait:.0f}s, more than the {self.backoff_max:.0f}s cap: "
                                 "try again later", retry_after=wait)
        del self._endpoint_resets[endpoint]
        if wait > 0:
            self._sleep(wait)

    def _pause_if_asked(self) -> None:
        pause, self._pause_before_next = self._pause_before_next, 0.0
        if pause <= 0:
            return
        if pause > self.backoff_max:
            raise TransientError(self.platform, f"API usage limit reached: access returns in "
                                 f"{pause:.0f}s, more than the {self.backoff_max:.0f}s cap",
                                 retry_after=pause)
        self._sleep(pause)

    def _sleep(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)

    # -- bookkeeping -------------------------------------------------------------------

    def _check_budget(self, units: int) -> None:
        if self.budget is not None and self.units + units > self.budget:
            raise QuotaExhausted(self.platform, f"run budget of {self.budget} units spent "
                                 f"({self.units} used, next call costs {units})")

    def _archive(self, url: str, status: int, body) -> None:
        if isinstance(body, str) and len(body) > RAW_TEXT_LIMIT:
            body = body[:RAW_TEXT_LIMIT]
        self.raw.append({"url": url, "status": status, "body": self.redact_value(body),
                         "fetched_at": datetime.now(UTC).isoformat()})

    def _with_redacted_reason(self, error: PlatformError) -> PlatformError:
        reason = self.redact(error.reason)
        if reason == error.reason and error.platform == self.platform:
            return error
        error.reason = reason
        error.args = (f"{self.platform}: {reason}",)
        return error


def default_error(platform: str, response: requests.Response, body, shown_url: str
                  ) -> PlatformError:
    """The taxonomy error for an HTTP status when no platform classifier decided."""
    status = response.status_code
    what = f"HTTP {status} on GET {shown_url}"
    if status == 429 or status >= 500 or status == 408:
        return TransientError(platform, what, http_status=status)
    if status == 401:
        return InvalidToken(platform, what, http_status=status)
    if status == 403:
        return PermissionDenied(platform, what, http_status=status)
    if status in (404, 410):
        return AccountGone(platform, what, http_status=status)
    return MalformedResponse(platform, what, http_status=status)


def endpoint_key(url: str) -> str:
    """The path of ``url`` with id segments as ``:id`` (X counts rate limits per endpoint)."""
    path = urlsplit(url).path
    return "/".join(":id" if _ID_SEGMENT.match(part) else part for part in path.split("/"))


def _parse_json(text: str) -> tuple[object, bool]:
    try:
        return json.loads(text), True
    except (ValueError, TypeError):
        return None, False


def _with_params(url: str, params: Mapping | None) -> str:
    if not params:
        return url
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _retry_after_seconds(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _usage_documents(headers: Mapping[str, str]) -> list[dict]:
    """The usage JSON objects of the Facebook headers (business use case: nested per id)."""
    documents = []
    for name in FACEBOOK_USAGE_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            parsed = json.loads(raw)
        except ValueError:
            continue
        if name == "X-Business-Use-Case-Usage" and isinstance(parsed, dict):
            for entries in parsed.values():
                documents += [e for e in (entries if isinstance(entries, list) else [entries])
                              if isinstance(e, dict)]
        elif isinstance(parsed, dict):
            documents.append(parsed)
    return documents


def _facebook_usage_pct(headers: Mapping[str, str]) -> int | None:
    values = [v for doc in _usage_documents(headers)
              for k, v in doc.items()
              if k in ("call_count", "total_cputime", "total_time") and isinstance(v, int | float)]
    return int(max(values)) if values else None


def _facebook_regain_seconds(headers: Mapping[str, str]) -> float | None:
    minutes = [doc.get("estimated_time_to_regain_access") for doc in _usage_documents(headers)]
    minutes = [m for m in minutes if isinstance(m, int | float) and m > 0]
    return max(minutes) * 60.0 if minutes else None
