"""The settling window's daily re-reads land as updates: a post row (a version) only when
the post is new or a field the warehouse uses changed; every read is recorded in
``post_reads``, which deletion detection and the extract state read."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest
from test_extract_runner import ERRORS, REGISTRY, RUN_DATE, conn, posts_for, serve

from agency_pulse import config, day_record, extract_state, lake
from agency_pulse.extract import build_state, run_platform, scan_state
from agency_pulse.validation import raise_for_failures, validate_landed

CULTURE, MUSEUM = "facebook:culture.page", "facebook:museum.page"
DAY1, DAY2, DAY3, DAY4 = (RUN_DATE + timedelta(days=n) for n in range(4))


def _answers(fake_platform, *, reactions=None, gone=()):
    """Serve the fixture's posts, with reactions overridden by post id and some ids gone."""
    def posts(request):
        body = copy.deepcopy(posts_for(request.url.split("/v24.0/")[1].split("/")[0]))
        body["data"] = [post for post in body["data"] if post["id"] not in gone]
        for post in body["data"]:
            if post["id"] in (reactions or {}):
                post["reactions"]["summary"]["total_count"] = reactions[post["id"]]
        return body

    fake_platform.routes.clear()
    serve(fake_platform, posts=posts)
    for post_id in gone:  # asked for by id, it answers "object gone": a deletion
        fake_platform.route(f"/v24.0/{post_id}", (400, ERRORS["object_gone"]))


def _run_and_accept(fake_platform, make_client, day, **answers):
    _answers(fake_platform, **answers)
    summary = run_platform("facebook", day, registry=REGISTRY, connection=conn(fake_platform),
                           run_id=f"test__{day}", client=make_client())
    files = lake.list_partitions(lake.LANDING, platform="facebook", day=day,
                                 root=config.paths().lake)
    raise_for_failures(validate_landed(files, run_date=day, data_docs=False))
    return summary


def _accepted(dataset, day):
    """The rows of the day's accepted file(s) of a dataset."""
    return [row for path in lake.list_partitions(lake.ACCEPTED, dataset, "facebook", day)
            for row in lake.read_file(path, schema=lake.SCHEMAS[dataset]).to_pylist()]


def _same_state(left, right):
    assert left.last_post_at == right.last_post_at
    assert left.known_post_ids == right.known_post_ids
    assert left.post_last_seen == right.post_last_seen
    assert left.post_digests == right.post_digests
    assert left.posts_read_after == right.posts_read_after


def test_a_daily_run_after_an_accepted_day_lands_only_new_or_changed_posts(
        pulse_home, fake_platform, make_client):
    _run_and_accept(fake_platform, make_client, DAY1)
    assert len(_accepted("posts", DAY1)) == 4

    # the same answers: every post is read (and recorded as read), none lands again
    summary = _run_and_accept(fake_platform, make_client, DAY2)
    assert summary["rows"]["posts"] == 0 and _accepted("posts", DAY2) == []
    reads = {row["account_id"]: row["post_ids"] for row in _accepted("post_reads", DAY2)}
    assert reads == {CULTURE: ["111_3333", "111_4444"], MUSEUM: ["222_3333", "222_4444"]}

    # one post's reactions grew and a new one appeared: exactly those two land
    new_post = copy.deepcopy(posts_for("111")["data"][0])
    new_post["id"], new_post["created_time"] = "111_5555", "2026-11-27T08:00:00+0000"

    def with_new(request):
        body = copy.deepcopy(posts_for(request.url.split("/v24.0/")[1].split("/")[0]))
        for post in body["data"]:
            if post["id"] == "111_3333":
                post["reactions"]["summary"]["total_count"] = 80
        if "/111/" in request.url:
            body["data"].insert(0, new_post)
        return body

    fake_platform.routes.clear()
    serve(fake_platform, posts=with_new)
    run_platform("facebook", DAY3, registry=REGISTRY, connection=conn(fake_platform),
                 client=make_client())
    raise_for_failures(validate_landed(lake.list_partitions(
        lake.LANDING, platform="facebook", day=DAY3, root=config.paths().lake),
        run_date=DAY3, data_docs=False))
    landed = {row["post_id"]: row for row in _accepted("posts", DAY3)}
    assert sorted(landed) == ["111_3333", "111_5555"]
    assert landed["111_3333"]["reactions"] == 80
    # the warehouse's rule (latest fetched_on per post) still gives every post's latest figures
    latest = {row["post_id"]: row for row in day_record._latest_per_key(
        "posts", [row for day in (DAY1, DAY2, DAY3) for row in _accepted("posts", day)])}
    assert latest["111_3333"]["reactions"] == 80 and latest["222_3333"]["reactions"] == 75
    assert len(latest) == 5


def test_a_post_no_longer_returned_is_reported_with_the_day_it_was_last_read(
        pulse_home, fake_platform, make_client):
    _run_and_accept(fake_platform, make_client, DAY1)
    _run_and_accept(fake_platform, make_client, DAY2)
    _run_and_accept(fake_platform, make_client, DAY3)  # unchanged: 222_4444 lands no row
    assert all(row["fetched_on"] == DAY1 for row in lake.read_dataset(
        "posts", platform="facebook").to_pylist() if row["post_id"] == "222_4444")

    _run_and_accept(fake_platform, make_client, DAY4, gone={"222_4444"})

    [deletion] = _accepted("post_deletions", DAY4)
    assert (deletion["post_id"], deletion["last_seen_on"], deletion["detected_on"]) == (
        "222_4444", DAY3, DAY4)
    # reported once: the next day's state no longer counts it among the known posts
    state = build_state("facebook", DAY4 + timedelta(days=1))
    assert {post_id for post_id, _ in state.known_post_ids[MUSEUM]} == {"222_3333"}


def test_a_rerun_of_an_accepted_day_drops_nothing_and_corrects_what_changed(
        pulse_home, fake_platform, make_client):
    _run_and_accept(fake_platform, make_client, DAY1)
    _run_and_accept(fake_platform, make_client, DAY2, reactions={"111_3333": 80})
    before = {row["post_id"]: row for row in _accepted("posts", DAY2)}
    assert sorted(before) == ["111_3333"]

    # the same answers again: the day keeps its row (and the same warehouse)
    _run_and_accept(fake_platform, make_client, DAY2, reactions={"111_3333": 80})
    assert {row["post_id"]: row for row in _accepted("posts", DAY2)} == before

    # a rerun that read less (one page refuses us) records less read, never lands less
    fake_platform.routes.clear()
    serve(fake_platform, posts=lambda request: (
        (400, ERRORS["permission"])
        if "/111/" in request.url else posts_for("222")))
    run_platform("facebook", DAY2, registry=REGISTRY, connection=conn(fake_platform),
                 client=make_client())
    raise_for_failures(validate_landed(lake.list_partitions(
        lake.LANDING, platform="facebook", day=DAY2, root=config.paths().lake),
        run_date=DAY2, data_docs=False))
    assert {row["post_id"]: row for row in _accepted("posts", DAY2)} == before
    assert {row["account_id"]: row["post_ids"] for row in _accepted("post_reads", DAY2)} == {
        CULTURE: ["111_3333", "111_4444"], MUSEUM: ["222_3333", "222_4444"]}

    # a rerun whose answer changed again corrects the day's version
    _run_and_accept(fake_platform, make_client, DAY2, reactions={"111_3333": 90})
    assert [(row["post_id"], row["reactions"]) for row in _accepted("posts", DAY2)] == [
        ("111_3333", 90)]


def test_a_rerun_of_an_older_day_lands_no_version_over_a_later_read(
        pulse_home, fake_platform, make_client):
    _run_and_accept(fake_platform, make_client, DAY1)
    _run_and_accept(fake_platform, make_client, DAY2)
    _run_and_accept(fake_platform, make_client, DAY3)
    # DAY2 run again later, the API now answering other figures: DAY3's read (of DAY1's
    # version) stands, as it did when every read landed a row
    _run_and_accept(fake_platform, make_client, DAY2, reactions={"111_3333": 99})
    assert _accepted("posts", DAY2) == []
    latest = day_record._latest_per_key("posts", lake.read_dataset(
        "posts", platform="facebook").to_pylist())
    assert {row["reactions"] for row in latest if row["post_id"] == "111_3333"} == {75}


@pytest.mark.parametrize("rebuild_at", [DAY3, DAY4 + timedelta(days=1)])
def test_the_state_rebuilt_from_the_lake_equals_the_one_kept_day_by_day(
        pulse_home, fake_platform, make_client, rebuild_at):
    _run_and_accept(fake_platform, make_client, DAY1)
    _run_and_accept(fake_platform, make_client, DAY2, reactions={"111_3333": 80})
    _run_and_accept(fake_platform, make_client, DAY3, reactions={"111_3333": 80})
    _run_and_accept(fake_platform, make_client, DAY4, reactions={"111_3333": 81},
                    gone={"222_4444"})
    kept = extract_state.refresh("facebook")
    incremental = kept.read(rebuild_at)
    rebuilt = extract_state.rebuild("facebook").read(rebuild_at)
    _same_state(incremental, rebuilt)
    _same_state(incremental, scan_state("facebook", rebuild_at))
    assert incremental.post_digests and incremental.post_last_seen
    if rebuild_at == DAY3:  # a rerun of DAY3 knows DAY3 and DAY4 read these posts
        assert incremental.posts_read_after >= {"111_3333", "222_3333"}
        assert incremental.post_last_seen["222_4444"] == DAY2


@pytest.mark.timeout(600)
def test_on_the_sandbox_versions_give_the_marts_every_read_gave(tmp_path):
    from testkit.post_versions import run_days

    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(4)]
    homes = {mode: tmp_path / mode for mode in ("every_read", "versions")}
    measured = {mode: run_days(home, days, ["x", "telegram"], every_read=mode == "every_read")
                for mode, home in homes.items()}

    every_read, versions = measured["every_read"], measured["versions"]
    assert versions["marts"] == every_read["marts"]
    assert all(versions["marts"][name] for name in ("marts.account_monthly",
                                                    "marts.agency_monthly"))
    assert versions["rows"]["posts"] < every_read["rows"]["posts"]
    # every read is either a version landed or an id in post_reads, never both
    assert versions["rows"]["posts"] + versions["post_ids_read"] == every_read["rows"]["posts"]
    assert every_read["rows"]["post_reads"] == 0

    def rows(mode, dataset):
        return lake.read_dataset(dataset, root=homes[mode] / "lake").to_pylist()

    # the same deletions, with the same last day seen
    assert sorted((r["post_id"], r["last_seen_on"], r["detected_on"])
                  for r in rows("versions", "post_deletions")) == sorted(
        (r["post_id"], r["last_seen_on"], r["detected_on"])
        for r in rows("every_read", "post_deletions"))
    # each day lands exactly the posts read that are new or changed since their last read
    read = lake.table_from_rows("posts", rows("every_read", "posts"))
    versions_by_day: dict[date, dict[str, str]] = {}
    for row, digest in zip(read.to_pylist(), extract_state.post_digests(read), strict=True):
        versions_by_day.setdefault(row["fetched_on"], {})[row["post_id"]] = digest
    landed: dict[date, set[str]] = {}
    for row in rows("versions", "posts"):
        landed.setdefault(row["fetched_on"], set()).add(row["post_id"])
    for n, day in enumerate(days[1:], start=1):
        expected = {post_id for post_id, digest in versions_by_day[day].items()
                    if next((versions_by_day[before][post_id] for before in reversed(days[:n])
                             if post_id in versions_by_day.get(before, {})), None) != digest}
        assert landed.get(day, set()) == expected, day
