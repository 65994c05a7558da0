"""Scenario 5, bad input: the corpus of broken registries, observation CSVs and API bodies.

Every bad input must give a clear one-line error naming the input and the place (or fail
just the affected account with the reason, or quarantine the bad batch), while the good
input beside it is loaded; spreadsheet formulas never reach a CSV export unescaped.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from agency_pulse import config, lake
from reliability.verdict import ScenarioResult
from reliability.workspace import RUN_DAY, environment, open_workspace
from testkit.fake_platform import FakePlatform, Request, serve

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT_ROOT / "tests" / "reliability" / "corpus"
OBSERVATIONS_CORPUS = PROJECT_ROOT / "tests" / "observations" / "corpus"
# The observations corpus is written for this day (its "future" dates are after it).
OBSERVATIONS_TODAY = date(2026, 6, 30)
API_REGISTRY = """agencies:
- id: corpus
  name: Corpus Agency
  accounts:
  - {platform: x, handle: good_one}
  - {platform: x, handle: bad_one}
"""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def registry_cases(result: ScenarioResult) -> None:
    """Each broken registry: RegistryError, one line, naming the file and the place."""
    from agency_pulse.errors import RegistryError
    from agency_pulse.registry import load_registry

    files = sorted((CORPUS / "registry").glob("*.yaml"))
    problems = []
    for path in files:
        expected = path.read_bytes().split(b"\n", 1)[0].decode("ascii").removeprefix("# expect: ")
        try:
            load_registry(path)
            problems.append(f"{path.name}: accepted")
            continue
        except RegistryError as exc:
            message = str(exc)
        if "\n" in message or path.name not in message or expected not in message:
            problems.append(f"{path.name}: {message!r} (wanted {expected!r})")
    cli_line = _cli_error_line(files[0]) if files else ""
    cli_ok = cli_line.count("\n") == 0 and files and files[0].name in cli_line
    result.check("registry corpus", not problems and cli_ok,
                 f"{len(files) - len(problems)}/{len(files)} broken registries refused with a "
                 f"one-line error naming file and place; `agency-pulse build` says: "
                 f"{cli_line.strip()[:110]!r}" + (f"; {problems[:3]}" if problems else ""))


def _cli_error_line(registry: Path) -> str:
    """What ``agency-pulse build`` prints on stderr with this registry (exit status checked)."""
    from agency_pulse import cli

    stderr = io.StringIO()
    with (contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()),
          environment({"AGENCY_PULSE_REGISTRY": str(registry)})):
        status = cli.main(["build"])
    text = stderr.getvalue().rstrip("\n")
    return text if status == 1 else f"exit {status}: {text}"


def observation_cases(result: ScenarioResult, ws) -> None:
    """Every bad CSV of the observations corpus is refused whole; good ones and the
    formula file load; the formula notes come out of a CSV export escaped."""
    from agency_pulse import cli, warehouse
    from agency_pulse.errors import UserInputError
    from agency_pulse.observations import import_observations
    from agency_pulse.registry import load_registry

    registry = load_registry(OBSERVATIONS_CORPUS / "registry.yaml")
    bad = sorted((OBSERVATIONS_CORPUS / "bad").glob("*.csv"))
    problems = []
    for path in bad:
        try:
            import_observations(path, registry=registry, today=OBSERVATIONS_TODAY)
            problems.append(f"{path.name}: accepted")
        except UserInputError as exc:
            first = str(exc).splitlines()[0]
            if not first.startswith(path.name) or "nothing imported" not in first:
                problems.append(f"{path.name}: {first!r}")
    landed_after_bad = len(list(ws.paths.lake.rglob("*.parquet")))
    good = sorted((OBSERVATIONS_CORPUS / "good").glob("*.csv")) + sorted(
        (CORPUS / "observations").glob("*.csv"))
    loaded = 0
    for path in good:
        try:
            loaded += import_observations(path, registry=registry, today=OBSERVATIONS_TODAY).rows
        except Exception as exc:  # reported below
            problems.append(f"{path.name} refused: {str(exc).splitlines()[0]}")
    result.check("observation CSV corpus", not problems and landed_after_bad == 0,
                 f"{len(bad) - len([p for p in problems if 'accepted' in p])}/{len(bad)} bad "
                 f"files refused whole (negative counts, future dates, unknown agencies, "
                 f"duplicate rows, non-UTF-8...), {landed_after_bad} files landed by them; "
                 f"{len(good)} good files loaded ({loaded} rows)"
                 + (f"; {problems[:3]}" if problems else ""))

    warehouse.build()  # the workspace's registry is the observations corpus registry
    export = ws.parent / "notes.csv"
    with contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["query", "select note from staging.lake_observations "
                                    "where note is not null order by note", "--output", str(export)])
    cells = [row[0] for row in csv.reader(export.open(encoding="utf-8"))][1:] if status == 0 else []
    formulas = [c for c in cells if "cmd|" in c or "HYPERLINK" in c or "SUM(" in c]
    unescaped = [c for c in cells if c.startswith(FORMULA_START)]
    result.check("formulas escaped in CSV export",
                 status == 0 and len(formulas) == 4 and not unescaped,
                 f"export exit {status}; {len(formulas)} formula notes exported, "
                 f"{len(unescaped)} unescaped" + (f": {unescaped[:2]}" if unescaped else
                                                  f" (e.g. {formulas[0][:24]!r})" if formulas else ""))


GOOD_USER = {"id": "111", "username": "good_one", "name": "Good",
             "public_metrics": {"followers_count": 1000, "following_count": 3,
                                "tweet_count": 2, "listed_count": 0}}
BAD_USER = {"id": "222", "username": "bad_one", "name": "Bad",
            "public_metrics": {"followers_count": 2000, "following_count": 3,
                               "tweet_count": 2, "listed_count": 0}}


def _tweet(tweet_id: str, day: str = "2026-11-01") -> dict:
    return {"id": tweet_id, "created_at": f"{day}T10:00:00.000Z",
            "public_metrics": {"like_count": 4, "reply_count": 1, "retweet_count": 2,
                               "quote_count": 0, "impression_count": 90}}


# What the fake X answers when a case does not override it (keys as in the corpus README).
DEFAULT_ROUTES = {
    "/2/users/by": {"status": 200, "json": {"data": [GOOD_USER, BAD_USER]}},
    "/2/users/111/tweets": {"status": 200, "json": {"data": [_tweet("1001")],
                                                    "meta": {"result_count": 1}}},
    "/2/users/222/tweets": {"status": 200, "json": {"data": [_tweet("2001")],
                                                    "meta": {"result_count": 1}}},
}


def generated_page(count: int) -> dict:
    """One timeline page of ``count`` posts, ids descending, no next_token."""
    tweets = [_tweet(str(10_000_000 + count - i), "2026-10-15") for i in range(count)]
    return {"data": tweets, "meta": {"result_count": count}}


def _fake_answer(answer: dict | None):
    """A corpus answer (``json``, ``text`` + ``content_type`` or ``tweets``) for the fake."""
    if answer is None:
        return 404, {"title": "Not Found"}
    if "tweets" in answer:
        return answer["status"], generated_page(answer["tweets"])
    if "json" in answer:
        return answer["status"], answer["json"]
    return (answer["status"], answer["text"],
            {"Content-Type": answer.get("content_type", "text/plain")})


def serve_case(fake: FakePlatform, overrides: dict[str, dict]) -> None:
    """Route the defaults with one case's ``overrides`` on top; a key may end in
    ``?pagination_token=T`` (that page of the path)."""
    routes = {**DEFAULT_ROUTES, **overrides}
    fake.routes.clear()
    for path in {key.split("?", 1)[0] for key in routes}:
        def answer(request: Request, path: str = path):
            token = request.query.get("pagination_token")
            return _fake_answer(routes.get(path + (f"?pagination_token={token}" if token
                                                   else "")))

        fake.route(re.escape(path), answer)
    fake.requests.clear()


def api_cases(result: ScenarioResult, ws) -> None:
    """Each canned X answer through ``run_platform``: statuses, reasons, quarantine, landing."""
    from agency_pulse.connections import PlatformConnection
    from agency_pulse.extract import PlatformRunFailed, run_platform
    from agency_pulse.validation import validate_landed

    cases = sorted((CORPUS / "api_x").glob("*.json"))
    passed, problems = [], []
    with serve() as api:
        connection = PlatformConnection(platform="x", base_url=f"{api.url}/2",
                                        token="corpus-bearer-token", source="airflow")
        # Each case lands on its own day, earlier than the previous one, so no case's
        # accepted data is "before" a later case's day (no incremental state between them).
        for number, path in enumerate(cases):
            case = json.loads(path.read_text(encoding="utf-8"))
            day = RUN_DAY - timedelta(days=number)
            serve_case(api, case.get("routes", {}))
            try:
                run_platform("x", day, connection=connection, run_id=f"corpus-{path.stem}")
            except PlatformRunFailed:
                pass  # the extract_log says why; judged below
            landing = lake.list_partitions(lake.LANDING, platform="x", day=day,
                                           root=ws.paths.lake)
            outcomes = validate_landed(landing, run_id=f"corpus-{path.stem}", run_date=day,
                                       data_docs=False)
            trouble = _judge_api_case(case, day, outcomes) or _handler_error(api)
            (problems if trouble else passed).append(f"{path.stem}: {trouble}" if trouble
                                                      else path.stem)
    result.check("API body corpus", not problems,
                 f"{len(passed)}/{len(cases)} canned X answers handled as expected "
                 f"({', '.join(passed)})" + (f"; FAILED {problems}" if problems else ""))


def _handler_error(api: FakePlatform) -> str | None:
    if not api.handler_errors:
        return None
    error = api.handler_errors.pop(0)
    api.handler_errors.clear()
    return f"the fake X failed: {type(error).__name__}: {error}"


def _judge_api_case(case: dict, day: date, outcomes: list) -> str | None:
    accepted = config.paths().lake
    log_file = lake.partition_path(lake.ACCEPTED, "extract_log", "x", day, root=accepted)
    if not log_file.exists():
        return "no accepted extract_log"
    rows = pq.read_table(log_file).to_pylist()
    statuses = {r["account_id"]: r["status"] for r in rows}
    reasons = {r["account_id"]: r["reason"] or "" for r in rows}
    if statuses != case["expect"]:
        return f"statuses {statuses}, expected {case['expect']} (reasons {reasons})"
    wanted = case.get("reason_contains")
    # the reason is looked for on the accounts that did not end ok (or on every account when
    # all ended ok, as a read cut short by a looping cursor does, with its note)
    failing = [a for a, s in statuses.items() if s != "ok"] or list(statuses)
    if wanted and not any(wanted in reasons[a] and "\n" not in reasons[a] for a in failing):
        return f"reason {reasons} lacks {wanted!r}"
    quarantined = sorted(o.dataset for o in outcomes if not o.success)
    if quarantined != sorted(case.get("quarantined", [])):
        return f"quarantined {quarantined}, expected {case.get('quarantined', [])}"
    snapshots = lake.partition_path(lake.ACCEPTED, "account_snapshots", "x", day, root=accepted)
    captured = pq.read_table(snapshots).column("account_id").to_pylist() if snapshots.exists() else []
    # An account failed after its counts were read keeps its snapshot (the case says so).
    wanted_snapshots = sorted(case.get("snapshots", [a for a, s in statuses.items() if s == "ok"]))
    if sorted(captured) != wanted_snapshots:
        return f"accepted snapshots for {sorted(captured)}, expected {wanted_snapshots}"
    for account_id, count in case.get("landed_posts", {}).items():
        posts = lake.partition_path(lake.ACCEPTED, "posts", "x", day, root=accepted)
        have = (pq.read_table(posts).column("account_id").to_pylist().count(account_id)
                if posts.exists() else 0)
        if have != count:
            return f"{have} posts of {account_id} accepted, expected {count}"
    return None


def bad_input_corpus() -> ScenarioResult:
    result = ScenarioResult(
        "bad_input_corpus",
        injected="tests/reliability/corpus (broken registries: unknown keys, look-alike, "
                 "zero-width, overlong and malformed handles, overlong names; X answers with "
                 "missing fields, new fields, wrong types, HTML, a looping cursor, a 50,000-post "
                 "page, a 2099 post) and tests/observations/corpus (negative counts, counts "
                 "above 10^10, control characters, future dates, unknown agencies, duplicate "
                 "rows, non-UTF-8, formulas); a symbolic link to a private file in the inbox",
        expected="one-line errors naming input and place; bad file refused whole or bad account "
                 "failed with the reason or bad batch quarantined; good input loaded; formulas "
                 "escaped in CSV exports; the inbox link rejected unread, reasons private")
    registry_cases(result)
    with open_workspace(registry_text=API_REGISTRY, with_sandbox=False) as ws:
        api_cases(result, ws)
    with open_workspace(OBSERVATIONS_CORPUS / "registry.yaml", with_sandbox=False) as ws:
        observation_cases(result, ws)
        inbox_link_case(result, ws)
    return result


def inbox_link_case(result: ScenarioResult, ws) -> None:
    """A link in the inbox to a private CSV: rejected without being read; the reasons file
    is the owner's only and quotes nothing of the target."""
    from agency_pulse.errors import UserInputError
    from agency_pulse.observations import import_inbox
    from agency_pulse.registry import load_registry

    secret = "SECRET_VALUE_4711"
    private = ws.parent / "private.csv"
    private.write_text("agency_id,platform,handle,observed_on,followers\n"
                       f"culture,x,{secret},2026-06-01,5\n", encoding="utf-8")
    private.chmod(0o600)
    inbox = ws.paths.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "linked.csv").symlink_to(private)
    try:
        import_inbox(inbox, registry=load_registry(OBSERVATIONS_CORPUS / "registry.yaml"),
                     today=OBSERVATIONS_TODAY)
        rejected = False
    except UserInputError:
        rejected = True
    errors = inbox / "rejected" / "linked.csv.errors.txt"
    text = errors.read_text(encoding="utf-8") if errors.exists() else ""
    mode = errors.stat().st_mode & 0o777 if errors.exists() else None
    result.check("inbox link rejected unread",
                 rejected and text and secret not in text and mode == 0o600,
                 f"link {'rejected' if rejected else 'NOT rejected'}; reasons file "
                 f"{oct(mode) if mode is not None else 'missing'}, "
                 f"{'quotes the target' if secret in text else 'quotes nothing of the target'}: "
                 f"{text.strip()[:90]!r}")
