"""Wizard page 2's "Variable descriptions (file)": a CSV or spreadsheet describing the tables'
columns in words (the census's own metadata file will do), so that segment names, portraits
and charts say "1 person in household" rather than "ts0170003". The file is read in a task;
which of its columns holds the variable names and which the descriptions is guessed by the
engine (``core.segment.labels``) and shown in two combo boxes to change, with how many of
the tables' variables it describes and which it does not. It becomes the project's
``[labels] file / variable / description``.
"""

from __future__ import annotations

from pathlib import Path

from qgis.gui import QgsFileWidget
from qgis.PyQt import sip
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QComboBox, QGridLayout, QLabel, QWidget

from ...core.segment.labels import (
    described,
    descriptions,
    guess_label_columns,
    guess_labels_file,
)
from .wizard_common import Page, set_items

LABELS_FILTER = ("Variable descriptions (*.csv *.txt *.tsv *.xlsx *.xlsm *.xls);;"
                 "All files (*)")
CHOOSE = "(choose a column)"
NAMED = 12  # undescribed variables named in the message, the rest counted


def _listed(names: list, most: int = NAMED) -> str:
    shown = ", ".join(str(n) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


class LabelsBox(QWidget):
    """The picker, its two column choices and what the file describes. ``variables`` gives
    the tables' variables as the page stands; ``run`` is the wizard's task runner."""

    changed = pyqtSignal()

    def __init__(self, variables, run, parent=None):
        super().__init__(parent)
        self.variables = variables
        self.run = run
        self.guess = None  # the LabelsGuess of the file read
        self.error = ""
        self.task = None
        self.reads = 0  # files chosen: a read ending after another was chosen is dropped
        self.picked = False  # the user chose the columns: no guessing over them
        self.wanted = None  # the columns a project file names, until the file is read
        self.file_widget = QgsFileWidget()
        self.file_widget.setFilter(LABELS_FILTER)
        self.file_widget.setToolTip(
            "Optional: a CSV or Excel file with a column of the tables' column names and a "
            "column of what each one is, e.g. the census's table metadata: segment names, "
            "pen portraits and charts then say the descriptions, not the codes")
        self.variable_combo = QComboBox()
        self.variable_combo.setToolTip("The file's column holding the tables' column names")
        self.description_combo = QComboBox()
        self.description_combo.setToolTip("The file's column saying what each one is")
        self.status = Page.message_label()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        # the file on its own row, its two columns below it: each column's name is read
        # whole (on one row the three shared the width and the names were cut)
        for combo in (self.variable_combo, self.description_combo):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        grid.addWidget(QLabel("Variable descriptions (file):"), 0, 0)
        grid.addWidget(self.file_widget, 0, 1, 1, 3)
        grid.addWidget(QLabel("Names in column:"), 1, 0)
        grid.addWidget(self.variable_combo, 1, 1)
        grid.addWidget(QLabel("Descriptions in:"), 1, 2)
        grid.addWidget(self.description_combo, 1, 3)
        grid.addWidget(self.status, 2, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.file_widget.fileChanged.connect(lambda text: self.choose(text))
        self.variable_combo.currentIndexChanged.connect(lambda _i: self._picked())
        self.description_combo.currentIndexChanged.connect(lambda _i: self._picked())

    def path(self) -> Path | None:
        text = self.file_widget.filePath()
        return Path(text).resolve() if text else None

    def set_file(self, path, columns: tuple | None = None) -> None:
        """Choose a file as the picker does (with ``columns``: as a project file names
        them, else guessed)."""
        self.file_widget.blockSignals(True)
        self.file_widget.setFilePath(str(path) if path else "")
        self.file_widget.blockSignals(False)
        self.choose(str(path) if path else "", columns)

    def offer(self, path: Path) -> None:
        """Take the descriptions kept beside the tables (``variables.csv``) when no file is
        chosen yet."""
        if self.path() is None and path.is_file():
            self.set_file(path)

    def choose(self, text: str, columns: tuple | None = None) -> None:
        """Read the file in a task and guess its columns; the box says so meanwhile."""
        self.guess, self.error, self.picked = None, "", columns is not None
        self.wanted = tuple(columns) if columns is not None else None
        set_items(self.variable_combo, [])
        set_items(self.description_combo, [])
        path = Path(text).resolve() if text else None
        if self.task is not None:
            try:
                self.task.cancel()
            except RuntimeError:  # already deleted by the task manager
                pass
            self.task = None
        self.reads += 1
        read = self.reads
        if path is None:
            self.refresh()
            return
        if not path.is_file():
            self.error = f"{path.name}: file not found"
            self.refresh()
            return
        Page.show_message(self.status, f"Reading {path.name}…")
        variables = self.variables()

        def done(guess):
            if sip.isdeleted(self) or read != self.reads:
                return  # the wizard was closed, or another file chosen, meanwhile
            self.task = None
            self.guess = guess
            variable, description = columns or (guess.variable, guess.description)
            self._show_columns(variable, description)
            self.refresh()

        def failed(message):
            if sip.isdeleted(self) or read != self.reads:
                return
            self.task = None
            self.error = message
            self.refresh()

        self.task = self.run(f"reading {path.name}", guess_labels_file, path, variables,
                             on_done=done, on_error=failed)
        self.changed.emit()

    def _show_columns(self, variable, description) -> None:
        columns = list(self.guess.table.columns)
        set_items(self.variable_combo, columns, variable, none=CHOOSE)
        set_items(self.description_combo, columns, description, none=CHOOSE)

    def _picked(self) -> None:
        self.picked = True
        self.refresh()

    def tables_changed(self) -> None:
        """The tables changed: guess the columns again unless the user chose them."""
        if self.guess is not None and not self.picked:
            self._show_columns(*guess_label_columns(self.guess.table, self.variables()))
        self.refresh()

    def columns(self) -> tuple:
        if self.guess is None and self.wanted is not None:
            return self.wanted
        return self.variable_combo.currentData(), self.description_combo.currentData()

    def problems(self) -> list[str]:
        if self.path() is None or self.task is not None:
            return []
        name = self.path().name
        if self.error:
            return [self.error]
        if self.guess is None:
            return []
        variable, description = self.columns()
        if variable is None:
            sample = _listed(self.variables(), 3)
            return [f"{name}: none of its columns holds the tables' column names"
                    + (f" (such as {sample})" if sample else "") + ". Choose the column "
                    "that names the variables, choose another file, or clear it."]
        if description is None:
            return [f"{name}: choose the column that describes the variables"]
        if description == variable:
            return [f"{name}: the names and the descriptions must be two different "
                    "columns"]
        return []

    def refresh(self) -> None:
        problems = self.problems()
        if self.path() is None:
            Page.show_message(self.status, "")
        elif self.task is not None:
            pass  # still "Reading …"
        elif problems:
            Page.show_message(self.status, " ".join(problems), "error")
        else:
            variables = self.variables()
            found, missing = described(self.guess.table, *self.columns(), variables)
            if not variables:
                Page.show_message(self.status, "Add the tables to see which of their "
                                  "variables it describes.")
            elif not missing:
                Page.show_message(self.status, f"{len(found)} of {len(variables)} variables "
                                  "described.", "ok")
            else:
                Page.show_message(self.status, f"{len(found)} of {len(variables)} variables "
                                  f"described. Not described (named by their column names): "
                                  f"{_listed(missing)}.", "warning")
        self.changed.emit()

    def labels(self) -> dict:
        """variable -> description, as the file and the chosen columns say ({} without)."""
        if self.guess is None or self.problems():
            return {}
        return descriptions(self.guess.table, *self.columns())

    def settings(self) -> dict:
        path = self.path()
        variable, description = self.columns()
        if path is None or variable is None or description is None:
            return {"labels_file": path}
        return {"labels_file": path, "labels_columns": (variable, description)}
