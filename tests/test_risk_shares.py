"""Each postcode's share of its output area's fires (``risk_shares``) on hand-made cases:
worked by hand on three postcodes, summing to 1 in every area (so an area's expected fires
split by the shares add up to the area's), the strength fitted from the later fires, and
no fire after the cut-off in the feature the postcode model reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from community_safety.core.targeting.risk_features import (
    StudyAreas,
    feature_table,
    touching_pairs,
)
from community_safety.core.targeting.risk_points import decay
from community_safety.core.targeting.risk_postcodes import fires_at_postcodes, postcode_study
from community_safety.core.targeting.risk_shares import (
    EMPTY_CATCHMENT,
    SHARE_HALF_LIFE,
    SHARE_STRENGTH,
    fit_strength,
    prior_shares,
    shrunk_shares,
)

START, CUT = pd.Timestamp("2009-01-01"), pd.Timestamp("2019-12-31")


def test_the_prior_is_the_catchments_share_and_an_equal_share_without_a_grid():
    # area A: P1 collects 6 of its 15 grid points, P2 none (behind P1), P3 9; area B is
    # smaller than the grid (no share known): its two postcodes share equally
    prior = prior_shares(np.array([6 / 15, 0, 9 / 15, np.nan, np.nan]),
                         np.array(["A", "A", "A", "B", "B"]))
    e = EMPTY_CATCHMENT / 3
    assert prior[:3] == pytest.approx(np.array([6 / 15 + e, e, 9 / 15 + e]) / (1 + 3 * e))
    assert prior[3:].tolist() == [0.5, 0.5]
    assert 0 < prior[1] < 0.001  # a postcode without a catchment keeps a little


def test_each_postcodes_share_is_its_fires_shrunk_toward_the_prior_by_hand():
    area = np.array(["A", "A", "A", "B"])
    prior = np.array([0.5, 0.25, 0.25, 1.0])
    own = np.array([3.0, 1.0, 0.0, 0.0])  # 4 fires in A, none in B
    share = shrunk_shares(own, area, prior, strength=2.0)
    assert share == pytest.approx([(3 + 1) / 6, (1 + 0.5) / 6, 0.5 / 6, 1.0])
    # no fire in the area: the prior; no strength: the postcode's own share
    assert shrunk_shares(np.zeros(4), area, prior) == pytest.approx(prior)
    assert shrunk_shares(own, area, prior, strength=0.0)[:3] == pytest.approx([0.75, 0.25, 0])


def test_the_shares_split_each_areas_expected_fires_without_losing_any():
    rng = np.random.default_rng(3)
    area = rng.integers(0, 40, 300)
    prior = prior_shares(np.where(rng.random(300) < 0.1, np.nan, rng.random(300)), area)
    share = shrunk_shares(rng.poisson(0.5, 300).astype(float), area, prior)
    area_expected = rng.gamma(2.0, 1.0, 40)  # expected fires a year of each area
    postcode_expected = area_expected[area] * share
    present = np.unique(area)
    assert np.bincount(area, weights=postcode_expected, minlength=40)[present] == \
        pytest.approx(area_expected[present])


def test_the_strength_is_small_when_fires_come_back_and_large_when_they_do_not():
    area = np.array(["A", "A", "B", "B"])
    prior = np.full(4, 0.5)
    own = np.array([4.0, 0.0, 0.0, 4.0])
    grid = np.logspace(-1.5, 3, 46)
    # the later fires where the earlier ones were: the own share, the least shrinkage
    assert fit_strength(own, own, area, prior, grid) == grid[0]
    # the later fires spread evenly: the prior, the most
    assert fit_strength(own, np.full(4, 2.0), area, prior, grid) == grid[-1]
    # half of them back: in between
    assert grid[0] < fit_strength(own, np.array([3.0, 1.0, 1.0, 3.0]), area, prior,
                                  grid) < grid[-1]


def two_postcodes_in_an_area():
    """Area A (100 x 100 m, one grid point inside: (50, 50), nearer A1) with A1 and A2;
    area B beside it with B1."""
    squares = np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)])
    areas = StudyAreas(codes=pd.Index(["A", "B"]), households=np.array([40.0, 20.0]),
                       groups={"borough": np.array(["X", "X"])},
                       neighbours=touching_pairs(squares),
                       factors=pd.DataFrame({"one-person households (%)": [30.0, 20.0]}),
                       shapes=squares)
    points = pd.DataFrame({"code": ["A1", "A2", "B1"], "area_code": ["A", "A", "B"],
                           "x": [40.0, 95.0, 150.0], "y": [50.0] * 3})
    fires = pd.DataFrame({"area_code": ["A", "A", "A"], "kind": "house",
                          "date": pd.to_datetime(["2018-12-31", "2014-12-31", "2021-06-01"]),
                          "x": [40.0, 95.0, 95.0], "y": [50.0] * 3})
    return postcode_study(areas, points), fires_at_postcodes(fires, points)


def test_the_postcode_model_reads_the_share_and_no_later_fire_changes_it():
    study, placed = two_postcodes_in_an_area()
    table = feature_table(study, placed, CUT, START)
    # A1 holds A's one grid point: prior (1 + e/2, e/2) / (1 + e); its fire 1 year old,
    # A2's 5 years old (10-year half-life)
    e = EMPTY_CATCHMENT / 2
    prior = np.array([1 + e, e]) / (1 + 2 * e)
    own = decay(np.array([366, 365 * 5 + 2]) / 365.25, SHARE_HALF_LIFE)
    expected = (own + SHARE_STRENGTH * prior) / (own.sum() + SHARE_STRENGTH)
    assert table.loc[["A1", "A2"], "shrunk_share"].to_numpy() == pytest.approx(expected)
    assert table.loc["B1", "shrunk_share"] == pytest.approx(1.0)  # alone in its area
    # the 2021 fire at A2 is after the cut-off: leaving it out changes nothing
    before = feature_table(study, placed[placed["date"] <= CUT], CUT, START)
    pd.testing.assert_frame_equal(table, before)
