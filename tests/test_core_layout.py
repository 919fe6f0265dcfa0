"""The engine's rooms: core/ is packages by stage, its imports run one way (a stage uses only
the stages below it and the ground), no module imports itself back through others, and no
module is too long to read. Read from the source: every import counts, also those inside a
function."""

from __future__ import annotations

import ast
import importlib

import pytest
from conftest import REPO_ROOT

CORE = REPO_ROOT / "core"

# the ground, which every stage may use, then the stages from the bottom up; the command
# line and the demonstration sit on top
GROUND = {"errors", "progress", "cells", "written", "styles", "dependencies", "public",
          "recent"}
STAGES = {"store": 1, "data": 2, "project": 3, "segment": 4, "places": 5, "share": 6,
          "targeting": 7, "demand": 7, "report": 8, "demo": 9, "cli": 10}
MAX_LINES = 600


def _module_name(path) -> str:
    parts = path.relative_to(CORE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(CORE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The core modules an ``import`` in ``importer`` loads ('' for core itself)."""
    if node.level == 0:
        if not (node.module or "").startswith("community_safety.core"):
            return []
        base = node.module.split(".")[2:]
    else:
        here = importer.split(".") if importer else []
        package = here if is_package else here[:-1]
        if node.level - 1 > len(package):
            return []
        base = package[:len(package) - (node.level - 1)] + (
            node.module.split(".") if node.module else [])
    found = []
    for alias in node.names:
        candidate = ".".join([*base, alias.name])
        found.append(candidate if candidate in MODULES else ".".join(base))
    return found


def _imports() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        uses = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                uses.update(_resolve(name, path.name == "__init__.py", node))
        graph[name] = {u for u in uses if u in MODULES and u != name}
    return graph


def _stage(module: str) -> str:
    return module.split(".")[0] if module else ""


def test_core_is_packages_by_stage():
    top_level = {name for name in MODULES if "." not in name and name}
    packages = {p.name for p in CORE.iterdir() if (p / "__init__.py").exists()}
    assert top_level - packages <= GROUND | {"cli", "demo"}, (
        "a module at core/'s top is neither ground nor a stage")
    assert packages <= set(STAGES), f"a package not placed among the stages: {packages}"


def test_imports_run_one_way_down_the_stages():
    wrong = []
    for importer, used in _imports().items():
        stage = _stage(importer)
        for module in used:
            other = _stage(module)
            if not module or other == stage or other in GROUND:
                continue
            if stage in GROUND or STAGES[other] >= STAGES[stage]:
                wrong.append(f"{importer} imports {module}")
    assert wrong == []


def test_no_import_cycles():
    graph = _imports()
    # Tarjan's strongly connected components: any with two or more modules is a cycle
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_no_module_is_too_long_to_read():
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


@pytest.mark.parametrize("package, name", [
    ("segment", "build_segmentation"), ("segment", "load_segmentation"),
    ("segment", "save_segmentation"), ("project", "load_project"),
    ("places", "incidents_step"), ("share", "export_step"),
    ("targeting", "target_step"), ("demand", "demand_step"),
    ("report", "write_report"), ("store", "replaced_folder"), ("data", "read_table"),
])
def test_a_script_finds_each_stage_s_main_steps_on_the_package(package, name):
    module = importlib.import_module(f"community_safety.core.{package}")
    assert callable(getattr(module, name))
    assert name in module.__all__
