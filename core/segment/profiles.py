"""Profile each segment: sizes, means, index scores, bands, pen portraits.

- **Index score**: segment mean / study-area mean x 100, so 100 is average. Means are over
  areas (each output area counts once), in the variable's original units.
- **Band** (the stated rule, on the index as shown, to one decimal place): index >=
  ``high`` (default 120) is *high*, index <= ``low`` (default 80) is *low*, anything between
  is *medium*; a variable whose study-area mean is 0 has no index and no band.
- **Numbering**: segments are numbered 1..k from least to most deprived by the mean of the
  deprivation measure over their areas. With ``more_deprived = "lower"`` (a rank such as
  IMD, where 1 is the most deprived) the highest mean rank is segment 1.
- **Standardised difference**: (segment mean - study-area mean) / study-area standard
  deviation over areas (``difference``, with ``study_area_sd``).
- **Names and pen portraits**: in words, from the variables most distinctive *and* largest
  for the segment, by theme (see ``portraits``); the project file may replace any segment's
  name and portrait.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..project.rules import BandRule
from .portraits import segment_texts


def number_by_deprivation(
    labels: np.ndarray, deprivation: pd.Series, more_deprived: str = "lower"
) -> dict[int, int]:
    """Map raw cluster labels to segment numbers 1..k, least deprived first."""
    if more_deprived not in ("lower", "higher"):
        raise InputError(f"deprivation: more_deprived must be 'lower' or 'higher', "
                         f"not '{more_deprived}'")
    if deprivation.isna().all():
        raise InputError("deprivation: the measure has no values for the areas")
    means = pd.Series(deprivation.to_numpy(), index=labels).groupby(level=0).mean()
    # least deprived first: highest rank when lower is worse, lowest score when higher is worse
    order = means.sort_values(ascending=(more_deprived == "higher"), kind="stable").index
    return {int(label): number for number, label in enumerate(order, start=1)}


DEFAULT_BANDS = BandRule()


def profile_table(
    values: pd.DataFrame, segments: pd.Series, clustered, rule: BandRule = DEFAULT_BANDS
) -> pd.DataFrame:
    """Long table: segment, variable, clustered, mean, median, study_area_mean, index, band,
    study_area_sd, difference (standardised)."""
    values = values.loc[segments.index]
    study_mean = values.mean()
    study_sd = values.std()
    grouped = values.groupby(segments.to_numpy())
    means, medians = grouped.mean(), grouped.median()
    rows = []
    for segment in means.index:
        # the band follows the index as the table shows it (one decimal place)
        index = (means.loc[segment] / study_mean.where(study_mean != 0) * 100).astype(float)
        index = index.round(1)
        rows.append(pd.DataFrame({
            "segment": int(segment),
            "variable": values.columns,
            "clustered": [v in set(clustered) for v in values.columns],
            "mean": means.loc[segment].to_numpy(),
            "median": medians.loc[segment].to_numpy(),
            "study_area_mean": study_mean.to_numpy(),
            "index": index.to_numpy(),
            "band": rule.band(index).to_numpy(),
            "study_area_sd": study_sd.to_numpy(),
            "difference": ((means.loc[segment] - study_mean)
                           / study_sd.where(study_sd > 0)).astype(float).round(2).to_numpy(),
        }))
    return pd.concat(rows, ignore_index=True)


def pen_portraits(profiles: pd.DataFrame, summary: pd.DataFrame, labels: dict,
                  themes: dict | None = None, area: str = "the whole area",
                  sizes=(), tables: dict | None = None) -> pd.DataFrame:
    """A name and a pen portrait in words per segment (index: segment; columns name,
    portrait). ``labels``: variable -> description; ``themes``: variable -> theme, where the
    labels file gives one (otherwise from the vocabulary). Names are made from the labels,
    never from column names; ``sizes``, the residents and households columns, never
    describe a segment; ``tables``: each variable's table (title, who it counts), which
    says a census category label the vocabulary does not know ("terraced homes")."""
    texts, _ = segment_texts(profiles, summary, labels, themes, area=area, sizes=sizes,
                             tables=tables)
    return texts


def segment_summary(segments: pd.Series, sizes: pd.DataFrame, deprivation: pd.Series,
                    distance: pd.Series, by_deprivation: bool = True) -> pd.DataFrame:
    """Per segment: areas, share, residents and households where known, mean deprivation
    (``mean_deprivation``; ``mean_numbering_score`` when the numbering measure is not one of
    deprivation), mean distance to the centre."""
    frame = pd.DataFrame({"segment": segments, "distance": distance,
                          "deprivation": deprivation}).join(sizes)
    grouped = frame.groupby("segment")
    summary = pd.DataFrame({"areas": grouped.size()})
    summary["share_of_areas"] = (100 * summary["areas"] / summary["areas"].sum()).round(2)
    for column in sizes.columns:
        summary[column] = grouped[column].sum(min_count=1)
    measure = "mean_deprivation" if by_deprivation else "mean_numbering_score"
    summary[measure] = grouped["deprivation"].mean().round(1 if by_deprivation else 3)
    summary["mean_distance"] = grouped["distance"].mean().round(4)
    summary.index = summary.index.astype(int)
    return summary
