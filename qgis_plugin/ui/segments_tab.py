"""The dock's Segments tab: one row per segment; the selected segment's pen portrait and
index chart, and its areas selected on the map; names and portraits editable and saved back
into the GeoPackage (the legend follows)."""

from __future__ import annotations

from qgis.PyQt.QtCore import Qt, QThreadPool, pyqtSignal
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.report.charts import index_chart
from ...core.report.html_report import ink_on
from ...core.segment.words import label_of
from ...core.styles import numbered_by_deprivation, segment_colour
from .qt_views import (
    PictureDrawer,
    percent,
    pixmap,
    read_only_table,
    text_item,
    whole_number,
)

COLUMNS = ["Segment", "Name", "Areas", "Households", "Share"]
NAME_COLUMN = 1
TIPS = ["Segment number: 1 = least deprived", "Double-click to edit the name",
        "Output areas in the segment", "Households in its areas",
        "Its share of the study area's households"]


class SegmentsTab(QWidget):
    """``save_requested(names, portraits)`` asks the dock to store the edits."""

    save_requested = pyqtSignal(dict, dict)
    segment_selected = pyqtSignal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.seg = None
        self.portraits: dict[int, str] = {}
        self.table = read_only_table(COLUMNS, stretch=NAME_COLUMN)
        self.table.setObjectName("segmentsTable")
        self.table.setWordWrap(True)
        for column, tip in enumerate(TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.itemChanged.connect(self._edited)
        self.portrait = QPlainTextEdit()
        self.portrait.setObjectName("segmentPortrait")
        self.portrait.setPlaceholderText("Select a segment to read (and edit) its pen portrait")
        self.portrait.textChanged.connect(self._portrait_edited)
        self.chart = QLabel("Select a segment to see its index scores")
        self.chart.setAlignment(Qt.AlignTop | Qt.AlignHCenter)
        self.picture = None  # the chart at full size; shown scaled to the dock's width
        self.drawer = PictureDrawer(index_chart, self)  # drawn off the main thread
        self.drawer.drawn.connect(self._drawn)
        scroll = QScrollArea()
        scroll.setWidget(self.chart)
        scroll.setWidgetResizable(True)
        self.scroll = scroll
        self.save = QPushButton("Save names and portraits")
        self.save.setObjectName("saveSegmentNames")
        self.save.setToolTip("Store the edited names and portraits in the segmentation's "
                             "GeoPackage: the legend, ward labels and reports use them")
        self.save.setEnabled(False)
        self.save.clicked.connect(self._save)
        self.status = QLabel("Double-click a name to edit it.")
        self.status.setWordWrap(True)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(QLabel("Pen portrait"))
        lower_layout.addWidget(self.portrait, 1)
        lower_layout.addWidget(QLabel("Index scores (100 = study-area average)"))
        lower_layout.addWidget(scroll, 3)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

    # --- showing ---
    def show_segmentation(self, seg) -> None:
        self.seg = seg
        self.table.horizontalHeaderItem(0).setToolTip(
            TIPS[0] if numbered_by_deprivation(seg.manifest) else
            "Segment number (it does not rank deprivation: no deprivation measure was used)")
        summary = seg.summary
        self.portraits = {int(n): ("" if p is None or p != p else str(p))
                          for n, p in summary.get("portrait", {}).items()}
        sizes = "households" if "households" in summary else None
        total = summary[sizes].sum() if sizes else summary["areas"].sum()
        header = self.table.horizontalHeaderItem(4)
        header.setText("Share" if sizes else "Share of areas")
        header.setToolTip(TIPS[4] if sizes else
                          "Its share of the study area's output areas (this segmentation "
                          "has no households column)")
        self.table.setColumnHidden(3, sizes is None)
        self.table.blockSignals(True)
        self.table.setRowCount(len(summary))
        for row, (number, line) in enumerate(summary.iterrows()):
            swatch = text_item(number, align_right=True)
            colour = segment_colour(number)
            swatch.setBackground(QColor(colour))
            swatch.setForeground(QColor(ink_on(colour)))
            self.table.setItem(row, 0, swatch)
            name = QTableWidgetItem(str(line["name"]))
            name.setFlags(name.flags() | Qt.ItemIsEditable)
            name.setToolTip(str(line["name"]))
            self.table.setItem(row, NAME_COLUMN, name)
            self.table.setItem(row, 2, text_item(whole_number(line["areas"]), True))
            self.table.setItem(row, 3, text_item(whole_number(line.get("households")), True))
            part = line[sizes] if sizes else line["areas"]
            self.table.setItem(row, 4, text_item(percent(part, total), True))
        self.table.resizeRowsToContents()
        self.table.setEditTriggers(self.table.DoubleClicked | self.table.EditKeyPressed)
        self.table.blockSignals(False)
        self.save.setEnabled(False)
        # the row still selected (read again after Save) keeps its portrait in view
        number = self.selected_segment()
        self.portrait.blockSignals(True)
        self.portrait.setPlainText(self.portraits.get(number, "") if number is not None else "")
        self.portrait.blockSignals(False)

    def selected_segment(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return int(self.table.item(rows[0].row(), 0).text())

    def select_segment(self, number: int) -> None:
        for row in range(self.table.rowCount()):
            if int(self.table.item(row, 0).text()) == number:
                self.table.selectRow(row)
                return

    def _selected(self) -> None:
        number = self.selected_segment()
        if number is None or self.seg is None:
            return
        self.portrait.blockSignals(True)
        self.portrait.setPlainText(self.portraits.get(number, ""))
        self.portrait.blockSignals(False)
        profiles = self.seg.profiles
        rows = profiles[(profiles["segment"] == number)
                        & profiles["variable"].isin(self.seg.clustered)]
        labels = {v: label_of(v, self.seg.labels) for v in rows["variable"]}
        bands = self.seg.manifest.get("parameters", {}).get("bands", {"high": 120, "low": 80})
        self.chart.setText("Drawing the index scores…")
        self.drawer.draw(rows.copy(), labels, bands["high"], bands["low"])
        self.segment_selected.emit(number)

    def _drawn(self, png: bytes) -> None:
        self.picture = pixmap(png)
        self._fit_chart()

    def _fit_chart(self) -> None:
        if self.picture is None:
            return
        # room for the vertical scroll bar, which a tall chart brings
        width = max(200, self.scroll.viewport().width()
                    - self.scroll.verticalScrollBar().sizeHint().width() - 4)
        # Qt scales smoothly on its global thread pool and waits for it, holding Python's
        # lock; the pool's threads may all be QGIS tasks waiting for that lock (a deadlock
        # seen on two cores, the dock reading the segmentation again after Save): one
        # thread more for the scaling's time
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(pool.maxThreadCount() + 1)
        try:
            scaled = self.picture.scaledToWidth(min(width, self.picture.width()),
                                                Qt.SmoothTransformation)
        finally:
            pool.setMaxThreadCount(pool.maxThreadCount() - 1)
        self.chart.setPixmap(scaled)

    def resizeEvent(self, event):  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_chart()

    # --- editing ---
    def names(self) -> dict[int, str]:
        return {int(self.table.item(r, 0).text()): self.table.item(r, NAME_COLUMN).text()
                for r in range(self.table.rowCount())}

    def _edited(self, item) -> None:
        if item.column() == NAME_COLUMN:
            self.save.setEnabled(True)
            self.status.setText("Names edited: press Save to store them.")

    def _portrait_edited(self) -> None:
        number = self.selected_segment()
        if number is not None:
            self.portraits[number] = self.portrait.toPlainText()
            self.save.setEnabled(True)
            self.status.setText("Portrait edited: press Save to store it.")

    def _save(self) -> None:
        self.save.setEnabled(False)
        self.status.setText("Saving…")
        self.save_requested.emit(self.names(), dict(self.portraits))

    def saved(self, message: str, ok: bool) -> None:
        self.status.setText(message)
        self.save.setEnabled(not ok)
