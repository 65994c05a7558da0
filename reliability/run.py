"""``python -m reliability.run [--fast] [--only NAME ...]``: run the scenarios, print the
table, write ``reliability/results/<date>.md``, exit 1 when any scenario failed."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from reliability.scenarios import SCENARIOS, by_name, execute
from reliability.verdict import ScenarioResult

RESULTS = Path(__file__).resolve().parent / "results"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(results: list[ScenarioResult]) -> str:
    lines = ["| scenario | injected | expected | happened | result |",
             "|---|---|---|---|---|"]
    for r in results:
        verdict = "PASS" if r.passed else "FAIL"
        lines.append(f"| {r.name} | {_cell(r.injected)} | {_cell(r.expected)} | "
                     f"{_cell(r.happened)} | **{verdict}** ({r.seconds:.0f}s) |")
    return "\n".join(lines)


def console_summary(results: list[ScenarioResult]) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for r in results:
        lines.append(f"{'PASS' if r.passed else 'FAIL'}  {r.name:<{width}}  {r.seconds:6.1f}s")
        for check in r.checks:
            lines.append(f"      {check.line()}")
        if r.error:
            lines.append(f"      scenario error: {r.error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.run", description=__doc__)
    parser.add_argument("--fast", action="store_true", help="only the scenarios `make test` runs")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this scenario (repeatable): "
                             + ", ".join(s.name for s in SCENARIOS))
    parser.add_argument("--no-write", action="store_true", help="do not write results/<date>.md")
    args = parser.parse_args(argv)
    try:
        chosen = [by_name(n) for n in args.only] if args.only else [
            s for s in SCENARIOS if s.fast or not args.fast]
    except KeyError as exc:
        parser.error(str(exc.args[0]))
    # The pipeline logs every retry and failed account: keep the console for the table
    # (the handler's own level holds even while the secrets scenario logs at DEBUG).
    console = logging.StreamHandler()
    console.setLevel(logging.ERROR)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(console)
    logging.getLogger().setLevel(logging.ERROR)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    started = datetime.now(UTC)
    results = []
    for scenario in chosen:
        print(f"running {scenario.name} ...", flush=True)
        results.append(execute(scenario))
        print(console_summary(results[-1:]), flush=True)
    table = markdown_table(results)
    passed = sum(r.passed for r in results)
    heading = (f"# Reliability run {started:%Y-%m-%d %H:%M} UTC\n\n{passed}/{len(results)} "
               f"scenarios passed{' (fast set)' if args.fast else ''}, "
               f"{sum(r.seconds for r in results):.0f}s.\n\n")
    print("\n" + table)
    print(f"\n{passed}/{len(results)} scenarios passed")
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{started:%Y-%m-%d}.md"
        path.write_text(heading + table + "\n", encoding="utf-8")
        print(f"written to {path}")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
