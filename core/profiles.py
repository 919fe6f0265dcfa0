"""Profile each segment: sizes, means, index scores, bands, pen portraits.

- **Index score**: segment mean / study-area mean x 100, so 100 is average. Means are over
  areas (each output area counts once), in the variable's original units.
- **Band** (the stated rule): index >= ``high`` (default 120) is *high*, index <= ``low``
  (default 80) is *low*, anything between is *medium*; a variable whose study-area mean is
  0 has no index and no band.
- **Numbering**: segments are numbered 1..k from least to most deprived by the mean of the
  deprivation measure over their areas. With ``more_deprived = "lower"`` (a rank such as
  IMD, where 1 is the most deprived) the highest mean rank is segment 1.
- **Pen portrait**: generated from the strongest bands; the project file may replace any
  segment's name and portrait.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError

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


def profile_table(
    values: pd.DataFrame, segments: pd.Series, clustered, rule: BandRule = BandRule()
) -> pd.DataFrame:
    """Long table: segment, variable, clustered, mean, median, study_area_mean, index, band."""
    values = values.loc[segments.index]
    study_mean = values.mean()
    grouped = values.groupby(segments.to_numpy())
    means, medians = grouped.mean(), grouped.median()
    rows = []
    for segment in means.index:
        index = (means.loc[segment] / study_mean.where(study_mean != 0) * 100).astype(float)
        rows.append(pd.DataFrame({
            "segment": int(segment),
            "variable": values.columns,
            "clustered": [v in set(clustered) for v in values.columns],
            "mean": means.loc[segment].to_numpy(),
            "median": medians.loc[segment].to_numpy(),
            "study_area_mean": study_mean.to_numpy(),
            "index": index.round(1).to_numpy(),
            "band": rule.band(index).to_numpy(),
        }))
    return pd.concat(rows, ignore_index=True)


def _phrase(rows: pd.DataFrame, labels: dict) -> str:
    return ", ".join(f"{labels.get(v, v).lower()} (index {i:.0f})"
                     for v, i in zip(rows["variable"], rows["index"]))


def pen_portraits(profiles: pd.DataFrame, summary: pd.DataFrame, labels: dict,
                  short_labels: dict) -> pd.DataFrame:
    """A generated name and portrait per segment from its strongest high and low bands."""
    out, taken = [], set()
    for segment, rows in profiles[profiles["clustered"]].groupby("segment"):
        highs = rows[rows["band"] == HIGH].sort_values("index", ascending=False)
        lows = rows[rows["band"] == LOW].sort_values("index")
        size = summary.loc[segment]
        name = _unique_name(list(highs["variable"]), short_labels, taken, int(segment))
        text = (f"Segment {segment}: {int(size['areas'])} output areas "
                f"({size['share_of_areas']:.1f}% of the study area)")
        if "residents" in size and pd.notna(size["residents"]):
            text += f", {int(size['residents']):,} residents"
        text += ". "
        if len(highs):
            text += f"More than average: {_phrase(highs.head(4), labels)}. "
        if len(lows):
            text += f"Less than average: {_phrase(lows.head(3), labels)}. "
        if not len(highs) and not len(lows):
            text += "No variable is far from the study-area average. "
        out.append({"segment": int(segment), "name": name, "portrait": text.strip()})
    return pd.DataFrame(out).set_index("segment")


def _unique_name(highs: list, short_labels: dict, taken: set, segment: int) -> str:
    """'High a & b' from the strongest bands; a third variable, then the number, tells apart
    segments whose first two are the same."""
    name = "Close to the study-area average"
    for count in (2, 3):
        if highs:
            name = "High " + " & ".join(short_labels.get(v, v) for v in highs[:count])
        if name not in taken:
            break
    if name in taken:
        name = f"{name} ({segment})"
    taken.add(name)
    return name


def segment_summary(segments: pd.Series, sizes: pd.DataFrame, deprivation: pd.Series,
                    distance: pd.Series) -> pd.DataFrame:
    """Per segment: areas, share, residents and households where known, mean deprivation,
    mean distance to the centre."""
    frame = pd.DataFrame({"segment": segments, "distance": distance,
                          "deprivation": deprivation}).join(sizes)
    grouped = frame.groupby("segment")
    summary = pd.DataFrame({"areas": grouped.size()})
    summary["share_of_areas"] = (100 * summary["areas"] / summary["areas"].sum()).round(2)
    for column in sizes.columns:
        summary[column] = grouped[column].sum(min_count=1)
    summary["mean_deprivation"] = grouped["deprivation"].mean().round(1)
    summary["mean_distance"] = grouped["distance"].mean().round(4)
    summary.index = summary.index.astype(int)
    return summary
