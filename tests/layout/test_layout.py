"""The layout's promises: the product never imports the sandbox or a test fixture, and the
repository stands alone (no tracked file points outside it)."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRODUCT = PROJECT / "src" / "agency_pulse"


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    files = []
    for name in filter(None, listed):
        path = PROJECT / name
        if path.is_file() and b"\0" not in path.read_bytes()[:4096]:
            files.append(path)
    return files


@pytest.mark.parametrize("module", sorted(PRODUCT.rglob("*.py")), ids=lambda p: p.name)
def test_no_product_module_imports_the_sandbox_or_a_test_fixture(module):
    imported = _imported_modules(module)
    forbidden = {name for name in imported
                 if name.split(".")[0] in {"agency_pulse_sandbox", "tests", "demo_warehouse",
                                           "platform_api_fakes", "testkit", "bench", "reliability"}}
    assert not forbidden, f"{module.relative_to(PROJECT)} imports {sorted(forbidden)}"


def test_no_tracked_file_points_outside_the_repository():
    if not (PROJECT / ".git").exists():
        pytest.fail("the layout test needs a git checkout to list the tracked files")
    # The checkout's own absolute path, its parent folder (where sibling folders live) as an
    # absolute path (not as the tail of a relative one such as bench/work/), and the sibling
    # folder of specifications a developer's machine has beside the clone.
    outside = [re.compile(r"(?<![\w./-])" + re.escape(str(folder).rstrip("/") + "/"))
               for folder in (PROJECT, PROJECT.parent)] + [re.compile(re.escape(".." + "/shared"))]
    offenders = []
    for path in _tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path.relative_to(PROJECT)}: {pattern.pattern}" for pattern in outside
                      if pattern.search(text)]
    assert not offenders, offenders
