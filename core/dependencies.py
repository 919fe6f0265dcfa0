"""Which engine packages can be imported, and the command that installs the rest."""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
from dataclasses import dataclass


@dataclass(frozen=True)
class Dependency:
    module: str  # what the engine imports
    package: str  # what pip installs
    minimum: str  # lowest version the engine is tested with

    @property
    def requirement(self) -> str:
        return f"{self.package}>={self.minimum}"


ENGINE_DEPENDENCIES = (
    Dependency("numpy", "numpy", "1.21"),
    Dependency("pandas", "pandas", "2.0"),
    Dependency("geopandas", "geopandas", "1.0"),
    Dependency("shapely", "shapely", "2.0"),
    Dependency("pyproj", "pyproj", "3.4"),
    Dependency("fiona", "fiona", "1.9"),
    Dependency("rtree", "rtree", "1.0"),
    Dependency("sklearn", "scikit-learn", "1.2"),
    Dependency("matplotlib", "matplotlib", "3.6"),
    Dependency("openpyxl", "openpyxl", "3.1"),
)


def missing_dependencies(dependencies=ENGINE_DEPENDENCIES) -> list[Dependency]:
    """The dependencies whose module cannot be imported here."""
    missing = []
    for dep in dependencies:
        try:
            importlib.import_module(dep.module)
        except Exception:  # ImportError, or a broken binary install raising something else
            missing.append(dep)
    return missing


def _python_for_pip(platform: str, executable: str) -> str:
    """The Python that QGIS runs, named the way a user types it for pip.

    Inside QGIS ``sys.executable`` is often the QGIS program itself, not a Python.
    """
    name = os.path.basename(executable or "").lower()
    if name.startswith("python"):
        return executable
    if platform == "win32":
        return "python"  # run in the OSGeo4W Shell that came with QGIS
    if platform == "darwin" and executable:
        return os.path.join(os.path.dirname(executable), "bin", "python3")
    return "python3"


def _externally_managed() -> bool:
    """True where the Python refuses pip installs outside a venv (PEP 668, e.g. Debian 12)."""
    stdlib = sysconfig.get_paths().get("stdlib", "")
    return os.path.exists(os.path.join(stdlib, "EXTERNALLY-MANAGED"))


def install_command(
    missing: list[Dependency], platform: str | None = None, executable: str | None = None
) -> str:
    """The exact pip command that installs the missing packages into the Python QGIS runs."""
    platform = platform or sys.platform
    executable = sys.executable if executable is None else executable
    python = _python_for_pip(platform, executable)
    if " " in python:
        python = f'"{python}"'
    flags = ""
    if sys.prefix == sys.base_prefix:  # not in a venv: install for this user only
        flags = " --user"
        if platform.startswith("linux") and _externally_managed():
            flags += " --break-system-packages"
    requirements = " ".join(f'"{dep.requirement}"' for dep in missing)
    return f"{python} -m pip install{flags} {requirements}"
