"""Instagram business discovery: counts, media paging with media.after(), settling, errors."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from platform_api_fakes import load_fixture

from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import ExtractState
from agency_pulse.extractors import instagram
from agency_pulse.registry import Account

IG_USER = "17841405309211844"
RUN_DATE = date(2026, 11, 26)
TOKEN = "IGQV-CANARY-instagram"
FB_ERRORS = load_fixture("facebook/errors.json")


def conn(fake, **extra):
    return PlatformConnection("instagram", fake.url + "/v24.0", token=TOKEN,
                              extra={"ig_user_id": IG_USER, **extra}, source="airflow")


def account(handle="bluebottle"):
    return Account(agency_id="culture", platform="instagram", handle=handle)


def discovery(request):
    fields = request.query["fields"]
    if "media.after(QVFIUkIGAfter1)" in fields:
        return load_fixture("instagram/business_discovery_page2.json")
    return load_fixture("instagram/business_discovery.json")


def test_counts_and_media_over_two_pages(fake_platform, make_client):
    fake_platform.route(f"/v24.0/{IG_USER}", discovery)
    result = instagram.extract(make_client("instagram"), conn(fake_platform), [account()], RUN_DATE,
                               ExtractState())
    calls = fake_platform.calls_to(f"/v24.0/{IG_USER}")
    assert len(calls) == 2
    assert calls[0].query["fields"] == (
        "business_discovery.username(bluebottle){followers_count,media_count,media.limit(50)"
        "{id,timestamp,like_count,comments_count,media_type,media_product_type,permalink}}")
    assert "media.after(QVFIUkIGAfter1).limit(50)" in calls[1].query["fields"]
    [snapshot] = result.account_snapshots
    assert (snapshot["followers"], snapshot["posts_total"]) == (267788, 1205)
    assert snapshot["likes"] is None and snapshot["platform_id"] == "17841401441775531"
    posts = {p["post_id"]: p for p in result.posts}
    assert len(posts) == 3
    reel = posts["17894036119131554"]
    assert reel["is_video"] is True and reel["is_live"] is False
    assert (reel["reactions"], reel["comments"], reel["shares"]) == (2500, 40, None)
    assert reel["post_type"] == "REELS/VIDEO"
    assert posts["17858843269216389"]["is_video"] is False
    assert result.outcomes["instagram:bluebottle"][:3] == ("ok", None, 2)
    assert all(TOKEN not in c.url for c in fake_platform.requests)


def test_paging_stops_once_media_is_older_than_since_and_deletions_are_found(
        fake_platform, make_client):
    fake_platform.route(f"/v24.0/{IG_USER}", discovery)
    state = ExtractState(
        last_post_at={"instagram:bluebottle": datetime(2026, 11, 24, tzinfo=UTC)},
        known_post_ids={"instagram:bluebottle": {
            ("17858843269216389", datetime(2026, 11, 24, 15, tzinfo=UTC)),
            ("17800000000000001", datetime(2026, 11, 12, tzinfo=UTC)),  # deleted
            ("17800000000000002", datetime(2026, 10, 1, tzinfo=UTC)),  # before since: unknown
        }})
    # window starts 2026-10-27; page 2's item (2026-11-05) is inside, so both pages are read
    result = instagram.extract(make_client("instagram"), conn(fake_platform), [account()], RUN_DATE, state)
    assert {d["post_id"] for d in result.post_deletions} == {"17800000000000001"}
    assert len(fake_platform.calls_to(f"/v24.0/{IG_USER}")) == 2

    fake_platform.requests.clear()
    short = ExtractState(settle_days=5,
                         last_post_at={"instagram:bluebottle": datetime(2026, 11, 24, tzinfo=UTC)})
    result = instagram.extract(make_client("instagram"), conn(fake_platform), [account()], RUN_DATE, short)
    # the first page already reaches media older than 2026-11-21: no second page
    assert len(fake_platform.calls_to(f"/v24.0/{IG_USER}")) == 1
    assert [p["post_id"] for p in result.posts] == ["17858843269216389"]


def test_an_account_that_is_not_a_business_account_is_gone(fake_platform, make_client):
    errors = load_fixture("instagram/errors.json")

    def answer(request):
        if "nosuchuser" in request.query["fields"]:
            return (400, errors["not_business"])
        return discovery(request)

    fake_platform.route(f"/v24.0/{IG_USER}", answer)
    result = instagram.extract(make_client("instagram"), conn(fake_platform),
                               [account("nosuchuser"), account()], RUN_DATE, ExtractState())
    status, reason, *_ = result.outcomes["instagram:nosuchuser"]
    assert status == "gone" and "cannot be found" in reason
    assert result.outcomes["instagram:bluebottle"][0] == "ok"


def test_our_own_ig_user_missing_stops_the_platform(fake_platform, make_client):
    gone = load_fixture("facebook/errors.json")["object_gone"]
    gone["error"]["message"] = gone["error"]["message"].replace("20531316728", IG_USER)
    fake_platform.route(f"/v24.0/{IG_USER}", (400, gone))
    result = instagram.extract(make_client("instagram"), conn(fake_platform), [account(), account("other")],
                               RUN_DATE, ExtractState())
    assert result.stopped_by is not None and result.stopped_by.stops_platform
    assert "ig_user_id" in result.stopped_by.reason
    assert len(fake_platform.requests) == 1


def test_no_ig_user_id_stops_before_any_call(fake_platform, make_client):
    plain = PlatformConnection("instagram", fake_platform.url + "/v24.0", token=TOKEN, extra={}, source="airflow")
    result = instagram.extract(make_client("instagram"), plain, [account()], RUN_DATE,
                               ExtractState())
    assert result.stopped_by is not None and "ig_user_id" in result.stopped_by.reason
    assert fake_platform.requests == []


def test_expired_token_and_throttling_as_for_facebook(fake_platform, make_client, sleeps):
    fake_platform.route(f"/v24.0/{IG_USER}", (400, FB_ERRORS["app_limit"]), discovery)
    result = instagram.extract(make_client("instagram"), conn(fake_platform), [account()], RUN_DATE,
                               ExtractState())
    assert result.outcomes["instagram:bluebottle"][0] == "ok" and len(sleeps) == 1
    fake_platform.routes.clear()
    fake_platform.route(f"/v24.0/{IG_USER}", (400, FB_ERRORS["expired_token"]))
    result = instagram.extract(make_client("instagram"), conn(fake_platform), [account()], RUN_DATE,
                               ExtractState())
    assert result.stopped_by is not None and result.stopped_by.stops_platform


def test_hidden_like_counts_stay_unknown_not_zero(fake_platform, make_client):
    body = load_fixture("instagram/business_discovery_page2.json")
    del body["business_discovery"]["media"]["data"][0]["like_count"]
    fake_platform.route(f"/v24.0/{IG_USER}", body)
    result = instagram.extract(make_client("instagram"), conn(fake_platform), [account()], RUN_DATE,
                               ExtractState())
    assert result.posts[0]["reactions"] is None
    assert re.fullmatch(r"\d+", result.posts[0]["post_id"])
