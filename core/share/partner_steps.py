"""The ``matrices`` and ``export`` steps: ward x segment matrices built from a saved
segmentation and written for partners (suppressed workbook, CSV files and GeoPackage).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio

from ..data.ingest import read_vector, reproject_to_bng
from ..data.locate import (
    read_records,
)
from ..errors import InputError
from ..places.matrices import (
    check_every_area_in_a_ward,
    check_matrix_totals,
    labelled_matrix,
    lookup_areas_not_found,
    usable_wards,
    ward_layer,
    ward_segment_matrices,
    wards_from_lookup,
    wards_from_polygons,
)
from ..places.steps import area_bases, gpkg_path, safe_name
from ..segment.saved import load_segmentation
from ..store.folders import replaced_folder
from ..store.geopackage import add_to_geopackage, read_gpkg_table
from ..styles import (
    ward_layer_abstract,
    ward_layer_qml,
)
from .export import (
    PARTNER_GPKG,
    check_one_segmentation,
    read_matrices,
    write_partner_export,
    write_partner_geopackage,
)
from .findings import finding_rows, key_findings
from .partner_words import incident_sources, partner_notes
from .suppression import check_threshold


@dataclass(frozen=True)
class WardSource:
    path: Path
    code: str
    name: str | None = None
    layer: str | None = None
    rule: str = "overlap"  # overlap | centroid | lookup
    area_column: str | None = None  # for a lookup table: its area-code column
    crs: str | None = None  # assigned over the file's own CRS label (a wrong one)


def matrices_step(segmentation: Path, wards: WardSource,
                  ward_frame: gpd.GeoDataFrame | None = None,
                  warn: Callable[[str], None] | None = None
                  ) -> tuple[dict, gpd.GeoDataFrame | None]:
    """``ward_frame``: ward polygons already in memory (a QGIS layer) instead of the file.

    Every classified area must land in exactly one ward: areas in no ward, wards without a
    code, ward codes on several features (or, in a lookup, an area given two wards) are
    refused, naming them; wards with no geometry are left out and said through ``warn``
    (one line each; default: Python's ``warnings``). The matrices of areas, households and
    residents are checked against the segmentation's own totals before anything is
    written."""
    warn = warn or (lambda text: warnings.warn(text, stacklevel=3))
    seg = load_segmentation(segmentation)
    classified = seg.areas["segment"].dropna().astype(int)
    from .partner_words import unclassified_words

    left_out = unclassified_words(seg.areas, "the matrices", seg.manifest)
    if left_out:
        warn(left_out)
    ward_polygons = None
    if wards.rule == "lookup":
        lookup, _, _ = read_records(wards.path)
        if wards.area_column is None:
            raise InputError(f"{wards.path.name}: a ward lookup needs its area-code column")
        assignment = wards_from_lookup(seg.areas.index, lookup, wards.area_column, wards.code,
                                       wards.name, wards.path.name)
        for note in lookup_areas_not_found(seg.areas.index, lookup, wards.area_column,
                                           wards.path.name):
            warn(note)
    else:
        if ward_frame is not None:
            ward_polygons = ward_frame
        else:
            ward_polygons = read_vector(wards.path, wards.layer, "ward layer")
            if not isinstance(ward_polygons, gpd.GeoDataFrame) or "geometry" not in \
                    ward_polygons.columns:
                raise InputError(f"{wards.path.name}: holds no ward polygons (a table? then "
                                 "use --rule lookup with --lookup-area-column)")
        if wards.crs:
            from ..data.crs import parse_crs

            ward_polygons = ward_polygons.set_crs(parse_crs(wards.crs, "--crs"),
                                                  allow_override=True)
        from ..data.crs import LAYER_FIX, OPTION_FIX

        ward_polygons = reproject_to_bng(ward_polygons, wards.path.name,
                                         fix=OPTION_FIX if wards.crs else LAYER_FIX)
        ward_polygons["geometry"] = ward_polygons.geometry.make_valid()
        ward_polygons, notes = usable_wards(ward_polygons, wards.code, wards.name,
                                            wards.path.name)
        for note in notes:
            warn(note)
        assignment = wards_from_polygons(seg.areas, ward_polygons, wards.code, wards.name,
                                         wards.rule, wards.path.name)
    for note in check_every_area_in_a_ward(assignment, seg.areas["segment"], wards.path.name):
        warn(note)

    bases = area_bases(seg)
    measures = {"areas": None, **{role: bases[role] for role in bases.columns}}
    layers = {name for name, _ in pyogrio.list_layers(gpkg_path(segmentation))}
    if "addresses" in layers:
        addresses = read_gpkg_table(gpkg_path(segmentation), "addresses")
        measures["addresses"] = addresses.groupby("area_code").size().astype(float)
    for layer in sorted(layers):
        if layer.startswith("incident_counts_"):
            counts = read_gpkg_table(gpkg_path(segmentation), layer).set_index("area_code")
            for column in counts.columns:
                measures[f"{layer.removeprefix('incident_counts_')}_{safe_name(column)}"] = (
                    counts[column])
    matrices = ward_segment_matrices(assignment, classified, measures)
    check_matrix_totals(matrices, seg.summary)
    ward_names = {}
    if "ward_name" in assignment.columns:
        named = assignment.dropna(subset=["ward_code", "ward_name"])
        ward_names = dict(zip(named["ward_code"], named["ward_name"]))
    tables = {f"matrix_{name}": labelled_matrix(matrix, seg.segment_names, ward_names)
              for name, matrix in matrices.items()}
    tables["area_wards"] = assignment.rename_axis("area_code").reset_index()
    new_layers, styles, descriptions = {}, {}, {}
    if ward_polygons is not None:
        weight = "households" if "households" in matrices else "areas"
        new_layers["wards"] = ward_layer(ward_polygons, wards.code, wards.name, matrices,
                                         seg.segment_names, weight)
        styles["wards"] = ward_layer_qml(seg.segment_names)
        descriptions["wards"] = ward_layer_abstract(weight)
    add_to_geopackage(gpkg_path(segmentation), tables, layers=new_layers, styles=styles,
                      descriptions=descriptions, identity=seg.manifest["identity"])
    return matrices, new_layers.get("wards")


def export_step(segmentation: Path, out_dir: Path, threshold: int = 5,
                replace_folder: bool = False, previous: Path | None = None,
                geopackage: bool = False) -> list[Path]:
    """Suppressed matrices for partners (CSVs and a workbook) in ``out_dir``, the Notes
    opening with the key findings (``findings.key_findings``; ``previous``: the last run's
    GeoPackage, default the one kept beside the segmentation's folder).
    ``replace_folder``: the folder is the export's own and is replaced whole, the previous
    export kept at ``<parent>/.<name>.previous`` (the command line's ``--out``); otherwise
    (a folder the user chose in QGIS) the files are each replaced and nothing else there
    is touched. ``geopackage``: the partner GeoPackage too (``export --for-partners``),
    written with the rest."""
    check_threshold(threshold)
    path = gpkg_path(segmentation)
    seg = load_segmentation(path)
    layers = [name for name, _ in pyogrio.list_layers(path)]
    matrices, names = read_matrices(path, layers)
    if not matrices:
        raise InputError(f"{path.name}: no ward x segment matrices yet; run "
                         "`community-safety matrices` first")
    check_one_segmentation(path, layers, matrices)
    if not names and "area_wards" in layers:  # matrices saved before they carried names
        wards = read_gpkg_table(path, "area_wards")
        if "ward_name" in wards.columns:
            named = wards.dropna(subset=["ward_code", "ward_name"])
            names = dict(zip(named["ward_code"], named["ward_name"]))
    notes = finding_rows(key_findings(path, threshold, previous)) + partner_notes(
        seg, path, layers, threshold)
    incidents = incident_sources(path, layers)
    def write(folder: Path) -> list[Path]:
        written = write_partner_export(matrices, folder, threshold, notes, names,
                                       seg.segment_names, incidents)
        if geopackage:
            written.append(write_partner_geopackage(path, folder / PARTNER_GPKG, threshold))
        return written

    if not replace_folder:
        return write(Path(out_dir))
    with replaced_folder(out_dir) as staging:  # the GeoPackage is part of the unit
        written = write(Path(staging))
    return [Path(out_dir) / Path(path).relative_to(staging) for path in written]
