"""``python -m agency_pulse_sandbox`` / ``agency-pulse sandbox``: serve the sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

from agency_pulse.errors import AgencyPulseError
from agency_pulse_sandbox.state import (
    ACCOUNT_FAULTS,
    RATE_FAULTS,
    RENAMED,
    FaultConfig,
    parse_latency_ms,
)


def parse_fault_options(options: Sequence[str], timeout_seconds: float | None = None) -> dict:
    """``["x:throttle:0.2", "facebook:deleted_account:a.b,c", "x:renamed:old=new"]`` -> the
    faults mapping."""
    faults: dict = {}
    for option in options:
        platform, _, rest = option.partition(":")
        kind, _, value = rest.partition(":")
        if not platform or not kind or not value:
            raise ValueError(f"--fault {option!r}: expected platform:kind:rate or platform:kind:handle,handle")
        if kind in RATE_FAULTS:
            try:
                faults.setdefault(platform, {})[kind] = float(value)
            except ValueError:
                raise ValueError(f"--fault {option!r}: the rate must be a number within 0..1") from None
        elif kind in ACCOUNT_FAULTS:
            faults.setdefault(platform, {})[kind] = [h for h in value.split(",") if h]
        elif kind == RENAMED:  # x:renamed:old=new,old2=new2
            pairs = [pair.partition("=") for pair in value.split(",") if pair]
            if any(not old or not new for old, _, new in pairs):
                raise ValueError(f"--fault {option!r}: expected platform:renamed:old=new,...")
            faults.setdefault(platform, {})[kind] = {old: new for old, _, new in pairs}
        else:
            raise ValueError(f"--fault {option!r}: unknown kind {kind!r} "
                             f"(one of {', '.join(RATE_FAULTS + ACCOUNT_FAULTS)}, {RENAMED})")
    if timeout_seconds is not None:
        faults["timeout_seconds"] = timeout_seconds
    FaultConfig(faults)  # validate now, so bad usage fails before the port is taken
    return faults


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agency-pulse sandbox",
                                     description="Serve the platform sandbox on loopback.")
    parser.add_argument("--port", type=int, default=8099, help="port (0 picks a free one; default 8099)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default loopback; 0.0.0.0 in a container)")
    parser.add_argument("--date", type=date.fromisoformat, default=None,
                        help="the sandbox's today, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--registry", default=None, help="registry YAML (default: AGENCY_PULSE_REGISTRY)")
    parser.add_argument("--extra-accounts", type=int, default=0, metavar="N",
                        help="synthetic accounts per platform, in addition to the registry's")
    parser.add_argument("--fault", action="append", default=[], metavar="PLATFORM:KIND:RATE",
                        help="switch a fault on, e.g. x:throttle:0.2, facebook:deleted_account:a,b "
                        "or x:renamed:old=new")
    parser.add_argument("--timeout-seconds", type=float, default=None,
                        help="how long a 'timeout' fault delays the answer (default 2)")
    parser.add_argument("--x-rate-limit", type=int, default=None, metavar="N",
                        help="requests per 15 minutes on every X endpoint (default: the real limits)")
    parser.add_argument("--youtube-quota", type=int, default=None, metavar="UNITS",
                        help="YouTube units a day (default 10000)")
    parser.add_argument("--latency-ms", type=float, default=0.0, metavar="N",
                        help="milliseconds every platform request waits before its answer, as on a "
                             "real API (default 0)")
    parser.add_argument("--verbose", action="store_true", help="log requests (tokens redacted) to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox in the foreground; 0 on Ctrl-C, 1 when it cannot start, 2 on bad usage."""
    from agency_pulse_sandbox.server import SandboxServer
    from agency_pulse_sandbox.x import RATE_LIMITS as X_RATE_LIMITS

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        faults = parse_fault_options(args.fault, args.timeout_seconds)
        latency_ms = parse_latency_ms(args.latency_ms)
    except ValueError as exc:
        parser.error(str(exc).replace("latency_ms", "--latency-ms"))
    try:
        server = SandboxServer(date=args.date or datetime.now(UTC).date(), seed=args.seed,
                               registry=args.registry, extra_accounts_per_platform=args.extra_accounts,
                               faults=faults, port=args.port, host=args.host, verbose=args.verbose,
                               youtube_daily_quota=args.youtube_quota,
                               x_rate_limits=({name: args.x_rate_limit for name in X_RATE_LIMITS}
                                              if args.x_rate_limit else None),
                               latency_ms=latency_ms)
    except (AgencyPulseError, OSError) as exc:
        print(f"agency-pulse sandbox: {exc}", file=sys.stderr)
        return 1
    config = server.config()
    print(f"sandbox serving on {server.url} (date {config['date']}, seed {config['seed']}); Ctrl-C stops it",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close_socket()
    return 0
