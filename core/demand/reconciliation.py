"""Every input record lands in exactly one status: the statuses, kept as small numbers while
millions of records are read, summarised per source with the rows to look at one by one,
and the reconciliation tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import _scrambled, cells_of, factorize

# reconciliation statuses: every input record lands in exactly one
USED = "used"
OUTSIDE = "outside the window"
PLANNED = "pre-planned event or operation (excluded)"
BAD_DATE = "date unreadable"
BAD_DURATION = "used, duration unreadable (counted without hours)"
NO_ID = "no person ID"
NOT_COUNTED = "role not counted"
REPEAT = "same person, call and role again (counted once)"
BAD_LINE = "line unreadable"
NO_INCIDENT = "no such call in the calls table"
INCIDENT_UNUSED = "call not used (outside the window, pre-planned or no person)"
BAD_TIMES = "resource times unreadable (adds no hours)"
DUPLICATE = "duplicate (identical to an earlier line in every column; skipped)"
AREA_OUTSIDE = "used, home area outside the areas known (an area elsewhere or no such area)"
AREA_NOT_CODE = "used, home area not an area code"
PER_ROW = (BAD_DATE, BAD_DURATION, NO_ID, NOT_COUNTED, BAD_LINE, NO_INCIDENT, BAD_TIMES,
           DUPLICATE, AREA_OUTSIDE, AREA_NOT_CODE)
# the records counted in the totals
COUNTED = (USED, BAD_DURATION, AREA_OUTSIDE, AREA_NOT_CODE)


# the status of a source's record, as a small number while millions are worked on
STATUSES = (USED, OUTSIDE, PLANNED, BAD_DATE, BAD_DURATION, NO_ID, NOT_COUNTED, REPEAT,
            DUPLICATE, AREA_OUTSIDE, AREA_NOT_CODE)
_S = {name: np.int8(i) for i, name in enumerate(STATUSES)}


def _statuses(source: str, rows, status, detail="") -> pd.DataFrame:
    rows = np.asarray(rows)
    return pd.DataFrame({"source": source, "row": rows,
                         "status": np.broadcast_to(np.asarray(status, dtype=object), rows.shape),
                         "detail": np.broadcast_to(np.asarray(detail, dtype=object),
                                                   rows.shape)})


def _summarised(source: str, rows, status: np.ndarray, detail: np.ndarray,
                listed: np.ndarray, labels=None) -> pd.DataFrame:
    """Records per status (row -1, ``records``), with the ``listed`` rows to look at one by
    one (``row``, ``detail``; records 0: counted above): millions of used rows need no line
    each. ``status``: texts, or positions in ``labels``."""
    if labels is not None:
        counts = pd.Series(np.bincount(status, minlength=len(labels)), index=list(labels))
        counts = counts[counts > 0]
        status = np.asarray(labels, dtype=object)[status[listed]]
        listed_status = status
    else:
        counts = pd.Series(status).value_counts(sort=False)
        listed_status = status[listed]
    summary = pd.DataFrame({"source": source, "row": -1, "status": counts.index,
                            "detail": "", "records": counts.to_numpy()})
    one_by_one = _statuses(source, np.asarray(rows)[listed], listed_status, detail[listed])
    return pd.concat([summary, one_by_one.assign(records=0)], ignore_index=True)


def identical_repeats(frame: pd.DataFrame, positions: np.ndarray, keys: list
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Of the rows at ``positions`` of ``frame``, those identical in every column to an
    earlier one (mask), with the file line (index label) of that earlier row (0 where
    none). ``keys``: per row values that identical rows share (person, date...), so that
    only rows repeating all of them are compared, column by column on integer codes: a
    row is dropped from the comparison as soon as one column tells it apart (a column of
    record references ends it at once)."""
    later = np.zeros(len(positions), dtype=bool)
    first_line = np.zeros(len(positions), dtype=np.int64)
    at, group = np.arange(len(positions)), np.zeros(len(positions), dtype=np.int64)
    columns = [np.asarray(k) for k in keys] + [None] * frame.shape[1]
    waiting = None  # the codes of the last column, not yet joined to the groups
    for i, values in enumerate(columns):
        if not len(at):
            return later, first_line
        if values is None:  # a column of the frame, at the rows still alike
            values = cells_of(frame.iloc[:, i - len(keys)])[positions[at]]
        else:
            values = values[at]
        codes = _codes(values)
        # a row whose value no other row has is told apart by this column alone, before
        # any grouping (a column of record references ends the comparison there)
        shared = np.bincount(codes + 1)[codes + 1] > 1
        if not shared.all():
            at, group, codes = at[shared], group[shared], codes[shared]
            waiting = None if waiting is None else waiting[shared]
        if waiting is not None:
            group, waiting = pd.factorize(_joined(group, waiting))[0], None
        joined = _joined(group, codes)
        if joined.max(initial=0) >= 4 * len(joined):  # many groups: numbered again
            if i + 1 < len(columns):
                # (as costly as reading a column: the next column alone goes first)
                waiting = codes
                continue
            joined = pd.factorize(joined)[0]
        shared = np.bincount(joined)[joined] > 1
        at, group = at[shared], joined[shared]
    if waiting is not None:
        group = pd.factorize(_joined(group, waiting))[0]
        shared = np.bincount(group)[group] > 1
        at, group = at[shared], group[shared]
    _, first_of, group = np.unique(group, return_index=True, return_inverse=True)
    first = first_of[group]  # the earliest row of each group of identical rows
    repeat = first != np.arange(len(at))
    later[at[repeat]] = True
    first_line[at[repeat]] = np.asarray(frame.index)[positions[at[first[repeat]]]]
    return later, first_line


def _codes(values: np.ndarray) -> np.ndarray:
    """Integers that are equal where the values are (-1 for every missing value): codes
    given (small integers from -1) as they are, others numbered."""
    if values.dtype.kind in "iu" and len(values) and values.min() >= -1 \
            and values.max() < 4 * len(values):
        return values.astype(np.int64, copy=False)
    if values.dtype.kind in "iu":  # times in nanoseconds...: grouped on scrambled bits
        return pd.factorize(_scrambled(values))[0]
    return factorize(values)[0]


def _joined(group: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """One integer per (group, code) pair (both small integers, codes from -1)."""
    return group * (int(codes.max(initial=0)) + 2) + codes + 1


def _quoted(before: str, values, after: str) -> np.ndarray:
    return (before + pd.Series(values, dtype=object).astype(str) + after).to_numpy(object)


def reconciliation(statuses: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records per source and status, the rows that need a look one by one). A row ``-1``
    carries a count (``records``); a listed row is counted there already (``records`` 0),
    unless it carries no count (unreadable lines: 1 each)."""
    if "records" not in statuses.columns:
        statuses = statuses.assign(records=np.nan)
    counted = statuses[(statuses["row"] == -1) | statuses["records"].isna()]
    summary = counted.assign(records=counted["records"].fillna(1)).groupby(
        ["source", "status"], sort=False)["records"].sum().astype(np.int64).reset_index()
    summary = summary.rename(columns={"source": "source file"})
    rows = statuses[statuses["row"] != -1].drop(columns="records").rename(
        columns={"source": "source file", "row": "line"}).reset_index(drop=True)
    return summary, rows
