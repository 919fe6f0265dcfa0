"""The dock reads again the segmentation it shows when a step has written to its file: after
the plugin's own Processing algorithms (the gazetteer, incidents, ward matrices), and after
a step run elsewhere (the command line) when the user selects one of its layers or shows
the dock again. Every tab then shows what the step added: the heading's "Not in it yet",
the Ward matrix tab, the Targeting tab's incidents, status and postcode-points box."""

from __future__ import annotations

import pytest
from conftest import SAMPLE_DIR, saved_sample
from qgis.core import QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import Qt

from community_safety.qgis_plugin.ui.dock import CommunitySafetyDock

WAIT = 120_000  # ms: a task on a busy two-core machine


@pytest.fixture()
def bare(tmp_path):
    """A segmentation as the wizard saves it: no gazetteer, incidents or wards yet."""
    return saved_sample(tmp_path / "seg", n_init=2)[1]


@pytest.fixture()
def dock(qgis_iface, qgis_new_project, qtbot, bare):
    widget = CommunitySafetyDock(qgis_iface)
    qtbot.addWidget(widget)
    layer = QgsVectorLayer(f"{bare}|layername=segments", "Segments", "ogr")
    QgsProject.instance().addMapLayer(layer)
    qgis_iface.setActiveLayer(layer)
    qgis_iface.currentLayerChanged.emit(qgis_iface.mapCanvas())
    widget.show()
    qtbot.waitUntil(lambda: widget.seg is not None and not widget.reading(), timeout=WAIT)
    yield widget
    QgsProject.instance().removeAllMapLayers()


def shows_the_bare_segmentation(dock) -> None:
    heading = dock.heading.text()
    assert "Not in it yet: ward matrices" in heading and "an address gazetteer" in heading
    assert not dock.matrix.note.isHidden() and dock.matrix.measure.count() == 0
    assert "needs the address gazetteer joined" in dock.targeting.status.text()
    assert not dock.targeting.postcode_points.isChecked()
    assert not dock.targeting.run.isEnabled()


def shows_what_the_steps_added(dock) -> None:
    heading = dock.heading.text()
    assert "Not in it yet" not in heading, heading
    assert dock.matrix.note.isHidden() and dock.matrix.measure.count() > 0
    assert dock.matrix.table.rowCount() > 0
    assert dock.targeting.incidents.currentData() == "fires"
    assert dock.targeting.postcode_points.isChecked()  # the gazetteer's IDs are postcodes
    assert "needs" not in dock.targeting.status.text()
    assert dock.targeting.run.isEnabled() and dock.atlas_button.isEnabled()


def test_the_dock_reads_its_segmentation_again_after_the_plugins_processing_steps(
        dock, bare, provider, layers, qtbot, tmp_path):
    import processing

    shows_the_bare_segmentation(dock)
    first = dock.contents
    processing.run("community_safety:joingazetteer", {
        "SEGMENTATION": str(bare), "ADDRESSES": layers["postcodes"], "ID": "Postcode"})
    processing.run("community_safety:profileincidents", {
        "SEGMENTATION": str(bare), "INCIDENTS": layers["fires"], "NAME": "fires",
        "OUTPUT_FOLDER": str(tmp_path / "fires")})
    processing.run("community_safety:wardmatrices", {
        "SEGMENTATION": str(bare), "WARDS": layers["wards"], "WARD_CODE": "WD22CD",
        "WARD_NAME": "WD22NM", "RULE": 0})
    # nothing selected, nothing reopened: the steps' end is enough
    qtbot.waitUntil(lambda: dock.contents is not first and not dock.reading()
                    and "wards" in dock.contents.layers, timeout=WAIT)
    shows_what_the_steps_added(dock)


def test_a_step_run_elsewhere_is_read_when_a_layer_is_selected_or_the_dock_shown_again(
        dock, bare, qgis_iface, qtbot):
    from community_safety.core.data.locate import LocationColumns
    from community_safety.core.places.steps import gazetteer_step, incidents_step
    from community_safety.core.share.partner_steps import WardSource, matrices_step

    shows_the_bare_segmentation(dock)
    first = dock.contents
    # the command line adds the gazetteer: selecting the Segments layer again reads it
    gazetteer_step(bare, SAMPLE_DIR / "postcodes.csv", "Postcode",
                   LocationColumns(x="Eastings", y="Northings"))
    qgis_iface.currentLayerChanged.emit(qgis_iface.activeLayer())
    qtbot.waitUntil(lambda: dock.contents is not first and not dock.reading(), timeout=WAIT)
    assert "an address gazetteer" not in dock.heading.text()
    assert dock.targeting.postcode_points.isChecked()
    assert "needs incidents profiled" in dock.targeting.status.text()
    # incidents and wards: the dock closed and opened again from the menu reads them
    second = dock.contents
    incidents_step(bare, SAMPLE_DIR / "lfb_dwelling_fires.csv", "fires",
                   LocationColumns(x="easting_rounded", y="northing_rounded"),
                   bare.parent / "incidents")
    matrices_step(bare, WardSource(SAMPLE_DIR / "wards_2022.gpkg", "WD22CD", "WD22NM"))
    dock.hide()
    dock.show()
    qtbot.waitUntil(lambda: dock.contents is not second and not dock.reading(), timeout=WAIT)
    shows_what_the_steps_added(dock)
    # nothing written since: selecting a layer reads nothing again
    third = dock.contents
    qgis_iface.currentLayerChanged.emit(qgis_iface.activeLayer())
    assert not dock.reading() and dock.contents is third


def test_the_visit_list_says_how_many_postcodes_are_in_areas_without_a_segment(
        qgis_iface, qgis_new_project, qtbot, tmp_path, provider, layers):
    """Three output areas with no row in any census table (as 2011 areas the 2021 census
    redrew): the build says why and what to do; the Targeting tab says how many of the
    gazetteer's postcodes the list leaves out for it (not only target_summary.csv)."""
    from dataclasses import replace

    import pandas as pd

    from community_safety.core.data.locate import LocationColumns
    from community_safety.core.places.steps import gazetteer_step
    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.build import build_segmentation, unclassified_note
    from community_safety.core.segment.saved import save_segmentation
    from community_safety.core.store.geopackage import read_gpkg_table

    project = load_project(SAMPLE_DIR / "camden.toml")
    gone = ["E00004122", "E00004207", "E00004658"]
    tables = []
    for spec in project.tables:
        if spec.join_on or spec.lookup:  # IMD by LSOA: still has their LSOAs' rows
            tables.append(spec)
            continue
        table = pd.read_csv(spec.path, dtype={spec.code: str})
        path = tmp_path / spec.path.name
        table[~table[spec.code].isin(gone)].to_csv(path, index=False)
        tables.append(replace(spec, path=path))
    seg = build_segmentation(replace(project, tables=tuple(tables), n_init=2))
    note = unclassified_note(seg.manifest)
    assert note.startswith("3 output areas of the boundaries have no row in any of the "
                           "tables of output areas"), note
    gpkg = save_segmentation(seg, tmp_path / "seg", plots=False)
    gazetteer_step(gpkg, SAMPLE_DIR / "postcodes.csv", "Postcode",
                   LocationColumns(x="Eastings", y="Northings"))
    # the incidents through Processing: its log says how many matched records the profile
    # counts, not only how many matched (the fires in those areas are not counted)
    import processing
    from qgis.core import QgsProcessingFeedback

    feedback = QgsProcessingFeedback()
    processing.run("community_safety:profileincidents", {
        "SEGMENTATION": str(gpkg), "INCIDENTS": layers["fires"], "NAME": "fires",
        "OUTPUT_FOLDER": str(tmp_path / "incidents")}, feedback=feedback)
    records = read_gpkg_table(gpkg, "incident_records_fires")
    matched = int(records["status"].eq("matched").sum())
    counted = int(read_gpkg_table(gpkg, "incident_about_fires")["records_counted"][0])
    assert 0 < counted < matched
    log = feedback.textLog()
    assert f"Records: {matched:,} matched" in log
    assert (f"Counted in the profile: {counted:,} (matched, within the filters, in output "
            "areas with a segment") in log, log
    assert "incidents in 3 output areas without a segment" in log
    addresses = read_gpkg_table(gpkg, "addresses")
    left_out = int(addresses["area_code"].isin(gone).sum())
    assert left_out > 0

    dock = CommunitySafetyDock(qgis_iface)
    qtbot.addWidget(dock)
    dock.set_segmentation(gpkg)
    dock.show()
    qtbot.waitUntil(lambda: dock.seg is not None and not dock.reading(), timeout=WAIT)
    tab = dock.targeting
    assert tab.postcode_points.isChecked()
    tab.folder.setFilePath(str(tmp_path / "visits"))
    qtbot.mouseClick(tab.run, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.list.rowCount() > 0 or "rror" in tab.status.text(),
                    timeout=WAIT)
    assert (f" {left_out} postcodes of the {len(addresses):,} are left out: they are in "
            "output areas left without a segment") in tab.status.text(), tab.status.text()
    QgsProject.instance().removeAllMapLayers()


def test_a_refreshed_segmentation_says_in_the_heading_that_it_was_assigned(
        dock, bare, provider, layers, qgis_iface, qtbot, tmp_path):
    """A community safety officer opening this year's refresh reads that its areas were
    assigned to last year's segments, and how many changed segment, not only its name."""
    import processing

    result = processing.run("community_safety:assignareas", {
        "SEGMENTATION": str(bare), "AREAS": layers["areas"], "AREA_CODE": "OA11CD",
        "OUTPUT": str(tmp_path / "assigned.gpkg")})
    layer = QgsVectorLayer(result["SEGMENTS"], "Assigned", "ogr")
    QgsProject.instance().addMapLayer(layer)
    qgis_iface.setActiveLayer(layer)
    qgis_iface.currentLayerChanged.emit(qgis_iface.mapCanvas())
    qtbot.waitUntil(lambda: dock.gpkg.name == "assigned.gpkg" and not dock.reading(),
                    timeout=WAIT)
    heading = dock.heading.text()
    assert ("This year's 749 areas were assigned on" in heading
            and f"from {bare.name} (centres and names kept; 0 areas changed segment)."
            in heading), heading
