"""Processing: give each address of a gazetteer its segment."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterField,
)

from ...core.data.locate import LocationColumns
from ...core.places.gazetteer import placed_line
from ...core.places.steps import gazetteer_step, gpkg_path
from ..layers import load_on_completion
from .base import PLACES, EngineAlgorithm
from .point_inputs import (
    add_area_code_parameter,
    add_points_parameter,
    add_segmentation_parameter,
    read_points,
)


class JoinGazetteer(EngineAlgorithm):
    NAME = "joingazetteer"
    TITLE = "Join segments to a gazetteer"
    GROUP = PLACES
    HELP = ("Gives each address point (LLPG, AddressBase, Open UPRN) its output area and "
            "segment: by the area code field when given, else by point-in-polygon (a point on "
            "a shared boundary goes to the area with the lowest code). Adds an 'addresses' "
            "layer and a match report to the segmentation GeoPackage.")

    def define(self):
        add_segmentation_parameter(self)
        add_points_parameter(self, "ADDRESSES", "Address points",
                             "The gazetteer's address points (LLPG, AddressBase, Open UPRN...), "
                             "in any CRS.")
        self.add(QgsProcessingParameterField(
            "ID", self.tr("Address ID field (e.g. UPRN)"), parentLayerParameterName="ADDRESSES"),
            "The field that identifies each address; repeated IDs are reported as duplicates.")
        add_area_code_parameter(self, "ADDRESSES")
        self.addOutput(QgsProcessingOutputVectorLayer("ADDRESS_LAYER",
                                                      self.tr("Addresses with segments")))
        self.addOutput(QgsProcessingOutputFile("SEGMENTATION_OUT",
                                               self.tr("Segmentation GeoPackage (updated)")))

    def execute(self, parameters, context, feedback):
        segmentation = self.parameterAsFile(parameters, "SEGMENTATION", context)
        frame, name, area_code = read_points(self, parameters, context, feedback, "ADDRESSES")
        id_field = self.parameterAsFields(parameters, "ID", context)[0]
        self.progress(feedback)(0.3, "locating addresses")
        columns = LocationColumns(x="x", y="y", area_code=area_code)
        layer, report, summary = gazetteer_step(
            segmentation, frame, id_field, columns, source_name=name,
            warn=lambda text: feedback.reportError(text, fatalError=False))
        for row in summary.itertuples():
            feedback.pushInfo(f"{row.outcome}: {row.records:,} ({row.percent}%)")
        feedback.pushInfo(placed_line(layer, len(report)))
        uri = f"{gpkg_path(segmentation)}|layername=addresses"
        load_on_completion(context, uri, self.tr("Addresses"), "ADDRESS_LAYER")
        return {"SEGMENTATION_OUT": segmentation, "ADDRESS_LAYER": uri}
