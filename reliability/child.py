"""Work a scenario runs in a separate process (so it can overlap, or be killed).

``python -m reliability.child run-daily YYYY-MM-DD`` prints ``{"ok": bool, "error": str}``;
``python -m reliability.child build`` rebuilds the warehouse;
``python -m reliability.child write-posts ROWS YYYY-MM-DD`` lands a large posts partition
(for killing mid-write). The environment (AGENCY_PULSE_HOME, sandbox URL) is inherited.
"""

from __future__ import annotations

import json
import sys
from datetime import date


def run_daily(day: date) -> dict:
    from agency_pulse.pipeline import DailyRunFailed
    from agency_pulse.pipeline import run_daily as pipeline_run_daily

    try:
        pipeline_run_daily(day, run_id=f"child__{day.isoformat()}")
        return {"ok": True, "error": None}
    except DailyRunFailed as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # reported to the parent, which judges it
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def build() -> dict:
    from agency_pulse import warehouse

    try:
        return {"ok": True, "marts": warehouse.build()["marts"], "error": None}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def write_posts(rows: int, day: date) -> dict:
    """Land one big posts partition for x on ``day`` the way an extract does."""
    from datetime import UTC, datetime, timedelta

    import pyarrow as pa

    from agency_pulse import config, lake

    published = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=1)
    table = pa.table({
        "account_id": pa.array(["x:alpha_x"] * rows), "agency_id": pa.array(["alpha"] * rows),
        "platform": pa.array(["x"] * rows),
        "post_id": pa.array([f"crash-{i:09d}" for i in range(rows)]),
        "published_at": pa.array([published] * rows, lake.UTC_TS),
        "post_type": pa.array(["tweet"] * rows), "is_video": pa.array([False] * rows),
        "is_live": pa.array([False] * rows),
        "permalink": pa.array([f"https://x.com/alpha_x/status/{i}-{'p' * 40}" for i in range(rows)]),
        "reactions": pa.array(range(rows), pa.int64()), "comments": pa.array([1] * rows, pa.int64()),
        "shares": pa.array([2] * rows, pa.int64()), "views": pa.array([3] * rows, pa.int64()),
        "views_rounding": pa.array([None] * rows, pa.string()),
        "fetched_on": pa.array([day] * rows, pa.date32()),
        "fetched_at": pa.array([published] * rows, lake.UTC_TS),
    })
    print(json.dumps({"writing": True}), flush=True)
    path = lake.write_partition("posts", "x", day, table, root=config.paths().landing)
    return {"ok": True, "path": str(path), "error": None}


def main(argv: list[str]) -> int:
    command = argv[0]
    if command == "run-daily":
        outcome = run_daily(date.fromisoformat(argv[1]))
    elif command == "build":
        outcome = build()
    elif command == "write-posts":
        outcome = write_posts(int(argv[1]), date.fromisoformat(argv[2]))
    else:
        print(json.dumps({"ok": False, "error": f"unknown command {command!r}"}))
        return 2
    print(json.dumps(outcome, default=str), flush=True)
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
