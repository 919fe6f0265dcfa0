"""QGIS side at national scale: a 188,880-polygon layer to a frame and back, and rendered.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/qgis_layers.py

Uses the synthetic output areas of gazetteer_national.py (Voronoi cells, ~96 vertices each)
with a segment number 1..10 and the engine's stored style. Prints wall time and peak memory
for: layer -> frame (what every algorithm does with its input), frame -> GeoPackage ->
layer (how results come back), and rendering the styled layer at 1600 x 1600 pixels.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gazetteer_national import synthetic_areas  # noqa: E402
from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

from community_safety.core.store.geopackage import write_layer_style  # noqa: E402
from community_safety.core.styles import segment_layer_qml  # noqa: E402
from community_safety.qgis_plugin.layers import frame_from_source  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    with tempfile.TemporaryDirectory() as tmp:
        areas = synthetic_areas()
        areas["segment"] = np.random.default_rng(0).integers(1, 11, len(areas))
        areas["segment_name"] = "Segment " + areas["segment"].astype(str)
        areas = areas.rename_axis("area_code").reset_index()
        source = Path(tmp) / "areas.gpkg"
        areas.to_file(source, layer="segments", driver="GPKG", engine="pyogrio",
                      VERSION="1.2")
        write_layer_style(source, "segments",
                          segment_layer_qml({n: f"Segment {n}" for n in range(1, 11)}))
        layer = QgsVectorLayer(f"{source}|layername=segments", "segments", "ogr")
        print(f"layer      {layer.featureCount():,} polygons, peak so far {peak_mb():,.0f} MB")

        start = time.perf_counter()
        frame = frame_from_source(layer, ["area_code", "segment", "segment_name"])
        to_frame = time.perf_counter() - start
        print(f"to frame   {to_frame:.1f} s ({len(frame) / to_frame:,.0f} features/s), "
              f"peak {peak_mb():,.0f} MB")

        start = time.perf_counter()
        back = Path(tmp) / "back.gpkg"
        frame.to_file(back, layer="segments", driver="GPKG", engine="pyogrio", VERSION="1.2")
        returned = QgsVectorLayer(f"{back}|layername=segments", "back", "ogr")
        count = returned.featureCount()
        to_layer = time.perf_counter() - start
        print(f"to layer   {to_layer:.1f} s for {count:,} features via GeoPackage, "
              f"peak {peak_mb():,.0f} MB")

        layer.loadDefaultStyle()
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setDestinationCrs(layer.crs())
        settings.setExtent(layer.extent())
        settings.setOutputSize(QSize(1600, 1600))
        settings.setBackgroundColor(QColor("white"))
        start = time.perf_counter()
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        render = time.perf_counter() - start
        job.renderedImage().save(str(Path(tmp) / "render.png"))
        print(f"render     {render:.1f} s at 1600 x 1600 ({layer.renderer().type()}), "
              f"peak {peak_mb():,.0f} MB")
        del layer, returned, job
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
