"""The dock's Ward matrix tab: the ward × segment table of a measure (areas, households,
residents, addresses, each incident type), as counts or row/column percentages, heat-shaded,
with ward names in the row headers, which stay in view while the segment columns scroll
sideways. Clicking a cell (or a ward's name: the whole ward) asks the dock to select and zoom
to those areas; the shown table exports suppressed, safe for partners."""

from __future__ import annotations

import pandas as pd
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.places.matrices import ALL_WARDS, TOTAL, percentages
from ...core.share.suppression import SUPPRESSED
from .qt_views import read_only_table, shade, text_item

HEADING_WRAP = 14  # characters per line of a segment column's heading


def segment_heading(number, name: str) -> str:
    """A segment column's heading: "n – name", wrapped onto short lines (at most three, the
    rest in the tooltip) so the columns stay narrow."""
    import textwrap

    nbsp = "\u00a0"  # "n – first word" stays on one line
    words = name.split(" ", 1) if name else []
    text = f"{number}{nbsp}–{nbsp}{nbsp.join(words[:1])}" + (f" {words[1]}" if len(words) > 1
                                                           else "")
    lines = textwrap.wrap(text if name else str(number), HEADING_WRAP,
                          break_long_words=False) or [str(number)]
    if len(lines) > 3:
        lines = [*lines[:2], textwrap.shorten(" ".join(lines[2:]), HEADING_WRAP,
                                              placeholder="…")]
    return "\n".join(lines).replace(nbsp, " ")


VIEWS = {"Counts": None, "% of the ward (row)": "row", "% of the segment (column)": "column"}


class WardMatrixTab(QWidget):
    """``cell_chosen(ward code or None, segment or None)``: None = all (a Total cell);
    ``export_requested(measure, view)``."""

    cell_chosen = pyqtSignal(object, object)
    export_requested = pyqtSignal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrices: dict[str, pd.DataFrame] = {}
        self.titles: dict[str, str] = {}
        self.ward_names: dict[str, str] = {}
        self.segment_names: dict[int, str] = {}
        self.measure = QComboBox()
        self.measure.setObjectName("matrixMeasure")
        self.view = QComboBox()
        self.view.setObjectName("matrixView")
        self.view.addItems(list(VIEWS))
        self.measure.currentIndexChanged.connect(self.refresh)
        self.view.currentIndexChanged.connect(self.refresh)
        self.table = read_only_table([])
        self.table.setObjectName("wardMatrix")
        self.table.setSelectionBehavior(self.table.SelectItems)
        self.table.cellClicked.connect(self._clicked)
        # the ward names head the rows: a row header never scrolls sideways, so the names
        # stay in view on a narrow screen while the user scrolls through the segments
        wards = self.table.verticalHeader()
        wards.setVisible(True)
        wards.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        wards.setToolTip("Click a ward's name to select and zoom to the whole ward")
        wards.sectionClicked.connect(lambda row: self._clicked(row, -1))
        self.export = QPushButton("Export this table for partners…")
        self.export.setObjectName("exportMatrix")
        self.export.setToolTip("Writes the table as CSV with small counts suppressed (as the "
                               "partner export does); the dock shows the unsuppressed counts")
        self.export.clicked.connect(lambda: self.export_requested.emit(
            self.current_measure() or "", self.view.currentText()))
        self.note = QLabel("Build the ward matrices first (Processing: Ward x segment "
                           "matrices, or `community-safety matrices`).")
        self.note.setWordWrap(True)
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Measure"))
        choose.addWidget(self.measure, 1)
        choose.addWidget(QLabel("Show"))
        choose.addWidget(self.view, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.export)

    def show_matrices(self, matrices: dict, titles: dict, ward_names: dict,
                      segment_names: dict) -> None:
        self.matrices, self.titles = matrices, titles
        self.ward_names, self.segment_names = ward_names, segment_names
        self.measure.blockSignals(True)
        self.measure.clear()
        for name in matrices:
            self.measure.addItem(titles.get(name, name), name)
        self.measure.blockSignals(False)
        self.export.setEnabled(bool(matrices))
        self.note.setVisible(not matrices)
        self.refresh()

    def current_measure(self) -> str | None:
        return self.measure.currentData()

    def shown_frame(self) -> pd.DataFrame | None:
        name = self.current_measure()
        if name is None:
            return None
        counts = self.matrices[name]
        by = VIEWS[self.view.currentText()]
        return counts if by is None else percentages(counts, by)

    def refresh(self) -> None:
        frame = self.shown_frame()
        if frame is None:
            self.table.setRowCount(0)
            return
        counts = self.matrices[self.current_measure()]
        segments = [c for c in frame.columns if c != TOTAL]
        headers = [*[segment_heading(s, self.segment_names.get(s, "")) for s in segments],
                   "Total"]
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        for column, segment in enumerate(segments):
            self.table.horizontalHeaderItem(column).setToolTip(
                f"{segment} – {self.segment_names.get(segment, '')}")
        self.table.setRowCount(len(frame))
        percent = VIEWS[self.view.currentText()] is not None
        for row, (ward, line) in enumerate(frame.iterrows()):
            name = ALL_WARDS if ward == TOTAL else self.ward_names.get(ward, ward)
            heading = QTableWidgetItem(name)
            heading.setToolTip(str(ward))
            self.table.setVerticalHeaderItem(row, heading)
            for column, key in enumerate([*segments, TOTAL]):
                value = line[key]
                text = (SUPPRESSED if pd.isna(value) else
                        f"{value:.1f}%" if percent else f"{value:,.0f}")
                item = text_item(text, align_right=True)
                if key != TOTAL and ward != TOTAL and counts.loc[ward, TOTAL] > 0:
                    shade(item, counts.loc[ward, key] / counts.loc[ward, TOTAL])
                self.table.setItem(row, column, item)

    def _clicked(self, row: int, column: int) -> None:
        """A cell: that ward in that segment; a Total cell or a ward's name (column -1): all."""
        frame = self.shown_frame()
        if frame is None or row >= len(frame):
            return
        ward = frame.index[row]
        segments = [c for c in frame.columns if c != TOTAL]
        segment = segments[column] if 0 <= column < len(segments) else None
        self.cell_chosen.emit(None if ward == TOTAL else ward, segment)
