"""What the fires around a postcode point say: the features of units that are points.

Where the units of the risk model are postcode points (``risk_postcodes``), the fires'
own published points (50 m in the LFB file) give a finer history than the units' fires
alone. Per point, from the fires up to the cut-off that were placed at a unit of the
study (so a borough left out of a fit keeps its fires out of it too):

- **fires around it**: time-decayed counts of the fires within 50, 100 and 200 m of the
  point (half-lives 3 and 10 years), and the same per household of the points within
  that distance; the distance to the nearest fire, and to the nearest of the last 3 years;
- **its own fires in time**: fires in the last 1, 3 and 5 years, decayed counts
  (half-lives 1, 3 and 10 years) and the years since its last fire (none: missing, so the
  feature means the same whatever the length of the history);
- **what its fires were**: the share of each property type among its fires (decayed);
- **its size**: the postcodes of its output area, the distance to the nearest other
  postcode point and to the middle of its area's points (more, closer points: fewer homes
  each, though each is given an equal share of its area's households);
- **its catchment** (``catchment``): each fire goes to the nearest postcode point of its
  own output area (``nearest_of_own_area``), from its published point (rounded to 50 m in
  the LFB file), so the fires a postcode can collect are those of the 50 m grid points of
  its area that are nearer to it than to the area's other points: their number, and their
  share of the area's. A postcode with none (a quarter of the London pack's: behind
  another point of its area, or at the same point as another postcode, which takes the
  fires) collects no fire whatever happens around it. Facts of the gazetteer and the
  areas, not of the fires, so the same at any date.

Every count here uses fixed windows or decay, so a model fitted at an earlier date reads
the features at the cut-off on the same scale (the fire counts over the whole history are
left out of the postcode model for that reason: ``ModelSettings.features``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RADII = (50.0, 100.0, 200.0)  # metres around each point
NEAR_HALF_LIVES = (3.0, 10.0)  # years
OWN_WINDOWS = (1, 3, 5)  # years
OWN_HALF_LIVES = (1.0, 3.0, 10.0)
KIND_SHARE_HALF_LIFE = 10.0
RECENT_FIRE_YEARS = 3.0
CELL_METRES = 50.0  # the LFB file's points are rounded to 50 m
TIES = 4  # the nearest points looked at for ties
APART = 1e9  # a third axis this far apart per area: the nearest point is of the same area


def _pairs(a: np.ndarray, b: np.ndarray, metres: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (i in ``a``, j in ``b``) of the points within ``metres`` of each other,
    and their distances."""
    from scipy.spatial import cKDTree

    if not len(a) or not len(b):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    pairs = cKDTree(a).sparse_distance_matrix(cKDTree(b), metres, output_type="coo_matrix")
    return pairs.row.astype(np.int64), pairs.col.astype(np.int64), pairs.data


def fires_near(points: np.ndarray, fires: np.ndarray, fire_point: np.ndarray,
               metres: float) -> np.ndarray:
    """For each point, the fires within ``metres`` of it that went to another point
    (``fire_point``: the position in ``points`` each fire went to)."""
    i, j, _ = _pairs(points, fires, metres)
    other = fire_point[j] != i
    return np.bincount(i[other], minlength=len(points))


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point of ``a`` to the nearest of ``b`` (missing if ``b`` is
    empty)."""
    from scipy.spatial import cKDTree

    if not len(b):
        return np.full(len(a), np.nan)
    return cKDTree(b).query(a)[0]


def decay(ages: np.ndarray, half_life: float) -> np.ndarray:
    """Each fire's weight at its age in years: 1 new, a half after ``half_life``."""
    return np.exp(-np.log(2) * ages / half_life)


def point_features(points: np.ndarray, households: np.ndarray, area: np.ndarray,
                   fire_points: np.ndarray, fire_unit: np.ndarray, ages: np.ndarray,
                   kinds: np.ndarray | None = None, kind_names=()) -> dict:
    """The features above, one value per point. ``points``: (n, 2) coordinates of the
    units; ``area``: each unit's output area; ``fire_points``: (m, 2) the past fires'
    published points, ``fire_unit`` the unit each was placed at, ``ages`` their ages in
    years at the cut-off; ``kinds``: their property types (``risk_features.property_kind``),
    one share for each of ``kind_names``."""
    n = len(points)
    out = {}
    ok = np.all(np.isfinite(fire_points), axis=1) if len(fire_points) else np.zeros(0, bool)
    near_points, near_ages = fire_points[ok], ages[ok]
    # each distinct point once (many postcodes share a point, many fires a 50 m point),
    # and the pairs within the largest distance once: the smaller ones are among them
    spots, spot_of = np.unique(points, axis=0, return_inverse=True)
    spot_of = spot_of.ravel()
    homes_at = np.bincount(spot_of, weights=households, minlength=len(spots))
    postcodes_at = np.bincount(spot_of, minlength=len(spots)).astype(float)
    fire_spots, fire_spot_of = (np.unique(near_points, axis=0, return_inverse=True)
                                if len(near_points) else (np.zeros((0, 2)), np.zeros(0, int)))
    fire_spot_of = np.asarray(fire_spot_of).ravel()
    fire_pairs = _pairs(spots, fire_spots, max(RADII))
    spot_pairs = _pairs(spots, spots, max(RADII))
    at_spot = {half_life: np.bincount(fire_spot_of, weights=decay(near_ages, half_life),
                                      minlength=len(fire_spots))
               for half_life in NEAR_HALF_LIVES}  # each fire spot's decayed fires
    for metres in RADII:
        i, j = (k[fire_pairs[2] <= metres] for k in fire_pairs[:2])
        pi, pj = (k[spot_pairs[2] <= metres] for k in spot_pairs[:2])
        homes = np.bincount(pi, weights=homes_at[pj], minlength=len(spots))[spot_of]
        for half_life in NEAR_HALF_LIVES:
            fires = np.bincount(i, weights=at_spot[half_life][j], minlength=len(spots))[spot_of]
            out[f"near_{metres:g}m_decayed_{half_life:g}y"] = fires
            out[f"near_{metres:g}m_rate_{half_life:g}y"] = fires / np.maximum(homes, 1e-9)
        out[f"postcodes_within_{metres:g}m"] = np.bincount(
            pi, weights=postcodes_at[pj], minlength=len(spots))[spot_of]
    out["nearest_fire_m"] = _nearest(spots, fire_spots)[spot_of]
    recent = np.unique(near_points[near_ages <= RECENT_FIRE_YEARS], axis=0)
    out["nearest_fire_3y_m"] = _nearest(spots, recent)[spot_of]
    for years in OWN_WINDOWS:
        out[f"own_last_{years}y"] = np.bincount(fire_unit[ages <= years],
                                                minlength=n).astype(float)
    for half_life in OWN_HALF_LIVES:
        out[f"own_decayed_{half_life:g}y"] = np.bincount(
            fire_unit, weights=decay(ages, half_life), minlength=n)
    since = np.full(n, np.inf)
    np.minimum.at(since, fire_unit, ages)
    out["years_since_own_fire"] = np.where(np.isfinite(since), since, np.nan)
    if kinds is not None:
        weight = decay(ages, KIND_SHARE_HALF_LIFE)
        total = np.bincount(fire_unit, weights=weight, minlength=n)
        for kind in kind_names:
            share = np.bincount(fire_unit, weights=weight * (kinds == kind), minlength=n)
            out[f"own_share_{kind}"] = np.where(total > 0, share / np.maximum(total, 1e-300),
                                                np.nan)
    out.update(_size(points, area))
    return out


def _size(points: np.ndarray, area: np.ndarray) -> dict:
    group = pd.Series(area)
    middle_x = pd.Series(points[:, 0]).groupby(group).transform("mean").to_numpy()
    middle_y = pd.Series(points[:, 1]).groupby(group).transform("mean").to_numpy()
    from scipy.spatial import cKDTree

    second = (cKDTree(points).query(points, k=2)[0][:, 1] if len(points) > 1
              else np.full(len(points), np.nan))
    return {"postcodes_in_area": group.map(group.value_counts()).to_numpy(float),
            "nearest_postcode_m": second,
            "from_area_middle_m": np.hypot(points[:, 0] - middle_x, points[:, 1] - middle_y)}


def nearest_of_own_area(points: np.ndarray, point_area: np.ndarray, where: np.ndarray,
                        area: np.ndarray) -> np.ndarray:
    """For each location ``where`` ((m, 2), in the area numbered ``area``), the position of
    the nearest of ``points`` ((n, 2)) numbered with the same area in ``point_area``
    (locations of an area without points go to some other area's: leave them out first).
    Ties go to the first point in order: of several points at the same spot, and of points
    the same distance away (whatever else the search holds)."""
    from scipy.spatial import cKDTree

    point_area = np.asarray(point_area, np.int64)
    first = ~pd.MultiIndex.from_arrays([point_area, points[:, 0], points[:, 1]]).duplicated()
    spots = np.flatnonzero(first)
    if not len(where):
        return np.zeros(0, np.int64)
    tree = cKDTree(np.column_stack([points[spots], point_area[spots] * APART]))
    k = min(TIES, len(spots))
    distance, nearest = tree.query(np.column_stack([where, np.asarray(area, np.int64) * APART]),
                                   k=k)
    distance, nearest = distance.reshape(len(where), k), nearest.reshape(len(where), k)
    tied = distance <= distance[:, :1] + 1e-6
    return np.where(tied, spots[np.minimum(nearest, len(spots) - 1)], len(points)).min(axis=1)


def area_cells(shapes, metres: float = CELL_METRES) -> tuple[np.ndarray, np.ndarray]:
    """The grid points at multiples of ``metres`` inside each of the area polygons
    ``shapes``: their coordinates (m, 2) and the position of the area holding each."""
    import shapely

    found, owner = [], []
    for k, shape in enumerate(shapes):
        if shape is None or shape.is_empty:
            continue
        x0, y0, x1, y1 = shape.bounds
        gx, gy = np.meshgrid(np.arange(np.ceil(x0 / metres), np.floor(x1 / metres) + 1),
                             np.arange(np.ceil(y0 / metres), np.floor(y1 / metres) + 1))
        x, y = gx.ravel() * metres, gy.ravel() * metres
        inside = shapely.contains_xy(shape, x, y)
        found.append(np.column_stack([x[inside], y[inside]]))
        owner.append(np.full(int(inside.sum()), k))
    if not found:
        return np.zeros((0, 2)), np.zeros(0, np.int64)
    return np.concatenate(found), np.concatenate(owner).astype(np.int64)


def catchment(shapes, points: np.ndarray, point_area: np.ndarray,
              metres: float = CELL_METRES) -> pd.DataFrame:
    """Per point ((n, 2), ``point_area`` the position in ``shapes`` of its area): the grid
    points of its area (``area_cells``) that go to it under the rule fires follow
    (``nearest_of_own_area``), and their share of its area's (missing for an area smaller
    than the grid)."""
    point_area = np.asarray(point_area, np.int64)
    cells, owner = area_cells(shapes, metres)
    keep = np.isin(owner, point_area)
    taken = nearest_of_own_area(points, point_area, cells[keep], owner[keep])
    count = np.bincount(taken, minlength=len(points)).astype(float)
    of_area = np.bincount(owner, minlength=len(shapes))[point_area].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(of_area > 0, count / of_area, np.nan)
    return pd.DataFrame({"catchment_cells": count, "catchment_share": share})
