"""What each page of the ward atlas says, as text: one page per ward, figures safe to share.

``ward_pages(path, threshold)`` reads a saved segmentation that has its ward x segment
matrices and returns, for every ward (sorted by name), the rows of its table (one per
segment and an "All segments" row: households and residents with their shares of the
ward, and each incident matrix's count), a one-line summary, and the sources and
suppression notes printed on every page, and the key findings its first page opens with
(``share.findings``: the same sentences as the report's and the workbook's Notes, or why
there are none). The counts are those the partner export
publishes (``export.partner_tables``: small numbers suppressed, with secondary
suppression against a reader who sees every matrix), so a page never shows a count from 1
to the threshold; shares are computed from published counts only. The QGIS print layout
(``qgis_plugin/ward_atlas.py``) only lays these strings out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyogrio

from ..errors import InputError
from ..places.incidents import measure_title
from ..places.matrices import TOTAL, percentages
from ..places.steps import gpkg_path, safe_name
from ..segment.area_data import input_name
from ..segment.saved import load_segmentation
from ..share.export import partner_tables
from ..share.findings import Finding, key_findings, no_incident_findings
from ..share.partner_words import incident_sources
from ..share.suppression import SUPPRESSED, check_threshold
from ..store.geopackage import read_gpkg_table
from ..styles import legend_label, numbered_by_deprivation
from .figures import percent
from .gaps import broken, in_one_line, left_out

WARD_LAYER = "wards"
PEOPLE = ("households", "residents")  # the matrices shown as counts and shares
NOT_INCIDENTS = {"areas", "households", "residents", "addresses"}
ALL_SEGMENTS = "All segments"
HEADING_LENGTH = 30  # an incident column's heading: its categories up to this, else its name
NO_WARDS = ("{name}: no wards yet; run the ward matrices step first (Processing: 'Ward x "
            "segment matrices', or `community-safety matrices`), then make the atlas")


@dataclass
class Column:
    key: str  # the matrix (``households``) or its share (``households_pct``)
    heading: str  # in words, for the page


@dataclass
class WardPages:
    """The atlas's text. ``cells[ward_code]``: one list of strings per row (segments 1..k,
    then "All segments"), one string per column of ``columns``."""

    name: str  # the segmentation's name
    threshold: int
    segments: dict[int, str]  # number -> name
    wards: list[tuple[str, str]]  # (code, name), in page order
    columns: list[Column]
    cells: dict[str, list[list[str]]]
    summaries: dict[str, str]  # ward code -> one sentence about the ward
    sources: list[str] = field(default_factory=list)
    suppression: str = ""
    produced: str = ""
    # ward code -> its segments with output areas in it (0: areas without data), for the
    # map's legend
    present: dict[str, list[int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # the key findings, in order
    no_findings: str | None = None  # why no segment is named for its incidents
    numbering: str = "Segments are numbered from least to most deprived."

    @property
    def row_labels(self) -> list[str]:
        return [legend_label(n, name) for n, name in sorted(self.segments.items())] + [
            ALL_SEGMENTS]

    def counts_shown(self) -> list[str]:
        """Every count cell of every page (not the shares): for checking suppression."""
        keys = [i for i, c in enumerate(self.columns) if not c.key.endswith("_pct")]
        return [row[i] for rows in self.cells.values() for row in rows for i in keys]


def _count(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    return f"{int(round(value)):,}"


def _share(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return SUPPRESSED
    return f"{percent(value)}%"


def _incident_words(path: Path, layers: list[str], published: dict) -> tuple[dict, list]:
    """Each incident matrix's heading in words ("Fires", "Anti-social behaviour") and one
    source line per incident profile (file, period and categories where known)."""
    headings, sources = {}, []
    for name, about in incident_sources(path, layers).items():
        layer = f"incident_profile_{name}"
        what, categories = name.replace("_", " "), "all"
        if about is not None:  # its categories, where short enough for a column's heading
            categories = " and ".join(c.strip() for c in
                                      str(about.get("categories", "all")).split(";"))
            if categories != "all" and len(categories) <= HEADING_LENGTH:
                what = categories
        what = what[:1].upper() + what[1:]
        if layer not in layers:  # its source without its profile: a gap said in the sources
            continue
        measures = read_gpkg_table(path, layer)["measure"].dropna().unique()
        for measure in measures:
            matrix = f"{name}_{safe_name(str(measure))}"
            if matrix in published:
                headings[matrix] = measure_title(what, str(measure))
        if about is not None:
            period = str(about.get("period", "") or "")
            line = f"{what}: {about.get('source', '')}"
            if period and period != "not known":
                line += f", {period}"
            if categories not in ("all", what):  # not said by its heading
                line += f", categories: {about.get('categories')}"
            sources.append(line)
        else:
            sources.append(f"{what} (incident profile '{name}')")
    return headings, sources


def _atlas_gaps(path: Path, layers: list[str], summary_columns) -> list[dict]:
    """The report's gaps (``report_gaps``) of the tables the atlas reads."""
    return [g for g in left_out(path, layers, summary_columns)
            if g["table"].startswith(("matrix_", "incident_"))]


def missing_for_atlas(path: Path) -> str | None:
    """One line naming each table an atlas column needs that the GeoPackage lacks (None
    when nothing is), said by Processing and the dock after the export (the PDF's sources
    say it too)."""
    path = gpkg_path(path)
    layers = [name for name, _ in pyogrio.list_layers(path)]
    gaps = _atlas_gaps(path, layers, read_gpkg_table(path, "segment_summary").columns)
    return in_one_line(gaps, "the ward atlas") if gaps else None


def ward_pages(path: Path, threshold: int = 5) -> WardPages:
    """The atlas's pages for a saved segmentation with ward matrices (see the module)."""
    check_threshold(threshold)
    path = gpkg_path(path)
    seg = load_segmentation(path)
    layers = [name for name, _ in pyogrio.list_layers(path)]
    if WARD_LAYER not in layers or not any(n.startswith("matrix_") for n in layers):
        raise InputError(NO_WARDS.format(name=path.name))
    gaps = _atlas_gaps(path, layers, seg.summary.columns)
    if broken(gaps, layers):  # nothing is published from a table that cannot be read whole
        raise InputError(in_one_line(broken(gaps, layers), f"{path.name}: the ward atlas"))
    published, _ = partner_tables(path, threshold)
    people = [m for m in PEOPLE if m in published]  # residents alone without households
    if not people:
        raise InputError(NO_WARDS.format(name=path.name))
    wards = pyogrio.read_dataframe(path, layer=WARD_LAYER, read_geometry=False)
    if wards.empty:
        raise InputError(NO_WARDS.format(name=path.name))
    names = (wards["ward_name"].fillna(wards["ward_code"]).astype(str)
             if "ward_name" in wards.columns else wards["ward_code"].astype(str))
    order = sorted(zip(wards["ward_code"].astype(str), names), key=lambda w: (w[1], w[0]))

    segments = dict(sorted(seg.segment_names.items()))
    headings, incident_sources = _incident_words(path, layers, published)
    columns = [column for m in people
               for column in (Column(m, m.capitalize()), Column(f"{m}_pct", "Share"))]
    columns += [Column(matrix, heading) for matrix, heading in headings.items()]
    shares = {m: percentages(published[m], "row") for m in people}
    rows = [*segments, TOTAL]

    without = _areas_without_data(path, layers, seg.areas["segment"])
    areas = published.get("areas", pd.DataFrame())
    present = {code: [int(s) for s in segments if code in areas.index and s in areas.columns
                      and areas.at[code, s] > 0] + ([0] if without.get(code) else [])
               for code, _ in order}
    cells, summaries = {}, {}
    for code, _ in order:
        table = []
        for row in rows:
            line = []
            for column in columns:
                if column.key.endswith("_pct"):
                    matrix = shares[column.key.removesuffix("_pct")]
                    line.append(_share(matrix.at[code, row] if code in matrix.index
                                       else math.nan))
                else:
                    matrix = published[column.key]
                    line.append(_count(matrix.at[code, row] if code in matrix.index
                                       else 0.0))
            table.append(line)
        cells[code] = table
        summaries[code] = _summary(code, published, shares, segments, without.get(code, 0))

    inputs = [input_name(i) for i in seg.manifest.get("inputs", []) if isinstance(i, dict)]
    sources = [f"Segments: {seg.name}" + (f" ({', '.join(inputs)})" if inputs else ""),
               *incident_sources, *(f"left out: {g['section']} ({g['why']})" for g in gaps)]
    suppression = (f"Counts of 1 to {threshold} suppressed, shown as {SUPPRESSED}; further "
                   "counts suppressed so none can be worked out from the totals; shares "
                   "from published counts only.")
    findings = key_findings(path, threshold)
    return WardPages(name=seg.name, threshold=threshold, segments=segments, wards=order,
                     columns=columns, cells=cells, summaries=summaries, sources=sources,
                     suppression=suppression, produced=date.today().isoformat(),
                     present=present,
                     findings=findings, no_findings=no_incident_findings(path, findings),
                     numbering=("Segments are numbered from least to most deprived."
                                if numbered_by_deprivation(seg.manifest) else
                                "The segment numbers do not rank deprivation (no deprivation "
                                "measure was used)."))


def _areas_without_data(path: Path, layers: list[str], segments: pd.Series
                        ) -> dict[str, int]:
    """Ward code -> how many of its output areas have no segment (no data), from the
    areas' wards the matrices step stored (none known without them)."""
    if "area_wards" not in layers:
        return {}
    wards = read_gpkg_table(path, "area_wards").set_index("area_code")["ward_code"]
    unclassified = segments.index[segments.isna()]
    return wards.reindex(unclassified).dropna().astype(str).value_counts().to_dict()


def _summary(code: str, published: dict, shares: dict, segments: dict,
             without: int = 0) -> str:
    """"6,618 households and 13,404 residents in 54 output areas. Most households: 2 –
    Professional residents owning their homes with cars (62.8%)." (published figures);
    with output areas ``without`` data: "in 28 output areas with data, 3 without"."""
    people = [m for m in PEOPLE if m in published]
    parts = [" and ".join(f"{_count(published[m].at[code, TOTAL])} {m}" for m in people)]
    if "areas" in published:
        parts.append(f" in {_count(published['areas'].at[code, TOTAL])} output areas"
                     + (f" with data, {without:,} without" if without else ""))
    text = "".join(parts) + "."
    main = people[0]
    body = published[main].loc[code].drop(TOTAL).dropna()
    if len(body) and body.max() > 0:
        top = body.idxmax()
        text += (f" Most {main}: {legend_label(int(top), segments[int(top)])} "
                 f"({_share(shares[main].at[code, top])}).")
    return text


def counts_above_threshold(pages: WardPages) -> bool:
    """True when no count shown on any page lies from 1 to the threshold."""
    for text in pages.counts_shown():
        if text == SUPPRESSED:
            continue
        value = int(text.replace(",", ""))
        if 1 <= value <= pages.threshold:
            return False
    return True


def frame_of(pages: WardPages, code: str) -> pd.DataFrame:
    """One ward's table as a frame (rows "n – name" and "All segments"), for reading."""
    return pd.DataFrame(pages.cells[code], index=pages.row_labels,
                        columns=[c.heading for c in pages.columns])
