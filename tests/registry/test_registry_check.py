"""`agency-pulse registry check`: every account looked up on the sandbox in-process, with a
renamed, a gone and a private account; exit codes; `--write` keeping the file's comments,
order and `verified`; a daily run noting a handle change."""

from __future__ import annotations

import re
from datetime import date

import pytest
import yaml

from agency_pulse import cli, connections, registry_check
from agency_pulse.extract import build_client
from agency_pulse.extractors import facebook, telegram, x, youtube
from agency_pulse.extractors.base import AccountLookup, ExtractState, Lookup
from agency_pulse.registry import Account, load_registry
from agency_pulse.registry_check import Change, decide, edit_registry_text
from agency_pulse.settings import Settings
from agency_pulse_sandbox import run_sandbox

DAY = date(2026, 11, 27)

REGISTRY = """\
# A test registry: these comments and this order must survive --write.
agencies:
- id: culture          # the ministry
  name: Mədəniyyət Nazirliyi
  accounts:
  - platform: facebook
    handle: culture.page   # main page
    label: Main page
    verified: false
  - platform: x
    handle: culture_az
    verified: true
  - {platform: youtube, handle: CultureChannel, verified: false}
- id: tax
  name: Vergilər Nazirliyi
  accounts:
  - platform: telegram
    handle: tax_channel
  - platform: instagram
    handle: tax.gov.az
    verified: false
  - platform: facebook
    handle: old.tax.page
    verified: false
  - platform: x
    handle: tax_private
"""


@pytest.fixture
def registry_file(tmp_path):
    path = tmp_path / "agencies.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


@pytest.fixture
def sandbox(registry_file, tmp_path, monkeypatch):
    """The sandbox for the test registry, and the environment pointing the CLI at both."""
    with run_sandbox(date=DAY, seed=7, registry=registry_file) as server:
        monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("AGENCY_PULSE_REGISTRY", str(registry_file))
        monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "sandbox")
        monkeypatch.setenv("AGENCY_PULSE_SANDBOX_URL", server.url)
        for platform in ("facebook", "instagram", "youtube", "x", "telegram"):
            monkeypatch.delenv(f"AIRFLOW_CONN_AGENCY_PULSE_{platform.upper()}", raising=False)
        yield server


def _check(capsys, *options):
    status = cli.main(["registry", "check", *options])
    out, err = capsys.readouterr()
    return status, out, err


def _line(out: str, platform: str, handle: str) -> str:
    return next(line for line in out.splitlines() if f" {platform} {handle}:" in line)


def test_every_account_found_exits_0_and_changes_nothing(sandbox, registry_file, capsys):
    status, out, err = _check(capsys)
    assert status == 0, err
    assert err == ""
    for platform, handle in (("facebook", "culture.page"), ("x", "culture_az"),
                             ("youtube", "CultureChannel"), ("telegram", "tax_channel"),
                             ("instagram", "tax.gov.az"), ("facebook", "old.tax.page")):
        assert ": found, platform_id " in _line(out, platform, handle)
    assert "registry check: 7 found" in out
    assert registry_file.read_text(encoding="utf-8") == REGISTRY  # no --write, no change


def test_write_fills_platform_ids_keeping_comments_order_and_verified(sandbox, registry_file,
                                                                       capsys):
    status, out, _ = _check(capsys, "--write")
    assert status == 0
    text = registry_file.read_text(encoding="utf-8")
    added = [line for line in text.splitlines() if "platform_id" in line]
    assert len(added) == 7
    # Every original line is still there, in the same order: only platform_ids were added
    # (on a line of their own, or inside the flow mapping).
    without_ids = re.sub(r'\n *platform_id: "[^"]+"|, platform_id: "[^"]+"', "", text)
    assert without_ids == REGISTRY
    assert "  - {platform: youtube, handle: CultureChannel, platform_id: \"UC" in text
    assert "    handle: culture.page   # main page\n    platform_id: \"" in text
    written = load_registry(registry_file)
    before = {a.handle: a.verified for a in load_registry_text(REGISTRY).accounts}
    assert {a.handle: a.verified for a in written.accounts} == before
    ids = {a.handle: a.platform_id for a in written.accounts}
    assert all(ids.values())
    assert ids["CultureChannel"].startswith("UC")
    assert ids["tax_channel"].startswith("-100")
    # A second --write finds everything already recorded.
    status, out, _ = _check(capsys, "--write")
    assert status == 0 and "nothing to update" in out
    assert registry_file.read_text(encoding="utf-8") == text


def test_renamed_gone_and_private_accounts_exit_1_with_one_stderr_line_each(
        sandbox, registry_file, capsys):
    assert _check(capsys, "--write")[0] == 0  # record every platform_id first
    ids = {a.handle: a.platform_id for a in load_registry(registry_file).accounts}
    sandbox.set(faults={"x": {"renamed": {"culture_az": "culture_new"}, "private": ["tax_private"]},
                        "facebook": {"deleted_account": ["old.tax.page"]},
                        "youtube": {"renamed": {"CultureChannel": "KulturKanal"}},
                        "telegram": {"renamed": {"tax_channel": "tax_news"}}})
    status, out, err = _check(capsys)
    assert status == 1
    assert "renamed (now culture_new)" in _line(out, "x", "culture_az")
    assert f"platform_id {ids['culture_az']}" in _line(out, "x", "culture_az")
    assert "renamed (now kulturkanal)" in _line(out, "youtube", "CultureChannel")
    assert "renamed (now tax_news)" in _line(out, "telegram", "tax_channel")
    assert ": gone" in _line(out, "facebook", "old.tax.page")
    assert ": private" in _line(out, "x", "tax_private")
    assert ": found" in _line(out, "facebook", "culture.page")
    problems = err.splitlines()
    assert len(problems) == 5
    assert all(line.startswith("agency-pulse: ") for line in problems)
    for text in ("x culture_az: renamed", "youtube CultureChannel: renamed",
                 "telegram tax_channel: renamed", "facebook old.tax.page: gone",
                 "x tax_private: private"):
        assert sum(text in line for line in problems) == 1, text
    # No connection's token (Telegram's sits in the URL) reaches the report.
    settings = Settings.from_environment()
    assert connections.resolve("telegram", settings).secrets
    for platform in ("facebook", "instagram", "youtube", "x", "telegram"):
        for secret in connections.resolve(platform, settings).secrets:
            assert secret not in out + err


def test_write_records_a_rename_under_the_same_id_and_never_touches_verified(
        sandbox, registry_file, capsys):
    assert _check(capsys, "--write")[0] == 0
    before = registry_file.read_text(encoding="utf-8")
    x_id = load_registry(registry_file).accounts[1].platform_id
    sandbox.set(faults={"x": {"renamed": {"culture_az": "culture_new"}}})
    status, out, _ = _check(capsys, "--write", "--platform", "x")
    assert status == 1  # this run saw a rename: a scheduled check must notice
    assert "1 account(s) updated" in out
    after = registry_file.read_text(encoding="utf-8")
    assert after == before.replace("    handle: culture_az\n", "    handle: culture_new\n")
    account = load_registry(registry_file).accounts[1]
    assert (account.handle, account.platform_id, account.verified) == ("culture_new", x_id, True)
    # Checked again, the registry now matches the platform.
    status, out, err = _check(capsys, "--platform", "x")
    assert status == 0, err
    assert ": found" in _line(out, "x", "culture_new")


def test_a_handle_that_names_another_account_than_the_registry_id_is_ambiguous(
        sandbox, registry_file, capsys):
    assert _check(capsys, "--write")[0] == 0
    registry = load_registry(registry_file)
    other_id = registry.accounts[0].platform_id  # culture.page's id, put on old.tax.page
    text = registry_file.read_text(encoding="utf-8")
    old_line = next(line for line in text.splitlines()
                    if "platform_id" in line and other_id not in line
                    and text.index(line) > text.index("old.tax.page"))
    registry_file.write_text(text.replace(old_line, f'    platform_id: "{other_id}"'),
                             encoding="utf-8")
    status, out, err = _check(capsys, "--platform", "facebook", "--write")
    assert status == 1
    assert ": ambiguous" in _line(out, "facebook", "old.tax.page")
    assert "facebook old.tax.page: ambiguous" in err
    # An ambiguous account is a person's to sort out: --write leaves it alone.
    assert f'    platform_id: "{other_id}"' in registry_file.read_text(encoding="utf-8")


def test_without_any_connection_the_check_fails_each_account(registry_file, tmp_path,
                                                              monkeypatch, capsys):
    monkeypatch.setenv("AGENCY_PULSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AGENCY_PULSE_REGISTRY", str(registry_file))
    monkeypatch.setenv("AGENCY_PULSE_DEFAULT_SOURCE", "airflow")
    monkeypatch.delenv("AGENCY_PULSE_SANDBOX_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_AGENCY_PULSE_X", raising=False)
    status, out, err = _check(capsys, "--platform", "x")
    assert status == 1
    assert len(err.splitlines()) == 2
    assert "x culture_az: failed: no connection agency_pulse_x" in err


def test_bad_usage_exits_2(registry_file, monkeypatch, capsys):
    monkeypatch.setenv("AGENCY_PULSE_REGISTRY", str(registry_file))  # never the shipped file
    for argv in (["registry"], ["registry", "check", "--platform", "myspace"],
                 ["registry", "check", "--force"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2
    assert registry_file.read_text(encoding="utf-8") == REGISTRY


# --------------------------------------------------------------------------- the daily run

@pytest.mark.parametrize("module, platform, old, new", [
    (facebook, "facebook", "culture.page", "culture.new"),
    (youtube, "youtube", "CultureChannel", "KulturKanal"),
    (x, "x", "culture_az", "kultura_az"),
    (telegram, "telegram", "tax_channel", "tax_news"),
])
def test_a_daily_run_notes_a_handle_change_and_keeps_the_account_id(
        sandbox, registry_file, capsys, module, platform, old, new):
    assert _check(capsys, "--write", "--platform", platform)[0] == 0
    account = next(a for a in load_registry(registry_file).accounts if a.handle == old)
    sandbox.set(faults={platform: {"renamed": {old: new}}})
    conn = connections.resolve(platform, Settings.from_environment())
    client = build_client(conn)
    result = module.extract(client, conn, [account], DAY, ExtractState())
    status, reason, *_ = result.outcomes[account.account_id]
    assert status == "ok"
    assert f"handle changed: {old} -> {new.lower() if platform == 'youtube' else new}" in reason
    assert {row["account_id"] for row in result.account_snapshots} == {account.account_id}
    assert result.account_snapshots[0]["platform_id"] == account.platform_id
    assert result.account_snapshots[0]["followers"] is not None
    if platform in ("x", "telegram"):  # asked by id: the posts are the renamed account's
        assert result.posts and not result.post_deletions


def test_a_daily_run_without_a_change_says_nothing(sandbox, registry_file, capsys):
    assert _check(capsys, "--write", "--platform", "facebook")[0] == 0
    account = load_registry(registry_file).accounts[0]
    conn = connections.resolve("facebook", Settings.from_environment())
    result = facebook.extract(build_client(conn), conn, [account], DAY, ExtractState())
    status, reason, *_ = result.outcomes[account.account_id]
    assert status == "ok"
    assert reason is None or "handle changed" not in reason


# --------------------------------------------------------------------------- pieces

def load_registry_text(text: str):
    from agency_pulse.registry import parse_registry

    return parse_registry(yaml.safe_load(text))


def _account(**fields) -> Account:
    return Account(agency_id="a", platform=fields.pop("platform", "x"),
                   handle=fields.pop("handle", "old_name"), **fields)


@pytest.mark.parametrize("account, lookup, expected", [
    (_account(), AccountLookup(Lookup("found", "1", "old_name")), ("found", "1", None)),
    (_account(platform_id="1"), AccountLookup(Lookup("missing"), Lookup("found", "1", "New_Name")),
     ("renamed", "1", "New_Name")),
    (_account(platform_id="1"), AccountLookup(Lookup("missing"), Lookup("missing")),
     ("gone", None, None)),
    (_account(platform_id="1"), AccountLookup(Lookup("found", "2", "old_name"), Lookup("missing")),
     ("ambiguous", None, None)),
    (_account(platform_id="1"), AccountLookup(Lookup("found", "2", "old_name"),
                                              Lookup("found", "1", "new_name")),
     ("ambiguous", None, None)),
    (_account(platform_id="1"), AccountLookup(Lookup("found", "2", "old_name")),
     ("ambiguous", None, None)),
    (_account(platform_id="1"), AccountLookup(Lookup("found", "1", "OLD_NAME")),
     ("found", "1", None)),
    (_account(), AccountLookup(Lookup("private", "3", "old_name")), ("private", "3", None)),
    (_account(), AccountLookup(Lookup("ambiguous", detail="2 channels")),
     ("ambiguous", None, None)),
    (_account(), AccountLookup(Lookup("failed", detail="HTTP 500")), ("failed", None, None)),
])
def test_decide(account, lookup, expected):
    assert decide(account, lookup)[:3] == expected


def test_edit_keeps_every_other_character():
    text = ("agencies:  # top\n"
            "  - id: a\n"
            "    name: A\n"
            "    accounts:\n"
            "      - platform: x\n"
            "        handle: \"old_name\"  # quoted on purpose\n"
            "        platform_id: '5'\n"
            "        verified: false\n"
            "      - {platform: facebook, handle: some.page}\n")
    edited = edit_registry_text(text, [Change((0, 0), platform_id="7", handle="new_name"),
                                       Change((0, 1), platform_id="9")])
    assert edited == text.replace('"old_name"', "new_name").replace("'5'", '"7"').replace(
        "handle: some.page}", 'handle: some.page, platform_id: "9"}')


def test_a_handle_yaml_would_read_as_another_type_is_quoted():
    text = "agencies:\n- id: a\n  name: A\n  accounts:\n  - platform: x\n    handle: abc\n"
    edited = edit_registry_text(text, [Change((0, 0), handle="null")])
    assert yaml.safe_load(edited)["agencies"][0]["accounts"][0]["handle"] == "null"


def test_verdict_lines_name_platform_and_handle():
    verdict = registry_check.Verdict(_account(), (0, 0), "gone", None, None, "not found")
    assert verdict.line() == "x old_name: gone: not found"


def test_a_renamed_telegram_channel_reports_no_deletion_of_its_known_posts(
        sandbox, registry_file, capsys):
    assert _check(capsys, "--write", "--platform", "telegram")[0] == 0
    [account] = load_registry(registry_file).accounts_for("telegram")
    conn = connections.resolve("telegram", Settings.from_environment())
    before = telegram.extract(build_client(conn), conn, [account], DAY, ExtractState())
    assert before.posts and before.posts[0]["post_id"].startswith("tax_channel/")
    state = ExtractState(known_post_ids={account.account_id: {
        (p["post_id"], p["published_at"]) for p in before.posts}})
    sandbox.set(faults={"telegram": {"renamed": {"tax_channel": "tax_news"}}})
    after = telegram.extract(build_client(conn), conn, [account], DAY, state)
    assert after.outcomes[account.account_id][:2] == (
        "ok", "handle changed: tax_channel -> tax_news")
    assert {p["post_id"].split("/")[1] for p in after.posts} == {
        p["post_id"].split("/")[1] for p in before.posts}
    assert after.post_deletions == []  # the same messages under the new handle
