"""The product's import graph has no cycle, and only the lake's layout module spells the
lake's partition pattern.

The graph counts every import a module can run: at module level and inside functions
(a function-level import only hides a cycle, it does not remove it). Importing
``a.b.c`` also runs the package ``a.b`` unless the importing module lives in it, so that
edge counts too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = PROJECT / "src" / "agency_pulse"
LAYOUT_MODULE = "agency_pulse.lake_layout"
PARTITION_STRINGS = ("platform=", "date=", "part-")
# A pattern string starting a word: "date=" in a folder name, not in "run_date=None".
_PARTITION_WORD = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, PARTITION_STRINGS)) + ")")


def _module_name(path: Path, package_dir: Path) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    return {_module_name(path, package_dir): path for path in sorted(package_dir.rglob("*.py"))}


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The product modules that importing ``module`` runs directly (the edges of the graph)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets.add(base)
            # ``from package import submodule`` imports the submodule.
            targets.update(f"{base}.{alias.name}" for alias in node.names
                           if f"{base}.{alias.name}" in known)
    edges: set[str] = set()
    own = {module, *_ancestors(module)}
    for target in targets:
        for name in (*_ancestors(target), target):
            # The importer's own packages are already running when it runs: no edge.
            if name in known and name not in own:
                edges.add(name)
    return edges


def import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    modules = _modules(package_dir)
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None when the graph has none."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_cycle_finder_reports_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_function_level_and_package_imports_are_edges(tmp_path):
    package = tmp_path / "agency_pulse"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from agency_pulse import top\n")
    (package / "sub" / "leaf.py").write_text("from . import sibling\n")
    (package / "sub" / "sibling.py").write_text("")
    (package / "top.py").write_text("def f():\n    from agency_pulse.sub import leaf\n")
    graph = import_graph(package)
    assert graph["agency_pulse.top"] == {"agency_pulse.sub", "agency_pulse.sub.leaf"}
    assert graph["agency_pulse.sub.leaf"] == {"agency_pulse.sub.sibling"}
    assert find_cycle(graph) == ["agency_pulse.sub", "agency_pulse.top", "agency_pulse.sub"]


def test_the_product_has_no_import_cycle():
    graph = import_graph()
    assert "agency_pulse.lake" in graph and graph["agency_pulse.lake"], "graph not built"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _pattern_strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, pattern) of every partition pattern string in the module's string literals
    (docstrings and the literal parts of f-strings included)."""
    return [(node.lineno, found) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            for found in _PARTITION_WORD.findall(node.value)]


def test_the_pattern_match_finds_folder_names_not_keyword_arguments():
    tree = ast.parse('x = f"{root}/platform={p}/date={d}/.part-{k}.tmp"\n'
                     '"""validate(files, run_date=None, start_date=None)"""\n')
    assert sorted(found for _, found in _pattern_strings(tree)) == [
        "date=", "part-", "platform="]


def test_only_the_lake_layout_module_spells_the_partition_pattern():
    modules = _modules()
    assert LAYOUT_MODULE in modules
    offenders = []
    for name, path in modules.items():
        if name == LAYOUT_MODULE:
            continue
        offenders += [f"{path.relative_to(PROJECT)}:{line}: {found!r}" for line, found
                      in _pattern_strings(ast.parse(path.read_text(encoding="utf-8")))]
    assert not offenders, "\n".join(offenders)


def test_the_layout_module_does_spell_the_pattern():
    # Guards the test above against passing because it looks at the wrong strings.
    tree = ast.parse(_modules()[LAYOUT_MODULE].read_text(encoding="utf-8"))
    found = {pattern for _, pattern in _pattern_strings(tree)}
    assert found == set(PARTITION_STRINGS)
