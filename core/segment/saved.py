"""Save a segmentation to one GeoPackage (plus CSVs and plots for people), and load it back.

The GeoPackage holds:

- ``segments``: the output-area layer (area_code, segment, segment_name, subsegment,
  distance), with its style in ``layer_styles`` so QGIS opens it styled, and a description
  in ``gpkg_contents`` (which way the segments are numbered, by which deprivation measure)
  that QGIS shows as the layer's abstract;
- tables ``segment_summary``, ``segment_profiles``, ``screening``, ``reconciliation``,
  ``missing_values``, ``standardisation`` (with the fill values), ``centres``,
  ``subcentres``, ``area_values`` and ``manifest`` (one JSON document, with the
  segmentation's ``identity``: a hash of the manifest and of every area's segment).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..cells import write_csv
from ..errors import InputError
from ..progress import Progress, silent
from ..store.folders import replaced_folder, staged_files
from ..store.geopackage import (
    gpkg_file,
    read_gpkg_table,
    record_written,
    segmentation_identity,
    write_layer_description,
    write_layer_style,
    write_table,
)
from ..store.names import CSV_TABLES, GPKG_NAME, GPKG_OPTIONS, SEGMENT_LAYER
from ..store.tidying import recovered
from ..styles import numbering_axis, segment_layer_abstract, segment_layer_qml
from .build import Segmentation
from .notes import assigned_note
from .standardise import Standardiser
from .words import deprivation_label


def segment_abstract(seg: Segmentation) -> str:
    params = seg.manifest.get("parameters", {})
    deprivation = params.get("deprivation")
    return segment_layer_abstract(seg.segment_names, seg.name, deprivation,
                                  params.get("more_deprived", "lower"),
                                  deprivation_label(deprivation, seg.labels)
                                  if deprivation else None,
                                  seg.manifest.get("numbering", {}).get("description"),
                                  assigned_note(seg.manifest))


def _write_segmentation(seg: Segmentation, folder: Path, gpkg_name: str, plots: bool,
                        progress: Progress, also: dict | None = None,
                        files: bool = True) -> None:
    manifest = json.loads(json.dumps(seg.manifest))
    manifest.pop("identity", None)
    manifest["identity"] = segmentation_identity(manifest, seg.areas)
    seg.manifest = manifest
    gpkg = folder / gpkg_name
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
    record_written(gpkg, [SEGMENT_LAYER, *tables])
    if not files:
        return
    for name in (*CSV_TABLES, "diagnostics"):
        if name in tables:
            write_csv(tables[name], folder / f"{name}.csv", index=False)
    for name, frame in (also or {}).items():
        write_csv(frame, folder / name, index=False)
    (folder / "manifest.json").write_text(json.dumps(seg.manifest, indent=2), encoding="utf-8")
    if plots:
        from .plots import box_plots, elbow_plot  # matplotlib: only when drawing

        progress(0.5, "drawing box plots")
        classified = seg.areas["segment"].dropna().astype(int)
        # every variable; not the totals used only to make shares (how many, not who)
        totals = set(seg.manifest.get("results", {}).get("denominators_only", []))
        columns = seg.clustered + [c for c in seg.values.columns
                                   if c not in seg.clustered and c not in totals]
        box_plots(seg.values.loc[classified.index, columns], classified, folder / "plots",
                  seg.labels, axis=numbering_axis(seg.manifest))
        if seg.diagnostics is not None:
            elbow_plot(seg.diagnostics, folder / "plots" / "elbow.png")


def save_segmentation(seg: Segmentation, out_dir: Path, plots: bool = True,
                      progress: Progress = silent, also: dict | None = None) -> Path:
    """Write the GeoPackage, the CSV tables, the manifest and the box plots as the folder
    ``out_dir``, replacing it whole (``replaced_folder``: the previous run is kept at
    ``<parent>/.<name>.previous``). This is the command line's ``--out``. The manifest gets
    the segmentation's ``identity``. ``also``: more CSV files for people, file name -> table
    (``assign``'s list of each area's segment beside its previous one).

    For a GeoPackage a user picked in a file dialog, whose folder holds other things, use
    ``save_segmentation_as``."""
    with replaced_folder(out_dir) as staging:
        _write_segmentation(seg, staging, GPKG_NAME, plots, progress, also)
    progress(1.0, "saved")
    return Path(out_dir) / GPKG_NAME


def save_segmentation_as(seg: Segmentation, gpkg: Path, plots: bool = True,
                         progress: Progress = silent, also: dict | None = None,
                         files: bool = True) -> Path:
    """Write the GeoPackage at ``gpkg`` and the CSV tables, manifest and box plots beside
    it, each file replacing its namesake atomically; nothing else in that folder is touched
    (``staged_files``). ``files=False``: the GeoPackage alone (a Processing output, which may
    sit beside another segmentation's files)."""
    gpkg = Path(gpkg)
    with staged_files(gpkg.parent) as staging:
        _write_segmentation(seg, staging, gpkg.name, plots, progress, also, files)
    progress(1.0, "saved")
    return gpkg


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


# what each table of a saved segmentation holds, in words
HELD = {
    SEGMENT_LAYER: "the areas' segment layer",
    "segment_summary": "the segments' names and sizes",
    "segment_profiles": "the segments' profiles",
    "standardisation": "the scale the variables were put on",
    "centres": "the segments' centres",
    "subcentres": "the sub-segments' centres",
    "area_values": "the areas' values",
    "manifest": "the record of its inputs and settings",
    "screening": "the variables kept and dropped",
    "reconciliation": "the rows read from each input",
    "missing_values": "how missing values were filled",
}


def needed_tables() -> set:
    """What a saved segmentation GeoPackage holds at the least (``load_segmentation``)."""
    return set(HELD)


def not_a_segmentation(layers: set) -> str:
    """Why a GeoPackage holding ``layers`` is not a saved segmentation, in words, and what to
    give instead."""
    if "notes" in layers and "area_values" not in layers:
        return ("a GeoPackage for partners, which holds no area data; use the segmentation "
                "GeoPackage it was made from")
    if layers <= {SEGMENT_LAYER, "layer_styles"} and SEGMENT_LAYER in layers:
        return ("only a map of areas and their segments, as assign wrote before it saved a "
                "whole segmentation; run assign again and give its segmentation.gpkg, or give "
                "the segmentation.gpkg that segment wrote")
    missing = [f"{words} (its table {name})" for name, words in HELD.items()
               if name not in layers]
    if len(missing) == len(HELD):
        return ("not a saved segmentation (no segments, centres or area values in it); give "
                "the segmentation.gpkg that segment or assign wrote")
    return ("not a saved segmentation: it lacks " + ", ".join(missing[:-1])
            + (" and " if len(missing) > 1 else "") + missing[-1]
            + "; give the segmentation.gpkg that segment or assign wrote")


def saved_name(path: Path) -> str:
    """The name of the saved segmentation at ``path`` (its project's name, from its
    manifest), or "" when it cannot be read: what a pseudonymisation key must not be made
    of, read before anything else (a segmentation missing or broken is said where it is
    read)."""
    try:
        manifest = read_gpkg_table(gpkg_file(path), "manifest")["manifest"].iloc[0]
        return str(json.loads(manifest).get("name", "") or "")
    except Exception:  # noqa: BLE001 - not readable: said where the segmentation is read
        return ""


def load_segmentation(path: Path) -> Segmentation:
    """A saved segmentation, ready for later steps and for assigning new areas. Its
    manifest's ``identity`` is computed from what was read (``add_to_geopackage`` checks
    the GeoPackage still holds that segmentation before writing)."""
    from ..store.tidying import finish_commits

    path = gpkg_file(path)
    finish_commits(path.parent)  # what a killed run committed together is finished first
    if not recovered(path):
        raise InputError(f"{path}: saved segmentation not found")
    try:
        with warnings.catch_warnings():  # GDAL's notes on a file that is not ours: said below
            warnings.simplefilter("ignore")
            layers = {name for name, _ in pyogrio.list_layers(path)}
    except Exception as err:
        raise InputError(f"{path}: not a GeoPackage ({err})") from err
    if not needed_tables() <= layers:
        raise InputError(f"{path.name}: {not_a_segmentation(layers)}")
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
    manifest["identity"] = segmentation_identity(manifest, areas)
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
