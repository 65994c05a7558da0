"""One HTTP session per platform run: timeouts, retries, rate limits, redaction, counting.

Every error leaving this module is a ``PlatformError`` whose message was built from
redacted text only (and raised ``from None``, so no traceback carries a URL with a token).
Waits go through an injectable ``sleep`` so tests never wait for real.

One client may be used from several threads at once (``concurrency`` requests in flight):
its counters, budget and pacing are shared under one lock, so every thread paces on what
any answer said (limit headers, usage headers, Retry-After); ``thread_cost`` gives the
calls and units the current thread issued, so an account handled in one thread is charged
exactly what it spent. Responses are archived by a background writer: redaction (of the
places secrets can be: the URL's path and query, token parameters and Bearer values in the
text) and gzip happen off the request path.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import queue
import random
import re
import threading
import time
import zlib
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
# Environment variables requests reads on every call when trust_env is on.
_ENVIRONMENT_SETTINGS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy",
                         "requests_ca_bundle", "curl_ca_bundle", "netrc"}
# A path segment that is an id: X's rate limits are per endpoint, not per user.
_ID_SEGMENT = re.compile(r"^\d+$")



class _Window:
    """What the limit headers said of one endpoint's window, and the calls in flight to it."""

    __slots__ = ("remaining", "reset", "limit", "in_flight")

    def __init__(self) -> None:
        self.remaining: int | None = None  # None: nothing known (no header, or a new window)
        self.reset: float | None = None
        self.limit: int | None = None
        self.in_flight = 0


class _RawArchiver:
    """Redacts and gzips archived responses in a background thread, off the request path.

    Redaction goes where secrets can be: the URL (redacted before it is queued) and the
    text of the body, once, for the client's secrets (and their URL and JSON escaped
    forms), token parameters, a ``/bot<token>`` path and Bearer values; a body left
    unchanged keeps its parsed value (no walk over every string).
    """

    def __init__(self, client: ApiClient):
        self.client = client
        self._queue: queue.Queue = queue.Queue()
        self._records: list[dict] = []
        self._chunks: list[bytes] = []
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip stream
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def add(self, url: str, status: int, text: str, body, parsed: bool) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name=f"raw-archive-{self.client.platform}")
                self._thread.start()
        self._queue.put((url, status, text, body, parsed, datetime.now(UTC).isoformat()))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                record = self._record(*item)
                self._records.append(record)
                line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
                self._chunks.append(self._compressor.compress(line.encode("utf-8")))
            except Exception:  # never let one odd body stop the archive
                log.exception("%s: a response could not be archived", self.client.platform)
            finally:
                self._queue.task_done()

    def _record(self, url: str, status: int, text: str, body, parsed: bool,
                fetched_at: str) -> dict:
        if not parsed:
            return {"url": url, "status": status,
                    "body": self.client.redact(text[:RAW_TEXT_LIMIT]), "fetched_at": fetched_at}
        clean = self.client.redact(text)
        if clean != text:
            try:
                body = json.loads(clean)
            except ValueError:
                body = self.client.redact_value(body)
        return {"url": url, "status": status, "body": body, "fetched_at": fetched_at}

    def records(self) -> list[dict]:
        self._queue.join()
        return list(self._records)

    def gzipped(self) -> bytes | None:
        self._queue.join()
        if not self._records:
            return None
        # a copy: the stream stays open for responses still to come
        return b"".join(self._chunks) + self._compressor.copy().flush()


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
                 default_headers: Mapping[str, str] | None = None, concurrency: int = 1):
        self.platform = platform
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max  # also the cap of any single wait
        self.sleep = sleep
        self.budget = budget
        self.clock = clock
        self.jitter = jitter
        self.concurrency = max(1, int(concurrency))
        self.session = session or requests.Session()
        if session is None and not _ENVIRONMENT_SETTINGS & {k.lower() for k in os.environ}:
            # Without proxy or CA-bundle variables, requests would still scan the environment
            # and look for ~/.netrc on every call (a third of the client's time per call).
            self.session.trust_env = False
        if session is None and self.concurrency > 10:
            # one pooled connection per thread in flight (urllib3 keeps 10 by default)
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=self.concurrency)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        if default_headers:
            self.session.headers.update(default_headers)
        self.calls = 0
        self.units = 0
        self.retries = 0
        self.waited = 0.0
        self._secrets: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        # A hold every thread serves once before its next call (Retry-After on a success,
        # Facebook usage): (clock time it ends, its generation).
        self._hold_until = 0.0
        self._hold_generation = 0
        # endpoint -> what the limit headers said of its window (X counts per endpoint)
        self._windows: dict[str, _Window] = {}
        self._archiver = _RawArchiver(self)
        self.add_secrets(secrets)

    # -- secrets -----------------------------------------------------------------------

    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        """Register more values to redact (plus their URL-encoded forms)."""
        known = list(self._secrets)
        for secret in secrets:
            if not secret:
                continue
            # as sent in a URL, and as written inside a JSON string of an archived body
            escaped = json.dumps(secret)[1:-1]
            for form in {secret, quote(secret, safe=""), quote_plus(secret), escaped,
                         escaped.replace("/", "\\/")}:
                if form and form not in known:
                    known.append(form)
        known.sort(key=len, reverse=True)  # longest first: no partial leftovers
        self._secrets = known  # replaced whole: the archive writer may be reading it

    @property
    def raw(self) -> list[dict]:
        """The archived responses so far, redacted (``{"url", "status", "body", "fetched_at"}``);
        waits for the background writer to catch up."""
        return self._archiver.records()

    def raw_archive(self) -> bytes | None:
        """The archive as gzip JSON lines (None when nothing was archived); waits for the
        writer to finish what was queued."""
        return self._archiver.gzipped()

    def thread_cost(self) -> tuple[int, int]:
        """(calls, units) issued so far by the calling thread (the per-account share)."""
        return getattr(self._local, "calls", 0), getattr(self._local, "units", 0)

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
            self._serve_hold()
            self._take_from_window(endpoint, units)
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
            waited_until = self.clock() + wait
            self._sleep(wait)
            # That wait covered the server's own (a 429's reset): the window it named is over.
            self._window_served(endpoint, waited_until)
            with self._lock:
                self.retries += 1
            attempt += 1

    def _attempt(self, url, params, headers, units, classify, want_json, follow_redirects=True,
                 endpoint=None):
        """One request (already counted and paced): (None, result) on success, (error, None)
        otherwise."""
        try:
            try:
                response = self.session.get(url, params=params, headers=headers,
                                            timeout=self.timeout, allow_redirects=follow_redirects)
                text = response.text  # reads the whole body: a cut-short body fails here
            finally:
                self._landed(endpoint)
        except requests.Timeout:
            shown_url = self.redact(_with_params(url, params))
            return TransientError(self.platform, f"timeout on GET {shown_url}"), None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            shown_url = self.redact(_with_params(url, params))
            return TransientError(self.platform,
                                  f"{type(exc).__name__} on GET {shown_url}"), None
        except requests.RequestException as exc:
            shown_url = self.redact(_with_params(url, params))
            return MalformedResponse(self.platform,
                                     f"{type(exc).__name__} on GET {shown_url}"), None
        shown_url = self.redact(response.url or _with_params(url, params))
        body, parsed = _parse_json(text)
        self._archiver.add(shown_url, response.status_code, text, body, parsed)
        self._read_usage_headers(response)
        status = response.status_code
        self._read_limit_headers(response, endpoint, success=200 <= status < 300)
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
            self._hold(regain)
            log.warning("%s: API usage at %d%%, pausing %.0fs before the next call",
                        self.platform, highest, regain)
        elif highest > USAGE_SLOW_DOWN_PCT:
            pause = min(self.backoff_max,
                        self.backoff_base * 2 ** ((highest - USAGE_SLOW_DOWN_PCT) / 4))
            self._hold(pause)
            log.info("%s: API usage at %d%%, slowing down (%.1fs between calls)",
                     self.platform, highest, pause)

    def _read_limit_headers(self, response: requests.Response, endpoint: str | None,
                            *, success: bool = True) -> None:
        """Pace on an answer's limits, so the next call (of any thread) does not take a 429.

        X: ``x-rate-limit-remaining`` / ``-reset`` (``-limit``) give the endpoint's window;
        no call to it leaves once none remain, until the reset. A ``Retry-After`` on a
        success holds every next call that long (on an error, the retry waits for it).
        """
        headers = response.headers
        reset = (headers.get("x-rate-limit-reset") or "").strip()
        remaining = (headers.get("x-rate-limit-remaining") or "").strip()
        if endpoint is not None and reset.isdigit() and remaining.lstrip("-").isdigit():
            limit = (headers.get("x-rate-limit-limit") or "").strip()
            self._window_said(endpoint, int(remaining), float(reset),
                              int(limit) if limit.isdigit() else None)
        retry_after = headers.get("Retry-After") if success else None
        wait = _retry_after_seconds(retry_after, self.clock()) if retry_after else None
        if wait:
            self._hold(wait)

    # -- the shared pacer (every thread of this client) ---------------------------------

    def _window_said(self, endpoint: str, remaining: int, reset: float,
                     limit: int | None) -> None:
        """An answer's word on the endpoint's window, counted against calls still in flight."""
        now = self.clock()
        with self._lock:
            window = self._windows.setdefault(endpoint, _Window())
            if reset <= now:
                # that window is over: nothing known of the next one
                window.remaining = window.reset = None
                window.limit = limit or window.limit
                return
            if window.reset is not None and reset < window.reset:
                return  # a late answer from an earlier window
            # Calls in flight may not be counted in this answer yet: assume they were not.
            estimate = remaining - window.in_flight
            if window.reset == reset and window.remaining is not None:
                estimate = min(estimate, window.remaining)
            window.remaining, window.reset = estimate, reset
            window.limit = limit or window.limit
            if estimate <= 0:
                log.info("%s: no calls left to %s until its reset in %.0fs", self.platform,
                         self.redact(endpoint), reset - now)

    def _take_from_window(self, endpoint: str, units: int) -> None:
        """Count the call (totals, this thread's share, budget) and take one from the
        endpoint's window, first sleeping until its reset when none remain."""
        while True:
            with self._lock:
                window = self._windows.setdefault(endpoint, _Window())
                wait = 0.0
                if window.remaining is not None and window.remaining <= 0:
                    wait = (window.reset or 0.0) - self.clock()
                if wait <= 0:
                    if window.remaining is not None and window.remaining <= 0:
                        window.remaining, window.reset = window.limit, None  # a new window
                    if self.budget is not None and self.units + units > self.budget:
                        raise QuotaExhausted(self.platform, f"run budget of {self.budget} units "
                                             f"spent ({self.units} used, next call costs {units})")
                    if window.remaining is not None:
                        window.remaining -= 1
                    window.in_flight += 1
                    self.calls += 1
                    self.units += units
                    self._local.calls = getattr(self._local, "calls", 0) + 1
                    self._local.units = getattr(self._local, "units", 0) + units
                    return
                reset = window.reset
            if wait > self.backoff_max:
                # Kept: every next call to this endpoint fails the same way without being sent.
                raise TransientError(self.platform, f"rate limit of {self.redact(endpoint)} spent: "
                                     f"it resets in {wait:.0f}s, more than the "
                                     f"{self.backoff_max:.0f}s cap: try again later",
                                     retry_after=wait)
            self._sleep(wait)
            self._window_served(endpoint, reset)

    def _window_served(self, endpoint: str, until: float | None) -> None:
        """A thread waited until ``until``: a window resetting by then is over."""
        with self._lock:
            window = self._windows.get(endpoint)
            if (window is not None and window.reset is not None and until is not None
                    and window.reset <= until):
                window.remaining, window.reset = window.limit, None

    def _landed(self, endpoint: str | None) -> None:
        with self._lock:
            window = self._windows.get(endpoint) if endpoint is not None else None
            if window is not None and window.in_flight > 0:
                window.in_flight -= 1

    def _hold(self, seconds: float) -> None:
        """Hold every thread's next call until ``seconds`` from now (a later hold stands)."""
        with self._lock:
            now = self.clock()
            if self._hold_until > now and self._hold_until >= now + seconds:
                return  # a hold as long is already pending
            self._hold_until = now + seconds
            self._hold_generation += 1

    def _serve_hold(self) -> None:
        """Wait out the latest hold, once per thread (raises when it is beyond the cap)."""
        with self._lock:
            if self._hold_generation == getattr(self._local, "served", 0):
                return
            self._local.served = self._hold_generation
            pause = self._hold_until - self.clock()
        if pause <= 0:
            return
        if pause > self.backoff_max:
            raise TransientError(self.platform, f"API usage limit reached: access returns in "
                                 f"{pause:.0f}s, more than the {self.backoff_max:.0f}s cap",
                                 retry_after=pause)
        self._sleep(pause)

    def _sleep(self, seconds: float) -> None:
        with self._lock:
            self.waited += seconds
        self.sleep(seconds)

    # -- bookkeeping -------------------------------------------------------------------

    def _check_budget(self, units: int) -> None:
        """Fail before any wait when the budget cannot pay the call (checked again when the
        call is counted, under the lock)."""
        if self.budget is not None and self.units + units > self.budget:
            raise QuotaExhausted(self.platform, f"run budget of {self.budget} units spent "
                                 f"({self.units} used, next call costs {units})")

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
