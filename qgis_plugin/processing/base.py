"""What every Community safety algorithm shares: groups, help, progress and errors."""

from __future__ import annotations

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication

from ...core.errors import InputError
from ...core.progress import Cancelled


class EngineAlgorithm(QgsProcessingAlgorithm):
    """Subclasses set NAME, TITLE, GROUP, HELP and implement ``define`` and ``execute``."""

    NAME = ""
    TITLE = ""
    GROUP = "Segmentation"
    HELP = ""

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802
        return self.tr(self.TITLE)

    def group(self):
        return self.tr(self.GROUP)

    def groupId(self):  # noqa: N802
        return self.GROUP.lower().replace(" ", "_")

    def shortHelpString(self):  # noqa: N802
        return self.tr(self.HELP)

    def tr(self, text):
        return QCoreApplication.translate("CommunitySafety", text)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.define()

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        try:
            return self.execute(parameters, context, feedback)
        except InputError as err:
            message = str(err)
        except Cancelled:
            message = self.tr("Cancelled: nothing was written")
        # QGIS 3.22 keeps this frame alive after the error: drop its QGIS objects first, or
        # they are freed only after QGIS has shut down, and crash Python at exit.
        del self, parameters, context, feedback
        raise QgsProcessingException(message)  # the engine's message, no traceback

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

    def define(self):
        raise NotImplementedError

    def execute(self, parameters, context, feedback):
        raise NotImplementedError
