"""The engine inside QGIS: every algorithm through processing.run, as a user's script would,
on the Camden sample loaded as QGIS layers; styled results, cancellation, engine errors."""

from __future__ import annotations

import gc
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from conftest import build_parameters
from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

from community_safety.core.segment.saved import load_segmentation
from community_safety.core.styles import PALETTE


def test_provider_lists_every_algorithm(provider):
    names = sorted(a.name() for a in provider.algorithms())
    assert names == sorted(["buildfromproject", "buildsegmentation", "choosesegments",
                            "assignareas", "joingazetteer", "profileincidents",
                            "targetvisits", "modelbacktest", "serviceusers", "wardmatrices",
                            "exportmatrices",
                            "wardatlas", "writereport"])
    assert provider.name() == "Community safety"


def test_frequent_service_users_on_the_synthetic_sample(provider, tmp_path):
    import processing
    from conftest import SAMPLE_DIR

    key = tmp_path / "service_users.key"  # the user's key, outside the project
    key.write_text("a Processing test key, 0123456789")
    result = processing.run("community_safety:serviceusers", {
        "PROJECT": str(SAMPLE_DIR / "service_users" / "service_users.toml"),
        "KEY_FILE": str(key), "OUTPUT_FOLDER": str(tmp_path / "service_users")})
    ranked = pd.read_csv(result["RANKED"])
    assert 100 <= len(ranked) <= 400
    assert {"pseudonym", "overall rank", "subject rank"} <= set(ranked.columns)
    shared = pd.read_csv(result["SHARED"], dtype=str)
    assert shared["ward code"].iloc[-1] == "Total"


def test_build_segmentation(built):
    layer = QgsVectorLayer(built["SEGMENTS"], "segments", "ogr")
    assert layer.isValid() and layer.featureCount() == 749
    names = layer.fields().names()
    assert {"area_code", "segment", "segment_name", "distance"} <= set(names)
    segments = {f["segment"] for f in layer.getFeatures()}
    assert segments == set(range(1, 11))


def test_results_load_styled_with_the_palette_and_legend_in_order(provider, layers, tmp_path):
    import processing

    project = QgsProject.instance()
    project.removeAllMapLayers()
    processing.runAndLoadResults("community_safety:buildsegmentation",
                                 build_parameters(layers, tmp_path / "s.gpkg"))
    (loaded,) = [lyr for lyr in project.mapLayers().values() if lyr.name() == "Segments"]
    renderer = loaded.renderer()
    assert renderer.type() == "categorizedSymbol"
    labels = [c.label() for c in renderer.categories()]
    assert [label.split(" – ")[0] for label in labels] == [str(n) for n in range(1, 11)]
    assert [c.symbol().color().name().upper() for c in renderer.categories()] == list(PALETTE)
    assert loaded.displayExpression() == '"segment_name"'
    project.removeAllMapLayers()


def test_choose_number_of_segments(provider, layers, tmp_path):
    import processing

    result = processing.run("community_safety:choosesegments", {
        "AREAS": layers["areas"], "AREA_CODE": "OA11CD", "VARIABLES": layers["variables"],
        "K_MIN": 3, "K_MAX": 5, "N_INIT": 2, "OUTPUT": str(tmp_path / "k.csv"),
        "ELBOW": str(tmp_path / "elbow.png")})
    table = pd.read_csv(result["OUTPUT"])
    assert list(table["k"]) == [3, 4, 5] and (tmp_path / "elbow.png").stat().st_size > 5000
    assert result["RECOMMENDED_K"] in (3, 4, 5)
    assert result["RECOMMENDATION"].startswith(f"k = {result['RECOMMENDED_K']}: ")
    assert "numbers of segments tried" in result["RECOMMENDATION"]


def test_assign_areas_keeps_the_segments(provider, layers, built, tmp_path):
    import processing

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    result = processing.run("community_safety:assignareas", {
        "SEGMENTATION": built["OUTPUT"], "AREAS": layers["areas"], "AREA_CODE": "OA11CD",
        "OUTPUT": str(tmp_path / "assigned.gpkg")}, context=context)
    # the layer the map gets says what it is: segments assigned to the saved segmentation
    loaded = context.layersToLoadOnCompletion()
    assert [d.name for d in loaded.values()] == [
        f"Segments assigned to {Path(built['OUTPUT']).name}"]
    assigned = {f["area_code"]: f["segment"] for f in
                QgsVectorLayer(result["SEGMENTS"], "a", "ogr").getFeatures()}
    original = {f["area_code"]: f["segment"] for f in
                QgsVectorLayer(built["SEGMENTS"], "s", "ogr").getFeatures()}
    assert assigned == original
    # the same segments, the segmentation's file named as what they were assigned to
    refreshed = load_segmentation(tmp_path / "assigned.gpkg")
    assert refreshed.manifest["assigned"]["from"]["segmentation"] == built["OUTPUT"]
    assert refreshed.manifest["assigned"]["changed_segment"] == 0


def test_assign_areas_refuses_counts_where_the_segmentation_clustered_shares(
        provider, layers, built, tmp_path):
    """The sample's percentages given back as counts of people and households: the
    layer's fields are taken as they are, so the scale is checked (one line naming a
    variable and what to do)."""
    from conftest import SAMPLE_DIR
    from qgis.core import QgsVectorLayer

    areas = gpd.read_file(layers["areas"].source().split("|")[0])
    table = pd.read_csv(SAMPLE_DIR / "variables.csv").set_index("variable")["denominator"]
    made = [v for v, total in table.items() if v in areas and total in areas]
    assert len(made) >= 20
    for variable in made:
        areas[variable] = (areas[variable] * areas[table[variable]] / 100).round()
    areas.to_file(tmp_path / "counts.gpkg", layer="areas", driver="GPKG")
    counts = QgsVectorLayer(str(tmp_path / "counts.gpkg"), "counts", "ogr")
    message = processing_error("community_safety:assignareas", {
        "SEGMENTATION": built["OUTPUT"], "AREAS": counts, "AREA_CODE": "OA11CD",
        "OUTPUT": str(tmp_path / "assigned.gpkg")})
    assert "clustering variables are on another scale from the segmentation's" in message
    assert "prepare every field as when the segmentation was built (percentages, not counts)" \
        in message
    assert not (tmp_path / "assigned.gpkg").exists()


def test_gazetteer_incidents_matrices_and_export(provider, layers, built, tmp_path):
    import shutil

    import processing

    segmentation = str(tmp_path / "seg.gpkg")
    shutil.copy(built["OUTPUT"], segmentation)
    gaz = processing.run("community_safety:joingazetteer", {
        "SEGMENTATION": segmentation, "ADDRESSES": layers["postcodes"], "ID": "Postcode"})
    assert QgsVectorLayer(gaz["ADDRESS_LAYER"], "a", "ogr").featureCount() == 8354

    class Log(QgsProcessingFeedback):
        lines = []

        def pushInfo(self, info):  # noqa: N802 (QGIS's name)
            self.lines.append(info)

    log = Log()
    inc = processing.run("community_safety:profileincidents", {
        "SEGMENTATION": segmentation, "INCIDENTS": layers["fires"], "NAME": "fires",
        "OUTPUT_FOLDER": str(tmp_path / "fires")}, feedback=log)
    profile = pd.read_csv(inc["PROFILE"])
    assert profile["count"].sum() == 2902
    # the log says what the profile counts, as the command line does
    assert "Records: 2,902 matched, 34 outside the area" in log.lines, log.lines
    assert any(line.startswith("Counted in the profile: 2,902 (matched, within the filters")
               for line in log.lines), log.lines
    rates = QgsVectorLayer(inc["RATES"], "rates", "ogr")
    assert rates.featureCount() == 749
    rates.loadDefaultStyle()
    assert rates.renderer().type() == "graduatedSymbol"

    wards = processing.run("community_safety:wardmatrices", {
        "SEGMENTATION": segmentation, "WARDS": layers["wards"], "WARD_CODE": "WD22CD",
        "WARD_NAME": "WD22NM", "RULE": 0})
    ward_layer = QgsVectorLayer(wards["WARD_LAYER"], "w", "ogr")
    assert ward_layer.featureCount() == 20
    assert sum(f["areas_total"] for f in ward_layer.getFeatures()) == 749
    assert sum(f["fires_incidents_total"] for f in ward_layer.getFeatures()) == 2902
    ward_layer.loadDefaultStyle()
    assert ward_layer.renderer().type() == "categorizedSymbol"
    assert ward_layer.labelsEnabled()

    out = processing.run("community_safety:exportmatrices", {
        "SEGMENTATION": segmentation, "THRESHOLD": 5,
        "OUTPUT_FOLDER": str(tmp_path / "partners")})
    import openpyxl

    assert "Notes" in openpyxl.load_workbook(out["WORKBOOK"]).sheetnames
    assert out["PARTNER_GEOPACKAGE"] is None  # asked for: below
    out = processing.run("community_safety:exportmatrices", {
        "SEGMENTATION": segmentation, "THRESHOLD": 5, "GEOPACKAGE": True,
        "OUTPUT_FOLDER": str(tmp_path / "partners")})
    shared = QgsVectorLayer(f"{out['PARTNER_GEOPACKAGE']}|layername=segments", "shared", "ogr")
    assert shared.isValid() and shared.featureCount() == 749
    assert not {"addresses", "incident_records_fires"} & {
        name for name, _ in pyogrio.list_layers(out["PARTNER_GEOPACKAGE"])}

    report = processing.run("community_safety:writereport", {
        "SEGMENTATION": segmentation, "OUTPUT": str(tmp_path / "report.html")})
    html = Path(report["REPORT"]).read_text(encoding="utf-8")
    assert "Fires: incidents" not in html and "Fires, " in html
    assert html.count("data:image/png;base64,") >= 22


class CancelAt(QgsProcessingFeedback):
    def __init__(self, at: float):
        super().__init__()
        self.at = at
        self.progressChanged.connect(self._maybe_cancel)

    def _maybe_cancel(self, value):
        if value >= self.at:
            self.cancel()


def processing_error(algorithm: str, parameters: dict, **options) -> str:
    """The message of the Processing error an algorithm ends with.

    QGIS 3.22 keeps the frames of Processing's own Python code alive after a Python
    algorithm fails (a native algorithm's failure does not); their locals (the context, the
    layers) are then freed only at interpreter exit, after QGIS has shut down, which crashes
    Python. Clearing the frames here frees them while QGIS still runs."""
    import traceback

    import processing

    message = None
    try:
        processing.run(algorithm, parameters, **options)
    except QgsProcessingException as err:
        message = str(err)
        traceback.clear_frames(err.__traceback__)
    # the retained frames reach this one too: empty what it shares with them
    parameters.clear()
    options.clear()
    gc.collect()
    assert message is not None, f"{algorithm} ended without an error"
    return message


def test_cancelling_stops_promptly_and_writes_nothing(provider, layers, tmp_path):
    output = tmp_path / "out" / "cancelled.gpkg"
    output.parent.mkdir()
    feedback, context = CancelAt(30), QgsProcessingContext()
    message = processing_error("community_safety:buildsegmentation",
                               build_parameters(layers, output, N_INIT=200),
                               feedback=feedback, context=context)
    assert "Cancelled: nothing was written" in message
    assert feedback.isCanceled()
    assert list(output.parent.iterdir()) == []
    del feedback, context
    gc.collect()


@pytest.mark.parametrize("change, message", [
    ({"VARIABLES": ["LSOA11CD"]}, "column 'LSOA11CD': 'E01000842' is not a number"),
    ({"K": 800}, "k = 800 is larger than the number of areas (749)"),
])
def test_bad_parameters_give_the_engine_message(provider, layers, tmp_path, change, message):
    assert message in processing_error("community_safety:buildsegmentation",
                                       build_parameters(layers, tmp_path / "bad.gpkg", **change))
    assert not (tmp_path / "bad.gpkg").exists()


def test_selected_features_only(provider, layers, tmp_path):
    import processing
    from qgis.core import QgsProcessingFeatureSourceDefinition, QgsProject, QgsVectorLayer

    project = QgsProject.instance()
    areas = project.addMapLayer(QgsVectorLayer(layers["areas"].source(), "areas", "ogr"))
    areas.selectByIds([f.id() for f in areas.getFeatures()][:300])
    selection = QgsProcessingFeatureSourceDefinition(areas.id(), selectedFeaturesOnly=True)
    result = processing.run("community_safety:buildsegmentation",
                            build_parameters(layers, tmp_path / "sel.gpkg", AREAS=selection,
                                             K=4))
    assert QgsVectorLayer(result["SEGMENTS"], "s", "ogr").featureCount() == 300
    project.removeAllMapLayers()


def test_layer_conversion_keeps_types_nulls_and_dates(qgis_app):
    from qgis.core import QgsFeature, QgsField, QgsGeometry, QgsPointXY, QgsVectorLayer
    from qgis.PyQt.QtCore import QDate, QVariant

    from community_safety.qgis_plugin.layers import frame_from_source

    layer = QgsVectorLayer("Point?crs=EPSG:27700", "points", "memory")
    layer.dataProvider().addAttributes([QgsField("code", QVariant.String),
                                        QgsField("count", QVariant.Int),
                                        QgsField("share", QVariant.Double),
                                        QgsField("day", QVariant.Date)])
    layer.updateFields()
    for i, values in enumerate([["E00000001", 3, 1.5, QDate(2024, 5, 1)],
                                ["E00000002", None, None, None]]):
        feature = QgsFeature(layer.fields())
        feature.setAttributes(values)
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(529000 + i, 184000)))
        layer.dataProvider().addFeature(feature)
    frame = frame_from_source(layer, ["code", "count", "share", "day"])
    assert frame.crs.to_epsg() == 27700 and len(frame) == 2
    assert frame["count"].iloc[0] == 3 and frame["share"].iloc[0] == 1.5
    assert pd.isna(frame["count"].iloc[1]) and pd.isna(frame["share"].iloc[1])
    assert frame["day"].iloc[0] == "2024-05-01" and pd.isna(frame["day"].iloc[1])
    assert frame.geometry.x.tolist() == [529000, 529001]
