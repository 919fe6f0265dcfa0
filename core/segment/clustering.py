"""k-means segments, and the diagnostics for choosing k.

How ``fit_kmeans`` works
------------------------
1. **Seeds.** Random start i (0 .. n_init-1) has its own seed, ``start_seeds(seed,
   n_init)[i]``, and its own random generator: the same inputs and seed give the same final
   labels on every run, whatever the batch sizes below (the other starts' labels, and so the
   stability figure, may differ in single-precision rounding with the batches' shapes).
2. **Random starts, advanced together.** The starts run in batches (a tenth of the starts
   at a time, more on small data to keep the arrays long, fewer when the areas are many;
   an even number of batches of near-equal size, which two threads share), so that
   progress is reported and the run can be cancelled between batches; within a batch every
   start moves in step as one array computation in single precision:

   a. *k-means++ seeding* (Arthur and Vassilvitskii 2007, the greedy form scikit-learn
      uses): the first centre is an area drawn at random; each next one is, of several
      areas drawn with probability proportional to their squared distance to the nearest
      centre so far, the one that leaves the least total squared distance. The candidates
      are scikit-learn's 2 + ln k, or 16 from 20,000 areas: there Lloyd's iterations cost
      far more than the seeding, and the greedier seeding starts nearer a good optimum
      (national benchmark, k = 10: with 16 candidates each of three sets of 10 starts
      reached the best optimum known, WCSS 10,414,292, which 8 candidates and 2 + ln k
      missed in the sets tried; and Lloyd's iterations took about a fifth of the time).
      Each candidate's total is summed a chunk of areas at a time.
   b. *Lloyd's iterations*: each area to its nearest centre, each centre to the mean of its
      areas, until no area changes segment. A start that has converged leaves the batch.
      Distances come from one matrix product per chunk of areas
      (|x|^2 - 2 x.c + |c|^2 in one product of augmented rows); the segment sums are kept
      in double precision and updated only by the areas that moved. (Hamerly's bounds were
      tried here and left out: twice as slow on 40,000 areas x 60, k = 18, where every
      start's areas are all looked at in the first iterations; the polish uses them.)
   c. *On a large matrix* (more than twice ``SAMPLE_AREAS`` = 20,000 areas, and k at most
      200, so that the sample holds at least 100 areas per segment):

      - a and b run first on a random sample of 20,000 areas, the same for every start
        (drawn from the fit's seed), and Lloyd's iterations on all the areas then start
        from the sample's centres: the seeding's cost falls with the sample, and the
        iterations on all areas are few (national benchmark, 188,880 areas, k = 10, 10
        starts: the seeding took two-thirds of the time on all areas; 20 seeds reached
        optima as good as without the sample -- see benchmarks/kmeans_vs_r.py);
      - the starts stop once at most 0.2% of the areas change segment in an iteration
        (``BATCH_TOL``): with k above the data's natural number of groups, Lloyd's
        iterations end in a tail of hundreds that move a few dozen areas each and change
        the WCSS by about 1e-4 (relative) in all; the chosen start is run to full
        convergence by the polish (step 4), whose steps there are cheap.

3. **The best start**, chosen without depending on summation order: every start's
   within-cluster sum of squares (WCSS) is known from its double-precision segment sums;
   the starts within a relative 1e-6 of the least are compared exactly -- the WCSS of each
   distinct partition recomputed from its labels in a fixed order (``_segment_sums``,
   ``_wcss``) -- and the least wins, ties going to the earliest start.
4. **Polish**, in double precision, from the best start's labels, until no area moves:

   a. Lloyd's steps, with labels that do not depend on the BLAS or its threads: distances
      come from a matrix product, and every area whose two nearest centres are within a
      relative 1e-10 of each other (far above that product's rounding error) is decided
      again from ``sum((x - c)**2)`` computed area by area, ties going to the lowest
      segment. Only the areas whose distance bounds (``_Bounds``, Hamerly's) do not rule a
      change out are looked at. The segment sums follow the areas that move, added in a
      fixed order; once nothing moves they are summed afresh in a fixed order, and the
      polish ends only when nothing moves from those exact means;
   b. then Hartigan's single-area transfers: an area moves from its segment a (of n_a
      areas) to segment b (n_b) when that lowers the total WCSS, i.e. when
      ``n_b/(n_b+1) d_b < n_a/(n_a-1) d_a`` (d: squared distance to the centre), one area
      at a time, centres updated after each move; an empty segment first takes the area
      farthest from its centre. This is the condition R's Hartigan-Wong ends on, so the
      result is both a Lloyd fixed point and a Hartigan-Wong local optimum.

   With ``tol`` > 0 (choose-k's diagnostics: ``BATCH_TOL`` on every matrix) the starts
   stop at that share and there is no polish: the best start's labels and their segment
   means are the fit.
5. **Stability** is the mean adjusted Rand index between the final labels and every other
   start's labels.
6. **More starts where they disagree.** When fewer than 100 starts were asked for (and
   ``tol`` is 0) and the best start's optimum was reached by no other start (adjusted Rand
   index >= 0.99 with it), another round of ``n_init`` starts is run (start i's seed is
   the same whatever the rounds), up to four more rounds, until the best is found twice;
   the progress log says so at each round, and the fit's ``n_starts``, ``best_found`` and
   ``note`` say how many starts were run and how often the best was reached (real
   national matrix, k = 15, 10 starts asked for: 20 run for seed 2011, 50 for seed 1; see
   benchmarks/kmeans_vs_r.py).

Threads: the starts' batches run on a pool of ``pool_size()`` threads (the cores, at most
``COMMUNITY_SAFETY_THREADS``, at most the BLAS limit ``threadpoolctl.threadpool_limits``
sets), and the BLAS runs one thread per call during the starts, with one worker too, so
the single-precision products round the same way whatever the workers and BLAS threads.
Another BLAS kernel (``OPENBLAS_CORETYPE``) rounds them differently: tests/
test_kmeans_setups.py checks the labels stay the same on real data in those setups, but
only the polish is exact by construction (a start's single-precision trajectory could in
principle follow another kernel's rounding at a near tie).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sparse
from sklearn.metrics import pairwise_distances

from ..errors import InputError
from ..progress import Progress, silent

MAX_ITER = 3000  # Lloyd iterations of a start at most (one still moving then is taken as it is)
POLISH_MAX_ITER = 100_000  # the polish's steps at most (national, k = 40: 3,153)
SILHOUETTE_SAMPLE = 10_000
BATCH_CELLS = 1 << 22  # areas x starts of a batch at most (about 30 bytes each)
CHUNK_CELLS = 1 << 19  # area x centre distances of one chunk of areas (2 MB: in cache)
SEED_TRIALS = 16  # candidates per centre in the k-means++ seeding on a large matrix
MANY_AREAS = 20_000  # a large matrix: from this many areas
SAMPLE_AREAS = 20_000  # above twice this many areas, the starts begin on a sample this size
BATCH_TOL = 2e-3  # a large matrix's starts (and choose-k's) stop once this share move
CLOSE_STARTS = 1e-6  # relative WCSS gap under which starts are compared exactly
CLOSE_CENTRES = 1e-10  # relative distance gap under which an area's label is recomputed exactly


@dataclass
class KMeansFit:
    labels: np.ndarray  # 0..k-1
    centres: np.ndarray  # k x variables, in standardised units
    wcss: float  # total within-cluster sum of squares
    n_iter: int  # iterations of the final double-precision pass
    stability: float  # mean ARI of the other starts against the best
    n_starts: int = 0  # random starts run: n_init, or more where they disagreed
    best_found: int = 0  # starts that reached the best start's optimum (ARI >= SAME_OPTIMUM)
    note: str = ""  # in words, when more starts than asked for were run


def check_k(k: int, n_areas: int) -> None:
    if k < 2:
        raise InputError(f"k = {k}: at least 2 segments are needed")
    if k > n_areas:
        raise InputError(f"k = {k} is larger than the number of areas ({n_areas})")


def check_distinct(X: np.ndarray, k: int) -> None:
    """k segments need k different areas: with fewer, copies of one area would hop between
    segments for ever. (A variable with k different values settles it at once; only
    otherwise are whole rows compared.)"""
    if any(len(np.unique(X[:, j])) >= k for j in range(X.shape[1])):
        return
    distinct = len(np.unique(X, axis=0))
    if distinct < k:
        raise InputError(f"k = {k}, but the areas have only {distinct} different profiles "
                         f"on the clustering variables: choose k of at most {distinct}")


def start_seeds(seed: int, n_init: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n_init)]


def distance_to_centres(X: np.ndarray, centres: np.ndarray, labels: np.ndarray,
                        chunk: int = 1 << 15) -> np.ndarray:
    """Euclidean distance from each area to the centre of its own segment (a chunk of areas
    at a time: no copy of the whole matrix)."""
    return np.concatenate([np.sqrt(_exact_squared_own(X[a:a + chunk], centres,
                                                      labels[a:a + chunk]))
                           for a in range(0, len(X), chunk)] or [np.empty(0)])


def start_message(done: int, n_init: int, k: int) -> str:
    """The progress text after ``done`` of ``n_init`` random starts: one line each time
    another tenth of the starts is done (and after the last), "" in between, so that a log
    or progress window shows ten lines, not one per start. (Callers show a message only
    when it is not empty; the fraction is still reported after every start, and cancelling
    still stops between batches of starts.)"""
    if done == n_init or (10 * done) // n_init > (10 * (done - 1)) // n_init:
        return (f"k-means: {done:,} of {n_init:,} random starts done "
                f"({100 * done // n_init}%, k = {k})")
    return ""


# --- the random starts, a batch at a time, in single precision -------------------------

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
    SEED_TRIALS on a large matrix (see the module's description)."""
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


def _lloyd_batch(X: np.ndarray, A: np.ndarray, centres: np.ndarray, tol: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lloyd's iterations for a batch of starts from ``centres`` (S, k, p), each until no
    area changes segment (or, with ``tol`` > 0, until at most ``tol`` x areas do):
    (labels (S, n), WCSS (S,) from the double-precision segment sums, centres)."""
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
    for _ in range(MAX_ITER):  # a start still moving then (rounding) is taken as it is
        rows = (active[:, None] * k + np.arange(k)).ravel()
        old = centres[active]
        new = np.where((counts[rows] > 0)[:, None], sums[rows] / np.maximum(
            counts[rows], 1)[:, None], old.reshape(-1, p)).reshape(-1, k, p)
        centres[active] = new
        before = labels[active]
        after = _nearest_batch(A, new)
        which, areas = np.nonzero(before != after)
        if not len(areas):
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
        active = active[moved > enough]
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


# --- exact, order-independent steps in double precision ---------------------------------

def _segment_sums(X: np.ndarray, labels: np.ndarray, k: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Segment sums and sizes, each segment's areas added one by one in their order (a
    sparse product, no BLAS), so that they are the same on every machine."""
    counts = np.bincount(labels, minlength=k)
    onehot = sparse.csr_matrix(
        (np.ones(len(labels)), np.argsort(labels, kind="stable"),
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
        total += float(((X[a:a + chunk] - centres[labels[a:a + chunk]]) ** 2).sum())
    return total


def _blas_squared(X, xx, centres, cc):
    """Squared distances by a matrix product (fast; rounding depends on the BLAS)."""
    d = X @ centres.T
    d *= -2
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
    matrix product) are widened by far more than its rounding error, so that skipping an
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
        self.upper += shift[labels]
        self.lower -= shift.max()

    def unsure(self) -> np.ndarray:
        return np.flatnonzero(self.upper >= self.lower)


def _widen(xx, cc):
    """How far a squared distance from the matrix product may be trusted to be off: a
    relative CLOSE_CENTRES of the sizes involved, far above the product's rounding."""
    return CLOSE_CENTRES * (xx + cc.max() + 1.0)


def _nearest_exact(X: np.ndarray, xx: np.ndarray, centres: np.ndarray, areas: np.ndarray,
                   bounds: _Bounds, chunk: int = 1 << 15) -> np.ndarray:
    """The nearest centre of each of ``areas``, ties to the lowest segment, exactly as
    ``argmin(sum((x - c)**2))`` would give it, whatever the BLAS: areas whose two nearest
    centres are close enough for the matrix product's rounding to matter are decided
    again area by area. Their ``bounds`` are set from the same distances."""
    k = len(centres)
    cc = (centres * centres).sum(axis=1)
    labels = np.empty(len(areas), dtype=np.int64)
    for a in range(0, len(areas), chunk):
        part = areas[a:a + chunk]
        d = _blas_squared(X[part], xx[part], centres, cc)
        nearest = d.argmin(axis=1)
        rows = np.arange(len(d))
        first = d[rows, nearest]
        d[rows, nearest] = np.inf
        second = d.min(axis=1) if k > 1 else np.full(len(d), np.inf)
        widen = _widen(xx[part], cc)
        bounds.set(part, first, second, widen)
        doubtful = np.flatnonzero(second - first <= widen)
        if len(doubtful):  # (their bounds overlap: they are looked at again next time)
            nearest[doubtful] = _exact_squared(X[part[doubtful]], centres).argmin(axis=1)
        labels[a:a + chunk] = nearest
    return labels


def _transfers(X: np.ndarray, xx: np.ndarray, labels: np.ndarray, centres: np.ndarray,
               counts: np.ndarray, bounds: _Bounds, chunk: int = 1 << 15) -> list:
    """Hartigan's single-area transfers (see the module's description): ``labels``,
    ``centres`` and ``counts`` updated in place; returns the moves, (area, its segment
    before). Areas whose bounds rule a transfer out are not looked at."""
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
        leaving = np.where(size[labels] > 1, size[labels] / (size[labels] - 1), 0.0)
        maybe = np.flatnonzero((size / (size + 1)).min() * bounds.lower ** 2
                               < leaving * bounds.upper ** 2)
    cc = (centres * centres).sum(axis=1)
    candidates = []
    for a in range(0, len(maybe), chunk):
        part = maybe[a:a + chunk]
        d = _blas_squared(X[part], xx[part], centres, cc)
        own_label = labels[part]
        rows = np.arange(len(d))
        own = d[rows, own_label].copy()
        slack = _widen(xx[part], cc)
        joining = d * (size / (size + 1.0))[None, :]
        d[rows, own_label] = np.inf
        bounds.set(part, own, d.min(axis=1), slack)
        joining[rows, own_label] = np.inf
        candidates.append(part[joining.min(axis=1) - own * leaving[part] < slack])
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
    segment's arrivals then departures added one by one in area order (a sparse product,
    no BLAS)."""
    m = len(areas)
    change = sparse.csr_matrix((np.r_[np.ones(m), -np.ones(m)],
                                (np.r_[after, before], np.r_[np.arange(m), np.arange(m)])),
                               shape=(len(sums), m))
    return sums + change @ X[areas]


def _polish(X: np.ndarray, xx: np.ndarray, labels: np.ndarray, k: int
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Lloyd's steps and Hartigan's transfers in double precision until no area moves.
    The segment sums follow the moves (in a fixed order); once nothing moves they are
    summed afresh, and the polish ends when nothing moves from those exact means."""
    labels = labels.astype(np.int64)
    sums, counts = _segment_sums(X, labels, k)
    centres = _means(sums, counts, np.broadcast_to(X.mean(axis=0), sums.shape))
    bounds = _Bounds(len(X))
    exact = True  # the centres are the segment means summed afresh
    for iteration in range(1, POLISH_MAX_ITER + 1):
        unsure = bounds.unsure()
        nearest = _nearest_exact(X, xx, centres, unsure, bounds)
        changed = nearest != labels[unsure]
        if changed.any():
            areas, after = unsure[changed], nearest[changed]
            before = labels[areas]
        else:
            moves = _transfers(X, xx, labels, centres.copy(), counts, bounds)
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
        counts = np.bincount(labels, minlength=k)
        if len(areas):
            sums, exact = _moved_sums(sums, X, areas, before, after), False
        else:
            sums, exact = _segment_sums(X, labels, k)[0], True
        moved = _means(sums, counts, centres)
        bounds.centres_moved(np.sqrt(((moved - centres) ** 2).sum(axis=1)) * (1 + 1e-12),
                             labels)
        centres = moved
    raise RuntimeError(f"k-means did not converge in {POLISH_MAX_ITER} iterations")


def _canonical(labels: np.ndarray, k: int) -> np.ndarray:
    """Labels renumbered by order of first appearance (rows: starts), so that the same
    partition has the same labels whatever the numbering of its segments."""
    S, n = labels.shape
    first = np.full((S, k), n, dtype=np.int64)
    for j in range(k):
        present = labels == j
        first[:, j] = np.where(present.any(axis=1), present.argmax(axis=1), n)
    rename = np.argsort(np.argsort(first, axis=1, kind="stable"), axis=1, kind="stable")
    return np.take_along_axis(rename.astype(labels.dtype), labels.astype(np.intp), axis=1)


def _best_start(X: np.ndarray, labels: np.ndarray, wcss: np.ndarray, k: int) -> int:
    """The start with the least WCSS, decided exactly among the near-best (see the
    module's description); ties go to the earliest start."""
    near = np.flatnonzero(wcss <= wcss.min() + CLOSE_STARTS * abs(wcss.min()) + 1e-12)
    distinct: dict[bytes, int] = {}  # each partition once, at its earliest start
    for row, index in zip(_canonical(labels[near], k), near):
        distinct.setdefault(row.tobytes(), int(index))
    if len(distinct) == 1:
        return next(iter(distinct.values()))
    exact = []
    for index in distinct.values():
        row = labels[index].astype(np.int64)
        sums, counts = _segment_sums(X, row, k)
        exact.append((_wcss(X, _means(sums, counts, np.zeros_like(sums)), row), int(index)))
    return min(exact)[1]


def _adjusted_rand(reference: np.ndarray, others: np.ndarray, k: int) -> np.ndarray:
    """Adjusted Rand index of each row of ``others`` against ``reference`` (the formula
    scikit-learn uses, from the pair confusion matrix), for many rows at once."""
    S, n = others.shape
    cells = (np.arange(S)[:, None] * k + reference[None, :]) * k + others
    table = np.bincount(cells.ravel(), minlength=S * k * k).reshape(S, k, k).astype(float)
    pairs = (table * table).sum(axis=(1, 2)) - n
    rows = table.sum(axis=2)
    columns = table.sum(axis=1)
    row_pairs = (rows * rows).sum(axis=1) - n
    column_pairs = (columns * columns).sum(axis=1) - n
    tp = pairs
    fp = column_pairs - pairs
    fn = row_pairs - pairs
    tn = float(n) * n - n - fp - fn - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        ari = 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    return np.where((fn == 0) & (fp == 0), 1.0, ari)


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


THREADS_VARIABLE = "COMMUNITY_SAFETY_THREADS"


def pool_size() -> int:
    """Threads of the engine's own pool for the random starts: the machine's cores, at most
    the number in the environment variable ``COMMUNITY_SAFETY_THREADS`` when it is set, and
    at most the BLAS's own thread limit, so that ``threadpoolctl.threadpool_limits(1)`` (or
    ``OPENBLAS_NUM_THREADS=1``) holds the whole fit to one core on a shared server. The
    labels do not depend on it (see ``_in_parallel``)."""
    workers = os.cpu_count() or 1
    wanted = os.environ.get(THREADS_VARIABLE, "").strip()
    if wanted:
        try:
            workers = min(workers, int(wanted))
        except ValueError:
            workers = 0
        if workers < 1:
            raise InputError(f"{THREADS_VARIABLE} = {wanted!r}: give a whole number of "
                             "threads, 1 or more")
    from threadpoolctl import threadpool_info  # installed with scikit-learn

    limits = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(1, min([workers] + limits))


def _in_parallel(work, items, workers: int):
    """(item, work(item)) in the items' order, the work done by ``workers`` threads at once
    (numpy releases the GIL for array operations). The BLAS runs one thread per call
    whatever the number of workers, also with one worker: a product's rounding can depend
    on how the BLAS splits it between its threads, and the starts' single-precision labels
    must not. Each item is computed on its own, so the results do not depend on the
    workers. Stopping the iteration (a cancel) leaves the items not started undone."""
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    with threadpool_limits(1, user_api="blas"):
        if min(workers, len(items)) < 2:
            for item in items:
                yield item, work(item)
            return
        with ThreadPoolExecutor(min(workers, len(items))) as pool:
            futures = [pool.submit(work, item) for item in items]
            try:
                for item, future in zip(items, futures):
                    yield item, future.result()
            finally:
                for future in futures:
                    future.cancel()


MORE_ROUNDS = 4  # rounds of n_init more starts at most, while the best is found only once
MORE_STARTS_BELOW = 100  # ... when fewer starts than this were asked for
SAME_OPTIMUM = 0.99  # adjusted Rand index at which a start has found the best start's optimum


def fit_kmeans(
    X: np.ndarray, k: int, n_init: int = 50, seed: int = 1, progress: Progress = silent,
    tol: float = 0.0,
) -> KMeansFit:
    """k-means as the module's description says. ``tol`` > 0 (choose-k's diagnostics
    only): each start stops once at most ``tol`` x areas change segment in an iteration,
    the best start is not polished (its labels, their segment means, ``n_iter`` 0), and no
    more starts are added."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    check_k(k, len(X))
    check_distinct(X, k)
    if n_init < 1:
        raise InputError(f"n_init = {n_init}: at least one random start is needed")
    xx = _squared_norms(X)
    A = _augmented(X, xx)
    rounds = 1 if tol > 0 or not 2 <= n_init < MORE_STARTS_BELOW else 1 + MORE_ROUNDS
    seeds = start_seeds(seed, n_init * rounds)  # start i's seed whatever the rounds
    sample = _first_sample(len(X), k, seed)
    stop = tol or (BATCH_TOL if sample is not None else 0.0)
    batches = _batches(n_init, _batch_size(len(X), k, n_init))
    workers = pool_size()
    labels = np.empty((0, len(X)), dtype=_label_dtype(k))
    wcss = np.empty(0)
    low, high = 0.0, n_init / (n_init + 1)  # the progress bar's share of this round
    note = ""
    for round_ in range(rounds):
        offset = round_ * n_init
        more_labels = np.empty((n_init, len(X)), dtype=_label_dtype(k))
        more_wcss = np.empty(n_init)
        for (first, last), result in _in_parallel(
                lambda batch, offset=offset: _run_batch(
                    X, A, k, seeds[offset + batch[0]:offset + batch[1]], stop, sample),
                batches, workers):
            more_labels[first:last], more_wcss[first:last] = result
            for done in range(first + 1, last + 1):
                progress(low + (high - low) * done / n_init,
                         start_message(done, n_init, k) if not round_ else "")
        labels = np.concatenate([labels, more_labels]) if round_ else more_labels
        wcss = np.concatenate([wcss, more_wcss])
        best = _best_start(X, labels, wcss, k)
        found = int((_adjusted_rand(labels[best], labels, k) >= SAME_OPTIMUM).sum())
        if found >= 2 or round_ + 1 == rounds:
            break
        note = (f"the starts disagreed: the best of {len(wcss):,} was reached by only one "
                f"of them, so {n_init:,} more are run")
        progress(high, f"k-means: {note} (k = {k})")
        low, high = high, high + (1 - high) / 2
    if len(wcss) > n_init:
        note = (f"The starts disagreed, so {len(wcss) - n_init:,} were run beyond the "
                f"{n_init:,} asked for: the best was reached by {found} of {len(wcss):,}"
                + ("." if found >= 2 else ", not twice: more starts (n_init) may find a "
                   "better segmentation."))
        progress(high, f"k-means: {note}")
    if tol > 0:
        final, n_iter = labels[best].astype(np.int64), 0
        sums, counts = _segment_sums(X, final, k)
        centres = _means(sums, counts, np.broadcast_to(X.mean(axis=0), sums.shape))
    else:
        final, centres, n_iter = _polish(X, xx, labels[best], k)
    others = np.delete(np.arange(len(wcss)), best)
    stability = float("nan")
    if len(others):
        aris = [_adjusted_rand(final, labels[others[a:a + 256]], k)
                for a in range(0, len(others), 256)]
        stability = float(np.mean(np.concatenate(aris)))
    progress(1.0, f"k-means converged (k = {k})")
    return KMeansFit(labels=final, centres=centres, wcss=_wcss(X, centres, final),
                     n_iter=n_iter, stability=stability, n_starts=len(wcss),
                     best_found=found, note=note)


def assign_to_centres(X: np.ndarray, centres: np.ndarray, chunk: int = 50_000) -> np.ndarray:
    """Nearest centre for each row (ties to the lower segment), in chunks to bound memory."""
    X = np.asarray(X, dtype=np.float64)
    nearest = np.empty(len(X), dtype=np.int64)
    for i in range(0, len(X), chunk):
        block = X[i:i + chunk]
        squared = ((block[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        nearest[i:i + chunk] = squared.argmin(axis=1)
    return nearest


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a square matrix of distances (as scikit-learn's
    ``silhouette_score`` with ``metric="precomputed"``, in one matrix product): for each
    area a = mean distance to the others of its segment, b = least mean distance to
    another segment, s = (b - a) / max(a, b), 0 for an area alone in its segment."""
    k = int(labels.max()) + 1
    onehot = np.zeros((len(labels), k), dtype=distances.dtype)
    onehot[np.arange(len(labels)), labels] = 1
    totals = (distances @ onehot).astype(np.float64)  # each area's distances by segment
    sizes = np.bincount(labels, minlength=k).astype(float)
    own_size = sizes[labels]
    rows = np.arange(len(labels))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = totals[rows, labels] / (own_size - 1)
        means = totals / sizes[None, :]
    means[rows, labels] = np.inf
    means[:, sizes == 0] = np.inf
    b = means.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(own_size > 1, (b - a) / np.maximum(a, b), 0.0)
    return float(np.nan_to_num(s).mean())


def calinski_harabasz(X: np.ndarray, labels: np.ndarray, centres: np.ndarray,
                      wcss: float) -> float:
    """Calinski-Harabasz index (as scikit-learn's ``calinski_harabasz_score``) from a fit:
    between-segment over within-segment dispersion, each per degree of freedom."""
    sizes = np.bincount(labels, minlength=len(centres))
    present = sizes > 0
    k, n = int(present.sum()), len(X)
    between = float((sizes[present] * ((centres[present] - X.mean(axis=0)) ** 2).sum(axis=1)
                     ).sum())
    return 1.0 if wcss == 0 else between * (n - k) / (wcss * (k - 1))


def davies_bouldin(X: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> float:
    """Davies-Bouldin index (as scikit-learn's ``davies_bouldin_score``) from a fit: for
    each segment the worst (spread_i + spread_j) / distance between centres, averaged;
    spread = mean distance of a segment's areas to its centre."""
    sizes = np.bincount(labels, minlength=len(centres))
    present = sizes > 0
    spread = (np.bincount(labels, weights=distance_to_centres(X, centres, labels),
                          minlength=len(centres))[present] / sizes[present])
    kept = centres[present]
    apart = np.sqrt(((kept[:, None, :] - kept[None, :, :]) ** 2).sum(axis=2))
    if np.allclose(spread, 0) or np.allclose(apart, 0):
        return 0.0
    apart[apart == 0] = np.inf
    return float(np.mean(np.max((spread[:, None] + spread[None, :]) / apart, axis=1)))


def choose_k(
    X: np.ndarray, ks: Sequence[int], n_init: int = 10, seed: int = 1,
    progress: Progress = silent,
) -> pd.DataFrame:
    """Diagnostics for each k: WCSS (elbow), silhouette (sampled above 10,000 areas),
    Calinski-Harabasz, Davies-Bouldin (both from the fit's centres, as scikit-learn
    computes them) and stability across seeds. Each k's starts stop once at most 0.2% of
    the areas change segment in an iteration (``BATCH_TOL``, see the module's description),
    and are not polished. The k then chosen is fitted to full convergence by the
    segmentation. Progress: after every start, and a line per k."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    rows = []
    ks = list(ks)
    for k in ks:
        check_k(k, len(X))
    rng = np.random.default_rng(seed)
    sample = (rng.choice(len(X), SILHOUETTE_SAMPLE, replace=False)
              if len(X) > SILHOUETTE_SAMPLE else np.arange(len(X)))
    # the sample's distances once (single precision), for every k's silhouette
    sample_distances = pairwise_distances(X[sample].astype(np.float32))
    for i, k in enumerate(ks):
        def report(fraction, message, i=i):
            progress((i + fraction) / len(ks), message)

        fit = fit_kmeans(X, k, n_init=n_init, seed=seed, progress=report, tol=BATCH_TOL)
        labels = fit.labels
        sampled = labels[sample]
        rows.append({
            "k": k,
            "wcss": fit.wcss,
            "silhouette": (silhouette_from_distances(sample_distances, sampled)
                           if len(np.unique(sampled)) > 1 else float("nan")),
            "calinski_harabasz": calinski_harabasz(X, labels, fit.centres, fit.wcss),
            "davies_bouldin": davies_bouldin(X, labels, fit.centres),
            "stability_ari": fit.stability,
            "smallest_segment_pct": round(100 * float(np.bincount(labels, minlength=k).min())
                                          / len(X), 2),
            "silhouette_sampled": len(sample) < len(X),
        })
        progress((i + 1) / len(ks), f"choose-k: k = {k} done ({i + 1} of {len(ks)})")
    return pd.DataFrame(rows)


OPERATIONAL_K = 10  # the number of segments services can work with (published practice)
MIN_SHARE = 2.0  # a segment smaller than this % of the areas is not a target group
STABLE = 0.8  # mean adjusted Rand index between random starts: the solution is reproducible


def recommend_k(table: pd.DataFrame, wish: int = OPERATIONAL_K,
                min_share: float = MIN_SHARE) -> tuple[int, str]:
    """The k to use and why, from choose_k's table: among the k whose smallest segment holds
    at least ``min_share``% of the areas and whose starts agree (stability >= 0.8) — or all k
    if none passes — the best by the agreement of silhouette (high), Calinski-Harabasz
    (high) and Davies-Bouldin (low), as a sum of ranks; ties go to the k nearest ``wish``."""
    frame = table.set_index("k")
    fit = frame[(frame["smallest_segment_pct"] >= min_share)
                & (frame["stability_ari"].fillna(1.0) >= STABLE)]
    note = ""
    if fit.empty:
        fit, note = frame, (f" No k met both conditions (smallest segment ≥ {min_share:g}% of "
                            f"areas, stability ≥ {STABLE:g}); all were compared.")
    ranks = (fit["silhouette"].rank(ascending=False)
             + fit["calinski_harabasz"].rank(ascending=False)
             + fit["davies_bouldin"].rank(ascending=True))
    order = sorted(fit.index, key=lambda k: (ranks[k], abs(k - wish), k))
    best = int(order[0])
    row = frame.loc[best]
    reason = (f"k = {best}: best agreement of the diagnostics among "
              f"{len(fit)} of {len(frame)} k values (silhouette {row['silhouette']:.3f}, "
              f"Calinski-Harabasz {row['calinski_harabasz']:.0f}, Davies-Bouldin "
              f"{row['davies_bouldin']:.3f}), stability {row['stability_ari']:.2f}, smallest "
              f"segment {row['smallest_segment_pct']:g}% of areas.{note}")
    if wish in frame.index and best != wish:
        wished = frame.loc[wish]
        reason += (f" The operational choice k = {wish} has smallest segment "
                   f"{wished['smallest_segment_pct']:g}% and stability "
                   f"{wished['stability_ari']:.2f}.")
    return best, reason
