"""The risk model at postcode points, on small hand-made cases: each postcode holds its
share of its output area's households, each fire goes to the nearest postcode of its own
area, no fire after the cut-off reaches the features, the oracle bounds every ranking, and
a ranking of postcodes finds the building the fires come back to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from community_safety.core.errors import InputError
from community_safety.core.targeting.risk_backtest import (
    AREA_OWN,
    MEASURES,
    MODEL,
    ORACLE,
    OWN,
    POSTCODE_OWN,
    evaluate,
)
from community_safety.core.targeting.risk_features import (
    StudyAreas,
    feature_table,
    touching_pairs,
)
from community_safety.core.targeting.risk_model import ModelSettings, fit_model
from community_safety.core.targeting.risk_postcodes import (
    AREA,
    fires_at_postcodes,
    postcode_study,
)

START, CUT, END = pd.Timestamp("2009-01-01"), pd.Timestamp("2019-12-31"), pd.Timestamp(
    "2024-08-31")
SMALL = ModelSettings(max_iter=30, min_samples_leaf=10, max_leaf_nodes=4, features="rates")


def two_areas():
    squares = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)]
    areas = StudyAreas(codes=pd.Index(["A", "B"]), households=np.array([100.0, 60.0]),
                       groups={"borough": np.array(["X", "X"])},
                       neighbours=touching_pairs(np.array(squares)),
                       factors=pd.DataFrame({"one-person households (%)": [40.0, 10.0]}),
                       segment=np.array([1, 2]))
    points = pd.DataFrame({"code": ["A1", "A2", "B1", "B2", "B3", "Z1"],
                           "area_code": ["A", "A", "B", "B", "B", "Z"],
                           "x": [10.0, 90.0, 110.0, 150.0, 190.0, 500.0],
                           "y": [50.0, 50.0, 50.0, 50.0, 50.0, 50.0]})
    return areas, points


def test_each_postcode_holds_its_share_of_its_areas_households():
    areas, points = two_areas()
    study = postcode_study(areas, points)
    # Z1's area is not in the study: left out; A's 100 households over 2, B's 60 over 3
    assert list(study.codes) == ["A1", "A2", "B1", "B2", "B3"]
    assert study.households.tolist() == [50.0, 50.0, 20.0, 20.0, 20.0]
    assert study.households.sum() == areas.households.sum()
    assert study.groups[AREA].tolist() == ["A", "A", "B", "B", "B"]
    assert study.groups["borough"].tolist() == ["X"] * 5
    assert study.factors.iloc[:, 0].tolist() == [40.0, 40.0, 10.0, 10.0, 10.0]
    assert study.segment.tolist() == [1, 1, 2, 2, 2]
    # neighbours: points within 50 m (A2-B1 20 m apart across the areas' line; B1-B2 40 m)
    pairs = {(study.codes[i], study.codes[j]) for i, j in zip(*study.neighbours)}
    assert pairs == {("A2", "B1"), ("B1", "A2"), ("B1", "B2"), ("B2", "B1"), ("B2", "B3"),
                     ("B3", "B2")}


def test_each_fire_goes_to_the_nearest_postcode_of_its_own_area():
    _, points = two_areas()
    fires = pd.DataFrame({"area_code": ["A", "A", "B", "B", "Z", "A"],
                          "date": pd.to_datetime(["2015-01-01"] * 6),
                          "x": [85.0, 105.0, 105.0, 170.0, 500.0, np.nan],
                          "y": [50.0, 50.0, 50.0, 50.0, 50.0, 50.0]})
    placed = fires_at_postcodes(fires, points)
    # the second fire is 5 m from B1 but in area A: A2; the one without a point is left out
    assert placed["area_code"].tolist() == ["A2", "A2", "B1", "B2", "Z1"]
    assert placed["output_area"].tolist() == ["A", "A", "B", "B", "Z"]
    assert list(placed.index) == [0, 1, 2, 3, 4]
    with pytest.raises(InputError, match="point"):
        fires_at_postcodes(fires.drop(columns=["x"]), points)


def building_study(boroughs: int = 3, side: int = 4, seed: int = 3):
    """``boroughs`` blocks of side x side areas of 200 m, 4 postcodes each (one per
    quarter); in each area one postcode is a building the fires come back to (a rate 6
    times the area's others), the area's rate rising with a census factor."""
    rng = np.random.default_rng(seed)
    squares, codes, borough, points = [], [], [], []
    for b in range(boroughs):
        for i in range(side):
            for j in range(side):
                x0, y0 = (b * side + i) * 200, j * 200
                code = f"B{b}A{i}{j}"
                squares.append(shapely.box(x0, y0, x0 + 200, y0 + 200))
                codes.append(code)
                borough.append(f"B{b}")
                for q, (dx, dy) in enumerate([(50, 50), (150, 50), (50, 150), (150, 150)]):
                    points.append((f"{code}P{q}", code, x0 + dx, y0 + dy))
    n = len(codes)
    factor = rng.uniform(0, 60, n)
    households = np.full(n, 120.0)
    points = pd.DataFrame(points, columns=["code", "area_code", "x", "y"])
    hot = rng.integers(0, 4, n)  # the building of each area
    per_point = 0.004 * np.exp(factor / 40)[:, None] * np.where(
        np.arange(4)[None, :] == hot[:, None], 6.0, 1.0) * 30  # fires a year per postcode
    rows = []
    for year in range(2009, 2025):
        months = 8 if year == 2024 else 12
        counts = rng.poisson(per_point * months / 12)
        for a, q in zip(*np.nonzero(counts)):
            p = points.iloc[4 * a + q]
            for _ in range(counts[a, q]):
                day = pd.Timestamp(year, 1, 1) + pd.Timedelta(days=int(rng.integers(
                    0, 28 * months)))
                # the published point: rounded to 50 m, as in the LFB file
                rows.append((codes[a], day, "purpose_built_flat",
                             50 * round((p.x + rng.uniform(-20, 20)) / 50),
                             50 * round((p.y + rng.uniform(-20, 20)) / 50)))
    history = pd.DataFrame(rows, columns=["area_code", "date", "kind", "x", "y"])
    areas = StudyAreas(codes=pd.Index(codes), households=households,
                       groups={"lsoa": np.array([c[:4] + c[4] for c in codes]),
                               "borough": np.array(borough)},
                       neighbours=touching_pairs(np.array(squares)),
                       factors=pd.DataFrame({"one-person households (%)": factor}),
                       segment=(factor // 20).astype(int) + 1)
    study = postcode_study(areas, points)
    return study, fires_at_postcodes(history, points), areas, history


@pytest.fixture(scope="module")
def buildings():
    return building_study()


@pytest.fixture(scope="module")
def postcode_evaluation(buildings):
    study, fires, _, _ = buildings
    return evaluate(study, fires, CUT, START, END, settings=SMALL, draws=100)


def test_no_fire_after_the_cut_off_reaches_a_postcodes_features(buildings):
    study, fires, _, _ = buildings
    before = feature_table(study, fires, CUT, START)
    later = fires[fires["date"] > CUT]
    assert len(later) > 100
    # the later fires tripled and moved to other postcodes of their areas: same features
    moved = later.assign(area_code=later["area_code"].str[:-1] + "0")
    changed = feature_table(study, pd.concat([fires, moved, moved]), CUT, START)
    pd.testing.assert_frame_equal(before, changed)


def test_the_rates_setting_fits_on_rates_not_counts(buildings):
    study, fires, _, _ = buildings
    model = fit_model(study, fires, CUT, START, SMALL)
    assert model.columns and not [c for c in model.columns
                                  if c.startswith("fires_") or c == "busiest_spot_10y"]
    full = fit_model(study, fires, CUT, START, ModelSettings(max_iter=5))
    assert "fires_all" in full.columns
    with pytest.raises(InputError, match="features"):
        ModelSettings.from_table({"features": "counts"})


def test_the_oracle_bounds_every_ranking_of_postcodes(postcode_evaluation):
    rankings = postcode_evaluation.rankings()
    assert {MODEL, POSTCODE_OWN, AREA_OWN, ORACLE} <= set(rankings) and OWN not in rankings
    for unit in postcode_evaluation.units:
        oracle = postcode_evaluation.point[(unit, ORACLE)]
        for ranking in rankings:
            values = postcode_evaluation.point[(unit, ranking)]
            for k, name in enumerate(MEASURES):
                assert values[k] <= oracle[k] + 1e-9, (unit, ranking, name)


def test_the_output_areas_rate_is_the_same_for_each_of_its_postcodes(buildings):
    from community_safety.core.targeting.risk_backtest import baseline_scores

    study, fires, areas, history = buildings
    scores = baseline_scores(study, fires, CUT, START)
    area_rate = pd.Series(scores[AREA_OWN][0], index=study.codes)
    past = history[history["date"] <= CUT].groupby("area_code").size()
    expected = (past / pd.Series(areas.households, index=areas.codes)).reindex(
        study.groups[AREA]).to_numpy()
    assert area_rate.to_numpy() == pytest.approx(expected)


def test_ranking_postcodes_finds_the_building_the_fires_come_back_to(postcode_evaluation):
    # each area's building holds 6/9 of its fires on a quarter of its households: ranking
    # postcodes puts far more later fires in the top 10% than ranking whole areas
    ev = postcode_evaluation
    top = MEASURES.index("top_10pct")
    gains = [ev.point[(u, MODEL)][top] - ev.point[(u, AREA_OWN)][top] for u in ev.units]
    assert min(gains) > 5 and np.mean(gains) > 10, gains
