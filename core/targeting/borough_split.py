"""Which backtest the lookup allows: leave one borough out, or a time split, and why.

Leave-one-borough-out needs boroughs: the lookup's **last** column (the largest areas,
as the README says) when it really holds boroughs: its name says so (borough, district,
LAD, local authority) or its values are local authority codes (E06, E07, E08, E09, W06,
S12, N09 and a six-digit number). Small-area codes (output areas, LSOAs, MSOAs: E00,
E01, E02, W00...; data zones S00, S01, S02) are never boroughs, whatever the column's name:
leaving out one LSOA at a time is no test of a service-wide model. Anything else, or one
borough only, is a time split; ``borough_split`` says which, and why, in a sentence.
"""

from __future__ import annotations

import re

import numpy as np

BOROUGH_NAME = re.compile(r"borough|district|local[ _-]?authorit|(^|[^a-z])lad|"
                          r"^la(_|\d|cd|nm|name|code)", re.IGNORECASE)
BOROUGH_CODE = re.compile(r"^(E0[6-9]|W06|S12|N09)\d{6}$")
SMALL_AREA_CODE = re.compile(r"^(E0[0-2]|W0[0-2]|S0[0-2])\d{6}$")


def _share(values: np.ndarray, pattern: re.Pattern) -> float:
    texts = [str(v).strip() for v in values]
    return sum(bool(pattern.match(t)) for t in texts) / max(len(texts), 1)


def holds_boroughs(name: str, values: np.ndarray) -> tuple[bool, str]:
    """Whether a lookup column (its ``name`` and each area's value) holds boroughs, and
    what it holds in words."""
    if _share(values, SMALL_AREA_CODE) > 0.5:
        return False, "small-area codes (output areas, LSOAs or MSOAs), not boroughs"
    if _share(values, BOROUGH_CODE) > 0.5:
        return True, "local authority codes"
    if BOROUGH_NAME.search(str(name)):
        return True, "boroughs (by its name)"
    return False, "areas its name and codes do not show to be boroughs"


def borough_split(lookup_columns: dict) -> tuple[str | None, str]:
    """The lookup column whose boroughs are left out in turn (None: a time split), and the
    reason in a sentence. ``lookup_columns``: the lookup's columns in the file's order
    (name -> each area's value; ``risk_study.read_lookup``)."""
    if not lookup_columns:
        return None, ("time split: no lookup of boroughs given (--lookup), so the whole "
                      "study area is tested on the fires after the cut-off")
    name = list(lookup_columns)[-1]
    values = np.asarray(lookup_columns[name])
    boroughs, what = holds_boroughs(name, values)
    distinct = len(set(values.tolist()))
    if not boroughs:
        return None, (f"time split: the lookup's last column, {name}, holds {what}, so the "
                      "whole study area is tested on the fires after the cut-off")
    if distinct < 2:
        return None, (f"time split: the lookup's last column, {name}, holds one borough "
                      f"({values[0]}), so it is tested on the fires after the cut-off")
    return name, (f"leave one borough out: the lookup's last column, {name}, holds "
                  f"{distinct:,} boroughs; each is scored by a model fitted on the others")
