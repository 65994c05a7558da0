"""Scenario 6, hostile names: handles and agency names built to escape paths, break SQL,
run shell commands, reverse text or overflow columns go through a full run on the sandbox."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from agency_pulse import config
from reliability.sql_scan import scan
from reliability.verdict import ScenarioResult
from reliability.workspace import RUN_DAY, open_workspace

RLO, RLM = "\u202e", "\u200f"
# The tags the hostile names carry, as a browser would parse them (unescaped).
RAW_INJECTED_TAG = re.compile(r"<\s*(script|img)\b", re.IGNORECASE)
SHELL_MARKER = "/tmp/agency-pulse-pwned"
HOSTILE_AGENCY_NAMES = {
    "html": "<script>alert('pulse')</script> & <img src=x onerror=alert(1)>",
    "sql": "Robert'); DROP TABLE core.accounts; -- \" ; select 1",
    "shell": f"$(touch {SHELL_MARKER}) `touch {SHELL_MARKER}` | rm -rf ~ ; & > /dev/null",
    "rtl": f"{RLO}ycnegA lanoitaN{RLM} وزارة",
    "long": "Agency " + "L" * 293,  # the registry's cap: 300 characters
}
# The registry refuses a handle outside its platform's character set and length, so these
# never reach a run: the scenario checks that each is refused with a one-line error.
REFUSED_HANDLES = {
    "facebook": ["../../../../outside", "..%2F..%2Fescaped"],
    "instagram": ["it's\"quoted\";--", "/etc/passwd"],
    "youtube": [f"$(touch${{IFS}}{SHELL_MARKER})", "`id`|&;<>*?"],
    "x": ["x');DROP/**/TABLE/**/core.accounts;--", f"{RLO}gnp.exe"],
    "telegram": ["a" * 300, "..\\..\\windows"],
}
# What does reach a run: the edges of each platform's rules (longest, leading '@',
# dots, dashes, ids), beside one normal account per platform.
HOSTILE_HANDLES = {
    "facebook": ["Dots.And.Digits.2026", "100064599481287", "normal.page"],
    "instagram": ["_under.score_", "i" * 30, "normal_ig"],
    "youtube": ["@Dash-And.Dot_TV", "UCBR8-60-B28hp2BmDPdntcQ", "NormalTV"],
    "x": ["@A_1", "x" * 15, "normal_x"],
    "telegram": ["t" * 32, "Tg_Upper_Case", "normaltg"],
}


def hostile_registry() -> str:
    """A registry whose agencies carry the hostile names, one account of each kind per agency."""
    agencies = []
    kinds = list(HOSTILE_AGENCY_NAMES)
    for number, kind in enumerate(kinds):
        accounts = []
        for platform, handles in HOSTILE_HANDLES.items():
            if number < len(handles):
                accounts.append({"platform": platform, "handle": handles[number],
                                 "active_from": "2026-08-01"})
        agencies.append({"id": f"hostile-{kind}", "name": HOSTILE_AGENCY_NAMES[kind],
                         "name_en": HOSTILE_AGENCY_NAMES[kind], "accounts": accounts})
    return yaml.safe_dump({"agencies": agencies}, allow_unicode=True, sort_keys=False)


def _refused_handles() -> list[str]:
    """The REFUSED_HANDLES the registry accepted, or refused without a one-line error
    naming the handle's path; [] when all were refused properly."""
    from agency_pulse.errors import RegistryError
    from agency_pulse.registry import parse_registry

    wrong = []
    for platform, handles in REFUSED_HANDLES.items():
        for handle in handles:
            document = {"agencies": [{"id": "hostile", "name": "Hostile", "accounts": [
                {"platform": platform, "handle": handle}]}]}
            try:
                parse_registry(document, source="hostile.yaml")
                wrong.append(f"{platform} {handle[:40]!r} accepted")
            except RegistryError as exc:
                if "\n" in str(exc) or "agencies[0].accounts[0].handle: " not in str(exc):
                    wrong.append(f"{platform} {handle[:40]!r}: {str(exc)[:80]!r}")
    return wrong


def _listing(root: Path, skip: Path | None = None) -> set[str]:
    found = set()
    for directory, dirs, files in os.walk(root):
        if skip is not None and Path(directory) == skip:
            dirs[:] = []
            continue
        found.update(str(Path(directory, f).relative_to(root)) for f in files + dirs)
    return found


def hostile_names() -> ScenarioResult:
    result = ScenarioResult(
        "hostile_names",
        injected="agency names with <script>, SQL, shell, RTL marks, 300 characters; handles "
                 "at the edges of each platform's rules (longest, leading @, dots, dashes, "
                 "ids), one full run; handles with ../, quotes, ;--, $(...), backticks, RTL "
                 "override, 300 characters given to the registry",
        expected="the registry refuses the invalid handles naming each one's path; the run "
                 "completes for the normal accounts; nothing written outside "
                 "AGENCY_PULSE_HOME; names stored verbatim; no data value in dynamic SQL; the "
                 "report escapes every name")
    refused_wrongly = _refused_handles()
    result.check("invalid handles refused by the registry", not refused_wrongly,
                 f"{sum(map(len, REFUSED_HANDLES.values())) - len(refused_wrongly)}/"
                 f"{sum(map(len, REFUSED_HANDLES.values()))} refused with a one-line error "
                 f"naming the handle" + (f"; {refused_wrongly[:3]}" if refused_wrongly else ""))
    project_before = set(os.listdir(config.PROJECT_ROOT))
    marker_before = os.path.exists(SHELL_MARKER)
    with open_workspace(registry_text=hostile_registry()) as ws:
        outside_before = _listing(ws.parent, skip=ws.home)
        run = ws.run_day(RUN_DAY)
        report_html, report_md, report_error = _report(ws)
        outside_after = _listing(ws.parent, skip=ws.home)
        escaped = [str(p) for p in ws.home.rglob("*")
                   if not p.resolve().is_relative_to(ws.home.resolve())]
        stored = dict(ws.query("select agency_id, name from core.agencies"))
        log_rows = ws.query("select handle, status, reason from quality.extract_log")
        marts = ws.query("select count(*) from information_schema.tables "
                         "where table_schema = 'marts'")[0][0]
    statuses = {}
    for handle, status, _reason in log_rows:
        statuses[handle] = status
    normal = {h: s for h, s in statuses.items() if h.lower().startswith("normal")}
    result.check("normal accounts captured", normal and all(s == "ok" for s in normal.values()),
                 f"{sum(s == 'ok' for s in normal.values())}/{len(normal)} normal accounts ok; "
                 f"hostile: " + ", ".join(f"{s}" for h, s in sorted(statuses.items())
                                          if h not in normal)
                 + (f"; run error: {str(run.failure)[:160]}" if run.failed else ""))
    created = sorted(outside_after - outside_before)
    new_in_project = sorted(set(os.listdir(config.PROJECT_ROOT)) - project_before)
    result.check("nothing written outside home",
                 not created and not escaped and not new_in_project
                 and os.path.exists(SHELL_MARKER) == marker_before,
                 f"{len(created)} new paths beside the home, {len(escaped)} paths resolving "
                 f"outside it, {len(new_in_project)} new in the project root, shell marker "
                 f"{'created' if os.path.exists(SHELL_MARKER) and not marker_before else 'absent'}"
                 + (f": {(created + escaped + new_in_project)[:3]}" if created or escaped else ""))
    expected_names = {f"hostile-{k}": v for k, v in HOSTILE_AGENCY_NAMES.items()}
    result.check("names stored verbatim, schema intact",
                 stored == expected_names and marts == 4,
                 f"{sum(stored.get(k) == v for k, v in expected_names.items())}/"
                 f"{len(expected_names)} agency names byte-identical in core.agencies; "
                 f"{marts} mart tables")
    dynamic = scan(config.PROJECT_ROOT / "src" / "agency_pulse")
    carrying = [str(d) for d in dynamic if d.carries_data]
    result.check("no data value in dynamic SQL", not carrying,
                 f"{len(dynamic)} SQL strings built at run time, all from identifier "
                 f"constants" if not carrying else f"data interpolated at {carrying[:3]}")
    raw_script = [name for name, text in (("html", report_html), ("markdown", report_md))
                  if RAW_INJECTED_TAG.search(text)]
    shown = "&lt;script&gt;" in report_html
    result.check("report escapes names", report_error is None and not raw_script and shown,
                 (f"report failed: {report_error}" if report_error else
                  f"raw <script>/<img> tags in {', '.join(raw_script) or 'neither HTML nor Markdown'}; "
                  f"escaped name {'shown' if shown else 'NOT shown'} in the HTML"))
    return result


def _report(ws) -> tuple[str, str, str | None]:
    from agency_pulse.report import write_report

    try:
        paths = write_report(year=RUN_DAY.year, home=ws.home)
    except Exception as exc:  # the check reports it
        return "", "", f"{type(exc).__name__}: {str(exc)[:160]}"
    return (paths.html.read_text(encoding="utf-8"), paths.markdown.read_text(encoding="utf-8"),
            None)
