"""The shape of a partner table, checked rather than assumed, and the columns a project
makes from it.

- **Derived columns** (``[derive]`` in the project file): sums and differences of a table's
  columns, ``age_5_14 = "u008 + u009"`` (terms separated by `` + `` or `` - `` with spaces
  around them, so that column names may hold hyphens). A derived column is made in the
  table holding all its terms; a cell missing in any term leaves it missing.
- **Row totals**: ``denominator = "row total"`` divides each count by the sum of the
  table's count columns (its variables, not its context), ``denominator = ["a", "b"]`` by the
  sum of the columns listed; the total is carried as context, never clustered.
- **Counts detected**: a table whose variables are all whole numbers of 0 or more and move
  together with their row total (the areas' size) holds counts. Clustered as they are, the
  segments would follow how many people live in each area, so such a table is refused,
  named, with the fix (a denominator), unless the project says ``counts = "as is"``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import InputError
from .ingest import sheet_title

ROW_TOTAL = "row total"
COUNTS_AS_IS = "as is"
MIN_SIZE_CORRELATION = 0.5  # median r of the columns with their row total: they follow size
_TERM = re.compile(r"\s+([+-])\s+")


def parse_expression(name: str, text: str, source: str) -> list[tuple[int, str]]:
    """``"u008 + u009 - u010"`` -> [(+1, 'u008'), (+1, 'u009'), (-1, 'u010')]."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{source}: [derive] {name} should be columns joined by + or -, "
                         'e.g. "u008 + u009"')
    parts = _TERM.split(" " + text.strip())
    terms = []
    first = parts[0].strip()
    sign = 1
    if first.startswith("-"):
        sign, first = -1, first[1:].strip()
    if first:
        terms.append((sign, first))
    for operator, column in zip(parts[1::2], parts[2::2]):
        column = column.strip()
        if not column:
            raise InputError(f"{source}: [derive] {name} = \"{text}\": a term is missing "
                             f"after '{operator}'")
        terms.append((1 if operator == "+" else -1, column))
    if not terms:
        raise InputError(f"{source}: [derive] {name} = \"{text}\" names no column")
    return terms


def derived_inputs(derive: dict) -> dict[str, list[tuple[int, str]]]:
    return {name: parse_expression(name, text, "project") for name, text in derive.items()}


def apply_derive(values: pd.DataFrame, derive: dict, source: str) -> tuple[pd.DataFrame, list]:
    """The table with the derived columns whose terms it holds all of; their names."""
    made = []
    values = values.copy()
    for name, text in derive.items():
        terms = parse_expression(name, text, source)
        if not all(column in values.columns for _, column in terms):
            continue
        if name in values.columns:
            raise InputError(f"{source}: [derive] {name} is already a column of the table; "
                             "give the derived column another name")
        total = pd.Series(0.0, index=values.index)
        for sign, column in terms:
            total = total + sign * pd.to_numeric(values[column], errors="coerce")
        values[name] = total
        made.append(name)
    return values, made


def check_derive_found(derive: dict, made: set, source: str) -> None:
    """Every derived column must be made in one table: name the terms no table holds."""
    missing = [name for name in derive if name not in made]
    if missing:
        name = missing[0]
        terms = ", ".join(c for _, c in parse_expression(name, derive[name], source))
        raise InputError(f"{source}: [derive] {name} = \"{derive[name]}\": no table holds "
                         f"all of its columns ({terms}); a derived column adds or subtracts "
                         "columns of one table")


def total_column(stem: str) -> str:
    return f"{stem}_row_total"


def add_row_total(values: pd.DataFrame, denominator, counted: list, stem: str,
                  source: str) -> tuple[pd.DataFrame, str]:
    """The table with its row total (of ``counted``, or of the columns ``denominator``
    lists) as a column; its name."""
    members = counted if denominator == ROW_TOTAL else list(denominator)
    unknown = [c for c in members if c not in values.columns]
    if unknown:
        raise InputError(f"{source}: denominator lists no column "
                         f"{', '.join(repr(c) for c in unknown)} (columns are "
                         f"{', '.join(map(str, values.columns))})")
    if not members:
        raise InputError(f"{source}: denominator = \"row total\" but the table has no count "
                         "columns to add up")
    if denominator == ROW_TOTAL:
        check_no_own_total(values, members, source)
    name = total_column(stem)
    values = values.copy()
    values[name] = values[members].sum(axis=1, min_count=1)
    return values, name


def check_no_own_total(values: pd.DataFrame, members: list, source: str) -> None:
    """Refuse a row total of columns one of which is the table's own total (census tables
    publish theirs in their first column, and some their sub-totals too): the sum would
    count every person or household two or more times, and every share come out a half, a
    third... of the truth. Taken for a total only when the other columns add up to it, or to
    the same whole multiple of it (sub-totals), in nearly every row."""
    total = own_total(values, members)
    if total is None:
        return
    block = values[members].apply(pd.to_numeric, errors="coerce")
    mine = block[total]
    others = block.drop(columns=[total]).sum(axis=1, min_count=1)
    known = (mine > 0) & others.notna()
    if known.sum() < 10:
        return
    times = (others[known] / mine[known]).to_numpy()
    multiple = float(np.median(np.round(times)))
    if multiple < 1 or (np.abs(times - multiple) <= 0.02 * multiple).mean() < 0.95:
        return
    over = ("add up to it" if multiple == 1 else
            f"add up to {multiple:.0f} times it: it has sub-totals too")
    raise InputError(
        f'{source}: a row total adds up every count column, but {total} holds the table\'s '
        f"own total (the other columns {over}): the sum would count each person or household "
        f"{multiple + 1:.0f} times and every share would come out too small. Take {total} as "
        f'the denominator (in a project file: denominator = "{total}").')


def many_valued(values: pd.DataFrame, columns: list) -> list:
    """The ``columns`` with more than two distinct values: the ones that can be counts of
    people (a constant or a 0/1 flag is not; screening drops them)."""
    return [c for c in columns
            if pd.to_numeric(values[c], errors="coerce").nunique() > 2]


def looks_like_counts(values: pd.DataFrame, columns: list, population: pd.Series | None = None,
                      population_name: str = "the population") -> tuple[bool, str]:
    """(whether the columns hold counts that follow the areas' size, the evidence in words:
    the correlation of the row totals with the population when it is known for the table's
    areas, else the median correlation of the columns with their row total). A column with
    two distinct values or fewer (a constant, a 0/1 flag) is no count of people: screening
    drops it, and it takes no part here (a constant and a flag would otherwise make a row
    total that follows the flag exactly, r = 1)."""
    block = values[many_valued(values, columns)].apply(pd.to_numeric, errors="coerce")
    if block.shape[1] < 2:
        return False, ""
    cells = block.to_numpy(dtype=float)
    known = cells[~np.isnan(cells)]
    if not len(known) or (known < 0).any() or (np.round(known) != known).any():
        return False, ""
    total = block.sum(axis=1, min_count=1)
    if population is not None:
        population = pd.to_numeric(population.reindex(block.index), errors="coerce")
        both = total.notna() & population.notna()
        if both.sum() >= 10 and total[both].std() > 0 and population[both].std() > 0:
            r = float(np.corrcoef(total[both], population[both])[0, 1])
            return (r >= MIN_SIZE_CORRELATION,
                    f"their row totals follow {population_name} (r = {r:.2f})")
    rs = [block[c].corr(total) for c in block.columns if block[c].std() > 0]
    rs = [r for r in rs if pd.notna(r)]
    median = float(np.median(rs)) if rs else 0.0
    if median >= MIN_SIZE_CORRELATION:
        return True, f"each rises with their row total (median r = {median:.2f})"
    # no population to compare with and parts that do not rise together: counts still,
    # when some cell is above 100 (no percentage is) and the row totals vary as sizes do
    spread = total.std() / total.mean() if total.mean() > 0 else 0.0
    return (bool(np.nanmax(cells) > 100 and spread > 0.03),
            "their row totals vary from area to area as the number of people does, with "
            "cells above 100, which no percentage has")


class TableOfCounts(InputError):
    """A table of counts about to be clustered as they are. ``finding`` says what was found
    (the table, its columns, the evidence); ``total`` is the column holding the table's own
    total, if it has one; the message adds how to fix it in a project file; the wizard says
    how in its own words."""

    def __init__(self, table: str, sheet: str | None, columns: list, finding: str,
                 total: str | None):
        how = (f'denominator = "{total}" (its own total: at least every other column in '
               'every row)' if total else
               'denominator = "row total" (the sum of its count columns: right only when none '
               'of them is a total or a sub-total), a list of columns to add up '
               '(denominator = ["a", "b"]), or the column holding the total')
        super().__init__(f"{finding} Turn them into shares under its [[tables]] entry: {how}"
                         '; or, to cluster the counts as they are, counts = "as is"')
        self.table, self.sheet, self.columns = table, sheet, list(columns)
        self.finding, self.total = finding, total
        self.others: list[TableOfCounts] = []  # the project's other tables of counts

    def with_others(self, others: list) -> TableOfCounts:
        """This refusal naming the project's other tables of counts too (each needs its
        own denominator): the user fixes them all at once, not one check at a time."""
        self.others = list(others)
        if self.others:
            listed = "; ".join(sheet_title(o.table, o.sheet)
                               + (f' (its own total: denominator = "{o.total}")' if o.total
                                  else "") for o in self.others)
            self.args = (f"{self.args[0]}. {len(self.others):,} more table"
                         f"{'s hold' if len(self.others) > 1 else ' holds'} counts, each "
                         f"needing the same in its entry: {listed}",)
        return self


def own_total(values: pd.DataFrame, columns: list) -> str | None:
    """The column of ``columns`` holding the table's own total, as census tables publish
    theirs in their first column ("Total: All households"): at least every other column in
    every row, above each in nearly every row, and first among them or named a total
    (a category that is merely the largest everywhere is not taken for it)."""
    block = values[columns].apply(pd.to_numeric, errors="coerce")
    block = block.loc[:, block.notna().any()]  # its columns of numbers (not names)
    columns = list(block.columns)
    if len(columns) < 3:
        return None
    cells = block.to_numpy(dtype=float)
    for position, column in enumerate(columns):
        if position and "total" not in str(column).lower():
            continue
        mine, others = cells[:, position], np.delete(cells, position, axis=1)
        known = ~np.isnan(mine) & ~np.isnan(others).any(axis=1)
        if known.sum() < 10:
            continue
        if ((mine[known, None] >= others[known]).all()
                and (mine[known, None] > others[known]).all(axis=1).mean() >= 0.95):
            return str(column)
    return None


def counts_error(source: str, sheet: str | None, values: pd.DataFrame, columns: list,
                 evidence: str, not_totals=()) -> TableOfCounts:
    """The refusal of the table's count ``columns`` as they are (``evidence``: what shows
    they follow the areas' size, from ``looks_like_counts``), naming its own total among
    all its columns (``values``) when it has one; ``not_totals`` (a deprivation rank or
    score) are never taken for it."""
    columns = many_valued(values, columns)
    shown = ", ".join(columns[:6]) + (f" and {len(columns) - 6} more" if len(columns) > 6
                                      else "")
    named = sheet_title(source, sheet)
    candidates = [c for c in values.columns if c not in set(not_totals)]
    return TableOfCounts(source, sheet, columns, (
        f"{named}: the columns {shown} hold counts (whole numbers of 0 or more, and "
        f"{evidence}); clustered as they are, the segments would follow how many people "
        "live in each area rather than who they are."), own_total(values, candidates))
