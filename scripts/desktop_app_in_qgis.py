# Runs inside the QGIS desktop app (qgis --code this_file), started by desktop_app.py.
# A GIS officer's first session: press Install, then run every algorithm of the plugin on
# the Camden sample through processing.run, check each output, take screenshots.
# Writes $DESKTOP_APP_OUT/results.json and quits QGIS.

import json
import os
import time
import traceback
from pathlib import Path

import qgis.utils
from qgis.core import (
    Qgis,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsProject,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QEventLoop, Qt, QTimer
from qgis.PyQt.QtWidgets import QDockWidget, QPushButton

OUT = Path(os.environ["DESKTOP_APP_OUT"])
PLUGIN = "community_safety"
results = {"finished": False, "steps": [], "python_errors": []}


def on_log(message, tag, level):
    if level >= Qgis.Critical and "python" in tag.lower():
        results["python_errors"].append(message[-2000:])


QgsApplication.messageLog().messageReceived.connect(on_log)


def step(name, ok, detail="", **extra):
    results["steps"].append({"name": name, "ok": bool(ok), "detail": str(detail), **extra})
    (OUT / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


def wait(seconds, until=lambda: False):
    """Let QGIS run (tasks, signals, rendering) for up to ``seconds``, or until ``until()``."""
    end = time.monotonic() + seconds
    loop = QEventLoop()
    while time.monotonic() < end and not until():
        QTimer.singleShot(50, loop.quit)
        loop.exec_()
    return until()


def install_from_message_bar():
    bar = qgis.utils.iface.messageBar()
    ours = [item for item in bar.items() if item.title() == "Community Safety Segmentation"]
    if not ours:
        step("message bar offers Install", False, "no message from the plugin")
        return False
    button = ours[0].findChild(QPushButton, "communitySafetyInstall")
    step("message bar offers Install", button is not None, ours[0].text())
    button.click()
    plugin = qgis.utils.plugins[PLUGIN]
    dialog = plugin.dialog
    python = dialog.task.argv[0]
    wait(1200, lambda: dialog.task is None)
    wait(5, lambda: qgis.utils.plugins[PLUGIN] is not plugin)  # the reload
    outcome = dialog.findChild(qgis.PyQt.QtWidgets.QLabel, "outcome").text()
    dialog.grab().save(str(OUT / "install_dialog.png"))
    pip_output = dialog.findChild(qgis.PyQt.QtWidgets.QPlainTextEdit,
                                  "pipOutput").toPlainText()
    (OUT / "pip_output.txt").write_text(pip_output, encoding="utf-8")
    dialog.close()
    reloaded = qgis.utils.plugins.get(PLUGIN)
    ready = reloaded is not None and reloaded is not plugin and reloaded.ready
    step("Install button: pip, then the plugin reloads ready", ready, outcome, python=python)
    return ready


def native_libraries():
    from community_safety.qgis_plugin.native_libraries import native_library_report

    report = native_library_report()
    step("each geospatial package runs on its own GEOS/GDAL/PROJ",
         report and all(entry.consistent for entry in report),
         "; ".join(str(entry) for entry in report))


def run_algorithm(name, algorithm, parameters, check, load=False):
    import processing

    try:
        started = time.monotonic()
        runner = processing.runAndLoadResults if load else processing.run
        outputs = runner(f"community_safety:{algorithm}", parameters)
        detail = check(outputs)
        step(name, True, f"{detail} ({time.monotonic() - started:.1f} s)", algorithm=algorithm)
        return outputs
    except Exception:
        step(name, False, traceback.format_exc()[-3000:], algorithm=algorithm)
        return None


def layer_count(uri):
    layer = QgsVectorLayer(uri, "check", "ogr")
    if not layer.isValid():
        raise AssertionError(f"not a valid layer: {uri}")
    return layer.featureCount()


def csv_points(path, x, y):
    uri = (f"file://{path}?delimiter=,&xField={x}&yField={y}&crs=EPSG:27700"
           "&detectTypes=yes&spatialIndex=no&subsetIndex=no&watchFile=no")
    layer = QgsVectorLayer(uri, Path(path).stem, "delimitedtext")
    if not layer.isValid():
        raise AssertionError(f"cannot read {path}")
    return layer


def joined_areas(sample):
    """The output areas with the partner tables joined, as a GIS officer does by hand."""
    import processing

    layer = str(sample / "output_areas_2011.gpkg")
    tables = [("census_demography.csv", "OA11CD"), ("census_housing.csv", "OA11CD"),
              ("census_health_care.csv", "OA11CD"), ("census_work.csv", "OA11CD"),
              ("imd2019_lsoa.csv", "LSOA11CD")]
    for table, key in tables:
        csv = QgsVectorLayer(f"file://{sample / table}?delimiter=,&detectTypes=yes",
                             table, "delimitedtext")
        layer = processing.run("native:joinattributestable", {
            "INPUT": layer, "FIELD": key, "INPUT_2": csv, "FIELD_2": key,
            "METHOD": 1, "DISCARD_NONMATCHING": False, "PREFIX": "",
            "OUTPUT": "TEMPORARY_OUTPUT"})["OUTPUT"]
    return layer


def algorithms():
    import community_safety

    plugin_dir = Path(community_safety.__file__).parent
    sample = plugin_dir / "resources" / "sample_data" / "camden"
    work = OUT / "outputs"
    work.mkdir(exist_ok=True)
    # a project in British National Grid, as a GIS officer in the UK has it
    QgsProject.instance().setCrs(QgsCoordinateReferenceSystem("EPSG:27700"))
    gpkg = str(work / "camden.gpkg")

    built = run_algorithm(
        "Build segmentation from a project file", "buildfromproject",
        {"PROJECT": str(sample / "camden.toml"), "K": 10, "N_INIT": 20, "OUTPUT": gpkg},
        lambda o: f"{layer_count(o['SEGMENTS'])} areas in segments", load=True)
    if built is None:  # the later steps need a segmentation: fall back to the joined layer
        gpkg = str(work / "camden_joined.gpkg")
    areas = joined_areas(sample)
    variables = [line.split(",")[0] for line in
                 (sample / "variables.csv").read_text().splitlines()[1:]]
    area_parameters = {"AREAS": areas, "AREA_CODE": "OA11CD", "VARIABLES": variables,
                       "N_INIT": 5, "SEED": 2011}
    run_algorithm(
        "Build segmentation (joined layer)", "buildsegmentation",
        {**area_parameters, "DEPRIVATION": "IMD19", "MORE_DEPRIVED": 0,
         "RESIDENTS": "usual_residents", "HOUSEHOLDS": "households", "K": 10,
         "OUTPUT": str(work / "camden_joined.gpkg")},
        lambda o: f"{layer_count(o['SEGMENTS'])} areas in segments")
    run_algorithm(
        "Choose number of segments", "choosesegments",
        {**area_parameters, "K_MIN": 2, "K_MAX": 5, "N_INIT": 2,
         "OUTPUT": str(work / "diagnostics.csv"), "ELBOW": str(work / "elbow.png")},
        lambda o: f"{len(Path(o['OUTPUT']).read_text().splitlines()) - 1} values of k, "
                  f"elbow plot {Path(o['ELBOW']).stat().st_size:,} bytes")
    run_algorithm(
        "Assign areas to an existing segmentation", "assignareas",
        {"SEGMENTATION": gpkg, "AREAS": areas, "AREA_CODE": "OA11CD",
         "OUTPUT": str(work / "assigned.gpkg")},
        lambda o: f"{layer_count(o['SEGMENTS'])} areas assigned")
    run_algorithm(
        "Join segments to a gazetteer", "joingazetteer",
        {"SEGMENTATION": gpkg, "ADDRESSES": csv_points(sample / "postcodes.csv", "Eastings",
                                                       "Northings"),
         "ID": "Postcode"},
        lambda o: f"{layer_count(o['ADDRESS_LAYER'])} addresses with segments", load=True)
    run_algorithm(
        "Profile incidents by segment", "profileincidents",
        {"SEGMENTATION": gpkg, "INCIDENTS": csv_points(sample / "lfb_dwelling_fires.csv",
                                                       "easting_rounded", "northing_rounded"),
         "NAME": "fires", "DATE": "date", "OUTPUT_FOLDER": str(work / "incidents")},
        lambda o: f"{layer_count(o['RATES'])} areas with fire rates; profile "
                  f"{len(Path(o['PROFILE']).read_text().splitlines()) - 1} rows", load=True)
    run_algorithm(
        "Ward x segment matrices", "wardmatrices",
        {"SEGMENTATION": gpkg, "WARDS": str(sample / "wards_2022.gpkg"),
         "WARD_CODE": "WD22CD", "WARD_NAME": "WD22NM"},
        lambda o: f"{layer_count(o['WARD_LAYER'])} wards", load=True)
    run_algorithm(
        "Target home fire safety checks", "targetvisits",
        {"SEGMENTATION": gpkg, "CAPACITY": 500,
         "INCIDENTS": csv_points(sample / "lfb_dwelling_fires.csv", "easting_rounded",
                                 "northing_rounded"),
         "DATE": "date", "DATE_FROM": "2021-01-01", "OUTPUT_FOLDER": str(work / "targets")},
        lambda o: f"{len(Path(o['TARGET_LIST']).read_text().splitlines()) - 1} visits listed, "
                  f"{layer_count(o['TARGETS'])} target addresses")
    key = work / "service_users.key"  # the user's key, kept outside the project
    key.write_text("desktop test key for the SYNTHETIC service users", encoding="utf-8")
    run_algorithm(
        "Frequent service users", "serviceusers",
        {"PROJECT": str(sample / "service_users" / "service_users.toml"), "KEY_FILE": str(key),
         "SEGMENTATION": gpkg, "OUTPUT_FOLDER": str(work / "service_users")},
        lambda o: f"{len(Path(o['RANKED']).read_text().splitlines()) - 1} people listed, "
                  f"shared demand by ward {len(Path(o['SHARED']).read_text().splitlines())} "
                  "lines")
    run_algorithm(
        "Export matrices for partners", "exportmatrices",
        {"SEGMENTATION": gpkg, "THRESHOLD": 5, "OUTPUT_FOLDER": str(work / "partners")},
        lambda o: f"workbook {Path(o['WORKBOOK']).stat().st_size:,} bytes")
    run_algorithm(
        "Partner report (HTML)", "writereport",
        {"SEGMENTATION": gpkg, "OUTPUT": str(work / "report.html")},
        lambda o: f"report {Path(o['REPORT']).stat().st_size:,} bytes with "
                  f"{Path(o['REPORT']).read_text(encoding='utf-8').count('<img ')} pictures")
    run_algorithm(
        "Ward atlas (PDF)", "wardatlas",
        {"SEGMENTATION": gpkg, "OUTPUT": str(work / "ward_atlas.pdf")},
        lambda o: atlas_pages(o, layer_count(str(Path(gpkg)) + "|layername=wards")))


def atlas_pages(outputs, wards):
    """The atlas PDF has a page per ward and its print layout is in the project."""
    import re

    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", Path(outputs["OUTPUT"]).read_bytes()))
    if not pages == outputs["PAGES"] == wards:
        raise AssertionError(f"{pages} PDF pages, {outputs['PAGES']} reported, {wards} wards")
    if QgsProject.instance().layoutManager().layoutByName(outputs["LAYOUT"]) is None:
        raise AssertionError(f"no print layout '{outputs['LAYOUT']}' in the project")
    return f"{pages} ward pages; print layout '{outputs['LAYOUT']}'"


def show_only(names):
    """Tick the named layers in the layer tree (legends expanded), untick the others."""
    root = QgsProject.instance().layerTreeRoot()
    for node in root.findLayers():
        shown = node.name() in names
        node.setItemVisibilityChecked(shown)
        node.setExpanded(shown)


def grab(file_name, names, extent_layer, zoom=1.0, notices=()):
    """The main window as a user sees it with these layers shown, zoomed on the middle of
    the layer's extent by ``zoom``."""
    iface = qgis.utils.iface
    show_only(names)
    layers = [layer for layer in QgsProject.instance().mapLayers().values()
              if layer.name() == extent_layer]
    canvas = iface.mapCanvas()
    if layers:
        iface.setActiveLayer(layers[0])
        canvas.setExtent(layers[0].extent().buffered(300))
        wait(1)  # the canvas settles its size and scale first
        canvas.zoomScale(canvas.scale() / zoom)
    canvas.refreshAllLayers()
    wait(3)
    canvas.waitWhileRendering()
    bar = iface.messageBar()
    notices.extend(f"{item.title()}: {item.text()}" for item in bar.items())
    bar.clearWidgets()  # QGIS's own notices (a datum grid it lacks) would cover the map
    wait(1)
    iface.mainWindow().grab().save(str(OUT / file_name))
    return bool(layers)


def screenshots():
    """The main window after the run: segments with addresses, wards, fire rates; the layer
    tree wide enough to read the legends."""
    iface = qgis.utils.iface
    window = iface.mainWindow()
    window.move(0, 0)
    window.resize(1600, 1000)  # no window manager under Xvfb: showMaximized does nothing
    for dock in window.findChildren(QDockWidget):
        if dock.objectName() == "Browser":
            dock.hide()
        if dock.objectName() == "Layers":
            window.resizeDocks([dock], [560], Qt.Horizontal)
    notices = []
    names = [layer.name() for layer in QgsProject.instance().layerTreeRoot().layerOrder()]
    shots = [("qgis_desktop.png", ["Segments", "Addresses"], "Segments", 2.5),
             ("qgis_wards.png", ["Wards by dominant segment"], "Wards by dominant segment", 1),
             ("qgis_fire_rates.png", ["Incident rates: fires"], "Incident rates: fires", 1)]
    taken = [grab(*shot, notices=notices) for shot in shots]
    step("screenshots of the main window", all(taken), ", ".join(names),
         notices=notices, layers=names)


def dock_in_the_app():
    """The Community safety dock on the run's segmentation, as a community safety officer
    uses it: a segment selected, a ward matrix cell clicked, a visit list made; a picture of
    the main window for each tab."""
    from qgis.PyQt.QtWidgets import QApplication

    iface = qgis.utils.iface
    plugin = qgis.utils.plugins[PLUGIN]
    gpkg = OUT / "outputs" / "camden.gpkg"
    try:
        show_only(["Segments"])  # the areas the dock selects, over the whole borough
        dock = plugin.show_dock(gpkg)
        iface.mainWindow().resizeDocks([dock], [640], Qt.Horizontal)
        tabs = dock.tabs
        dock.segments.select_segment(10)
        layer = dock.segment_layer()
        selected = layer.selectedFeatureCount()
        wait(2)
        iface.mainWindow().grab().save(str(OUT / "dock_segments.png"))
        tabs.setCurrentWidget(dock.matrix)
        matrix = dock.matrix
        matrix.measure.setCurrentIndex(matrix.measure.findData("households"))
        row = next(r for r in range(matrix.table.rowCount() - 1)
                   if matrix.table.item(r, 10).text() not in ("0", "*"))
        matrix.table.setCurrentCell(row, 10)
        chosen = dock.select_cell(matrix.table.item(row, 0).toolTip(), 10)
        wait(3)
        iface.mainWindow().grab().save(str(OUT / "dock_ward_matrix.png"))
        tabs.setCurrentWidget(dock.targeting)
        dock.targeting.capacity.setValue(300)
        dock.targeting.folder.setFilePath(str(OUT / "outputs" / "dock_visits"))
        dock.targeting.run.click()
        wait(300, lambda: dock.targeting.list.rowCount() > 0
             or dock.targeting.run.isEnabled() and dock.targeting.status.text())
        QApplication.processEvents()
        wait(3)
        iface.mainWindow().grab().save(str(OUT / "dock_targeting.png"))
        listed = dock.targeting.list.rowCount()
        tabs.setCurrentWidget(dock.service_users)
        users = dock.service_users
        sample = Path(plugin_dir()) / "resources" / "sample_data" / "camden" / "service_users"
        users.project.setFilePath(str(sample / "service_users.toml"))
        users.key.setFilePath(str(OUT / "outputs" / "service_users.key"))
        users.folder.setFilePath(str(OUT / "outputs" / "dock_service_users"))
        users.run.click()
        wait(300, lambda: users.run.isEnabled())
        wait(2)
        iface.mainWindow().grab().save(str(OUT / "dock_service_users.png"))
        ranked = users.ranked.rowCount()
        step("Community safety dock: segment, ward matrix cell, visit list, service users",
             selected > 0 and chosen > 0 and listed == 300 and 100 <= ranked <= 400,
             f"segment 10: {selected} areas selected; ward cell: {chosen} areas; "
             f"{listed} visits listed; {dock.targeting.status.text()}; {ranked} people "
             f"ranked; {users.status.text()}")
    except Exception:
        step("Community safety dock: segment, ward matrix cell, visit list, service users",
             False, traceback.format_exc()[-3000:])


def plugin_dir():
    import community_safety

    return Path(community_safety.__file__).parent


def main():
    try:
        if PLUGIN not in qgis.utils.plugins:
            step("plugin loaded from the zip", False, f"active: {list(qgis.utils.plugins)}")
        elif qgis.utils.plugins[PLUGIN].ready or install_from_message_bar():
            native_libraries()
            algorithms()
            screenshots()
            dock_in_the_app()
        results["finished"] = True
    except Exception:
        step("desktop run", False, traceback.format_exc())
    finally:
        results["finished"] = results["finished"] and not results["python_errors"]
        (OUT / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
        os._exit(0)


QTimer.singleShot(2000, main)
