"""The random starts of a k-means fit, a batch at a time, in single precision: greedy
k-means++ seeding, then Lloyd's iterations, every start of a batch moving in step as one
array computation; on a large matrix they begin on a sample of the areas (see ``kmeans``'s
description, step 2), and the batches' sizes.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sparse

MAX_ITER = 3000  # Lloyd iterations of a start at most (one still moving then is taken as it is)
BATCH_CELLS = 1 << 22  # areas x starts of a batch at most (about 30 bytes each)
CHUNK_CELLS = 1 << 19  # area x centre distances of one chunk of areas (2 MB: in cache)
SEED_TRIALS = 16  # candidates per centre in the k-means++ seeding on a large matrix
MANY_AREAS = 20_000  # a large matrix: from this many areas
SAMPLE_AREAS = 20_000  # above twice this many areas, the starts begin on a sample this size
SAMPLE_OVER_RELAX = 1.0  # on the sample, a start's centres carried this far past the means
OVER_RELAX_MOVES = 0.01  # ... after an iteration that moved at most this share of its areas


def _label_dtype(k: int):
    return np.uint8 if k <= 256 else np.int32


def _augmented(X: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Areas as single-precision rows [x, 1, |x|^2] (``xx``: their squared norms): one
    matrix product with centre rows [-2c, |c|^2, 1] (``_centre_rows``) then gives squared
    distances |x - c|^2 directly."""
    rows = np.empty((len(X), X.shape[1] + 2), dtype=np.float32)
    rows[:, :-2] = X
    rows[:, -2] = 1
    rows[:, -1] = xx
    return rows


def _squared_norms(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def _centre_rows(centres: np.ndarray) -> np.ndarray:
    """Centres (..., p) as single-precision rows [-2c, |c|^2, 1], (centres, p + 2)."""
    flat = centres.reshape(-1, centres.shape[-1])
    rows = np.empty((len(flat), flat.shape[1] + 2), dtype=np.float32)
    rows[:, :-2] = -2 * flat
    rows[:, -2] = (flat * flat).sum(axis=1)
    rows[:, -1] = 1
    return rows


def _uniforms(seeds: list, count: int) -> np.ndarray:
    """``count`` uniform numbers in [0, 1) for each start, a function of its own seed and
    nothing else: (starts, count). SplitMix64's output function (Steele, Lea and Flood
    2014) applied to seed x 2^32 + i -- one array computation for a whole batch, where a
    generator per start costs tens of microseconds each."""
    with np.errstate(over="ignore"):
        z = (np.asarray(seeds, dtype=np.uint64)[:, None] << np.uint64(32)) + np.arange(
            count, dtype=np.uint64)[None, :]
        z += np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def _trials(k: int, n: int) -> int:
    """Candidates per centre in the greedy k-means++ seeding: scikit-learn's 2 + ln k, or
    SEED_TRIALS on a large matrix (see ``kmeans``'s description)."""
    return max(SEED_TRIALS if n >= MANY_AREAS else 0, 2 + int(math.log(k)))


def _seed_batch(X: np.ndarray, A: np.ndarray, k: int, seeds: list, n_all: int = 0
                ) -> np.ndarray:
    """Greedy k-means++ for a batch of starts: the centres' row numbers, (starts, k)."""
    S, n = len(seeds), len(X)
    trials = _trials(k, max(n, n_all))
    draws = _uniforms(seeds, 1 + (k - 1) * trials)
    chosen = np.empty((S, k), dtype=np.int64)
    chosen[:, 0] = np.minimum((draws[:, 0] * n).astype(np.int64), n - 1)
    closest = _centre_rows(X[chosen[:, 0]]) @ A.T  # (S, n) squared distances
    np.maximum(closest, 0, out=closest)
    rows = np.arange(S)
    for c in range(1, k):
        # candidates drawn with probability proportional to the squared distance (inverse
        # distribution function): every start's cumulative sums, end to end, searched once
        cumulative = np.cumsum(closest, axis=None, dtype=np.float64)
        ends = cumulative[n - 1::n]
        bases = np.concatenate([[0.0], ends[:-1]])
        targets = bases[:, None] + draws[:, 1 + (c - 1) * trials:1 + c * trials] * (
            ends - bases)[:, None]
        found = np.searchsorted(cumulative, targets.ravel()).reshape(S, trials)
        candidates = np.clip(found - rows[:, None] * n, 0, n - 1)
        # each candidate's total squared distance were it chosen, a chunk of areas at a time
        candidate_rows = _centre_rows(X[candidates.ravel()])
        totals = np.zeros((S, trials))
        step = max(64, CHUNK_CELLS // (S * trials))
        for a in range(0, n, step):
            d = (candidate_rows @ A[a:a + step].T).reshape(S, trials, -1)
            np.minimum(d, closest[:, None, a:a + step], out=d)
            totals += d.sum(axis=2)
        chosen[:, c] = candidates[rows, totals.argmin(axis=1)]
        np.minimum(closest, _centre_rows(X[chosen[:, c]]) @ A.T, out=closest)
        np.maximum(closest, 0, out=closest)
    return chosen


def _nearest_batch(A: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The nearest centre of each area for a batch of starts, in single precision:
    ``centres`` (S, k, p) -> labels (S, areas); ties to the lowest segment.

    The segment number is written into the lowest bits of each squared distance (a
    non-negative float orders as its bit pattern does), so that one minimum over the
    centres gives the label: the distances lose those bits (a relative 2^-19 for k <= 16),
    which the double-precision polish does not depend on."""
    S, k, p = centres.shape
    n = len(A)
    rows = _centre_rows(centres)
    bits = max(1, (k - 1).bit_length())
    keep = np.int32(~((1 << bits) - 1))
    tags = np.arange(k, dtype=np.int32)[None, :, None]
    labels = np.empty((S, n), dtype=_label_dtype(k))
    step = max(64, CHUNK_CELLS // (S * k))
    for a in range(0, n, step):
        b = min(n, a + step)
        packed = (rows @ A[a:b].T).view(np.int32).reshape(S, k, b - a)
        packed &= keep
        packed |= tags
        labels[:, a:b] = packed.min(axis=1) & ~keep
    return labels


def _lloyd_batch(X: np.ndarray, A: np.ndarray, centres: np.ndarray, tol: float = 0.0,
                 over_relax: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lloyd's iterations for a batch of starts from ``centres`` (S, k, p), each until no
    area changes segment (or, with ``tol`` > 0, until at most ``tol`` x areas do):
    (labels (S, n), WCSS (S,) from the double-precision segment sums, centres).

    ``over_relax`` > 0: after an iteration that moved at most OVER_RELAX_MOVES of a start's
    areas and did not raise its WCSS, its next centres are carried ``over_relax`` times
    their step past the segment means (mean + over_relax x (mean - centre)): near the end
    Lloyd's iterations move a few areas a time and the centres creep the same way for
    many iterations. A start ends only when no area moves from its segment means."""
    S, k, p = centres.shape
    n = len(X)
    centres = centres.copy()
    labels = _nearest_batch(A, centres)
    # segment sums (double precision) and sizes, rows start * k + segment
    cells = (labels + (np.arange(S) * k)[:, None]).T.ravel()
    onehot = sparse.csc_matrix((np.ones(S * n), cells, np.arange(0, S * n + 1, S)),
                               shape=(S * k, n))
    sums = onehot @ X
    counts = np.bincount(cells, minlength=S * k)
    active = np.arange(S)
    enough = tol * n
    relax = np.zeros(S, dtype=bool)  # the start's next centres carried past the means
    cost = np.full(S, np.inf)  # its partition's WCSS less the sum of squares of all areas
    for _ in range(MAX_ITER):  # a start still moving then (rounding) is taken as it is
        rows = (active[:, None] * k + np.arange(k)).ravel()
        old = centres[active]
        new = np.where((counts[rows] > 0)[:, None], sums[rows] / np.maximum(
            counts[rows], 1)[:, None], old.reshape(-1, p)).reshape(-1, k, p)
        relaxed = relax[active]
        if relaxed.any():
            new = np.where(relaxed[:, None, None] & (counts[rows] > 0).reshape(-1, k, 1),
                           new + over_relax * (new - old), new)
        centres[active] = new
        before = labels[active]
        after = _nearest_batch(A, new)
        which, areas = np.nonzero(before != after)
        if not len(areas) and not relaxed.any():
            break
        # the areas that moved leave their old segments' sums and join their new ones
        left = active[which] * k + before[which, areas]
        joined = active[which] * k + after[which, areas]
        moves = sparse.csc_matrix(
            (np.tile([1.0, -1.0], len(areas)), np.column_stack([joined, left]).ravel(),
             np.arange(0, 2 * len(areas) + 1, 2)), shape=(S * k, len(areas)))
        sums += moves @ X[areas]
        counts += np.bincount(joined, minlength=S * k) - np.bincount(left, minlength=S * k)
        moved = np.bincount(which, minlength=len(active))
        labels[active[moved > 0]] = after[moved > 0]
        if over_relax > 0:
            now = -((sums[rows] ** 2).sum(axis=1) / np.maximum(counts[rows], 1)
                    ).reshape(-1, k).sum(axis=1)
            relax[active] = (moved > 0) & (moved <= OVER_RELAX_MOVES * n) & (
                now <= cost[active])
            cost[active] = now
        active = active[(moved > enough) | relaxed]
        if not len(active):
            break
    xx_total = float(np.einsum("ij,ij->", X, X))
    per_segment = (sums * sums).sum(axis=1) / np.maximum(counts, 1)
    return labels, xx_total - per_segment.reshape(S, k).sum(axis=1), centres


def _first_sample(n: int, k: int, seed: int) -> np.ndarray | None:
    """The areas a large matrix's starts begin on (SAMPLE_AREAS of them, drawn from the
    fit's seed, the same for every start), or None on a matrix of up to twice that, or
    when the sample would hold fewer than 100 areas per segment."""
    if n <= 2 * SAMPLE_AREAS or 100 * k > SAMPLE_AREAS:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, SAMPLE_AREAS, replace=False))


def _run_batch(X: np.ndarray, A: np.ndarray, k: int, seeds: list, tol: float = 0.0,
               sample: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """k-means++ then Lloyd for a batch of starts; with a ``sample`` of areas, both run on
    the sample first, then Lloyd on all areas from the sample's centres: (labels (S, n),
    WCSS (S,))."""
    if sample is None:
        centres = X[_seed_batch(X, A, k, seeds)]  # (S, k, p)
    else:
        Xs, As = X[sample], A[sample]
        centres = _lloyd_batch(Xs, As, Xs[_seed_batch(Xs, As, k, seeds, len(X))])[2]
    labels, wcss, _ = _lloyd_batch(X, A, centres, tol)
    return labels, wcss


def _batch_size(n: int, k: int, n_init: int) -> int:
    """Starts per batch: a tenth of them (progress and cancelling between batches), or
    more where that keeps the matrix products wide (128 centres) or the arrays long (a
    million area-starts), and no more than BATCH_CELLS area-starts."""
    wanted = max(math.ceil(n_init / 10), math.ceil(128 / k), (1 << 20) // n)
    return max(1, min(BATCH_CELLS // n, wanted, n_init))


def _batches(n_init: int, step: int) -> list[tuple[int, int]]:
    """Starts first..last of each batch: batches of at most ``step`` starts, an even number
    of them (where there are starts enough) of near-equal size, so that two threads share
    the work evenly."""
    count = math.ceil(n_init / step)
    if count % 2 and count < n_init:
        count += 1
    edges = [i * n_init // count for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))
