"""Results on the map: a model chaining the algorithms, the styled segment layer rendered,
and a print layout with map, legend and title exported to PDF."""

from __future__ import annotations

import pytest
from conftest import build_parameters
from qgis.core import (
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutPoint,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsPrintLayout,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelParameter,
    QgsProcessingParameterVectorLayer,
    QgsProject,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QRectF, QSize, Qt
from qgis.PyQt.QtGui import QColor

from community_safety.core.store.geopackage import read_gpkg_table
from community_safety.core.styles import PALETTE


def child(algorithm: str, child_id: str, **sources) -> QgsProcessingModelChildAlgorithm:
    step = QgsProcessingModelChildAlgorithm(algorithm)
    step.setChildId(child_id)
    for name, source in sources.items():
        step.addParameterSources(name, [source])
    return step


def static(value):
    return QgsProcessingModelChildParameterSource.fromStaticValue(value)


def model_input(name):
    return QgsProcessingModelChildParameterSource.fromModelParameter(name)


def from_child(child_id, output):
    return QgsProcessingModelChildParameterSource.fromChildOutput(child_id, output)


def test_a_model_chains_build_gazetteer_incidents_and_ward_matrices(provider, layers, tmp_path):
    import processing

    model = QgsProcessingModelAlgorithm("Segment, place, tabulate", "Community safety")
    for name in ("areas", "addresses", "fires", "wards"):
        model.addModelParameter(QgsProcessingParameterVectorLayer(name, name),
                                QgsProcessingModelParameter(name))
    parameters = build_parameters(layers, tmp_path / "model.gpkg")
    build_sources = {k: static(v) for k, v in parameters.items() if k != "AREAS"}
    model.addChildAlgorithm(child("community_safety:buildsegmentation", "build",
                                  AREAS=model_input("areas"), **build_sources))
    model.addChildAlgorithm(child("community_safety:joingazetteer", "gazetteer",
                                  SEGMENTATION=from_child("build", "OUTPUT"),
                                  ADDRESSES=model_input("addresses"), ID=static("Postcode")))
    model.addChildAlgorithm(child("community_safety:profileincidents", "incidents",
                                  SEGMENTATION=from_child("gazetteer", "SEGMENTATION_OUT"),
                                  INCIDENTS=model_input("fires"), NAME=static("fires"),
                                  OUTPUT_FOLDER=static(str(tmp_path / "fires"))))
    model.addChildAlgorithm(child("community_safety:wardmatrices", "wards",
                                  SEGMENTATION=from_child("incidents", "SEGMENTATION_OUT"),
                                  WARDS=model_input("wards"), WARD_CODE=static("WD22CD"),
                                  WARD_NAME=static("WD22NM"), RULE=static(0)))
    ok, message = model.checkChildParameters() if hasattr(model, "checkChildParameters") \
        else (True, "")
    assert ok, message
    processing.run(model, {"areas": layers["areas"], "addresses": layers["postcodes"],
                           "fires": layers["fires"], "wards": layers["wards"]})
    addresses = read_gpkg_table(tmp_path / "model.gpkg", "matrix_addresses").set_index("ward")
    assert addresses.loc["Total", "Total"] == 8354  # the gazetteer ran before the matrices
    areas = read_gpkg_table(tmp_path / "model.gpkg", "matrix_areas").set_index("ward")
    assert areas.loc["Total", "Total"] == 749
    # the incidents profiled before the matrices: theirs are among them
    fires = read_gpkg_table(tmp_path / "model.gpkg", "matrix_fires_incidents").set_index("ward")
    assert fires.loc["Total", "Total"] == 2902


@pytest.fixture
def styled_segments(built):
    layer = QgsVectorLayer(built["SEGMENTS"], "Segments", "ogr")
    _, ok = layer.loadDefaultStyle()
    assert ok
    return layer


def test_styled_segment_layer_renders_with_the_palette(styled_segments, tmp_path):
    settings = QgsMapSettings()
    settings.setLayers([styled_segments])
    settings.setDestinationCrs(styled_segments.crs())
    settings.setExtent(styled_segments.extent())
    settings.setOutputSize(QSize(600, 600))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    assert image.save(str(tmp_path / "segments.png"))

    colours, painted = set(), 0
    for x in range(0, 600, 3):
        for y in range(0, 600, 3):
            colour = image.pixelColor(x, y).name().upper()
            colours.add(colour)
            painted += colour != "#FFFFFF"
    assert painted > 0.3 * 200 * 200  # not blank: Camden fills much of its extent
    assert len(set(PALETTE) & colours) >= 9  # the segments' colours are on the map

    legend = styled_segments.renderer().legendSymbolItems()
    assert [item.label().split(" – ")[0] for item in legend] == [str(n) for n in range(1, 11)]


def test_print_layout_with_map_legend_and_title_exports_to_pdf(built, tmp_path):
    project = QgsProject.instance()
    # the project owns this layer (and deletes it): not the fixture's layer
    styled_segments = project.addMapLayer(QgsVectorLayer(built["SEGMENTS"], "Segments", "ogr"))
    assert styled_segments.loadDefaultStyle()[1]
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.setName("Camden segments")
    title = QgsLayoutItemLabel(layout)
    title.setText("Community safety segments: Camden")
    title.adjustSizeToText()
    layout.addLayoutItem(title)
    title.attemptMove(QgsLayoutPoint(10, 8, QgsUnitTypes.LayoutMillimeters))
    map_item = QgsLayoutItemMap(layout)
    map_item.attemptSetSceneRect(QRectF(10, 20, 180, 180))
    map_item.setLayers([styled_segments])
    map_item.setCrs(styled_segments.crs())  # whatever CRS earlier tests left the project in
    map_item.setExtent(styled_segments.extent())
    layout.addLayoutItem(map_item)
    legend = QgsLayoutItemLegend(layout)
    legend.setTitle("Segments")
    legend.setLinkedMap(map_item)
    layout.addLayoutItem(legend)
    legend.attemptMove(QgsLayoutPoint(195, 20, QgsUnitTypes.LayoutMillimeters))
    model = legend.model()
    layer_node = model.index(0, 0)
    legend_entries = [model.data(model.index(i, 0, layer_node), Qt.DisplayRole)
                      for i in range(model.rowCount(layer_node))]
    assert [str(e).split(" – ")[0] for e in legend_entries] == [str(n) for n in range(1, 11)]

    pdf = tmp_path / "segments.pdf"
    exporter = QgsLayoutExporter(layout)
    assert exporter.exportToPdf(str(pdf), QgsLayoutExporter.PdfExportSettings()) == \
        QgsLayoutExporter.Success
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000
    del exporter, legend, map_item, title, layout
    project.removeAllMapLayers()
