"""The platforms Agency Pulse monitors: one row each, read by every per-platform list.

``config.PLATFORMS`` (registry, validation, CLI choices, reports), the real API base URLs of
``connections``, the Airflow API pools of ``orchestration``, the labels of the reports and
the extractor ``agency_pulse.extract`` runs (and, next to it, the account lookup of
``agency-pulse registry check``) all come from ``TABLE``. Adding a platform is
one row here plus its extractor module (docs/ADD_A_PLATFORM.md).

Importing this module is cheap (it is read at DAG-parse time): an extractor is named by its
import path and imported only when a run needs it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

GRAPH_API = "https://graph.facebook.com/v24.0"


@dataclass(frozen=True)
class HandleRule:
    """What a platform accepts as a handle: the pattern and the length range it implies.

    ASCII only: every platform restricts usernames to ASCII, so a non-ASCII character is a
    look-alike of another account, never something to normalise.
    """

    pattern: re.Pattern[str]
    max_length: int
    shape: str  # said in the error when a handle does not match


# A permissive rule for a platform whose row does not give one yet.
ANY_HANDLE = HandleRule(re.compile(r"[A-Za-z0-9._-]{1,100}"), 100,
                        "1 to 100 letters, digits, dots, dashes or underscores")


@dataclass(frozen=True)
class Platform:
    """One monitored platform."""

    name: str              # registry `platform`, lake partition, connection agency_pulse_<name>
    label: str             # for people: reports and the UI
    extractor: str         # "module:function" with the signature of agency_pulse.extract
    real_base_url: str     # the production API root, no trailing slash
    api_pool: str          # the Airflow pool its extract tasks run in
    api_pool_slots: int    # extract tasks at once on all workers together
    posts_are_videos: bool = False  # every post is a video (the report then says nothing of it)
    handle_rule: HandleRule = ANY_HANDLE  # what the registry accepts as a handle
    # "module:function" resolve_accounts(client, conn, accounts) -> {account_id: AccountLookup}
    # of `agency-pulse registry check`, next to the extractor
    resolver: str | None = None
    # requests in flight at once within one extract task (AGENCY_PULSE_CONCURRENCY overrides)
    concurrency: int = 1
    # its public audience counts are rounded to this many significant figures (None: exact)
    count_significant_figures: int | None = None

    def load_extractor(self) -> Callable:
        """The extract function (imported now, on first use)."""
        module_name, _, function = self.extractor.partition(":")
        return getattr(importlib.import_module(module_name), function or "extract")

    def load_resolver(self) -> Callable | None:
        """The account lookup of ``registry check`` (imported now); None when it has none."""
        if not self.resolver:
            return None
        module_name, _, function = self.resolver.partition(":")
        return getattr(importlib.import_module(module_name), function or "resolve_accounts")


# Pool slots: each task paces itself by the API's rate-limit headers; the pool stops more
# workers from multiplying that rate. Concurrency: requests in flight within one task, all
# pacing together on the limit headers; what each API documents decides it:
# - Graph (Facebook, Instagram): usage-based limits (X-App-Usage / X-Business-Use-Case-Usage
#   percentages), no limit on parallel calls; the client slows down above 80 %. Business
#   discovery costs more of the budget per call: Instagram gets half.
# - YouTube: a daily unit quota, no documented per-second limit: the quota bounds the run.
# - X: 1,500 timeline reads per 15 minutes (1.7 a second): two in flight already reach it.
# - Telegram: the Bot API allows about 30 requests a second; half our calls go to the
#   public t.me preview, a web page: 6 in flight stays well below both.
TABLE: tuple[Platform, ...] = (
    # Page usernames: letters, digits, dots (new ones 5+, old pages as short as 'cnn');
    # a page without a username is addressed by its numeric id.
    Platform("facebook", "Facebook", "agency_pulse.extractors.facebook:extract",
             GRAPH_API, "agency_pulse_api_facebook", 4, concurrency=8,
             resolver="agency_pulse.extractors.facebook:resolve_accounts",
             handle_rule=HandleRule(re.compile(r"[A-Za-z0-9.]{3,50}|[0-9]{1,20}"), 50,
                                    "3 to 50 letters, digits or dots, or a numeric page id")),
    Platform("instagram", "Instagram", "agency_pulse.extractors.instagram:extract",
             GRAPH_API, "agency_pulse_api_instagram", 2, concurrency=4,
             resolver="agency_pulse.extractors.instagram:resolve_accounts",
             handle_rule=HandleRule(re.compile(r"[A-Za-z0-9._]{1,30}"), 30,
                                    "1 to 30 letters, digits, dots or underscores")),
    # A channel handle, or a channel id ('UC' and 22 more characters); legacy usernames
    # fit the handle pattern.
    Platform("youtube", "YouTube", "agency_pulse.extractors.youtube:extract",
             "https://www.googleapis.com/youtube/v3", "agency_pulse_api_youtube", 2, concurrency=8,
             posts_are_videos=True, count_significant_figures=3,
             resolver="agency_pulse.extractors.youtube:resolve_accounts",
             handle_rule=HandleRule(re.compile(r"[A-Za-z0-9._-]{3,30}|UC[A-Za-z0-9_-]{22}"), 30,
                                    "a channel handle of 3 to 30 letters, digits, dots, dashes "
                                    "or underscores, or a channel id 'UC' + 22 characters")),
    Platform("x", "X", "agency_pulse.extractors.x:extract",
             "https://api.x.com/2", "agency_pulse_api_x", 2, concurrency=2,
             resolver="agency_pulse.extractors.x:resolve_accounts",
             handle_rule=HandleRule(re.compile(r"[A-Za-z0-9_]{1,15}"), 15,
                                    "1 to 15 letters, digits or underscores")),
    Platform("telegram", "Telegram", "agency_pulse.extractors.telegram:extract",
             "https://api.telegram.org", "agency_pulse_api_telegram", 4, concurrency=6,
             resolver="agency_pulse.extractors.telegram:resolve_accounts",
             handle_rule=HandleRule(re.compile(r"[A-Za-z0-9_]{5,32}"), 32,
                                    "5 to 32 letters, digits or underscores")),
)

NAMES: tuple[str, ...] = tuple(p.name for p in TABLE)
BY_NAME: dict[str, Platform] = {p.name: p for p in TABLE}


def get(name: str) -> Platform:
    """The platform called ``name``; ValueError naming the known ones otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown platform {name!r} (one of {', '.join(NAMES)})") from None
