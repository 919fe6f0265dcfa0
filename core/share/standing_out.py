"""The segments whose incidents stand out (their index's exact 95% interval wholly above or
below 100): what a protection of small counts keeps in view where another cell will do."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..places.incidents import exact_poisson_interval
from ..places.matrices import TOTAL

PLACES = ("areas", "households", "residents", "addresses")  # the matrices not of incidents


def standing_out(counts: pd.Series, people: pd.Series) -> list:
    """The segments (labels of ``counts``, without its ``Total``) whose incidents stand out:
    the exact 95% interval of their index (share of incidents over share of ``people``)
    lies wholly above or below 100, as the incident profile says."""
    counts = counts.drop(TOTAL, errors="ignore").astype(float)
    people = people.reindex(counts.index).astype(float)
    if counts.sum() <= 0 or not people.sum() > 0:
        return []
    expected = (counts.sum() * people / people.sum()).to_numpy()
    low, high = exact_poisson_interval(counts.to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (low > expected) | (high < expected)
    return list(counts.index[out & (expected > 0)])


def matrix_findings(matrices: dict) -> list[tuple]:
    """The segment totals of the incident matrices that carry a finding (``standing_out``
    against the households matrix, else the residents one): kept in view, where another
    entry will do, when small counts are protected."""
    base = matrices.get("households", matrices.get("residents"))
    if base is None or TOTAL not in base.index:
        return []
    found = []
    for name, matrix in matrices.items():
        if name in PLACES or TOTAL not in matrix.index:
            continue
        found += [(name, TOTAL, segment) for segment in
                  standing_out(matrix.loc[TOTAL], base.loc[TOTAL].drop(TOTAL, errors="ignore"))]
    return found
