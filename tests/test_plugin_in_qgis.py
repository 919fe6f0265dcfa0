"""The plugin as a user installs it: the pb_tool zip unpacked into a fresh QGIS profile and
loaded by QGIS's own plugin loader, in real (headless) QGIS."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest
import qgis.utils
from conftest import PLUGIN_NAME
from qgis.core import Qgis, QgsApplication, QgsUserProfileManager


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
    loader, profile_plugins_dir, recorder, qgis_iface
):
    assert loader.loadPlugin(PLUGIN_NAME)
    module = sys.modules[PLUGIN_NAME]
    assert Path(module.__file__).resolve().parent == (profile_plugins_dir / PLUGIN_NAME).resolve()

    assert loader.startPlugin(PLUGIN_NAME)
    assert PLUGIN_NAME in loader.active_plugins
    plugin = loader.plugins[PLUGIN_NAME]
    assert [menu for menu, _ in recorder.menu] == ["&Community Safety Segmentation"]
    (action,) = recorder.toolbar
    assert recorder.menu[0][1] is action
    assert action.text() == "Community Safety Segmentation"
    assert not action.icon().isNull()
    assert qgis_iface.messageBar().get_messages(Qgis.Warning) == []
    assert "All engine dependencies are installed" in plugin.status_text()
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("community_safety")
    assert provider is not None and provider.name() == "Community safety"
    assert len(provider.algorithms()) == 7

    assert loader.unloadPlugin(PLUGIN_NAME)
    assert registry.providerById("community_safety") is None
    assert recorder.menu == [] and recorder.toolbar == []
    assert PLUGIN_NAME not in loader.active_plugins


@pytest.mark.parametrize(
    "hidden_module, package",
    [("sklearn", "scikit-learn"), ("geopandas", "geopandas")],
)
def test_missing_dependency_leaves_qgis_working_and_says_what_to_install(
    loader, recorder, qgis_iface, monkeypatch, hidden_module, package
):
    monkeypatch.setitem(sys.modules, hidden_module, None)  # any import of it now fails
    qgis_iface.messageBar().messages[Qgis.Warning].clear()

    assert loader.loadPlugin(PLUGIN_NAME)
    assert loader.startPlugin(PLUGIN_NAME)
    assert len(recorder.toolbar) == 1  # the plugin is there, menu and button included
    # without the engine's packages, no Processing provider is registered
    assert QgsApplication.processingRegistry().providerById("community_safety") is None

    (message,) = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert message.startswith("Community Safety Segmentation:")
    assert f"these Python packages are missing: {package}." in message
    assert "-m pip install" in message and f'"{package}>=' in message
    assert loader.unloadPlugin(PLUGIN_NAME)
