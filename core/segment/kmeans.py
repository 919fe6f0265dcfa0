"""k-means segments: the fit, from its random starts to the best one polished.

The random starts are in ``starts``, a large matrix's starts judged on a sample in
``finalists``, the polish in ``polish``, partitions compared in ``partitions``, the pool of
threads in ``threads``; the diagnostics for choosing k in ``choosing_k``.

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
      Each candidate's total is summed a chunk of areas at a time. At k = 15 and 20 the
      seeding is 3-4% of a fit's CPU time (0.2-0.3 s of 5.7-8.9 s, seeds 1 and 2): fewer
      candidates would take little off.
   b. *Lloyd's iterations*: each area to its nearest centre, each centre to the mean of its
      areas, until no area changes segment. A start that has converged leaves the batch.
      Distances come from one matrix product per chunk of areas
      (|x|^2 - 2 x.c + |c|^2 in one product of augmented rows); the segment sums are kept
      in double precision and updated only by the areas that moved. (Hamerly's bounds were
      tried here and left out: twice as slow on 40,000 areas x 60, k = 18, where every
      start's areas are all looked at in the first iterations; the polish uses them.)
      On a large matrix's sample the iterations are *over-relaxed* where they creep:
      after an iteration that moved at most 1% of a start's areas without raising its
      WCSS, its next centres are carried past the means by their step
      (``starts.SAMPLE_OVER_RELAX`` = 1: mean + (mean - centre)); a start still ends
      only where no area moves from its means.
   c. *On a large matrix* (more than twice ``SAMPLE_AREAS`` = 20,000 areas, and k at most
      200, so that the sample holds at least 100 areas per segment) the starts are judged
      on a random sample of 20,000 areas, the same for every start (drawn from the fit's
      seed), and only the best are finished on all areas (``finalists``):

      - a and b run on the sample, and each start is then polished there (step 4, on the
        sample's areas): its exact WCSS on the sample ranks it;
      - the start with the best optimum on the sample (``FINALISTS`` = 1; from
        ``FINISH_ALL_FROM`` = 25 segments: every distinct optimum) is finished on all
        areas: every area to the nearest of the sample optimum's segment means (exactly,
        as in step 4a), then the polish (step 4) on all areas. Distinct: an optimum
        at an adjusted Rand index of 0.99 or more with a better one is not finished (it
        ends where that one does, or near); starts whose Lloyd's iterations end at the
        same partition of the sample are polished there once;
      - the best finished (least WCSS on all areas, ties to the earliest start) is
        *restarted* on other samples: its labels on another random sample of as many
        areas (drawn from the fit's seed and the restart's number) polished there, then
        finished on all areas as above, when the starts found the best only once (step
        6): ``RESTARTS`` = 2 at a time (one per worker) from the best so far, until the
        best has been found twice, ``MAX_RESTARTS`` = 6 at most. A restart that ends
        lower is the best from then on. The best of all finished is the fit. From
        ``FINISH_ALL_FROM`` = 25 segments a restart finds nothing again (only other
        starts do: there the good optima are rare, and restarts confirmed a poor one,
        k = 30, seed 1: 4,814,364.6 against 4,809,886.1 after 50 starts): one pair is
        run after the last round, which only takes the fit lower. Why restarts: around
        a good optimum of the national matrix lie many others a few hundred areas apart
        (ARI above 0.98) and within a relative 2e-6 of its WCSS, and which one a start
        ends at depends on the sample (k = 10, seed 2: every good start ended at
        6,160,969.8, which restarts on five other samples took to 6,160,969.06 twice,
        969.7 twice and 970.1; k = 15, seed 1: 5,616,255.2 to 5,616,250.0); where no
        two starts agree (k = 15, 20) a restart confirms the best, or finds a better one
        near it, for the cost of one finishing, where ten more starts cost ten times as
        much.

      Why: on the real national matrix (188,880 areas x 60, k = 15 and 30) the WCSS a
      start reaches after Lloyd's iterations on all areas says little about where the
      polish's transfers take it (k = 30, seed 2: the start that ended best was 15th of 20
      after Lloyd's iterations, and 3rd of 20 by its polished optimum on the sample), and
      Lloyd's iterations on all areas for every start cost most of the time. Judged on the
      sample, k = 20, seed 1 took 10 starts where 50 were run before (the best was found
      twice), in a fifth of the time. (Choose-k's diagnostics, with ``tol`` > 0, begin a and b on
      the sample, then run Lloyd's iterations on all areas from the sample's centres until
      at most ``tol`` x areas change segment; no polish.)

3. **The best start** (without a sample), chosen without depending on summation order:
   every start's within-cluster sum of squares (WCSS) is known from its double-precision
   segment sums; the starts within a relative 1e-6 of the least are compared exactly --
   the WCSS of each distinct partition recomputed from its labels in a fixed order
   (``_segment_sums``, ``_wcss``) -- and the least wins, ties going to the earliest start.
4. **Polish**, in double precision, from the best start's labels, until no area moves:

   a. Lloyd's steps, with labels that do not depend on the BLAS or its threads: distances
      come from a single-precision matrix product (half the bytes of a double-precision
      one to gather and multiply), and every area whose two nearest centres are within
      that product's proven rounding bound of each other (``_single_widen``: about 1.5e-5
      of the squared sizes for 60 variables, whatever the BLAS and its summation order)
      is decided again from ``sum((x - c)**2)`` computed area by area in double
      precision, ties going to the lowest segment. Only the areas whose distance bounds
      (``_Bounds``, Hamerly's) do not rule a change out are looked at. The segment sums
      follow the areas that move, added in a fixed order; once nothing moves they are
      summed afresh in a fixed order, and the polish ends only when nothing moves from
      those exact means. On 20,000 areas or more, a step that moved at most 1% of them
      without raising the WCSS is followed by one from centres 0.7 of their step past the
      means (``polish.OVER_RELAX``): near the end a finishing's steps move a few areas
      each for a hundred steps or more (the bounds move by the centres' real shifts);
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
   start's labels (with a sample: on the sample's areas, against each start's polished
   optimum there).
6. **More starts where they disagree.** When fewer than 100 starts were asked for (and
   ``tol`` is 0) and the best start's optimum was reached by no other start (adjusted Rand
   index >= 0.99 with it; with a sample: starts whose optimum on the sample ended on all
   areas at the same WCSS, within a relative ``SAME_WCSS`` = 1e-6 (from 25 segments
   ``SAME_WCSS_LARGE_K`` = 1e-7), and at an adjusted
   Rand index >= 0.99, or had the same optimum on the sample as one that did, and,
   below 25 segments, the restarts that ended there), another round of
   ``n_init`` starts is run (start i's seed is the same whatever the rounds), up to four
   more rounds, until the best is found twice; with a sample, a start of a later round is
   finished on all areas only when its optimum on the sample is among the FINALISTS best
   of all the starts so far (at large k: when it is distinct). The progress log says so
   at each round, and the fit's ``n_starts``, ``best_found`` and ``note`` say how many
   starts were run and how often the best was reached (see benchmarks/kmeans_vs_r.py and
   README's table: on the real national matrix the good optima at k = 15 and 30 are rare,
   and 50 starts are run for some seeds; at k = 30 two optima 8 apart in WCSS at an
   adjusted Rand index above 0.99 -- seed 1: 4,814,364.6 and 4,814,373.0, a relative
   1.7e-6 -- are not the same, hence the WCSS condition; the neighbours restarts reach
   are within 1e-6 in the runs measured, k = 15, seed 1: 5,616,255.2 and 5,616,250.0,
   9.2e-7 apart).
7. **Group moves** (a large matrix only, ``group_moves``), from the best finished optimum:
   around a good optimum of the national matrix lie others a few dozen areas apart and
   within a relative 2e-7 of its WCSS that single-area moves cannot reach: each area
   alone would add WCSS, but several moved together shift the two centres, and the
   polish carries the change on (k = 10, seed 2: the starts' best, 6,160,969.76, differs
   from R's 6,160,969.07 in 27 areas between 13 pairs of segments; moving the 8 of one
   pair, then polishing, goes below R's). For each ordered pair of segments (a, b), the
   2 .. ``GROUP_AREAS`` = 16 areas of a cheapest to move to b (by the WCSS one such move
   would add: Hartigan's test), as many of them as add least WCSS moved together (exact,
   from the segment sums), are its group move; the ``GROUP_TRIES`` = 3 pairs whose move
   adds least are tried in turn, each moved and polished (step 4, on all areas); the
   first that ends lower is kept and the search goes on from there (only the pairs with
   a segment it changed worked out again), until 3 in a row end no lower or
   ``GROUP_KEPT`` = 2 moves are kept. Before it stops for the 3, one *chain* is tried:
   the two moves a to b and b to c (c not a) whose changes add up to least, moved
   together and polished, kept (and the search goes on) when it ends lower. k = 5,
   seed 2: the starts' best, 7,169,333.3243, is 8 areas from R's optimum, 6 of one
   segment in a second and 2 of that one in a third; every move of one pair, polished,
   comes back, and the chain of the two cheapest (2 areas each) ends at R's optimum,
   7,169,333.3223 (restarts on other samples reached it in 1 of 6, 0.3-0.7 s each).
   The chain is tried only where the search would have stopped: a fit whose moves are
   all kept at once is unchanged (k = 10: the same labels for seeds 2011, 1 and 2).
   Each move is decided on the exact WCSS from
   fixed-order sums, so the step only ever lowers the WCSS and gives the same labels
   whatever the BLAS and threads. Measured on the national matrix (seeds 2011, 1, 2;
   ``fit_kmeans`` alone, 10 starts, load 4-6 on 2 cores): k = 10: seed 2 ends at
   6,160,968.96 in 2 moves (0.11 below R's best, 6,160,969.07), seed 1 0.0004 lower in 2
   moves, at R's optimum, seed 2011 at R's optimum (no move); the step takes 0.4-0.9 s.
   k = 20: 0.10, 0.38 and 15.9 lower (2 moves each, 0.6-1.7 s). These bounds are the
   cheapest that keep every k = 10 seed: seed 2's moves are the 1st, 3rd and 1st tried
   (with 2 tries it ends 0.49 above R's best), seed 1 needs both moves (after 1 it is
   0.0001 above), and seed 2's 3rd move gains 0.0001. Searched until 8 tries in a row
   gained nothing, with no bound on the moves, the step took k = 20 0.48, 0.56 and 16.3
   lower but kept 16, 18 and 6 moves in 3.6-7.0 s (in the same run the engine's whole
   fit took 14.0-17.6 s so, 8.8-12.6 s now), for figures already 6,266-15,150 below R's
   best, and k = 10 0.6-1.3 s for the same WCSS; k = 15: 0, 0.11 and 0.05 lower (0-3
   moves, 0.7-1.1 s); k = 30: 0.01, 0.20 and 0.09 lower (1-6 moves).
   Tried and left out: 2-means re-splits of pairs of neighbouring segments (the union of
   two segments split again from three 2-means++ starts, Lloyd and Hartigan on the union)
   took k = 30, seed 1 only 0.13 lower (4,809,891.41 to 891.28, 12.5 s); there the
   group moves take it 0.2 lower, and R's best, 4,809,886.1, is a different optimum
   (adjusted Rand index 0.67 with the engine's): no local search of this kind reaches it.

Threads: the starts' batches, and the finalists, run on a pool of ``pool_size()`` threads
(the cores, at most ``COMMUNITY_SAFETY_THREADS``, at most the BLAS limit
``threadpoolctl.threadpool_limits`` sets), and the BLAS runs one thread per call meanwhile,
with one worker too, so that the single-precision products round the same way whatever the
workers and BLAS threads. Another BLAS kernel (``OPENBLAS_CORETYPE``) rounds them
differently: tests/test_kmeans_setups.py checks the labels stay the same on real data in
those setups, but only the polish (and so a finalist's finishing) is exact by construction
(a start's single-precision trajectory could in principle follow another kernel's rounding
at a near tie).

Tried and left out (issue 24, branch ``issue-24g-tried``): the second worker used where one
waits -- a lone finalist's and the group moves' steps over many areas shared between the
workers a chunk of 32,768 areas at a time (and the group moves' pairs a segment at a
time), and the next pair of restarts begun on the worker a short restart leaves idle (from
the best the pair leaves if the other ends no lower; stopped and dropped when it ends
lower or the best is then found twice). Labels, WCSS and restarts were the same in 28 of
28 fits (national matrix, k = 15 and 20, seeds 1 and 2), but the fit was not faster: in
turn with the engine without it in one run, wall 0.76-1.22 of its time (mean 0.98), CPU
0.87-1.05 (load 1.6-3: another job on one core); at load 5-7, 0.67-1.64 (mean 1.02). What
it could take off is small even on a free machine: a lone finishing (0.7-1.7 s of CPU)
spends 50-60% of its time in steps over a few thousand areas, one chunk (k = 15, seed 1:
177 of its 188 steps, ~2,900 areas each, the engine alone); the restarts' pairs were
mostly even (k = 20, seed 1: 150 and 155 steps, then 146 and 173), and in the uneven one
(k = 15, seed 2: 76 and 337 steps) the short one had already found the best twice, so
nothing could start early; a rough estimate from the phases' CPU times: 8-13% of the fit.

Where a fit's CPU time goes (k = 15 and 20, seeds 1 and 2, the engine alone, load 3 on 2
cores): the seeding 0.2-0.3 s, Lloyd's iterations on the sample 1.0-1.7 s, the starts' and
restarts' polish on their samples 0.8-1.2 s, the finishings on all areas (the best and its
2-4 restarts) 2.7-4.4 s, the group moves 0.5-1.0 s; 5.7-8.9 s in all. Tried and left out
(issue 24, branch ``issue-24s35``; development notes): a smaller ``SAMPLE_AREAS``, 10,000,
14,000 or 16,000 (which optimum the sample ranks first changes with the sample: each size
lost R's best at some k and seed, or was no faster on other seeds), and Lloyd's iterations
on the sample stopped once 0.1-3% of its areas move, the polish finishing them (the same
optima at 0.1%, but 0.97-1.45 of the starts' CPU time: the polish's double-precision steps
cost more than the batched single-precision iterations they replace).

A step of the polish now does less work for the same labels, to the last bit (branch
``s36-kmeans``): rows gathered with ``take``, the transfers' n_a/(n_a-1) worked out per
segment (it was worked out for every area each round), -2 folded into the centres before
the product, the WCSS summed in place, labels sorted as bytes for the segment sums, and a
few moves' change to the sums added without a sparse matrix. Main's code and this in turn
in one process (k = 15 and 20, seeds 2011, 1, 2, two runs each, load 3.4-4.7): the same
labels and WCSS in 12 of 12 fits, CPU 0.87-0.97 of main's (mean 0.92); k = 5 and 10
0.88-0.94: short of the 10-35% k = 15 and 20 need. Tried and left out (development notes):
bounds that cost no work over all areas in a step (the per-step work over all 188,880
areas, about 1 ms, is 8% of a fit's CPU time: too little to take, and watching only the
areas near a bound did not take it), and Hamerly's second test (an area's upper bound
tightened to its exact distance to its own centre before the matrix product: half the
areas looked at pass, but the extra passes over their rows cost more, 1.22-1.27 of the
CPU time).

The polish's distances from a single-precision product (branch ``s37-kmeans``; step 4a):
each area looked at costs about 0.35 µs where it cost 0.6, for 1% more areas looked at
(the bounds are widened by the product's error bound). Main's code and this in turn in
one process (k = 15 and 20, seeds 2011, 1, 2, two runs each, load 6-8): the same labels
and WCSS in 12 of 12 fits, CPU 0.78-0.91 of main's (mean 0.87). Tried and left out
(development notes): Lloyd's iterations on all areas as whole products before a
finishing's polish, until fewer than 1%, 0.1% or 0.02% of the areas move: 1.02-1.04,
1.6-1.8 and 2.2-2.8 of the CPU time (the polish takes about as many steps after them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..progress import Progress, silent
from .finalists import OnSample
from .group_moves import _group_moves
from .partitions import _adjusted_rand, _canonical
from .polish import _exact_squared_own, _means, _polish, _segment_sums, _wcss
from .starts import (
    _augmented,
    _batch_size,
    _batches,
    _first_sample,
    _label_dtype,
    _run_batch,
    _squared_norms,
)
from .threads import _in_parallel, pool_size

BATCH_TOL = 2e-3  # choose-k's starts stop once this share of the areas move
CLOSE_STARTS = 1e-6  # relative WCSS gap under which starts are compared exactly


@dataclass
class KMeansFit:
    labels: np.ndarray  # 0..k-1
    centres: np.ndarray  # k x variables, in standardised units
    wcss: float  # total within-cluster sum of squares
    n_iter: int  # iterations of the final double-precision pass
    stability: float  # mean ARI of the other starts against the best
    n_starts: int = 0  # random starts run: n_init, or more where they disagreed
    best_found: int = 0  # starts (and restarts) that reached the best optimum
    restarts: int = 0  # restarts of the best on other samples (a large matrix only)
    group_moves: int = 0  # group moves kept after the polish (a large matrix only)
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


def _restarts_said(on_sample: OnSample | None) -> str:
    """The restarts of the best on other samples so far, in words ("" if none)."""
    count = len(on_sample.restarts) if on_sample and on_sample.restarts_find else 0
    return f" (counting {count} restarts of the best on other samples)" if count else ""


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
    on_sample = OnSample(X, xx, A, k, sample, SAME_OPTIMUM, seed) if (
        sample is not None and tol == 0) else None
    if on_sample:
        size, work = len(sample), on_sample.batch
    else:
        stop = tol or (BATCH_TOL if sample is not None else 0.0)
        size, work = len(X), lambda part: _run_batch(X, A, k, part, stop, sample)
    batches = _batches(n_init, _batch_size(size, k, n_init))
    workers = pool_size()
    labels = np.empty((0, size), dtype=_label_dtype(k))
    wcss = np.empty(0)
    low, high = 0.0, n_init / (n_init + 1)  # the progress bar's share of this round
    note = ""
    for round_ in range(rounds):
        offset = round_ * n_init
        more_labels = np.empty((n_init, size), dtype=_label_dtype(k))
        more_wcss = np.empty(n_init)
        for (first, last), result in _in_parallel(
                lambda batch, offset=offset: work(
                    seeds[offset + batch[0]:offset + batch[1]]), batches, workers):
            more_labels[first:last], more_wcss[first:last] = result
            for done in range(first + 1, last + 1):
                progress(low + (high - low) * done / n_init,
                         start_message(done, n_init, k) if not round_ else "")
        labels = np.concatenate([labels, more_labels]) if round_ else more_labels
        wcss = np.concatenate([wcss, more_wcss])
        if on_sample:
            progress(high, f"k-means: the starts with the best optima on a sample of "
                     f"{size:,} areas finished on all {len(X):,} (k = {k})")
            finished, found = on_sample.judge(labels, wcss, workers)
            if on_sample.restarts_find:
                finished, found = on_sample.restart(finished, found, workers)
            best = finished.start
        else:
            best = _best_start(X, labels, wcss, k)
            found = int((_adjusted_rand(labels[best], labels, k) >= SAME_OPTIMUM).sum())
        if found >= 2 or round_ + 1 == rounds:
            break
        note = (f"the starts disagreed: the best of {len(wcss):,} was reached by only one "
                f"of them{_restarts_said(on_sample)}, so {n_init:,} more are run")
        progress(high, f"k-means: {note} (k = {k})")
        low, high = high, high + (1 - high) / 2
    if on_sample and not on_sample.restarts_find:  # (large k: restarts only go lower)
        finished, found = on_sample.restart(finished, found, workers)
        best = finished.start
    if len(wcss) > n_init:
        note = (f"The starts disagreed, so {len(wcss) - n_init:,} were run beyond the "
                f"{n_init:,} asked for: the best was reached by {found} of {len(wcss):,}"
                + _restarts_said(on_sample)
                + ("." if found >= 2 else ", not twice: more random starts may find a "
                   "better segmentation."))
        progress(high, f"k-means: {note}")
    moves = 0
    if on_sample:
        progress(high, f"k-means: groups of areas moved between segments (k = {k})")
        final, centres, n_iter, moves = _group_moves(X, xx, finished.labels,
                                                     finished.centres, k, finished.n_iter,
                                                     A)
        total = _wcss(X, centres, final) if moves else finished.wcss  # (same labels, means)
        if moves:
            note += (" " if note else "") + (
                f"{moves} group move{'s' if moves > 1 else ''} of areas between segments "
                f"after the polish took the within-segment sum of squares "
                f"{finished.wcss - total:,.4g} lower (to {total:,.2f}).")
    elif tol > 0:
        final, n_iter = labels[best].astype(np.int64), 0
        sums, counts = _segment_sums(X, final, k)
        centres = _means(sums, counts, np.broadcast_to(X.mean(axis=0), sums.shape))
    else:
        final, centres, n_iter = _polish(X, xx, labels[best], k, rows=A)
    others = np.delete(np.arange(len(wcss)), best)
    compared = final[sample] if on_sample else final  # (on the sample: the starts' labels)
    stability = float("nan")
    if len(others):
        aris = [_adjusted_rand(compared, labels[others[a:a + 256]], k)
                for a in range(0, len(others), 256)]
        stability = float(np.mean(np.concatenate(aris)))
    progress(1.0, f"k-means converged (k = {k})")
    return KMeansFit(labels=final, centres=centres,
                     wcss=total if on_sample else _wcss(X, centres, final),
                     n_iter=n_iter, stability=stability, n_starts=len(wcss),
                     best_found=found, note=note,
                     restarts=len(on_sample.restarts) if on_sample else 0,
                     group_moves=moves)


def assign_to_centres(X: np.ndarray, centres: np.ndarray, chunk: int = 50_000) -> np.ndarray:
    """Nearest centre for each row (ties to the lower segment), in chunks to bound memory."""
    X = np.asarray(X, dtype=np.float64)
    nearest = np.empty(len(X), dtype=np.int64)
    for i in range(0, len(X), chunk):
        block = X[i:i + chunk]
        squared = ((block[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        nearest[i:i + chunk] = squared.argmin(axis=1)
    return nearest
