"""What the home areas are read against: the segment, ward and residents of each output
area (from a saved segmentation, or the project's area table), and the harm weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .columns import _column, cells, read_hours
from .project import DemandProject


def _area_context(project: DemandProject, segmentation: Path | None
                  ) -> tuple[pd.DataFrame, pd.Series | None]:
    """Per output area (index): home ward, ward name, segment, segment name (those known);
    and residents per area (or None)."""
    context = pd.DataFrame()
    residents = None
    if segmentation is not None:
        from ..store.geopackage import gpkg_file, read_gpkg_table
        from ..store.names import SEGMENT_LAYER

        path = gpkg_file(segmentation)
        if not path.exists():
            raise InputError(f"{path}: saved segmentation not found")
        try:
            areas = read_gpkg_table(path, SEGMENT_LAYER)
        except Exception as err:  # not a GeoPackage, or no segments layer
            raise InputError(f"{path}: not a saved segmentation ({err})") from err
        areas["area_code"] = areas["area_code"].astype(str).str.strip().str.upper()
        areas = areas.set_index("area_code")
        context["segment"] = areas["segment"].astype("Int64").astype(str).replace("<NA>", "")
        context["segment name"] = areas.get("segment_name", "")
        import json

        import pyogrio

        layers = {n for n, _ in pyogrio.list_layers(path)}
        manifest = json.loads(read_gpkg_table(path, "manifest")["manifest"].iloc[0])
        column = manifest.get("parameters", {}).get("residents")
        if column:
            values = read_gpkg_table(path, "area_values").set_index("area_code")
            if column in values.columns:
                residents = pd.to_numeric(values[column], errors="coerce")
                residents.index = residents.index.astype(str).str.upper()
        if "area_wards" in layers:
            wards = read_gpkg_table(path, "area_wards")
            wards["area_code"] = wards["area_code"].astype(str).str.upper()
            wards = wards.set_index("area_code")
            context = context.join(wards[["ward_code"]].rename(
                columns={"ward_code": "home ward"}), how="outer")
            if "ward_name" in wards:
                context["home ward name"] = wards["ward_name"].reindex(context.index)
    if project.areas is not None:
        from ..data.locate import read_records

        spec = project.areas
        table, _, _ = read_records(spec.path)
        codes = cells(_column(table, spec.code, spec.path.name), lambda t: t.str.upper())
        table = table.set_index(codes)
        if spec.ward:
            context = context.reindex(context.index.union(table.index))
            context["home ward"] = _column(table, spec.ward, spec.path.name).reindex(
                context.index)
            if spec.ward_name:
                context["home ward name"] = _column(table, spec.ward_name,
                                                    spec.path.name).reindex(context.index)
        if spec.residents:
            residents = read_hours(_column(table, spec.residents, spec.path.name))
            residents = pd.Series(residents, index=table.index)
    return context.fillna(""), residents


def _harm_weights(project: DemandProject) -> pd.Series | None:
    if project.harm is None:
        return None
    from ..data.locate import read_records

    path, offence, weight = project.harm
    table, _, _ = read_records(path)
    weights = read_hours(_column(table, weight, path.name))
    bad = np.isnan(weights)
    if bad.any():
        rows = ", ".join(map(str, table.index[bad][:5]))
        raise InputError(f"{path.name}: column '{weight}' is not a number on rows {rows}")
    return pd.Series(weights, index=cells(_column(table, offence, path.name)))
