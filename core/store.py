"""Save a segmentation to one GeoPackage (plus CSVs and plots for people), and load it back.

The GeoPackage holds:

- ``segments``: the output-area layer (area_code, segment, segment_name, subsegment,
  distance), with its style in ``layer_styles`` so QGIS opens it styled, and a description
  in ``gpkg_contents`` (which way the segments are numbered, by which deprivation measure)
  that QGIS shows as the layer's abstract;
- tables ``segment_summary``, ``segment_profiles``, ``screening``, ``reconciliation``,
  ``missing_values``, ``standardisation`` (with the fill values), ``centres``,
  ``subcentres``, ``area_values`` and ``manifest`` (one JSON document).

Everything is written into a staging folder beside the output folder and moved into place
only when complete: a failed or cancelled run leaves no new file behind.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from .errors import InputError
from .plots import box_plots, elbow_plot
from .progress import Progress, silent
from .segmentation import Segmentation
from .standardise import Standardiser
from .styles import segment_layer_abstract, segment_layer_qml

GPKG_NAME = "segmentation.gpkg"
SEGMENT_LAYER = "segments"
CSV_TABLES = ("segment_summary", "segment_profiles", "screening", "reconciliation")
# GeoPackage 1.2: readable without warnings by the older GDAL that QGIS 3.22 ships with
GPKG_OPTIONS = {"VERSION": "1.2"}


@contextmanager
def staged_output(out_dir: Path):
    """A staging folder whose files move into ``out_dir`` only if the block succeeds."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-staging-", dir=out_dir.parent))
    try:
        yield staging
        out_dir.mkdir(exist_ok=True)
        for path in sorted(staging.rglob("*")):
            target = out_dir / path.relative_to(staging)
            if path.is_dir():
                target.mkdir(exist_ok=True)
            else:
                os.replace(path, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def atomic_file(path: Path):
    """A temporary path beside ``path`` that replaces it only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix,
                                         dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


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


def segment_abstract(seg: Segmentation) -> str:
    params = seg.manifest.get("parameters", {})
    deprivation = params.get("deprivation")
    return segment_layer_abstract(seg.segment_names, seg.name, deprivation,
                                  params.get("more_deprived", "lower"),
                                  seg.labels.get(deprivation) if deprivation else None)


def write_assigned_layer(seg: Segmentation, areas: gpd.GeoDataFrame, assigned: pd.DataFrame,
                         path: Path) -> Path:
    """Areas assigned to a saved segmentation as a GeoPackage layer with its segment style
    (the caller stages ``path``)."""
    layer = gpd.GeoDataFrame(assigned.join(areas[["geometry"]]), geometry="geometry",
                             crs=areas.crs).rename_axis("area_code").reset_index()
    layer.to_file(path, layer=SEGMENT_LAYER, driver="GPKG", engine="pyogrio",
                  dataset_options=GPKG_OPTIONS)
    write_layer_style(path, SEGMENT_LAYER, segment_layer_qml(seg.segment_names))
    write_layer_description(path, SEGMENT_LAYER, segment_abstract(seg))
    return path


def save_segmentation(seg: Segmentation, out_dir: Path, plots: bool = True,
                      progress: Progress = silent, gpkg_name: str = GPKG_NAME) -> Path:
    """Write the GeoPackage, the CSV tables, the manifest and the box plots into out_dir."""
    with staged_output(out_dir) as staging:
        gpkg = staging / gpkg_name
        progress(0.1, f"writing {gpkg_name}")
        layer = seg.areas.reset_index().rename(columns={"index": "area_code"})
        gpd.GeoDataFrame(layer, geometry="geometry", crs=seg.areas.crs).to_file(
            gpkg, layer=SEGMENT_LAYER, driver="GPKG", engine="pyogrio",
            dataset_options=GPKG_OPTIONS)
        unclassified = bool(seg.areas["segment"].isna().any())
        write_layer_style(gpkg, SEGMENT_LAYER,
                          segment_layer_qml(seg.segment_names, unclassified=unclassified))
        write_layer_description(gpkg, SEGMENT_LAYER, segment_abstract(seg))
        tables = tables_of(seg)
        for name, frame in tables.items():
            write_table(gpkg, name, frame)
        for name in (*CSV_TABLES, "diagnostics"):
            if name in tables:
                tables[name].to_csv(staging / f"{name}.csv", index=False)
        (staging / "manifest.json").write_text(json.dumps(seg.manifest, indent=2),
                                               encoding="utf-8")
        if plots:
            progress(0.5, "drawing box plots")
            classified = seg.areas["segment"].dropna().astype(int)
            columns = seg.clustered + [c for c in seg.values.columns if c not in seg.clustered]
            box_plots(seg.values.loc[classified.index, columns], classified, staging / "plots",
                      seg.labels)
            if seg.diagnostics is not None:
                elbow_plot(seg.diagnostics, staging / "plots" / "elbow.png")
        progress(1.0, "saved")
    return Path(out_dir) / gpkg_name


def tables_of(seg: Segmentation) -> dict[str, pd.DataFrame]:
    standardisation = seg.standardiser.to_table()
    standardisation["fill_value"] = seg.fill_values.reindex(seg.clustered).to_numpy()
    tables = {
        "segment_summary": seg.summary.reset_index(),
        "segment_profiles": seg.profiles,
        "screening": seg.screening,
        "reconciliation": seg.reconciliation,
        "missing_values": seg.missing,
        "standardisation": standardisation,
        "centres": seg.centres.reset_index(),
        "subcentres": seg.subcentres.reset_index(),
        "area_values": seg.values.rename_axis("area_code").reset_index(),
        "manifest": pd.DataFrame({"manifest": [json.dumps(seg.manifest)]}),
    }
    if seg.diagnostics is not None:
        tables["diagnostics"] = seg.diagnostics
    if seg.labels:
        tables["variable_labels"] = pd.DataFrame(
            {"variable": list(seg.labels), "description": list(seg.labels.values())})
    return tables


def load_segmentation(path: Path) -> Segmentation:
    """A saved segmentation, ready for later steps and for assigning new areas."""
    path = Path(path)
    if path.is_dir():
        path = path / GPKG_NAME
    if not path.exists():
        raise InputError(f"{path}: saved segmentation not found")
    try:
        layers = {name for name, _ in pyogrio.list_layers(path)}
    except Exception as err:
        raise InputError(f"{path}: not a GeoPackage ({err})") from err
    needed = {SEGMENT_LAYER, "segment_summary", "standardisation", "centres", "manifest"}
    if not needed <= layers:
        raise InputError(f"{path.name}: not a saved segmentation (missing "
                         f"{', '.join(sorted(needed - layers))})")
    areas = gpd.read_file(path, layer=SEGMENT_LAYER, engine="pyogrio").set_index("area_code")
    areas["segment"] = areas["segment"].astype("Int64")
    standardisation = read_gpkg_table(path, "standardisation")
    clustered = standardisation["variable"].tolist()
    centres = read_gpkg_table(path, "centres").set_index("segment")
    centres.index = centres.index.astype(int)
    subcentres = read_gpkg_table(path, "subcentres")
    subcentres = subcentres.set_index("subsegment") if "subsegment" in subcentres else subcentres
    summary = read_gpkg_table(path, "segment_summary").set_index("segment")
    summary.index = summary.index.astype(int)
    values = read_gpkg_table(path, "area_values").set_index("area_code")
    diagnostics = read_gpkg_table(path, "diagnostics") if "diagnostics" in layers else None
    manifest = json.loads(read_gpkg_table(path, "manifest")["manifest"].iloc[0])
    labels = {}
    if "variable_labels" in layers:
        table = read_gpkg_table(path, "variable_labels")
        labels = dict(zip(table["variable"], table["description"]))
    return Segmentation(
        name=manifest.get("name", ""),
        areas=areas, values=values, clustered=clustered,
        standardiser=Standardiser.from_table(standardisation),
        fill_values=standardisation.set_index("variable")["fill_value"],
        centres=centres[clustered], subcentres=subcentres,
        screening=read_gpkg_table(path, "screening"),
        reconciliation=read_gpkg_table(path, "reconciliation"),
        profiles=read_gpkg_table(path, "segment_profiles"), summary=summary,
        missing=read_gpkg_table(path, "missing_values"),
        manifest=manifest,
        diagnostics=diagnostics, labels=labels,
    )


def add_to_geopackage(path: Path, tables: dict, layers: dict | None = None,
                      styles: dict | None = None, descriptions: dict | None = None) -> Path:
    """Add or replace tables and layers in a saved segmentation, atomically: the GeoPackage
    is copied, changed, and moved back only when every write has succeeded. ``styles`` and
    ``descriptions``: layer name -> QML style, and -> abstract."""
    path = Path(path)
    if path.is_dir():
        path = path / GPKG_NAME
    if not path.exists():
        raise InputError(f"{path}: saved segmentation not found")
    with tempfile.TemporaryDirectory(prefix=".gpkg-", dir=path.parent) as tmp:
        work = Path(tmp) / path.name
        shutil.copy2(path, work)
        for name, frame in (layers or {}).items():
            frame.to_file(work, layer=name, driver="GPKG", engine="pyogrio",
                          layer_options={"OVERWRITE": "YES"})
        for name, frame in tables.items():
            write_table(work, name, frame)
        for layer, qml in (styles or {}).items():
            write_layer_style(work, layer, qml)
        for layer, text in (descriptions or {}).items():
            write_layer_description(work, layer, text)
        os.replace(work, path)
    return path
