"""Processing: the partner report, one self-contained HTML file, and its A4 PDF."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputHtml,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
)

from ...core.report.html_report import missing_for_report
from ...core.report.pdf import BROWSER_VARIABLE, write_report_files
from .base import PARTNERS, EngineAlgorithm
from .point_inputs import add_segmentation_parameter, add_suppression_parameter


class WriteReport(EngineAlgorithm):
    NAME = "writereport"
    TITLE = "Partner report (HTML and PDF)"
    GROUP = PARTNERS
    HELP = ("Writes one HTML file for partners and boards, with its maps and charts inside "
            "it (no network needed; it prints, and reads on a phone): the segments with "
            "their pen portraits, index scores, box plots and maps; the incidents by segment "
            "(Table 1); the ward x segment matrices as heat tables; the targeting and "
            "shared-demand summaries when those steps have run; and the method and sources. "
            "Only aggregates, suppressed like the partner export, so it is safe to share. "
            "It can also be printed to an A4 PDF (numbered pages, a contents list, each "
            "section on a new page), which needs Chromium, Google Chrome or Microsoft Edge.")

    def define(self):
        add_segmentation_parameter(self)
        add_suppression_parameter(self, shown="Counts in the report")
        self.add(QgsProcessingParameterBoolean("PDF", self.tr("Also print it to an A4 PDF"),
                                               defaultValue=False),
                 "Also write the report as an A4 PDF of the same name beside the HTML file "
                 "(choosing a .pdf file name does the same). Printed by Chromium, Google "
                 "Chrome or Microsoft Edge, found where it is usually installed or named by "
                 f"the {BROWSER_VARIABLE} environment variable; without one the HTML file "
                 "is written and the log says what to install.")
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Report"), fileFilter="HTML files (*.html);;PDF files (*.pdf)"),
            "The report file (.html, or .pdf for the PDF with the HTML beside it); open it "
            "in a web browser, print it or e-mail it.")
        self.addOutput(QgsProcessingOutputHtml("REPORT", self.tr("Partner report")))
        self.addOutput(QgsProcessingOutputFile("PDF_REPORT", self.tr("Partner report (PDF)")))

    def execute(self, parameters, context, feedback):
        out = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        segmentation = self.parameterAsFile(parameters, "SEGMENTATION", context)
        feedback.pushInfo("Drawing the maps and charts and writing the report...")
        written = write_report_files(segmentation, out,
                                     self.parameterAsInt(parameters, "THRESHOLD", context),
                                     self.parameterAsBool(parameters, "PDF", context))
        feedback.pushInfo(f"Report written to {written.html}")
        if written.pdf:
            feedback.pushInfo(f"A4 PDF written to {written.pdf}")
        if written.no_pdf:  # the HTML is there; the PDF needs a browser
            feedback.reportError(written.no_pdf[:1].upper() + written.no_pdf[1:],
                                 fatalError=False)
        gaps = missing_for_report(segmentation)
        for warning in (gaps, written.unnumbered):  # a section left out, pages unnumbered
            if warning:
                feedback.pushWarning(warning[:1].upper() + warning[1:])
        return {"OUTPUT": str(written.main), "REPORT": str(written.html),
                "PDF_REPORT": str(written.pdf) if written.pdf else None}
