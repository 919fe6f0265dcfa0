"""Wizard page 2: the partner tables, how each joins to the areas, and a check of every row."""

from __future__ import annotations

from pathlib import Path

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.data.derive import ROW_TOTAL, TableOfCounts
from ...core.project.guesses import (
    SPREADSHEETS,
    STATUSES,
    excel_sheets,
    guess_join,
    guess_lookup_columns,
    reconciliation_summary,
    table_preview,
)
from ...core.segment.area_data import gather_area_data
from .qt_views import text_item
from .tasks import CANCELLED
from .wizard_common import Page, counted, name_items, named, set_items, table_widget
from .wizard_counts import counts_advice
from .wizard_labels import LabelsBox
from .wizard_table_entries import Entry, read_entry, read_tables

TABLE_FILTER = "Tables (*.csv *.txt *.tsv *.xlsx *.xlsm *.xls);;All files (*)"
JOINS = [("direct", "Its codes are output-area codes"),
         ("join_on", "Through a field of the boundaries (e.g. the LSOA code)"),
         ("lookup", "Through a lookup file (area code → its code)")]
PER = [(100.0, "percentages (per 100)"), (1000.0, "rates per 1,000")]
PER_VARIABLE = "__per_variable__"
NO_DENOMINATOR = "(none: not counts)"


class TablesPage(Page):
    def __init__(self, wizard):
        super().__init__(wizard, "2. Data tables",
                         "Partner tables keyed by area code (CSV or Excel): census, benefits, "
                         "health, crime… For each, its key column and how it joins to the "
                         "areas. Check them to see what becomes of every row.")
        self.entries: list[Entry] = []
        self.checked = None  # the data key of the last successful check
        self.check_failed = False
        self.task = None
        self.unread = None  # what a read the wizard's closing stopped was reading

        self.list = QListWidget()
        self.list.setMinimumWidth(220)
        self.add_button = QPushButton("Add files…")
        self.remove_button = QPushButton("Remove")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Tables:"))
        left_layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        left_layout.addLayout(buttons)

        self.detail = QGroupBox("Settings of the selected table")
        form = QFormLayout(self.detail)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.sheet_combo = QComboBox()
        self.sheet_label = QLabel("Sheet:")
        form.addRow(self.sheet_label, self.sheet_combo)
        self.key_combo = QComboBox()
        self.key_combo.setToolTip("The column holding the area code of each row")
        form.addRow("Column of area codes (key):", self.key_combo)
        self.join_combo = QComboBox()
        for value, text in JOINS:
            self.join_combo.addItem(text, value)
        form.addRow("How it joins to the areas:", self.join_combo)
        self.join_stack = QStackedWidget()
        direct_page = QWidget()  # no more rows
        direct_page.setFixedHeight(0)
        self.join_stack.addWidget(direct_page)
        self.join_on_combo = QComboBox()
        self.join_on_combo.setToolTip("The field of the boundaries holding codes of the "
                                      "table's kind, e.g. LSOA11CD for a table by LSOA")
        on_page = QWidget()
        on_form = QFormLayout(on_page)
        on_form.setContentsMargins(0, 0, 0, 0)
        on_form.addRow("Boundary field:", self.join_on_combo)
        self.join_stack.addWidget(on_page)
        lookup_page = QWidget()
        lookup_form = QFormLayout(lookup_page)
        lookup_form.setContentsMargins(0, 0, 0, 0)
        self.lookup_widget = QgsFileWidget()
        self.lookup_widget.setFilter(TABLE_FILTER)
        self.lookup_from_combo = QComboBox()
        self.lookup_to_combo = QComboBox()
        lookup_form.addRow("Lookup file:", self.lookup_widget)
        lookup_form.addRow("Its column of output-area codes:", self.lookup_from_combo)
        lookup_form.addRow("Its column of the table's codes:", self.lookup_to_combo)
        self.join_stack.addWidget(lookup_page)
        form.addRow("", self.join_stack)
        self.join_stack.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        self.join_stack.currentChanged.connect(self._fit_join_stack)
        self._fit_join_stack(0)
        self.context_list = QListWidget()
        self.context_list.setToolTip("Counts and denominators (residents, households…) and "
                                     "deprivation measures: profiled and used for sizes, "
                                     "never clustered on")
        self.context_list.setMinimumHeight(90)
        form.addRow("Context columns\n(profiled, never clustered):", self.context_list)
        self.denominator_combo = QComboBox()
        self.denominator_combo.setToolTip("When the table holds counts (as census tables are "
                                          "published), each variable becomes a percentage "
                                          "or rate of this column")
        # long descriptions never widen the page: the combo shows what fits, the tooltip all
        self.denominator_combo.setSizeAdjustPolicy(
            QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.denominator_combo.setMinimumContentsLength(16)
        self.per_combo = QComboBox()
        for value, text in PER:
            self.per_combo.addItem(text, value)
        self.per_combo.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)  # the rest: columns
        per_row = QWidget()
        per_layout = QHBoxLayout(per_row)
        per_layout.setContentsMargins(0, 0, 0, 0)
        per_layout.addWidget(self.denominator_combo, 3)
        per_layout.addWidget(QLabel("as"))
        per_layout.addWidget(self.per_combo, 1)
        form.addRow("It holds counts; divide by:", per_row)
        self.detail.setEnabled(False)
        # the combos as wide as the box gives them, not as their longest entry: a table's
        # long column names must not push the settings past the window's edge
        for combo in self.detail.findChildren(QComboBox):
            if combo is self.per_combo:  # its two entries are short: shown whole
                continue
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 700])

        self.labels_box = LabelsBox(self.variables, self.wiz.run)
        self.labels_box.changed.connect(self.completeChanged.emit)
        self.labels_box.changed.connect(lambda: self._name_columns())

        self.problems_label = self.message_label()
        self.check_button = QPushButton("Check the tables")
        self.check_button.setToolTip("Read the boundaries and every table and say what "
                                     "becomes of every row, before anything runs")
        self.check_status = self.message_label()
        self.summary = table_widget(["File", "Used", "Outside\nthe area", "Unmatched",
                                     "Duplicate", "Unreadable", "No data\n(areas)"])
        self.summary.horizontalHeader().setStretchLastSection(False)
        self.summary.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.summary.verticalHeader().setDefaultSectionSize(24)
        self.summary.setVisible(False)  # until a check has rows to show
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.check_status, 1)

        # the page scrolls rather than squeeze its rows over each other when the window is
        # smaller than they need (a long message, a lookup's three rows, many tables)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 3)
        layout.addWidget(self.labels_box)
        layout.addWidget(self.problems_label)
        layout.addLayout(check_row)
        layout.addWidget(self.summary, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll)
        # no table yet: nothing to check, no problem line, no sheet
        for widget in (self.problems_label, self.sheet_label, self.sheet_combo):
            widget.setVisible(False)
        self.check_button.setEnabled(False)

        self.add_button.clicked.connect(self._add_dialog)
        self.remove_button.clicked.connect(self._remove_selected)
        self.list.currentRowChanged.connect(self._show_entry)
        self.sheet_combo.currentIndexChanged.connect(lambda _i: self._sheet_changed())
        self.key_combo.currentIndexChanged.connect(lambda _i: self._edited("code"))
        self.join_combo.currentIndexChanged.connect(lambda _i: self._edited("join"))
        self.join_on_combo.currentIndexChanged.connect(lambda _i: self._edited("join_on"))
        self.lookup_widget.fileChanged.connect(self._lookup_chosen)
        self.lookup_from_combo.currentIndexChanged.connect(lambda _i: self._edited("lookup"))
        self.lookup_to_combo.currentIndexChanged.connect(lambda _i: self._edited("lookup"))
        self.context_list.itemChanged.connect(lambda _item: self._edited("context"))
        self.denominator_combo.currentIndexChanged.connect(lambda _i: self._edited("den"))
        self.per_combo.currentIndexChanged.connect(lambda _i: self._edited("per"))
        self.check_button.clicked.connect(self.check)

    # --- adding and removing tables -----------------------------------------------------

    def _add_dialog(self):
        folder = self.wiz.boundaries.boundary_path()
        paths, _ = QFileDialog.getOpenFileNames(self, "Add data tables",
                                                str(folder.parent) if folder else "",
                                                TABLE_FILTER)
        self.add_files(paths)

    def add_files(self, paths, sheet=None, row: int | None = None):
        """Read the tables in a task (their first rows, then the guesses of each one's key
        column, join and context columns: a second or more on large tables), the page
        saying so meanwhile; then list them (or, with ``row``, put the one re-read in that
        row). Returns the task, or None when nothing is to be read or a task runs."""
        paths = [Path(p) for p in paths]
        if not paths or self.task is not None:
            return None
        boundaries = self.wiz.boundaries
        code = boundaries.code_combo.currentData()
        samples = dict(boundaries.samples)
        self._busy(True)
        names = ", ".join(p.name for p in paths)
        self.show_message(self.check_status, f"Reading {names}…")

        def done(entries):
            self.task = None
            self._busy(False)
            self.show_message(self.check_status, "")
            if row is not None and 0 <= row < len(self.entries):
                self.entries[row] = entries[0]
                self.list.item(row).setText(entries[0].title)
                self._show_entry(row)
            else:
                for entry in entries:
                    self.entries.append(entry)
                    self.list.addItem(QListWidgetItem(entry.title))
                self.list.setCurrentRow(len(self.entries) - 1)
                self.scroll.verticalScrollBar().setValue(0)  # the tables and their settings
            self._changed()
            self.labels_box.offer(self.entries[0].path.parent / "variables.csv")

        def failed(message):
            self.task = None
            self._busy(False)
            if message == CANCELLED:  # the wizard closed: read again when it opens
                self.unread = (paths, sheet, row)
                message = f"Reading {names} stopped when the wizard closed."
            self.show_message(self.check_status, message, "error")
            self.completeChanged.emit()

        self.unread = None
        self.task = self.wiz.run(f"reading {names}", read_tables, paths, code, samples,
                                 sheet=sheet, on_done=done, on_error=failed)
        self.completeChanged.emit()
        return self.task

    def initializePage(self) -> None:  # noqa: N802 (Qt's name)
        """Shown again after the wizard closed while tables were read: they are read now."""
        if self.unread is not None and self.task is None:
            self.add_files(*self.unread)

    def _busy(self, on: bool) -> None:
        """While a table is read, the list and its settings wait for it."""
        for widget in (self.add_button, self.remove_button, self.check_button, self.detail):
            widget.setEnabled(not on)
        if not on:
            entry = self.current()
            self.detail.setEnabled(entry is not None and not entry.read_error)

    def _remove_selected(self):
        row = self.list.currentRow()
        if row < 0:
            return
        del self.entries[row]
        self.list.takeItem(row)
        self._show_entry(self.list.currentRow())
        self._changed()

    def current(self) -> Entry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    # --- the selected table's settings ----------------------------------------------------

    def _name_columns(self, labels: dict | None = None) -> None:
        """Each context column, and each column to divide by, by its code and, where the
        descriptions file has one, its description; the whole of both in its tooltip (the
        list is narrow)."""
        labels = self.labels_box.labels() if labels is None else labels
        self.denominator_combo.blockSignals(True)
        for i in range(self.denominator_combo.count()):
            column = self.denominator_combo.itemData(i)
            if self.current() is not None and column in self.current().numeric:
                self.denominator_combo.setItemText(i, column)
        name_items(self.denominator_combo, labels)
        self.denominator_combo.blockSignals(False)
        entry = self.current()
        numeric = set(entry.numeric) if entry is not None else set()
        for i in range(self.context_list.count()):
            item = self.context_list.item(i)
            column = item.data(Qt.UserRole)
            label = labels.get(column, "")
            item.setText(named(column, labels))
            tip = f"{column}: {label}" if label else column
            item.setToolTip(tip if column in numeric else f"{tip}\n(not a column of numbers)")

    def _show_entry(self, row: int):
        entry = self.entries[row] if 0 <= row < len(self.entries) else None
        self.detail.setEnabled(entry is not None and not entry.read_error)
        if entry is None:
            self.detail.setTitle("Settings of the selected table")
            return
        self.detail.setTitle(f"Settings of {entry.title}")
        widgets = (self.sheet_combo, self.key_combo, self.join_combo, self.join_on_combo,
                   self.lookup_widget, self.lookup_from_combo, self.lookup_to_combo,
                   self.context_list, self.denominator_combo, self.per_combo)
        for widget in widgets:
            widget.blockSignals(True)
        is_sheet = entry.path.suffix.lower() in SPREADSHEETS
        self.sheet_label.setVisible(is_sheet)
        self.sheet_combo.setVisible(is_sheet)
        if is_sheet:
            try:
                sheets = excel_sheets(entry.path)
            except Exception:  # noqa: BLE001
                sheets = []
            set_items(self.sheet_combo, sheets, entry.sheet or (sheets[0] if sheets else None))
        key_items = list(entry.columns)
        set_items(self.key_combo, key_items, entry.code)
        if entry.code and entry.code not in entry.columns:
            index = self.key_combo.findData(entry.code)
            self.key_combo.setItemText(index, f"{entry.code} (not in this file)")
        self.join_combo.setCurrentIndex([j for j, _ in JOINS].index(entry.join))
        self.join_stack.setCurrentIndex([j for j, _ in JOINS].index(entry.join))
        set_items(self.join_on_combo, self.wiz.boundaries.fields, entry.join_on)
        self.lookup_widget.setFilePath(str(entry.lookup) if entry.lookup else "")
        set_items(self.lookup_from_combo, entry.lookup_columns, entry.lookup_from)
        set_items(self.lookup_to_combo, entry.lookup_columns, entry.lookup_to)
        self.context_list.clear()
        labels = self.labels_box.labels()
        for column in [c for c in entry.columns if c != entry.code]:
            item = QListWidgetItem()
            item.setData(Qt.UserRole, column)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if column in entry.context else Qt.Unchecked)
            self.context_list.addItem(item)
        set_items(self.denominator_combo, [ROW_TOTAL, *entry.numeric],
                  entry.denominator if isinstance(entry.denominator, str) else None,
                  none=NO_DENOMINATOR)
        self._name_columns(labels)
        if isinstance(entry.denominator, dict):
            listed = ", ".join(f"{k} ÷ {v}" for k, v in entry.denominator.items())
            self.denominator_combo.addItem(f"per variable: {listed}", PER_VARIABLE)
            self.denominator_combo.setCurrentIndex(self.denominator_combo.count() - 1)
        self.per_combo.setCurrentIndex(1 if float(entry.per) == 1000.0 else 0)
        self.per_combo.setEnabled(entry.denominator is not None)
        for widget in widgets:
            widget.blockSignals(False)

    def _sheet_changed(self):
        entry = self.current()
        if entry is None:
            return
        self.add_files([entry.path], self.sheet_combo.currentData(), self.list.currentRow())

    def _lookup_chosen(self, text: str):
        entry = self.current()
        if entry is None:
            return
        entry.lookup = Path(text).resolve() if text else None
        entry.lookup_columns, entry.lookup_from, entry.lookup_to = [], None, None
        if entry.lookup is not None and entry.lookup.exists():
            try:
                frame = table_preview(entry.lookup, rows=5000)
            except Exception as err:  # noqa: BLE001
                self.show_message(self.problems_label, f"{entry.lookup.name}: cannot be read "
                                  f"as a lookup table ({err})", "error")
                return
            entry.lookup_columns = list(frame.columns)
            codes = self.wiz.boundaries.samples.get(self.wiz.boundaries.code_combo
                                                    .currentData(), [])
            entry.lookup_from, entry.lookup_to = guess_lookup_columns(frame, codes,
                                                                      entry.key_values)
        self._show_entry(self.list.currentRow())
        self._changed()

    def _edited(self, what: str):
        entry = self.current()
        if entry is None:
            return
        if what == "code":
            entry.code = self.key_combo.currentData()
            if entry.code in entry.columns:
                entry.key_values = entry.preview[entry.code].tolist()
        elif what == "join":
            entry.join = self.join_combo.currentData()
            self.join_stack.setCurrentIndex(self.join_combo.currentIndex())
            if entry.join == "join_on" and not entry.join_on:
                _, entry.join_on = guess_join(entry.key_values, self.wiz.boundaries.samples,
                                              "", entry.code)
                set_items(self.join_on_combo, self.wiz.boundaries.fields, entry.join_on)
        elif what == "join_on":
            entry.join_on = self.join_on_combo.currentData()
        elif what == "lookup":
            entry.lookup_from = self.lookup_from_combo.currentData()
            entry.lookup_to = self.lookup_to_combo.currentData()
        elif what == "context":
            entry.context = [self.context_list.item(i).data(Qt.UserRole)
                             for i in range(self.context_list.count())
                             if self.context_list.item(i).checkState() == Qt.Checked]
        elif what == "den":
            value = self.denominator_combo.currentData()
            if value != PER_VARIABLE:
                entry.denominator = value
            self.per_combo.setEnabled(entry.denominator is not None)
        elif what == "per":
            entry.per = self.per_combo.currentData()
        self._changed()

    # --- problems, the check, and the page's contribution -------------------------------

    def problems(self) -> list[str]:
        fields = self.wiz.boundaries.fields
        return [p for entry in self.entries for p in entry.problems(fields)]

    def variables(self) -> list[str]:
        """The tables' columns of numbers but the keys (or what a project file names)."""
        named = [c for e in self.entries if not e.read_error
                 for c in ([*e.variables, *e.context] if e.variables is not None
                           else e.numeric or e.columns) if c != e.code]
        return list(dict.fromkeys(named))

    def _changed(self):
        self.labels_box.tables_changed()
        problems = self.problems()
        self.show_message(self.problems_label, "\n".join(problems), "error")
        self.problems_label.setVisible(bool(problems))
        self.check_button.setEnabled(bool(self.entries) and not problems)
        if self.checked is not None or self.check_failed:
            self.checked, self.check_failed = None, False
            self._show_summary_rows(0)  # its figures are of the tables as they were
            self.show_message(self.check_status, "The tables changed: check them again.")
        self.completeChanged.emit()

    def check(self):
        if self.task is not None:
            return
        project = self.project_or_error(self.check_status)
        if project is None:
            return
        self.check_button.setEnabled(False)
        self._show_summary_rows(0)
        self.show_message(self.check_status, "Reading the boundaries and the tables…")

        def done(data):
            self.task = None
            self.wiz.keep_area_data(project, data)
            self.checked, self.check_failed = project.tables, False
            self.show_summary(data.reconciliation)
            self.check_button.setEnabled(True)
            self._scroll_to(self.summary)
            self.completeChanged.emit()

        def failed(message):
            error, self.task = self.task.exception, None
            self.check_failed = True
            kind = "error"
            if isinstance(error, TableOfCounts):  # a warning when every total is guessed
                message, kind = self._counts_here(error)
            self.show_message(self.check_status, message, kind)
            self.check_button.setEnabled(True)
            self._scroll_to(self.check_status)
            self.completeChanged.emit()

        def progress(fraction, message):
            if self.task is not None and message:
                self.show_message(self.check_status, f"{message}…")

        self.task = self.wiz.run("checking the tables", gather_area_data, project,
                                 on_done=done, on_error=failed, on_progress=progress)
        self.completeChanged.emit()

    def _fit_join_stack(self, shown: int) -> None:
        """The join's extra rows as tall as the join chosen needs (none for codes that are
        output-area codes), not as tall as the lookup's three rows always."""
        for index in range(self.join_stack.count()):
            policy = QSizePolicy.Preferred if index == shown else QSizePolicy.Ignored
            self.join_stack.widget(index).setSizePolicy(policy, policy)
        self.join_stack.updateGeometry()

    def _show_summary_rows(self, rows: int) -> None:
        """The reconciliation table shown once it has rows, as tall as they are (up to 8,
        then it scrolls)."""
        self.summary.setRowCount(rows)
        self.summary.setVisible(rows > 0)
        header = self.summary.horizontalHeader().sizeHint().height()
        self.summary.setFixedHeight(header + 24 * min(rows, 8) + 2 * self.summary.frameWidth()
                                    + 6)

    def _scroll_to(self, widget) -> None:
        """The page scrolled to show ``widget`` once the layout has placed it (two turns of
        the event loop: the page's layout, then the scroll area's size for it)."""
        QTimer.singleShot(0, lambda: QTimer.singleShot(
            0, lambda: self.scroll.ensureWidgetVisible(widget, 0, 10)))

    def _counts_here(self, error: TableOfCounts) -> tuple[str, str]:
        """What to do about the tables of counts, in the page's words: each named, the
        denominators guessed set in their entries for the officer to confirm, the first
        such table selected with its "divide by" box given the focus."""
        entries = {(e.path.name, e.sheet): e for e in self.entries}
        message, guesses = counts_advice([error, *error.others], entries,
                                         self.labels_box.labels(), ROW_TOTAL)
        for key, column in guesses.items():
            if entries[key].denominator is None:
                entries[key].denominator = column
        if (error.table, error.sheet) in entries:
            self.list.setCurrentRow(self.entries.index(entries[(error.table, error.sheet)]))
            self._show_entry(self.list.currentRow())
            self.denominator_combo.setFocus()
        if guesses:
            self._changed()
            self.check_failed = True  # Next waits for the guesses checked (confirmed)
        return message, "warning" if len(guesses) == 1 + len(error.others) else "error"

    def show_summary(self, reconciliation) -> None:
        counts = reconciliation_summary(reconciliation)
        self._show_summary_rows(len(counts))
        for row, (name, values) in enumerate(counts.iterrows()):
            self.summary.setItem(row, 0, text_item(name))
            for col, status in enumerate(STATUSES, start=1):
                self.summary.setItem(row, col, text_item(f"{int(values[status]):,}", True))
        tables = counts.iloc[1:] if len(counts) > 1 else counts
        not_used = int(tables[[s for s in STATUSES[1:-1]]].to_numpy().sum())
        areas = int(counts.iloc[0][STATUSES[0]])
        text = (f"Checked: {areas:,} areas; {counted(len(tables), 'table')}, "
                f"{int(tables[STATUSES[0]].sum()):,} rows used"
                + (f", {not_used:,} rows not used (see the table)." if not_used else "."))
        self.show_message(self.check_status, text, "warning" if not_used else "ok")

    def isComplete(self) -> bool:  # noqa: N802
        return (bool(self.entries) and not self.problems() and self.task is None
                and not self.check_failed and self.labels_box.task is None
                and not self.labels_box.problems())

    def settings(self) -> dict:
        return {"tables": tuple(entry.spec() for entry in self.entries),
                **self.labels_box.settings()}

    def fill(self, project) -> None:
        self.entries, self.checked, self.check_failed = [], None, False
        self.list.clear()
        self._show_summary_rows(0)
        self.show_message(self.check_status, "")
        for spec in project.tables:
            entry = read_entry(spec.path, spec.sheet)
            entry.sheet = spec.sheet
            entry.code = spec.code
            if spec.code in entry.columns:
                entry.key_values = entry.preview[spec.code].tolist()
            entry.context = list(spec.context)
            entry.denominator, entry.per = spec.denominator, spec.per
            entry.variables = spec.variables
            if spec.join_on is not None:
                entry.join, entry.join_on = "join_on", spec.join_on
            elif spec.lookup is not None:
                entry.join, entry.lookup = "lookup", spec.lookup
                entry.lookup_from, entry.lookup_to = spec.lookup_from, spec.lookup_to
                try:
                    entry.lookup_columns = list(table_preview(spec.lookup, rows=5).columns)
                except Exception:  # noqa: BLE001
                    entry.lookup_columns = [spec.lookup_from, spec.lookup_to]
            self.entries.append(entry)
            self.list.addItem(QListWidgetItem(entry.title))
        if self.entries:
            self.list.setCurrentRow(0)
        self.labels_box.set_file(project.labels_file, tuple(project.labels_columns)
                                 if project.labels_file is not None else None)
        self._changed()
