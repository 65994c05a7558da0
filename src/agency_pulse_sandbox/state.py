"""The sandbox's mutable state: its clock, seed, fault switches, latency, quotas and request counts.

One ``SandboxState`` is shared by every request thread; every change goes through its lock.
"""

from __future__ import annotations

import random
import threading
import time as wallclock
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from agency_pulse.config import PLATFORMS
from agency_pulse.registry import Registry, normalize_handle
from agency_pulse_sandbox.data import SandboxAccount, SandboxWorld, stable_hash

# Faults switched on by a probability per request, rolled in this order (first hit wins).
RATE_FAULTS = ("expired_token", "access_tier", "quota_exceeded", "throttle", "server_error",
               "timeout", "malformed")
# Faults that name accounts (handles or platform ids).
ACCOUNT_FAULTS = ("deleted_account", "private")
# A handle change: ``{"x": {"renamed": {"old_handle": "new_handle"}}}``. The old handle then
# answers as not found; the new handle and the account's id answer with the new handle.
RENAMED = "renamed"
DEFAULT_TIMEOUT_SECONDS = 2.0
YOUTUBE_DAILY_QUOTA = 10_000


class FaultConfig:
    """Validated fault switches: ``{"timeout_seconds": 2, "x": {"throttle": 0.2, "private": [...]}}``."""

    def __init__(self, spec: dict | None = None):
        spec = dict(spec or {})
        self.timeout_seconds = float(spec.pop("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
        if self.timeout_seconds < 0:
            raise ValueError("faults.timeout_seconds must be >= 0")
        self.rates: dict[str, dict[str, float]] = {}
        self.accounts: dict[str, dict[str, set[str]]] = {}
        self.renamed: dict[str, dict[str, str]] = {}  # platform -> old handle key -> new handle
        for platform, kinds in spec.items():
            if platform not in PLATFORMS:
                raise ValueError(f"faults: unknown platform {platform!r} (one of {', '.join(PLATFORMS)})")
            if not isinstance(kinds, dict):
                raise ValueError(f"faults.{platform}: must be a mapping of fault kind to rate or handles")
            for kind, value in kinds.items():
                if kind in RATE_FAULTS:
                    rate = float(value)
                    if not 0 <= rate <= 1:
                        raise ValueError(f"faults.{platform}.{kind}: rate must be within 0..1, got {value!r}")
                    self.rates.setdefault(platform, {})[kind] = rate
                elif kind in ACCOUNT_FAULTS:
                    handles = value.split(",") if isinstance(value, str) else value
                    if not isinstance(handles, list | tuple | set):
                        raise ValueError(f"faults.{platform}.{kind}: must be a list of handles")
                    self.accounts.setdefault(platform, {})[kind] = {
                        normalize_handle(str(h)) for h in handles if str(h).strip()}
                elif kind == RENAMED:
                    self.renamed[platform] = _renames(platform, value)
                else:
                    raise ValueError(f"faults.{platform}: unknown fault kind {kind!r} "
                                     f"(one of {', '.join(RATE_FAULTS + ACCOUNT_FAULTS)}, "
                                     f"{RENAMED})")

    def as_dict(self) -> dict:
        result: dict = {"timeout_seconds": self.timeout_seconds}
        for platform in PLATFORMS:
            entry: dict = dict(self.rates.get(platform, {}))
            entry.update({k: sorted(v) for k, v in self.accounts.get(platform, {}).items()})
            if self.renamed.get(platform):
                entry[RENAMED] = dict(sorted(self.renamed[platform].items()))
            if entry:
                result[platform] = entry
        return result


def _renames(platform: str, value: object) -> dict[str, str]:
    """``{"old": "new"}`` checked: handles as text, no handle renamed twice or onto another."""
    if not isinstance(value, dict):
        raise ValueError(f"faults.{platform}.{RENAMED}: must be a mapping of old handle to new handle")
    renames: dict[str, str] = {}
    for old, new in value.items():
        if not isinstance(old, str) or not isinstance(new, str) or not old.strip() or not new.strip():
            raise ValueError(f"faults.{platform}.{RENAMED}: handles must be non-empty text")
        if normalize_handle(old) == normalize_handle(new):
            raise ValueError(f"faults.{platform}.{RENAMED}: {old!r} is renamed to itself")
        renames[normalize_handle(old)] = new.strip().lstrip("@")
    news = [normalize_handle(n) for n in renames.values()]
    if len(set(news)) != len(news) or set(news) & set(renames):
        raise ValueError(f"faults.{platform}.{RENAMED}: two handles renamed to one, or a chain")
    return renames


def parse_latency_ms(value) -> float:
    """A latency in milliseconds: a number >= 0 (ValueError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"latency_ms must be a number of milliseconds >= 0, got {value!r}")
    try:
        latency = float(value)
    except ValueError:
        raise ValueError(f"latency_ms must be a number of milliseconds >= 0, got {value!r}") from None
    if not latency >= 0 or latency == float("inf"):  # also refuses NaN
        raise ValueError(f"latency_ms must be a number of milliseconds >= 0, got {value!r}")
    return latency


def parse_x_rate_limits(value) -> dict[str, int]:
    """X limit overrides: a mapping of endpoint name (``users/:id/tweets``, ...) to requests
    per 15 minutes, each a whole number >= 1 (ValueError otherwise)."""
    if not isinstance(value, dict):
        raise ValueError(f"x_rate_limits must be a mapping of endpoint to requests per 15 minutes, "
                         f"got {value!r}")
    limits = {}
    for name, limit in value.items():
        if not isinstance(name, str) or isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"x_rate_limits: {name!r} must map to a whole number >= 1, got {limit!r}")
        limits[name] = limit
    return limits


class SandboxState:
    """Clock, seed, faults, latency and counters of one sandbox server."""

    def __init__(self, *, day: date, seed: int, registry: Registry | None,
                 extra_accounts_per_platform: int = 0, faults: dict | None = None,
                 youtube_daily_quota: int = YOUTUBE_DAILY_QUOTA, verbose: bool = False,
                 x_rate_limits: dict[str, int] | None = None, latency_ms: float = 0.0,
                 sleep: Callable[[float], None] = wallclock.sleep):
        self._lock = threading.RLock()
        # Milliseconds every platform request waits before it is answered (a real API's
        # round trip); ``sleep`` is how it waits (a test may record instead).
        self.latency_ms = parse_latency_ms(latency_ms)
        self.sleep = sleep
        self.registry = registry
        self.extra_accounts_per_platform = extra_accounts_per_platform
        self.verbose = verbose
        self.youtube_daily_quota = youtube_daily_quota
        # Per-endpoint X limits per 15 minutes overriding the real ones (e.g. for benchmarks).
        self.x_rate_limits = dict(x_rate_limits or {})
        self.day = day
        self.seed = seed
        self.faults = FaultConfig(faults)
        self._worlds: dict[int, SandboxWorld] = {}
        self._youtube_units: dict[date, int] = defaultdict(int)
        self._windows: dict[str, tuple[float, int]] = {}
        self._reset_fault_rolls()
        self.reset_stats()

    # -- configuration --------------------------------------------------------------------

    @property
    def world(self) -> SandboxWorld:
        with self._lock:
            if self.seed not in self._worlds:
                self._worlds[self.seed] = SandboxWorld(self.seed, self.registry,
                                                       self.extra_accounts_per_platform)
            world = self._worlds[self.seed]
            world.renamed = self.faults.renamed  # the world answers under the current names
            return world

    def configure(self, *, day: date | None = None, seed: int | None = None,
                  faults: dict | None = None, latency_ms: float | None = None,
                  x_rate_limits: dict[str, int] | None = None) -> dict:
        """Change the clock, the seed, the faults (replaced whole), the latency and/or the X
        limit overrides (replaced whole; ``{}``: the real limits); return the config."""
        parsed = FaultConfig(faults) if faults is not None else None
        latency = parse_latency_ms(latency_ms) if latency_ms is not None else None
        limits = parse_x_rate_limits(x_rate_limits) if x_rate_limits is not None else None
        with self._lock:
            if limits is not None:
                self.x_rate_limits = limits
            if latency is not None:
                self.latency_ms = latency
            if day is not None:
                self.day = day
            if seed is not None:
                self.seed = int(seed)
            if parsed is not None:
                self.faults = parsed
            if seed is not None or parsed is not None:
                self._reset_fault_rolls()
            return self.config()

    def config(self) -> dict:
        with self._lock:
            return {"date": self.day.isoformat(), "seed": self.seed, "faults": self.faults.as_dict(),
                    "extra_accounts_per_platform": self.extra_accounts_per_platform,
                    "youtube_daily_quota": self.youtube_daily_quota,
                    "x_rate_limits": dict(self.x_rate_limits),
                    "latency_ms": self.latency_ms,
                    "youtube_units_used_today": self._youtube_units[self.day]}

    # -- faults ---------------------------------------------------------------------------

    def _reset_fault_rolls(self) -> None:
        self._fault_rngs = {p: random.Random(stable_hash(self.seed, p, "faults")) for p in PLATFORMS}

    def roll_fault(self, platform: str) -> str | None:
        """The rate fault this request suffers, if any; deterministic per request sequence."""
        with self._lock:
            rates = self.faults.rates.get(platform)
            if not rates:
                return None
            rng = self._fault_rngs[platform]
            draws = [rng.random() for _ in RATE_FAULTS]  # always as many draws: stable sequences
            hit = next((kind for kind, u in zip(RATE_FAULTS, draws, strict=True)
                        if u < rates.get(kind, 0.0)), None)
            if hit:
                self._stats[platform]["faults"][hit] += 1
            return hit

    def account_fault(self, platform: str, account: SandboxAccount) -> str | None:
        """``deleted_account`` or ``private`` when the account is switched to that state."""
        with self._lock:
            named = self.faults.accounts.get(platform, {})
        for kind in ACCOUNT_FAULTS:
            names = named.get(kind, set())
            if account.key in names or account.platform_id.lower() in names:
                return kind
        return None

    def delay_answer(self) -> None:
        """Wait the configured latency (once per platform request, never for admin ones)."""
        with self._lock:
            seconds = self.latency_ms / 1000
        if seconds > 0:
            self.sleep(seconds)  # outside the lock: requests wait side by side, as on a real API

    def timeout_seconds(self) -> float:
        with self._lock:
            return self.faults.timeout_seconds

    # -- quotas and rate windows ----------------------------------------------------------

    def spend_youtube_units(self, units: int) -> bool:
        """Charge the day's YouTube quota; False (nothing charged) when it would overflow."""
        with self._lock:
            if self._youtube_units[self.day] + units > self.youtube_daily_quota:
                return False
            self._youtube_units[self.day] += units
            self._stats["youtube"]["units"] += units
            return True

    def rate_window(self, name: str, limit: int, window_seconds: int) -> tuple[int, int]:
        """Count a call in a fixed wall-clock window; return (remaining, reset epoch seconds).

        ``remaining`` goes negative when the call is over the limit (the caller answers 429).
        """
        with self._lock:
            now = wallclock.time()
            started, used = self._windows.get(name, (now, 0))
            if now - started >= window_seconds:
                started, used = now, 0
            used += 1
            self._windows[name] = (started, used)
            return limit - used, int(started + window_seconds)

    # -- statistics -----------------------------------------------------------------------

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = {p: {"total": 0, "units": 0, "endpoints": defaultdict(int),
                               "faults": defaultdict(int)} for p in PLATFORMS}
            self._windows = {}

    def count(self, platform: str, endpoint: str) -> None:
        with self._lock:
            entry = self._stats[platform]
            entry["total"] += 1
            entry["endpoints"][endpoint] += 1
            if platform != "youtube":
                entry["units"] += 1

    def stats(self) -> dict:
        """Request counts: ``{"total", "platforms": {p: {"total", "units", "endpoints", "faults"}}}``."""
        with self._lock:
            platforms = {p: {"total": s["total"], "units": s["units"],
                             "endpoints": dict(sorted(s["endpoints"].items())),
                             "faults": dict(sorted(s["faults"].items()))}
                         for p, s in self._stats.items()}
            return {"total": sum(s["total"] for s in platforms.values()), "platforms": platforms}
