"""agency_pulse.platforms: the one table every per-platform list in the product reads."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from agency_pulse import config, connections, orchestration, platforms
from agency_pulse.report import narrative

SRC = Path(__file__).resolve().parents[2] / "src"


def test_every_row_names_a_loadable_extractor():
    for platform in platforms.TABLE:
        extract = platform.load_extractor()
        assert callable(extract) and extract.__name__ == "extract"
        assert extract.__module__ == f"agency_pulse.extractors.{platform.name}"


def test_every_row_names_a_loadable_account_lookup_next_to_its_extractor():
    for platform in platforms.TABLE:
        resolve = platform.load_resolver()
        assert callable(resolve) and resolve.__name__ == "resolve_accounts"
        assert resolve.__module__ == f"agency_pulse.extractors.{platform.name}"


def test_the_product_lists_are_the_table():
    assert config.PLATFORMS == tuple(p.name for p in platforms.TABLE)
    assert connections.REAL_BASE_URLS == {p.name: p.real_base_url for p in platforms.TABLE}
    for p in platforms.TABLE:
        assert orchestration.api_pool(p.name) == p.api_pool
        assert orchestration.POOLS[p.api_pool][0] == p.api_pool_slots
        assert narrative.platform_label(p.name) == p.label
    assert len({p.name for p in platforms.TABLE}) == len(platforms.TABLE)
    assert len({p.api_pool for p in platforms.TABLE}) == len(platforms.TABLE)


def test_an_unknown_platform_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match=r"unknown platform 'myspace' \(one of facebook, "):
        platforms.get("myspace")


def test_no_platform_name_is_spelled_out_elsewhere_in_the_product():
    """Outside the table and the extractors, no string literal names a platform."""
    names = set(platforms.NAMES)
    found = []
    for path in sorted((SRC / "agency_pulse").rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative == "agency_pulse/platforms.py" or "/extractors/" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{relative}:{node.lineno} {node.value!r}")
    assert found == []


def run_python(code: str, tmp_path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(tmp_path)]),
           "AGENCY_PULSE_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_table_and_what_dags_read_imports_no_extractor(tmp_path):
    out = run_python("""
        import json, sys
        import agency_pulse.platforms, agency_pulse.config, agency_pulse.orchestration
        print(json.dumps(sorted(m for m in sys.modules
                                if m.startswith("agency_pulse.extractors") or m in
                                ("requests", "pyarrow", "pandas", "duckdb"))))
    """, tmp_path)
    assert json.loads(out) == []


def test_a_sixth_platform_is_one_row_and_one_extractor_module(tmp_path):
    """A row added to the table reaches config, registry, connections, pools, labels, the runner."""
    (tmp_path / "mastodon_extractor.py").write_text(textwrap.dedent("""
        from agency_pulse.extractors.base import ExtractResult, extract_each

        def extract(client, conn, accounts, run_date, state):
            result = ExtractResult()

            def one(account):
                result.account_snapshots.append({
                    "snapshot_date": run_date, "account_id": account.account_id,
                    "agency_id": account.agency_id, "platform": "mastodon",
                    "handle": account.handle, "followers": 7})

            return extract_each(client, accounts, result, one)
    """))
    out = run_python("""
        import dataclasses, json
        from datetime import date
        from agency_pulse import platforms

        row = platforms.Platform("mastodon", "Mastodon", "mastodon_extractor:extract",
                                 "https://mastodon.example", "agency_pulse_api_mastodon", 1)
        platforms.TABLE += (row,)
        platforms.NAMES += (row.name,)
        platforms.BY_NAME[row.name] = row

        from agency_pulse import config, connections, orchestration
        from agency_pulse.connections import PlatformConnection
        from agency_pulse.extract import run_platform
        from agency_pulse.registry import parse_registry
        from agency_pulse.report.narrative import platform_label
        from agency_pulse.validation.suites import SUITE_RULES

        registry = parse_registry({"agencies": [{"id": "culture", "name": "Culture",
            "accounts": [{"platform": "mastodon", "handle": "culture"}]}]})
        summary = run_platform("mastodon", date(2026, 11, 26), registry=registry,
                               connection=PlatformConnection("mastodon", "http://127.0.0.1:9"))
        print(json.dumps({
            "platforms": config.PLATFORMS[-1],
            "base_url": connections.REAL_BASE_URLS["mastodon"],
            "pool": orchestration.api_pool("mastodon"),
            "pooled": "agency_pulse_api_mastodon" in orchestration.POOLS,
            "label": platform_label("mastodon"),
            "valid": "mastodon" in SUITE_RULES["posts"].value_sets["platform"],
            "statuses": summary["statuses"], "snapshots": summary["rows"]["account_snapshots"],
        }))
    """, tmp_path)
    assert json.loads(out.strip().splitlines()[-1]) == {
        "platforms": "mastodon", "base_url": "https://mastodon.example",
        "pool": "agency_pulse_api_mastodon", "pooled": True, "label": "Mastodon",
        "valid": True, "statuses": {"ok": 1}, "snapshots": 1}
