"""Build a segmentation from a project: ingest, screen, standardise, cluster, profile.

A ``Segmentation`` is a value: it is saved to and loaded from one GeoPackage (see
``saved``), and new or updated area data can be assigned to its segments without
renumbering them (``assign``).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import __version__
from ..errors import InputError
from ..progress import Progress, scaled, silent
from ..project.project_file import Project
from .area_data import AreaData
from .kmeans import distance_to_centres, fit_kmeans
from .labels import _labels, label_tables, read_labels, read_themes
from .preparation import preparation_record
from .prepare import Prepared, listed_as_variables, prepare
from .profiles import number_by_deprivation, pen_portraits, profile_table, segment_summary
from .standardise import Standardiser
from .words import counted, with_descriptions


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


def build_segmentation(project: Project, progress: Progress = silent,
                       prepared: Prepared | None = None) -> Segmentation:
    """The whole segmentation; ``prepared`` (from ``prepare``) saves reading the data again."""
    own = prepared is None  # prepared here: its matrices can go once clustered
    prepared = prepared or prepare(project, scaled(progress, 0.0, 0.2))
    data, values, clustered = prepared.data, prepared.data.values, prepared.clustered
    filled, missing, X = prepared.filled, prepared.missing, prepared.X
    if len(filled) < project.k:
        raise InputError(f"{project.setting('k')} is larger than the number of areas "
                         f"({len(filled):,}): ask for at most {len(filled):,} segments (10 "
                         "is usual)")
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
    only_totals = denominators_only(project, data)
    labels = _labels(project)
    profiles = profile_table(kept.drop(columns=only_totals), segments, clustered,
                             project.bands)
    if labels:  # each variable's description beside its code
        profiles = with_descriptions(profiles, labels)
    summary = segment_summary(segments, sizes, deprivation, distance,
                              by_deprivation=project.deprivation is not None)
    numbered_by = numbering_words(project, numbered_by, labels)
    themes = (read_themes(read_labels(project.labels_file, project.labels_columns))
              if project.labels_file else None)
    portraits = pen_portraits(profiles, summary, labels, themes=themes,
                              sizes=[*(c for c in (project.residents, project.households) if c),
                                     *data.denominators], tables=label_tables(project))
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

    missing_table = missing_values_table(values, clustered, missing)
    manifest = _manifest(project, data, fit, clustered, missing.dropped_areas)
    manifest["results"]["unclassified_missing"] = {
        str(code): int(n) for code, n in missing.missing_counts.items()}
    manifest["numbering"] = numbered_by
    manifest["results"]["denominators_only"] = only_totals
    manifest["preparation"] = preparation_record(project, data.origin)
    manifest["results"]["listed_not_clustered"] = {
        variable: prepared.set_aside[variable]
        for variable in listed_as_variables(project, prepared.set_aside)}
    dropped = prepared.screening[~prepared.screening["kept"].astype(bool)]
    manifest["results"]["constant_counts"] = {
        v: r for v, r in zip(dropped["variable"], dropped["reason"])
        if r == data.constant_counts.get(v)}
    manifest["results"]["labels_file"] = (project.labels_file.name if project.labels_file
                                          else None)
    manifest["results"]["undescribed_variables"] = (
        [v for v in clustered if not str(labels.get(v) or "").strip()]
        if project.labels_file else [])
    manifest["results"]["small_segments"] = small_segments(summary, project.min_share)
    manifest["results"]["winsorised"] = {
        "bound": project.winsorise, "cells": int(len(prepared.clipped)),
        "areas": sorted(map(str, prepared.clipped["area_code"].unique()))}
    progress(1.0, "segmentation built")
    return Segmentation(
        name=project.name, areas=areas, values=values, clustered=clustered,
        standardiser=prepared.standardiser, fill_values=fill_values, centres=centres,
        subcentres=subcentres, screening=prepared.screening,
        reconciliation=with_unclassified(data.reconciliation, missing.missing_counts,
                                         len(clustered)),
        profiles=profiles, summary=summary, missing=missing_table, manifest=manifest,
        labels=labels,
    )


def denominators_only(project: Project, data: AreaData) -> list[str]:
    """The tables' totals used only to turn their counts into shares (e.g. ts0540001, all
    households of the tenure table): how many, not who; no variable of a segment's profile.
    A total that is also the project's residents or households, its deprivation measure or
    a table's context is kept."""
    kept = {project.residents, project.households, project.deprivation,
            *(c for spec in project.tables for c in spec.context)}
    return [c for c in data.denominators if c not in kept]


def small_segments(summary: pd.DataFrame, min_share: float) -> list[dict]:
    """Segments holding less than ``min_share``% of the areas: too small to be a target
    group."""
    small = summary[summary["share_of_areas"] < min_share]
    return [{"segment": int(n), "areas": int(row["areas"]),
             "share_of_areas": float(row["share_of_areas"])} for n, row in small.iterrows()]


def missing_values_table(values: pd.DataFrame, clustered: list, missing) -> pd.DataFrame:
    """Per clustering variable: the missing-value policy, the cells filled (in the areas
    classified) and how many of the areas left unclassified have no value of it."""
    dropped = missing.dropped_areas
    lacking = (values.loc[dropped, clustered].isna().sum() if len(dropped)
               else pd.Series(0, index=clustered))
    return pd.DataFrame({"variable": clustered, "policy": missing.policy,
                         "cells_filled": missing.imputed.reindex(clustered).to_numpy(),
                         "unclassified_areas_without_a_value":
                             lacking.reindex(clustered).astype(int).to_numpy()})


def with_unclassified(reconciliation: pd.DataFrame, missing_counts: pd.Series,
                      variables: int) -> pd.DataFrame:
    """The reconciliation with each area left unclassified said on its boundaries row (the
    first source): how many of the clustering variables it has no value of its own in."""
    from ..data.ingest import STATUS_USED

    if not len(missing_counts) or reconciliation.empty:
        return reconciliation
    out = reconciliation.copy()
    rows = (out["source"].eq(out["source"].iloc[0]) & out["status"].eq(STATUS_USED)
            & out["area_code"].isin(missing_counts.index))
    out.loc[rows, "detail"] = [
        f"left unclassified: no value of its own in {int(missing_counts[code])} of the "
        f"{variables} clustering variables" for code in out.loc[rows, "area_code"]]
    return out


# what to do about output areas the tables have no row for
OTHER_BOUNDARIES = ("use the boundaries the tables were published for, or add a table (or a "
                    "lookup) covering these areas")


def unclassified_note(manifest: dict) -> str | None:
    """One line on the areas left without a segment, or None: why (their codes in none or
    in few of the tables, or their data missing), what it costs (their addresses and
    incidents left out of what follows) and what to do."""
    results = manifest.get("results", {})
    codes = results.get("unclassified_areas", [])
    if not codes:
        return None
    absent = set(results.get("unclassified_in_no_table", []))
    without = results.get("unclassified_tables_without", {})
    median = manifest.get("parameters", {}).get("missing", "median") == "median"
    cost = ("Their addresses and incidents are left out of the visit list and the incident "
            "profiles; ")
    said = []
    if absent:
        listed = [c for c in codes if c in absent]
        has, are = ("has", "is") if len(listed) == 1 else ("have", "are")
        said.append(
            f"{len(listed):,} output area{'' if len(listed) == 1 else 's'} of the boundaries "
            f"{has} no row in any of the tables of output areas (a code they do not use: "
            f"boundaries of another census, e.g. 2011 output areas with 2021 tables) and "
            f"{are} left "
            f"unclassified: {_shown(listed)}. {cost}{OTHER_BOUNDARIES}")
    others = [c for c in codes if c not in absent]
    if others and median:
        said.append(_too_little_data(others, results, without, bool(absent), cost))
    elif others:
        one = len(others) == 1
        said.append(f"{len(others):,} {'other ' if absent else ''}output "
                    f"area{'' if one else 's'} {'misses' if one else 'miss'} a clustering "
                    f"variable and {'is' if one else 'are'} left "
                    "unclassified (no segment; hatched on the map, listed in the "
                    f"manifest): {_shown(others)}")
    return ". ".join(said)


def _too_little_data(codes: list, results: dict, without: dict, other: bool,
                     cost: str) -> str:
    """The sentence on areas with no value of their own in more than half of the clustering
    variables (the median policy's rule): how many they lack, whether rows are missing from
    tables (and which remedy fits), what it costs."""
    one = len(codes) == 1
    variables = len(results.get("clustered_variables", []))
    lacking = [results.get("unclassified_missing", {}).get(c) for c in codes]
    lacking = [n for n in lacking if n is not None]
    many = (f"{min(lacking)}" if lacking and min(lacking) == max(lacking)
            else f"{min(lacking)} to {max(lacking)}" if lacking else "more than half")
    rows = [without[c] for c in codes if c in without]
    tables = results.get("tables_of_output_areas", 0)
    where = ""
    if rows and len(rows) == len(codes) and min(rows) > 0:
        gone = f"{min(rows)}" if min(rows) == max(rows) else f"{min(rows)} to {max(rows)}"
        where = (f": no row in {gone} of the {tables} tables of output areas, a code "
                 "those tables do not use (boundaries of another census, e.g. 2011 output "
                 "areas with 2021 tables)")
        remedy = OTHER_BOUNDARIES
    else:
        where = ": their cells missing or not numbers in the tables"
        remedy = ("fill in their values in the tables, or leave out of the clustering the "
                  "variables they lack (force_out under [screening])")
    return (f"{len(codes):,} {'other ' if other else ''}output area{'' if one else 's'} "
            f"{'has' if one else 'have'} no value of {'its' if one else 'their'} own in "
            f"{many} of the {variables} clustering variables{where}. Filled with the study "
            f"area's medians in more than half of them, {'it' if one else 'they'} would be "
            f"placed in a segment on too little evidence, so {'it is' if one else 'they are'}"
            f" left unclassified: {_shown(codes)}. {cost}{remedy}")


def _shown(codes: list) -> str:
    return ", ".join(codes[:5]) + (f" and {len(codes) - 5:,} more" if len(codes) > 5 else "")


def direct_tables(project: Project) -> set:
    """The tables kept by the boundaries' own codes (not joined through another geography,
    such as IMD by LSOA)."""
    return {spec.title for spec in project.tables if not spec.join_on and not spec.lookup}


def in_no_table(without: dict[str, int], direct: int) -> list[str]:
    """The areas of ``without`` (``tables_without``) that none of the ``direct`` tables
    kept by these areas' codes has a row for (a table joined through another geography,
    such as IMD by LSOA, may still have its area's row)."""
    return [code for code, tables in without.items() if direct and tables >= direct]


def tables_without(project: Project, data: AreaData, codes) -> dict[str, int]:
    """Of ``codes`` (areas of the boundaries), how many of the tables kept by these areas'
    codes have no row for each (only those missing from at least one)."""
    from ..data.ingest import STATUS_NO_DATA

    direct = direct_tables(project)
    rows = data.reconciliation
    absent = rows[rows["status"].eq(STATUS_NO_DATA) & rows["source"].isin(direct)]
    tables = absent.groupby("area_code")["source"].nunique()
    return {str(c): int(tables[c]) for c in codes if c in tables.index}


def small_segments_note(manifest: dict) -> str | None:
    """One line on the small segments and the remedies that can help, or None. Winsorising
    is advised only where it can do something: on z-scores (``range`` and ``ihs_range``
    values lie in 0..1, which a bound of 3 never clips) and when it is not already on."""
    small = manifest.get("results", {}).get("small_segments", [])
    if not small:
        return None
    parameters = manifest["parameters"]
    share = parameters.get("min_share", 2.0)
    listed = ", ".join(f"segment {s['segment']} ({counted(int(s['areas']), 'areas')}, "
                       f"{s['share_of_areas']:g}%)" for s in small)
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
    from .names import name_key

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
    from .words import deprivation_words, label_of

    labels = labels or {}
    numbering = dict(numbering)
    if numbering["by_deprivation"]:
        # in words, never the column's code alone ("deprivation measure (IMD19)")
        measure = deprivation_words(project.deprivation, labels)
        numbering.update(
            said=measure,
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

    without = tables_without(project, data, dropped)  # each area's tables without its row
    direct = len(direct_tables(project))

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
                    "unclassified_in_no_table": in_no_table(without, direct),
                    "unclassified_tables_without": without,
                    "tables_of_output_areas": direct,
                    "wcss": fit.wcss, "stability_ari": fit.stability,
                    "final_iterations": fit.n_iter, "random_starts_run": fit.n_starts,
                    "random_starts_note": fit.note},
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "pandas": pd.__version__, "geopandas": geopandas.__version__,
                     "shapely": shapely.__version__, "pyproj": pyproj.__version__,
                     "scikit-learn": sklearn.__version__},
    }
