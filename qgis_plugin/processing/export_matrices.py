"""Processing: export the ward x segment matrices for partners, suppressed."""

from __future__ import annotations

from qgis.core import QgsProcessingOutputFile, QgsProcessingParameterBoolean

from ...core.share.export import PARTNER_GPKG, WORKBOOK
from ...core.share.partner_steps import export_step
from .base import PARTNERS, EngineAlgorithm
from .point_inputs import add_segmentation_parameter, add_suppression_parameter


class ExportMatrices(EngineAlgorithm):
    NAME = "exportmatrices"
    TITLE = "Export matrices for partners"
    GROUP = PARTNERS
    HELP = ("Writes the ward x segment matrices as CSV files and one XLSX workbook with a "
            "Notes sheet. Counts from 1 to the threshold are suppressed (0 stays 0), with "
            "secondary suppression so no suppressed count can be worked out from the totals; "
            "percentages use published counts only. No personal data is written. Optionally "
            "the partner GeoPackage too: the styled segment and ward layers with the "
            "aggregate tables only, suppressed the same way.")

    def define(self):
        add_segmentation_parameter(self)
        add_suppression_parameter(self)
        self.add(QgsProcessingParameterBoolean(
            "GEOPACKAGE", self.tr("Also write the partner GeoPackage"), defaultValue=False),
            f"{PARTNER_GPKG}: the styled segment and ward layers, the suppressed matrices and "
            "incident profiles and the aggregate tables (no addresses, no records), for a "
            "partner to open in their own GIS.")
        self.add_output_folder(
            "Folder for partner files",
            "Where the CSV matrices and the partner workbook (XLSX, with a Notes sheet) are "
            "written.")
        self.addOutput(QgsProcessingOutputFile("WORKBOOK", self.tr("Partner workbook")))
        self.addOutput(QgsProcessingOutputFile("PARTNER_GEOPACKAGE",
                                               self.tr("Partner GeoPackage")))

    def execute(self, parameters, context, feedback):
        out = self.output_folder(parameters, context)
        geopackage = self.parameterAsBool(parameters, "GEOPACKAGE", context)
        written = export_step(self.parameterAsFile(parameters, "SEGMENTATION", context), out,
                              self.parameterAsInt(parameters, "THRESHOLD", context),
                              geopackage=geopackage)
        feedback.pushInfo(f"{len(written)} files written to {out}")
        return {"OUTPUT_FOLDER": str(out), "WORKBOOK": str(out / WORKBOOK),
                "PARTNER_GEOPACKAGE": str(out / PARTNER_GPKG) if geopackage else None}
