"""Capture curves: how many of the later incidents a ranking of areas reaches in its top
households. Every household of an area shares its area's score and the area's later
incidents are spread evenly over its households, so the curve is piecewise linear:
cumulative share of households (areas in rank order) against cumulative share of the later
incidents. The area under it is 0.5 for a ranking no better than chance and 1 for a
perfect one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TOP = (1, 5, 10, 20)  # the top shares of households (%) the captures are read at


def score_order(values: np.ndarray, codes: np.ndarray, ascending: bool = False
                ) -> np.ndarray:
    """Positions in score order (highest first; lowest first when ``ascending``; no score
    last), ties by area code."""
    values = np.where(np.isnan(values), np.inf if ascending else -np.inf, values)
    return np.lexsort((codes, values if ascending else -values))


def capture_curve(score: pd.Series, households: pd.Series, later: pd.Series,
                  ascending: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of households and of later incidents, areas in score order
    (ties: area code)."""
    order = score_order(score.to_numpy(dtype=float), score.index.astype(str).to_numpy(),
                        ascending)
    return curve_in_order(households.reindex(score.index).fillna(0).to_numpy()[order],
                          later.reindex(score.index).fillna(0).to_numpy()[order])


def curve_in_order(households: np.ndarray, fires: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of households and of fires, places in the order given."""
    x = np.concatenate([[0.0], np.cumsum(households)]) / max(households.sum(), 1e-300)
    y = np.concatenate([[0.0], np.cumsum(fires)]) / max(fires.sum(), 1e-300)
    return x, y


def capture_at(x: np.ndarray, y: np.ndarray, percent: float) -> float:
    """Share of later incidents (%) in the top ``percent`` % of households."""
    return float(100 * np.interp(percent / 100, x, y))


def area_under(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))
