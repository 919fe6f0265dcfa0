"""The crews' visit list as a workbook people read and print (``target_list.xlsx``).

The CSV and the GeoPackage keep the list's columns at full precision for analysts; the
workbook shows the same rows to people, formatted like the partner workbook
(``share.export``), every text cell formula-safe (``cells.text_cell``):

- the **Visits** sheet: every address on the list, ordered by ward, output area and rank;
  headings in words with their units, segments as "number – name", priorities in words,
  numbers rounded for reading, widths to fit, the heading row frozen and filterable;
- a sheet per **ward** (where the wards are known), the same columns: each ward's list
  prints on its own;
- the **Columns** sheet: each heading of the list sheets and what it means, generated from
  the same definitions (``crew_columns``) as the sheets, so the two cannot drift apart.

Every list sheet prints on A4 landscape, fitted to the page's width, its heading row
repeated on each page, the sheet (ward) named in the page header and the pages numbered;
on the Visits sheet each ward starts a new page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..cells import LINE_HEIGHT, text_cell, wrapped_lines
from ..share.export import _sheet_names, _write_notes
from ..styles import legend_label
from .reasons import PRIORITIES, flag_words

LIST_SHEET = "Visits"
COLUMNS_SHEET = "Columns"


@dataclass(frozen=True)
class CrewColumn:
    heading: str  # in words, with the unit
    meaning: str
    source: str  # the list's column the values come from (after ``shown_values``)
    decimals: int | None = None  # numbers: rounded to this many places, shown so
    width: int = 12  # at most this many characters wide
    optional: bool = False  # left out when empty on every row


# how the risk model's expected fires are scaled (``risk_model.fit_scaled``)
SCALED = (" The model's expected fires are scaled by one factor to the fires seen in the "
          "window's last years, by the model fitted before them, where the history allows "
          "(target_summary.csv says by how much).")


# the rate the list is ranked by, named for what it is (not the output area's own rate)
EXPECTED_RATE = "Expected fire rate, from its segment's and its own (× the borough's)"
EXPECTED_RATE_MODEL = "Expected fire rate, from the risk model (× the borough's)"


def crew_columns(years: float | None, window: str, model: bool = False,
                 postcodes: bool = False, per_household: bool = False) -> list[CrewColumn]:
    """The columns of the list sheets, in order: headings and meanings. ``years``: the
    incidents' window in years (None when not known: the expected fires are then over the
    whole window); ``window``: the window in words ("" when not known); ``model``: scored
    by the risk model rather than the shrunk rates; ``postcodes``: the model ranked each
    postcode on its own (not its output area's rate); ``per_household``: ranked by expected
    fires per household (postcode points, where the capacity counts households)."""
    period = f"in {window}" if window else "in the incident history"
    area_rate = ("The output area's expected fires per household per year from the risk "
                 "model (fitted on the fires " + period + "), over the borough's rate."
                 if model else "The output area's expected fires per household: its own "
                 "fires per household steadied toward its segment's (the fewer its fires "
                 "and households, the nearer its segment's), so that a few fires in a small "
                 "area do not count for too much, over the borough's. An area with no fires "
                 "of its own can stand above 1 here: it is listed for its segment's rate.")
    if model and postcodes:
        expected = f"Expected fires per year (risk model, fires of {window})"
        how = ("The postcode's expected fires per year: the risk model's expected fires per "
               "household per year for the postcode itself (its own past fires, the fires "
               "around it, its output area's and the census), × its households × the partner "
               "flags' weights. Two postcodes of one output area can differ: the output "
               "area's rate beside it is its area's, not the postcode's." + SCALED)
    elif model:
        expected = f"Expected fires per year (risk model, fires of {window})"
        how = ("The address's expected fires per year: the risk model's expected fires per "
               "household per year for its output area × households at the address × the "
               "partner flags' weights." + SCALED)
    elif years:
        expected = "Expected fires per year" + (f" (from the fires of {window})" if window
                                                else "")
        how = (f"The address's expected fires per year: its output area's fires per "
               f"household {period} (shrunk toward its segment's), divided by the "
               f"{years:.1f} years of the period, × households at the address × the "
               "partner flags' weights.")
    else:
        expected = f"Expected fires over {window or 'the incident history'}"
        how = (f"The address's expected fires over the whole period (its length is not "
               f"known, so not per year): its output area's fires per household {period} "
               "(shrunk toward its segment's) × households at the address × the partner "
               "flags' weights.")
    bands = "; ".join(f"{n} {label}" for n, label in PRIORITIES.items())
    return [
        CrewColumn("Rank", "Position in the whole list (1 = the most expected fires "
                   + ("per household: the capacity counts households)." if per_household
                      else "at the address)."), "rank", 0, 6),
        CrewColumn("Priority", "The address's expected fires per household over the "
                   f"borough's rate: {bands}.", "priority_words", width=14),
        CrewColumn("Ward", "The ward of the address's output area.", "ward", width=16,
                   optional=True),
        CrewColumn("Output area", "The census output area the address is in (its code).",
                   "area_code", width=12),
        CrewColumn("Postcode (households)", "The postcode, with the households it is "
                   "given (its share of its output area's households).", "address_shown",
                   width=22) if per_household else
        CrewColumn("Address", "The address as the gazetteer gives it (its ID).",
                   "address_shown", width=12),
        CrewColumn("Households", "Households at the postcode (its share of its output "
                   "area's households)." if per_household else "Households at the address, "
                   "as the gazetteer gives them (empty where not known: the address then "
                   "counts as one).", "households", 0, 11, optional=True),
        CrewColumn(expected, how, "expected", 4, 12),
        CrewColumn("Segment", "The output area's segment (number – name).", "segment_words",
                   width=22),
        CrewColumn(f"Fires in the output area {period}",
                   f"Fires recorded in the address's output area {period}.", "area_fires",
                   0, 11),
        CrewColumn("Segment's fire rate (× the borough's)", "The segment's fires per "
                   "household over the borough's (1 = the same, 2 = twice).",
                   "segment_ratio", 2, 10),
        CrewColumn(EXPECTED_RATE_MODEL if model else EXPECTED_RATE, area_rate, "area_ratio",
                   2, 12),
        CrewColumn("Output area's own fire rate (× the borough's)", "The output area's own "
                   f"fires per household {period} over the borough's (0 where it had none).",
                   "own_ratio", 2, 10),
        CrewColumn("Partner flags", "What partners said of the household (from the flag "
                   "file).", "flags_words", width=16, optional=True),
        CrewColumn("Flags' weight (×)", "The partner flags' weights multiplied (1 without "
                   "flags).", "multiplier", 2, 8, optional=True),
        CrewColumn("Last visit", "Date of the last recorded visit (empty: none on record).",
                   "last_visit", width=11, optional=True),
        CrewColumn("Why on the list", "The reasons in words, from the figures on the row.",
                   "why", width=56),
    ]


def shown_values(crews: pd.DataFrame, segment_names: dict) -> pd.DataFrame:
    """The list's rows as people read them: ward names (codes where a ward has no name),
    "number – name" segments, priorities and flags in words, the address (with its
    households for postcode points)."""
    expected = next(c for c in ("expected_fires_per_year", "expected_fires") if c in crews)
    flags = crews["flags"].fillna("").astype(str)
    return crews.assign(
        ward=ward_words(crews),
        address_shown=crews["address"] if "address" in crews else crews["address_id"],
        expected=crews[expected],
        segment_words=[legend_label(int(s), segment_names.get(int(s), "")) if pd.notna(s)
                       else "" for s in crews["segment"]],
        priority_words=[f"{p} – {PRIORITIES[p]}" for p in crews["priority"]],
        flags_words=["; ".join(flag_words(f) for f in s.split(";")) if s else ""
                     for s in flags],
        multiplier=crews["multiplier"].where(flags != ""))


def layer_fields(crews: pd.DataFrame, years: float | None, window: str, model: bool = False,
                 postcodes: bool = False) -> dict[str, tuple[str, int | None]]:
    """The visits layer's fields in words with the decimals they are shown to: the
    workbook's headings (``crew_columns``) for the fields that are its columns, so that the
    map's table and the crews' sheets say the same."""
    per_household = "address" in crews
    expected = next(c for c in ("expected_fires_per_year", "expected_fires") if c in crews)
    columns = {c.source: c for c in crew_columns(years, window, model, postcodes,
                                                 per_household)}
    fields = {field: (columns[source].heading, columns[source].decimals) for field, source in (
        ("rank", "rank"), ("area_code", "area_code"), ("households", "households"),
        (expected, "expected"), ("area_fires", "area_fires"),
        ("segment_ratio", "segment_ratio"), ("area_ratio", "area_ratio"),
        ("own_ratio", "own_ratio"),
        ("multiplier", "multiplier"), ("last_visit", "last_visit"), ("why", "why"))}
    fields.update({
        "ward_code": ("Ward code", None), "ward_name": ("Ward", None),
        "address_id": ("Postcode" if per_household else "Address (gazetteer ID)", None),
        "address": ("Postcode (households)", None), "flags": ("Partner flags", None),
        "segment": ("Segment", 0), "priority": ("Priority (1 = very high)", 0),
        "priority_label": ("Priority in words", None)})
    if crews["households"].isna().all():
        fields["households"] = ("Households (not known: each address counts as one)", 0)
    return {name: fields[name] for name in crews.columns if name in fields}


def area_layer_fields(unit: str, window: str, per_year: bool, postcodes: bool = False
                      ) -> dict[str, tuple[str, int | None]]:
    """The target areas layer's fields in words with the decimals they are shown to.
    ``unit``: what the rates are per ("household", or "address" without household counts);
    ``window``: the incidents' period in words; ``per_year``: the expected fires are per
    year (the window's length is known); ``postcodes``: the list holds postcode points."""
    period = f"in {window}" if window else "in the incident history"
    year = " per year" if per_year else f" over {window or 'the incident history'}"
    places = "postcodes" if postcodes else "addresses"
    return {
        "area_code": ("Output area", None), "segment": ("Segment", 0),
        "fires": (f"Fires {period}", 0),
        "households": ("Households" if unit == "household" else "Addresses", 0),
        "segment_rate": (f"Segment's fires per {unit} {period}", 4),
        "own_rate": (f"Output area's own fires per {unit} {period}", 4),
        "weight": ("Weight of the output area's own rate (0 to 1: the rest is its "
                   "segment's)", 2),
        "shrunk_rate": (f"Expected fires per {unit} {period}, from its segment's rate and "
                        "its own", 4),
        "borough_rate": (f"Borough's fires per {unit} {period}", 4),
        "rate_per_1000_households": (f"Expected fires per 1,000 {unit}s{year}", 2),
        "visits": (f"{places.capitalize()} on the visit list", 0),
        "expected_fires_covered": (f"Expected fires{year} at the {places} on the list", 2),
        "ward_code": ("Ward code", None), "ward_name": ("Ward", None)}


def list_table(crews: pd.DataFrame, segment_names: dict, years: float | None, window: str,
               model: bool = False, postcodes: bool = False
               ) -> tuple[pd.DataFrame, list[CrewColumn]]:
    """The list sheet's table (headings in words, numbers rounded once from the list's
    full precision) and its columns: the optional ones only where a row has a value."""
    values = shown_values(crews, segment_names)
    per_household = "address" in crews  # postcode points: the capacity counts households
    columns = [c for c in crew_columns(years, window, model, postcodes, per_household)
               if not c.optional
               or values[c.source].fillna("").astype(str).str.strip().ne("").any()]
    table = pd.DataFrame({c.heading: values[c.source].round(c.decimals)
                          if c.decimals is not None else values[c.source].fillna("")
                          for c in columns})
    for c in columns:  # whole numbers as integers (no "11.0")
        if c.decimals == 0 and table[c.heading].notna().all():
            table[c.heading] = table[c.heading].astype("int64")
    return table, columns


def _number_format(decimals: int | None) -> str | None:
    return None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")


def _fit_to_page_width(sheet) -> None:
    """Printed on A4 landscape, as many pages down as needed, fitted to one page across."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4


def _write_list(sheet, table: pd.DataFrame, columns: list[CrewColumn], page_header: str,
                breaks=()) -> None:
    """One list sheet: the heading row (bold, wrapped, frozen, with a filter), the rows
    (text wrapped, each row as tall as its longest cell), widths to fit; printed A4
    landscape fitted to the width, the heading row on every page, a page break before each
    row in ``breaks`` (0 = the first row of the table)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break

    widths = []
    for column in columns:
        longest = max([len(str(v)) for v in table[column.heading]] + [6])
        widths.append(min(max(longest + 2, min(len(column.heading), 10) + 2), column.width))
    wrapped = Alignment(wrap_text=True, vertical="top")
    for j, (column, width) in enumerate(zip(columns, widths), start=1):
        cell = sheet.cell(row=1, column=j, value=text_cell(column.heading))
        cell.font = Font(bold=True)
        cell.alignment = wrapped
        sheet.column_dimensions[get_column_letter(j)].width = width
    sheet.row_dimensions[1].height = LINE_HEIGHT * max(wrapped_lines(c.heading, w)
                                                for c, w in zip(columns, widths))
    for i, row in enumerate(table.itertuples(index=False), start=2):
        lines = 1
        for j, (value, column) in enumerate(zip(row, columns), start=1):
            cell = sheet.cell(row=i, column=j, value=text_cell(None if pd.isna(value)
                                                              else value))
            number = _number_format(column.decimals)
            if number:
                cell.number_format = number
            else:
                lines = max(lines, wrapped_lines(cell.value, widths[j - 1]))
            cell.alignment = wrapped
        sheet.row_dimensions[i].height = LINE_HEIGHT * lines
    last = get_column_letter(len(columns))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(table) + 1}"
    sheet.print_title_rows = "1:1"
    _fit_to_page_width(sheet)
    sheet.print_options.gridLines = True
    sheet.oddHeader.left.text = page_header.replace("&", "&&")
    sheet.oddHeader.right.text = "&A"
    sheet.oddFooter.right.text = "Page &P of &N"
    for row in breaks:
        if row > 0:
            sheet.row_breaks.append(Break(id=row + 1))


def ward_words(crews: pd.DataFrame) -> pd.Series:
    """Each row's ward by name (its code where the ward has no name; "" when not known)."""
    named = crews["ward_name"].fillna("").astype(str).str.strip() != ""
    return crews["ward_name"].astype(object).where(named, crews["ward_code"]).fillna(
        "").astype(str)


def ward_blocks(crews: pd.DataFrame) -> list[tuple[str, list[int]]]:
    """The list's wards in its order, each with the positions of its rows (one block of
    the whole list when no ward is known)."""
    ward = ward_words(crews)
    if (ward == "").all():
        return [("", list(range(len(crews))))]
    blocks: dict[str, list[int]] = {}
    for i, name in enumerate(ward):
        blocks.setdefault(name or "ward not known", []).append(i)
    return list(blocks.items())


def write_crew_workbook(crews: pd.DataFrame, path: Path, segment_names: dict,
                        years: float | None, window: str, title: str,
                        model: bool = False, postcodes: bool = False) -> None:
    """The crews' workbook (see the module's docstring) at ``path``. ``title``: the page
    header of every printed list, e.g. "Home fire safety visits for Camden"."""
    from openpyxl import Workbook

    table, columns = list_table(crews, segment_names, years, window, model, postcodes)
    blocks = ward_blocks(crews)
    wards = [name for name, _ in blocks if name]
    names = _sheet_names([LIST_SHEET, COLUMNS_SHEET, *wards])
    book = Workbook()
    sheet = book.active
    sheet.title = names[0]
    starts = [rows[0] for _, rows in blocks]
    _write_list(sheet, table, columns, title, starts if wards else ())
    about = book.create_sheet(names[1])
    _write_notes(about, [(c.heading, c.meaning) for c in columns],
                 title="The columns of the visit lists", headings=("Column", "Meaning"))
    _fit_to_page_width(about)
    for (ward, rows), name in zip([b for b in blocks if b[0]], names[2:]):
        _write_list(book.create_sheet(name), table.iloc[rows], columns, f"{title}: {ward}")
    book.save(path)
