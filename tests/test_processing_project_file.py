"""Build segmentation from a project file, in Processing: the same segmentation as the
command line's `segment` for the same project file and settings, loaded styled, chained in a
model, cancelled or refused cleanly."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import pyogrio
import pytest
from conftest import SAMPLE_DIR
from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelParameter,
    QgsProcessingParameterVectorLayer,
    QgsProject,
)
from test_processing import CancelAt, processing_error

from community_safety.core import cli
from community_safety.core.segment.saved import load_segmentation
from community_safety.core.segment.words import label_of
from community_safety.core.store.geopackage import read_gpkg_table
from community_safety.core.styles import PALETTE

ALGORITHM = "community_safety:buildfromproject"
PROJECT_FILE = SAMPLE_DIR / "camden.toml"
K, N_INIT = 5, 3  # small, for speed: the project file says k = 10 and 1,000 starts


class Recording(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.values, self.lines = [], []
        self.progressChanged.connect(self.values.append)

    def pushInfo(self, info):  # noqa: N802 (QGIS's name)
        self.lines.append(info)
        super().pushInfo(info)


@pytest.fixture(scope="module")
def from_project(provider, tmp_path_factory):
    """The algorithm run as from the toolbox (results loaded), with the layer it loaded."""
    import processing

    project = QgsProject.instance()
    project.removeAllMapLayers()
    output = tmp_path_factory.mktemp("from_project") / "camden.gpkg"
    feedback = Recording()
    result = processing.runAndLoadResults(ALGORITHM, {
        "PROJECT": str(PROJECT_FILE), "K": K, "N_INIT": N_INIT, "PLOTS": False,
        "OUTPUT": str(output)}, feedback=feedback)
    (layer,) = [lyr for lyr in project.mapLayers().values() if lyr.name() == "Segments"]
    renderer = layer.renderer()
    loaded = {"count": layer.featureCount(), "renderer": renderer.type(),
              "labels": [c.label() for c in renderer.categories()],
              "colours": [c.symbol().color().name().upper() for c in renderer.categories()],
              "source": layer.source()}
    project.removeAllMapLayers()
    loaded["log"] = feedback.lines
    return result, loaded, feedback.values


def segments_of(gpkg):
    frame = pyogrio.read_dataframe(gpkg, layer="segments", read_geometry=False)
    return frame.set_index("area_code").sort_index()


def test_writes_the_geopackage_and_loads_the_styled_segments(from_project):
    result, loaded, progress = from_project
    assert result["OUTPUT"].endswith("camden.gpkg")
    assert result["SEGMENTS"] == f"{result['OUTPUT']}|layername=segments"
    assert loaded["count"] == 749 and loaded["renderer"] == "categorizedSymbol"
    assert [label.split(" – ")[0] for label in loaded["labels"]] == [str(n) for n in
                                                                     range(1, K + 1)]
    assert loaded["colours"] == list(PALETTE[:K])
    assert loaded["source"].startswith(result["OUTPUT"])
    segments = segments_of(result["OUTPUT"])
    assert set(segments["segment"]) == set(range(1, K + 1))
    folder = Path(result["OUTPUT"]).parent
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (folder / "segment_summary.csv").exists() and not (folder / "plots").exists()
    # the overrides were used; the rest came from the project file
    assert manifest["parameters"]["k"] == K and manifest["parameters"]["n_init"] == N_INIT
    assert manifest["parameters"]["seed"] == 2011
    assert manifest["parameters"]["deprivation"] == "IMD19"
    # progress went forward to the end
    assert progress == sorted(progress) and progress[-1] == pytest.approx(100)
    # the log names the clustered variables by their descriptions, not their column codes
    seg = load_segmentation(result["OUTPUT"])
    (line,) = [x for x in loaded["log"] if "variables clustered: " in x]
    said = line.split("variables clustered: ", 1)[1].split("; ")
    assert said == [label_of(v, seg.labels) for v in seg.clustered]
    assert any(seg.labels.get(v) for v in seg.clustered)


def test_same_segments_as_the_command_line(from_project, tmp_path, capsys):
    result, _, _ = from_project
    # the command line's own code, in this process
    assert cli.main(["segment", str(PROJECT_FILE), "--out", str(tmp_path), "--k", str(K),
                     "--n-init", str(N_INIT), "--no-plots"]) == 0
    expected = segments_of(tmp_path / "segmentation.gpkg")
    built = segments_of(result["OUTPUT"])
    assert len(built) == len(expected) == 749
    assert built.index.equals(expected.index)
    assert (built["segment"] == expected["segment"]).all()
    assert (built["segment_name"] == expected["segment_name"]).all()
    assert (built["distance"] - expected["distance"]).abs().max() < 1e-9
    summary = read_gpkg_table(result["OUTPUT"], "segment_summary")
    cli_summary = read_gpkg_table(tmp_path / "segmentation.gpkg", "segment_summary")
    assert summary["areas"].tolist() == cli_summary["areas"].tolist()


def test_empty_overrides_use_the_project_file(provider):
    algorithm = provider.algorithm("buildfromproject")
    for name in ("K", "N_INIT", "SEED"):
        definition = algorithm.parameterDefinition(name)
        assert definition.flags() & definition.FlagOptional and definition.defaultValue() is None


def project_variant(folder, **changes):
    """The Camden project file, in another folder (sample paths made absolute), with
    ``changes``: regular expression -> replacement."""
    text = PROJECT_FILE.read_text(encoding="utf-8")
    text = re.sub(r'^(path|file) = "', rf'\1 = "{SAMPLE_DIR.as_posix()}/', text, flags=re.M)
    for pattern, replacement in changes.items():
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
        assert count == 1, pattern
    path = folder / "project.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case, message", [
    ("missing", "missing.toml: project file not found"),
    ("bad toml", "project.toml: not a valid TOML project file"),
    ("unknown deprivation column",
     "project.toml: deprivation column 'IMD_2019' is in none of the tables"),
    ("unknown variable", "census_demography.csv: no column 'no_such_column'"),
])
def test_bad_input_gives_one_line_and_writes_nothing(provider, tmp_path, case, message):
    if case == "missing":
        project = tmp_path / "missing.toml"
    elif case == "bad toml":
        project = tmp_path / "project.toml"
        project.write_text('name = "Camden\n[boundaries\n', encoding="utf-8")
    elif case == "unknown deprivation column":
        project = project_variant(tmp_path, **{r'^column = "IMD19"': 'column = "IMD_2019"'})
    else:
        project = project_variant(tmp_path, **{
            r'^context = \["usual_residents", "households"\]':
                'variables = ["no_such_column"]\ncontext = ["usual_residents", "households"]'})
    output = tmp_path / "out" / "segmentation.gpkg"
    output.parent.mkdir()
    error = processing_error(ALGORITHM, {"PROJECT": str(project), "K": K, "N_INIT": N_INIT,
                                         "PLOTS": False, "OUTPUT": str(output)})
    assert message in error and "\n" not in error.strip()
    assert list(output.parent.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out"] + ([] if case == "missing" else ["project.toml"]))  # no staging left


def test_cancelling_stops_promptly_and_writes_nothing(provider, tmp_path):
    output = tmp_path / "out" / "cancelled.gpkg"
    output.parent.mkdir()
    feedback, context = CancelAt(30), QgsProcessingContext()
    message = processing_error(ALGORITHM, {"PROJECT": str(PROJECT_FILE), "K": K,
                                           "N_INIT": 40, "OUTPUT": str(output)},
                               feedback=feedback, context=context)
    assert "Cancelled: nothing was written" in message
    assert feedback.isCanceled()
    assert list(output.parent.iterdir()) == []
    del feedback, context
    gc.collect()


def test_a_model_chains_the_project_file_to_the_gazetteer(provider, layers, tmp_path):
    import processing

    def source(value):
        return QgsProcessingModelChildParameterSource.fromStaticValue(value)

    model = QgsProcessingModelAlgorithm("Project file to addresses", "Community safety")
    model.addModelParameter(QgsProcessingParameterVectorLayer("addresses", "addresses"),
                            QgsProcessingModelParameter("addresses"))
    build = QgsProcessingModelChildAlgorithm(ALGORITHM)
    build.setChildId("build")
    for name, value in {"PROJECT": str(PROJECT_FILE), "K": K, "N_INIT": N_INIT,
                        "PLOTS": False, "OUTPUT": str(tmp_path / "chained.gpkg")}.items():
        build.addParameterSources(name, [source(value)])
    model.addChildAlgorithm(build)
    gazetteer = QgsProcessingModelChildAlgorithm("community_safety:joingazetteer")
    gazetteer.setChildId("gazetteer")
    gazetteer.addParameterSources("SEGMENTATION", [
        QgsProcessingModelChildParameterSource.fromChildOutput("build", "OUTPUT")])
    gazetteer.addParameterSources("ADDRESSES", [
        QgsProcessingModelChildParameterSource.fromModelParameter("addresses")])
    gazetteer.addParameterSources("ID", [source("Postcode")])
    model.addChildAlgorithm(gazetteer)
    processing.run(model, {"addresses": layers["postcodes"]})
    addresses = pyogrio.read_dataframe(tmp_path / "chained.gpkg", layer="addresses",
                                       read_geometry=False)
    assert len(addresses) == 8354
    assert set(addresses["segment"].dropna()) <= set(range(1, K + 1))
