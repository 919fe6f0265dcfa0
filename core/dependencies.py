"""Which engine packages are installed in a supported version, and how to install the rest.

The packages and their supported ranges live in one file, ``constraints.txt`` at the root of
the plugin. Everything that installs them reads it: the plugin's Install button, the command
it shows for installing by hand, ``scripts/setup.sh`` (``python core/dependencies.py``
prints the requirements) and ``pyproject.toml``.

This module uses the standard library only: it runs before the packages it checks exist.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parent.parent / "constraints.txt"
# the module the engine imports, where it differs from the name pip installs
MODULE_NAMES = {"scikit-learn": "sklearn"}


@dataclass(frozen=True)
class Dependency:
    package: str  # what pip installs
    specifier: str  # the supported range, e.g. ">=2.0,<3.1"
    python_below: tuple = ()  # needed only on Pythons older than this, e.g. (3, 11)

    @property
    def module(self) -> str:  # what the engine imports
        return MODULE_NAMES.get(self.package, self.package)

    @property
    def requirement(self) -> str:
        return f"{self.package}{self.specifier}"

    def needed(self, python=sys.version_info) -> bool:
        return not self.python_below or tuple(python[:2]) < self.python_below

    @property
    def minimum(self) -> str:
        return next(v for op, v in _clauses(self.specifier) if op == ">=")


@dataclass(frozen=True)
class Problem:
    dependency: Dependency
    reason: str  # "not installed", "version 1.5.3 installed, needs >=2.0,<3.1", ...

    @property
    def package(self) -> str:
        return self.dependency.package

    def __str__(self) -> str:
        return f"{self.package} ({self.reason})"


def read_constraints(path: Path = CONSTRAINTS) -> tuple[Dependency, ...]:
    """The dependencies named in a constraints file: ``name>=a,<b`` lines, optionally with
    ``; python_version < "3.11"``, and # comments."""
    dependencies = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*([<>=!~][^;]*?)\s*"
                             r"(?:;\s*python_version\s*<\s*[\"'](\d+)\.(\d+)[\"'])?", line)
        if match is None:
            raise ValueError(f"{Path(path).name}: cannot read the requirement '{line}'")
        below = (int(match.group(3)), int(match.group(4))) if match.group(3) else ()
        dependencies.append(Dependency(match.group(1), match.group(2).replace(" ", ""), below))
    return tuple(dependencies)


ENGINE_DEPENDENCIES = read_constraints()


def _clauses(specifier: str) -> list[tuple[str, str]]:
    return [re.match(r"(>=|<=|==|!=|<|>)(.+)", part).groups()
            for part in specifier.split(",") if part]


def _version_key(version: str) -> tuple:
    """Release numbers of a version, for comparison ("2.1.0rc1" -> (2, 1, 0))."""
    numbers = re.match(r"\d+(\.\d+)*", version)
    parts = [int(p) for p in numbers.group(0).split(".")] if numbers else [0]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def satisfies(version: str, specifier: str) -> bool:
    checks = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
              ">": lambda a, b: a > b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
    key = _version_key(version)
    return all(checks[op](key, _version_key(bound)) for op, bound in _clauses(specifier))


def installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def dependency_problems(dependencies=ENGINE_DEPENDENCIES) -> list[Problem]:
    """The dependencies that are not installed, not in their supported range, or do not
    import here (a broken binary install)."""
    problems = []
    for dep in (d for d in dependencies if d.needed()):
        version = installed_version(dep.package)
        if version is None:
            problems.append(Problem(dep, "not installed"))
            continue
        if not satisfies(version, dep.specifier):
            problems.append(Problem(dep, f"version {version} installed, needs {dep.specifier}"))
            continue
        try:
            importlib.import_module(dep.module)
        except Exception as err:  # ImportError, or a broken binary raising something else
            first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
            problems.append(Problem(dep, f"cannot be imported: {first_line}"))
    return problems


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


def _inside(path: str, folders) -> bool:
    path = os.path.realpath(path)
    return any(os.path.commonpath([path, os.path.realpath(f)]) == os.path.realpath(f)
               for f in folders if f)


def python_executable() -> str | None:
    """The path of the Python interpreter behind this process, or None.

    Inside QGIS ``sys.executable`` is the QGIS program, or whatever ``python3`` comes first
    on PATH (pyenv, conda...): another Python, whose pip would install elsewhere. Only an
    interpreter inside this Python's own prefix is taken."""
    prefixes = list(dict.fromkeys([sys.exec_prefix, sys.base_exec_prefix]))
    executable = sys.executable or ""
    if os.path.basename(executable).lower().startswith("python") and \
            _inside(executable, prefixes):
        return executable
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for prefix in prefixes:
        for candidate in (os.path.join(prefix, "bin", f"python{version}"),
                          os.path.join(prefix, "bin", "python3"),
                          os.path.join(prefix, "python.exe"),
                          os.path.join(prefix, "python3.exe")):
            if os.path.isfile(candidate):
                return candidate
    return None


def _externally_managed() -> bool:
    """True where the Python refuses pip installs outside a venv (PEP 668, e.g. Debian 12)."""
    stdlib = sysconfig.get_paths().get("stdlib", "")
    return os.path.exists(os.path.join(stdlib, "EXTERNALLY-MANAGED"))


def loaded_numpy_version() -> str | None:
    """The numpy this process has already imported (QGIS imports its own at start-up)."""
    numpy = sys.modules.get("numpy")
    return getattr(numpy, "__version__", None)


def requirements(missing=ENGINE_DEPENDENCIES, numpy_version: str | None = None) -> list[str]:
    """The pip requirements for the missing packages. A numpy already loaded in this process
    and in the supported range is pinned: pip then picks versions that work with it, and
    QGIS's own GDAL bindings keep the numpy they were built with."""
    wanted = [dep.requirement for dep in missing if dep.needed()]
    numpy = next(dep for dep in ENGINE_DEPENDENCIES if dep.package == "numpy")
    if numpy_version and satisfies(numpy_version, numpy.specifier):
        wanted = [r for r in wanted if not r.startswith("numpy")] + [f"numpy=={numpy_version}"]
    return wanted


def pip_arguments(platform: str | None = None) -> list[str]:
    """``install`` and its flags: for this user only outside a venv, and past PEP 668's
    guard where the system Python is externally managed."""
    platform = platform or sys.platform
    flags = ["install", "--disable-pip-version-check"]
    if sys.prefix == sys.base_prefix:  # not in a venv: install for this user only
        flags.append("--user")
        if platform.startswith("linux") and _externally_managed():
            flags.append("--break-system-packages")
    return flags


def install_command(
    missing: list[Dependency], platform: str | None = None, executable: str | None = None,
    numpy_version: str | None = None,
) -> str:
    """The exact pip command that installs the missing packages into the Python QGIS runs."""
    platform = platform or sys.platform
    if executable is None:
        executable = python_executable() or sys.executable
    python = _python_for_pip(platform, executable)
    if " " in python:
        python = f'"{python}"'
    flags = " ".join(a for a in pip_arguments(platform) if a != "--disable-pip-version-check")
    wanted = " ".join(f'"{r}"' for r in requirements(missing, numpy_version))
    return f"{python} -m pip {flags} {wanted}"


def install_argv(python: str, missing, numpy_version: str | None = None) -> list[str]:
    """The pip command as arguments, for running it (the Install button)."""
    return [python, "-m", "pip", *pip_arguments(), *requirements(missing, numpy_version)]


NETWORK_FAILURES = ("NewConnectionError", "Failed to establish a new connection",
                    "Temporary failure in name resolution", "Name or service not known",
                    "Network is unreachable", "Could not fetch URL", "ProxyError",
                    "Read timed out", "ConnectTimeoutError")


def explain_pip_failure(output: str, python: str) -> str:
    """One sentence on why pip failed, from its output."""
    if "No module named pip" in output:
        return (f"pip is not installed for QGIS's Python ({python}). On Debian or Ubuntu "
                "install it with: sudo apt install python3-pip; with OSGeo4W, add the "
                "python3-pip package in the OSGeo4W installer. Then press Install again.")
    if any(sign in output for sign in NETWORK_FAILURES):
        return ("pip could not reach the Python Package Index (pypi.org): check the internet "
                "connection or proxy, or ask IT to run the command shown below.")
    if "No matching distribution found" in output:
        return ("pip found no version of a package that fits QGIS's Python and the supported "
                "ranges (or could not reach pypi.org); its output above names the package.")
    if "Permission denied" in output or "EnvironmentError" in output:
        return ("pip was not allowed to write the packages; ask IT to run the command shown "
                "below.")
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return f"pip failed: {lines[-1] if lines else 'no output'}"


if __name__ == "__main__":  # scripts/setup.sh: one requirement a line, numpy pinned as above
    version = installed_version("numpy") if "--pin-numpy" in sys.argv else None
    print("\n".join(requirements(ENGINE_DEPENDENCIES, version)))
