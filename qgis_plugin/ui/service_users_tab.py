"""The dock's Service users tab: the frequent-service-user step with its project file, key,
run date and list size → the ranked, pseudonymised list (ranks out of everyone on the four
metrics, home ward and segment) and the shared demand by segment and ward, the aggregate
view partners can act on."""

from __future__ import annotations

import pandas as pd
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from .qt_views import StepTab, file_widget, read_only_table, spin_box, text_item

RANKED = [("pseudonym", "Pseudonym"), ("overall rank", "Overall"),
          ("investigations and custody rank", "Investigations & custody"),
          ("originator rank", "Originator"), ("subject rank", "Subject"),
          ("home ward name", "Home ward"), ("segment", "Segment"), ("themes", "Themes")]
SHARED = {"By segment": "demand_by_segment", "By ward": "demand_by_ward"}
SHARED_COLUMNS = ("segment", "ward name", "residents", "people", "contacts",
                  "contacts per 1,000 residents", "share of all contacts %",
                  "share of its contacts by the top 1% of people %",
                  "share of its contacts by the top 5% of people %")


def shared_cell(column: str, value) -> str:
    """A shared-demand cell as people read it: counts with thousands separators (26,188),
    rates and shares to one decimal place, suppressed and text cells as they are."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, str) or isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if column.endswith("%") or "per 1,000" in column:
        return f"{number:,.1f}"
    return f"{number:,.0f}"


class ServiceUsersTab(StepTab):
    """``run_requested(settings)``, ``cancel_requested()``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.shared: dict[str, pd.DataFrame] = {}
        self.project = file_widget("demandProject", "Project files (*.toml)",
                                   "A project file with a [demand] section: the source "
                                   "tables and how each maps to the totals")
        self.key = file_widget("demandKey", tooltip="Your pseudonymisation key (a secret file "
                               "kept outside the project); empty: $COMMUNITY_SAFETY_KEY")
        self.run_date = QLineEdit()
        self.run_date.setPlaceholderText("the project's, else today (YYYY-MM-DD)")
        self.top = spin_box(1, 10_000, 100, suffix=" people per metric")
        self.folder = file_widget("demandFolder", folder=True)
        form = QFormLayout()
        form.addRow("Demand project", self.project)
        form.addRow("Key file", self.key)
        form.addRow("Run date", self.run_date)
        form.addRow("List the top", self.top)
        form.addRow("Output folder", self.folder)
        buttons = self.step_controls(
            "Rank the service users", "runDemand", "Pseudonymised: no name, date of birth, "
            "phone number or address goes past reading.")
        self.ranked = read_only_table([title for _, title in RANKED], stretch=len(RANKED) - 1)
        self.ranked.setObjectName("rankedServiceUsers")
        self.view = QComboBox()
        self.view.addItems(list(SHARED))
        self.view.currentIndexChanged.connect(self.show_shared)
        self.shared_table = read_only_table(["Shared demand"])
        self.shared_table.setObjectName("sharedDemand")
        shared_row = QHBoxLayout()
        shared_row.addWidget(QLabel("Shared demand (for partners, small counts suppressed)"))
        shared_row.addWidget(self.view)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.ranked, 2)
        layout.addLayout(shared_row)
        layout.addWidget(self.shared_table, 1)

    def settings(self) -> dict:
        return {"project": self.project.filePath() or None,
                "key_file": self.key.filePath() or None,
                "run_date": self.run_date.text().strip() or None, "top": self.top.value(),
                "folder": self.folder.filePath() or None}

    def running(self, on: bool, message: str = "Reading and pseudonymising the sources…"
                ) -> None:
        super().running(on, message)

    def show_ranked(self, ranked: pd.DataFrame, said: str) -> None:
        self.running(False)
        self.progress.setValue(100)
        self.status.setText(said)
        self.ranked.setRowCount(len(ranked))
        for row, line in enumerate(ranked.to_dict("records")):
            for column, (key, _) in enumerate(RANKED):
                value = line.get(key, "")
                text = "" if value is None or (isinstance(value, float) and pd.isna(value)) \
                    else (f"{value:.0f}" if isinstance(value, float) else value)
                self.ranked.setItem(row, column, text_item(
                    text, align_right=key.endswith("rank") or key == "segment"))

    def clear(self) -> None:
        """Another segmentation shown: the last one's ranked list leaves the view."""
        self.ranked.setRowCount(0)
        self.progress.setValue(0)
        self.status.setText("Pseudonymised: no name, date of birth, phone number or address "
                            "goes past reading.")

    def set_shared(self, tables: dict[str, pd.DataFrame]) -> None:
        self.shared = tables
        self.show_shared()

    def show_shared(self) -> None:
        table = self.shared.get(SHARED[self.view.currentText()])
        if table is None:
            self.shared_table.setRowCount(0)
            return
        columns = [c for c in SHARED_COLUMNS if c in table.columns]
        self.shared_table.clear()
        self.shared_table.setColumnCount(len(columns))
        self.shared_table.setHorizontalHeaderLabels([c[:1].upper() + c[1:] for c in columns])
        self.shared_table.setRowCount(len(table))
        for row, line in enumerate(table[columns].itertuples(index=False)):
            for column, (name, value) in enumerate(zip(columns, line)):
                self.shared_table.setItem(row, column, text_item(
                    shared_cell(name, value), align_right=column > 0))
