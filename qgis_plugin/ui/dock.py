"""The "Community safety" dock: where a community safety officer reads the segmentation of
the active layer and acts on it.

Tabs: Segments (profiles; names and portraits editable), Ward matrix (click a cell to
select its areas), Targeting (the visit list) and Service users (the ranked, pseudonymised
list and the shared demand);
buttons for the partner report and the ward atlas. The dock follows the active layer: when
it is a layer of a saved segmentation GeoPackage, the dock shows that segmentation. Every
long step runs through ``tasks.run_task``; the dock itself computes nothing.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pyogrio
from qgis.core import Qgis, QgsProject, QgsVectorLayer
from qgis.gui import QgsDockWidget
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.cells import write_csv
from ...core.errors import InputError
from ...core.segment.notes import assigned_note
from ...core.segment.saved import needed_tables
from ...core.share.export import partner_table, safe_tables
from ...core.store.names import GPKG_NAME
from ...core.targeting.visit_inputs import chosen_wards
from ..processing.defaults import SHOWN
from .dock_contents import STEPS, THRESHOLD, DockContents, file_stamp, read_contents
from .qt_views import ensure_layer, layer_of, make_visible, reload_styled
from .segments_tab import SegmentsTab
from .service_users_tab import ServiceUsersTab
from .targeting_tab import TargetingTab
from .tasks import run_task
from .ward_matrix_tab import VIEWS, WardMatrixTab

TITLE = "Community safety"
SEGMENT_LAYER_TITLE = "Segments"
STREET_SCALE = 2_500  # a visit picked in the list is shown at this scale ...
NEIGHBOURHOOD_SCALE = 10_000  # ... when the map showed more than this (or far less)
HTML_FILES, PDF_FILES = "HTML files (*.html)", "A4 PDF with the HTML beside it (*.pdf)"


def segmentation_of(layer) -> Path | None:
    """The saved segmentation GeoPackage a layer comes from, if it is one."""
    if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "ogr":
        return None
    path = Path(layer.source().split("|")[0])
    if path.suffix.lower() != ".gpkg" or not path.exists():
        return None
    try:
        names = {name for name, _ in pyogrio.list_layers(path)}
    except Exception:  # noqa: BLE001 (not a GeoPackage GDAL can read: not ours)
        return None
    return path if needed_tables() <= names else None


def segmentations_in_project() -> list[Path]:
    """The segmentation GeoPackages of the project's layers, in layer-tree order (top
    first), each once."""
    root = QgsProject.instance().layerTreeRoot()
    found: list[Path] = []
    for layer in root.layerOrder() + list(QgsProject.instance().mapLayers().values()):
        gpkg = segmentation_of(layer)
        if gpkg is not None and gpkg not in found:
            found.append(gpkg)
    return found


def no_segmentation_text(active) -> str:
    """What the dock says when the project holds no segmentation: which step makes one."""
    said = (f"The active layer, <b>{active.name()}</b>, is not part of a saved segmentation. "
            if active is not None else "")
    return (f"{said}No segmentation is loaded. Build one with <i>Plugins ▸ Community Safety "
            "Segmentation ▸ New segmentation…</i> (or <i>Build segmentation from a project "
            "file…</i>), or add a segmentation GeoPackage's Segments layer (<i>Layer ▸ Add "
            "Layer ▸ Add Vector Layer…</i>) and select it in the Layers panel.")


def targeting_needs(addresses: bool, incidents: bool) -> str:
    needs = [what for what, have in (("the address gazetteer joined (Processing ▸ Join "
                                      "segments to a gazetteer)", addresses),
                                     ("incidents profiled, e.g. dwelling fires (Processing ▸ "
                                      "Profile incidents by segment)", incidents)) if not have]
    return ("The visit list needs " + " and ".join(needs) + ": it scores addresses on their "
            "areas' incident counts.")


def _targets(gpkg: Path, folder: Path, settings: dict, progress):
    """The targeting step with the tab's settings (run in a task)."""
    from ...core.targeting.steps import TargetInputs, target_step
    from ...core.targeting.visit_list import TargetOptions, parse_segments

    progress(0.05, "reading the gazetteer and incidents")
    options = TargetOptions(capacity=settings["capacity"], wards=settings["wards"],
                            segments=parse_segments(settings["segments"]),
                            postcode_points=settings.get("postcode_points", False))
    inputs = TargetInputs(incident_table=settings["incident_table"],
                          visited=settings["visited"],
                          visited_months=settings["visited_months"],
                          flags=settings["flags"], flag_weights=settings["flag_weights"],
                          today=settings["today"])
    result, written = target_step(gpkg, folder, options, inputs, replace_folder=False)
    progress(1.0, "visit list written")
    return result, folder


def _service_users(gpkg: Path, settings: dict, progress):
    """The frequent-service-user step with the tab's settings (run in a task)."""
    from ...core.demand.steps import demand_job, summary_lines

    if not settings["project"]:
        raise InputError("choose the demand project file (a project file with a [demand] "
                         "section)")
    folder = Path(settings["folder"] or gpkg.parent / "service_users")
    result, _, key_source = demand_job(settings["project"], settings["key_file"], folder,
                                       segmentation=gpkg, replace_folder=False,
                                       progress=progress, run_date=settings["run_date"],
                                       top=settings["top"])
    lines = summary_lines(result)
    # the window, people and records; and who the shared views leave out, when anyone is
    left_out = [line for line in lines[3:] if line.startswith("Shared views")
                and "left out" in line]
    said = " ".join(as_sentence(line) for line in lines[:3] + left_out)
    return result, f"{said} Pseudonymised with {key_source}. Written to {folder}."


def as_sentence(line: str) -> str:
    """"Records read: 20000" -> "Records read: 20,000." (a whole number written as people
    read it, each line a sentence of its own)."""
    import re

    item, sep, value = line.partition(": ")
    value = value.strip()
    if sep and re.fullmatch(r"-?\d+(\.0+)?", value):
        value = f"{float(value):,.0f}"
    text = f"{item}{sep}{value}" if sep else line.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _report(gpkg: Path, out: Path, progress):
    """What the report wrote (``ReportFiles``: a PDF too when ``out`` ends in .pdf), and the
    line naming the sections it leaves out (or None)."""
    from ...core.report.html_report import missing_for_report
    from ...core.report.pdf import write_report_files

    progress(0.05, "drawing the maps and charts")
    return write_report_files(gpkg, out, THRESHOLD), missing_for_report(gpkg)


def _rename(gpkg: Path, names: dict, portraits: dict, progress):
    from ...core.segment.renaming import rename_segments

    progress(0.1, "saving the names")
    return rename_segments(gpkg, names, portraits)


class CommunitySafetyDock(QgsDockWidget):
    def __init__(self, iface, parent=None):
        super().__init__(TITLE, parent)
        self.setObjectName("CommunitySafetyDock")
        self.iface = iface
        self.gpkg: Path | None = None  # the segmentation shown
        self._reading: Path | None = None  # the one being read, to be shown
        self.seg = None
        self.contents: DockContents | None = None  # what is shown, as read
        self.area_wards = None
        self.matrices: dict = {}
        self.tasks: dict = {}  # what runs, by the tab (or button) that started it
        self.heading = QLabel("Select a layer of a saved segmentation (segments, wards or "
                              "addresses) to read it here.")
        self.heading.setWordWrap(True)
        self.report_button = QPushButton("Report…")
        self.report_button.setObjectName("dockReport")
        self.report_button.setToolTip("The partner report: one HTML file (or an A4 PDF), safe "
                                      "to share")
        self.report_button.clicked.connect(lambda: self.write_report())
        self.atlas_button = QPushButton("Ward atlas…")
        self.atlas_button.setObjectName("dockAtlas")
        self.atlas_button.setToolTip("A print layout with a page per ward, exported to PDF")
        self.atlas_button.clicked.connect(lambda: self.ward_atlas())
        self.segments = SegmentsTab()
        self.segments.save_requested.connect(self.save_names)
        self.segments.segment_selected.connect(self.select_segment)
        self.matrix = WardMatrixTab()
        self.matrix.cell_chosen.connect(self.select_cell)
        self.matrix.export_requested.connect(lambda m, v: self.export_matrix(m, v))
        self.targeting = TargetingTab()
        self.targeting.run_requested.connect(self.run_targeting)
        self.targeting.cancel_requested.connect(lambda: self.cancel("targeting"))
        self.targeting.export_requested.connect(lambda: self.export_for_crews())
        self.targeting.visit_chosen.connect(self.show_visit)
        self.visits_layer: QgsVectorLayer | None = None
        self.tabs = QTabWidget()
        self.tabs.addTab(self.segments, "Segments")
        self.tabs.addTab(self.matrix, "Ward matrix")
        self.tabs.addTab(self.targeting, "Targeting")
        self.service_users = ServiceUsersTab()
        self.service_users.run_requested.connect(self.run_service_users)
        self.service_users.cancel_requested.connect(lambda: self.cancel("service users"))
        self.tabs.addTab(self.service_users, "Service users")
        buttons = QHBoxLayout()
        buttons.addWidget(self.heading, 1)
        buttons.addWidget(self.report_button)
        buttons.addWidget(self.atlas_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(buttons)
        layout.addWidget(self.tabs, 1)
        self.setWidget(body)
        self._enable(False)
        # a bound method: Qt drops the connection when the dock is deleted
        iface.currentLayerChanged.connect(self._layer_changed)
        # shown again (the menu, its tab), or one of the plugin's Processing steps done:
        # the segmentation read again when a step has written to it meanwhile
        self.visibilityChanged.connect(lambda shown: shown and self.refresh_if_changed())
        from ..processing.base import FINISHED

        FINISHED.ran.connect(self._step_finished)

    # --- which segmentation ---
    def _enable(self, on: bool) -> None:
        for widget in (self.report_button, self.atlas_button, self.tabs):
            widget.setEnabled(on)

    def _layer_changed(self, *_) -> None:
        self.follow_active_layer()

    def _step_finished(self) -> None:
        # at the event loop's next turn: Processing loads its layers first
        QTimer.singleShot(0, self.refresh_if_changed)

    def changed_on_disk(self) -> bool:
        """Whether the segmentation shown was written to since it was read (a step run in
        Processing or on the command line added tables to it)."""
        return (self.gpkg is not None and self.contents is not None
                and file_stamp(self.gpkg) != self.contents.stamp)

    def refresh_if_changed(self) -> bool:
        """Read the segmentation shown again when its file has changed; whether it does."""
        if sip.isdeleted(self) or self._reading is not None or not self.changed_on_disk():
            return False
        if not self.gpkg.exists():
            return False
        self.set_segmentation(self.gpkg)
        return True

    def follow_active_layer(self) -> Path | None:
        """Show the active layer's segmentation; when the active layer is not one (or none is
        active) and the dock shows nothing yet, the first segmentation in the layer list;
        when the project holds none, say which step makes one. The segmentation shown is
        read again when its file has changed since. Returns the GeoPackage shown (or being
        read for showing)."""
        active = self.iface.activeLayer()
        gpkg = segmentation_of(active)
        current = self._reading or self.gpkg
        if gpkg is None and current is None:
            found = segmentations_in_project()
            if not found:
                self.heading.setText(no_segmentation_text(active))
                return None
            gpkg = found[0]
        if gpkg is not None and gpkg != current:
            self.set_segmentation(gpkg)
            return gpkg
        self.refresh_if_changed()
        return current

    def set_segmentation(self, gpkg: Path) -> None:
        """Show the segmentation in ``gpkg``: read in a task (``dock_contents``), the
        heading saying so meanwhile, then shown; a newer request wins over an older one."""
        gpkg = Path(gpkg)
        if gpkg.is_dir():
            gpkg = gpkg / GPKG_NAME
        if gpkg == self._reading:  # asked again (the layer added, then the dock opened)
            return
        self._reading = gpkg
        self._enable(False)
        self.heading.setText(f"Reading {gpkg.name}…")

        def wanted() -> bool:  # not closed meanwhile, nor another segmentation asked for
            return not sip.isdeleted(self) and self._reading == gpkg

        def done(contents):
            if wanted():
                self._reading = None
                self.show_contents(contents)

        def failed(message):
            if wanted():
                self._reading = None
                self.gpkg = None
                self.heading.setText(f"{gpkg.name}: cannot be read as a segmentation "
                                     f"({message}).")
                self._say(f"{gpkg.name}: cannot be read as a segmentation ({message})",
                          Qgis.Warning)

        run_task(f"{TITLE}: reading {gpkg.name}", read_contents, gpkg, on_done=done,
                 on_error=failed)

    def reading(self) -> bool:
        """Whether a segmentation is being read (the tabs wait for it)."""
        return self._reading is not None

    def show_contents(self, contents: DockContents) -> None:
        """Show what was read; the same segmentation read again (a step added to it) keeps
        the tabs' lists and settings, and brings in what the step added."""
        another = contents.gpkg != self.gpkg
        before = None if another else self.contents
        seg, layers, gpkg = contents.seg, contents.layers, contents.gpkg
        self.gpkg, self.seg, self.contents = gpkg, seg, contents
        SHOWN["segmentation"] = gpkg  # the Processing dialogs open on it
        self.matrices, self.area_wards = contents.matrices, contents.area_wards
        missing = contents.missing
        classified = int(seg.areas["segment"].notna().sum())
        areas = (f"{len(seg.areas):,} output areas" if classified == len(seg.areas) else
                 f"{classified:,} of {len(seg.areas):,} output areas classified")
        assigned = assigned_note(seg.manifest)  # a refresh says what it kept and moved
        self.heading.setText(f"<b>{seg.name}</b><br>{len(seg.summary)} segments, "
                             f"{areas} · {gpkg.name}"
                             + (f"<br>{html.escape(assigned, quote=False)}." if assigned else "")
                             + (f"<br><i>{missing}</i>" if missing else ""))
        self.heading.setToolTip(str(gpkg))
        self.segments.show_segmentation(seg)
        if another:  # no list of the last segmentation left in view; its segments first
            self.targeting.clear()
            # ticked for postcodes whose households are known (the project names a
            # households column): without them the capacity cannot count households
            self.targeting.set_postcode_points(
                contents.postcode_gazetteer
                and bool(seg.manifest.get("parameters", {}).get("households")))
            self.service_users.clear()
            self.tabs.setCurrentWidget(self.segments)
        self.matrix.show_matrices(self.matrices, contents.matrix_titles,
                                  contents.ward_names, seg.segment_names)
        if before is not None and ("addresses" not in before.layers
                                   or before.postcode_gazetteer != contents.postcode_gazetteer):
            self.targeting.set_postcode_points(contents.postcode_gazetteer)  # a new gazetteer
        incidents = contents.incidents
        chosen = self.targeting.incidents.currentData()
        self.targeting.show_incidents(incidents if "addresses" in layers else [])
        if chosen in incidents:  # read again: the kind chosen stays chosen
            self.targeting.incidents.setCurrentIndex(self.targeting.incidents.findData(chosen))
        if "addresses" not in layers or not incidents:
            self.targeting.status.setText(targeting_needs("addresses" in layers,
                                                          bool(incidents)))
        elif before is not None and not self.targeting.list.rowCount() and (
                "targeting" not in self.tasks):  # the steps it needed are done now
            self.targeting.status.setText("")
        self.service_users.set_shared(contents.shared)
        self._enable(True)
        self.atlas_button.setEnabled("wards" in layers)
        self.atlas_button.setToolTip(
            "A print layout with a page per ward, exported to PDF" if "wards" in layers else
            "Build the ward matrices first (Processing: Ward x segment matrices): the atlas "
            "has a page per ward")

    def segment_layer(self) -> QgsVectorLayer | None:
        return ensure_layer(self.gpkg, "segments", SEGMENT_LAYER_TITLE) if self.gpkg else None

    # --- the map ---
    def select_areas(self, expression: str, zoom: bool = True) -> int:
        layer = self.segment_layer()
        if layer is None:
            return 0
        layer.selectByExpression(expression, QgsVectorLayer.SetSelection)
        make_visible(layer)
        if zoom and layer.selectedFeatureCount():
            canvas = self.iface.mapCanvas()
            canvas.zoomToSelected(layer)
            canvas.refresh()
        return layer.selectedFeatureCount()

    def select_segment(self, number: int) -> int:
        return self.select_areas(f'"segment" = {int(number)}', zoom=False)

    def select_cell(self, ward, segment) -> int:
        """Select (and zoom to) the areas of a ward in a segment; None means all."""
        parts = []
        if ward is not None and self.area_wards is not None:
            codes = self.area_wards.index[self.area_wards["ward_code"] == ward]
            quoted = ",".join("'" + str(c).replace("'", "''") + "'" for c in codes)
            parts.append(f'"area_code" IN ({quoted or "NULL"})')
        if segment is not None:
            parts.append(f'"segment" = {int(segment)}')
        return self.select_areas(" AND ".join(parts) or "TRUE")

    # --- actions ---
    def _say(self, text: str, level=Qgis.Info) -> None:
        self.iface.messageBar().pushMessage(TITLE, text, level, 8)

    def save_names(self, names: dict, portraits: dict) -> None:
        def done(new):
            for table in ("segments", "addresses", "wards"):
                layer = layer_of(self.gpkg, table)
                if layer is not None:
                    reload_styled(layer, self.iface)
            self.set_segmentation(self.gpkg)
            self.segments.saved("Saved: the legend, ward labels and reports now use these "
                                "names.", True)

        self.start("segments", "Saving segment names", _rename, self.gpkg, names, portraits,
                   on_done=done, on_error=lambda message: self.segments.saved(message, False))

    def export_matrix(self, measure: str, view: str, path: Path | None = None) -> Path | None:
        """The shown matrix, suppressed as the partner export suppresses it, as CSV."""
        if not measure:
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export the table for partners",
                                                    f"{measure}.csv", "CSV files (*.csv)")
            if not chosen:
                return None
            path = Path(chosen)
        by = VIEWS.get(view)
        name = measure if by is None else f"{measure} {'row' if by == 'row' else 'col'} %"
        table = partner_table(safe_tables(self.matrices, THRESHOLD)[name],
                              self.seg.segment_names, self.matrix.ward_names)
        if self._written(path, lambda work: write_csv(table, work, index=False,
                                                      encoding="utf-8-sig")):
            self._say(f"Exported to {path}, counts of 1 to {THRESHOLD} suppressed.")
            return Path(path)
        return None

    def _written(self, path: Path, write) -> bool:
        """``write(temporary path)`` then the file moved into place; a failure (a full disk,
        no permission) said in the message bar, the earlier file left as it was."""
        from ...core.store.folders import atomic_file

        try:
            with atomic_file(Path(path)) as work:
                write(work)
            return True
        except OSError as err:
            self._say(f"{path}: not written ({err.strerror or err})", Qgis.Critical)
            return False

    def run_targeting(self, settings: dict) -> None:
        folder = Path(settings.get("folder") or self.gpkg.parent / "visits")
        try:
            settings = {**settings, "wards": self.ward_codes(settings["wards"])}
        except InputError as err:
            self.targeting.failed(str(err))
            return
        self.targeting.running(True)

        def done(result):
            targets, written = result
            self.targeting.show_list(targets.targets, targets.summary, written)
            # the map layer at the event loop's next turn: the list is painted first
            QTimer.singleShot(0, lambda: self.show_visits_layer(written / "target.gpkg"))

        self.start("targeting", "Home fire safety check list", _targets, self.gpkg, folder,
                   settings, on_done=done, on_error=self.targeting.failed,
                   on_progress=lambda f, _: self.targeting.progress.setValue(int(100 * f)))

    def ward_codes(self, typed: tuple) -> tuple:
        """The codes of the wards typed under "Only these wards", by name or code (either
        case), or InputError in words: what was typed that is not a ward, and some that
        are; without the wards matched, which step matches them."""
        if not typed:
            return ()
        if self.area_wards is None:
            raise InputError("Only these wards needs the ward of each area, which this "
                             f"segmentation does not have yet: add the {STEPS['wards']}.")
        return chosen_wards(typed, self.area_wards)

    def show_visits_layer(self, gpkg: Path) -> QgsVectorLayer | None:
        """The visits on the map: a layer already showing them reloads the new list (only
        then: a new layer is read once, with its stored style)."""
        layer = layer_of(gpkg, "target_addresses")
        if layer is not None:
            reload_styled(layer, self.iface)
        else:
            layer = ensure_layer(gpkg, "target_addresses", "Home fire safety check visits")
        self.visits_layer = layer
        return layer

    def show_visit(self, rank: int) -> bool:
        """The visit picked in the list selected on the map and brought into view: the map
        centred on it, at a street's scale (1:2,500) when it showed more than a
        neighbourhood (1:10,000) or less than a building's surroundings."""
        layer = self.visits_layer
        if layer is None or sip.isdeleted(layer) or not layer.isValid():  # removed by the user
            return False
        layer.selectByExpression(f'"rank" = {int(rank)}', QgsVectorLayer.SetSelection)
        if not layer.selectedFeatureCount():
            return False
        make_visible(layer)
        canvas = self.iface.mapCanvas()
        canvas.panToSelected(layer)
        if not STREET_SCALE / 2 <= canvas.scale() <= NEIGHBOURHOOD_SCALE:
            canvas.zoomScale(STREET_SCALE)
        canvas.refresh()
        return True

    def run_service_users(self, settings: dict) -> None:
        self.service_users.running(True)

        def done(outcome):
            result, said = outcome
            self.service_users.show_ranked(result.ranked, said)
            self.service_users.set_shared({f"demand_by_{by}": table
                                           for by, table in result.shared.items()})

        self.start("service users", "Frequent service users", _service_users, self.gpkg,
                   settings, on_done=done, on_error=self.service_users.failed,
                   on_progress=lambda f, _: self.service_users.progress.setValue(
                       int(100 * f)))

    def start(self, kind: str, description: str, function, *args, on_done=None,
              on_error=None, on_progress=None):
        """Run a step for a tab. One step at a time: each may add to the GeoPackage, so the
        other tabs' run buttons wait until it ends."""
        def ended(callback):
            def call(value):
                self.tasks.pop(kind, None)
                self._busy(False)
                if callback is not None:
                    callback(value)
            return call

        self._busy(True)
        task = run_task(description, function, *args, on_done=ended(on_done),
                        on_error=ended(on_error), on_progress=on_progress)
        self.tasks[kind] = task
        return task

    def _busy(self, on: bool) -> None:
        for button in (self.targeting.run, self.service_users.run, self.report_button):
            button.setEnabled(not on)
        if on:
            self.segments.save.setEnabled(False)

    def cancel(self, kind: str) -> None:
        task = self.tasks.get(kind)
        if task is not None:
            task.cancel()

    def export_for_crews(self, path: Path | None = None) -> Path | None:
        folder = Path(self.targeting.folder.filePath() or self.gpkg.parent / "visits")
        source = folder / "target_list.xlsx"
        if not source.exists():
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "Visit list for the crews",
                                                    "visits.xlsx", "Excel (*.xlsx)")
            if not chosen:
                return None
            path = Path(chosen)
        if self._written(path, lambda work: shutil.copyfile(source, work)):
            self._say(f"The visit list is in {path} (addresses: for the crews, not "
                      "partners).")
            return Path(path)
        return None

    def write_report(self, path: Path | None = None):
        if self.gpkg is None:
            return None
        if path is None:
            chosen, kind = QFileDialog.getSaveFileName(
                self, "Partner report", str(self.gpkg.parent / "report.html"),
                f"{HTML_FILES};;{PDF_FILES}")
            if not chosen:
                return None
            path = Path(chosen)
            if kind == PDF_FILES and path.suffix.lower() != ".pdf":
                path = path.with_suffix(".pdf")  # the PDF, printed from the HTML beside it
        self.report_button.setEnabled(False)

        def finished(text, level):
            self.report_button.setEnabled(True)
            self._say(text, level)

        def done(result):
            written, gaps = result
            out = written.main
            link = f'Report written: <a href="{Path(out).as_uri()}">{out}</a>'
            notes = [n[:1].upper() + n[1:]
                     for n in (written.no_pdf, written.unnumbered, gaps) if n]
            if notes:  # no browser for the PDF, pages unnumbered, a section left out: said
                said = html.escape(". ".join(notes), quote=False)
                finished(f"{link}. {said}.", Qgis.Warning)
            else:
                finished(link, Qgis.Success)

        return self.start("report", "Partner report", _report, self.gpkg, Path(path),
                          on_done=done,
                          on_error=lambda message: finished(message, Qgis.Critical))

    def ward_atlas(self):
        import processing

        return processing.execAlgorithmDialog("community_safety:wardatlas",
                                              {"SEGMENTATION": str(self.gpkg)})

