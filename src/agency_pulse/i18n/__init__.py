"""The reader's language: every sentence, heading and label the report and the UI pages
show, in English (`en`) and Azerbaijani (`az`, Latin script).

Each language is a catalog module (`i18n/en.py`, `i18n/az.py`) holding one key per
sentence or label. A message is either a text with ``{placeholders}`` or, where the words
depend on a count, a dict keyed by Babel's plural category of that count (CLDR rules:
``one``, ``other``, ...). Numbers, dates and month names are not in the catalogs: they
come from Babel's CLDR data for the language (see `report.numbers`).

Every integer passed to `Translator.text` is also available as ``{name_ordinal}``
("3rd", "3-cü"), from the catalog's ``ordinal`` message selected by Babel's ordinal rules,
so a language that writes a rank or a year as an ordinal can without the caller knowing.

Both catalogs must hold the same keys with the same placeholders
(tests/i18n/test_i18n_catalogs.py fails otherwise).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel import Locale

LANGUAGES: tuple[str, ...] = ("en", "az")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = MappingProxyType({"en": "English", "az": "Azərbaycanca"})

Message = str | dict[str, str]


def check_language(code: str) -> str:
    """`code` when it is a language the report and the pages are written in, else ValueError
    with one line naming the known ones."""
    if code not in LANGUAGES:
        shown = code if len(code) <= 20 else code[:17] + "..."
        raise ValueError(f"unknown language {shown!r} (known: {', '.join(LANGUAGES)})")
    return code


@dataclass(frozen=True)
class Translator:
    """The messages of one language, with Babel's plural and ordinal rules for it."""

    code: str
    messages: MappingProxyType

    @property
    def locale(self) -> Locale:
        return _locale(self.code)

    def text(self, key: str, /, **values) -> str:
        """The message `key` with `values` filled in (KeyError for an unknown key)."""
        message = self.messages[key]
        if isinstance(message, dict):
            raise TypeError(f"message {key!r} depends on a count: use plural()")
        return self._fill(message, values)

    def plural(self, key: str, count: int | float, /, **values) -> str:
        """The form of message `key` for `count` (Babel's plural category for the language,
        falling back to ``other``)."""
        message = self.messages[key]
        if isinstance(message, str):
            return self._fill(message, values)
        form = message.get(self.locale.plural_form(abs(count)), message["other"])
        return self._fill(form, values)

    def ordinal(self, number: int) -> str:
        """'1st', '22nd'; '1-ci', '3-cü', '6-cı', '9-cu' (the suffix follows Babel's
        ordinal category, which tracks the vowel of the number's last spoken word)."""
        if not isinstance(number, int):  # a missing rank stays visible as it is
            return str(number)
        forms = self.messages["ordinal"]
        return forms.get(self.locale.ordinal_form(abs(number)), forms["other"]).format(n=number)

    def join(self, items: list[str], conjunction: str = "and") -> str:
        """'A, B and C' / 'A, B və C' (or 'or' / 'və ya')."""
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self.text('list.' + conjunction)} {items[-1]}"

    def word(self, group: str, value: str | None) -> str:
        """A data value shown as a word of the language (an activity or extract status);
        a value the catalog does not know is shown as it is."""
        if value is None:
            return ""
        key = f"{group}.{value}"
        return self.text(key) if key in self.messages else value

    def _fill(self, template: str, values: dict) -> str:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        extra = {name: self.ordinal(values[name.removesuffix("_ordinal")])
                 for name in names if name.endswith("_ordinal") and name not in values}
        return template.format(**values, **extra)


@cache
def _locale(code: str) -> Locale:
    from babel import Locale  # imported on first use: the CLI's parser only needs LANGUAGES

    return Locale.parse(code)


@cache
def translator(code: str) -> Translator:
    """The translator for `code` (ValueError for a language without a catalog)."""
    check_language(code)
    if code == "az":
        from agency_pulse.i18n.az import MESSAGES
    else:
        from agency_pulse.i18n.en import MESSAGES
    return Translator(code, MappingProxyType(MESSAGES))


def placeholders(message: Message) -> set[str]:
    """The placeholder names of a message (every plural form together), with ``x_ordinal``
    counted as ``x``: a language may write a number as an ordinal where another does not."""
    forms = message.values() if isinstance(message, dict) else [message]
    return {name.removesuffix("_ordinal") for form in forms
            for _, name, _, _ in string.Formatter().parse(form) if name}


def catalog_problems(catalogs: dict[str, dict[str, Message]] | None = None) -> list[str]:
    """What is wrong with the catalogs, one line each (empty when nothing): a key missing
    from a language or found only in it, a message whose placeholders differ from the
    English one, a count-dependent message without the ``other`` form or with a form the
    language's plural rules never select, an ordinal form missing."""
    if catalogs is None:
        catalogs = {code: dict(translator(code).messages) for code in LANGUAGES}
    reference = catalogs[DEFAULT_LANGUAGE]
    problems = []
    for code, messages in catalogs.items():
        for key in sorted(set(reference) - set(messages)):
            problems.append(f"{code}: missing {key!r}")
        for key in sorted(set(messages) - set(reference)):
            problems.append(f"{code}: {key!r} is not in the {DEFAULT_LANGUAGE} catalog")
        locale = _locale(code)
        for key in sorted(set(messages) & set(reference)):
            message = messages[key]
            if key == "ordinal":
                wanted = set(locale.ordinal_form.tags) | {"other"}
                if not isinstance(message, dict) or set(message) != wanted:
                    problems.append(f"{code}: 'ordinal' needs exactly the forms {sorted(wanted)}")
                continue
            if placeholders(message) != placeholders(reference[key]):
                problems.append(f"{code}: {key!r} has placeholders {sorted(placeholders(message))}, "
                                f"{DEFAULT_LANGUAGE} {sorted(placeholders(reference[key]))}")
            if isinstance(message, dict):
                known = set(locale.plural_form.tags) | {"other"}
                if "other" not in message:
                    problems.append(f"{code}: {key!r} has no 'other' form")
                if set(message) - known:
                    problems.append(f"{code}: {key!r} has forms {sorted(set(message) - known)} "
                                    f"the language never uses")
    return problems
