"""bench.naive_extractor and bench.extraction: the baseline asks for one account per request,
and the batching minimum is computed as the issue defines it."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `bench`

from agency_pulse import connections, extract  # noqa: E402
from agency_pulse.registry import load_registry  # noqa: E402
from agency_pulse_sandbox import run_sandbox  # noqa: E402
from bench.extraction import calls_minimum, promote_landing, write_sandbox_registry  # noqa: E402
from bench.naive_extractor import extract_one_call_per_account  # noqa: E402

DAY = date(2026, 11, 27)
COUNT_ENDPOINT = {"facebook": "ids", "youtube": "channels", "x": "users/by"}


@pytest.mark.parametrize("platform", sorted(COUNT_ENDPOINT))
def test_the_baseline_asks_for_each_account_alone(platform, pulse_home, monkeypatch, tmp_path):
    registry_path = write_sandbox_registry(tmp_path / "registry.yaml", 3)
    empty = tmp_path / "sandbox-registry.yaml"
    empty.write_text("agencies: []\n", encoding="utf-8")
    registry = load_registry(registry_path)
    accounts = registry.accounts_for(platform)
    with run_sandbox(date=DAY - timedelta(days=1), registry=empty,
                     extra_accounts_per_platform=3) as sandbox:
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", sandbox.url)
        monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")
        monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "31")
        conn = connections.resolve(platform)
        # the first run resolves handles to ids (YouTube: one forHandle call each)
        extract.run_platform(platform, DAY - timedelta(days=1), registry=registry)
        promote_landing(pulse_home.home)
        sandbox.set(date=DAY)
        sandbox.reset_stats()

        ours = extract.run_platform(platform, DAY, registry=registry)
        ours_endpoints = sandbox.stats()["platforms"][platform]["endpoints"]
        sandbox.reset_stats()
        result = extract_one_call_per_account(extract.build_client(conn), conn, accounts, DAY,
                                              extract.build_state(
                                                  platform, DAY, backfill_days=31))
        naive_endpoints = sandbox.stats()["platforms"][platform]["endpoints"]

    assert ours["statuses"] == {"ok": 3}
    assert ours_endpoints[COUNT_ENDPOINT[platform]] == 1
    assert naive_endpoints[COUNT_ENDPOINT[platform]] == 3
    assert {row["account_id"] for row in result.account_snapshots} == \
        {a.account_id for a in accounts}
    assert {o[0] for o in result.outcomes.values()} == {"ok"}
    # the posts are read exactly as ours reads them; YouTube's video lookups batch ids
    # across accounts in ours, per account in the baseline
    others = {name: n for name, n in ours_endpoints.items()
              if name not in (COUNT_ENDPOINT[platform], "videos")}
    assert {name: naive_endpoints[name] for name in others} == others
    assert ours_endpoints.get("videos", 0) <= naive_endpoints.get("videos", 0)


def test_calls_minimum_counts_full_batches_and_posts_pages():
    # 120 X accounts: 2 users/by batches of 100; 150 posts for one account need 2 pages
    posts = [150] + [0] * 119
    assert calls_minimum("x", posts, {"users/by": 2, "users/:id/tweets": 121}) == 2 + 121
    # YouTube: channels batches of 50, a playlist page per account, video details per 50 posts
    assert calls_minimum("youtube", [60, 0], {}) == 1 + (2 + 1) + 2
    # ... and the 50 ids of a videos call may belong to several accounts
    assert calls_minimum("youtube", [30, 30, 15], {}) == 1 + 3 + 2
    # Instagram has no count batch (business discovery per account) and 50 media a page
    assert calls_minimum("instagram", [10, 51], {}) == 1 + 2
    # Facebook: endpoints with nothing to batch (insights, live videos) count as they are
    assert calls_minimum("facebook", [5] * 51, {"insights": 51, "live_videos": 3}) == \
        2 + 51 + 51 + 3


def test_promote_landing_moves_landed_files_to_the_accepted_zone(pulse_home):
    landed = pulse_home.landing / "posts" / "platform=x" / f"date={DAY}" / "part-all.parquet"
    landed.parent.mkdir(parents=True)
    landed.write_bytes(b"PAR1")

    assert promote_landing(pulse_home.home) == 1
    assert not landed.exists()
    assert (pulse_home.lake / "posts" / "platform=x" / f"date={DAY}" / "part-all.parquet").exists()
