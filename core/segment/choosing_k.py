"""Choosing k: each k's diagnostics (WCSS for the elbow, silhouette, Calinski-Harabasz,
Davies-Bouldin, stability across starts) and the k recommended from them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import pairwise_distances

from ..progress import Progress, silent
from .kmeans import BATCH_TOL, check_k, distance_to_centres, fit_kmeans

SILHOUETTE_SAMPLE = 10_000


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
    the areas change segment in an iteration (``BATCH_TOL``, see ``kmeans``'s description),
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


# the diagnostics as a person reads them (the wizard's table and the command line):
# column, heading, format
DIAGNOSTIC_COLUMNS = [("k", "k", "{:d}"), ("wcss", "Within-segment sum of squares", "{:,.1f}"),
                      ("silhouette", "Silhouette", "{:.3f}"),
                      ("calinski_harabasz", "Calinski–Harabasz", "{:,.1f}"),
                      ("davies_bouldin", "Davies–Bouldin", "{:.3f}"),
                      ("stability_ari", "Stability", "{:.2f}"),
                      ("smallest_segment_pct", "Smallest segment (% of areas)", "{:.1f}")]


def diagnostics_for_readers(table: pd.DataFrame) -> pd.DataFrame:
    """The choose-k table with headings in words and its figures rounded for reading
    (empty where a diagnostic could not be computed)."""
    return pd.DataFrame({heading: [shape.format(int(v) if shape == "{:d}" else v)
                                   if pd.notna(v) else "" for v in table[column]]
                         for column, heading, shape in DIAGNOSTIC_COLUMNS
                         if column in table.columns})


def recommend_k(table: pd.DataFrame, wish: int = OPERATIONAL_K,
                min_share: float = MIN_SHARE) -> tuple[int, str]:
    """The k to use and why, from choose_k's table: among the k whose smallest segment holds
    at least ``min_share``% of the areas and whose starts agree (stability >= 0.8) — or all k
    if none passes — the best by the agreement of silhouette (high), Calinski-Harabasz
    (high) and Davies-Bouldin (low), as a sum of ranks; ties go to the k nearest ``wish``."""
    frame = table.set_index("k")
    fit = frame[(frame["smallest_segment_pct"] >= min_share)
                & (frame["stability_ari"].fillna(1.0) >= STABLE)]
    passed = not fit.empty
    if not passed:
        fit = frame
    ranks = (fit["silhouette"].rank(ascending=False)
             + fit["calinski_harabasz"].rank(ascending=False)
             + fit["davies_bouldin"].rank(ascending=True))
    order = sorted(fit.index, key=lambda k: (ranks[k], abs(k - wish), k))
    best = int(order[0])
    row = frame.loc[best]
    conditions = (f"every segment at least {min_share:g}% of the areas and much the "
                  f"same segments from different random starts (stability {STABLE:g} or "
                  "more)")
    distinct = (f"k = {best} gives the most distinct segments (silhouette "
                f"{row['silhouette']:.3f}, Calinski-Harabasz {row['calinski_harabasz']:.0f}, "
                f"Davies-Bouldin {row['davies_bouldin']:.3f} agree best)")
    ks = sorted(int(k) for k in frame.index)
    tried = (f"{len(frame)} numbers of segments tried (k = {ks[0]} to {ks[-1]})"
             if len(ks) > 1 else f"{len(frame)} number of segments tried")
    passing = [str(int(k)) for k in sorted(fit.index)]
    passing = (", ".join(passing[:-1]) + " and " + passing[-1]) if len(passing) > 1 else ""
    if not passed:
        among = (f"none of the {tried} gives {conditions}, so all were compared (no k met "
                 f"both conditions); of them, {distinct}")
    elif len(fit) == 1:
        among = f"of the {tried}, only k = {best} gives {conditions}"
    else:
        among = (f"of the {tried}, {len(fit)} (k = {passing}) give {conditions}; of those, "
                 f"{distinct}")
    reason = (f"k = {best}: {among}. Its smallest segment holds "
              f"{row['smallest_segment_pct']:g}% of the areas; its stability is "
              f"{row['stability_ari']:.2f} (1 = the same segments from every start).")
    if wish in frame.index and best != wish:
        wished = frame.loc[wish]
        reason += (f" The operational choice k = {wish} has smallest segment "
                   f"{wished['smallest_segment_pct']:g}% of the areas and stability "
                   f"{wished['stability_ari']:.2f}.")
    return best, reason
