"""The data page's tables as it holds them before they become the project's TableSpecs:
each file's columns read from its first rows, its key, join and context columns guessed,
and what is still missing said in words (no Qt: read in a task)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...core.data.derive import ROW_TOTAL
from ...core.project.guesses import (
    SPREADSHEETS,
    excel_sheets,
    guess_context,
    guess_join,
    guess_key_column,
    numeric_columns,
    table_preview,
)
from ...core.project.project_file import TableSpec


@dataclass
class Entry:
    """One table as the page holds it, before it becomes a TableSpec."""

    path: Path
    sheet: str | None = None
    columns: list = field(default_factory=list)
    numeric: list = field(default_factory=list)
    preview: object = None  # the first rows, as text
    key_values: list = field(default_factory=list)
    code: str | None = None
    join: str = "direct"
    join_on: str | None = None
    lookup: Path | None = None
    lookup_from: str | None = None
    lookup_to: str | None = None
    lookup_columns: list = field(default_factory=list)
    context: list = field(default_factory=list)
    denominator: object = None  # a column, {variable: column} or None
    per: float = 100.0
    variables: tuple | None = None  # kept as read from a project file
    read_error: str = ""

    @property
    def title(self) -> str:
        """The table as the page lists it: the file, and its sheet when it has several."""
        return f"{self.path.name} ({self.sheet})" if self.sheet else self.path.name

    def spec(self) -> TableSpec:
        return TableSpec(
            path=self.path, code=self.code or "", variables=self.variables,
            context=tuple(self.context),
            join_on=self.join_on if self.join == "join_on" else None, sheet=self.sheet,
            denominator=self.denominator, per=float(self.per),
            lookup=self.lookup if self.join == "lookup" else None,
            lookup_from=self.lookup_from if self.join == "lookup" else None,
            lookup_to=self.lookup_to if self.join == "lookup" else None)

    def problems(self, boundary_fields: list) -> list[str]:
        name = self.path.name
        if self.read_error:
            return [self.read_error]
        found = []
        if not self.code:
            found.append(f"{name}: choose the column that holds the area codes (the key)")
        elif self.code not in self.columns:
            found.append(f"{name}: no column '{self.code}' to use as the key; its columns "
                         f"are {', '.join(self.columns)}. Choose the column that holds the "
                         "area codes.")
        if self.join == "join_on":
            if not self.join_on:
                found.append(f"{name}: choose the field of the boundaries that holds codes "
                             "like the table's")
            elif boundary_fields and self.join_on not in boundary_fields:
                found.append(f"{name}: the boundaries have no field '{self.join_on}' to "
                             "join on")
        if self.join == "lookup":
            if self.lookup is None:
                found.append(f"{name}: choose the lookup file")
            elif not self.lookup.exists():
                found.append(f"{name}: lookup file {self.lookup} not found")
            elif not (self.lookup_from and self.lookup_to):
                found.append(f"{name}: choose the lookup's column of output-area codes and "
                             "its column of the table's codes")
        absent = [c for c in self.context if c not in self.columns]
        if absent:
            found.append(f"{name}: no context column {', '.join(repr(c) for c in absent)}")
        bases = ([self.denominator] if isinstance(self.denominator, str)
                 and self.denominator != ROW_TOTAL else list(self.denominator)
                 if isinstance(self.denominator, list)
                 else list((self.denominator or {}).values())
                 if isinstance(self.denominator, dict) else [])
        absent = [c for c in bases if c not in self.columns]
        if absent:
            found.append(f"{name}: no denominator column "
                         f"{', '.join(repr(c) for c in absent)}")
        return found


def read_entry(path: Path, sheet=None) -> Entry:
    """An entry with the file's columns read from its first rows."""
    entry = Entry(path=Path(path).resolve(), sheet=sheet)
    if not entry.path.exists():
        entry.read_error = f"{entry.path}: table not found"
        return entry
    try:
        if entry.path.suffix.lower() in SPREADSHEETS and sheet is None:
            sheets = excel_sheets(entry.path)
            entry.sheet = sheets[0] if len(sheets) > 1 else None
        preview = table_preview(entry.path, entry.sheet)
    except Exception as err:  # noqa: BLE001 (pandas' and the drivers' messages vary)
        entry.read_error = f"{entry.path.name}: cannot be read as a table ({err})"
        return entry
    entry.columns = list(preview.columns)
    entry.numeric = numeric_columns(preview)
    entry.preview = preview
    return entry


def guess_entry(entry: Entry, code: str | None, samples: dict) -> Entry:
    """The entry's key column, join and context columns guessed from its first rows, given
    the boundaries' code field and sample values of their fields."""
    if entry.read_error:
        return entry
    entry.code = guess_key_column(entry.preview, code) or code
    if entry.code in entry.columns:
        entry.key_values = entry.preview[entry.code].tolist()
        entry.join, entry.join_on = guess_join(entry.key_values, samples, code, entry.code)
    entry.context = guess_context(entry.preview, entry.code)
    return entry


def read_tables(paths, code: str | None, samples: dict, sheet=None,
                progress=None) -> list[Entry]:
    """The page's entries of the tables at ``paths``, read and guessed (in a task: reading
    and guessing a large table took a second on the main thread)."""
    entries = []
    for number, path in enumerate(paths):
        if progress is not None:
            progress(number / len(paths), f"reading {Path(path).name}")
        entries.append(guess_entry(read_entry(Path(path), sheet), code, samples))
    return entries
