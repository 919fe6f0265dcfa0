"""Figures for people: numbers rounded once, from the full value, and thousands
separated; every count with the period it covers and every rate with its unit and period
("per 1,000 households a year (average, Jan 2009 – Aug 2024)").

A rate is given per year only where the period is known and at least a year long (a
month's count times twelve would claim a year nobody observed); a shorter period's rate is
the rate over that period, and a rate whose period is not known says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..places.steps import stored_period
from ..share.suppression import SUPPRESSED

UNKNOWN = "period not known"


def number(value, decimals: int = 0) -> str:
    """A count or figure for people: thousands separated; suppressed (missing) as '*'."""
    if value is None or pd.isna(value):
        return SUPPRESSED
    return f"{float(value):,.{decimals}f}"


def percent(value, decimals: int = 1) -> str:
    """A percentage for people, without its sign, rounded once; never 0 for a share that
    is not 0, nor 100 for one that is not whole: "<0.1" and ">99.9" (one decimal place);
    suppressed (missing) as '*'."""
    if value is None or pd.isna(value):
        return SUPPRESSED
    value = float(value)
    step = 10.0 ** -decimals
    if 0 < value < step / 2:
        return f"<{step:.{decimals}f}"
    if 100 - step / 2 <= value < 100:
        return f">{100 - step:.{decimals}f}"
    return f"{value:,.{decimals}f}"


@dataclass(frozen=True)
class Period:
    label: str  # "Jan 2009 – Aug 2024"; "" when not known
    years: float | None  # its length (None when not known)

    @property
    def yearly(self) -> bool:
        """True when rates are shown per year (a known period of a year or more)."""
        return self.years is not None and self.years >= 1

    @property
    def words(self) -> str:
        return self.label or UNKNOWN

    def rate_unit(self, base: str) -> str:
        """"per 1,000 households a year (average, Jan 2009 – Aug 2024)", "per 1,000
        households in Jul 2019", or "per 1,000 households (period not known)"."""
        if self.yearly:
            return f"per 1,000 {base} a year (average, {self.label})"
        if self.label:
            return f"per 1,000 {base} in {self.label}"
        return f"per 1,000 {base} ({UNKNOWN})"

    def rate(self, value: float) -> float:
        """A rate over the whole period as the report shows it (per year where yearly)."""
        return value / self.years if self.yearly else value


def incident_period(about: dict | None) -> Period:
    """The period of an incident profile's source (``places.incident_about``): its label,
    and its length from its first and last days where they were stored."""
    return Period(*stored_period(about or None))
