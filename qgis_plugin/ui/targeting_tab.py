"""The dock's Targeting tab: capacity, visits already made, partner flags, ward and segment
filters → the targeting step (in a task) → the visit list with its reasons, and the target
layer on the map; "Export for crews" saves the list as a workbook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from ...core.targeting.reasons import NOT_CLASSIFIED
from ...core.targeting.steps import figure_text
from .qt_views import StepTab, file_widget, read_only_table, spin_box, text_item

TABLES = "CSV files (*.csv);;Excel (*.xlsx)"
SHOWN = [("rank", "Rank"), ("ward_name", "Ward"), ("address_id", "Address"),
         ("households", "House-\nholds"), ("segment", "Seg."),
         ("priority_label", "Priority"), ("why", "Why")]
# the short columns' widths in characters (the reason takes the rest, wrapped), so the
# reason is in view in a dock a third of a 1366-pixel screen wide; where the list shows
# households (postcode points) they take the segment's place (the segment is in the
# reason under the list)
WIDTHS = {"rank": 4, "ward_name": 11, "address_id": 8, "households": 4, "segment": 3,
          "priority_label": 7}
TIPS = {"rank": "1 = the first to visit (highest expected fires; per household where the "
                "capacity counts households)",
        "households": "Households at the postcode (its share of its output area's)",
        "segment": "The segment of the address's output area"}
COLUMN = {key: i for i, (key, _) in enumerate(SHOWN)}
POSTCODE_POINTS = "The gazetteer is postcode points (capacity in households)"
UNITS = {True: " households", False: " visits"}  # what the capacity counts


class TargetingTab(StepTab):
    """``run_requested(settings: dict)``, ``cancel_requested()``, ``export_requested()``,
    ``visit_chosen(rank: int)``."""

    export_requested = pyqtSignal()
    visit_chosen = pyqtSignal(int)  # the rank of the visit the user picked in the list

    def __init__(self, parent=None):
        super().__init__(parent)
        self.capacity = spin_box(1, 1_000_000, 500, suffix=" visits")
        self.capacity.setObjectName("targetCapacity")
        self.postcode_points = QCheckBox(POSTCODE_POINTS)
        self.postcode_points.setObjectName("targetPostcodePoints")
        self.postcode_points.setToolTip(
            "Each point of the gazetteer is a postcode holding its share of its output "
            "area's households: the capacity counts households and the list is ranked by "
            "expected fires per household (it needs the households known: the project's "
            "[sizes] households). Off: each point is one address, one visit.")
        self.postcode_points.toggled.connect(
            lambda on: self.capacity.setSuffix(UNITS[on]))
        self.incidents = QComboBox()
        self.incidents.setObjectName("targetIncidents")
        self.incidents.setToolTip("The stored incident profile whose counts score the areas")
        self.visited = file_widget("targetVisited", TABLES,
                                   "Visits already made: a table with id and date")
        self.visited_months = spin_box(0, 120, 12, suffix=" months")
        self.flags = file_widget("targetFlags", TABLES, "Partner flags: a table with id and flag")
        self.flag_weights = QLineEdit()
        self.flag_weights.setPlaceholderText("e.g. over_75_alone=2, smoker=1.5")
        self.wards = QLineEdit()
        self.wards.setPlaceholderText("all wards, or ward names or codes, comma separated")
        self.wards.setToolTip("e.g. Bellingham, Catford South (or their codes, E05000437…)")
        self.segments = QLineEdit()
        self.segments.setPlaceholderText("all segments, or e.g. 8, 9, 10")
        self.today = QLineEdit()
        self.today.setPlaceholderText("today (YYYY-MM-DD)")
        self.folder = file_widget("targetFolder", tooltip="Where the list, its layer and "
                                  "summary are written", folder=True)
        self.settings_box = QgsCollapsibleGroupBox("Settings")
        self.settings_box.setObjectName("targetSettings")
        form = QFormLayout(self.settings_box)
        form.addRow("Capacity", self.capacity)
        form.addRow("", self.postcode_points)
        form.addRow("Incidents", self.incidents)
        form.addRow("Visits already made", self.visited)
        form.addRow("Leave out visits within", self.visited_months)
        form.addRow("Partner flags", self.flags)
        form.addRow("Flag weights", self.flag_weights)
        form.addRow("Only these wards", self.wards)
        form.addRow("Only these segments", self.segments)
        form.addRow("Count visits back from", self.today)
        form.addRow("Output folder", self.folder)

        buttons = self.step_controls("Make the visit list", "runTargeting")
        self.export = QPushButton("Export for crews…")
        self.export.setObjectName("exportForCrews")
        self.export.setEnabled(False)
        self.export.clicked.connect(self.export_requested.emit)
        buttons.addWidget(self.export)
        self.list = read_only_table([title for _, title in SHOWN], stretch=len(SHOWN) - 1)
        self.list.setObjectName("targetList")
        self.list.setWordWrap(False)  # a line per visit; the selected one's reason in full below
        self.filling = False  # the list being filled: its first row selected, not picked
        self.list.itemSelectionChanged.connect(self._show_reason)
        # a click on a visit shows it on the map even when it is already the one selected
        self.list.cellClicked.connect(lambda row, _column: self._picked(row))
        self.reason = QLabel()
        self.reason.setObjectName("targetReason")
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextSelectableByMouse)
        header = self.list.horizontalHeader()
        width = self.list.fontMetrics().averageCharWidth()
        for column, (key, title) in enumerate(SHOWN):
            if key in WIDTHS:
                header.setSectionResizeMode(column, QHeaderView.Interactive)
                heading = max(header.fontMetrics().horizontalAdvance(line)
                              for line in title.split("\n")) + 2 * width
                self.list.setColumnWidth(column, max((WIDTHS[key] + 2) * width, heading))
            if key in TIPS:
                self.list.horizontalHeaderItem(column).setToolTip(TIPS[key])
        layout = QVBoxLayout(self)
        layout.addWidget(self.settings_box)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.reason)

    def clear(self) -> None:
        """Another segmentation shown: no visit list of the last one left in view."""
        self.list.setRowCount(0)
        self.reason.setText("")
        self.progress.setValue(0)
        self.export.setEnabled(False)
        self.settings_box.setCollapsed(False)
        self.status.setText("")

    def _show_reason(self) -> None:
        rows = self.list.selectionModel().selectedRows() if self.list.selectionModel() else []
        if not rows:
            self.reason.setText("")
            return
        row = rows[0].row()
        item = self.list.item(row, len(SHOWN) - 1)
        rank = self.list.item(row, 0)
        self.reason.setText(f"<b>Visit {rank.text() if rank else ''}</b>: "
                            f"{item.text() if item else ''}")
        if not self.filling:  # a visit picked (keys or mouse), not the list shown
            self._picked(row)

    def _picked(self, row: int) -> None:
        rank = self.list.item(row, 0)
        if rank is not None:
            self.visit_chosen.emit(int(rank.text()))

    def set_postcode_points(self, on: bool) -> None:
        """The gazetteer's kind as judged from its IDs (postcodes or not), for a newly
        shown segmentation; the user may change it."""
        self.postcode_points.setChecked(on)
        self.capacity.setSuffix(UNITS[on])

    def show_incidents(self, names: list[str]) -> None:
        self.incidents.clear()
        for name in names:
            self.incidents.addItem(name.replace("_", " "), name)
        self.run.setEnabled(bool(names))
        if not names:
            self.status.setText("Profile incidents first (e.g. dwelling fires): targeting "
                                "scores areas on their incident counts.")

    def settings(self) -> dict:
        return {"capacity": self.capacity.value(), "incident_table": self.incidents.currentData(),
                "postcode_points": self.postcode_points.isChecked(),
                "visited": self.visited.filePath() or None,
                "visited_months": self.visited_months.value(),
                "flags": self.flags.filePath() or None,
                "flag_weights": self.flag_weights.text().strip() or None,
                "wards": tuple(w.strip() for w in self.wards.text().split(",") if w.strip()),
                "segments": self.segments.text().strip() or None,
                "today": self.today.text().strip() or None,
                "folder": self.folder.filePath() or None}

    def running(self, on: bool, message: str = "Scoring the addresses…") -> None:
        super().running(on, message)

    def show_list(self, targets: pd.DataFrame, summary: pd.DataFrame, folder: Path) -> None:
        """The list in rank order (the file for crews is by ward and area), the settings
        folded away so the list has the room."""
        self.running(False)
        self.progress.setValue(100)
        if "rank" in targets.columns:
            targets = targets.sort_values("rank", kind="stable")
        self.settings_box.setCollapsed(True)
        self.filling = True
        try:
            self._fill(targets)
        finally:
            self.filling = False
        said = {measure: figure_text(value) for measure, value in
                zip(summary["measure"], summary["value"])}
        postcodes = "households on the list" in said  # the gazetteer is postcode points
        listed = (f"{said['households on the list']} households at {len(targets):,} "
                  "postcodes" if postcodes else f"{len(targets):,} visits (one per address)")
        self.list.horizontalHeaderItem(COLUMN["address_id"]).setText(
            "Postcode" if postcodes else "Address")
        places = "postcodes" if postcodes else "addresses"
        left_out = said.get(f"excluded: {NOT_CLASSIFIED}")
        unclassified = (f" {left_out} {places} of the {said[f'{places} in the gazetteer']} "
                        "are left out: they are in output areas left without a segment "
                        "(no data in the tables for those areas; see the build's note)."
                        if left_out and f"{places} in the gazetteer" in said else "")
        self.status.setText(
            f"{listed} in {said.get('areas', '?')} output areas and "
            f"{said.get('wards', '?')} wards; they cover "
            f"{said.get('share of eligible expected fires covered (%)', '?')}% of the expected "
            f"fires.{unclassified} Written to {folder}.")
        known = not ("households" not in targets or targets["households"].isna().all())
        self.list.setColumnHidden(COLUMN["households"], not known)
        self.list.setColumnHidden(COLUMN["segment"], known)
        self.export.setEnabled(True)

    def _fill(self, targets: pd.DataFrame) -> None:
        """The list's rows, its first selected (which moves no map: not a visit picked)."""
        self.list.setRowCount(len(targets))
        for row, line in enumerate(targets.itertuples(index=False)):
            values = line._asdict()
            for column, (key, _) in enumerate(SHOWN):
                value = values.get(key, "")
                if key == "households" and not pd.isna(value):
                    value = f"{value:,.0f}"
                self.list.setItem(row, column, text_item(
                    "" if pd.isna(value) else value,
                    align_right=key in ("rank", "households", "segment"),
                    tooltip=str(values.get("why", "")) if key == "why" else ""))
        self.list.scrollToTop()
        if len(targets):
            self.list.selectRow(0)
