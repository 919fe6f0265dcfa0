"""The plugin as a user installs it: the pb_tool zip unpacked into a fresh QGIS profile and
loaded by QGIS's own plugin loader, in real (headless) QGIS."""

from __future__ import annotations

import importlib
import sys
import zipfile
from pathlib import Path

import pytest
import qgis.utils
from conftest import PLUGIN_NAME
from qgis.core import QgsApplication, QgsUserProfileManager
from qgis.gui import QgsMessageBar
from qgis.PyQt.QtCore import QThread
from qgis.PyQt.QtWidgets import QLabel, QPlainTextEdit, QPushButton


def _plugin_modules() -> dict:
    return {
        name: module
        for name, module in sys.modules.items()
        if name == PLUGIN_NAME or name.startswith(PLUGIN_NAME + ".")
    }


class Recorder:
    """Records the iface calls a plugin makes to add and remove its menu entry and button."""

    def __init__(self):
        self.menu, self.toolbar = [], []

    def install(self, monkeypatch, iface):
        monkeypatch.setattr(iface, "addPluginToMenu", lambda m, a: self.menu.append((m, a)),
                            raising=False)
        monkeypatch.setattr(iface, "removePluginMenu", lambda m, a: self.menu.remove((m, a)),
                            raising=False)
        monkeypatch.setattr(iface, "addToolBarIcon", self.toolbar.append, raising=False)
        monkeypatch.setattr(iface, "removeToolBarIcon", self.toolbar.remove, raising=False)


@pytest.fixture
def profile_plugins_dir(tmp_path, plugin_zip, qgis_app) -> Path:
    """A new QGIS user profile with the plugin zip unpacked into its plugins folder."""
    manager = QgsUserProfileManager(str(tmp_path / "profiles"))
    assert manager.createUserProfile("fresh").isEmpty()
    plugins_dir = Path(manager.profileForName("fresh").folder()) / "python" / "plugins"
    plugins_dir.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as archive:
        archive.extractall(plugins_dir)
    return plugins_dir


@pytest.fixture
def recorder(monkeypatch, qgis_iface) -> Recorder:
    rec = Recorder()
    rec.install(monkeypatch, qgis_iface)
    return rec


@pytest.fixture
def message_bar(monkeypatch, qgis_iface) -> QgsMessageBar:
    """QGIS's real message bar (pytest-qgis's stand-in holds text only, no buttons)."""
    bar = QgsMessageBar()
    monkeypatch.setattr(qgis_iface, "messageBar", lambda: bar)
    return bar


@pytest.fixture
def loader(profile_plugins_dir, monkeypatch, qgis_iface):
    """QGIS's plugin loader pointed at the fresh profile; the development copy of the package
    is set aside so that the installed copy is the one imported."""
    set_aside = _plugin_modules()
    for name in set_aside:
        del sys.modules[name]
    monkeypatch.syspath_prepend(str(profile_plugins_dir))
    monkeypatch.setattr(qgis.utils, "plugin_paths", [str(profile_plugins_dir)])
    monkeypatch.setattr(qgis.utils, "iface", qgis_iface)
    for name in ("available_plugins", "plugins_metadata_parser"):  # restored afterwards
        monkeypatch.setattr(qgis.utils, name, getattr(qgis.utils, name))
    qgis.utils.updateAvailablePlugins()  # as QGIS does at start-up
    assert PLUGIN_NAME in qgis.utils.available_plugins
    yield qgis.utils
    if PLUGIN_NAME in qgis.utils.active_plugins:
        qgis.utils.unloadPlugin(PLUGIN_NAME)
    for name in _plugin_modules():
        del sys.modules[name]
    sys.modules.update(set_aside)


def test_qgis_finds_the_installed_plugin_and_reads_its_metadata(loader, profile_plugins_dir):
    found = dict(loader.findPlugins(str(profile_plugins_dir)))
    assert PLUGIN_NAME in found
    assert found[PLUGIN_NAME].get("general", "name") == "Community Safety Segmentation"
    assert found[PLUGIN_NAME].get("general", "qgisMinimumVersion") == "3.22"


def test_plugin_loads_adds_menu_entry_and_button_and_unloads_cleanly(
    loader, profile_plugins_dir, recorder, qgis_iface, message_bar
):
    assert loader.loadPlugin(PLUGIN_NAME)
    module = sys.modules[PLUGIN_NAME]
    assert Path(module.__file__).resolve().parent == (profile_plugins_dir / PLUGIN_NAME).resolve()

    assert loader.startPlugin(PLUGIN_NAME)
    assert PLUGIN_NAME in loader.active_plugins
    plugin = loader.plugins[PLUGIN_NAME]
    assert [menu for menu, _ in recorder.menu] == ["&Community Safety Segmentation"] * 5
    assert [a.text() for _, a in recorder.menu] == [
        "Community Safety Segmentation", "Build segmentation from a project file…",
        "Ward atlas (PDF)…", "Community safety dock", "New segmentation…"]
    assert all(a.isEnabled() for _, a in recorder.menu)
    (action,) = recorder.toolbar
    assert recorder.menu[0][1] is action
    assert action.text() == "Community Safety Segmentation"
    assert not action.icon().isNull()
    project_action = recorder.menu[1][1]
    assert project_action.text() == "Build segmentation from a project file…"
    assert project_action.isEnabled()
    atlas_action = recorder.menu[2][1]
    assert atlas_action.text() == "Ward atlas (PDF)…" and atlas_action.isEnabled()
    assert message_bar.items() == []
    assert "Ready: every Python package the engine needs is installed" in plugin.status_text()
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("community_safety")
    assert provider is not None and provider.name() == "Community safety"
    algorithms = sys.modules[f"{PLUGIN_NAME}.qgis_plugin.processing.provider"].ALGORITHMS
    assert len(provider.algorithms()) == len(algorithms) >= 8
    assert registry.algorithmById("community_safety:buildfromproject") is not None

    assert loader.unloadPlugin(PLUGIN_NAME)
    assert registry.providerById("community_safety") is None
    assert recorder.menu == [] and recorder.toolbar == []
    assert PLUGIN_NAME not in loader.active_plugins


@pytest.mark.parametrize(
    "hidden_module, package",
    [("sklearn", "scikit-learn"), ("geopandas", "geopandas")],
)
def test_missing_dependency_leaves_qgis_working_and_offers_to_install(
    loader, recorder, message_bar, monkeypatch, hidden_module, package
):
    monkeypatch.setitem(sys.modules, hidden_module, None)  # any import of it now fails

    assert loader.loadPlugin(PLUGIN_NAME)
    assert loader.startPlugin(PLUGIN_NAME)
    assert len(recorder.toolbar) == 1  # the plugin is there, menu and button included
    # without the engine's packages, no Processing provider is registered
    assert QgsApplication.processingRegistry().providerById("community_safety") is None
    assert not recorder.menu[1][1].isEnabled()  # no project-file algorithm to open
    assert not recorder.menu[2][1].isEnabled()  # nor the ward atlas
    assert not any(a.isEnabled() for _, a in recorder.menu[3:])  # nor the dock or wizard

    (item,) = message_bar.items()
    assert item.title() == "Community Safety Segmentation"
    assert f"missing or too old: {package}." in item.text()
    (button,) = item.findChildren(QPushButton, "communitySafetyInstall")
    assert button.text() == "Install…"

    dialog = loader.plugins[PLUGIN_NAME].show_status()
    summary = dialog.findChild(QLabel, "summary").text()
    assert f"{package} (cannot be imported" in summary
    command = dialog.findChild(QPlainTextEdit, "command")
    assert command.lineWrapMode() == QPlainTextEdit.WidgetWidth  # never cut off
    assert "-m pip install" in command.toPlainText()
    assert f'"{package}>=' in command.toPlainText()
    dialog.close()
    assert loader.unloadPlugin(PLUGIN_NAME)
    assert message_bar.items() == []  # the plugin's message goes with it


def _fake_python(folder: Path, script: str) -> str:
    """An executable standing in for QGIS's Python: it prints what pip would."""
    path = folder / "python3"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("script, outcome", [
    ('echo "$0: No module named pip" >&2; exit 1', "pip is not installed for QGIS's Python"),
    ('echo "Collecting pandas"; echo "WARNING: Retrying after connection broken by '
     "'NewConnectionError(Failed to establish a new connection)'\"; exit 1",
     "could not reach the Python Package Index"),
])
def test_install_button_runs_pip_in_a_task_and_explains_a_failure(
    loader, recorder, message_bar, monkeypatch, tmp_path, qgis_app, script, outcome
):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    fake = _fake_python(tmp_path, script)
    assert loader.loadPlugin(PLUGIN_NAME) and loader.startPlugin(PLUGIN_NAME)
    installer = importlib.import_module(f"{PLUGIN_NAME}.qgis_plugin.installer")
    monkeypatch.setattr(installer, "python_executable", lambda: fake)

    (item,) = message_bar.items()
    item.findChild(QPushButton, "communitySafetyInstall").click()  # as the user does
    dialog = loader.plugins[PLUGIN_NAME].dialog
    task = dialog.task
    assert task is not None and task.argv[:4] == [fake, "-m", "pip", "install"]
    assert any(arg.startswith("scikit-learn>=") for arg in task.argv)
    outcome_label = dialog.findChild(QLabel, "outcome")
    for _ in range(200):  # the task runs in the background; QGIS stays responsive
        qgis_app.processEvents()
        if dialog.task is None:
            break
        QThread.msleep(25)
    assert outcome in outcome_label.text()
    shown = dialog.findChild(QPlainTextEdit, "pipOutput").toPlainText()
    assert shown.startswith(f"$ {fake} -m pip install")  # the output is shown as it comes
    assert dialog.findChild(QPushButton, "install").isEnabled()  # try again later
    dialog.close()
    assert loader.unloadPlugin(PLUGIN_NAME)


def test_a_package_bound_to_qgis_libraries_by_another_plugin_is_reported(
    loader, recorder, message_bar, monkeypatch
):
    assert loader.loadPlugin(PLUGIN_NAME)
    plugin_module = importlib.import_module(f"{PLUGIN_NAME}.qgis_plugin.plugin")
    libraries = importlib.import_module(f"{PLUGIN_NAME}.qgis_plugin.native_libraries")
    mixed = libraries.NativeLibrary("shapely", "GEOS", "older than 3.12 (not its own)",
                                    "3.13.1", "loaded earlier, without the plugin")
    monkeypatch.setattr(plugin_module, "native_library_report", lambda: [mixed])
    assert loader.startPlugin(PLUGIN_NAME)
    (item,) = message_bar.items()
    assert "shapely runs on GEOS older than 3.12 (not its own), NOT its own copy (3.13.1)" \
        in item.text()
    assert "Another plugin loaded it before this one" in item.text()
    assert loader.unloadPlugin(PLUGIN_NAME)


def test_after_installing_the_status_dialog_says_what_is_true(
    loader, recorder, message_bar, monkeypatch, tmp_path, qgis_app
):
    """pip succeeds: the dialog no longer lists packages as missing under "ready", nor shows
    the command to install them."""
    import sklearn  # noqa: F401 (the real module, given back once "pip" has run)

    real = sys.modules["sklearn"]
    monkeypatch.setitem(sys.modules, "sklearn", None)
    fake = _fake_python(tmp_path, 'sleep 0.3; echo "Successfully installed scikit-learn"')
    assert loader.loadPlugin(PLUGIN_NAME) and loader.startPlugin(PLUGIN_NAME)
    installer = importlib.import_module(f"{PLUGIN_NAME}.qgis_plugin.installer")
    monkeypatch.setattr(installer, "python_executable", lambda: fake)
    plugin = loader.plugins[PLUGIN_NAME]
    monkeypatch.setattr(type(plugin), "_reload", staticmethod(lambda: None))

    (item,) = message_bar.items()
    item.findChild(QPushButton, "communitySafetyInstall").click()
    dialog = plugin.dialog
    summary = dialog.findChild(QLabel, "summary")
    assert "Not ready" in summary.text() and "scikit-learn" in summary.text()
    sys.modules["sklearn"] = real  # what pip's install does for the next import
    for _ in range(400):
        qgis_app.processEvents()
        if dialog.task is None:
            break
        QThread.msleep(25)
    assert "is ready" in dialog.findChild(QLabel, "outcome").text()
    assert summary.text().startswith(f"Version {plugin_version()}. Ready")
    assert "not installed" not in summary.text() and "cannot be imported" not in summary.text()
    assert not dialog.findChild(QPlainTextEdit, "command").isVisibleTo(dialog)
    assert not dialog.findChild(QPushButton, "install").isVisibleTo(dialog)
    dialog.close()
    assert loader.unloadPlugin(PLUGIN_NAME)


def plugin_version() -> str:
    return importlib.import_module(f"{PLUGIN_NAME}.core").__version__
