"""Scenario 7, secrets: a canary token per platform through successful and failing runs must
appear in no log, lake file, raw archive, warehouse table, report or exception."""

from __future__ import annotations

import json
import secrets as token_source
import traceback
from datetime import timedelta

from agency_pulse.config import PLATFORMS
from agency_pulse.connections import resolve
from reliability.leak_search import captured_logs, files_containing
from reliability.verdict import ScenarioResult
from reliability.workspace import RUN_DAY, dump_warehouse, open_workspace

# The second day fails every platform a different way, with the canary in play.
FAILING_FAULTS = {
    "facebook": {"expired_token": 1.0},
    "instagram": {"malformed": 0.5, "server_error": 0.5},
    "youtube": {"server_error": 1.0},
    "x": {"throttle": 0.4, "malformed": 0.3},
    "telegram": {"expired_token": 1.0},
}


def secrets_never_leak() -> ScenarioResult:
    canaries = {p: f"canary{p}{token_source.token_hex(12)}" for p in PLATFORMS}
    result = ScenarioResult(
        "secrets",
        injected="a canary token per platform (Airflow connections) through a clean run and a "
                 "run with expired tokens, 5xx, throttling and malformed bodies; logs at DEBUG",
        expected="no canary in any log line, lake or quarantine file, raw archive, warehouse "
                 "table, report or exception")
    with open_workspace(canaries=canaries) as ws, captured_logs() as logs:
        in_use = [p for p in PLATFORMS if getattr(resolve(p), "token", None) == canaries[p]]
        clean = ws.run_day(RUN_DAY)
        failing = ws.run_day(RUN_DAY + timedelta(days=1), faults=FAILING_FAULTS)
        exceptions = []
        for run in (clean, failing):
            if run.failure is not None:
                exceptions.append("".join(traceback.format_exception(run.failure)))
            summary = run.summary
            if summary is not None:
                exceptions.append(json.dumps(summary.platforms, default=str))
        report_error = _write_report(ws, exceptions)
        in_files = files_containing(ws.home, canaries.values())
        tables = dump_warehouse(ws.home)
        log_text = logs.getvalue()
        statuses = ws.query("select status, count(*) from quality.extract_log "
                            "group by 1 order by 1")

    request_lines = sum(1 for line in log_text.splitlines() if line.startswith("DEBUG urllib3"))
    result.check("runs exercised success and failure",
                 not clean.failed and failing.failed and request_lines > 0
                 and len(in_use) == len(PLATFORMS),
                 f"clean run {'ok' if not clean.failed else 'FAILED: ' + str(clean.failure)[:120]}, "
                 f"faulty run {'failed as expected' if failing.failed else 'did not fail'}; "
                 f"extract_log {dict(statuses)}; {len(log_text.splitlines())} log lines captured "
                 f"({request_lines} urllib3 request lines at DEBUG); canary connections in use "
                 f"for {len(in_use)}/{len(PLATFORMS)} platforms"
                 + (f"; report: {report_error}" if report_error else ""))
    leaks = {
        "logs": [p for p, c in canaries.items() if c in log_text],
        "files": sorted({f"{path} ({p})" for p, c in canaries.items() for path in in_files[c]}),
        "warehouse": [p for p, c in canaries.items() if c in tables],
        "exceptions": [p for p, c in canaries.items() if any(c in e for e in exceptions)],
    }
    for where, found in leaks.items():
        result.check(f"no canary in {where}", not found,
                     f"{len(found)} leaks" + (f": {', '.join(found[:5])}" if found else ""))
    return result


def _write_report(ws, exceptions: list[str]) -> str | None:
    """Write the report into the home (searched with the other files); the error, if any."""
    from agency_pulse.report import write_report

    try:
        write_report(year=RUN_DAY.year, home=ws.home)
        return None
    except Exception as exc:  # judged by the caller: the report's message is searched too
        exceptions.append("".join(traceback.format_exception(exc)))
        return f"{type(exc).__name__}: {str(exc)[:120]}"
