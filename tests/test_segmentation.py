"""The segmentation engine on the Camden sample: reproducible, ordered, profiled, saved."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from sklearn.metrics import adjusted_rand_score

from community_safety.core.errors import InputError
from community_safety.core.project.project_file import load_project
from community_safety.core.project.rules import ScreeningRules
from community_safety.core.segment.assign import assign_areas
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.choosing_k import choose_k
from community_safety.core.segment.kmeans import fit_kmeans
from community_safety.core.segment.prepare import prepare
from community_safety.core.segment.saved import load_segmentation, save_segmentation
from community_safety.core.segment.screening import screen
from community_safety.core.segment.standardise import fit_standardiser

PROJECT = SAMPLE_DIR / "camden.toml"


@pytest.fixture(scope="module")
def project():
    return load_project(PROJECT)


@pytest.fixture(scope="module")
def segmentation(project):
    return build_segmentation(project)


@pytest.fixture(scope="module")
def saved(segmentation, tmp_path_factory):
    out = tmp_path_factory.mktemp("camden")
    return save_segmentation(segmentation, out)


def test_749_areas_in_10_segments_each_numbered_and_named(segmentation):
    areas = segmentation.areas
    assert len(areas) == 749 and areas["segment"].notna().all()
    assert sorted(areas["segment"].unique()) == list(range(1, 11))
    assert segmentation.summary["areas"].sum() == 749
    assert segmentation.summary["name"].is_unique
    assert (areas["distance"] >= 0).all()
    assert segmentation.summary["residents"].sum() == pytest.approx(220_338)  # 2011 Census


def test_same_seed_same_labels_to_the_bit(project, segmentation):
    again = build_segmentation(project)
    assert (again.areas["segment"] == segmentation.areas["segment"]).all()
    assert np.array_equal(again.centres.to_numpy(), segmentation.centres.to_numpy())


def test_another_seed_gives_much_the_same_segments(project, segmentation):
    other = build_segmentation(replace(project, seed=7))
    ari = adjusted_rand_score(segmentation.areas["segment"], other.areas["segment"])
    assert ari > 0.75


def test_segments_are_numbered_from_least_to_most_deprived(segmentation):
    # IMD rank: lower is more deprived, so the mean rank falls as the segment number rises
    ranks = segmentation.summary["mean_deprivation"]
    assert list(ranks.index) == list(range(1, 11))
    assert ranks.is_monotonic_decreasing


def test_a_collinear_pair_loses_exactly_one_member(segmentation):
    screening = segmentation.screening.set_index("variable")
    # |r| = 0.91 between bad health and day-to-day activities limited a lot
    assert screening.loc["pct_limited_a_lot", "kept"]
    assert not screening.loc["pct_bad_health", "kept"]
    assert screening.loc["pct_bad_health", "correlated_with"] == "pct_limited_a_lot"
    kept = segmentation.values[segmentation.clustered]
    corr = kept.corr().abs().to_numpy(copy=True)
    np.fill_diagonal(corr, 0)
    assert corr.max() <= 0.8


def test_screening_rules_and_forcing():
    rng = np.random.default_rng(1)
    base = rng.normal(size=200)
    frame = pd.DataFrame({
        "a": base, "b": base * 2 + rng.normal(scale=0.01, size=200), "c": rng.normal(size=200),
        "binary": rng.integers(0, 2, 200), "constant": 3.0, "few": rng.integers(0, 3, 200),
        "narrow": rng.normal(size=200) * 1e-4,
    })
    decisions = screen(frame, ScreeningRules(min_range=0.01)).set_index("variable")
    assert decisions.loc["a", "kept"] != decisions.loc["b", "kept"]
    assert decisions.loc["c", "kept"]
    assert decisions.loc["binary", "reason"].startswith("binary")
    assert decisions.loc["constant", "reason"] == "constant"
    assert decisions.loc["few", "reason"].startswith("only 3 distinct values")
    assert decisions.loc["narrow", "reason"].startswith("range")
    forced = screen(frame, ScreeningRules(force_in=("b", "binary"), force_out=("c",)))
    forced = forced.set_index("variable")
    assert forced.loc["b", "kept"] and not forced.loc["a", "kept"]
    assert forced.loc["binary", "kept"] and forced.loc["c", "reason"] == "forced out by the user"


@pytest.mark.parametrize("method", ["zscore", "range", "ihs_range"])
def test_standardisation_methods(method):
    frame = pd.DataFrame({"x": [0.0, 10.0, 20.0, 100.0], "y": [1.0, 2.0, 3.0, 4.0]})
    scaled = fit_standardiser(frame, method).transform(frame)
    if method == "zscore":
        assert scaled.mean().abs().max() < 1e-12 and np.allclose(scaled.std(ddof=0), 1)
    else:
        assert np.allclose(scaled.min(), 0) and np.allclose(scaled.max(), 1)
    if method == "ihs_range":
        assert scaled.loc[1, "x"] > 0.1 + 1e-9  # the long tail is pulled in
    with pytest.raises(InputError, match="constant"):
        fit_standardiser(frame.assign(z=5.0), method)


def test_k_larger_than_the_number_of_areas_is_refused():
    with pytest.raises(InputError, match=r"k = 12 is larger than the number of areas \(5\)"):
        fit_kmeans(np.random.default_rng(0).normal(size=(5, 3)), 12)


def test_saved_segmentation_reopens_and_assigns_its_own_input_to_the_same_segments(
    segmentation, saved
):
    loaded = load_segmentation(saved)
    assert loaded.clustered == segmentation.clustered
    assert loaded.segment_names == segmentation.segment_names
    assert loaded.labels["pct_no_car"] == "Households with no car or van"
    assigned = assign_areas(loaded, loaded.values)
    expected = segmentation.areas["segment"].reindex(assigned.index).to_numpy()
    assert (assigned["segment"].to_numpy() == expected).all()


def test_saved_outputs_include_tables_manifest_and_box_plots(saved, project, segmentation):
    out = saved.parent
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["k"] == 10 and manifest["parameters"]["seed"] == project.seed
    assert len(manifest["inputs"]) == 6 and all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert {"scikit-learn", "numpy", "pandas"} <= set(manifest["versions"])
    profiles = pd.read_csv(out / "segment_profiles.csv")
    assert set(profiles["band"]) <= {"high", "medium", "low", ""}
    # one box plot per variable, clustered or not: 36 census variables, 7 denominators, IMD
    plots = {p.name for p in (out / "plots").glob("box_*.png")}
    assert plots == {f"box_{v}.png" for v in segmentation.values.columns}
    assert len(plots) == 44
    reconciliation = pd.read_csv(out / "reconciliation.csv")
    assert reconciliation["status"].eq("used").all()


def test_index_scores_and_bands_follow_the_stated_rule(segmentation):
    profiles = segmentation.profiles
    row = profiles[(profiles["segment"] == 10) & (profiles["variable"] == "pct_no_car")].iloc[0]
    assert row["index"] == pytest.approx(row["mean"] / row["study_area_mean"] * 100, abs=0.05)
    for _, r in profiles[profiles["index"].notna()].iterrows():
        expected = "high" if r["index"] >= 120 else "low" if r["index"] <= 80 else "medium"
        assert r["band"] == expected


def test_pen_portraits_can_be_replaced_from_the_project(project):
    custom = replace(project, segment_text={10: {"name": "Social renting families"}})
    seg = build_segmentation(custom)
    assert seg.summary.loc[10, "name"] == "Social renting families"
    assert (seg.areas.loc[seg.areas["segment"] == 10, "segment_name"]
            == "Social renting families").all()


def test_second_level_splits_every_segment(project):
    seg = build_segmentation(replace(project, subsegments=3, n_init=10))
    subs = seg.areas["subsegment"]
    assert subs.str.fullmatch(r"\d+\.\d").all()
    assert (subs.str.split(".").str[0].astype(int) == seg.areas["segment"]).all()
    assert subs.nunique() > 20


def test_choose_k_diagnostics(project):
    prepared = prepare(project)
    table = choose_k(prepared.X, [2, 5, 10], n_init=3, seed=1)
    assert list(table["k"]) == [2, 5, 10]
    assert table["wcss"].is_monotonic_decreasing
    assert table["silhouette"].between(-1, 1).all()
    assert (table["calinski_harabasz"] > 0).all() and (table["davies_bouldin"] > 0).all()
    assert table["stability_ari"].between(-1, 1).all()
