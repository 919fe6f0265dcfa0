"""Screen the candidate variables, and apply the missing-value policy.

The method's rules, each decision with its reason:

1. forced out by the user: dropped;
2. constant, binary (two distinct values or fewer), fewer than ``min_distinct`` distinct
   values, or a range (max - min) below ``min_range`` in the variable's own units: dropped,
   unless forced in;
3. correlated pairs: pairs are taken from the strongest |Pearson r| down; for each pair above
   ``threshold`` whose members are both still in, one is dropped: a member forced in is kept;
   otherwise the one with the higher mean |r| to all other candidates (the more redundant)
   goes, and on a tie the one listed later. Pairs whose members are both forced in stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..project.rules import ScreeningRules

KEPT = "kept"


DEFAULT_RULES = ScreeningRules()


def screen(values: pd.DataFrame, rules: ScreeningRules = DEFAULT_RULES,
           labels: dict | None = None, constant_counts: dict | None = None) -> pd.DataFrame:
    """One row per candidate variable: kept (bool), reason, correlated_with, r; with
    ``labels`` (variable -> description), a reason names the other variable of a correlated
    pair by its description beside its code. ``constant_counts`` (variable -> reason):
    shares whose count is the same in every area, dropped as constants (the share varies
    only with the areas' size)."""
    constant_counts = constant_counts or {}
    unknown = [v for v in (*rules.force_in, *rules.force_out) if v not in values.columns]
    if unknown:
        raise InputError(
            f"screening: forced variable(s) {', '.join(unknown)} are not among the "
            f"candidates ({', '.join(values.columns)})"
        )
    both = set(rules.force_in) & set(rules.force_out)
    if both:
        raise InputError(f"screening: {', '.join(sorted(both))} forced both in and out")

    decisions = pd.DataFrame(
        {"kept": True, "reason": KEPT, "correlated_with": "", "r": np.nan},
        index=pd.Index(values.columns, name="variable"),
    )

    def drop(variable: str, reason: str) -> None:
        decisions.loc[variable, ["kept", "reason"]] = [False, reason]

    for variable in values.columns:
        column = values[variable].dropna()
        distinct = column.nunique()
        spread = float(column.max() - column.min()) if len(column) else 0.0
        if variable in rules.force_out:
            drop(variable, "forced out by the user")
        elif variable in rules.force_in:
            decisions.loc[variable, "reason"] = "forced in by the user"
        elif distinct <= 1:
            drop(variable, "constant")
        elif variable in constant_counts:
            drop(variable, constant_counts[variable])
        elif distinct == 2:
            drop(variable, "binary (two distinct values)")
        elif distinct < rules.min_distinct:
            drop(variable, f"only {distinct} distinct values (minimum {rules.min_distinct})")
        elif spread < rules.min_range:
            drop(variable, f"range {spread:.4g} below the minimum {rules.min_range:g}")

    candidates = [v for v in values.columns if decisions.loc[v, "kept"]]
    if len(candidates) > 1:
        matrix = values[candidates].corr(method="pearson").abs().to_numpy(copy=True)
        np.fill_diagonal(matrix, np.nan)
        corr = pd.DataFrame(matrix, index=candidates, columns=candidates)
        redundancy = corr.mean(axis=1, skipna=True)
        order = {v: i for i, v in enumerate(candidates)}
        pairs = corr.where(np.triu(np.ones(corr.shape, dtype=bool), k=1)).stack()
        pairs = pairs[pairs > rules.threshold].sort_values(ascending=False, kind="stable")
        for (a, b), r in pairs.items():
            if not (decisions.loc[a, "kept"] and decisions.loc[b, "kept"]):
                continue
            forced_a, forced_b = a in rules.force_in, b in rules.force_in
            if forced_a and forced_b:
                continue
            if forced_a or forced_b:
                loser = b if forced_a else a
            elif not np.isclose(redundancy[a], redundancy[b]):
                loser = a if redundancy[a] > redundancy[b] else b
            else:
                loser = a if order[a] > order[b] else b
            winner = b if loser == a else a
            signed = float(values[a].corr(values[b]))
            drop(loser, f"|r| = {r:.3f} with {described(winner, labels or {})}, threshold "
                        f"{rules.threshold:g}")
            decisions.loc[loser, ["correlated_with", "r"]] = [winner, round(signed, 4)]
    return decisions.reset_index()


def described(variable: str, labels: dict) -> str:
    """A variable named in a sentence: its description and its code, or its code alone
    where it has no description."""
    label = labels.get(variable)
    return (f"“{label.strip()}” ({variable})" if isinstance(label, str) and label.strip()
            and label.strip() != variable else variable)


def kept_variables(decisions: pd.DataFrame) -> list[str]:
    return decisions.loc[decisions["kept"], "variable"].tolist()


@dataclass
class MissingReport:
    policy: str
    imputed: pd.Series  # variable -> cells filled
    dropped_areas: list  # area codes left out of the clustering
    # area code -> how many of the clustering variables it has no value of its own in
    missing_counts: pd.Series = field(default_factory=lambda: pd.Series(dtype=int))


def too_little_data(frame: pd.DataFrame) -> pd.Series:
    """The areas (True) that have no value of their own in more than half of the clustering
    variables (the columns of ``frame``): filled with the medians, they would be placed in a
    segment mostly on the study area's averages, not on evidence of their own (e.g. 2011
    output areas with 2021 census tables and one partner table keyed by 2011 codes). The
    one rule of who is left unclassified under the ``median`` policy: the build and the
    assignment of new data both use it."""
    missing = frame.isna().sum(axis=1)
    return missing * 2 > frame.shape[1]


def apply_missing_policy(
    values: pd.DataFrame, variables: Sequence[str], policy: str = "median"
) -> tuple[pd.DataFrame, MissingReport]:
    """Fill or drop missing values of the clustering variables.

    ``median``: each missing cell takes its variable's median over the study area; an area
    with no value of its own in more than half of the clustering variables
    (``too_little_data``: e.g. an output area of another census's vintage, in none of the
    census tables) is left unclassified: the medians would place it in a segment on little
    or no evidence;
    ``drop``: areas with any missing clustering variable are left unclassified.
    """
    frame = values[list(variables)]
    missing = frame.isna()
    counts = missing.sum(axis=1)
    if policy == "median":
        all_missing = [v for v in variables if missing[v].all()]
        if all_missing:
            raise InputError(f"variable(s) {', '.join(all_missing)} have no values at all")
        sparse = too_little_data(frame)
        kept = frame[~sparse]  # the medians of the areas classified
        filled = kept.fillna(kept.median())
        return filled, MissingReport(policy, missing[~sparse].sum(),
                                     frame.index[sparse].tolist(), counts[sparse])
    if policy == "drop":
        incomplete = missing.any(axis=1)
        return frame[~incomplete], MissingReport(
            policy, pd.Series(0, index=list(variables)), frame.index[incomplete].tolist(),
            counts[incomplete]
        )
    raise InputError(f"missing-value policy '{policy}' is not one of: median, drop")
