"""The partner outputs in words: tables' titles and headings, the settings and the incident
sources in sentences, and the notes that go with the workbook and the GeoPackage."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyogrio

from ..places.incidents import NOT_PROFILED, measure_title, words
from ..segment.area_data import input_name
from ..segment.words import plural, without_segment
from ..store.geopackage import gpkg_file, read_gpkg_table
from .suppression import SUPPRESSED, is_small

# the partner files' headings for the ward columns
WARD_HEADINGS = {"ward_code": "Ward code", "ward_name": "Ward name"}


BASE_MEASURES = {"households": "Households", "residents": "Residents",
                 "areas": "Output areas", "addresses": "Addresses"}


def matrix_title(name: str, incidents=()) -> str:
    """A matrix's name in words: "Households", "Fires", "Fires: injuries" (``incidents``: the
    names of the incident profiles, whose matrices are named ``<incident>_<measure>``)."""
    if name in BASE_MEASURES:
        return BASE_MEASURES[name]
    for incident in sorted(incidents, key=len, reverse=True):
        if name.startswith(f"{incident}_"):
            return measure_title(words(incident), name.removeprefix(incident + "_"))
    return words(name)


def matrices_said(segmentation, matrices: dict) -> list[str]:
    """A line per matrix built, in words: "Fires: 17 wards, 1,653 in all"."""
    path = gpkg_file(Path(segmentation))
    incidents = incident_sources(path, [name for name, _ in pyogrio.list_layers(path)])
    return [f"{matrix_title(name, incidents)}: {len(matrix) - 1:,} wards, "
            f"{matrix.loc['Total', 'Total']:,.0f} in all" for name, matrix in matrices.items()]


def dated_matrix_title(name: str, abouts: dict, unknown: str = "") -> str:
    """A matrix's title, an incident matrix's with its period ("Fires: incidents, Jan 2009
    – Aug 2024"; ``unknown`` where its period is not known); ``abouts``: incident profile
    name -> its source (``incident_sources``)."""
    title = matrix_title(name, abouts)
    incident = next((n for n in sorted(abouts, key=len, reverse=True)
                     if name.startswith(f"{n}_")), None)
    if incident is None:
        return title
    period = str((abouts.get(incident) or {}).get("period") or "")
    period = "" if period in ("not known", "nan") else period
    return f"{title}, {period or unknown}" if period or unknown else title


PERCENT_TITLES = {"": " by ward and segment",
                  "row %": " by ward and segment: % of each ward's total",
                  "col %": " by ward and segment: % of each segment's total"}


PERCENT_SHEETS = {"row %": " % ward", "col %": " % segment"}


def settings_in_words(manifest: dict) -> list[tuple[str, str]]:
    """How the segmentation was made, as (item, sentence) rows: for the Notes of the
    partner workbook and the report's method section."""
    parameters = manifest.get("parameters", {})
    screening = parameters.get("screening", {})
    winsorised = manifest.get("results", {}).get("winsorised", {})
    bands = parameters.get("bands", {})
    clustered = manifest.get("results", {}).get("clustered_variables", [])
    rows = [
        ("Method", f"{parameters.get('k')} segments found by k-means on "
                     f"{len(clustered)} variables."),
        ("k-means", kmeans_in_words(parameters, manifest.get("results", {}))),
        ("Standardisation", STANDARDISATION.get(parameters.get("standardise"),
                                                str(parameters.get("standardise", "")))),
        ("Screening", screening_in_words(screening) if screening else ""),
        ("Extreme values", f"Standardised values were clipped at ±{winsorised['bound']:g} "
                           f"({winsorised.get('cells', 0):,} values in "
                           f"{len(winsorised.get('areas', [])):,} areas)."
         if winsorised.get("bound") else "Not clipped."),
        ("Bands", f"A variable is high in a segment with an index of {bands['high']:g} or "
                  f"more, low with {bands['low']:g} or less (100 = the study-area average)."
         if bands else ""),
        ("Numbering", manifest.get("numbering", {}).get("description", "")),
    ]
    return [(item, text) for item, text in rows if text]


def kmeans_in_words(parameters: dict, results: dict) -> str:
    """The random starts as run: the number asked for, and, where the starts disagreed and
    more were run, how many and the fit's own note (how often the best was reached)."""
    asked = parameters.get("n_init")
    if not asked:
        return ""
    run = results.get("random_starts_run") or asked
    text = (f"{run:,} random starts from seed {parameters.get('seed')}"
            + (f" ({asked:,} asked for)" if run != asked else "")
            + "; the start with the least within-segment sum of squares is kept.")
    note = results.get("random_starts_note")
    return f"{text} {note}" if run != asked and note else text


def screening_in_words(screening: dict) -> str:
    """The screening rules as a sentence, each rule only where it is set: "a range below
    0" drops nothing and is not said."""
    few, narrow = screening.get("min_distinct"), screening.get("min_range")
    dropped = ["constant or binary variables (two values or fewer)"]
    if few is not None and float(few) > 3:
        dropped.append(f"variables with fewer than {int(few)} distinct values")
    if narrow is not None and float(narrow) > 0:
        dropped.append(f"variables whose range (highest less lowest) is below {float(narrow):g}")
    return (f"Of each pair of variables with |Pearson r| above {screening.get('threshold')} "
            f"one was dropped, and so were {', '.join(dropped[:-1])}"
            f"{' and ' if len(dropped) > 1 else ''}{dropped[-1]}.")


STANDARDISATION = {"zscore": "Each variable as z-scores (mean 0, standard deviation 1).",
                   "range": "Each variable scaled to the range 0 to 1.",
                   "ihs_range": "Inverse hyperbolic sine, then scaled to the range 0 to 1 "
                                "(as the UK Output Area Classification)."}


LEFT_OUT_COUNT = re.compile(r"\b(\d[\d,]*) ((?:(?!output area)[^,;])+?)(?=, \d| in \d)")


def left_out_suppressed(note: str, threshold: int) -> str:
    """The note with each count of what a profile leaves out (``places.incidents.
    not_profiled_note``; not its output areas, which are places) from 1 to ``threshold``
    shown as suppressed, as every count a partner reads is; a measure said in the singular
    for one is said in the plural again, so that it does not tell the count."""
    head, said, tail = note.partition(NOT_PROFILED)

    def shown(m: re.Match) -> str:
        if not is_small(int(m[1].replace(",", "")), threshold):
            return m[0]
        return f"{SUPPRESSED} {plural(m[2]) if m[1] == '1' else m[2]}"
    return head + said + LEFT_OUT_COUNT.sub(shown, tail) if said else note


def incident_note(about: dict, threshold: int = 5) -> str:
    """Where a profile's incidents came from, in a sentence (``places.incident_about``)."""
    categories = ("all categories" if about.get("categories") in (None, "", "all")
                  else f"categories: {about['categories']}")
    note = about.get("note").strip().rstrip(".") if isinstance(about.get("note"), str) else ""
    note = left_out_suppressed(note, threshold)
    period = str(about.get("period") or "")
    period = "period not known" if period in ("", "not known", "nan") else period
    counted = about.get("records_counted")
    # records in areas the profile does not count (absent: stored before it; empty:
    # suppressed, 1 to the threshold)
    elsewhere = about.get("records_not_profiled", 0)
    elsewhere = (SUPPRESSED if pd.isna(elsewhere) or is_small(int(elsewhere), threshold)
                 else f"{int(elsewhere):,}" if int(elsewhere) else "")
    counted = ("the number of records counted is not shown (it would reveal a suppressed "
               "total)" if counted is None or pd.isna(counted) else
               f"{int(counted):,} of {int(about['records_read']):,} records were counted "
               "(the rest were outside the study area or the filters"
               + (f", {elsewhere} in output areas the profile does not count" if elsewhere
                  else "") + ", or unreadable)")
    return (f"From {about['source']}, {period}, {categories}; {counted}."
            + (f" Note: {note}." if note else ""))


def incident_sources(path: Path, layers: list[str]) -> dict[str, dict | None]:
    """Each incident profile's source (``places.incident_about``) by profile name; None for
    a profile stored before its source was."""
    sources = {layer.removeprefix("incident_about_"): read_gpkg_table(path, layer).iloc[0]
               .to_dict() for layer in layers if layer.startswith("incident_about_")}
    for layer in layers:
        if layer.startswith("incident_profile_"):
            sources.setdefault(layer.removeprefix("incident_profile_"), None)
    return sources


def unclassified_words(areas: pd.DataFrame, tables: str, manifest: dict | None = None) -> str:
    """The output areas without a segment (why: ``words.why_no_segment``) and what
    ``tables`` leave out with them, in a sentence ('' when every area has a segment)."""
    unclassified = int(areas["segment"].isna().sum())
    if not unclassified:
        return ""
    return (f"{unclassified:,} of the {len(areas):,} output areas "
            f"{'is' if unclassified == 1 else 'are'} "
            f"{without_segment(manifest)}: they, their households, residents, addresses and "
            f"incidents are in no column of {tables}")


def unclassified_rows(seg, where: str = "") -> list[tuple[str, str]]:
    """The note on the output areas without a segment, as (item, sentence) rows (none when
    every area has one); ``where``: a sentence more on where the reader sees them."""
    said = unclassified_words(seg.areas, "these tables", seg.manifest)
    return [("Areas without a segment", said + "." + where)] if said else []


def partner_notes(seg, path: Path, layers: list[str], threshold: int = 5
                  ) -> list[tuple[str, str]]:
    """The Notes sheet in sentences: what the tables are, the segments, the sources (the
    partner tables and each incident file with its period and categories), the settings
    and how to read the tables."""
    from ..styles import legend_label, numbering_order

    names = sorted(seg.segment_names.items())
    inputs = [input_name(i) for i in seg.manifest.get("inputs", [])
              if isinstance(i, dict) and i.get("file")]
    rows = [("What this is", f"Ward × segment tables for {seg.name}: how many output "
             "areas, households, residents, addresses and incidents each ward has in each "
             "segment, safe to share with partners."),
            ("Segments", "; ".join(legend_label(n, name) for n, name in names) + "."),
            ("Segment order", numbering_order(seg.manifest, [n for n, _ in names])),
            ("Area data", "Built from " + ", ".join(inputs) + "." if inputs else "")]
    rows += [(f"Incidents: {words(name)}", incident_note(about, threshold))
             for name, about in incident_sources(path, layers).items() if about]
    rows += settings_in_words(seg.manifest)
    rows += unclassified_rows(seg)
    rows.append(("How to read the tables", "Each sheet is one measure: a row per ward and "
                 "a column per segment, with totals. The '% ward' sheets give each cell as "
                 "a percentage of its ward's total (where the ward's people fall across "
                 "the segments); the '% segment' sheets as a percentage of the segment's "
                 "total (where the segment's people live). Grey cells marked * are "
                 "suppressed."))
    return [(item, text) for item, text in rows if text]
