"""The platforms Agency Pulse monitors: one row each, read by every per-platform list.

``config.PLATFORMS`` (registry, validation, CLI choices, reports), the real API base URLs of
``connections``, the Airflow API pools of ``orchestration``, the labels of the reports and
the extractor ``agency_pulse.extract`` runs all come from ``TABLE``. Adding a platform is
one row here plus its extractor module (docs/ADD_A_PLATFORM.md).

Importing this module is cheap (it is read at DAG-parse time): an extractor is named by its
import path and imported only when a run needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

GRAPH_API = "https://graph.facebook.com/v24.0"


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

    def load_extractor(self) -> Callable:
        """The extract function (imported now, on first use)."""
        module_name, _, function = self.extractor.partition(":")
        return getattr(importlib.import_module(module_name), function or "extract")


# Pool slots: each task paces itself by the API's rate-limit headers; the pool stops more
# workers from multiplying that rate.
TABLE: tuple[Platform, ...] = (
    Platform("facebook", "Facebook", "agency_pulse.extractors.facebook:extract",
             GRAPH_API, "agency_pulse_api_facebook", 4),
    Platform("instagram", "Instagram", "agency_pulse.extractors.instagram:extract",
             GRAPH_API, "agency_pulse_api_instagram", 2),
    Platform("youtube", "YouTube", "agency_pulse.extractors.youtube:extract",
             "https://www.googleapis.com/youtube/v3", "agency_pulse_api_youtube", 2,
             posts_are_videos=True),
    Platform("x", "X", "agency_pulse.extractors.x:extract",
             "https://api.x.com/2", "agency_pulse_api_x", 2),
    Platform("telegram", "Telegram", "agency_pulse.extractors.telegram:extract",
             "https://api.telegram.org", "agency_pulse_api_telegram", 4),
)

NAMES: tuple[str, ...] = tuple(p.name for p in TABLE)
BY_NAME: dict[str, Platform] = {p.name: p for p in TABLE}


def get(name: str) -> Platform:
    """The platform called ``name``; ValueError naming the known ones otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown platform {name!r} (one of {', '.join(NAMES)})") from None
