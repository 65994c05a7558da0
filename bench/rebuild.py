"""Full rebuild of the warehouse and its marts vs the same marts in pandas, and DuckDB's own
floor (one GROUP BY per mart grain over the same Parquet), each in a child process.

Each side runs in its own Python process (``python -m bench.rebuild warehouse|pandas ...``)
that reports its wall time and its own peak resident memory (``ru_maxrss`` of RUSAGE_SELF,
which is what RUSAGE_CHILDREN reports to the parent for that one child) as JSON on stdout.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def run_child(mode: str, home: Path, registry: Path, output: Path | None = None,
              flags: tuple[str, ...] = ()) -> dict:
    """Run one side in a fresh interpreter; its JSON report (seconds, peak_rss_mib, ...) and
    ``process_seconds``: the child's whole wall time seen from here (start-up and imports)."""
    env = dict(os.environ, AGENCY_PULSE_HOME=str(home), AGENCY_PULSE_REGISTRY=str(registry))
    command = [sys.executable, "-m", "bench.rebuild", mode, str(home), str(registry)]
    if output is not None:
        command.append(str(output))
    command.extend(flags)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    process_seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"bench.rebuild {mode} failed: {done.stderr[-2000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]),
            "process_seconds": process_seconds}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str]) -> int:
    mode, home, registry = argv[:3]
    started = time.perf_counter()
    if mode == "warehouse":
        from agency_pulse import warehouse

        full = "--incremental" not in argv
        summary = warehouse.build(full=full) if _accepts_full(warehouse) else warehouse.build()
        report = {"marts": summary.get("marts"), "mode": "full" if full else "incremental"}
    elif mode == "pandas":
        from agency_pulse.registry import load_registry
        from bench.pandas_marts import compute_marts

        marts = compute_marts(Path(home) / "lake", load_registry(Path(registry)))
        report = {"marts": {name: len(frame) for name, frame in marts.items()}}
        seconds = time.perf_counter() - started
        output = Path(argv[3])
        output.mkdir(parents=True, exist_ok=True)
        for name, frame in marts.items():  # after the clock: saving is for the equality check
            frame.to_pickle(output / f"{name}.pkl")
        print(json.dumps({**report, "seconds": seconds, "peak_rss_mib": _peak_rss_mib()}))
        return 0
    elif mode == "floor":
        report = {"marts": floor_group_bys(Path(home) / "lake")}
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps({**report, "seconds": time.perf_counter() - started,
                      "peak_rss_mib": _peak_rss_mib()}))
    return 0


# DuckDB's own floor for the marts (written without our code): read the lake's snapshot and
# post Parquet files where they are and run one GROUP BY per mart grain, account and agency
# by month and by year. The marts do more (ownership, precedence, deletions, ranks); this is
# what reading the same rows and aggregating them once per grain costs.
_ACCOUNT_FLOOR = """
    select s.account_id, {snapshot_period} as period,
           arg_max(s.followers, s.snapshot_date) as followers_end, p.posts, p.engagement
    from snapshots s left join (
        select account_id, {post_period} as period, count(*) as posts,
               sum(coalesce(reactions, 0) + coalesce(comments, 0) + coalesce(shares, 0))
                   as engagement
        from posts group by all) p
      on p.account_id = s.account_id and p.period = {snapshot_period}
    group by s.account_id, {snapshot_period}, p.posts, p.engagement"""
_AGENCY_FLOOR = """
    select agency_id, period, sum(followers_end) as followers_end, sum(posts) as posts
    from (select agency_id, account_id, {snapshot_period} as period,
                 arg_max(followers, snapshot_date) as followers_end, null::bigint as posts
          from snapshots group by all
          union all
          select agency_id, account_id, {post_period}, null, count(*)
          from posts group by all)
    group by all"""
# The period of a day or a timestamp, per mart grain ({column}: the column it is taken of).
_GRAINS = {"monthly": "date_trunc('month', {column})", "annual": "year({column})"}
_FLOOR_QUERIES = {
    f"{kind}_{grain}": template.format(
        snapshot_period=period.format(column=f"{'s.' if kind == 'account' else ''}snapshot_date"),
        post_period=period.format(column="published_at"))
    for kind, template in (("account", _ACCOUNT_FLOOR), ("agency", _AGENCY_FLOOR))
    for grain, period in _GRAINS.items()
}


def floor_group_bys(lake: Path) -> dict[str, int]:
    """The floor's four GROUP BYs over the lake's accepted snapshots and posts; rows of each."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        for view, dataset in (("snapshots", "account_snapshots"), ("posts", "posts")):
            files = sorted(str(p) for p in (lake / dataset).rglob("*.parquet"))
            con.read_parquet(files, hive_partitioning=False, union_by_name=True) \
               .create_view(view)
        return {name: con.execute(f"select count(*) from ({sql})").fetchone()[0]
                for name, sql in _FLOOR_QUERIES.items()}
    finally:
        con.close()


def _accepts_full(warehouse_module) -> bool:
    import inspect

    return "full" in inspect.signature(warehouse_module.build).parameters


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
