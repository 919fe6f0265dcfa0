"""Renaming segments after the fact: the names and pen portraits a community safety officer
edits (in the dock) go back into the saved segmentation, everywhere a reader sees them.

``rename_segments(gpkg, names, portraits)`` rewrites, in one atomic change of the
GeoPackage (``store.add_to_geopackage``, which also checks the segmentation is still the
one the names were written for): the segment summary, the ``segment_name`` of the segment
and address layers, the dominant segment's name on the ward layer, and the layers' styles
and descriptions, so the legend reads "n – new name" when QGIS reloads the layer.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from ..errors import InputError
from ..store.geopackage import add_to_geopackage, gpkg_file, read_gpkg_table
from ..store.names import SEGMENT_LAYER
from ..styles import segment_layer_qml, ward_layer_qml
from .saved import load_segmentation, segment_abstract

MAX_NAME = 120


def checked_names(current: dict[int, str], names: dict[int, str]) -> dict[int, str]:
    """The full set of names after the edit, or an error naming the segment."""
    result = dict(current)
    for number, name in names.items():
        if int(number) not in current:
            raise InputError(f"segment {number}: there is no such segment (1 to "
                             f"{max(current)})")
        text = " ".join(str(name).split()) if isinstance(name, str) else ""
        if not text:
            raise InputError(f"segment {number}: a name cannot be empty")
        if len(text) > MAX_NAME:
            raise InputError(f"segment {number}: a name of at most {MAX_NAME} characters, "
                             "please (the legend shows it whole)")
        result[int(number)] = text
    seen = {}
    for number, text in sorted(result.items()):
        if text.lower() in seen:
            raise InputError(f"segments {seen[text.lower()]} and {number} would both be "
                             f"called '{text}'; give each its own name")
        seen[text.lower()] = number
    return result


def rename_segments(path: Path, names: dict[int, str],
                    portraits: dict[int, str] | None = None) -> dict[int, str]:
    """Store new names (and portraits) for some or all segments; returns every name."""
    gpkg = gpkg_file(Path(path))
    seg = load_segmentation(gpkg)
    new = checked_names(seg.segment_names, names)
    summary = read_gpkg_table(gpkg, "segment_summary")
    summary["name"] = summary["segment"].astype(int).map(new)
    for number, text in (portraits or {}).items():
        summary.loc[summary["segment"].astype(int) == int(number), "portrait"] = str(text)
    seg.summary["name"] = [new[int(n)] for n in seg.summary.index]

    layers = [name for name, _ in pyogrio.list_layers(gpkg)]
    changed, styles, descriptions = {}, {}, {}
    unclassified = bool(seg.areas["segment"].isna().any())
    segments = gpd.read_file(gpkg, layer=SEGMENT_LAYER, engine="pyogrio")
    segments["segment_name"] = segments["segment"].map(
        lambda s: new.get(int(s)) if s == s and s is not None else None)
    changed[SEGMENT_LAYER] = segments
    styles[SEGMENT_LAYER] = segment_layer_qml(new, unclassified=unclassified)
    descriptions[SEGMENT_LAYER] = segment_abstract(seg)
    if "addresses" in layers:
        addresses = gpd.read_file(gpkg, layer="addresses", engine="pyogrio")
        addresses["segment_name"] = addresses["segment"].map(
            lambda s: new.get(int(s)) if s == s and s is not None else None)
        changed["addresses"] = addresses
        styles["addresses"] = segment_layer_qml(new, kind="marker")
    if "wards" in layers:
        wards = gpd.read_file(gpkg, layer="wards", engine="pyogrio")
        if "dominant_segment_name" in wards.columns:
            wards["dominant_segment_name"] = wards["dominant_segment"].map(
                lambda s: new.get(int(s)) if s == s and s is not None else None)
        changed["wards"] = wards
        styles["wards"] = ward_layer_qml(new)
    add_to_geopackage(gpkg, {"segment_summary": summary}, layers=changed, styles=styles,
                      descriptions=descriptions, identity=seg.manifest["identity"])
    return new
