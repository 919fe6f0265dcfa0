"""A saved segmentation opens in QGIS styled: palette, legend order, segment names."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import SAMPLE_DIR
from qgis.core import QgsVectorLayer

from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.saved import save_segmentation
from community_safety.core.styles import PALETTE


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    project = replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=5)
    seg = build_segmentation(project)
    return seg, save_segmentation(seg, tmp_path_factory.mktemp("seg"), plots=False)


def test_segment_layer_opens_styled_from_the_geopackage(qgis_app, saved):
    seg, path = saved
    layer = QgsVectorLayer(f"{path}|layername=segments", "segments", "ogr")
    assert layer.isValid()
    assert layer.featureCount() == 749
    assert layer.crs().authid() == "EPSG:27700"
    renderer = layer.renderer()
    assert renderer.type() == "categorizedSymbol" and renderer.classAttribute() == "segment"
    categories = renderer.categories()
    assert [c.value() for c in categories] == [str(n) for n in range(1, 11)]
    assert [c.label() for c in categories] == [f"{n} – {seg.summary.loc[n, 'name']}"
                                               for n in range(1, 11)]
    assert [c.symbol().color().name().upper() for c in categories] == list(PALETTE)
    assert layer.displayExpression() == '"segment_name"'
    fields = [f.name() for f in layer.fields()]
    assert {"area_code", "segment", "segment_name", "distance"} <= set(fields)


def test_tables_are_visible_to_qgis(qgis_app, saved):
    _, path = saved
    for table in ("segment_summary", "segment_profiles", "screening", "reconciliation"):
        layer = QgsVectorLayer(f"{path}|layername={table}", table, "ogr")
        assert layer.isValid() and layer.featureCount() > 0, table
