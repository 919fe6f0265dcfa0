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

from ...core.project.project_file import Project
from ...core.project.rules import BandRule, ScreeningRules
from ...core.segment.area_data import area_data_from_frame
from ..layers import frame_from_source

STANDARDISE = ["zscore", "range", "ihs_range"]
MISSING = ["median", "drop"]
MORE_DEPRIVED = ["lower", "higher"]


def add_area_inputs(alg, with_deprivation: bool = True) -> None:
    """The area layer, its code field and the variables (and for building: the deprivation
    measure and the size fields), first in the dialog."""
    Field = QgsProcessingParameterField  # noqa: N806
    alg.add(QgsProcessingParameterFeatureSource(
        "AREAS", alg.tr("Output areas (with partner data joined)"),
        [QgsProcessing.TypeVectorPolygon]),
        "A polygon layer with one feature per output area and the partner data as fields "
        "(join tables to it first, e.g. with 'Join attributes by field value'). Tick "
        "'Selected features only' to segment a selection.")
    alg.add(Field("AREA_CODE", alg.tr("Area code field"), parentLayerParameterName="AREAS"),
            "The field holding each area's code (e.g. OA11CD); codes must be unique.")
    alg.add(Field("VARIABLES", alg.tr("Candidate variables"), parentLayerParameterName="AREAS",
                  allowMultiple=True),
            "The numeric fields the segments may be built on. Screening drops one of each "
            "highly correlated pair, binary and near-constant fields, and says why.")
    if not with_deprivation:
        return
    alg.add(Field("DEPRIVATION", alg.tr("Deprivation measure (numbers segments)"),
                  parentLayerParameterName="AREAS", type=Field.Numeric),
            "A numeric field (e.g. IMD rank or score) used to number the segments from 1, "
            "the least deprived, to k, the most deprived. It is profiled but not clustered on.")
    alg.add(QgsProcessingParameterEnum(
        "MORE_DEPRIVED", alg.tr("More deprived areas have"),
        ["lower values (a rank such as IMD rank)", "higher values (a score)"], defaultValue=0),
        "Which way the deprivation measure runs: a rank (1 = most deprived) or a score.")
    alg.add(Field("RESIDENTS", alg.tr("Residents field"), optional=True,
                  parentLayerParameterName="AREAS", type=Field.Numeric),
            "Optional: residents per area, for segment sizes and rates.")
    alg.add(Field("HOUSEHOLDS", alg.tr("Households field"), optional=True,
                  parentLayerParameterName="AREAS", type=Field.Numeric),
            "Optional: households per area, for segment sizes, rates and incident indices.")


def add_method_parameters(alg) -> None:
    """How the variables are screened, standardised and clustered: advanced, after k."""
    alg.add(QgsProcessingParameterNumber(
        "THRESHOLD", alg.tr("Correlation threshold |r|"), QgsProcessingParameterNumber.Double,
        0.8, minValue=0.0, maxValue=1.0),
        "Of each pair of variables correlated above this (absolute Pearson r), one is "
        "dropped. Default 0.8.", advanced=True)
    alg.add(QgsProcessingParameterEnum(
        "MISSING", alg.tr("Missing values"),
        ["fill with the median", "leave the area unclassified"], defaultValue=0),
        "What to do with an area missing a value of a clustered variable: fill it with the "
        "variable's median (counted in the results), or leave the area out.", advanced=True)
    alg.add(QgsProcessingParameterEnum(
        "STANDARDISE", alg.tr("Standardisation"),
        ["z-scores", "range 0-1", "inverse hyperbolic sine, then range"], defaultValue=0),
        "How variables are put on one scale before clustering: z-scores (default), range "
        "0-1, or inverse hyperbolic sine then range (the UK Output Area Classification "
        "recipe).", advanced=True)
    alg.add(QgsProcessingParameterNumber(
        "N_INIT", alg.tr("k-means random starts"), defaultValue=50, minValue=1),
        "How many times k-means starts from random centres; the best result is kept. More "
        "starts: a better, more stable result, slower.", advanced=True)
    alg.add(QgsProcessingParameterNumber("SEED", alg.tr("Random seed"), defaultValue=2011),
            "The random starts are drawn from this number: the same data and seed give the "
            "same segments, bit for bit.", advanced=True)


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
