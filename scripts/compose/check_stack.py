"""Drive a running compose stack through the API server, as `make test-compose` does.

    python scripts/compose/check_stack.py --api http://127.0.0.1:PORT --user admin \
        --password-file FILE [--timeout 600]

Logs in (the simple auth manager's token), waits for the DAGs to be parsed, triggers the
extract DAG for today, waits for it and for the marts DAG its Asset triggers, checks that the
warehouse tasks ran on the `warehouse` queue and everything else on `default`, and that the
Agency Pulse page of the UI plugin answers 401 without a login and links agencies with one.
Exit 0 when all holds, 1 with a one-line reason otherwise; prints the measured seconds as
JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

import requests

EXTRACT_DAG, MARTS_DAG = "agency_pulse_extract", "agency_pulse_marts"
# Every task of the marts DAG writes the warehouse (the load, one task per dbt model, the
# readers' file, the report; or build_warehouse and write_report before the dbt manifest).


class CheckFailed(Exception):
    """The stack did not do what it should."""


class Api:
    def __init__(self, base: str, token: str):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.base}/api/v2{path}", timeout=30)

    def patch(self, path: str, body: dict) -> requests.Response:
        return self.session.patch(f"{self.base}/api/v2{path}", json=body, timeout=30)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.session.post(f"{self.base}/api/v2{path}", json=body, timeout=30)


def wait(condition, timeout: float, what: str, interval: float = 3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except requests.RequestException:
            result = None  # the api-server restarting: ask again
        if result:
            return result
        time.sleep(interval)
    raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")


def login(base: str, user: str, password: str) -> Api:
    anonymous = requests.get(f"{base}/api/v2/dags", timeout=30)
    if anonymous.status_code != 401:
        raise CheckFailed(f"the API answered {anonymous.status_code} without a login, not 401")
    response = requests.post(f"{base}/auth/token", json={"username": user, "password": password},
                             timeout=30)
    if response.status_code != 201:
        raise CheckFailed(f"login as {user} failed: HTTP {response.status_code}")
    return Api(base, response.json()["access_token"])


def run_pipeline(api: Api, timeout: float, figures: dict, started: float) -> str:
    """Trigger the extract DAG; return the marts run's id once both runs succeeded."""
    for dag_id in (EXTRACT_DAG, MARTS_DAG):
        wait(lambda d=dag_id: api.get(f"/dags/{d}").status_code == 200, 300,
             f"the dag-processor to parse {dag_id}")
    figures["dags_parsed_s"] = round(time.monotonic() - started, 1)
    if api.patch(f"/dags/{MARTS_DAG}", {"is_paused": False}).status_code != 200:
        raise CheckFailed(f"could not unpause {MARTS_DAG}")
    # Today's logical date is the one the scheduler's own @daily run would take once the
    # DAG is unpaused (catchup off), so the scheduler adds no second run.
    today = datetime.now(UTC).date().isoformat()
    run_id = f"compose_test__{today}"
    triggered = api.post(f"/dags/{EXTRACT_DAG}/dagRuns",
                         {"dag_run_id": run_id, "logical_date": f"{today}T00:00:00Z"})
    if triggered.status_code != 200:
        raise CheckFailed(f"triggering {EXTRACT_DAG} failed: HTTP {triggered.status_code} "
                          f"{triggered.text[:200]}")
    if api.patch(f"/dags/{EXTRACT_DAG}", {"is_paused": False}).status_code != 200:
        raise CheckFailed(f"could not unpause {EXTRACT_DAG}")

    def finished(dag_id: str, run: str):
        state = api.get(f"/dags/{dag_id}/dagRuns/{run}").json()["state"]
        return state if state in ("success", "failed") else None

    state = wait(lambda: finished(EXTRACT_DAG, run_id), timeout, "the extract run")
    figures["extract_finished_s"] = round(time.monotonic() - started, 1)
    if state != "success":
        raise CheckFailed(f"the extract run ended {state}: {failed_tasks(api, EXTRACT_DAG, run_id)}")

    def marts_run():
        runs = api.get(f"/dags/{MARTS_DAG}/dagRuns").json()["dag_runs"]
        done = [r for r in runs if r["state"] in ("success", "failed")]
        return done[0] if done else None

    run = wait(marts_run, timeout, "the Asset-triggered marts run")
    figures["marts_finished_s"] = round(time.monotonic() - started, 1)
    if run["run_type"] != "asset_triggered":
        raise CheckFailed(f"the marts run was {run['run_type']}, not asset_triggered")
    if run["state"] != "success":
        raise CheckFailed(f"the marts run ended {run['state']}: "
                          f"{failed_tasks(api, MARTS_DAG, run['dag_run_id'])}")
    check_queues(api, EXTRACT_DAG, run_id)
    check_queues(api, MARTS_DAG, run["dag_run_id"])
    return run["dag_run_id"]


def task_instances(api: Api, dag_id: str, run_id: str) -> list[dict]:
    response = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000")
    return response.json()["task_instances"]


def failed_tasks(api: Api, dag_id: str, run_id: str) -> str:
    failed = sorted({t["task_id"] for t in task_instances(api, dag_id, run_id)
                     if t["state"] not in ("success", "skipped")})
    return ", ".join(failed) or "no failed task"


def check_queues(api: Api, dag_id: str, run_id: str) -> None:
    """Warehouse tasks on the `warehouse` queue, every other task on `default`, all succeeded."""
    for ti in task_instances(api, dag_id, run_id):
        expected = "warehouse" if dag_id == MARTS_DAG else "default"
        if ti["queue"] != expected:
            raise CheckFailed(f"{dag_id}.{ti['task_id']} ran on queue {ti['queue']}, "
                              f"not {expected}")
        if ti["state"] != "success":
            raise CheckFailed(f"{dag_id}.{ti['task_id']} ended {ti['state']}")


def check_plugin_page(api: Api) -> None:
    """The plugin's page: refused without a login, the leaderboard (agency links) with one."""
    url = f"{api.base}/agency-pulse/"
    anonymous = requests.get(url, timeout=30)
    if anonymous.status_code != 401:
        raise CheckFailed(f"the plugin page answered {anonymous.status_code} without a login")
    page = api.session.get(url, timeout=60)
    if page.status_code != 200:
        raise CheckFailed(f"the plugin page answered {page.status_code} with a login")
    if 'href="/agency-pulse/agency/' not in page.text:
        raise CheckFailed("the plugin page links no agency: the marts are empty")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures: dict = {}
    try:
        with open(args.password_file, encoding="utf-8") as file:
            password = file.read().strip()
        api = login(args.api, args.user, password)
        marts_run = run_pipeline(api, args.timeout, figures, started)
        check_plugin_page(api)
    except (CheckFailed, OSError, requests.RequestException, KeyError, ValueError) as error:
        print(f"check failed: {error}", file=sys.stderr)
        print(json.dumps(figures))
        return 1
    print(f"marts run {marts_run} succeeded; the plugin page shows the marts")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
