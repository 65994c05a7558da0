"""The agency registry (contract section 5): load, validate, and look up accounts.

Every problem is reported with the offending path, e.g. ``agencies[3].accounts[1].platform``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from agency_pulse.config import PLATFORMS, registry_path
from agency_pulse.errors import RegistryError

AGENCY_ID = re.compile(r"^[a-z0-9-]+$")


def normalize_handle(handle: str) -> str:
    """Handles compare case-insensitively, a leading ``@`` ignored."""
    return handle.strip().lstrip("@").strip().lower()


def account_id_for(platform: str, handle: str) -> str:
    """The stable id of an account across the lake, the warehouse and the marts."""
    return f"{platform}:{normalize_handle(handle)}"


@dataclass(frozen=True)
class Account:
    agency_id: str
    platform: str
    handle: str
    platform_id: str | None = None
    label: str | None = None
    active_from: date | None = None
    active_to: date | None = None
    verified: bool = True

    @property
    def account_id(self) -> str:
        return account_id_for(self.platform, self.handle)

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or day <= self.active_to)


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    name_en: str | None = None
    kind: str | None = None
    jurisdiction: str | None = None
    active_from: date | None = None
    active_to: date | None = None
    successor_of: tuple[str, ...] = ()
    accounts: tuple[Account, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Registry:
    agencies: tuple[Agency, ...]
    source: str = "<memory>"

    @property
    def accounts(self) -> list[Account]:
        return [a for agency in self.agencies for a in agency.accounts]

    def agency(self, agency_id: str) -> Agency | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def accounts_for(self, platform: str) -> list[Account]:
        return [a for a in self.accounts if a.platform == platform]

    def find_account(self, agency_id: str, platform: str, handle: str) -> Account | None:
        wanted = account_id_for(platform, handle)
        return next((a for a in self.accounts if a.agency_id == agency_id
                     and a.account_id == wanted), None)


class _RegistryLoader(yaml.SafeLoader):
    """SafeLoader that leaves an impossible date (2026-13-45) as text, so the registry's own
    date check names its path instead of YAML raising a bare ValueError."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_RegistryLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def load_registry(path: str | Path | None = None) -> Registry:
    """Load and validate the registry YAML; raise RegistryError naming the bad path."""
    path = Path(path) if path else registry_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(f"registry {path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(f"registry {path}: not UTF-8 (byte {exc.start})") from None
    try:
        document = yaml.load(text, Loader=_RegistryLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise RegistryError(f"registry {path}:{where}: {problem}") from None
    return parse_registry(document, source=str(path))


def parse_registry(document: object, source: str = "<memory>") -> Registry:
    def fail(where: str, why: str) -> RegistryError:
        return RegistryError(f"registry {source}: {where}: {why}")

    if not isinstance(document, dict) or not isinstance(document.get("agencies"), list):
        raise fail("agencies", "the file must be a mapping with a list under 'agencies'")

    agencies: list[Agency] = []
    seen_ids: dict[str, str] = {}
    for i, raw in enumerate(document["agencies"]):
        where = f"agencies[{i}]"
        if not isinstance(raw, dict):
            raise fail(where, "must be a mapping")
        agency_id = raw.get("id")
        if not isinstance(agency_id, str) or not AGENCY_ID.match(agency_id):
            raise fail(f"{where}.id", f"must be a slug of [a-z0-9-]+, got {agency_id!r}")
        if agency_id in seen_ids:
            raise fail(f"{where}.id", f"duplicate agency id {agency_id!r} (first at {seen_ids[agency_id]})")
        seen_ids[agency_id] = where
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise fail(f"{where}.name", "required")
        active_from = _date(raw.get("active_from"), f"{where}.active_from", fail)
        active_to = _date(raw.get("active_to"), f"{where}.active_to", fail)
        if active_from and active_to and active_to < active_from:
            raise fail(f"{where}.active_to", "is before active_from")
        successor_of = raw.get("successor_of") or []
        if not isinstance(successor_of, list) or not all(isinstance(s, str) for s in successor_of):
            raise fail(f"{where}.successor_of", "must be a list of agency ids")
        accounts = []
        raw_accounts = raw.get("accounts") or []
        if not isinstance(raw_accounts, list):
            raise fail(f"{where}.accounts", "must be a list")
        for j, acc in enumerate(raw_accounts):
            accounts.append(_account(acc, agency_id, f"{where}.accounts[{j}]", fail))
        agencies.append(Agency(
            id=agency_id, name=name.strip(), name_en=_text(raw.get("name_en")),
            kind=_text(raw.get("kind")), jurisdiction=_text(raw.get("jurisdiction")),
            active_from=active_from, active_to=active_to,
            successor_of=tuple(successor_of), accounts=tuple(accounts)))

    for i, agency in enumerate(agencies):
        for k, predecessor in enumerate(agency.successor_of):
            if predecessor not in seen_ids:
                raise fail(f"agencies[{i}].successor_of[{k}]", f"unknown agency {predecessor!r}")
            if predecessor == agency.id:
                raise fail(f"agencies[{i}].successor_of[{k}]", "an agency cannot succeed itself")

    _check_shared_accounts(agencies, fail)
    return Registry(agencies=tuple(agencies), source=source)


def _account(raw: object, agency_id: str, where: str, fail) -> Account:
    if not isinstance(raw, dict):
        raise fail(where, "must be a mapping")
    platform = raw.get("platform")
    if platform not in PLATFORMS:
        raise fail(f"{where}.platform", f"unknown platform {platform!r} (one of {', '.join(PLATFORMS)})")
    handle = raw.get("handle")
    if isinstance(handle, int):
        handle = str(handle)
    if not isinstance(handle, str) or not normalize_handle(handle):
        raise fail(f"{where}.handle", "required")
    if any(ch.isspace() or ord(ch) < 32 for ch in normalize_handle(handle)):
        raise fail(f"{where}.handle", f"must not contain spaces or control characters: {handle!r}")
    platform_id = raw.get("platform_id")
    if platform_id is not None:
        platform_id = str(platform_id)
    verified = raw.get("verified", True)
    if not isinstance(verified, bool):
        raise fail(f"{where}.verified", "must be true or false")
    active_from = _date(raw.get("active_from"), f"{where}.active_from", fail)
    active_to = _date(raw.get("active_to"), f"{where}.active_to", fail)
    if active_from and active_to and active_to < active_from:
        raise fail(f"{where}.active_to", "is before active_from")
    return Account(agency_id=agency_id, platform=platform, handle=handle.strip().lstrip("@"),
                   platform_id=platform_id, label=_text(raw.get("label")),
                   active_from=active_from, active_to=active_to, verified=verified)


def _check_shared_accounts(agencies: list[Agency], fail) -> None:
    """The same account may not belong to two agencies over overlapping periods."""
    owners: dict[str, list[tuple[str, Account]]] = {}
    for i, agency in enumerate(agencies):
        for j, account in enumerate(agency.accounts):
            where = f"agencies[{i}].accounts[{j}]"
            for other_where, other in owners.get(account.account_id, []):
                if other.agency_id == account.agency_id:
                    raise fail(where, f"duplicate of {other_where}")
                if _overlap(account, other):
                    raise fail(where, f"account {account.platform} {account.handle!r} already "
                               f"belongs to agency {other.agency_id!r} ({other_where}) in the same period")
            owners.setdefault(account.account_id, []).append((where, account))


def _overlap(a: Account, b: Account) -> bool:
    lo = max(a.active_from or date.min, b.active_from or date.min)
    hi = min(a.active_to or date.max, b.active_to or date.max)
    return lo <= hi


def _date(value: object, where: str, fail) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise fail(where, f"not a date in YYYY-MM-DD form: {value!r}")


def _text(value: object) -> str | None:
    return None if value is None else str(value)
