"""k-means segments, and the diagnostics for choosing k.

A fit runs ``n_init`` k-means++ starts, each from its own seed drawn from the user's seed
(so the same inputs and seed give the same labels on every run). Each start iterates Lloyd's
algorithm to full convergence (tolerance 0: until no area changes segment) in single
precision; the best start (least within-cluster sum of squares) is then polished in double
precision from its centres until, again, no area moves. Stability is the mean adjusted Rand
index between the best start's labels and every other start's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
    silhouette_score,
)

from .errors import InputError
from .progress import Progress, silent

MAX_ITER = 3000
SILHOUETTE_SAMPLE = 10_000


@dataclass
class KMeansFit:
    labels: np.ndarray  # 0..k-1
    centres: np.ndarray  # k x variables, in standardised units
    wcss: float  # total within-cluster sum of squares
    n_iter: int  # iterations of the final double-precision pass
    stability: float  # mean ARI of the other starts against the best


def check_k(k: int, n_areas: int) -> None:
    if k < 2:
        raise InputError(f"k = {k}: at least 2 segments are needed")
    if k > n_areas:
        raise InputError(f"k = {k} is larger than the number of areas ({n_areas})")


def start_seeds(seed: int, n_init: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n_init)]


def distance_to_centres(X: np.ndarray, centres: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Euclidean distance from each area to the centre of its own segment."""
    return np.sqrt(((X - centres[labels]) ** 2).sum(axis=1))


def _one_start(X32: np.ndarray, k: int, seed: int) -> KMeans:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate points warnings on tiny inputs
        return KMeans(n_clusters=k, n_init=1, random_state=seed, tol=0.0, max_iter=MAX_ITER,
                      algorithm="lloyd").fit(X32)


def start_message(done: int, n_init: int, k: int) -> str:
    """The progress text after ``done`` of ``n_init`` random starts: one line each time
    another tenth of the starts is done (and after the last), "" in between, so that a log
    or progress window shows ten lines, not one per start. (Callers show a message only
    when it is not empty; the fraction is still reported after every start, and cancelling
    still stops between starts.)"""
    if done == n_init or (10 * done) // n_init > (10 * (done - 1)) // n_init:
        return (f"k-means: {done:,} of {n_init:,} random starts done "
                f"({100 * done // n_init}%, k = {k})")
    return ""


def fit_kmeans(
    X: np.ndarray, k: int, n_init: int = 50, seed: int = 1, progress: Progress = silent
) -> KMeansFit:
    X = np.ascontiguousarray(X, dtype=np.float64)
    check_k(k, len(X))
    if n_init < 1:
        raise InputError(f"n_init = {n_init}: at least one random start is needed")
    X32 = X.astype(np.float32)
    starts = []
    for i, start_seed in enumerate(start_seeds(seed, n_init)):
        starts.append(_one_start(X32, k, start_seed))
        progress((i + 1) / (n_init + 1), start_message(i + 1, n_init, k))
    best = min(range(n_init), key=lambda i: (starts[i].inertia_, i))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final = KMeans(n_clusters=k, init=starts[best].cluster_centers_.astype(np.float64),
                       n_init=1, tol=0.0, max_iter=MAX_ITER, algorithm="lloyd").fit(X)
    if final.n_iter_ >= MAX_ITER:
        raise RuntimeError(f"k-means did not converge in {MAX_ITER} iterations")
    # Lloyd's last step updates centres after the last assignment: settle labels on them.
    labels = final.predict(X)
    centres = np.vstack([X[labels == j].mean(axis=0) if (labels == j).any()
                         else final.cluster_centers_[j] for j in range(k)])
    others = [adjusted_rand_score(labels, s.labels_) for i, s in enumerate(starts) if i != best]
    progress(1.0, f"k-means converged (k = {k})")
    return KMeansFit(
        labels=labels.astype(np.int64), centres=centres,
        wcss=float(((X - centres[labels]) ** 2).sum()), n_iter=int(final.n_iter_),
        stability=float(np.mean(others)) if others else float("nan"),
    )


def assign_to_centres(X: np.ndarray, centres: np.ndarray, chunk: int = 50_000) -> np.ndarray:
    """Nearest centre for each row (ties to the lower segment), in chunks to bound memory."""
    X = np.asarray(X, dtype=np.float64)
    nearest = np.empty(len(X), dtype=np.int64)
    for i in range(0, len(X), chunk):
        block = X[i:i + chunk]
        squared = ((block[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        nearest[i:i + chunk] = squared.argmin(axis=1)
    return nearest


def choose_k(
    X: np.ndarray, ks: Sequence[int], n_init: int = 10, seed: int = 1,
    progress: Progress = silent,
) -> pd.DataFrame:
    """Diagnostics for each k: WCSS (elbow), silhouette (sampled above 10,000 areas),
    Calinski-Harabasz, Davies-Bouldin and stability across seeds."""
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

        fit = fit_kmeans(X, k, n_init=n_init, seed=seed, progress=report)
        labels = fit.labels
        sampled = labels[sample]
        rows.append({
            "k": k,
            "wcss": fit.wcss,
            "silhouette": (float(silhouette_score(sample_distances, sampled,
                                                  metric="precomputed"))
                           if len(np.unique(sampled)) > 1 else float("nan")),
            "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
            "davies_bouldin": float(davies_bouldin_score(X, labels)),
            "stability_ari": fit.stability,
            "smallest_segment_pct": round(100 * float(np.bincount(labels, minlength=k).min())
                                          / len(X), 2),
            "silhouette_sampled": len(sample) < len(X),
        })
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
