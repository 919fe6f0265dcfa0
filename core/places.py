"""The steps that work on a saved segmentation: gazetteer, incidents, ward matrices, export.

Each reads the segmentation's GeoPackage, runs the engine functions and adds its results to
the GeoPackage (atomically), so that later steps find them there:

- ``addresses`` layer and ``address_match_report`` table (gazetteer);
- ``incident_counts_<name>``, ``incident_profile_<name>``, ``incident_records_<name>``
  (incidents; record IDs pseudonymised, no other record columns kept);
- ``matrix_<measure>`` tables and a ``wards`` layer (matrices).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .errors import InputError
from .export import write_partner_export
from .gazetteer import join_gazetteer, match_summary
from .incidents import (
    IncidentFilter,
    filter_records,
    incident_counts,
    incident_profile,
    profile_chart,
)
from .ingest import reproject_to_bng
from .locate import (
    AreaIndex,
    LocationColumns,
    locate,
    postcode_points,
    read_records,
    records_from_points,
)
from .matrices import (
    TOTAL,
    ward_layer,
    ward_segment_matrices,
    wards_from_lookup,
    wards_from_polygons,
)
from .privacy import pseudonymise
from .store import (
    GPKG_NAME,
    add_to_geopackage,
    load_segmentation,
    read_gpkg_table,
    staged_output,
)
from .styles import graduated_qml, segment_layer_qml, ward_layer_qml

KEY_ENVIRONMENT = "COMMUNITY_SAFETY_KEY"


@dataclass(frozen=True)
class PostcodeFile:
    path: Path
    postcode: str = "Postcode"
    x: str = "Eastings"
    y: str = "Northings"
    crs: str = "EPSG:27700"

    def points(self) -> pd.DataFrame:
        table, _, _ = read_records(self.path)
        return postcode_points(table, self.postcode, self.x, self.y, self.crs, self.path.name)


def gpkg_path(path: Path) -> Path:
    path = Path(path)
    return path / GPKG_NAME if path.is_dir() else path


def safe_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    if not name:
        raise InputError(f"'{text}' cannot name a table: use letters, digits or _")
    return name


def pseudonymisation_key(key_file: Path | None) -> tuple[bytes, str]:
    """The key and where it came from: a key file, the environment, or a one-off key."""
    if key_file is not None:
        try:
            return Path(key_file).read_bytes().strip(), f"key file {Path(key_file).name}"
        except OSError as err:
            raise InputError(f"{key_file}: cannot read the key file ({err.strerror})") from err
    if os.environ.get(KEY_ENVIRONMENT):
        return os.environ[KEY_ENVIRONMENT].encode(), f"${KEY_ENVIRONMENT}"
    return secrets.token_bytes(32), "a one-off random key (IDs cannot be linked across runs)"


def _records(source: Path | gpd.GeoDataFrame, name: str | None = None):
    """(records as text, unreadable rows, CRS, source name) from a file or a point layer."""
    if isinstance(source, gpd.GeoDataFrame):
        name = name or "layer"
        return (*records_from_points(source, name), name)
    return (*read_records(Path(source)), Path(source).name)


def gazetteer_step(segmentation: Path, addresses, id_column: str,
                   columns: LocationColumns, postcodes: PostcodeFile | None = None,
                   source_name: str | None = None
                   ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """``addresses``: a file, or a point layer as a GeoDataFrame (``source_name`` names it)."""
    seg = load_segmentation(segmentation)
    records, unreadable, crs, source = _records(addresses, source_name)
    layer, report = join_gazetteer(seg.areas, records, id_column, columns,
                                   postcodes.points() if postcodes else None, source, crs)
    report = pd.concat([report, unreadable], ignore_index=True)
    summary = match_summary(report)
    add_to_geopackage(gpkg_path(segmentation), {"address_match_report": report,
                                                "address_match_summary": summary},
                      layers={"addresses": layer},
                      styles={"addresses": segment_layer_qml(seg.segment_names, kind="marker")})
    return layer, report, summary


def incidents_step(segmentation: Path, incidents, name: str,
                   columns: LocationColumns, out_dir: Path, id_column: str | None = None,
                   count_columns=(), rules: IncidentFilter | None = None,
                   postcodes: PostcodeFile | None = None, key_file: Path | None = None,
                   source_name: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Locate incidents (a file, or a point layer as a GeoDataFrame), profile them by
    segment, save tables, chart, record reconciliation and a styled area layer of rates."""
    name = safe_name(name)
    seg = load_segmentation(segmentation)
    records, unreadable, crs, source = _records(incidents, source_name)
    if id_column and id_column not in records.columns:
        raise InputError(f"{source}: no ID column '{id_column}'")
    located = locate(records, columns, AreaIndex(seg.areas),
                     postcodes.points() if postcodes else None, source, crs,
                     _gazetteer_ids(segmentation) if columns.uprn else None)
    keep = filter_records(records, rules or IncidentFilter(), source)
    counts = incident_counts(records, located, count_columns, keep, source)
    classified = seg.areas["segment"].dropna().astype(int)
    profile = incident_profile(counts, classified, _bases(seg))

    key, key_source = pseudonymisation_key(key_file)
    ids = (records[id_column] if id_column else pd.Series(records.index.astype(str),
                                                          index=records.index))
    reconciliation = pd.DataFrame({
        "source": source, "row": records.index, "record_id": pseudonymise(ids, key).to_numpy(),
        "area_code": located["area_code"].to_numpy(), "status": located["status"].to_numpy(),
        "method": located["method"].to_numpy(), "detail": located["detail"].to_numpy(),
        "in_filter": keep.to_numpy()})
    reconciliation = pd.concat([reconciliation, unreadable.assign(in_filter=False)],
                               ignore_index=True)
    area_counts = counts.rename_axis("area_code").reset_index()
    rates, rates_qml = incident_area_layer(seg, counts, profile)
    with staged_output(out_dir) as staging:
        profile.to_csv(staging / f"incident_profile_{name}.csv", index=False)
        reconciliation.to_csv(staging / f"incident_records_{name}.csv", index=False)
        (staging / f"incident_records_{name}.txt").write_text(
            f"record_id: HMAC-SHA-256 pseudonyms made with {key_source}\n", encoding="utf-8")
        for measure in profile["measure"].unique():
            profile_chart(profile, measure, f"{name}: {measure} by segment (index, 95% CI)",
                          staging / f"incident_profile_{name}_{safe_name(measure)}.png")
        # last, once the files are written: the GeoPackage changes only if all went well
        add_to_geopackage(gpkg_path(segmentation), {
            f"incident_counts_{name}": area_counts, f"incident_profile_{name}": profile,
            f"incident_records_{name}": reconciliation},
            layers={f"incident_areas_{name}": rates},
            styles={f"incident_areas_{name}": rates_qml})
    return profile, reconciliation


def incident_area_layer(seg, counts: pd.DataFrame, profile: pd.DataFrame
                        ) -> tuple[gpd.GeoDataFrame, str]:
    """Areas with their incidents (first count column), rate per 1,000 households and their
    segment's index, and a graduated style on the rate (quintiles)."""
    measure = counts.columns[0]
    bases = _bases(seg)
    layer = seg.areas[["segment", "segment_name", "geometry"]].copy()
    layer["incidents"] = counts[measure].reindex(layer.index).fillna(0).to_numpy()
    if "households" in bases.columns:
        households = bases["households"].reindex(layer.index)
        layer["rate_per_1000_households"] = (1000 * layer["incidents"]
                                             / households.where(households > 0)).round(3)
    index = profile[profile["measure"] == measure].set_index("segment")["index"]
    layer["segment_index"] = layer["segment"].map(index)
    layer = layer.rename_axis("area_code").reset_index()
    field = "rate_per_1000_households" if "rate_per_1000_households" in layer else "incidents"
    values = layer[field].dropna()
    breaks = sorted(set(np.quantile(values, np.linspace(0, 1, 6)).round(3))) if len(values) \
        else [0.0, 1.0]
    if len(breaks) < 2:
        breaks = [breaks[0], breaks[0] + 1]
    return layer, graduated_qml(field, breaks, "area_code")


def _gazetteer_ids(segmentation: Path) -> pd.Series | None:
    """Address ID -> area code from the segmentation's gazetteer, if it has one."""
    path = gpkg_path(segmentation)
    if "addresses" not in {name for name, _ in pyogrio.list_layers(path)}:
        return None
    addresses = read_gpkg_table(path, "addresses")
    table = addresses.drop_duplicates("record_id").set_index("record_id")
    return table["area_code"]


def _bases(seg) -> pd.DataFrame:
    """Households and residents per area, from the columns the project named."""
    params = seg.manifest.get("parameters", {})
    bases = {}
    for role in ("households", "residents"):
        column = params.get(role)
        if column and column in seg.values.columns:
            bases[role] = seg.values[column]
    return pd.DataFrame(bases, index=seg.values.index)


@dataclass(frozen=True)
class WardSource:
    path: Path
    code: str
    name: str | None = None
    layer: str | None = None
    rule: str = "overlap"  # overlap | centroid | lookup
    area_column: str | None = None  # for a lookup table: its area-code column


def matrices_step(segmentation: Path, wards: WardSource,
                  ward_frame: gpd.GeoDataFrame | None = None
                  ) -> tuple[dict, gpd.GeoDataFrame | None]:
    """``ward_frame``: ward polygons already in memory (a QGIS layer) instead of the file."""
    seg = load_segmentation(segmentation)
    classified = seg.areas["segment"].dropna().astype(int)
    ward_polygons = None
    if wards.rule == "lookup":
        lookup, _, _ = read_records(wards.path)
        if wards.area_column is None:
            raise InputError(f"{wards.path.name}: a ward lookup needs its area-code column")
        assignment = wards_from_lookup(seg.areas.index, lookup, wards.area_column, wards.code,
                                       wards.name, wards.path.name)
    else:
        if ward_frame is not None:
            ward_polygons = ward_frame
        else:
            try:
                ward_polygons = gpd.read_file(wards.path, layer=wards.layer) if wards.layer \
                    else gpd.read_file(wards.path)
            except Exception as err:
                raise InputError(f"{wards.path.name}: cannot be read as a ward layer "
                                 f"({err})") from err
        ward_polygons = reproject_to_bng(ward_polygons, wards.path.name)
        ward_polygons["geometry"] = ward_polygons.geometry.make_valid()
        assignment = wards_from_polygons(seg.areas, ward_polygons, wards.code, wards.name,
                                         wards.rule, wards.path.name)
    unassigned = assignment["ward_code"].reindex(classified.index).isna()
    if unassigned.all():
        raise InputError(f"{wards.path.name}: no output area falls in any ward (check that "
                         "the wards cover the study area)")

    bases = _bases(seg)
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
    tables = {f"matrix_{name}": matrix.reset_index() for name, matrix in matrices.items()}
    tables["area_wards"] = assignment.rename_axis("area_code").reset_index()
    new_layers, styles = {}, {}
    if ward_polygons is not None:
        weight = "households" if "households" in matrices else "areas"
        new_layers["wards"] = ward_layer(ward_polygons, wards.code, wards.name, matrices,
                                         seg.segment_names, weight)
        styles["wards"] = ward_layer_qml(seg.segment_names)
    add_to_geopackage(gpkg_path(segmentation), tables, layers=new_layers, styles=styles)
    return matrices, new_layers.get("wards")


def export_step(segmentation: Path, out_dir: Path, threshold: int = 5) -> list[Path]:
    path = gpkg_path(segmentation)
    seg = load_segmentation(path)
    layers = [name for name, _ in pyogrio.list_layers(path)]
    matrices = {}
    for layer in layers:
        if layer.startswith("matrix_"):
            table = read_gpkg_table(path, layer).set_index("ward")
            table.columns = [int(c) if str(c).isdigit() else c for c in table.columns]
            matrices[layer.removeprefix("matrix_")] = table
    if not matrices:
        raise InputError(f"{path.name}: no ward x segment matrices yet; run "
                         "`community-safety matrices` first")
    names = {}
    if "area_wards" in layers:
        wards = read_gpkg_table(path, "area_wards")
        if "ward_name" in wards.columns:
            names = dict(zip(wards["ward_code"], wards["ward_name"]))
            names[TOTAL] = ""
    notes = {"Segmentation": seg.name, "Segments": json.dumps(seg.segment_names),
             "Sources": "; ".join(Path(i["file"]).name for i in seg.manifest.get("inputs", [])),
             "Parameters": json.dumps(seg.manifest.get("parameters", {}))}
    return write_partner_export(matrices, out_dir, threshold, notes, names)
