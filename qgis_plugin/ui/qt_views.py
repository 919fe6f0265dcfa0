"""Small pieces the dock's tabs (and the wizard's pages) share: number boxes, file choosers,
tables of text, heat shading, pictures, and finding the segmentation's layers in the QGIS
project."""

from __future__ import annotations

import threading
from pathlib import Path

from qgis.core import (
    QgsCoordinateTransform,
    QgsProject,
    QgsVectorLayer,
)
from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import QObject, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QPixmap
from qgis.PyQt.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ..layers import settle_project_crs
from .tasks import old_objects_set_aside

HEAT = (51, 34, 136)  # the report's heat colour: cells darker as their share grows


class StepTab(QWidget):
    """A tab that runs one engine step: its Run and Cancel buttons, a progress bar and a
    status line. ``run_requested(settings)`` carries the tab's ``settings()``."""

    run_requested = pyqtSignal(dict)
    cancel_requested = pyqtSignal()

    def step_controls(self, run_text: str, name: str, status: str = "") -> QHBoxLayout:
        self.run = QPushButton(run_text)
        self.run.setObjectName(name)
        self.run.clicked.connect(lambda: self.run_requested.emit(self.settings()))
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.cancel_requested.emit)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QLabel(status)
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        return buttons

    def settings(self) -> dict:
        raise NotImplementedError

    def running(self, on: bool, message: str = "Working…") -> None:
        self.run.setEnabled(not on)
        self.cancel.setEnabled(on)
        if on:
            self.progress.setValue(0)
            self.status.setText(message)

    def failed(self, message: str) -> None:
        """The step stopped: why, and the progress bar back at nothing."""
        self.running(False)
        self.progress.setValue(0)
        self.status.setText(message)


def spin_box(low: int, high: int, value: int, tooltip: str = "",
             suffix: str = "") -> QSpinBox:
    """A whole-number box from ``low`` to ``high`` showing ``value``."""
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tooltip)
    box.setSuffix(suffix)
    return box


def file_widget(name: str, filter_text: str = "", tooltip: str = "",
                folder: bool = False) -> QgsFileWidget:
    """A file (or, with ``folder``, a folder) chooser with its object name and tooltip."""
    widget = QgsFileWidget()
    widget.setObjectName(name)
    widget.setFilter(filter_text)
    widget.setToolTip(tooltip)
    if folder:
        widget.setStorageMode(QgsFileWidget.GetDirectory)
    return widget


def read_only_table(headers: list[str], stretch: int | None = None) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.Stretch)
    return table


def text_item(text, align_right: bool = False, tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem("" if text is None else str(text))
    item.setFlags(item.flags() & ~Qt.ItemIsEditable)
    if align_right:
        item.setTextAlignment(int(Qt.AlignRight | Qt.AlignVCenter))
    if tooltip:
        item.setToolTip(tooltip)
    return item


def _missing(value) -> bool:
    try:
        return value is None or value != value  # None or NaN
    except (TypeError, ValueError):
        return False


def whole_number(value) -> str:
    """A count as people read it (26,188); empty when it is not known (None or NaN)."""
    return "" if _missing(value) else f"{float(value):,.0f}"


def percent(part, whole, decimals: int = 1) -> str:
    """``part`` as a percentage of ``whole``; empty when either is unknown or ``whole`` is
    0."""
    if _missing(part) or _missing(whole) or not whole:
        return ""
    return f"{100 * float(part) / float(whole):.{decimals}f}%"


def shade(item: QTableWidgetItem, share: float | None) -> None:
    """Heat shading by a share from 0 to 1 (None: unshaded), white text on dark cells."""
    if share is None:
        return
    colour = QColor(*HEAT)
    colour.setAlphaF(0.08 + 0.8 * max(0.0, min(1.0, share)))
    item.setBackground(colour)
    if share > 0.45:
        item.setForeground(QColor("white"))


class PictureDrawer(QObject):
    """Draws a chart (``function(*args, **kwargs)`` -> PNG bytes, or an object carrying
    them, matplotlib) off the main thread: matplotlib takes 0.3-0.9 s, which froze the
    wizard and the dock at each segment clicked. ``draw(*args, **kwargs)`` starts a drawing;
    ``drawn(result)`` arrives on the main thread with the newest one; a drawing asked for
    while another runs waits for it, and only the last request is drawn."""

    drawn = pyqtSignal(object)

    def __init__(self, function, parent=None):
        super().__init__(parent)
        self.function = function
        self._lock = threading.Lock()
        self._wanted = None  # the newest request's arguments
        self._running = False

    def draw(self, *args, **kwargs) -> None:
        with self._lock:
            self._wanted = (args, kwargs)
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._work, name="chart", daemon=True).start()

    def busy(self) -> bool:
        with self._lock:
            return self._running

    def _work(self) -> None:
        while True:
            with self._lock:
                wanted, self._wanted = self._wanted, None
                if wanted is None:
                    self._running = False
                    return
            args, kwargs = wanted
            try:
                with old_objects_set_aside():  # no collection of QGIS's heap meanwhile
                    png = self.function(*args, **kwargs)
            except Exception:  # noqa: BLE001 (a chart that cannot be drawn: the table stays)
                continue
            with self._lock:
                newest = self._wanted is None
            if newest:
                try:
                    self.drawn.emit(png)
                except RuntimeError:  # the wizard was closed meanwhile
                    return


def pixmap(png: bytes) -> QPixmap:
    picture = QPixmap()
    picture.loadFromData(png, "PNG")
    return picture


def layer_of(gpkg: Path, table: str) -> QgsVectorLayer | None:
    """The project's layer showing ``table`` of this GeoPackage, if one is loaded: of
    several (a print layout's own copy, say), the one shown, highest in the layer tree."""
    found = layers_of(gpkg, table)
    return found[0] if found else None


def layers_of(gpkg: Path, table: str) -> list[QgsVectorLayer]:
    """Every layer of the project showing ``table`` of this GeoPackage: those shown first,
    then by their place in the layer tree (highest first)."""
    wanted = str(Path(gpkg).resolve())
    root = QgsProject.instance().layerTreeRoot()
    order = {layer.id(): i for i, layer in enumerate(root.layerOrder())}
    found = []
    for layer in QgsProject.instance().mapLayers().values():
        if not isinstance(layer, QgsVectorLayer):
            continue
        parts = layer.source().split("|")
        name = next((p.split("=", 1)[1] for p in parts[1:] if p.startswith("layername=")),
                    None)
        try:
            same = str(Path(parts[0]).resolve()) == wanted
        except OSError:
            same = False
        if same and name == table:
            node = root.findLayer(layer.id())
            shown = node is not None and node.isVisible()
            found.append((not shown, order.get(layer.id(), len(order)), layer))
    return [f[2] for f in sorted(found, key=lambda f: f[:2])]


def make_visible(layer) -> None:
    """The layer ticked on in the layers panel, and every group holding it: the user must
    see what is selected on it."""
    node = QgsProject.instance().layerTreeRoot().findLayer(layer.id())
    if node is not None and not node.isVisible():
        node.setItemVisibilityChecked(True)
        parent = node.parent()
        while parent is not None:
            parent.setItemVisibilityChecked(True)
            parent = parent.parent()


def ensure_layer(gpkg: Path, table: str, title: str) -> QgsVectorLayer | None:
    """The project's layer of ``table``, added styled (its stored style) when missing."""
    layer = layer_of(gpkg, table)
    if layer is not None:
        return layer
    layer = QgsVectorLayer(f"{gpkg}|layername={table}", title, "ogr")
    if not layer.isValid():
        return None
    layer.loadDefaultStyle()
    settle_project_crs(layer)
    QgsProject.instance().addMapLayer(layer)
    return layer


def reload_styled(layer: QgsVectorLayer, iface=None) -> None:
    """After the GeoPackage changed under a layer: new attributes, stored style, legend."""
    layer.dataProvider().reloadData()
    layer.reload()
    layer.loadDefaultStyle()
    layer.triggerRepaint()
    view = getattr(iface, "layerTreeView", None) if iface is not None else None
    if callable(view) and view() is not None:
        view().refreshLayerSymbology(layer.id())


def zoom_to_layer(canvas, layer, margin: float = 0.05) -> bool:
    """Show the whole of ``layer`` on ``canvas``, whatever the project's CRS (its extent
    transformed to the canvas's CRS: a British National Grid extent read as degrees sends
    the map off the globe). Returns whether the canvas moved."""
    if canvas is None or layer is None or not layer.isValid():
        return False
    project = QgsProject.instance()
    if project.crs().isValid() and canvas.mapSettings().destinationCrs() != project.crs():
        canvas.setDestinationCrs(project.crs())  # the desktop app's canvas follows it itself
    extent = layer.extent()
    if extent.isEmpty():
        return False
    destination = canvas.mapSettings().destinationCrs()
    if destination.isValid() and layer.crs().isValid() and destination != layer.crs():
        transform = QgsCoordinateTransform(layer.crs(), destination, project)
        extent = transform.transformBoundingBox(extent)
    extent.scale(1 + 2 * margin)
    canvas.setExtent(extent)
    canvas.refresh()
    return True
