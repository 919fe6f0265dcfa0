"""The exact, order-independent steps of a k-means fit, in double precision: segment sums
and means, the WCSS, and the polish of the best start (Lloyd's steps with Hamerly's
bounds, then Hartigan's single-area transfers) until no area moves (see ``kmeans``'s
description, step 4). Its distances come from a single-precision product; every decision
its rounding could sway is taken again in double precision.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse

from .starts import MANY_AREAS, _augmented, _centre_rows

POLISH_MAX_ITER = 100_000  # the polish's steps at most (national, k = 40: 3,153)
CLOSE_CENTRES = 1e-10  # relative distance gap under which an area's label is recomputed exactly
FEW_MOVES = 8  # arrivals and departures of a segment at most, for its sums' change summed in turn
OVER_RELAX = 0.7  # a Lloyd step's centres carried this far past the means, by their step
OVER_RELAX_MOVES = 0.01  # ... when the step moved at most this share of the areas
OVER_RELAX_FROM = MANY_AREAS  # ... on a matrix of this many areas or more


def _segment_sums(X: np.ndarray, labels: np.ndarray, k: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Segment sums and sizes, each segment's areas added one by one in their order (a
    sparse product, no BLAS), so that they are the same on every machine."""
    counts = np.bincount(labels, minlength=k)
    onehot = sparse.csr_matrix(
        (np.ones(len(labels)), np.argsort(labels.astype(np.min_scalar_type(k)), kind="stable"),
         np.concatenate([[0], np.cumsum(counts)])), shape=(k, len(labels)))
    return onehot @ X, counts


def _means(sums: np.ndarray, counts: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Segment means; an empty segment keeps its previous centre."""
    return np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], previous)


def _exact_squared(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared distances from each row of X to each centre, as sum((x - c)**2) area by
    area: no matrix product, so the same on every BLAS and thread count."""
    return ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)


def _wcss(X: np.ndarray, centres: np.ndarray, labels: np.ndarray, chunk: int = 1 << 15
          ) -> float:
    total = 0.0
    for a in range(0, len(X), chunk):
        gap = np.take(centres, labels[a:a + chunk], axis=0)
        np.subtract(X[a:a + chunk], gap, out=gap)
        total += float(np.square(gap, out=gap).sum())
    return total


def _blas_squared(X, xx, centres, cc):
    """Squared distances by a matrix product (fast; rounding depends on the BLAS). (The
    product with -2c is -2 times that with c, to the last bit: a power of two.)"""
    d = X @ (-2 * centres).T
    d += xx[:, None]
    d += cc[None, :]
    return d


class _Bounds:
    """For each area, an upper bound on its distance to its own segment's centre and a lower
    bound on its distance to every other centre (Hamerly 2010), valid for the centres they
    were last moved with. An area whose upper bound is below its lower bound has no nearer
    centre and no transfer that could lower the WCSS much, so the polish's Lloyd steps and
    transfer rounds look again only at the others: near the end a step moves a few areas
    near a boundary and leaves most bounds apart. The squared distances they come from (a
    matrix product) are widened by at least its rounding error, so that skipping an
    area never changes a label."""

    def __init__(self, n: int):
        self.upper = np.full(n, np.inf)
        self.lower = np.zeros(n)

    def set(self, areas, own, other, widen):
        """From squared distances to the own and the nearest other centre."""
        self.upper[areas] = np.sqrt(np.maximum(own, 0) + widen)
        self.lower[areas] = np.sqrt(np.maximum(other - widen, 0))

    def forget(self, areas=slice(None)):
        self.upper[areas] = np.inf

    def centres_moved(self, shift: np.ndarray, labels: np.ndarray) -> None:
        """Centres moved by ``shift`` (distances): the triangle inequality."""
        self.upper += np.take(shift, labels)
        self.lower -= shift.max()

    def unsure(self) -> np.ndarray:
        return np.flatnonzero(self.upper >= self.lower)


def _widen(xx, cc):
    """How far a squared distance from the matrix product may be trusted to be off: a
    relative CLOSE_CENTRES of the sizes involved, far above the product's rounding."""
    return CLOSE_CENTRES * (xx + cc.max() + 1.0)


def _single_squared(rows: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared distances from areas (their single-precision rows [x, 1, |x|^2], as
    ``starts._augmented`` makes them) to centres, by one single-precision matrix product:
    half the bytes of the double-precision product to gather and multiply, and about half
    its time; its rounding depends on the BLAS (``_single_widen`` bounds it)."""
    return rows @ _centre_rows(centres).T


def _single_widen(xx: np.ndarray, cc: np.ndarray, p: int) -> np.ndarray:
    """How far the gap between two of an area's squared distances from ``_single_squared``
    may be off, at most, on any BLAS and in any summation order. Each distance sums p + 2
    products whose absolute values add up to at most 2 (|x|^2 + |c|^2); rounding the
    rows and the centres to single precision (unit roundoff u = 2^-24) and summing in any
    order (Higham, *Accuracy and Stability of Numerical Algorithms*, 3.1) errs by at most
    about (p + 4) u times that, and rounding the result by u times it: (p + 6) u x 2
    (|x|^2 + |c|^2) a distance, twice that for a gap of two. (Some 1.5e-5 of the sizes
    for 60 variables; a bound from it errs the same way: never too tight.)"""
    return (p + 6) * 2.0 ** -22 * (xx + cc.max() + 1.0)


def _two_nearest(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From squared distances (areas x centres): each area's nearest centre (ties to the
    lowest), its distance and the distance to the next nearest. (Worked out centre by
    centre on the distances turned around, areas along the rows: a minimum over a short
    row of each area costs twice as much.)"""
    turned = np.ascontiguousarray(d.T)
    first = turned.min(axis=0)
    nearest = np.full(len(first), len(turned) - 1)
    for centre in range(len(turned) - 2, -1, -1):
        nearest[turned[centre] == first] = centre
    turned[nearest, np.arange(len(first))] = np.inf
    second = turned.min(axis=0) if len(turned) > 1 else np.full(len(first), np.inf)
    return nearest, first.astype(np.float64), second.astype(np.float64)


def _nearest_exact(X: np.ndarray, xx: np.ndarray, centres: np.ndarray, areas: np.ndarray,
                   bounds: _Bounds, rows: np.ndarray, chunk: int = 1 << 15) -> np.ndarray:
    """The nearest centre of each of ``areas``, ties to the lowest segment, exactly as
    ``argmin(sum((x - c)**2))`` would give it, whatever the BLAS: the distances come from
    the single-precision product (``rows``: the areas' rows for it), and the areas whose
    two nearest centres are close enough for its rounding to matter (``_single_widen``)
    are decided again area by area in double precision. Their ``bounds`` are set from the
    same distances, widened as much."""
    k, p = centres.shape
    cc = (centres * centres).sum(axis=1)
    labels = np.empty(len(areas), dtype=np.int64)
    for a in range(0, len(areas), chunk):
        part = areas[a:a + chunk]
        nearest, first, second = _two_nearest(
            _single_squared(np.take(rows, part, axis=0), centres))
        widen = _single_widen(xx[part], cc, p)
        bounds.set(part, first, second, widen)
        doubtful = np.flatnonzero(second - first <= widen)
        if len(doubtful):  # (their bounds overlap: they are looked at again next time)
            nearest[doubtful] = _exact_squared(X[part[doubtful]], centres).argmin(axis=1)
        labels[a:a + chunk] = nearest
    return labels


def _transfers(X: np.ndarray, xx: np.ndarray, labels: np.ndarray, centres: np.ndarray,
               counts: np.ndarray, bounds: _Bounds, rows: np.ndarray, chunk: int = 1 << 15
               ) -> list:
    """Hartigan's single-area transfers (see ``kmeans``'s description): ``labels``,
    ``centres`` and ``counts`` updated in place; returns the moves, (area, its segment
    before). Areas whose bounds rule a transfer out are not looked at; of the others,
    those whose distances from the single-precision product (``rows``, as for
    ``_nearest_exact``) leave a transfer possible within their rounding (a transfer's
    test compares three distances' worth: the joining distance, and the own one times at
    most 2) are worked out again exactly (``_transfer_gain``), and those within a
    relative CLOSE_CENTRES of a gain are tried in turn, in area order. (The areas tried
    must not depend on the BLAS: a transfer moves two centres, and the next area's
    outcome with them.)"""
    moves = []
    for empty in np.flatnonzero(counts == 0):  # an empty segment takes the farthest area
        own = np.concatenate([
            _exact_squared_own(X[a:a + chunk], centres, labels[a:a + chunk])
            for a in range(0, len(X), chunk)])
        own[counts[labels] < 2] = -1.0
        far = int(np.argmax(own))
        if own[far] <= 0:
            break  # every area sits on its centre: nothing to gain
        moves.append((far, int(labels[far])))
        _move(X[far], labels, centres, counts, far, int(labels[far]), int(empty))
    emptied = bool(moves)  # the centres moved: no bound holds (said again at the end)
    if emptied:
        bounds.forget()
    size = counts.astype(float)
    # n_b/(n_b+1) d_b >= min_b n_b/(n_b+1) lower^2, and n_a/(n_a-1) d_a <= ... upper^2
    with np.errstate(divide="ignore", invalid="ignore"):  # (alone: never leaves; inf x 0)
        leaving = np.where(size > 1, size / (size - 1), 0.0)  # (by segment)
        maybe = np.flatnonzero((size / (size + 1)).min() * bounds.lower ** 2
                               < np.take(leaving, labels) * bounds.upper ** 2)
    cc = (centres * centres).sum(axis=1)
    candidates = []
    for a in range(0, len(maybe), chunk):
        part = maybe[a:a + chunk]
        d = _single_squared(np.take(rows, part, axis=0), centres)
        own_label = labels[part]
        lines = np.arange(len(d))
        own = d[lines, own_label].astype(np.float64)
        widen = _single_widen(xx[part], cc, X.shape[1])
        joining = d * (size / (size + 1.0))[None, :]
        d[lines, own_label] = np.inf
        bounds.set(part, own, d.min(axis=1).astype(np.float64), widen)
        joining[lines, own_label] = np.inf
        near = part[joining.min(axis=1) - own * leaving[own_label] < 2 * widen]
        candidates.append(near[_transfer_gain(X[near], labels[near], centres, size,
                                              leaving) < _widen(xx[near], cc)])
    for i in np.concatenate(candidates) if candidates else ():
        here = int(labels[i])
        if counts[here] < 2:
            continue
        d = _exact_squared(X[i:i + 1], centres)[0]
        leaves = d[here] * counts[here] / (counts[here] - 1)
        joins = d * counts / (counts + 1.0)
        joins[here] = np.inf
        there = int(np.argmin(joins))
        if joins[there] < leaves * (1 - 1e-12):
            moves.append((int(i), here))
            _move(X[i], labels, centres, counts, int(i), here, there)
    bounds.forget(slice(None) if emptied else [i for i, _ in moves])
    return moves


def _transfer_gain(X: np.ndarray, labels: np.ndarray, centres: np.ndarray,
                   size: np.ndarray, leaving: np.ndarray) -> np.ndarray:
    """For each area (row of ``X``, in segment ``labels``), its least joining cost
    n_b/(n_b+1) d_b over the other segments less its leaving gain n_a/(n_a-1) d_a, from
    ``sum((x - c)**2)``: negative when a transfer lowers the WCSS."""
    d = _exact_squared(X, centres)
    lines = np.arange(len(d))
    own = d[lines, labels] * leaving[labels]
    d *= (size / (size + 1.0))[None, :]
    d[lines, labels] = np.inf
    return d.min(axis=1) - own


def _exact_squared_own(X, centres, labels):
    return ((X - centres[labels]) ** 2).sum(axis=1)


def _move(x, labels, centres, counts, i, here, there):
    centres[here] += (centres[here] - x) / (counts[here] - 1)
    centres[there] += (x - centres[there]) / (counts[there] + 1)
    counts[here] -= 1
    counts[there] += 1
    labels[i] = there


def _moved_sums(sums: np.ndarray, X: np.ndarray, areas: np.ndarray, before: np.ndarray,
                after: np.ndarray) -> np.ndarray:
    """Segment sums after ``areas`` moved from segments ``before`` to ``after``: each
    segment's arrivals (+x) and departures (-x) added one by one in area order to a zero
    change (a sparse product, no BLAS), then added to its sum. The sparse matrix is built
    in its sorted form directly (a conversion from coordinates cost about 1 ms a step of
    the polish); when each segment has at most FEW_MOVES arrivals and departures (most
    steps near the end), they are added in the same order without it, to the last bit
    the same (a step that moves 6 areas: 0.26 ms, 0.35 ms with the sparse matrix)."""
    m = len(areas)
    rows = np.concatenate([after, before])
    order = np.lexsort((np.tile(np.arange(m), 2), rows))  # by segment, then by area
    counts = np.bincount(rows, minlength=len(sums))
    starts = np.concatenate([[0], np.cumsum(counts)])
    if counts.max() <= FEW_MOVES:
        segments = rows[order]
        rank = np.arange(2 * m) - starts[segments]  # each entry's place in its segment
        signed = np.take(X, areas[order % m], axis=0)
        signed[order >= m] *= -1.0
        change = np.zeros_like(sums)
        for place in range(int(counts.max())):
            here = rank == place  # (one entry per segment at most)
            change[segments[here]] += signed[here]
        return sums + change
    change = sparse.csr_matrix(
        (np.where(order < m, 1.0, -1.0), order % m, starts), shape=(len(sums), m))
    return sums + change @ X[areas]


def _polish(X: np.ndarray, xx: np.ndarray, labels: np.ndarray, k: int,
            bounds: _Bounds | None = None, assigned_to: np.ndarray | None = None,
            sums: np.ndarray | None = None, rows: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Lloyd's steps and Hartigan's transfers in double precision until no area moves.
    The segment sums follow the moves (in a fixed order); once nothing moves they are
    summed afresh, and the polish ends when nothing moves from those exact means.
    ``bounds`` (with the centres ``assigned_to`` they hold for: labels just assigned to
    them) spare the first step a look at every area; the result is the same. ``sums``:
    the labels' segment sums, when known (from fixed-order sums). ``rows``: the areas'
    single-precision rows for the Lloyd steps' distances (``starts._augmented``), made
    here when not given.

    Over-relaxed steps (a matrix of OVER_RELAX_FROM areas or more): after a Lloyd step
    that moved at most OVER_RELAX_MOVES of the areas and did not raise the WCSS (known
    from the sums: sum |x|^2 - sum |sum_a|^2 / n_a), the next centres are carried
    OVER_RELAX times their step past the segment means, mean + OVER_RELAX (mean -
    centre): near the end a step moves a few areas near a boundary and the centres creep
    the same way for a hundred steps or more. The bounds move by the centres' real
    shifts, so they hold; the transfers, and the end, run only from the segment means
    (a step from centres past them that moves nothing is followed by one from the means)."""
    labels = labels.astype(np.int64)
    if rows is None:
        rows = _augmented(X, xx)
    counts = np.bincount(labels, minlength=k)
    if sums is None:
        sums = _segment_sums(X, labels, k)[0]
    # (an empty segment starts at the mean of all areas, worked out only then: on a large
    # matrix it costs as much as a step of a polish that moves a few areas)
    centres = _means(sums, counts, np.broadcast_to(X.mean(axis=0), sums.shape)
                     if (counts == 0).any() else sums)
    if bounds is None:
        bounds = _Bounds(len(X))
    else:
        bounds.centres_moved(np.sqrt(((centres - assigned_to) ** 2).sum(axis=1))
                             * (1 + 1e-12), labels)
    exact = True  # the centres are the segment means summed afresh
    at_means = True  # the centres are the segment means (not carried past them)
    cost = np.inf  # the partition's WCSS less the sum of squares of all areas
    large = len(X) >= OVER_RELAX_FROM  # (steps over-relaxed)
    for iteration in range(1, POLISH_MAX_ITER + 1):
        unsure = bounds.unsure()
        nearest = _nearest_exact(X, xx, centres, unsure, bounds, rows)
        changed = nearest != labels[unsure]
        relax = False  # the next centres carried past the means
        if changed.any():
            areas, after = unsure[changed], nearest[changed]
            before = labels[areas]
            counts = counts + np.bincount(after, minlength=k) - np.bincount(before,
                                                                             minlength=k)
            relax = large and len(areas) <= OVER_RELAX_MOVES * len(X)
        elif not at_means:  # nothing moves from centres past the means: to the means
            areas = before = after = np.empty(0, dtype=np.int64)
        else:  # (the transfers update the labels and the counts themselves)
            moves = _transfers(X, xx, labels, centres.copy(), counts, bounds, rows)
            if not moves and exact:
                return labels, centres, iteration
            first: dict[int, int] = {}  # each area's segment before its first move
            for area, segment in moves:
                first.setdefault(area, segment)
            areas = np.array(sorted(first), dtype=np.int64)
            before = np.array([first[area] for area in areas], dtype=np.int64)
            moved = labels[areas] != before  # (an area may have moved back)
            areas, before = areas[moved], before[moved]
            after = labels[areas]
        labels[areas] = after
        if len(areas):
            sums, exact = _moved_sums(sums, X, areas, before, after), False
        elif at_means:
            sums, exact = _segment_sums(X, labels, k)[0], True
        moved = _means(sums, counts, centres)
        if large:  # (a step that raised the WCSS is followed by one from the means)
            was, cost = cost, -float(((sums * sums).sum(axis=1) / np.maximum(counts, 1)
                                      ).sum())
            relax = relax and cost <= was
        if relax:
            moved = np.where(counts[:, None] > 0, moved + OVER_RELAX * (moved - centres),
                             centres)
        at_means = not relax
        bounds.centres_moved(np.sqrt(((moved - centres) ** 2).sum(axis=1)) * (1 + 1e-12),
                             labels)
        centres = moved
    raise RuntimeError(f"k-means did not converge in {POLISH_MAX_ITER} iterations")
