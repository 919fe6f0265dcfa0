"""The engine inside QGIS: every algorithm through processing.run, as a user's script would,
on the Camden sample loaded as QGIS layers; styled results, cancellation, engine errors."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

from community_safety.core.styles import PALETTE

TABLES = ["census_demography", "census_housing", "census_health_care", "census_work"]
VARIABLES = None  # filled from variables.csv


@pytest.fixture(scope="module")
def provider(qgis_app, qgis_processing):
    from community_safety.qgis_plugin.processing.provider import CommunitySafetyProvider

    registry = QgsApplication.processingRegistry()
    if registry.providerById("community_safety") is None:
        registry.addProvider(CommunitySafetyProvider())
    yield registry.providerById("community_safety")


@pytest.fixture(scope="module")
def layers(tmp_path_factory, qgis_app):
    """The sample as layers a GIS officer would have: areas with partner data joined (and
    IMD through the LSOA), postcode points, fire points and ward polygons."""
    folder = tmp_path_factory.mktemp("layers")
    areas = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg")
    for table in TABLES:
        frame = pd.read_csv(SAMPLE_DIR / f"{table}.csv")
        areas = areas.merge(frame[[c for c in frame.columns if c not in areas.columns
                                   or c == "OA11CD"]], on="OA11CD")
    areas = areas.merge(pd.read_csv(SAMPLE_DIR / "imd2019_lsoa.csv")[["LSOA11CD", "IMD19"]],
                        on="LSOA11CD")
    areas.to_file(folder / "areas.gpkg", layer="areas", driver="GPKG")
    postcodes = pd.read_csv(SAMPLE_DIR / "postcodes.csv")
    gpd.GeoDataFrame(postcodes, geometry=gpd.points_from_xy(postcodes.Eastings,
                                                            postcodes.Northings),
                     crs=27700).to_file(folder / "postcodes.gpkg", driver="GPKG")
    fires = pd.read_csv(SAMPLE_DIR / "lfb_dwelling_fires.csv")
    gpd.GeoDataFrame(fires, geometry=gpd.points_from_xy(fires.easting_rounded,
                                                        fires.northing_rounded),
                     crs=27700).to_file(folder / "fires.gpkg", driver="GPKG")

    def layer(path, name):
        loaded = QgsVectorLayer(str(path), name, "ogr")
        assert loaded.isValid(), path
        return loaded

    variables = pd.read_csv(SAMPLE_DIR / "variables.csv")["variable"].tolist()
    return {
        "areas": layer(folder / "areas.gpkg", "Camden areas"),
        "postcodes": layer(folder / "postcodes.gpkg", "postcodes"),
        "fires": layer(folder / "fires.gpkg", "fires"),
        "wards": layer(SAMPLE_DIR / "wards_2022.gpkg", "wards"),
        "variables": variables,
    }


def build_parameters(layers, output, **extra):
    return {"AREAS": layers["areas"], "AREA_CODE": "OA11CD",
            "VARIABLES": layers["variables"], "DEPRIVATION": "IMD19", "MORE_DEPRIVED": 0,
            "RESIDENTS": "usual_residents", "HOUSEHOLDS": "households", "K": 10,
            "N_INIT": 5, "SEED": 2011, "OUTPUT": str(output), **extra}


@pytest.fixture(scope="module")
def built(provider, layers, tmp_path_factory):
    import processing

    output = tmp_path_factory.mktemp("built") / "camden.gpkg"
    return processing.run("community_safety:buildsegmentation",
                          build_parameters(layers, output))


def test_provider_lists_every_algorithm(provider):
    names = sorted(a.name() for a in provider.algorithms())
    assert names == sorted(["buildsegmentation", "choosesegments", "assignareas",
                            "joingazetteer", "profileincidents", "wardmatrices",
                            "exportmatrices"])
    assert provider.name() == "Community safety"


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


def test_assign_areas_keeps_the_segments(provider, layers, built, tmp_path):
    import processing

    result = processing.run("community_safety:assignareas", {
        "SEGMENTATION": built["OUTPUT"], "AREAS": layers["areas"], "AREA_CODE": "OA11CD",
        "OUTPUT": str(tmp_path / "assigned.gpkg")})
    assigned = {f["area_code"]: f["segment"] for f in
                QgsVectorLayer(result["SEGMENTS"], "a", "ogr").getFeatures()}
    original = {f["area_code"]: f["segment"] for f in
                QgsVectorLayer(built["SEGMENTS"], "s", "ogr").getFeatures()}
    assert assigned == original


def test_gazetteer_incidents_matrices_and_export(provider, layers, built, tmp_path):
    import shutil

    import processing

    segmentation = str(tmp_path / "seg.gpkg")
    shutil.copy(built["OUTPUT"], segmentation)
    gaz = processing.run("community_safety:joingazetteer", {
        "SEGMENTATION": segmentation, "ADDRESSES": layers["postcodes"], "ID": "Postcode"})
    assert QgsVectorLayer(gaz["ADDRESS_LAYER"], "a", "ogr").featureCount() == 8354

    inc = processing.run("community_safety:profileincidents", {
        "SEGMENTATION": segmentation, "INCIDENTS": layers["fires"], "NAME": "fires",
        "OUTPUT_FOLDER": str(tmp_path / "fires")})
    profile = pd.read_csv(inc["PROFILE"])
    assert profile["count"].sum() == 2902
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


class CancelAt(QgsProcessingFeedback):
    def __init__(self, at: float):
        super().__init__()
        self.at = at
        self.progressChanged.connect(self._maybe_cancel)

    def _maybe_cancel(self, value):
        if value >= self.at:
            self.cancel()


def test_cancelling_stops_promptly_and_writes_nothing(provider, layers, tmp_path):
    import processing

    output = tmp_path / "out" / "cancelled.gpkg"
    output.parent.mkdir()
    with pytest.raises(QgsProcessingException, match="Cancelled: nothing was written"):
        processing.run("community_safety:buildsegmentation",
                       build_parameters(layers, output, N_INIT=200),
                       feedback=CancelAt(30), context=QgsProcessingContext())
    assert list(output.parent.iterdir()) == []


@pytest.mark.parametrize("change, message", [
    ({"VARIABLES": ["LSOA11CD"]}, "column 'LSOA11CD': 'E01000842' is not a number"),
    ({"K": 800}, "k = 800 is larger than the number of areas (749)"),
])
def test_bad_parameters_give_the_engine_message(provider, layers, tmp_path, change, message):
    import processing

    with pytest.raises(QgsProcessingException) as raised:
        processing.run("community_safety:buildsegmentation",
                       build_parameters(layers, tmp_path / "bad.gpkg", **change))
    assert message in str(raised.value)
    assert not (tmp_path / "bad.gpkg").exists()
