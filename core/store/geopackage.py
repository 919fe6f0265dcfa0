"""The saved segmentation's GeoPackage: tables, layer styles (``layer_styles``, so QGIS opens
a layer styled) and descriptions (``gpkg_contents``, shown as the layer's abstract), and
``add_to_geopackage``: later steps change a copy of the GeoPackage and move it back, only if
the segmentation there is still the one they read (its identity: a hash of the manifest
and of every area's segment).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyogrio

from .. import written
from ..errors import InputError
from .names import GPKG_NAME, SEGMENT_LAYER
from .tidying import recovered, tidy
from .work_names import _new_staging, _remove

# GeoPackage 1.2: readable without warnings by the older GDAL that QGIS 3.22 ships with


def write_table(path: Path, name: str, frame: pd.DataFrame) -> None:
    """A non-spatial table in a GeoPackage (registered as 'attributes' so GIS see it),
    replacing any table of that name. Column names are written as text."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("string"):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG",
                            layer_options={"OVERWRITE": "YES"})


def read_gpkg_table(path: Path, name: str) -> pd.DataFrame:
    return pyogrio.read_dataframe(path, layer=name, read_geometry=False)


# the GeoPackage's record of the tables and layers its steps wrote: one on the record that
# is not there was lost afterwards (deleted by hand, a copy made half-way), and the report
# says so instead of leaving its section out unsaid
WRITTEN_RECORD = "tables_written"


def recorded_tables(path: Path) -> set[str]:
    """The tables and layers the GeoPackage's steps wrote, by name (none when it has no
    record: made before the record was kept, or the record itself was lost)."""
    try:
        if WRITTEN_RECORD not in {name for name, _ in pyogrio.list_layers(path)}:
            return set()
        return set(read_gpkg_table(path, WRITTEN_RECORD)["table"].dropna().astype(str))
    except Exception:
        return set()


def record_written(path: Path, names) -> None:
    """Add ``names`` to the GeoPackage's record of the tables its steps wrote."""
    names = recorded_tables(path) | {str(name) for name in names}
    write_table(path, WRITTEN_RECORD, pd.DataFrame({"table": sorted(names)}))


def write_layer_style(path: Path, layer: str, qml: str, geometry_column: str = "geom") -> None:
    """Make a QML style the layer's default in the GeoPackage's layer_styles table, replacing
    any style the layer had (other layers' styles are kept)."""
    row = pd.DataFrame([{
        "f_table_catalog": "", "f_table_schema": "", "f_table_name": layer,
        "f_geometry_column": geometry_column, "styleName": layer, "styleQML": qml,
        "styleSLD": "", "useAsDefault": True, "description": "Community Safety Segmentation",
        "owner": "", "ui": "", "update_time": datetime.now(timezone.utc).replace(tzinfo=None),
    }])
    if "layer_styles" in {name for name, _ in pyogrio.list_layers(path)}:
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
        pyogrio.write_dataframe(row, path, layer="layer_styles", driver="GPKG", append=True)
    else:
        pyogrio.write_dataframe(row, path, layer="layer_styles", driver="GPKG")


def write_layer_description(path: Path, layer: str, text: str) -> None:
    """The layer's description in ``gpkg_contents``: QGIS (OGR provider) reads it as the
    layer metadata's abstract, so it travels with the GeoPackage."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                   (text, layer))
    db.close()


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value)


def segmentation_identity(manifest: dict, areas: pd.DataFrame) -> str:
    """A hash of the manifest (inputs with their hashes, parameters, versions, the time it
    was made) and of every area's segment and sub-segment: two saved segmentations have the
    same identity only if they are the same one. ``areas``: indexed by area code."""
    body = {key: value for key, value in manifest.items() if key != "identity"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True,
                                       default=str).encode("utf-8"))
    segments = pd.to_numeric(areas["segment"], errors="coerce")
    subsegments = (areas["subsegment"] if "subsegment" in areas.columns
                   else pd.Series("", index=areas.index))
    rows = sorted(zip((str(code) for code in areas.index),
                      ("" if pd.isna(s) else str(int(s)) for s in segments),
                      (_cell(s) for s in subsegments)))
    digest.update("\n".join("\t".join(row) for row in rows).encode("utf-8"))
    return digest.hexdigest()


def identity_of(path: Path) -> str:
    """The identity of the segmentation a GeoPackage holds now (computed from its content)."""
    path = Path(path)
    try:
        manifest = json.loads(read_gpkg_table(path, "manifest")["manifest"].iloc[0])
        fields = set(pyogrio.read_info(path, layer=SEGMENT_LAYER)["fields"])
        columns = [c for c in ("area_code", "segment", "subsegment") if c in fields]
        areas = pyogrio.read_dataframe(path, layer=SEGMENT_LAYER, columns=columns,
                                       read_geometry=False).set_index("area_code")
    except Exception as err:
        raise InputError(f"{path}: no longer holds a saved segmentation ({err})") from err
    return segmentation_identity(manifest, areas)


def gpkg_file(path: Path) -> Path:
    """A saved segmentation's GeoPackage: the path itself, or ``segmentation.gpkg`` in a
    folder; a run killed while swapping that folder in is finished first."""
    path = Path(path)
    recovered(path)
    return path / GPKG_NAME if path.is_dir() else path


def _same_segmentation(path: Path, identity: str, shown: Path) -> None:
    if identity_of(path) != identity:
        raise InputError(f"{shown}: now holds another segmentation than the one this step "
                         "read (it was segmented again meanwhile); results computed from the "
                         "earlier one were not written - run the step again")


def add_to_geopackage(path: Path, tables: dict, layers: dict | None = None,
                      styles: dict | None = None, descriptions: dict | None = None,
                      identity: str | None = None) -> Path:
    """Add or replace tables and layers in a saved segmentation, atomically: the GeoPackage
    is copied, changed, and moved back only when every write has succeeded. ``styles`` and
    ``descriptions``: layer name -> QML style, and -> abstract. ``identity``: the identity
    of the segmentation the results were computed from (``load_segmentation`` gives it in
    the manifest); when given, nothing is written if the GeoPackage holds another one
    (checked on the copy, and on the file again just before the copy replaces it)."""
    path = gpkg_file(path)
    if not recovered(path):
        raise InputError(f"{path}: saved segmentation not found")
    with _one_writer(path.parent):  # two steps adding at once: each sees the other's tables
        _add_to_geopackage(path, tables, layers, styles, descriptions, identity)
    return path


@contextmanager
def _one_writer(folder: Path):
    """Hold the folder's lock (an advisory lock on the folder itself, so nothing is left
    behind; where the system has none, nothing is held)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def write_additions(work: Path, tables: dict, layers: dict | None = None,
                    styles: dict | None = None, descriptions: dict | None = None) -> None:
    """Tables, layers, their styles and descriptions written into ``work`` (a copy of a
    GeoPackage that then replaces it: ``add_to_geopackage``, ``together``)."""
    for name, frame in (layers or {}).items():
        frame.to_file(work, layer=name, driver="GPKG", engine="pyogrio",
                      layer_options={"OVERWRITE": "YES"})
    for name, frame in (tables or {}).items():
        write_table(work, name, frame)
    for layer, qml in (styles or {}).items():
        write_layer_style(work, layer, qml)
    for layer, text in (descriptions or {}).items():
        write_layer_description(work, layer, text)
    if tables or layers:
        record_written(work, [*(tables or {}), *(layers or {})])


def _add_to_geopackage(path: Path, tables: dict, layers: dict | None, styles: dict | None,
                       descriptions: dict | None, identity: str | None) -> None:
    tidy(path.parent)
    work_dir = _new_staging(path.parent, path.name)
    try:
        work = work_dir / path.name
        shutil.copy2(path, work)
        if identity is not None:
            _same_segmentation(work, identity, path)
        write_additions(work, tables, layers, styles, descriptions)
        if identity is not None:
            _same_segmentation(path, identity, path)
        os.replace(work, path)
        written.record(path)
    finally:
        _remove(work_dir)
