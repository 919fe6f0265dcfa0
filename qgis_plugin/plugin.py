"""The plugin object QGIS creates through ``classFactory``."""

from __future__ import annotations

from pathlib import Path

from qgis.core import Qgis
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction, QMessageBox

from ..core import __version__
from ..core.dependencies import install_command, missing_dependencies

PLUGIN_TITLE = "Community Safety Segmentation"
MENU = "&Community Safety Segmentation"
ICON_PATH = Path(__file__).resolve().parent.parent / "resources" / "icons" / "icon.svg"


def missing_dependencies_message(missing) -> str:
    """The message bar text naming the missing packages and the command that installs them."""
    names = ", ".join(dep.package for dep in missing)
    return (
        f"these Python packages are missing: {names}. The engine stays off until they are "
        f"installed. Install them with: {install_command(missing)} — then restart QGIS."
    )


class CommunitySafetyPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.action: QAction | None = None
        self.missing = []
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        """Register the Processing provider, when the engine's packages are there."""
        if self.provider is not None or missing_dependencies():
            return
        from qgis.core import QgsApplication

        from .processing.provider import PROVIDER_ID, CommunitySafetyProvider

        registry = QgsApplication.processingRegistry()
        if registry.providerById(PROVIDER_ID) is not None:
            return  # another copy of the plugin registered it already
        provider = CommunitySafetyProvider()
        if registry.addProvider(provider):
            self.provider = provider

    def initGui(self):  # noqa: N802 (QGIS's name)
        self.initProcessing()
        self.action = QAction(QIcon(str(ICON_PATH)), PLUGIN_TITLE, self.iface.mainWindow())
        self.action.setObjectName("communitySafetySegmentationAbout")
        self.action.setWhatsThis("Status of Community Safety Segmentation and its dependencies")
        self.action.triggered.connect(self.show_status)
        self.iface.addPluginToMenu(MENU, self.action)
        self.iface.addToolBarIcon(self.action)

        self.missing = missing_dependencies()
        if self.missing:
            self.iface.messageBar().pushMessage(
                PLUGIN_TITLE, missing_dependencies_message(self.missing), Qgis.Warning, 0
            )

    def unload(self):
        if self.provider is not None:
            from qgis.core import QgsApplication

            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.action is None:
            return
        self.iface.removePluginMenu(MENU, self.action)
        self.iface.removeToolBarIcon(self.action)
        self.action.deleteLater()
        self.action = None

    def status_text(self) -> str:
        if self.missing:
            return f"Version {__version__}. Not ready: {missing_dependencies_message(self.missing)}"
        return f"Version {__version__}. All engine dependencies are installed."

    def show_status(self):
        QMessageBox.information(self.iface.mainWindow(), PLUGIN_TITLE, self.status_text())
