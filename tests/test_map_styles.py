"""The maps and tables a community safety officer reads: segment legend and abstract,
address points, incident rate classes, ward labels, ward x segment matrices with names, and
k-means progress lines. The layers are opened from the GeoPackage the way a user's QGIS
opens them (a plain OGR layer, which applies the stored default style)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from qgis.core import (
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsLayerTreeModel,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsRectangle,
    QgsRenderContext,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize, Qt
from qgis.PyQt.QtGui import QColor

from community_safety.core.cli import main
from community_safety.core.places.incidents import IncidentFilter
from community_safety.core.places.matrices import (
    ALL_WARDS,
    TOTAL,
    labelled_matrix,
    matrix_from_table,
)
from community_safety.core.places.steps import incident_period, period_label
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.kmeans import fit_kmeans
from community_safety.core.segment.saved import save_segmentation
from community_safety.core.store.geopackage import read_gpkg_table, write_table
from community_safety.core.styles import segment_colour
from community_safety.qgis_plugin.layers import DefaultStyle

FIRES = SAMPLE_DIR / "lfb_dwelling_fires.csv"
WARDS = SAMPLE_DIR / "wards_2022.gpkg"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The Camden sample taken through every step, as in the README: segments, gazetteer,
    fires, ward matrices (with names) and the partner export."""
    seg = build_segmentation(replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=5))
    folder = tmp_path_factory.mktemp("styles")
    gpkg = save_segmentation(seg, folder / "seg", plots=False)
    run = [
        ["gazetteer", gpkg, SAMPLE_DIR / "postcodes.csv", "--id", "Postcode", "--x",
         "Eastings", "--y", "Northings"],
        ["incidents", gpkg, FIRES, "--name", "fires", "--x", "easting_rounded", "--y",
         "northing_rounded", "--out", folder / "incidents"],
        ["matrices", gpkg, "--wards", WARDS, "--ward-code", "WD22CD", "--ward-name",
         "WD22NM"],
        ["export", gpkg, "--out", folder / "partners", "--threshold", "5"],
    ]
    for args in run:
        assert main([str(a) for a in args]) == 0, args
    return seg, gpkg, folder


def opened(gpkg, name) -> QgsVectorLayer:
    """A layer as QGIS opens it from the GeoPackage (dragged in: default style applied)."""
    layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    assert layer.isValid(), name
    return layer


def render(layers, extent, size=1000, labels=False):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[0].crs())
    settings.setOutputSize(size if isinstance(size, QSize) else QSize(size, size))
    settings.setExtent(extent)
    # as a map canvas or print layout does: @map_scale and the other map variables
    context = QgsExpressionContext()
    context.appendScope(QgsExpressionContextUtils.mapSettingsScope(settings))
    settings.setExpressionContext(context)
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    results = job.takeLabelingResults() if labels else None
    return job.renderedImage(), settings, results


# --- 1. segment layer: full names in the legend and map tip, which way the numbers run ---

def test_segment_legend_shows_full_names_and_the_abstract_says_which_is_most_deprived(
        qgis_app, qgis_new_project, sample):
    seg, gpkg, _ = sample
    layer = opened(gpkg, "segments")
    project = QgsProject.instance()
    project.addMapLayer(layer)
    model = QgsLayerTreeModel(project.layerTreeRoot())
    nodes = model.layerLegendNodes(project.layerTreeRoot().findLayer(layer.id()))
    shown = [node.data(Qt.DisplayRole) for node in nodes]
    names = seg.segment_names
    assert shown == [f"{n} – {names[n]}" for n in range(1, 11)]  # in full, in order
    assert max(len(name) for name in names.values()) > 40  # long names are not cut

    # the full name in the map tip of every feature (and identify's display expression)
    assert layer.displayExpression() == '"segment_name"'
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    for feature in layer.getFeatures():
        context.setFeature(feature)
        tip = QgsExpression.replaceExpressionText(layer.mapTipTemplate(), context)
        assert tip == f"{feature['segment']} – {names[feature['segment']]}"

    abstract = layer.metadata().abstract()
    assert "Segment 1 = least deprived, segment 10 = most deprived" in abstract
    assert "mean deprivation measure (IMD19)" in abstract and "lower = more deprived" in abstract
    assert names[10] in abstract
    project.removeAllMapLayers()


def test_processing_load_puts_the_abstract_in_the_layers_tooltip(qgis_app, sample):
    _, gpkg, _ = sample
    layer = opened(gpkg, "segments")
    assert layer.abstract() == ""  # a plain load leaves the server abstract empty
    DefaultStyle().postProcessLayer(layer, QgsProcessingContext(), QgsProcessingFeedback())
    assert layer.abstract() == layer.metadata().abstract()
    assert layer.renderer().type() == "categorizedSymbol"


def test_every_styled_layer_carries_an_abstract(qgis_app, sample):
    _, gpkg, _ = sample
    expected = {"addresses": "coloured by the segment",
                "incident_areas_fires": "fires per 1,000 households",
                "wards": "dominant segment"}
    for name, words in expected.items():
        assert words in opened(gpkg, name).metadata().abstract(), name


# --- 2. address points: segment colour, dark outline, sized by scale ---

def test_address_points_have_a_dark_outline_and_a_size_that_follows_the_scale(
        qgis_app, sample):
    _, gpkg, _ = sample
    addresses = opened(gpkg, "addresses")
    categories = addresses.renderer().categories()
    assert [c.value() for c in categories] == [str(n) for n in range(1, 11)]
    for category in categories:
        symbol = category.symbol()
        halo, dot = symbol.symbolLayer(0), symbol.symbolLayer(1)
        assert dot.color().name().upper() == segment_colour(int(category.value()))
        assert dot.strokeColor().name() == "#232323"
        assert dot.strokeWidth() == pytest.approx(0.3)
        assert dot.strokeWidthUnit() == QgsUnitTypes.RenderMillimeters
        assert halo.color().name() == "#ffffff" and halo.strokeWidth() > dot.strokeWidth()
        assert dot.sizeUnit() == QgsUnitTypes.RenderMapUnits
        scale = dot.sizeMapUnitScale()
        assert scale.minSizeMMEnabled and scale.maxSizeMMEnabled

    segments = opened(gpkg, "segments")
    borough = segments.extent()
    centre = borough.center()
    street = QgsRectangle(centre.x() - 250, centre.y() - 250, centre.x() + 250,
                          centre.y() + 250)
    dot = categories[0].symbol().symbolLayer(1)

    def millimetres(extent):
        """The dot's size on screen, in mm, at the scale showing ``extent``."""
        _, settings, _ = render([addresses], extent)
        context = QgsRenderContext.fromMapSettings(settings)
        return context.convertToPainterUnits(dot.size(), dot.sizeUnit(),
                                             dot.sizeMapUnitScale()) / context.scaleFactor()

    at_borough, at_street = millimetres(borough), millimetres(street)
    assert at_borough == pytest.approx(1.8)  # never smaller: visible at borough scale
    assert at_street > 2 * at_borough  # larger when zoomed in
    assert at_street <= 5.0 + 1e-6  # but never a blob

    # drawn over the segments, the points stand out: dark outlines the polygons lack
    def dark(image):
        return sum(max(image.pixelColor(x, y).getRgb()[:3]) < 0x40
                   for x in range(0, image.width(), 2) for y in range(0, image.height(), 2))

    alone, _, _ = render([segments], borough)
    with_points, _, _ = render([addresses, segments], borough)
    assert dark(alone) == 0
    assert dark(with_points) > 2000


# --- 3. incident rates: zero class, quintiles, a heading with unit and dates ---

def test_incident_rates_have_a_zero_class_quintiles_and_a_unit_heading(qgis_app, sample):
    _, gpkg, _ = sample
    layer = opened(gpkg, "incident_areas_fires")
    renderer = layer.renderer()
    assert renderer.type() == "graduatedSymbol"
    ranges = renderer.ranges()
    heading, zero, classes = ranges[0], ranges[1], ranges[2:]
    assert heading.label() == "fires per 1,000 households, Jan 2009 – Aug 2024"
    assert zero.label() == "0 – no incidents"
    assert zero.lowerValue() == zero.upperValue() == 0
    assert len(classes) == 5
    for low, high in zip(classes, classes[1:]):
        assert low.upperValue() == pytest.approx(high.lowerValue())

    # which class QGIS draws each area in: its colour
    context = QgsRenderContext()
    renderer.startRender(context, layer.fields())
    rates, colours = [], []
    for feature in layer.getFeatures():
        symbol = renderer.symbolForFeature(feature, context)
        rates.append(feature["rate_per_1000_households"])
        colours.append(symbol.color().name() if symbol else None)
    renderer.stopRender(context)
    rates, colours = pd.Series(rates, dtype=float), pd.Series(colours)
    zero_colour = zero.symbol().color().name()
    assert (rates == 0).sum() > 50
    assert (colours[rates == 0] == zero_colour).all()  # 0: its own class
    assert (colours[rates > 0] != zero_colour).all()
    class_colours = [r.symbol().color().name() for r in classes]
    shares = colours[rates > 0].value_counts(normalize=True).reindex(class_colours)
    assert shares.between(0.15, 0.25).all()  # quintiles of the non-zero rates

    # the heading is the first legend entry, with no symbol of its own to match
    project = QgsProject.instance()
    project.addMapLayer(layer)
    model = QgsLayerTreeModel(project.layerTreeRoot())
    nodes = model.layerLegendNodes(project.layerTreeRoot().findLayer(layer.id()))
    assert [n.data(Qt.DisplayRole) for n in nodes][:2] == [heading.label(), zero.label()]
    project.removeAllMapLayers()


def test_incident_period_from_the_records_or_the_filter():
    assert period_label(pd.Timestamp("2009-01-02"), pd.Timestamp("2024-12-30")) == \
        "2009–2024"
    assert period_label(pd.Timestamp("2019-07-01"), pd.Timestamp("2019-07-31")) == "Jul 2019"
    assert period_label(pd.Timestamp("2019-03-01"), pd.Timestamp("2019-09-30")) == \
        "Mar–Sep 2019"
    assert period_label(pd.Timestamp("2009-01-02"), pd.Timestamp("2024-08-29")) == \
        "Jan 2009 – Aug 2024"
    records = pd.DataFrame({"date": ["2010-05-01", "2012-02-03", "2015-11-30", "bad"],
                            "x": ["1", "2", "3", "4"]})
    counted = pd.Series([True, True, False, False])  # only the counted records' dates
    assert incident_period(records, counted, IncidentFilter()) == "May 2010 – Feb 2012"
    counted = pd.Series([True, True, False, True])
    # a column merely named like a date must hold dates; the filter's column is trusted
    assert incident_period(records, counted, IncidentFilter()) == ""
    assert incident_period(records, counted, IncidentFilter("date")) == "May 2010 – Feb 2012"
    assert incident_period(records, counted, IncidentFilter(
        "date", "2010-01-01", "2012-12-31")) == "2010–2012"
    assert incident_period(records[["x"]], counted, IncidentFilter()) == ""
    months = pd.DataFrame({"Month": ["2019-07"] * 3})
    assert incident_period(months, pd.Series([True] * 3), IncidentFilter()) == "Jul 2019"


# --- 4. wards: labelled at borough scale, never overlapping ---

def _overlapping(placed):
    boxes = [(label.featureId, label.labelRect) for label in placed]
    return [(a, b) for i, (a, one) in enumerate(boxes) for b, other in boxes[i + 1:]
            if one.intersects(other) and one.intersect(other).area() > 0]


@pytest.mark.parametrize("width, height", [(1600, 1000), (1366, 768)])
def test_ward_labels_never_overlap_and_name_the_dominant_segment(qgis_app, sample, width,
                                                                  height):
    """At borough scale on a 1600 x 1000 and a 1366 x 768 screen (the map about 60% of it):
    no two labels overlap (Fortune Green / West Hampstead collided), nearly every ward is
    named with its segment's number; zoomed in, the segment's name joins it."""
    _, gpkg, _ = sample
    wards = opened(gpkg, "wards")
    assert wards.featureCount() == 20 and wards.labelsEnabled()
    assert not wards.labeling().settings().displayAll
    names = {f.id(): f for f in wards.getFeatures()}
    size = QSize(int(width * 0.6), int(height * 0.8))
    image, map_settings, results = render([wards], wards.extent(), size=size, labels=True)
    assert map_settings.scale() > 15_000  # the whole borough on one screen
    placed = [label for label in results.allLabels() if not label.isUnplaced]
    assert not _overlapping(placed), _overlapping(placed)
    assert len({label.featureId for label in placed}) >= 15, len(placed)
    for label in placed:
        ward = names[label.featureId]
        assert label.labelText == (f"{ward['ward_name'].upper()}\n"
                                   f"segment {ward['dominant_segment']}")

    # zoomed in on a ward: its label gives the segment's name
    ward = next(iter(names.values()))
    _, _, close = render([wards], ward.geometry().boundingBox().buffered(200),
                         size=QSize(1000, 800), labels=True)
    (label,) = [lab for lab in close.allLabels() if lab.featureId == ward.id()]
    assert f"{ward['dominant_segment']} – " in label.labelText
    assert ward["dominant_segment_name"].split()[0] in label.labelText


# --- 5. ward x segment matrices: ward names, segment headings, totals ---

def test_matrices_carry_ward_names_and_segment_headings(qgis_app, sample):
    seg, gpkg, folder = sample
    names = seg.segment_names
    headings = [f"{n} – {names[n]}" for n in range(1, 11)]
    table = read_gpkg_table(gpkg, "matrix_areas")
    assert list(table.columns) == ["ward", "ward_name", *headings, TOTAL]
    ward_names = dict(gpd.read_file(WARDS)[["WD22CD", "WD22NM"]].to_numpy())
    body = table[table["ward"] != TOTAL]
    assert len(body) == 20
    assert (body["ward_name"] == body["ward"].map(ward_names)).all()
    assert table.iloc[-1]["ward"] == TOTAL and table.iloc[-1]["ward_name"] == ALL_WARDS
    assert table.iloc[-1][TOTAL] == 749
    # QGIS shows the same headings in the attribute table
    layer = opened(gpkg, "matrix_areas")
    assert [f.name() for f in layer.fields() if f.name() != "fid"] == [
        "ward", "ward_name", *headings, TOTAL]

    # the partner files: the same headings, ward code and name, suppressed counts
    matrix, read_names = matrix_from_table(table)
    assert list(matrix.columns) == [*range(1, 11), TOTAL] and read_names == ward_names
    csv = pd.read_csv(folder / "partners" / "areas.csv", dtype=str, encoding="utf-8-sig")
    assert list(csv.columns) == ["Ward code", "Ward name", *headings, TOTAL]
    assert csv["Ward name"].tolist() == [ward_names[c] for c in body["ward"]] + [ALL_WARDS]
    # the export suppresses every matrix of the GeoPackage together
    import pyogrio

    from community_safety.core.share.export import suppressed_matrices

    everything = {layer[len("matrix_"):]: matrix_from_table(read_gpkg_table(gpkg, layer))[0]
                  for layer, _ in pyogrio.list_layers(gpkg) if layer.startswith("matrix_")}
    published = suppressed_matrices(everything, 5)["areas"]
    shown = csv.set_index("Ward code")[[*headings, TOTAL]]
    for code in matrix.index:
        for number, heading in zip([*range(1, 11), TOTAL], [*headings, TOTAL]):
            value = published.loc[code, number]
            assert shown.loc[code, heading] == ("*" if np.isnan(value) else f"{value:.0f}")
    sheet = openpyxl.load_workbook(folder / "partners" / "partner_matrices.xlsx")[
        "Output areas"]
    assert sheet["A1"].value == "Output areas by ward and segment"
    header = [c.value for c in sheet[3]]
    assert header == ["Ward code", "Ward name", *headings, TOTAL]
    assert sheet.freeze_panes == "C4"  # headings and ward columns stay in view
    notes = pd.read_csv(folder / "partners" / "notes.csv", encoding="utf-8-sig")
    segments_note = notes.set_index("item").loc["Segments", "note"]
    assert segments_note.startswith(f"1 – {names[1]}")


def test_labelled_matrix_round_trip_without_ward_names():
    matrix = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=["E1", "E2"], columns=[1, 2])
    matrix[TOTAL] = matrix.sum(axis=1)
    matrix.loc[TOTAL] = matrix.sum()
    matrix.index.name = "ward"
    table = labelled_matrix(matrix, {1: "Quiet streets", 2: "Busy flats"})
    assert list(table.columns) == ["ward", "1 – Quiet streets", "2 – Busy flats", TOTAL]
    back, names = matrix_from_table(table)
    assert names == {} and back.equals(matrix)
    old_style = matrix.copy()  # matrices saved before they had headings
    old_style.columns = ["1", "2", TOTAL]
    assert matrix_from_table(old_style.reset_index())[0].equals(matrix)


def test_export_of_a_geopackage_saved_before_matrices_had_names(sample, tmp_path):
    seg, gpkg, _ = sample
    copy = tmp_path / "old.gpkg"
    shutil.copy(gpkg, copy)
    old = read_gpkg_table(copy, "matrix_areas").drop(columns="ward_name")
    old.columns = ["ward", *[str(n) for n in range(1, 11)], TOTAL]
    write_table(copy, "matrix_areas", old)
    assert main(["export", str(copy), "--out", str(tmp_path / "p")]) == 0
    csv = pd.read_csv(tmp_path / "p" / "areas.csv", encoding="utf-8-sig")
    assert csv.columns[2] == f"1 – {seg.segment_names[1]}"
    assert csv["Ward name"].iloc[0] and not csv["Ward name"].isna().any()


# --- 6. k-means progress: a line per tenth of the random starts ---

@pytest.mark.parametrize("n_init, lines", [(50, 10), (7, 7), (1, 1), (23, 10)])
def test_kmeans_reports_a_line_per_tenth_of_the_starts(n_init, lines):
    # three clear groups: the starts agree, so no more are run than asked for
    X = np.random.default_rng(1).normal(size=(60, 3)) + np.repeat(10 * np.eye(3), 20, axis=0)
    calls = []
    fit_kmeans(X, 3, n_init=n_init, seed=1, progress=lambda f, m: calls.append((f, m)))
    texts = [m for _, m in calls if m]
    assert len(calls) == n_init + 1  # the fraction still moves after every start
    start_lines = [m for m in texts if "random starts" in m]
    assert len(start_lines) == lines
    assert start_lines[-1].startswith(f"k-means: {n_init:,} of {n_init:,} random starts")
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_processing_log_gets_ten_k_means_lines(qgis_app):
    from community_safety.qgis_plugin.processing.base import EngineAlgorithm

    class Log(QgsProcessingFeedback):
        lines = []

        def setProgressText(self, text):  # noqa: N802 (QGIS's name)
            self.lines.append(text)
            super().setProgressText(text)

    feedback = Log()
    X = np.random.default_rng(2).normal(size=(60, 3))
    fit_kmeans(X, 3, n_init=100, seed=1, progress=EngineAlgorithm.progress(feedback))
    starts = [line for line in feedback.lines if "random starts" in line]
    assert len(starts) == 10 and len(feedback.lines) <= 11  # and "k-means converged"
