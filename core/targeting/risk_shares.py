"""Where an output area's fires land: each postcode's share of them, shrunk toward its catchment.

Fires come back to the same buildings, so a postcode that took many of its area's past
fires is likely to take many of its later ones. Its own share of the area's past fires is
noisy where the area had few, so it is shrunk toward the share it would have with no
history: its catchment's share of the area's 50 m grid points (``risk_points.catchment``:
the points whose fires go to it), or an equal share where the area is smaller than the
grid. With ``c`` the postcode's decayed past fires, ``C`` its area's and ``p`` the prior
share::

    share = (c + strength x p) / (C + strength)

(the mean of a Dirichlet-multinomial: ``strength`` is how many fires the prior is worth).
The shares of an area's postcodes sum to 1, so the area's expected fires times the shares
are still expected fires, split over its postcodes. Read by the postcode model as a
feature (``risk_features.feature_table``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SHARE_HALF_LIFE = 10.0  # years: the past fires decayed as the points' own decayed counts
# how many fires the prior share is worth: the maximum of the Dirichlet-multinomial
# likelihood (``fit_strength``) of the London pack's fires of 2012-2015 given the shares at
# 2011-12-31 (2.0 with the fires decayed, 2.0 counted plainly; 1.6 toward an equal share)
SHARE_STRENGTH = 2.0
EMPTY_CATCHMENT = 1e-3  # a postcode without a catchment keeps a little of the prior
STRENGTHS = np.logspace(-1.5, 3, 46)  # the strengths fit_strength looks among


def prior_shares(catchment_share: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Each postcode's share of its area before any fire: its catchment's share of the
    area's grid points (missing for an area smaller than the grid: an equal share), with
    ``EMPTY_CATCHMENT`` of an equal share added (a fire off every polygon goes to the
    nearest area's nearest postcode, whatever its catchment), summing to 1 per area."""
    group = pd.factorize(pd.Series(area))[0]
    count = np.bincount(group)[group].astype(float)
    given = np.asarray(catchment_share, float)
    share = np.where(np.isnan(given), 1 / count, given) + EMPTY_CATCHMENT / count
    return share / np.bincount(group, weights=share)[group]


def shrunk_shares(own: np.ndarray, area: np.ndarray, prior: np.ndarray,
                  strength: float = SHARE_STRENGTH) -> np.ndarray:
    """``(own + strength x prior) / (area's own + strength)`` per postcode: its share of its
    area's past fires (``own``: decayed counts) shrunk toward ``prior`` (the prior where
    the area had no fire and the strength is 0)."""
    group = pd.factorize(pd.Series(area))[0]
    own = np.asarray(own, float)
    prior = np.asarray(prior, float)
    total = np.bincount(group, weights=own)[group] + strength
    return np.where(total > 0, (own + strength * prior) / np.where(total > 0, total, 1), prior)


def fit_strength(own: np.ndarray, later: np.ndarray, area: np.ndarray, prior: np.ndarray,
                 grid=STRENGTHS) -> float:
    """The strength (among ``grid``) under which the later fires (``later``, per postcode)
    are likeliest, each area's split over its postcodes by the shares from ``own``."""
    later = np.asarray(later, float)
    fit = [np.sum(later * np.log(np.maximum(shrunk_shares(own, area, prior, s), 1e-300)))
           for s in grid]
    return float(grid[int(np.argmax(fit))])
