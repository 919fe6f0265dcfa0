"""The labels file: each variable's description (what names, portraits and charts say
instead of its column name) and, where given, its theme.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..project.project_file import Project


def _labels(project: Project) -> dict:
    if project.labels_file is None:
        return {}
    table = read_labels(project.labels_file, project.labels_columns)
    return dict(zip(table["variable"], table["description"]))


def read_labels(path: Path, columns: tuple = ("variable", "description")) -> pd.DataFrame:
    """The labels file as columns ``variable`` and ``description`` (and ``theme`` where
    given): its columns named so (any case), the two the project names under [labels]
    (``variable = "Code"``, ``description = "Name"``), or a file of just two columns."""
    path = Path(path)
    table = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            table = pd.read_csv(path, dtype=str, encoding=encoding, sep=None,
                                engine="python")
            break
        except UnicodeDecodeError:
            continue
        except (OSError, pd.errors.ParserError, ValueError) as err:
            raise InputError(f"{path}: cannot read variable descriptions ({err})") from err
    if table is None:
        raise InputError(f"{path}: cannot read variable descriptions (not UTF-8 or "
                         "Windows-1252 text)")
    table.columns = [str(c).strip() for c in table.columns]
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
    table = table.rename(columns={wanted[0]: "variable", wanted[1]: "description",
                                  **({by_case["theme"]: "theme"} if "theme" in by_case
                                     else {})})
    table = table.dropna(subset=["variable"])
    table["variable"] = table["variable"].str.strip()
    table["description"] = table["description"].fillna("").str.strip()
    return table


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
