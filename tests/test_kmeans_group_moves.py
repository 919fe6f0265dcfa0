"""Group moves after the polish (``group_moves``, ``kmeans``'s step 7): a few edge areas
of a segment moved together to a neighbouring segment (or two such moves chained), then
polished, kept only when the WCSS ends lower. On hand-made cases where no single area
(and no single group) can move, on Camden's real areas, and through the fit on a large
matrix made of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from community_safety.core.segment.group_moves import _distances, _group_moves, _pair_moves
from community_safety.core.segment.kmeans import fit_kmeans
from community_safety.core.segment.polish import (
    _means,
    _polish,
    _segment_sums,
    _wcss,
    _widen,
)

CAMDEN = Path(__file__).resolve().parent.parent / "resources" / "sample_data" / "camden"


def means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    sums, counts = _segment_sums(X, labels, k)
    return _means(sums, counts, sums)


def test_a_group_leaves_an_optimum_no_single_area_can_leave():
    """20 areas at 0 and 4 at 4.2 in one segment, 2 areas at 10 in the other. No area
    moves: each of the four is nearer its own mean (0.7) than 10, and moving one alone
    to the small segment would add 9.65 to the WCSS (Hartigan's test: 2/3 x 5.8^2 -
    24/23 x 3.5^2). Moved together they take the WCSS from 58.80 to 44.85, the best split
    of these areas (they lie on a line: the best of all 25 cuts of the sorted values)."""
    X = np.array([[0.0]] * 20 + [[4.2]] * 4 + [[10.0]] * 2)
    xx = (X * X).sum(axis=1)
    stuck = np.array([0] * 24 + [1] * 2)
    polished, centres, _ = _polish(X, xx, stuck, 2)
    assert np.array_equal(polished, stuck)  # Lloyd and Hartigan leave it as it is
    before = _wcss(X, centres, polished)
    labels, after, _, moved = _group_moves(X, xx, polished, centres, 2, 0)
    cuts = [_wcss(X, means(X, (np.arange(26) >= cut).astype(np.int64), 2),
                  (np.arange(26) >= cut).astype(np.int64)) for cut in range(1, 26)]
    assert moved == 1
    assert labels.tolist() == [0] * 20 + [1] * 6
    assert _wcss(X, after, labels) == pytest.approx(min(cuts)) and min(cuts) < before - 13
    assert np.array_equal(_polish(X, xx, labels, 2)[0], labels)  # still a polished optimum


def test_a_chain_of_two_group_moves_leaves_an_optimum_no_one_group_move_leaves():
    """9 areas at 3.5, 8 at 5.5, 9 at 13.5 and 11 at 18.5 in three segments: {3.5},
    {5.5} and {13.5, 18.5}, WCSS 123.75, which the polish leaves as it is. Every group
    move between two segments, polished, comes back there; moved together, 2 areas of
    13.5 to the middle segment and 2 of 5.5 from it to the left one (a chain, as on the
    national matrix at k = 5, seed 2) draw the rest after them: the WCSS ends at 16.94,
    {3.5, 5.5}, {13.5}, {18.5}, the best split of these areas (the best of all cuts of
    the sorted values)."""
    X = np.array([[3.5]] * 9 + [[5.5]] * 8 + [[13.5]] * 9 + [[18.5]] * 11)
    xx = (X * X).sum(axis=1)
    stuck = np.array([0] * 9 + [1] * 8 + [2] * 20)
    polished, centres, _ = _polish(X, xx, stuck, 3)
    assert np.array_equal(polished, stuck)
    d = _distances(X, xx, centres)
    slack = float(_widen(xx, (centres * centres).sum(axis=1)).max())
    for a in range(3):
        for (_, b), (_, group) in _pair_moves(X, stuck, centres, d, slack, a,
                                              [b for b in range(3) if b != a]).items():
            moved = stuck.copy()
            moved[group] = b
            assert np.array_equal(_polish(X, xx, moved, 3)[0], stuck)  # back where it was
    labels, after, _, kept = _group_moves(X, xx, polished, centres, 3, 0)
    cuts = [(np.arange(37) >= first).astype(np.int64) + (np.arange(37) >= second)
            for first in range(1, 36) for second in range(first + 1, 37)]
    best = min(_wcss(X, means(X, cut, 3), cut) for cut in cuts)
    assert kept == 1
    assert labels.tolist() == [0] * 17 + [1] * 9 + [2] * 11
    assert _wcss(X, after, labels) == pytest.approx(best) and best < 17
    assert np.array_equal(_polish(X, xx, labels, 3)[0], labels)


def test_group_moves_go_on_after_a_move_leaves_a_segment_of_two_areas():
    """12 areas at 0, 12 at 3.5, 2 at 11.5 and 10 at 20: {0}, {3.5, 11.5}, {20}, WCSS
    109.71. The first group move takes the 12 at 3.5 to the left segment and leaves 2
    areas in the middle one, too few for a group move of their own: the search goes on
    from the pairs as they now are (it once tried the middle segment's earlier move
    again, whose areas had left it, and the polish never ended) and ends at {0, 3.5},
    {11.5}, {20}, WCSS 73.5, the best split of these areas."""
    X = np.repeat([0.0, 3.5, 11.5, 20.0], [12, 12, 2, 10])[:, None]
    xx = (X * X).sum(axis=1)
    stuck = np.array([0] * 12 + [1] * 14 + [2] * 10)
    polished, centres, _ = _polish(X, xx, stuck, 3)
    assert np.array_equal(polished, stuck)
    labels, after, _, kept = _group_moves(X, xx, polished, centres, 3, 0)
    assert kept == 1
    assert labels.tolist() == [0] * 24 + [1] * 2 + [2] * 10
    assert _wcss(X, after, labels) == pytest.approx(73.5)
    assert np.array_equal(_polish(X, xx, labels, 3)[0], labels)


@pytest.fixture(scope="module")
def camden() -> np.ndarray:
    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.prepare import prepare

    return prepare(load_project(CAMDEN / "camden.toml")).X


@pytest.mark.parametrize("k", [6, 12])
def test_group_moves_never_raise_the_wcss_and_end_at_a_polished_optimum(camden, k):
    """From the polished optima of 12 random partitions of Camden's 749 real areas: the
    WCSS after the group moves is never higher, lower for some, and the result is one the
    polish leaves as it is; the same labels with the BLAS held to one thread."""
    X = camden
    xx = (X * X).sum(axis=1)
    lower = 0
    for seed in range(12):
        start = np.random.default_rng(seed).integers(0, k, len(X))
        labels, centres, _ = _polish(X, xx, start, k)
        before = _wcss(X, centres, labels)
        moved, after, _, kept = _group_moves(X, xx, labels.copy(), centres.copy(), k, 0)
        assert _wcss(X, after, moved) <= before
        assert (kept > 0) == (_wcss(X, after, moved) < before)
        assert np.array_equal(_polish(X, xx, moved, k)[0], moved)
        np.testing.assert_array_equal(after, means(X, moved, k))
        with threadpool_limits(1):
            again = _group_moves(X, xx, labels.copy(), centres.copy(), k, 0)[0]
        assert np.array_equal(again, moved)
        lower += kept > 0
    assert lower > 0


def test_the_fit_on_a_large_matrix_says_what_the_group_moves_took_off(camden):
    """60 copies of Camden's areas, each moved by a little noise (44,940 areas: the
    large-matrix path), k = 12, seed 3: group moves are kept, the fit's WCSS is its
    labels', and the note says how much lower the moves took it, and to what."""
    rng = np.random.default_rng(0)
    large = np.concatenate([camden + rng.normal(0, 0.05, camden.shape) for _ in range(60)])
    fit = fit_kmeans(large, 12, n_init=4, seed=3)
    assert fit.wcss == pytest.approx(_wcss(large, means(large, fit.labels, 12), fit.labels),
                                     rel=1e-12)
    assert fit.group_moves > 0
    assert (f"{fit.group_moves} group moves of areas between segments after the polish "
            f"took the within-segment sum of squares") in fit.note
    assert fit.note.endswith(f"lower (to {fit.wcss:,.2f}).")
