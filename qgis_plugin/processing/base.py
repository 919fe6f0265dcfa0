"""What every Community safety algorithm shares: groups, help, progress and errors."""

from __future__ import annotations

from html import escape
from pathlib import Path

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingDestinationParameter,
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFolderDestination,
)
from qgis.PyQt.QtCore import QCoreApplication, QObject, QVariant, pyqtSignal

from ...core.errors import user_message
from ...core.progress import Cancelled
from ..own_thread import in_a_thread_of_its_own, on_main_thread

# The toolbox's groups, by stable id, in the order of the work: the toolbox sorts groups by
# name, so the numbers keep them in that order (and the ids sort the same way).
GROUPS = {
    "1_build_segmentation": "1 Build the segmentation",
    "2_places_and_incidents": "2 Places and incidents",
    "3_target_prevention": "3 Target prevention",
    "4_share_with_partners": "4 Share with partners",
}
BUILD, PLACES, TARGETING, PARTNERS = GROUPS

class _Finished(QObject):
    """``ran()`` after any of the plugin's algorithms has run (on QGIS's main thread, where
    Processing post-processes): the dock then reads again a segmentation a step added
    tables to."""

    ran = pyqtSignal()


FINISHED = _Finished()

ADVANCED = QgsProcessingParameterDefinition.FlagAdvanced
HIDDEN = QgsProcessingParameterDefinition.FlagHidden


class EngineAlgorithm(QgsProcessingAlgorithm):
    """Subclasses set NAME, TITLE, GROUP (an id of ``GROUPS``) and HELP, and implement
    ``define`` (adding parameters with ``add``, in the order a user thinks: inputs, what to
    build, k, then advanced settings, then outputs) and ``execute``."""

    NAME = ""
    TITLE = ""
    GROUP = BUILD
    HELP = ""

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802
        return self.tr(self.TITLE)

    def group(self):
        return self.tr(GROUPS[self.GROUP])

    def groupId(self):  # noqa: N802
        return self.GROUP

    def shortHelpString(self):  # noqa: N802
        """The algorithm's description, then one line per parameter from the parameters'
        own help (``add`` sets it): the help is written once, shown in both places."""
        main, advanced = [], []
        for parameter in self.parameterDefinitions():
            if parameter.flags() & HIDDEN:
                continue
            line = (f"<p><b>{escape(parameter.description(), quote=False)}</b>: "
                    f"{escape(parameter.help(), quote=False)}</p>")
            is_advanced = parameter.flags() & ADVANCED
            (advanced if is_advanced else main).append(line)
        text = f"<p>{escape(self.tr(self.HELP), quote=False)}</p>"
        if main:
            text += f"<h3>{self.tr('Parameters')}</h3>" + "".join(main)
        if advanced:
            text += f"<h3>{self.tr('Advanced parameters')}</h3>" + "".join(advanced)
        return text

    def tr(self, text):
        return QCoreApplication.translate("CommunitySafety", text)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.define()

    def add(self, parameter, help_text: str, advanced: bool = False):
        """Add a parameter with its help (the dialog's tooltip and a line of the algorithm's
        help); ``advanced`` folds it under "Advanced parameters"."""
        parameter.setHelp(self.tr(help_text))
        if advanced and not isinstance(parameter, QgsProcessingDestinationParameter):
            parameter.setFlags(parameter.flags() | ADVANCED)
        self.addParameter(parameter)
        return parameter

    def add_output_folder(self, description: str, help_text: str):
        """The folder a step writes its files in (OUTPUT_FOLDER), read by ``output_folder``."""
        return self.add(QgsProcessingParameterFolderDestination(
            "OUTPUT_FOLDER", self.tr(description)), help_text)

    def output_folder(self, parameters, context) -> Path:
        return Path(self.parameterAsString(parameters, "OUTPUT_FOLDER", context))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        try:
            return self.execute_here(parameters, context, feedback)
        except Cancelled:
            message = self.tr("Cancelled: nothing was written")
        except Exception as err:  # bad input, a full disk, a folder it may not write in...
            message = user_message(err)
            if message is None:  # a bug: its traceback is needed
                raise
        # QGIS 3.22 keeps this frame alive after the error: drop its QGIS objects first, or
        # they are freed only after QGIS has shut down, and crash Python at exit.
        del self, parameters, context, feedback
        raise QgsProcessingException(message)  # the engine's message, no traceback

    def postProcessAlgorithm(self, context, feedback):  # noqa: N802 (QGIS's name)
        FINISHED.ran.emit()
        return {}  # (empty: Processing keeps the results the algorithm returned)

    def execute_here(self, parameters, context, feedback):
        """``execute`` where it is safe: on QGIS's main thread (``processing.run`` from the
        console, a script or a test) as it is; in a thread of QGIS's task pool (the
        dialog's Run button) in a thread of its own, which the pool thread waits for (see
        ``own_thread``: the second algorithm in a reused pool thread crashed QGIS in
        pyproj). The input layers given as files are opened first, here: a layer belongs
        to the thread that opens it, and the context's layer store (this thread's) cannot
        adopt one from a thread that ends. Feedback (log, progress, cancel) is
        thread-safe: its signals reach the dialog queued."""
        if on_main_thread():
            return self.execute(parameters, context, feedback)
        for parameter in self.parameterDefinitions():
            if isinstance(parameter, QgsProcessingParameterFeatureSource):
                self.parameterAsVectorLayer(parameters, parameter.name(), context)
        return in_a_thread_of_its_own(self.execute, parameters, context, feedback,
                                      name=f"Processing: {self.NAME}")

    @staticmethod
    def report_segmentation(seg, feedback) -> None:
        """The log lines after a build: sizes and names, how segments are numbered, and a
        warning about segments too small to be a target group."""
        from ...core.segment.build import small_segments_note, unclassified_note
        from ...core.segment.notes import (
            constant_counts_note,
            labels_note,
            set_aside_note,
        )
        from ...core.segment.words import label_of

        summary = seg.summary
        feedback.pushInfo(f"{int(summary['areas'].sum())} areas in {len(summary)} segments, "
                          f"{len(seg.clustered)} variables clustered: "
                          + "; ".join(label_of(v, seg.labels) for v in seg.clustered))
        for number, row in summary.iterrows():
            feedback.pushInfo(f"  {number}: {int(row['areas'])} areas, {row['name']}")
        numbering = seg.manifest.get("numbering", {}).get("description")
        if numbering:
            feedback.pushInfo(numbering)
        for warning in (unclassified_note(seg.manifest), set_aside_note(seg.manifest),
                        constant_counts_note(seg.manifest),
                        labels_note(seg.manifest, "report"),
                        small_segments_note(seg.manifest)):
            if warning:
                feedback.reportError(warning, fatalError=False)

    @staticmethod
    def progress(feedback, start: float = 0.0, end: float = 100.0):
        """The engine's progress callback over Processing's feedback: it reports progress
        and stops the engine promptly when the user cancels."""

        def report(fraction: float, message: str) -> None:
            if feedback.isCanceled():
                raise Cancelled()
            feedback.setProgress(start + (end - start) * fraction)
            if message:
                feedback.setProgressText(message)

        return report

    def optional_int(self, parameters, name: str, context) -> int | None:
        """An optional whole-number parameter: None when left empty."""
        value = parameters.get(name)
        if value is None or (isinstance(value, QVariant) and value.isNull()) or (
                isinstance(value, str) and not value.strip()):
            return None
        return self.parameterAsInt(parameters, name, context)

    def optional_path(self, parameters, name: str, context) -> Path | None:
        """An optional file parameter: None when no file is given."""
        value = self.parameterAsFile(parameters, name, context)
        return Path(value) if value else None

    def define(self):
        raise NotImplementedError

    def execute(self, parameters, context, feedback):
        raise NotImplementedError
