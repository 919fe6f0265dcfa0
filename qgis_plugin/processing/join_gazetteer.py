"""Processing: give each address of a gazetteer its segment."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterField,
)

from ...core.locate import LocationColumns
from ...core.places import gazetteer_step, gpkg_path
from ..layers import load_on_completion
from .base import EngineAlgorithm
from .point_inputs import add_points_parameter, add_segmentation_parameter, read_points


class JoinGazetteer(EngineAlgorithm):
    NAME = "joingazetteer"
    TITLE = "Join segments to a gazetteer"
    GROUP = "Places and incidents"
    HELP = ("Gives each address point (LLPG, AddressBase, Open UPRN) its output area and "
            "segment: by the area code field when given, else by point-in-polygon (a point on "
            "a shared boundary goes to the area with the lowest code). Adds an 'addresses' "
            "layer and a match report to the segmentation GeoPackage.")

    def define(self):
        add_segmentation_parameter(self)
        add_points_parameter(self, "ADDRESSES", "Address points")
        self.addParameter(QgsProcessingParameterField(
            "ID", self.tr("Address ID field (e.g. UPRN)"), parentLayerParameterName="ADDRESSES"))
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
        layer, report, summary = gazetteer_step(segmentation, frame, id_field, columns,
                                                source_name=name)
        for row in summary.itertuples():
            feedback.pushInfo(f"{row.outcome}: {row.records:,} ({row.percent}%)")
        uri = f"{gpkg_path(segmentation)}|layername=addresses"
        load_on_completion(context, uri, self.tr("Addresses"), "ADDRESS_LAYER")
        return {"SEGMENTATION_OUT": segmentation, "ADDRESS_LAYER": uri}
