"""Processing: frequent service users across agencies (pseudonymised) and shared demand."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ...core.demand.output import RANKED_FILE, shared_file
from ...core.demand.steps import demand_job, summary_lines
from ...core.demand.totals import SCALINGS
from .base import TARGETING, EngineAlgorithm
from .point_inputs import add_suppression_parameter


class ServiceUsers(EngineAlgorithm):
    NAME = "serviceusers"
    TITLE = "Frequent service users"
    GROUP = TARGETING
    HELP = ("Ranks the people who make the most demand on the services, across agencies, by "
            "the police frequent-service-user method: nine totals per person over the 12 "
            "months before the run date (times a suspect, offender, victim; custody episodes "
            "and hours clipped to 0-200; calls and resource hours as caller and as subject; "
            "pre-planned events left out), each divided by the mean of its top 1,000 values "
            "and scaled to 0-1, summed into four metrics (investigations and custody, "
            "originator, subject, overall). Lists the top N of each metric with their ranks "
            "out of everyone, the project's filters (which never re-rank), per-person detail, "
            "a reconciliation of every record, and the shared demand by ward and segment with "
            "small numbers suppressed. Person IDs are pseudonymised with your key (HMAC-SHA-"
            "256) as they are read: no name, date of birth, phone number or address reaches "
            "an output.")

    def define(self):
        self.add(QgsProcessingParameterFile(
            "PROJECT", self.tr("Project file with a [demand] section (TOML)"),
            extension="toml"),
            "The sources (one table per system, mapped to the totals), filters, harm "
            "weights and areas; see resources/sample_data/camden/service_users.")
        self.add(QgsProcessingParameterFile(
            "KEY_FILE", self.tr("Pseudonymisation key file (kept outside the project)"),
            optional=True),
            "A secret of at least 16 characters; the same key gives the same pseudonyms in "
            "every run and agency. Without it, $COMMUNITY_SAFETY_KEY; without either nothing "
            "runs.")
        self.add(QgsProcessingParameterString(
            "RUN_DATE", self.tr("Run date (YYYY-MM-DD; default the project's, else today)"),
            optional=True),
            "The window is the 12 months before this date (the date itself outside).")
        self.add(QgsProcessingParameterNumber(
            "TOP", self.tr("People per metric (top N)"), defaultValue=100, minValue=1),
            "The top N of each of the four metrics are listed, de-duplicated (ties at the "
            "boundary all kept).")
        self.add(QgsProcessingParameterFile(
            "SEGMENTATION", self.tr("Segmentation GeoPackage (for segments)"), extension="gpkg",
            optional=True),
            "Optional: a saved segmentation, to give each home area its segment and add the "
            "shared demand by segment (and by ward, after 'Ward x segment matrices').")
        add_suppression_parameter(self, "SUPPRESS_UP_TO",
                                  shown="Counts in the shared-demand view")
        self.add(QgsProcessingParameterNumber(
            "SCALE_TOP", self.tr("Divide each total by the mean of its top (values)"),
            defaultValue=1000, minValue=1),
            "The method's 1,000: each total is divided by the mean of its largest this many "
            "values (all values when fewer people).", advanced=True)
        self.add(QgsProcessingParameterEnum(
            "SCALING", self.tr("Then scale to 0-1 by"), options=list(SCALINGS),
            defaultValue=0),
            "max: over the largest value (0 stays 0, the largest is 1); cap: ratios above 1 "
            "set to 1.", advanced=True)
        self.add_output_folder(
            "Folder for the results",
            "Where the ranked list, filtered lists, details, reconciliation, notes and the "
            "shared-demand tables are written; other files there are left alone.")
        self.addOutput(QgsProcessingOutputFile("RANKED", self.tr("Frequent service users")))
        self.addOutput(QgsProcessingOutputFile("SHARED", self.tr("Shared demand by ward")))

    def execute(self, parameters, context, feedback):
        key_file = self.parameterAsFile(parameters, "KEY_FILE", context)
        segmentation = self.parameterAsFile(parameters, "SEGMENTATION", context) or None
        out = self.output_folder(parameters, context)
        result, _, key_source = demand_job(
            self.parameterAsFile(parameters, "PROJECT", context), key_file or None, out,
            segmentation=segmentation, replace_folder=False,
            progress=self.progress(feedback, 0, 90),
            run_date=self.parameterAsString(parameters, "RUN_DATE", context) or None,
            top=self.parameterAsInt(parameters, "TOP", context),
            scale_top=self.parameterAsInt(parameters, "SCALE_TOP", context),
            scaling=SCALINGS[self.parameterAsEnum(parameters, "SCALING", context)],
            threshold=self.parameterAsInt(parameters, "SUPPRESS_UP_TO", context))
        for line in summary_lines(result):
            feedback.pushInfo(line)
        feedback.pushInfo(f"Pseudonymised with {key_source}.")
        if segmentation and result.shared:
            feedback.pushInfo(f"The shared-demand tables are also in {segmentation}, for "
                              "the report.")
        shared = out / shared_file("ward") if "ward" in result.shared else None
        return {"OUTPUT_FOLDER": str(out), "RANKED": str(out / RANKED_FILE),
                "SHARED": str(shared) if shared else None}
