"""Inputs shared by several algorithms: the segmentation GeoPackage, point layers (the
gazetteer and incident algorithms) and the partner suppression threshold."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..layers import frame_from_source


def add_segmentation_parameter(alg) -> None:
    alg.add(QgsProcessingParameterFile(
        "SEGMENTATION", alg.tr("Segmentation GeoPackage"), extension="gpkg"),
        "A segmentation GeoPackage written by 'Build segmentation' or 'Build segmentation "
        "from a project file' (in a model: their Segmentation GeoPackage output).")


def add_suppression_parameter(alg, name: str = "THRESHOLD", shown: str = "") -> None:
    """The partners' small-number threshold: in view (no detail), 5 by default."""
    alg.add(QgsProcessingParameterNumber(
        name, alg.tr("Suppress counts from 1 to"), defaultValue=5, minValue=1),
        f"{shown or 'Counts'} from 1 to this number are shown as * (0 stays 0), and further "
        "counts as needed so none can be worked out from the totals: the rule of every "
        "partner export.")


def add_date_format_parameter(alg) -> None:
    """How the incidents' text dates are written (optional), as every dated step asks it."""
    alg.add(QgsProcessingParameterString("DATE_FORMAT", alg.tr("Date format"), optional=True),
            "Optional: how text dates are written, e.g. %m/%d/%Y for US order (default: ISO, "
            "or day first when the values show it; dates whose day/month order cannot be "
            "told are refused).")


def add_points_parameter(alg, name: str, description: str, help_text: str) -> None:
    alg.add(QgsProcessingParameterFeatureSource(
        name, alg.tr(description), [QgsProcessing.TypeVectorPoint]), help_text)


def add_area_code_parameter(alg, points: str) -> None:
    alg.add(QgsProcessingParameterField(
        "AREA_CODE", alg.tr("Output-area code field (used first when given)"),
        parentLayerParameterName=points, optional=True),
        "Optional: a field holding each point's output-area code. Points with one of the "
        "study's codes are placed by it; the others by point-in-polygon.")


def read_points(alg, parameters, context, feedback, name: str):
    """(the point layer's features as a GeoDataFrame, its name, its area-code field)."""
    source = alg.parameterAsSource(parameters, name, context)
    layer = alg.parameterAsVectorLayer(parameters, name, context)
    label = layer.name() if layer is not None else name.lower()
    frame = frame_from_source(source, source.fields().names(), feedback)
    area_code = alg.parameterAsFields(parameters, "AREA_CODE", context)
    return frame, label, (area_code[0] if area_code else None)


def read_dated_incidents(alg, parameters, context, feedback):
    """The INCIDENTS points with their DATE field (and PROPERTY type field, DATE_FORMAT when
    given) as the engine's incident file, or None when no incident layer was given."""
    from ...core.data.locate import LocationColumns
    from ...core.errors import InputError
    from ...core.targeting.history import IncidentFile

    source = alg.parameterAsSource(parameters, "INCIDENTS", context)
    if source is None:
        return None
    date = alg.parameterAsFields(parameters, "DATE", context)
    if not date:
        raise InputError("incident points need their date field")
    layer = alg.parameterAsVectorLayer(parameters, "INCIDENTS", context)
    kind = alg.parameterAsFields(parameters, "PROPERTY", context)
    return IncidentFile(frame_from_source(source, source.fields().names(), feedback),
                        LocationColumns(x="x", y="y"), date[0],
                        layer.name() if layer is not None else "incidents",
                        date_format=alg.parameterAsString(parameters, "DATE_FORMAT",
                                                          context) or None,
                        property_column=kind[0] if kind else None)
