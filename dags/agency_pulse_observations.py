"""
### Agency Pulse: manual observations

Picks up observation CSVs (contract section 4) dropped into
`$AGENCY_PULSE_HOME/inbox/observations/`. A good file is validated, landed and moved to
`processed/`; a bad file is rejected whole and moved to `rejected/` with a
`.errors.txt` listing every bad row. Skips when the inbox is empty; otherwise updates the
observations Asset, which schedules the marts DAG.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from agency_pulse.orchestration import OBSERVATIONS_ASSET_URI, TAGS, default_args


@dag(
    dag_id="agency_pulse_observations",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=[*TAGS, "observations"],
    default_args=default_args(),
    doc_md=__doc__,
)
def agency_pulse_observations():
    @task(outlets=[Asset(OBSERVATIONS_ASSET_URI)])
    def import_inbox() -> int:
        from airflow.sdk.exceptions import AirflowSkipException

        from agency_pulse import config, observations

        if not any(config.paths().inbox.glob("*.csv")):
            raise AirflowSkipException("no observation files in the inbox")
        results = observations.import_inbox()
        return len(results)

    import_inbox()


agency_pulse_observations()
