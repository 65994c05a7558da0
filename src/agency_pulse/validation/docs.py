"""The data-quality docs under quality/docs: GX Data Docs, with a plain fallback page."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from pathlib import Path

from agency_pulse import config
from agency_pulse.validation.gx_runtime import runtime
from agency_pulse.validation.outcomes import ValidationOutcome

log = logging.getLogger(__name__)


def build_data_docs(outcomes: Sequence[ValidationOutcome] = (),
                    paths: config.Paths | None = None) -> Path:
    """(Re)build the Data Docs site and return its index.html.

    Rendering must never cost a validated batch its publication: if GX cannot build the site,
    a plain index listing ``outcomes`` is written instead (only where no GX index exists yet).
    """
    paths = paths or config.paths()
    try:
        return runtime(paths).build_data_docs()
    except Exception as exc:  # noqa: BLE001 - docs are a by-product; log and fall back
        log.warning("validation: GX Data Docs could not be built (%s); writing a plain index",
                    type(exc).__name__)
        index = paths.data_docs / "index.html"
        if not index.exists():
            index.parent.mkdir(parents=True, exist_ok=True)
            index.write_text(_plain_index(outcomes), encoding="utf-8")
        return index


def _plain_index(outcomes: Sequence[ValidationOutcome]) -> str:
    rows = "\n".join(
        f"<tr><td>{html.escape(o.dataset)}</td><td>{html.escape(o.platform or '')}</td>"
        f"<td>{o.partition_date or ''}</td><td>{o.rows}</td>"
        f"<td>{'passed' if o.success else 'FAILED'}</td>"
        f"<td>{html.escape('; '.join(o.failed_expectations + o.warnings))}</td></tr>"
        for o in outcomes)
    return ("<!doctype html><meta charset=utf-8><title>Agency Pulse data quality</title>"
            "<h1>Agency Pulse data quality</h1><table><tr><th>dataset</th><th>platform</th>"
            f"<th>date</th><th>rows</th><th>result</th><th>details</th></tr>\n{rows}</table>\n")
