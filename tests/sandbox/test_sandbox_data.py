"""The deterministic world behind the sandbox: same seed and day, same data; plausible days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from agency_pulse.registry import load_registry
from agency_pulse_sandbox.data import SandboxWorld, day_end, metrics_on, synthetic_handle
from agency_pulse_sandbox.telegram import compact_count
from agency_pulse_sandbox.youtube import three_significant_figures

DAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def world():
    return SandboxWorld(7, load_registry(), extra_accounts_per_platform=5000)


def test_same_seed_same_world_other_seed_other_world(world):
    again = SandboxWorld(7, load_registry())
    other = SandboxWorld(8, load_registry())
    account = world.find("facebook", "tehsilnazirliyi")
    assert again.find("facebook", "tehsilnazirliyi") == account
    assert again.posts_visible_on(account, DAY)[:50] == world.posts_visible_on(account, DAY)[:50]
    assert other.find("facebook", "tehsilnazirliyi").platform_id != account.platform_id


def test_accounts_are_found_by_handle_any_case_and_by_platform_id(world):
    account = world.find("x", "MFA_Azerbaijan")
    assert world.find("x", "@mfa_azerbaijan") == account
    assert world.find("x", account.platform_id) == account
    assert world.find("x", "nobody") is None


def test_followers_move_smoothly_from_day_to_day(world):
    for platform in ("facebook", "x", "youtube", "telegram", "instagram"):
        for account in world.registry_accounts(platform):
            series = [world.followers_on(account, DAY - timedelta(days=i)) for i in range(30)]
            assert all(n > 0 for n in series)
            assert all(abs(a - b) <= max(5, 0.01 * b) for a, b in zip(series, series[1:], strict=False))


def test_curves_include_growth_and_decline(world):
    changes = []
    for account in world.registry_accounts("facebook"):
        year_ago = world.followers_on(account, DAY - timedelta(days=365))
        changes.append(world.followers_on(account, DAY) - year_ago)
    assert any(c > 0 for c in changes) and any(c < 0 for c in changes)


def test_no_post_is_ever_visible_before_it_is_published(world):
    for account in world.registry_accounts("facebook")[:6]:
        posts = world.posts_visible_on(account, DAY)
        assert all(p.published_at < day_end(DAY) for p in posts)
        tomorrow = world.posts_visible_on(account, DAY + timedelta(days=1))
        assert {(p.year, p.index) for p in posts if p.deleted_on is None or p.deleted_on > DAY + timedelta(days=1)} \
            <= {(p.year, p.index) for p in tomorrow}


def test_history_spans_years_with_varied_posting_rates(world):
    counts = {}
    for account in world.registry_accounts("facebook"):
        posts = world.posts_visible_on(account, DAY)
        counts[account.handle] = sum(1 for p in posts if p.published_at.date() > DAY - timedelta(days=365))
        if account.handle not in ("mct.gov.az", "aqroazerbaycan"):
            assert posts[-1].published_at.date() < DAY - timedelta(days=3 * 365)
    assert max(counts.values()) > 300 and min(counts.values()) == 0
    assert counts["mct.gov.az"] == 0 and counts["aqroazerbaycan"] == 0


def test_engagement_grows_for_a_month_then_settles(world):
    account = world.find("facebook", "mia.gov.az")
    post = next(p for p in world.posts_visible_on(account, DAY - timedelta(days=60)) if p.final_reactions > 100)
    day0 = post.published_at.date()
    series = [metrics_on(post, day0 + timedelta(days=i)).reactions for i in range(0, 45)]
    assert series == sorted(series)
    assert series[1] < series[31] == series[44] == post.final_reactions


def test_education_streams_live_and_others_mostly_do_not(world):
    kinds = {p.kind for p in world.posts_visible_on(world.find("facebook", "tehsilnazirliyi"), DAY)}
    assert "live" in kinds and "video" in kinds
    assert "live" not in {p.kind for p in world.posts_visible_on(world.find("facebook", "mia.gov.az"), DAY)}


def test_synthetic_accounts_are_built_on_demand_and_stable(world):
    handle = synthetic_handle("x", 4321)
    account = world.find("x", handle)
    assert account is not None and world.find("x", account.platform_id) == account
    assert world.by_number("x", account.number) == account
    assert world.find("x", synthetic_handle("x", 5000)) is None  # only as many as configured
    assert world.posts_visible_on(account, DAY) == world.posts_visible_on(world.find("x", handle), DAY)


def test_video_ids_decode_back_to_their_post(world):
    account = world.find("youtube", synthetic_handle("youtube", 77))
    for post in world.posts_visible_on(account, DAY)[:20]:
        video_id = world.encode_video_id(post)
        assert len(video_id) == 11
        assert world.decode_video_id(video_id) == (account.number, post.year, post.index)
    assert world.decode_video_id("dQw4w9WgXcQ") is None


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (999, 999), (1234, 1230), (98765, 98700),
                                               (1_234_567, 1_230_000)])
def test_subscriber_counts_keep_three_significant_figures(count, shown):
    assert three_significant_figures(count) == shown


@pytest.mark.parametrize(("count", "shown"), [(999, "999"), (1000, "1K"), (1234, "1.2K"), (15_999, "15.9K"),
                                               (123_456, "123K"), (1_250_000, "1.2M")])
def test_telegram_counters_are_rounded_down_for_display(count, shown):
    assert compact_count(count) == shown


@pytest.mark.parametrize("platform", ["telegram", "youtube", "facebook"])
def test_whole_history_answers_from_year_tallies_equal_counting_post_by_post(world, platform):
    # days inside the deletion window of a year's last posts (not settled) and long after
    days = [DAY, date(2026, 1, 3), date(2025, 12, 31), date(2026, 2, 20), date(2019, 5, 1)]
    for index in (0, 1, 2, 3, 4, 9):
        account = world.find(platform, synthetic_handle(platform, index))
        for day in days:
            visible = world.posts_visible_on(account, day)
            kinds = {kind: sum(1 for p in visible if p.kind == kind)
                     for kind in ("status", "photo", "album", "link", "shared", "video", "live")}
            assert world.visible_kind_counts(account, day) == kinds
            assert world.count_visible_posts(account, day) == len(visible)
            assert world.visible_views(account, day) == sum(metrics_on(p, day).views for p in visible)
            assert world.oldest_visible_position(account, day) == (
                (visible[-1].year, visible[-1].index) if visible else None)
