"""The dependency check the plugin and CLI rely on, the one constraints file, and the pip
command (shown to IT departments and run by the Install button)."""

from __future__ import annotations

import sys

import pytest
from conftest import REPO_ROOT

from community_safety.core import cli, dependencies
from community_safety.core.dependencies import (
    ENGINE_DEPENDENCIES,
    Dependency,
    dependency_problems,
    explain_pip_failure,
    install_command,
    read_constraints,
    requirements,
    satisfies,
)


def test_every_engine_import_is_a_declared_dependency_with_a_range():
    packages = {dep.package for dep in ENGINE_DEPENDENCIES}
    assert {"numpy", "pandas", "geopandas", "shapely", "pyogrio", "pyproj", "scikit-learn",
            "matplotlib", "openpyxl", "jinja2"} <= packages
    for dep in ENGINE_DEPENDENCIES:  # each has a lower and an upper bound
        assert ">=" in dep.specifier and "<" in dep.specifier.replace("<=", ""), dep


def test_pyproject_takes_its_dependencies_from_the_constraints_file():
    import tomllib

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "dependencies" in pyproject["project"]["dynamic"]
    assert "dependencies" not in pyproject["project"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["dependencies"]["file"] == [
        "constraints.txt"]


def test_constraints_file_is_read_with_markers_and_refuses_nonsense(tmp_path):
    path = tmp_path / "constraints.txt"
    path.write_text('# comment\nfoo>=1.0,<2\n\ntomli>=2.0,<3; python_version < "3.11"\n')
    foo, tomli = read_constraints(path)
    assert foo == Dependency("foo", ">=1.0,<2") and foo.needed()
    assert tomli.python_below == (3, 11)
    assert tomli.needed((3, 9)) and not tomli.needed((3, 11))
    path.write_text("just words\n")
    with pytest.raises(ValueError, match="constraints.txt: cannot read the requirement"):
        read_constraints(path)


@pytest.mark.parametrize("version, specifier, expected", [
    ("2.1.2", ">=2.0,<2.3", True), ("2.3.0", ">=2.0,<2.3", False),
    ("1.26.4", ">=1.23,<2", True), ("2.0.0rc1", ">=1.23,<2", False),
    ("3.0", ">=2.0,<3.1", True), ("0.7.2", ">=0.7.2,<0.14", True),
    ("0.7.1", ">=0.7.2,<0.14", False),
])
def test_versions_are_compared_by_release_numbers(version, specifier, expected):
    assert satisfies(version, specifier) is expected


def test_nothing_is_missing_in_the_test_environment():
    assert dependency_problems() == []


def test_a_hidden_package_is_reported_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import now raises ImportError
    assert [problem.package for problem in dependency_problems()] == ["scikit-learn"]


def test_a_version_outside_the_range_is_reported_with_both_versions(monkeypatch):
    real = dependencies.installed_version
    monkeypatch.setattr(dependencies, "installed_version",
                        lambda p: "1.8.0" if p == "shapely" else real(p))
    (problem,) = dependency_problems()
    assert str(problem) == "shapely (version 1.8.0 installed, needs >=2.0,<2.3)"


def test_install_command_names_the_python_qgis_runs():
    sklearn = [d for d in ENGINE_DEPENDENCIES if d.package == "scikit-learn"]
    windows = install_command(sklearn, platform="win32",
                              executable=r"C:\OSGeo4W\bin\qgis-bin.exe")
    assert windows.startswith("python -m pip install")
    assert '"scikit-learn>=1.2,<1.10"' in windows
    mac = install_command(sklearn, platform="darwin",
                          executable="/Applications/QGIS.app/Contents/MacOS/QGIS")
    assert mac.startswith("/Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install")
    linux = install_command(sklearn, platform="linux", executable="/usr/bin/qgis")
    assert linux.startswith("python3 -m pip install")


def test_the_numpy_qgis_has_loaded_is_pinned_when_it_is_in_range():
    wanted = requirements(ENGINE_DEPENDENCIES, numpy_version="1.24.2")
    assert "numpy==1.24.2" in wanted and not any(r.startswith("numpy>=") for r in wanted)
    assert "numpy>=1.23,<2" in requirements(ENGINE_DEPENDENCIES, numpy_version="2.1.0")
    assert "numpy>=1.23,<2" in requirements(ENGINE_DEPENDENCIES, numpy_version=None)


@pytest.mark.parametrize("output, expected", [
    ("/usr/bin/python3: No module named pip\n", "pip is not installed for QGIS's Python"),
    ("WARNING: Retrying ... NewConnectionError('<...>: Failed to establish a new connection"
     ": [Errno -3] Temporary failure in name resolution')\nERROR: Could not find a version "
     "that satisfies the requirement pandas", "could not reach the Python Package Index"),
    ("ERROR: Could not install packages due to an OSError: [Errno 13] Permission denied",
     "not allowed to write"),
    ("ERROR: Something else went wrong\n", "pip failed: ERROR: Something else went wrong"),
])
def test_pip_failures_are_explained_in_one_sentence(output, expected):
    message = explain_pip_failure(output, "/usr/bin/python3")
    assert expected in message and "\n" not in message


def test_cli_check_reports_missing_packages_and_exits_non_zero(monkeypatch, capsys):
    assert cli.main(["check"]) == 0
    monkeypatch.setitem(sys.modules, "geopandas", None)
    assert cli.main(["check"]) == 1
    err = capsys.readouterr().err
    assert "Missing Python packages: geopandas (cannot be imported" in err
    assert '"geopandas>=1.0,<1.2"' in err


def test_the_python_run_for_pip_is_this_python_not_another_on_path(monkeypatch, tmp_path):
    other = tmp_path / "pyenv" / "shims" / "python3"  # what QGIS reports on such machines
    other.parent.mkdir(parents=True)
    other.write_text("")
    monkeypatch.setattr(sys, "executable", str(other))
    found = dependencies.python_executable()
    assert found is not None and str(tmp_path) not in found
    assert dependencies._inside(found, [sys.exec_prefix, sys.base_exec_prefix])
    assert install_command(ENGINE_DEPENDENCIES[:1]).startswith(f"{found} -m pip install")
