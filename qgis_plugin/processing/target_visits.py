"""Processing: home fire safety check targeting, a ranked and explained visit list."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ...core.targeting.steps import TARGET_GPKG, TargetInputs, summary_lines, target_step
from ...core.targeting.visit_list import TargetOptions, parse_segments
from ..layers import load_on_completion
from .base import TARGETING, EngineAlgorithm
from .point_inputs import (
    add_date_window_parameters,
    add_dated_incidents_parameters,
    add_lookup_parameter,
    add_property_parameter,
    add_segmentation_parameter,
    read_date_format,
    read_date_window,
    read_dated_incidents,
)


def _listed(text: str) -> tuple:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


class TargetVisits(EngineAlgorithm):
    NAME = "targetvisits"
    TITLE = "Target home fire safety checks"
    GROUP = TARGETING
    HELP = ("Ranks the gazetteer's addresses by expected fires per year: the segment's fire "
            "rate per household, the area's own rate shrunk toward it (empirical Bayes, so a "
            "small area with one fire does not jump to the top), households at the address "
            "and optional partner flags with weights. Leaves out addresses visited recently, "
            "opted out, non-residential or outside the chosen wards and segments, and fills "
            "the capacity in rank order (ties: the area's own fires per household, then its "
            "fires, then area code, then address ID). Writes the crews' "
            "list (CSV and XLSX, ordered by ward and area, each row saying why), a target "
            "layer by priority, a summary of aggregates only, and a reconciliation of every "
            "input row.")

    def define(self):
        add_segmentation_parameter(self)
        self.add(QgsProcessingParameterNumber(
            "CAPACITY", self.tr("Number of visits"), defaultValue=500, minValue=0,
            optional=True),
            "How many addresses the crews can visit; ignored when a capacity table is given.")
        self.add(QgsProcessingParameterFile(
            "CAPACITY_TABLE", self.tr("Visits per ward (CSV: ward_code, visits)"),
            extension="csv", optional=True),
            "Optional: visits per ward instead of one number (needs 'Ward x segment "
            "matrices' to have been run).")
        self.add(QgsProcessingParameterBoolean(
            "CLUSTER", self.tr("Cluster by area (whole output areas)"), defaultValue=False),
            "Rank output areas and list every eligible address of each chosen area, so crews "
            "work streets rather than scattered houses.")
        add_dated_incidents_parameters(
            self, "Incident points with dates (default: the stored counts)",
            "Optional: the fires as points with a date field, to score on a window; without "
            "them the counts stored by 'Profile incidents by segment' are used.", optional=True)
        add_date_window_parameters(
            self, ("Window from", "Optional: first date of the incident window."),
            ("Window to", "Optional: last date of the incident window."))
        self.add(QgsProcessingParameterString(
            "INCIDENT_TABLE", self.tr("Stored incident profile name"), optional=True),
            "Optional: which stored profile to score on (e.g. fires), when there are several.")
        self.add(QgsProcessingParameterFile(
            "VISITED", self.tr("Visits made (CSV: id, date)"), extension="csv",
            optional=True),
            "Optional: earlier visits by address ID; unknown IDs and future dates are refused.")
        self.add(QgsProcessingParameterFile(
            "OPTED_OUT", self.tr("Opted out (CSV: id)"), extension="csv", optional=True),
            "Optional: addresses that asked not to be visited.")
        self.add(QgsProcessingParameterFile(
            "FLAGS", self.tr("Partner flags (CSV: id, flag)"), extension="csv",
            optional=True),
            "Optional: one row per address and flag (e.g. over_75_alone); the flags "
            "non_residential and opted_out leave the address out.")
        self.add(QgsProcessingParameterString(
            "FLAG_WEIGHTS", self.tr("Flag weights (e.g. over_75_alone=2,smoker=1.5)"),
            optional=True),
            "A weight for every flag in the flag file: an address's expected fires are "
            "multiplied by the weights of its flags.")
        self.add(QgsProcessingParameterBoolean(
            "MODEL", self.tr("Score with the service-wide risk model"), defaultValue=False),
            "Expected fires per household per year from a model fitted on every area given "
            "(own and neighbouring fires with time decay, LSOA/ward rates, property types of "
            "past fires, census factors, segment); needs incident points with dates. The "
            "reasons then say what raises each area's risk in words.")
        self.add(QgsProcessingParameterBoolean(
            "POSTCODE_POINTS", self.tr("The gazetteer is postcode points (capacity in "
                                       "households)"), defaultValue=False),
            "Each point holds its share of its area's households; the list says 'postcode "
            "(about N households)', the number of visits counts households and the postcodes "
            "are ranked by expected fires per household (a large postcode does not use up "
            "the households first). It needs the households known (the project's [sizes] "
            "households): without them it is refused, as each postcode would count as one "
            "household.")
        self.add(QgsProcessingParameterNumber(
            "VISITED_MONTHS", self.tr("Leave out addresses visited within (months)"),
            defaultValue=12, minValue=0),
            "Addresses visited more recently than this are left out.", advanced=True)
        self.add(QgsProcessingParameterString(
            "WARDS", self.tr("Only these wards (names or codes, comma separated)"),
            optional=True),
            "Optional: the wards to keep, by name or code, in any case.", advanced=True)
        self.add(QgsProcessingParameterString(
            "SEGMENTS", self.tr("Only these segments (comma separated)"), optional=True),
            "Optional: segment numbers to keep.", advanced=True)
        self.add(QgsProcessingParameterString(
            "TODAY", self.tr("Count visits back from (YYYY-MM-DD, default today)"),
            optional=True),
            "Optional: the date the visit months are counted back from.", advanced=True)
        add_property_parameter(self, "Property type field (risk model)", advanced=True)
        add_lookup_parameter(self, advanced=True)
        self.add_output_folder(
            "Folder for the target list",
            "Where target_list.csv/.xlsx (the crews' list, with addresses), target.gpkg, "
            "target_summary.csv (aggregates only) and reconciliation.csv are written; other "
            "files there are left alone.")
        self.addOutput(QgsProcessingOutputFile("TARGET_LIST", self.tr("Target list (CSV)")))
        self.addOutput(QgsProcessingOutputVectorLayer("TARGETS", self.tr("Target addresses")))

    def execute(self, parameters, context, feedback):
        segmentation = self.parameterAsFile(parameters, "SEGMENTATION", context)
        incidents = read_dated_incidents(self, parameters, context, feedback)
        capacity_table = self.optional_path(parameters, "CAPACITY_TABLE", context)
        window_from, window_to = read_date_window(self, parameters, context)
        segments = parse_segments(self.parameterAsString(parameters, "SEGMENTS", context))
        options = TargetOptions(
            capacity=None if capacity_table else self.optional_int(parameters, "CAPACITY",
                                                                   context),
            cluster_by_area=self.parameterAsBool(parameters, "CLUSTER", context),
            wards=_listed(self.parameterAsString(parameters, "WARDS", context)),
            segments=segments,
            postcode_points=self.parameterAsBool(parameters, "POSTCODE_POINTS", context))
        inputs = TargetInputs(
            incidents=incidents,
            incident_table=self.parameterAsString(parameters, "INCIDENT_TABLE", context)
            or None,
            window_from=window_from, window_to=window_to,
            visited=self.optional_path(parameters, "VISITED", context),
            visited_date_format=read_date_format(self, parameters, context),
            visited_months=self.parameterAsInt(parameters, "VISITED_MONTHS", context),
            opted_out=self.optional_path(parameters, "OPTED_OUT", context),
            flags=self.optional_path(parameters, "FLAGS", context),
            flag_weights=self.parameterAsString(parameters, "FLAG_WEIGHTS", context) or None,
            capacity_table=capacity_table,
            today=self.parameterAsString(parameters, "TODAY", context) or None,
            model=self.parameterAsBool(parameters, "MODEL", context),
            lookup=self.optional_path(parameters, "LOOKUP", context))
        out = self.output_folder(parameters, context)
        self.progress(feedback)(0.2, "scoring addresses")
        result, _ = target_step(segmentation, out, options, inputs, replace_folder=False)
        for line in summary_lines(result.summary):
            feedback.pushInfo(line)
        uri = f"{out / TARGET_GPKG}|layername=target_addresses"
        load_on_completion(context, uri, self.tr("Target addresses"), "TARGETS")
        return {"OUTPUT_FOLDER": str(out), "TARGETS": uri,
                "TARGET_LIST": str(out / "target_list.csv")}
