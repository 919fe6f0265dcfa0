"""Processing: the risk model proven on past fires (``target --backtest --model``)."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ...core.errors import InputError
from ..layers import load_table_on_completion
from .base import TARGETING, EngineAlgorithm
from .point_inputs import (
    add_date_window_parameters,
    add_dated_incidents_parameters,
    add_lookup_parameter,
    add_property_parameter,
    add_segmentation_parameter,
    read_date_window,
    read_dated_incidents,
)

BACKTEST_FILE = "backtest.csv"
MEANS_FILE = "backtest_means.csv"


class ModelBacktest(EngineAlgorithm):
    NAME = "modelbacktest"
    TITLE = "Prove the risk model on past fires"
    GROUP = TARGETING
    HELP = ("Fits the service-wide fire risk model, and the simple rules beside it (the "
            "area's own past rate, shrunk to the borough, the segment rate, deprivation, "
            "random order), on the fires up to the cut-off, and counts the later fires each "
            "ranking puts in its top 1, 5, 10 and 20% of households, with bootstrap 95% "
            "intervals, the area under the capture curve and the oracle (the later fires "
            "themselves) as the ceiling. When the area lookup's last column holds several "
            "boroughs, each borough is tested by a model fitted without it (leave one borough "
            "out); otherwise the whole study is tested after the cut-off (a time split). "
            "Writes the per-borough table, the means, the model against the own past rate, a "
            "calibration table, the settings validated, capture-curve charts and a "
            "reconciliation of every incident row; loads the table and the means. Where the "
            "gazetteer is postcode points, each postcode can be ranked on its own fires "
            "instead of its output area (an advanced parameter).")

    def define(self):
        add_segmentation_parameter(self)
        add_dated_incidents_parameters(
            self, "Incident points with dates",
            "The fires as points, with their dates (and what each was in, for the model).")
        add_property_parameter(self, "Property type field")
        self.add(QgsProcessingParameterString(
            "CUT_OFF", self.tr("Cut-off: last date of the fit period (YYYY-MM-DD)")),
            "Fires up to this date fit the model and the rules; the later ones judge them "
            "(e.g. 2019-12-31).")
        add_lookup_parameter(self, "with several boroughs in its last column each borough "
                                   "is left out of the fit it is tested on")
        add_date_window_parameters(
            self, ("Fires from", "Optional: the first date used (default: the first fire)."),
            ("Fires to", "Optional: the last date tested (default: the last fire)."))
        self.add(QgsProcessingParameterBoolean(
            "POSTCODE_POINTS", self.tr("The gazetteer is postcode points (rank each postcode "
                                       "on its own fires)"), defaultValue=False),
            "Each fire goes to the nearest postcode point of its output area and each "
            "postcode, holding its share of its area's households, is ranked on its own "
            "fires: the model and the postcode's own past rate, beside the output area's own "
            "rate shared over its postcodes. Needs the segmentation's gazetteer of postcode "
            "points and the incidents as points.", advanced=True)
        self.add(QgsProcessingParameterFile(
            "PROJECT", self.tr("Project file with the model's settings ([risk_model])"),
            extension="toml", optional=True),
            "Optional: a project file whose [risk_model] section sets the model (kind, "
            "learning_rate, max_iter, ...); without one the settings are chosen by "
            "validation inside the fit period, never on the test years.", advanced=True)
        self.add(QgsProcessingParameterNumber(
            "SEED", self.tr("Random seed"), defaultValue=2011, minValue=0),
            "The seed of the random baseline and of the bootstrap intervals: the same seed "
            "gives the same figures.", advanced=True)
        self.add_output_folder(
            "Folder for the backtest",
            "Where backtest.csv (per borough and ranking), backtest_means.csv, "
            "model_vs_own_rate.csv, calibration.csv, model_settings.csv, the capture-curve "
            "charts and reconciliation.csv are written; other files there are left alone.")
        self.addOutput(QgsProcessingOutputVectorLayer("TABLE", self.tr("Backtest by borough")))
        self.addOutput(QgsProcessingOutputVectorLayer("MEANS", self.tr("Backtest means")))
        self.addOutput(QgsProcessingOutputFile("CHART", self.tr("Capture curve (PNG)")))

    def execute(self, parameters, context, feedback):
        from ...core.targeting.risk_study import model_backtest_step

        segmentation = self.parameterAsFile(parameters, "SEGMENTATION", context)
        incidents = read_dated_incidents(self, parameters, context, feedback)
        if incidents is None:
            raise InputError("the backtest needs incident points with dates")
        out = self.output_folder(parameters, context)
        self.progress(feedback)(0.1, "fitting the model and the rules on the earlier fires")
        _, lines, _ = model_backtest_step(
            segmentation, out, incidents,
            self.parameterAsString(parameters, "CUT_OFF", context),
            *read_date_window(self, parameters, context),
            self.optional_path(parameters, "LOOKUP", context),
            self.optional_path(parameters, "PROJECT", context),
            self.parameterAsInt(parameters, "SEED", context), replace_folder=False,
            postcode_points=self.parameterAsBool(parameters, "POSTCODE_POINTS", context),
            progress=self.progress(feedback, 10, 95))
        for line in lines:
            feedback.pushInfo(line)
        table = load_table_on_completion(context, out / BACKTEST_FILE,
                                         self.tr("Backtest by borough"), "TABLE")
        mean_table = load_table_on_completion(context, out / MEANS_FILE,
                                              self.tr("Backtest means"), "MEANS")
        return {"OUTPUT_FOLDER": str(out), "TABLE": table, "MEANS": mean_table,
                "CHART": str(out / "capture_curve.png")}
