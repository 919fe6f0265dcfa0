"""New or updated areas assigned to the segments of a saved segmentation, without
renumbering them: each area to its nearest centre (and sub-segment).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .build import Segmentation
from .kmeans import assign_to_centres, distance_to_centres
from .prepare import winsorise
from .screening import too_little_data


def assign_areas(segmentation: Segmentation, values: pd.DataFrame) -> pd.DataFrame:
    """Existing segments for new or updated areas: nearest centre, same numbering.

    Missing values take the saved fill values (the study area's medians at build time); an
    area with no value of its own in more than half of the clustering variables is left
    unclassified (segment missing), as the build leaves it (``too_little_data``).
    """
    absent = [v for v in segmentation.clustered if v not in values.columns]
    if absent:
        raise InputError(f"the new data lack the segmentation's variable(s): {', '.join(absent)}")
    frame = values[segmentation.clustered].astype(float)
    empty = too_little_data(frame)
    values, frame = values[~empty], frame[~empty]
    frame = frame.fillna(segmentation.fill_values[segmentation.clustered])
    X = segmentation.standardiser.transform(frame).to_numpy()
    X = winsorise(X, float(segmentation.manifest.get("parameters", {}).get("winsorise", 0)))
    centres = segmentation.centres[segmentation.clustered].to_numpy()
    nearest = assign_to_centres(X, centres)
    numbers = segmentation.centres.index.to_numpy()[nearest]
    out = pd.DataFrame({"segment": numbers}, index=values.index)
    out["segment_name"] = out["segment"].map(segmentation.summary["name"])
    out["distance"] = distance_to_centres(X, centres, nearest).round(6)
    if len(segmentation.subcentres):
        sub = pd.Series("", index=values.index, dtype=object)
        for number in np.unique(numbers):
            mask = numbers == number
            own = segmentation.subcentres[segmentation.subcentres["segment"] == number]
            pick = assign_to_centres(X[mask], own[segmentation.clustered].to_numpy())
            sub[mask] = own.index.to_numpy()[pick]
        out["subsegment"] = sub
    left = pd.DataFrame({"segment": pd.array([pd.NA] * int(empty.sum()), dtype="Int64"),
                         "segment_name": "", "distance": np.nan}, index=empty.index[empty])
    if "subsegment" in out:
        left["subsegment"] = ""
    out = out.astype({"segment": "Int64"})
    return pd.concat([out, left]).reindex(empty.index) if len(left) else out
