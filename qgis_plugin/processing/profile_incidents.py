"""Processing: profile incidents by segment (the method's "Table 1")."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterField,
    QgsProcessingParameterString,
)

from ...core.data.locate import LocationColumns
from ...core.places.incident_lines import counted_line, records_line
from ...core.places.incidents import IncidentFilter
from ...core.places.steps import gpkg_path, incidents_step, safe_name, unreadable_dates_note
from ...core.store.geopackage import read_gpkg_table
from ..layers import load_on_completion
from .base import PLACES, EngineAlgorithm
from .point_inputs import (
    add_area_code_parameter,
    add_date_window_parameters,
    add_points_parameter,
    add_segmentation_parameter,
    read_date_format,
    read_date_window,
    read_points,
)


class ProfileIncidents(EngineAlgorithm):
    NAME = "profileincidents"
    TITLE = "Profile incidents by segment"
    GROUP = PLACES
    HELP = ("Counts incidents (one per point, or summed count fields such as injuries) by "
            "segment: share, rate per 1,000 households and residents, and an index of "
            "over/under-representation (share of incidents / share of households x 100) with "
            "exact Poisson 95% intervals. Optional date and category filters. Writes the "
            "profile table, a bar chart and a record reconciliation (IDs pseudonymised), and "
            "adds an area layer of incident rates to the segmentation GeoPackage.")

    def define(self):
        add_segmentation_parameter(self)
        add_points_parameter(self, "INCIDENTS", "Incident points",
                             "The incidents as points (fires, crimes, anti-social behaviour...), "
                             "in any CRS.")
        self.add(QgsProcessingParameterString("NAME", self.tr("Profile name"),
                                              defaultValue="incidents"),
                 "A short name for this profile (e.g. fires): it names the tables, the chart "
                 "and the layer, so several profiles can live in one segmentation.")
        Field = QgsProcessingParameterField  # noqa: N806
        self.add(Field("COUNTS", self.tr("Count fields (none: one per point)"),
                       parentLayerParameterName="INCIDENTS", allowMultiple=True, optional=True,
                       type=Field.Numeric),
                 "Optional: numeric fields to add up (e.g. injuries, fatalities), each "
                 "profiled; none counts one incident per point.")
        add_area_code_parameter(self, "INCIDENTS")
        self.add(Field("DATE", self.tr("Date field"), optional=True,
                       parentLayerParameterName="INCIDENTS"),
                 "Optional: the incidents' date field, for the From and To filters.")
        add_date_window_parameters(
            self, ("From", "Optional: keep incidents on or after this date."),
            ("To", "Optional: keep incidents on or before this date."))
        self.add(Field("CATEGORY", self.tr("Category field"), optional=True,
                       parentLayerParameterName="INCIDENTS"),
                 "Optional: a field holding each incident's category, for the filter below.")
        self.add(QgsProcessingParameterString(
            "CATEGORIES", self.tr("Categories to keep (separated by ;)"), optional=True),
            "Optional: the categories to keep, e.g. Anti-social behaviour;Arson.")
        self.add_output_folder(
            "Folder for the profile, chart and records",
            "Where the profile table (CSV), the bar chart and the record reconciliation (IDs "
            "pseudonymised) are written.")
        self.addOutput(QgsProcessingOutputFile("PROFILE", self.tr("Incident profile table")))
        self.addOutput(QgsProcessingOutputVectorLayer("RATES", self.tr("Incident rates")))
        self.addOutput(QgsProcessingOutputFile("SEGMENTATION_OUT",
                                               self.tr("Segmentation GeoPackage (updated)")))

    def execute(self, parameters, context, feedback):
        segmentation = self.parameterAsFile(parameters, "SEGMENTATION", context)
        frame, layer_name, area_code = read_points(self, parameters, context, feedback,
                                                   "INCIDENTS")
        typed = self.parameterAsString(parameters, "NAME", context)
        name = safe_name(typed)
        date = self.parameterAsFields(parameters, "DATE", context)
        category = self.parameterAsFields(parameters, "CATEGORY", context)
        categories = [c for c in self.parameterAsString(parameters, "CATEGORIES",
                                                        context).split(";") if c.strip()]
        rules = IncidentFilter(date[0] if date else None,
                               *read_date_window(self, parameters, context),
                               category[0] if category else None, tuple(categories),
                               read_date_format(self, parameters, context))
        out = self.output_folder(parameters, context)
        self.progress(feedback)(0.3, "locating incidents")
        profile, records = incidents_step(
            segmentation, frame, name, LocationColumns(x="x", y="y", area_code=area_code), out,
            count_columns=tuple(self.parameterAsFields(parameters, "COUNTS", context)),
            rules=rules, source_name=layer_name)
        feedback.pushInfo(records_line(records))
        about = read_gpkg_table(gpkg_path(segmentation), f"incident_about_{name}").iloc[0]
        feedback.pushInfo(counted_line(about))
        note = unreadable_dates_note(records)
        if note:
            feedback.reportError(note, fatalError=False)
        uri = f"{gpkg_path(segmentation)}|layername=incident_areas_{name}"
        # the layer named as the user typed the name ("Dwelling fires", not its stored
        # form dwelling_fires)
        load_on_completion(context, uri, self.tr(f"Incident rates: {typed.strip() or name}"),
                           "RATES")
        return {"OUTPUT_FOLDER": str(out), "RATES": uri,
                "PROFILE": str(out / f"incident_profile_{name}.csv"),
                "SEGMENTATION_OUT": segmentation}
