"""
### Agency Pulse: daily extract

Every day, for every platform (Facebook, Instagram, YouTube, X, Telegram), one mapped task
extracts the registry's accounts into the lake's landing zone (account snapshots, posts
with their metrics, follower history, the extract log and the raw responses), then one
task validates every landed batch with Great Expectations: good batches are published
to the lake, bad ones quarantined. Publishing updates the lake Asset, which schedules the
marts DAG. A platform without a connection is skipped with one log line; a platform
that fails (expired token, quota spent) fails its own task only, after landing what it got.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from agency_pulse.orchestration import LAKE_ASSET_URI, TAGS, default_args, run_day


@dag(
    dag_id="agency_pulse_extract",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=[*TAGS, "extract"],
    default_args=default_args(),
    doc_md=__doc__,
)
def agency_pulse_extract():
    @task
    def platforms() -> list[str]:
        from agency_pulse.config import PLATFORMS

        return list(PLATFORMS)

    @task(map_index_template="{{ task.op_kwargs['platform'] }}")
    def extract_platform(platform: str, **context) -> dict:
        from agency_pulse import pipeline

        return pipeline.extract_platform(platform, run_day(context), run_id=context["run_id"])

    @task(trigger_rule="all_done", outlets=[Asset(LAKE_ASSET_URI)])
    def validate_landed_batches(summaries, **context) -> int:
        """Validate what landed, whether or not every platform succeeded."""
        from agency_pulse import pipeline

        outcomes = pipeline.validate_landing(day=run_day(context), run_id=context["run_id"])
        return len(outcomes)

    validate_landed_batches(extract_platform.expand(platform=platforms()))


agency_pulse_extract()
