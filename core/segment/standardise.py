"""Put the clustering variables on one scale.

- ``zscore`` (default): (x - mean) / standard deviation (population, ddof = 0);
- ``range``: (x - min) / (max - min), so 0..1 over the study area;
- ``ihs_range``: inverse hyperbolic sine, then range: the UK Output Area Classification
  recipe, which tames long right tails.

The parameters learned on the study area are kept, so new or updated areas are put on the
same scale when they are assigned to existing segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

METHODS = ("zscore", "range", "ihs_range")


@dataclass
class Standardiser:
    method: str
    centre: pd.Series  # subtracted
    scale: pd.Series  # divided by

    def transform(self, values: pd.DataFrame) -> pd.DataFrame:
        frame = values[self.centre.index]
        if self.method == "ihs_range":
            frame = np.arcsinh(frame)
        return (frame - self.centre) / self.scale

    def to_table(self) -> pd.DataFrame:
        return pd.DataFrame({"variable": self.centre.index, "method": self.method,
                             "centre": self.centre.to_numpy(), "scale": self.scale.to_numpy()})

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Standardiser:
        table = table.set_index("variable")
        return cls(str(table["method"].iloc[0]), table["centre"], table["scale"])


def fit_standardiser(values: pd.DataFrame, method: str = "zscore") -> Standardiser:
    if method not in METHODS:
        raise InputError(f"standardisation '{method}' is not one of: {', '.join(METHODS)}")
    frame = np.arcsinh(values) if method == "ihs_range" else values
    if method == "zscore":
        centre, scale = frame.mean(), frame.std(ddof=0)
    else:
        centre, scale = frame.min(), frame.max() - frame.min()
    flat = scale.index[~(scale > 0)].tolist()
    if flat:
        raise InputError(f"variable(s) {', '.join(flat)} are constant: they cannot be scaled")
    return Standardiser(method, centre, scale)
