"""A renamed account's history continues (docs/REFERENCE.md, Account identity), end to end
on the sandbox: days landed under the old handle, a daily run that sees the handle change,
`registry check --write` taking the new handle, days under it; one history in the marts."""

from __future__ import annotations

from datetime import date

import pytest

from agency_pulse import cli
from agency_pulse.pipeline import run_daily
from agency_pulse.registry import load_registry
from agency_pulse.warehouse import connect_read_only
from agency_pulse_sandbox import run_sandbox

DAYS = [date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
REGISTRY = """\
agencies:
- id: culture
  name: Mədəniyyət Nazirliyi
  accounts:
  - platform: x
    handle: culture_az   # renamed on X on 1 November
  - platform: telegram
    handle: tax_channel  # renamed on Telegram on 1 November
"""
RENAMES = {"x": ("culture_az", "kultura_az"), "telegram": ("tax_channel", "tax_news")}


@pytest.fixture
def world(tmp_path, monkeypatch):
    registry = tmp_path / "agencies.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    with run_sandbox(date=DAYS[0], seed=7, registry=registry) as server:
        monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("AGENCY_PULSE_REGISTRY", str(registry))
        monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", server.url)
        monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "10")
        monkeypatch.setenv("AGENCY_PULSE_WAIT_SCALE", "0.001")
        for platform in ("facebook", "instagram", "youtube", "x", "telegram"):
            monkeypatch.delenv(f"AIRFLOW_CONN_AGENCY_PULSE_{platform.upper()}", raising=False)
        yield server, registry, tmp_path / "home" / "warehouse.duckdb"


def _run(sandbox, day, faults=None):
    sandbox.set(date=day.isoformat(), faults=faults or {})
    return run_daily(day, ["x", "telegram"], run_id=f"test__{day}")


@pytest.mark.slow  # four daily runs with validation and builds: about two minutes
def test_history_continues_through_a_rename(world, capsys):
    sandbox, registry, warehouse = world
    assert cli.main(["registry", "check", "--write"]) == 0  # fills both platform_ids
    ids = {a.platform: a.platform_id for a in load_registry(registry).accounts}
    assert all(ids.values())
    renamed = {p: {"renamed": {old: new}} for p, (old, new) in RENAMES.items()}

    _run(sandbox, DAYS[0])
    _run(sandbox, DAYS[1])
    _run(sandbox, DAYS[2], renamed)  # the registry still has the old handles
    capsys.readouterr()
    assert cli.main(["registry", "check", "--write"]) == 1  # renamed is reported ...
    out = capsys.readouterr().out
    assert all(f"(now {new})" in out for _, new in RENAMES.values())
    written = {a.platform: a for a in load_registry(registry).accounts}
    assert {p: a.handle for p, a in written.items()} == {p: n for p, (_, n) in RENAMES.items()}
    assert {p: a.platform_id for p, a in written.items()} == ids  # ... and written
    _run(sandbox, DAYS[3], renamed)

    con = connect_read_only(warehouse)
    try:
        notes = con.execute(
            "select platform, account_id, reason from quality.extract_log "
            "where run_date = ? order by platform", [DAYS[2]]).fetchall()
        daily = con.execute(
            "select account_id, snapshot_date, followers from staging.stg_lake__account_snapshots "
            "order by account_id, snapshot_date").fetchall()
        monthly = con.execute(
            "select account_id, handle, month, followers_start, followers_end, followers_change "
            "from marts.account_monthly order by account_id, month").fetchall()
        posts = con.execute(
            "select account_id, count(*), count(distinct post_id) from "
            "staging.stg_lake__posts group by 1 order by 1").fetchall()
    finally:
        con.close()

    # The day the platforms renamed them, the run noted it and kept the registry's ids.
    assert [(p, a) for p, a, _ in notes] == [("telegram", "telegram:tax_channel"),
                                           ("x", "x:culture_az")]
    assert [reason for *_, reason in notes] == [
        "handle changed: tax_channel -> tax_news", "handle changed: culture_az -> kultura_az"]
    # One series per account, under its new handle, with every day.
    new_ids = sorted(f"{p}:{n}" for p, (_, n) in RENAMES.items())
    assert sorted({account for account, *_ in daily}) == new_ids
    assert [(a, d) for a, d, _ in daily] == [(a, d) for a in new_ids for d in DAYS]
    followers = {(a, d): f for a, d, f in daily}
    assert [row[:3] for row in monthly] == [
        (a, a.split(":")[1], m) for a in new_ids for m in (date(2026, 10, 1), date(2026, 11, 1))]
    for account_id, _, month, start, end, change in monthly:
        if month == date(2026, 11, 1):  # November starts from the old handle's 31 October
            assert (start, end) == (followers[(account_id, DAYS[1])],
                                    followers[(account_id, DAYS[3])])
            assert change == end - start
    # Posts read again under the new handle are the same posts, not new ones.
    assert [a for a, *_ in posts] == new_ids
    assert all(count == distinct for _, count, distinct in posts)
