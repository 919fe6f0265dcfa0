"""Put records (addresses, incidents) in output areas.

Each record is located by the first of these that works:

1. **by code**: its output-area code column, when the code is one of the study's areas;
   **by UPRN**: its address ID (UPRN) found in the segmentation's address gazetteer;
2. **by location**: its coordinates (any CRS, reprojected to British National Grid), by
   point-in-polygon against the areas (an STRtree spatial index). A point on a boundary
   shared by several areas goes to the area with the *lowest area code*, so it is counted
   exactly once;
3. **by postcode**: its postcode's point (e.g. Code-Point Open), then point-in-polygon.

Every record ends with a status: ``matched`` (with the method), ``outside the area``
(coordinates, postcode point or a well-formed area code outside the study area),
``unmatched`` (with the reason: no location, coordinates not numbers, unknown postcode...),
``duplicate`` or ``unreadable``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from ..errors import InputError
from .crs import LAYER_FIX, OPTION_FIX, points_to_bng
from .ingest import (
    STATUS_DUPLICATE,
    STATUS_OUTSIDE,
    STATUS_UNMATCHED,
    STATUS_UNREADABLE,
    code_looks_like,
    parse_numbers,
    read_vector,
)
from .text_tables import clean_codes, read_excel_text, read_text_table

MATCHED = "matched"
OUTSIDE, UNMATCHED = STATUS_OUTSIDE, STATUS_UNMATCHED
DUPLICATE, UNREADABLE = STATUS_DUPLICATE, STATUS_UNREADABLE
BY_CODE, BY_UPRN = "by code", "by UPRN"
BY_LOCATION, BY_POSTCODE = "by location", "by postcode"
CHUNK = 1_000_000
WORKERS = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class LocationColumns:
    """Which columns of a record file locate it; any may be absent."""

    x: str | None = None
    y: str | None = None
    crs: str = "EPSG:27700"
    area_code: str | None = None
    postcode: str | None = None
    uprn: str | None = None  # an address ID looked up in the gazetteer
    crs_given: bool = False  # crs set by the user: it overrides a point layer's own label

    def named(self) -> list[str]:
        return [c for c in (self.x, self.y, self.area_code, self.postcode, self.uprn) if c]


class AreaIndex:
    """The study's areas, for look-ups by code and by location."""

    def __init__(self, areas: gpd.GeoDataFrame):
        self.codes = pd.Index(areas.index.astype(str))
        self.geometry = np.asarray(areas.geometry.values)
        self.tree = STRtree(self.geometry)
        # rank of each area's code: the boundary rule picks the lowest
        self._rank = np.empty(len(self.codes), dtype=np.int64)
        self._rank[np.argsort(self.codes.to_numpy(), kind="stable")] = np.arange(len(self.codes))
        self._by_rank = np.argsort(self._rank)

    def by_code(self, codes) -> np.ndarray:
        """Position of each code among the areas, -1 where it is not one of them."""
        return self.codes.get_indexer(pd.Index(codes))

    def by_location(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Position of the area containing each point (-1 outside or without coordinates);
        a point on a shared boundary goes to the area with the lowest code.

        The points of each chunk go into their own STRtree and every area queries it once
        (each polygon prepared once, on all cores), which is faster than testing point by
        point against the areas' tree.
        """
        out = np.full(len(x), -1, dtype=np.int64)
        for start in range(0, len(x), CHUNK):
            cx, cy = x[start:start + CHUNK], y[start:start + CHUNK]
            valid = np.flatnonzero(np.isfinite(cx) & np.isfinite(cy))
            if not len(valid):
                continue
            points = STRtree(shapely.points(cx[valid], cy[valid]))
            area_i, point_i = self._query_in_parallel(points)
            best = np.full(len(valid), np.iinfo(np.int64).max)
            np.minimum.at(best, point_i, self._rank[area_i])
            hit = best < len(self.codes)
            out[start + valid[hit]] = self._by_rank[best[hit]]
        return out

    def _query_in_parallel(self, points: STRtree) -> tuple[np.ndarray, np.ndarray]:
        parts = np.array_split(np.arange(len(self.geometry)), WORKERS)
        with ThreadPoolExecutor(WORKERS) as pool:  # shapely releases the GIL
            found = list(pool.map(
                lambda part: points.query(self.geometry[part], predicate="intersects"), parts))
        area_i = np.concatenate([part[f[0]] for part, f in zip(parts, found)])
        point_i = np.concatenate([f[1] for f in found])
        return area_i, point_i


def read_records(path: Path, layer: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                 str | None]:
    """A record file as text columns, its unreadable lines, and a CRS for point layers.

    CSV/TXT and XLSX are read as text (every line kept, see ``ingest``); any other format is
    opened as a vector layer whose point coordinates become columns ``x`` and ``y``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        frame, lines, bad, _ = read_text_table(path, path.name)
    elif suffix in {".xlsx", ".xlsm", ".xls"}:
        frame, lines, bad = read_excel_text(path, path.name, None)
    else:
        return records_from_points(read_vector(path, layer, "point layer"), path.name)
    if len(frame) == 0:
        raise InputError(f"{path.name}: the file has no records")
    frame.index = lines
    return frame, _unreadable_rows(path.name, bad), None


def records_from_points(layer: gpd.GeoDataFrame, source: str) -> tuple[pd.DataFrame,
                                                                        pd.DataFrame, str | None]:
    """Point features as records: attributes as text plus ``x`` and ``y`` from the geometry
    (in the layer's CRS, returned too). Rows are numbered from 1, as features."""
    if len(layer) == 0:
        raise InputError(f"{source}: the layer has no features")
    geometry = layer.geometry
    if not geometry.dropna().geom_type.isin(["Point"]).all():
        raise InputError(f"{source}: expected a point layer")
    frame = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    present = geometry.notna() & ~geometry.is_empty
    frame["x"] = np.where(present, geometry.x.astype(str), "")
    frame["y"] = np.where(present, geometry.y.astype(str), "")
    frame.index = np.arange(1, len(frame) + 1)
    crs = layer.crs.to_string() if layer.crs else None
    return frame, _unreadable_rows(source, {}), crs


def _unreadable_rows(source: str, bad: dict) -> pd.DataFrame:
    return pd.DataFrame({"source": source, "row": list(bad), "record_id": "",
                         "area_code": "", "status": UNREADABLE, "method": "",
                         "detail": list(bad.values())})


def normalise_postcodes(postcodes: pd.Series) -> pd.Series:
    return postcodes.astype(str).str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)


def postcode_points(table: pd.DataFrame, postcode: str, x: str, y: str,
                    crs: str = "EPSG:27700", source: str = "postcode file") -> pd.DataFrame:
    """Postcode -> (x, y) in British National Grid, one row per postcode."""
    for column in (postcode, x, y):
        if column not in table.columns:
            raise InputError(f"{source}: no column '{column}'")
    px, _, _ = parse_numbers(table[x])
    py, _, _ = parse_numbers(table[y])
    ex, ny = points_to_bng(px.to_numpy(), py.to_numpy(), crs, f"{source} ({x}, {y})")
    out = pd.DataFrame({"x": ex, "y": ny}, index=normalise_postcodes(table[postcode]).to_numpy())
    return out[~out.index.duplicated(keep="first")]


def locate(records: pd.DataFrame, columns: LocationColumns, areas: AreaIndex,
           postcodes: pd.DataFrame | None = None, source: str = "records",
           crs: str | None = None, addresses: pd.Series | None = None) -> pd.DataFrame:
    """Area, method, status and detail for every record (same index as ``records``).

    Also returns the British National Grid coordinates used (x, y), where there were any.
    ``addresses``: address ID -> area code, from the gazetteer, for ``columns.uprn``.
    """
    named = columns.named()
    if not named:
        raise InputError(f"{source}: no usable location column: name coordinate columns "
                         "(x and y), an area code, a UPRN or a postcode column")
    if columns.uprn and addresses is None:
        raise InputError(f"{source}: records are located by UPRN, but the segmentation has no "
                         "address gazetteer yet (run `community-safety gazetteer` first)")
    missing = [c for c in named if c not in records.columns]
    if missing:
        raise InputError(f"{source}: no column {', '.join(repr(c) for c in missing)} (columns "
                         f"are {', '.join(records.columns)})")
    if (columns.x is None) != (columns.y is None):
        raise InputError(f"{source}: coordinates need both an x and a y column")
    if columns.postcode and postcodes is None:
        raise InputError(f"{source}: records are located by postcode, but no postcode file "
                         "was given")

    n = len(records)
    area = np.full(n, -1, dtype=np.int64)
    method = np.full(n, "", dtype=object)
    status = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    reasons = []

    if columns.area_code:
        codes = clean_codes(records[columns.area_code].astype(str))
        found = areas.by_code(codes)
        hit = found >= 0
        area[hit], method[hit], status[hit] = found[hit], BY_CODE, MATCHED
        given = (codes != "").to_numpy()
        outside_code = given & ~hit & code_looks_like(codes, areas.codes).to_numpy()
        status[outside_code] = OUTSIDE
        detail[outside_code] = "area code outside the study area"
        reasons.append((given & ~hit & ~outside_code, "area code not recognised"))

    if columns.uprn:
        todo = status == ""
        ids = records[columns.uprn].astype(str).str.strip().to_numpy()
        found_code = addresses.reindex(ids).to_numpy()
        found = areas.by_code(pd.Series(found_code).fillna("").astype(str))
        hit = todo & (found >= 0)
        area[hit], method[hit], status[hit] = found[hit], BY_UPRN, MATCHED
        reasons.append((todo & ~hit & (ids != ""), "UPRN not in the gazetteer"))

    if columns.x:
        px, _, bad_x = parse_numbers(records[columns.x])
        py, _, bad_y = parse_numbers(records[columns.y])
        bad = (bad_x | bad_y).to_numpy()
        own = bool(crs) and not columns.crs_given  # the layer's own CRS, not the user's
        chosen = crs if own else columns.crs
        ex, ny = points_to_bng(px.to_numpy(), py.to_numpy(), chosen,
                               f"{source} ({columns.x}, {columns.y})",
                               LAYER_FIX if own else OPTION_FIX)
        x, y = ex, ny
        todo = status == ""
        todo_idx = np.flatnonzero(todo & np.isfinite(ex) & np.isfinite(ny))
        found = areas.by_location(ex[todo_idx], ny[todo_idx])
        hit = found >= 0
        area[todo_idx[hit]], method[todo_idx[hit]], status[todo_idx[hit]] = (
            found[hit], BY_LOCATION, MATCHED)
        status[todo_idx[~hit]] = OUTSIDE
        detail[todo_idx[~hit]] = "coordinates outside the study area"
        reasons.append((bad, "coordinates are not numbers"))
        reasons.append((~bad & (np.isfinite(px.to_numpy()) != np.isfinite(py.to_numpy())),
                        "incomplete coordinates"))

    if columns.postcode:
        todo_idx = np.flatnonzero(status == "")
        codes = normalise_postcodes(records[columns.postcode].iloc[todo_idx])
        points = postcodes.reindex(codes.to_numpy())
        known = points["x"].notna().to_numpy()
        known_idx = todo_idx[known]
        found = areas.by_location(points["x"].to_numpy()[known], points["y"].to_numpy()[known])
        hit = found >= 0
        area[known_idx[hit]], method[known_idx[hit]], status[known_idx[hit]] = (
            found[hit], BY_POSTCODE, MATCHED)
        status[known_idx[~hit]] = OUTSIDE
        detail[known_idx[~hit]] = "postcode outside the study area"
        x[known_idx], y[known_idx] = points["x"].to_numpy()[known], points["y"].to_numpy()[known]
        blank = np.zeros(n, dtype=bool)
        blank[todo_idx] = (codes == "").to_numpy()
        unknown = np.zeros(n, dtype=bool)
        unknown[todo_idx[~known]] = True
        reasons.append((unknown & ~blank, "postcode not found"))

    # an unmatched record says what it gave that could not be used, else "no location"
    left = status == ""
    status[left] = UNMATCHED
    for mask, reason in reasons:
        take = left & mask
        detail[take] = np.where(detail[take] == "", reason, detail[take] + "; " + reason)
    detail[left & (detail == "")] = "no location"
    codes_out = np.where(area >= 0, areas.codes.to_numpy()[np.maximum(area, 0)], "")
    return pd.DataFrame({"area_code": codes_out, "status": status, "method": method,
                         "detail": detail, "x": x, "y": y}, index=records.index)
