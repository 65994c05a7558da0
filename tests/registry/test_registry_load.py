"""The registry loader: the shipped file, and every rejection names its path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from agency_pulse.errors import RegistryError
from agency_pulse.registry import account_id_for, load_registry, parse_registry

# The seed list of the newsroom monitoring the shipped registry started from.
SEED = Path(__file__).resolve().parents[1] / "fixtures" / "registry" / "seed_agencies.yaml"


def _doc(**agency_overrides):
    agency = {"id": "culture", "name": "Mədəniyyət Nazirliyi", "accounts": [
        {"platform": "facebook", "handle": "culture.page"}]}
    agency.update(agency_overrides)
    return {"agencies": [agency]}


def test_shipped_registry_holds_every_seed_agency_with_succession():
    registry = load_registry()
    ids = {a.id for a in registry.agencies}
    seed = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    assert ids == {a["id"] for a in seed["agencies"]}
    culture = registry.agency("culture")
    assert culture.successor_of == ("culture-tourism",)
    assert registry.agency("tourism-agency").successor_of == ("culture-tourism",)
    assert registry.agency("culture-tourism").active_to == date(2018, 4, 19)
    assert culture.name == "Mədəniyyət Nazirliyi"
    # accounts on every platform each agency is reported on (and all five covered)
    for agency in seed["agencies"]:
        have = {a.platform for a in registry.agency(agency["id"]).accounts}
        assert set(agency["platforms_reported"]) <= have, agency["id"]
    assert {a.platform for a in registry.accounts} == {
        "facebook", "instagram", "youtube", "x", "telegram"}
    # nobody has confirmed the handles yet
    assert registry.accounts and not any(a.verified for a in registry.accounts)


def test_account_ids_ignore_case_and_leading_at():
    assert account_id_for("x", "@MFA_Azerbaijan") == account_id_for("x", "mfa_azerbaijan")
    registry = parse_registry(_doc())
    assert registry.find_account("culture", "facebook", "@Culture.Page") is not None
    assert registry.find_account("culture", "x", "culture.page") is None


@pytest.mark.parametrize("document, path", [
    ({"agencies": [{"id": "a", "name": "A", "accounts": [
        {"platform": "myspace", "handle": "h"}]}]}, "agencies[0].accounts[0].platform"),
    ({"agencies": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}, "agencies[1].id"),
    ({"agencies": [{"id": "A B", "name": "A"}]}, "agencies[0].id"),
    ({"agencies": [{"id": "a", "name": "A", "successor_of": ["ghost"]}]},
     "agencies[0].successor_of[0]"),
    ({"agencies": [{"id": "a", "name": "A", "active_from": "2018-13-01"}]},
     "agencies[0].active_from"),
    ({"agencies": [{"id": "a", "name": "A", "accounts": [
        {"platform": "x", "handle": "h", "active_to": "yesterday"}]}]},
     "agencies[0].accounts[0].active_to"),
    ({"agencies": [
        {"id": "a", "name": "A", "accounts": [{"platform": "x", "handle": "Same"}]},
        {"id": "b", "name": "B", "accounts": [{"platform": "x", "handle": "@same"}]}]},
     "agencies[1].accounts[0]"),
    ({"agencies": [{"id": "a", "name": "A", "accounts": [{"platform": "x"}]}]},
     "agencies[0].accounts[0].handle"),
    ({"agencies": {"id": "a"}}, "agencies"),
])
def test_rejections_name_the_offending_path(document, path):
    with pytest.raises(RegistryError) as info:
        parse_registry(document, source="reg.yaml")
    message = str(info.value)
    assert f": {path}: " in message and "\n" not in message


def test_an_account_may_change_agency_over_non_overlapping_periods():
    document = {"agencies": [
        {"id": "old", "name": "Old", "accounts": [
            {"platform": "facebook", "handle": "page", "active_to": "2018-04-19"}]},
        {"id": "new", "name": "New", "successor_of": ["old"], "accounts": [
            {"platform": "facebook", "handle": "page", "active_from": "2018-04-20"}]}]}
    registry = parse_registry(document)
    assert [a.agency_id for a in registry.accounts] == ["old", "new"]
    assert registry.accounts[0].active_on(date(2018, 4, 19))
    assert not registry.accounts[0].active_on(date(2018, 4, 20))


def test_broken_yaml_and_missing_file_are_one_line_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("agencies:\n  - id: a\n    name: [unclosed\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"broken.yaml: line \d+"):
        load_registry(broken)
    with pytest.raises(RegistryError, match="file not found"):
        load_registry(tmp_path / "missing.yaml")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("agencies: [{id: a, name: M\xe4}]".encode("latin-1"))
    with pytest.raises(RegistryError, match="not UTF-8"):
        load_registry(latin1)


def _account_doc(**account):
    return {"agencies": [{"id": "a", "name": "A", "accounts": [
        {"platform": "x", "handle": "good_one"}, account]}]}


def _rejection(document) -> str:
    with pytest.raises(RegistryError) as info:
        parse_registry(document, source="reg.yaml")
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("document, text", [
    ({"agencies": [{"id": "a", "name": "A", "nmae_en": "Agency A"}]},
     ": agencies[0].nmae_en: unknown key (did you mean 'name_en'?)"),
    (_account_doc(platform="x", handle="culture_az", verifed=True),
     ": agencies[0].accounts[1].verifed: unknown key (did you mean 'verified'?)"),
    ({"agencies": [], "agencie": []}, ": agencie: unknown key"),
    ({"agencies": [{"id": "a", "name": "A", 7: "x"}]}, ": agencies[0].7: unknown key"),
    ({"agencies": [{"id": "a", "name": "A", "na\nme": "x"}]}, r": agencies[0].na\nme: unknown key"),
])
def test_unknown_keys_are_rejected_with_their_path(document, text):
    assert text in _rejection(document)


@pytest.mark.parametrize("platform, handle, reason", [
    # a Cyrillic 'а' (U+0430) in a Latin handle: a look-alike of another account
    ("facebook", "cult\u0430re.page", "non-ASCII character U+0430 CYRILLIC SMALL LETTER A"),
    ("x", "culture\u200b_az", "invisible format character U+200B ZERO WIDTH SPACE"),
    ("instagram", "culture\u2060az", "invisible format character U+2060 WORD JOINER"),
    ("telegram", "culture_az\u00ad", "invisible format character U+00AD SOFT HYPHEN"),
    ("youtube", "\u202eCultureTV", "invisible format character U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("x", "ｃulture", "non-ASCII character U+FF43 FULLWIDTH LATIN SMALL LETTER C"),
    ("x", "a" * 200_000, "too long: 200000 characters (x handles are at most 15)"),
    ("facebook", "p" * 51, "too long: 51 characters (facebook handles are at most 50)"),
    ("instagram", "i" * 31, "at most 30"),
    ("youtube", "Y" * 31, "at most 30"),
    ("telegram", "t" * 33, "at most 32"),
    ("telegram", "chan", "not a valid telegram handle (5 to 32"),
    ("x", "culture.az", "not a valid x handle (1 to 15 letters, digits or underscores)"),
    ("x", "culture-az", "not a valid x handle"),
    ("facebook", "culture_az", "not a valid facebook handle"),
    ("facebook", "../../etc", "not a valid facebook handle"),
    ("facebook", "...", "no letter or digit"),
    ("instagram", "it's", "not a valid instagram handle"),
    ("youtube", "$(id)", "not a valid youtube handle"),
    ("youtube", "ab", "not a valid youtube handle"),
    ("x", "tab\there", "spaces or control characters (U+0009"),
    ("x", "nul\x00", "spaces or control characters (U+0000"),
    ("x", "no\u00a0break", "spaces or control characters (U+00A0"),
])
def test_handles_outside_their_platforms_rules_are_rejected(platform, handle, reason):
    message = _rejection(_account_doc(platform=platform, handle=handle))
    assert ": agencies[0].accounts[1].handle: " in message
    assert reason in message
    assert len(message) < 400  # a 200,000-character handle is not quoted whole


@pytest.mark.parametrize("platform, handle", [
    ("facebook", "agro.gov.az"), ("facebook", "cnn"), ("facebook", "100064599481287"),
    ("facebook", "p" * 50), ("instagram", "taxes.gov.az"), ("instagram", "a"),
    ("instagram", "i" * 30), ("youtube", "@TehsilNazirliyi"), ("youtube", "Culture-TV.az"),
    ("youtube", "UCBR8-60-B28hp2BmDPdntcQ"), ("youtube", "Y" * 30), ("x", "@MFA_Azerbaijan"),
    ("x", "h"), ("x", "x" * 15), ("telegram", "fhn_gov_az"), ("telegram", "t" * 32),
    ("telegram", "@chann"),
])
def test_valid_handles_of_each_platform_are_accepted(platform, handle):
    registry = parse_registry(_account_doc(platform=platform, handle=handle))
    assert registry.accounts[1].handle == handle.lstrip("@")


def test_a_look_alike_never_passes_as_another_agencys_account():
    """Before, a Cyrillic 'а' or a zero-width space made a 'different' account, so the
    same page could sit under two agencies at once."""
    for twin in ("cult\u0430re.page", "culture\u200b.page", "culture.page\ufeff"):
        document = {"agencies": [
            {"id": "a", "name": "A", "accounts": [{"platform": "facebook", "handle": "culture.page"}]},
            {"id": "b", "name": "B", "accounts": [{"platform": "facebook", "handle": twin}]}]}
        message = _rejection(document)
        assert ": agencies[1].accounts[0].handle: " in message
        assert "non-ASCII" in message or "format character" in message


@pytest.mark.parametrize("field, value, text", [
    ("name", "N" * 1_000_000, "agencies[0].name: too long: 1000000 characters (at most 300)"),
    ("name_en", "N" * 301, "agencies[0].name_en: too long: 301 characters (at most 300)"),
    ("kind", "k" * 301, "agencies[0].kind: too long"),
    ("jurisdiction", "J" * 301, "agencies[0].jurisdiction: too long"),
    ("name", "Culture\x00Ministry", "agencies[0].name: must not contain control characters (U+0000"),
    ("name_en", ["a", "list"], "agencies[0].name_en: must be text"),
    ("id", "a" * 101, "agencies[0].id: too long: 101 characters (at most 100)"),
])
def test_agency_texts_have_length_caps_and_no_control_characters(field, value, text):
    agency = {"id": "a", "name": "A"}
    agency[field] = value
    message = _rejection({"agencies": [agency]})
    assert text in message and len(message) < 400


def test_account_label_and_platform_id_are_checked():
    assert "agencies[0].accounts[1].label: too long: 301" in _rejection(
        _account_doc(platform="x", handle="culture_az", label="L" * 301))
    assert "agencies[0].accounts[1].platform_id: must be printable ASCII" in _rejection(
        _account_doc(platform="x", handle="culture_az", platform_id="12\u200b34"))
    assert "agencies[0].accounts[1].platform_id: must be 1 to 100 characters" in _rejection(
        _account_doc(platform="x", handle="culture_az", platform_id="1" * 101))


def test_names_keep_any_script_and_bidi_marks_within_the_cap():
    name = "\u202eycnegA lanoitaN\u200f وزارة " + "Ə" * 250
    registry = parse_registry({"agencies": [{"id": "a", "name": name, "name_en": "N" * 300,
                                             "accounts": [{"platform": "x", "handle": "@edu_az",
                                                           "platform_id": 1234}]}]})
    assert registry.agencies[0].name == name
    assert registry.accounts[0].handle == "edu_az"
    assert registry.accounts[0].platform_id == "1234"


def test_shipped_registry_handles_follow_their_platforms_rules():
    from agency_pulse.registry import handle_problem

    registry = load_registry()
    assert [a.handle for a in registry.accounts if handle_problem(a.platform, a.handle)] == []
