"""Personal data never leaves in an export.

- **Small-number suppression** of count matrices: a count from 1 to ``threshold`` (default
  5) is suppressed (0 stays 0). **Secondary suppression** then makes sure no suppressed
  cell can be worked out from the published totals: a suppressed cell is recoverable when
  the row and column sums (totals included) pin it down, which the linear system of those
  sums tells exactly; while any is, the smallest non-zero published count in one of its
  lines (else that line's total) is suppressed too.
- **Percentages** are then computed from the published figures only
  (``matrices.percentages``: a percentage whose cell or total is hidden is hidden).
- **Pseudonymised identifiers**: HMAC-SHA-256 with a secret key, so records can be linked
  by whoever holds the key and by no one else.
- **No personal columns**: record-level outputs (incident reconciliations) are written from
  a fixed list of columns (source, row, pseudonymised ID, area, status, method, detail), so
  names, dates of birth or addresses in a partner's file never reach them.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

SUPPRESSED = "*"


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash (HMAC-SHA-256, first 16 hex digits) of each identifier; blanks stay blank."""
    if not key:
        raise ValueError("a pseudonymisation key is required")

    def digest(value: str) -> str:
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    text = values.astype(str).str.strip()
    return text.where(text == "", text.map(digest))


def _lines(rows: int, cols: int):
    """Each row and column of a matrix whose last row and column are totals: the cells of
    the line (excluding its total) and the position of its total."""
    for r in range(rows):
        yield [(r, c) for c in range(cols - 1)], (r, cols - 1)
    for c in range(cols):
        yield [(r, c) for r in range(rows - 1)], (rows - 1, c)


def recoverable_cells(hidden: np.ndarray, values: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells that the published entries and the sums determine uniquely.

    The unknowns are the suppressed entries; each line gives one linear equation (cells sum
    to the total). An unknown is determined when it is zero in every null-space vector.
    """
    unknowns = [tuple(p) for p in np.argwhere(hidden)]
    if not unknowns:
        return []
    position = {p: i for i, p in enumerate(unknowns)}
    rows = []
    for cells, total in _lines(*hidden.shape):
        row = np.zeros(len(unknowns))
        for cell in cells:
            if cell in position:
                row[position[cell]] += 1
        if total in position:
            row[position[total]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return unknowns
    matrix = np.array(rows)
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9).sum())
    null_space = vt[rank:]
    if len(null_space) == 0:
        return unknowns
    free = np.abs(null_space).max(axis=0) > 1e-9
    return [unknowns[i] for i in np.flatnonzero(~free)]


def suppress(matrix: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """Counts with small numbers and the cells that would reveal them shown as NaN.

    ``matrix`` has a ``Total`` row and column (see ``matrices``).
    """
    values = matrix.to_numpy(dtype=float)
    hidden = (values >= 1) & (values <= threshold)
    hidden[-1, -1] = False  # the grand total is always published
    while True:
        exposed = recoverable_cells(hidden, values)
        if not exposed:
            break
        hidden = _hide_one_more(hidden, values, exposed[0])
    out = matrix.astype(float).copy()
    out[:] = np.where(hidden, np.nan, values)
    return out


def _hide_one_more(hidden: np.ndarray, values: np.ndarray, cell: tuple[int, int]) -> np.ndarray:
    """Suppress one more entry so that ``cell`` can no longer be worked out.

    Candidates, in order of preference: non-zero published counts sharing a line with
    ``cell``; then the totals of its lines; then any non-zero published count or total on
    a line that holds a suppressed entry. Among them the smallest that protects ``cell`` is
    chosen (else the smallest: the next round looks again).
    """
    r, c = cell
    rows, cols = hidden.shape
    grand = (rows - 1, cols - 1)

    def open_entries(positions, counts_only):
        return [p for p in positions if p != cell and p != grand and not hidden[p]
                and (values[p] > 0 if counts_only else True)
                and (not counts_only or (p[0] < rows - 1 and p[1] < cols - 1))]

    own_lines = [(r, j) for j in range(cols)] + [(i, c) for i in range(rows)]
    wider = [tuple(p) for p in np.argwhere(~hidden)
             if hidden[p[0], :].any() or hidden[:, p[1]].any()]
    for candidates in (open_entries(own_lines, True), open_entries(own_lines, False),
                       open_entries(wider, False)):
        candidates = sorted(candidates, key=lambda p: (values[p], p))
        for candidate in candidates:
            trial = hidden.copy()
            trial[candidate] = True
            if cell not in recoverable_cells(trial, values):
                return trial
        if candidates:
            trial = hidden.copy()
            trial[candidates[0]] = True
            return trial
    raise RuntimeError(f"cannot protect suppressed cell {cell}")
