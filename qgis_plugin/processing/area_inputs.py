"""The inputs that building a segmentation and choosing k share: an area layer with its
code field, the variables and the method's parameters, read into an engine project."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
)

from ...core.profiles import BandRule
from ...core.project import Project
from ...core.screening import ScreeningRules
from ...core.segmentation import area_data_from_frame
from ..layers import frame_from_source

STANDARDISE = ["zscore", "range", "ihs_range"]
MISSING = ["median", "drop"]
MORE_DEPRIVED = ["lower", "higher"]


def add_area_parameters(alg, with_deprivation: bool = True) -> None:
    Field = QgsProcessingParameterField  # noqa: N806
    alg.addParameter(QgsProcessingParameterFeatureSource(
        "AREAS", alg.tr("Output areas (with partner data joined)"),
        [QgsProcessing.TypeVectorPolygon]))
    alg.addParameter(Field("AREA_CODE", alg.tr("Area code field"),
                           parentLayerParameterName="AREAS"))
    alg.addParameter(Field("VARIABLES", alg.tr("Candidate variables"),
                           parentLayerParameterName="AREAS", allowMultiple=True))
    if with_deprivation:
        alg.addParameter(Field("DEPRIVATION", alg.tr("Deprivation measure (numbers segments)"),
                               parentLayerParameterName="AREAS", type=Field.Numeric))
        alg.addParameter(QgsProcessingParameterEnum(
            "MORE_DEPRIVED", alg.tr("More deprived areas have"),
            ["lower values (a rank such as IMD rank)", "higher values (a score)"],
            defaultValue=0))
        alg.addParameter(Field("RESIDENTS", alg.tr("Residents field"), optional=True,
                               parentLayerParameterName="AREAS", type=Field.Numeric))
        alg.addParameter(Field("HOUSEHOLDS", alg.tr("Households field"), optional=True,
                               parentLayerParameterName="AREAS", type=Field.Numeric))
    alg.addParameter(QgsProcessingParameterEnum(
        "STANDARDISE", alg.tr("Standardisation"),
        ["z-scores", "range 0-1", "inverse hyperbolic sine, then range"], defaultValue=0))
    alg.addParameter(QgsProcessingParameterEnum(
        "MISSING", alg.tr("Missing values"),
        ["fill with the median", "leave the area unclassified"], defaultValue=0))
    alg.addParameter(QgsProcessingParameterNumber(
        "THRESHOLD", alg.tr("Correlation threshold |r|"), QgsProcessingParameterNumber.Double,
        0.8, minValue=0.0, maxValue=1.0))
    alg.addParameter(QgsProcessingParameterNumber(
        "N_INIT", alg.tr("k-means random starts"), defaultValue=50, minValue=1))
    alg.addParameter(QgsProcessingParameterNumber("SEED", alg.tr("Random seed"),
                                                  defaultValue=2011))


def read_area_inputs(alg, parameters, context, feedback, k: int = 10, subsegments: int = 0):
    """(project, area data) for the engine, from the algorithm's parameters."""
    source = alg.parameterAsSource(parameters, "AREAS", context)
    layer = alg.parameterAsVectorLayer(parameters, "AREAS", context)
    name = layer.name() if layer is not None else "areas"
    code = alg.parameterAsFields(parameters, "AREA_CODE", context)[0]
    variables = alg.parameterAsFields(parameters, "VARIABLES", context)
    roles = {}
    for role in ("DEPRIVATION", "RESIDENTS", "HOUSEHOLDS"):
        if alg.parameterDefinition(role) is not None:  # choose-k has no such roles
            fields = alg.parameterAsFields(parameters, role, context)
            roles[role] = fields[0] if fields else None
    context_fields = [f for f in roles.values() if f and f not in variables]
    frame = frame_from_source(source, [code, *variables, *context_fields], feedback)
    data = area_data_from_frame(frame, code, variables, context_fields, name)
    project = Project(
        path=Path(name), name=name, boundaries=Path(name), boundary_code=code,
        boundary_layer=None, tables=(), k=k,
        n_init=alg.parameterAsInt(parameters, "N_INIT", context),
        seed=alg.parameterAsInt(parameters, "SEED", context),
        standardise=STANDARDISE[alg.parameterAsEnum(parameters, "STANDARDISE", context)],
        missing=MISSING[alg.parameterAsEnum(parameters, "MISSING", context)],
        subsegments=subsegments,
        screening=ScreeningRules(threshold=alg.parameterAsDouble(parameters, "THRESHOLD",
                                                                 context)),
        deprivation=roles.get("DEPRIVATION"),
        more_deprived=MORE_DEPRIVED[alg.parameterAsEnum(parameters, "MORE_DEPRIVED", context)]
        if roles.get("DEPRIVATION") else "lower",
        residents=roles.get("RESIDENTS"), households=roles.get("HOUSEHOLDS"),
        bands=BandRule(),
    )
    return project, data
