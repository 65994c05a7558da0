"""One error taxonomy for every platform, mapped to what the pipeline does about it.

| class              | meaning                                   | pipeline outcome                      |
|--------------------|-------------------------------------------|---------------------------------------|
| TransientError     | throttled, 5xx, timeout, cut-short body   | retried with backoff by the client    |
| QuotaExhausted     | daily quota spent (YouTube)               | stop the platform for the run         |
| AccountGone        | deleted / not visible                     | mark the account `gone`, carry on     |
| PermissionDenied   | missing permission or access tier         | mark the account `private`, carry on  |
|                    | (`platform_wide`: no account may be read) | (platform-wide: fail the platform)    |
| InvalidToken       | expired or invalid credentials            | fail the platform, alert              |
| MalformedResponse  | not JSON, fields missing, wrong types     | fail that account/batch, never zeros  |
| InvalidHandle      | a handle that cannot be sent as it stands | fail that account, ask for a fix      |

Messages never contain a token: build them from redacted URLs only.
"""

from __future__ import annotations


class AgencyPulseError(Exception):
    """Base of every error the pipeline reports to a user as one readable line."""


class UserInputError(AgencyPulseError):
    """Bad input from a person (registry, CSV, command line): exit status 1."""


class ConfigurationError(UserInputError):
    """A setting or connection is wrong or points at nothing; the message names it."""


class RegistryError(UserInputError):
    """The agency registry is invalid; the message names the offending path."""


class LakeFileCorrupted(AgencyPulseError):
    """An accepted lake file no longer matches the checksum recorded when it was published;
    the message names the file and says how to restore it."""


class ValidationFailed(AgencyPulseError):
    """A batch failed its data-quality suite and was quarantined."""


class PlatformError(AgencyPulseError):
    """An API answered with an error. `platform` and a redacted `reason` always set."""

    #: whether the whole platform must stop for this run
    stops_platform = False
    #: status written to quality.extract_log for the affected account(s)
    log_status = "failed"

    def __init__(self, platform: str, reason: str, *, http_status: int | None = None,
                 code: str | int | None = None, retry_after: float | None = None):
        super().__init__(f"{platform}: {reason}")
        self.platform = platform
        self.reason = reason
        self.http_status = http_status
        self.code = code
        self.retry_after = retry_after


class TransientError(PlatformError):
    """Worth retrying after a wait (throttling, 5xx, timeouts, truncated bodies)."""


class QuotaExhausted(PlatformError):
    """The platform's quota is spent: do not retry before `resets_at`."""

    stops_platform = True

    def __init__(self, platform: str, reason: str, *, resets_at: str | None = None, **kw):
        super().__init__(platform, reason, **kw)
        self.resets_at = resets_at


class AccountGone(PlatformError):
    """The account (or object) no longer exists or is not visible."""

    log_status = "gone"


class PermissionDenied(PlatformError):
    """Missing permission or access tier; `platform_wide` when no account can be read."""

    def __init__(self, platform: str, reason: str, *, platform_wide: bool = False, **kw):
        super().__init__(platform, reason, **kw)
        self.platform_wide = platform_wide

    @property
    def stops_platform(self) -> bool:  # type: ignore[override]
        return self.platform_wide

    @property
    def log_status(self) -> str:  # type: ignore[override]
        """``private`` when this account refuses us (a fact, like ``gone``); ``failed`` when
        the refusal is the platform's (no account may be read)."""
        return "failed" if self.platform_wide else "private"


class InvalidToken(PlatformError):
    """Credentials expired or invalid: stop the platform and alert."""

    stops_platform = True


class MalformedResponse(PlatformError):
    """The body is not what the API documents (not JSON, missing fields, wrong types)."""


class InvalidHandle(PlatformError):
    """A registry handle or id that cannot reach a request intact (it would change the request)."""
