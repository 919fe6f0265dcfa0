"""Wizard page 5: build the segmentation into a GeoPackage, with progress and Cancel; the
styled segments layer goes on the map."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProject, QgsVectorLayer
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ...core.errors import InputError
from ...core.progress import scaled
from ...core.segment.build import build_segmentation
from ...core.segment.saved import save_segmentation_as
from ...core.store.names import SEGMENT_LAYER
from ..layers import DefaultStyle, settle_project_crs
from .qt_views import layers_of, zoom_to_layer
from .wizard_common import Page, counted


def run_segmentation(project, gpkg: Path, prepared, plots: bool, progress):
    """Build and save: nothing is written unless the whole segmentation is built and saved
    (``save_segmentation_as`` replaces each file atomically; a cancel stops before)."""
    seg = build_segmentation(project, scaled(progress, 0.0, 0.85), prepared)
    save_segmentation_as(seg, gpkg, plots=plots, progress=scaled(progress, 0.85, 1.0))
    return seg


def run_outcome(seg, gpkg: Path) -> tuple[str, str]:
    """What the Run page says once the segmentation is saved, and how (``ok``, or
    ``warning`` when a segment is under the project's share of the areas, as the command
    line flags it)."""
    summary = seg.summary
    done = (f"Done: {int(summary['areas'].sum()):,} areas in {len(summary)} segments, saved "
            f"to {gpkg}. The styled segments layer is on the map.")
    from ...core.segment.build import unclassified_note
    from ...core.segment.notes import constant_counts_note, labels_note, set_aside_note

    unclassified = unclassified_note(seg.manifest)
    if unclassified:
        done = f"{done} {unclassified}."
    notes = [note for note in (set_aside_note(seg.manifest), constant_counts_note(seg.manifest),
                               labels_note(seg.manifest, "wizard")) if note]
    for note in notes:
        done = f"{done} {note}."
    starts = seg.manifest.get("results", {}).get("random_starts_note")
    if starts:  # the best found by one start only: more starts may find a better one
        done = f"{done} {starts[:1].upper()}{starts[1:]}" + ("" if starts.endswith(".")
                                                             else ".")
    small = seg.manifest.get("results", {}).get("small_segments", [])
    if small:
        share = seg.manifest.get("parameters", {}).get("min_share", 2.0)
        listed = ", ".join(f"segment {s['segment']} ({s['areas']} "
                           f"area{'' if s['areas'] == 1 else 's'}, {s['share_of_areas']:g}%)"
                           for s in small)
        return (f"{done} Small segments, under {share:g}% of the areas: {listed}. They are "
                "rarely a target group: go Back to page 4 and clip extreme values at ± 3 "
                "(Advanced) so that a few extreme areas stop forming a segment of their "
                "own, or choose a smaller k.", "warning")
    return done, "warning" if unclassified or starts or notes else "ok"


def add_segment_layer(gpkg: Path, name: str = "Segments") -> QgsVectorLayer:
    """The saved segments layer on the map, styled from its GeoPackage (as Processing loads
    it: ``layers.DefaultStyle``). A segments layer of the same file already on the map (an
    earlier run's, its legend that run's names) is replaced, the new one where it was in
    the Layers panel."""
    layer = QgsVectorLayer(f"{gpkg}|layername={SEGMENT_LAYER}", name, "ogr")
    if not layer.isValid():
        raise InputError(f"{gpkg}: the segments layer cannot be opened")
    DefaultStyle().postProcessLayer(layer, None, None)
    settle_project_crs(layer)
    project = QgsProject.instance()
    root = project.layerTreeRoot()
    old = layers_of(gpkg, SEGMENT_LAYER)
    node = root.findLayer(old[0].id()) if old else None
    if node is None:
        project.addMapLayer(layer)
    else:  # in the old one's place: its group, its position
        parent = node.parent()
        project.addMapLayer(layer, False)
        parent.insertLayer(parent.children().index(node), layer)
    for stale in old:
        project.removeMapLayer(stale.id())
    return layer


class RunPage(Page):
    def __init__(self, wizard):
        super().__init__(wizard, "5. Run",
                         "Build the segmentation and save it as a GeoPackage (with its "
                         "tables, a manifest and box plots beside it). The styled segments "
                         "layer is then added to the map.")
        self.task = None
        self.result = None  # the GeoPackage written
        self.built_from: dict | None = None  # the pages' settings the last run was started with
        self.layer = None

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.output = QgsFileWidget()
        self.output.setStorageMode(QgsFileWidget.SaveFile)
        self.output.setFilter("GeoPackage (*.gpkg)")
        self.output.setDialogTitle("Save the segmentation as")
        self.output.setConfirmOverwrite(True)
        self.plots = QCheckBox("Draw box plots of every variable beside it (slower)")
        self.plots.setChecked(True)
        form = QFormLayout()
        form.addRow("Save the segmentation to:", self.output)
        form.addRow("", self.plots)

        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel the run")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        self.status = self.message_label()

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.output.fileChanged.connect(lambda _t: self._ready())
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)

    def initializePage(self):  # noqa: N802
        try:
            project = self.wiz.project()
        except InputError as err:
            self.summary.setText(str(err))
            return
        tables = ", ".join(spec.path.name for spec in project.tables)
        prepared = self.wiz.prepared(project)
        variables = (f"{len(prepared.clustered)} variables kept by the screening"
                     if prepared is not None else "the variables the screening keeps")
        self.summary.setText(
            f"<b>{project.name}</b>: the areas of {project.boundaries.name} (field "
            f"{project.boundary_code}) with {counted(len(project.tables), 'table')} ({tables}); "
            f"{variables}; <b>{project.k} segments</b> by k-means with {project.n_init:,} "
            f"random starts (seed {project.seed}), numbered "
            + (f"from least to most deprived by {project.deprivation}."
               if project.deprivation else "by the first principal component."))
        if not self.output.filePath():
            folder = (self.wiz.project_path or project.boundaries).parent
            self.output.setFilePath(str(folder / "segmentation.gpkg"))
        if self.result is not None and self.wiz.settings() != self.built_from:
            # back here after changing a page: what was built is not what the pages say
            self.show_message(self.status, f"The settings have changed since the run that "
                              f"saved {self.result}: Run again to build them.", "warning")
            self.result = None
            self.completeChanged.emit()
        self._ready()

    def _ready(self):
        self.run_button.setEnabled(self.task is None and bool(self.output.filePath()))

    def output_path(self) -> Path | None:
        text = self.output.filePath()
        if not text:
            return None
        path = Path(text)
        return path if path.suffix.lower() == ".gpkg" else path.with_suffix(".gpkg")

    def start(self):
        if self.task is not None:
            return
        gpkg = self.output_path()
        if gpkg is None:
            self.show_message(self.status, "Choose where to save the segmentation.", "error")
            return
        project = self.project_or_error(self.status)
        if project is None:
            return
        self.result = None
        self.built_from = self.wiz.settings()  # what the pages said when Run was pressed
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.show_message(self.status, "Building the segmentation…")
        self.task = self.wiz.run("building the segmentation", run_segmentation, project,
                                 gpkg, self.wiz.prepared(project), self.plots.isChecked(),
                                 on_done=lambda seg: self._done(seg, gpkg),
                                 on_error=self._failed, on_progress=self._progress)
        self.completeChanged.emit()

    def cancel(self):
        if self.task is not None:
            self.cancel_button.setEnabled(False)
            self.show_message(self.status, "Cancelling…")
            self.task.cancel()

    def _progress(self, fraction, message):
        if self.task is None:
            return
        self.progress.setValue(int(100 * fraction))
        if message:
            self.show_message(self.status, f"{message[:1].upper()}{message[1:]}…")

    def _done(self, seg, gpkg: Path):
        """The run's outcome at once; then, each at a turn of the event loop of its own so
        that the window answers between them, the layer added, the map zoomed to it and the
        dock opened on the segmentation."""
        self.task = None
        self.cancel_button.setEnabled(False)
        self._ready()
        self.progress.setValue(100)
        self.result = gpkg
        self.show_message(self.status, *run_outcome(seg, gpkg))
        self.completeChanged.emit()
        QTimer.singleShot(0, lambda: self._add_layer(gpkg))

    def _add_layer(self, gpkg: Path):
        try:
            self.layer = add_segment_layer(gpkg)
        except InputError as err:
            self.show_message(self.status, str(err), "error")
            return
        QTimer.singleShot(0, lambda: self._show(gpkg))

    def _show(self, gpkg: Path):
        if self.wiz.iface is not None:
            zoom_to_layer(self.wiz.iface.mapCanvas(), self.layer)
        QTimer.singleShot(0, lambda: self.wiz.segmentation_ready.emit(str(gpkg)))

    def _failed(self, message: str):
        self.task = None
        self.cancel_button.setEnabled(False)
        self._ready()
        self.progress.setValue(0)
        self.show_message(self.status, message, "warning" if message.startswith("Cancelled")
                          else "error")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        """Finish only once a run has built the segmentation: before, Finish would close
        the wizard having built nothing."""
        return self.task is None and self.result is not None

    def fill(self, project) -> None:
        self.output.setFilePath("")
        self.result = None
        self.progress.setValue(0)
        self.show_message(self.status, "")
