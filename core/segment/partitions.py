"""Partitions of the same areas compared: the same partition whatever the numbering of its
segments (``_canonical``), and how far two agree (``_adjusted_rand``)."""

from __future__ import annotations

import numpy as np


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
