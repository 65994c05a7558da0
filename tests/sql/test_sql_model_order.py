"""How include/sql is read: one model per file, layers in order, dependencies first."""

from __future__ import annotations

import duckdb
import pytest

from agency_pulse import config, warehouse


def write_models(root, models: dict[str, str]):
    for relative, sql in models.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    return root


def test_layers_in_order_and_each_model_after_what_it_names(tmp_path):
    sql_dir = write_models(tmp_path, {
        "marts/a_mart.sql": "create or replace table marts.a_mart as select * from core.int_b",
        "intermediate/int_a.sql": "create or replace table core.int_a as select 1 as x",
        # named after int_c in file order, but int_c needs it: it runs first
        "intermediate/int_b.sql":
            "-- uses core.int_a only in this comment\n"
            "create or replace table core.int_b as select * from core.int_c",
        "intermediate/int_c.sql": "create or replace table core.int_c as select * from core.int_a",
        "staging/stg_x.sql": "create or replace view staging.stg_x as select 1 as x",
    })

    order = [m.qualified_name for m in warehouse.discover_models(sql_dir)]

    assert order == ["staging.stg_x", "core.int_a", "core.int_c", "core.int_b", "marts.a_mart"]


def test_the_shipped_models_read_in_a_valid_order():
    models = warehouse.discover_models(config.SQL_DIR)
    seen: set[str] = set()
    for model in models:
        named = {m.qualified_name for m in models if m.qualified_name in model.sql
                 and m is not model}
        assert named <= seen, f"{model.qualified_name} runs before {named - seen}"
        seen.add(model.qualified_name)
    assert {f"marts.{m}" for m in warehouse.MARTS} <= seen


@pytest.mark.parametrize(("models", "message"), [
    ({"intermediate/int_a.sql": "create or replace table core.int_b as select 1"},
     "creates core.int_b, expected core.int_a"),
    ({"marts/m.sql": "create or replace table core.m as select 1"},
     "creates core.m, expected marts.m"),
    ({"marts/m.sql": "select 1"}, "exactly one"),
    ({"intermediate/int_a.sql": "create or replace table core.int_a as select * from core.int_b",
      "intermediate/int_b.sql": "create or replace table core.int_b as select * from core.int_a"},
     "cycle: core.int_a, core.int_b"),
])
def test_malformed_model_folders_are_refused(tmp_path, models, message):
    with pytest.raises(warehouse.WarehouseError, match=message):
        warehouse.discover_models(write_models(tmp_path, models))


def test_a_failing_model_is_named(tmp_path):
    sql_dir = write_models(tmp_path, {
        "marts/broken.sql": "create or replace table marts.broken as select * from nowhere"})
    with duckdb.connect() as con, pytest.raises(warehouse.WarehouseError,
                                                match=r"model marts\.broken \(broken\.sql\)"):
        warehouse.run_models(con, sql_dir)
