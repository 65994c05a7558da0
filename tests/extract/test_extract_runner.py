"""run_platform: extract_log for every account, landing, reruns, state, stops, redaction."""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, date, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from platform_api_fakes import load_fixture

from agency_pulse import lake
from agency_pulse.connections import PlatformConnection
from agency_pulse.extract import PlatformRunFailed, build_state, run_platform
from agency_pulse.registry import parse_registry

RUN_DATE = date(2026, 11, 26)
CANARY = "EAAB-CANARY-9f8e7d"
ERRORS = load_fixture("facebook/errors.json")


def registry(*accounts):
    return parse_registry({"agencies": [{
        "id": "culture", "name": "Ministry of Culture",
        "accounts": [{"platform": "facebook", **a} for a in accounts]}]})


REGISTRY = registry({"handle": "culture.page", "platform_id": "111"},
                    {"handle": "museum.page", "platform_id": "222"},
                    {"handle": "old.page", "platform_id": "333", "active_to": "2020-01-01"})


def conn(fake, **extra):
    return PlatformConnection("facebook", fake.url + "/v24.0", token=CANARY, extra=extra, source="airflow")


def pages(request):
    return {ident: {**load_fixture("facebook/page.json"), "id": ident}
            for ident in request.query["ids"].split(",")}


def posts_for(page_id):
    body = load_fixture("facebook/posts_page2.json")
    for post in body["data"]:
        post["id"] = f"{page_id}_{post['id'].rsplit('_', 1)[1]}"
    return body


def serve(fake_platform, posts=None):
    fake_platform.route("/v24.0/", pages)
    fake_platform.route(r"/v24.0/\d+/posts", posts or (
        lambda request: posts_for(request.url.split("/v24.0/")[1].split("/")[0])))
    fake_platform.route(r"/v24.0/\d+/live_videos", {"data": []})


def read_landed(dataset, day=RUN_DATE):
    from agency_pulse import config

    return lake.read_dataset(dataset, root=config.paths().landing, platform="facebook")


def test_every_account_gets_one_extract_log_row_and_datasets_land(
        pulse_home, fake_platform, make_client):
    serve(fake_platform)
    summary = run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                           run_id="test-run", client=make_client())
    log_rows = {r["account_id"]: r for r in read_landed("extract_log").to_pylist()}
    assert set(log_rows) == {"facebook:culture.page", "facebook:museum.page", "facebook:old.page"}
    assert log_rows["facebook:culture.page"]["status"] == "ok"
    assert log_rows["facebook:old.page"]["status"] == "skipped"
    assert log_rows["facebook:old.page"]["reason"] == "inactive on 2026-11-26"
    assert log_rows["facebook:culture.page"]["run_id"] == "test-run"
    assert sum(r["calls"] for r in log_rows.values()) == summary["calls"] == 1 + 2 + 2
    assert summary["statuses"] == {"ok": 2, "skipped": 1}
    assert summary["rows"]["posts"] == 4 and summary["rows"]["account_snapshots"] == 2
    assert read_landed("posts").num_rows == 4
    assert read_landed("account_snapshots").num_rows == 2
    landing = pulse_home.landing / "posts" / "platform=facebook" / "date=2026-11-26"
    assert [p.name for p in landing.iterdir()] == ["part-all.parquet"]
    assert summary["raw"] and "raw/platform=facebook/date=2026-11-26" in summary["raw"]
    # nothing to report yet: no empty files for datasets without rows
    assert "post_deletions" not in summary["files"]


def test_a_rerun_of_the_same_day_replaces_never_adds(pulse_home, fake_platform, make_client):
    serve(fake_platform)
    run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform), client=make_client())
    run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform), client=make_client())
    assert read_landed("posts").num_rows == 4
    assert read_landed("extract_log").num_rows == 3


def test_no_connection_skips_every_account_with_one_log_line(pulse_home, monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_AGENCY_PULSE_FACEBOOK", raising=False)
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "none")
    caplog.set_level(logging.INFO, logger="agency_pulse")
    summary = run_platform("facebook", RUN_DATE, registry=REGISTRY)
    rows = read_landed("extract_log").to_pylist()
    assert {r["status"] for r in rows} == {"skipped"}
    assert {r["reason"] for r in rows} == {"no connection for facebook", "inactive on 2026-11-26"}
    assert {r["source"] for r in rows} == {None}  # no connection: nothing to say it came from
    assert summary["calls"] == 0 and summary["statuses"] == {"skipped": 3}
    assert len([r for r in caplog.records if "no connection" in r.getMessage()]) == 1


def test_an_expired_token_lands_the_log_then_raises(pulse_home, fake_platform, make_client):
    serve(fake_platform)
    fake_platform.route("/v24.0/", (400, ERRORS["expired_token"]))
    with pytest.raises(PlatformRunFailed) as failure:
        run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                     client=make_client())
    summary = failure.value.summary
    assert "Session has expired" in summary["stopped_by"]
    rows = {r["account_id"]: r for r in read_landed("extract_log").to_pylist()}
    assert rows["facebook:culture.page"]["status"] == "failed"
    assert "Session has expired" in rows["facebook:museum.page"]["reason"]
    assert rows["facebook:old.page"]["status"] == "skipped"


def test_a_stop_midway_keeps_what_succeeded(pulse_home, fake_platform, make_client):
    def posts(request):
        if "/222/" in request.url:
            return (400, ERRORS["expired_token"])
        return posts_for("111")

    serve(fake_platform, posts=posts)
    reg = registry({"handle": "culture.page", "platform_id": "111"},
                   {"handle": "museum.page", "platform_id": "222"},
                   {"handle": "third.page", "platform_id": "444"})
    with pytest.raises(PlatformRunFailed):
        run_platform("facebook", RUN_DATE, registry=reg, connection=conn(fake_platform), client=make_client())
    rows = {r["account_id"]: r["status"] for r in read_landed("extract_log").to_pylist()}
    assert rows == {"facebook:culture.page": "ok", "facebook:museum.page": "failed",
                    "facebook:third.page": "failed"}
    assert set(read_landed("posts")["account_id"].to_pylist()) == {"facebook:culture.page"}


def test_account_level_failures_do_not_raise(pulse_home, fake_platform, make_client):
    def posts(request):
        return (400, ERRORS["object_gone"]) if "/222/" in request.url else posts_for("111")

    serve(fake_platform, posts=posts)
    summary = run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                           client=make_client())
    assert summary["statuses"] == {"ok": 1, "gone": 1, "skipped": 1}


def test_state_comes_from_the_accepted_lake_before_the_run_day(pulse_home):
    earlier = RUN_DATE - timedelta(days=1)
    fetched = datetime(2026, 11, 25, 6, tzinfo=UTC)
    rows = [
        {"account_id": "facebook:culture.page", "agency_id": "culture", "platform": "facebook",
         "post_id": "111_1", "published_at": datetime(2026, 11, 20, tzinfo=UTC),
         "fetched_on": earlier, "fetched_at": fetched},
        {"account_id": "facebook:culture.page", "agency_id": "culture", "platform": "facebook",
         "post_id": "111_0", "published_at": datetime(2026, 9, 1, tzinfo=UTC),
         "fetched_on": earlier, "fetched_at": fetched},
        {"account_id": "facebook:culture.page", "agency_id": "culture", "platform": "facebook",
         "post_id": "111_deleted", "published_at": datetime(2026, 11, 10, tzinfo=UTC),
         "fetched_on": date(2026, 11, 20), "fetched_at": fetched},
    ]
    lake.write_partition("posts", "facebook", earlier, lake.table_from_rows("posts", rows))
    lake.write_partition("post_deletions", "facebook", earlier, lake.table_from_rows(
        "post_deletions", [{"account_id": "facebook:culture.page", "platform": "facebook",
                            "post_id": "111_deleted", "last_seen_on": date(2026, 11, 20),
                            "detected_on": earlier}]))
    # the run day's own partition (an earlier run of the same day) must not count
    lake.write_partition("posts", "facebook", RUN_DATE, lake.table_from_rows("posts", [
        {**rows[0], "post_id": "111_today", "published_at": datetime(2026, 11, 26, tzinfo=UTC),
         "fetched_on": RUN_DATE}]))
    lake.write_partition("account_snapshots", "facebook", earlier, lake.table_from_rows(
        "account_snapshots", [{"snapshot_date": earlier, "account_id": "facebook:museum.page",
                               "platform": "facebook", "platform_id": "222",
                               "fetched_at": fetched}]))
    lake.write_partition("follower_history", "facebook", earlier, lake.table_from_rows(
        "follower_history", [{"account_id": "facebook:culture.page", "day": date(2026, 11, 24),
                              "followers": 5, "fetched_at": fetched}]))
    state = build_state("facebook", RUN_DATE)
    assert state.last_post_at == {"facebook:culture.page": datetime(2026, 11, 20, tzinfo=UTC)}
    assert state.known_post_ids == {"facebook:culture.page": {
        ("111_1", datetime(2026, 11, 20, tzinfo=UTC))}}
    assert state.post_last_seen == {"111_1": earlier}
    assert state.platform_ids == {"facebook:museum.page": "222"}
    assert state.history_through == {"facebook:culture.page": date(2026, 11, 24)}


def test_a_deletion_is_detected_end_to_end_from_the_lake(pulse_home, fake_platform, make_client):
    earlier = RUN_DATE - timedelta(days=1)
    vanished = {"account_id": "facebook:culture.page", "agency_id": "culture",
                "platform": "facebook", "post_id": "111_vanished",
                "published_at": datetime(2026, 11, 22, tzinfo=UTC), "fetched_on": earlier,
                "fetched_at": datetime(2026, 11, 25, 6, tzinfo=UTC)}
    lake.write_partition("posts", "facebook", earlier, lake.table_from_rows("posts", [vanished]))
    serve(fake_platform)
    fake_platform.route("/v24.0/111_vanished", (400, ERRORS["object_gone"]))
    run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform), client=make_client())
    since = int(fake_platform.calls_to(r"/v24.0/111/posts")[0].query["since"])
    assert since == int(datetime(2026, 10, 27, tzinfo=UTC).timestamp())
    deletions = read_landed("post_deletions").to_pylist()
    assert [(d["post_id"], d["last_seen_on"], d["detected_on"]) for d in deletions] == [
        ("111_vanished", earlier, RUN_DATE)]


def test_the_token_never_reaches_logs_archive_parquet_or_errors(
        pulse_home, fake_platform, make_client, caplog):
    def echo_error(request):
        return (400, {"error": {"message": f"Invalid OAuth access token {CANARY} for "
                                f"{request.url}", "type": "OAuthException", "code": 190}})

    def posts(request):
        if "/222/" in request.url:
            return (403, {"error": {"message": f"(#10) no access with {CANARY}", "code": 10}})
        body = posts_for("111")
        body["data"][0]["permalink_url"] += f"?access_token={CANARY}"
        return body

    caplog.set_level(logging.DEBUG)
    serve(fake_platform, posts=posts)
    reg = registry({"handle": "culture.page", "platform_id": "111"},
                   {"handle": "museum.page", "platform_id": "222"},
                   {"handle": "third.page", "platform_id": "444"})
    client = make_client()
    # the third page's posts answer echoes the token in an expired-token error
    fake_platform.route("/v24.0/444/posts", echo_error)
    with pytest.raises(PlatformRunFailed) as failure:
        run_platform("facebook", RUN_DATE, registry=reg, connection=conn(fake_platform), client=client)
    assert CANARY not in str(failure.value) and CANARY not in repr(failure.value.summary)
    assert CANARY not in caplog.text
    raw = gzip.open(failure.value.summary["raw"], "rt").read()
    assert "Invalid OAuth access token ***" in raw and CANARY not in raw
    for path in pulse_home.home.rglob("*.parquet"):
        assert CANARY.encode() not in path.read_bytes()
        assert CANARY not in str(pq.read_table(path).to_pylist())
    log_rows = read_landed("extract_log").to_pylist()
    assert any("***" in (r["reason"] or "") for r in log_rows)


def test_a_spent_budget_stops_the_platform_and_names_it(pulse_home, fake_platform, make_client):
    serve(fake_platform)
    with pytest.raises(PlatformRunFailed, match="budget of 3 units") as failure:
        run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                     client=make_client(), budget=3)
    assert failure.value.summary["calls"] == 3  # counts, then posts + live of one page
    rows = {r["account_id"]: r for r in read_landed("extract_log").to_pylist()}
    assert rows["facebook:culture.page"]["status"] == "ok"
    assert rows["facebook:museum.page"]["status"] == "failed"
    assert "budget" in rows["facebook:museum.page"]["reason"]


def test_an_extractor_bug_still_lands_the_log_and_fails_loudly(pulse_home, fake_platform, make_client,
                                                               monkeypatch):
    from agency_pulse.extractors import facebook

    def broken(*args):
        raise KeyError("followers_count")

    monkeypatch.setattr(facebook, "extract", broken)
    with pytest.raises(PlatformRunFailed, match="internal error KeyError") as failure:
        run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                     client=make_client())
    assert isinstance(failure.value.__cause__, KeyError)
    assert {r["status"] for r in read_landed("extract_log").to_pylist()} == {"failed", "skipped"}


def test_production_client_timeouts_and_waits_come_from_the_environment(monkeypatch):
    from agency_pulse.extract import build_client

    conn = PlatformConnection(platform="x", base_url="https://api.x.com/2", token="t",
                              extra={}, source="airflow")
    assert build_client(conn).timeout == (5, 30.0)
    monkeypatch.setenv("AGENCY_PULSE_HTTP_READ_TIMEOUT", "2.5")
    monkeypatch.setenv("AGENCY_PULSE_MAX_WAIT_SECONDS", "7")
    client = build_client(conn)
    assert client.timeout == (5, 2.5)
    assert client.backoff_max == 7.0


def test_the_extract_log_records_where_the_figures_came_from(pulse_home, fake_platform,
                                                             make_client):
    serve(fake_platform)
    run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                 client=make_client())
    sources = {r["account_id"]: r["source"] for r in read_landed("extract_log").to_pylist()}
    assert sources["facebook:culture.page"] == "api"
    sandbox = PlatformConnection("facebook", fake_platform.url + "/v24.0", token=CANARY,
                                 extra={}, source="sandbox")
    run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=sandbox, client=make_client())
    sources = {r["account_id"]: r["source"] for r in read_landed("extract_log").to_pylist()}
    assert sources["facebook:culture.page"] == sources["facebook:museum.page"] == "sandbox"
    # the column says which connection the run used, for every row of the run
    assert sources["facebook:old.page"] == "sandbox"
