"""Outputs for partners, safe to share.

**Matrices** (``write_partner_export``): CSV files and one XLSX workbook with a notes
sheet. Counts pass through small-number suppression (``share.suppression.suppress_tables``, all the
matrices together, against a reader who sees them all) before anything is written;
percentages are computed from the published counts only. Suppressed cells read ``*``.
Each table has a ``ward_code`` and (when the wards have names) a ``ward_name`` column,
segment columns headed "n – segment name", and the Total row and column. The workbook has
a sheet per matrix (counts, row % and column %) and a ``Notes`` sheet: sources, date,
parameters and the suppression rule. Files are written into a staging folder and moved
into place only when all are complete.

**The GeoPackage for partners** (``write_partner_geopackage``): from a saved segmentation,
only what describes places and groups, never a record or an address:

- the ``segments`` layer (output areas with their segment) and the ``wards`` layer, with
  their styles and descriptions, so they open styled; the wards' totals are those of the
  suppressed matrices;
- the aggregate tables: segment summary and profiles, screening, standardisation,
  centres, variable labels, the address match summary, the reconciliation of the
  segmentation's inputs (without row numbers), the manifest (file names without their
  folders);
- the matrices' counts, suppressed exactly as in the CSV files (NULL where suppressed;
  the percentages are in the CSV files and the workbook);
- the incident profiles, their counts suppressed together with the matrices (a reader
  sees both), and the figures computed from a suppressed count (share, rates, index and
  its interval) left empty with it; as their CSV files give them (segment names, the
  period, whole counts, rates a year), with their sources (``incident_about_*``: file
  name, period, categories, records counted, what the profile leaves out);
- a ``notes`` table: what the file holds, the suppression rule, each incident source in a
  sentence, the output areas without a segment, and what was left out.

Left out: the address points (``addresses``; each address is generalised to its area, and
the areas' address counts are in the suppressed addresses matrix), the address match
report, every record-level table (``incident_records_*``), the area-level incident counts
and rate layers (``incident_counts_*``, ``incident_areas_*``: small numbers per area), the
area values (partner data per area) and anything not listed above. No identifier of a
record or address is kept, so there is none to pseudonymise.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from ..cells import LINE_HEIGHT, text_cell, wrapped_lines, write_csv
from ..errors import InputError
from ..places.incidents import profile_for_readers, words
from ..places.matrices import TOTAL, labelled_matrix, matrix_from_table, percentages
from ..places.steps import stored_period
from ..segment.words import with_descriptions
from ..store.folders import atomic_file, staged_output
from ..store.geopackage import (
    read_gpkg_table,
    write_layer_description,
    write_layer_style,
    write_table,
)
from ..store.names import GPKG_NAME, GPKG_OPTIONS, SEGMENT_LAYER
from .partner_words import (
    PERCENT_SHEETS,
    PERCENT_TITLES,
    WARD_HEADINGS,
    dated_matrix_title,
    incident_note,
    incident_sources,
    left_out_suppressed,
    matrix_title,
    unclassified_rows,
)
from .standing_out import matrix_findings, standing_out
from .suppression import (
    SUPPRESSED,
    check_threshold,
    is_small,
    matrix_total_links,
    structural_links,
    suppress_tables,
)

WORKBOOK = "partner_matrices.xlsx"
PARTNER_GPKG = "segmentation_for_partners.gpkg"
WARD_LAYER = "wards"
# aggregate tables copied as they are (they describe segments, variables and areas' data
# sources, not people or addresses)
AGGREGATE_TABLES = ("segment_summary", "segment_profiles", "screening", "missing_values",
                    "standardisation", "centres", "subcentres", "variable_labels",
                    "diagnostics", "address_match_summary")
# incident profile columns computed from the count: empty where the count is suppressed
FROM_COUNT = ("count", "share_pct", "rate_per_1000_households", "rate_per_1000_residents",
              "index", "index_low_95", "index_high_95", "representation")
# ... and those computed from the study-area total: empty where the total is suppressed
FROM_TOTAL = ("share_pct", "index", "index_low_95", "index_high_95", "representation")


def suppression_rule(threshold: int, shown: str = f"shown as '{SUPPRESSED}'") -> str:
    """The rule in words; ``shown``: how a suppressed count looks in the file."""
    return (f"Counts from 1 to {threshold} are suppressed and {shown} (0 is "
            "shown as 0). Further cells, or totals, are suppressed until a reader who sees "
            "every published table, knows that each line adds up to its total and that a "
            "suppressed count is at least 1, cannot narrow any suppressed count of 1 to "
            f"{threshold} to fewer than {threshold + 1} possible values (checked exactly, "
            "by linear programming over all the tables together). Percentages are "
            "computed from published counts only; a percentage whose count or total is "
            "suppressed is suppressed.")


_RECENT: dict = {}  # the last few suppressions: ``export --for-partners`` needs one twice


def _fingerprint(matrices: dict, threshold: int) -> tuple:
    return (threshold, *((name, tuple(m.index), tuple(m.columns),
                          m.to_numpy(dtype=float).tobytes()) for name, m in matrices.items()))


IN_FULL = ("areas",)  # every area's segment and ward are public: hiding protects nothing
AREAS_IN_FULL = ("The counts of output areas (the Output areas tables) are shown in full, "
                 "small ones too: which segment and ward each output area is in is public "
                 "(the segments layer maps it), so hiding them would protect no one.")


def suppressed_matrices(matrices: dict, threshold: int) -> dict[str, pd.DataFrame]:
    """The matrices' published counts (NaN = suppressed), all suppressed together (those of
    ``IN_FULL`` shown whole; a segment's incidents that stand out hidden only when nothing
    else will do: ``matrix_findings``). The same matrices always give the same result."""
    key = _fingerprint(matrices, threshold)
    if key not in _RECENT:
        if len(_RECENT) >= 4:
            _RECENT.pop(next(iter(_RECENT)))
        _RECENT[key] = suppress_tables(matrices, threshold, structural_links(matrices),
                                       published={name: matrices[name] for name in IN_FULL
                                                  if name in matrices},
                                       findings=matrix_findings(matrices))
    return {name: table.copy() for name, table in _RECENT[key].items()}


def safe_tables(matrices: dict, threshold: int) -> dict[str, pd.DataFrame]:
    """For each matrix: suppressed counts, row % and column %."""
    tables = {}
    for name, counts in suppressed_matrices(matrices, threshold).items():
        tables[name] = counts
        tables[f"{name} row %"] = percentages(counts, "row")
        tables[f"{name} col %"] = percentages(counts, "column")
    return tables


def for_people(table: pd.DataFrame) -> pd.DataFrame:
    """Suppressed cells as '*', whole numbers without a decimal point."""
    whole = table.notna() & (table == table.round())
    shown = table.astype(object).where(~whole, table.fillna(0).astype("int64").astype(object))
    return shown.where(table.notna(), SUPPRESSED)


def partner_table(table: pd.DataFrame, segment_names: dict | None,
                  ward_names: dict | None) -> pd.DataFrame:
    """A published (suppressed) matrix as partners read it: "Ward code", "Ward name",
    "n – name" headings, '*' where suppressed."""
    return labelled_matrix(for_people(table), segment_names or {}, ward_names,
                           code_column="ward_code").rename(columns=WARD_HEADINGS)


def _sheet_names(titles: list[str]) -> list[str]:
    """Excel's sheet names: at most 31 characters, no []:*?/\\ nor ' at either end, unique."""
    names = []
    for title in titles:
        name = " ".join("".join(" " if c in "[]:*?/\\" else c for c in title).split())
        name = name[:31].strip(" '") or "Sheet"
        base, n = name, 2
        while name.lower() in (x.lower() for x in names):
            name = f"{base[:28]} {n}"
            n += 1
        names.append(name)
    return names


def _write_sheet(sheet, title: str, shown: pd.DataFrame, percent: bool,
                 in_full: bool = False) -> None:
    """A titled table: the title, a line on how to read it, the headings (wrapped, kept in
    view with the ward columns while scrolling), counts with thousands separators or
    percentages to one decimal place, suppressed cells marked '*' on grey, the Total row
    in bold."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    sheet.cell(row=1, column=1, value=text_cell(title)).font = Font(bold=True, size=13)
    kind = ("Percentages of the row or column total" if percent else "Counts")
    sheet.cell(row=2, column=1, value=text_cell(
        f"{kind}, in full: output areas are public, so none is suppressed. See the Notes "
        "sheet." if in_full else
        (f"{kind}, from published counts. " if percent else f"{kind}. ")
        + f"{SUPPRESSED} = suppressed (a small count, or one that would reveal a small "
        "count). See the Notes sheet.")).font = Font(italic=True, size=9)
    grey = PatternFill("solid", fgColor="E4E4E4")
    bold = Font(bold=True)
    line = Border(top=Side(style="thin"))
    header = 3
    for j, column in enumerate(shown.columns, start=1):
        cell = sheet.cell(row=header, column=j, value=text_cell(str(column)))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[header].height = 62
    for i, row in enumerate(shown.itertuples(index=False), start=header + 1):
        total_row = i == header + len(shown)
        for j, value in enumerate(row, start=1):
            cell = sheet.cell(row=i, column=j, value=text_cell(value))
            if value == SUPPRESSED:
                cell.fill = grey
                cell.alignment = Alignment(horizontal="right")
            elif isinstance(value, (int, float, np.integer, np.floating)):
                cell.number_format = "0.0" if percent else "#,##0"
            if total_row:
                cell.font, cell.border = bold, line
    wards = sum(c in WARD_HEADINGS.values() for c in shown.columns)
    for j, column in enumerate(shown.columns, start=1):
        letter = sheet.cell(row=header, column=j).column_letter
        if j <= wards:
            longest = max([len(str(v)) for v in shown[column]] + [len(str(column))])
            sheet.column_dimensions[letter].width = min(longest + 2, 28)
        else:
            sheet.column_dimensions[letter].width = 14
    sheet.freeze_panes = sheet.cell(row=header + 1, column=wards + 1)


def _write_notes(sheet, notes_rows: list[tuple[str, str]], title: str = "About these tables",
                 headings: tuple[str, str] = ("Item", "Note")) -> None:
    from openpyxl.styles import Alignment, Font

    title = sheet.cell(row=1, column=1, value=text_cell(title))
    title.font = Font(bold=True, size=13)
    for j, heading in enumerate(headings, start=1):
        sheet.cell(row=2, column=j, value=text_cell(heading)).font = Font(bold=True)
    for i, (item, note) in enumerate(notes_rows, start=3):
        sheet.cell(row=i, column=1, value=text_cell(item)).font = Font(bold=True)
        cell = sheet.cell(row=i, column=2, value=text_cell(note))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(row=i, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[i].height = LINE_HEIGHT * max(wrapped_lines(item, 26),
                                                           wrapped_lines(note, 110))
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 110
    sheet.freeze_panes = "A3"


def write_partner_export(matrices: dict, out_dir: Path, threshold: int = 5,
                         notes: list[tuple[str, str]] | None = None,
                         ward_names: dict | None = None,
                         segment_names: dict | None = None,
                         incidents: dict | None = None) -> list[Path]:
    """Write the suppressed matrices as CSVs and a formatted workbook; returns the files
    written. ``notes``: (item, sentence) rows for the Notes sheet; ``ward_names``: ward code
    -> name; ``segment_names``: segment number -> name (the column headings "n – name");
    ``incidents``: incident profile name -> its source (``incident_sources``: the tables'
    titles name the incidents and their period)."""
    incidents = incidents or {}
    tables = safe_tables(matrices, threshold)
    notes_rows = [("Produced", date.today().isoformat()), *(notes or []),
                  ("Suppression threshold", f"Counts from 1 to {threshold} are suppressed"
                   + (", except the counts of output areas." if IN_FULL[0] in matrices
                      else ".")),
                  ("Suppression rule", suppression_rule(threshold)),
                  *([("Output areas", AREAS_IN_FULL)] if IN_FULL[0] in matrices else [])]
    from openpyxl import Workbook

    book = Workbook()
    _write_notes(book.active, notes_rows)
    book.active.title = "Notes"
    titles, short = [], []
    for name in tables:
        measure, _, kind = name.partition(" ")
        base = matrix_title(measure, incidents)
        dated = dated_matrix_title(measure, incidents, "period not known")
        titles.append(dated + ("," if dated != base else "") + PERCENT_TITLES.get(kind, ""))
        short.append(base.removesuffix(": incidents") + PERCENT_SHEETS.get(kind, ""))
    written = []
    with staged_output(out_dir) as staging:
        for (name, table), title, sheet_name in zip(tables.items(), titles,
                                                    _sheet_names(short)):
            shown = partner_table(table, segment_names, ward_names)
            _write_sheet(book.create_sheet(sheet_name), title, shown,
                         percent=name.endswith("%"), in_full=name.partition(" ")[0] in IN_FULL)
            filename = name.replace(" %", "_pct").replace(" ", "_") + ".csv"
            # with a byte-order mark: Excel then reads the "–" and accents correctly
            write_csv(shown, staging / filename, index=False, encoding="utf-8-sig")
            written.append(Path(out_dir) / filename)
        book.save(staging / WORKBOOK)
        write_csv(pd.DataFrame(notes_rows, columns=["item", "note"]),
                  staging / "notes.csv", index=False, encoding="utf-8-sig")
    return [Path(out_dir) / WORKBOOK, Path(out_dir) / "notes.csv", *written]


# --- the GeoPackage for partners ----------------------------------------------------------

def read_matrices(path: Path, layers: list[str]) -> tuple[dict, dict]:
    """The saved matrices (in the GeoPackage's order, as ``export_step`` reads them) and
    the ward names."""
    matrices, names = {}, {}
    for layer in layers:
        if layer.startswith("matrix_"):
            matrix, ward_names = matrix_from_table(read_gpkg_table(path, layer))
            matrices[layer.removeprefix("matrix_")] = matrix
            names.update(ward_names)
    return matrices, names


def check_one_segmentation(path: Path, layers: list[str], matrices: dict) -> None:
    """Refuse a GeoPackage whose tables were not all made from the segmentation it holds
    (tables copied in from another run, or a step's tables half removed): the ward
    matrices need the ward layer and their areas matrix, whose segments and area counts
    must be the segmentation's; each incident profile must cover its segments. Said in one
    line naming the tables, before anything is published from them."""
    from ..segment.saved import load_segmentation

    segmentation = load_segmentation(path)
    per_segment = segmentation.areas["segment"].dropna().astype(int).value_counts()
    segments = set(per_segment.index)
    wrong, missing = [], []
    if matrices:
        missing += [name for name in ("matrix_areas", "wards")
                    if name not in layers]
        for name, matrix in matrices.items():
            columns = {c for c in matrix.columns if c != TOTAL}
            if columns != segments:
                shown = ", ".join(str(c) for c in sorted(columns, key=str))
                wrong.append(f"matrix_{name} (segments {shown})")
        areas = matrices.get("areas")
        if areas is not None and TOTAL in areas.index and not wrong:
            counted = areas.loc[TOTAL].drop(TOTAL, errors="ignore").astype(float)
            if not counted.reindex(sorted(segments), fill_value=0).equals(
                    per_segment.reindex(sorted(segments)).astype(float)):
                wrong.append("matrix_areas (its areas per segment differ)")
    for layer in layers:
        if layer.startswith("incident_profile_"):
            found = {int(s) for s in read_gpkg_table(path, layer)["segment"].dropna()}
            if found != segments:
                wrong.append(layer)
    if wrong:
        raise InputError(f"{path}: {', '.join(wrong)} were not made from the segmentation "
                         "this GeoPackage holds (tables from another run); run those steps "
                         "again on it (matrices, incidents) before sharing anything")
    if missing:
        raise InputError(f"{path}: the ward matrices are there but {' and '.join(missing)} "
                         "is missing; run the ward matrices step again")


def _profile_counts(path: Path, layers: list[str], matrices: dict) -> dict:
    """Each incident profile's counts per segment, with their total, by (profile table,
    measure), the matrix of the same measure (or None) and the households (or residents)
    the profile compares with, per segment."""
    from ..places.steps import safe_name

    found = {}
    for layer in layers:
        if not layer.startswith("incident_profile_"):
            continue
        profile = read_gpkg_table(path, layer)
        incident = layer.removeprefix("incident_profile_")
        for measure, rows in profile.groupby("measure", sort=False):
            counts = pd.Series(rows["count"].to_numpy(dtype=float),
                               index=[int(s) for s in rows["segment"]])
            counts[TOTAL] = counts.sum()
            base = "households" if "household_share_pct" in rows.columns else "residents"
            people = pd.Series(rows[base].to_numpy(dtype=float), index=counts.index[:-1])
            matrix = f"{incident}_{safe_name(str(measure))}"
            found[(layer, measure)] = (counts, matrix if matrix in matrices else None,
                                       people)
    return found


def partner_tables(path: Path, threshold: int = 5) -> tuple[dict, dict]:
    """The suppressed matrices (exactly as the CSV export publishes them) and the incident
    profiles with their counts suppressed against a reader who also has the matrices:
    ({matrix name: counts}, {profile table: profile})."""
    layers = [name for name, _ in pyogrio.list_layers(path)]
    matrices, _ = read_matrices(path, layers)
    check_one_segmentation(path, layers, matrices)
    published = suppressed_matrices(matrices, threshold) if matrices else {}
    profiles = _profile_counts(path, layers, matrices)
    tables, links, keys = dict(matrices), structural_links(matrices), {}
    findings = []
    for n, ((layer, measure), (counts, matrix, people)) in enumerate(profiles.items()):
        key = f"profile {n}"
        keys[(layer, measure)] = key
        tables[key] = counts
        findings += [(key, segment, None) for segment in standing_out(counts, people)]
        if matrix is not None:
            links += matrix_total_links(matrix, matrices[matrix], key, counts)
    shown = suppress_tables(tables, threshold, links, published=published, findings=findings)
    out = {}
    for layer in dict.fromkeys(layer for layer, _ in profiles):
        profile = read_gpkg_table(path, layer)
        for measure in profile["measure"].unique():
            counts = shown[keys[(layer, measure)]]
            rows = profile["measure"] == measure
            hidden = rows & profile["segment"].astype(int).map(counts).isna()
            profile.loc[hidden, [c for c in FROM_COUNT if c in profile.columns]] = np.nan
            if np.isnan(counts[TOTAL]):
                profile.loc[rows, [c for c in FROM_TOTAL if c in profile.columns]] = np.nan
        out[layer] = profile
    return published, out


def _ward_layer(path: Path, published: dict) -> gpd.GeoDataFrame:
    """The ward layer with each ``<measure>_total`` from the suppressed matrices (empty
    where suppressed; dropped where no matrix has the measure) and the dominant segment's
    share only where its count and the ward's total are both published."""
    wards = gpd.read_file(path, layer=WARD_LAYER, engine="pyogrio")
    for column in [c for c in wards.columns if str(c).endswith("_total")]:
        measure = column.removesuffix("_total")
        if measure in published:
            wards[column] = wards["ward_code"].map(published[measure][TOTAL])
        else:
            wards = wards.drop(columns=column)
    if "dominant_share_pct" in wards.columns:
        weight = (wards["dominant_by"].dropna().iloc[0] if "dominant_by" in wards.columns
                  and wards["dominant_by"].notna().any() else None)
        matrix = published.get(weight)
        if matrix is None:
            wards = wards.drop(columns="dominant_share_pct")
        else:
            body = matrix.drop(index=TOTAL, errors="ignore")
            top = pd.Series({ward: body.loc[ward, segment] if ward in body.index
                             and pd.notna(segment) else np.nan
                             for ward, segment in zip(wards["ward_code"],
                                                      wards["dominant_segment"])})
            known = wards["ward_code"].map(top).notna() & wards["ward_code"].map(
                body[TOTAL]).notna()
            wards["dominant_share_pct"] = wards["dominant_share_pct"].where(known.to_numpy())
    return wards


def _styles_and_descriptions(path: Path, layers: list[str]) -> tuple[dict, dict]:
    with sqlite3.connect(path) as db:
        styles = {}
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'").fetchone():
            for layer, column, qml in db.execute(
                    "SELECT f_table_name, f_geometry_column, styleQML FROM layer_styles "
                    "WHERE useAsDefault ORDER BY update_time"):
                if layer in layers:
                    styles[layer] = (qml, column or "geom")
        descriptions = {layer: text for layer, text in db.execute(
            "SELECT table_name, description FROM gpkg_contents") if layer in layers and text}
    db.close()
    return styles, descriptions


def _without_folders(manifest: dict) -> dict:
    """The manifest with file paths reduced to file names (folders can name people)."""
    manifest = json.loads(json.dumps(manifest))
    if manifest.get("project"):
        manifest["project"] = Path(str(manifest["project"])).name
    for source in manifest.get("inputs", []):
        if isinstance(source, dict) and source.get("file"):
            source["file"] = Path(str(source["file"])).name
    return manifest


def profiles_for_readers(profiles: dict, sources: dict, segment_names: dict,
                         threshold: int = 5) -> tuple[dict, dict]:
    """The suppressed incident profiles as their CSV files give them (segment names, the
    period, whole counts, rates a year: ``places.incidents.profile_for_readers``) and
    their sources (``incident_about_<name>`` tables) by profile name; a source's count of
    records is left empty where it would give a profile's suppressed total, and its counts
    of what the profile leaves out from 1 to ``threshold`` suppressed."""
    tables, shown = {}, {}
    for layer, profile in profiles.items():
        name = layer.removeprefix("incident_profile_")
        about = sources.get(name)
        period, years = stored_period(about)
        tables[layer] = profile_for_readers(profile, segment_names, period or "not known",
                                            years)
        if about:
            total_hidden = profile.groupby("measure")["share_pct"].apply(
                lambda shares: shares.isna().all()).any()
            elsewhere = about.get("records_not_profiled")
            about = {**about, "records_counted": np.nan if total_hidden
                     else about["records_counted"],
                     "note": left_out_suppressed(str(about.get("note") or ""), threshold),
                     **({"records_not_profiled": np.nan} if elsewhere is not None
                        and is_small(elsewhere, threshold) else {})}
            tables[f"incident_about_{name}"] = pd.DataFrame([about])
            shown[name] = about
    return tables, shown


def _notes(threshold: int, left_out: list[str], source: Path,
           more: list[tuple[str, str]] = ()) -> pd.DataFrame:
    rows = [
        ("Produced", date.today().isoformat()),
        ("From", source.name),
        ("Suppression threshold", str(threshold)),
        ("Suppression rule", suppression_rule(threshold, "left empty (NULL), as are the "
                                              "figures computed from them")),
        ("Addresses", "No address points: each address is generalised to its output area, "
         "and address counts appear only in the suppressed addresses matrix."),
        ("Identifiers", "No record or address identifier is included."),
        ("Variables", "The tables of variables (segment_profiles, screening, "
         "standardisation, missing_values) give each one's description beside its code; "
         "centres and subcentres have a column per variable, named by its code: "
         "variable_labels gives each code's description."),
        ("Incident profiles", "Counts per segment over the period named in each row, "
         "suppressed together with the matrices; share, rates (over the whole period, and "
         "a year where it is a year or more) and index are empty where the count is "
         "suppressed. Where each profile's incidents came from is in its incident_about "
         "table and below."),
        ("Places", "Areas, households and residents describe places, not people: the "
         "segments layer shows the segment of every output area, so the segment summary "
         "gives them in full, and the matrices' counts of output areas are in full too; "
         "their households and residents are suppressed like every other count."),
        *more,
        ("Left out", ", ".join(left_out) or "nothing"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def write_partner_geopackage(source: Path, target: Path, threshold: int = 5) -> Path:
    """Write the GeoPackage for partners (see the module docstring) from the saved
    segmentation ``source`` to ``target``, atomically: built in a hidden file beside
    ``target`` and moved in by one rename."""
    from ..segment.saved import load_segmentation

    check_threshold(threshold)
    source = Path(source)
    if source.is_dir():
        source = source / GPKG_NAME
    seg = load_segmentation(source)
    layers = [name for name, _ in pyogrio.list_layers(source)]
    published, profiles = partner_tables(source, threshold)
    _, ward_names = read_matrices(source, layers)

    kept_layers = [SEGMENT_LAYER] + ([WARD_LAYER] if WARD_LAYER in layers else [])
    tables = {name: read_gpkg_table(source, name) for name in AGGREGATE_TABLES
              if name in layers}
    if "reconciliation" in layers:
        reconciliation = read_gpkg_table(source, "reconciliation")
        tables["reconciliation"] = reconciliation.drop(columns=["row", "record_id"],
                                                       errors="ignore")
    tables = {name: with_descriptions(frame, seg.labels) for name, frame in tables.items()}
    tables["manifest"] = pd.DataFrame({"manifest": [json.dumps(_without_folders(
        seg.manifest))]})
    for name, counts in published.items():
        tables[f"matrix_{name}"] = labelled_matrix(counts, seg.segment_names, ward_names)
    readers, sources = profiles_for_readers(profiles, incident_sources(source, layers),
                                            seg.segment_names, threshold)
    tables.update(readers)
    left_out = [name for name in layers if name not in {*kept_layers, *tables,
                                                         "layer_styles"}]
    tables["notes"] = _notes(threshold, left_out, source, [
        *((f"Incidents: {words(name)}", incident_note(about, threshold)) for name, about in
          sources.items()),
        *unclassified_rows(seg, " The segments layer shows them without a segment.")])
    styles, descriptions = _styles_and_descriptions(source, kept_layers)

    with atomic_file(target) as work:
        os.remove(work)  # GDAL creates the GeoPackage itself
        segments = gpd.read_file(source, layer=SEGMENT_LAYER, engine="pyogrio")
        segments.to_file(work, layer=SEGMENT_LAYER, driver="GPKG", engine="pyogrio",
                         dataset_options=GPKG_OPTIONS)
        if WARD_LAYER in kept_layers:
            _ward_layer(source, published).to_file(work, layer=WARD_LAYER, driver="GPKG",
                                                   engine="pyogrio")
        for name, frame in tables.items():
            write_table(work, name, frame)
        for layer, (qml, column) in styles.items():
            write_layer_style(work, layer, qml, column)
        for layer, text in descriptions.items():
            write_layer_description(work, layer, text)
    return target
