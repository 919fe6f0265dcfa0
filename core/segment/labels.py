"""The labels file: each variable's description (what names, portraits and charts say
instead of its column name) and, where given, its theme. A CSV or a spreadsheet (the
census's own metadata file will do): which of its columns holds the variable names and which
the descriptions is named under [labels], or guessed from the tables' column names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..project.guesses import SPREADSHEETS
from ..project.project_file import Project
from .phrases import table_contexts

TITLE_COLUMNS = ("table name", "table title", "title", "table")


def _labels(project: Project) -> dict:
    if project.labels_file is None:
        return {}
    table = read_labels(project.labels_file, project.labels_columns)
    return dict(zip(table["variable"], table["description"]))


def read_labels_table(path: Path) -> pd.DataFrame:
    """The labels file as it is, every cell as text: a CSV (UTF-8 or Windows-1252, any
    separator) or a spreadsheet's first sheet."""
    path = Path(path)
    table = None
    try:
        if path.suffix.lower() in SPREADSHEETS:
            table = pd.read_excel(path, sheet_name=0, dtype=str)
        for encoding in ("utf-8-sig", "cp1252") if table is None else ():
            try:
                table = pd.read_csv(path, dtype=str, encoding=encoding, sep=None,
                                    engine="python")
                break
            except UnicodeDecodeError:
                continue
    except (OSError, pd.errors.ParserError, ValueError, ImportError) as err:
        raise InputError(f"{path}: cannot read variable descriptions ({err})") from err
    if table is None:
        raise InputError(f"{path}: cannot read variable descriptions (not UTF-8 or "
                         "Windows-1252 text)")
    table.columns = [str(c).strip() for c in table.columns]
    return table


def read_labels(path: Path, columns: tuple = ("variable", "description")) -> pd.DataFrame:
    """The labels file as columns ``variable`` and ``description`` (and ``theme`` where
    given): its columns named so (any case), the two the project names under [labels]
    (``variable = "Code"``, ``description = "Name"``), or a file of just two columns."""
    path = Path(path)
    table = read_labels_table(path)
    by_case = {c.lower(): c for c in table.columns}
    wanted = [by_case.get(str(c).strip().lower()) for c in columns]
    if None in wanted and tuple(columns) == ("variable", "description") \
            and len(table.columns) == 2:
        wanted = list(table.columns)
    if None in wanted:
        missing = [c for c, found in zip(columns, wanted) if found is None]
        raise InputError(f"{path.name}: no column {' or '.join(repr(m) for m in missing)} "
                         f"(its columns are {', '.join(table.columns)}); name the columns "
                         'holding the variable names and descriptions under [labels]: '
                         'variable = "...", description = "..."')
    # the table each variable belongs to, where the file names it (the census metadata's
    # Table_Name): names and portraits say who a category counts from its table's total
    title = next((c for c in table.columns if c not in wanted and
                  re.sub(r"[\s_]+", " ", c.strip().lower()) in TITLE_COLUMNS), None)
    table = table.rename(columns={wanted[0]: "variable", wanted[1]: "description",
                                  **({by_case["theme"]: "theme"} if "theme" in by_case
                                     else {}), **({title: "title"} if title else {})})
    table = table.dropna(subset=["variable"])
    table["variable"] = table["variable"].str.strip()
    table["description"] = table["description"].fillna("").str.strip()
    return table


def label_tables(project: Project) -> dict:
    """variable -> (table title, who the table counts) from the labels file's table names,
    where it has them (``phrases.table_contexts``)."""
    if project.labels_file is None:
        return {}
    return table_contexts(read_labels(project.labels_file, project.labels_columns))


def read_themes(path) -> dict:
    """variable -> theme from a labels file's optional ``theme`` column ({} without one);
    ``path``: the file, or the table ``read_labels`` read."""
    if path is None:
        return {}
    table = path if isinstance(path, pd.DataFrame) else pd.read_csv(path, dtype=str)
    if not {"variable", "theme"} <= set(table.columns):
        return {}
    table = table.dropna(subset=["variable", "theme"])
    return {v: t.strip() for v, t in zip(table["variable"], table["theme"]) if t.strip()}


@dataclass(frozen=True)
class LabelsGuess:
    """A labels file read for the user to confirm: its table, the column guessed to hold
    the variable names (None when none holds the tables' column names) and the one guessed
    to hold their descriptions."""

    table: pd.DataFrame
    variable: str | None
    description: str | None


def _cells(table: pd.DataFrame, column: str) -> pd.Series:
    return table[column].dropna().astype(str).str.strip()


def guess_label_columns(table: pd.DataFrame, variables) -> tuple[str | None, str | None]:
    """(names column, descriptions column) of a labels table: the column whose values
    match most of ``variables`` (the tables' column names; when none matches any, the one
    named ``variable``, else None), and of the text columns other than that (one named
    ``description`` first) the one that tells the variables apart best (the most distinct
    values; then the longer). A column that only repeats other columns' text (the census's
    "Table: Variable; measures: Value") is taken only when no other column is text."""
    wanted = {str(v).strip() for v in variables}
    scored = [(len(set(_cells(table, c)) & wanted), c.lower() == "variable", c)
              for c in table.columns]
    best = max(scored, default=(0, False, None))
    variable = best[2] if best[0] or best[1] else None  # else a column named "variable"
    others = [c for c in table.columns if c != variable]
    named = [c for c in others if c.lower() == "description"]
    if named:
        return variable, named[0]

    def text_of(column) -> pd.Series:
        text = _cells(table, column)
        return text[pd.to_numeric(text, errors="coerce").isna()]  # numbers are no text

    texts = {c: text_of(c) for c in others}
    texts = {c: t for c, t in texts.items() if not t.empty and t.str.len().mean() > 0}
    if not texts:
        return variable, None
    own = [c for c in texts if not _repeats_others(table, c, [o for o in texts if o != c])]
    chosen = max(own or list(texts), key=lambda c: (texts[c].nunique(),
                                                     texts[c].str.len().mean()))
    return variable, chosen


REPEATED = 0.8  # the share of rows on which a column holds the other columns' text ...
TEMPLATES = 0.1  # ... in few forms: at most one for ten rows (at least one)


def _repeats_others(table: pd.DataFrame, column: str, others: list) -> bool:
    """Whether ``column`` is made of the other columns' text: on most rows the other
    columns' cells (of 3 letters or more) taken out of it leave one of a few templates
    (such as "{table}: {variable}; measures: {type}"), not words of its own."""
    cells = table[column].fillna("").astype(str).str.strip()
    parts = table[others].fillna("").astype(str).apply(lambda c: c.str.strip())
    residues = []
    for cell, row in zip(cells, parts.itertuples(index=False)):
        left = cell
        for part in sorted(row, key=len, reverse=True):
            if len(part) >= 3 and part in left:
                left = left.replace(part, "", 1)
        if cell and left != cell:
            residues.append(left.strip())
    return (len(residues) >= REPEATED * len(cells)
            and len(set(residues)) <= max(1, TEMPLATES * len(cells)))


def guess_labels_file(path: Path, variables, progress=None) -> LabelsGuess:
    """A labels file read and its columns guessed against the tables' column names."""
    table = read_labels_table(path)
    return LabelsGuess(table, *guess_label_columns(table, variables))


def described(table: pd.DataFrame, variable: str, description: str,
              variables) -> tuple[list, list]:
    """(described, undescribed): ``variables`` with and without a description in the
    table's ``variable`` and ``description`` columns, in the order given."""
    texts = descriptions(table, variable, description)
    found = [v for v in variables if texts.get(str(v).strip())]
    return found, [v for v in variables if v not in found]


def descriptions(table: pd.DataFrame, variable: str, description: str) -> dict:
    """variable -> description from a labels table's two columns (blank ones left out)."""
    rows = table[[variable, description]].dropna(subset=[variable])
    texts = zip(rows[variable].astype(str).str.strip(),
                rows[description].fillna("").astype(str).str.strip())
    return {name: text for name, text in texts if text}
