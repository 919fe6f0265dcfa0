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
    """The best FINALISTS optima on the sample are finished, each once; then, if the
    best was found once, it is restarted on other samples, a pair at a time, at most
    MAX_RESTARTS times."""
    finished, restarted = [], []
    real_finish, real_restart = finalists._on_all_areas, finalists._restarted

    def recording(X, xx, A, sample, labels, k):
        finished.append(labels.copy())
        return real_finish(X, xx, A, sample, labels, k)

    def restarting(X, xx, A, sample, labels, k):
        restarted.append((sample, labels.copy()))
        return real_restart(X, xx, A, sample, labels, k)

    monkeypatch.setattr(finalists, "_on_all_areas", recording)
    monkeypatch.setattr(finalists, "_restarted", restarting)
    monkeypatch.setattr(kmeans, "MORE_ROUNDS", 0)
    fit = fit_kmeans(large, 12, n_init=8, seed=1)
    assert fit.n_starts == 8
    from_starts = len(finished) - len(restarted)  # (a restart finishes on all areas too)
    assert 1 <= from_starts <= finalists.FINALISTS
    starts_finished = finished[:from_starts]
    assert len({row.tobytes() for row in starts_finished}) == from_starts  # each once
    assert fit.restarts == len(restarted)
    assert len(restarted) <= finalists.MAX_RESTARTS
    assert len(restarted) % finalists.RESTARTS == 0
    samples = [sample.tobytes() for sample, _ in restarted]
    assert len(set(samples)) == len(samples)  # each restart on a sample of its own
    assert all(len(sample) == starts.SAMPLE_AREAS for sample, _ in restarted)


def test_finalists_are_the_best_distinct_optima_ties_to_the_earliest():
    """Distinct: an optimum within an adjusted Rand index of 0.99 of a better one chosen
    (a few areas apart, or the same partition numbered otherwise) is not finished again."""
    rng = np.random.default_rng(0)
    a, b, d = (rng.integers(0, 4, 1000) for _ in range(3))
    near_a = a.copy()
    near_a[:3] = (near_a[:3] + 1) % 4  # 3 areas of 1,000 moved
    labels = np.array([d, a, (a + 1) % 4, b, near_a, a])
    wcss = np.array([3.0, 1.0, 1.0, 2.0, 1.0, 0.5])
    assert finalists._finalists(wcss, labels, 4, 3, 0.99) == [5, 3, 0]
    assert finalists._finalists(wcss, labels, 4, 2, 0.99) == [5, 3]
    assert finalists._finalists(wcss, labels, 4, 10, 1.01) == [5, 1, 2, 4, 3, 0]


def test_the_same_optimum_means_the_same_wcss(large, monkeypatch):
    """Two starts whose optima on all areas agree at an adjusted Rand index above 0.99 but
    differ in WCSS (5 areas of 44,940 in another segment) have not found the same optimum:
    the best counts as found once, so the fit runs more starts."""
    fit = fit_kmeans(large, 8, n_init=4, seed=2)
    best = fit.labels
    other = best.copy()
    other[:5] = (other[:5] + 1) % 8
    assert finalists._adjusted_rand(best, other[None], 8)[0] >= 0.99

    def finished(X, xx, A, sample, labels, k):  # start 0's optimum ends at best, 1's at other
        final = best if labels[0] == 0 else other
        sums, counts = finalists._segment_sums(X, final, k)
        centres = sums / counts[:, None]
        return final.copy(), centres, 1, finalists._wcss(X, centres, final)

    monkeypatch.setattr(finalists, "_on_all_areas", finished)
    monkeypatch.setattr(finalists, "FINALISTS", 2)  # both starts finished
    xx = starts._squared_norms(large)
    sample = starts._first_sample(len(large), 8, 2)
    on_sample = finalists.OnSample(large, xx, starts._augmented(large, xx), 8, sample, 0.99)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 8, (2, len(sample))).astype(np.uint8)
    labels[0, 0], labels[1, 0] = 0, 1
    found = on_sample.judge(labels, np.array([1.0, 2.0]), 1)
    assert np.array_equal(found[0].labels, best) and found[1] == 1
    monkeypatch.setattr(finalists, "SAME_WCSS", 1.0)  # any WCSS: both count, as before
    assert finalists.OnSample(large, xx, starts._augmented(large, xx), 8, sample,
                              0.99).judge(labels, np.array([1.0, 2.0]), 1)[1] == 2


def test_where_every_start_finds_the_same_optimum_the_fit_says_so(monkeypatch):
    """Well-separated groups on a large matrix (the sample path, scaled down): every start
    reaches the same optimum, so no more starts and no restarts are run and stability
    is 1."""
    monkeypatch.setattr(starts, "SAMPLE_AREAS", 1000)
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 10, size=(4, 6))
    X = centres[rng.integers(0, 4, 5000)] + rng.normal(0, 0.5, size=(5000, 6))
    assert starts._first_sample(len(X), 4, 3) is not None
    fit = fit_kmeans(X, 4, n_init=10, seed=3)
    assert fit.n_starts == 10 and fit.best_found == 10 and fit.restarts == 0
    assert fit.note == ""
    assert fit.stability == pytest.approx(1.0)


def test_restarts_go_on_from_a_better_optimum_until_it_is_found_twice(monkeypatch):
    """A restart that ends at a lower, different optimum makes it the best, and the next
    pair restarts from it; one that ends there again (within a relative SAME_WCSS) finds
    it a second time, and the restarts stop."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 4))
    xx = starts._squared_norms(X)
    sample = np.sort(rng.choice(3000, 500, replace=False))
    first, lower, other = (rng.integers(0, 4, 3000) for _ in range(3))
    outcomes = iter([(lower, 90.0), (other, 120.0), (lower, 90.0 + 4e-5), (other, 95.0)])
    origins, samples = [], []

    def restarted(X, xx, A, sample, labels, k):
        origins.append(labels.copy())
        samples.append(sample)
        final, wcss = next(outcomes)
        return final.copy(), np.zeros((k, X.shape[1])), 1, wcss

    monkeypatch.setattr(finalists, "_restarted", restarted)
    on_sample = finalists.OnSample(X, xx, starts._augmented(X, xx), 4, sample, 0.99, 7)
    on_sample.keys = [b"start 0"]
    on_sample.finished[b"start 0"] = finalists.Finished(0, first, np.zeros((4, 4)), 1, 100.0)
    assert on_sample.best()[1] == 1
    best, found = on_sample.restart(*on_sample.best(), 1)
    assert best.wcss == 90.0 and np.array_equal(best.labels, lower) and found == 2
    assert len(on_sample.restarts) == 4 and best.start == 0
    assert [np.array_equal(o, first) for o in origins] == [True, True, False, False]
    assert all(np.array_equal(o, lower) for o in origins[2:])
    assert all(len(s) == 500 and len(np.unique(s)) == 500 for s in samples)
    assert not np.array_equal(samples[0], samples[1])


def test_from_25_segments_restarts_only_go_lower_and_find_nothing_again(monkeypatch):
    """Where good optima are rare (25 segments or more) a restart ending at the best does
    not count as finding it again (only other starts do), and one pair of restarts is run:
    the lower optimum it reaches is the best, still found by the starts' count."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 4))
    xx = starts._squared_norms(X)
    sample = np.sort(rng.choice(3000, 500, replace=False))
    k = finalists.FINISH_ALL_FROM
    first, lower = (rng.integers(0, k, 3000) for _ in range(2))
    outcomes = iter([(first, 100.0 - 1e-5), (lower, 90.0)])
    monkeypatch.setattr(finalists, "_restarted", lambda X, xx, A, sample, labels, k: (
        lambda final, wcss: (final.copy(), np.zeros((k, 4)), 1, wcss))(*next(outcomes)))
    on_sample = finalists.OnSample(X, xx, starts._augmented(X, xx), k, sample, 0.99, 7)
    on_sample.keys = [b"start 0"]
    on_sample.finished[b"start 0"] = finalists.Finished(0, first, np.zeros((k, 4)), 1, 100.0)
    assert not on_sample.restarts_find
    best, found = on_sample.restart(*on_sample.best(), 1)
    assert best.wcss == 90.0 and found == 1 and len(on_sample.restarts) == finalists.RESTARTS
    assert on_sample.best()[1] == 0  # the lower optimum: no start reached it
