"""The plugin object QGIS creates through ``classFactory``."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QPushButton

from ..core import __version__
from ..core.dependencies import dependency_problems
from .native_libraries import load_with_own_libraries, native_library_report

PLUGIN_TITLE = "Community Safety Segmentation"
PACKAGE = __name__.split(".")[0]  # the folder QGIS loaded the plugin from
MENU = "&Community Safety Segmentation"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icons" / "icon.svg"
PROJECT_FILE_ALGORITHM = "community_safety:buildfromproject"
WARD_ATLAS_ALGORITHM = "community_safety:wardatlas"


def engine_problems():
    """The dependency check, which imports the packages: the geospatial ones first go through
    ``load_with_own_libraries`` (a plain import would bind them to QGIS's GEOS/GDAL/PROJ)."""
    load_with_own_libraries()
    return dependency_problems()


def missing_dependencies_message(problems) -> str:
    """The message bar text: what is missing, and where to act."""
    names = ", ".join(problem.package for problem in problems)
    return (f"the engine needs Python packages that are missing or too old: {names}. "
            "Press Install to add them to QGIS's Python, or open Plugins ▸ Community Safety "
            "Segmentation for the command to run by hand.")


class CommunitySafetyPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.action: QAction | None = None
        self.project_action: QAction | None = None
        self.atlas_action: QAction | None = None
        self.dock_action: QAction | None = None
        self.wizard_action: QAction | None = None
        self.wizard = None
        self.dock = None
        self.message = None
        self.problems = []
        self.provider = None
        self.dialog = None

    @property
    def ready(self) -> bool:
        return self.provider is not None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        """Register the Processing provider, when the engine's packages are there."""
        if self.provider is not None or engine_problems():
            return
        from qgis.core import QgsApplication

        from .processing.provider import PROVIDER_ID, CommunitySafetyProvider

        registry = QgsApplication.processingRegistry()
        if registry.providerById(PROVIDER_ID) is not None:
            return  # another copy of the plugin registered it already
        provider = CommunitySafetyProvider()
        if registry.addProvider(provider):
            self.provider = provider

    def _add_action(self, text: str, name: str, slot, tooltip: str = "",
                    needs_engine: bool = True) -> QAction:
        """A menu entry (and its QAction) that runs ``slot()`` with no argument: a QAction's
        ``triggered(bool checked)`` never reaches the slot as data (it once arrived in
        ``show_dock`` as the GeoPackage's path)."""
        action = QAction(QIcon(str(ICON_PATH)), text, self.iface.mainWindow())
        action.setObjectName(name)
        if tooltip:
            action.setToolTip(tooltip)
            action.setWhatsThis(tooltip)
        action.triggered.connect(lambda _checked=False: slot())
        action.setEnabled(self.ready or not needs_engine)
        self.iface.addPluginToMenu(MENU, action)
        return action

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()
        self.action = self._add_action(
            PLUGIN_TITLE, "communitySafetySegmentationAbout", self.show_status,
            "Status of Community Safety Segmentation and its dependencies",
            needs_engine=False)
        self.iface.addToolBarIcon(self.action)
        self.project_action = self._add_action(
            "Build segmentation from a project file…", "communitySafetyBuildFromProject",
            self.build_from_project_file)
        self.atlas_action = self._add_action("Ward atlas (PDF)…", "communitySafetyWardAtlas",
                                             self.ward_atlas)
        self.dock_action = self._add_action(
            "Community safety dock", "communitySafetyDock", self.show_dock,
            "Segments, ward matrix, targeting and reports of the active layer's segmentation")
        self.wizard_action = self._add_action(
            "New segmentation…", "communitySafetyNewSegmentation", self.new_segmentation,
            "A guided wizard: boundaries, data tables, variables, number of segments, run; "
            "reads and writes the project file")

        self.problems = engine_problems()
        if self.problems:
            self.push_install_message()
        else:
            self.warn_of_mixed_libraries()

    def warn_of_mixed_libraries(self):
        """Another plugin may have imported shapely, pyogrio or pyproj before this one, bound
        to QGIS's GEOS/GDAL/PROJ: say so, since writing results may then fail."""
        mixed = [entry for entry in native_library_report() if not entry.consistent]
        if mixed:
            self.iface.messageBar().pushMessage(
                PLUGIN_TITLE, "; ".join(str(entry) for entry in mixed) + ". Another plugin "
                "loaded it before this one; if results fail to save, restart QGIS with that "
                "plugin switched off.", Qgis.Warning, 0)

    def push_install_message(self):
        text = missing_dependencies_message(self.problems)
        self.message = QgsMessageBar.createMessage(PLUGIN_TITLE, text)
        button = QPushButton("Install…", self.message)
        button.setObjectName("communitySafetyInstall")
        button.clicked.connect(lambda: self.show_status(start_install=True))
        self.message.layout().addWidget(button)
        self.iface.messageBar().pushWidget(self.message, Qgis.Warning, 0)

    def unload(self):
        if self.provider is not None:
            from qgis.core import QgsApplication

            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.message is not None:
            try:
                self.iface.messageBar().popWidget(self.message)
            except RuntimeError:  # the user closed it already
                pass
            self.message = None
        if self.dock is not None:
            if hasattr(self.iface, "removeDockWidget"):
                self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.wizard is not None:
            self.wizard.close()
            self.wizard = None
        for action in (self.action, self.project_action, self.atlas_action, self.dock_action,
                       self.wizard_action):
            if action is not None:
                self.iface.removePluginMenu(MENU, action)
                action.deleteLater()
        if self.action is not None:
            self.iface.removeToolBarIcon(self.action)
        self.action = self.project_action = self.atlas_action = self.dock_action = None
        self.wizard_action = None

    def status_text(self) -> str:
        from .ui.status_dialog import status_summary

        return status_summary(self.problems)

    def show_status(self, start_install: bool = False):
        from .ui.status_dialog import StatusDialog

        self.dialog = StatusDialog(engine_problems(), self.iface.mainWindow(),
                                   on_installed=self.reload_after_install)
        self.dialog.show()
        if start_install and self.dialog.problems:
            self.dialog.install()
        return self.dialog

    def reload_after_install(self) -> str:
        """After pip has installed the packages: reload the plugin so the engine starts."""
        problems = engine_problems()
        if self.dialog is not None:
            try:
                self.dialog.show_problems(problems)
            except RuntimeError:  # the user closed (and Qt deleted) the dialog
                pass
        if problems:
            names = ", ".join(str(problem) for problem in problems)
            return (f"pip finished, but these still cannot be used: {names}. Restart QGIS "
                    "to finish the installation.")
        QTimer.singleShot(0, self._reload)
        return (f"Installed. {PLUGIN_TITLE} {__version__} is ready: its tools are in the "
                "Processing Toolbox under Community safety.")

    @staticmethod
    def _reload():
        import qgis.utils

        qgis.utils.reloadPlugin(PACKAGE)

    def build_from_project_file(self):
        import processing

        processing.execAlgorithmDialog(PROJECT_FILE_ALGORITHM)

    def ward_atlas(self):
        import processing

        processing.execAlgorithmDialog(WARD_ATLAS_ALGORITHM)

    def show_dock(self, gpkg=None):
        """Open the "Community safety" dock (on the active layer's segmentation, or on
        ``gpkg``)."""
        from qgis.PyQt.QtCore import Qt

        from .ui.dock import CommunitySafetyDock

        if self.dock is None:
            self.dock = CommunitySafetyDock(self.iface, self.iface.mainWindow())
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
        self.dock.show()
        self.dock.raise_()
        if gpkg is not None:
            self.dock.set_segmentation(gpkg)
        else:
            self.dock.follow_active_layer()
        return self.dock

    def new_segmentation(self):
        """The "New segmentation" wizard; the dock opens on the segmentation it builds. A
        wizard closed before it built anything opens again as it was left (its page and
        entries), as QGIS's own dialogs keep what was typed; once it has built a
        segmentation, a new one starts blank."""
        from .ui.wizard import SegmentationWizard

        if self.wizard is not None:
            if self.wizard.isVisible() or not self.wizard.built():
                self.wizard.reopen()
                return self.wizard
            self.wizard.deleteLater()
        self.wizard = SegmentationWizard(self.iface, self.iface.mainWindow())
        self.wizard.segmentation_ready.connect(lambda gpkg: self.show_dock(gpkg))
        self.wizard.show()
        return self.wizard
