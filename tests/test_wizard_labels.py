"""The wizard's "Variable descriptions (file)" on its data page, driven in real QGIS with
pytest-qt page by page: Sutton built from its raw Census 2021 tables (columns ts0170001…)
with the census's own metadata file (columns new_names, Variable_Name, Table_Name). The
page guesses which column names the variables and which describes them, says how many it
describes, refuses a file that describes none; the segmentation built says words, not
census codes; the project file saved names the columns under [labels]."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtTest import QTest
from qgis.PyQt.QtWidgets import QWizard
from test_labels_guess import full_metadata

from community_safety.core.project.project_file import load_project

SUTTON = Path(__file__).parent / "data" / "london_boroughs" / "E09000029"
TABLES = ["ts054", "ts045", "ts037", "ts017"]  # tenure, cars, health, household size
CODE = re.compile(r"\bts0\d{6}\b")


def click(widget) -> None:
    QTest.mouseClick(widget, Qt.LeftButton)


def click_row(view, row: int) -> None:
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier,
                     view.visualItemRect(view.item(row)).center())


@pytest.fixture(scope="module")
def sutton(qgis_app, qgis_iface, tmp_path_factory):
    """The wizard on Sutton's tables, up to the end of page 2 with the metadata file, at
    its smallest size."""
    from community_safety.qgis_plugin.ui.wizard import SegmentationWizard

    wizard = SegmentationWizard(qgis_iface)
    wizard.segments.k_max.setValue(8)  # fewer k for speed
    wizard.show()
    wizard.resize(wizard.minimumSize())
    yield wizard, tmp_path_factory.mktemp("sutton")
    wizard.close()
    wizard.deleteLater()


def crowded(page) -> list[str]:
    """The page's rows given less height than they need, or drawn over one another (each
    widget's rectangle on the page), as "name: why"."""
    box = page.labels_box
    shown = {"key": page.key_combo, "join": page.join_combo, "context": page.context_list,
             "divide by": page.denominator_combo, "as": page.per_combo,
             "descriptions file": box.file_widget, "names in": box.variable_combo,
             "check": page.check_button, "check message": page.check_status,
             **{f"lookup {i}": w for i, w in enumerate((page.lookup_widget,
                                                         page.lookup_from_combo,
                                                         page.lookup_to_combo))}}
    shown = {name: w for name, w in shown.items() if w.isVisible()}
    found = [f"{name}: {w.height()} px tall, needs {need}" for name, w in shown.items()
             if w.height() < (need := max(w.minimumSizeHint().height(), w.minimumHeight()))]
    rects = {name: w.rect().translated(w.mapTo(page, w.rect().topLeft()))
             for name, w in shown.items()}
    names = list(rects)
    found += [f"{a} over {b}" for i, a in enumerate(names) for b in names[i + 1:]
              if rects[a].intersects(rects[b])]
    return found


def test_the_data_page_guesses_the_columns_of_the_census_metadata(sutton, qtbot):
    wizard, folder = sutton
    page = wizard.boundaries
    page.file_widget.setFilePath(str(SUTTON / "output_areas.gpkg"))  # the dialog's OK
    page.name_edit.selectAll()
    QTest.keyClicks(page.name_edit, "Sutton output areas, Census 2021")
    qtbot.waitUntil(page.isComplete, timeout=30_000)
    click(wizard.button(QWizard.NextButton))
    tables = wizard.tables
    assert wizard.currentPage() is tables
    tables.add_files([SUTTON / f"{t}.csv" for t in TABLES])
    qtbot.waitUntil(lambda: tables.task is None, timeout=60_000)
    # at the wizard's smallest size every row has its height, none over another, whichever
    # join is shown (a lookup adds three rows)
    assert crowded(tables) == []
    tables.join_combo.setCurrentIndex(tables.join_combo.findData("lookup"))
    assert crowded(tables) == []
    tables.join_combo.setCurrentIndex(tables.join_combo.findData("direct"))
    box = tables.labels_box
    assert box.path() is None and box.status.text() == ""

    # a file describing none of the tables' columns is named as such; Next waits
    box.file_widget.setFilePath(str(SUTTON / "imd.csv"))
    assert box.status.text() == "Reading imd.csv…" and not tables.isComplete()
    qtbot.waitUntil(lambda: box.task is None, timeout=30_000)
    said = box.status.text()
    assert "none of its columns holds the tables' column names" in said
    assert "ts0540001" in said and box.status.property("kind") == "error"
    assert not wizard.button(QWizard.NextButton).isEnabled()

    # the pack's metadata file whole: its longest column, old_names, repeats the table's
    # name ("Tenure of household: Owned; measures: Value"); the short label is guessed
    box.file_widget.setFilePath(str(full_metadata(folder)))
    qtbot.waitUntil(lambda: box.task is None, timeout=30_000)
    assert (box.variable_combo.currentData(), box.description_combo.currentData()) == \
        ("new_names", "Variable_Name")
    assert box.labels()["ts0170003"] == "1 person in household"

    box.file_widget.setFilePath(str(SUTTON / "census_variables.csv"))
    qtbot.waitUntil(lambda: box.task is None, timeout=30_000)
    assert (box.variable_combo.currentData(), box.description_combo.currentData()) == \
        ("new_names", "Variable_Name")
    assert box.status.text() == "✓ 34 of 34 variables described."
    for combo in (box.variable_combo, box.description_combo):  # each column's name whole
        qtbot.waitUntil(lambda c=combo: c.width() > 30 + c.fontMetrics().horizontalAdvance(
            c.currentText()), timeout=5_000)
    # the user may choose another column: the count follows it
    box.description_combo.setFocus()
    QTest.keyClick(box.description_combo, Qt.Key_Down)  # Variable_Name → Table_Name
    assert box.description_combo.currentData() == "Table_Name"
    assert box.labels()["ts0170003"] == "Household size"
    QTest.keyClick(box.description_combo, Qt.Key_Up)
    assert box.labels()["ts0170003"] == "1 person in household"
    # the context columns are named in words too (whole in the tooltip), their codes kept
    click_row(tables.list, 0)
    items = {tables.context_list.item(i).data(Qt.UserRole): tables.context_list.item(i)
             for i in range(tables.context_list.count())}
    total = items["ts0540001"]
    assert total.text() == "ts0540001 – Total: All households"
    assert total.toolTip() == "ts0540001: Total: All households"
    total.setCheckState(Qt.Checked)
    assert "ts0540001" in tables.entries[0].context
    total.setCheckState(Qt.Unchecked)
    assert "ts0540001" not in tables.entries[0].context
    combo = tables.denominator_combo  # and the columns to divide by
    assert combo.itemText(combo.findData("ts0540001")) == "ts0540001 – Total: All households"
    # a table the file does not describe: its columns named as undescribed
    tables.add_files([SUTTON / "imd.csv"])
    qtbot.waitUntil(lambda: tables.task is None, timeout=60_000)
    assert box.status.text() == ("⚠ 34 of 35 variables described. Not described (named by "
                                 "their column names): IMD19.")
    click_row(tables.list, 4)
    click(tables.remove_button)
    assert box.status.text() == "✓ 34 of 34 variables described."

    # the four tables' counts left as they are (as the officer starts): the check names
    # every one, guesses each its total for the officer to confirm (its own total, named in
    # words: the row total would count sub-totals such as "Owned" again), selects the
    # first and puts the focus on what to divide it by
    click(tables.check_button)
    qtbot.waitUntil(lambda: tables.task is None, timeout=120_000)
    said = tables.check_status.text()
    assert said.startswith("⚠ ts054.csv: the columns ts0540001") and "hold counts" in said
    assert tables.check_status.property("kind") == "warning"  # each total guessed
    assert "So do ts045.csv, ts037.csv and ts017.csv." in said
    assert ('Guessed for you to confirm under "It holds counts; divide by" (select each '
            "table to see it): ts054.csv ÷ ts0540001 (its own total, Total: All households)"
            "; ts045.csv ÷ ts0450001 (its own total, Total: All households); ts037.csv ÷ "
            "ts0370001 (its own total, Total: All usual residents); ts017.csv ÷ ts0170001 "
            "(its own total, Total: All household spaces). Check the tables again to use "
            "them.") in said
    assert "[[tables]]" not in said
    assert tables.list.currentRow() == 0 and tables.denominator_combo.hasFocus()
    assert tables.denominator_combo.currentData() == "ts0540001"  # shown, to confirm
    assert [entry.denominator for entry in tables.entries] == [f"{t}0001" for t in TABLES]
    assert not tables.isComplete() and crowded(tables) == []

    click(tables.check_button)
    qtbot.waitUntil(lambda: tables.task is None, timeout=120_000)
    assert tables.isComplete() and wizard.button(QWizard.NextButton).isEnabled()
    assert tables.summary.isVisible() and crowded(tables) == []


def test_the_variables_page_and_the_built_segments_say_words(sutton, qtbot):
    wizard, folder = sutton
    click(wizard.button(QWizard.NextButton))
    variables = wizard.variables
    qtbot.waitUntil(variables.isComplete, timeout=120_000)
    shown = {variables.table.item(r, 0).text(): variables.table.item(r, 1).text()
             for r in range(variables.table.rowCount())}
    assert shown["ts0450002"] == "No cars or vans in household"
    # the roles' lists and the correlation partners are named in words as page 2 names
    # them: code and description
    households = variables.households
    assert households.itemText(households.findData("ts0540001")) == \
        "ts0540001 – Total: All households"
    # the sizes guessed from the descriptions, shown in their lists to confirm
    assert variables.residents.currentText() == "ts0370001 – Total: All usual residents"
    assert households.currentText() == "ts0540001 – Total: All households"
    labels = variables.labels()
    for combo in (variables.deprivation, variables.residents, households):
        texts = [combo.itemText(i) for i in range(combo.count()) if combo.itemData(i)]
        assert texts and all(" – " in text for text in texts), texts
    whys = [variables.table.item(r, 3).text() for r in range(variables.table.rowCount())]
    partners = [w for w in whys if w.startswith("correlated with ")]
    assert partners and all(
        w.startswith(f"correlated with {code} – {labels[code]} (r = ")
        for w in partners for code in [w.split()[2]]), partners
    click(wizard.button(QWizard.NextButton))
    segments = wizard.segments
    qtbot.waitUntil(lambda: segments.task is None and segments.diagnostics is not None,
                    timeout=300_000)
    segments.n_init.setValue(3)
    click(wizard.button(QWizard.NextButton))
    run = wizard.run_page
    gpkg = folder / "sutton.gpkg"
    run.output.setFilePath(str(gpkg))
    run.plots.setChecked(False)
    with qtbot.waitSignal(wizard.segmentation_ready, timeout=300_000):
        click(run.run_button)

    from community_safety.core.segment.saved import load_segmentation

    seg = load_segmentation(gpkg)
    names = seg.summary["name"].tolist()
    assert len(names) == 10 and len(set(names)) == 10
    texts = [*names, *seg.summary["portrait"].tolist()]
    assert not [t for t in texts if CODE.search(t)], texts
    assert any("household" in name.lower() or "rent" in name.lower() for name in names)

    saved = wizard.save_project_file(folder / "sutton.toml")
    written = tomllib.loads(saved.read_text())["labels"]
    assert (saved.parent / written["file"]).resolve() == \
        (SUTTON / "census_variables.csv").resolve()
    assert (written["variable"], written["description"]) == ("new_names", "Variable_Name")
    assert load_project(saved) == wizard.project()


def test_two_sheets_of_one_workbook_are_told_apart(qgis_app, qgis_iface, qtbot, tmp_path):
    """Two sheets of one Excel file: each listed with its sheet, and the sheet whose counts
    the check refuses is the one named, selected and given the focus."""
    import pandas as pd

    from community_safety.qgis_plugin.ui.wizard import SegmentationWizard

    book = tmp_path / "partner_book.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.read_csv(SUTTON / "ts045.csv").to_excel(writer, sheet_name="Cars or vans",
                                                   index=False)
        pd.read_csv(SUTTON / "ts054.csv").to_excel(writer, sheet_name="Tenure", index=False)
    wizard = SegmentationWizard(qgis_iface)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.resize(wizard.minimumSize())
    wizard.boundaries.file_widget.setFilePath(str(SUTTON / "output_areas.gpkg"))
    qtbot.waitUntil(wizard.boundaries.isComplete, timeout=30_000)
    click(wizard.button(QWizard.NextButton))
    tables = wizard.tables
    for _ in range(2):
        tables.add_files([book])
        qtbot.waitUntil(lambda: tables.task is None, timeout=60_000)
    click_row(tables.list, 1)
    tables.sheet_combo.setCurrentIndex(tables.sheet_combo.findText("Tenure"))
    qtbot.waitUntil(lambda: tables.task is None, timeout=60_000)
    assert [tables.list.item(i).text() for i in range(2)] == [
        "partner_book.xlsx (Cars or vans)", "partner_book.xlsx (Tenure)"]
    click_row(tables.list, 0)
    tables.denominator_combo.setCurrentIndex(tables.denominator_combo.findData("ts0450001"))
    click(tables.check_button)
    qtbot.waitUntil(lambda: tables.task is None, timeout=120_000)
    assert tables.check_status.text().startswith(
        "⚠ partner_book.xlsx, sheet Tenure: the columns ts0540001")
    assert tables.current().sheet == "Tenure" and tables.denominator_combo.hasFocus()
    assert tables.detail.title() == "Settings of partner_book.xlsx (Tenure)"
    # its own total guessed, in view for the officer to confirm by checking again
    assert tables.denominator_combo.currentData() == "ts0540001"
    click(tables.check_button)
    qtbot.waitUntil(lambda: tables.task is None, timeout=120_000)
    # the reconciliation has a row for each sheet, each with its own count
    summary = tables.summary
    rows = {summary.item(r, 0).text(): summary.item(r, 1).text()
            for r in range(summary.rowCount())}
    assert rows["partner_book.xlsx, sheet Cars or vans"] == "606"  # the rows of ts045.csv
    assert rows["partner_book.xlsx, sheet Tenure"] == "606"
    wizard.close()
