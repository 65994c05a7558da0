"""The fast reliability scenarios (the same functions `make reliability` runs), plus checks
that the scenarios' own instruments can see what they look for."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reliability import scenarios
from reliability.leak_search import files_containing
from reliability.sql_scan import scan
from reliability.workspace import mart_digests

FAST = [s for s in scenarios.SCENARIOS if s.fast]


@pytest.mark.reliability
@pytest.mark.timeout(300)
@pytest.mark.parametrize("scenario", FAST, ids=[s.name for s in FAST])
def test_fast_scenario_passes(scenario):
    result = scenarios.execute(scenario)
    assert result.passed, "\n".join(result.failures())


def test_fast_set_is_the_documented_one():
    assert {s.name for s in FAST} == {"bad_input_corpus", "hostile_names", "secrets",
                                      "reruns_same_day", "crash_extract_write", "bit_flip",
                                      "rerun_faults_fast"}


def test_leak_search_reads_parquet_rows_and_gzip(tmp_path):
    # Parquet is compressed: a byte search would miss a leaked value; rows are searched.
    pq.write_table(pa.table({"url": ["https://x/?token=" + "canaryPARQUET" * 40]}),
                   tmp_path / "part-all.parquet", compression="zstd")
    (tmp_path / "raw.jsonl.gz").write_bytes(gzip.compress(b'{"body": "canaryGZIP"}'))
    (tmp_path / "plain.txt").write_text("nothing here")
    found = files_containing(tmp_path, ["canaryPARQUET", "canaryGZIP", "canaryABSENT"])
    assert found == {"canaryPARQUET": ["part-all.parquet"], "canaryGZIP": ["raw.jsonl.gz"],
                     "canaryABSENT": []}


def test_sql_scan_flags_a_data_value_but_not_an_identifier(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "module.py").write_text(
        "def load(con, table, handle):\n"
        "    con.execute(f'select * from {table}')\n"
        "    con.execute(f\"select * from core.accounts where handle = '{handle}'\")\n"
        "    con.execute('select * from t where handle = ' + handle)\n"
        "    query = f'delete from core.accounts where handle = {handle!r}'\n"
        "    con.execute('select * from t where handle = ?', [handle])\n")
    found = {d.line: d.carries_data for d in scan(package)}
    assert found == {2: False, 3: True, 4: True, 5: True}


def test_mart_digests_change_with_one_value(tmp_path):
    import duckdb

    homes = iter(range(10))

    def digests_with(value: int) -> dict:
        home = tmp_path / f"home{next(homes)}"
        home.mkdir()
        con = duckdb.connect(str(home / "warehouse.duckdb"))
        con.execute("create schema marts")
        con.execute("create table marts.account_annual as select * from "
                    "(values (2, 'b'), (1, 'a')) t(followers, handle)")
        con.execute("update marts.account_annual set followers = ? where handle = 'a'", [value])
        con.close()
        return mart_digests(home)

    assert digests_with(1) == digests_with(1)
    assert digests_with(1) != digests_with(5)
    assert digests_with(1)["marts.account_annual"][0] == 2


def test_corpus_cases_are_well_formed():
    corpus = Path(__file__).parent / "corpus"
    registries = sorted((corpus / "registry").glob("*.yaml"))
    api_cases = sorted((corpus / "api_x").glob("*.json"))
    assert len(registries) >= 3 and len(api_cases) >= 6
    for path in registries:
        assert path.read_bytes().startswith(b"# expect: "), path.name
    for path in api_cases:
        case = json.loads(path.read_text(encoding="utf-8"))
        assert set(case["expect"]) == {"x:good_one", "x:bad_one"}, path.name
