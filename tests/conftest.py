"""Shared fixtures. QGIS runs headless (pytest-qgis starts QgsApplication)."""

from __future__ import annotations

import fcntl
import gc
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "resources" / "sample_data" / "camden"
PLUGIN_NAME = "community_safety"


@pytest.fixture(scope="session")
def plugin_zip(tmp_path_factory) -> Path:
    """The plugin zip, built with pb_tool exactly as `make zip` builds it."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "build_plugin_zip.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out / f"{PLUGIN_NAME}.zip"


# --- a saved segmentation of the sample, for the steps that add to one ---

def saved_sample(folder: Path, n_init: int):
    """The Camden sample project segmented with few random starts, saved without plots:
    (the segmentation, its GeoPackage)."""
    from dataclasses import replace

    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.build import build_segmentation
    from community_safety.core.segment.saved import save_segmentation

    seg = build_segmentation(replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=n_init))
    return seg, save_segmentation(seg, folder, plots=False)


def fresh_copy(gpkg: Path, folder: Path) -> Path:
    """A copy of a saved segmentation for one test to add to (or fail to)."""
    target = folder / "seg" / "segmentation.gpkg"
    target.parent.mkdir()
    shutil.copy(gpkg, target)
    return target


# --- the whole job on the sample, run once for every test process ---

@pytest.fixture(scope="session")
def camden_demo(tmp_path_factory) -> Path:
    """``community-safety demo`` on the Camden sample, run once for the whole test run: the
    parallel test processes share the folder (the first to need it runs it while the
    others wait). Read it only: a test that changes a file works on its own copy."""
    from community_safety.core.cli import main

    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if os.environ.get("PYTEST_XDIST_WORKER") else shared
    out = shared / "camden_demo"
    with open(shared / "camden_demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "report.html").exists():
            assert main(["demo", "--out", str(out)]) == 0
    return out


# --- QGIS Processing fixtures: the provider, the sample as layers, one built segmentation ---

TABLES = ["census_demography", "census_housing", "census_health_care", "census_work"]


@pytest.fixture(scope="module")
def provider(qgis_app, qgis_processing):
    from qgis.core import QgsApplication

    from community_safety.qgis_plugin.processing.provider import CommunitySafetyProvider

    registry = QgsApplication.processingRegistry()
    instance = CommunitySafetyProvider()  # held while in use: PyQGIS needs the reference
    registry.addProvider(instance)
    yield instance
    registry.removeProvider(instance)


@pytest.fixture(scope="session")
def layers(tmp_path_factory, qgis_app):
    from qgis.core import QgsVectorLayer

    """The sample as layers a GIS officer would have: areas with partner data joined (and
    IMD through the LSOA), postcode points, fire points and ward polygons."""
    folder = tmp_path_factory.mktemp("layers")
    areas = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg")
    for table in TABLES:
        frame = pd.read_csv(SAMPLE_DIR / f"{table}.csv")
        areas = areas.merge(frame[[c for c in frame.columns if c not in areas.columns
                                   or c == "OA11CD"]], on="OA11CD")
    areas = areas.merge(pd.read_csv(SAMPLE_DIR / "imd2019_lsoa.csv")[["LSOA11CD", "IMD19"]],
                        on="LSOA11CD")
    areas.to_file(folder / "areas.gpkg", layer="areas", driver="GPKG")
    postcodes = pd.read_csv(SAMPLE_DIR / "postcodes.csv")
    gpd.GeoDataFrame(postcodes, geometry=gpd.points_from_xy(postcodes.Eastings,
                                                            postcodes.Northings),
                     crs=27700).to_file(folder / "postcodes.gpkg", driver="GPKG")
    fires = pd.read_csv(SAMPLE_DIR / "lfb_dwelling_fires.csv")
    gpd.GeoDataFrame(fires, geometry=gpd.points_from_xy(fires.easting_rounded,
                                                        fires.northing_rounded),
                     crs=27700).to_file(folder / "fires.gpkg", driver="GPKG")

    def layer(path, name):
        loaded = QgsVectorLayer(str(path), name, "ogr")
        assert loaded.isValid(), path
        return loaded

    variables = pd.read_csv(SAMPLE_DIR / "variables.csv")["variable"].tolist()
    loaded = {
        "areas": layer(folder / "areas.gpkg", "Camden areas"),
        "postcodes": layer(folder / "postcodes.gpkg", "postcodes"),
        "fires": layer(folder / "fires.gpkg", "fires"),
        "wards": layer(SAMPLE_DIR / "wards_2022.gpkg", "wards"),
        "variables": variables,
    }
    yield loaded
    # free the layers while QGIS is still running, not after it has exited
    loaded.clear()
    gc.collect()


def build_parameters(layers, output, **extra):
    return {"AREAS": layers["areas"], "AREA_CODE": "OA11CD",
            "VARIABLES": layers["variables"], "DEPRIVATION": "IMD19", "MORE_DEPRIVED": 0,
            "RESIDENTS": "usual_residents", "HOUSEHOLDS": "households", "K": 10,
            "N_INIT": 5, "SEED": 2011, "OUTPUT": str(output), **extra}


@pytest.fixture(scope="module")
def built(provider, layers, tmp_path_factory):
    import processing

    output = tmp_path_factory.mktemp("built") / "camden.gpkg"
    return processing.run("community_safety:buildsegmentation",
                          build_parameters(layers, output))


# --- the end of the test process ---
#
# QGIS 3.22 keeps Python frames of failed Processing runs alive; objects they hold (a layer,
# a context) are then freed by the interpreter after pytest-qgis has shut QGIS down, and that
# crashes Python with SIGSEGV after every test has passed and been reported (seen after the
# bad-input Processing tests, e.g. choosesegments with its k range upside down). The process
# therefore ends here, last of all, with pytest's own exit status: a failing test still
# fails the run; only the crash in the interpreter's own clean-up is skipped.

def pytest_sessionfinish(session, exitstatus):
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    status = config.stash.get(_EXIT_STATUS, None)
    if status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


_EXIT_STATUS = pytest.StashKey[int]()
