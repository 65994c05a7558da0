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
