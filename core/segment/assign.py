"""New or updated areas assigned to the segments of a saved segmentation, without
renumbering them: each area to its nearest centre (and sub-segment).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError
from ..project.project_file import Project
from ..project.rules import BandRule
from .area_data import AreaData
from .build import (
    Segmentation,
    direct_tables,
    in_no_table,
    small_segments,
    tables_without,
    with_unclassified,
)
from .kmeans import assign_to_centres, distance_to_centres
from .labels import label_tables, read_labels, read_themes
from .preparation import check_same_scale
from .prepare import clipped_cells, winsorise
from .profiles import pen_portraits, profile_table, segment_summary
from .screening import described, too_little_data
from .words import with_descriptions


def assign_areas(segmentation: Segmentation, values: pd.DataFrame) -> pd.DataFrame:
    """Existing segments for new or updated areas: nearest centre, same numbering.

    Missing values take the saved fill values (the study area's medians at build time); an
    area with no value of its own in more than half of the clustering variables is left
    unclassified (segment missing), as the build leaves it (``too_little_data``).
    """
    absent = [v for v in segmentation.clustered if v not in values.columns]
    if absent:
        record = segmentation.manifest.get("preparation", {})
        tables = sorted({record[v]["table"] for v in absent if v in record})
        one = len(absent) == 1
        raise InputError(
            f"the new data lack {'one' if one else len(absent)} of the "
            f"{len(segmentation.clustered)} variables the segments were made from: "
            + "; ".join(described(v, segmentation.labels) for v in absent)
            + (f" (the segmentation read {'it' if one else 'them'} from "
               f"{', '.join(tables)})" if tables else "")
            + "; add the table holding "
            + ("it" if one else "them") + " to the project: each area is placed by all of them")
    frame = values[segmentation.clustered].astype(float)
    check_same_scale(segmentation.values[segmentation.clustered], frame,
                     segmentation.manifest.get("preparation", {}), segmentation.labels)
    empty = too_little_data(frame)
    values, frame = values[~empty], frame[~empty]
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
    left = pd.DataFrame({"segment": pd.array([pd.NA] * int(empty.sum()), dtype="Int64"),
                         "segment_name": "", "distance": np.nan}, index=empty.index[empty])
    if "subsegment" in out:
        left["subsegment"] = ""
    out = out.astype({"segment": "Int64"})
    return pd.concat([out, left]).reindex(empty.index) if len(left) else out


def assigned_segmentation(seg: Segmentation, data: AreaData, source: Path,
                          project: Project | None = None) -> tuple[Segmentation, pd.DataFrame]:
    """The segmentation a refresh gives: ``seg``'s segments as built (numbers, names,
    centres, standardisation) with ``data``'s areas, their new values and each one's segment
    (``assign_areas``), each segment's size, profile and pen portrait counted again on them
    (the numbering said as kept, ``_numbering``), saved and used like any other; its manifest
    says it was assigned from ``source`` (``seg``'s file, its identity and inputs), with
    which inputs (``project``: the project file that read them, when there is one). Also
    returns each area's segment beside its previous one (``previous_segment``), and whether
    it lies farther from its segment's centre than any area when built
    (``fits_no_segment_well``: ``far_from_centre``)."""
    assigned = assign_areas(seg, data.values)
    areas = data.areas[["geometry"]].join(assigned)
    if "subsegment" not in areas:
        areas["subsegment"] = ""
    areas = areas[["segment", "segment_name", "subsegment", "distance", "geometry"]]
    areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=data.areas.crs)
    changes = assigned.copy()
    changes["previous_segment"] = seg.areas["segment"].reindex(assigned.index)

    unclassified = areas.index[areas["segment"].isna()]
    lacking = data.values.loc[unclassified, seg.clustered].isna().sum(axis=1)
    summary = _summary(seg, data, areas)
    profiles = _profiles(seg, data, areas)
    summary["portrait"] = _portraits(seg, data, profiles, summary, project)
    manifest = _assigned_manifest(seg, data, areas, changes, source, project, lacking)
    manifest["numbering"] = _numbering(seg.manifest, summary)
    far = manifest["assigned"]["far_from_centre"]["areas"]
    changes["fits_no_segment_well"] = changes.index.astype(str).isin(list(far))
    return replace(
        seg, areas=areas, values=data.values, summary=summary, profiles=profiles,
        reconciliation=with_unclassified(data.reconciliation, lacking, len(seg.clustered)),
        missing=_missing(seg, data, areas), manifest=manifest, diagnostics=None,
    ), changes


def _profiles(seg: Segmentation, data: AreaData, areas: pd.DataFrame) -> pd.DataFrame:
    """The segments' profiles counted again on this year's areas and values, as ``build``
    counts them (``profile_table``, the bands and denominators it used)."""
    params = seg.manifest.get("parameters", {})
    classified = areas["segment"].dropna().astype(int)
    totals = set(seg.manifest.get("results", {}).get("denominators_only", []))
    values = data.values.loc[classified.index]
    values = values[[c for c in values.columns if c not in totals]]
    values = values.apply(pd.to_numeric, errors="coerce")
    bands = params.get("bands") or {}
    rule = BandRule(high=float(bands.get("high", 120)), low=float(bands.get("low", 80)))
    profiles = profile_table(values, classified, seg.clustered, rule)
    return with_descriptions(profiles, seg.labels) if seg.labels else profiles


def _portraits(seg: Segmentation, data: AreaData, profiles: pd.DataFrame,
               summary: pd.DataFrame, project: Project | None) -> pd.Series:
    """Each segment's pen portrait written again from this year's profiles and counts (as
    ``build`` writes them), its name kept; a portrait the project file gives is kept, and a
    segment no area falls in now keeps its portrait as built."""
    params = seg.manifest.get("parameters", {})
    themes = tables = None
    if project is not None and project.labels_file:
        themes = read_themes(read_labels(project.labels_file, project.labels_columns))
        tables = label_tables(project)
    present = summary[summary["areas"] > 0]
    written = pen_portraits(
        profiles, present, seg.labels, themes=themes, tables=tables,
        sizes=[*(c for c in (params.get("residents"), params.get("households")) if c),
               *data.denominators])["portrait"]
    portraits = written.reindex(summary.index).fillna(seg.summary["portrait"])
    given = project.segment_text if project is not None else {}
    for number, text in given.items():
        if "portrait" in text and number in portraits.index:
            portraits[number] = str(text["portrait"])
    return portraits


def _numbering(built: dict, summary: pd.DataFrame) -> dict:
    """The numbering said as kept from the build (on its date), and, where this year's
    mean deprivation of the segments no longer follows the numbers, which pairs break it."""
    numbering = dict(built.get("numbering") or {})
    as_built = numbering.get("as_built") or numbering.get("description", "")
    date = str(built.get("assigned", {}).get("built") or built.get("created", ""))[:10]
    numbering["as_built"] = as_built
    if not numbering.get("by_deprivation") or "mean_deprivation" not in summary:
        numbering["description"] = (f"Segments keep the numbers they were given when built "
                                    f"on {date}. {as_built}").strip()
        return numbering
    k, said = len(summary), numbering.get("said") or numbering.get("measure", "deprivation")
    more = numbering.get("more_deprived", "lower")
    text = (f"Segments keep the numbers they were given when built on {date}: 1 (least "
            f"deprived) to {k} (most deprived) by the mean {said} of their areas then "
            f"({more} values are more deprived).")
    means = summary.loc[summary["areas"] > 0, "mean_deprivation"].dropna()
    worse = (lambda a, b: a < b) if more == "lower" else (lambda a, b: a > b)
    broken = [(a, b) for a, b in zip(means.index[:-1], means.index[1:])
              if worse(means[a], means[b])]
    if broken:
        pairs = [f"segment {a}'s mean ({means[a]:,.1f}) is now more deprived than "
                 f"segment {b}'s ({means[b]:,.1f})" for a, b in broken[:2]]
        more_pairs = len(broken) - len(pairs)
        text += (" With this year's values the means no longer follow that order: "
                 + " and ".join(pairs)
                 + (f", and {more_pairs} more pair{'' if more_pairs == 1 else 's'}"
                    if more_pairs else "") + ".")
    numbering["description"] = text
    return numbering


def _summary(seg: Segmentation, data: AreaData, areas: pd.DataFrame) -> pd.DataFrame:
    """The built summary's names (and pen portraits, written again by ``_portraits``), with
    each segment's areas, residents, households, mean deprivation and distance counted
    again over the assigned areas (a segment no area falls in now has 0 areas)."""
    params = seg.manifest.get("parameters", {})
    classified = areas["segment"].dropna().astype(int)
    named = {params.get("residents"): "residents", params.get("households"): "households"}
    sizes = data.values.reindex(columns=[c for c in named if c and c in data.values])
    sizes = sizes.rename(columns=named).loc[classified.index]
    measure = params.get("deprivation")
    by_deprivation = bool(seg.manifest.get("numbering", {}).get(
        "by_deprivation", measure is not None))
    deprivation = (data.values.loc[classified.index, measure] if measure in data.values
                   else pd.Series(np.nan, index=classified.index))
    counted = segment_summary(classified, sizes, deprivation,
                              areas.loc[classified.index, "distance"], by_deprivation)
    counted = counted.reindex(seg.summary.index)
    counted[["areas", "share_of_areas"]] = counted[["areas", "share_of_areas"]].fillna(0)
    counted["areas"] = counted["areas"].astype(int)
    for column in counted.columns:  # a measure the new data lack: as built
        if column in seg.summary and counted[column].isna().all():
            counted[column] = seg.summary[column]
    words = seg.summary[[c for c in seg.summary.columns if c not in counted.columns]]
    summary = words.join(counted)
    return summary[[*[c for c in seg.summary.columns if c in summary],
                    *[c for c in summary.columns if c not in seg.summary]]]


def _missing(seg: Segmentation, data: AreaData, areas: pd.DataFrame) -> pd.DataFrame:
    """Per clustering variable: the cells filled with the segmentation's medians among the
    areas assigned, and how many of the areas left unclassified have no value of it."""
    cells = data.values[seg.clustered].isna()
    left = areas["segment"].isna().reindex(cells.index, fill_value=True)
    policy = (str(seg.missing["policy"].iloc[0]) if "policy" in seg.missing and len(seg.missing)
              else seg.manifest.get("parameters", {}).get("missing", "median"))
    return pd.DataFrame({"variable": seg.clustered, "policy": policy,
                         "cells_filled": cells[~left].sum().reindex(seg.clustered).to_numpy(),
                         "unclassified_areas_without_a_value":
                             cells[left].sum().reindex(seg.clustered).astype(int).to_numpy()})


def _assigned_manifest(seg: Segmentation, data: AreaData, areas: pd.DataFrame,
                       changes: pd.DataFrame, source: Path, project: Project | None,
                       lacking: pd.Series) -> dict:
    manifest = json.loads(json.dumps(seg.manifest))
    built = {key: manifest.get(key) for key in ("created", "project", "inputs", "identity")}
    first = manifest.get("assigned", {}).get("built") or manifest.get("created")
    manifest.pop("identity", None)
    manifest["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    manifest["project"] = str(project.path) if project is not None else None
    manifest["inputs"] = data.inputs
    previous = changes["previous_segment"]
    known = previous.notna() & changes["segment"].notna()
    manifest["assigned"] = {
        "from": {"segmentation": str(source), **built},
        "built": first,
        "kept_as_built": ["segment numbers and names", "centres",
                          "standardisation and fill values", "screening"],
        "counted_again": ["segment sizes", "profiles", "pen portraits",
                          "mean deprivation"],
        "areas_assigned": int(changes["segment"].notna().sum()),
        "areas_in_segmentation": int(previous.notna().sum()),
        "changed_segment": int((previous[known] != changes.loc[known, "segment"]).sum()),
        "new_areas": sorted(map(str, previous.index[previous.isna()
                                                     & changes["segment"].notna()])),
    }
    results = manifest.setdefault("results", {})
    codes = [str(c) for c in lacking.index]
    results["areas"] = int(len(areas))
    results["unclassified_areas"] = codes
    results["unclassified_missing"] = {str(c): int(n) for c, n in lacking.items()}
    if project is not None:
        without = tables_without(project, data, codes)
        results["unclassified_tables_without"] = without
        results["tables_of_output_areas"] = len(direct_tables(project))
        results["unclassified_in_no_table"] = in_no_table(without,
                                                          len(direct_tables(project)))
    else:
        results["unclassified_tables_without"], results["unclassified_in_no_table"] = {}, []
    counts = areas["segment"].dropna().astype(int).value_counts()
    summary = pd.DataFrame({"areas": counts}).reindex(seg.summary.index, fill_value=0)
    summary["share_of_areas"] = (100 * summary["areas"] / max(int(counts.sum()), 1)).round(2)
    results["small_segments"] = small_segments(
        summary, float(manifest.get("parameters", {}).get("min_share", 2.0)))
    bound = float(manifest.get("parameters", {}).get("winsorise") or 0)
    results["winsorised"] = _clipped(seg, data, areas, bound)
    manifest["assigned"]["far_from_centre"] = far_from_centre(seg, areas)
    return manifest


def far_from_centre(seg: Segmentation, areas: pd.DataFrame) -> dict:
    """The assigned areas farther from their segment's centre than any of its areas was
    when the segments were built (``bounds``: segment -> that greatest distance, carried
    over from refresh to refresh): they fit no segment well (new building, a change of
    use, or data prepared otherwise). ``areas``: code -> segment, distance."""
    kept = seg.manifest.get("assigned", {}).get("far_from_centre", {}).get("bounds")
    if kept:
        bounds = pd.Series({int(k): float(v) for k, v in kept.items()})
    else:
        built = seg.areas.dropna(subset=["segment", "distance"])
        bounds = built.groupby(built["segment"].astype(int))["distance"].max()
    placed = areas.dropna(subset=["segment", "distance"])
    segment = placed["segment"].astype(int)
    limit = segment.map(bounds)
    far = placed[(placed["distance"] > limit + 1e-6) & limit.notna()]
    far = far.sort_values("distance", ascending=False)
    return {"bounds": {str(k): round(float(v), 6) for k, v in bounds.items()},
            "areas": {str(code): {"segment": int(row.segment),
                                  "distance": round(float(row.distance), 3)}
                      for code, row in far.iterrows()}}


def far_areas_note(manifest: dict, shown: int = 8) -> str | None:
    """One line on the areas a refresh placed farther from their segment's centre than
    any area was when it was built (``far_from_centre``), or None."""
    far = manifest.get("assigned", {}).get("far_from_centre", {})
    areas, bounds = far.get("areas") or {}, far.get("bounds") or {}
    if not areas:
        return None
    by_segment = {}
    for code, where in areas.items():
        by_segment.setdefault(int(where["segment"]), []).append((code, where["distance"]))
    parts = []
    for number, found in sorted(by_segment.items()):
        distances = [d for _, d in found]
        span = (f"{min(distances):.1f}" if min(distances) == max(distances)
                else f"{min(distances):.1f}–{max(distances):.1f}")
        codes = [code for code, _ in found[:shown]]
        more = f" and {len(found) - shown:,} more" if len(found) > shown else ""
        parts.append(f"segment {number}: {', '.join(codes)}{more} ({span} from its centre; "
                     f"its areas were at most {float(bounds[str(number)]):.1f} away when "
                     "built)")
    n = len(areas)
    return (f"{n:,} area{'' if n == 1 else 's'} {'is' if n == 1 else 'are'} farther from "
            f"{'its' if n == 1 else 'their'} segment's centre than any area was when the "
            "segments were built, so "
            f"{'it fits' if n == 1 else 'they fit'} no segment well: {'; '.join(parts)}. "
            "Check their data (new building, a change of use), or rebuild the segmentation")


def _clipped(seg: Segmentation, data: AreaData, areas: pd.DataFrame, bound: float) -> dict:
    """The assigned areas' standardised values winsorising clipped (as the build says it)."""
    classified = areas.index[areas["segment"].notna()]
    if bound <= 0 or not len(classified):
        return {"bound": bound, "cells": 0, "areas": []}
    frame = data.values.loc[classified, seg.clustered].astype(float)
    frame = frame.fillna(seg.fill_values[seg.clustered])
    X = seg.standardiser.transform(frame).to_numpy()
    cells = clipped_cells(X, bound, classified, seg.clustered)
    return {"bound": bound, "cells": int(len(cells)),
            "areas": sorted(map(str, cells["area_code"].unique()))}
