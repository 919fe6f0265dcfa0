"""k-means: hand-checked cases, a plain double-precision Lloyd reference, Hartigan's
transfers, reproducibility (same seed, any thread count, any BLAS rounding), progress and
cancelling, and the batched diagnostics against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import kmeans_plusplus
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from threadpoolctl import threadpool_limits

from community_safety.core.errors import InputError
from community_safety.core.progress import Cancelled
from community_safety.core.segment import choosing_k, kmeans, partitions, polish, starts, threads
from community_safety.core.segment.kmeans import fit_kmeans


def lloyd_reference(X, centres, max_iter=1000):
    """Plain Lloyd in double precision: nearest centre (ties to the lowest), means, until no
    point changes."""
    labels = None
    for _ in range(max_iter):
        d = ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        new = d.argmin(axis=1)
        if labels is not None and (new == labels).all():
            break
        labels = new
        centres = np.array([X[labels == j].mean(axis=0) if (labels == j).any() else centres[j]
                            for j in range(len(centres))])
    return labels, centres, float(((X - centres[labels]) ** 2).sum())


def wcss_of(X, labels, k):
    return sum(float(((X[labels == j] - X[labels == j].mean(axis=0)) ** 2).sum())
               for j in range(k) if (labels == j).any())


def blobs(n, p, types, seed, spread=1.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.0, size=(types, p))
    return centres[rng.integers(0, types, n)] + rng.normal(0, spread, size=(n, p))


def same_partition(a, b):
    return adjusted_rand_score(a, b) == 1.0


# --- hand-checked cases ---

def test_two_obvious_groups_on_a_line():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    fit = fit_kmeans(X, 2, n_init=5, seed=1)
    assert same_partition(fit.labels, [0, 0, 1, 1])
    assert sorted(fit.centres[:, 0]) == [0.5, 10.5]
    assert fit.wcss == 1.0


def test_hartigans_transfer_finds_what_lloyd_stops_short_of():
    # {0, 2} and {2.9, 3.5} is a Lloyd fixed point (2 is nearer 1 than 3.2) with WCSS 2.18;
    # moving 2 to the other group gives {0} and {2, 2.9, 3.5}: WCSS 1.14, the optimum
    X = np.array([[0.0], [2.0], [2.9], [3.5]])
    labels, centres, wcss = lloyd_reference(X, np.array([[1.0], [3.2]]))
    assert list(labels) == [0, 0, 1, 1] and wcss == pytest.approx(2.18)
    xx = (X * X).sum(axis=1)
    polished, centres, _ = polish._polish(X, xx, labels, 2)
    assert list(polished) == [0, 1, 1, 1]
    assert polish._wcss(X, centres, polished) == pytest.approx(1.14)
    assert fit_kmeans(X, 2, n_init=10, seed=3).wcss == pytest.approx(1.14)


def test_an_empty_segment_takes_the_farthest_area():
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    xx = (X * X).sum(axis=1)
    labels, centres, _ = polish._polish(X, xx, np.array([0, 0, 0, 0]), 2)
    assert same_partition(labels, [0, 0, 0, 1])


def test_k_above_the_number_of_different_areas_is_refused_naming_both():
    X = np.array([[0.1, 2.0]] * 30 + [[0.7, 2.0]] * 30)
    with pytest.raises(InputError, match="k = 3, but the areas have only 2 different "
                                         "profiles on the clustering variables"):
        fit_kmeans(X, 3, n_init=3, seed=1)


def test_duplicate_areas_and_k_equal_to_the_number_of_areas():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.0, 5.0], [9.0, 1.0]])
    fit = fit_kmeans(X, 3, n_init=4, seed=1)
    assert fit.wcss == 0.0 and len(set(fit.labels)) == 3
    fit = fit_kmeans(X[[0, 2, 4]], 3, n_init=2, seed=1)
    assert sorted(fit.labels) == [0, 1, 2] and fit.wcss == 0.0


# --- against a plain double-precision Lloyd ---

@pytest.mark.parametrize("n, p, k, seed, sample, stop", [
    (300, 4, 3, 1, 0, 0), (500, 12, 6, 2, 0, 0), (749, 24, 10, 3, 0, 0),
    (1000, 60, 10, 4, 0, 0), (200, 2, 8, 5, 0, 0), (3000, 10, 8, 6, 0, 0),
    # a large matrix's path, scaled down: the starts are judged on a sample of ``sample``
    # areas and the best few finished on all areas (``stop``: choose-k's early stop, which
    # must not touch the fit)
    (4000, 20, 12, 5, 1200, 0.002), (2500, 6, 5, 8, 500, 0.05)])
def test_no_worse_than_plain_lloyd_from_the_same_number_of_starts(n, p, k, seed, sample,
                                                                  stop, monkeypatch):
    if sample:
        monkeypatch.setattr(starts, "SAMPLE_AREAS", sample)
        monkeypatch.setattr(kmeans, "BATCH_TOL", stop)
        assert starts._first_sample(n, k, seed) is not None
    X = blobs(n, p, types=k + 2, seed=seed)
    n_init = 20
    fit = fit_kmeans(X, k, n_init=n_init, seed=seed)
    reference = min(lloyd_reference(X, kmeans_plusplus(X, k, random_state=seed * 100 + i)[0])[2]
                    for i in range(n_init))
    assert fit.wcss <= reference * (1 + 1e-9)
    # the fit's own numbers are what they say: centres are the means, WCSS exact
    assert fit.wcss == pytest.approx(wcss_of(X, fit.labels, k), rel=1e-12)
    assert_lloyd_and_hartigan_optimum(X, fit.labels, fit.centres, k)


def assert_lloyd_and_hartigan_optimum(X, labels, centres, k):
    """Centres are the segment means; from them plain Lloyd moves nothing; and no single
    area's move (Hartigan's transfer) lowers the WCSS."""
    n = len(X)
    for j in range(k):
        assert np.allclose(centres[j], X[labels == j].mean(axis=0), rtol=0, atol=1e-12)
    again, _, _ = lloyd_reference(X, centres)
    assert (again == labels).all()
    sizes = np.bincount(labels, minlength=k).astype(float)
    d = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)
    leaving = np.where(sizes[labels] > 1,
                       d[np.arange(n), labels] * sizes[labels] / (sizes[labels] - 1), -np.inf)
    joining = d * sizes / (sizes + 1)
    joining[np.arange(n), labels] = np.inf
    assert (joining.min(axis=1) >= leaving * (1 - 1e-9)).all()


@pytest.mark.parametrize("relaxed", [False, True])
@pytest.mark.parametrize("seed, start", [(0, "random"), (1, "random"), (2, "random"),
                                         (3, "one segment")])
def test_the_polish_from_a_rough_start_ends_exactly_at_an_optimum(seed, start, relaxed,
                                                                  monkeypatch):
    """The polish looks only at the areas its distance bounds do not rule out, and follows
    the segment sums move by move: from random labels, or every area in one segment (the
    empty ones take their farthest areas, which may move on in the same round), with k
    above the data's groups (hundreds of steps), the end must still be exact; also with
    its steps over-relaxed (a large matrix's: centres carried past the means)."""
    monkeypatch.setattr(polish, "OVER_RELAX_FROM", 0 if relaxed else 10 ** 9)
    X = blobs(3000, 5, types=5, seed=14 + seed, spread=1.5)
    k = 12
    labels = (np.random.default_rng(seed).integers(0, k, len(X)) if start == "random"
              else np.zeros(len(X), dtype=np.int64))
    labels, centres, n_iter = polish._polish(X, (X * X).sum(axis=1), labels, k)
    assert n_iter > 30
    assert_lloyd_and_hartigan_optimum(X, labels, centres, k)


def test_a_steps_moves_change_the_sums_the_same_way_with_or_without_a_sparse_matrix(
        monkeypatch):
    """The polish follows the segment sums move by move, each segment's arrivals and
    departures added in area order: through a sparse matrix, or, when each segment has only
    a few, one by one without it. The sums must be the same to the last bit either way
    (the labels of a fit do not depend on which way a step took)."""
    X = blobs(3000, 5, types=5, seed=15, spread=1.5)
    rng = np.random.default_rng(3)
    k = 12
    sums = polish._segment_sums(X, rng.integers(0, k, len(X)), k)[0]
    cases = []
    for moved in [1, 2, 3, 5, 8, 13] * 20:
        areas = np.sort(rng.choice(len(X), moved, replace=False))
        before = rng.integers(0, k, moved)
        cases.append((areas, before, (before + rng.integers(1, k, moved)) % k))
    either = [polish._moved_sums(sums, X, *case) for case in cases]
    monkeypatch.setattr(polish, "FEW_MOVES", 0)  # the sparse matrix every time
    for case, result in zip(cases, either):
        assert np.array_equal(polish._moved_sums(sums, X, *case), result)


# --- reproducible ---

def test_the_same_seed_gives_the_same_labels_and_another_seed_may_not():
    X = blobs(2000, 10, types=9, seed=7, spread=2.0)
    first = fit_kmeans(X, 8, n_init=30, seed=11)
    again = fit_kmeans(X, 8, n_init=30, seed=11)
    assert (first.labels == again.labels).all() and first.wcss == again.wcss
    assert first.stability == again.stability


@pytest.mark.parametrize("n, n_init", [(45_000, 4), (25_000, 4), (3000, 40)])  # sample /
def test_the_same_labels_with_one_or_two_threads(n, n_init):  # greedier seeding / batches
    X = blobs(n, 12, types=9, seed=8, spread=2.0)
    with threadpool_limits(1):
        one = fit_kmeans(X, 8, n_init=n_init, seed=5)
    with threadpool_limits(2):
        two = fit_kmeans(X, 8, n_init=n_init, seed=5)
    assert (one.labels == two.labels).all() and one.wcss == two.wcss


def test_starts_begun_on_a_sample_end_as_well_as_starts_on_all_areas(monkeypatch):
    """Single starts, 40 of each, on the same data: those begun on a sample (a large
    matrix's path, scaled down) end, on average, as near the best optimum found as those
    seeded on all areas (which of 10 or 20 starts finds the best is luck; the mean is not)."""
    X = blobs(4000, 20, types=14, seed=3)

    def excess(sample_areas):
        monkeypatch.setattr(starts, "SAMPLE_AREAS", sample_areas)
        return np.array([fit_kmeans(X, 12, n_init=1, seed=1000 + s).wcss for s in range(40)])

    on_all, on_sample = excess(10 ** 9), excess(1200)
    best = min(on_all.min(), on_sample.min())
    assert (on_sample / best - 1).mean() <= (on_all / best - 1).mean() * 1.25


@pytest.mark.parametrize("n, k, sampled", [(188_880, 10, True), (188_880, 200, True),
                                           (188_880, 201, False), (40_000, 10, False),
                                           (40_001, 2, True)])
def test_a_sample_only_on_a_large_matrix_with_100_areas_per_segment(n, k, sampled):
    sample = starts._first_sample(n, k, 7)
    assert (sample is not None) == sampled
    if sampled:
        assert len(np.unique(sample)) == starts.SAMPLE_AREAS and sample.max() < n
        assert (sample == starts._first_sample(n, k, 7)).all()  # the seed's own


@pytest.mark.parametrize("sample", [0, 600])
def test_the_result_does_not_depend_on_the_batches(sample, monkeypatch):
    if sample:  # every start begins on the same sample, whichever batch it is in
        monkeypatch.setattr(starts, "SAMPLE_AREAS", sample)
        assert starts._first_sample(1500, 6, 2) is not None
    X = blobs(1500, 8, types=7, seed=9, spread=2.0)
    together = fit_kmeans(X, 6, n_init=24, seed=2)
    monkeypatch.setattr(kmeans, "_batch_size", lambda n, k, n_init: 5)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 1)
    apart = fit_kmeans(X, 6, n_init=24, seed=2)
    assert (together.labels == apart.labels).all() and together.wcss == apart.wcss


def test_the_polish_does_not_depend_on_the_rounding_of_matrix_products(monkeypatch):
    """Another BLAS rounds products differently: the labels must not change. (The
    single-precision products are put off by up to a relative 1e-6, some twenty times
    their unit roundoff, within the bound the polish allows them.)"""
    X = blobs(3000, 10, types=8, seed=10, spread=2.5)
    xx = (X * X).sum(axis=1)
    start = fit_kmeans(X, 7, n_init=1, seed=1).labels
    exact = polish._polish(X, xx, start, 7)
    plain, single = polish._blas_squared, polish._single_squared
    rng = np.random.default_rng(0)

    def other_blas(X, xx, centres, cc):
        d = plain(X, xx, centres, cc)
        return d * (1 + rng.uniform(-1e-13, 1e-13, size=d.shape))

    def other_single(rows, centres):
        d = single(rows, centres).astype(np.float64)
        return (d * (1 + rng.uniform(-1e-6, 1e-6, size=d.shape))).astype(np.float32)

    monkeypatch.setattr(polish, "_blas_squared", other_blas)
    monkeypatch.setattr(polish, "_single_squared", other_single)
    perturbed = polish._polish(X, xx, start, 7)
    assert (exact[0] == perturbed[0]).all() and (exact[1] == perturbed[1]).all()
    monkeypatch.setattr(polish, "OVER_RELAX_FROM", 0)  # (a large matrix's steps)
    relaxed = polish._polish(X, xx, start, 7)
    monkeypatch.setattr(polish, "_blas_squared", plain)
    monkeypatch.setattr(polish, "_single_squared", single)
    assert (relaxed[0] == polish._polish(X, xx, start, 7)[0]).all()


def test_areas_nearly_between_two_centres_go_to_the_nearer_exactly():
    """Areas on the boundary between two segments, or nearer one of them by less than
    single precision can tell (1e-12 to 1e-7 of their distance apart), go where
    ``sum((x - c)**2)`` in double precision puts them, and their bounds hold."""
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 3, size=(5, 60))
    mid, normal = (centres[1] + centres[3]) / 2, centres[3] - centres[1]
    along = rng.normal(0, 0.5, size=(3000, 60))
    along -= np.outer(along @ normal / (normal @ normal), normal)  # on the boundary
    nudge = rng.choice([0.0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-7, -1e-7], size=3000)
    X = mid + along + nudge[:, None] * normal
    xx = (X * X).sum(axis=1)
    bounds = polish._Bounds(len(X))
    nearest = polish._nearest_exact(X, xx, centres, np.arange(len(X)), bounds,
                                    starts._augmented(X, xx))
    squared = polish._exact_squared(X, centres)
    assert (nearest == squared.argmin(axis=1)).all()
    assert (np.bincount(nearest, minlength=5)[[1, 3]] > 0).all()  # both sides taken
    ordered = np.sqrt(np.sort(squared, axis=1))
    assert (bounds.upper >= ordered[:, 0]).all() and (bounds.lower <= ordered[:, 1]).all()


def test_equally_good_starts_go_to_the_earliest():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    labels = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [0, 1, 1, 1]], dtype=np.uint8)
    wcss = np.array([1.0, 1.0 - 1e-12, 60.67])  # the second only looks better (rounding)
    assert kmeans._best_start(X, labels, wcss, 2) == 0


# --- progress and cancelling ---

def test_progress_every_tenth_and_cancel_between_batches():
    X = blobs(20_000, 5, types=6, seed=11)
    calls = []
    fit_kmeans(X, 5, n_init=100, seed=1, progress=lambda f, m: calls.append((f, m)))
    assert len(calls) == 101 and len([m for _, m in calls if "random starts" in m]) == 10
    assert [f for f, _ in calls] == sorted(f for f, _ in calls)

    seen = []

    def stop(fraction, message):
        seen.append(fraction)
        raise Cancelled()

    with pytest.raises(Cancelled):
        fit_kmeans(X, 5, n_init=100, seed=1, progress=stop)
    assert len(seen) == 1 and seen[0] < 0.9  # stopped after the first batch


# --- diagnostics computed in batches agree with scikit-learn's ---

def test_adjusted_rand_index_as_scikit_learn():
    rng = np.random.default_rng(3)
    reference = rng.integers(0, 5, 400)
    others = np.stack([rng.integers(0, 5, 400), reference, (reference + 1) % 5,
                       np.where(rng.random(400) < 0.8, reference, 0)])
    ours = partitions._adjusted_rand(reference, others, 5)
    assert ours == pytest.approx([adjusted_rand_score(reference, o) for o in others], abs=1e-12)


def test_silhouette_as_scikit_learn():
    X = blobs(600, 5, types=4, seed=4)
    labels = fit_kmeans(X, 4, n_init=3, seed=1).labels
    labels[0] = 3 if labels[0] != 3 else 2
    from sklearn.metrics import pairwise_distances
    distances = pairwise_distances(X)
    assert choosing_k.silhouette_from_distances(distances, labels) == pytest.approx(
        silhouette_score(distances, labels, metric="precomputed"), abs=1e-12)


# --- batches and choose-k's early stop ---

@pytest.mark.parametrize("n_init, step", [(10, 10), (10, 4), (7, 3), (1, 1), (24, 5)])
def test_batches_cover_the_starts_evenly(n_init, step):
    batches = starts._batches(n_init, step)
    assert [first for first, _ in batches] == [0] + [last for _, last in batches[:-1]]
    assert batches[-1][1] == n_init
    sizes = [last - first for first, last in batches]
    assert max(sizes) <= step and max(sizes) - min(sizes) <= 1
    assert len(batches) % 2 == 0 or len(batches) == n_init


def test_an_early_stop_gives_segment_means_and_a_wcss_near_full_convergence():
    X = blobs(3000, 10, types=12, seed=12, spread=2.5)
    full = fit_kmeans(X, 15, n_init=6, seed=4)
    early = fit_kmeans(X, 15, n_init=6, seed=4, tol=0.01)
    assert early.n_iter == 0
    assert early.wcss == pytest.approx(wcss_of(X, early.labels, 15), rel=1e-12)
    for j in range(15):
        assert np.allclose(early.centres[j], X[early.labels == j].mean(axis=0), atol=1e-12)
    assert early.wcss <= full.wcss * 1.01


def test_calinski_harabasz_and_davies_bouldin_as_scikit_learn():
    X = blobs(2000, 8, types=6, seed=13, spread=2.0)
    for k in (2, 5, 9):
        fit = fit_kmeans(X, k, n_init=3, seed=1, tol=0.01)
        assert choosing_k.calinski_harabasz(X, fit.labels, fit.centres, fit.wcss) == (
            pytest.approx(calinski_harabasz_score(X, fit.labels), rel=1e-9))
        assert choosing_k.davies_bouldin(X, fit.labels, fit.centres) == pytest.approx(
            davies_bouldin_score(X, fit.labels), rel=1e-9)


# --- more starts where they disagree ---

def test_where_the_starts_disagree_more_are_run_and_the_fit_says_so():
    """Camden's real matrix at k = 10: ten starts end in ten different optima, so the
    engine runs more (up to five times as many), says so in the progress log and in the
    result, and ends no worse than with the ten alone."""
    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.prepare import prepare

    X = prepare(load_project(kmeans.__file__.rsplit("/core/", 1)[0]
                             + "/resources/sample_data/camden/camden.toml")).X
    messages = []
    fit = fit_kmeans(X, 10, n_init=10, seed=1, progress=lambda f, m: messages.append(m))
    assert fit.n_starts > 10 and fit.n_starts % 10 == 0
    assert fit.n_starts <= 10 * (1 + kmeans.MORE_ROUNDS)
    assert fit.best_found >= 2 or fit.n_starts == 10 * (1 + kmeans.MORE_ROUNDS)
    assert "starts disagreed" in fit.note and f"{fit.n_starts - 10}" in fit.note
    assert any("starts disagreed" in m for m in messages)
    monkey_rounds = kmeans.MORE_ROUNDS
    try:
        kmeans.MORE_ROUNDS = 0
        ten = fit_kmeans(X, 10, n_init=10, seed=1)
    finally:
        kmeans.MORE_ROUNDS = monkey_rounds
    assert ten.n_starts == 10 and ten.note == ""
    assert fit.wcss <= ten.wcss


def test_where_the_starts_agree_no_more_are_run():
    X = blobs(1500, 6, types=4, seed=2, spread=0.3)
    fit = fit_kmeans(X, 4, n_init=10, seed=3)
    assert fit.n_starts == 10 and fit.best_found >= 2 and fit.note == ""
    one = fit_kmeans(X, 4, n_init=1, seed=3)  # one start asked for: one run
    assert one.n_starts == 1


def test_over_relaxed_starts_end_where_no_area_moves_from_their_means():
    """A large matrix's starts on the sample run over-relaxed Lloyd's iterations (centres
    carried past the means): each must still end where no area moves from its segment
    means (a Lloyd fixed point), with its partition's WCSS."""
    X = blobs(8000, 6, types=30, seed=5, spread=2.5)
    A = starts._augmented(X, starts._squared_norms(X))
    k = 12
    first = X[starts._seed_batch(X, A, k, kmeans.start_seeds(3, 8))]
    for labels, wcss, centres in zip(*starts._lloyd_batch(X, A, first, over_relax=1.0)):
        means = np.array([X[labels == j].mean(axis=0) for j in range(k)])
        np.testing.assert_allclose(centres, means, atol=1e-9)
        assert (starts._nearest_batch(A, centres[None])[0] == labels).all()
        assert wcss == pytest.approx(wcss_of(X, labels, k), rel=1e-9)
