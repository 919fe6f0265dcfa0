"""Build a segmentation from a project: ingest, screen, standardise, cluster, profile.

A ``Segmentation`` is a value: it is saved to and loaded from one GeoPackage (see
``store``), and new or updated area data can be assigned to its segments without
renumbering them (``assign_areas``).
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import __version__
from ..data.ingest import (
    AreaTable,
    boundaries_from_frame,
    counts_to_rates,
    match_table,
    read_boundaries,
    read_lookup,
    read_table,
    table_from_text,
)
from ..errors import InputError
from ..progress import Progress, scaled, silent
from ..project.project_file import Project, TableSpec
from .clustering import assign_to_centres, distance_to_centres, fit_kmeans
from .portraits import read_themes
from .profiles import number_by_deprivation, pen_portraits, profile_table, segment_summary
from .screening import apply_missing_policy, kept_variables, screen
from .standardise import Standardiser, fit_standardiser


@dataclass
class AreaData:
    areas: gpd.GeoDataFrame  # index: area code
    values: pd.DataFrame  # every numeric column of every table, by area
    context: list  # columns carried for profiles and sizes, never clustered
    reconciliation: pd.DataFrame
    inputs: list  # [{"file", "sha256", "rows"}]
    # columns the tables hold but could not use, and cells left missing: (source, variable,
    # reason, cells_not_numbers), shown in the screening table
    column_notes: pd.DataFrame = field(default_factory=lambda: column_notes([]))


def column_notes(tables) -> pd.DataFrame:
    """What ingest set aside per column: text columns (not used) and cells not numbers."""
    rows = []
    for table in tables:
        for column, reason in table.skipped_columns.items():
            rows.append({"source": table.path.name, "variable": column,
                         "reason": f"not used: {reason}", "cells_not_numbers": 0})
        for column, count in table.bad_cells.items():
            rows.append({"source": table.path.name, "variable": column, "reason": "",
                         "cells_not_numbers": count})
    return pd.DataFrame(rows, columns=["source", "variable", "reason", "cells_not_numbers"])


def screening_with_notes(screening: pd.DataFrame, notes: pd.DataFrame) -> pd.DataFrame:
    """The screening table with a count of the cells that were not numbers (left missing)
    per variable, and a row for every column not used, with its reason and rows."""
    counts = notes.groupby("variable")["cells_not_numbers"].sum()
    out = screening.assign(cells_not_numbers=screening["variable"].map(counts).fillna(0)
                           .astype(int))
    unused = notes[notes["reason"] != ""]
    unused = unused[~unused["variable"].isin(out["variable"])]
    extra = pd.DataFrame({"variable": unused["variable"], "kept": False,
                          "reason": unused["source"] + ": " + unused["reason"],
                          "correlated_with": "", "r": np.nan, "cells_not_numbers": 0})
    return pd.concat([out, extra], ignore_index=True) if len(extra) else out


@dataclass
class Segmentation:
    name: str
    areas: gpd.GeoDataFrame  # index area_code: segment, segment_name, subsegment, distance
    values: pd.DataFrame  # every variable in original units, by area
    clustered: list
    standardiser: Standardiser
    fill_values: pd.Series  # per clustered variable: the value a missing cell takes
    centres: pd.DataFrame  # index: segment number; columns: clustered variables (standardised)
    subcentres: pd.DataFrame  # index: subsegment label; columns: segment + clustered variables
    screening: pd.DataFrame
    reconciliation: pd.DataFrame
    profiles: pd.DataFrame
    summary: pd.DataFrame  # index: segment number
    missing: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    diagnostics: pd.DataFrame | None = None  # choose-k table, when it was run
    labels: dict = field(default_factory=dict)  # variable -> description, where given

    @property
    def segment_names(self) -> dict[int, str]:
        return {int(n): str(name) for n, name in self.summary["name"].items()}


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
             for _, c in parse_expression(name, text, spec.path.name)]
    columns = None  # every numeric column: a row total adds them, derived terms may be any
    if spec.variables is not None and spec.denominator != ROW_TOTAL and not terms:
        columns = list(dict.fromkeys([*spec.variables, *spec.context, *bases]))
    table = read_table(spec.path, spec.code, columns=columns, sheet=spec.sheet)
    values = table.values
    counted = [c for c in values.columns if c not in spec.context]
    denominator = spec.denominator
    if summed:
        values, denominator = add_row_total(values, spec.denominator, counted,
                                            spec.path.stem, spec.path.name)
    values, made = apply_derive(values, derive, spec.path.name)
    if spec.variables is not None:
        keep = list(dict.fromkeys([*spec.variables, *spec.context, *bases,
                                   *([denominator] if summed else [])]))
        missing = [c for c in spec.variables if c not in values.columns]
        if missing:
            raise InputError(f"{spec.path.name}: no column "
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
            raise InputError(f"{spec.path.name}: join_on '{spec.join_on}' is not a column of "
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
        progress(i / len(project.tables), f"reading {spec.path.name}")
        table, denominators, derived = _read_spec(spec, project.derive)
        tables.append(table)
        denominators_of.append(denominators)
        made.update(derived)
        absent = [c for c in spec.context if c not in table.values.columns]
        if absent:
            raise InputError(f"{spec.path.name}: no context column "
                             f"{', '.join(repr(c) for c in absent)}")
    check_derive_found(project.derive, made, project.path.name)
    check_counts(project, tables)
    areas, boundary_rows = read_boundaries(project.boundaries, project.boundary_code,
                                           project.boundary_layer, project.boundary_crs)
    inputs = [{"file": str(project.boundaries), "sha256": sha256_of(project.boundaries),
               "rows": int(len(boundary_rows))}]
    columns: dict[str, pd.Series] = {}
    origin: dict[str, str] = {}
    rows, context = [boundary_rows], []
    for spec, table, denominators in zip(project.tables, tables, denominators_of):
        join_key = _join_key(spec, areas, project.boundaries)
        by_area, table_rows = match_table(table, areas.index, join_key)
        if not (table_rows["status"] == "used").any():
            found = table_rows.loc[table_rows["row"].notna(), "status"].value_counts()
            said = ", ".join(f"{n:,} {s}" for s, n in found.items()) or "no data rows"
            raise InputError(f"{spec.path.name}: no row matches an area of "
                             f"{project.boundaries.name} ({said}); check its code column "
                             f"'{spec.code}'")
        for column in by_area.columns:
            if column not in columns:
                columns[column], origin[column] = by_area[column], spec.path.name
            elif not np.allclose(columns[column], by_area[column], equal_nan=True):
                raise InputError(f"{spec.path.name}: column '{column}' also comes from "
                                 f"{origin[column]} with different values; rename one")
        rows.append(table_rows)
        context.extend(c for c in [*spec.context, *denominators] if c not in context)
        inputs.append({"file": str(spec.path), "sha256": sha256_of(spec.path),
                       "rows": int(table_rows["row"].notna().sum())})
        if spec.lookup is not None:
            inputs.append({"file": str(spec.lookup), "sha256": sha256_of(spec.lookup),
                           "rows": int(join_key.notna().sum())})
    values = pd.DataFrame(columns, index=areas.index)
    reconciliation = pd.concat(rows, ignore_index=True)
    reconciliation["row"] = reconciliation["row"].astype("Int64")
    return AreaData(areas, values, context, reconciliation, inputs, column_notes(tables))


def check_counts(project: Project, tables: list) -> None:
    """Refuse a table of counts clustered as they are (``derive.looks_like_counts``): its
    variables all whole numbers of 0 or more whose row totals follow the population (the
    project's residents or households, from whichever table holds them; else the columns'
    own row total), unless its entry says ``counts = "as is"`` or gives a denominator."""
    from ..data.derive import counts_message, looks_like_counts

    sizes = [c for c in (project.residents, project.households) if c]
    population, named = None, None
    for table in tables:
        found = next((c for c in sizes if c in table.values.columns), None)
        if found is not None:
            population, named = table.values[found], found
            break
    deprivation = {project.deprivation} if project.deprivation else set()
    for spec, table in zip(project.tables, tables):
        if spec.denominator is not None or spec.counts is not None:
            continue
        values = table.values
        variables = [c for c in values.columns if c not in spec.context
                     and c not in sizes and c not in deprivation]
        counts, evidence = looks_like_counts(values, variables, population)
        if counts:
            raise InputError(counts_message(spec.path.name, variables, evidence, named))


def area_data_from_frame(frame: gpd.GeoDataFrame, code_column: str, variables: list,
                         context: list, source: str) -> AreaData:
    """Area data from one layer that holds the areas and their variables (e.g. a QGIS layer
    with partner tables joined), through the same checks as files."""
    if code_column in variables or code_column in context:
        raise InputError(f"{source}: the area code field '{code_column}' is also chosen as a "
                         "variable; it names the areas, so leave it out of the variables")
    areas, boundary_rows = boundaries_from_frame(frame, code_column, source)
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


def _subsegments(X: np.ndarray, segments: pd.Series, deprivation: pd.Series, project: Project,
                 clustered: list) -> tuple[pd.Series, pd.DataFrame]:
    """Split each segment again; sub-segments are numbered n.1, n.2... least deprived first."""
    labels = pd.Series("", index=segments.index, dtype=object)
    sizes = segments.value_counts().sort_index()
    too_small = sizes[sizes < project.subsegments]
    if len(too_small):
        listed = ", ".join(f"segment {n} has {size}" for n, size in too_small.items())
        raise InputError(f"{project.subsegments} sub-segments per segment are more than the "
                         f"areas allow ({listed} areas); ask for fewer sub-segments")
    centres = []
    for number in sorted(segments.unique()):
        mask = (segments == number).to_numpy()
        k = project.subsegments
        fit = fit_kmeans(X[mask], k, n_init=project.n_init, seed=project.seed + int(number))
        order = number_by_deprivation(fit.labels, deprivation[mask], project.more_deprived)
        labels[mask] = [f"{number}.{order[label]}" for label in fit.labels]
        for raw, sub in order.items():
            centres.append(pd.DataFrame([fit.centres[raw]], columns=clustered,
                                        index=[f"{number}.{sub}"]).assign(segment=number))
    return labels, pd.concat(centres).sort_index()


@dataclass
class Prepared:
    """The standardised matrix the clustering runs on, and how it was made."""

    data: AreaData
    screening: pd.DataFrame
    clustered: list
    filled: pd.DataFrame  # clustering variables after the missing-value policy
    missing: object  # MissingReport
    standardiser: Standardiser
    X: np.ndarray
    # extreme values clipped (winsorise): area_code, variable, value, clipped_to
    clipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["area_code", "variable", "standardised_value", "clipped_to"]))


def winsorise(X: np.ndarray, bound: float) -> np.ndarray:
    """Standardised values clipped to ±bound (nothing when the bound is 0)."""
    return np.clip(X, -bound, bound) if bound > 0 else X


def clipped_cells(X: np.ndarray, bound: float, areas: pd.Index, variables: list
                  ) -> pd.DataFrame:
    """Which cells winsorising changes, for the report."""
    rows, cols = np.nonzero(np.abs(X) > bound) if bound > 0 else ((), ())
    return pd.DataFrame({"area_code": areas[list(rows)],
                         "variable": [variables[c] for c in cols],
                         "standardised_value": X[list(rows), list(cols)].round(4),
                         "clipped_to": np.sign(X[list(rows), list(cols)]) * bound})


def prepare(project: Project, progress: Progress = silent, data: AreaData | None = None
            ) -> Prepared:
    """Ingest (unless ``data`` is given), screen, apply the missing-value policy and
    standardise."""
    data = data or gather_area_data(project, scaled(progress, 0.0, 0.9))
    values = data.values
    for role, column in (("deprivation", project.deprivation), ("residents", project.residents),
                         ("households", project.households)):
        if column is not None and column not in values.columns:
            raise InputError(f"{project.path.name}: {role} column '{column}' is in none of the "
                             "tables")
    candidates = values.drop(columns=[c for c in data.context if c in values.columns])
    candidates = candidates.drop(columns=[project.deprivation], errors="ignore")
    if candidates.empty:
        raise InputError(f"{project.path.name}: the tables hold no candidate variables")
    progress(0.92, f"screening {candidates.shape[1]} variables")
    screening = screening_with_notes(screen(candidates, project.screening), data.column_notes)
    clustered = kept_variables(screening)
    if not clustered:
        raise InputError("screening left no variable to cluster on")
    filled, missing = apply_missing_policy(values, clustered, project.missing)
    standardiser = fit_standardiser(filled, project.standardise)
    X = np.ascontiguousarray(standardiser.transform(filled).to_numpy())  # rows: as k-means
    clipped = clipped_cells(X, project.winsorise, filled.index, clustered)
    X = winsorise(X, project.winsorise)
    progress(1.0, "variables standardised")
    return Prepared(data, screening, clustered, filled, missing, standardiser, X, clipped)


def build_segmentation(project: Project, progress: Progress = silent,
                       prepared: Prepared | None = None) -> Segmentation:
    """The whole segmentation; ``prepared`` (from ``prepare``) saves reading the data again."""
    own = prepared is None  # prepared here: its matrices can go once clustered
    prepared = prepared or prepare(project, scaled(progress, 0.0, 0.2))
    data, values, clustered = prepared.data, prepared.data.values, prepared.clustered
    filled, missing, X = prepared.filled, prepared.missing, prepared.X
    if len(filled) < project.k:
        raise InputError(f"k = {project.k} is larger than the number of areas ({len(filled)})")
    fit = fit_kmeans(X, project.k, n_init=project.n_init, seed=project.seed,
                     progress=scaled(progress, 0.2, 0.8))
    # the areas clustered: the same frame when no area was dropped (no copy of the values)
    kept = values if values.index.equals(filled.index) else values.loc[filled.index]
    deprivation, more_deprived, numbered_by = ordering_measure(project, kept, X, clustered)
    numbering = number_by_deprivation(fit.labels, deprivation, more_deprived)
    segments = pd.Series([numbering[label] for label in fit.labels], index=filled.index)
    centres = pd.DataFrame(fit.centres, columns=clustered)
    centres.index = [numbering[i] for i in range(project.k)]
    centres = centres.sort_index()
    centres.index.name = "segment"
    distance = pd.Series(distance_to_centres(X, fit.centres, fit.labels), index=filled.index)

    if project.subsegments:
        progress(0.82, "splitting segments into sub-segments")
        subsegments, subcentres = _subsegments(X, segments, deprivation,
                                               replace(project, more_deprived=more_deprived),
                                               clustered)
    else:
        subsegments = pd.Series("", index=filled.index, dtype=object)
        subcentres = pd.DataFrame(columns=["segment", *clustered])
    subcentres.index.name = "subsegment"
    fill_values = filled.median()
    if own:  # memory: the standardised matrix and the filled table are not needed again
        prepared = replace(prepared, X=None, filled=None)
        del X, filled

    progress(0.9, "profiling segments")
    sizes = kept[[c for c in (project.residents, project.households) if c]]
    sizes = sizes.rename(columns={project.residents: "residents",
                                  project.households: "households"})
    profiles = profile_table(kept, segments, clustered, project.bands)
    summary = segment_summary(segments, sizes, deprivation, distance,
                              by_deprivation=project.deprivation is not None)
    labels = _labels(project)
    numbered_by = numbering_words(project, numbered_by, labels)
    themes = (read_themes(read_labels(project.labels_file, project.labels_columns))
              if project.labels_file else None)
    portraits = pen_portraits(profiles, summary, labels, themes=themes)
    for number, text in project.segment_text.items():
        if number not in portraits.index:
            raise InputError(f"{project.path.name}: [segments.{number}] but there are only "
                             f"{project.k} segments")
        for key in ("name", "portrait"):
            if key in text:
                portraits.loc[number, key] = str(text[key])
    portraits["name"] = unique_names(portraits["name"], project)
    summary = portraits.join(summary)

    areas = data.areas[["geometry"]].copy()
    areas["segment"] = segments.reindex(areas.index).astype("Int64")
    areas["segment_name"] = areas["segment"].map(summary["name"])
    areas["subsegment"] = subsegments.reindex(areas.index).fillna("")
    areas["distance"] = distance.reindex(areas.index).round(6)
    areas = areas[["segment", "segment_name", "subsegment", "distance", "geometry"]]

    missing_table = pd.DataFrame({"variable": clustered, "policy": missing.policy,
                                  "cells_filled": missing.imputed.reindex(clustered).to_numpy()})
    manifest = _manifest(project, data, fit, clustered, missing.dropped_areas)
    manifest["numbering"] = numbered_by
    manifest["results"]["small_segments"] = small_segments(summary, project.min_share)
    manifest["results"]["winsorised"] = {
        "bound": project.winsorise, "cells": int(len(prepared.clipped)),
        "areas": sorted(map(str, prepared.clipped["area_code"].unique()))}
    progress(1.0, "segmentation built")
    return Segmentation(
        name=project.name, areas=areas, values=values, clustered=clustered,
        standardiser=prepared.standardiser, fill_values=fill_values, centres=centres,
        subcentres=subcentres, screening=prepared.screening,
        reconciliation=data.reconciliation,
        profiles=profiles, summary=summary, missing=missing_table, manifest=manifest,
        labels=labels,
    )


def small_segments(summary: pd.DataFrame, min_share: float) -> list[dict]:
    """Segments holding less than ``min_share``% of the areas: too small to be a target
    group."""
    small = summary[summary["share_of_areas"] < min_share]
    return [{"segment": int(n), "areas": int(row["areas"]),
             "share_of_areas": float(row["share_of_areas"])} for n, row in small.iterrows()]


def small_segments_note(manifest: dict) -> str | None:
    """One line on the small segments and the remedies that can help, or None. Winsorising
    is advised only where it can do something: on z-scores (``range`` and ``ihs_range``
    values lie in 0..1, which a bound of 3 never clips) and when it is not already on."""
    small = manifest.get("results", {}).get("small_segments", [])
    if not small:
        return None
    parameters = manifest["parameters"]
    share = parameters.get("min_share", 2.0)
    listed = ", ".join(f"segment {s['segment']} ({s['areas']} areas, {s['share_of_areas']:g}%)"
                       for s in small)
    bound = float(parameters.get("winsorise") or 0)
    if parameters.get("standardise", "zscore") != "zscore":
        remedy = "choose a smaller k (see choose-k)"
    elif bound > 0:
        clipped = manifest.get("results", {}).get("winsorised", {}).get("cells", 0)
        remedy = (f"values are already clipped at ±{bound:g} ({clipped:,} clipped); choose a "
                  "smaller k (see choose-k)")
    else:
        remedy = ("set winsorise = 3 under [segmentation] to stop a few extreme areas "
                  "forming their own segment, or choose a smaller k (see choose-k)")
    return (f"Small segments, under {share:g}% of the areas: {listed}. They are rarely a "
            f"target group: {remedy}.")


def unique_names(names: pd.Series, project: Project) -> pd.Series:
    """Segment names must tell segments apart: two names the project gives (``[segments.N]``)
    that are the same (ignoring case and word order) are refused; a generated name that
    equals one the project gives takes its segment number."""
    from .portraits import name_key

    given = {n for n, text in project.segment_text.items() if "name" in text}
    seen: dict[tuple, int] = {}
    for number in sorted(given):
        key = name_key(names[number])
        if key in seen:
            raise InputError(f"{project.path.name}: [segments.{seen[key]}] and "
                             f"[segments.{number}] give the same name "
                             f"('{names[number]}'); each segment needs a name of its own")
        seen[key] = number
    names = names.copy()
    for number in names.index:
        if number not in given and name_key(names[number]) in seen:
            names[number] = f"{names[number]} (segment {number})"
    return names


def ordering_measure(project: Project, values: pd.DataFrame, X: np.ndarray,
                     clustered: list, labels: dict | None = None) -> tuple[pd.Series, str, dict]:
    """What numbers the segments: the project's deprivation measure, or, when it names none,
    the first principal component of the standardised clustering variables, oriented so that
    the variable with the largest loading counts upward (higher score = higher number).
    Returns (measure by area, which direction is "more deprived", the numbering: its words
    (``numbering_words``) from ``labels``)."""
    if project.deprivation is not None:
        return (values[project.deprivation], project.more_deprived, numbering_words(
            project, {"measure": project.deprivation, "more_deprived": project.more_deprived,
                      "by_deprivation": True}, labels))
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    loadings = vt[0] if len(vt) else np.ones(len(clustered))
    if loadings[np.argmax(np.abs(loadings))] < 0:
        loadings = -loadings
    score = pd.Series(centred @ loadings, index=values.index)
    top = np.argsort(-np.abs(loadings))[:3]
    strongest = {clustered[i]: round(float(loadings[i]), 3) for i in top}
    return score, "higher", numbering_words(project, {
        "measure": "first principal component", "more_deprived": "higher",
        "by_deprivation": False, "loadings": strongest}, labels)


def numbering_words(project: Project, numbering: dict, labels: dict | None = None) -> dict:
    """The numbering with its words in the variables' labels: ``description`` (sentences)
    and ``axis`` (charts); deprivation is named only when a deprivation measure numbers."""
    from .portraits import label_of

    labels = labels or {}
    numbering = dict(numbering)
    if numbering["by_deprivation"]:
        label = label_of(project.deprivation, labels)
        measure = label if label == project.deprivation else f"{label} ({project.deprivation})"
        numbering.update(
            axis="segment (1 = least deprived)",
            description=f"Segments are numbered 1 (least deprived) to {project.k} (most "
                        f"deprived) by the mean {measure} of their areas "
                        f"({project.more_deprived} values are more deprived).")
        return numbering
    strongest = numbering["loadings"]
    leading = label_of(next(iter(strongest)), labels) if strongest else "the first variable"
    listed = _and([f"{'more' if w > 0 else 'less'} '{label_of(v, labels)}'"
                   for v, w in strongest.items()]) if strongest else "no one variable"
    numbering.update(
        axis=_short(f"segment (higher = more '{leading}')"),
        description="No deprivation measure was given, so the numbers do not rank "
                    f"deprivation: segments are numbered 1 to {project.k} along the main "
                    "pattern in the data (the first principal component of the clustering "
                    f"variables), higher numbers having on the whole {listed}.")
    return numbering


def _and(items: list) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[:width - 2].rstrip() + "…)"


def _manifest(project: Project, data: AreaData, fit, clustered, dropped) -> dict:
    import geopandas
    import pyproj
    import shapely
    import sklearn

    return {
        "engine": "community_safety", "engine_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "project": str(project.path), "name": project.name,
        "inputs": data.inputs,
        "parameters": {
            "k": project.k, "n_init": project.n_init, "seed": project.seed,
            "standardise": project.standardise, "missing": project.missing,
            "subsegments": project.subsegments, "min_share": project.min_share,
            "winsorise": project.winsorise,
            "screening": {"threshold": project.screening.threshold,
                          "min_distinct": project.screening.min_distinct,
                          "min_range": project.screening.min_range,
                          "force_in": list(project.screening.force_in),
                          "force_out": list(project.screening.force_out)},
            "deprivation": project.deprivation, "more_deprived": project.more_deprived,
            "bands": {"high": project.bands.high, "low": project.bands.low},
            "residents": project.residents, "households": project.households,
        },
        "results": {"areas": int(len(data.areas)), "clustered_variables": clustered,
                    "unclassified_areas": [str(a) for a in dropped],
                    "wcss": fit.wcss, "stability_ari": fit.stability,
                    "final_iterations": fit.n_iter, "random_starts_run": fit.n_starts,
                    "random_starts_note": fit.note},
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "pandas": pd.__version__, "geopandas": geopandas.__version__,
                     "shapely": shapely.__version__, "pyproj": pyproj.__version__,
                     "scikit-learn": sklearn.__version__},
    }


def assign_areas(segmentation: Segmentation, values: pd.DataFrame) -> pd.DataFrame:
    """Existing segments for new or updated areas: nearest centre, same numbering.

    Missing values take the saved fill values (the study area's medians at build time).
    """
    absent = [v for v in segmentation.clustered if v not in values.columns]
    if absent:
        raise InputError(f"the new data lack the segmentation's variable(s): {', '.join(absent)}")
    frame = values[segmentation.clustered].astype(float)
    frame = frame.fillna(segmentation.fill_values[segmentation.clustered])
    X = segmentation.standardiser.transform(frame).to_numpy()
    X = winsorise(X, float(segmentation.manifest.get("parameters", {}).get("winsorise", 0)))
    centres = segmentation.centres[segmentation.clustered].to_numpy()
    nearest = assign_to_centres(X, centres)
    numbers = segmentation.centres.index.to_numpy()[nearest]
    out = pd.DataFrame({"segment": numbers}, index=values.index)
    out["segment_name"] = out["segment"].map(segmentation.summary["name"])
    out["distance"] = distance_to_centres(X, centres, nearest).round(6)
    if len(segmentation.subcentres):
        sub = pd.Series("", index=values.index, dtype=object)
        for number in np.unique(numbers):
            mask = numbers == number
            own = segmentation.subcentres[segmentation.subcentres["segment"] == number]
            pick = assign_to_centres(X[mask], own[segmentation.clustered].to_numpy())
            sub[mask] = own.index.to_numpy()[pick]
        out["subsegment"] = sub
    return out
