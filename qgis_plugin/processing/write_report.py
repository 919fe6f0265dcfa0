"""Processing: the partner report, one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessingOutputHtml,
    QgsProcessingParameterFileDestination,
)

from ...core.report.html_report import missing_for_report, write_report
from .base import PARTNERS, EngineAlgorithm
from .point_inputs import add_segmentation_parameter, add_suppression_parameter


class WriteReport(EngineAlgorithm):
    NAME = "writereport"
    TITLE = "Partner report (HTML)"
    GROUP = PARTNERS
    HELP = ("Writes one HTML file for partners and boards, with its maps and charts inside "
            "it (no network needed; it prints, and reads on a phone): the segments with "
            "their pen portraits, index scores, box plots and maps; the incidents by segment "
            "(Table 1); the ward x segment matrices as heat tables; the targeting and "
            "shared-demand summaries when those steps have run; and the method and sources. "
            "Only aggregates, suppressed like the partner export, so it is safe to share.")

    def define(self):
        add_segmentation_parameter(self)
        add_suppression_parameter(self, shown="Counts in the report")
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Report"), fileFilter="HTML files (*.html)"),
            "The report file (.html); open it in a web browser, print it or e-mail it.")
        self.addOutput(QgsProcessingOutputHtml("REPORT", self.tr("Partner report")))

    def execute(self, parameters, context, feedback):
        out = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        feedback.pushInfo("Drawing the maps and charts and writing the report...")
        path = write_report(self.parameterAsFile(parameters, "SEGMENTATION", context), out,
                            self.parameterAsInt(parameters, "THRESHOLD", context))
        feedback.pushInfo(f"Report written to {path}")
        gaps = missing_for_report(self.parameterAsFile(parameters, "SEGMENTATION", context))
        if gaps:  # a section left out for a missing table: said, not dropped
            feedback.pushWarning(gaps[:1].upper() + gaps[1:])
        return {"OUTPUT": str(path), "REPORT": str(path)}
