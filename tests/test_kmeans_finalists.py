"""A large matrix's random starts judged on a sample (``finalists``): each start polished
on the sample, only the best few finished on all areas. Checked against the same fit
without a sample, on a matrix made of Camden's real areas, and on hand-made cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from community_safety.core.segment import finalists, kmeans, starts
from community_safety.core.segment.kmeans import fit_kmeans

CAMDEN = Path(__file__).resolve().parent.parent / "resources" / "sample_data" / "camden"


@pytest.fixture(scope="module")
def large() -> np.ndarray:
    """60 copies of Camden's 749 areas (the sample project's matrix), each moved by a
    little noise: 44,940 areas, above twice the sample's 20,000."""
    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.prepare import prepare

    X = prepare(load_project(CAMDEN / "camden.toml")).X
    rng = np.random.default_rng(0)
    return np.concatenate([X + rng.normal(0, 0.05, X.shape) for _ in range(60)])


def test_starts_judged_on_a_sample_end_as_well_as_starts_on_all_areas(large, monkeypatch):
    """The fit judged on a sample reaches an optimum at least as good as the same number
    of starts run and chosen on all areas (the path without a sample), and says how many
    starts reached it."""
    assert starts._first_sample(len(large), 8, 4) is not None
    judged = fit_kmeans(large, 8, n_init=10, seed=4)
    assert judged.n_starts >= 10 and 1 <= judged.best_found <= judged.n_starts
    monkeypatch.setattr(starts, "SAMPLE_AREAS", 10 ** 9)
    assert starts._first_sample(len(large), 8, 4) is None
    plain = fit_kmeans(large, 8, n_init=judged.n_starts, seed=4)
    assert judged.wcss <= plain.wcss * (1 + 1e-12)
    assert judged.wcss == pytest.approx(float(sum(
        ((large[judged.labels == j] - large[judged.labels == j].mean(axis=0)) ** 2).sum()
        for j in range(8))), rel=1e-12)


def test_only_the_best_few_optima_on_the_sample_are_finished_on_all_areas(large,
                                                                          monkeypatch):
    finished = []
    real = finalists._on_all_areas

    def recording(X, xx, sample, labels, k):
        finished.append(labels.copy())
        return real(X, xx, sample, labels, k)

    monkeypatch.setattr(finalists, "_on_all_areas", recording)
    monkeypatch.setattr(kmeans, "MORE_ROUNDS", 0)
    fit = fit_kmeans(large, 12, n_init=8, seed=1)
    assert fit.n_starts == 8
    assert 1 <= len(finished) <= finalists.FINALISTS
    assert len({row.tobytes() for row in finished}) == len(finished)  # each optimum once


def test_finalists_are_the_best_distinct_optima_ties_to_the_earliest():
    wcss = np.array([3.0, 1.0, 1.0, 2.0, 1.0, 0.5])
    keys = [b"a", b"b", b"c", b"b", b"b", b"d"]
    assert finalists._finalists(wcss, keys, 3) == [5, 1, 2]
    assert finalists._finalists(wcss, keys, 10) == [5, 1, 2, 0]


def test_where_every_start_finds_the_same_optimum_the_fit_says_so(monkeypatch):
    """Well-separated groups on a large matrix (the sample path, scaled down): every start
    reaches the same optimum, so no more starts are run and stability is 1."""
    monkeypatch.setattr(starts, "SAMPLE_AREAS", 1000)
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 10, size=(4, 6))
    X = centres[rng.integers(0, 4, 5000)] + rng.normal(0, 0.5, size=(5000, 6))
    assert starts._first_sample(len(X), 4, 3) is not None
    fit = fit_kmeans(X, 4, n_init=10, seed=3)
    assert fit.n_starts == 10 and fit.best_found == 10 and fit.note == ""
    assert fit.stability == pytest.approx(1.0)
