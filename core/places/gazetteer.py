"""Back-load segments onto the address gazetteer (LLPG / AddressBase / Open UPRN style).

Each address (an ID such as a UPRN; coordinates, an OA code and/or a postcode) is located
(see ``locate``) and takes its area's segment. Addresses located only by code take their
area's representative point as geometry, and say so. A repeated ID keeps its first row;
later rows are ``duplicate``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..data.crs import BNG
from ..data.locate import BY_CODE, DUPLICATE, MATCHED, AreaIndex, LocationColumns, locate
from ..errors import InputError
from ..segment.words import counted, why_no_segment, without_segment

REPORT_COLUMNS = ["source", "row", "record_id", "area_code", "status", "method", "detail"]
# a located address whose output area has no segment: it keeps its place in the layer but
# ranks nowhere (targeting excludes it as "area not classified")


def no_segment_detail(manifest: dict | None) -> str:
    """The match report's detail for an address in an output area without a segment."""
    return f"in an output area {without_segment(manifest)}"


def join_gazetteer(areas: gpd.GeoDataFrame, records: pd.DataFrame, id_column: str,
                   columns: LocationColumns, postcodes: pd.DataFrame | None = None,
                   source: str = "gazetteer", crs: str | None = None,
                   manifest: dict | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Address points with their segment, and one report row per input record.

    ``areas``: the segmentation's area layer (index area code; segment, segment_name);
    ``manifest``: its manifest, which says why an area has no segment.
    """
    if id_column not in records.columns:
        raise InputError(f"{source}: no ID column '{id_column}' (columns are "
                         f"{', '.join(records.columns)})")
    ids = records[id_column].astype(str).str.strip()
    located = locate(records, columns, AreaIndex(areas), postcodes, source, crs)
    repeated = ids.duplicated(keep="first").to_numpy()
    located.loc[repeated, ["status", "method", "area_code"]] = [DUPLICATE, "", ""]
    first_row = pd.Series(records.index, index=ids.to_numpy())
    first_row = first_row[~first_row.index.duplicated()]
    located.loc[repeated, "detail"] = [f"ID repeats row {first_row[i]}" for i in ids[repeated]]

    unsegmented = ((located["status"] == MATCHED).to_numpy()
                   & ~located["area_code"].isin(areas.index[areas["segment"].notna()])
                   .to_numpy())
    located.loc[unsegmented, "detail"] = no_segment_detail(manifest)
    report = located[["area_code", "status", "method", "detail"]].copy()
    report.insert(0, "record_id", ids.to_numpy())
    report.insert(0, "row", records.index.to_numpy())
    report.insert(0, "source", source)

    matched = located["status"].to_numpy() == MATCHED
    found = located[matched]
    x, y = found["x"].to_numpy().copy(), found["y"].to_numpy().copy()
    by_code = (found["method"] == BY_CODE).to_numpy() & ~np.isfinite(x)
    if by_code.any():
        points = areas.geometry.representative_point().reindex(found["area_code"][by_code])
        x[by_code], y[by_code] = points.x.to_numpy(), points.y.to_numpy()
    segments = areas[["segment", "segment_name"]].reindex(found["area_code"])
    layer = gpd.GeoDataFrame({
        "record_id": ids[matched].to_numpy(),
        "area_code": found["area_code"].to_numpy(),
        "segment": segments["segment"].to_numpy(),
        "segment_name": segments["segment_name"].to_numpy(),
        "located": found["method"].to_numpy(),
        "point_from": np.where(by_code, "area representative point", found["method"]),
    }, geometry=gpd.points_from_xy(x, y), crs=BNG)
    layer.attrs["no_segment"] = why_no_segment(manifest)  # for ``placed_line``
    return layer, report


def match_summary(report: pd.DataFrame) -> pd.DataFrame:
    """Counts by status and method (how many by code, by location, by postcode, outside,
    unmatched with each reason), with their share of the input records."""
    keys = report["status"] + np.where(report["method"] != "", " " + report["method"], "")
    keys = np.where(report["status"] == MATCHED, keys, report["status"])
    keys = keys + np.where(report["detail"] != "", ": " + report["detail"], "")
    counts = pd.Series(keys).value_counts().rename_axis("outcome").reset_index(name="records")
    counts["percent"] = (100 * counts["records"] / len(report)).round(2)
    return counts


def placed_line(layer: pd.DataFrame, records: int) -> str:
    """How many of the ``records`` the address layer placed in a segment, and how many it
    holds in output areas without one: "4,585 of 4,915 records placed in a segment; 330 in
    17 output areas without one (no row in any of the tables)"; why, as the layer's
    ``join_gazetteer`` said."""
    unsegmented = layer["segment"].isna().to_numpy()
    line = f"{int((~unsegmented).sum()):,} of {records:,} records placed in a segment"
    if unsegmented.any():
        areas = layer.loc[unsegmented, "area_code"].nunique()
        line += (f"; {int(unsegmented.sum()):,} in {counted(areas, 'output areas')} "
                 f"without one ({layer.attrs.get('no_segment') or why_no_segment(None)})")
    return line
