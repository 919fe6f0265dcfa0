"""Hostile input (issue 22): text that is data must stay data in every output.

One "hostile world" is built per module from the Camden sample: a project name and
segment names holding QGIS expressions (``[% env('COMMUNITY_SAFETY_KEY') %]``,
``[% 6*7 %]``, a lone ``%]``) and spreadsheet formulas (``=HYPERLINK(...)``, ``+``, ``-``,
``@``), ward names that are formulas and expressions, address IDs that begin with a formula
character, and an incident file whose name is an expression. Every step runs on it
(gazetteer, incidents, matrices, export for partners, targeting, frequent service users,
report), then:

- the ward atlas (real QGIS, PDF read back) prints every name as written: no key, no 42;
- so does a print layout the user builds from the stored styles and abstracts (legends,
  labels), however many times QGIS evaluates a legend entry;
- no CSV or XLSX cell written by any step is a formula or text a spreadsheet would run as
  one (the OWASP rule: a leading apostrophe), while numbers, negative ones included,
  stay numbers; and no writer in the code base bypasses the one function that does this;
- one key rule holds for every way a key is given (a key file, the environment, the
  Processing algorithm, the dock share the engine's function).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import unicodedata
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from conftest import REPO_ROOT, SAMPLE_DIR

from community_safety.core.cells import FORMULA_START, safe_frame, text_cell
from community_safety.core.cli import main
from community_safety.core.data.pseudonyms import key_problem
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.saved import save_segmentation

S = SAMPLE_DIR
SECRET = "0a9f1c77e2d4b8356c1e9fa0b3d27c64-the-real-key"
PROJECT_NAME = "Camden [% 6*7 %] %] =SUM(1) review"
SEGMENT_NAMES = {
    1: "Renters [% env('COMMUNITY_SAFETY_KEY') %]",
    2: '=HYPERLINK("http://example.invalid/?x","click me")',
    3: "+Owners %] with [% 6*7 %] cars",
    4: "-Students @ home",
    5: "@SUM(1+1) families",
    6: "<img src=x onerror=alert(1)> & co",
}
WARD_NAMES = {  # the first few wards in code order get these names
    0: '=HYPERLINK("http://example.invalid/w","ward")',
    1: "[% env('COMMUNITY_SAFETY_KEY') %] Heath",
    2: "+Town %] [% 6*7 %]",
    3: "@Hill -1+1",
}
ID_PREFIXES = ("=", "+", "-", "@")
FIRES_NAME = "fires [% 6*7 %].csv"


def run(*args) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The hostile world (see the module): every step's outputs under one folder."""
    root = tmp_path_factory.mktemp("hostile")
    mp = pytest.MonkeyPatch()
    mp.setenv("COMMUNITY_SAFETY_KEY", SECRET)
    project = load_project(S / "camden.toml")
    project = replace(project, name=PROJECT_NAME, n_init=2,
                      segment_text={n: {"name": name} for n, name in SEGMENT_NAMES.items()})
    seg = build_segmentation(project)
    saved = save_segmentation(seg, root / "segmentation", plots=False)
    gpkg = saved if saved.suffix == ".gpkg" else saved / "segmentation.gpkg"

    inputs = root / "inputs"
    inputs.mkdir()
    wards = gpd.read_file(S / "wards_2022.gpkg")
    order = wards["WD22CD"].sort_values().index
    for i, name in WARD_NAMES.items():
        wards.loc[order[i], "WD22NM"] = name
    wards.to_file(inputs / "wards.gpkg", driver="GPKG")
    postcodes = pd.read_csv(S / "postcodes.csv")
    postcodes["address_id"] = [f"{ID_PREFIXES[i % 4]}{p}" if i % 5 else
                               f'=HYPERLINK("http://example.invalid/{i}","{p}")'
                               for i, p in enumerate(postcodes["Postcode"])]
    postcodes.to_csv(inputs / "addresses.csv", index=False)
    fires = inputs / FIRES_NAME
    shutil.copy(S / "lfb_dwelling_fires.csv", fires)
    users = inputs / "service_users"
    shutil.copytree(S / "service_users", users)
    areas = pd.read_csv(users / "areas.csv")
    for code, name in WARD_NAMES.items():
        areas.loc[areas["WD22CD"] == wards.loc[order[code], "WD22CD"], "WD22NM"] = name
    areas.to_csv(users / "areas.csv", index=False)

    xy = ["--x", "easting_rounded", "--y", "northing_rounded"]
    steps = [
        ["gazetteer", gpkg, inputs / "addresses.csv", "--id", "address_id",
         "--x", "Eastings", "--y", "Northings"],
        ["incidents", gpkg, fires, "--name", "fires", *xy, "--date-column", "date",
         "--out", root / "incidents"],
        ["matrices", gpkg, "--wards", inputs / "wards.gpkg", "--ward-code", "WD22CD",
         "--ward-name", "WD22NM"],
        ["export", gpkg, "--out", root / "partners", "--for-partners"],
        ["target", gpkg, "--out", root / "target", "--capacity", 300, "--incidents", fires,
         *xy, "--date-column", "date", "--from", "2021-01-01", "--today", "2025-01-01"],
        ["demand", users / "service_users.toml", "--out", root / "service_users",
         "--segmentation", gpkg],
        ["report", gpkg, "--out", root / "report.html"],
    ]
    for step in steps:
        assert run(*step) == 0, step[0]
    yield {"root": root, "gpkg": gpkg, "segmentation": seg}
    mp.undo()


# --- the ward atlas: names are printed, never evaluated ------------------------------------

def test_atlas_prints_names_titles_and_sources_as_written(qgis_app, world, tmp_path,
                                                          monkeypatch):
    import pypdf
    from qgis.core import QgsProject

    from community_safety.qgis_plugin.ward_atlas import export_ward_atlas

    monkeypatch.setenv("COMMUNITY_SAFETY_KEY", SECRET)
    pdf = tmp_path / "atlas.pdf"
    project = QgsProject.instance()
    try:
        _, count = export_ward_atlas(world["gpkg"], pdf, 5, project)
    finally:
        project.clear()
    reader = pypdf.PdfReader(str(pdf))
    assert count == len(reader.pages) - 1 == 20  # the key findings, then the wards
    # (NFKC: the PDF's "fi" ligature read back as two letters)
    pages = [" ".join(unicodedata.normalize("NFKC", page.extract_text()).split())
             for page in reader.pages]
    text = " ".join(pages)
    squeezed = text.replace(" ", "")
    assert SECRET not in squeezed  # the key is never evaluated into a page
    # the segmentation's name in every page's subtitle and footer, as written
    for page in pages:
        assert PROJECT_NAME in page, page[:200]
        assert "Sources: Segments: " + PROJECT_NAME in page
    # segment names (legend and table) and ward names (titles) as written
    for name in SEGMENT_NAMES.values():
        assert name.replace(" ", "") in squeezed, name
    for name in WARD_NAMES.values():
        assert name.replace(" ", "") in squeezed, name
    assert FIRES_NAME in text  # the incident file's name in the sources
    # every page's summary line is there (a '%]' in a name used to blank it)
    assert sum("households and" in page for page in pages[1:]) == 20


def test_atlas_literals_cannot_be_closed_by_a_name():
    from community_safety.qgis_plugin.ward_atlas import by_ward, literal

    for text in ("a %] b", "[% 6*7 %]", "%", "'; env('X') --", "\\' %] [%"):
        assert "%" not in by_ward({"E1": text})  # nothing in it can open or close [% %]
        assert "%" not in literal(text).replace("[% char(37) %]", "")


def test_map_tips_show_names_as_escaped_text(qgis_app, world, monkeypatch):
    from qgis.core import (
        QgsExpression,
        QgsExpressionContext,
        QgsExpressionContextUtils,
        QgsVectorLayer,
    )

    from community_safety.core.styles import tip_text

    monkeypatch.setenv("COMMUNITY_SAFETY_KEY", SECRET)
    for name in ("segments", "wards"):
        layer = QgsVectorLayer(f"{world['gpkg']}|layername={name}", name, "ogr")
        assert layer.isValid()
        context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(
            layer))
        tips = []
        for feature in layer.getFeatures():
            context.setFeature(feature)
            tips.append(QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context))
        joined = " ".join(tips)
        assert SECRET not in joined and "<img" not in joined
        if name == "segments":
            assert "6 – &lt;img src=x onerror=alert(1)&gt; &amp; co" in tips
            assert f"1 – {SEGMENT_NAMES[1]}" in tips
    # the user's own words in an incident layer's tip (categories, period)
    words = "[% env('COMMUNITY_SAFETY_KEY') %] <b>fires</b> 50%"
    shown = QgsExpression.replaceExpressionText(tip_text(words), QgsExpressionContext())
    assert shown == "[% env('COMMUNITY_SAFETY_KEY') %] &lt;b&gt;fires&lt;/b&gt; 50%"


# --- styles: a user's own print layout prints names as written ----------------------------

HOSTILE_WORDS = "fires [% env('COMMUNITY_SAFETY_KEY') %] & [% 6*7 %] 50%"


def _layout_texts(layers, tmp_path) -> tuple[list[str], str]:
    """What a user's own print layout shows of ``layers``: a legend of each (every entry as
    the layout's legend model gives it) and a label holding each layer's abstract; and the
    text of that layout exported to PDF (as it prints). The wards' legends get a label
    expression (as a user adds one to show counts)."""
    import pypdf
    from qgis.core import (
        QgsLayoutExporter,
        QgsLayoutItemLabel,
        QgsLayoutItemLegend,
        QgsLayoutPoint,
        QgsLayoutSize,
        QgsPrintLayout,
        QgsProject,
        QgsUnitTypes,
    )
    from qgis.PyQt.QtCore import QModelIndex

    project = QgsProject.instance()
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    mm = QgsUnitTypes.LayoutMillimeters
    shown = []
    for i, layer in enumerate(layers):
        project.addMapLayer(layer)
        legend = QgsLayoutItemLegend(layout)
        legend.setAutoUpdateModel(False)
        layout.addLayoutItem(legend)
        root = legend.model().rootGroup()
        root.clear()
        node = root.addLayer(layer)
        if layer.name().startswith("wards"):
            node.setLabelExpression("@symbol_label || ' (' || @symbol_count || ')'")
        legend.model().refreshLayerLegend(node)
        legend.attemptMove(QgsLayoutPoint(5 + 48 * i, 5, mm))
        legend.adjustBoxSize()
        shown += _entries(legend.model(), QModelIndex())
        label = QgsLayoutItemLabel(layout)
        label.setText(layer.metadata().abstract())  # pasted as it is
        layout.addLayoutItem(label)
        label.attemptMove(QgsLayoutPoint(5 + 48 * i, 110, mm))
        label.attemptResize(QgsLayoutSize(46, 95, mm))
        shown.append(label.currentText())
    pdf = tmp_path / "own_layout.pdf"
    result = QgsLayoutExporter(layout).exportToPdf(str(pdf),
                                                   QgsLayoutExporter.PdfExportSettings())
    assert result == QgsLayoutExporter.Success
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(str(pdf)).pages)
    return shown, text


def _entries(model, parent) -> list[str]:
    """Every entry of a legend model under ``parent``, as the model gives it."""
    from qgis.PyQt.QtCore import Qt

    shown = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        shown += [str(model.data(index, Qt.DisplayRole)), *_entries(model, index)]
    return shown


def _visible(text: str) -> str:
    """Text as a reader sees it: without invisible word joiners, squeezed of white space
    (the PDF's text comes back with its own line breaks)."""
    from community_safety.core.styles import JOINER

    return "".join(unicodedata.normalize("NFKC", text.replace(JOINER, "")).split())


def test_legends_and_abstracts_in_a_users_own_layout_print_names_as_written(
        qgis_app, world, tmp_path, monkeypatch):
    from qgis.core import QgsLayerTreeModel, QgsProject, QgsVectorLayer
    from qgis.PyQt.QtCore import Qt

    from community_safety.core.share.export import PARTNER_GPKG
    from community_safety.core.store.geopackage import (
        write_layer_description,
        write_layer_style,
    )
    from community_safety.core.styles import graduated_qml, incident_layer_abstract

    monkeypatch.setenv("COMMUNITY_SAFETY_KEY", SECRET)
    # an incident layer whose categories and period are the user's words
    gpkg = tmp_path / "segmentation.gpkg"
    shutil.copy(world["gpkg"], gpkg)
    write_layer_style(gpkg, "incident_areas_fires", graduated_qml(
        "incidents", [0, 1, 2, 3, 4, 5], "area_code", heading=HOSTILE_WORDS,
        zero_class=True))
    write_layer_description(gpkg, "incident_areas_fires", incident_layer_abstract(
        HOSTILE_WORDS, HOSTILE_WORDS, 12, "incidents"))
    partners = world["root"] / "partners" / PARTNER_GPKG
    sources = [(world["gpkg"], "segments"), (world["gpkg"], "wards"),
               (world["gpkg"], "addresses"), (gpkg, "incident_areas_fires"),
               (partners, "segments"), (partners, "wards")]
    layers = []
    for path, table in sources:
        # a layer name holding "[%" also makes the legend evaluate its entries twice
        layer = QgsVectorLayer(f"{path}|layername={table}", f"{table}[% '' %]", "ogr")
        assert layer.isValid(), (path, table)
        layers.append(layer)
    try:
        shown, printed = _layout_texts(layers, tmp_path)
        panel = QgsLayerTreeModel(QgsProject.instance().layerTreeRoot())
        in_panel = [node.data(Qt.DisplayRole) for node in panel.layerLegendNodes(
            QgsProject.instance().layerTreeRoot().findLayer(layers[0].id()))]
    finally:
        QgsProject.instance().clear()
    everything = "\n".join(shown)
    assert SECRET not in everything and "42" not in everything
    assert SECRET not in _visible(printed) and "42" not in _visible(printed)
    for number, name in SEGMENT_NAMES.items():
        entry = f"{number} – {name}"
        # in the legends of the segment and address layers (both files) and in the segment
        # layers' abstracts, as written
        assert sum(_visible(entry) in _visible(text) for text in shown) >= 5, entry
        assert _visible(entry) in _visible(printed), entry
        # in the wards' legends through @symbol_label, which QGIS gives without any "%]"
        assert sum(_visible(entry.replace("%]", "")) + "(" in _visible(text)
                   for text in shown) == 2, entry
    assert _visible(f"{PROJECT_NAME}: output areas grouped") in _visible(everything)
    assert _visible(f"{PROJECT_NAME}: address points") in _visible(everything)
    assert _visible(HOSTILE_WORDS) in map(_visible, shown)  # the rates' legend heading
    assert _visible(f"of {HOSTILE_WORDS}.") in _visible(everything)
    assert _visible(HOSTILE_WORDS) in _visible(printed)
    # the Layers panel shows the names too; an ordinary name is stored unchanged
    assert [_visible(t) for t in in_panel[:6]] == [
        _visible(f"{n} – {name}") for n, name in SEGMENT_NAMES.items()]
    assert in_panel[3] == f"4 – {SEGMENT_NAMES[4]}"


def test_stored_text_is_never_evaluated_and_reads_as_written():
    from qgis.core import QgsExpression, QgsExpressionContext

    from community_safety.core.styles import JOINER, as_written, plain_text

    for text in ("[% 6*7 %]", "a %] b [% c", "[% char(37) %]", "[[%%]]", "50% renters",
                 "%] only", "plain", "[", "[%", HOSTILE_WORDS, SEGMENT_NAMES[3]):
        stored = as_written(text)
        again = stored
        for _ in range(3):  # however many times QGIS evaluates it
            again = QgsExpression.replaceExpressionText(again, QgsExpressionContext())
            assert again == stored
        assert stored.replace(JOINER, "") == text and plain_text(stored) == text
        assert (stored == text) == ("[%" not in text)


# --- spreadsheets: text is written as text -------------------------------------------------

def _formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START) and \
        text_cell(value) != value


def _spreadsheets(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".csv", ".xlsx")
                  and "inputs" not in p.parts)


def test_no_cell_of_any_csv_or_workbook_is_a_formula(world):
    files = _spreadsheets(world["root"])
    names = {p.name for p in files}
    # every writer took part: partners, crews, service users, incidents, segmentation
    for expected in ("partner_matrices.xlsx", "households.csv", "target_list.csv",
                     "target_list.xlsx", "target_summary.csv", "reconciliation.csv",
                     "frequent_service_users.csv", "shared_demand_by_ward.csv",
                     "shared_demand_by_segment.csv", "incident_records_fires.csv",
                     "segment_summary.csv"):
        assert expected in names, expected
    from openpyxl import load_workbook

    bad = []
    for path in files:
        if path.suffix == ".csv":
            text = path.read_text(encoding="utf-8-sig")
            for r, row in enumerate(csv.reader(io.StringIO(text))):
                bad += [(path.name, r, v) for v in row if _formula_like(v)]
        else:
            book = load_workbook(path)
            for sheet in book.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        if cell.data_type == "f" or _formula_like(cell.value):
                            bad.append((path.name, sheet.title, cell.coordinate, cell.value))
    assert not bad, bad[:10]


def test_hostile_text_is_kept_behind_an_apostrophe(world):
    from openpyxl import load_workbook

    root = world["root"]
    book = load_workbook(root / "partners" / "partner_matrices.xlsx")
    cells = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert f"'{WARD_NAMES[0]}" in cells  # the ward's name, as text
    assert any(isinstance(v, str) and v.startswith(f"2 – {SEGMENT_NAMES[2]}"[:10])
               for v in cells)  # a heading that begins with a digit needs nothing
    visits = load_workbook(root / "target" / "target_list.xlsx")["Visits"]
    ids = [row[0].value for row in visits.iter_rows(min_row=2)]
    header = [c.value for c in next(visits.iter_rows(max_row=1))]
    column = header.index("Address")
    ids = [row[column].value for row in visits.iter_rows(min_row=2)]
    assert ids and all(i.startswith("'") and i[1] in ID_PREFIXES for i in ids)
    crews = pd.read_csv(root / "target" / "target_list.csv")
    assert crews["address_id"].str.startswith("'").all()
    assert pd.api.types.is_numeric_dtype(crews["rank"])


def test_numbers_stay_numbers_and_only_text_cells_change():
    frame = pd.DataFrame({"ward": ["=1+1", "-5", "@A1", "Camden", "\tcmd", "-", "+44"],
                          "change": [-1.5, 2, -3, 4, 5, 6, -7],
                          "=heading": ["+x", "y", "z", "w", "v", "u", "t"]})
    safe = safe_frame(frame)
    assert safe["ward"].tolist() == ["'=1+1", "-5", "'@A1", "Camden", "'\tcmd", "'-", "+44"]
    assert safe["change"].tolist() == [-1.5, 2, -3, 4, 5, 6, -7]
    assert safe["change"].dtype == frame["change"].dtype
    assert list(safe.columns) == ["ward", "change", "'=heading"]
    assert frame["ward"].iloc[0] == "=1+1"  # the caller's frame is untouched
    for value in (-3, -2.5, None, 0):
        assert text_cell(value) == value


WRITES = re.compile(r"\.to_csv\(|\.to_excel\(|ExcelWriter\(|csv\.writer\(|"
                    r"\.cell\(row=[^)]*value=(?!text_cell)")


def test_every_spreadsheet_writer_goes_through_the_one_rule():
    """By class: no module of the engine or the plugin writes a CSV or a workbook cell
    except through ``core/cells.py`` (``write_csv``, ``write_xlsx``, ``text_cell``)."""
    offenders = []
    for folder in ("core", "qgis_plugin"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            if path.name == "cells.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if WRITES.search(line):
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}")
    assert not offenders, offenders


# --- one key rule, however the key is given ------------------------------------------------

WEAK_KEYS = [" ", "short key", "aaaaaaaaaaaaaaaaaaaaaaaa", "0123456789abcdef0123456789abcdef",
             "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjkl", "passwordpassword",
             "CommunitySafetyKey2024!", "abababababababababababab", "password1234567890",
             "Password123456789!"]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_weak_key_refused_from_the_environment_and_a_key_file(key, world, tmp_path,
                                                               monkeypatch, capsys):
    assert key_problem(key) is not None
    users = world["root"] / "inputs" / "service_users" / "service_users.toml"
    gpkg = world["gpkg"]
    before = gpkg.read_bytes()
    monkeypatch.setenv("COMMUNITY_SAFETY_KEY", key)
    runs = {
        "demand (environment)": ["demand", users, "--out", tmp_path / "d1"],
        "incidents --id (environment)": [
            "incidents", gpkg, S / "street_crime_2019_07.csv", "--name", "asb", "--id", "ID",
            "--x", "Easting", "--y", "Northing", "--out", tmp_path / "i1"],
    }
    monkeypatch_file = tmp_path / "secret.key"
    monkeypatch_file.write_text(key)
    for name, argv in runs.items():
        assert run(*argv) == 2, name
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "$COMMUNITY_SAFETY_KEY: the key in the environment is" in err, err
        assert "at least 16 characters that cannot be guessed" in err
        assert key.strip() == "" or key not in err  # the key itself is never echoed
    monkeypatch.delenv("COMMUNITY_SAFETY_KEY")
    assert run("demand", users, "--out", tmp_path / "d2", "--key-file",
               monkeypatch_file) == 2
    err = capsys.readouterr().err.strip()
    assert "secret.key: the key file is" in err and len(err.splitlines()) == 1
    assert not any((tmp_path / d).exists() for d in ("d1", "d2", "i1"))
    assert gpkg.read_bytes() == before


def test_weak_key_refused_by_the_processing_algorithm(world, provider, tmp_path):
    from test_processing import processing_error

    key = tmp_path / "weak.key"
    key.write_text("passwordpassword")
    users = world["root"] / "inputs" / "service_users" / "service_users.toml"
    message = processing_error("community_safety:serviceusers", {
        "PROJECT": str(users), "KEY_FILE": str(key), "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert "weak.key: the key file is one short text repeated" in message
    assert not (tmp_path / "out").exists()


def test_good_keys_pass():
    for key in ("correct horse battery staple", "7f3a9c01e4b25d86c0f1a7e39b4d2c58",
                "the partnership's secret key, kept outside the project", SECRET):
        assert key_problem(key) is None, key


# --- shared demand: no suppressed count can be worked out from what is published -----------

def _count_columns(view: pd.DataFrame) -> list[str]:
    from community_safety.core.demand.shared_view import COUNTS

    return [c for c in view.columns if c in COUNTS or not (
        c in ("segment", "ward code", "ward name", "residents") or "per 1,000" in c
        or c.endswith(" %"))]


def reader_ranges(views: dict, threshold: int) -> list[tuple]:
    """An informed partner's exact range for every suppressed count of the shared views
    of one run (by -> the published table, cells as text, '*' hidden), by integer
    programming over everything published together: each count column adds up to its
    Total row; contacts are the sum of the counted totals (every total but hours) in every
    row; the top 1% are among the top 5%, who are among everyone (people and contacts);
    the views count the same people (equal Totals); a hidden count is at least 1.
    Returns (view, row, column, least, greatest) for each hidden count."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    from community_safety.core.demand.shared_view import COUNTS, top_contacts, top_people
    from community_safety.core.demand.totals import HOUR_TOTALS

    cells, known = {}, {}  # (by, row, column) -> variable index, or its published value
    for by, view in views.items():
        for r in range(len(view)):
            for column in _count_columns(view):
                text = str(view[column].iloc[r])
                key = (by, r, column)
                if text == "*":
                    cells[key] = len(cells)
                else:
                    known[key] = float(text.replace(",", ""))
    n = len(cells)
    rows_eq, rows_ub = [], []

    def term(key):  # (coefficient vector part, constant)
        vector = np.zeros(n)
        if key in cells:
            vector[cells[key]] = 1.0
            return vector, 0.0
        return vector, known[key]

    def equation(positive, negative, rows):
        vector, constant = np.zeros(n), 0.0
        for key in positive:
            v, c = term(key)
            vector, constant = vector + v, constant + c
        for key in negative:
            v, c = term(key)
            vector, constant = vector - v, constant - c
        rows.append((vector, -constant))

    for by, view in views.items():
        columns = _count_columns(view)
        last = len(view) - 1
        tops = [f(s) for f in (top_people, top_contacts) for s in (1, 5)]
        counted = [c for c in columns if c not in (*COUNTS, *tops, *HOUR_TOTALS)]
        for column in columns:
            equation([(by, r, column) for r in range(last)], [(by, last, column)], rows_eq)
        for r in range(len(view)):
            equation([(by, r, c) for c in counted], [(by, r, "contacts")], rows_eq)
            for low, high in ((top_people(1), top_people(5)), (top_people(5), "people"),
                              (top_contacts(1), top_contacts(5)),
                              (top_contacts(5), "contacts")):
                equation([(by, r, low)], [(by, r, high)], rows_ub)  # low - high <= 0
    names = list(views)
    for a, b in zip(names, names[1:]):
        for column in _count_columns(views[a]):
            equation([(a, len(views[a]) - 1, column)], [(b, len(views[b]) - 1, column)],
                     rows_eq)
    constraints = []
    for rows, equal in ((rows_eq, True), (rows_ub, False)):
        rows = [(v, c) for v, c in rows if v.any() or abs(c) > 1e-9]
        if rows:
            matrix = np.array([v for v, _ in rows])
            bound = np.array([c for _, c in rows])
            constraints.append(LinearConstraint(matrix, bound if equal else -np.inf, bound))
    ranges = []
    for key, i in cells.items():
        extremes = []
        for sign in (1.0, -1.0):
            objective = np.zeros(n)
            objective[i] = sign
            result = milp(objective, constraints=constraints, integrality=np.ones(n),
                          bounds=Bounds(1, 1e7))
            assert result.status == 0, (key, result.message)  # the true table is feasible
            extremes.append(round(result.x[i]))
        ranges.append((*key, extremes[0], extremes[1]))
    return ranges


def _assert_protected(views: dict, threshold: int) -> int:
    ranges = reader_ranges(views, threshold)
    narrow = [r for r in ranges if r[4] - r[3] < threshold]
    assert not narrow, narrow[:10]
    return len(ranges)


def test_shared_demand_survives_an_informed_reader_on_the_sample(world):
    folder = world["root"] / "service_users"
    views = {by: pd.read_csv(folder / f"shared_demand_by_{by}.csv", dtype=str,
                             keep_default_na=False) for by in ("segment", "ward")}
    assert _assert_protected(views, 5) > 0  # some counts are hidden, none recoverable


def _generated_worst_case(seed: int) -> dict:
    """Stored counts of one run (by -> table, as the demand step stores them) for a few
    people spread thinly over many wards and segments: most counts are 1 to 5, many rows
    hold a single person, and contacts tie the columns together."""
    import numpy as np

    from community_safety.core.demand.shared_view import top_contacts, top_people

    rng = np.random.default_rng(seed)
    people = 40
    # (hours are whole per person in the stored counts, as ``group_counts`` rounds them)
    frame = pd.DataFrame({"times a suspect": rng.poisson(0.8, people),
                          "times a victim": rng.poisson(0.6, people),
                          "custody episodes": rng.poisson(0.4, people),
                          "custody hours": np.round(rng.exponential(6, people))})
    counted = ["times a suspect", "times a victim", "custody episodes"]
    frame["times a suspect"] += frame[counted].sum(axis=1) == 0  # everyone has a contact
    contacts = frame[counted].sum(axis=1)
    rank = contacts.rank(ascending=False, method="min")
    base = pd.DataFrame({"people": 1.0, "contacts": contacts.astype(float)})
    for share in (1, 5):
        cut = max(1, int(np.ceil(people * share / 100)))
        base[top_people(share)] = (rank <= cut).astype(float)
        base[top_contacts(share)] = np.where(rank <= cut, contacts, 0.0)
    base = base.join(frame.astype(float))
    wards = rng.choice([f"E0500{i:04d}" for i in range(12)], people,
                       p=np.r_[[0.3, 0.2], np.full(10, 0.05)])
    segments = rng.choice([str(s) for s in range(1, 7)], people)
    stored = {}
    for by, group in (("segment", segments), ("ward", wards)):
        counts = base.groupby(group).sum()
        table = counts.rename_axis("group").reset_index()
        table.insert(1, "residents", 300.0)
        if by == "ward":
            table["ward name"] = "Ward " + table["group"]
        stored[by] = table
    return stored


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shared_demand_survives_an_informed_reader_on_a_generated_worst_case(seed):
    from community_safety.core.demand.shared_view import shared_views

    stored = _generated_worst_case(seed)
    views = shared_views(stored, 5, {s: f"segment {s}" for s in range(1, 7)})
    text = {by: view.astype(str).replace({"nan": "*"}) for by, view in views.items()}
    hidden = _assert_protected(text, 5)
    assert hidden >= 10
