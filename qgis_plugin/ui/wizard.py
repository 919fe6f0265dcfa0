"""The "New segmentation" wizard: boundaries, data tables, variables, number of segments, run.

It reads and writes the project file the command line runs (``core.project``): "Open
project file…" fills every page from a saved TOML, "Save project file…" writes what the
pages say. Every long step (checking the tables, screening, the choose-k diagnostics, the
run) goes through the one task runner (``tasks.run_task``): the pages gather parameters
and show results, the engine computes. At the end the styled segments layer is added to the
map and ``segmentation_ready(gpkg_path)`` is emitted (the plugin opens the dock with it).
"""

from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QDialog, QFileDialog, QMessageBox, QWizard

from ...core.errors import InputError
from ...core.project.project_file import Project, load_project, save_project
from ...core.project.rules import BandRule
from .tasks import run_task
from .wizard_boundaries import BoundariesPage
from .wizard_run import RunPage
from .wizard_segments import SegmentsPage
from .wizard_tables import TablesPage
from .wizard_variables import VariablesPage

TITLE = "New segmentation"
NEW_PROJECT_NAME = "new_segmentation.toml"


def data_key(project: Project) -> tuple:
    """What the area data depend on: the same key, the same gathered data."""
    return (project.boundaries, project.boundary_code, project.boundary_layer,
            project.boundary_crs, project.tables)


def prepare_key(project: Project) -> tuple:
    """What the screened, standardised matrix depends on."""
    return (*data_key(project), project.screening, project.standardise, project.missing,
            project.winsorise, project.deprivation, project.residents, project.households)


def _kept(kept: tuple | None, key: tuple):
    """The value of a kept (key, value) pair, None when it was kept for another key."""
    return kept[1] if kept is not None and kept[0] == key else None


class SegmentationWizard(QWizard):
    segmentation_ready = pyqtSignal(str)

    def __init__(self, iface=None, parent=None):
        super().__init__(parent)
        self.iface = iface
        self.setWindowTitle(TITLE)
        self.setObjectName("communitySafetyWizard")
        self.setWizardStyle(QWizard.ClassicStyle)
        self.setOption(QWizard.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.HaveCustomButton1, True)
        self.setOption(QWizard.HaveCustomButton2, True)
        self.setButtonText(QWizard.CustomButton1, "Open project file…")
        self.setButtonText(QWizard.CustomButton2, "Save project file…")
        self.button(QWizard.CustomButton1).setToolTip(
            "Fill every page from a saved project file (TOML)")
        self.button(QWizard.CustomButton2).setToolTip(
            "Write the project file the command line runs (community-safety segment …), "
            "for the monthly refresh")
        self.setButtonLayout([QWizard.CustomButton1, QWizard.CustomButton2, QWizard.Stretch,
                              QWizard.BackButton, QWizard.NextButton, QWizard.FinishButton,
                              QWizard.CancelButton])
        self.customButtonClicked.connect(self._custom_button)
        self.setMinimumSize(1060, 740)

        self.project_path: Path | None = None  # the project file opened or saved
        self.carried: dict = {}  # settings no page shows (bands, segment texts), kept as read
        self.tasks: list = []
        self._data = None  # (data_key, AreaData)
        self._prepared = None  # (prepare_key, Prepared)
        self.last_message = ""

        self.boundaries = BoundariesPage(self)
        self.tables = TablesPage(self)
        self.variables = VariablesPage(self)
        self.segments = SegmentsPage(self)
        self.run_page = RunPage(self)
        for page in (self.boundaries, self.tables, self.variables, self.segments,
                     self.run_page):
            self.addPage(page)
        # on the last page Run is the default button until a run has built the segmentation;
        # Finish is enabled (and the default) only then
        self.currentIdChanged.connect(lambda _id: self._default_button())
        self.run_page.completeChanged.connect(self._default_button)

    # --- the project the pages describe --------------------------------------------------

    def default_path(self) -> Path:
        if self.project_path is not None:
            return self.project_path
        boundaries = self.boundaries.boundary_path()
        folder = boundaries.parent if boundaries is not None else Path.home()
        return (folder / NEW_PROJECT_NAME).resolve()

    def settings(self) -> dict:
        settings = {"bands": BandRule(), "segment_text": {}}
        settings.update(self.carried)
        for page in (self.boundaries, self.tables, self.variables, self.segments):
            settings.update(page.settings())
        return settings

    def project(self, path: Path | None = None) -> Project:
        """The project as the pages stand (InputError naming what is missing)."""
        settings = self.settings()
        if settings.get("boundaries") is None or not settings.get("boundary_code"):
            raise InputError("choose the boundaries and their area-code field first "
                             "(page 1)")
        if not settings.get("tables"):
            raise InputError("add at least one data table (page 2)")
        return Project(path=Path(path or self.default_path()).resolve(), **settings)

    def open_project_file(self, path) -> Project:
        project = load_project(Path(path))
        self.project_path = project.path
        self.carried = {"bands": project.bands, "segment_text": dict(project.segment_text)}
        self._data = self._prepared = None
        self.boundaries.fill(project)
        self.tables.fill(project)
        self.variables.fill(project)
        self.segments.fill(project)
        self.run_page.fill(project)
        self.restart()
        self.say(f"Opened {project.path.name}")
        return project

    def save_project_file(self, path=None) -> Path:
        project = self.project(path)
        saved = save_project(project, project.path)
        self.project_path = saved
        self.say(f"Project file saved: {saved}. Run it every month with: community-safety "
                 f"segment {saved.name} --out results/")
        return saved

    # --- caches of the engine's results, so that a page does not read the data again ----

    def area_data(self, project: Project):
        return _kept(self._data, data_key(project))

    def keep_area_data(self, project: Project, data) -> None:
        self._data = (data_key(project), data)

    def prepared(self, project: Project):
        return _kept(self._prepared, prepare_key(project))

    def keep_prepared(self, project: Project, prepared) -> None:
        self._prepared = (prepare_key(project), prepared)
        self.keep_area_data(project, prepared.data)

    # --- tasks ---------------------------------------------------------------------------

    def run(self, description: str, function, *args, **kwargs):
        task = run_task(f"{TITLE}: {description}", function, *args, **kwargs)
        self.tasks = [t for t in self.tasks if not _finished(t)] + [task]
        return task

    def cancel_tasks(self) -> None:
        for task in self.tasks:
            if not _finished(task):
                task.cancel()

    def busy(self) -> bool:
        return any(not _finished(task) for task in self.tasks)

    # --- the buttons and closing -----------------------------------------------------------

    def built(self) -> bool:
        """Whether a run has built and saved the segmentation the pages describe."""
        return self.run_page.result is not None

    def _default_button(self) -> None:
        """Enter presses Run on the last page until the segmentation is built, then Finish
        (QWizard would make the disabled Finish the default)."""
        running_next = self.currentPage() is self.run_page and not self.built()
        self.setOption(QWizard.NoDefaultButton, running_next)
        self.run_page.run_button.setDefault(running_next)
        if not running_next:  # QWizard gives its Next or Finish the default again
            self.default_button().setDefault(True)

    def default_button(self):
        """The button Enter presses on the page shown: Run, Finish or Next."""
        if self.currentPage() is not self.run_page:
            return self.button(QWizard.NextButton)
        return self.button(QWizard.FinishButton) if self.built() else self.run_page.run_button

    def reopen(self) -> None:
        """Shown again as it was left (closed without a segmentation built): the same page
        and entries; a step that closing cancelled (screening, diagnostics) runs again."""
        self.show()
        self.raise_()
        self.activateWindow()
        page = self.currentPage()
        if page is not None and not self.busy() and self.currentId() > 0:
            page.initializePage()
        # the focus off the Cancel that closed it (Enter would close it again): on the
        # button Enter is for, when it can be pressed
        button = self.default_button()
        if button.isEnabled():
            button.setFocus()
        else:
            self.button(QWizard.CancelButton).clearFocus()

    def say(self, text: str) -> None:
        self.last_message = text
        if self.iface is not None:
            try:
                self.iface.messageBar().pushInfo(TITLE, text)
            except (AttributeError, RuntimeError):
                pass

    def _custom_button(self, which: int) -> None:
        try:
            if which == QWizard.CustomButton1:
                path, _ = QFileDialog.getOpenFileName(self, "Open project file",
                                                      str(self.default_path().parent),
                                                      "Project files (*.toml)")
                if path:
                    self.open_project_file(path)
            elif which == QWizard.CustomButton2:
                path, _ = QFileDialog.getSaveFileName(self, "Save project file",
                                                      str(self.default_path()),
                                                      "Project files (*.toml)")
                if path:
                    if not path.lower().endswith(".toml"):
                        path += ".toml"
                    self.save_project_file(path)
                    QMessageBox.information(self, TITLE, self.last_message)
        except (InputError, OSError) as err:
            QMessageBox.warning(self, TITLE, str(err))

    def done(self, result: int) -> None:
        self.cancel_tasks()
        if result == QDialog.Rejected:  # closed: left as it is (QWizard's own would empty
            QDialog.done(self, result)  # it), to be opened again on the same page
        else:
            super().done(result)

    def closeEvent(self, event):  # noqa: N802 (Qt's name)
        self.cancel_tasks()
        super().closeEvent(event)


def _finished(task) -> bool:
    from qgis.core import QgsTask

    try:
        return task.status() in (QgsTask.Complete, QgsTask.Terminated)
    except RuntimeError:  # deleted by the task manager
        return True
