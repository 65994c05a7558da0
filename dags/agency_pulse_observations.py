"""
### Agency Pulse: manual observations

Picks up observation CSVs (docs/REFERENCE.md, Manual observations CSV) dropped into
`$AGENCY_PULSE_HOME/inbox/observations/`. A good file is validated, landed and moved to
`processed/`; a bad file is rejected whole and moved to `rejected/` with a
`.errors.txt` listing every bad row. Skips when the inbox is empty; otherwise updates the
observations Asset, which schedules the marts DAG, for the files that were imported, and
then fails `report_rejected_files` naming any rejected file, where an operator looks.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from agency_pulse.orchestration import OBSERVATIONS_ASSET_URI, TAGS, default_args
from agency_pulse.settings import Settings

# Read when the file is parsed, for the DAG's own arguments (retries); the task reads the
# settings of the worker it runs on when it starts.
DAG_SETTINGS = Settings.from_environment()


@dag(
    dag_id="agency_pulse_observations",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=[*TAGS, "observations"],
    default_args=default_args(DAG_SETTINGS),
    doc_md=__doc__,
)
def agency_pulse_observations():
    @task(outlets=[Asset(OBSERVATIONS_ASSET_URI)])
    def import_inbox() -> list[str]:
        """Import every waiting CSV; return the rejected files' summaries."""
        from airflow.sdk.exceptions import AirflowSkipException

        from agency_pulse import config, observations

        inbox = config.paths(Settings.from_environment()).inbox
        if not inbox.is_dir() or not any(
                p.suffix.lower() == ".csv" for p in inbox.iterdir() if p.is_file()):
            raise AirflowSkipException("no observation files in the inbox")
        try:
            observations.import_inbox(inbox)
        except observations.InboxRejected as exc:
            return [r.summary() for r in exc.results
                    if isinstance(r, observations.RejectedFile)]
        return []

    @task
    def report_rejected_files(rejected: list[str]) -> None:
        if rejected:
            raise ValueError("rejected observation files: " + "; ".join(rejected))

    report_rejected_files(import_inbox())


agency_pulse_observations()
