"""The matrix k-means runs on, prepared from the areas' data: the variables screened, the
missing values filled, standardised and (where the project says) winsorised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..progress import Progress, scaled, silent
from ..project.project_file import Project
from .area_data import AreaData, gather_area_data
from .labels import _labels
from .screening import apply_missing_policy, kept_variables, screen
from .standardise import Standardiser, fit_standardiser
from .words import with_descriptions


@dataclass
class Prepared:
    """The standardised matrix the clustering runs on, and how it was made."""

    data: AreaData
    screening: pd.DataFrame
    clustered: list
    filled: pd.DataFrame  # clustering variables after the missing-value policy
    missing: object  # MissingReport
    standardiser: Standardiser
    X: np.ndarray
    # extreme values clipped (winsorise): area_code, variable, value, clipped_to
    clipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["area_code", "variable", "standardised_value", "clipped_to"]))
    # columns a table lists as variables that the project uses otherwise (the deprivation
    # measure, the residents or households count): variable -> why it is not clustered
    set_aside: dict = field(default_factory=dict)


SET_ASIDE = {
    "deprivation": "the deprivation measure: it numbers the segments (least to most "
                   "deprived), so it is not clustered; its mean is in each segment's profile",
    "residents": "the residents count: it says how many live in an area, not who, so it is "
                 "not clustered",
    "households": "the households count: it says how many households an area has, not who, "
                  "so it is not clustered",
}


def not_a_candidate(reason: str) -> bool:
    """A screening row of a column that was never a candidate variable (a text column not
    used, or a column set aside for its role): nothing to force in or out."""
    return ": not used" in str(reason) or str(reason) in SET_ASIDE.values()


def set_aside(project: Project, candidates: pd.DataFrame) -> dict[str, str]:
    """The project's deprivation, residents and households columns among the candidate
    variables (a table lists them, or lists no variables so that every column is one):
    each with why it is not clustered, for the screening table; the design numbers the
    segments by deprivation and sizes them by residents and households, never clusters
    on them."""
    roles = {"deprivation": project.deprivation, "residents": project.residents,
             "households": project.households}
    return {column: SET_ASIDE[role] for role, column in roles.items()
            if column and column in candidates.columns}


def listed_as_variables(project: Project, columns) -> list[str]:
    """Those of ``columns`` a table names under ``variables`` (the user asked to cluster
    them): said on the console when they are not clustered."""
    named = {v for spec in project.tables for v in (spec.variables or ())}
    return [c for c in columns if c in named]


def winsorise(X: np.ndarray, bound: float) -> np.ndarray:
    """Standardised values clipped to ±bound (nothing when the bound is 0)."""
    return np.clip(X, -bound, bound) if bound > 0 else X


def clipped_cells(X: np.ndarray, bound: float, areas: pd.Index, variables: list
                  ) -> pd.DataFrame:
    """Which cells winsorising changes, for the report."""
    rows, cols = np.nonzero(np.abs(X) > bound) if bound > 0 else ((), ())
    return pd.DataFrame({"area_code": areas[list(rows)],
                         "variable": [variables[c] for c in cols],
                         "standardised_value": X[list(rows), list(cols)].round(4),
                         "clipped_to": np.sign(X[list(rows), list(cols)]) * bound})


def screening_with_notes(screening: pd.DataFrame, notes: pd.DataFrame,
                         aside: dict | None = None) -> pd.DataFrame:
    """The screening table with a count of the cells that were not numbers (left missing)
    per variable, a row for every column not used, with its reason and rows, and a row for
    each column set aside (``set_aside``) with why."""
    counts = notes.groupby("variable")["cells_not_numbers"].sum()
    out = screening.assign(cells_not_numbers=screening["variable"].map(counts).fillna(0)
                           .astype(int))
    unused = notes[notes["reason"] != ""]
    unused = unused[~unused["variable"].isin(out["variable"])]
    extra = pd.DataFrame({"variable": unused["variable"], "kept": False,
                          "reason": unused["source"] + ": " + unused["reason"],
                          "correlated_with": "", "r": np.nan, "cells_not_numbers": 0})
    aside = pd.DataFrame({"variable": list(aside or {}), "kept": False,
                          "reason": list((aside or {}).values()), "correlated_with": "",
                          "r": np.nan, "cells_not_numbers": [int(counts.get(v, 0))
                                                             for v in aside or {}]})
    extra = pd.concat([frame for frame in (aside, extra) if len(frame)], ignore_index=True
                      ) if len(aside) or len(extra) else extra
    return pd.concat([out, extra], ignore_index=True) if len(extra) else out


def prepare(project: Project, progress: Progress = silent, data: AreaData | None = None
            ) -> Prepared:
    """Ingest (unless ``data`` is given), screen, apply the missing-value policy and
    standardise."""
    data = data or gather_area_data(project, scaled(progress, 0.0, 0.9))
    values = data.values
    for role, column in (("deprivation", project.deprivation), ("residents", project.residents),
                         ("households", project.households)):
        if column is not None and column not in values.columns:
            raise InputError(f"{project.path.name}: {role} column '{column}' is in none of the "
                             "tables")
    candidates = values.drop(columns=[c for c in data.context if c in values.columns])
    # the residents and households columns say how many live in an area, not who: never
    # clustered, context or not (a wizard's table kept for its households count listed it)
    aside = set_aside(project, candidates)
    candidates = candidates.drop(columns=list(aside))
    if candidates.empty:
        raise InputError(f"{project.path.name}: the tables hold no candidate variables")
    progress(0.92, f"screening {candidates.shape[1]} variables")
    labels = _labels(project)
    screening = screening_with_notes(screen(candidates, project.screening, labels,
                                            data.constant_counts),
                                     data.column_notes, aside)
    if labels:  # each variable's description beside its code
        screening = with_descriptions(screening, labels)
    clustered = kept_variables(screening)
    if not clustered:
        raise InputError("screening left no variable to cluster on")
    filled, missing = apply_missing_policy(values, clustered, project.missing)
    standardiser = fit_standardiser(filled, project.standardise)
    X = np.ascontiguousarray(standardiser.transform(filled).to_numpy())  # rows: as k-means
    clipped = clipped_cells(X, project.winsorise, filled.index, clustered)
    X = winsorise(X, project.winsorise)
    progress(1.0, "variables standardised")
    return Prepared(data, screening, clustered, filled, missing, standardiser, X, clipped,
                    aside)
