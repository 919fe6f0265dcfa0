"""The plugin in the real QGIS desktop app (the `qgis` program under Xvfb), installed as a
GIS officer installs it: the zip in a fresh profile, the engine's packages installed by the
plugin's own Install button, then every algorithm run through processing.run; then driven
as a person drives it: menu entries triggered through their QActions, buttons clicked with
QTest, the wizard filled page by page on a London borough from its raw census tables, the
dock on both segmentations, at 1600 x 1000 and 1366 x 768. It fails on any Python error
(QGIS's error dialog or a traceback in the message log), on any unexpected modal dialog
(a datum transformation prompt) and on a UI freeze (a main-thread timer's longest gap).

A headless pytest process loads QGIS's libraries privately; the `qgis` program links GEOS,
GDAL and PROJ itself, which is where the wheels' own copies clashed with QGIS's. Only this
test sees that class of failure. It takes three to eight minutes (pip from its cache; the
Processing runs and the wizard)."""

from __future__ import annotations

import re
import sys

import pytest
from conftest import REPO_ROOT
from qgis.PyQt.QtGui import QColor, QImage

from community_safety.core.styles import PALETTE
from community_safety.qgis_plugin.processing.provider import ALGORITHMS

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import desktop_app  # noqa: E402


@pytest.fixture(scope="module")
def desktop_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("desktop")
    return work, desktop_app.run(work)


def test_every_algorithm_runs_in_the_desktop_app_after_installing_from_the_plugin(
        desktop_run):
    _, results = desktop_run
    assert results.get("steps"), results.get("error")
    failed = [f"{s['name']}: {s['detail']}" for s in results["steps"] if not s["ok"]]
    assert not failed, "\n\n".join(failed)
    assert not results["python_errors"], results["python_errors"]
    assert results["finished"]
    names = {step["name"] for step in results["steps"]}
    assert {"message bar offers Install", "Install button: pip, then the plugin reloads ready",
            "each geospatial package runs on its own GEOS/GDAL/PROJ"} <= names
    (install,) = [s for s in results["steps"] if s["name"].startswith("Install button")]
    assert install["python"] == f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}"
    ran = {step.get("algorithm") for step in results["steps"]}
    assert {algorithm.NAME for algorithm in ALGORITHMS} <= ran


def test_screenshot_shows_the_styled_segments_and_the_layer_tree(desktop_run):
    work, results = desktop_run
    image = QImage(str(work / "results" / "qgis_desktop.png"))
    assert image.width() >= 1500 and image.height() >= 900
    counts = dict.fromkeys(PALETTE, 0)
    for y in range(0, image.height(), 3):
        for x in range(0, image.width(), 3):
            name = QColor(image.pixel(x, y)).name().upper()
            if name in counts:
                counts[name] += 1
    shown = [colour for colour, count in counts.items() if count > 20]
    assert len(shown) >= 8, counts  # the segments, each in its palette colour
    (step,) = [s for s in results["steps"] if s["name"] == "screenshots of the main window"]
    # the layers carry names in words, not GeoPackage table names
    assert {"Segments", "Addresses", "Wards by dominant segment",
            "Incident rates: fires"} <= set(step["layers"])
    # no warning of the plugin's own is left on the message bar (QGIS's own notices may be)
    ours = [n for n in step["notices"] if n.startswith("Community Safety Segmentation:")]
    assert not ours, step["notices"]
    for name in ("qgis_wards.png", "qgis_fire_rates.png"):
        assert QImage(str(work / "results" / name)).width() >= 1500, name


# The main-thread timer's longest gap per phase is a measurement to read, not a speed test
# (the house rule: no timed tests; on a shared two-core machine the same interaction
# measured 0.24 s and 0.70 s in two runs). The goal is desktop_app.GOAL (0.3 s) per
# interaction: the figures of every phase are printed (pytest -s, or the failure's output),
# each interaction above the goal named with where the main thread was during its stalls;
# `scripts/desktop_app.py` prints the same and the README keeps them. Only a hang fails:
# the UI not answering for HANG seconds.
HANG = 5.0


def test_every_interaction_is_measured_and_none_hangs_the_ui(desktop_run):
    _, results = desktop_run
    ui = {phase: gap for phase, gap in results["freezes"].items() if phase.startswith("ui:")}
    assert len(ui) >= 10, results["freezes"]
    print("\n".join(desktop_app.freeze_lines(results)))
    hung = {phase: gap for phase, gap in ui.items() if gap > HANG}
    assert not hung, "\n".join(desktop_app.freeze_lines(results))


def test_the_borough_built_in_the_wizard_with_the_census_metadata_says_words(desktop_run):
    """The wizard's data page given the census's own metadata file (census_variables.csv:
    new_names, Variable_Name): every variable described, and the borough's segment names in
    the dock hold no census code (ts0170003...)."""
    _, results = desktop_run
    (step,) = [s for s in results["steps"] if s["name"].startswith("wizard on ")]
    assert "variables described" in step["detail"], step["detail"]
    names = step["segment_names"]
    assert len(names) >= 2 and len(set(names)) == len(names), names
    assert not [n for n in names if re.search(r"\bts0\d{6}\b", n)], names
    assert step["names_with_census_codes"] == []
