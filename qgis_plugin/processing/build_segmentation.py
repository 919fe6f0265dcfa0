"""Processing: build a segmentation from an output-area layer."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ...core.progress import scaled
from ...core.segment.build import build_segmentation
from ...core.segment.prepare import prepare
from ...core.segment.saved import save_segmentation_as
from ...core.store.names import SEGMENT_LAYER
from ..layers import load_on_completion
from .area_inputs import add_area_inputs, add_method_parameters, read_area_inputs
from .base import EngineAlgorithm


class BuildSegmentation(EngineAlgorithm):
    NAME = "buildsegmentation"
    TITLE = "Build segmentation"
    HELP = ("Screens the candidate variables (drops one of each pair with |r| above the "
            "threshold, binary and near-constant variables), standardises them, groups the "
            "output areas into k segments with k-means (many random starts, a fixed seed), "
            "numbers the segments from least to most deprived and profiles them. Writes one "
            "GeoPackage (the styled segment layer, profiles, screening, reconciliation, "
            "manifest) with CSV tables and box plots beside it.")

    def define(self):
        add_area_inputs(self)
        self.add(QgsProcessingParameterNumber(
            "K", self.tr("Number of segments (k)"), defaultValue=10, minValue=2),
            "How many segments to group the areas into (10 by default; 'Choose number of "
            "segments' helps to pick it).")
        self.add(QgsProcessingParameterNumber(
            "SUBSEGMENTS", self.tr("Sub-segments per segment (0 = none)"), defaultValue=0,
            minValue=0),
            "Split each segment again into this many sub-segments (numbered 3.1, 3.2...), as "
            "national classifications do; 0 for none.", advanced=True)
        add_method_parameters(self)
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Segmentation GeoPackage"), "GeoPackage (*.gpkg)"),
            "The GeoPackage to write (styled segment layer, profiles, screening, "
            "reconciliation, manifest); CSV tables and box plots are written beside it.")
        self.addOutput(QgsProcessingOutputVectorLayer("SEGMENTS", self.tr("Segments")))

    def execute(self, parameters, context, feedback):
        project, data = read_area_inputs(
            self, parameters, context, feedback, k=self.parameterAsInt(parameters, "K", context),
            subsegments=self.parameterAsInt(parameters, "SUBSEGMENTS", context))
        progress = self.progress(feedback, 10, 100)
        prepared = prepare(project, scaled(progress, 0.0, 0.1), data=data)
        seg = build_segmentation(project, scaled(progress, 0.1, 0.8), prepared=prepared)
        path = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        saved = save_segmentation_as(seg, path, plots=True,
                                     progress=scaled(progress, 0.8, 1.0))
        uri = f"{saved}|layername={SEGMENT_LAYER}"
        load_on_completion(context, uri, self.tr("Segments"), "SEGMENTS")
        self.report_segmentation(seg, feedback)
        return {"OUTPUT": str(saved), "SEGMENTS": uri}
