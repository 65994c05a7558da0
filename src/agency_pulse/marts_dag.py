"""The marts DAG's models as Airflow tasks: one task per dbt model, in dbt's order.

Astronomer Cosmos renders the task group from the project's ``manifest.json`` (written at
set-up by ``agency_pulse.airflow_setup``, and again by the load task when the project
changed), so parsing the DAG file never runs dbt. Each model's task runs that model with
dbt in-process on the warehouse (``warehouse.run_model``: ``dbt run --select <model>``
under the build lock); every task holds the one-slot warehouse pool, so one writes at a
time. While the manifest is missing or older than the project, the DAG builds the
warehouse in one task instead (``manifest_is_current``).
"""

from __future__ import annotations

from pathlib import Path

from agency_pulse import dbt_project

MANIFEST = dbt_project.PROJECT_DIR / "target" / "manifest.json"
# The project fingerprint the manifest was written from (dbt_project.project_fingerprint).
MANIFEST_FINGERPRINT = MANIFEST.with_name("manifest.fingerprint")


def manifest_is_current(manifest: Path | None = None) -> bool:
    """Whether ``manifest.json`` exists and was written from the project as it is now."""
    manifest = manifest or MANIFEST
    fingerprint = manifest.with_name(MANIFEST_FINGERPRINT.name)
    try:
        return (manifest.is_file() and fingerprint.read_text(encoding="utf-8").strip()
                == dbt_project.project_fingerprint())
    except OSError:
        return False


def write_manifest(manifest: Path | None = None) -> Path:
    """Write ``manifest.json`` (and its fingerprint) for the task group; return its path."""
    manifest = manifest or MANIFEST
    fingerprint = dbt_project.project_fingerprint()
    written = dbt_project.write_manifest(manifest.parent)
    manifest.with_name(MANIFEST_FINGERPRINT.name).write_text(fingerprint + "\n",
                                                            encoding="utf-8")
    return written


def refresh_manifest() -> bool:
    """Rewrite the manifest when the project changed since it was written; True if it did."""
    if manifest_is_current():
        return False
    write_manifest()
    return True


def model_task_group(group_id: str, *, pool: str, queue: str, default_args: dict):
    """The Cosmos ``DbtTaskGroup`` of every model (sources and tests not rendered as tasks)."""
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        LoadMode,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
    )
    from cosmos.constants import DbtResourceType, ExecutionMode, TestBehavior

    project = ProjectConfig(manifest_path=MANIFEST, project_name="agency_pulse",
                            dbt_project_path=dbt_project.PROJECT_DIR)
    # A local file: read as a plain path, not through Airflow's ObjectStoragePath (whose
    # first use loads every Airflow plugin, a second of parse time).
    project.manifest_path = MANIFEST
    return DbtTaskGroup(
        group_id=group_id,
        project_config=project,
        profile_config=ProfileConfig(profile_name="agency_pulse", target_name="warehouse",
                                     profiles_yml_filepath=dbt_project.PROJECT_DIR
                                     / "profiles.yml"),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.NONE,
            node_converters={DbtResourceType.MODEL: _model_converter(pool, queue)}),
        default_args=default_args,
    )


def _model_converter(pool: str, queue: str):
    def model_task(**kwargs):  # Cosmos logs the converter's __name__: a plain function
        return _model_task(pool=pool, queue=queue, **kwargs)
    return model_task


def _model_task(*, dag, task_group, node, task_id, pool: str, queue: str, **_):
    from airflow.providers.standard.operators.python import PythonOperator

    return PythonOperator(task_id=task_id, python_callable=run_model,
                          op_kwargs={"model": node.name}, dag=dag, task_group=task_group,
                          pool=pool, queue=queue, doc_md=f"dbt model `{node.name}` "
                          f"({node.file_path.name if hasattr(node.file_path, 'name') else ''})")


def run_model(model: str) -> dict:
    """The task of one model: run it on the warehouse of the worker's settings."""
    from agency_pulse import warehouse
    from agency_pulse.settings import Settings

    return warehouse.run_model(model, settings=Settings.from_environment())
