"""What the wizard's pages share: a message line, the project or why there is none, combo
boxes of column names, boxes of form rows side by side, tables."""

from __future__ import annotations

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QWidget,
    QWizardPage,
)

from ...core.errors import InputError
from .qt_views import read_only_table

COLOURS = {"error": "#B00020", "warning": "#8A5300", "ok": "#1B6E20", "info": "#333333"}
MARKS = {"error": "✗ ", "warning": "⚠ ", "ok": "✓ ", "info": ""}
NONE = "(none)"


class Page(QWizardPage):
    """A page with a message line; subclasses give ``settings()`` (Project fields) and
    ``fill(project)``."""

    def __init__(self, wizard, title: str, subtitle: str):
        super().__init__(wizard)
        self.wiz = wizard
        self.setTitle(title)
        self.setSubTitle(subtitle)

    @staticmethod
    def message_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        label.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
        return label

    @staticmethod
    def show_message(label: QLabel, text: str, kind: str = "info") -> None:
        label.setText(f"{MARKS[kind]}{text}" if text else "")
        label.setStyleSheet(f"color: {COLOURS[kind]};")
        label.setProperty("kind", kind)

    def project_or_error(self, label: QLabel):
        """The wizard's project as the pages stand, or None with why shown in ``label``."""
        try:
            return self.wiz.project()
        except InputError as err:
            self.show_message(label, str(err), "error")
            return None

    def settings(self) -> dict:
        return {}

    def fill(self, project) -> None:
        pass


def set_items(combo: QComboBox, items, current=None, none: str | None = None) -> None:
    """Replace a combo box's items (data: the column name, None for ``none``), keeping
    ``current`` selected, added when it is not among them (e.g. read from a project file)."""
    combo.blockSignals(True)
    combo.clear()
    if none is not None:
        combo.addItem(none, None)
    for item in items:
        combo.addItem(str(item), item)
    if current is not None and combo.findData(current) < 0:
        combo.addItem(str(current), current)
    index = combo.findData(current) if current is not None else 0
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)


def counted(number: int, noun: str) -> str:
    """"1 table", "8 tables": a count as a reader says it."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def named(column, labels: dict) -> str:
    """A column with its description, as the wizard's lists name it ("ts0540001 – Total:
    All households"), or alone without one."""
    return f"{column} – {labels[column]}" if labels.get(column) else str(column)


def name_items(combo: QComboBox, labels: dict) -> None:
    """Each column among a combo box's items shown with its description ("ts0540001 –
    Total: All households"), or alone without one; its data stays the column's name."""
    for i in range(combo.count()):
        column = combo.itemData(i)
        if isinstance(column, str) and column in labels:
            combo.setItemText(i, named(column, labels))
            combo.setItemData(i, f"{column}: {labels[column]}", Qt.ToolTipRole)


def select(combo: QComboBox, value) -> None:
    index = combo.findData(value)
    if index < 0 and value is not None:
        combo.addItem(str(value), value)
        index = combo.findData(value)
    combo.setCurrentIndex(max(index, 0))


def form_box(title: str, *rows) -> QGroupBox:
    """A titled box of form rows, each what ``QFormLayout.addRow`` takes: (label, field), or
    (widget,) for a widget across the row."""
    box = QGroupBox(title)
    form = QFormLayout(box)
    for row in rows:
        form.addRow(*row)
    return box


def side_by_side(*boxes: QWidget) -> QHBoxLayout:
    """Boxes in a row, sharing its width equally."""
    row = QHBoxLayout()
    for box in boxes:
        row.addWidget(box, 1)
    return row


def table_widget(headers: list[str]) -> QTableWidget:
    """A read-only table as the dock's, its rows shaded in turn and its last column filling
    the width."""
    table = read_only_table(headers)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    return table
