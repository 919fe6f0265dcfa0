"""Fire rates per household: each area's rate shrunk toward its segment's, and the
households per area it is counted over (the score of the visit list and of the backtest).

For output area *i* in segment *s*: *y_i* fires in the window, *n_i* households.

1. **Segment rate**: ``mu_s = sum(y) / sum(n)`` over the segment's areas (fires per
   household over the window; x 1,000 for the rate per 1,000 households). The borough rate
   is the same over every classified area; "2.3x the borough's fire rate" is
   ``mu_s / borough``.
2. **Area rate shrunk toward its segment** (empirical Bayes, Poisson-gamma): the area's
   fires ``y_i ~ Poisson(n_i * theta_i)`` with ``theta_i ~ Gamma(alpha_s, beta_s)``, whose
   mean is the segment's rate ``mu_s`` and variance ``tau2_s = v * mu_s^2``: the areas of
   every segment vary about their segment's rate by the same proportion (one gamma shape
   ``alpha = 1 / v`` for the study area, as in a negative binomial regression on the
   segment, and Christiansen and Morris 1997), ``v`` estimated by the method of moments
   (Marshall 1991) pooled over the segments::

       r_i    = y_i / n_i                                   (the area's own rate)
       d_s    = sum(n_i * (r_i - mu_s)^2) - m_s * mu_s      (the spread less the Poisson
                                                             noise; m_s areas with households)
       v      = max(0, sum_s d_s / sum_s(N_s * mu_s^2))     (N_s: the segment's households)
       tau2_s = v * mu_s^2,  alpha_s = 1 / v,  beta_s = 1 / (v * mu_s)

   (one segment: Marshall's ``tau2 = max(0, s2 - mu / nbar)``). Per segment, the
   estimate falls to 0 whenever a segment's areas happen to vary no more than chance
   would make them -- often, in a short window -- and every area of it would then take
   the segment's rate whatever its own fires; pooled over the segments it is steadier.
   The area's rate is the posterior mean::

       theta_i = (alpha_s + y_i) / (beta_s + n_i) = mu_s + w_i * (r_i - mu_s),
       w_i = tau2_s / (tau2_s + mu_s / n_i)

   A small area with one fire moves only a little from its segment's rate (small n_i: small
   weight w_i); only when ``v`` is 0 (the areas of the whole study vary no more than chance)
   does every area take its segment's rate, and the visit list then orders them by their
   own fires per household (``visit_list.rank_order``); an area without households takes
   its segment's rate too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError


def relative_variance(spread: pd.Series, areas: pd.Series, households: pd.Series,
                      mu: pd.Series) -> float:
    """The areas' variance about their segment's rate, as a share of its square (``v``
    above), by the method of moments pooled over the segments: per segment, ``spread``
    (the households-weighted squared deviations of the areas' own rates), ``areas`` (with
    households), ``households`` and ``mu`` (its rate). 0 when the areas vary no more than
    chance."""
    excess = (spread - areas * mu).sum()
    scale = (households * mu ** 2).sum()
    return float(max(0.0, excess / scale)) if scale > 0 else 0.0


def shrunk_rates(fires: pd.Series, households: pd.Series, segments: pd.Series
                 ) -> pd.DataFrame:
    """Per area: its segment's rate, its own rate, the weight on it and the shrunk rate
    (fires per household over the window), and the segment's gamma prior (alpha, beta).
    All three series share the area index; ``segments`` holds classified areas only."""
    frame = pd.DataFrame({"segment": segments.astype(int)})
    frame["fires"] = fires.reindex(frame.index).fillna(0).astype(float)
    frame["households"] = households.reindex(frame.index).fillna(0).astype(float).clip(
        lower=0)
    has = frame["households"] > 0
    sums = frame[has].groupby("segment")[["fires", "households"]].sum()
    mu = (sums["fires"] / sums["households"]).reindex(frame["segment"]).fillna(0).to_numpy()
    n = frame["households"].to_numpy()
    y = frame["fires"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(n > 0, y / np.where(n > 0, n, 1), np.nan)
    deviation = np.where(n > 0, n * (np.nan_to_num(raw) - mu) ** 2, 0.0)
    moments = pd.DataFrame({"segment": frame["segment"].to_numpy(), "dev": deviation,
                            "n": n, "m": (n > 0).astype(float)}).groupby("segment").sum()
    seg_mu = (sums["fires"] / sums["households"]).reindex(moments.index).fillna(0)
    tau2 = seg_mu ** 2 * relative_variance(moments["dev"], moments["m"], moments["n"], seg_mu)
    tau2_i = tau2.reindex(frame["segment"]).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where((n > 0) & (tau2_i > 0), tau2_i / (tau2_i + mu / np.where(n > 0, n, 1)),
                          0.0)
        alpha = np.where(tau2_i > 0, mu ** 2 / tau2_i, np.inf)
        beta = np.where(tau2_i > 0, mu / tau2_i, np.inf)
    frame["segment_rate"] = mu
    frame["own_rate"] = raw
    frame["weight"] = weight
    frame["shrunk_rate"] = mu + weight * (np.nan_to_num(raw) - mu)
    frame["prior_alpha"], frame["prior_beta"] = alpha, beta
    borough = frame.loc[has, "fires"].sum() / max(frame.loc[has, "households"].sum(), 1e-300)
    frame["borough_rate"] = borough
    return frame


ADDRESSES_AS_HOUSEHOLDS = ("the segmentation names no households column: each address of "
                           "the gazetteer counts as one household")


def area_households(seg, gpkg: Path | None = None) -> pd.Series:
    """Households per area: the project's households column, or (without one) the
    gazetteer's addresses per area (``ADDRESSES_AS_HOUSEHOLDS``)."""
    column = seg.manifest.get("parameters", {}).get("households")
    if column and column in seg.values.columns:
        return pd.to_numeric(seg.values[column], errors="coerce")
    if gpkg is not None:
        import pyogrio

        if "addresses" in {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]}:
            areas = pyogrio.read_dataframe(gpkg, layer="addresses", columns=["area_code"],
                                           read_geometry=False)["area_code"]
            return areas.value_counts().reindex(seg.values.index).fillna(0).astype(float)
    raise InputError("the segmentation names no households column ([sizes] households "
                     "in the project) and has no address gazetteer to count households "
                     "by: fire rates per household cannot be computed")


def rate_unit(seg) -> str:
    """What the rates are per: "household", or "address" where the segmentation has no
    households (each address counts as one)."""
    return "household" if seg.manifest.get("parameters", {}).get("households") else "address"


def households_unknown_at_postcodes(capacity: int | None, backtest: bool = False) -> str:
    """Why postcode points are refused when no households are known (the segmentation's
    project names none and the gazetteer gives none): each postcode would count as one
    household -- in a visit list's capacity, or in a backtest's "top 10% of households" --
    and what to do instead, naming the command line's option and, for the list, the QGIS
    box (the dock's and the Processing tool's)."""
    unknown = ("no postcode's households are known: the segmentation's project names no "
               "households column and the gazetteer gives none, so each postcode would count "
               "as one household")
    instead = ("Either name a table's total of households under [sizes] households and run "
               "segment again, or ")
    if backtest:
        return (f"--postcode-points judges the rankings in households, but {unknown} and "
                "the top 10% of households would be the top 10% of postcodes. "
                f"{instead}backtest by output area: leave out --postcode-points. Nothing was "
                "written")
    many = f"{capacity:,}" if capacity else "N"
    return (f"--postcode-points counts the capacity in households, but {unknown} and a "
            f"capacity of {many} households would list {many} postcodes. {instead}count one "
            "visit per postcode: leave out --postcode-points, or in QGIS untick the box 'The "
            "gazetteer is postcode points (capacity in households)' of the dock's Targeting "
            "tab or of the tool Target home fire safety checks. Nothing was written")
