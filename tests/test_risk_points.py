"""The features of postcode points (``risk_points``) on hand-made cases: each computed right
on three postcodes, no fire after the cut-off in any of them, and a borough left out of a
fit keeps its fires out of its neighbours' features; each postcode's catchment (the 50 m
grid points of its area that go to it) counted by hand, and fires placed by the same rule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import shapely

from community_safety.core.targeting.risk_features import (
    StudyAreas,
    feature_table,
    touching_pairs,
)
from community_safety.core.targeting.risk_model import fit_model
from community_safety.core.targeting.risk_points import (
    area_cells,
    catchment,
    nearest_of_own_area,
    point_features,
)
from community_safety.core.targeting.risk_postcodes import (
    POSTCODE_SETTINGS,
    fires_at_postcodes,
    postcode_study,
)

START, CUT = pd.Timestamp("2009-01-01"), pd.Timestamp("2019-12-31")


def three_postcodes():
    """P1 (0, 0) and P2 (40, 0) in area A, P3 (300, 0) in area B; a house fire at P1's
    point 1 year before the cut-off, a converted-flat fire 60 m east of P1 (20 m from P2)
    10 years before; none at P3."""
    points = np.array([[0.0, 0.0], [40.0, 0.0], [300.0, 0.0]])
    return dict(points=points, households=np.array([10.0, 10.0, 20.0]),
                area=np.array(["A", "A", "B"]),
                fire_points=np.array([[0.0, 0.0], [60.0, 0.0]]),
                fire_unit=np.array([0, 1]), ages=np.array([1.0, 10.0]),
                kinds=np.array(["house", "converted_flat"]),
                kind_names=["house", "converted_flat", "other"])


def test_each_point_feature_is_computed_right_on_three_postcodes():
    f = point_features(**three_postcodes())
    recent, old = 0.5 ** (1 / 10), 0.5 ** (10 / 10)  # decayed with a 10-year half-life
    # within 50 m: P1 has its own fire, P2 the old one (20 m) and P1's (40 m), P3 none
    assert f["near_50m_decayed_10y"] == pytest.approx([recent, recent + old, 0])
    assert f["near_100m_decayed_10y"] == pytest.approx([recent + old, recent + old, 0])
    assert f["near_50m_decayed_3y"] == pytest.approx([0.5 ** (1 / 3), 0.5 ** (1 / 3)
                                                      + 0.5 ** (10 / 3), 0])
    # the homes within 50 m: P1 and P2 (10 + 10); P3 alone (20)
    assert f["near_50m_rate_10y"] == pytest.approx([recent / 20, (recent + old) / 20, 0])
    assert f["postcodes_within_50m"].tolist() == [2, 2, 1]
    assert f["postcodes_within_200m"].tolist() == [2, 2, 1]
    assert f["nearest_fire_m"] == pytest.approx([0, 20, 240])
    assert f["nearest_fire_3y_m"] == pytest.approx([0, 40, 300])  # the old fire left out
    assert f["own_last_1y"].tolist() == [1, 0, 0]
    assert f["own_last_5y"].tolist() == [1, 0, 0]
    assert f["own_decayed_10y"] == pytest.approx([recent, old, 0])
    since = f["years_since_own_fire"]
    assert since[:2].tolist() == [1.0, 10.0] and np.isnan(since[2])  # no fire: missing
    assert f["own_share_house"][:2].tolist() == [1.0, 0.0]
    assert f["own_share_converted_flat"][:2].tolist() == [0.0, 1.0]
    assert np.isnan(f["own_share_house"][2])
    assert f["postcodes_in_area"].tolist() == [2, 2, 1]
    assert f["nearest_postcode_m"] == pytest.approx([40, 40, 260])
    assert f["from_area_middle_m"] == pytest.approx([20, 20, 0])


def test_without_fires_the_point_features_are_empty_not_an_error():
    case = three_postcodes()
    f = point_features(**{**case, "fire_points": np.zeros((0, 2)),
                          "fire_unit": np.zeros(0, np.int64), "ages": np.zeros(0),
                          "kinds": np.zeros(0, dtype=object)})
    assert f["near_200m_decayed_10y"].tolist() == [0, 0, 0]
    assert np.isnan(f["nearest_fire_m"]).all() and np.isnan(f["years_since_own_fire"]).all()


def two_boroughs():
    """Two areas side by side in two boroughs, two postcodes each, fires at each point
    before the cut-off and after it."""
    squares = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)]
    areas = StudyAreas(codes=pd.Index(["A", "B"]), households=np.array([40.0, 40.0]),
                       groups={"borough": np.array(["X", "Y"])},
                       neighbours=touching_pairs(np.array(squares)),
                       factors=pd.DataFrame({"one-person households (%)": [30.0, 20.0]}),
                       shapes=np.array(squares))
    points = pd.DataFrame({"code": ["A1", "A2", "B1", "B2"], "area_code": ["A", "A", "B", "B"],
                           "x": [20.0, 90.0, 110.0, 180.0], "y": [50.0] * 4})
    dates = pd.to_datetime(["2012-05-01", "2016-03-01", "2018-07-01", "2019-06-01"])
    history = pd.DataFrame({"area_code": ["A", "A", "B", "B"], "date": dates,
                            "kind": ["house"] * 4, "x": [100.0, 0.0, 100.0, 200.0],
                            "y": [50.0] * 4})
    return postcode_study(areas, points), points, history


def test_no_fire_after_the_cut_off_reaches_the_point_features():
    study, points, history = two_boroughs()
    placed = fires_at_postcodes(history, points)
    before = feature_table(study, placed, CUT, START)
    assert "near_200m_decayed_10y" in before.columns
    # each area's one grid point inside it (the rest lie on its edges): (50, 50), 30 m from
    # A1 and 40 from A2; (150, 50), 40 m from B1 and 30 from B2
    assert before["catchment_cells"].tolist() == [1, 0, 0, 1]
    assert before.loc["A2", "near_50m_decayed_10y"] > 0  # the 2012 fire at x = 100
    # later fires at every point and between them: the features at the cut-off unchanged
    later = pd.DataFrame({"area_code": ["A", "A", "B", "B"] * 3,
                          "date": pd.to_datetime(["2020-01-01", "2022-06-01",
                                                  "2024-08-31"]).repeat(4),
                          "kind": "converted_flat", "x": [20.0, 90.0, 110.0, 180.0] * 3,
                          "y": [50.0] * 12})
    more = fires_at_postcodes(pd.concat([history, later], ignore_index=True), points)
    pd.testing.assert_frame_equal(before, feature_table(study, more, CUT, START))


def test_a_borough_left_out_keeps_its_fires_out_of_its_neighbours_point_features():
    study, points, history = two_boroughs()
    placed = fires_at_postcodes(history, points)
    in_x = study.groups["borough"] == "X"
    # borough Y left out: its fires (one 10 m from A2) count for nothing in X's features
    fitted_on_x = feature_table(study.subset(in_x), placed, CUT, START)
    only_x = feature_table(study.subset(in_x), placed[placed["output_area"] == "A"], CUT,
                           START)
    pd.testing.assert_frame_equal(fitted_on_x, only_x)
    assert fitted_on_x["catchment_cells"].tolist() == [1, 0]  # kept with its postcodes
    whole = feature_table(study, placed, CUT, START)
    assert whole.loc["A2", "near_50m_decayed_10y"] > fitted_on_x.loc["A2",
                                                                     "near_50m_decayed_10y"]


def test_the_postcode_model_reads_the_point_features():
    # 40 postcodes 30 m apart along a street of 8 areas, fires at random points of it
    rng = np.random.default_rng(5)
    squares = [shapely.box(150 * a, 0, 150 * (a + 1), 100) for a in range(8)]
    areas = StudyAreas(codes=pd.Index([f"A{a}" for a in range(8)]),
                       households=np.full(8, 100.0),
                       groups={"borough": np.array(["X"] * 4 + ["Y"] * 4)},
                       neighbours=touching_pairs(np.array(squares)),
                       factors=pd.DataFrame({"one-person households (%)": np.arange(8.0)}),
                       shapes=np.array(squares))
    points = pd.DataFrame({"code": [f"P{k}" for k in range(40)],
                           "area_code": [f"A{k // 5}" for k in range(40)],
                           "x": 15.0 + 30 * np.arange(40), "y": [50.0] * 40})
    x = rng.choice(points["x"].to_numpy(), 400)
    history = pd.DataFrame({"area_code": [f"A{int(v // 150)}" for v in x],
                            "date": pd.Timestamp("2009-01-01") + pd.to_timedelta(
                                rng.integers(0, 15 * 365, 400), unit="D"),
                            "kind": "house", "x": 50 * np.round(x / 50), "y": 50.0})
    study = postcode_study(areas, points)
    settings = replace(POSTCODE_SETTINGS, min_samples_leaf=5, max_iter=10)
    model = fit_model(study, fires_at_postcodes(history, points), CUT, START, settings)
    assert {"near_100m_rate_3y", "own_last_3y", "years_since_own_fire",
            "postcodes_in_area", "catchment_cells", "catchment_share"} <= set(model.columns)


def three_postcodes_in_an_area():
    """Area A, 220 x 120 m: its 50 m grid points are x = 0, 50 ... 200 by y = 0, 50, 100
    (15); P1 and P2 at the same point (20, 50), P3 at (160, 50). Area B, 30 m across
    beside it, holds no grid point; area C has no postcode."""
    shapes = np.array([shapely.box(-10, -10, 210, 110), shapely.box(215, 10, 245, 40),
                       shapely.box(290, -10, 410, 110)])
    points = np.array([[20.0, 50.0], [20.0, 50.0], [160.0, 50.0], [230.0, 25.0]])
    return shapes, points, np.array([0, 0, 0, 1])


def test_each_postcodes_catchment_is_counted_by_hand_on_three_postcodes():
    shapes, points, area = three_postcodes_in_an_area()
    cells, owner = area_cells(shapes)
    assert (owner == 0).sum() == 15 and (owner == 1).sum() == 0 and (owner == 2).sum() == 9
    c = catchment(shapes, points, area)
    # x = 0 and 50 are nearer P1 (the middle is at 90), x = 100, 150, 200 nearer P3; P2
    # shares P1's point and comes after it: it takes nothing
    assert c["catchment_cells"].tolist() == [6, 0, 9, 0]
    assert c["catchment_share"][:3].tolist() == [6 / 15, 0, 9 / 15]
    assert np.isnan(c["catchment_share"][3])  # B is smaller than the grid


def test_fires_go_where_the_catchment_says():
    shapes, xy, area = three_postcodes_in_an_area()
    points = pd.DataFrame({"code": ["P1", "P2", "P3", "Q1"], "area_code": ["A", "A", "A", "B"],
                           "x": xy[:, 0], "y": xy[:, 1]})
    cells, owner = area_cells(shapes[:1])
    fires = pd.DataFrame({"area_code": "A", "date": pd.Timestamp("2015-01-01"),
                          "x": cells[:, 0], "y": cells[:, 1]})
    placed = fires_at_postcodes(fires, points)
    taken = placed["area_code"].value_counts().reindex(points["code"]).fillna(0)
    assert taken.tolist() == catchment(shapes, xy, area)["catchment_cells"].tolist()
    # the order of the gazetteer decides the tie: P2 first, and P2 takes P1's fires
    swapped = points.iloc[[1, 0, 2, 3]]
    assert set(fires_at_postcodes(fires, swapped)["area_code"]) == {"P2", "P3"}


def test_a_fire_halfway_between_two_postcodes_goes_to_the_first():
    two = np.array([[0.0, 0.0], [100.0, 0.0]])
    halfway = np.array([[50.0, 0.0]])
    assert nearest_of_own_area(two, [0, 0], halfway, [0]).tolist() == [0]
    assert nearest_of_own_area(two[::-1], [0, 0], halfway, [0]).tolist() == [0]
    # whatever other areas' points the search holds
    more = np.vstack([two, [[50.0, 1.0], [49.0, 0.0]]])
    assert nearest_of_own_area(more, [0, 0, 1, 2], halfway, [0]).tolist() == [0]


def test_later_fires_never_change_the_catchment():
    shapes, xy, _ = three_postcodes_in_an_area()
    areas = StudyAreas(codes=pd.Index(["A", "B", "C"]), households=np.array([30.0, 10.0, 5.0]),
                       groups={"borough": np.array(["X", "X", "X"])},
                       neighbours=touching_pairs(shapes),
                       factors=pd.DataFrame({"one-person households (%)": [30.0, 20.0, 10.0]}),
                       shapes=shapes)
    points = pd.DataFrame({"code": ["P1", "P2", "P3", "Q1"], "area_code": ["A", "A", "A", "B"],
                           "x": xy[:, 0], "y": xy[:, 1]})
    study = postcode_study(areas, points)
    fires = pd.DataFrame({"area_code": ["A", "A", "B"], "kind": "house",
                          "date": pd.to_datetime(["2015-01-01", "2021-01-01", "2022-01-01"]),
                          "x": [50.0, 150.0, 230.0], "y": [50.0, 0.0, 25.0]})
    placed = fires_at_postcodes(fires, points)
    at_cut = feature_table(study, placed, CUT, START)
    assert at_cut["catchment_cells"].tolist() == [6, 0, 9, 0]
    before = feature_table(study, placed[placed["date"] <= CUT], CUT, START)
    pd.testing.assert_frame_equal(at_cut, before)
