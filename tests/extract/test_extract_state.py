"""The per-account extract state table: the same answer as reading the whole accepted
history, from one small file updated as days are published, rebuilt when missing or damaged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from agency_pulse import cli, extract, extract_state, lake
from agency_pulse.extract import build_state, scan_state

START = date(2026, 8, 1)
DAYS = 60
ACCOUNTS = ("facebook:a", "facebook:b", "facebook:c")


def _publish_day(day: date, *, platform_id_of=None, posts_of=None, versions=False) -> None:
    """One day of accepted partitions as the daily run leaves them: snapshots, the posts
    read that day (new ones and the settling window's), history, sometimes a deletion.
    With ``versions``, as the runner lands them now: a post row only while its figures
    change (its first week), the other reads in ``post_reads``."""
    offset = (day - START).days
    fetched = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    snapshots = [{"snapshot_date": day, "account_id": a, "platform": "facebook",
                  "platform_id": (platform_id_of or (lambda a, o: f"{a[-1]}-id"))(a, offset),
                  "followers": 100 + offset, "fetched_at": fetched}
                 for a in ACCOUNTS]
    snapshots[2]["platform_id"] = None  # an account whose id the platform never gives
    lake.write_partition("account_snapshots", "facebook", day,
                         lake.table_from_rows("account_snapshots", snapshots))
    posts = []
    for back in range(0, 31, 3):  # posts published in the settling window, read again
        published_day = day - timedelta(days=back)
        for i, account in enumerate(ACCOUNTS[:2]):
            if (published_day - START).days % (2 + i) == 0 and published_day >= START:
                posts.append({"account_id": account, "platform": "facebook",
                              "post_id": f"{account[-1]}{(published_day - START).days}",
                              "published_at": datetime(published_day.year, published_day.month,
                                                       published_day.day, 9 + i, tzinfo=UTC),
                              "reactions": min(back, 6) if versions else offset,
                              "fetched_on": day, "fetched_at": fetched})
    posts = (posts_of or (lambda rows, o: rows))(posts, offset)
    if versions:
        reads: dict[str, list[str]] = {}
        for post in posts:  # the reads that land no row: unchanged since their first week
            if (day - post["published_at"].date()).days > 6:
                reads.setdefault(post["account_id"], []).append(post["post_id"])
        if reads:
            lake.write_partition("post_reads", "facebook", day, lake.table_from_rows(
                "post_reads", [{"account_id": a, "platform": "facebook", "read_on": day,
                                "post_ids": sorted(ids), "fetched_at": fetched}
                               for a, ids in reads.items()]))
        posts = [post for post in posts if (day - post["published_at"].date()).days <= 6]
    if posts:
        lake.write_partition("posts", "facebook", day, lake.table_from_rows("posts", posts))
    if offset % 7 == 0:
        lake.write_partition("follower_history", "facebook", day, lake.table_from_rows(
            "follower_history", [{"account_id": "facebook:a", "day": day - timedelta(days=1),
                                  "followers": 5, "fetched_at": fetched}]))
    if offset % 11 == 5:
        lake.write_partition("post_deletions", "facebook", day, lake.table_from_rows(
            "post_deletions", [{"account_id": "facebook:a", "platform": "facebook",
                                "post_id": f"a{offset - 4}", "last_seen_on": day - timedelta(1),
                                "detected_on": day}]))


def _history(days: int = DAYS, **options) -> None:
    for offset in range(days):
        _publish_day(START + timedelta(days=offset), **options)


def _same(left, right) -> None:
    assert left.last_post_at == right.last_post_at
    assert left.known_post_ids == right.known_post_ids
    assert left.platform_ids == right.platform_ids
    assert left.history_through == right.history_through
    assert left.post_last_seen == right.post_last_seen
    assert left.post_digests == right.post_digests
    assert left.posts_read_after == right.posts_read_after


@pytest.mark.parametrize("run_offset", [DAYS, DAYS + 3, DAYS - 1, DAYS - 20, DAYS - 34])
def test_the_state_table_answers_as_the_whole_history_does(pulse_home, run_offset):
    _history()
    run_date = START + timedelta(days=run_offset)
    store = extract_state.refresh("facebook")
    assert store.base_through == START + timedelta(days=DAYS - 1 - extract_state.KEEP_DAYS)
    assert store.covers(run_date)
    state = build_state("facebook", run_date)
    _same(state, scan_state("facebook", run_date))
    assert state.known_post_ids  # the comparison is not of two empty states
    assert state.platform_ids == {"facebook:a": "a-id", "facebook:b": "b-id"}


@pytest.mark.parametrize("run_offset", [DAYS, DAYS - 1, DAYS - 20, DAYS - 34, DAYS - 45])
@pytest.mark.parametrize("compacted", [False, True], ids=["daily", "compacted"])
def test_with_post_versions_the_state_answers_as_the_whole_history_does(
        pulse_home, run_offset, compacted):
    from agency_pulse import lake_compact

    _history(versions=True)
    if compacted:  # August merged into month files (the state's rebuild reads those)
        for dataset in extract_state.DATASETS:
            lake_compact.compact_month(dataset, "facebook", "2026-08")
    run_date = START + timedelta(days=run_offset)
    kept = build_state("facebook", run_date)
    scanned = scan_state("facebook", run_date)
    _same(kept, scanned)
    rebuilt = extract_state.rebuild("facebook")
    if rebuilt.covers(run_date):
        _same(rebuilt.read(run_date), scanned)
    assert scanned.post_digests and scanned.post_last_seen
    # last seen after its last row (landed at 6 days old): from post_reads
    assert any(day > START + timedelta(days=int(post_id[1:]) + 6)
               for post_id, day in scanned.post_last_seen.items())
    if run_offset < DAYS - 1:  # a rerun of an older day knows the posts read after it
        assert scanned.posts_read_after


def test_a_day_older_than_the_kept_window_reads_the_lake_itself(pulse_home, monkeypatch):
    _history()
    extract_state.refresh("facebook")
    backfill = START + timedelta(days=20)
    scanned = []
    real_scan = extract.scan_state
    monkeypatch.setattr(extract, "scan_state",
                        lambda *a, **k: scanned.append(a) or real_scan(*a, **k))
    state = build_state("facebook", backfill)
    assert scanned == [("facebook", backfill)]
    assert state.last_post_at["facebook:a"] < datetime.combine(backfill, datetime.min.time(),
                                                               UTC)


def test_a_new_day_reads_only_that_day_not_the_history(pulse_home, monkeypatch):
    _history()
    extract_state.refresh("facebook")
    read = []
    real_read = extract_state.pq.read_table
    monkeypatch.setattr(extract_state.pq, "read_table",
                        lambda path, **k: read.append(path) or real_read(path, **k))
    new_day = START + timedelta(days=DAYS)
    _publish_day(new_day)
    state = build_state("facebook", new_day + timedelta(days=1))
    state_file = lake.extract_state_path("facebook")
    assert {lake.parse_partition(p).day for p in read if p != state_file} == {new_day}
    _same(state, scan_state("facebook", new_day + timedelta(days=1)))
    read.clear()
    build_state("facebook", new_day + timedelta(days=1))  # nothing new: the state file alone
    assert read == [state_file]


def test_a_rerun_of_an_older_day_never_moves_the_state_backwards(pulse_home):
    # The account's platform id changed on day 45; reruns of day 50 (inside the kept window)
    # and of day 10 (in the base) still say the old id for their own day.
    _history(platform_id_of=lambda a, o: f"{a[-1]}-new" if o >= 45 else f"{a[-1]}-old")
    extract_state.refresh("facebook")
    for offset in (50, 10):
        _publish_day(START + timedelta(days=offset),
                     platform_id_of=lambda a, o: f"{a[-1]}-old")
    after = START + timedelta(days=DAYS)
    state = build_state("facebook", after)
    assert state.platform_ids == {"facebook:a": "a-new", "facebook:b": "b-new"}
    _same(state, scan_state("facebook", after))
    store = extract_state.refresh("facebook")
    rows = {row["account_id"]: row for row in store.account_rows()}
    assert rows["facebook:a"]["platform_id"] == "a-new"
    assert rows["facebook:a"]["last_snapshot_day"] == after - timedelta(days=1)
    assert rows["facebook:a"]["history_through"] == START + timedelta(days=55)


def test_a_rerun_inside_the_window_that_corrects_a_day_replaces_its_rows(pulse_home):
    _history()
    extract_state.refresh("facebook")
    last = START + timedelta(days=DAYS - 1)
    # the last day again, now without the account's posts of that day's own publication
    _publish_day(last, posts_of=lambda rows, o: [r for r in rows
                                                 if r["published_at"].date() != last])
    after = last + timedelta(days=1)
    _same(build_state("facebook", after), scan_state("facebook", after))


def test_a_missing_or_damaged_state_is_rebuilt_from_the_lake(pulse_home, capsys):
    _history(40)
    run_date = START + timedelta(days=40)
    expected = scan_state("facebook", run_date)
    path = lake.extract_state_path("facebook")
    _same(build_state("facebook", run_date), expected)
    assert path.exists()
    path.unlink()
    _same(build_state("facebook", run_date), expected)  # missing: rebuilt
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert cli.main(["lake", "check"]) == 0  # a cache: named, not a failure of the data
    out, err = capsys.readouterr()
    assert "extract state:" in err and "does not match its checksum" in err
    assert "lake state --rebuild --platform facebook" in err
    assert "1 damaged extract states" in out
    _same(build_state("facebook", run_date), expected)  # damaged: rebuilt
    assert extract_state.check("facebook") is None
    assert cli.main(["lake", "state", "--rebuild", "--platform", "facebook"]) == 0
    assert capsys.readouterr().out == (
        f"extract state facebook: 3 accounts, through {(run_date - timedelta(1)).isoformat()}"
        " (rebuilt)\n")


def test_a_damaged_accepted_file_is_never_taken_into_the_state(pulse_home, caplog):
    _history(40)
    run_date = START + timedelta(days=40)
    extract_state.refresh("facebook")
    # A rerun of the last day lands a new id, then a bit flips in the file it published.
    last = run_date - timedelta(days=1)
    _publish_day(last, platform_id_of=lambda a, o: f"{a[-1]}-damaged")
    victim = lake.list_partitions(lake.ACCEPTED, "account_snapshots", "facebook", last)[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    state = build_state("facebook", run_date)  # no crash: the damaged day is left out
    assert state.platform_ids == {"facebook:a": "a-id", "facebook:b": "b-id"}
    assert "does not match its checksum" in caplog.text and str(victim) in caplog.text
    # Repaired by a rerun, the day is taken in.
    _publish_day(last, platform_id_of=lambda a, o: f"{a[-1]}-rerun")
    assert build_state("facebook", run_date).platform_ids == {
        "facebook:a": "a-rerun", "facebook:b": "b-rerun"}
