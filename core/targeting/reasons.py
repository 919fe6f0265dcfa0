"""Why an address is on the visit list or not: the exclusion reasons, the priority
bands, and each chosen address's reasons in words, from the figures on its row.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..segment.words import counted

# exclusion reasons, in the order they are tested
NOT_CLASSIFIED = "area not classified"
OPTED_OUT = "opted out"
NON_RESIDENTIAL = "non-residential"
VISITED = "visited recently"
OUTSIDE_WARDS = "outside the chosen wards"
OUTSIDE_SEGMENTS = "outside the chosen segments"
EXCLUDING_FLAGS = {"opted_out": OPTED_OUT, "non_residential": NON_RESIDENTIAL}

PRIORITIES = {1: "very high (3x the borough rate or more)", 2: "high (2x to 3x)",
              3: "raised (1.5x to 2x)", 4: "other chosen (under 1.5x)"}
PRIORITY_LIMITS = (3.0, 2.0, 1.5)


def flag_words(name: str) -> str:
    return re.sub(r"[_\s]+", " ", name).strip()


def times(ratio: float) -> str:
    """A ratio to the borough's rate as a crew reads it: "2.3x"; under 0.1 with two
    decimals ("0.04x", not "0.0x", which reads as none)."""
    return f"{ratio:.2f}x" if 0 < ratio < 0.095 else f"{ratio:.1f}x"


def explain(chosen: pd.DataFrame, window: str, area: bool = True,
            segment_names: dict | None = None, unit: str = "household") -> list[str]:
    """One sentence per chosen address from its figures, in a crew manager's words: its
    output area's own fires and rate per household against the borough's, and the rate that
    ranks it (its own count steadied toward its segment's: "expected"), or, for an area
    without fires of its own, that it is listed for its segment's rate; its segment (by
    name, from ``segment_names``, where it has one) and the segment's fire rate, the last
    visit, flags with weights. ``unit``: what the rate is per ("address" where the
    segmentation has no households and each address counts as one). ``area=False``: the
    visit and flags only (the risk model gives the rest)."""
    texts = []
    period = f"in {window}" if window else "in the incident history"
    segment_names = segment_names or {}
    for row in chosen.itertuples(index=False):
        parts = []
        if area:
            # its name in quotation marks: any of its own become single ones
            name = re.sub(r'["“”]', "'", segment_names.get(int(row.segment), ""))
            parts += [area_words(row.area_fires, row.own_ratio, row.area_ratio, period, unit),
                      f"segment {int(row.segment)}{f' “{name}”' if name else ''} "
                      f"({times(row.segment_ratio)} the borough's fire rate)"]
        if pd.isna(row.last_visit):
            parts.append("no visit on record")
        else:
            parts.append(f"not visited since {row.last_visit:%b %Y}")
        if row.flags:
            parts.append("flag: " + ", ".join(
                f"{flag_words(f)} (x{w:g})" for f, w in zip(row.flags.split(";"),
                                                         row.flag_weights)))
        texts.append(", ".join(parts))
    return texts


def area_words(fires: float, own_ratio: float, expected_ratio: float, period: str,
               unit: str = "household") -> str:
    """The output area's part of a reason: its own fires and own rate against the
    borough's, and its expected rate (its own steadied toward its segment's); an area with
    no fires of its own is said to be listed for its segment's rate, never given a rate of
    its own it does not have."""
    fires = int(fires)
    expected = times(expected_ratio)
    if fires == 0:
        return (f"no fires of its own {period}: listed for its segment's rate (expected "
                f"{expected} the borough's rate per {unit})")
    if np.isfinite(own_ratio):
        rates = (f"its own rate {times(own_ratio)} the borough's per {unit}; expected "
                 f"{expected}")
    else:  # fires in an area without households: no rate of its own
        rates = f"expected {expected} the borough's rate per {unit}"
    return (f"{counted(fires, 'fires')} in this output area {period} ({rates}, allowing for "
            "chance in a small area)")


def priority(ratio: np.ndarray) -> np.ndarray:
    """1 (very high) .. 4 from the address's expected fires per household over the
    borough's rate."""
    out = np.full(len(ratio), 4, dtype=int)
    for level, limit in zip((3, 2, 1), reversed(PRIORITY_LIMITS)):
        out[ratio >= limit] = level
    return out
