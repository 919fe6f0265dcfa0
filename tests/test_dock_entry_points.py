"""The dock and the plugin's menu entries as a user starts them, in real (headless) QGIS:
each menu entry triggered through its QAction (a ``triggered(bool)`` argument never arrives
as data), the dock finding the segmentation of the active layer (or of the project, or
saying which step makes one), and the dock on a segmentation without households,
residents, deprivation, wards, gazetteer or incidents: it shows what exists and says which
step adds the rest."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import SAMPLE_DIR
from qgis.core import QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest

from community_safety import classFactory
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.saved import save_segmentation

WAIT = 120_000  # ms: a task on a busy two-core machine


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """Camden segmented from its census tables with no households, residents or
    deprivation named, and no later step run: the least a segmentation holds."""
    project = replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=5, residents=None,
                      households=None, deprivation=None)
    seg = build_segmentation(project)
    assert not {"households", "residents"} & set(seg.summary.columns)
    return save_segmentation(seg, tmp_path_factory.mktemp("bare"), plots=False)


@pytest.fixture()
def plugin(qgis_iface, qgis_processing, qgis_new_project, monkeypatch):
    # pytest-qgis's interface has no menu to remove entries from
    for name in ("removePluginMenu", "removeToolBarIcon", "removeDockWidget"):
        if not hasattr(qgis_iface, name):
            monkeypatch.setattr(qgis_iface, name, lambda *_: None, raising=False)
    instance = classFactory(qgis_iface)
    instance.initGui()
    assert instance.ready
    yield instance
    instance.unload()
    QgsProject.instance().removeAllMapLayers()


def open_dock(plugin, qtbot):
    """The dock's menu entry, pressed; the segmentation is read in a task, then shown."""
    plugin.dock_action.trigger()  # triggered(False) must not reach show_dock as its path
    qtbot.waitUntil(lambda: plugin.dock is not None and not plugin.dock.reading(),
                    timeout=WAIT)
    return plugin.dock


def _add(gpkg, table="segments", title="Segments"):
    layer = QgsVectorLayer(f"{gpkg}|layername={table}", title, "ogr")
    assert layer.isValid()
    layer.loadDefaultStyle()
    QgsProject.instance().addMapLayer(layer)
    return layer


def test_every_menu_entry_runs_from_its_action(plugin, qgis_iface, bare, qtbot):
    layer = _add(bare)
    qgis_iface.setActiveLayer(layer)
    actions = [plugin.action, plugin.project_action, plugin.atlas_action, plugin.dock_action,
               plugin.wizard_action]
    assert all(action.isEnabled() for action in actions)

    dock = open_dock(plugin, qtbot)
    assert dock is not None and dock.gpkg == bare
    assert dock.segments.table.rowCount() == 10
    assert dock.tabs.isEnabled() and dock.report_button.isEnabled()

    plugin.action.trigger()
    assert plugin.dialog is not None and plugin.dialog.isVisible()
    assert "Ready" in plugin.dialog.summary.text()
    plugin.dialog.close()

    plugin.wizard_action.trigger()
    assert plugin.wizard is not None and plugin.wizard.isVisible()
    plugin.wizard.close()

    # the two Processing dialogs (project file, ward atlas) need the real app's browser:
    # the desktop test triggers them



def test_dock_finds_the_segmentation_whatever_layer_is_active(plugin, qgis_iface, bare,
                                                              qtbot):
    dock = open_dock(plugin, qtbot)  # nothing in the project: it says which step makes one
    assert dock.gpkg is None and not dock.tabs.isEnabled()
    assert "New segmentation" in dock.heading.text()

    scratch = QgsVectorLayer("Point?crs=EPSG:27700", "scratch points", "memory")
    QgsProject.instance().addMapLayer(scratch)
    qgis_iface.setActiveLayer(scratch)
    open_dock(plugin, qtbot)
    assert "scratch points" in dock.heading.text() and dock.gpkg is None

    _add(bare)  # a segmentation in the project, another layer active: the dock finds it
    qgis_iface.setActiveLayer(scratch)
    open_dock(plugin, qtbot)
    assert dock.gpkg == bare and dock.tabs.isEnabled()


def test_dock_on_a_bare_segmentation_shows_what_exists_and_names_the_steps(
        plugin, qgis_iface, bare, qtbot, tmp_path):
    qgis_iface.setActiveLayer(_add(bare))
    dock = open_dock(plugin, qtbot)
    heading = dock.heading.text()
    for step in ("households and residents", "Ward x segment matrices",
                 "Join segments to a gazetteer", "Profile incidents by segment"):
        assert step in heading, heading

    table = dock.segments.table
    assert table.rowCount() == 10
    assert table.isColumnHidden(3)  # no households column to show
    assert table.horizontalHeaderItem(4).text() == "Share of areas"
    areas = [int(table.item(r, 2).text().replace(",", "")) for r in range(10)]
    assert sum(areas) == 749
    shares = [float(table.item(r, 4).text().rstrip("%")) for r in range(10)]
    assert abs(sum(shares) - 100) < 0.6
    # a segment selected: its portrait and index chart, its areas on the map
    table.selectRow(2)
    assert dock.segments.portrait.toPlainText()
    qtbot.waitUntil(lambda: dock.segments.picture is not None
                    and not dock.segments.picture.isNull(), timeout=30_000)
    assert dock.segment_layer().selectedFeatureCount() == areas[2]

    assert dock.matrix.note.isVisibleTo(dock.matrix) and dock.matrix.table.rowCount() == 0
    assert not dock.targeting.run.isEnabled()
    status = dock.targeting.status.text()
    assert "gazetteer" in status and "Profile incidents" in status
    assert not dock.atlas_button.isEnabled()
    assert "Ward x segment matrices" in dock.atlas_button.toolTip()

    # the report is written from what there is
    out = tmp_path / "report.html"
    dock.write_report(out)
    qtbot.waitUntil(lambda: dock.report_button.isEnabled(), timeout=WAIT)
    assert out.exists() and "<html" in out.read_text(encoding="utf-8")[:500].lower()


def test_dock_buttons_answer_clicks(plugin, qgis_iface, bare, qtbot):
    qgis_iface.setActiveLayer(_add(bare))
    dock = open_dock(plugin, qtbot)
    dock.tabs.setCurrentWidget(dock.matrix)
    QTest.mouseClick(dock.matrix.export, Qt.LeftButton)  # disabled: nothing happens
    assert not dock.matrix.export.isEnabled()


def test_plugin_layers_need_no_datum_transformation_choice(qgis_iface, qgis_new_project,
                                                          bare):
    """A new project takes the segments' British National Grid; a project already in WGS84
    gets the best available transformation stored in its transform context, which is what
    QGIS checks before asking the user to choose one."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransformContext

    from community_safety.qgis_plugin.ui.qt_views import ensure_layer

    project = QgsProject.instance()
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    ensure_layer(bare, "segments", "Segments")
    assert project.crs().authid() == "EPSG:27700"  # the first layer sets the project's CRS
    project.removeAllMapLayers()
    bng = QgsCoordinateReferenceSystem("EPSG:27700")

    wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
    # a project that never had the segments in it: earlier tests in this process may have
    # stored the transformation in the singleton project's context
    project.setTransformContext(QgsCoordinateTransformContext())
    project.addMapLayer(QgsVectorLayer("Point?crs=EPSG:4326", "GPS points", "memory"))
    project.setCrs(wgs84)
    assert not project.transformContext().hasTransform(bng, wgs84)
    layer = ensure_layer(bare, "segments", "Segments")
    assert layer.crs() == bng and project.crs() == wgs84  # the user's choice is kept
    assert project.transformContext().hasTransform(bng, wgs84)
    assert project.transformContext().hasTransform(wgs84, bng)
    project.removeAllMapLayers()


def test_another_segmentation_leaves_no_list_of_the_last_one(plugin, qgis_iface, bare,
                                                             tmp_path, qtbot):
    """The dock showed a visit list and then another segmentation: the list goes (the
    Sutton dock showed Camden's visits)."""
    qgis_iface.setActiveLayer(_add(bare))
    dock = open_dock(plugin, qtbot)
    tab = dock.targeting
    tab.list.setRowCount(3)  # as a visit list left it
    tab.export.setEnabled(True)
    other = tmp_path / "other" / "segmentation.gpkg"
    other.parent.mkdir()
    other.write_bytes(bare.read_bytes())
    dock.set_segmentation(other)
    qtbot.waitUntil(lambda: not dock.reading(), timeout=WAIT)
    assert dock.gpkg == other and tab.list.rowCount() == 0 and not tab.export.isEnabled()
    assert dock.service_users.ranked.rowCount() == 0


def test_the_dock_asked_twice_for_the_segmentation_it_is_reading_reads_it_once(
        plugin, qgis_iface, bare, qtbot, monkeypatch):
    """The wizard's new layer becomes active (the dock follows it) and then the wizard opens
    the dock on the same GeoPackage: one read, not two."""
    from community_safety.qgis_plugin.ui import dock as dock_module

    reads = []
    real = dock_module.run_task
    monkeypatch.setattr(dock_module, "run_task",
                        lambda description, *a, **k: reads.append(description)
                        or real(description, *a, **k))
    dock = plugin.show_dock(bare)
    plugin.show_dock(bare)
    qtbot.waitUntil(lambda: not dock.reading(), timeout=WAIT)
    assert len(reads) == 1 and dock.gpkg == bare and dock.tabs.isEnabled()


@pytest.fixture(scope="module")
def no_households(tmp_path_factory):
    """Camden segmented with no households column named (residents only), the sample's
    postcodes as its gazetteer and its dwelling fires profiled: what the visit list
    reads."""
    from community_safety.core.data.locate import LocationColumns
    from community_safety.core.places.incidents import IncidentFilter
    from community_safety.core.places.steps import gazetteer_step, incidents_step

    project = replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=5, households=None)
    gpkg = save_segmentation(build_segmentation(project), tmp_path_factory.mktemp("nohh"),
                             plots=False)
    gazetteer_step(gpkg, SAMPLE_DIR / "postcodes.csv", "Postcode",
                   LocationColumns(x="Eastings", y="Northings"))
    incidents_step(gpkg, SAMPLE_DIR / "lfb_dwelling_fires.csv", "fires",
                   LocationColumns(x="easting_rounded", y="northing_rounded"),
                   gpkg.parent / "incidents", rules=IncidentFilter(date_column="date"))
    return gpkg


def test_postcode_points_without_households_are_refused_in_words_in_the_dock(
        plugin, qgis_iface, no_households, tmp_path, qtbot):
    """No households known: the box starts unticked (a capacity cannot count households),
    and ticked by the user, the run is refused in words naming the box, the option and the
    fix, nothing written; never a postcode counted as one household."""
    qgis_iface.setActiveLayer(_add(no_households))
    dock = open_dock(plugin, qtbot)
    tab = dock.targeting
    dock.tabs.setCurrentWidget(tab)
    ticked = tab.postcode_points.isChecked()  # as the dock set it: unticked, below
    if not ticked:
        qtbot.mouseClick(tab.postcode_points, Qt.LeftButton)
    assert tab.capacity.suffix() == " households"
    out = tmp_path / "visits"
    tab.folder.setFilePath(str(out))
    qtbot.mouseClick(tab.run, Qt.LeftButton)
    qtbot.waitUntil(lambda: "targeting" not in dock.tasks, timeout=WAIT)
    said = tab.status.text()
    assert "The gazetteer is postcode points (capacity in households)" in said, said
    assert "--postcode-points" in said and "names no households column" in said
    assert "each postcode would count as one household" in said
    assert "untick the box" in said and "[sizes] households" in said
    assert tab.list.rowCount() == 0 and not (out / "target_list.csv").exists()
    assert not ticked  # the dock left it unticked: no households to count
    # unticked (one visit per postcode), the list is made
    qtbot.mouseClick(tab.postcode_points, Qt.LeftButton)
    qtbot.mouseClick(tab.run, Qt.LeftButton)
    qtbot.waitUntil(lambda: "targeting" not in dock.tasks, timeout=WAIT)
    assert tab.list.rowCount() == 500, tab.status.text()
