"""Processing: ward x segment matrices and the ward layer."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
)

from ...core.data.crs import LAYER_FIX
from ...core.data.ingest import reproject_to_bng
from ...core.places.steps import gpkg_path
from ...core.share.partner_steps import WardSource, matrices_step
from ...core.share.partner_words import matrices_said
from ..layers import frame_from_source, load_on_completion
from .base import PARTNERS, EngineAlgorithm
from .defaults import POLYGONS, WARD_CODE, WARD_CODE_VALUE, WARD_NAME, default_field, default_layer
from .point_inputs import add_segmentation_parameter

RULES = ["overlap", "centroid"]


class WardMatrices(EngineAlgorithm):
    NAME = "wardmatrices"
    TITLE = "Ward x segment matrices"
    GROUP = PARTNERS
    HELP = ("Areas, households, residents, gazetteer addresses and every incident profile by "
            "ward and segment, with totals, stored in the segmentation GeoPackage; and a ward "
            "layer coloured and labelled by each ward's dominant segment. Areas go to the ward "
            "holding most of their area, or the ward containing their representative point.")

    def define(self):
        add_segmentation_parameter(self)
        wards = default_layer(POLYGONS)  # the project's own polygons, not the segmentation's
        self.add(QgsProcessingParameterFeatureSource(
            "WARDS", self.tr("Wards"), [QgsProcessing.TypeVectorPolygon], defaultValue=wards),
            "The ward polygons (or any areas partners report by), in any CRS.")
        self.add(QgsProcessingParameterField(
            "WARD_CODE", self.tr("Ward code field"), parentLayerParameterName="WARDS",
            defaultValue=default_field(wards, WARD_CODE, WARD_CODE_VALUE)),
            "The field holding each ward's code (e.g. WD22CD).")
        self.add(QgsProcessingParameterField(
            "WARD_NAME", self.tr("Ward name field"), parentLayerParameterName="WARDS",
            optional=True, defaultValue=default_field(wards, WARD_NAME)),
            "Optional: the field holding each ward's name, shown in the matrices and labels.")
        self.add(QgsProcessingParameterEnum(
            "RULE", self.tr("Assign each area to"),
            ["the ward holding most of its area", "the ward containing its representative "
             "point"], defaultValue=0),
            "How an output area that crosses a ward boundary is counted: in the ward holding "
            "most of its area (default), or the ward containing its representative point.",
            advanced=True)
        self.addOutput(QgsProcessingOutputVectorLayer("WARD_LAYER", self.tr("Wards")))
        self.addOutput(QgsProcessingOutputFile("SEGMENTATION_OUT",
                                               self.tr("Segmentation GeoPackage (updated)")))

    def execute(self, parameters, context, feedback):
        segmentation = self.parameterAsFile(parameters, "SEGMENTATION", context)
        code = self.parameterAsFields(parameters, "WARD_CODE", context)[0]
        names = self.parameterAsFields(parameters, "WARD_NAME", context)
        source = self.parameterAsSource(parameters, "WARDS", context)
        frame = frame_from_source(source, [code, *names], feedback)
        frame = reproject_to_bng(frame, "ward layer", LAYER_FIX)
        rule = RULES[self.parameterAsEnum(parameters, "RULE", context)]
        self.progress(feedback)(0.3, "assigning areas to wards")
        matrices, layer = matrices_step(
            segmentation, WardSource(Path("ward layer"), code, names[0] if names else None,
                                     rule=rule), ward_frame=frame, warn=feedback.pushWarning)
        for line in matrices_said(segmentation, matrices):
            feedback.pushInfo(line)
        uri = f"{gpkg_path(segmentation)}|layername=wards"
        load_on_completion(context, uri, self.tr("Wards by dominant segment"), "WARD_LAYER")
        return {"WARD_LAYER": uri, "SEGMENTATION_OUT": segmentation}
