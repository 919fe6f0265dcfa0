"""A large matrix's random starts judged on a sample (see ``kmeans``'s description, step
2c): each start runs and is polished on the sample of areas, only the starts with the best
few optima there are finished on all areas, and the best is restarted on other samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .partitions import _adjusted_rand, _canonical
from .polish import _Bounds, _means, _nearest_exact, _polish, _segment_sums, _wcss
from .starts import SAMPLE_OVER_RELAX, _lloyd_batch, _seed_batch
from .threads import _in_parallel

FINALISTS = 1  # the best distinct optima on the sample finished on all areas
FINISH_ALL_FROM = 25  # from this many segments, every distinct optimum on the sample is
SAME_WCSS = 1e-6  # relative WCSS gap within which two finished optima are the same
SAME_WCSS_LARGE_K = 1e-7  # ... from FINISH_ALL_FROM segments (k = 30, seed 1: 1e-6
# stopped at 20 starts, 4,811,507.6, where 50 starts reached 4,809,892.9)
RESTARTS = 2  # restarts of the best on other samples run at once (a pair: two workers)
MAX_RESTARTS = 6  # restarts at most after a round of starts


def finalist_count(k: int, starts: int) -> int:
    """How many of the best distinct optima on the sample are finished on all areas: at
    large k all of them, as the WCSS on the sample says little there of where a start ends
    on all areas (national matrix, k = 30, seed 2011: the start that ended best of 50 was
    25th of 50 on the sample, and the best three there ended 1,618 to 5,743 above it)."""
    return starts if k >= FINISH_ALL_FROM else FINALISTS


@dataclass
class Finished:
    """A start finished on all areas."""
    start: int  # the earliest start whose optimum on the sample this was
    labels: np.ndarray
    centres: np.ndarray
    n_iter: int
    wcss: float


def _sample_batch(Xs: np.ndarray, xxs: np.ndarray, As: np.ndarray, k: int, seeds: list,
                  n_all: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch of starts on the sample (``Xs``, its squared norms and augmented rows):
    k-means++ and Lloyd's iterations in single precision, then each start polished there in
    double precision: (labels (S, sample), exact WCSS on the sample (S,)). Starts that end
    Lloyd's iterations with the same partition are polished once (at small k most do)."""
    labels = _lloyd_batch(Xs, As, Xs[_seed_batch(Xs, As, k, seeds, n_all)],
                          over_relax=SAMPLE_OVER_RELAX)[0]
    wcss = np.empty(len(seeds))
    polished: dict[bytes, int] = {}  # each partition's first start
    for i, key in enumerate(row.tobytes() for row in _canonical(labels, k)):
        if key in polished:
            labels[i], wcss[i] = labels[polished[key]], wcss[polished[key]]
            continue
        final, centres, _ = _polish(Xs, xxs, labels[i], k, rows=As)
        labels[i], wcss[i] = final, _wcss(Xs, centres, final)
        polished[key] = i
    return labels, wcss


def _on_all_areas(X: np.ndarray, xx: np.ndarray, A: np.ndarray, sample: np.ndarray,
                  labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, int, float]:
    """A start's optimum on the sample finished on all areas: every area to the nearest of
    its segment means (exactly), then the polish: (labels, centres, polish steps, WCSS).
    ``A``: the areas' single-precision rows (``starts._augmented``)."""
    Xs = X[sample]
    sums, counts = _segment_sums(Xs, labels.astype(np.int64), k)
    centres = _means(sums, counts, np.broadcast_to(Xs.mean(axis=0), sums.shape))
    bounds = _Bounds(len(X))
    start = _nearest_exact(X, xx, centres, np.arange(len(X)), bounds, A)
    final, centres, n_iter = _polish(X, xx, start, k, bounds, centres, rows=A)
    return final, centres, n_iter, _wcss(X, centres, final)


def _restarted(X: np.ndarray, xx: np.ndarray, A: np.ndarray, sample: np.ndarray,
               labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, int, float]:
    """An optimum on all areas (``labels``) restarted on another ``sample``: its labels
    there polished, then finished on all areas as a start's optimum on the sample is."""
    polished = _polish(X[sample], xx[sample], labels[sample], k, rows=A[sample])[0]
    return _on_all_areas(X, xx, A, sample, polished, k)


def _finalists(wcss: np.ndarray, labels: np.ndarray, k: int, count: int, same: float
               ) -> list[int]:
    """The ``count`` best distinct optima on the sample (by their exact WCSS there; ties to
    the earliest start), each by its first start: an optimum counts as distinct when its
    adjusted Rand index with every better one chosen is below ``same`` (near copies, a
    few areas apart, end at the same optimum on all areas: finishing them would only
    cost time)."""
    chosen: list[int] = []
    for index in np.lexsort((np.arange(len(wcss)), wcss)):
        if not chosen or _adjusted_rand(labels[index], labels[chosen], k).max() < same:
            chosen.append(int(index))
            if len(chosen) == count:
                break
    return chosen


class OnSample:
    """The starts of one fit judged on ``sample``: ``batch`` runs a batch of starts there,
    ``judge`` finishes the best few on all areas, ``restart`` restarts the best on other
    samples; each says which optimum is best and how often it was reached."""

    def __init__(self, X, xx, A, k, sample, same_optimum: float, seed: int = 0):
        self.X, self.xx, self.A, self.k, self.sample, self.seed = X, xx, A, k, sample, seed
        self.Xs, self.xxs, self.As = X[sample], xx[sample], A[sample]
        self.same_optimum = same_optimum
        self.finished: dict[bytes, Finished] = {}  # by the start's optimum on the sample
        self.restarts: list[Finished] = []
        self.keys: list[bytes] = []  # each start's optimum on the sample
        # below FINISH_ALL_FROM segments a restart that ends at the best finds it again;
        # from there (good optima rare) only other starts do, and restarts only go lower
        self.restarts_find = k < FINISH_ALL_FROM

    def batch(self, seeds: list) -> tuple[np.ndarray, np.ndarray]:
        return _sample_batch(self.Xs, self.xxs, self.As, self.k, seeds, len(self.X))

    def judge(self, labels: np.ndarray, wcss: np.ndarray, workers: int
              ) -> tuple[Finished, int]:
        """The starts so far (their labels and WCSS on the sample): the best
        ``finalist_count`` distinct optima on the sample finished on all areas (those
        not finished in an earlier round, in parallel: each on its own, so the result does
        not depend on the workers); then ``best``."""
        self.keys = [row.tobytes() for row in _canonical(labels, self.k)]
        count = finalist_count(self.k, len(wcss))
        todo = [i for i in _finalists(wcss, labels, self.k, count, self.same_optimum)
                if self.keys[i] not in self.finished]
        for i, (final, centres, n_iter, total) in _in_parallel(
                lambda i: _on_all_areas(self.X, self.xx, self.A, self.sample, labels[i],
                                        self.k),
                todo, workers):
            self.finished[self.keys[i]] = Finished(i, final, centres, n_iter, total)
        return self.best()

    def restart(self, best: Finished, found: int, workers: int) -> tuple[Finished, int]:
        """The best restarted on other samples (each drawn from the fit's seed and the
        restart's number), ``RESTARTS`` at a time from the best so far (each on its own:
        the result does not depend on the workers), while the best is found less than
        twice, ``MAX_RESTARTS`` at most; then ``best``. A restart that ends at the same
        optimum finds it again; one that ends at a better one makes it the best
        (restarted from in turn). From FINISH_ALL_FROM segments: one set, whatever
        ``found``, which stays the starts' count."""
        if not self.restarts_find:
            self._restart_pair(best, workers)
            return self.best()[0], found
        for _ in range(0, MAX_RESTARTS if found < 2 else 0, RESTARTS):
            self._restart_pair(best, workers)
            best, found = self.best()
            if found >= 2:
                break
        return best, found

    def _restart_pair(self, origin: Finished, workers: int) -> None:
        """The next ``RESTARTS`` restarts of ``origin``, each on its own sample."""
        first = len(self.restarts)
        for _, (final, centres, n_iter, total) in _in_parallel(
                lambda number: _restarted(self.X, self.xx, self.A, self._sample(number),
                                          origin.labels, self.k),
                list(range(first, first + RESTARTS)), workers):
            self.restarts.append(Finished(origin.start, final, centres, n_iter, total))

    def _sample(self, number: int) -> np.ndarray:
        """Restart ``number``'s sample: as many areas as the starts' sample."""
        rng = np.random.default_rng([self.seed, number])
        return np.sort(rng.choice(len(self.X), len(self.sample), replace=False))

    def best(self) -> tuple[Finished, int]:
        """The best optimum on all areas so far (least WCSS, ties to the earliest start,
        then to the starts over the restarts), and how often it was reached: by the starts
        whose optimum on the sample ended on all areas at the same WCSS (within a relative
        ``SAME_WCSS``, from FINISH_ALL_FROM segments ``SAME_WCSS_LARGE_K``) and an
        adjusted Rand index of at least ``same_optimum`` with it, and (below
        FINISH_ALL_FROM segments) by the restarts that ended there."""
        everything = list(self.finished.items()) + [(None, f) for f in self.restarts]
        best = min((f for _, f in everything), key=lambda f: (f.wcss, f.start))
        same = SAME_WCSS if self.restarts_find else SAME_WCSS_LARGE_K
        reached = [key for key, f in everything
                   if f.wcss - best.wcss <= same * abs(best.wcss)
                   and _adjusted_rand(best.labels, f.labels[None], self.k)[0]
                   >= self.same_optimum]
        starts = set(reached) - {None}
        return best, sum(key in starts for key in self.keys) + (
            reached.count(None) if self.restarts_find else 0)
