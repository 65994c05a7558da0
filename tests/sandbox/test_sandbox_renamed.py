"""The `renamed` fault: the old handle answers as not found, the new handle and the id answer
with the new handle; and X's `users?ids=` lookup."""

from __future__ import annotations

import pytest

from agency_pulse_sandbox.cli import parse_fault_options
from agency_pulse_sandbox.state import FaultConfig

X = "/api.x.com/2"
GRAPH = "/graph.facebook.com/v24.0"
YT = "/www.googleapis.com/youtube/v3"
BOT = "/api.telegram.org/bot123456:SECRET-token"
AUTH = {"Authorization": "Bearer sandbox-token"}


def _get(http, sb, path, **params):
    return http.get(sb.url + path, params=params, headers=AUTH, timeout=10)


def test_x_users_by_ids_finds_users_and_reports_the_rest(http, fresh_sandbox):
    user = _get(http, fresh_sandbox, X + "/users/by", usernames="edu_gov_az").json()["data"][0]
    body = _get(http, fresh_sandbox, X + "/users", ids=f"{user['id']},42",
                **{"user.fields": "protected"}).json()
    assert [(u["id"], u["username"], u["protected"]) for u in body["data"]] == [
        (user["id"], "edu_gov_az", False)]
    assert body["errors"][0]["value"] == "42"
    assert _get(http, fresh_sandbox, X + "/users", ids="abc").status_code == 400


def test_a_renamed_x_user(http, fresh_sandbox):
    user_id = _get(http, fresh_sandbox, X + "/users/by", usernames="edu_gov_az").json()["data"][0]["id"]
    fresh_sandbox.set(faults={"x": {"renamed": {"edu_gov_az": "edu_new"}}})
    old = _get(http, fresh_sandbox, X + "/users/by", usernames="edu_gov_az").json()
    assert "data" not in old and old["errors"][0]["value"] == "edu_gov_az"
    new = _get(http, fresh_sandbox, X + "/users/by", usernames="EDU_new").json()["data"][0]
    assert (new["id"], new["username"]) == (user_id, "edu_new")
    by_id = _get(http, fresh_sandbox, X + "/users", ids=user_id).json()["data"][0]
    assert by_id["username"] == "edu_new"
    # The timeline is the same account's: its history continues.
    assert _get(http, fresh_sandbox, X + f"/users/{user_id}/tweets").json()["data"]


def test_a_renamed_page_channel_and_chat(http, fresh_sandbox):
    page_id = _get(http, fresh_sandbox, GRAPH + "/mys.gov.az", fields="id").json()["id"]
    chat_id = _get(http, fresh_sandbox, BOT + "/getChat", chat_id="@fhn_gov_az").json()["result"]["id"]
    channel = _get(http, fresh_sandbox, YT + "/channels", part="snippet", forHandle="@TehsilNazirliyi",
                   key="k").json()["items"][0]
    fresh_sandbox.set(faults={"facebook": {"renamed": {"mys.gov.az": "youth.gov.az"}},
                              "telegram": {"renamed": {"fhn_gov_az": "fhn_news"}},
                              "youtube": {"renamed": {"TehsilNazirliyi": "Tehsil"}}})
    gone = _get(http, fresh_sandbox, GRAPH + "/", ids="mys.gov.az", fields="id,username").json()
    assert gone["error"]["code"] == 803
    page = _get(http, fresh_sandbox, GRAPH + "/", ids=page_id, fields="id,username").json()[page_id]
    assert page["username"] == "youth.gov.az"
    assert _get(http, fresh_sandbox, BOT + "/getChat", chat_id="@fhn_gov_az").json()["ok"] is False
    chat = _get(http, fresh_sandbox, BOT + "/getChat", chat_id=str(chat_id)).json()["result"]
    assert chat["username"] == "fhn_news"
    assert _get(http, fresh_sandbox, YT + "/channels", part="snippet", forHandle="@TehsilNazirliyi",
                key="k").json().get("items", []) == []
    renamed = _get(http, fresh_sandbox, YT + "/channels", part="snippet", id=channel["id"],
                   key="k").json()["items"][0]
    assert renamed["snippet"]["customUrl"] == "@tehsil"


@pytest.mark.parametrize("spec", [
    {"x": {"renamed": ["a"]}}, {"x": {"renamed": {"a": ""}}}, {"x": {"renamed": {"a": "A"}}},
    {"x": {"renamed": {"a": "c", "b": "c"}}}, {"x": {"renamed": {"a": "b", "b": "c"}}},
])
def test_bad_renames_are_refused(spec):
    with pytest.raises(ValueError, match="renamed"):
        FaultConfig(spec)


def test_the_cli_option_and_the_config_round_trip():
    faults = parse_fault_options(["x:renamed:Old_One=new_one,b_b=c_c"])
    assert faults == {"x": {"renamed": {"Old_One": "new_one", "b_b": "c_c"}}}
    assert FaultConfig(faults).as_dict()["x"] == {"renamed": {"b_b": "c_c", "old_one": "new_one"}}
    with pytest.raises(ValueError, match="old=new"):
        parse_fault_options(["x:renamed:old"])


def test_a_renamed_channel_counts_by_id_and_previews_under_the_new_handle(http, fresh_sandbox):
    chat_id = _get(http, fresh_sandbox, BOT + "/getChat", chat_id="@fhn_gov_az").json()["result"]["id"]
    members = _get(http, fresh_sandbox, BOT + "/getChatMemberCount", chat_id="@fhn_gov_az").json()
    fresh_sandbox.set(faults={"telegram": {"renamed": {"fhn_gov_az": "fhn_news"}}})
    assert _get(http, fresh_sandbox, BOT + "/getChatMemberCount",
                chat_id=str(chat_id)).json() == members
    old = http.get(fresh_sandbox.url + "/t.me/s/fhn_gov_az", allow_redirects=False, timeout=10)
    assert old.status_code == 302  # the old handle has no preview any more
    new = http.get(fresh_sandbox.url + "/t.me/s/fhn_news", timeout=10)
    assert new.status_code == 200 and 'data-post="fhn_news/' in new.text
