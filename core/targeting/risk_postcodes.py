"""The risk model at postcode points: each postcode ranked on its own, not its output area.

Dwelling fires come back to the same buildings (in the London pack a quarter of them are
at 50 m points with 5 or more fires), so the fires at a postcode say more about its later
fires than its output area's do. Where the gazetteer is postcode points:

- ``postcode_study``: the postcodes as the units of the model: each holds an equal share of
  its output area's households (the area's households over its postcode points: a count
  known before any cut-off, not taken from the fires), its output area as the smallest
  group (``"area"``: the area's other postcodes, then LSOA, ward, borough), the postcodes
  within ``NEAR_POSTCODE_METRES`` as its neighbours, and its area's census factors and
  segment;
- ``fires_at_postcodes``: each fire given to the nearest postcode point of its own output
  area (from the fire's published point).

The model, its features and its backtest are then those of the areas
(``risk_features``, ``risk_model``, ``risk_backtest``), with the postcodes as the units,
and the features of their points besides (``risk_points``: the fires around each point).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .risk_features import StudyAreas, touching_pairs
from .risk_model import ModelSettings
from .risk_points import CELL_METRES, catchment, nearest_of_own_area

NEAR_POSTCODE_METRES = CELL_METRES  # neighbours: as near as the fires' points are exact
AREA = "area"  # the group of a postcode's output area


def postcode_study(areas: StudyAreas, points: pd.DataFrame,
                   metres: float = NEAR_POSTCODE_METRES) -> StudyAreas:
    """The postcode points (columns ``code``, ``area_code``, ``x``, ``y``, and optionally
    ``households``: a count the user holds) of the study's areas as the units of the
    model. Points of areas outside the study are left out; without a count, an area's
    households are shared equally over its points. With the areas' polygons
    (``areas.shapes``), each point's catchment (``risk_points.catchment``) besides."""
    import shapely

    where = areas.codes.get_indexer(points["area_code"])
    points = points[where >= 0]
    where = where[where >= 0]
    if not len(points):
        raise InputError("no postcode point lies in a classified area")
    counts = np.bincount(where, minlength=len(areas))
    households = areas.households.astype(float)[where] / counts[where]
    if "households" in points:
        given = pd.to_numeric(points["households"], errors="coerce").to_numpy(float)
        households = np.where(given > 0, given, households)
    groups = {AREA: areas.codes.to_numpy()[where]}
    groups.update({name: np.asarray(values)[where] for name, values in areas.groups.items()})
    xy = points[["x", "y"]].to_numpy(float)
    geometry = shapely.points(xy[:, 0], xy[:, 1])
    return StudyAreas(codes=pd.Index(points["code"].astype(str)), households=households,
                      groups=groups, neighbours=touching_pairs(geometry, metres),
                      factors=areas.factors.iloc[where].reset_index(drop=True),
                      segment=None if areas.segment is None else areas.segment[where],
                      second_ring=False, points=xy,
                      catchment=None if areas.shapes is None else catchment(areas.shapes, xy,
                                                                             where))


def gazetteer_points(layer, ids=None) -> pd.DataFrame:
    """The gazetteer's point layer (``record_id``, ``area_code``[, ``households``]) as the
    points ``postcode_study`` reads, each named by ``ids`` (default its record ID)."""
    points = pd.DataFrame({"code": (layer["record_id"] if ids is None else ids).astype(str)
                           .to_numpy(), "area_code": layer["area_code"].astype(str).to_numpy(),
                           "x": layer.geometry.x.to_numpy(), "y": layer.geometry.y.to_numpy()})
    if "households" in layer:
        points["households"] = layer["households"].to_numpy()
    return points


def fires_at_postcodes(history: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """The fires (``area_code``, ``x``, ``y``...) each at the nearest of the postcode points
    (``code``, ``area_code``, ``x``, ``y``) of its output area: ``area_code`` becomes the
    postcode's code and ``output_area`` keeps the area. Fires without a point, or in an
    area without postcode points, are left out. Ties (postcodes at the same point, or the
    same distance away) go to the first of them in ``points``
    (``risk_points.nearest_of_own_area``, the rule of the postcodes' catchments too)."""
    if not {"x", "y"} <= set(history.columns):
        raise InputError("ranking postcodes needs each incident's point (x and y columns)")
    areas = pd.Index(pd.unique(points["area_code"]))
    area = areas.get_indexer(history["area_code"])
    x = pd.to_numeric(history["x"], errors="coerce").to_numpy(float)
    y = pd.to_numeric(history["y"], errors="coerce").to_numpy(float)
    keep = (area >= 0) & np.isfinite(x) & np.isfinite(y)
    nearest = nearest_of_own_area(points[["x", "y"]].to_numpy(float),
                                  areas.get_indexer(points["area_code"]),
                                  np.column_stack([x[keep], y[keep]]), area[keep])
    placed = history[keep].copy()
    placed["output_area"] = placed["area_code"].to_numpy()
    placed["area_code"] = points["code"].astype(str).to_numpy()[nearest]
    return placed


# the model's settings for postcodes, chosen by validation inside the fit period on the
# London pack (cut-off 2012 -> 2013-2015 with a 2-year horizon, cut-off 2015 -> 2016-2019,
# one model for every borough): the fire counts left out (their scale grows with the
# history; with them the top 10% held 4.0 and 3.8 points fewer of the validation fires)
# and 31 bins a feature (level with 63 within 0.3 points, and twice as fast)
POSTCODE_SETTINGS = ModelSettings(features="rates", max_bins=31)
