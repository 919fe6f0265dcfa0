"""The rules a project may set for screening the variables and for banding index scores
(high / medium / low), with the method's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

HIGH, MEDIUM, LOW = "high", "medium", "low"


@dataclass(frozen=True)
class BandRule:
    high: float = 120.0
    low: float = 80.0

    def band(self, index: pd.Series) -> pd.Series:
        bands = pd.Series(MEDIUM, index=index.index, dtype=object)
        bands[index >= self.high] = HIGH
        bands[index <= self.low] = LOW
        bands[index.isna()] = ""
        return bands


@dataclass(frozen=True)
class ScreeningRules:
    threshold: float = 0.8
    min_distinct: int = 5
    min_range: float = 0.0
    force_in: tuple = ()
    force_out: tuple = ()
