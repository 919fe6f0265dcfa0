"""The areas' data gathered from a project: the boundaries and every table read (as rates
where they hold counts, with the project's derived columns), matched to the areas with every
row accounted for; or from one layer that holds the areas and their variables.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..data.crs import LAYER_FIX
from ..data.ingest import (
    AreaTable,
    boundaries_from_frame,
    counts_to_rates,
    match_table,
    read_boundaries,
    read_lookup,
    read_table,
    sheet_title,
    table_from_text,
)
from ..errors import InputError
from ..progress import Progress, silent
from ..project.project_file import Project, TableSpec


@dataclass
class AreaData:
    areas: gpd.GeoDataFrame  # index: area code
    values: pd.DataFrame  # every numeric column of every table, by area
    context: list  # columns carried for profiles and sizes, never clustered
    reconciliation: pd.DataFrame
    inputs: list  # [{"file", "sha256", "rows"[, "sheet"]}]: ``input_name`` names one
    # columns the tables hold but could not use, and cells left missing: (source, variable,
    # reason, cells_not_numbers), shown in the screening table
    column_notes: pd.DataFrame = field(default_factory=lambda: column_notes([]))
    # the tables' denominators among the context (totals: how many, not who)
    denominators: list = field(default_factory=list)
    # counts the same in every area, made shares of a total: variable -> why it is dropped
    constant_counts: dict = field(default_factory=dict)
    # each column's table (its title): how the table's entry prepared it is recorded
    origin: dict = field(default_factory=dict)


def column_notes(tables) -> pd.DataFrame:
    """What ingest set aside per column: text columns (not used) and cells not numbers."""
    rows = []
    for table in tables:
        for column, reason in table.skipped_columns.items():
            rows.append({"source": table.named, "variable": column,
                         "reason": f"not used: {reason}", "cells_not_numbers": 0})
        for column, count in table.bad_cells.items():
            rows.append({"source": table.named, "variable": column, "reason": "",
                         "cells_not_numbers": count})
    return pd.DataFrame(rows, columns=["source", "variable", "reason", "cells_not_numbers"])


def input_name(entry: dict) -> str:
    """An input the manifest lists (``{"file": ..., "sheet": ...}``) as readers see it: the
    file's name, with its sheet where one was read."""
    return sheet_title(Path(str(entry.get("file", ""))).name, entry.get("sheet"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_spec(spec: TableSpec, derive: dict | None = None
               ) -> tuple[AreaTable, list[str], list[str]]:
    """The table, as rates where it holds counts, its denominator columns and the derived
    columns made in it (``derive``: the project's [derive])."""
    from dataclasses import replace

    from ..data.derive import ROW_TOTAL, add_row_total, apply_derive, parse_expression

    derive = derive or {}
    summed = spec.denominator == ROW_TOTAL or isinstance(spec.denominator, list)
    bases = ([spec.denominator] if isinstance(spec.denominator, str) and not summed
             else list(spec.denominator) if isinstance(spec.denominator, list)
             else list((spec.denominator or {}).values()) if isinstance(spec.denominator, dict)
             else [])
    terms = [c for name, text in derive.items()
             for _, c in parse_expression(name, text, spec.title)]
    columns = None  # every numeric column: a row total adds them, derived terms may be any
    if spec.variables is not None and spec.denominator != ROW_TOTAL and not terms:
        columns = list(dict.fromkeys([*spec.variables, *spec.context, *bases]))
    table = read_table(spec.path, spec.code, columns=columns, sheet=spec.sheet)
    values = table.values
    counted = [c for c in values.columns if c not in spec.context]
    denominator = spec.denominator
    if summed:
        values, denominator = add_row_total(values, spec.denominator, counted,
                                            spec.path.stem, spec.title)
    values, made = apply_derive(values, derive, spec.title)
    if spec.variables is not None:
        keep = list(dict.fromkeys([*spec.variables, *spec.context, *bases,
                                   *([denominator] if summed else [])]))
        missing = [c for c in spec.variables if c not in values.columns]
        if missing:
            raise InputError(f"{spec.title}: no column "
                             f"{', '.join(repr(c) for c in missing)} (nor a [derive] of "
                             "that name from its columns)")
        values = values[[c for c in keep if c in values.columns]]
    table = replace(table, values=values)
    if spec.denominator is None:
        return table, [], made
    table, bases = counts_to_rates(table, denominator, spec.per, keep=spec.context)
    return table, bases, made


def _join_key(spec: TableSpec, areas: gpd.GeoDataFrame, boundaries: Path) -> pd.Series | None:
    """For a table kept at another geography: each area's code in the table's geography."""
    if spec.lookup is not None:
        lookup = read_lookup(spec.lookup, spec.lookup_from, spec.lookup_to)
        return lookup.reindex(areas.index)
    if spec.join_on is not None:
        if spec.join_on not in areas.columns:
            raise InputError(f"{spec.title}: join_on '{spec.join_on}' is not a column of "
                             f"the boundaries ({boundaries.name})")
        return areas[spec.join_on].astype("string").str.strip().str.upper()
    return None


def gather_area_data(project: Project, progress: Progress = silent) -> AreaData:
    """Boundaries and every table, matched to the areas, with every row accounted for.
    (The tables are read before the boundaries: reading a large table as text is the
    pipeline's peak of memory, best reached with as little else held as possible.)"""
    from ..data.derive import check_derive_found

    tables, denominators_of, made = [], [], set()
    for i, spec in enumerate(project.tables):
        progress(i / len(project.tables), f"reading {spec.title}")
        table, denominators, derived = _read_spec(spec, project.derive)
        tables.append(table)
        denominators_of.append(denominators)
        made.update(derived)
        absent = [c for c in spec.context if c not in table.values.columns]
        if absent:
            raise InputError(f"{spec.title}: no context column "
                             f"{', '.join(repr(c) for c in absent)}")
    check_derive_found(project.derive, made, project.path.name)
    check_counts(project, tables)
    areas, boundary_rows = read_boundaries(project.boundaries, project.boundary_code,
                                           project.boundary_layer, project.boundary_crs)
    inputs = [{"file": str(project.boundaries), "sha256": sha256_of(project.boundaries),
               "rows": int(len(boundary_rows))}]
    columns: dict[str, pd.Series] = {}
    origin: dict[str, str] = {}
    rows, context, bases = [boundary_rows], [], []
    for spec, table, denominators in zip(project.tables, tables, denominators_of):
        join_key = _join_key(spec, areas, project.boundaries)
        by_area, table_rows = match_table(table, areas.index, join_key)
        if not (table_rows["status"] == "used").any():
            found = table_rows.loc[table_rows["row"].notna(), "status"].value_counts()
            said = ", ".join(f"{n:,} {s}" for s, n in found.items()) or "no data rows"
            raise InputError(f"{spec.title}: no row matches an area of "
                             f"{project.boundaries.name} ({said}); check its code column "
                             f"'{spec.code}'")
        for column in by_area.columns:
            if column not in columns:
                columns[column], origin[column] = by_area[column], spec.title
            elif not np.allclose(columns[column], by_area[column], equal_nan=True):
                raise InputError(f"{spec.title}: column '{column}' also comes from "
                                 f"{origin[column]} with different values; rename one")
        rows.append(table_rows)
        context.extend(c for c in [*spec.context, *denominators] if c not in context)
        bases.extend(c for c in denominators if c not in bases)
        inputs.append({"file": str(spec.path), "sha256": sha256_of(spec.path),
                       "rows": int(table_rows["row"].notna().sum()),
                       **({"sheet": spec.sheet} if spec.sheet else {})})
        if spec.lookup is not None:
            inputs.append({"file": str(spec.lookup), "sha256": sha256_of(spec.lookup),
                           "rows": int(join_key.notna().sum())})
    values = pd.DataFrame(columns, index=areas.index)
    reconciliation = pd.concat(rows, ignore_index=True)
    reconciliation["row"] = reconciliation["row"].astype("Int64")
    return AreaData(areas, values, context, reconciliation, inputs, column_notes(tables),
                    bases, constant_counts(tables), origin)


def constant_counts(tables) -> dict[str, str]:
    """The counts the same in every area of their table (turned into shares of a total,
    they would only follow the areas' size): variable -> the screening's reason."""
    return {variable: (f"constant count: {count:g} in every area of {table.named}; as a "
                       f"share of {base} it would only follow the areas' size, so it is "
                       "dropped as a constant")
            for table in tables for variable, (count, base) in table.constant_counts.items()}


def _every_column(spec, values: pd.DataFrame) -> pd.DataFrame:
    """A table's numeric columns, all of them (a project's entry reads only those it
    names: the table's own total, which a refusal offers as the denominator, may not be
    among them); the columns read where the file cannot be read again whole."""
    try:
        whole = read_table(spec.path, spec.code, sheet=spec.sheet).values
    except InputError:
        return values
    return whole.join(values[[c for c in values.columns if c not in whole.columns]])


def check_counts(project: Project, tables: list) -> None:
    """Refuse a table of counts clustered as they are (``derive.looks_like_counts``): its
    variables all whole numbers of 0 or more whose row totals follow the population (the
    project's residents or households, from whichever table holds them; else the columns'
    own row total), unless its entry says ``counts = "as is"`` or gives a denominator."""
    from ..data.derive import counts_error, looks_like_counts

    sizes = [c for c in (project.residents, project.households) if c]
    population, named = None, None
    for table in tables:
        found = next((c for c in sizes if c in table.values.columns), None)
        if found is not None:
            population, named = table.values[found], found
            break
    deprivation = {project.deprivation} if project.deprivation else set()
    refused = []  # every table of counts, named at once
    for spec, table in zip(project.tables, tables):
        if spec.denominator is not None or spec.counts is not None:
            continue
        values = table.values
        variables = [c for c in values.columns if c not in spec.context
                     and c not in sizes and c not in deprivation]
        counts, evidence = looks_like_counts(values, variables, population, named)
        if counts:  # its own total looked for among all the file's columns
            refused.append(counts_error(spec.path.name, spec.sheet, _every_column(spec, values),
                                        variables, evidence, not_totals=deprivation))
    if refused:
        raise refused[0].with_others(refused[1:])


def area_data_from_frame(frame: gpd.GeoDataFrame, code_column: str, variables: list,
                         context: list, source: str) -> AreaData:
    """Area data from one layer that holds the areas and their variables (e.g. a QGIS layer
    with partner tables joined), through the same checks as files."""
    if code_column in variables or code_column in context:
        raise InputError(f"{source}: the area code field '{code_column}' is also chosen as a "
                         "variable; it names the areas, so leave it out of the variables")
    areas, boundary_rows = boundaries_from_frame(frame, code_column, source, LAYER_FIX)
    wanted = list(dict.fromkeys([*variables, *context]))
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: no field {', '.join(repr(c) for c in missing)}")
    text = frame[[code_column, *wanted]].astype(object).where(frame[[code_column,
                                                                     *wanted]].notna(), "")
    text = text.astype(str)
    table = table_from_text(text, np.arange(1, len(frame) + 1), {}, code_column, wanted,
                            source, source, Path(source))
    values, table_rows = match_table(table, areas.index)
    not_used = table_rows[table_rows["status"] != "used"]
    reconciliation = pd.concat([boundary_rows, *([not_used] if len(not_used) else [])],
                               ignore_index=True)
    reconciliation["row"] = reconciliation["row"].astype("Int64")
    return AreaData(areas[[c for c in areas.columns if c == "geometry"]], values, list(context),
                    reconciliation, [{"file": source, "sha256": "", "rows": len(frame)}],
                    column_notes([table]))


def reconciliation_notes(reconciliation: pd.DataFrame, shown: int = 3) -> list[str]:
    """A line per table on its rows that could not be read and per table on its area codes
    the boundaries do not hold (how many, the first ``shown``), each pointing to
    reconciliation.csv, where every row is listed: read by a person on the console."""
    from ..data.ingest import (
        STATUS_DUPLICATE,
        STATUS_OUTSIDE,
        STATUS_UNMATCHED,
        STATUS_UNREADABLE,
    )
    from .words import counted

    def listed(source: str, what: str, items: list, n: int) -> str:
        return (f"{source}: {what} and {'is' if n == 1 else 'are'} left out, listed in "
                f"reconciliation.csv: {'; '.join(items)}{'; ...' if n > len(items) else ''}")

    notes = []
    for source, rows in reconciliation.groupby("source", sort=False):
        unread = rows[rows["status"] == STATUS_UNREADABLE]
        if len(unread):
            items = [(row.detail if f"line {row.row}" in str(row.detail)
                      else f"row {row.row}: {row.detail}")
                     + (f" ({row.area_code})" if row.area_code else "")
                     for row in unread.head(shown).itertuples()]
            notes.append(listed(source, f"{counted(len(unread), 'rows')} could not be read",
                                items, len(unread)))
        unknown = rows[rows["status"].isin([STATUS_OUTSIDE, STATUS_UNMATCHED])]
        if len(unknown):
            items = [f"{row.area_code} (row {row.row}, "
                     + ("outside the area" if row.status == STATUS_OUTSIDE
                        else "not a code of the areas' kind") + ")"
                     for row in unknown.head(shown).itertuples()]
            n = len(unknown)
            notes.append(listed(source, f"{counted(n, 'area codes')} "
                                f"{'is' if n == 1 else 'are'} not among the areas",
                                items, n))
        repeats = rows[rows["status"] == STATUS_DUPLICATE]
        if len(repeats):
            n = len(repeats)
            items = [f"row {row.row} ({row.area_code}) {row.detail}"
                     for row in repeats.head(shown).itertuples()]
            notes.append(f"{source}: {counted(n, 'rows')} {'repeats' if n == 1 else 'repeat'} "
                         f"an earlier row exactly and {'was' if n == 1 else 'were'} read once, "
                         f"listed in reconciliation.csv: {'; '.join(items)}"
                         f"{'; ...' if n > shown else ''}; check the file was not put "
                         "together twice")
    return notes


def filled_rows_notes(reconciliation: pd.DataFrame, tables, unclassified, medians: str,
                      shown: int = 3) -> list[str]:
    """A line per table of clustering variables (``tables``: their titles) on the areas it
    has no row for that are placed in a segment all the same (not among ``unclassified``):
    their values of its variables are ``medians`` ("the study area's medians", "the
    segmentation's medians"); read by a person on the console."""
    from ..data.ingest import STATUS_NO_DATA
    from .words import counted

    rows = reconciliation[reconciliation["status"].eq(STATUS_NO_DATA)
                          & reconciliation["source"].isin(set(tables))
                          & ~reconciliation["area_code"].isin(set(unclassified))]
    notes = []
    for source, group in rows.groupby("source", sort=False):
        codes = group["area_code"].astype(str).tolist()
        n = len(codes)
        notes.append(f"{source}: no row for {counted(n, 'output areas')}, placed in a segment "
                     f"on the other tables with {medians} for its variables (listed in "
                     f"reconciliation.csv): {', '.join(codes[:shown])}"
                     + ("; ..." if n > shown else ""))
    return notes
