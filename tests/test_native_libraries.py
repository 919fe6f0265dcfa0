"""The clash behind "WKB output dimension must be 2 or 3" and its fix, in a few seconds.

The `qgis` program links Debian's GEOS and GDAL, so their symbols are global in its process.
A Python process that loads them the same way (RTLD_GLOBAL) before importing the wheels
reproduces the clash without the desktop app; the desktop test checks the app itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pyogrio
import pytest
import shapely

from community_safety.qgis_plugin import native_libraries

SYSTEM_LIBRARIES = ["libgeos_c.so.1", "libgdal.so.32"]  # Debian 12's, which QGIS links

PROBE = """
import ctypes, os, sys
for name in {libraries!r}:
    ctypes.CDLL(name, mode=os.RTLD_NOW | os.RTLD_GLOBAL)  # as the qgis program has them
if {isolate!r}:
    from community_safety.qgis_plugin.native_libraries import load_with_own_libraries
    print(load_with_own_libraries())
import pyogrio, shapely
print("GDAL", pyogrio.__gdal_version_string__)
try:
    shapely.to_wkb(shapely.Point(0, 0, 0), output_dimension=4)
    print("WKB written")
except Exception as err:
    print("WKB failed:", err)
"""


def probe(isolate: bool) -> subprocess.CompletedProcess:
    code = textwrap.dedent(PROBE.format(libraries=SYSTEM_LIBRARIES, isolate=isolate))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(shapely.geos_version < (3, 12, 0), reason="needs a shapely built on GEOS 3.12+")
def test_wheels_bound_to_the_global_geos_fail_and_bound_to_their_own_work():
    # the mix may even corrupt memory ("free(): invalid pointer" at exit): output only
    plain = probe(isolate=False).stdout
    assert "WKB failed: IllegalArgumentException: WKB output dimension must be 2 or 3" in plain
    assert f"GDAL {pyogrio.__gdal_version_string__}" not in plain  # QGIS's GDAL answered

    done = probe(isolate=True)
    assert done.returncode == 0, done.stderr
    isolated = done.stdout
    assert "'shapely': 'own libraries'" in isolated and "'pyogrio': 'own libraries'" in isolated
    assert "WKB written" in isolated
    assert f"GDAL {pyogrio.__gdal_version_string__}" in isolated  # the wheel's own GDAL


def test_every_compiled_module_of_a_package_is_found():
    modules = native_libraries.compiled_modules("shapely")
    assert "shapely.lib" in modules and "shapely._geos" in modules
    assert all(m.startswith("shapely.") for m in modules)
    assert native_libraries.compiled_modules("no_such_package_here") == []


def test_report_says_each_package_runs_on_its_own_copy_here():
    report = {entry.package: entry for entry in native_libraries.native_library_report()}
    assert report["pyogrio"].bundled == pyogrio.__gdal_version_string__
    assert all(entry.consistent for entry in report.values()), report
    assert str(report["pyogrio"]).endswith("its own copy")
    mixed = native_libraries.NativeLibrary("pyogrio", "GDAL", "3.6.2", "3.12.4", "earlier")
    assert not mixed.consistent and "a mix of two versions" in str(mixed)
