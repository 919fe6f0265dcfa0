"""Processing: diagnostics for choosing the number of segments."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ...core.cells import write_csv
from ...core.errors import InputError
from ...core.progress import scaled
from ...core.segment.choosing_k import choose_k, recommend_k
from ...core.segment.plots import elbow_plot
from ...core.segment.prepare import prepare
from ...core.store.together import files_together
from .area_inputs import add_area_inputs, add_method_parameters, read_area_inputs
from .base import EngineAlgorithm


class ChooseSegments(EngineAlgorithm):
    NAME = "choosesegments"
    TITLE = "Choose number of segments"
    HELP = ("For each k in the range: within-segment sum of squares (elbow), silhouette "
            "(sampled above 10,000 areas), Calinski-Harabasz, Davies-Bouldin and stability "
            "across random starts (adjusted Rand index), and the size of the smallest segment. "
            "Writes a table and an elbow plot, and recommends a k: among those whose smallest "
            "segment holds at least 2% of the areas and whose random starts agree, the best "
            "by the three diagnostics together, the nearest to 10 on a tie.")

    def define(self):
        add_area_inputs(self, with_deprivation=False)
        self.add(QgsProcessingParameterNumber("K_MIN", self.tr("Smallest k"), defaultValue=2,
                                              minValue=2),
                 "The smallest number of segments to try.")
        self.add(QgsProcessingParameterNumber("K_MAX", self.tr("Largest k"), defaultValue=15,
                                              minValue=2),
                 "The largest number of segments to try (each k takes as long as one "
                 "segmentation).")
        add_method_parameters(self)
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Diagnostics table"), "CSV files (*.csv)"),
            "A CSV table with one row per k and a column per diagnostic.")
        self.add(QgsProcessingParameterFileDestination(
            "ELBOW", self.tr("Elbow plot"), "PNG images (*.png)"),
            "A picture of the diagnostics against k: look for the bend (the elbow).")
        self.addOutput(QgsProcessingOutputNumber("RECOMMENDED_K",
                                                 self.tr("Recommended number of segments")))
        self.addOutput(QgsProcessingOutputString("RECOMMENDATION",
                                                 self.tr("Why that number")))

    def execute(self, parameters, context, feedback):
        low = self.parameterAsInt(parameters, "K_MIN", context)
        high = self.parameterAsInt(parameters, "K_MAX", context)
        if high < low:
            raise InputError(f"the largest k ({high}) is below the smallest ({low})")
        project, data = read_area_inputs(self, parameters, context, feedback)
        progress = self.progress(feedback, 10, 100)
        prepared = prepare(project, scaled(progress, 0.0, 0.05), data=data)
        table = choose_k(prepared.X, range(low, high + 1), n_init=project.n_init,
                         seed=project.seed, progress=scaled(progress, 0.05, 1.0))
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        elbow = self.parameterAsFileOutput(parameters, "ELBOW", context)
        with files_together(output, elbow) as (csv, png):
            write_csv(table, csv, index=False)
            elbow_plot(table, png)
        recommended, reason = recommend_k(table)
        feedback.pushInfo(f"Recommended: {reason}")
        return {"OUTPUT": output, "ELBOW": elbow, "RECOMMENDED_K": recommended,
                "RECOMMENDATION": reason}
