"""Page 1 of the wizard with the boundaries taken from a layer of the QGIS project, chosen in
its list as a person does (keyboard on the list), and the list following the project: a
file chosen stays the source when layers come and go, and a closed wizard does not react
to the project any more."""

from __future__ import annotations

from conftest import SAMPLE_DIR
from qgis.core import QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QApplication

BOUNDARIES = SAMPLE_DIR / "output_areas_2011.gpkg"


def _project_layer(name: str) -> QgsVectorLayer:
    layer = QgsVectorLayer(f"{BOUNDARIES}|layername=output_areas", name, "ogr")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer


def _pick_in_list(combo, layer) -> None:
    """Arrow keys on the layer list, as a person does, until ``layer`` is chosen."""
    combo.setFocus()
    for _ in range(combo.count() + 1):
        if combo.currentLayer() is layer:
            return
        QTest.keyClick(combo, Qt.Key_Down)
        QApplication.processEvents()
    raise AssertionError(f"{layer.name()} is not in the list")


def _wizard(qgis_iface):
    from community_safety.qgis_plugin.ui.wizard import SegmentationWizard

    wizard = SegmentationWizard(qgis_iface)
    wizard.show()
    return wizard


def test_a_project_layer_chosen_in_the_list_becomes_the_source(qgis_app, qgis_iface):
    QgsProject.instance().removeAllMapLayers()
    layer = _project_layer("Camden output areas")
    wizard = _wizard(qgis_iface)
    page = wizard.boundaries
    try:
        assert page.from_file.isChecked() and not page.isComplete()
        _pick_in_list(page.layer_combo, layer)
        assert page.from_layer.isChecked()
        assert "749 areas" in page.source_info.text()
        assert page.code_combo.currentData() == "OA11CD"
        assert page.name_edit.text() == "Camden output areas"
        assert page.isComplete()
        # the chosen layer removed from the project: the page says so, Next is off
        QgsProject.instance().removeMapLayer(layer.id())
        QApplication.processEvents()
        assert page.layer_combo.currentLayer() is None
        assert not page.isComplete()
        assert "Choose a polygon layer" in page.source_info.text()
    finally:
        wizard.close()
        wizard.deleteLater()
        QApplication.processEvents()
        QgsProject.instance().removeAllMapLayers()


def test_a_file_chosen_stays_the_source_when_layers_come_and_go(qgis_app, qgis_iface):
    QgsProject.instance().removeAllMapLayers()
    wizard = _wizard(qgis_iface)
    page = wizard.boundaries
    try:
        page.file_widget.setFilePath(str(BOUNDARIES))
        page.name_edit.setText("From the file")
        told = page.source_info.text()
        assert page.isComplete() and "749 areas" in told
        other = _project_layer("Another layer")
        page.layer_combo.setLayer(other)  # the list moves (as when QGIS picks a new layer)
        QApplication.processEvents()
        assert page.from_file.isChecked()
        assert page.name_edit.text() == "From the file"
        assert page.settings()["boundaries"] == BOUNDARIES
        QgsProject.instance().removeMapLayer(other.id())
        QApplication.processEvents()
        assert page.from_file.isChecked() and page.isComplete()
        assert page.source_info.text() == told
    finally:
        wizard.close()
        wizard.deleteLater()
        QApplication.processEvents()


def test_a_closed_wizard_does_not_follow_the_project(qgis_app, qgis_iface):
    """Layers added and removed after the wizard was closed and deleted (as the dock and
    other tools do) reach no handler of its pages."""
    QgsProject.instance().removeAllMapLayers()
    wizard = _wizard(qgis_iface)
    page = wizard.boundaries
    layer = _project_layer("Camden output areas")
    _pick_in_list(page.layer_combo, layer)
    assert page.from_layer.isChecked() and page.isComplete()
    wizard.close()
    wizard.deleteLater()
    QApplication.processEvents()
    for _ in range(3):  # would call into the deleted page if still connected
        QgsProject.instance().removeMapLayer(layer.id())
        QApplication.processEvents()
        layer = _project_layer("Camden output areas again")
    QgsProject.instance().removeAllMapLayers()
    QApplication.processEvents()
