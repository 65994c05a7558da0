"""X extractor against documented API v2 bodies served on loopback."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta

import pytest
from platform_api_fakes import load_fixture

from agency_pulse.connections import PlatformConnection
from agency_pulse.errors import InvalidToken, PermissionDenied, QuotaExhausted
from agency_pulse.extract import ExtractState
from agency_pulse.extractors import x
from agency_pulse.http_client import ApiClient
from agency_pulse.registry import Account

RUN_DATE = date(2026, 11, 26)
PREFIX = "/api.x.com/2"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAcanaryXbearer%2Ftoken"
CLOCK = 1_800_000_000.0


def user_object(n: int, username: str) -> dict:
    user = copy.deepcopy(load_fixture("x/users_by.json")["data"][0])
    user.update(id=str(1000 + n), username=username, name=f"Agency {n}")
    user["public_metrics"]["followers_count"] = 1000 + n
    return user


def tweet(tid: int, created_at: datetime, *, media: str | None = None, likes: int = 129) -> dict:
    template = load_fixture("x/user_tweets.json")["data"][0 if media else 1]
    item = copy.deepcopy(template)
    item.update(id=str(tid), created_at=created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    item["public_metrics"]["like_count"] = likes
    if media:
        item["attachments"] = {"media_keys": [f"3_{tid}"]}
        item["_media_type"] = media
    return item


class FakeX:
    def __init__(self, platform):
        self.users: dict[str, dict] = {}
        self.timelines: dict[str, list[dict]] = {}    # user id -> tweets, newest first
        self.suspended: set[str] = set()
        self.fail: dict[str, list[tuple]] = {}
        self.page_size_seen: list[int] = []
        platform.route(PREFIX + "/users/by", self.users_by)
        self.platform = platform

    def add_user(self, n: int, username: str, tweets: list[dict] = ()) -> dict:
        user = user_object(n, username)
        self.users[username.lower()] = user
        self.timelines[user["id"]] = list(tweets)
        self.platform.route(f"{PREFIX}/users/{user['id']}/tweets", self.user_tweets)
        return user

    def _failure(self, name):
        answers = self.fail.get(name)
        return answers.pop(0) if answers else None

    def users_by(self, request):
        if failure := self._failure("users/by"):
            return failure
        assert request.query["user.fields"] == "public_metrics,created_at,verified"
        names = request.query["usernames"].split(",")
        assert len(names) <= 100
        body = {"data": [self.users[n.lower()] for n in names
                         if n.lower() in self.users and n not in self.suspended]}
        errors = []
        template = load_fixture("x/users_by.json")["errors"]
        for name in names:
            if name in self.suspended:
                errors.append({**template[1], "value": name, "resource_id": name,
                               "detail": f"User has been suspended: [{name}]."})
            elif name.lower() not in self.users:
                errors.append({**template[0], "value": name, "resource_id": name,
                               "detail": f"Could not find user with usernames: [{name}]."})
        if errors:
            body["errors"] = errors
        if not body["data"]:
            del body["data"]
        return 200, body

    def user_tweets(self, request):
        if failure := self._failure("tweets"):
            return failure
        user_id = request.path.split("/")[-2]
        tweets = self.timelines[user_id][:x.REACHABLE_POSTS]
        if "start_time" in request.query:
            start = datetime.fromisoformat(request.query["start_time"].replace("Z", "+00:00"))
            tweets = [t for t in tweets
                      if datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= start]
        size = int(request.query["max_results"])
        offset = int(request.query.get("pagination_token", "0"))
        page = tweets[offset:offset + size]
        media = [{"media_key": k, "type": t["_media_type"]} for t in page
                 for k in (t.get("attachments") or {}).get("media_keys", [])]
        data = [{k: v for k, v in t.items() if k != "_media_type"} for t in page]
        meta = {"result_count": len(data)}
        if data:
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        if offset + size < len(tweets):
            meta["next_token"] = str(offset + size)
        body = {"meta": meta}
        if data:
            body["data"] = data
        if media:
            body["includes"] = {"media": media}
        return 200, body


@pytest.fixture
def api(fake_platform):
    return FakeX(fake_platform)


@pytest.fixture
def conn(fake_platform):
    return PlatformConnection("x", fake_platform.url + PREFIX, TOKEN, {}, "sandbox")


def make_client(sleeps):
    return ApiClient("x", secrets=[TOKEN], sleep=sleeps.append, max_retries=2,
                     clock=lambda: CLOCK, jitter=lambda: 0.0, backoff_max=900)


def account(handle: str) -> Account:
    return Account(agency_id="culture", platform="x", handle=handle)


def test_120_accounts_take_two_users_by_calls(api, conn, fake_platform, sleeps):
    accounts = []
    for n in range(120):
        api.add_user(n, f"Agency{n}")
        accounts.append(account(f"agency{n}"))  # registry case differs from X's

    result = x.extract(make_client(sleeps), conn, accounts, RUN_DATE, ExtractState())

    calls = fake_platform.calls_to(PREFIX + "/users/by")
    assert [len(c.query["usernames"].split(",")) for c in calls] == [100, 20]
    assert len(result.account_snapshots) == 120
    assert {o[0] for o in result.outcomes.values()} == {"ok"}
    # each account: its share of 2 batched calls + 1 timeline call; the sum is preserved
    assert sum(o[2] for o in result.outcomes.values()) == 2 + 120
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in fake_platform.requests)


def test_snapshot_fields(api, conn, sleeps):
    api.add_user(7, "XDevelopers")

    result = x.extract(make_client(sleeps), conn, [account("xdevelopers")], RUN_DATE,
                       ExtractState())

    [row] = result.account_snapshots
    assert (row["platform_id"], row["name"], row["followers"], row["followers_rounding"],
            row["posts_total"]) == ("1007", "Agency 7", 1007, None, 14052)
    assert row["account_id"] == "x:xdevelopers" and row["snapshot_date"] == RUN_DATE


def test_missing_and_suspended_users_are_gone_with_x_words(api, conn, sleeps):
    api.add_user(1, "present")
    api.add_user(2, "suspendedagency")
    api.suspended.add("suspendedagency")
    accounts = [account("present"), account("nosuchuser404"), account("suspendedagency")]

    result = x.extract(make_client(sleeps), conn, accounts, RUN_DATE, ExtractState())

    assert result.outcomes["x:present"][0] == "ok"
    assert result.outcomes["x:nosuchuser404"][:2] == (
        "gone", "Could not find user with usernames: [nosuchuser404].")
    assert result.outcomes["x:suspendedagency"][:2] == (
        "gone", "User has been suspended: [suspendedagency].")
    assert [r["handle"] for r in result.account_snapshots] == ["present"]


def test_posts_paged_by_next_token_from_the_settling_window(api, conn, fake_platform, sleeps):
    newest = datetime(2026, 11, 25, 23, tzinfo=UTC)
    tweets = [tweet(9000 - n, newest - timedelta(hours=6 * n),
                    media=("video" if n == 1 else "animated_gif" if n == 2
                           else "photo" if n == 3 else None))
              for n in range(400)]
    user = api.add_user(1, "culture", tweets)
    state = ExtractState(last_post_at={"x:culture": newest})

    result = x.extract(make_client(sleeps), conn, [account("culture")], RUN_DATE, state)

    pages = fake_platform.calls_to(f"{PREFIX}/users/{user['id']}/tweets")
    assert {p.query["start_time"] for p in pages} == {"2026-10-27T00:00:00Z"}
    assert [p.query.get("pagination_token") for p in pages] == [None, "100"]
    assert all(p.query["expansions"] == "attachments.media_keys" for p in pages)
    since = datetime(2026, 10, 27, tzinfo=UTC)
    expected = {t["id"] for t in tweets
                if datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= since}
    assert {r["post_id"] for r in result.posts} == expected and len(expected) == 120
    by_id = {r["post_id"]: r for r in result.posts}
    assert [by_id[str(9000 - n)]["is_video"] for n in range(5)] == [False, True, True, False,
                                                                     False]
    row = by_id["9000"]
    assert (row["reactions"], row["comments"], row["shares"], row["views"]) == (129, 0, 3, 3120)
    assert row["permalink"] == "https://x.com/culture/status/9000"


def test_first_run_reads_the_reachable_history_and_notes_the_3200_limit(api, conn,
                                                                         fake_platform, sleeps):
    start = datetime(2026, 11, 25, tzinfo=UTC)
    tweets = [tweet(100_000 - n, start - timedelta(hours=n)) for n in range(3300)]
    user = api.add_user(1, "busy", tweets)
    user["public_metrics"]["tweet_count"] = 3300

    result = x.extract(make_client(sleeps), conn, [account("busy")], RUN_DATE,
                       ExtractState(backfill_days=None))

    pages = fake_platform.calls_to(f"{PREFIX}/users/{user['id']}/tweets")
    assert len(pages) == 32 and "start_time" not in pages[0].query
    assert len(result.posts) == 3200
    status, reason, calls, _ = result.outcomes["x:busy"]
    assert status == "ok" and "3,200" in reason and calls == 33


def test_the_3200_limit_inside_the_backfill_skips_deletion_checks(api, conn, sleeps):
    start = datetime(2026, 11, 25, tzinfo=UTC)
    api.add_user(1, "busy", [tweet(100_000 - n, start - timedelta(hours=n))
                             for n in range(3300)])
    known = {("1", datetime(2026, 11, 1, tzinfo=UTC))}  # not returned, but not provably gone
    state = ExtractState(backfill_days=730, known_post_ids={"x:busy": known})

    result = x.extract(make_client(sleeps), conn, [account("busy")], RUN_DATE, state)

    status, reason, *_ = result.outcomes["x:busy"]
    assert status == "ok" and "deletions not checked" in reason
    assert result.post_deletions == []


def test_deletions_in_the_settling_window(api, conn, sleeps):
    newest = datetime(2026, 11, 24, tzinfo=UTC)
    api.add_user(1, "culture", [tweet(500, newest)])
    known = {("500", newest), ("499", newest - timedelta(days=1)),
             ("100", datetime(2025, 1, 1, tzinfo=UTC))}
    state = ExtractState(last_post_at={"x:culture": newest},
                         known_post_ids={"x:culture": known})

    result = x.extract(make_client(sleeps), conn, [account("culture")], RUN_DATE, state)

    assert [(d["post_id"], d["detected_on"]) for d in result.post_deletions] == [
        ("499", RUN_DATE)]


def test_rate_limit_waits_until_x_rate_limit_reset(api, conn, sleeps):
    api.add_user(1, "culture")
    api.fail["users/by"] = [(429, load_fixture("x/error_429.json"),
                             {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "0",
                              "x-rate-limit-reset": str(int(CLOCK) + 42)})]

    result = x.extract(make_client(sleeps), conn, [account("culture")], RUN_DATE,
                       ExtractState())

    assert sleeps == [42.0]
    assert result.outcomes["x:culture"][0] == "ok"


def test_access_tier_453_stops_the_platform_with_x_message(api, conn, sleeps):
    api.add_user(1, "culture")
    api.fail["tweets"] = [(403, load_fixture("x/error_453.json"))]

    result = x.extract(make_client(sleeps), conn, [account("culture"), account("other")],
                       RUN_DATE, ExtractState())

    error = result.stopped_by
    assert isinstance(error, PermissionDenied) and error.platform_wide
    assert "453" in error.reason and "different access level" in error.reason
    assert result.outcomes["x:culture"][0] == "failed"
    assert [r["handle"] for r in result.account_snapshots] == ["culture"]  # counts came first


def test_bad_token_stops_the_platform(api, conn, sleeps):
    api.fail["users/by"] = [(401, load_fixture("x/error_401.json"))]

    result = x.extract(make_client(sleeps), conn, [account("culture")], RUN_DATE,
                       ExtractState())

    assert isinstance(result.stopped_by, InvalidToken)
    assert TOKEN not in str(result.stopped_by) and sleeps == []


def test_other_403_marks_only_that_account_private(api, conn, sleeps):
    api.add_user(1, "culture")
    api.add_user(2, "other")
    api.fail["tweets"] = [(403, {"title": "Forbidden", "detail": "Authorization Error",
                                 "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"})]

    result = x.extract(make_client(sleeps), conn, [account("culture"), account("other")],
                       RUN_DATE, ExtractState())

    assert result.stopped_by is None
    assert result.outcomes["x:culture"][0] == "private"
    assert result.outcomes["x:other"][0] == "ok"
    assert len(result.account_snapshots) == 2


def test_malformed_metrics_never_become_zero(api, conn, sleeps):
    user = api.add_user(1, "culture")
    del user["public_metrics"]["followers_count"]

    result = x.extract(make_client(sleeps), conn, [account("culture")], RUN_DATE,
                       ExtractState())

    assert result.outcomes["x:culture"][0] == "failed"
    assert result.account_snapshots == []


def test_classify_453_only_as_a_code_not_inside_other_numbers():
    class Response:
        status_code = 403

    tier = x.classify(Response(), {"title": "Client Forbidden",
                                   "detail": "error 453: access level", "type": "about:blank"})
    assert isinstance(tier, PermissionDenied) and tier.platform_wide
    other = x.classify(Response(), {"title": "Forbidden", "detail": "user 14530 is protected"})
    assert isinstance(other, PermissionDenied) and not other.platform_wide


def test_an_invalid_username_fails_alone_and_is_never_sent(api, conn, fake_platform, sleeps):
    api.add_user(1, "culture")

    result = x.extract(make_client(sleeps), conn, [account("culture"), account("not.valid")],
                       RUN_DATE, ExtractState())

    [call] = fake_platform.calls_to(PREFIX + "/users/by")
    assert call.query["usernames"] == "culture"
    assert result.outcomes["x:culture"][0] == "ok"
    status, reason, calls, _ = result.outcomes["x:not.valid"]
    assert status == "failed" and "not a valid X username" in reason and calls == 0


def test_a_quiet_account_is_read_back_to_its_last_known_post(api, conn, fake_platform, sleeps):
    last = datetime(2026, 8, 18, 9, 30, tzinfo=UTC)  # 100 days before the run
    user = api.add_user(1, "quiet", [tweet(77, last)])
    state = ExtractState(last_post_at={"x:quiet": last})

    result = x.extract(make_client(sleeps), conn, [account("quiet")], RUN_DATE, state)

    [page] = fake_platform.calls_to(f"{PREFIX}/users/{user['id']}/tweets")
    assert page.query["start_time"] == "2026-08-18T09:30:00Z"
    assert [r["post_id"] for r in result.posts] == ["77"]  # activity status keeps its last post


def test_the_monthly_usage_cap_stops_the_platform_without_retrying(api, conn, fake_platform,
                                                                   sleeps):
    api.add_user(1, "culture")
    api.fail["users/by"] = [(429, {"title": "UsageCapExceeded",
                                   "detail": "Usage cap exceeded: Monthly product cap",
                                   "type": "https://api.twitter.com/2/problems/usage-capped",
                                   "period": "Monthly", "scope": "Product"})]

    result = x.extract(make_client(sleeps), conn, [account("culture")], RUN_DATE,
                       ExtractState())

    assert isinstance(result.stopped_by, QuotaExhausted)
    assert "Monthly product cap" in result.stopped_by.reason
    assert sleeps == [] and len(fake_platform.requests) == 1


def test_retweets_quotes_and_replies_are_told_apart(api, conn, fake_platform, sleeps):
    """A retweet carries the original's metrics: it lands as post_type 'retweet' (the marts
    leave it out); quotes and replies are the account's own posts."""
    day = datetime(2026, 11, 20, 10, tzinfo=UTC)
    retweet = tweet(9004, day, likes=0) | {
        "referenced_tweets": [{"type": "retweeted", "id": "1"}]}
    retweet["public_metrics"]["retweet_count"] = 250  # the original's count, not ours
    quote = tweet(9003, day) | {"referenced_tweets": [{"type": "quoted", "id": "2"}]}
    reply = tweet(9002, day) | {"referenced_tweets": [{"type": "replied_to", "id": "3"}]}
    own = tweet(9001, day)
    api.add_user(1, "culture", [retweet, quote, reply, own])

    result = x.extract(make_client(sleeps), conn, [account("culture")], RUN_DATE,
                       ExtractState())

    types = {row["post_id"]: row["post_type"] for row in result.posts}
    assert types == {"9004": "retweet", "9003": "quote", "9002": "reply", "9001": "tweet"}
    [timeline_call] = fake_platform.calls_to(PREFIX + "/users/1001/tweets")
    assert "referenced_tweets" in timeline_call.query["tweet.fields"].split(",")
