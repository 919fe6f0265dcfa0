"""The installable zip: what a GIS officer installs through Plugins > Install from ZIP."""

from __future__ import annotations

import configparser
import zipfile

import pytest
from conftest import PLUGIN_NAME

from community_safety.core.dependencies import ENGINE_DEPENDENCIES

REQUIRED_METADATA = (
    "name", "qgisMinimumVersion", "description", "about", "version", "author", "email",
    "repository", "tracker", "tags", "category", "icon", "hasProcessingProvider",
    "experimental", "changelog",
)


@pytest.fixture(scope="module")
def names(plugin_zip) -> list[str]:
    with zipfile.ZipFile(plugin_zip) as archive:
        assert archive.testzip() is None
        return archive.namelist()


@pytest.fixture(scope="module")
def metadata(plugin_zip) -> configparser.SectionProxy:
    with zipfile.ZipFile(plugin_zip) as archive:
        text = archive.read(f"{PLUGIN_NAME}/metadata.txt").decode("utf-8")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser["general"]


def test_zip_holds_one_plugin_folder_with_engine_plugin_and_resources(names):
    assert {n.split("/")[0] for n in names} == {PLUGIN_NAME}
    for required in ("__init__.py", "metadata.txt", "LICENSE", "core/__init__.py",
                     "qgis_plugin/plugin.py", "resources/icons/icon.svg", "constraints.txt",
                     "qgis_plugin/ui/status_dialog.py", "qgis_plugin/native_libraries.py",
                     "resources/sample_data/camden/ATTRIBUTION.md",
                     "resources/sample_data/camden/output_areas_2011.gpkg"):
        assert f"{PLUGIN_NAME}/{required}" in names, required


def test_zip_leaves_out_tests_caches_and_development_files(names):
    for name in names:
        parts = name.split("/")
        assert "__pycache__" not in parts and not name.endswith(".pyc"), name
        assert parts[1] not in {"tests", "scripts", "benchmarks", ".venv", ".ci", ".git",
                                "pyproject.toml", "Makefile", "pb_tool.cfg"}, name
        assert not parts[1].endswith(".egg-info"), name


def test_metadata_has_every_field_the_plugin_repository_requires(metadata, names):
    for field in REQUIRED_METADATA:
        assert metadata.get(field, "").strip(), f"metadata.txt lacks {field}"
    assert metadata["qgisMinimumVersion"] == "3.22"
    assert f"{PLUGIN_NAME}/{metadata['icon']}" in names


def test_metadata_about_names_every_third_party_package(metadata):
    for dep in ENGINE_DEPENDENCIES:
        assert dep.package in metadata["about"], dep.package
