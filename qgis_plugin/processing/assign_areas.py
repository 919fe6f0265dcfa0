"""Processing: assign areas to the segments of a saved segmentation."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
)

from ...core.segment.area_data import area_data_from_frame
from ...core.segment.assign import assign_areas
from ...core.segment.saved import load_segmentation, write_assigned_layer
from ...core.store.folders import atomic_file
from ...core.store.names import SEGMENT_LAYER
from ..layers import frame_from_source, load_on_completion
from .base import EngineAlgorithm
from .point_inputs import add_segmentation_parameter


class AssignAreas(EngineAlgorithm):
    NAME = "assignareas"
    TITLE = "Assign areas to an existing segmentation"
    HELP = ("Puts new or updated area data on the saved segmentation's scale and gives each "
            "area its nearest segment, keeping the segment numbers and names. The layer needs "
            "the fields the segmentation clustered on.")

    def define(self):
        add_segmentation_parameter(self)
        self.add(QgsProcessingParameterFeatureSource(
            "AREAS", self.tr("Areas to assign"), [QgsProcessing.TypeVectorPolygon]),
            "New or updated area data: a polygon layer with the fields the segmentation "
            "clustered on (its screening table lists them).")
        self.add(QgsProcessingParameterField(
            "AREA_CODE", self.tr("Area code field"), parentLayerParameterName="AREAS"),
            "The field holding each area's code; codes must be unique.")
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Assigned areas"), "GeoPackage (*.gpkg)"),
            "A new GeoPackage with the areas, their segment, name and distance to the "
            "segment's centre, styled like the segmentation.")
        self.addOutput(QgsProcessingOutputVectorLayer("SEGMENTS", self.tr("Assigned segments")))

    def execute(self, parameters, context, feedback):
        seg = load_segmentation(self.parameterAsFile(parameters, "SEGMENTATION", context))
        source = self.parameterAsSource(parameters, "AREAS", context)
        code = self.parameterAsFields(parameters, "AREA_CODE", context)[0]
        frame = frame_from_source(source, [code, *seg.clustered], feedback)
        data = area_data_from_frame(frame, code, seg.clustered, [], "areas to assign")
        self.progress(feedback)(0.5, "assigning to the nearest segment centres")
        assigned = assign_areas(seg, data.values)
        path = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        with atomic_file(path) as staged:
            write_assigned_layer(seg, data.areas, assigned, staged)
        uri = f"{path}|layername={SEGMENT_LAYER}"
        load_on_completion(context, uri, self.tr("Assigned segments"), "SEGMENTS")
        return {"OUTPUT": str(path), "SEGMENTS": uri}
