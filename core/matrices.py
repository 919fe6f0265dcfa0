"""Ward x segment matrices: areas, households, residents, addresses and incidents.

Wards come from a polygon layer or a lookup table:

- **overlap** (default for polygons): each output area goes to the ward holding the largest
  part of its area;
- **centroid**: to the ward containing the area's representative point (a point inside the
  polygon, not always its centroid);
- **lookup**: a table of area code -> ward code (and name).

Each matrix has the wards as rows, segments 1..k as columns, and a ``Total`` row and column.
Saved and shared, a matrix reads for people (``labelled_matrix``): a ward code column
(``ward``) and, when the wards have names, a ``ward_name`` column; segment columns headed
"n – segment name"; the ``Total`` row ("All wards") and column kept. ``matrix_from_table``
reads such a table back into numbers for suppression and percentages.
The dominant segment of a ward is the one holding most of its households (most areas when
households are not known); ties go to the lower segment number.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from .crs import BNG
from .errors import InputError
from .styles import legend_label

TOTAL = "Total"
ALL_WARDS = "All wards"  # the name shown on the Total row
_SEGMENT_HEADER = re.compile(r"^\s*(\d+)(?:\s+–\s+.*)?$", re.DOTALL)


def wards_from_polygons(areas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, code: str,
                        name: str | None = None, rule: str = "overlap",
                        source: str = "wards") -> pd.DataFrame:
    """Ward code (and name) for each area. ``wards`` must already be in EPSG:27700."""
    if code not in wards.columns:
        raise InputError(f"{source}: no ward code column '{code}'")
    if name and name not in wards.columns:
        raise InputError(f"{source}: no ward name column '{name}'")
    if wards.crs is None or wards.crs.to_epsg() != 27700:
        raise InputError(f"{source}: wards must be reprojected to British National Grid first")
    wards = wards[[code, *([name] if name else []), "geometry"]].reset_index(drop=True)
    if rule == "overlap":
        pieces = gpd.overlay(
            gpd.GeoDataFrame({"area_code": areas.index}, geometry=areas.geometry.values,
                             crs=BNG), wards, how="intersection", keep_geom_type=True)
        pieces["overlap"] = pieces.geometry.area
        best = pieces.sort_values(["area_code", "overlap", code],
                                  ascending=[True, False, True]).drop_duplicates("area_code")
        out = best.set_index("area_code")[[code, *([name] if name else [])]]
    elif rule == "centroid":
        points = gpd.GeoDataFrame({"area_code": areas.index},
                                  geometry=areas.geometry.representative_point().values, crs=BNG)
        joined = gpd.sjoin(points, wards, how="left", predicate="within")
        joined = joined.sort_values(["area_code", code]).drop_duplicates("area_code")
        out = joined.set_index("area_code")[[code, *([name] if name else [])]]
    else:
        raise InputError(f"ward assignment rule '{rule}' is not one of: overlap, centroid")
    out = out.reindex(areas.index)
    out.columns = ["ward_code", *(["ward_name"] if name else [])]
    return out


def wards_from_lookup(areas: pd.Index, lookup: pd.DataFrame, area_column: str, code: str,
                      name: str | None = None, source: str = "lookup") -> pd.DataFrame:
    for column in (area_column, code, *([name] if name else [])):
        if column not in lookup.columns:
            raise InputError(f"{source}: no column '{column}'")
    table = lookup.assign(**{area_column: lookup[area_column].astype(str).str.strip()
                             .str.upper()}).drop_duplicates(area_column)
    out = table.set_index(area_column)[[code, *([name] if name else [])]].reindex(areas)
    out.columns = ["ward_code", *(["ward_name"] if name else [])]
    return out


def crosstab(ward: pd.Series, segment: pd.Series, weights: pd.Series | None,
             segments: list[int]) -> pd.DataFrame:
    """Ward x segment sums with totals; every segment a column, even when empty."""
    frame = pd.DataFrame({"ward": ward, "segment": segment,
                          "w": 1.0 if weights is None else weights}).dropna(
        subset=["ward", "segment"])
    table = frame.pivot_table(index="ward", columns="segment", values="w", aggfunc="sum",
                              fill_value=0)
    table = table.reindex(columns=segments, fill_value=0)
    table.columns = [int(c) for c in table.columns]
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum(axis=0)
    table.index.name = "ward"
    return table


def percentages(matrix: pd.DataFrame, by: str) -> pd.DataFrame:
    """Row (``by="row"``) or column percentages of a matrix with totals; NaN stays NaN."""
    if by == "row":
        return (100 * matrix.div(matrix[TOTAL], axis=0)).round(1)
    return (100 * matrix.div(matrix.loc[TOTAL], axis=1)).round(1)


def ward_segment_matrices(wards: pd.DataFrame, segments: pd.Series, measures: dict
                          ) -> dict[str, pd.DataFrame]:
    """One matrix per measure. ``measures``: name -> per-area Series (None = count areas)."""
    numbers = sorted(int(s) for s in segments.dropna().unique())
    ward = wards["ward_code"].reindex(segments.index)
    return {name: crosstab(ward, segments, None if values is None
                           else values.reindex(segments.index).fillna(0), numbers)
            for name, values in measures.items()}


def dominant_segments(matrix: pd.DataFrame) -> pd.Series:
    body = matrix.drop(index=TOTAL, columns=TOTAL)
    return body.idxmax(axis=1)  # first maximum: the lower segment on a tie


def ward_layer(wards: gpd.GeoDataFrame, code: str, name: str | None, matrices: dict,
               segment_names: dict, weight: str) -> gpd.GeoDataFrame:
    """The wards with their dominant segment and totals, for mapping and labelling."""
    dominant = dominant_segments(matrices[weight])
    layer = wards[[code, *([name] if name else []), "geometry"]].copy()
    layer = layer.rename(columns={code: "ward_code", **({name: "ward_name"} if name else {})})
    layer["dominant_segment"] = layer["ward_code"].map(dominant).astype("Int64")
    layer["dominant_segment_name"] = layer["dominant_segment"].map(segment_names)
    layer["dominant_by"] = weight
    for measure, matrix in matrices.items():
        layer[f"{measure}_total"] = layer["ward_code"].map(matrix[TOTAL]).fillna(0).to_numpy()
    share = matrices[weight].drop(index=TOTAL)
    top = share.drop(columns=TOTAL).max(axis=1) / share[TOTAL].replace(0, np.nan)
    layer["dominant_share_pct"] = layer["ward_code"].map((100 * top).round(1))
    return layer


def segment_header(segment: int, segment_names: dict) -> str:
    """A segment column's heading: "n – name" (just "n" when the name is not known)."""
    name = segment_names.get(int(segment))
    return legend_label(int(segment), name) if name else str(int(segment))


def labelled_matrix(matrix: pd.DataFrame, segment_names: dict,
                    ward_names: dict | None = None, code_column: str = "ward"
                    ) -> pd.DataFrame:
    """A matrix as people read it: ward code and (when known) ward name columns, segment
    columns headed "n – name", the Total row and column kept."""
    table = matrix.copy()
    table.columns = [segment_header(c, segment_names) if isinstance(c, (int, np.integer))
                     else str(c) for c in table.columns]
    table = table.rename_axis(code_column).reset_index()
    if ward_names:
        names = [ALL_WARDS if code == TOTAL else ward_names.get(code) for code in
                 table[code_column]]
        table.insert(1, "ward_name", names)
    return table


def matrix_from_table(table: pd.DataFrame, code_column: str = "ward"
                      ) -> tuple[pd.DataFrame, dict]:
    """A saved matrix table back to numbers: (matrix indexed by ward code with integer
    segment columns and the Total column, ward code -> name). Reads tables headed "n" or
    "n – name"."""
    names = {}
    if "ward_name" in table.columns:
        names = {code: name for code, name in zip(table[code_column], table["ward_name"])
                 if code != TOTAL and isinstance(name, str)}
        table = table.drop(columns="ward_name")
    matrix = table.set_index(code_column)
    columns = []
    for column in matrix.columns:
        found = _SEGMENT_HEADER.match(str(column))
        columns.append(int(found.group(1)) if found else column)
    matrix.columns = columns
    return matrix, names
