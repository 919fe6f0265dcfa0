"""Results kept in memory (``core/recent.py``): a report written again draws only the charts
whose data changed, and a change anywhere in a chart's data draws it again."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from community_safety.core.recent import digest, remembered


def _counted():
    calls = []

    @remembered(size=2)
    def chart(areas, labels, segment):
        calls.append(segment)
        return f"chart of segment {segment} over {len(areas)} areas".encode()
    return chart, calls


def _areas():
    return gpd.GeoDataFrame({"segment": [1, 2]}, index=["E00000001", "E00000002"],
                            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:27700")


def test_the_same_data_give_the_kept_result_without_drawing_again():
    chart, calls = _counted()
    first = chart(_areas(), {"a": "Age 65+"}, 3)
    assert chart(_areas(), {"a": "Age 65+"}, 3) is first
    assert calls == [3]


def test_any_change_in_the_data_draws_again():
    chart, calls = _counted()
    areas = _areas()
    chart(areas, {"a": "Age 65+"}, 3)
    moved = areas.copy()
    moved.geometry = [box(0, 0, 1, 1), box(1, 0, 2, 2)]  # one area's shape
    recoded = areas.assign(segment=[1, 3])  # one area's segment
    renamed = areas.rename(index={"E00000002": "E00000009"})  # one area's code
    for changed in ((moved, {"a": "Age 65+"}, 3), (recoded, {"a": "Age 65+"}, 3),
                    (renamed, {"a": "Age 65+"}, 3), (areas, {"a": "Aged 65+"}, 3),
                    (areas, {"a": "Age 65+"}, 4)):
        chart(*changed)
    assert len(calls) == 6


def test_only_the_last_results_are_kept():
    chart, calls = _counted()
    for segment in (1, 2, 3, 1):
        chart(_areas(), {}, segment)
    assert calls == [1, 2, 3, 1]  # 1 had been let go when 3 came


def test_digest_tells_tables_apart_by_values_labels_and_order():
    table = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0]}, index=["a", "b"])
    seen = {digest(t) for t in (
        table, table.rename(columns={"y": "z"}), table.iloc[::-1], table.assign(x=[1.0, 2.5]),
        table["x"], np.array([1.0, 2.0]), np.array([1, 2]))}
    assert len(seen) == 7
    assert digest(table) == digest(table.copy())
