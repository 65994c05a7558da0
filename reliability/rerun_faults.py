"""Reruns under each failure kind (issue 11): a day is accepted, then run again with the
sandbox answering, on every platform at once, with one kind of failure: gone, private,
transient 5xx, auth (expired token), quota, rate limit.

Each rerun must lose nothing (the day's accepted snapshots and posts are all still there,
the marts identical to before), exit with the right status (1 only for a kind that may pass
by retrying: transient, auth, quota, rate limit; 0 for gone and private, which are facts)
and leave the fact in the extract log (``gone`` / ``private`` for the refused account; the
day's earlier row kept for a failure that may pass).

``rerun_faults`` (``make reliability``) runs every rerun through ``agency-pulse run`` (its
exit status) with a build after each; ``rerun_faults_fast`` (``make test``) reruns the
extract and validation of every platform in-process (a raise is what makes ``run`` exit
1) and builds once at the end.
"""

from __future__ import annotations

import contextlib
import io
from datetime import date

from reliability.verdict import ScenarioResult
from reliability.workspace import RUN_DAY, Workspace, describe_digests, open_workspace

PLATFORMS = ("facebook", "instagram", "youtube", "x", "telegram")
# The registry account the per-account kinds (gone, private) hit on each platform.
TARGETS = {"facebook": "beta.gov", "instagram": "beta_ig", "youtube": "BetaTV",
           "x": "beta_x", "telegram": "betatg"}
# kind -> (sandbox fault on a platform, whether the run must exit 1)
KINDS: dict[str, tuple[str, bool]] = {
    "transient": ("server_error", True),
    "auth": ("expired_token", True),
    "quota": ("quota_exceeded", True),
    "rate_limit": ("throttle", True),
    "gone": ("deleted_account", False),
    "private": ("private", False),
}
# Kinds a platform's API has no answer for: Telegram's Bot API has no quota (it throttles
# with 429 retry_after only, which is the rate_limit kind).
NOT_APPLICABLE = {("telegram", "quota")}


def faults_for(kind: str) -> dict:
    """The sandbox faults of ``kind`` on every platform it applies to."""
    fault, _ = KINDS[kind]
    faults = {}
    for platform in PLATFORMS:
        if (platform, kind) in NOT_APPLICABLE:
            continue
        faults[platform] = {fault: [TARGETS[platform]] if kind in ("gone", "private") else 1.0}
    return faults


def _target_id(platform: str) -> str:
    return f"{platform}:{TARGETS[platform].lower()}"


def _day_record(day: date) -> dict[str, dict]:
    """Per platform, what the accepted lake holds for ``day``: snapshot accounts, post ids
    (the versions landed that day, and every post read that day) and extract-log statuses
    by account."""
    import pyarrow.parquet as pq

    from agency_pulse import lake

    record = {}
    for platform in PLATFORMS:
        def rows(dataset: str, platform: str = platform) -> list[dict]:
            return [row for path in lake.list_partitions(lake.ACCEPTED, dataset, platform, day)
                    for row in pq.read_table(path, schema=lake.SCHEMAS[dataset]).to_pylist()]

        record[platform] = {
            "snapshots": {r["account_id"] for r in rows("account_snapshots")},
            "posts": {r["post_id"] for r in rows("posts")},
            "reads": {(r["account_id"], post_id) for r in rows("post_reads")
                      for post_id in r["post_ids"] or ()},
            "log": {r["account_id"]: r["status"] for r in rows("extract_log")},
        }
    return record


def _lost(before: dict, after: dict) -> list[str]:
    """What the day held before and no longer holds, one line per platform."""
    lost = []
    for platform in PLATFORMS:
        snapshots = before[platform]["snapshots"] - after[platform]["snapshots"]
        posts = before[platform]["posts"] - after[platform]["posts"]
        reads = before[platform]["reads"] - after[platform]["reads"]
        if snapshots or posts or reads:
            lost.append(f"{platform}: {len(snapshots)} snapshots, {len(posts)} posts, "
                        f"{len(reads)} post reads lost")
    return lost


def _log_problems(kind: str, before: dict, after: dict) -> list[str]:
    """Extract-log rows that do not record the rerun's fact."""
    problems = []
    for platform in PLATFORMS:
        if (platform, kind) in NOT_APPLICABLE:
            continue
        log, earlier = after[platform]["log"], before[platform]["log"]
        if kind in ("gone", "private"):
            wanted = {account: ("ok" if account != _target_id(platform) else kind)
                      for account in earlier}
        else:  # the day's earlier row stays with the data it describes
            wanted = earlier
        if log != wanted:
            problems.append(f"{platform}: {log} (expected {wanted})")
    return problems


def _cli_run(day: date) -> tuple[int, str]:
    from agency_pulse import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["run", "--date", day.isoformat(), "--leaderboard", "0"])
    return status, err.getvalue()


def _extract_in_process(ws: Workspace, day: date, kind: str) -> tuple[int, dict[str, str]]:
    """Extract and validate every platform as ``run`` does, without the build: (the exit
    status ``run`` would give, the failure of each platform that raised)."""
    from agency_pulse import pipeline

    raised = {}
    run_id = f"rerun-{kind}"
    for platform in PLATFORMS:
        try:
            pipeline.extract_platform(platform, day, run_id=run_id)
        except Exception as exc:  # run_daily turns this into exit 1
            raised[platform] = f"{type(exc).__name__}: {str(exc)[:80]}"
    outcomes = pipeline.validate_landing(day=day, run_id=run_id, raise_on_failure=False)
    for number, outcome in enumerate(outcomes):
        if not outcome.success:
            raised[f"validation failure {number}"] = "a batch quarantined"
    return (1 if raised else 0), raised


def _scenario(fast: bool) -> ScenarioResult:
    name = "rerun_faults_fast" if fast else "rerun_faults"
    result = ScenarioResult(
        name,
        injected=(f"{RUN_DAY} accepted, then rerun once per failure kind ({', '.join(KINDS)}) "
                  f"on all five platforms at once (Telegram has no quota)"
                  + ("; extract + validation in-process, one build at the end" if fast
                     else "; each through `agency-pulse run`")),
        expected="nothing the day held is lost, marts identical to before; exit 1 for "
                 "transient, auth, quota, rate limit, 0 for gone and private; the extract "
                 "log says gone/private for the refused account and keeps the day's row "
                 "otherwise")
    with open_workspace() as ws:
        first = ws.run_day(RUN_DAY, run_id="accepted")
        if first.failed:
            result.check("the clean day", False, f"failed: {str(first.failure)[:200]}")
            return result
        digests = ws.mart_digests()
        record = _day_record(RUN_DAY)
        for kind, (_, may_pass) in KINDS.items():
            ws.sandbox.set(date=RUN_DAY, faults=faults_for(kind))
            if fast:
                status, detail = _extract_in_process(ws, RUN_DAY, kind)
                failed = set(detail)
            else:
                status, err = _cli_run(RUN_DAY)
                failed = {p for p in PLATFORMS if f"{p} " in err or f"{p}:" in err}
            # every platform the fault reaches fails for a kind that may pass, none otherwise
            wanted = {p for p in PLATFORMS if (p, kind) not in NOT_APPLICABLE} if may_pass \
                else set()
            after = _day_record(RUN_DAY)
            wanted_status = 1 if may_pass else 0
            result.check(f"{kind}: exit {wanted_status}",
                         status == wanted_status and failed == wanted,
                         f"exit {status}, failed: {', '.join(sorted(failed)) or 'none'}")
            lost = _lost(record, after)
            result.check(f"{kind}: nothing lost", not lost, "; ".join(lost) or
                         f"{sum(len(r['posts']) for r in after.values())} posts and "
                         f"{sum(len(r['snapshots']) for r in after.values())} snapshots kept")
            problems = _log_problems(kind, record, after)
            result.check(f"{kind}: the extract log records it", not problems,
                         "; ".join(problems)[:300] or "as expected on every platform")
            if not fast:
                now = ws.mart_digests()
                result.check(f"{kind}: marts identical", now == digests,
                             "identical" if now == digests else
                             f"before: {describe_digests(digests)}; after: "
                             f"{describe_digests(now)}")
            record = after if kind in ("gone", "private") else record
        if fast:
            ws.sandbox.set(date=RUN_DAY, faults={})
            from agency_pulse import pipeline

            pipeline.build_warehouse()
            now = ws.mart_digests()
            result.check("marts identical after every rerun", now == digests,
                         f"{describe_digests(now)}" if now == digests else
                         f"before: {describe_digests(digests)}; after: {describe_digests(now)}")
    return result


def rerun_faults() -> ScenarioResult:
    return _scenario(fast=False)


def rerun_faults_fast() -> ScenarioResult:
    return _scenario(fast=True)
