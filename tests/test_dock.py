"""The "Community safety" dock in real QGIS, driven as a user drives it (pytest-qt): it
follows the active layer, selects a segment's areas, selects a ward matrix cell's areas and
zooms, stores edited names (the legend follows), exports a partner-safe table, makes the
visit list and writes the report; and the task runner it uses stops on Cancel without
writing."""

from __future__ import annotations

import gc
import re
import shutil
import threading
import time
import weakref
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from qgis.core import (
    QgsCoordinateTransform,
    QgsLayerTreeModel,
    QgsProject,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtTest import QTest

from community_safety.core.demo import run_demo
from community_safety.core.progress import Cancelled
from community_safety.core.segment.saved import load_segmentation
from community_safety.core.store.geopackage import read_gpkg_table
from community_safety.core.styles import PALETTE, PRIORITY_COLOURS
from community_safety.qgis_plugin.ui.dock import CommunitySafetyDock, segmentation_of
from community_safety.qgis_plugin.ui.tasks import CANCELLED, run_task
from community_safety.qgis_plugin.ui.ward_matrix_tab import VIEWS

WAIT = 120_000  # ms: a task on a busy two-core machine


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The whole sample job once; each test works on its own copy of the GeoPackage."""
    out = tmp_path_factory.mktemp("dock") / "camden"
    return run_demo(out).gpkg


@pytest.fixture()
def gpkg(job, tmp_path):
    copy = tmp_path / "seg" / "segmentation.gpkg"
    copy.parent.mkdir()
    shutil.copy(job, copy)
    return copy


@pytest.fixture()
def dock(qgis_iface, qgis_new_project, qtbot, gpkg):
    widget = CommunitySafetyDock(qgis_iface)
    qtbot.addWidget(widget)
    layer = QgsVectorLayer(f"{gpkg}|layername=segments", "Segments", "ogr")
    layer.loadDefaultStyle()
    QgsProject.instance().addMapLayer(layer)
    qgis_iface.setActiveLayer(layer)
    qgis_iface.currentLayerChanged.emit(qgis_iface.mapCanvas())
    widget.show()
    qtbot.waitUntil(lambda: not widget.reading(), timeout=WAIT)  # read in a task
    yield widget
    QgsProject.instance().removeAllMapLayers()


def _layer(dock):
    return dock.segment_layer()


def test_dock_follows_the_active_layer(dock, gpkg, qgis_iface):
    assert dock.gpkg == gpkg and segmentation_of(_layer(dock)) == gpkg
    table = dock.segments.table
    assert table.rowCount() == 10
    names = load_segmentation(gpkg).segment_names
    assert [table.item(r, 1).text() for r in range(10)] == [names[n] for n in range(1, 11)]
    assert "Camden output areas" in dock.heading.text()
    assert "10 segments, 749 output areas ·" in dock.heading.text()  # all classified
    # a layer that is not a segmentation leaves the dock as it was
    other = QgsVectorLayer("Point?crs=EPSG:27700", "scratch", "memory")
    QgsProject.instance().addMapLayer(other)
    qgis_iface.setActiveLayer(other)
    dock.follow_active_layer()
    assert dock.gpkg == gpkg


def test_selecting_a_segment_selects_its_areas_and_shows_its_profile(dock, gpkg, qtbot):
    seg = load_segmentation(gpkg)
    dock.segments.select_segment(8)
    layer = _layer(dock)
    assert layer.selectedFeatureCount() == int(seg.summary.loc[8, "areas"])
    assert {f["segment"] for f in layer.selectedFeatures()} == {8}
    node = QgsProject.instance().layerTreeRoot().findLayer(layer.id())
    assert node.isVisible()  # the selection is shown
    assert dock.segments.portrait.toPlainText() == seg.summary.loc[8, "portrait"]
    # the index chart is drawn off the main thread, then shown
    qtbot.waitUntil(lambda: dock.segments.chart.pixmap() is not None
                    and not dock.segments.chart.pixmap().isNull(), timeout=30_000)


def test_clicking_a_matrix_cell_selects_and_zooms_to_those_areas(dock, gpkg, qtbot,
                                                                 qgis_iface):
    tab = dock.matrix
    tab.measure.setCurrentIndex(tab.measure.findData("households"))
    wards = read_gpkg_table(gpkg, "area_wards").set_index("area_code")
    seg = load_segmentation(gpkg)
    segment = 10
    column = segment - 1  # the segments' columns, then Total; the wards head the rows
    table = tab.table
    row = next(r for r in range(table.rowCount() - 1)  # a ward with homes in segment 10
               if table.item(r, column).text() not in ("0", "*"))
    ward = table.verticalHeaderItem(row).toolTip()
    assert table.verticalHeaderItem(row).text() != ward  # the ward's name, its code on hover
    names = load_segmentation(gpkg).segment_names
    heading = table.horizontalHeaderItem(column).text()  # "10 – name", wrapped
    assert heading.startswith(f"{segment} – ")
    assert names[segment].startswith(heading.replace("\n", " ").split(" – ", 1)[1].rstrip("…"))
    table.scrollTo(table.model().index(row, column))
    rect = table.visualRect(table.model().index(row, column))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    layer = _layer(dock)
    expected = {a for a in wards.index[wards["ward_code"] == ward]
                if seg.areas.loc[a, "segment"] == segment}
    assert expected and {f["area_code"] for f in layer.selectedFeatures()} == expected
    canvas = qgis_iface.mapCanvas()  # the map may be in another CRS than the layer
    to_map = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(),
                                    QgsProject.instance())
    assert canvas.extent().contains(to_map.transformBoundingBox(layer.boundingBoxOfSelected()))
    # the shown number is the households of those areas
    households = seg.values.loc[sorted(expected), "households"].sum()
    assert table.item(row, column).text() == f"{households:,.0f}"
    # a row % view, then the Total column: the whole ward
    tab.view.setCurrentIndex(1)
    assert table.item(row, tab.table.columnCount() - 1).text() == "100.0%"
    table.scrollTo(table.model().index(row, table.columnCount() - 1))
    total = table.visualRect(table.model().index(row, table.columnCount() - 1))
    layer.removeSelection()
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=total.center())
    whole = int((wards["ward_code"] == ward).sum())
    assert layer.selectedFeatureCount() == whole
    # the ward's name clicked: the whole ward too
    layer.removeSelection()
    header = table.verticalHeader()
    qtbot.mouseClick(header.viewport(), Qt.LeftButton,
                     pos=QPoint(header.width() // 2, header.sectionViewportPosition(row)
                                + header.sectionSize(row) // 2))
    assert layer.selectedFeatureCount() == whole
    # the All wards row's Total: every area
    layer.removeSelection()
    last = table.model().index(table.rowCount() - 1, table.columnCount() - 1)
    table.scrollTo(last)
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=table.visualRect(last).center())
    assert table.verticalHeaderItem(table.rowCount() - 1).text() == "All wards"
    assert layer.selectedFeatureCount() == layer.featureCount()


def test_ward_names_stay_in_view_when_the_matrix_scrolls_sideways(dock, gpkg, qtbot,
                                                                  tmp_path):
    """On a 1366 × 768 screen the dock is a narrow panel: scrolled fully right to the Total
    column, every row is still headed by its ward's name, in full, left of the numbers."""
    dock.resize(520, 700)  # the dock's share of a 1366 × 768 screen
    dock.tabs.setCurrentWidget(dock.matrix)
    tab = dock.matrix
    tab.measure.setCurrentIndex(tab.measure.findData("households"))
    table = tab.table
    qtbot.waitUntil(lambda: table.isVisible() and table.viewport().width() > 0)
    bar = table.horizontalScrollBar()
    assert bar.maximum() > 0  # the segments do not fit: the user must scroll
    bar.setValue(bar.maximum())
    assert table.columnViewportPosition(0) < 0  # the first segment scrolled out of view
    last = table.columnCount() - 1
    assert table.columnViewportPosition(last) + table.columnWidth(last) <= \
        table.viewport().width() + 1  # Total in view
    saved = read_gpkg_table(gpkg, "matrix_households")  # the wards' codes and names
    header = table.verticalHeader()
    assert header.isVisible() and header.x() + header.width() <= table.viewport().x()
    shown = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    codes = [table.verticalHeaderItem(r).toolTip() for r in range(table.rowCount())]
    assert shown == saved["ward_name"].tolist() and codes == saved["ward"].tolist()
    for name in shown:  # each name in full, not cut off
        assert header.fontMetrics().horizontalAdvance(name) <= header.width()
    picture = dock.grab()
    assert not picture.isNull() and picture.save(str(tmp_path / "ward_matrix_scrolled.png"))


def test_edited_names_are_stored_and_shown_in_the_legend(dock, gpkg, qtbot):
    table = dock.segments.table
    table.item(0, 1).setText("Settled homeowners in the north")
    dock.segments.select_segment(1)
    dock.segments.portrait.setPlainText("Older homeowners, mostly in Highgate and Frognal.")
    assert dock.segments.save.isEnabled()
    qtbot.mouseClick(dock.segments.save, Qt.LeftButton)
    qtbot.waitUntil(lambda: dock.segments.status.text().startswith("Saved"), timeout=WAIT)
    seg = load_segmentation(gpkg)
    assert seg.segment_names[1] == "Settled homeowners in the north"
    assert seg.summary.loc[1, "portrait"] == "Older homeowners, mostly in Highgate and Frognal."
    # read again: the row still selected shows the portrait saved (it emptied)
    qtbot.waitUntil(lambda: dock.contents is not None and dock.contents.seg.summary.loc[
        1, "portrait"] == seg.summary.loc[1, "portrait"] and not dock.reading(), timeout=WAIT)
    assert dock.segments.selected_segment() == 1
    assert dock.segments.portrait.toPlainText() == seg.summary.loc[1, "portrait"]
    layer = _layer(dock)
    labels = [c.label() for c in layer.renderer().categories()]
    assert "1 – Settled homeowners in the north" in labels
    names = {f["segment_name"] for f in layer.getFeatures() if f["segment"] == 1}
    assert names == {"Settled homeowners in the north"}
    wards = QgsVectorLayer(f"{gpkg}|layername=wards", "w", "ogr")
    assert "Settled homeowners in the north" in {f["dominant_segment_name"]
                                                 for f in wards.getFeatures()}


def test_a_duplicate_name_is_refused_and_nothing_changes(dock, gpkg, qtbot):
    before = load_segmentation(gpkg).segment_names
    dock.segments.table.item(1, 1).setText(before[1])
    qtbot.mouseClick(dock.segments.save, Qt.LeftButton)
    qtbot.waitUntil(lambda: "would both be called" in dock.segments.status.text(),
                    timeout=WAIT)
    assert load_segmentation(gpkg).segment_names == before
    assert dock.segments.save.isEnabled()


def test_the_ward_matrix_in_percentages_says_so_in_its_cells(dock):
    matrix = dock.matrix
    matrix.view.setCurrentIndex(matrix.view.findText(next(v for v in VIEWS if "row" in v)))
    cells = [matrix.table.item(r, c).text() for r in range(matrix.table.rowCount())
             for c in range(matrix.table.columnCount())]
    assert cells and all(re.fullmatch(r"\d+\.\d%|\*|–|", t) for t in cells), cells[:20]
    assert any(t.endswith("%") for t in cells)
    matrix.view.setCurrentIndex(matrix.view.findText(next(v for v, by in VIEWS.items()
                                                          if by is None)))
    assert not any(matrix.table.item(0, c).text().endswith("%")
                   for c in range(matrix.table.columnCount()))


def test_the_exported_table_is_safe_to_share(dock, tmp_path):
    written = dock.export_matrix("fires_incidents", "Counts", tmp_path / "fires.csv")
    table = pd.read_csv(written, encoding="utf-8-sig", dtype=str)
    assert list(table.columns[:2]) == ["Ward code", "Ward name"]
    values = table.iloc[:, 2:].to_numpy().ravel()
    assert "*" in values
    assert not any(v != "*" and 1 <= float(v) <= 5 for v in values)


def test_targeting_makes_the_visit_list_and_loads_its_layer(dock, gpkg, qtbot, tmp_path):
    tab = dock.targeting
    # one visit per point (the sample's postcodes taken as addresses), as a user unticks it
    assert tab.postcode_points.isChecked()
    qtbot.mouseClick(tab.postcode_points, Qt.LeftButton)
    assert not tab.postcode_points.isChecked() and tab.capacity.suffix() == " visits"
    tab.capacity.setValue(200)
    tab.folder.setFilePath(str(tmp_path / "visits"))
    qtbot.mouseClick(tab.run, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.list.rowCount() > 0 or "error" in tab.status.text().lower(),
                    timeout=WAIT)
    assert tab.list.rowCount() == 200, tab.status.text()
    assert tab.status.text().startswith("200 visits (one per address) in ")
    why_column = tab.list.columnCount() - 1
    assert tab.list.isColumnHidden(3)  # no households: the gazetteer gives none
    assert re.match(r"\d+ fires? in this output area",
                    tab.list.item(0, why_column).text())  # in words
    # in rank order (the crews' file is by ward), the reason in view in a narrow dock
    ranks = [int(tab.list.item(r, 0).text()) for r in range(tab.list.rowCount())]
    assert ranks == list(range(1, 201))
    assert tab.settings_box.isCollapsed()  # the list has the room
    dock.resize(460, 700)
    qtbot.wait(50)
    header = tab.list.horizontalHeader()
    why = header.sectionViewportPosition(why_column)
    assert 0 <= why and why + 120 <= tab.list.viewport().width(), (why, header.length())
    loaded = [layer for layer in QgsProject.instance().mapLayers().values()
              if layer.name() == "Home fire safety check visits"]
    assert loaded and loaded[0].featureCount() == 200
    # the priorities in a red ramp of their own: a visit of priority 1 is not segment 1's
    visits, canvas = loaded[0], dock.iface.mapCanvas()
    # the legend says of what the priorities are, and when: the incidents' period
    period = read_gpkg_table(gpkg, "incident_about_fires")["period"].iloc[0]
    assert period == "Jan 2009 – Aug 2024"
    root = QgsProject.instance().layerTreeRoot()
    model = QgsLayerTreeModel(root)  # the Layers panel's
    legend = [node.data(Qt.DisplayRole)
              for node in model.layerLegendNodes(root.findLayer(visits.id()))]
    assert legend == [f"expected fires per household against the borough rate, {period}",
                      "1 – very high (3x the borough rate or more)", "2 – high (2x to 3x)",
                      "3 – raised (1.5x to 2x)", "4 – other chosen (under 1.5x)"]
    drawn = {c.value(): c.symbol().symbolLayer(1).color().name().upper()
             for c in visits.renderer().categories()[1:]}
    assert drawn == {str(p): colour for p, colour in PRIORITY_COLOURS.items()}
    assert not set(drawn.values()) & {c.upper() for c in PALETTE}
    # a visit picked in the list is selected on the map and shown at a street's scale
    assert visits.selectedFeatureCount() == 0  # the list shown: the map left as it was
    canvas.resize(800, 600)
    canvas.setDestinationCrs(visits.crs())
    canvas.setExtent(visits.extent())
    canvas.zoomScale(200_000)
    assert round(canvas.scale()) == 200_000

    def pick(row: int) -> None:
        QTest.mouseClick(tab.list.viewport(), Qt.LeftButton, Qt.NoModifier,
                         tab.list.visualRect(tab.list.model().index(row, 1)).center())

    pick(3)
    assert tab.reason.text().startswith("<b>Visit 4</b>")
    picked = visits.selectedFeatures()
    assert [f["rank"] for f in picked] == [4]
    assert round(canvas.scale()) == 2_500
    assert canvas.extent().contains(picked[0].geometry().asPoint())
    assert canvas.center().distance(picked[0].geometry().asPoint()) < 1.0
    # the visit already selected, clicked again after the map moved: shown again
    canvas.zoomScale(200_000)
    pick(3)
    assert round(canvas.scale()) == 2_500
    crews = dock.export_for_crews(tmp_path / "for_crews.xlsx")
    assert crews.exists() and crews.stat().st_size > 5_000
    # a second list replaces the first under the same layer: one layer, the new visits
    tab.capacity.setValue(100)
    qtbot.mouseClick(tab.run, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.list.rowCount() == 100, timeout=WAIT)
    qtbot.wait(50)
    loaded = [layer for layer in QgsProject.instance().mapLayers().values()
              if layer.name() == "Home fire safety check visits"]
    assert len(loaded) == 1 and loaded[0].featureCount() == 100
    # the visits layer removed by the user: a visit picked moves nothing, and says nothing
    QgsProject.instance().removeMapLayer(loaded[0].id())
    qtbot.wait(50)
    pick(1)
    assert tab.reason.text().startswith("<b>Visit 2</b>")


def test_a_postcode_gazetteer_counts_households_in_the_dock(dock, gpkg, qtbot, tmp_path):
    """The sample's gazetteer is postcodes: the tab says so (as the Processing algorithm's
    option does), the capacity counts households, and the list and its status say them."""
    tab = dock.targeting
    dock.tabs.setCurrentWidget(tab)
    box = tab.postcode_points
    assert box.text() == "The gazetteer is postcode points (capacity in households)"
    assert box.isChecked() and tab.capacity.suffix() == " households"
    tab.capacity.selectAll()
    QTest.keyClicks(tab.capacity, "300")
    assert tab.capacity.value() == 300
    out = tmp_path / "visits"
    tab.folder.setFilePath(str(out))
    qtbot.mouseClick(tab.run, Qt.LeftButton)
    qtbot.waitUntil(lambda: "targeting" not in dock.tasks, timeout=WAIT)
    said = tab.status.text()
    found = re.match(r"([\d,]+) households at ([\d,]+) postcodes in \d+ output areas and "
                     r"\d+ wards; they cover [\d.]+% of the expected fires", said)
    assert found, said
    households, postcodes = (int(g.replace(",", "")) for g in found.groups())
    assert tab.list.rowCount() == postcodes
    listed = pd.read_csv(out / "target_list.csv").sort_values("rank")
    assert households == round(listed["households"].sum()) and households >= 300
    assert households - listed["households"].iloc[-1] < 300  # the last one reached it
    # ranked by expected fires per household: a large postcode does not come first
    per_household = listed["expected_fires_per_year"] / listed["households"]
    assert per_household.is_monotonic_decreasing
    headings = [tab.list.horizontalHeaderItem(c).text().replace("-\n", "")
                for c in range(tab.list.columnCount())]
    column = headings.index("Households")
    assert not tab.list.isColumnHidden(column)
    # the households take the segment's place (it is in the reason under the list), so the
    # reason keeps its room in a narrow dock
    assert tab.list.isColumnHidden(headings.index("Seg."))
    assert "Postcode" in headings and "Address" not in headings  # as the layer says
    assert [tab.list.item(r, column).text() for r in range(3)] == [
        f"{h:,.0f}" for h in listed["households"].iloc[:3]]
    summary = pd.read_csv(out / "target_summary.csv").set_index("measure")
    assert summary.loc["capacity", "note"] == "households"
    assert "postcodes in the gazetteer" in summary.index


def test_only_these_wards_takes_ward_names_and_says_in_words_which_it_does_not_know(
        dock, gpkg, qtbot, tmp_path):
    tab = dock.targeting
    dock.tabs.setCurrentWidget(tab)
    tab.capacity.setValue(300)
    out = tmp_path / "visits"
    tab.folder.setFilePath(str(out))

    def run(wards: str) -> None:
        tab.wards.selectAll()
        QTest.keyClicks(tab.wards, wards)
        qtbot.mouseClick(tab.run, Qt.LeftButton)
        qtbot.waitUntil(lambda: "targeting" not in dock.tasks, timeout=WAIT)

    # a ward of another borough: named as typed, with some this segmentation has, in words
    run("Bellingham")
    said = tab.status.text()
    assert said.startswith("“Bellingham” is not a ward of this segmentation (by name or "
                           "code). It has 20 wards, e.g. ") and "--wards" not in said
    assert "Belsize (E05013652)" in said and tab.progress.value() == 0
    assert tab.run.isEnabled() and tab.list.rowCount() == 0 and not out.exists()
    run("Kilbrun")  # mistyped: the nearest in spelling is named first
    assert "e.g. Kilburn (E05013665), " in tab.status.text()

    # names in any case and codes, mixed: the list holds those wards' addresses only
    run("kilburn, E05013652 ")
    assert tab.list.rowCount() > 0, tab.status.text()
    listed = pd.read_csv(out / "target_list.csv")
    assert set(listed["ward_code"]) == {"E05013665", "E05013652"}
    assert {tab.list.item(r, 1).text() for r in range(tab.list.rowCount())} == {
        "Kilburn", "Belsize"}

    # a step that fails once under way: why, and the progress bar back at nothing
    bad = tmp_path / "visited.csv"
    bad.write_text("who,when\nx,2020-01-01\n", encoding="utf-8")
    tab.visited.setFilePath(str(bad))
    run("")
    assert "visited.csv" in tab.status.text() and tab.progress.value() == 0


def test_another_segmentation_opens_on_its_segments(dock, job, qgis_iface, qtbot):
    """The tab last used belongs to the last segmentation: another one opens on its
    segments, as a reader starts; the same one read again stays where it was."""
    dock.tabs.setCurrentWidget(dock.targeting)
    dock.set_segmentation(dock.gpkg)  # the same one (its names saved): the tab stays
    assert dock.tabs.currentWidget() is dock.targeting
    other = QgsVectorLayer(f"{job}|layername=segments", "Other segments", "ogr")
    QgsProject.instance().addMapLayer(other)
    qgis_iface.setActiveLayer(other)
    qgis_iface.currentLayerChanged.emit(other)
    qtbot.waitUntil(lambda: not dock.reading() and dock.gpkg == job, timeout=WAIT)
    assert dock.tabs.currentWidget() is dock.segments


def test_report_button_writes_the_report(dock, qtbot, tmp_path):
    task = dock.write_report(tmp_path / "report.html")
    assert not dock.report_button.isEnabled()
    qtbot.waitUntil(lambda: dock.report_button.isEnabled(), timeout=WAIT)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Professional residents owning their homes with cars" in html and task.error is None


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium to print with")
def test_report_button_offers_the_pdf(dock, qtbot, tmp_path, monkeypatch):
    from community_safety.qgis_plugin.ui import dock as dock_module

    offered = {}

    def choose(parent, title, start, filters):  # the user picks the PDF, types a bare name
        offered["filters"] = filters.split(";;")
        return str(tmp_path / "board"), dock_module.PDF_FILES

    monkeypatch.setattr(dock_module.QFileDialog, "getSaveFileName", choose)
    task = dock.write_report()
    qtbot.waitUntil(lambda: dock.report_button.isEnabled(), timeout=WAIT)
    assert offered["filters"] == [dock_module.HTML_FILES, dock_module.PDF_FILES]
    assert task.error is None
    assert (tmp_path / "board.pdf").read_bytes()[:5] == b"%PDF-"
    assert "Professional residents owning their homes with cars" in (
        tmp_path / "board.html").read_text(encoding="utf-8")


def test_a_cancelled_task_writes_nothing(qgis_app, qtbot, tmp_path):
    target = tmp_path / "result.txt"
    said = {}

    def slow(path: Path, progress):
        for step in range(200):
            progress(step / 200, f"step {step}")
            time.sleep(0.02)
        path.write_text("done")
        return path

    task = run_task("a slow step", slow, target, on_done=lambda r: said.update(done=r),
                    on_error=lambda m: said.update(error=m))
    qtbot.waitUntil(lambda: task.progress() > 0, timeout=WAIT)
    task.cancel()
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT)
    assert said == {"error": CANCELLED} and not target.exists()
    assert issubclass(Cancelled, Exception)


def test_a_step_runs_with_older_objects_left_out_of_collections_until_it_ends(qgis_app,
                                                                             qtbot):
    """While a step runs off the main thread, Python's collections leave out the objects
    made before it (a full collection of QGIS's heap held Python's lock 0.3-0.6 s, freezing
    the window); once it ends they are collected again: a cycle dropped meanwhile is freed."""
    class Node:
        pass

    cycle = Node()
    cycle.me = cycle
    alive = weakref.ref(cycle)
    started, dropped = threading.Event(), threading.Event()
    said = {}

    def step(progress):
        started.set()
        dropped.wait(30)
        gc.collect()  # a full collection, in the step's thread
        return alive() is not None, gc.get_freeze_count() > 0

    run_task("collections during a step", step, on_done=lambda r: said.update(done=r),
             on_error=lambda m: said.update(error=m))
    qtbot.waitUntil(started.is_set, timeout=WAIT)
    del cycle
    dropped.set()
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT)
    assert said == {"done": (True, True)}  # kept out of the step's collection
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None  # collected once the step ended


SERVICE_USERS = (Path(__file__).resolve().parent.parent / "resources" / "sample_data"
                 / "camden" / "service_users")


def _rank_service_users(dock, qtbot, tmp_path, folder):
    """The Service users tab filled in (the project of ``folder``, a key file, an output
    folder) and its Run clicked; returns the tab once the step has ended."""
    tab = dock.service_users
    key = tmp_path / "key.txt"
    key.write_text("the partnership's secret key, kept outside the project")
    tab.project.setFilePath(str(folder / "service_users.toml"))
    tab.key.setFilePath(str(key))
    tab.folder.setFilePath(str(tmp_path / "users"))
    qtbot.mouseClick(tab.run, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.run.isEnabled(), timeout=WAIT)
    return tab


def test_service_users_tab_ranks_pseudonyms_and_shows_the_shared_demand(dock, gpkg, qtbot,
                                                                       tmp_path):
    tab = _rank_service_users(dock, qtbot, tmp_path, SERVICE_USERS)
    assert 100 <= tab.ranked.rowCount() <= 400, tab.status.text()
    shown = {tab.ranked.item(r, 0).text() for r in range(tab.ranked.rowCount())}
    assert all(len(p) == 16 and int(p, 16) >= 0 for p in shown)  # pseudonyms only
    sources = pd.concat([pd.read_csv(f, dtype=str) for f in SERVICE_USERS.glob("*.csv")])
    names = {v for c in sources.columns if "name" in c.lower() and "ward" not in c.lower()
             for v in sources[c].dropna()}
    assert names and not names & {tab.ranked.item(r, c).text()
                                  for r in range(tab.ranked.rowCount())
                                  for c in range(tab.ranked.columnCount())}
    assert tab.shared_table.rowCount() == 11  # ten segments and the total
    headers = [tab.shared_table.horizontalHeaderItem(c).text()
               for c in range(tab.shared_table.columnCount())]
    residents = tab.shared_table.item(10, headers.index("Residents")).text()
    assert residents == f"{int(residents.replace(',', '')):,}" and "," in residents
    # the status in sentences: "Window: ... . People ...: 1,234."
    said = tab.status.text()
    assert re.search(r"in the window: \d{1,3}(,\d{3})*\. Records read: \d{1,3}(,\d{3})*\. "
                     "Pseudonymised", said), said
    tab.view.setCurrentIndex(1)
    assert tab.shared_table.rowCount() == 21  # twenty wards and the total
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"demand_counts_by_segment", "demand_counts_by_ward"} <= layers


def test_service_users_without_a_key_says_so_and_writes_nothing(dock, qtbot, tmp_path,
                                                                monkeypatch):
    monkeypatch.delenv("COMMUNITY_SAFETY_KEY", raising=False)
    tab = dock.service_users
    tab.project.setFilePath(str(SERVICE_USERS / "service_users.toml"))
    tab.folder.setFilePath(str(tmp_path / "users"))
    qtbot.mouseClick(tab.run, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.run.isEnabled(), timeout=WAIT)
    assert tab.status.text().startswith("no pseudonymisation key")
    assert not (tmp_path / "users").exists()


def test_service_users_of_unknown_home_are_said_in_the_tab(dock, gpkg, qtbot, tmp_path):
    """A person whose home area is not one of the segmentation's: their row in the ranked
    list says so where the ward would be, and the status says who the shared views leave
    out (the files say it too, but the officer reads the dock)."""
    import shutil

    folder = tmp_path / "service_users"
    shutil.copytree(SERVICE_USERS, folder)
    roles = pd.read_csv(folder / "crime_roles.csv", dtype=str, keep_default_na=False)
    busiest = roles["person_id"].value_counts().index[0]
    for path in folder.glob("*.csv"):
        records = pd.read_csv(path, dtype=str, keep_default_na=False)
        person = next((c for c in ("person_id", "partnership_id") if c in records), None)
        if person and "home_oa" in records:
            records.loc[records[person] == busiest, "home_oa"] = "E00999999"
            records.to_csv(path, index=False)
    tab = _rank_service_users(dock, qtbot, tmp_path, folder)
    said = tab.status.text()
    assert re.search(r"\d+ people \([\d,]+ contacts\) are left out of every view", said), said
    ward = [tab.ranked.horizontalHeaderItem(c).text()
            for c in range(tab.ranked.columnCount())].index("Home ward")
    wards = [tab.ranked.item(r, ward).text() for r in range(tab.ranked.rowCount())]
    assert "(home area not one of the study's areas)" in wards
