"""Incident histories with dates: the incident file a user names, each incident located
in the study area with its date, and the incidents per area in a window (read by the visit
list, the backtest and the risk model).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..data.dates import parse_dates
from ..data.locate import (
    MATCHED,
    AreaIndex,
    LocationColumns,
    locate,
    read_records,
    records_from_points,
)
from ..errors import InputError


@dataclass(frozen=True)
class IncidentFile:
    """The incident file the user gave to ``incidents`` (or a point layer as a frame)."""

    source: Path | gpd.GeoDataFrame
    columns: LocationColumns
    date_column: str | None = None
    name: str | None = None
    date_format: str | None = None  # e.g. "%m/%d/%Y"; None: ISO or judged day first
    property_column: str | None = None  # the property type of each incident (risk model)


def incident_history(areas: gpd.GeoDataFrame, incidents: IncidentFile
                     ) -> tuple[pd.DataFrame, pd.Series, str]:
    """(area_code, date) of each incident located in the study area with a readable date
    (index: the record's row), every record's outcome (matched, outside the area,
    unmatched, date unreadable...) and the source's name."""
    if isinstance(incidents.source, gpd.GeoDataFrame):
        source = incidents.name or "layer"
        records, _, crs = records_from_points(incidents.source, source)
    else:
        paths = (list(incidents.source) if isinstance(incidents.source, (list, tuple))
                 else [incidents.source])
        if len(paths) == 1 and not Path(paths[0]).is_dir():
            source = Path(paths[0]).name
            records, _, crs = read_records(Path(paths[0]))
        else:  # several files, or a folder of them, read as one: rows "file.csv:line"
            from ..places.steps import read_record_sources

            records, _, crs, source = read_record_sources(paths)
    column = incidents.date_column
    columns = ", ".join(map(str, records.columns))
    if not column:
        raise InputError(f"{source}: name the incidents' date column (--date-column; its "
                         f"columns are {columns})")
    if column not in records.columns:
        raise InputError(f"{source}: no date column '{column}' (its columns are {columns})")
    located = locate(records, incidents.columns, AreaIndex(areas), None, source, crs)
    dates = parse_dates(records[column], incidents.date_format, column, source)
    if len(records) and dates.isna().all():
        given = records[column].dropna()
        example = (f" (row {given.index[0]}: '{given.iloc[0]}')" if len(given) else
                   " (it is empty)")
        raise InputError(f"{source}: column '{column}' holds no date{example}: name the "
                         "column that holds the incidents' dates")
    status = located["status"].where(located["status"] != MATCHED,
                                     np.where(dates.isna(), "date unreadable", MATCHED))
    keep = (status == MATCHED).to_numpy()
    if not keep.any():
        raise InputError(f"{source}: no incident located in the study area with a date "
                         f"({outcome_words(status)})")
    history = pd.DataFrame({"area_code": located["area_code"].to_numpy()[keep],
                            "date": dates.to_numpy()[keep]}, index=records.index[keep])
    if incidents.property_column:
        from .risk_features import property_kind

        if incidents.property_column not in records.columns:
            raise InputError(f"{source}: no property type column "
                             f"'{incidents.property_column}'")
        history["kind"] = property_kind(records[incidents.property_column]).to_numpy()[keep]
    for axis, column in (("x", incidents.columns.x), ("y", incidents.columns.y)):
        if column and column in records.columns:
            history[axis] = pd.to_numeric(records[column], errors="coerce").to_numpy()[keep]
    return history, status, source


def outcome_words(status: pd.Series) -> str:
    """What became of the records, in words: "1,774 records: 1,653 outside the study
    area, 121 date unreadable"."""
    counts = status.value_counts()
    return f"{len(status):,} records: " + ", ".join(f"{n:,} {what}"
                                                    for what, n in counts.items())


def window_counts(history: pd.DataFrame, start: pd.Timestamp | None,
                  end: pd.Timestamp | None) -> pd.Series:
    """Incidents per area with start <= date <= end (whole days)."""
    keep = np.ones(len(history), dtype=bool)
    if start is not None:
        keep &= (history["date"] >= start).to_numpy()
    if end is not None:
        keep &= (history["date"] < end + pd.Timedelta(days=1)).to_numpy()
    return history.loc[keep].groupby("area_code").size().astype(float)
