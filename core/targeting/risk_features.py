"""What a fire service knows about each output area at a date: the features of the risk model.

Everything here is computed from data a service really holds at the cut-off date ``T``
(fires on or before ``T`` only; census and deprivation as published), per output area:

- **its own fires**: counts in the last 1, 2 and 3 years, and time-decayed rates per
  household per year (each fire weighted ``exp(-age / h)`` for half-lives ``h`` of 1, 3
  and 10 years, divided by the households times the weighted length of history, so the
  rates are comparable whatever the history's length);
- **its neighbours' fires**: the same decayed rates over the areas that touch it (within
  ``NEIGHBOUR_METRES``) and over the ring beyond them;
- **its LSOA, ward and borough**: decayed rates of the rest of the group (the area itself
  left out), and the **hierarchical shrinkage** area -> LSOA -> ward -> borough: each level
  shrunk toward the level above by empirical Bayes, the variances estimated from the data
  by the method of moments (``shrink_toward``), not set by hand;
- **what the past fires were**: decayed rates of fires in purpose-built flats, converted
  flats, houses and houses in multiple occupation, over the area and its neighbours;
- **census risk factors and deprivation** (as given) and the **segment** (a category);
- where the units are points (postcodes: ``StudyAreas.points``), what the fires around
  each point say (``risk_points``), and with their catchments each one's share of its
  output area's past fires, shrunk toward its catchment's share (``risk_shares``).

The target for fitting (``later_rate``) is the fires after ``T`` over a horizon, per
household per year; its weight is households x years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .risk_points import decay, point_features
from .risk_shares import SHARE_HALF_LIFE, prior_shares, shrunk_shares

YEAR_DAYS = 365.25
NEIGHBOUR_METRES = 10.0  # generalised boundaries: areas this close count as touching
HALF_LIVES = (1.0, 3.0, 10.0)  # years
RECENT_YEARS = (1, 2, 3)
KIND_HALF_LIFE = 5.0

# property types as published in the LFB incident file, in words
KINDS = {"purpose_built_flat": "purpose-built flats", "tall_flats": "blocks of 10 storeys or more",
         "converted_flat": "converted flats", "house": "houses",
         "hmo": "houses in multiple occupation", "sheltered": "sheltered housing"}


def property_kind(text: pd.Series) -> pd.Series:
    """The incident file's property type in one of KINDS' keys (else "other")."""
    t = text.fillna("").astype(str).str.lower()
    kind = pd.Series("other", index=text.index, dtype=object)
    kind[t.str.contains("house|bungalow", regex=True)] = "house"
    kind[t.str.contains("converted flat")] = "converted_flat"
    kind[t.str.contains("purpose built flat")] = "purpose_built_flat"
    kind[t.str.contains("purpose built flat") & t.str.contains("10 or more")] = "tall_flats"
    kind[t.str.contains("multiple occupancy|multiple occupation|hmo", regex=True)] = "hmo"
    kind[t.str.contains("sheltered")] = "sheltered"
    return kind


@dataclass
class StudyAreas:
    """The areas of a study, in a fixed order (``codes``), with what the model needs of them.

    ``groups``: name -> code of the group of each area (e.g. ``lsoa``, ``ward``,
    ``borough``), from the smallest to the largest; ``neighbours``: pairs of positions
    (i, j), both ways; ``factors``: census risk factors and deprivation (numbers, named in
    words); ``segment``: the area's segment (or None); ``shapes``: the areas' polygons
    (for the postcodes' catchments); ``catchment``: what postcode units can collect."""

    codes: pd.Index
    households: np.ndarray
    groups: dict
    neighbours: tuple
    factors: pd.DataFrame
    segment: np.ndarray | None = None
    second_ring: bool = True  # the ring beyond the neighbours (off for postcode points)
    points: np.ndarray | None = None  # (n, 2) coordinates where the units are points
    shapes: np.ndarray | None = None  # the areas' polygons, where the units are areas
    catchment: pd.DataFrame | None = None  # per point unit (risk_points.catchment)

    def __len__(self) -> int:
        return len(self.codes)

    def subset(self, keep: np.ndarray) -> StudyAreas:
        """The areas at the positions where ``keep`` is True (neighbour pairs within them)."""
        keep = np.asarray(keep, dtype=bool)
        new = np.full(len(keep), -1)
        new[keep] = np.arange(keep.sum())
        i, j = self.neighbours
        both = keep[i] & keep[j]
        return StudyAreas(self.codes[keep], self.households[keep],
                          {k: v[keep] for k, v in self.groups.items()},
                          (new[i[both]], new[j[both]]), self.factors[keep].reset_index(drop=True),
                          None if self.segment is None else self.segment[keep], self.second_ring,
                          None if self.points is None else self.points[keep],
                          None if self.shapes is None else self.shapes[keep],
                          None if self.catchment is None
                          else self.catchment[keep].reset_index(drop=True))


def touching_pairs(geometries, metres: float = NEIGHBOUR_METRES) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of positions (i, j), i != j, of polygons within ``metres`` of each other
    (shapely's STRtree), both ways round."""
    import shapely

    geoms = np.asarray(geometries)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=metres)
    other = i != j
    return i[other].astype(np.int64), j[other].astype(np.int64)


def _adjacency(n: int, pairs) -> object:
    from scipy import sparse

    i, j = pairs
    return sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))


def _second_ring(adjacency) -> object:
    """Areas two steps away that are not the area or a first neighbour."""
    from scipy import sparse

    two = (adjacency @ adjacency + adjacency)
    two = (two > 0).astype(float)
    two = two - sparse.diags(two.diagonal())
    two = two - two.multiply(adjacency)
    two.eliminate_zeros()
    return (two > 0).astype(float)


def shrink_toward(fires: np.ndarray, exposure: np.ndarray, prior: np.ndarray,
                  pool: np.ndarray) -> np.ndarray:
    """Empirical-Bayes rates: each unit's rate ``fires / exposure`` shrunk toward ``prior``
    (a rate per unit), with the between-unit variance estimated by the method of moments
    within each ``pool`` (Marshall 1991): ``tau2 = max(0, s2 - prior / nbar)``, weight
    ``tau2 / (tau2 + prior / exposure)``. A unit without exposure takes the prior."""
    fires = np.asarray(fires, dtype=float)
    n = np.asarray(exposure, dtype=float)
    prior = np.asarray(prior, dtype=float)
    has = n > 0
    raw = np.where(has, fires / np.where(has, n, 1), 0.0)
    frame = pd.DataFrame({"pool": pool, "dev": np.where(has, n * (raw - prior) ** 2, 0.0),
                          "n": n, "m": has.astype(float), "prior_n": np.where(has, prior * n,
                                                                              0.0)})
    sums = frame.groupby("pool").sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = sums["dev"] / sums["n"]
        nbar = sums["n"] / sums["m"]
        mu = sums["prior_n"] / sums["n"]
    tau2 = (s2 - mu / nbar).clip(lower=0).fillna(0)
    t = tau2.reindex(pool).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(has & (t > 0), t / (t + prior / np.where(has, n, 1)), 0.0)
    weight = np.nan_to_num(weight)
    return prior + weight * (raw - prior)


def _decayed(ages: np.ndarray, positions: np.ndarray, n: int, half_life: float,
             weights: np.ndarray | None = None) -> np.ndarray:
    w = decay(ages, half_life)
    if weights is not None:
        w = w * weights
    return np.bincount(positions, weights=w, minlength=n)


def _span(years: float, half_life: float) -> float:
    """The weighted length of a history ``years`` long: integral of exp(-ln2 t / h)."""
    k = np.log(2) / half_life
    return (1 - np.exp(-k * years)) / k


def history_features(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
                     start: pd.Timestamp) -> pd.DataFrame:
    """The fire-history features of every area at ``cut_off`` (fires dated ``start`` to
    ``cut_off``, inclusive). ``history``: area_code, date[, kind]."""
    n = len(areas)
    end = cut_off + pd.Timedelta(days=1)
    past = history[(history["date"] >= start) & (history["date"] < end)]
    pos = areas.codes.get_indexer(past["area_code"])
    past, pos = past[pos >= 0], pos[pos >= 0]
    ages = (end - past["date"]).dt.days.to_numpy() / YEAR_DAYS
    years = (end - start).days / YEAR_DAYS
    hh = areas.households.astype(float)
    A = _adjacency(n, areas.neighbours)
    A2 = _second_ring(A) if areas.second_ring else None
    out = {}
    for w in RECENT_YEARS:
        out[f"fires_last_{w}y"] = np.bincount(pos[ages <= w], minlength=n).astype(float)
    out["fires_all"] = np.bincount(pos, minlength=n).astype(float)
    out["rate_all"] = out["fires_all"] / np.maximum(hh, 1) / years
    for h in HALF_LIVES:
        own = _decayed(ages, pos, n, h)
        exposure = hh * _span(years, h)
        tag = f"{h:g}y"
        out[f"rate_own_{tag}"] = own / np.maximum(exposure, 1e-9)
        near = A @ own
        out[f"rate_near_{tag}"] = near / np.maximum(A @ exposure, 1e-9)
        if A2 is not None:
            out[f"rate_ring2_{tag}"] = (A2 @ own) / np.maximum(A2 @ exposure, 1e-9)
        out[f"rate_own_near_{tag}"] = (own + near) / np.maximum(exposure + A @ exposure, 1e-9)
        for name, group in areas.groups.items():
            g = pd.Series(own).groupby(group).transform("sum").to_numpy()
            e = pd.Series(exposure).groupby(group).transform("sum").to_numpy()
            out[f"rate_{name}_{tag}"] = (g - own) / np.maximum(e - exposure, 1e-9)
        if h == 3.0:
            out.update(_hierarchy(areas, own, exposure, tag))
    if "kind" in past.columns:
        kinds = past["kind"].to_numpy()
        exposure = hh * _span(years, KIND_HALF_LIFE)
        total = A @ exposure + exposure
        for kind in KINDS:
            own = _decayed(ages, pos, n, KIND_HALF_LIFE, (kinds == kind).astype(float))
            out[f"rate_{kind}"] = (own + A @ own) / np.maximum(total, 1e-9)
    if {"x", "y"} <= set(past.columns):
        out.update(_spots(past, pos, ages, n, hh, years))
        if areas.points is not None:
            out.update(point_features(
                areas.points, hh, next(iter(areas.groups.values())),
                past[["x", "y"]].to_numpy(float), pos, ages,
                past["kind"].to_numpy() if "kind" in past.columns else None,
                [*KINDS, "other"]))
    if areas.catchment is not None:  # postcodes: their share of their area's fires
        area = next(iter(areas.groups.values()))
        out["shrunk_share"] = shrunk_shares(
            _decayed(ages, pos, n, SHARE_HALF_LIFE), area,
            prior_shares(areas.catchment["catchment_share"].to_numpy(), area))
    return pd.DataFrame(out, index=areas.codes)


def _spots(past: pd.DataFrame, pos: np.ndarray, ages: np.ndarray, n: int, hh: np.ndarray,
           years: float) -> dict:
    """Fires that came back to the same spot (the same published point, 50 m in the LFB
    file): the decayed count at the area's busiest spot, and the rate of fires at spots
    that had another fire."""
    spot = pd.factorize(pd.MultiIndex.from_arrays([pos, past["x"].to_numpy(),
                                                   past["y"].to_numpy()]))[0]
    at_spot = np.bincount(spot, weights=decay(ages, 10.0))
    fires_at_spot = np.bincount(spot)
    spot_area = np.zeros(len(at_spot), dtype=np.int64)
    spot_area[spot] = pos
    busiest = np.zeros(n)
    np.maximum.at(busiest, spot_area, at_spot)
    repeat = np.bincount(spot_area, weights=np.where(fires_at_spot >= 2, at_spot, 0.0),
                         minlength=n)
    exposure = hh * _span(years, 10.0)
    return {"busiest_spot_10y": busiest,
            "rate_repeat_spots_10y": repeat / np.maximum(exposure, 1e-9)}


def _hierarchy(areas: StudyAreas, own: np.ndarray, exposure: np.ndarray, tag: str) -> dict:
    """Area -> smallest group -> ... -> largest group -> all: each level's rate shrunk
    toward the level above (largest first), pooled within the level above."""
    names = list(areas.groups)
    out = {}
    prior = np.full(len(own), own.sum() / max(exposure.sum(), 1e-9))
    parent = np.zeros(len(own), dtype=np.int64)
    for name in reversed(names):
        group = areas.groups[name]
        fires = pd.Series(own).groupby(group).transform("sum").to_numpy()
        e = pd.Series(exposure).groupby(group).transform("sum").to_numpy()
        first = ~pd.Series(group).duplicated().to_numpy()
        units = pd.Series(group).astype(str).to_numpy()
        rate = shrink_toward(fires[first], e[first], prior[first], parent[first])
        shrunk = pd.Series(rate, index=units[first]).reindex(units).to_numpy()
        out[f"shrunk_{name}_{tag}"] = shrunk
        prior = shrunk
        parent = pd.factorize(units)[0]
    out[f"shrunk_area_{tag}"] = shrink_toward(own, exposure, prior, parent)
    return out


def later_rate(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
               end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Fires after ``cut_off`` to ``end`` (inclusive) per household per year, and the
    exposure (households x years) to weight them by."""
    later = history[(history["date"] > cut_off)
                    & (history["date"] < end + pd.Timedelta(days=1))]
    pos = areas.codes.get_indexer(later["area_code"])
    counts = np.bincount(pos[pos >= 0], minlength=len(areas)).astype(float)
    years = (end - cut_off).days / YEAR_DAYS
    exposure = areas.households.astype(float) * years
    return counts / np.maximum(exposure, 1e-9), exposure


def feature_table(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
                  start: pd.Timestamp) -> pd.DataFrame:
    """History features, census factors, households and segment: one row per area."""
    table = history_features(areas, history, cut_off, start)
    factors = areas.factors.set_axis(areas.codes)
    table = pd.concat([table, factors], axis=1)
    table["households"] = areas.households.astype(float)
    if areas.catchment is not None:
        table = pd.concat([table, areas.catchment.set_axis(areas.codes)], axis=1)
    if areas.segment is not None:
        table["segment"] = areas.segment.astype(float)
    return table
