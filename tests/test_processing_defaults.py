"""The plugin's Processing dialogs open filled as the user would fill them: on the
segmentation the dock shows, the project's own point and polygon layers (not the
segmentation's Addresses or Incident rates layers) and the ward layer's code and name
fields; each dialog opened as the toolbox opens it (processing.createAlgorithmDialog)."""

from __future__ import annotations

import shutil

import pytest
from conftest import SAMPLE_DIR
from qgis.core import QgsProject, QgsVectorLayer

from community_safety.qgis_plugin.ui.dock import CommunitySafetyDock

WAIT = 120_000


@pytest.fixture()
def shown(camden_demo, qgis_iface, qgis_new_project, qtbot, layers, provider, tmp_path,
          monkeypatch):
    """The demo's segmentation in the dock, its own layers (Segments, Addresses, Incident
    rates) above the officer's fires and wards in the Layers panel."""
    from qgis.gui import QgsBrowserGuiModel

    browser = QgsBrowserGuiModel()  # the desktop app's; pytest-qgis's interface has none
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: browser, raising=False)
    gpkg = tmp_path / "segmentation.gpkg"
    shutil.copy(camden_demo / "segmentation" / "segmentation.gpkg", gpkg)
    project = QgsProject.instance()
    wards = QgsVectorLayer(str(SAMPLE_DIR / "wards_2022.gpkg"), "Camden wards", "ogr")
    fires = layers["fires"].clone()
    for layer in (wards, fires):
        project.addMapLayer(layer)
    for table, name in (("incident_areas_fires", "Incident rates: fires"),
                        ("addresses", "Addresses"), ("segments", "Segments")):
        project.addMapLayer(QgsVectorLayer(f"{gpkg}|layername={table}", name, "ogr"))
    dock = CommunitySafetyDock(qgis_iface)
    qtbot.addWidget(dock)
    dock.set_segmentation(gpkg)
    qtbot.waitUntil(lambda: dock.seg is not None and not dock.reading(), timeout=WAIT)
    yield gpkg, wards, fires
    project.removeAllMapLayers()


def dialog_values(algorithm: str) -> dict:
    import processing

    dialog = processing.createAlgorithmDialog(f"community_safety:{algorithm}")
    try:
        return dialog.mainWidget().createProcessingParameters()
    finally:
        dialog.deleteLater()


def test_the_incidents_dialog_opens_on_the_docks_segmentation_and_the_officers_points(shown):
    gpkg, _, fires = shown
    values = dialog_values("profileincidents")
    assert values["SEGMENTATION"] == str(gpkg)
    assert values["INCIDENTS"] in (fires.id(), fires.source())


def test_the_wards_dialog_opens_on_the_ward_layer_and_its_code_and_name_fields(shown):
    gpkg, wards, _ = shown
    values = dialog_values("wardmatrices")
    assert values["SEGMENTATION"] == str(gpkg)
    assert values["WARDS"] in (wards.id(), wards.source())
    assert values["WARD_CODE"] in ("WD22CD", ["WD22CD"])
    assert values["WARD_NAME"] in ("WD22NM", ["WD22NM"])
