"""The SQL models as a dbt project (include/dbt): order, failures, docs and data tests."""

from __future__ import annotations

import re

import duckdb
import pytest
from demo_warehouse import build_demo_warehouse

from agency_pulse import column_docs, dbt_project, warehouse


def test_the_shipped_models_run_after_what_they_refer_to():
    models = dbt_project.compiled_models("memory")
    seen: set[str] = set()
    for model in models:
        named = {m.qualified_name for m in models if m is not model
                 and f'"{m.schema}"."{m.name}"' in model.compiled_sql}
        assert named <= seen, f"{model.qualified_name} runs before {named - seen}"
        seen.add(model.qualified_name)
    assert {f"marts.{m}" for m in warehouse.MARTS} <= seen
    assert {m.qualified_name.split(".")[0] for m in models} == {
        "staging", "core", "marts", "quality"}
    assert {m.materialized for m in models if m.schema == "staging"} == {"view"}


def test_a_failing_model_is_named(tmp_path, broken_project):
    project = broken_project( "marts/account_annual", "select 1 / 'x' as nonsense\n")
    with duckdb.connect() as con, pytest.raises(
            warehouse.WarehouseError, match=r"model marts\.account_annual \(account_annual\.sql\)"
                                            r" failed: .*"):
        warehouse.create_source_tables(con)
        warehouse.run_models(con, project)


def test_schema_yml_is_generated_from_the_reference():
    for relative, text in column_docs.dbt_schema_files().items():
        committed = (dbt_project.PROJECT_DIR / relative).read_text(encoding="utf-8")
        assert committed == text, (f"{relative} differs from docs/REFERENCE.md: run "
                                   "python -m agency_pulse.column_docs --write-dbt-schema")


def test_every_mart_column_has_a_description_and_a_comment(tmp_path):
    path = build_demo_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("begin transaction")
        ran = dbt_project.run(con)  # dbt itself, as agency-pulse build runs it
        con.execute("commit")
        missing = con.execute(
            "select table_name || '.' || column_name from duckdb_columns() "
            "where schema_name = 'marts' and (comment is null or comment = '')").fetchall()
        tables = con.execute("select table_name, comment from duckdb_tables() "
                             "where schema_name = 'marts' order by 1").fetchall()
    assert {f"marts.{m}" for m in warehouse.MARTS} <= {r.qualified_name for r in ran}
    assert missing == []
    assert [t for t, _ in tables] == sorted(warehouse.MARTS)
    assert all(comment and "one row per" in comment for _, comment in tables)

    # dbt docs: one file, opening with no network (nothing loaded from a CDN)
    page = dbt_project.docs_generate(path, tmp_path / "docs").read_text(encoding="utf-8")
    remote = re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//[^\"']+",
                        page)
    assert remote == []
    assert "the account, <platform>:<handle> (handle in lower case" in page


def test_dbt_data_tests_pass_on_the_demo_and_catch_a_broken_rule(tmp_path):
    path = build_demo_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(path)) as con:
        assert dbt_project.test(con) == []
        # a second row for the same account and month, with a status the contract lacks
        con.execute("insert into marts.account_monthly by name select * replace "
                    "('busy' as activity_status) from marts.account_monthly limit 1")
        failures = dbt_project.test(con)
    assert any(f.startswith("unique_combination_account_monthly") for f in failures), failures
    assert any(f.startswith("accepted_values_account_monthly_activity_status")
               for f in failures), failures
