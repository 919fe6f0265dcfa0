"""The plugin's status: which packages the engine needs, which GEOS/GDAL/PROJ each runs on,
an Install button (pip in the background, its output shown) and the full command for
installing by hand."""

from __future__ import annotations

from qgis.core import Qgis, QgsApplication
from qgis.PyQt.QtGui import QFontDatabase, QGuiApplication
from qgis.PyQt.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from ...core import __version__
from ...core.dependencies import install_command, loaded_numpy_version
from ..installer import InstallTask
from ..native_libraries import native_library_report


def qgis_libraries() -> str:
    from qgis.core import QgsProjUtils

    try:
        from osgeo import gdal

        gdal_version = gdal.__version__
    except ImportError:
        gdal_version = "unknown"
    proj = f"{QgsProjUtils.projVersionMajor()}.{QgsProjUtils.projVersionMinor()}"
    return (f"QGIS {Qgis.QGIS_VERSION} runs GEOS {Qgis.geosVersion().split('-')[0]}, "
            f"GDAL {gdal_version} and PROJ {proj}.")


def status_summary(problems) -> str:
    if not problems:
        return (f"Version {__version__}. Ready: every Python package the engine needs is "
                "installed in a supported version.")
    listed = "".join(f"\n  • {problem}" for problem in problems)
    return (f"Version {__version__}. Not ready: these Python packages are missing or need "
            f"another version:{listed}\nPress Install to install them into QGIS's own Python "
            "(this takes a minute or two), or ask IT to run the command below.")


def _text_box(text: str, lines: int) -> QPlainTextEdit:
    box = QPlainTextEdit(text)
    box.setReadOnly(True)
    box.setLineWrapMode(QPlainTextEdit.WidgetWidth)
    box.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
    box.setMinimumHeight(box.fontMetrics().lineSpacing() * lines + 12)
    return box


class StatusDialog(QDialog):
    """``on_installed`` is called once pip has succeeded (the plugin reloads itself)."""

    def __init__(self, problems, parent=None, on_installed=None):
        super().__init__(parent)
        self.setObjectName("communitySafetyStatus")
        self.setWindowTitle("Community Safety Segmentation")
        self.setMinimumWidth(720)
        self.problems = list(problems)
        self.on_installed = on_installed
        self.task = None
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SetMinimumSize)  # wrapped text is never cut off

        self.summary = QLabel(status_summary(self.problems))
        self.summary.setWordWrap(True)
        self.summary.setObjectName("summary")
        layout.addWidget(self.summary)

        libraries = [str(entry) for entry in native_library_report()] + [qgis_libraries()]
        self.libraries = QLabel("\n".join(libraries))
        self.libraries.setWordWrap(True)
        self.libraries.setObjectName("libraries")
        layout.addWidget(self.libraries)

        self.command = None
        self.command_label = None
        self.copy_button = None
        if self.problems:
            deps = [problem.dependency for problem in self.problems]
            self.command_label = QLabel("To install by hand (for IT departments), run:")
            layout.addWidget(self.command_label)
            self.command = _text_box(install_command(deps, numpy_version=loaded_numpy_version()),
                                     3)
            self.command.setObjectName("command")
            layout.addWidget(self.command)
        self.output = _text_box("", 8)
        self.output.setObjectName("pipOutput")
        self.output.setVisible(False)
        layout.addWidget(self.output)
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        self.outcome.setObjectName("outcome")
        layout.addWidget(self.outcome)

        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        self.install_button = QPushButton("Install")
        self.install_button.setObjectName("install")
        self.install_button.setEnabled(bool(self.problems))
        self.install_button.setVisible(bool(self.problems))
        self.install_button.clicked.connect(self.install)
        buttons.addButton(self.install_button, QDialogButtonBox.ActionRole)
        if self.command is not None:
            self.copy_button = QPushButton("Copy command")
            self.copy_button.clicked.connect(
                lambda: QGuiApplication.clipboard().setText(self.command.toPlainText()))
            buttons.addButton(self.copy_button, QDialogButtonBox.ActionRole)
        layout.addWidget(buttons)
        self.adjustSize()

    def show_problems(self, problems) -> None:
        """Say what is true now (after installing): the summary, the libraries each package
        runs on, and the install command only while something is still missing."""
        self.problems = list(problems)
        self.summary.setText(status_summary(self.problems))
        self.libraries.setText("\n".join([str(entry) for entry in native_library_report()]
                                         + [qgis_libraries()]))
        for widget in (self.command_label, self.command, self.copy_button):
            if widget is not None:
                widget.setVisible(bool(self.problems))
        self.install_button.setVisible(bool(self.problems))
        self.install_button.setEnabled(bool(self.problems) and self.task is None)
        self.adjustSize()

    def install(self) -> InstallTask:
        """Run pip in a background task; its output fills the dialog as it comes."""
        self.install_button.setEnabled(False)
        self.output.setVisible(True)
        self.output.clear()
        self.outcome.setText("Installing… (QGIS stays usable meanwhile)")
        self.task = InstallTask([problem.dependency for problem in self.problems])
        self.output.appendPlainText("$ " + " ".join(self.task.argv))
        self.task.line.connect(self.output.appendPlainText)
        self.task.done.connect(self._finished)
        QgsApplication.taskManager().addTask(self.task)
        self.adjustSize()
        return self.task

    def _finished(self, ok: bool, message: str) -> None:
        self.task = None
        if ok and self.on_installed is not None:
            message = self.on_installed() or message
        self.outcome.setText(message)
        self.install_button.setEnabled(not ok)
        self.adjustSize()
