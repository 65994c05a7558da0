"""A day's record only grows: a rerun under a partial outage keeps what the day holds, fails
loudly, and a retry fetches only what is missing."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from test_extract_runner import ERRORS, REGISTRY, RUN_DATE, conn, posts_for, read_landed, serve

from agency_pulse import config, day_record, lake
from agency_pulse.extract import AccountsFailed, PlatformRunFailed, run_platform

CULTURE, MUSEUM = "facebook:culture.page", "facebook:museum.page"


def _rows_by_account(dataset):
    table = read_landed(dataset)
    found: dict[str, list[dict]] = {}
    for row in table.to_pylist():
        found.setdefault(row["account_id"], []).append(row)
    return found


def _first_run(fake_platform, make_client):
    serve(fake_platform)
    run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                 run_id="first", client=make_client())
    return {dataset: _rows_by_account(dataset)
            for dataset in ("account_snapshots", "posts", "extract_log")}


def _serve_failing_posts_for(fake_platform, failing_page: str, answer):
    fake_platform.routes.clear()
    serve(fake_platform, posts=lambda request: (
        answer if f"/{failing_page}/" in request.url
        else posts_for(request.url.split("/v24.0/")[1].split("/")[0])))


@pytest.mark.parametrize("answer", [
    (400, ERRORS["permission"]),          # a page that refuses us (private)
    (500, ERRORS["temporary"]),           # a transient outage, retries exhausted
    (400, ERRORS["object_gone"]),         # gone: a fact, its rows of the day stay
], ids=["private", "transient", "gone"])
def test_an_account_failing_in_a_rerun_keeps_every_row_of_the_day(
        pulse_home, fake_platform, make_client, answer):
    before = _first_run(fake_platform, make_client)
    _serve_failing_posts_for(fake_platform, "222", answer)

    # gone and a refused permission are facts; only a failure that may pass fails the run
    failing_is_fact = answer[1] is not ERRORS["temporary"]
    if failing_is_fact:
        run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                     run_id="rerun", client=make_client(max_retries=1))
    else:
        with pytest.raises(AccountsFailed) as failure:
            run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                         run_id="rerun", client=make_client(max_retries=1))
        assert failure.value.problems == [f"facebook {MUSEUM}: {failure.value.summary['failed_accounts'][MUSEUM]}"]
        assert all(line.startswith("facebook facebook:") for line in str(failure.value).splitlines())

    after = {dataset: _rows_by_account(dataset)
             for dataset in ("account_snapshots", "posts", "extract_log")}
    # nothing the day held is gone: the museum's posts and snapshot are all still there
    assert {p["post_id"] for p in after["posts"][MUSEUM]} >= {
        p["post_id"] for p in before["posts"][MUSEUM]}
    assert len(after["account_snapshots"][MUSEUM]) == 1
    assert len(after["posts"][CULTURE]) == len(before["posts"][CULTURE])
    [museum_log] = after["extract_log"][MUSEUM]
    if answer[1] is ERRORS["object_gone"]:
        assert museum_log["status"] == "gone" and museum_log["run_id"] == "rerun"
    elif answer[1] is ERRORS["permission"]:  # a refusal is a fact too: the log records it
        assert museum_log["status"] == "private" and museum_log["run_id"] == "rerun"
    if failing_is_fact:  # ... and keeps what the earlier run of the day read
        assert "; earlier that day: ok" in museum_log["reason"]
    else:  # the day's record of how its data were fetched stays with them
        assert museum_log["status"] == "ok" and museum_log["run_id"] == "first"
    [culture_log] = after["extract_log"][CULTURE]
    assert culture_log["run_id"] == "rerun"


def test_a_rerun_that_fetched_fewer_posts_never_lands_fewer(pulse_home, fake_platform,
                                                            make_client):
    before = _first_run(fake_platform, make_client)
    fake_platform.routes.clear()
    serve(fake_platform, posts={"data": []})
    summary = run_platform("facebook", RUN_DATE, registry=REGISTRY,
                           connection=conn(fake_platform), client=make_client())
    assert summary["kept_rows"]["posts"] == 4
    assert read_landed("posts").num_rows == sum(len(v) for v in before["posts"].values()) == 4


def test_a_rerun_after_validation_keeps_the_accepted_rows(pulse_home, fake_platform,
                                                          make_client):
    from agency_pulse import pipeline

    _first_run(fake_platform, make_client)
    pipeline.validate_landing(day=RUN_DATE, run_id="first")
    accepted_posts = lake.read_dataset("posts", platform="facebook")
    assert accepted_posts.num_rows == 4
    _serve_failing_posts_for(fake_platform, "222", (500, ERRORS["temporary"]))
    with pytest.raises(AccountsFailed):
        run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                     run_id="rerun", client=make_client(max_retries=1))
    pipeline.validate_landing(day=RUN_DATE, run_id="rerun")
    after = lake.read_dataset("posts", platform="facebook")
    assert sorted(after["post_id"].to_pylist()) == sorted(accepted_posts["post_id"].to_pylist())


def test_a_retry_fetches_only_the_accounts_the_day_does_not_hold(pulse_home, fake_platform,
                                                                 make_client):
    serve(fake_platform)
    _serve_failing_posts_for(fake_platform, "222", (500, ERRORS["temporary"]))
    with pytest.raises(AccountsFailed):
        run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                     run_id="try1", client=make_client(max_retries=1))
    fake_platform.routes.clear()
    fake_platform.requests.clear()
    serve(fake_platform)
    summary = run_platform("facebook", RUN_DATE, registry=REGISTRY,
                           connection=conn(fake_platform), run_id="try2", client=make_client(),
                           only_missing=True)
    posts_calls = [r.path for r in fake_platform.calls_to(r"/v24.0/\d+/posts")]
    assert posts_calls == ["/v24.0/222/posts"]  # the culture page is not fetched again
    assert summary["statuses"] == {"ok": 1, "kept": 1, "skipped": 1}
    logs = {r["account_id"]: r for r in read_landed("extract_log").to_pylist()}
    assert logs[CULTURE]["run_id"] == "try1" and logs[MUSEUM]["run_id"] == "try2"
    assert {r["account_id"] for r in read_landed("posts").to_pylist()} == {CULTURE, MUSEUM}


def test_a_platform_stop_in_a_rerun_keeps_the_day(pulse_home, fake_platform, make_client):
    before = _first_run(fake_platform, make_client)
    fake_platform.routes.clear()
    fake_platform.route("/v24.0/", (400, ERRORS["expired_token"]))
    with pytest.raises(PlatformRunFailed):
        run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                     client=make_client())
    assert read_landed("posts").num_rows == sum(len(v) for v in before["posts"].values())
    assert {r["status"] for r in read_landed("extract_log").to_pylist()} == {"ok", "skipped"}


def test_merge_keeps_earlier_rows_and_lets_new_rows_win():
    earlier = [{"platform": "x", "post_id": "1", "reactions": 1},
               {"platform": "x", "post_id": "2", "reactions": 2}]
    new = [{"platform": "x", "post_id": "2", "reactions": 20}]
    merged = day_record.merge("posts", earlier, new)
    assert sorted((r["post_id"], r["reactions"]) for r in merged) == [("1", 1), ("2", 20)]


def test_the_landing_file_of_a_rerun_is_one_row_per_key(pulse_home, fake_platform, make_client):
    _first_run(fake_platform, make_client)
    run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                 client=make_client())
    path = lake.partition_path(lake.LANDING, "posts", "facebook", RUN_DATE,
                               root=config.paths().lake)
    ids = pq.read_table(path)["post_id"].to_pylist()
    assert len(ids) == len(set(ids)) == 4


def test_only_a_failure_that_may_pass_fails_the_run(pulse_home, fake_platform, make_client):
    serve(fake_platform)
    _serve_failing_posts_for(fake_platform, "222", (400, ERRORS["permission"]))
    summary = run_platform("facebook", RUN_DATE, registry=REGISTRY,
                           connection=conn(fake_platform), client=make_client())
    assert summary["statuses"] == {"ok": 1, "private": 1, "skipped": 1}
    assert "failed_accounts" not in summary
    _serve_failing_posts_for(fake_platform, "222", (400, ERRORS["app_limit"]))
    with pytest.raises(AccountsFailed) as failure:
        run_platform("facebook", RUN_DATE, registry=REGISTRY, connection=conn(fake_platform),
                     client=make_client(max_retries=0))
    assert list(failure.value.summary["failed_accounts"]) == [MUSEUM]


def test_the_earlier_ok_note_survives_a_second_fact():
    ok = {"account_id": "a", "status": "ok", "reason": None, "run_id": "first"}
    gone = {"account_id": "a", "status": "gone", "reason": "deleted", "run_id": "second"}
    private = {"account_id": "a", "status": "private", "reason": "refused", "run_id": "third"}
    [first] = day_record.merge_log([ok], [gone])
    assert (first["status"], first["reason"]) == ("gone", "deleted; earlier that day: ok")
    [second] = day_record.merge_log([first], [private])
    assert (second["status"], second["reason"]) == ("private", "refused; earlier that day: ok")
    # a fact after a failed day (nothing read that day) carries no note
    failed = {**ok, "status": "failed", "reason": "HTTP 500"}
    assert day_record.merge_log([failed], [gone])[0]["reason"] == "deleted"
