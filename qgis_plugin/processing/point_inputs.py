"""Point-layer inputs shared by the gazetteer and incident algorithms."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
)

from ..layers import frame_from_source


def add_segmentation_parameter(alg) -> None:
    alg.addParameter(QgsProcessingParameterFile(
        "SEGMENTATION", alg.tr("Segmentation GeoPackage"), extension="gpkg"))


def add_points_parameter(alg, name: str, description: str) -> None:
    alg.addParameter(QgsProcessingParameterFeatureSource(
        name, alg.tr(description), [QgsProcessing.TypeVectorPoint]))
    alg.addParameter(QgsProcessingParameterField(
        "AREA_CODE", alg.tr("Output-area code field (used first when given)"),
        parentLayerParameterName=name, optional=True))


def read_points(alg, parameters, context, feedback, name: str):
    """(the point layer's features as a GeoDataFrame, its name, its area-code field)."""
    source = alg.parameterAsSource(parameters, name, context)
    layer = alg.parameterAsVectorLayer(parameters, name, context)
    label = layer.name() if layer is not None else name.lower()
    frame = frame_from_source(source, source.fields().names(), feedback)
    area_code = alg.parameterAsFields(parameters, "AREA_CODE", context)
    return frame, label, (area_code[0] if area_code else None)
