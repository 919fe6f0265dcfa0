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


def screening_with_notes(screening: pd.DataFrame, notes: pd.DataFrame) -> pd.DataFrame:
    """The screening table with a count of the cells that were not numbers (left missing)
    per variable, and a row for every column not used, with its reason and rows."""
    counts = notes.groupby("variable")["cells_not_numbers"].sum()
    out = screening.assign(cells_not_numbers=screening["variable"].map(counts).fillna(0)
                           .astype(int))
    unused = notes[notes["reason"] != ""]
    unused = unused[~unused["variable"].isin(out["variable"])]
    extra = pd.DataFrame({"variable": unused["variable"], "kept": False,
                          "reason": unused["source"] + ": " + unused["reason"],
                          "correlated_with": "", "r": np.nan, "cells_not_numbers": 0})
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
    candidates = candidates.drop(columns=[c for c in (project.deprivation, project.residents,
                                                      project.households) if c],
                                 errors="ignore")
    if candidates.empty:
        raise InputError(f"{project.path.name}: the tables hold no candidate variables")
    progress(0.92, f"screening {candidates.shape[1]} variables")
    labels = _labels(project)
    screening = screening_with_notes(screen(candidates, project.screening, labels),
                                     data.column_notes)
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
    return Prepared(data, screening, clustered, filled, missing, standardiser, X, clipped)
