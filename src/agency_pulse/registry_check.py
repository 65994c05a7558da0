"""`agency-pulse registry check [--write] [--platform P ...]`: every registry account asked of
its platform (docs/REFERENCE.md, Agency registry, Account identity).

Each handle is looked up through the same connections as extraction (a platform's own
batch lookup, ``resolve_accounts`` next to its extractor, named in ``agency_pulse.platforms``),
and, when the registry knows it, the account's ``platform_id`` too. One verdict per account:

| status      | meaning                                                                   |
|-------------|---------------------------------------------------------------------------|
| `found`     | the handle names the account (its id filled when the registry lacks it)   |
| `renamed`   | the registry's ``platform_id`` now answers with another handle: the same   |
|             | account, whose history continues under the new handle                     |
| `gone`      | neither the handle nor the id finds an account                            |
| `private`   | the account exists but may not be read                                    |
| `ambiguous` | the handle and the id disagree (the handle names another account), or     |
|             | several accounts answer                                                   |
| `failed`    | the platform could not be asked (no connection, token, quota, ...)        |

``--write`` edits the registry file in place, touching only the lines it changes (comments,
key order and formatting stay): a missing ``platform_id`` is filled, a rename's ``handle``
replaced. ``verified`` is never touched: confirming an account stays a person's decision.
The file is replaced atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from agency_pulse import config, connections, platforms
from agency_pulse.errors import PlatformError, RegistryError
from agency_pulse.extractors.base import AccountLookup, Lookup
from agency_pulse.registry import (
    Account,
    Registry,
    _RegistryLoader,
    handle_problem,
    load_registry,
    normalize_handle,
    parse_registry,
)
from agency_pulse.settings import Settings

STATUSES = ("found", "renamed", "gone", "private", "ambiguous", "failed")
_PLAIN_HANDLE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Verdict:
    """What the check found for one registry account (``where``: its path in the file)."""

    account: Account
    where: tuple[int, int]      # (agency index, account index) in the registry file
    status: str
    platform_id: str | None     # the platform's id for it, when known
    new_handle: str | None      # set for `renamed`: the handle the platform uses now
    detail: str | None = None

    @property
    def path(self) -> str:
        return f"agencies[{self.where[0]}].accounts[{self.where[1]}]"

    @property
    def is_problem(self) -> bool:
        return self.status != "found"

    def line(self) -> str:
        """One line for the report: platform, handle, status, id and why."""
        text = f"{self.account.platform} {self.account.handle}: {self.status}"
        if self.new_handle:
            text += f" (now {self.new_handle})"
        if self.platform_id:
            text += f", platform_id {self.platform_id}"
        if self.detail and self.status != "found":
            text += f": {self.detail}"
        return text


def decide(account: Account, lookup: AccountLookup) -> tuple[str, str | None, str | None, str | None]:
    """(status, platform_id, new handle, detail) from the platform's answers for one account.

    The id is the account's identity: when the registry has one and the platform answers
    for it, that answer wins over the handle's.
    """
    by_handle, by_id = lookup.by_handle, lookup.by_id
    registry_id = account.platform_id
    if by_id is not None:
        if by_id.status == "found":
            if by_id.handle is None or _same_handle(by_id.handle, account.handle) \
                    or account.handle == registry_id:
                return "found", registry_id, None, None
            if by_handle.status in ("found", "private") and by_handle.platform_id != registry_id:
                return ("ambiguous", None, None,
                        f"platform_id {registry_id} answers as {by_id.handle}, but "
                        f"{account.handle} names the account with platform_id "
                        f"{by_handle.platform_id}: check which is meant")
            return ("renamed", registry_id, by_id.handle,
                    f"platform_id {registry_id} now answers as {by_id.handle}")
        if by_id.status in ("private", "failed", "ambiguous"):
            return by_id.status, registry_id, None, by_id.detail
        if by_handle.status in ("found", "private"):
            return ("ambiguous", None, None,
                    f"platform_id {registry_id} is not found, but {account.handle} names the "
                    f"account with platform_id {by_handle.platform_id}: check which is meant")
        return "gone", None, None, by_id.detail or by_handle.detail
    if by_handle.status in ("found", "private") and registry_id \
            and by_handle.platform_id != registry_id:
        return ("ambiguous", None, None,
                f"{account.handle} names the account with platform_id {by_handle.platform_id}, "
                f"the registry says {registry_id}: check which is meant")
    if by_handle.status == "found":
        return "found", by_handle.platform_id, None, None
    if by_handle.status == "missing":
        return "gone", None, None, by_handle.detail
    return by_handle.status, by_handle.platform_id, None, by_handle.detail


def _same_handle(a: str, b: str) -> bool:
    return normalize_handle(a) == normalize_handle(b)


def check_registry(registry: Registry, platform_names: Sequence[str] | None = None, *,
                   settings: Settings | None = None) -> list[Verdict]:
    """Ask each platform about every registry account of it; one Verdict per account, in
    registry order. A platform that cannot be asked gives its accounts ``failed``."""
    from agency_pulse.extract import build_client

    settings = settings or Settings.from_environment()
    wanted = list(dict.fromkeys(platform_names or config.PLATFORMS))
    places = {}
    for i, agency in enumerate(registry.agencies):
        for j, account in enumerate(agency.accounts):
            places[id(account)] = (i, j)
    verdicts: dict[int, Verdict] = {}
    for name in wanted:
        accounts = registry.accounts_for(name)
        if not accounts:
            continue
        lookups: dict[str, AccountLookup] = {}
        failure = None
        conn = connections.resolve(name, settings)
        resolver = platforms.get(name).load_resolver()
        if conn is None:
            failure = (f"no connection {connections.conn_id_for(name)} and no sandbox "
                       "configured")
        elif resolver is None:
            failure = f"{name} has no account lookup"
        else:
            client = build_client(conn, settings=settings)
            client.add_secrets(conn.secrets)
            try:
                lookups = resolver(client, conn, accounts)
            except PlatformError as exc:
                failure = client.redact(exc.reason)
            else:
                lookups = {account_id: AccountLookup(*(_redacted(client, x) for x in lookup))
                           for account_id, lookup in lookups.items()}
        for account in accounts:
            lookup = lookups.get(account.account_id)
            if lookup is None:
                status, platform_id, new_handle, detail = (
                    "failed", None, None, failure or "the platform gave no answer for it")
            else:
                status, platform_id, new_handle, detail = decide(account, lookup)
            verdicts[id(account)] = Verdict(account, places[id(account)], status, platform_id,
                                            new_handle, detail)
    return [verdicts[id(a)] for a in registry.accounts if id(a) in verdicts]


def _redacted(client, lookup: Lookup | None) -> Lookup | None:
    if lookup is None or not lookup.detail:
        return lookup
    return lookup._replace(detail=client.redact(lookup.detail))


# --------------------------------------------------------------------------- --write

@dataclass(frozen=True)
class Change:
    where: tuple[int, int]
    platform_id: str | None = None   # to fill (or correct) the account's platform_id
    handle: str | None = None        # the renamed account's new handle


def changes_for(verdicts: Sequence[Verdict]) -> tuple[list[Change], list[str]]:
    """The edits ``--write`` makes, and one note per edit it refuses to make."""
    changes, refused = [], []
    for verdict in verdicts:
        account = verdict.account
        if verdict.status not in ("found", "renamed", "private"):
            continue
        platform_id = (verdict.platform_id if verdict.platform_id
                       and verdict.platform_id != account.platform_id else None)
        handle = verdict.new_handle
        if handle is not None:
            problem = handle_problem(account.platform, handle)
            if problem:
                refused.append(f"{account.platform} {account.handle}: new handle not written: "
                               f"{problem}")
                handle = None
        if platform_id is not None and not _valid_platform_id(platform_id):
            refused.append(f"{account.platform} {account.handle}: platform_id "
                           f"{platform_id!r} not written: not printable ASCII")
            platform_id = None
        if platform_id or handle:
            changes.append(Change(verdict.where, platform_id, handle))
    return changes, refused


def _valid_platform_id(text: str) -> bool:
    return 0 < len(text) <= 100 and all(ch.isascii() and ch.isprintable() and not ch.isspace()
                                        for ch in text)


def edit_registry_text(text: str, changes: Sequence[Change]) -> str:
    """The registry text with only ``changes`` applied, every other character kept.

    Values are replaced where they stand; a new ``platform_id`` goes on its own line right
    after the account's ``handle`` line, at the same indentation (or after the handle's
    value inside a ``{...}`` mapping). ``verified`` and everything else are left alone.
    """
    document = yaml.compose(text, Loader=_RegistryLoader)  # noqa: S506 (a SafeLoader)
    agencies = _value(document, "agencies")
    edits: list[tuple[int, int, str]] = []
    for change in changes:
        i, j = change.where
        accounts = _value(agencies.value[i], "accounts")
        account = accounts.value[j]
        pairs = {key.value: (key, value) for key, value in account.value}
        handle_key, handle_value = pairs["handle"]
        if change.handle is not None:
            edits.append((handle_value.start_mark.index, handle_value.end_mark.index,
                          _handle_text(change.handle)))
        if change.platform_id is not None:
            quoted = json.dumps(change.platform_id)
            if "platform_id" in pairs:
                node = pairs["platform_id"][1]
                edits.append((node.start_mark.index, node.end_mark.index, quoted))
            elif account.flow_style:
                at = handle_value.end_mark.index
                edits.append((at, at, f", platform_id: {quoted}"))
            else:
                line_end = text.find("\n", handle_value.end_mark.index)
                at = len(text) if line_end == -1 else line_end
                indent = " " * handle_key.start_mark.column
                edits.append((at, at, f"\n{indent}platform_id: {quoted}"))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _value(mapping: yaml.Node, key: str) -> yaml.Node:
    for key_node, value_node in mapping.value:
        if key_node.value == key:
            return value_node
    raise RegistryError(f"registry: no {key!r} where the check expected it")


def _handle_text(handle: str) -> str:
    """A handle as YAML: plain when it reads back as the same text, else double-quoted."""
    if _PLAIN_HANDLE.fullmatch(handle) and yaml.safe_load(handle) == handle:
        return handle
    return json.dumps(handle)


def write_changes(path: Path, changes: Sequence[Change]) -> Registry:
    """Apply ``changes`` to the registry file atomically; returns the registry as written.

    The edited text is validated as a registry before it replaces the file, so a failed
    edit never leaves a broken registry behind.
    """
    text = path.read_text(encoding="utf-8")
    edited = edit_registry_text(text, changes)
    registry = parse_registry(yaml.load(edited, Loader=_RegistryLoader),  # noqa: S506
                              source=str(path))
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(edited)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, path.stat().st_mode & 0o7777)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return registry


# --------------------------------------------------------------------------- the command

def run_check(platform_names: Sequence[str] | None, *, write: bool, settings: Settings,
              out, err) -> int:
    """Check the configured registry, print one line per account (problems also on ``err``,
    one line each) and, with ``write``, update the file. Exit status: 0 when every account
    is found, else 1."""
    path = config.registry_path(settings)
    registry = load_registry(path)
    verdicts = check_registry(registry, platform_names, settings=settings)
    for verdict in verdicts:
        print(f"{verdict.path:<24} {verdict.line()}", file=out)
    counts = {status: sum(v.status == status for v in verdicts) for status in STATUSES}
    print("registry check: " + (", ".join(f"{n} {s}" for s, n in counts.items() if n)
                                or "no accounts"), file=out)
    if write:
        changes, refused = changes_for(verdicts)
        for note in refused:
            print(f"agency-pulse: {note}", file=err)
        if changes:
            write_changes(path, changes)
            print(f"{path}: {len(changes)} account(s) updated (platform_id filled, handles of "
                  "renamed accounts replaced; verified left as it was)", file=out)
        else:
            print(f"{path}: nothing to update", file=out)
    problems = [v for v in verdicts if v.is_problem]
    for verdict in problems:
        print(f"agency-pulse: {verdict.line()}", file=err)
    return 1 if problems else 0
