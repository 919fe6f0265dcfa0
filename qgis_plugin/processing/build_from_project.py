"""Processing: build a segmentation from a project file, as the command line's ``segment``."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ...core.errors import InputError
from ...core.progress import scaled
from ...core.project.project_file import load_project
from ...core.segment.build import build_segmentation
from ...core.segment.prepare import prepare
from ...core.segment.saved import save_segmentation_as
from ...core.store.names import SEGMENT_LAYER
from ..layers import load_on_completion
from .base import BUILD, EngineAlgorithm


class BuildFromProject(EngineAlgorithm):
    NAME = "buildfromproject"
    TITLE = "Build segmentation from a project file"
    GROUP = BUILD
    HELP = ("Builds a segmentation from the project file (TOML) that the command line's "
            "'segment' command takes, in the same way: it reads the boundaries and every "
            "partner table (joined by code, or through a boundary field such as the LSOA), "
            "screens and standardises the variables, groups the areas into k segments, numbers "
            "them from least to most deprived and profiles them. The same project file and "
            "seed give the same segments as the command line. Writes one GeoPackage (the "
            "styled segment layer, profiles, screening, reconciliation, manifest) with CSV "
            "tables and box plots beside it. resources/sample_data/camden/camden.toml in the "
            "plugin folder is a commented example.")

    def define(self):
        self.add(QgsProcessingParameterFile(
            "PROJECT", self.tr("Project file"), extension="toml"),
            "The project file (TOML) describing the boundaries, partner tables, variables, "
            "screening, deprivation measure and segmentation settings. Paths in it are "
            "relative to the file.")
        self.add(QgsProcessingParameterNumber(
            "K", self.tr("Number of segments (k)"), optional=True, minValue=2),
            "Leave empty to use the project file's k; a number here overrides it.")
        self.add(QgsProcessingParameterNumber(
            "N_INIT", self.tr("k-means random starts"), optional=True, minValue=1),
            "Leave empty to use the project file's n_init; a number here overrides it. More "
            "starts: a better, more stable result, slower.", advanced=True)
        self.add(QgsProcessingParameterNumber(
            "SEED", self.tr("Random seed"), optional=True),
            "Leave empty to use the project file's seed; a number here overrides it. The same "
            "data and seed give the same segments.", advanced=True)
        self.add(QgsProcessingParameterBoolean(
            "PLOTS", self.tr("Draw box plots"), defaultValue=True),
            "Draw a box plot per variable by segment beside the GeoPackage (the command "
            "line's --no-plots leaves them out).", advanced=True)
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT", self.tr("Segmentation GeoPackage"), "GeoPackage (*.gpkg)"),
            "The GeoPackage to write (styled segment layer, profiles, screening, "
            "reconciliation, manifest); CSV tables and box plots are written beside it. "
            "Later algorithms take it as their segmentation.")
        self.addOutput(QgsProcessingOutputVectorLayer("SEGMENTS", self.tr("Segments")))

    def execute(self, parameters, context, feedback):
        source = self.parameterAsFile(parameters, "PROJECT", context)
        if not source:
            raise InputError("no project file given")
        if Path(source).is_dir():
            raise InputError(f"{source}: is a folder, not a project file")
        project = load_project(Path(source)).with_overrides(
            k=self.optional_int(parameters, "K", context),
            n_init=self.optional_int(parameters, "N_INIT", context),
            seed=self.optional_int(parameters, "SEED", context),
            given_as={"k": "Number of segments (k)", "n_init": "k-means random starts",
                      "seed": "Random seed"})
        feedback.pushInfo(f"{project.name}: k = {project.k}, {project.n_init} random starts, "
                          f"seed {project.seed}")
        # the same steps, in the same order, as the command line's `segment`
        progress = self.progress(feedback)
        prepared = prepare(project, scaled(progress, 0.0, 0.15))
        seg = build_segmentation(project, scaled(progress, 0.15, 0.8), prepared=prepared)
        path = Path(self.parameterAsFileOutput(parameters, "OUTPUT", context))
        saved = save_segmentation_as(seg, path,
                                     plots=self.parameterAsBoolean(parameters, "PLOTS", context),
                                     progress=scaled(progress, 0.8, 1.0))
        uri = f"{saved}|layername={SEGMENT_LAYER}"
        load_on_completion(context, uri, self.tr("Segments"), "SEGMENTS")
        self.report_segmentation(seg, feedback)
        return {"OUTPUT": str(saved), "SEGMENTS": uri}
