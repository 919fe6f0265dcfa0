"""Inputs shared by several algorithms: the segmentation GeoPackage, point layers (the
gazetteer and incident algorithms), the incidents' dates and the risk model's inputs, and the
partner suppression threshold. Each parameter is declared here once, next to the function
that reads it."""

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
from .defaults import POINTS, default_layer, shown_segmentation


def add_segmentation_parameter(alg) -> None:
    """The segmentation GeoPackage: the dock's, until the user chooses another."""
    alg.add(QgsProcessingParameterFile(
        "SEGMENTATION", alg.tr("Segmentation GeoPackage"), extension="gpkg",
        defaultValue=shown_segmentation()),
        "A segmentation GeoPackage written by 'Build segmentation' or 'Build segmentation "
        "from a project file' (in a model: their Segmentation GeoPackage output).")


def add_suppression_parameter(alg, name: str = "THRESHOLD", shown: str = "") -> None:
    """The partners' small-number threshold: in view (no detail), 5 by default."""
    alg.add(QgsProcessingParameterNumber(
        name, alg.tr("Suppress counts from 1 to"), defaultValue=5, minValue=1),
        f"{shown or 'Counts'} from 1 to this number are shown as * (0 stays 0), and further "
        "counts as needed so none can be worked out from the totals: the rule of every "
        "partner export.")


def add_date_window_parameters(alg, first: tuple[str, str], last: tuple[str, str]) -> None:
    """The dates a dated step keeps, DATE_FROM and DATE_TO (optional, YYYY-MM-DD; each given
    as (label before the date form, help)), then how the text dates are written
    (DATE_FORMAT, optional), as every dated step asks them."""
    for name, (shown, help_text) in (("DATE_FROM", first), ("DATE_TO", last)):
        alg.add(QgsProcessingParameterString(name, alg.tr(f"{shown} (YYYY-MM-DD)"),
                                             optional=True), help_text)
    alg.add(QgsProcessingParameterString("DATE_FORMAT", alg.tr("Date format"), optional=True),
            "Optional: how text dates are written, e.g. %m/%d/%Y for US order (default: ISO, "
            "or day first when the values show it; dates whose day/month order cannot be "
            "told are refused).")


def read_date_window(alg, parameters, context) -> tuple[str | None, str | None]:
    """(DATE_FROM, DATE_TO), None where left empty."""
    return (alg.parameterAsString(parameters, "DATE_FROM", context) or None,
            alg.parameterAsString(parameters, "DATE_TO", context) or None)


def read_date_format(alg, parameters, context) -> str | None:
    """DATE_FORMAT, None when left empty."""
    return alg.parameterAsString(parameters, "DATE_FORMAT", context) or None


def add_points_parameter(alg, name: str, description: str, help_text: str,
                         optional: bool = False) -> None:
    alg.add(QgsProcessingParameterFeatureSource(
        name, alg.tr(description), [QgsProcessing.TypeVectorPoint], optional=optional,
        defaultValue=None if optional else default_layer(POINTS)),  # not the segmentation's
        help_text)


def add_area_code_parameter(alg, points: str) -> None:
    alg.add(QgsProcessingParameterField(
        "AREA_CODE", alg.tr("Output-area code field (used first when given)"),
        parentLayerParameterName=points, optional=True),
        "Optional: a field holding each point's output-area code. Points with one of the "
        "study's codes are placed by it; the others by point-in-polygon.")


def add_dated_incidents_parameters(alg, description: str, help_text: str,
                                   optional: bool = False) -> None:
    """The incident points (INCIDENTS) and their date field (DATE), as 'read_dated_incidents'
    reads them; when the points are optional, the date is needed only with them."""
    add_points_parameter(alg, "INCIDENTS", description, help_text, optional)
    alg.add(QgsProcessingParameterField(
        "DATE", alg.tr("Date field"), parentLayerParameterName="INCIDENTS", optional=optional),
        "The incidents' date field (needed with incident points)." if optional
        else "The incidents' date field.")


def add_property_parameter(alg, description: str, advanced: bool = False) -> None:
    """What each past fire was in (PROPERTY, optional), for the risk model."""
    alg.add(QgsProcessingParameterField(
        "PROPERTY", alg.tr(description), parentLayerParameterName="INCIDENTS", optional=True),
        "Optional: what each past fire was in (flats, houses, HMO...), for the model.",
        advanced=advanced)


def add_lookup_parameter(alg, more: str = "", advanced: bool = False) -> None:
    """The larger areas of each output area (LOOKUP, optional CSV), for the risk model's LSOA
    and borough rates; ``more`` ends its help with what else the step does with it."""
    alg.add(QgsProcessingParameterFile(
        "LOOKUP", alg.tr("Area lookup (CSV: area code, LSOA, ..., borough)"),
        extension="csv", optional=True),
        "Optional: larger areas of each output area, smallest first, for the model's LSOA "
        f"and borough rates{f'; {more}' if more else ''}.", advanced=advanced)


def _named_points(alg, parameters, context, feedback, name: str):
    """(the point layer's features as a GeoDataFrame, its name)."""
    source = alg.parameterAsSource(parameters, name, context)
    layer = alg.parameterAsVectorLayer(parameters, name, context)
    label = layer.name() if layer is not None else name.lower()
    return frame_from_source(source, source.fields().names(), feedback), label


def read_points(alg, parameters, context, feedback, name: str):
    """(the point layer's features as a GeoDataFrame, its name, its area-code field)."""
    frame, label = _named_points(alg, parameters, context, feedback, name)
    area_code = alg.parameterAsFields(parameters, "AREA_CODE", context)
    return frame, label, (area_code[0] if area_code else None)


def read_dated_incidents(alg, parameters, context, feedback):
    """The INCIDENTS points with their DATE field (and PROPERTY type field, DATE_FORMAT when
    given) as the engine's incident file, or None when no incident layer was given."""
    from ...core.data.locate import LocationColumns
    from ...core.errors import InputError
    from ...core.targeting.history import IncidentFile

    if alg.parameterAsSource(parameters, "INCIDENTS", context) is None:
        return None
    date = alg.parameterAsFields(parameters, "DATE", context)
    if not date:
        raise InputError("incident points need their date field")
    kind = alg.parameterAsFields(parameters, "PROPERTY", context)
    frame, label = _named_points(alg, parameters, context, feedback, "INCIDENTS")
    return IncidentFile(frame, LocationColumns(x="x", y="y"), date[0], label,
                        date_format=read_date_format(alg, parameters, context),
                        property_column=kind[0] if kind else None)
