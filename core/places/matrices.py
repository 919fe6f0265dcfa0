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

from ..data.crs import BNG
from ..errors import InputError
from ..segment.words import counted
from ..styles import legend_label

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
    """Ward code (and name) for each area from a lookup table. An area given two different
    wards, or a ward code given two names (two wards sharing a code), is refused: either
    would change the matrices' totals."""
    for column in (area_column, code, *([name] if name else [])):
        if column not in lookup.columns:
            raise InputError(f"{source}: no column '{column}'")
    columns = [code, *([name] if name else [])]
    table = lookup.assign(**{area_column: lookup[area_column].astype(str).str.strip()
                             .str.upper()})
    table = table[table[code].notna() & (table[code].astype(str).str.strip() != "")]
    table = table.drop_duplicates([area_column, *columns])
    repeated = table[table[area_column].duplicated(keep=False)]
    if len(repeated):
        first = repeated[area_column].iloc[0]
        wards = ", ".join(str(w) for w in repeated.loc[repeated[area_column] == first, code])
        more = repeated[area_column].nunique() - 1
        raise InputError(f"{source}: output area {first} is given more than one ward "
                         f"({wards}){f' (and {more} more areas)' if more else ''}; each area "
                         "needs exactly one ward")
    if name:
        names = table.drop_duplicates([code, name]).groupby(code)[name].agg(list)
        clash = names[names.str.len() > 1]
        if len(clash):
            raise InputError(f"{source}: ward code {clash.index[0]} has more than one name "
                             f"({', '.join(map(str, clash.iloc[0]))}); two wards cannot "
                             "share a code")
    out = table.set_index(area_column)[columns].reindex(areas)
    out.columns = ["ward_code", *(["ward_name"] if name else [])]
    return out


def lookup_areas_not_found(areas: pd.Index, lookup: pd.DataFrame, area_column: str,
                           source: str = "lookup") -> list[str]:
    """A line on the lookup's area codes that are not areas of the segmentation (left out:
    outside the study area, or not a code of its areas' kind), how many and which, or
    nothing: a lookup for a wider area names many, a typing slip one."""
    from ..data.ingest import code_looks_like

    codes = lookup[area_column].dropna().astype(str).str.strip().str.upper()
    codes = pd.Series(sorted(set(codes[codes != ""]) - set(areas.astype(str))), dtype=object)
    if codes.empty:
        return []
    kind = code_looks_like(codes, pd.Index(areas.astype(str)))
    parts = []
    for mask, what in ((kind, "outside the study area"),
                       (~kind, "not {} of the segmentation's kind of area")):
        if mask.any():
            what = what.format("a code" if mask.sum() == 1 else "codes")
            parts.append(f"{mask.sum():,} {what} ({_listed(list(codes[mask]))})")
    one = len(codes) == 1
    return [f"{source}: {counted(len(codes), 'area codes')} of the lookup "
            f"{'is' if one else 'are'} not among the segmentation's output areas and "
            f"{'is' if one else 'are'} left out: {'; '.join(parts)}"]


def _listed(values, limit: int = 5) -> str:
    values = [str(v) for v in values]
    more = f" and {len(values) - limit:,} more" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more


def usable_wards(wards: gpd.GeoDataFrame, code: str, name: str | None = None,
                 source: str = "wards") -> tuple[gpd.GeoDataFrame, list[str]]:
    """The ward polygons that can take areas, and warnings. Refused (they would change the
    matrices' totals): a ward without a code, a ward code on more than one feature. Left
    out with a warning: a ward with no geometry (no area can fall in it)."""
    if code not in wards.columns:
        raise InputError(f"{source}: no ward code column '{code}'")
    if name and name not in wards.columns:
        raise InputError(f"{source}: no ward name column '{name}'")
    position = pd.Series(range(1, len(wards) + 1), index=wards.index)
    codes = wards[code]
    blank = codes.isna() | (codes.astype(str).str.strip() == "")
    if blank.any():
        n = int(blank.sum())
        raise InputError(f"{source}: {counted(n, 'ward features')} "
                         f"{'has' if n == 1 else 'have'} no code in "
                         f"'{code}' (feature {_listed(position[blank])}, counting from 1); "
                         "every ward needs its code")
    empty = wards.geometry.isna() | wards.geometry.is_empty
    warnings = []
    if empty.any():
        shown = [f"{c} ({n})" if name and isinstance(n, str) else str(c) for c, n in
                 zip(codes[empty], wards.loc[empty, name] if name else codes[empty])]
        n = int(empty.sum())
        warnings.append(f"{source}: {counted(n, 'wards')} {'has' if n == 1 else 'have'} no "
                        f"geometry and {'gets' if n == 1 else 'get'} no areas: "
                        f"{_listed(shown)}")
    kept = wards[~empty]
    counts = kept[code].value_counts()
    repeated = counts[counts > 1]
    if len(repeated):
        listed = _listed(f"{c} ({n} features)" for c, n in repeated.items())
        raise InputError(f"{source}: {'a ward code' if len(repeated) == 1 else 'ward codes'} "
                         f"on more than one feature: {listed}; each "
                         f"ward needs one feature (dissolve the layer by '{code}' first)")
    return kept, warnings


def check_every_area_in_a_ward(assignment: pd.DataFrame, segments: pd.Series,
                               source: str = "wards") -> list[str]:
    """Every classified area must be in exactly one ward (an area in no ward would be left
    out of the matrices' totals): refused, naming the areas. Unclassified areas in no ward
    change no total: a warning."""
    ward = assignment["ward_code"].reindex(segments.index)
    missing = ward.isna()
    classified = segments.notna()
    if (missing & classified).all():
        raise InputError(f"{source}: no output area falls in any ward (check that the wards "
                         "cover the study area)")
    if (missing & classified).any():
        codes = sorted(segments.index[missing & classified])
        raise InputError(f"{source}: {counted(len(codes), 'output areas')} "
                         f"{'falls' if len(codes) == 1 else 'fall'} in no ward "
                         f"({_listed(codes)}); the wards must cover every area of the "
                         "segmentation, or the matrices would leave them out")
    if (missing & ~classified).any():
        codes = sorted(segments.index[missing & ~classified])
        one = len(codes) == 1
        return [f"{source}: {counted(len(codes), 'unclassified output areas')} "
                f"{'falls' if one else 'fall'} in no ward ({_listed(codes)}); "
                f"{'it is' if one else 'they are'} in no matrix either way"]
    return []


def check_matrix_totals(matrices: dict, summary: pd.DataFrame) -> None:
    """Each matrix of areas, households and residents must add up, segment by segment, to
    the segmentation's own totals (its segment summary) before anything is written."""
    for measure in ("areas", "households", "residents"):
        if measure not in matrices or measure not in summary.columns:
            continue
        totals = matrices[measure].loc[TOTAL]
        expected = summary[measure].astype(float).fillna(0)
        expected.index = [int(s) for s in expected.index]
        segments = sorted(set(expected.index) | {c for c in totals.index if c != TOTAL})
        got = totals.reindex(segments).astype(float).fillna(0)
        want = expected.reindex(segments).fillna(0)
        wrong = [s for s in segments if abs(got[s] - want[s]) > 0.5]
        if wrong or abs(float(totals[TOTAL]) - float(want.sum())) > 0.5:
            if wrong:
                where, in_matrix, in_segmentation = f"segment {wrong[0]}: ", got[wrong[0]], \
                    want[wrong[0]]
            else:
                where, in_matrix, in_segmentation = "", float(totals[TOTAL]), want.sum()
            shown = (f"{where}{in_matrix:,.0f} in the matrix, {in_segmentation:,.0f} in the "
                     "segmentation")
            raise InputError(f"the ward x segment {measure} matrix does not add up to the "
                             f"segmentation's {measure} ({shown}); nothing was written")


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
