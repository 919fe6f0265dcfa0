"""The engine must run without QGIS: nothing in core/ may import qgis or PyQt."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import REPO_ROOT

FORBIDDEN = ("qgis", "PyQt5", "PyQt6", "PyQt", "sip", "processing")


def imported_roots(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                roots.add(str(node.args[0].value).split(".")[0])
    return roots


def test_no_core_module_imports_qgis_or_pyqt():
    modules = sorted((REPO_ROOT / "core").rglob("*.py"))
    assert modules, "core/ has no modules"
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_roots(path) & set(FORBIDDEN))
        for path in modules
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_every_core_module_loads_no_qgis():
    names = sorted(
        ".".join(("community_safety", *p.relative_to(REPO_ROOT).with_suffix("").parts))
        for p in (REPO_ROOT / "core").rglob("*.py")
        if p.stem != "__init__"
    )
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
