"""Every input record lands in exactly one status: the statuses, kept as small numbers while
millions of records are read, summarised per source with the rows to look at one by one,
and the reconciliation tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    only rows repeating all of them are compared column by column."""
    later = np.zeros(len(positions), dtype=bool)
    first_line = np.zeros(len(positions), dtype=np.int64)
    if not len(positions):
        return later, first_line
    near = pd.DataFrame({i: np.asarray(k) for i, k in enumerate(keys)}).duplicated(
        keep=False).to_numpy()
    if not near.any():
        return later, first_line
    at = np.flatnonzero(near)
    rows = frame.iloc[positions[at]]
    group = rows.groupby(list(rows.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(at))).groupby(group).transform("min").to_numpy()
    later[at] = first != np.arange(len(at))
    first_line[at] = np.asarray(frame.index)[positions[at[first]]]
    return later, first_line


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
