"""Daily runs on the sandbox with post versions (a re-read post lands only when it changed,
the other reads recorded in ``post_reads``) or with every re-read landed (the behaviour
before ``post_reads``): the lake's post rows
and the marts of each, for the tests and for measuring.

    python -m testkit.post_versions --days 10 [--start 2026-11-01] [--platform x ...]

runs the days twice (one home each, in a temporary folder), prints the accepted post rows
and ``post_reads`` rows of both, and whether the marts are identical.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

MARTS = ("marts.account_monthly", "marts.account_annual", "marts.agency_monthly",
         "marts.agency_annual", "quality.figure_sources")


@contextlib.contextmanager
def _every_read_lands() -> Iterator[None]:
    """The runner as it was: every post read lands a row, and there is no ``post_reads``."""
    from agency_pulse import extract

    real = extract.settle_posts

    def every_read(result, state, platform, run_date, earlier_posts=()):
        return result

    extract.settle_posts = every_read
    try:
        yield
    finally:
        extract.settle_posts = real


def run_days(home: Path, days: Sequence[date], platforms: Sequence[str], *, every_read: bool,
             seed: int = 7, backfill_days: int = 30, build: bool = True,
             compact: bool = False) -> dict:
    """Extract and validate ``platforms`` for each day in a fresh ``home`` against the
    sandbox, then build the warehouse once. Returns the accepted rows per dataset, the posts
    rows per day and (with ``build``) the rows of ``MARTS``; with ``compact``, the bytes of
    ``posts`` and ``post_reads`` once merged into month files (done last)."""
    from agency_pulse import config, extract, lake
    from agency_pulse.validation import raise_for_failures, validate_landed
    from agency_pulse_sandbox import run_sandbox
    from bench.extraction import patched_environ

    with run_sandbox(date=days[0], seed=seed) as sandbox, patched_environ(
            AGENCY_PULSE_HOME=str(home), AGENCY_PULSE_DEFAULT_SOURCE="sandbox",
            AGENCY_PULSE_SANDBOX_URL=sandbox.url,
            AGENCY_PULSE_BACKFILL_DAYS=str(backfill_days),
            AGENCY_PULSE_WAIT_SCALE="0.001"), \
            (_every_read_lands() if every_read else contextlib.nullcontext()):
        for day in days:
            sandbox.set(date=day.isoformat())
            for platform in platforms:
                extract.run_platform(platform, day, run_id=f"days__{day}")
            files = lake.list_partitions(lake.LANDING, day=day, root=config.paths().lake)
            raise_for_failures(validate_landed(files, run_date=day, data_docs=False))
        root = config.paths().lake
        measured = {
            "rows": {dataset: lake.read_dataset(dataset, root=root).num_rows
                     for dataset in ("posts", "post_reads", "post_deletions")},
            "posts_per_day": {day.isoformat(): sum(
                lake.read_file(path).num_rows
                for path in lake.list_partitions(lake.ACCEPTED, "posts", day=day, root=root))
                for day in days},
        }
        measured["bytes"] = {dataset: sum(
            path.stat().st_size for path in lake.list_partitions(lake.ACCEPTED, dataset,
                                                                 root=root))
            for dataset in ("posts", "post_reads")}
        reads = lake.read_dataset("post_reads", root=root)
        measured["post_ids_read"] = sum(len(ids) for ids in reads["post_ids"].to_pylist())
        if build:
            from agency_pulse import pipeline, warehouse

            pipeline.build_warehouse()
            con = warehouse.connect_read_only(config.paths().warehouse)
            try:
                measured["marts"] = {name: con.execute(f"select * from {name} order by all")
                                     .fetchall() for name in MARTS}
            finally:
                con.close()
        if not compact:
            return measured
        # the same files merged into month files, as compaction leaves a settled month
        from agency_pulse import lake_compact

        months = sorted({lake.month_of(day) for day in days})
        for dataset in ("posts", "post_reads"):
            for platform in platforms:
                for month in months:
                    lake_compact.compact_month(dataset, platform, month, root=root)
        measured["compacted_bytes"] = {dataset: sum(
            path.stat().st_size for path in lake.list_month_files(dataset, root=root))
            for dataset in ("posts", "post_reads")}
    return measured


def main(argv: Sequence[str] | None = None) -> int:
    from agency_pulse import config

    parser = argparse.ArgumentParser(prog="python -m testkit.post_versions")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 11, 1))
    parser.add_argument("--platform", action="append", choices=config.PLATFORMS)
    parser.add_argument("--backfill-days", type=int, default=30)
    args = parser.parse_args(argv)
    days = [args.start + timedelta(days=n) for n in range(args.days)]
    platforms = args.platform or list(config.PLATFORMS)
    results = {}
    with tempfile.TemporaryDirectory(prefix="post-versions-") as folder:
        for mode, every_read in (("every read lands", True), ("versions only", False)):
            results[mode] = run_days(Path(folder) / mode.replace(" ", "-"), days, platforms,
                                     every_read=every_read, backfill_days=args.backfill_days,
                                     compact=True)
    print(f"{len(days)} daily runs from {days[0]}, platforms {', '.join(platforms)}, "
          f"backfill {args.backfill_days} days")
    for mode, measured in results.items():
        per_day = list(measured["posts_per_day"].values())
        print(f"{mode:>17}: posts rows {measured['rows']['posts']} (per day {per_day}), "
              f"post_reads rows {measured['rows']['post_reads']} "
              f"({measured['post_ids_read']} ids), deletions {measured['rows']['post_deletions']}; "
              f"bytes posts {measured['bytes']['posts']}, "
              f"post_reads {measured['bytes']['post_reads']}; compacted into month files: "
              f"posts {measured['compacted_bytes']['posts']}, "
              f"post_reads {measured['compacted_bytes']['post_reads']}")
    same = results["every read lands"]["marts"] == results["versions only"]["marts"]
    print("marts and quality.figure_sources identical:", same)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
