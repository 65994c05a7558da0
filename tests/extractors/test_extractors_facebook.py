"""Facebook extractor against documented Graph API bodies served on loopback."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import pytest
from platform_api_fakes import load_fixture

from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import ExtractState
from agency_pulse.extractors import facebook
from agency_pulse.registry import Account

RUN_DATE = date(2026, 11, 26)
TOKEN = "EAAB-CANARY-facebook-token"
ERRORS = load_fixture("facebook/errors.json")
PAGE_ID = "20531316728"


def conn(fake, **extra) -> PlatformConnection:
    return PlatformConnection("facebook", fake.url + "/v24.0", token=TOKEN, extra=extra, source="airflow")


def account(handle: str, platform_id: str | None = None) -> Account:
    return Account(agency_id=f"agency-{handle.lower()}", platform="facebook", handle=handle,
                   platform_id=platform_id)


def pages_by_ids(request):
    """The documented page object, once per requested id, keyed by the id as asked."""
    answer = {}
    for ident in request.query["ids"].split(","):
        page = load_fixture("facebook/page.json")
        page["id"] = ident if ident.isdigit() else PAGE_ID
        page["username"] = ident
        answer[ident] = page
    return answer


def two_pages_of_posts(request):
    return load_fixture("facebook/posts_page2.json" if request.query.get("after") else "facebook/posts_page1.json")


def serve_page(fake_platform, posts=two_pages_of_posts, live=None):
    fake_platform.route("/v24.0/", pages_by_ids)
    fake_platform.route(r"/v24.0/\d+/posts", posts)
    fake_platform.route(r"/v24.0/\d+/live_videos", live or load_fixture("facebook/live_videos.json"))


def test_counts_are_batched_fifty_ids_a_call(fake_platform, make_client):
    fake_platform.route("/v24.0/", pages_by_ids)
    fake_platform.route(r"/v24.0/\d+/posts", {"data": []})
    accounts = [account(f"page{i}", platform_id=str(1000 + i)) for i in range(120)]
    client = make_client(secrets=[TOKEN])
    result = facebook.extract(client, conn(fake_platform), accounts, RUN_DATE, ExtractState())
    batches = fake_platform.calls_to("/v24.0/")
    assert [len(c.query["ids"].split(",")) for c in batches] == [50, 50, 20]
    assert batches[0].query["fields"].startswith("id,name,username,followers_count,fan_count,")
    assert len(result.account_snapshots) == 120
    assert {o[0] for o in result.outcomes.values()} == {"ok"}
    # every call is attributed to exactly one account: the sums match the client
    assert sum(o[2] for o in result.outcomes.values()) == client.calls == 3 + 120


def test_snapshot_keeps_followers_and_page_likes_apart(fake_platform, make_client):
    serve_page(fake_platform)
    result = facebook.extract(make_client(), conn(fake_platform), [account("facebookapp")], RUN_DATE,
                              ExtractState())
    [snapshot] = result.account_snapshots
    assert snapshot["followers"] == 188153913 and snapshot["likes"] == 188230000
    assert snapshot["platform_id"] == PAGE_ID and snapshot["snapshot_date"] == RUN_DATE
    # page by handle when no id is known, by id when the registry or an earlier run knows it
    assert fake_platform.calls_to("/v24.0/")[0].query["ids"] == "facebookapp"
    fake_platform.requests.clear()
    state = ExtractState(platform_ids={"facebook:facebookapp": PAGE_ID})
    facebook.extract(make_client(), conn(fake_platform), [account("facebookapp")], RUN_DATE, state)
    assert fake_platform.calls_to("/v24.0/")[0].query["ids"] == PAGE_ID


def test_posts_are_paged_by_cursor_and_mapped(fake_platform, make_client):
    serve_page(fake_platform)
    result = facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)],
                              RUN_DATE, ExtractState())
    post_calls = fake_platform.calls_to(r"/v24.0/\d+/posts")
    assert len(post_calls) == 2
    assert "after" not in post_calls[0].query
    assert post_calls[1].query["after"] == "QVFIUkAfter1"
    assert post_calls[0].query["limit"] == "100"
    assert post_calls[0].query["fields"] == facebook.POST_FIELDS
    # first run: two years back (the backfill horizon)
    assert int(post_calls[0].query["since"]) == int(
        datetime(2024, 11, 26, tzinfo=UTC).timestamp())
    posts = {p["post_id"]: p for p in result.posts}
    assert set(posts) == {f"{PAGE_ID}_{n}" for n in ("1111", "7777", "3333", "4444")}
    first = posts[f"{PAGE_ID}_1111"]
    assert (first["reactions"], first["comments"], first["shares"]) == (120, 14, 9)
    assert first["published_at"] == datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    assert first["is_video"] is False and first["is_live"] is False
    assert posts[f"{PAGE_ID}_3333"]["shares"] == 0  # Graph omits "shares" when nobody shared
    # the token travels in a header, never in a URL
    assert all(TOKEN not in call.url for call in fake_platform.requests)
    assert all(call.headers["Authorization"] == f"Bearer {TOKEN}" for call in fake_platform.requests)


def test_first_run_without_backfill_horizon_reads_everything(fake_platform, make_client):
    serve_page(fake_platform)
    facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)], RUN_DATE,
                     ExtractState(backfill_days=None))
    assert "since" not in fake_platform.calls_to(r"/v24.0/\d+/posts")[0].query


def test_live_videos_flag_their_posts(fake_platform, make_client):
    serve_page(fake_platform)
    result = facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)],
                              RUN_DATE, ExtractState())
    posts = {p["post_id"]: p for p in result.posts}
    assert posts[f"{PAGE_ID}_7777"]["is_live"] is True
    assert posts[f"{PAGE_ID}_7777"]["is_video"] is True
    assert posts[f"{PAGE_ID}_3333"]["is_video"] is True
    assert posts[f"{PAGE_ID}_3333"]["is_live"] is False
    assert len(fake_platform.calls_to(r"/v24.0/\d+/live_videos")) == 1


def test_live_videos_are_not_asked_for_pages_without_videos(fake_platform, make_client):
    photos_only = load_fixture("facebook/posts_page2.json")
    photos_only["data"] = [photos_only["data"][1]]
    serve_page(fake_platform, posts=photos_only)
    facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)], RUN_DATE,
                     ExtractState())
    assert fake_platform.calls_to(r"/v24.0/\d+/live_videos") == []


@pytest.mark.parametrize(("last_post_days_ago", "since_days_ago"), [(2, 30), (100, 100)])
def test_since_is_the_earlier_of_last_post_and_settling_window(
        fake_platform, make_client, last_post_days_ago, since_days_ago):
    serve_page(fake_platform)
    midnight = datetime(2026, 11, 26, tzinfo=UTC)
    state = ExtractState(last_post_at={
        "facebook:facebookapp": midnight - timedelta(days=last_post_days_ago)})
    facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)], RUN_DATE, state)
    since = int(fake_platform.calls_to(r"/v24.0/\d+/posts")[0].query["since"])
    assert since == int((midnight - timedelta(days=since_days_ago)).timestamp())


def test_posts_seen_in_the_window_and_no_longer_returned_are_deletions(fake_platform, make_client):
    serve_page(fake_platform)
    window_start = datetime(2026, 10, 27, tzinfo=UTC)
    known = {
        (f"{PAGE_ID}_1111", datetime(2026, 11, 25, 9, 30, tzinfo=UTC)),  # still there
        (f"{PAGE_ID}_5555", datetime(2026, 11, 15, tzinfo=UTC)),  # gone
    }
    state = ExtractState(last_post_at={"facebook:facebookapp": datetime(2026, 11, 25, tzinfo=UTC)},
                         known_post_ids={"facebook:facebookapp": known},
                         post_last_seen={f"{PAGE_ID}_5555": date(2026, 11, 25)})
    skipped = load_fixture("facebook/posts_page2.json")["data"][1] | {"id": f"{PAGE_ID}_6666"}
    state.known_post_ids["facebook:facebookapp"].add(
        (f"{PAGE_ID}_6666", datetime(2026, 11, 1, 12, tzinfo=UTC)))
    fake_platform.route(rf"/v24.0/{PAGE_ID}_5555", (400, ERRORS["object_gone"]))
    fake_platform.route(rf"/v24.0/{PAGE_ID}_6666", skipped)
    result = facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)],
                              RUN_DATE, state)
    assert int(fake_platform.calls_to(r"/v24.0/\d+/posts")[0].query["since"]) == int(
        window_start.timestamp())
    assert result.post_deletions == [{
        "account_id": "facebook:facebookapp", "platform": "facebook",
        "post_id": f"{PAGE_ID}_5555", "last_seen_on": date(2026, 11, 25),
        "detected_on": RUN_DATE}]
    # missing from the listing but still there when asked for: a post, not a deletion
    assert f"{PAGE_ID}_6666" in {p["post_id"] for p in result.posts}
    assert fake_platform.calls_to(rf"/v24.0/{PAGE_ID}_1111") == []


def test_a_looping_cursor_stops_paging_and_skips_deletions(fake_platform, make_client, caplog):
    looping = load_fixture("facebook/posts_page1.json")
    serve_page(fake_platform, posts=looping)
    state = ExtractState(known_post_ids={"facebook:facebookapp": {
        (f"{PAGE_ID}_9999", datetime(2026, 11, 20, tzinfo=UTC))}})
    result = facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)],
                              RUN_DATE, state)
    assert len(fake_platform.calls_to(r"/v24.0/\d+/posts")) == 2
    assert result.post_deletions == []  # paging incomplete: absence proves nothing
    assert result.outcomes["facebook:facebookapp"][0] == "ok"
    assert "cursor repeats" in caplog.text


def test_a_page_larger_than_asked_fails_the_account_loudly(fake_platform, make_client):
    huge = load_fixture("facebook/posts_page2.json")
    huge["data"] = [copy.deepcopy(huge["data"][0]) | {"id": f"{PAGE_ID}_{i}"}
                    for i in range(101)]
    serve_page(fake_platform, posts=huge)
    result = facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)],
                              RUN_DATE, ExtractState())
    status, reason, *_ = result.outcomes["facebook:facebookapp"]
    assert status == "failed" and "101 posts" in reason
    assert result.posts == []


def test_expired_token_stops_the_platform(fake_platform, make_client):
    fake_platform.route("/v24.0/", (400, ERRORS["expired_token"]))
    accounts = [account("a", "1"), account("b", "2")]
    client = make_client()
    result = facebook.extract(client, conn(fake_platform), accounts, RUN_DATE, ExtractState())
    assert result.stopped_by is not None and result.stopped_by.stops_platform
    assert "Session has expired" in result.stopped_by.reason
    assert client.calls == 1  # never retried


def test_unknown_alias_in_a_batch_marks_it_gone_and_reads_the_rest(fake_platform, make_client):
    def counts(request):
        if "nosuchpage" in request.query["ids"].split(","):
            return (404, ERRORS["unknown_alias"])
        return pages_by_ids(request)

    fake_platform.route("/v24.0/", counts)
    fake_platform.route(r"/v24.0/\d+/posts", {"data": []})
    accounts = [account("nosuchpage"), account("realpage", "42")]
    result = facebook.extract(make_client(), conn(fake_platform), accounts, RUN_DATE, ExtractState())
    assert result.outcomes["facebook:nosuchpage"][0] == "gone"
    assert result.outcomes["facebook:realpage"][0] == "ok"
    assert [s["account_id"] for s in result.account_snapshots] == ["facebook:realpage"]


def test_object_gone_on_posts_marks_the_account_gone(fake_platform, make_client):
    serve_page(fake_platform, posts=(400, ERRORS["object_gone"]))
    result = facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)],
                              RUN_DATE, ExtractState())
    assert result.outcomes["facebook:facebookapp"][0] == "gone"


def test_missing_permission_marks_that_account_private_with_the_platform_message(fake_platform, make_client):
    def posts(request):
        if "/111/" in request.url:
            return (403, ERRORS["permission"])
        return {"data": []}

    serve_page(fake_platform, posts=posts)
    client = make_client()
    result = facebook.extract(client, conn(fake_platform), [account("a", "111"), account("b", "222")],
                              RUN_DATE, ExtractState())
    status, reason, *_ = result.outcomes["facebook:a"]
    assert status == "private" and "Page Public Content Access" in reason
    assert result.outcomes["facebook:b"][0] == "ok"
    assert result.stopped_by is None
    assert client.retries == 0


def test_permission_missing_for_the_counts_stops_the_platform(fake_platform, make_client):
    fake_platform.route("/v24.0/", (403, ERRORS["permission"]))
    result = facebook.extract(make_client(), conn(fake_platform), [account("a", "1")], RUN_DATE,
                              ExtractState())
    assert result.stopped_by is not None and result.stopped_by.stops_platform


def test_throttling_and_temporary_errors_are_retried(fake_platform, make_client, sleeps):
    fake_platform.route("/v24.0/", (400, ERRORS["app_limit"]), (500, ERRORS["temporary"]), pages_by_ids)
    fake_platform.route(r"/v24.0/\d+/posts", {"data": []})
    client = make_client(backoff_base=1.0)
    result = facebook.extract(client, conn(fake_platform), [account("a", "1")], RUN_DATE, ExtractState())
    assert result.outcomes["facebook:a"][0] == "ok"
    assert sleeps == [1.0, 2.0]


def test_temporarily_blocked_gives_up_for_the_run_without_hammering(fake_platform, make_client,
                                                                      sleeps):
    serve_page(fake_platform, posts=(400, ERRORS["blocked"]))
    client = make_client(backoff_max=60.0)
    result = facebook.extract(client, conn(fake_platform), [account("a", "1")], RUN_DATE, ExtractState())
    status, reason, *_ = result.outcomes["facebook:a"]
    assert status == "failed" and "temporarily blocked" in reason
    assert sleeps == [] and len(fake_platform.calls_to(r"/v24.0/\d+/posts")) == 1


def insights_for_window(request):
    """page_follows for each day of [since, until): end_time is the next day, 08:00 UTC."""
    since = datetime.fromtimestamp(int(request.query["since"]), UTC)
    until = datetime.fromtimestamp(int(request.query["until"]), UTC)
    body = load_fixture("facebook/insights_page_follows.json")
    values, day = [], since
    while day < until:
        end = (day + timedelta(days=1)).replace(hour=8)
        values.append({"value": 1000 + (day.date() - date(2024, 1, 1)).days,
                       "end_time": end.strftime("%Y-%m-%dT%H:%M:%S+0000")})
        day += timedelta(days=1)
    body["data"][0]["values"] = values
    return body


def test_follower_history_backfills_two_years_in_90_day_windows(fake_platform, make_client):
    serve_page(fake_platform, posts={"data": []})
    fake_platform.route(r"/v24.0/\d+/insights", insights_for_window)
    result = facebook.extract(make_client(), conn(fake_platform, insights=True),
                              [account("facebookapp", PAGE_ID)], RUN_DATE, ExtractState())
    calls = fake_platform.calls_to(r"/v24.0/\d+/insights")
    assert len(calls) == 9  # 730 days / 90
    spans = [(int(c.query["until"]) - int(c.query["since"])) / 86400 for c in calls]
    assert max(spans) <= 90 and sum(spans) == 730
    assert calls[0].query["metric"] == "page_follows"
    days = [row["day"] for row in result.follower_history]
    assert len(days) == len(set(days)) == 730
    assert min(days) == RUN_DATE - timedelta(days=730) and max(days) == RUN_DATE - timedelta(1)
    row = result.follower_history[-1]
    assert row["followers"] == 1000 + (row["day"] - date(2024, 1, 1)).days
    assert row["metric"] == "page_follows"


def test_follower_history_reads_only_recent_days_after_the_backfill(fake_platform, make_client):
    serve_page(fake_platform, posts={"data": []})
    fake_platform.route(r"/v24.0/\d+/insights", insights_for_window)
    state = ExtractState(history_through={"facebook:facebookapp": RUN_DATE - timedelta(1)})
    result = facebook.extract(make_client(), conn(fake_platform, insights=True),
                              [account("facebookapp", PAGE_ID)], RUN_DATE, state)
    assert len(fake_platform.calls_to(r"/v24.0/\d+/insights")) == 1
    assert {r["day"] for r in result.follower_history} == {
        RUN_DATE - timedelta(days=n) for n in (1, 2, 3)}


def test_no_insights_calls_without_the_connection_saying_so(fake_platform, make_client):
    serve_page(fake_platform, posts={"data": []})
    fake_platform.route(r"/v24.0/\d+/insights", insights_for_window)
    facebook.extract(make_client(), conn(fake_platform), [account("facebookapp", PAGE_ID)], RUN_DATE,
                     ExtractState())
    assert fake_platform.calls_to(r"/v24.0/\d+/insights") == []


def test_a_deprecated_metric_is_dropped_logged_once_and_the_run_goes_on(fake_platform, make_client,
                                                                         caplog):
    serve_page(fake_platform, posts={"data": []})
    fake_platform.route(r"/v24.0/\d+/insights", (400, ERRORS["invalid_metric"]))
    accounts = [account("a", "1"), account("b", "2")]
    result = facebook.extract(make_client(), conn(fake_platform, insights=True), accounts, RUN_DATE,
                              ExtractState())
    assert len(fake_platform.calls_to(r"/v24.0/\d+/insights")) == 1
    assert caplog.text.count("no longer offered") == 1
    assert {o[0] for o in result.outcomes.values()} == {"ok"}
    assert result.follower_history == [] and len(result.account_snapshots) == 2


def test_one_refused_page_in_a_batch_is_isolated_by_splitting(fake_platform, make_client):
    def counts(request):
        if "2" in request.query["ids"].split(","):
            return (403, ERRORS["permission"])
        return pages_by_ids(request)

    fake_platform.route("/v24.0/", counts)
    fake_platform.route(r"/v24.0/\d+/posts", {"data": []})
    accounts = [account(h, pid) for h, pid in (("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"))]
    result = facebook.extract(make_client(), conn(fake_platform), accounts, RUN_DATE, ExtractState())
    # the refusal names Page Public Content Access: asked once without the posts edge (still
    # refused, so a page is the cause), then the batch is split
    assert [c.query["ids"] for c in fake_platform.calls_to("/v24.0/")] == [
        "1,2,3,4", "1,2,3,4", "1,2", "1", "2", "3,4"]
    status, reason, *_ = result.outcomes["facebook:b"]
    assert status == "private" and "(#10)" in reason
    assert {result.outcomes[f"facebook:{h}"][0] for h in "acd"} == {"ok"}
    assert result.stopped_by is None
    assert sum(o[2] for o in result.outcomes.values()) == len(fake_platform.requests)


def test_every_page_refused_is_a_platform_wide_permission_failure(fake_platform, make_client):
    fake_platform.route("/v24.0/", (403, ERRORS["permission"]))
    result = facebook.extract(make_client(), conn(fake_platform), [account("a", "1"), account("b", "2")],
                              RUN_DATE, ExtractState())
    assert result.stopped_by is not None and result.stopped_by.stops_platform
    assert "every page refused" in result.stopped_by.reason


def page_with_posts(ident: str, posts: dict) -> dict:
    page = load_fixture("facebook/page.json")
    return {**page, "id": ident, "username": ident, "posts": posts}


def test_first_posts_page_rides_in_the_counts_call_across_pages(fake_platform, make_client):
    first = load_fixture("facebook/posts_page1.json")  # has paging.next: one more page
    no_posts = {"data": []}

    def ids(request):
        assert ".since(" in request.query["fields"] and "posts" in request.query["fields"]
        return {ident: page_with_posts(ident, first if ident == "11" else no_posts)
                for ident in request.query["ids"].split(",")}

    fake_platform.route("/v24.0/", ids)
    fake_platform.route(r"/v24.0/\d+/posts", lambda request: load_fixture(
        "facebook/posts_page2.json"))
    fake_platform.route(r"/v24.0/\d+/live_videos", load_fixture("facebook/live_videos.json"))
    accounts = [account(f"page{i}", str(i)) for i in range(11, 14)]
    client = make_client(secrets=[TOKEN])
    result = facebook.extract(client, conn(fake_platform), accounts, RUN_DATE, ExtractState())

    post_calls = fake_platform.calls_to(r"/v24.0/\d+/posts")
    # only the page whose first page said more follows up, from its cursor
    assert [(c.path, c.query.get("after") is not None) for c in post_calls] == [
        ("/v24.0/11/posts", True)]
    page2 = load_fixture("facebook/posts_page2.json")
    assert {r["post_id"] for r in result.posts} == {p["id"] for p in first["data"] + page2["data"]}
    assert {o.status for o in result.outcomes.values()} == {"ok"}
    assert sum(o.calls for o in result.outcomes.values()) == client.calls


def test_a_refused_posts_edge_keeps_the_counts_and_reads_posts_page_by_page(fake_platform,
                                                                          make_client):
    def ids(request):
        if "posts" in request.query["fields"]:
            return 403, {"error": {"code": 10, "message": "(#10) This endpoint requires the "
                                   "'pages_read_engagement' permission or the 'Page Public "
                                   "Content Access' feature"}}
        return pages_by_ids(request)

    fake_platform.route("/v24.0/", ids)
    fake_platform.route(r"/v24.0/\d+/posts", {"data": []})
    accounts = [account(f"page{i}", str(i)) for i in range(11, 14)]
    result = facebook.extract(make_client(), conn(fake_platform), accounts, RUN_DATE,
                              ExtractState())
    assert len(result.account_snapshots) == 3 and result.stopped_by is None
    assert len(fake_platform.calls_to("/v24.0/")) == 2
    assert len(fake_platform.calls_to(r"/v24.0/\d+/posts")) == 3
