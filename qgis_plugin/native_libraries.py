"""Keep the engine's geospatial packages on their own GEOS, GDAL and PROJ inside QGIS.

Why: on Linux the ``qgis`` program links GEOS, GDAL and PROJ itself (Debian 12: GEOS 3.11.1,
GDAL 3.6.2, PROJ 9.1.1), so their symbols sit in the process's global scope. The wheels pip
installs (shapely, pyogrio, pyproj) carry their own, newer copies, but the dynamic linker
resolves a library's calls through the global scope first: every GEOS/GDAL/PROJ call the
wheels make that QGIS's older copy also exports runs in QGIS's copy, and only the newer
functions run in the wheel's own. A silent mix of two versions; shapely 2.1 and later (GEOS
3.12+) asks GEOS for four-dimensional WKB, which GEOS 3.11 refuses, so every GeoPackage
write failed with "WKB output dimension must be 2 or 3". A headless test process never saw
it: there QGIS's libraries are loaded with the ``qgis`` Python module, privately.

The fix: the plugin imports these packages before anything else in QGIS does, with
``RTLD_DEEPBIND``, which makes each of their compiled modules look for symbols in its own
libraries before the global scope. Every extension module of each package is loaded at
that moment (one loaded later, without the flag, would bind to QGIS's copy again). Windows
and macOS bind each library's imports to a named library already, so nothing is needed
there. ``native_library_report`` says which copy each package really runs on.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ISOLATED_PACKAGES = ("shapely", "pyproj", "pyogrio")
NATIVE_LIBRARY = {"shapely": "GEOS", "pyproj": "PROJ", "pyogrio": "GDAL"}
# set on each package loaded here, so the plugin knows it after reloading itself
MARK = "_community_safety_how_loaded"


def needs_isolation(platform: str | None = None) -> bool:
    return (platform or sys.platform).startswith("linux") and hasattr(os, "RTLD_DEEPBIND")


def compiled_modules(package: str) -> list[str]:
    """The dotted names of a package's compiled extension modules (tests left out)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    names = []
    for path in sorted(root.rglob("*")):
        if not path.name.endswith(suffixes) or "tests" in path.relative_to(root).parts:
            continue
        stem = path.name.split(".")[0]
        parts = [package, *path.relative_to(root).parent.parts, stem]
        names.append(".".join(p for p in parts if p))
    return names


def load_with_own_libraries(packages=ISOLATED_PACKAGES) -> dict[str, str]:
    """Import the packages so that each binds to its own native libraries. Returns, per
    package, how it was loaded: "own libraries", "loaded earlier, without the plugin" (then it
    may run on QGIS's copy), "not loaded" (not installed yet) or "not needed here"."""
    if not needs_isolation():
        return {package: "not needed on this system" for package in packages}
    try:
        import numpy  # noqa: F401  (loaded as usual first: only geospatial packages are bound)
    except ImportError:
        return {}  # nothing installed yet: the dependency check says what to do
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    try:
        for package in packages:
            if package in sys.modules or importlib.util.find_spec(package) is None:
                continue  # loaded already, or not installed yet (bound after installing)
            try:
                for module in [package, *compiled_modules(package)]:
                    importlib.import_module(module)
                setattr(sys.modules[package], MARK, "own libraries")
            except Exception:  # the dependency check reports it in words
                sys.modules.pop(package, None)
    finally:
        sys.setdlopenflags(flags)
    return {package: how_loaded(package) for package in packages}


def how_loaded(package: str) -> str:
    if package not in sys.modules:
        return "not loaded"
    return getattr(sys.modules[package], MARK, "loaded earlier, without the plugin")


def bundled_version(package: str) -> str | None:
    """The version of the native library a wheel ships (from the file name pip installed,
    e.g. pyogrio.libs/libgdal-253d08a6.so.38.3.12.4 -> 3.12.4), or None."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    libs = Path(next(iter(spec.submodule_search_locations))).parent / f"{package}.libs"
    library = NATIVE_LIBRARY[package].lower()
    for path in sorted(libs.glob(f"lib{library}-*.so*")) if libs.is_dir() else []:
        match = re.search(r"\.so\.(?:\d+\.)*?(\d+\.\d+\.\d+)$", path.name)
        if match:
            return match.group(1)
    return None


def _runtime_version(package: str) -> str:
    """The version of the native library the package's calls actually reach."""
    module = importlib.import_module(package)
    if package == "pyogrio":
        return ".".join(str(v) for v in module.__gdal_version__)
    if package == "pyproj":
        return module.proj_version_str
    # shapely reports the GEOS it was built with; a four-dimensional WKB write (GEOS 3.12+)
    # fails where its calls reach an older GEOS
    version = ".".join(str(v) for v in module.geos_version)
    if module.geos_version >= (3, 12, 0):
        try:
            module.to_wkb(module.Point(0, 0, 0), output_dimension=4)
        except Exception:
            return "older than 3.12 (not its own)"
    return version


@dataclass(frozen=True)
class NativeLibrary:
    package: str
    library: str  # GEOS, PROJ or GDAL
    runs_on: str  # the version its calls reach
    bundled: str | None  # the version its wheel ships, if any
    how_loaded: str

    @property
    def consistent(self) -> bool:
        return self.bundled is None or self.runs_on == self.bundled

    def __str__(self) -> str:
        where = ("its own copy" if self.bundled and self.consistent
                 else "the system's copy" if self.bundled is None
                 else f"NOT its own copy ({self.bundled}): a mix of two versions")
        return f"{self.package} runs on {self.library} {self.runs_on}, {where}"


def native_library_report(packages=ISOLATED_PACKAGES) -> list[NativeLibrary]:
    """Which native library each installed geospatial package really runs on."""
    report = []
    for package in packages:
        if importlib.util.find_spec(package) is None:
            continue
        try:
            runs_on = _runtime_version(package)
        except Exception as err:
            runs_on = f"unknown ({err})"
        report.append(NativeLibrary(package, NATIVE_LIBRARY[package], runs_on,
                                    bundled_version(package),
                                    how_loaded(package)))
    return report
