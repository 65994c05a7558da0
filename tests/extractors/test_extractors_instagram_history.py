"""Instagram follower history of our own account: follower_count insights, 30 days back."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, date, datetime, time, timedelta

import pytest
from platform_api_fakes import load_fixture

from agency_pulse import lake
from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import ExtractState, run_platform
from agency_pulse.extractors import instagram
from agency_pulse.registry import Account, parse_registry
from agency_pulse_sandbox import run_sandbox

IG_USER = "17841405309211844"
RUN_DATE = date(2026, 11, 26)
TOKEN = "IGQV-CANARY-history"
FB_ERRORS = load_fixture("facebook/errors.json")
INSIGHTS = rf"/v24.0/{IG_USER}/insights"
FOLLOWERS_NOW = 267788  # followers_count in ig_business_discovery.json


def conn(fake, **extra):
    return PlatformConnection("instagram", fake.url + "/v24.0", token=TOKEN,
                              extra={"ig_user_id": IG_USER, **extra}, source="airflow")


def own_account():
    return Account(agency_id="culture", platform="instagram", handle="bluebottle",
                   platform_id=IG_USER)


def other_account():
    return Account(agency_id="health", platform="instagram", handle="someoneelse")


def new_followers_on(day: date) -> int:
    return day.day % 7 + 3


def follower_count_insights(request):
    """The documented body: data[0].values[{value, end_time}], end_time the next day 07:00."""
    since = datetime.fromtimestamp(int(request.query["since"]), UTC).date()
    until = datetime.fromtimestamp(int(request.query["until"]), UTC).date()
    days = [since + timedelta(days=i) for i in range((until - since).days)]
    return {"data": [{
        "name": "follower_count", "period": "day", "title": "Follower Count",
        "description": "Total number of new followers each day within the specified range",
        "id": f"{IG_USER}/insights/follower_count/day",
        "values": [{"value": new_followers_on(day),
                    "end_time": (day + timedelta(days=1)).strftime("%Y-%m-%dT07:00:00+0000")}
                   for day in days]}]}


def unix(day: date) -> str:
    return str(int(datetime.combine(day, time(), UTC).timestamp()))


@pytest.fixture
def graph(fake_platform):
    fake_platform.route(INSIGHTS, follower_count_insights)
    fake_platform.route(f"/v24.0/{IG_USER}", load_fixture("instagram/business_discovery.json"))
    return fake_platform


def test_first_run_backfills_30_days_of_absolute_counts_for_the_own_account_only(
        graph, make_client):
    result = instagram.extract(make_client("instagram"), conn(graph, insights=True),
                               [own_account(), other_account()], RUN_DATE, ExtractState())
    [call] = graph.calls_to(INSIGHTS)
    assert call.query == {"metric": "follower_count", "period": "day",
                             "since": unix(RUN_DATE - timedelta(days=30)),
                             "until": unix(RUN_DATE)}
    assert TOKEN not in call.url
    rows = result.follower_history
    assert [r["day"] for r in rows] == [RUN_DATE - timedelta(days=d) for d in range(30, 0, -1)]
    assert {r["account_id"] for r in rows} == {"instagram:bluebottle"}
    assert {(r["metric"], r["platform"]) for r in rows} == {("follower_count", "instagram")}
    # Yesterday is anchored on today's snapshot; each earlier day lacks the next day's gain.
    assert rows[-1]["followers"] == FOLLOWERS_NOW
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert earlier["followers"] == later["followers"] - new_followers_on(later["day"])
    assert rows[0]["followers"] == FOLLOWERS_NOW - sum(
        new_followers_on(r["day"]) for r in rows[1:])
    assert len(result.account_snapshots) == 2


def test_the_own_account_is_also_known_by_the_ig_username_extra(graph, make_client):
    account = Account(agency_id="culture", platform="instagram", handle="@BlueBottle")
    result = instagram.extract(make_client("instagram"),
                               conn(graph, insights=True, ig_username="bluebottle"),
                               [account], RUN_DATE, ExtractState())
    assert len(graph.calls_to(INSIGHTS)) == 1
    assert len(result.follower_history) == 30


def test_later_runs_read_only_the_days_after_the_last_landed_one(graph, make_client):
    state = ExtractState(history_through={"instagram:bluebottle": RUN_DATE - timedelta(days=3)})
    result = instagram.extract(make_client("instagram"), conn(graph, insights=True), [own_account()],
                               RUN_DATE, state)
    [call] = graph.calls_to(INSIGHTS)
    assert (call.query["since"], call.query["until"]) == (
        unix(RUN_DATE - timedelta(days=2)), unix(RUN_DATE))
    assert [(r["day"], r["followers"]) for r in result.follower_history] == [
        (RUN_DATE - timedelta(days=2), FOLLOWERS_NOW - new_followers_on(RUN_DATE - timedelta(1))),
        (RUN_DATE - timedelta(days=1), FOLLOWERS_NOW)]


def test_no_insights_call_when_history_is_complete_or_not_allowed(graph, make_client):
    up_to_date = ExtractState(history_through={"instagram:bluebottle": RUN_DATE - timedelta(1)})
    instagram.extract(make_client("instagram"), conn(graph, insights=True), [own_account()], RUN_DATE,
                      up_to_date)
    instagram.extract(make_client("instagram"), conn(graph), [own_account()], RUN_DATE,
                      ExtractState())
    instagram.extract(make_client("instagram"), conn(graph, insights=True), [other_account()],
                      RUN_DATE, ExtractState())
    assert graph.calls_to(INSIGHTS) == []


def test_a_removed_metric_is_dropped_and_logged_once(fake_platform, make_client, caplog):
    fake_platform.route(INSIGHTS, (400, FB_ERRORS["invalid_metric"]))
    fake_platform.route(f"/v24.0/{IG_USER}", load_fixture("instagram/business_discovery.json"))
    by_name = Account(agency_id="culture", platform="instagram", handle="bluebottle2")
    caplog.set_level(logging.WARNING, logger="agency_pulse.extractors.instagram")
    result = instagram.extract(make_client("instagram"),
                               conn(fake_platform, insights=True, ig_username="bluebottle2"),
                               [own_account(), by_name], RUN_DATE, ExtractState())
    assert len(fake_platform.calls_to(INSIGHTS)) == 1
    assert result.follower_history == []
    assert len(result.account_snapshots) == 2
    assert {o[0] for o in result.outcomes.values()} == {"ok"}
    warnings = [r for r in caplog.records if "no longer offered" in r.getMessage()]
    assert len(warnings) == 1 and "follower_count" in warnings[0].getMessage()


# -- against the sandbox, through run_platform ------------------------------------------

DAY = date(2026, 11, 26)
REGISTRY = parse_registry({"agencies": [
    {"id": "taxes", "name": "Dövlət Vergi Xidməti", "accounts": [
        {"platform": "instagram", "handle": "taxes.gov.az"}]},
    {"id": "agriculture", "name": "Kənd Təsərrüfatı Nazirliyi", "accounts": [
        {"platform": "instagram", "handle": "agro.gov.az"}]},
]})


@pytest.fixture
def sandbox(pulse_home, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AGENCY_PULSE_INSTAGRAM", raising=False)
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")
    monkeypatch.setenv("AGENCY_PULSE_BACKFILL_DAYS", "30")
    with run_sandbox(date=DAY, seed=7, registry=REGISTRY) as server:
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", server.url)
        yield server


def landed(dataset, home):
    return lake.read_dataset(dataset, root=home.landing, platform="instagram").to_pylist()


def accept_landing(home):
    """Stand-in for validation: publish every landed file to the accepted lake."""
    for path in home.landing.rglob("*.parquet"):
        target = home.lake / path.relative_to(home.landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)


def test_sandbox_history_lands_for_the_own_account_only(sandbox, pulse_home):
    summary = run_platform("instagram", DAY, registry=REGISTRY)
    assert summary["statuses"] == {"ok": 2}
    snapshots = {s["account_id"]: s for s in landed("account_snapshots", pulse_home)}
    history = landed("follower_history", pulse_home)
    assert {h["account_id"] for h in history} == {"instagram:taxes.gov.az"}
    by_day = {h["day"]: h["followers"] for h in history}
    assert sorted(by_day) == [DAY - timedelta(days=d) for d in range(30, 0, -1)]
    assert by_day[DAY - timedelta(days=1)] == snapshots["instagram:taxes.gov.az"]["followers"]
    # Rebuilt from daily gains, the history follows the sandbox's own follower curve.
    world = sandbox.state.world
    account = world.find("instagram", "taxes.gov.az")
    for day, followers in by_day.items():
        assert followers == pytest.approx(world.followers_on(account, day), rel=0.01)

    accept_landing(pulse_home)
    next_day = DAY + timedelta(days=1)
    sandbox.set(date=next_day)
    run_platform("instagram", next_day, registry=REGISTRY)
    later = landed("follower_history", pulse_home)
    assert [(h["account_id"], h["day"]) for h in later] == [("instagram:taxes.gov.az", DAY)]
