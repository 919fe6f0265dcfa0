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
from ...core.segment.assign import assigned_segmentation
from ...core.segment.notes import assigned_note
from ...core.segment.saved import load_segmentation, save_segmentation_as
from ...core.store.geopackage import gpkg_file
from ...core.store.names import SEGMENT_LAYER
from ..layers import frame_from_source, load_on_completion
from .base import EngineAlgorithm
from .point_inputs import add_segmentation_parameter


class AssignAreas(EngineAlgorithm):
    NAME = "assignareas"
    TITLE = "Assign areas to an existing segmentation"
    HELP = ("Puts new or updated area data on the saved segmentation's scale and gives each "
            "area its nearest segment, keeping the segment numbers and names; each segment's "
            "size, profile and pen portrait are counted again on these areas. The layer needs "
            "the fields the segmentation clustered on, prepared as when the segmentation was "
            "built: shares (percentages of their totals) where it made shares, not the "
            "tables' counts (its manifest's preparation record says how each was made). "
            "Values on another scale are refused, naming the variables. Residents, "
            "households and the deprivation measure are counted again where the layer has "
            "fields of the same names.")

    def define(self):
        add_segmentation_parameter(self)
        self.add(QgsProcessingParameterFeatureSource(
            "AREAS", self.tr("Areas to assign"), [QgsProcessing.TypeVectorPolygon]),
            "New or updated area data: a polygon layer with the fields the segmentation "
            "clustered on (its screening table lists them), prepared as when it was built "
            "(shares, not counts).")
        self.add(QgsProcessingParameterField(
            "AREA_CODE", self.tr("Area code field"), parentLayerParameterName="AREAS"),
            "The field holding each area's code; codes must be unique.")
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Assigned areas"), "GeoPackage (*.gpkg)"),
            "A saved segmentation like the one you assigned to: the same segments (numbers, "
            "names, centres, profiles), these areas with their values, segment and distance "
            "to the segment's centre, styled; its manifest says how many areas changed "
            "segment. Later steps (incidents, "
            "gazetteer, targeting, report) take it as they take a segmentation.")
        self.addOutput(QgsProcessingOutputVectorLayer("SEGMENTS", self.tr("Assigned segments")))

    def execute(self, parameters, context, feedback):
        built = gpkg_file(self.parameterAsFile(parameters, "SEGMENTATION", context))
        seg = load_segmentation(built)
        source = self.parameterAsSource(parameters, "AREAS", context)
        code = self.parameterAsFields(parameters, "AREA_CODE", context)[0]
        # the segments' sizes and deprivation counted again where the layer has them
        params = seg.manifest.get("parameters", {})
        also = [f for f in dict.fromkeys([params.get("residents"), params.get("households"),
                                          params.get("deprivation"), *seg.values.columns])
                if f and f != code and f not in seg.clustered
                and f in source.fields().names()]
        frame = frame_from_source(source, [code, *seg.clustered, *also], feedback)
        data = area_data_from_frame(frame, code, seg.clustered, also, "areas to assign")
        self.progress(feedback)(0.5, "assigning to the nearest segment centres")
        refreshed, _ = assigned_segmentation(seg, data, built)
        feedback.pushInfo(assigned_note(refreshed.manifest) + ".")
        feedback.pushInfo(refreshed.manifest["numbering"].get("description", ""))
        path = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        save_segmentation_as(refreshed, path, plots=False, files=False)
        uri = f"{path}|layername={SEGMENT_LAYER}"
        load_on_completion(context, uri, self.tr("Segments assigned to {}").format(built.name),
                           "SEGMENTS")
        return {"OUTPUT": str(path), "SEGMENTS": uri}
