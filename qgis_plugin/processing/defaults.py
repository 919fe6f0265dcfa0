"""What the Processing dialogs show before the user chooses: the segmentation the dock
shows, and the project's own layers (not the segmentation's: its Addresses layer is not
incident points, its Incident rates are not wards), the ward layer's code and name fields
by their names or values. Worked out each time a dialog opens (Processing creates the
algorithm afresh then); a script's parameters are as it passes them."""

from __future__ import annotations

import re
from pathlib import Path

from qgis.core import QgsProject, QgsVectorLayer, QgsWkbTypes

SHOWN: dict = {"segmentation": None}  # the GeoPackage the dock shows, set by the dock
WARD_CODE = re.compile(r"WD\d\dCD|ward_?code|ward_?cd", re.IGNORECASE)
WARD_NAME = re.compile(r"WD\d\dNM|ward_?name|ward_?nm", re.IGNORECASE)
WARD_CODE_VALUE = re.compile(r"E05\d{6}")  # an English electoral ward's code


def shown_segmentation() -> str | None:
    gpkg = SHOWN["segmentation"]
    return str(gpkg) if gpkg is not None and Path(gpkg).exists() else None


def _of_a_segmentation(layer) -> bool:
    from ..ui.dock import segmentation_of  # (the dock's test: a GeoPackage of ours)

    return segmentation_of(layer) is not None


def own_layers(geometry) -> list:
    """The project's vector layers of ``geometry`` (QgsWkbTypes.PointGeometry...), in the
    Layers panel's order, but those of a segmentation GeoPackage."""
    project = QgsProject.instance()
    order = project.layerTreeRoot().layerOrder()
    return [layer for layer in order
            if isinstance(layer, QgsVectorLayer) and layer.isValid()
            and layer.geometryType() == geometry and not _of_a_segmentation(layer)]


def default_layer(geometry) -> str | None:
    """The id of the first of ``own_layers(geometry)``, or None."""
    found = own_layers(geometry)
    return found[0].id() if found else None


def default_field(layer_id: str | None, name: re.Pattern,
                  value: re.Pattern | None = None) -> str | None:
    """The layer's field named as ``name`` says, else the first whose first values all
    match ``value``; None when none does (or there is no layer)."""
    layer = QgsProject.instance().mapLayer(layer_id) if layer_id else None
    if not isinstance(layer, QgsVectorLayer):
        return None
    fields = layer.fields().names()
    named = [f for f in fields if name.fullmatch(f)]
    if named or value is None:
        return named[0] if named else None
    samples = [feature.attributes() for _, feature in zip(range(20), layer.getFeatures())]
    for index, field in enumerate(fields):
        cells = [str(row[index]) for row in samples if row[index] not in (None, "")]
        if cells and all(value.fullmatch(cell) for cell in cells):
            return field
    return None


POINTS, POLYGONS = QgsWkbTypes.PointGeometry, QgsWkbTypes.PolygonGeometry
