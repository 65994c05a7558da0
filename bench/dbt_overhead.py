"""What dbt costs per warehouse build (issue 12), on empty source tables so only the
overhead shows: ``python -m bench.dbt_overhead``. Each figure is process CPU seconds and
wall seconds (wall grows with the machine's load; CPU much less)."""

from __future__ import annotations

import os
import sys
import tempfile
import time


def _timed(label: str, fn) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    print(f"{label:<52} cpu {time.process_time() - cpu:6.2f} s   "
          f"wall {time.perf_counter() - wall:6.2f} s", flush=True)


def main() -> int:
    # a cache of our own: the first figures are a cold parse and compile
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="dbt-overhead-")
    import duckdb

    from agency_pulse import dbt_project, warehouse

    def empty():
        con = duckdb.connect()
        warehouse.create_source_tables(con)
        return con

    _timed("parse the project (once per project content)",
           lambda: dbt_project.manifest("memory"))
    _timed("compile the models (once per project content)",
           lambda: dbt_project.compiled_models("memory"))
    dbt_project._MANIFESTS.clear()
    dbt_project._COMPILED.clear()
    _timed("load the parsed project from the cache (per process)",
           lambda: (dbt_project.manifest("memory"), dbt_project.compiled_models("memory")))
    for i in range(3):
        con = empty()
        _timed(f"dbt run, 23 models (build) #{i + 1}", lambda con=con: dbt_project.run(con))
    for i in range(3):
        con = empty()
        _timed(f"compiled SQL, 23 models (run_models) #{i + 1}",
               lambda con=con: dbt_project.run_compiled(con))
    return 0


if __name__ == "__main__":
    sys.exit(main())
