"""Group moves from a polished optimum of a large matrix (see ``kmeans``'s description,
step 7): a few areas at the edge of a segment moved together to a neighbouring segment
(or two such moves chained), then the polish; kept when the WCSS ends lower. Lloyd's
steps and Hartigan's single-area transfers cannot leave an optimum that only a move of
several areas at once improves.
"""

from __future__ import annotations

import math

import numpy as np

from .polish import (
    _blas_squared,
    _Bounds,
    _exact_squared,
    _means,
    _moved_sums,
    _polish,
    _segment_sums,
    _widen,
)
from .starts import _augmented

GROUP_AREAS = 16  # a group: the 2 .. GROUP_AREAS areas of a segment cheapest to move
GROUP_TRIES = 3  # groups tried in a row (each polished) without a gain before the search stops
GROUP_KEPT = 2  # group moves kept at most (each one costs another round of pairs and tries)
GAIN = 1e-12  # WCSS fall for a group move to be kept, relative to the total sum of squares


def _distances(X: np.ndarray, xx: np.ndarray, centres: np.ndarray, chunk: int = 1 << 15
               ) -> np.ndarray:
    """Squared distances from every area to ``centres`` by the matrix product (they only
    narrow the areas down: see ``_pair_moves``)."""
    cc = (centres * centres).sum(axis=1)
    return np.concatenate([_blas_squared(X[a:a + chunk], xx[a:a + chunk], centres, cc)
                           for a in range(0, len(X), chunk)])


def _pair_moves(X: np.ndarray, labels: np.ndarray, centres: np.ndarray, d: np.ndarray,
                slack: float, a: int, targets) -> dict:
    """The group move from segment a to each segment b of ``targets``: of a's areas
    cheapest to move to b (by the WCSS a single move would add, n_b/(n_b+1) d_b -
    n_a/(n_a-1) d_a; ties to the earliest area), the first m = 2 .. GROUP_AREAS, the m
    whose move adds least WCSS (ties to the smaller group): {(a, b): (change in WCSS,
    areas)}. The matrix product's distances ``d`` only narrow the areas down (``slack``
    far above their rounding); the order and the change come from exact distances and
    fixed-order sums, so they are the same whatever the BLAS."""
    areas = np.flatnonzero(labels == a)
    keep = min(GROUP_AREAS, len(areas) - 1)
    if keep < 2:
        return {}
    size = np.bincount(labels, minlength=len(centres)).astype(float)
    sums = centres * size[:, None]
    targets = list(targets)
    cost = d[np.ix_(areas, targets)] * (size[targets] / (size[targets] + 1))[None, :] - (
        d[areas, a] * size[a] / (size[a] - 1))[:, None]
    nth = np.partition(cost, keep - 1, axis=0)[keep - 1]
    m = np.arange(1, keep + 1)
    moves = {}
    for column, b in enumerate(targets):
        near = areas[cost[:, column] <= nth[column] + 8 * slack]
        exact = _exact_squared(X[near], centres[[a, b]])
        moving = exact[:, 1] * size[b] / (size[b] + 1) - exact[:, 0] * size[a] / (size[a] - 1)
        group = near[np.lexsort((near, moving))[:keep]]
        moved = np.cumsum(X[group], axis=0)  # (in the group's order: exact)
        # WCSS = sum |x|^2 - |segment sum|^2 / size: only a's and b's terms change
        change = ((sums[a] ** 2).sum() / size[a] + (sums[b] ** 2).sum() / size[b]
                  - ((sums[a] - moved) ** 2).sum(axis=1) / (size[a] - m)
                  - ((sums[b] + moved) ** 2).sum(axis=1) / (size[b] + m))
        j = 1 + int(np.argmin(change[1:]))
        moves[(a, int(b))] = (float(change[j]), group[:j + 1])
    return moves


def _chain(moves: dict) -> list:
    """The chain of two group moves, a to b and b to c (c not a), whose changes in WCSS
    add up to least (ties to the lowest segments), as a list of one try ([] if none):
    moved together, each shifts b's centre the way that draws the other's areas on, where
    either alone is undone by the polish (national matrix, k = 5, seed 2: 2 areas of one
    segment to a second and 2 of that one to a third, polished, end at R's optimum, 8
    areas from the start, which neither move reached alone)."""
    segments = sorted({segment for pair in moves for segment in pair})
    chains = [(moves[a, b][0] + moves[b, c][0], (a, b, c)) for a, b in moves
              for c in segments if c != a and (b, c) in moves]
    if not chains:
        return []
    a, b, c = min(chains)[1]
    return [[(a, b), (b, c)]]


def _explained(centres: np.ndarray, labels: np.ndarray) -> float:
    """The sum of squares the segments explain, sum over segments of n |mean|^2: the WCSS
    is the areas' total sum of squares less this, so the partition that explains more
    has the lower WCSS. The means are those the polish sums in a fixed order: the same
    figure on every machine."""
    counts = np.bincount(labels, minlength=len(centres))
    return math.fsum(counts * (centres * centres).sum(axis=1))


def _group_moves(X: np.ndarray, xx: np.ndarray, labels: np.ndarray, centres: np.ndarray,
                 k: int, n_iter: int, single: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """From a polished optimum (``labels``, their exact ``centres``): of the group moves
    between every ordered pair of segments (``_pair_moves``), the GROUP_TRIES that add
    least WCSS by themselves (or take most off; ties to the lowest segments) are tried in
    turn, each followed by the polish; the first that ends lower than the optimum by
    GAIN of the areas' total sum of squares is kept, and the search goes on from there
    (only the pairs with a segment it changed are worked out again), until GROUP_TRIES
    moves in a row and then a chain of two (``_chain``) end no lower, or GROUP_KEPT
    moves are kept. Every decision comes from
    exact, fixed-order sums, so the result does not depend on the BLAS or its threads.
    Returns (labels, their means summed afresh, polish steps, group moves kept).
    ``single``: the areas' single-precision rows for the polish (made here if not
    given)."""
    if single is None:
        single = _augmented(X, xx)
    margin = GAIN * math.fsum(xx)
    d = _distances(X, xx, centres)
    rows = np.arange(len(X))
    own = d[rows, labels]
    d[rows, labels] = np.inf  # (for the nearest other centre; put back below)
    bounds = _Bounds(len(X))
    bounds.set(rows, own, d.min(axis=1), _widen(xx, (centres * centres).sum(axis=1)))
    d[rows, labels] = own
    changed = set(range(k))
    moves: dict = {}
    kept = 0
    while kept < GROUP_KEPT:
        sums = _segment_sums(X, labels, k)[0]
        slack = float(_widen(xx, (centres * centres).sum(axis=1)).max())
        # (a pair worked out again may have no move now: a segment of 2 areas has none)
        moves = {pair: move for pair, move in moves.items() if not changed & set(pair)}
        for a in range(k):
            targets = [b for b in range(k) if b != a and (a in changed or b in changed)]
            if targets:
                moves.update(_pair_moves(X, labels, centres, d, slack, a, targets))
        explained = _explained(centres, labels)
        ranked = sorted(moves, key=lambda pair: (moves[pair][0], pair))[:GROUP_TRIES]
        for pairs in [[pair] for pair in ranked] + _chain(moves):
            group = np.concatenate([moves[pair][1] for pair in pairs])
            before, to = (np.concatenate([np.full(len(moves[pair][1]), pair[end])
                                          for pair in pairs]) for end in (0, 1))
            moved = labels.copy()
            moved[group] = to
            tried = _Bounds(len(X))
            tried.upper[:], tried.lower[:] = bounds.upper, bounds.lower
            tried.forget(group)
            final, after, steps = _polish(X, xx, moved, k, tried, centres,
                                          _moved_sums(sums, X, group, before, to), single)
            if _explained(after, final) > explained + margin:
                differ = final != labels
                changed = set(np.unique(np.concatenate([labels[differ], final[differ]]))
                              .tolist())
                labels, centres, bounds, kept = final, after, tried, kept + 1
                n_iter += steps
                if kept < GROUP_KEPT:
                    columns = sorted(changed)
                    d[:, columns] = _distances(X, xx, centres[columns])
                break
        else:
            break
    if not kept:  # (the optimum's own means, summed afresh by the polish that ended there)
        return labels, centres, n_iter, kept
    # the means summed afresh (a polish that moved nothing after the group ends on the
    # sums the group's move left)
    sums, counts = _segment_sums(X, labels, k)
    return labels, _means(sums, counts, centres), n_iter, kept
