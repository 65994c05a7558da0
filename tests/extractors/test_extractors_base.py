"""The extractors' shared base: parsers, request quoting, the pager and its one cursor policy."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from agency_pulse.errors import AccountGone, InvalidHandle, MalformedResponse
from agency_pulse.extractors.base import (
    POSTS_INCOMPLETE,
    ExtractResult,
    Outcome,
    Page,
    extract_each,
    list_item,
    pages,
    parse_count,
    parse_timestamp,
    path_segment,
)
from agency_pulse.registry import Account

ACCOUNT = Account(agency_id="culture", platform="youtube", handle="culture")


class CountingClient:
    calls = 0
    units = 0


# --------------------------------------------------------------------------- parse_count

@pytest.mark.parametrize(("value", "expected"), [
    (0, 0), (42, 42), ("42", 42), ("0007", 7), (None, None)])
def test_parse_count_reads_ints_and_digit_strings(value, expected):
    assert parse_count(value, "followers", "x") == expected


@pytest.mark.parametrize("value", [True, False, -1, "-1", "1.2K", "12a", "", 1.5, "²", [3]])
def test_parse_count_refuses_what_is_not_a_count(value):
    with pytest.raises(MalformedResponse, match=r"^x: followers: .* is not a count"):
        parse_count(value, "followers", "x")


# --------------------------------------------------------------------------- parse_timestamp

@pytest.mark.parametrize("text", ["2024-01-15T10:00:00+0000", "2024-01-15T10:00:00Z",
                                  "2024-01-15T10:00:00.000Z", "2024-01-15T12:00:00+02:00"])
def test_parse_timestamp_reads_graph_google_and_x_forms_as_utc(text):
    parsed = parse_timestamp(text, "created_time", "facebook")
    assert parsed == datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


def test_parse_timestamp_missing_raises_only_when_required():
    assert parse_timestamp(None, "timestamp", "instagram", required=False) is None
    assert parse_timestamp("", "timestamp", "instagram", required=False) is None
    with pytest.raises(MalformedResponse, match="created_at: missing timestamp"):
        parse_timestamp(None, "created_at", "x")


@pytest.mark.parametrize("value", ["yesterday", "2024-01-15T10:00:00", 1705312800])
def test_parse_timestamp_refuses_bad_or_zoneless_times_even_when_optional(value):
    with pytest.raises(MalformedResponse, match="publishedAt"):
        parse_timestamp(value, "publishedAt", "youtube", required=False)


# --------------------------------------------------------------------------- quoting

def test_path_segment_quotes_everything_that_could_leave_the_segment():
    assert path_segment("../../evil/x?y=1#frag", "channel", "telegram") == \
        "..%2F..%2Fevil%2Fx%3Fy%3D1%23frag"
    assert path_segment("foo){id},username(bar", "channel", "telegram") == \
        "foo%29%7Bid%7D%2Cusername%28bar"
    assert path_segment("50%", "channel", "telegram") == "50%25"
    assert path_segment("20531316728_5555", "post id", "facebook") == "20531316728_5555"


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_path_segment_refuses_dot_segments_and_empty(value):
    with pytest.raises(InvalidHandle, match="cannot be used in a request path"):
        path_segment(value, "channel", "telegram")


def test_list_item_refuses_a_comma_that_would_split_the_list():
    assert list_item("../../evil/x?y=1#frag", "page id", "facebook") == "../../evil/x?y=1#frag"
    with pytest.raises(InvalidHandle, match="comma-separated"):
        list_item("foo){id},username(bar", "page id", "facebook")


# --------------------------------------------------------------------------- the pager

def serve(cursors: list):
    """A fetch answering page n with items [n] and the n-th next cursor; records cursors asked."""
    asked = []

    def fetch(cursor):
        asked.append(cursor)
        n = len(asked) - 1
        return Page([n], cursors[n] if n < len(cursors) else None)

    return fetch, asked


def test_pages_follow_cursors_until_there_is_none():
    fetch, asked = serve(["a", "b", None])
    result = ExtractResult()
    items = [i for page in pages(fetch, platform="x", account=ACCOUNT, result=result)
             for i in page.items]
    assert items == [0, 1, 2] and asked == [None, "a", "b"]
    assert result.posts_complete(ACCOUNT.account_id)


def test_a_caller_that_stops_early_has_read_completely():
    fetch, asked = serve(["a", "b", "c"])
    result = ExtractResult()
    for page in pages(fetch, platform="x", account=ACCOUNT, result=result):
        if page.items == [1]:
            break
    assert asked == [None, "a"] and result.posts_complete(ACCOUNT.account_id)


def test_a_repeating_cursor_stops_warns_once_and_marks_the_posts_incomplete(caplog):
    fetch, asked = serve(["a", "b", "a", "c"])
    result = ExtractResult()
    caplog.set_level(logging.WARNING)
    items = [i for page in pages(fetch, platform="youtube", account=ACCOUNT, result=result)
             for i in page.items]
    assert asked == [None, "a", "b"] and items == [0, 1, 2]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == ("youtube: posts of youtube:culture: the paging cursor "
                                    "repeats after 3 pages; stopping there")
    assert not result.posts_complete(ACCOUNT.account_id)
    assert result.posts_incomplete[ACCOUNT.account_id].startswith(POSTS_INCOMPLETE)


def test_too_many_pages_is_the_same_policy(caplog):
    fetch, asked = serve([f"c{n}" for n in range(10)])
    result = ExtractResult()
    list(pages(fetch, platform="x", account=ACCOUNT, result=result, max_pages=3))
    assert asked == [None, "c0", "c1"]
    assert "more than 3 pages" in result.posts_incomplete[ACCOUNT.account_id]
    assert "more than 3 pages; stopping there" in caplog.text


def test_extract_each_puts_the_incomplete_note_in_the_ok_outcome():
    fetch, _ = serve(["a", "a"])
    other = Account(agency_id="culture", platform="youtube", handle="museum")
    result = ExtractResult()

    def extract_account(account):
        if account is other:
            raise AccountGone("youtube", "channelNotFound")
        list(pages(fetch, platform="youtube", account=account, result=result))

    extract_each(CountingClient(), [ACCOUNT, other], result, extract_account)
    outcome = result.outcomes[ACCOUNT.account_id]
    assert isinstance(outcome, Outcome) and outcome.status == "ok"
    assert outcome.reason == "posts incomplete: posts: the paging cursor repeats after 2 pages"
    assert result.outcomes[other.account_id] == ("gone", "channelNotFound", 0, 0)


def test_outcome_is_a_named_tuple_that_still_unpacks():
    status, reason, calls, units = Outcome("ok", None, 3, 2)
    assert (status, reason, calls, units) == ("ok", None, 3, 2)
    assert Outcome("ok", None, 3, 2)._asdict() == {"status": "ok", "reason": None,
                                                   "calls": 3, "units": 2}


def test_run_day_types_are_shared_with_the_runner():
    from agency_pulse import extract

    assert extract.ExtractResult is ExtractResult and extract.Outcome is Outcome
    assert extract.ExtractState().since_for("a", date(2026, 11, 26)) is not None
