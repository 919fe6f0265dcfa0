"""The dependency check the plugin and CLI rely on, and its install command."""

from __future__ import annotations

import sys
import tomllib

from conftest import REPO_ROOT

from community_safety.core import cli
from community_safety.core.dependencies import (
    ENGINE_DEPENDENCIES,
    install_command,
    missing_dependencies,
)


def test_declared_dependencies_match_pyproject():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    # tomli is the command line's TOML reader on Python < 3.11 only, not an engine package
    requirements = [r for r in project["dependencies"] if ";" not in r]
    declared = {req.split(">")[0].split("<")[0].strip() for req in requirements}
    assert declared == {dep.package for dep in ENGINE_DEPENDENCIES}
    for dep in ENGINE_DEPENDENCIES:
        assert any(req.startswith(f"{dep.package}>={dep.minimum}")
                   for req in project["dependencies"]), dep.requirement


def test_nothing_is_missing_in_the_test_environment():
    assert missing_dependencies() == []


def test_a_hidden_package_is_reported_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import now raises ImportError
    assert [dep.package for dep in missing_dependencies()] == ["scikit-learn"]


def test_install_command_names_the_python_qgis_runs():
    sklearn = [d for d in ENGINE_DEPENDENCIES if d.package == "scikit-learn"]
    windows = install_command(sklearn, platform="win32",
                              executable=r"C:\OSGeo4W\bin\qgis-bin.exe")
    assert windows.startswith("python -m pip install") and '"scikit-learn>=1.2"' in windows
    mac = install_command(sklearn, platform="darwin",
                          executable="/Applications/QGIS.app/Contents/MacOS/QGIS")
    assert mac.startswith("/Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install")
    linux = install_command(sklearn, platform="linux", executable="/usr/bin/qgis")
    assert linux.startswith("python3 -m pip install")


def test_cli_check_reports_missing_packages_and_exits_non_zero(monkeypatch, capsys):
    assert cli.main(["check"]) == 0
    monkeypatch.setitem(sys.modules, "geopandas", None)
    assert cli.main(["check"]) == 1
    err = capsys.readouterr().err
    assert "Missing Python packages: geopandas" in err and '"geopandas>=1.0"' in err
