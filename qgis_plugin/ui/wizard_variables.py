"""Wizard page 3: the candidate variables screened live, forced in or out, standardised."""

from __future__ import annotations

import re

from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QColor, QFont
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHeaderView,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...core.errors import InputError
from ...core.project.rules import ScreeningRules
from ...core.segment.prepare import SET_ASIDE, not_a_candidate, prepare
from .qt_views import spin_box, text_item
from .wizard_common import (
    NONE,
    Page,
    form_box,
    name_items,
    named,
    select,
    set_items,
    side_by_side,
    table_widget,
)
from .wizard_counts import HOUSEHOLDS, RESIDENTS, guess_size

STANDARDISE = [("zscore", "z-scores", "mean 0, standard deviation 1 (the usual choice)"),
               ("range", "range 0 to 1", "each variable scaled to 0..1"),
               ("ihs_range", "IHS, then range 0 to 1",
                "inverse hyperbolic sine, then 0..1: the UK Output Area Classification")]
MISSING = [("median", "filled with the median", "the variable's median; counted per variable "
            "(an area with no value at all is left unclassified)"),
           ("drop", "area left unclassified", "the area gets no segment")]
DIRECTION = [("lower", "a lower value (IMD rank)", "e.g. an IMD rank: 1 is the most deprived"),
             ("higher", "a higher value (IMD score)", "e.g. an IMD score")]
COLUMNS = ["Variable", "Description", "Screening", "Why (correlation partner)", "Force\nin",
           "Force\nout"]
FORCE_IN, FORCE_OUT = 4, 5
WHY = 3
NO_DEPRIVATION = "(none: principal component)"  # segments numbered by it
_DEPRIVATION = re.compile(r"imd|depriv|rank|score", re.IGNORECASE)


class VariablesPage(Page):
    def __init__(self, wizard):
        super().__init__(wizard, "3. Variables",
                         "Every candidate variable, screened: one of each highly correlated "
                         "pair, binary variables and variables with too small a range are "
                         "dropped, each with its reason. Tick to force a variable in or out.")
        self.force_in: list = []
        self.force_out: list = []
        self.prepared = None
        self.error = ""
        self.task = None
        self._pending = False
        self._roles_set = False
        self._columns: list = []
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.screen)

        self.status = self.message_label()
        self.table = table_widget(COLUMNS)
        self.table.setMinimumHeight(260)

        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.05, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(0.8)
        self.min_distinct = spin_box(1, 1000, 5)
        self.min_range = QDoubleSpinBox()
        self.min_range.setRange(0.0, 1e9)
        self.min_range.setDecimals(2)
        self.standardise = QComboBox()
        self.missing = QComboBox()
        self.direction = QComboBox()
        for combo, choices in ((self.standardise, STANDARDISE), (self.missing, MISSING),
                               (self.direction, DIRECTION)):
            for index, (value, text, tip) in enumerate(choices):
                combo.addItem(text, value)
                combo.setItemData(index, tip, Qt.ToolTipRole)
            combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)  # short choices, whole
        rules = form_box("Screening and standardisation",
                         ("Drop one of a pair if |r| >", self.threshold),
                         ("Fewest distinct values:", self.min_distinct),
                         ("Smallest range (max − min):", self.min_range),
                         ("Standardise as:", self.standardise),
                         ("A missing value is:", self.missing))

        self.deprivation = QComboBox()
        self.deprivation.setToolTip("Segments are numbered 1..k from least to most deprived "
                                    "by the mean of this measure (with none, along the data's "
                                    "first principal component)")
        self.residents = QComboBox()
        self.households = QComboBox()
        for combo in (self.deprivation, self.residents, self.households):  # column names
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        roles = form_box("Numbering and sizes", ("Deprivation measure:", self.deprivation),
                         ("More deprived means:", self.direction),
                         ("Residents column:", self.residents),
                         ("Households column:", self.households))

        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(side_by_side(rules, roles))

        for widget in (self.threshold, self.min_range):
            widget.valueChanged.connect(lambda _v: self.changed())
        self.min_distinct.valueChanged.connect(lambda _v: self.changed())
        for combo in (self.standardise, self.missing, self.deprivation, self.direction,
                      self.residents, self.households):
            combo.currentIndexChanged.connect(lambda _i: self.changed())
        self.table.itemChanged.connect(self._ticked)

    # --- running the screening -------------------------------------------------------------

    def initializePage(self):  # noqa: N802 (Qt's name)
        self.screen()

    def changed(self):
        self.prepared = None
        self.completeChanged.emit()
        self.timer.start()

    def screen(self):
        """Run ``prepare`` (reading the data only if the tables changed) in the background."""
        self.timer.stop()
        if not self.wiz.isVisible():  # closed: screened again when it is opened again
            self._pending = False
            return
        if self.task is not None:
            self._pending = True
            return
        try:
            project = self.wiz.project()
        except InputError as err:
            self.error = str(err)
            self.show_message(self.status, self.error, "error")
            return
        cached = self.wiz.prepared(project)
        if cached is not None:
            self._done(project, cached)
            return
        self.show_message(self.status, "Screening the variables…")
        data = self.wiz.area_data(project)

        def progress(fraction, message):
            if message:
                self.show_message(self.status, f"{message[:1].upper()}{message[1:]}…")

        self.task = self.wiz.run(
            "screening the variables", prepare, project, data=data,
            on_done=lambda prepared: self._done(project, prepared),
            on_error=self._failed, on_progress=progress)
        self.completeChanged.emit()

    def _done(self, project, prepared):
        self.task = None
        self.error = ""
        self.wiz.keep_prepared(project, prepared)
        try:
            current = self.wiz.project()
        except InputError:
            current = None
        if current is None or self.wiz.prepared(current) is not prepared:
            self._pending = True  # the settings changed while it ran: screen again
            self._again()
            return
        self.prepared = prepared
        self._columns = list(prepared.data.values.columns)
        self._fill_roles(prepared.data)
        self._show_table()
        kept = int(prepared.screening["kept"].sum())
        candidates = int((~prepared.screening["reason"].map(not_a_candidate)).sum())
        self.show_message(self.status, f"{kept} of {candidates} candidate variables kept "
                          f"for the clustering, over {len(prepared.filled):,} areas.", "ok")
        self._again()

    def _failed(self, message):
        self.task = None
        self.prepared = None
        self.error = message
        self.show_message(self.status, message, "error")
        self._again()

    def _again(self):
        if self._pending:
            self._pending = False
            self.screen()
        self.completeChanged.emit()

    # --- the table and its tick boxes ------------------------------------------------------

    def labels(self) -> dict:
        """The descriptions of page 2's file, as its chosen columns say."""
        return self.wiz.tables.labels_box.labels()

    def _show_table(self):
        if self.prepared is None:
            return
        screening = self.prepared.screening
        labels = self.labels()
        self.table.blockSignals(True)
        self.table.setRowCount(len(screening))
        grey = QColor("#6B6B6B")
        for row, decision in enumerate(screening.itertuples(index=False)):
            variable = str(decision.variable)
            not_candidate = not_a_candidate(decision.reason)
            kept = bool(decision.kept)
            why = str(decision.reason)
            if decision.correlated_with:
                why = (f"correlated with {named(decision.correlated_with, labels)} "
                       f"(r = {decision.r:+.2f})")
            items = [text_item(variable), text_item(labels.get(variable, "")),
                     text_item("kept" if kept else "not clustered"
                               if decision.reason in SET_ASIDE.values() else "dropped"),
                     text_item(why)]
            items[WHY].setToolTip(str(decision.reason))
            items[1].setToolTip(labels.get(variable, ""))
            for col, item in enumerate(items):
                if not kept:
                    item.setForeground(grey)
                if col == 2:
                    font = QFont(item.font())
                    font.setBold(kept)
                    item.setFont(font)
                self.table.setItem(row, col, item)
            for col, chosen in ((FORCE_IN, self.force_in), (FORCE_OUT, self.force_out)):
                tick = QTableWidgetItem()
                tick.setData(Qt.UserRole, variable)
                if not_candidate:
                    tick.setFlags(Qt.NoItemFlags)
                else:
                    tick.setFlags(Qt.ItemIsUserCheckable | Qt.ItemIsEnabled)
                    tick.setCheckState(Qt.Checked if variable in chosen else Qt.Unchecked)
                self.table.setItem(row, col, tick)
        self.table.blockSignals(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.Interactive)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 320))
        self.table.setColumnWidth(1, min(self.table.columnWidth(1), 230))
        header.setSectionResizeMode(WHY, QHeaderView.Stretch)
        self.table.setWordWrap(True)  # long descriptions and reasons take two lines
        QTimer.singleShot(0, self.table.resizeRowsToContents)

    def _ticked(self, item: QTableWidgetItem):
        if item.column() not in (FORCE_IN, FORCE_OUT):
            return
        self.set_force(item.data(Qt.UserRole),
                       "in" if item.column() == FORCE_IN else "out",
                       item.checkState() == Qt.Checked)

    def set_force(self, variable: str, which: str, on: bool) -> None:
        """Force a variable in or out (or release it), and screen again."""
        chosen, other = ((self.force_in, self.force_out) if which == "in"
                         else (self.force_out, self.force_in))
        if on:
            if variable not in chosen:
                chosen.append(variable)
            if variable in other:
                other.remove(variable)
        elif variable in chosen:
            chosen.remove(variable)
        self._show_table()
        self.changed()

    # --- roles: deprivation, residents, households ----------------------------------------

    def _fill_roles(self, data):
        columns = list(data.values.columns)
        context = [c for c in data.context if c in columns]
        current = {combo: combo.currentData() for combo in
                   (self.deprivation, self.residents, self.households)}
        if not self._roles_set:
            deprivation = [c for c in context if _DEPRIVATION.search(c)]
            current[self.deprivation] = deprivation[0] if deprivation else None
            residents = [c for c in context if re.fullmatch(r"(usual_)?residents|population",
                                                            c, re.IGNORECASE)]
            current[self.residents] = residents[0] if residents else None
            households = [c for c in context if re.fullmatch(r"households?", c,
                                                             re.IGNORECASE)]
            current[self.households] = households[0] if households else None
            # else from the descriptions: "Total: All usual residents", "Number of
            # households" (the census's own words), shown in the lists to confirm
            labels, ordered = self.labels(), context + [c for c in columns if c not in context]
            for combo, kinds in ((self.residents, RESIDENTS), (self.households, HOUSEHOLDS)):
                current[combo] = current[combo] or guess_size(ordered, labels, kinds)
            self._roles_set = True
        for combo, none in ((self.deprivation, NO_DEPRIVATION), (self.residents, NONE),
                            (self.households, NONE)):
            choices = context + [c for c in columns if c not in context]
            set_items(combo, choices, current[combo], none=none)
            name_items(combo, self.labels())  # "ts0010001 – Total", as page 2 names them

    # --- the page's contribution -----------------------------------------------------------

    def isComplete(self) -> bool:  # noqa: N802
        return self.prepared is not None and self.task is None

    def settings(self) -> dict:
        return {
            "screening": ScreeningRules(
                threshold=round(self.threshold.value(), 4),
                min_distinct=self.min_distinct.value(),
                min_range=round(self.min_range.value(), 4),
                force_in=tuple(self.force_in), force_out=tuple(self.force_out)),
            "standardise": self.standardise.currentData(),
            "missing": self.missing.currentData(),
            "deprivation": self.deprivation.currentData(),
            "more_deprived": self.direction.currentData(),
            "residents": self.residents.currentData(),
            "households": self.households.currentData(),
        }

    def fill(self, project) -> None:
        widgets = (self.threshold, self.min_distinct, self.min_range, self.standardise,
                   self.missing, self.deprivation, self.direction, self.residents,
                   self.households)
        for widget in widgets:
            widget.blockSignals(True)
        rules = project.screening
        self.threshold.setValue(rules.threshold)
        self.min_distinct.setValue(rules.min_distinct)
        self.min_range.setValue(rules.min_range)
        self.force_in, self.force_out = list(rules.force_in), list(rules.force_out)
        select(self.standardise, project.standardise)
        select(self.missing, project.missing)
        set_items(self.deprivation, [], project.deprivation, none=NO_DEPRIVATION)
        select(self.direction, project.more_deprived)
        set_items(self.residents, [], project.residents, none=NONE)
        set_items(self.households, [], project.households, none=NONE)
        for widget in widgets:
            widget.blockSignals(False)
        self._roles_set = True
        self.prepared = None
        self.table.setRowCount(0)
        self.show_message(self.status, "")
