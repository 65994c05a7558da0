"""The agency registry (docs/REFERENCE.md, Agency registry): load, validate, and look up accounts.

Every problem is reported with the offending path, e.g. ``agencies[3].accounts[1].platform``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from agency_pulse import platforms
from agency_pulse.config import PLATFORMS, registry_path
from agency_pulse.errors import RegistryError

AGENCY_ID = re.compile(r"^[a-z0-9-]+$")
MAX_AGENCY_ID = 100
MAX_TEXT = 300  # names, labels, kinds: longer is a paste accident, not a name
MAX_PLATFORM_ID = 100
_SHOWN_CHARS = 40  # how much of a bad value an error line quotes

ROOT_KEYS = ("agencies",)
AGENCY_KEYS = ("id", "name", "name_en", "kind", "jurisdiction", "active_from", "active_to",
               "successor_of", "accounts")
ACCOUNT_KEYS = ("platform", "handle", "platform_id", "label", "active_from", "active_to",
                "verified")


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


class _RegistryLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's where PyYAML has it: a 10,000-account registry parses in a
    tenth of the time) that leaves an impossible date (2026-13-45) as text, so the
    registry's own date check names its path instead of YAML raising a bare ValueError."""


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
    _check_keys(document, ROOT_KEYS, "", fail)

    agencies: list[Agency] = []
    seen_ids: dict[str, str] = {}
    for i, raw in enumerate(document["agencies"]):
        where = f"agencies[{i}]"
        if not isinstance(raw, dict):
            raise fail(where, "must be a mapping")
        _check_keys(raw, AGENCY_KEYS, where, fail)
        agency_id = raw.get("id")
        if not isinstance(agency_id, str) or not AGENCY_ID.fullmatch(agency_id):
            raise fail(f"{where}.id", f"must be a slug of [a-z0-9-]+, got {_show(agency_id)}")
        if len(agency_id) > MAX_AGENCY_ID:
            raise fail(f"{where}.id", f"too long: {len(agency_id)} characters "
                                      f"(at most {MAX_AGENCY_ID})")
        if agency_id in seen_ids:
            raise fail(f"{where}.id", f"duplicate agency id {agency_id!r} (first at {seen_ids[agency_id]})")
        seen_ids[agency_id] = where
        name = _text(raw.get("name"), f"{where}.name", fail)
        if name is None or not name.strip():
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
            id=agency_id, name=name.strip(),
            name_en=_text(raw.get("name_en"), f"{where}.name_en", fail),
            kind=_text(raw.get("kind"), f"{where}.kind", fail),
            jurisdiction=_text(raw.get("jurisdiction"), f"{where}.jurisdiction", fail),
            active_from=active_from, active_to=active_to,
            successor_of=tuple(successor_of), accounts=tuple(accounts)))

    for i, agency in enumerate(agencies):
        for k, predecessor in enumerate(agency.successor_of):
            if predecessor not in seen_ids:
                raise fail(f"agencies[{i}].successor_of[{k}]", f"unknown agency {_show(predecessor)}")
            if predecessor == agency.id:
                raise fail(f"agencies[{i}].successor_of[{k}]", "an agency cannot succeed itself")

    _check_shared_accounts(agencies, fail)
    return Registry(agencies=tuple(agencies), source=source)


def _account(raw: object, agency_id: str, where: str, fail) -> Account:
    if not isinstance(raw, dict):
        raise fail(where, "must be a mapping")
    _check_keys(raw, ACCOUNT_KEYS, where, fail)
    platform = raw.get("platform")
    if not isinstance(platform, str) or platform not in PLATFORMS:
        raise fail(f"{where}.platform",
                   f"unknown platform {_show(platform)} (one of {', '.join(PLATFORMS)})")
    handle = raw.get("handle")
    if isinstance(handle, int):
        handle = str(handle)
    if not isinstance(handle, str) or not normalize_handle(handle):
        raise fail(f"{where}.handle", "required")
    problem = handle_problem(platform, handle)
    if problem:
        raise fail(f"{where}.handle", problem)
    platform_id = raw.get("platform_id")
    if platform_id is not None:
        platform_id = _platform_id(platform_id, f"{where}.platform_id", fail)
    verified = raw.get("verified", True)
    if not isinstance(verified, bool):
        raise fail(f"{where}.verified", "must be true or false")
    active_from = _date(raw.get("active_from"), f"{where}.active_from", fail)
    active_to = _date(raw.get("active_to"), f"{where}.active_to", fail)
    if active_from and active_to and active_to < active_from:
        raise fail(f"{where}.active_to", "is before active_from")
    return Account(agency_id=agency_id, platform=platform, handle=handle.strip().lstrip("@"),
                   platform_id=platform_id, label=_text(raw.get("label"), f"{where}.label", fail),
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


def handle_problem(platform: str, handle: str) -> str | None:
    """Why ``handle`` is not a valid handle of ``platform`` (None when it is).

    The leading ``@`` and surrounding spaces are ignored, as everywhere. Nothing is
    normalised: a look-alike or an invisible character is an error, so a crafted handle
    can never pass as another account.
    """
    bare = handle.strip().lstrip("@").strip()
    rule = platforms.get(platform).handle_rule
    if len(bare) > rule.max_length:
        return (f"too long: {len(bare)} characters ({platform} handles are at most "
                f"{rule.max_length}): {_show(handle)}")
    for ch in bare:
        category = unicodedata.category(ch)
        if category == "Cf":
            return (f"contains the invisible format character {_codepoint(ch)} (zero-width and "
                    f"other format characters are refused, never removed): {_show(handle)}")
        if category in ("Cc", "Zs", "Zl", "Zp") or ch.isspace():
            return f"must not contain spaces or control characters ({_codepoint(ch)}): {_show(handle)}"
    for ch in bare:
        if not ch.isascii():
            return (f"contains the non-ASCII character {_codepoint(ch)}; {platform} handles are "
                    f"ASCII only (a look-alike letter names another account): {_show(handle)}")
    if not rule.pattern.fullmatch(bare):
        return f"not a valid {platform} handle ({rule.shape}): {_show(handle)}"
    if not any(ch.isalnum() for ch in bare):
        return f"not a valid {platform} handle (no letter or digit): {_show(handle)}"
    return None


def _check_keys(mapping: dict, allowed: tuple[str, ...], where: str, fail) -> None:
    """A key the format does not know is a typo until proven otherwise: refuse it."""
    for key in mapping:
        if key in allowed:
            continue
        shown = _printable(str(key))[:_SHOWN_CHARS]
        path = f"{where}.{shown}" if where else shown
        close = difflib.get_close_matches(str(key), allowed, n=1) if isinstance(key, str) else []
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
        raise fail(path, f"unknown key ({hint})")


def _text(value: object, where: str, fail) -> str | None:
    """An optional piece of free text: any script, but one line's worth and no control bytes."""
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        raise fail(where, "must be text, not a list or mapping")
    text = value.isoformat() if isinstance(value, date) else str(value)
    if len(text) > MAX_TEXT:
        raise fail(where, f"too long: {len(text)} characters (at most {MAX_TEXT})")
    bad = next((ch for ch in text if unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        raise fail(where, f"must not contain control characters ({_codepoint(bad)})")
    return text


def _platform_id(value: object, where: str, fail) -> str:
    if isinstance(value, (list, dict, bool, float)):
        raise fail(where, "must be the platform's id as text or digits")
    text = str(value)
    if not text or len(text) > MAX_PLATFORM_ID:
        raise fail(where, f"must be 1 to {MAX_PLATFORM_ID} characters, got {len(text)}")
    bad = next((ch for ch in text if not (ch.isascii() and ch.isprintable()) or ch.isspace()), None)
    if bad is not None:
        raise fail(where, f"must be printable ASCII without spaces ({_codepoint(bad)}): {_show(text)}")
    return text


def _codepoint(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _printable(text: str) -> str:
    """Text safe for one error line: control, format and bidi characters escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _show(value: object) -> str:
    """A user's value quoted for an error line: escaped and cut to a readable length."""
    if not isinstance(value, str):
        return repr(value)[:_SHOWN_CHARS]
    shown = _printable(value)
    if len(shown) > _SHOWN_CHARS:
        shown = shown[:_SHOWN_CHARS] + f"... ({len(value)} characters)"
    return f"'{shown}'"
