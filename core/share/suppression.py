"""Personal data never leaves in an export.

- **Small-number suppression** of count tables (ward x segment matrices with their totals,
  per-segment incident counts): a count from 1 to ``threshold`` (default 5) is suppressed;
  0 stays 0 and is always shown. Every count from 1 to the threshold is a *primary*
  suppression, totals included (a grand total too).
- **Secondary suppression against an informed reader.** The reader sees every table
  published together (all the matrices of the same wards and segments, and with them the
  per-segment incident counts of the partner GeoPackage) and knows:

  * the row and column sums: each line of cells adds up to its total;
  * each suppressed entry is at least 1: zeros are never suppressed, so a hidden entry is
    not 0 (the reader cannot tell which hidden entries are small counts and which were
    hidden to protect them, so no upper bound of ``threshold`` is assumed);
  * facts that tie the tables together cell by cell (``structural_links``): every output
    area has households and every household has residents, so households >= areas and
    residents >= households >= ... in every ward x segment cell; a ward's dominant segment
    (the ward layer) holds at least as many households as any other segment of the ward;
    a segment's incident count is at least its count in the matrix (equal when every
    area is in a ward). A link is used only where the data bear it out. The empty-cell
    pattern itself ("a cell with no areas has no households") is already common
    knowledge, since zeros are shown in every table; it adds nothing beyond "at least 1".

  For each primary entry the reader's range is worked out exactly: the least and the
  greatest whole number it can be given all of the above, by linear programming over all
  the hidden entries of the tables involved (``scipy.optimize.linprog``; where an optimum
  is not a whole number, by integer programming, ``scipy.optimize.milp``, SciPy 1.9 or
  later). For a table on its own (only its sums) the linear optimum is always a whole
  number: the sums of a table with its totals form a network, whose constraint matrix is
  totally unimodular. An entry is
  **protected when that range spans at least ``threshold``** (greatest - least >=
  threshold): at least threshold + 1 possible counts. As every hidden entry is at least
  1, the reader can then never be sure the count is a small one (the range reaches above
  the threshold), nor narrow it to fewer values than a suppressed count could take.
  While an entry is not protected, one more entry is suppressed: in order of preference
  the smallest non-zero published count sharing a row or column with it, then those
  lines' totals, then the same cell in a linked table, then any non-zero count or total
  on a line that holds a hidden entry, and as the last resort the grand total (a table
  whose grand total is so small that no split of it could be protected ends up with its
  grand total hidden too). Entries that carry a finding (``findings``: a segment whose
  incidents stand out, over or under its share of households) come after all the others,
  in the same order: a report then hides, say, a segment's count that is as expected
  rather than the one segment that is over-represented, whenever that protects the small
  count as well. The first candidate that protects the entry is taken, else
  the one that widens its range most, and the search goes on. Hiding more never narrows
  a range, so an entry once protected stays protected and one pass over the primary
  entries suffices. Finally a secondary entry that the reader can still work out exactly
  is shown again (showing it tells the reader nothing new).
- **Percentages** are then computed from the published figures only
  (``matrices.percentages``: a percentage whose cell or total is hidden is hidden).
- **Pseudonymised identifiers**: HMAC-SHA-256 with a secret key, so records can be linked
  by whoever holds the key and by no one else.
- **No personal columns**: record-level outputs (incident reconciliations) are written from
  a fixed list of columns (source, row, pseudonymised ID, area, status, method, detail), so
  names, dates of birth or addresses in a partner's file never reach them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog
from scipy.sparse import csr_matrix, vstack

from ..errors import InputError

SUPPRESSED = "*"


def is_small(count, threshold: int):
    """A count from 1 to ``threshold`` (a number or an array of them): the counts that are
    suppressed wherever a partner reads them (0 is always shown)."""
    return (count >= 1) & (count <= threshold)


def check_threshold(threshold: int) -> None:
    """Refuse a suppression threshold that would publish small counts (below 1)."""
    if threshold < 1:
        raise InputError(f"a suppression threshold of {threshold} would publish small counts; "
                         "use 1 or more (the default, 5, is the usual rule for statistics "
                         "about people: counts of 1 to 5 could identify someone)")
TOTAL = "Total"  # the label of total rows and columns (as in ``matrices``)
_CELL, _LINE_TOTAL, _GRAND_TOTAL = 0, 1, 2
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Link:
    """A fact the reader knows: entry ``low`` <= entry ``high`` (== when ``equal``). An entry
    is ``(table, row, column)``; in a one-way table (a Series) ``(table, label, None)``."""

    low: tuple
    high: tuple
    equal: bool = False


@dataclass(frozen=True)
class Sum:
    """A fact the reader knows: the entries ``parts`` add up to the entry ``whole`` (e.g. a
    row's contacts are the sum of its counted totals). Entries as in ``Link``."""

    parts: tuple
    whole: tuple


class _Tables:
    """The entries of several count tables in one vector, with their sum equations and
    links. A matrix (DataFrame) has a ``Total`` last row and column; a one-way table
    (Series) a ``Total`` last entry."""

    def __init__(self, tables: dict, links=(), sums=(), findings=()):
        self.names = list(tables)
        keys, values, kinds, owner = [], [], [], []
        self.equations = []  # (entries, coefficients): sum of coefficient * x == 0
        for t, (name, table) in enumerate(tables.items()):
            start = len(keys)
            if isinstance(table, pd.Series):
                labels = list(table.index)
                keys += [(name, label, None) for label in labels]
                values += list(table.to_numpy(dtype=float))
                kinds += [_CELL] * (len(labels) - 1) + [_GRAND_TOTAL]
                owner += [t] * len(labels)
                if len(labels) > 1:
                    entries = list(range(start, start + len(labels)))
                    self.equations.append((entries, [1.0] * (len(labels) - 1) + [-1.0]))
                continue
            rows, cols = table.shape
            array = table.to_numpy(dtype=float)
            for r, row in enumerate(table.index):
                for c, col in enumerate(table.columns):
                    keys.append((name, row, col))
                    values.append(array[r, c])
                    last = (r == rows - 1) + (c == cols - 1)
                    kinds.append((_CELL, _LINE_TOTAL, _GRAND_TOTAL)[last])
                    owner.append(t)
            at = np.arange(start, start + rows * cols).reshape(rows, cols)
            for r in range(rows if cols > 1 else 0):
                self.equations.append((list(at[r]), [1.0] * (cols - 1) + [-1.0]))
            for c in range(cols if rows > 1 else 0):
                self.equations.append((list(at[:, c]), [1.0] * (rows - 1) + [-1.0]))
        self.keys = keys
        self.index = {key: i for i, key in enumerate(keys)}
        for identity in sums:
            if identity.whole in self.index and all(p in self.index for p in identity.parts):
                entries = [self.index[p] for p in identity.parts] + [self.index[identity.whole]]
                self.equations.append((entries, [1.0] * len(identity.parts) + [-1.0]))
        self.values = np.array(values, dtype=float)
        self.finding = np.zeros(len(keys), dtype=bool)  # hidden only when nothing else does
        self.finding[[self.index[key] for key in findings if key in self.index]] = True
        self.kind = np.array(kinds)
        self.owner = np.array(owner)
        self.links = [(self.index[link.low], self.index[link.high], link.equal)
                      for link in links if link.low in self.index and link.high in self.index]
        self.equations_of = [[] for _ in keys]
        for q, (entries, _) in enumerate(self.equations):
            for i in entries:
                self.equations_of[i].append(q)
        self.links_of = [[] for _ in keys]
        for k, (i, j, _) in enumerate(self.links):
            self.links_of[i].append(k)
            self.links_of[j].append(k)
        # the equations and links as sparse matrices (a row per equation, per link: low -
        # high), by row and by entry: each check's system and the entries tied together
        # are found from them without a loop over rows
        self.equation_rows = _sparse_rows(self.equations, len(keys))
        self.link_rows = _sparse_rows([((i, j), (1.0, -1.0)) for i, j, _ in self.links],
                                      len(keys))
        self.link_equal = np.array([equal for _, _, equal in self.links], dtype=bool)
        # which rows hold an entry, and which entries a row holds (absolute values, so
        # that no coefficients cancel): two sparse products find the entries tied to any
        # of a set (an entry x entry matrix of ties grows with the square of a line's
        # length: 8 times slower on 600 wards of shared demand)
        self._holding = (abs(self.equation_rows), abs(self.link_rows))
        self._held = tuple(rows.T.tocsr() for rows in self._holding)

    def slice(self, name: str) -> slice:
        where = np.flatnonzero(self.owner == self.names.index(name))
        return slice(int(where[0]), int(where[-1]) + 1)

    def sharing(self, entries, equations: bool = True, links: bool = True) -> np.ndarray:
        """Which entries share an equation (``equations``) or a link (``links``) with any
        of ``entries`` (those entries included when they are in one)."""
        mask = self._mask(entries)
        tied = np.zeros(len(self.keys), dtype=bool)
        for wanted, rows, held in zip((equations, links), self._holding, self._held):
            if wanted:
                tied |= held @ (rows @ mask > 0).astype(float) > 0
        return tied

    def _mask(self, entries) -> np.ndarray:
        mask = np.zeros(len(self.keys))
        mask[np.asarray(entries, dtype=int)] = 1.0
        return mask

    def rows_holding(self, entries) -> tuple[np.ndarray, np.ndarray]:
        """The equations and the links holding any of ``entries`` (their row numbers)."""
        mask = self._mask(entries)
        return tuple(np.flatnonzero(rows @ mask) for rows in self._holding)

    def component(self, entry: int, hidden: np.ndarray) -> list[int]:
        """The hidden entries tied to ``entry`` through equations and links."""
        seen = np.zeros(len(self.keys), dtype=bool)
        seen[entry] = True
        frontier = [entry]
        while len(frontier):
            near = self.sharing(frontier) & hidden & ~seen
            seen |= near
            frontier = np.flatnonzero(near)
        return list(np.flatnonzero(seen))

    def touches(self, entries, hideable: np.ndarray) -> bool:
        """Whether any of ``entries`` shares an equation or a link with a hideable entry."""
        return bool(hideable[entries].any() or (self.sharing(entries) & hideable).any())

    def neighbours(self, entry: int) -> list[int]:
        """Entries sharing a row or column (an equation) with ``entry``."""
        return sorted({j for q in self.equations_of[entry] for j in self.equations[q][0]}
                      - {entry})

    def linked(self, entry: int) -> list[int]:
        return sorted({j for k in self.links_of[entry] for j in self.links[k][:2]} - {entry})


class _Reader:
    """The informed reader's range for hidden entries. Keeps, for every entry, the least
    and greatest value seen in whole-number solutions of the reader's system (the true
    table is one): those are inner bounds of the range, so many entries are shown
    protected without solving anything."""

    def __init__(self, tables: _Tables):
        self.tables = tables
        self.low = tables.values.copy()
        self.high = tables.values.copy()
        self._prices = None  # the last committed check's prices (``useless``)

    def _problem(self, entry: int, hidden: np.ndarray):
        """The reader's system for the hidden entries tied to ``entry`` (its variables,
        in order): the equations and links that hold any of them, each as its part in the
        variables and its right-hand side (the published entries moved over); with the
        rows themselves, over every entry, for the dual prices."""
        tables = self.tables
        variables = np.array(tables.component(entry, hidden), dtype=int)
        outside = tables.values.copy()
        outside[variables] = 0.0  # the published entries' values, the variables' zero
        held, used = tables.rows_holding(variables)
        equations = tables.equation_rows[held]
        links = tables.link_rows[used]
        equal = tables.link_equal[used]
        rows = {True: vstack([equations, links[equal]], format="csr"),
                False: links[~equal]}
        system = {kind: (matrix[:, variables], -(matrix @ outside), matrix)
                  for kind, matrix in rows.items()}
        return variables, system

    def extreme(self, entry: int, hidden: np.ndarray, sign: float,
                low: np.ndarray, high: np.ndarray, prices: bool = False):
        """The least (``sign`` 1) or greatest (-1) whole value of ``entry``; updates the
        inner bounds ``low`` and ``high`` with the solution found. With ``prices``, also
        the rate at which the optimum could improve per unit change of each published
        entry, were it hidden (from the dual solution; None when not available): an entry
        whose rate is 0 (or, at 1, points the wrong way) cannot move the optimum."""
        variables, system = self._problem(entry, hidden)
        (a_eq, b_eq, eq_rows), (a_ub, b_ub, ub_rows) = system[True], system[False]
        a_eq, b_eq = (a_eq, b_eq) if a_eq.shape[0] else (None, None)
        a_ub, b_ub = (a_ub, b_ub) if a_ub.shape[0] else (None, None)
        objective = np.zeros(len(variables))
        objective[np.searchsorted(variables, entry)] = sign
        result = linprog(objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                         bounds=(1, None), method="highs")
        if result.status == 3:  # unbounded: no greatest value
            return (math.inf, None) if prices else math.inf
        if result.status != 0:
            raise RuntimeError(f"suppression check failed for {self.tables.keys[entry]}: "
                               f"{result.message}")
        x, rates = result.x, None
        if np.abs(x - np.round(x)).max() > _TOLERANCE:  # not a whole-number vertex
            x = _whole_number_optimum(objective, a_eq, b_eq, a_ub, b_ub, self.tables.keys[entry])
            if x is None:  # no integer programming here: the best whole solution seen
                value = float(low[entry] if sign > 0 else high[entry])
                return (value, None) if prices else value
        elif prices and hasattr(result.get("eqlin"), "marginals"):
            rates = np.zeros(len(self.tables.values))
            if a_eq is not None:
                rates += eq_rows.T @ result.eqlin.marginals
            if a_ub is not None:
                rates += ub_rows.T @ result.ineqlin.marginals
        x = np.round(x)
        low[variables] = np.minimum(low[variables], x)
        high[variables] = np.maximum(high[variables], x)
        value = float(x[np.searchsorted(variables, entry)])
        return (value, rates) if prices else value

    def protected(self, entry: int, hidden: np.ndarray, need: float,
                  low: np.ndarray | None = None, high: np.ndarray | None = None
                  ) -> tuple[bool, float]:
        """Whether the reader's range for ``entry`` spans at least ``need``, and the span
        found (a lower bound of the span when protected)."""
        committed = low is None  # (not a trial): keep the prices for ``useless``
        low = self.low if low is None else low
        high = self.high if high is None else high
        if high[entry] - low[entry] >= need:
            return True, high[entry] - low[entry]
        greatest, up = self.extreme(entry, hidden, -1.0, low, high, prices=True)
        if greatest - low[entry] >= need:
            return True, greatest - low[entry]
        least, down = self.extreme(entry, hidden, 1.0, low, high, prices=True)
        if committed:
            self._prices = (entry, hidden.copy(), up, down)
        return greatest - least >= need, greatest - least

    def useless(self, entry: int, hidden: np.ndarray) -> np.ndarray:
        """Published entries that, hidden on their own, provably leave the range of
        ``entry`` as it is (an LP optimum can only move if some optimal dual prices the
        new freedom: the optimal value is convex in the right-hand sides, with the dual
        solution as a subgradient)."""
        values = self.tables.values
        useless = ~hidden.copy()
        known = self._prices
        if known is None or known[0] != entry or not np.array_equal(known[1], hidden):
            known = (entry, hidden, *(self.extreme(entry, hidden, sign, self.low, self.high,
                                                   prices=True)[1] for sign in (-1.0, 1.0)))
        for rates in known[2:]:
            if rates is None:
                return np.zeros(len(values), dtype=bool)
            # hiding i lets it move by d (d >= 1 - value): the optimum can fall by rate * d
            could = (rates > _TOLERANCE) | ((rates < -_TOLERANCE) & (values > 1 + _TOLERANCE))
            useless &= ~could
        return useless

    def determined(self, entry: int, hidden: np.ndarray) -> bool:
        if self.high[entry] > self.low[entry]:
            return False
        return (self.extreme(entry, hidden, -1.0, self.low, self.high)
                == self.extreme(entry, hidden, 1.0, self.low, self.high))


def _whole_number_optimum(objective, a_eq, b_eq, a_ub, b_ub, key) -> np.ndarray | None:
    """The optimum in whole numbers (integer programming), for systems whose linear
    optimum is not a whole number (tables tied by links). None with SciPy older than 1.9
    (no ``milp``): the caller then keeps to the whole-number solutions it has seen, which
    can only understate the reader's range (more suppression, never less)."""
    try:
        from scipy.optimize import milp
    except ImportError:
        return None
    constraints = []
    if a_eq is not None:
        constraints.append(LinearConstraint(a_eq, b_eq, b_eq))
    if a_ub is not None:
        constraints.append(LinearConstraint(a_ub, -np.inf, b_ub))
    exact = milp(objective, constraints=constraints, integrality=np.ones(len(objective)),
                 bounds=Bounds(1, np.inf))
    if exact.status != 0 or exact.x is None:
        raise RuntimeError(f"suppression check failed for {key}: {exact.message}")
    return exact.x


def _candidates(tables: _Tables, entry: int, hidden: np.ndarray, hideable: np.ndarray):
    """Groups of entries that could be hidden to protect ``entry``, in order of preference
    (see the module docstring), each smallest first; a group is only worked out when the
    ones before it did not do. The entries carrying a finding come last, after every
    group, in the same order."""
    values, kind = tables.values, tables.kind
    usable = hideable & ~hidden & (values > 0)
    near = [i for i in tables.neighbours(entry) if usable[i]]
    component = np.array(tables.component(entry, hidden), dtype=int)

    groups = (
        lambda: [i for i in near if kind[i] == _CELL],
        lambda: [i for i in near if kind[i] == _LINE_TOTAL],
        lambda: [i for i in tables.linked(entry) if usable[i] and kind[i] != _GRAND_TOTAL],
        lambda: np.flatnonzero(tables.sharing(component, links=False) & usable
                               & (kind != _GRAND_TOTAL)),
        lambda: np.flatnonzero((kind == _GRAND_TOTAL) & usable
                               & np.isin(tables.owner, tables.owner[component])),
        # last: entries tied to the hidden ones only by a link (another view's total)
        lambda: np.flatnonzero(tables.sharing(component, equations=False) & usable),
    )
    done, kept = set(), []
    for group in groups:
        group = [int(i) for i in sorted(group(), key=lambda i: (values[i], i))
                 if i not in done]
        done.update(group)
        kept += [[i for i in group if tables.finding[i]]]
        group = [i for i in group if not tables.finding[i]]
        if group:
            yield group
    for group in kept:
        if group:
            yield group


def _protect(tables: _Tables, reader: _Reader, entry: int, hidden: np.ndarray,
             hideable: np.ndarray, need: float) -> np.ndarray:
    """Hide more entries, one at a time, until ``entry`` is protected: the first candidate
    (``_candidates``) that protects it; else, from the first group holding one that widens
    its range, the one that widens it most; else the first candidate (it may take two
    more entries to open a new way round, as the corners of a rectangle)."""
    while True:
        ok, span = reader.protected(entry, hidden, need)
        if ok:
            return hidden
        useless = reader.useless(entry, hidden)
        first = best = None
        for group in _candidates(tables, entry, hidden, hideable):
            for candidate in group:
                first = candidate if first is None else first
                if useless[candidate]:
                    continue
                trial = hidden.copy()
                trial[candidate] = True
                low, high = reader.low.copy(), reader.high.copy()
                ok, wider = reader.protected(entry, trial, need, low, high)
                if ok or best is None or wider > best[0]:
                    best = (wider, trial, low, high)
                if ok:
                    break
            if best is not None and best[0] > span:
                break
        if best is not None and best[0] > span:
            _, hidden, reader.low, reader.high = best
        elif first is not None:
            hidden = hidden.copy()
            hidden[first] = True
        else:
            raise RuntimeError(f"cannot protect suppressed count {tables.keys[entry]}")


def _sparse_rows(rows, width: int) -> csr_matrix:
    """``rows`` (entries, coefficients) as a sparse matrix, a row each (repeated entries
    of a row add up)."""
    lengths = [len(entries) for entries, _ in rows]
    if not rows:
        return csr_matrix((0, width))
    return csr_matrix((np.concatenate([np.asarray(c, dtype=float) for _, c in rows]),
                       (np.repeat(np.arange(len(rows)), lengths),
                        np.concatenate([np.asarray(e, dtype=int) for e, _ in rows]))),
                      shape=(len(rows), width))


def suppress_tables(tables: dict, threshold: int = 5, links=(),
                    published: dict | None = None, sums=(), protect=(),
                    findings=()) -> dict:
    """Each table with its small counts, and the entries that would reveal them, as NaN.

    ``tables``: name -> true counts, a matrix (DataFrame with a ``Total`` last row and
    column) or a one-way table (Series with a ``Total`` last entry). ``links``: facts tying
    entries of different tables together (``Link``; see ``structural_links``).
    ``published``: name -> a version of one of ``tables`` already published (NaN =
    hidden), suppressed by this function with the links among those tables: its pattern is
    kept as it is, only the other tables get more suppression, and its entries are checked
    again only where the other tables reach them. ``sums``: identities the reader knows
    beyond each table's own total (``Sum``: a row's parts across tables add up to an entry).
    ``protect``: entries hidden and protected whatever their value (a few people's own
    figures), as the small counts are; an entry of 0 cannot be among them. ``findings``:
    entries (keys as in ``Link``) that carry a finding a reader relies on (a segment's
    incidents over or under its share): hidden to protect another entry only when no
    other entry will do.
    """
    if threshold < 1:
        raise ValueError("the suppression threshold must be at least 1")
    published = published or {}
    system = _Tables(tables, links, sums, findings)
    values = system.values
    hidden = is_small(values, threshold)
    forced = np.zeros(len(values), dtype=bool)
    for key in protect:
        if key in system.index and values[system.index[key]] >= 1:
            forced[system.index[key]] = True
    hidden |= forced
    hideable = np.ones(len(values), dtype=bool)
    for name, shown in published.items():
        part = system.slice(name)
        given = pd.DataFrame(shown) if isinstance(shown, pd.Series) else shown
        hidden[part] = np.isnan(given.to_numpy(dtype=float)).ravel()
        hideable[part] = False
    primary = hidden & (is_small(values, threshold) | forced)
    reader = _Reader(system)
    for entry in np.flatnonzero(primary & hideable):
        hidden = _protect(system, reader, entry, hidden, hideable, threshold)
    # an entry of a table published before can only be exposed through the tables added
    for entry in np.flatnonzero(primary & ~hideable):
        if system.touches(system.component(entry, hidden), hideable):
            hidden = _protect(system, reader, entry, hidden, hideable, threshold)
    # a secondary entry the reader can work out anyway may as well be shown
    for entry in np.flatnonzero(hidden & ~primary & hideable):
        if reader.determined(entry, hidden):
            hidden[entry] = False
    out = {}
    for name, table in tables.items():
        part = system.slice(name)
        shown = np.where(hidden[part], np.nan, values[part])
        if isinstance(table, pd.Series):
            out[name] = pd.Series(shown, index=table.index, name=table.name)
        else:
            out[name] = pd.DataFrame(shown.reshape(table.shape), index=table.index,
                                     columns=table.columns)
    return out


def suppress(matrix: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """One matrix (with a ``Total`` row and column) suppressed on its own."""
    return suppress_tables({"matrix": matrix}, threshold)["matrix"]


# every output area has households and residents; every household has a resident
_AT_LEAST = (("areas", "households"), ("areas", "residents"), ("households", "residents"))


def _cellwise(low_name: str, low: pd.DataFrame, high_name: str, high: pd.DataFrame,
              equal: bool = False) -> list[Link]:
    rows = [r for r in low.index if r in high.index]
    cols = [c for c in low.columns if c in high.columns]
    return [Link((low_name, r, c), (high_name, r, c), equal) for r in rows for c in cols]


def _holds(low: pd.DataFrame, high: pd.DataFrame) -> bool:
    high = high.reindex(index=low.index, columns=low.columns)
    return bool((low.to_numpy(dtype=float) <= high.to_numpy(dtype=float)).all())


def structural_links(matrices: dict) -> list[Link]:
    """What a reader can justify about ward x segment matrices of the same wards and
    segments (``matrices``: measure -> matrix, named as ``matrices_step`` names them), kept
    only where the data bear it out:

    - households >= areas, residents >= areas, residents >= households in every cell and
      total (an output area has households and residents, a household has residents);
    - in each ward, the dominant segment (shown on the ward layer: most households, else
      most areas) holds at least as much as every other segment.
    """
    from ..places.matrices import dominant_segments

    links = []
    for low, high in _AT_LEAST:
        if low in matrices and high in matrices and _holds(matrices[low], matrices[high]):
            links += _cellwise(low, matrices[low], high, matrices[high])
    weight = "households" if "households" in matrices else "areas"
    if weight in matrices:
        matrix = matrices[weight]
        body = matrix.drop(columns=TOTAL)
        for ward, top in dominant_segments(matrix).items():
            if body.loc[ward].max() <= 0:
                continue
            links += [Link((weight, ward, segment), (weight, ward, top))
                      for segment in body.columns if segment != top]
    return links


def matrix_total_links(matrix_name: str, matrix: pd.DataFrame, counts_name: str,
                       counts: pd.Series) -> list[Link]:
    """A one-way table of counts per segment (with a ``Total``) against the matrix of the
    same measure: each segment's count is at least the matrix's (areas in no ward count in
    the one and not in the other), equal when every count is in a ward."""
    totals = matrix.loc[TOTAL]
    shared = [label for label in counts.index if label in totals.index]
    equal = bool(np.allclose(counts.reindex(shared).to_numpy(dtype=float),
                             totals.reindex(shared).to_numpy(dtype=float)))
    return [Link((matrix_name, TOTAL, label), (counts_name, label, None), equal)
            for label in shared]
