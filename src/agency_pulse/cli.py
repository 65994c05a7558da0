"""`agency-pulse`: the Agency Pulse command line (reference: docs/REFERENCE.md, Command line).

Exit status: 0 success; 1 the work failed (one readable line per problem on stderr);
2 bad usage. A user mistake never ends in a bare traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from agency_pulse import config
from agency_pulse.errors import AgencyPulseError
from agency_pulse.i18n import LANGUAGES
from agency_pulse.settings import Settings

LEADERBOARD_SQL = """
with latest as (select max(year) as year from marts.agency_annual)
select
    a.rank_followers as rank,
    a.agency_name_en as agency,
    a.followers_end as followers,
    a.followers_change as change,
    round(a.followers_growth_pct, 1) as growth_pct,
    a.posts,
    array_to_string(a.platforms, ' ') as platforms,
    a.activity_status as status
from marts.agency_annual as a
join latest using (year)
order by a.rank_followers nulls last, a.agency_id
limit ?
"""

PLATFORM_SHARE_SQL = """
with latest as (select max(year) as year from marts.account_annual),
per_platform as (
    select platform, count(*) as accounts, sum(followers_end) as followers, sum(posts) as posts
    from marts.account_annual join latest using (year)
    group by platform
)
select
    platform,
    accounts,
    followers,
    round(100.0 * followers / sum(followers) over (), 1) as followers_share_pct,
    posts
from per_platform
order by followers desc nulls last, platform
"""


class UsageError(Exception):
    """Bad command-line usage: exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage and exits 2; keep that contract
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


def _year(text: str) -> int:
    if not text.isdigit() or len(text) != 4:
        raise argparse.ArgumentTypeError(f"not a year (YYYY): {text!r}")
    return int(text)


def _month(text: str) -> str:
    try:
        datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {text!r}") from None
    return text


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number >= 1: {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="agency-pulse", description=__doc__.splitlines()[0],
                     epilog="Exit status: 0 success; 1 the work failed (one line per problem on "
                            "stderr); 2 bad usage. Every command, format and mart column: "
                            "docs/REFERENCE.md.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="one daily run in-process: extract, land, validate, load, transform")
    run.add_argument("--date", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                     help="run day (default: today, UTC; not in the future)")
    run.add_argument("--platform", action="append", choices=config.PLATFORMS,
                     help="platform to extract (repeatable; default: all)")
    run.add_argument("--leaderboard", type=int, default=10, metavar="N",
                     help="print the top N agencies after the run (0: none)")

    obs = sub.add_parser("observations", help="manual observations")
    obs_sub = obs.add_subparsers(dest="observations_command", required=True, parser_class=_Parser)
    imp = obs_sub.add_parser("import", help="validate and land a manual observations CSV")
    imp.add_argument("file", type=Path, metavar="FILE",
                     help="the CSV (columns: docs/REFERENCE.md, Manual observations CSV)")

    build = sub.add_parser("build", help="load everything landed into the warehouse and update "
                           "the marts (only the periods the new data touch)")
    build.add_argument("--full", action="store_true",
                       help="reload the whole lake and recompute every period")

    reg = sub.add_parser("registry", help="the agency registry")
    reg_sub = reg.add_subparsers(dest="registry_command", required=True, parser_class=_Parser)
    check = reg_sub.add_parser("check", help="look every account up on its platform: found, "
                               "renamed, gone, private or ambiguous (exit 1 unless all found)")
    check.add_argument("--write", action="store_true",
                       help="update the registry file in place: fill platform_id, replace a "
                       "renamed account's handle (never touches verified)")
    check.add_argument("--platform", action="append", choices=config.PLATFORMS,
                       help="platform to check (repeatable; default: all)")
    lake_cmd = sub.add_parser("lake", help="the lake itself")
    lake_sub = lake_cmd.add_subparsers(dest="lake_command", required=True, parser_class=_Parser)
    lake_check_cmd = lake_sub.add_parser("check", help="verify every accepted lake file against its "
                                "recorded checksum; exit 1 on damage")
    lake_check_cmd.add_argument("--record-missing", action="store_true",
                       help="record the checksum of readable files that have none")
    lake_compact_cmd = lake_sub.add_parser(
        "compact", help="merge each settled month's daily files into one file per dataset, "
        "platform and month")
    lake_compact_cmd.add_argument("--date", type=_iso_date, metavar="YYYY-MM-DD",
                                  help="the run day the settling window ends at (default: "
                                  "today, UTC)")
    lake_state_cmd = lake_sub.add_parser(
        "state", help="bring the per-account extract state up to date (or rebuild it)")
    lake_state_cmd.add_argument("--rebuild", action="store_true",
                                help="rebuild it from the accepted lake")
    lake_state_cmd.add_argument("--platform", action="append", choices=config.PLATFORMS,
                                help="platform (repeatable; default: all)")

    rep = sub.add_parser("report", help="write the annual (or monthly) report and print its path")
    rep.add_argument("--year", type=_year, metavar="YYYY",
                     help="the year of the annual report (default: the latest in the warehouse)")
    rep.add_argument("--month", type=_month, metavar="YYYY-MM", help="a monthly report instead")
    rep.add_argument("--lang", choices=LANGUAGES,
                     help="the report's language: en (English) or az (Azerbaijani) "
                          "(default: AGENCY_PULSE_LANGUAGE, else en)")

    query = sub.add_parser("query", help="run a read-only query on the warehouse and print a table")
    query.add_argument("sql", metavar="SQL", help="one read-only statement (SELECT, WITH, EXPLAIN); "
                       "tables and columns: docs/REFERENCE.md, Warehouse")
    query.add_argument("--output", type=Path, metavar="FILE",
                       help="write the result to FILE (.csv or .parquet)")
    cap = query.add_mutually_exclusive_group()
    cap.add_argument("--max-rows", type=_positive, metavar="N", default=None,
                     help="print or write at most N rows (default 10,000)")
    cap.add_argument("--all", action="store_true", help="no row cap")

    # `sandbox` passes every option to the sandbox's own parser (see `agency-pulse sandbox -h`)
    sub.add_parser("sandbox", help="serve the platform sandbox", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["sandbox"]:
        return serve_sandbox(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if not args.verbose:  # GX sets its own loggers to INFO; the CLI prints what matters
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
    try:
        # read once per command; a bad AGENCY_PULSE_* value ends here with one line, exit 1
        settings = Settings.from_environment()
        return COMMANDS[args.command](args, settings)
    except UsageError as exc:
        print(f"agency-pulse: error: {exc}", file=sys.stderr)
        return 2
    except AgencyPulseError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"agency-pulse: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("agency-pulse: interrupted", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or socket problem the user can act on
        print(f"agency-pulse: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one line, the traceback only with --verbose
        if args.verbose:
            logging.getLogger("agency_pulse").exception("unexpected error")
        first = (str(exc).splitlines() or [""])[0]
        print(f"agency-pulse: unexpected {type(exc).__name__}: {first} "
              "(run with -v for details)", file=sys.stderr)
        return 1


def cmd_run(args, settings: Settings) -> int:
    from agency_pulse import pipeline

    run_date = args.date or datetime.now(UTC).date()
    if run_date > datetime.now(UTC).date():
        raise UsageError(f"--date {run_date} is in the future")
    status = 0
    with pipeline.sandbox_if_default(run_date, settings=settings) as sandbox_url:
        settings = dataclasses.replace(settings, sandbox_url=sandbox_url)
        try:
            result = pipeline.run_daily(run_date, args.platform, settings=settings)
        except pipeline.DailyRunFailed as exc:
            result = exc.result
            for line in str(exc).splitlines():
                print(f"agency-pulse: {line}", file=sys.stderr)
            status = 1
    _print_run_summary(result, settings)
    if args.leaderboard:
        _print_leaderboard(args.leaderboard, settings)
    return status


def _print_run_summary(result, settings: Settings) -> None:
    paths = config.paths(settings)
    print(f"Agency Pulse daily run for {result.run_date}")
    for platform, summary in result.platforms.items():
        statuses = summary.get("statuses") or summary.get("status_counts") or {}
        text = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "no accounts"
        print(f"  {platform:<10} {text}")
    print(f"Warehouse:          {paths.warehouse}")
    print(f"Reports:            {paths.reports}")
    print(f"Data-quality docs:  {paths.data_docs / 'index.html'}")
    notice = _sandbox_notice(paths)
    if notice:
        print(f"\n*** {notice} ***")


def _sandbox_notice(paths: config.Paths) -> str | None:
    """The synthetic-data line when the warehouse holds sandbox figures (asked of the
    data, not of the settings); None when it holds none or cannot be read."""
    import duckdb

    from agency_pulse.report.provenance import figure_sources, sandbox_notice
    from agency_pulse.report.warehouse_snapshot import WarehouseUnavailable, read_only_connection

    try:
        with read_only_connection(paths) as con:
            return sandbox_notice(figure_sources(con))
    except (WarehouseUnavailable, duckdb.Error):
        return None


def _print_leaderboard(limit: int, settings: Settings) -> None:
    from agency_pulse import tables

    paths = config.paths(settings)
    try:
        columns, rows = tables.run_read_only_query(LEADERBOARD_SQL, paths, params=[limit])
    except AgencyPulseError as exc:
        print(f"(no leaderboard: {exc})")
        return
    print("\nLeaderboard (latest year, by followers):")
    print(tables.format_table(columns, rows))
    columns, rows = tables.run_read_only_query(PLATFORM_SHARE_SQL, paths)
    print("\nPlatforms (latest year):")
    print(tables.format_table(columns, rows))


def cmd_observations(args, settings: Settings) -> int:
    from agency_pulse import observations

    result = observations.import_observations(args.file)
    if result.already_imported:
        print(f"{args.file}: already imported, nothing changed")
    else:
        print(f"{args.file}: imported {result.rows} observations of {result.accounts} accounts")
    return 0


def cmd_build(args, settings: Settings) -> int:
    from agency_pulse import pipeline

    pipeline.validate_landing(settings=settings)
    summary = pipeline.build_warehouse(settings, full=args.full)
    print(f"Warehouse built: {config.paths(settings).warehouse}")
    if summary and "mode" in summary:
        print(f"  lake loaded {summary['mode']}, periods recomputed "
              f"{'all' if summary['models_mode'] == 'full' else 'where new data fell'}")
    for name, count in sorted((summary or {}).get("loaded", {}).items()):
        print(f"  {name:<40} {count:>12,} rows loaded")
    for name, count in sorted((summary or {}).get("marts", {}).items()):
        print(f"  marts.{name:<34} {count:>12,} rows")
    return 0


def cmd_registry(args, settings: Settings) -> int:
    from agency_pulse import pipeline, registry_check

    with pipeline.sandbox_if_default(datetime.now(UTC).date(), settings=settings) as sandbox_url:
        settings = dataclasses.replace(settings, sandbox_url=sandbox_url)
        return registry_check.run_check(args.platform, write=args.write, settings=settings,
                                        out=sys.stdout, err=sys.stderr)


def cmd_lake(args, settings: Settings) -> int:
    from agency_pulse import lake_check

    if args.lake_command == "compact":
        from agency_pulse import pipeline

        run_date = args.date or datetime.now(UTC).date()
        print(pipeline.compact_lake(run_date, settings=settings).summary())
        return 0
    if args.lake_command == "state":
        from agency_pulse import extract_state

        for platform in args.platform or config.PLATFORMS:
            store = (extract_state.rebuild(platform) if args.rebuild
                     else extract_state.refresh(platform))
            through = store.through.isoformat() if store.through else "nothing yet"
            print(f"extract state {platform}: {len(store.account_rows())} accounts, "
                  f"through {through}{' (rebuilt)' if args.rebuild else ''}")
        return 0
    result = lake_check.check_lake(record_missing=args.record_missing)
    for problem in result.problems:
        print(f"agency-pulse: {problem.line}", file=sys.stderr)
    print(result.summary())
    return 1 if result.failed else 0


def cmd_report(args, settings: Settings) -> int:
    from agency_pulse import report

    if args.year and args.month:
        raise UsageError("give --year or --month, not both")
    written = report.write_report(year=args.year, month=args.month, home=config.paths(settings),
                                  language=args.lang or settings.language)
    print(getattr(written, "html", written))
    return 0


def cmd_query(args, settings: Settings) -> int:
    from agency_pulse import tables

    if args.output:
        try:
            tables.check_output_path(args.output)
        except AgencyPulseError as exc:
            raise UsageError(str(exc)) from None
    max_rows = None if args.all else (args.max_rows or tables.DEFAULT_MAX_ROWS)
    columns, rows, capped = tables.run_capped_query(args.sql, config.paths(settings),
                                                    max_rows=max_rows)
    note = (f"capped at {max_rows:,} rows; --max-rows N or --all for more" if capped else "")
    if args.output:
        tables.export(columns, rows, args.output)
        print(f"{len(rows)} rows written to {args.output}" + (f" ({note})" if note else ""))
    else:
        print(tables.format_table(columns, rows))
        if note:
            print(f"({note})")
    if note:
        print(f"agency-pulse: warning: result {note}", file=sys.stderr)
    return 0


DEFAULT_SANDBOX_PORT = 8099


def serve_sandbox(options: list[str]) -> int:
    """`agency-pulse sandbox [--port N] [sandbox options]`: serve until interrupted."""
    from agency_pulse.sandbox_entry import sandbox_entry

    sandbox_main = sandbox_entry("cli")

    if not any(o == "--port" or o.startswith("--port=") for o in options):
        options = ["--port", str(DEFAULT_SANDBOX_PORT), *options]
    return sandbox_main(options) or 0


COMMANDS = {
    "run": cmd_run,
    "observations": cmd_observations,
    "build": cmd_build,
    "registry": cmd_registry,
    "lake": cmd_lake,
    "report": cmd_report,
    "query": cmd_query,
}

if __name__ == "__main__":
    sys.exit(main())
