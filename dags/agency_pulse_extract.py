"""
### Agency Pulse: daily extract

Every day, for every platform (Facebook, Instagram, YouTube, X, Telegram), the registry's
accounts are split into batches and one mapped task per batch extracts them into the lake's
landing zone (account snapshots, posts with their metrics, follower history, the extract
log and the raw responses). The batches of a platform spread over every Celery worker, while
the platform's API pool caps how many run at once across all of them, so more workers never
exceed the API's rate limits together. Then one task validates every landed batch with
Great Expectations: good batches are published to the lake, bad ones quarantined.
Publishing updates the lake Asset, which schedules the marts DAG. Last, each month past the
settling window is merged into one file per dataset and platform. A platform without a
connection is skipped with one log line; a batch that fails (expired token, quota spent)
fails its own task only, after landing what it got.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from agency_pulse.config import PLATFORMS
from agency_pulse.orchestration import LAKE_ASSET_URI, TAGS, api_pool, default_args, run_day
from agency_pulse.settings import Settings

# Read when the file is parsed, for the DAG's own arguments (retries); each task reads the
# settings of the worker it runs on when it starts.
DAG_SETTINGS = Settings.from_environment()


@dag(
    dag_id="agency_pulse_extract",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=[*TAGS, "extract"],
    default_args=default_args(DAG_SETTINGS),
    doc_md=__doc__,
)
def agency_pulse_extract():
    @task
    def plan_batches(platform: str, **context) -> list[dict]:
        """The platform's registry accounts in batches: one mapped extract task each."""
        from agency_pulse.orchestration import extract_batches

        return extract_batches(platform, settings=Settings.from_environment())

    @task(map_index_template="{{ task.op_kwargs['platform'] }}/{{ task.op_kwargs['batch_key'] }}")
    def extract_batch(platform: str, batch_key: str, accounts: list[str], **context) -> dict:
        from agency_pulse import pipeline

        # A retry fetches only what the day does not hold yet (the try before landed the rest).
        return pipeline.extract_platform(platform, run_day(context), run_id=context["run_id"],
                                         batch_key=batch_key, accounts=accounts,
                                         settings=Settings.from_environment(),
                                         only_missing=context["ti"].try_number > 1)

    @task(trigger_rule="all_done", outlets=[Asset(LAKE_ASSET_URI)])
    def validate_landed_batches(**context) -> int:
        """Validate what landed, whether or not every batch succeeded."""
        from agency_pulse import pipeline

        outcomes = pipeline.validate_landing(day=run_day(context), run_id=context["run_id"],
                                             settings=Settings.from_environment())
        return len(outcomes)

    @task(trigger_rule="all_done")
    def compact_settled_months(**context) -> int:
        """Merge each month past the settling window into one file per dataset and platform."""
        from agency_pulse import pipeline

        result = pipeline.compact_lake(run_day(context), settings=Settings.from_environment())
        return len(result.written)

    extracted = [
        extract_batch.override(task_id=f"extract_{platform}", pool=api_pool(platform))
        .expand_kwargs(plan_batches.override(task_id=f"plan_{platform}")(platform))
        for platform in PLATFORMS
    ]
    extracted >> validate_landed_batches() >> compact_settled_months()


agency_pulse_extract()
