"""The partner report: one self-contained HTML file from a saved segmentation.

``write_report(segmentation, out)`` reads the GeoPackage, gathers what a partner or a board
reads (the segments and their portraits, where they live, the incidents they carry, the
ward × segment matrices, targeting and shared-demand summaries when those steps have run,
and how it was all made) and renders it through a Jinja2 template
(``templates/report.html.j2``) with matplotlib pictures embedded as data URIs: no network,
one file to e-mail, readable on a phone and printable.

Only aggregates, suppressed exactly as the partner export is (``export.partner_tables``):
a count from 1 to the threshold, or one that would reveal such a count, shows as ``*``
and nothing computed from it is shown. Area-level pictures show places (every output
area's segment is public in the partner GeoPackage); box plots describe groups of areas
(whiskers at the 5th and 95th percentiles, no single areas drawn).
"""

from __future__ import annotations

import base64
import os
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..demand.output import ABOUT_TABLE, SYNTHETIC
from ..demand.shared_view import shared_views
from ..errors import InputError
from ..places.incidents import measure_title, words
from ..places.matrices import TOTAL
from ..segment.area_data import input_name
from ..segment.assign import far_areas_note
from ..segment.build import unclassified_note
from ..segment.notes import assigned_note, labels_note, set_aside_note
from ..segment.prepare import SET_ASIDE
from ..segment.saved import load_segmentation
from ..segment.words import label_of
from ..share.export import IN_FULL, partner_tables, read_matrices, suppression_rule
from ..share.findings import key_findings, largest_segments, ward_shares
from ..share.partner_words import (
    dated_matrix_title,
    incident_note,
    incident_sources,
    settings_in_words,
)
from ..share.suppression import SUPPRESSED, check_threshold
from ..store.folders import atomic_file
from ..store.geopackage import gpkg_file, read_gpkg_table
from ..styles import numbering_axis, numbering_title, segment_colour
from . import charts
from .figures import UNKNOWN, Period, incident_period, number, percent
from .gaps import broken, in_one_line, left_out
from .targeting_box import targeting_box

TEMPLATE = "report.html.j2"
DEMAND_TABLES = {"segment": "demand_counts_by_segment", "ward": "demand_counts_by_ward"}


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def ink_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (#RRGGBB)."""
    red, green, blue = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return "#000" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#fff"


# --- what the report shows -----------------------------------------------------------------

def share_base(summary: pd.DataFrame) -> str:
    """What shares are shares of: households, else residents, else output areas."""
    return next((b for b in ("households", "residents") if b in summary.columns),
                "output areas")


def segment_rows(seg) -> list[dict]:
    summary = seg.summary
    base = share_base(summary)
    total = summary[base].sum() if base in summary else None
    rows = []
    for n, row in summary.iterrows():
        share = (100 * row[base] / total if total else row["share_of_areas"])
        rows.append({"number": int(n), "name": row["name"], "colour": segment_colour(n),
                     "ink": ink_on(segment_colour(n)),
                     "areas": number(row["areas"]),
                     "households": number(row["households"]) if "households" in row
                     else None,
                     "residents": number(row["residents"]) if "residents" in row else None,
                     "share": f"{percent(share)}%"})
    return rows


def incident_sections(profiles: dict, abouts: dict, axis: str = "segment",
                      threshold: int = 5) -> list[dict]:
    """Table 1 of each incident profile (suppressed), its chart, and where it came from,
    each count with its period and each rate with its unit and period."""
    sections = []
    for table, profile in profiles.items():
        name = table.removeprefix("incident_profile_")
        about = abouts.get(name)
        period = incident_period(about)
        base = "households" if "rate_per_1000_households" in profile.columns else "residents"
        for measure, rows in profile.groupby("measure", sort=False):
            title = measure_title(words(name), measure)
            sections.append({
                "key": f"{name}_{measure}", "title": title, "name": name, "measure": measure,
                "period": period.words, "rate_unit": period.rate_unit(base),
                "rate_short": ("a year" if period.yearly else
                               f"in {period.label}" if period.label else ""),
                "about": incident_note(about, threshold) if about else "",
                "chart": data_uri(charts.incident_chart(
                    rows, f"{title}, {period.words}, by segment: index with 95% interval",
                    axis, threshold)),
                "rows": [incident_row(r, period) for _, r in rows.iterrows()]})
    return sections


def incident_row(row: pd.Series, period: Period) -> dict:
    """One segment's figures, each rounded once from the stored full value."""
    low, high = row.get("index_low_95"), row.get("index_high_95")
    rate = row.get("rate_per_1000_households", row.get("rate_per_1000_residents"))
    return {"segment": int(row["segment"]), "colour": segment_colour(row["segment"]),
            "count": number(row["count"]), "share": percent(row["share_pct"]),
            "household_share": percent(row.get("household_share_pct",
                                               row.get("resident_share_pct"))),
            "rate": number(period.rate(rate) if pd.notna(rate) else rate, 2),
            "index": number(row["index"]),
            "interval": (f"{low:,.0f} – {high:,.0f}" if pd.notna(low) and pd.notna(high)
                         else SUPPRESSED),
            "representation": row["representation"] if pd.notna(row["index"]) else
            "suppressed"}


def heat_table(counts: pd.DataFrame, ward_names: dict, segments: list[int]) -> dict:
    """The ward × segment counts as rows of cells shaded by the cell's share of its ward's
    total (published counts only; suppressed cells unshaded)."""
    rows = []
    for ward, line in counts.iterrows():
        total = line.get(TOTAL)
        cells = []
        for s in segments:
            value = line.get(s)
            share = (value / total if pd.notna(value) and pd.notna(total) and total > 0
                     else None)
            cells.append({"text": number(value), "share": share,
                          "title": (f"{100 * share:.0f}% of the ward's total"
                                    if share is not None else
                                    ("suppressed" if pd.isna(value) else ""))})
        name = "All wards" if ward == TOTAL else ward_names.get(ward, ward)
        rows.append({"ward": name, "code": "" if ward == TOTAL else ward,
                     "total": number(total), "cells": cells, "is_total": ward == TOTAL})
    return {"rows": rows}


def suppression_said(name: str, counts: pd.DataFrame, threshold: int) -> str:
    """What was suppressed in one published matrix, and why, in a sentence."""
    if name in IN_FULL:
        return ("shown in full: every output area's segment and ward are public (the "
                "partner GeoPackage's layers show them), so hiding a count would protect "
                "nothing")
    hidden, cells = int(counts.isna().to_numpy().sum()), counts.size
    if not hidden:
        return f"shown in full: no count from 1 to {threshold}, so nothing needed hiding"
    return (f"{hidden:,} of {cells:,} cells suppressed ({SUPPRESSED}): the counts from 1 to "
            f"{threshold} and the cells or totals that would reveal them")


def dominant_wards(counts: pd.DataFrame | None, ward_names: dict, segment: int,
                   most: int = 5) -> dict:
    """Where a segment dominates: the wards in which it has the largest published share of
    ``counts`` (households, else residents, else output areas: ``ward_base``); otherwise
    the wards where its share is largest."""
    if counts is None or segment not in counts.columns:
        return {"dominates": [], "largest": []}
    share = ward_shares(counts)
    top = largest_segments(counts)  # a ward whose every share is suppressed has none
    mine = share[segment].dropna().sort_values(ascending=False)
    listed = [{"ward": ward_names.get(w, w), "code": w, "share": f"{v:.0f}%"}
              for w, v in mine.items()]
    dominates = [item for (w, _), item in zip(mine.items(), listed) if top.get(w) == segment]
    return {"dominates": dominates[:most], "largest": [] if dominates else listed[:3]}


def wards_holding(areas: pd.DataFrame, segment: int, first: list[str] = ()) -> list[str]:
    """The codes of the wards holding a segment's output areas, from the ward x segment
    matrix of areas (published in full): those of ``first`` that hold some (the wards the
    report lists beside its map), then the others, most areas first (ties by code)."""
    if segment not in areas.columns:
        return []
    counts = areas.drop(index=TOTAL, errors="ignore")[segment]
    counts = counts[counts > 0].rename("areas").rename_axis("ward").reset_index()
    most = list(counts.sort_values(["areas", "ward"], ascending=[False, True])["ward"])
    return [w for w in first if w in most] + [w for w in most if w not in first]


def ward_base(published: dict) -> str | None:
    """The ward matrix a segment's wards are read from: households, else residents, else
    output areas (None without ward matrices)."""
    return next((b for b in ("households", "residents", "areas") if b in published), None)


def segment_wards(published: dict, ward_names: dict, segments) -> tuple[dict, dict | None]:
    """For each segment, the wards its section lists (``dominant_wards``) and the codes of
    the wards its map may name (``wards_holding``: those listed first; None without the
    areas matrix)."""
    base = ward_base(published)
    listed = {n: dominant_wards(published.get(base) if base else None, ward_names, n)
              for n in segments}
    if "areas" not in published:
        return listed, None
    return listed, {n: wards_holding(published["areas"], n, [
        w["code"] for w in listed[n]["dominates"] or listed[n]["largest"]]) for n in segments}


def reason_in_words(row: pd.Series, labels: dict, kept: set) -> str:
    """A screening decision's reason with the variables named by their labels."""
    partner = row.get("correlated_with")
    if isinstance(partner, str) and partner and pd.notna(row.get("r")):
        return (f"moves with “{label_of(partner, labels)}” (Pearson r = {row['r']:+.2f})"
                + (", which is kept" if partner in kept else ""))
    return str(row["reason"])


def method_section(seg, threshold: int) -> dict:
    manifest = seg.manifest
    inputs = [{"file": input_name(i), "rows": number(i.get("rows")),
               "sha256": str(i.get("sha256", ""))[:16]}
              for i in manifest.get("inputs", []) if isinstance(i, dict)]
    labels = seg.labels
    kept = set(seg.screening.loc[seg.screening["kept"].astype(bool), "variable"])
    decisions = [{"variable": label_of(r["variable"], labels),
                  "decision": "clustered" if r["variable"] in seg.clustered else
                  ("kept, not clustered" if r["kept"] else "not clustered"
                   if r["reason"] in SET_ASIDE.values() else "dropped"),
                  "reason": reason_in_words(r, labels, kept)}
                 for _, r in seg.screening.iterrows()
                 if "not numeric" not in str(r["reason"])]  # names and codes: not data
    settings = [*settings_in_words(manifest), ("Small numbers", suppression_rule(threshold))]
    notes = [note for note in (labels_note(manifest, "report"), set_aside_note(manifest))
             if note]
    return {"inputs": inputs, "decisions": decisions, "notes": notes,
            "settings": [{"item": k, "value": v} for k, v in settings if v],
            "created": str(manifest.get("created", ""))[:10],
            "built": str(manifest.get("assigned", {}).get("built") or "")[:10],
            "assigned": assigned_note(manifest),
            "far": far_areas_note(manifest),
            "engine": f"{manifest.get('engine', '')} {manifest.get('engine_version', '')}"}


def _cell(value) -> str:
    """A stored cell for people: numbers (also numbers stored as text) with thousands
    separators, '*' and words as they are."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        figure = float(str(value).replace(",", ""))
    except ValueError:
        return str(value)
    return number(figure, 0 if figure == round(figure) else
                  min(2, len(str(value).split(".")[-1])))


def _shaped(frame: pd.DataFrame, window: str = "") -> dict:
    """A stored summary table as header and rows of text, for the template; a count or rate
    of contacts with the window it covers."""
    return {"header": [words(c) + (f" ({window})" if window and c in OVER_THE_WINDOW else "")
                       for c in frame.columns],
            "rows": [[_cell(v) for v in row] for row in frame.itertuples(index=False)]}


# the shared demand in the report: the figures a board reads (the totals by type are in the
# CSV files of the demand step)
DEMAND_COLUMNS = ("segment", "ward name", "residents", "people", "contacts",
                  "contacts per 1,000 residents", "share of all contacts %",
                  "share of its contacts by the top 1% of people %",
                  "share of its contacts by the top 5% of people %")


# the shared demand's columns that count over the demand step's window
OVER_THE_WINDOW = ("people", "contacts", "contacts per 1,000 residents")


def demand_about(table: pd.DataFrame | None) -> dict:
    """What the shared demand's records are and the window they cover, from the stored
    notes (``demand.output.ABOUT_TABLE``): {"synthetic", "window", "project"}."""
    notes = ({} if table is None else
             dict(zip(table["item"].astype(str), table["value"].astype(str))))
    window = notes.get("Window", "")
    return {"synthetic": notes.get(SYNTHETIC, "").lower().startswith("yes"),
            "window": window.split(" (")[0] if window else "",
            "window_words": window, "project": notes.get("Project", "")}


def _demand_shown(table: pd.DataFrame) -> pd.DataFrame:
    """The shared-demand columns the report shows; a ward without a name shows its code
    (the Total row is named "All wards" by ``shared_views``)."""
    if "ward name" in table.columns and "ward code" in table.columns:
        blank = table["ward name"].isin(["", "nan", "None"]) | table["ward name"].isna()
        table = table.assign(**{"ward name": table["ward name"].where(
            ~blank, table["ward code"])})
    return table[[c for c in DEMAND_COLUMNS if c in table.columns]]


# --- putting it together -------------------------------------------------------------------

def report_context(segmentation: Path, threshold: int = 5,
                   previous: Path | None = None) -> dict:
    """Everything the template shows, as plain values (text, numbers, data URIs).
    ``previous``: the last run's GeoPackage, for the key findings' changes (default: the
    one kept beside the segmentation's folder, if any)."""
    path = gpkg_file(Path(segmentation))
    seg = load_segmentation(path)
    layers = [name for name, _ in pyogrio.list_layers(path)]
    gaps = left_out(path, layers, seg.summary.columns)
    if broken(gaps, layers):  # nothing is published from a table that cannot be read whole
        raise InputError(in_one_line(broken(gaps, layers), f"{path.name}: the report"))
    published, profiles = partner_tables(path, threshold)
    _, ward_names = read_matrices(path, layers)
    abouts = incident_sources(path, layers)

    areas = seg.areas
    wards = (gpd.read_file(path, layer="wards", engine="pyogrio") if "wards" in layers
             else None)
    names = seg.segment_names
    labels = {v: label_of(v, seg.labels) for v in seg.values.columns}
    standardised = seg.standardiser.transform(seg.values[seg.clustered])
    bands = seg.manifest.get("parameters", {}).get("bands", {"high": 120, "low": 80})
    clustered = seg.profiles[seg.profiles["variable"].isin(seg.clustered)]
    incidents = incident_sections(profiles, abouts, numbering_axis(seg.manifest), threshold)
    summary = segment_rows(seg)
    listed, holding = segment_wards(published, ward_names, names)
    maps = charts.segment_maps(areas, sorted(names), wards, holding)
    segments = []
    for row in summary:
        n = row["number"]
        in_segment = areas.index[areas["segment"] == n]
        segments.append({
            **row, "portrait": seg.summary.loc[n, "portrait"],
            "map": data_uri(maps[n]),
            "profile_chart": data_uri(charts.profile_chart(
                clustered[clustered["segment"] == n], standardised.reindex(in_segment),
                labels, n, bands["high"], bands["low"])),
            "incidents": [{"title": s["title"], "period": s["period"],
                           "rate_short": s["rate_short"],
                           **next(r for r in s["rows"] if r["segment"] == n)}
                          for s in incidents if any(r["segment"] == n for r in s["rows"])],
            "wards": listed[n]})

    numbers = sorted(names)
    matrices = [{"title": dated_matrix_title(name, abouts, UNKNOWN), "key": name,
                 "suppression": suppression_said(name, counts, threshold),
                 **heat_table(counts, ward_names, numbers)}
                for name, counts in published.items()]
    optional = {name: read_gpkg_table(path, name) for name in ("target_summary",
                                                              *DEMAND_TABLES.values(),
                                                              ABOUT_TABLE)
                if name in layers}
    about_demand = demand_about(optional.get(ABOUT_TABLE))
    findings = key_findings(path, threshold, previous,
                            read=(seg, (published, profiles)))
    return {
        "title": seg.name, "produced": date.today().isoformat(), "threshold": threshold,
        "suppressed": SUPPRESSED,
        "study": {"areas": number(len(areas)),
                  "classified": number(areas["segment"].notna().sum()),
                  "households": number(seg.summary["households"].sum())
                  if "households" in seg.summary else None,
                  "residents": number(seg.summary["residents"].sum())
                  if "residents" in seg.summary else None,
                  "wards": len(wards) if wards is not None else None},
        "unclassified": int(areas["segment"].isna().sum()),
        "unclassified_note": unclassified_note(seg.manifest),
        "unclassified_why": unclassified_why(seg.manifest),
        "numbering": seg.manifest.get("numbering", {}).get("description", ""),
        "base": share_base(seg.summary),
        "ward_base": {"areas": "output areas"}.get(ward_base(published), ward_base(published)),
        "overview_map": data_uri(charts.overview_map(areas, wards)),
        "key_title": numbering_title(seg.manifest),
        "bands": [{"colour": charts.BAND_COLOURS[band], "text": text}
                  for band, text in (("high", f"high (≥ {bands['high']:g})"),
                                     ("medium", "medium"),
                                     ("low", f"low (≤ {bands['low']:g})"))],
        "summary": summary, "segments": segments, "segment_numbers": numbers,
        "segment_names": names, "segment_colours": {n: segment_colour(n) for n in numbers},
        "incidents": incidents, "matrices": matrices,
        "targeting": targeting_box(optional["target_summary"], next(
            (f.figures for f in findings if f.topic == "targeting"), None))
        if "target_summary" in optional else None,
        "demand_about": about_demand,
        "demand": [{"title": f"Demand by {by}", **_shaped(_demand_shown(view),
                                                          about_demand["window"])}
                   for by, view in shared_views(
                       {by: optional[name] for by, name in DEMAND_TABLES.items()
                        if name in optional}, threshold, names).items()],
        "method": method_section(seg, threshold),
        "findings": [{"topic": f.topic, "lead": f.lead, "text": f.text}
                     for f in findings],
        "left_out": [f"{g['section'][:1].upper()}{g['section'][1:]}: {g['why']}."
                     for g in gaps],
    }


def unclassified_why(manifest: dict) -> str:
    """Why the areas without a segment have none, in two or three words for the map: no
    data (their codes in no table) or too little (no value of their own in more than half
    of the clustering variables)."""
    results = manifest.get("results", {})
    codes = set(results.get("unclassified_areas", []))
    return ("no data" if codes <= set(results.get("unclassified_in_no_table", []))
            else "too little data")


def missing_for_report(segmentation: Path) -> str | None:
    """One line naming each table a report section needs that the GeoPackage lacks, and
    the section left out (None when nothing is): for the command line, Processing and the
    dock to say after writing the report (which says it too)."""
    path = gpkg_file(Path(segmentation))
    layers = [name for name, _ in pyogrio.list_layers(path)]
    summary = read_gpkg_table(path, "segment_summary").columns
    gaps = left_out(path, layers, summary)
    return in_one_line(gaps, "the report") if gaps else None


def render(context: dict) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                              autoescape=select_autoescape(["html", "j2"]),
                              undefined=StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True)
    return environment.get_template(TEMPLATE).render(**context)


def write_report(segmentation: Path, out: Path, threshold: int = 5,
                 previous: Path | None = None) -> Path:
    """Render the report of ``segmentation`` into ``out`` (an .html file), atomically.
    ``previous``: the last run's GeoPackage (``report_context``)."""
    check_threshold(threshold)
    out = Path(out)
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give the report's file name, e.g. "
                         f"{out / 'report.html'}")
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{out}: the report is an HTML file; give a name ending in .html")
    # said before the drawing starts, naming the folder
    existing = next((p for p in out.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(f"{existing}: is a file, so the report cannot go under it")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{existing}: no permission to write there; choose another place "
                         "for the report")
    html = render(report_context(segmentation, threshold, previous))
    with atomic_file(out) as work:
        Path(work).write_text(html, encoding="utf-8")
    return out
