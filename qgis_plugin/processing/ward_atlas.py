"""Processing: the ward atlas, a QGIS print layout with one page per ward, exported to PDF."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFileDestination,
    QgsProject,
)

from .base import PARTNERS, EngineAlgorithm
from .point_inputs import add_segmentation_parameter, add_suppression_parameter


class WardAtlas(EngineAlgorithm):
    NAME = "wardatlas"
    TITLE = "Ward atlas (PDF)"
    GROUP = PARTNERS
    HELP = ("A PDF opening with the key findings (the report's: the segments with the most "
            "incidents per household, where they live, the targeting tested on later fires "
            "and what changed since the last run, each with its figure), then one A4 "
            "landscape page per ward, sorted by name: a map of the ward's "
            "output areas by segment (neighbouring wards faded), a legend of the segments "
            "in the ward, its households and residents by segment with their shares, and "
            "its incidents by segment (each incident profile's matrix). The counts are "
            "those the partner export publishes (small numbers suppressed, shown as *), so "
            "the PDF is as safe to share. The print layout is added to the project "
            "(Project > Layouts) as 'Ward atlas – <segmentation name>', to edit in the "
            "layout designer and export again. Run 'Ward x segment matrices' first.")

    def flags(self):
        # the layout and its layers join the project: that happens on QGIS's main thread
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def define(self):
        add_segmentation_parameter(self)
        add_suppression_parameter(self, shown="Counts on the pages")
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Ward atlas (PDF)"), fileFilter="PDF files (*.pdf)"),
            "The PDF to write: the key findings, then one page per ward. It is replaced "
            "only once complete.")
        self.addOutput(QgsProcessingOutputNumber(
            "PAGES", self.tr("Ward pages (after the key findings)")))
        self.addOutput(QgsProcessingOutputString("LAYOUT", self.tr("Print layout")))

    def execute(self, parameters, context, feedback):
        from ..ward_atlas import export_ward_atlas

        pdf = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        layout, pages = export_ward_atlas(
            self.parameterAsFile(parameters, "SEGMENTATION", context), pdf,
            self.parameterAsInt(parameters, "THRESHOLD", context),
            project=context.project() or QgsProject.instance(), feedback=feedback)
        feedback.pushInfo(f"The key findings and {pages} ward pages written to {pdf}; the "
                          f"print layout "
                          f"'{layout.name()}' is in Project > Layouts")
        from ...core.report.ward_pages import missing_for_atlas

        gaps = missing_for_atlas(self.parameterAsFile(parameters, "SEGMENTATION", context))
        if gaps:  # a column left out for a missing table: said, not dropped
            feedback.pushWarning(gaps[:1].upper() + gaps[1:])
        return {"OUTPUT": pdf, "PAGES": pages, "LAYOUT": layout.name()}
