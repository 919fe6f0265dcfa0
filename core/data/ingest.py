"""Bring in the data: output-area boundaries and partner tables keyed by area code.

Partner files are messy. Tables are read as text and cleaned here (a column whose every
cell is a plain number is read as numbers at once, the same values, without holding its
text):

- encodings: UTF-8, UTF-8 with a byte-order mark, Windows-1252 (tried in that order);
- separators: ``,`` ``;`` tab or ``|``, sniffed from the header line;
- numbers: thousands separators (``1,234``), ``%`` and ``£`` signs, surrounding quotes and
  spaces are removed; with ``;`` separators a decimal comma (``12,5``) is read as 12.5;
- suppressed cells ``*``, ``-``, ``..``, ``c``, ``x``, ``:`` and blanks are missing values;
- a numeric column with a few cells that are not numbers (``abc``, ``inf``, ``1e309``) keeps
  its good cells: the bad ones become missing, are counted per column and named in the
  reconciliation (row and text); a column that is mostly text is not a variable, and says so;
- stray quotes: a file whose quotes do not pair up is re-read with quotes as plain text;
- a line with too many or too few fields (read by ``text_tables``, which keeps the area
  code such a line holds), or without an area code, is *unreadable*;
- duplicate area codes: rows identical to an earlier row are *duplicate* and skipped;
  rows that repeat a code with different values stop the run, naming the code and rows.

Every input row ends in the reconciliation table with one status: ``used``,
``outside the area`` (a well-formed code of the same kind that is not in the boundaries),
``unmatched`` (not a code of that kind), ``duplicate`` or ``unreadable``. Areas in the
boundaries that a table does not cover are listed with status ``no data``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError
from .crs import BNG, check_declared_crs, check_in_great_britain, parse_crs
from .text_tables import clean_codes, codes_on_lines, read_excel_text, read_text_table

SUPPRESSED = frozenset({"", "*", "-", "..", "c", "x", ":", "n/a", "na"})
STATUS_USED = "used"
STATUS_OUTSIDE = "outside the area"
STATUS_UNMATCHED = "unmatched"
STATUS_DUPLICATE = "duplicate"
STATUS_UNREADABLE = "unreadable"
STATUS_NO_DATA = "no data"
RECONCILIATION_COLUMNS = ["source", "row", "area_code", "status", "detail"]

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_DOTTED_THOUSANDS_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")


@dataclass
class AreaTable:
    """One partner table, cleaned: numeric values by area code, and what became of each row."""

    name: str
    path: Path
    code_column: str
    values: pd.DataFrame  # index: area code (unique); columns: numeric variables
    rows: pd.DataFrame  # one per input line: row, area_code, status, detail
    suppressed_cells: dict = field(default_factory=dict)  # column -> count
    skipped_columns: dict = field(default_factory=dict)  # column -> why it is not numeric
    bad_cells: dict = field(default_factory=dict)  # column -> count of cells left missing
    source: str = ""  # how messages name it: the file, and its sheet ("book.xlsx, sheet Tenure")
    # counts the same in every area, made rates (counts_to_rates): column -> (count, total)
    constant_counts: dict = field(default_factory=dict)

    @property
    def named(self) -> str:
        return self.source or self.path.name


def sheet_title(file_name: str, sheet=None) -> str:
    """A table as messages, reconciliations and lists of inputs name it: the file, and the
    sheet where one of a workbook's sheets is meant ("book.xlsx, sheet Tenure")."""
    return f"{file_name}, sheet {sheet}" if sheet is not None and sheet != "" else file_name


# ----------------------------------------------------------------------------- boundaries


def reproject_to_bng(frame: gpd.GeoDataFrame, source: str, fix: str | None = None
                     ) -> gpd.GeoDataFrame:
    """Reproject to British National Grid, refusing coordinates that contradict their CRS.
    ``fix``: how the user sets the right CRS for this input (default: the project file's
    ``crs`` under [boundaries])."""
    if frame.crs is None:
        raise InputError(
            f"{source}: the layer has no coordinate reference system; set one "
            "(British National Grid is EPSG:27700) and try again"
            + (f": {fix}" if fix else "")
        )
    if len(frame) == 0:
        return frame.to_crs(BNG)
    check_declared_crs(frame.total_bounds, frame.crs, source, fix)
    out = frame.to_crs(BNG)
    check_in_great_britain(out.total_bounds, frame.crs, source)
    return out


def read_boundaries(
    path: Path, code_column: str, layer: str | None = None, crs: str | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Area polygons from any OGR format, in EPSG:27700, one row per unique area code.

    ``crs``: the CRS the coordinates are really in, assigned over the file's own label (a
    council file with metres labelled as degrees); the usual checks then apply to it.
    Returns the areas (index: area code) and the boundary rows of the reconciliation table.
    """
    path = Path(path)
    source = path.name if layer is None else f"{path.name} (layer {layer})"
    if not path.exists():
        raise InputError(f"{path}: boundary file not found")
    frame = read_vector(path, layer, "boundary layer")
    if crs is not None:
        source = f"{source} with the CRS set to {crs}"
        frame = frame.set_crs(parse_crs(crs, source), allow_override=True)
    return boundaries_from_frame(frame, code_column, source)


def read_vector(path: Path, layer: str | None, what: str) -> gpd.GeoDataFrame:
    """A vector layer from any OGR format. A file holding several layers needs the layer
    named: taking the first would be a guess, so the layers are listed instead."""
    path = Path(path)
    try:
        if layer is None:
            import pyogrio

            layers = [name for name, _ in pyogrio.list_layers(path)]
            if len(layers) > 1:
                raise InputError(f"{path.name}: holds {len(layers)} layers "
                                 f"({', '.join(layers)}); name the {what} to use")
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except InputError:
        raise
    except Exception as err:  # OGR's messages vary by driver; name the file
        where = path.name if layer is None else f"{path.name} (layer {layer})"
        raise InputError(f"{where}: cannot be read as a {what} ({err})") from err


def boundaries_from_frame(frame: gpd.GeoDataFrame, code_column: str, source: str,
                          fix: str | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The checks of ``read_boundaries`` on polygons already in memory (e.g. a QGIS layer;
    ``fix``: how its CRS is corrected, as ``check_declared_crs``)."""
    if code_column not in frame.columns:
        raise InputError(
            f"{source}: no column '{code_column}' for the area code; columns are "
            f"{', '.join(c for c in frame.columns if c != 'geometry')}"
        )
    if len(frame) == 0:
        raise InputError(f"{source}: the layer has no features")
    frame = reproject_to_bng(frame, source, fix)
    codes = clean_codes(frame[code_column].astype("string").fillna(""))
    frame[code_column] = codes
    rows = pd.DataFrame(
        {"source": source, "row": np.arange(1, len(frame) + 1), "area_code": codes,
         "status": STATUS_USED, "detail": ""}
    )
    no_code = codes == ""
    rows.loc[no_code, ["status", "detail"]] = [STATUS_UNREADABLE, "feature has no area code"]
    no_geometry = frame.geometry.isna() | frame.geometry.is_empty
    rows.loc[no_geometry & ~no_code, ["status", "detail"]] = [STATUS_UNREADABLE, "no geometry"]
    duplicated = codes.duplicated(keep=False) & ~no_code
    if duplicated.any():
        dupes = sorted(set(codes[duplicated]))
        raise InputError(
            f"{source}: area codes appear more than once in column '{code_column}': "
            f"{', '.join(dupes[:10])}{' ...' if len(dupes) > 10 else ''}"
        )
    keep = ~(no_code | no_geometry)
    areas = frame.loc[keep].copy()
    invalid = ~areas.geometry.is_valid
    if invalid.any():
        areas.loc[invalid, "geometry"] = areas.geometry[invalid].make_valid()
        rows.loc[keep.to_numpy().nonzero()[0][invalid.to_numpy()], "detail"] = (
            "invalid geometry repaired"
        )
    areas = areas.set_index(code_column)
    areas.index.name = "area_code"
    return areas, rows


# ----------------------------------------------------------------------------- tables


def parse_numbers(text: pd.Series, decimal_comma: bool = False) -> tuple[pd.Series, pd.Series,
                                                                         pd.Series]:
    """Numbers from partner-file text: (values, suppressed mask, unreadable mask).

    Plain numbers convert in one pass; only the cells that do not go through the cleaning.
    """
    if text.dtype.kind in "iuf":  # read as numbers already (``read_text_table``)
        values = text.astype("float64")
        messy = ~np.isfinite(values)
        return values.where(~messy), pd.Series(False, index=text.index), messy
    text = text.astype(str)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    suppressed = pd.Series(False, index=text.index)
    unreadable = pd.Series(False, index=text.index)
    messy = values.isna() | ~np.isfinite(values)
    if messy.any():
        sub_values, sub_suppressed, sub_unreadable = _parse_messy(text[messy], decimal_comma)
        values[messy] = sub_values
        suppressed[messy] = sub_suppressed.to_numpy(dtype=bool)
        unreadable[messy] = sub_unreadable.to_numpy(dtype=bool)
    return values, suppressed, unreadable


def _parse_messy(text: pd.Series, decimal_comma: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    cleaned = text.str.strip().str.strip("\"'").str.strip()
    suppressed = cleaned.str.lower().isin(SUPPRESSED)
    cleaned = cleaned.str.replace(r"[%£\s]", "", regex=True)
    thousands = cleaned.str.match(_THOUSANDS)
    cleaned = cleaned.where(~thousands, cleaned.str.replace(",", "", regex=False))
    if decimal_comma:
        dotted = cleaned.str.match(_DOTTED_THOUSANDS_DECIMAL_COMMA)  # 1.234,5
        cleaned = cleaned.where(~dotted, cleaned.str.replace(".", "", regex=False))
        comma = cleaned.str.match(_DECIMAL_COMMA) | dotted
        cleaned = cleaned.where(~comma, cleaned.str.replace(",", ".", regex=False))
    values = pd.to_numeric(cleaned.where(~suppressed), errors="coerce").astype("float64")
    values[~np.isfinite(values.fillna(0))] = np.nan
    unreadable = values.isna() & ~suppressed
    return values, suppressed, unreadable


def read_table(
    path: Path,
    code_column: str,
    columns: Sequence[str] | None = None,
    name: str | None = None,
    sheet=None,
) -> AreaTable:
    """A partner table (CSV or XLSX) as numbers by area code, with every row accounted for.

    ``columns``: the numeric columns wanted. When given, a cell in one of them that is
    neither a number nor a suppression mark stops the run naming file, row and column. When
    not given, every column whose cells are all numbers or suppressed is taken, and the others
    are listed in ``skipped_columns``.
    """
    path = Path(path)
    spreadsheet = path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}
    # two sheets of one workbook are two tables: each named with its sheet, in messages and
    # in the reconciliation
    source = sheet_title(path.name, sheet if spreadsheet else None)
    name = name or path.stem
    if not path.exists():
        raise InputError(f"{path}: table not found")
    if spreadsheet:
        frame, line_numbers, bad = read_excel_text(path, source, sheet)
        decimal_comma = False
    else:
        frame, line_numbers, bad, separator = read_text_table(path, source, [code_column])
        decimal_comma = separator == ";"
    return table_from_text(frame, line_numbers, bad, code_column, columns, name, source, path,
                           decimal_comma, codes_on_lines(path, code_column, bad)
                           if bad and not spreadsheet else None)


def table_from_text(frame: pd.DataFrame, line_numbers: np.ndarray, bad: dict, code_column: str,
                    columns: Sequence[str] | None, name: str, source: str, path: Path,
                    decimal_comma: bool = False, bad_codes: dict | None = None) -> AreaTable:
    """Clean a table held as text (one row per input row, numbered ``line_numbers``);
    ``bad``: the lines that could not be read as rows (line -> why), ``bad_codes``: the area
    code read on any of them (line -> code), kept in the reconciliation."""
    if code_column not in frame.columns:
        raise InputError(
            f"{source}: no column '{code_column}' for the area code; columns are "
            f"{', '.join(frame.columns)}"
        )
    wanted = list(columns) if columns is not None else [c for c in frame.columns
                                                        if c != code_column]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: no column {', '.join(repr(c) for c in missing)}")

    codes = clean_codes(frame[code_column].astype(str))
    status = np.full(len(frame), STATUS_USED, dtype=object)
    detail = np.full(len(frame), "", dtype=object)
    no_code = (codes == "").to_numpy()
    status[no_code] = STATUS_UNREADABLE
    detail[no_code] = "no area code"

    values = {}
    suppressed_cells, skipped_columns, bad_cells = {}, {}, {}
    for column in wanted:
        numbers, suppressed, unreadable = parse_numbers(frame[column], decimal_comma)
        unreadable &= ~no_code
        if unreadable.any():
            rows_bad = np.flatnonzero(unreadable.to_numpy())
            first = int(rows_bad[0])
            mostly_text = len(rows_bad) >= int(numbers.notna().sum())
            if mostly_text and columns is not None:
                raise InputError(
                    f"{source}, row {line_numbers[first]}, column '{column}': "
                    f"'{frame[column].iloc[first]}' is not a number"
                )
            if mostly_text:
                examples = ", ".join(f"row {line_numbers[i]}: '{frame[column].iloc[i]}'"
                                     for i in rows_bad[:3])
                skipped_columns[column] = f"not numeric ({examples})"
                continue
            bad_cells[column] = len(rows_bad)  # a few bad cells: missing, said per row
            for i in rows_bad:
                note = (f"column '{column}': '{frame[column].iloc[i]}' is not a number "
                        "(left missing)")
                detail[i] = f"{detail[i]}; {note}" if detail[i] else note
        values[column] = numbers.to_numpy()
        suppressed_cells[column] = int((suppressed & ~no_code).sum())
    values = pd.DataFrame(values, index=codes.to_numpy())

    # duplicates: identical repeats are skipped; conflicting repeats stop the run
    readable = ~no_code
    repeated = codes.duplicated(keep=False).to_numpy() & readable
    if repeated.any():
        rep = values[repeated].copy()
        rep["__row"] = line_numbers[repeated]
        conflicts = []
        for code, group in rep.groupby(level=0, sort=True):
            body = group.drop(columns="__row")
            if len(body.drop_duplicates()) > 1:
                conflicts.append(f"{code} (rows {', '.join(map(str, group['__row']))})")
        if conflicts:
            raise InputError(
                f"{source}: area codes repeated with different values: "
                f"{'; '.join(conflicts[:5])}{' ...' if len(conflicts) > 5 else ''}; "
                "keep one row per area"
            )
        first_row = pd.Series(line_numbers[readable], index=codes[readable].to_numpy())
        first_row = first_row[~first_row.index.duplicated(keep="first")]
        later = codes.duplicated(keep="first").to_numpy() & readable
        status[later] = STATUS_DUPLICATE
        detail[later] = [f"repeats row {first_row[c]}" for c in codes[later]]

    rows = pd.DataFrame({"source": source, "row": line_numbers, "area_code": codes.to_numpy(),
                         "status": status, "detail": detail})
    if bad:
        rows = pd.concat([rows, pd.DataFrame(
            {"source": source, "row": list(bad),
             "area_code": [(bad_codes or {}).get(n, "") for n in bad],
             "status": STATUS_UNREADABLE,
             "detail": list(bad.values())})]).sort_values("row", kind="stable")
    keep = status == STATUS_USED
    return AreaTable(name=name, path=path, code_column=code_column, values=values[keep],
                     rows=rows.reset_index(drop=True), suppressed_cells=suppressed_cells,
                     skipped_columns=skipped_columns, bad_cells=bad_cells, source=source)


def counts_to_rates(table: AreaTable, denominator, per: float = 100.0,
                    keep: Sequence[str] = ()) -> tuple[AreaTable, list[str]]:
    """Counts turned into rates (``per`` 100: percentages), each divided by its denominator
    column: ``denominator`` is one column for every variable, or {variable: column}. A zero
    or missing denominator leaves the rate missing, said on the area's row. Returns the table
    and the denominator columns (carried for profiles, never clustered). ``keep``: columns
    that are not counts (context), left as they are."""
    values = table.values
    if isinstance(denominator, str):
        pairs = {c: denominator for c in values.columns
                 if c != denominator and c not in keep}
    else:
        pairs = dict(denominator)
    bases = sorted(set(pairs.values()))
    unknown = [c for c in [*pairs, *bases] if c not in values.columns]
    if unknown:
        raise InputError(f"{table.named}: denominator setting names no column "
                         f"{', '.join(repr(c) for c in unknown)}")
    rates = values.copy()
    rows = table.rows.copy()
    for variable, base in pairs.items():
        if variable in bases:
            continue  # a denominator stays a count
        divisor = values[base].where(values[base] > 0)
        rates[variable] = values[variable] / divisor * per
        zero = values.index[(values[base].fillna(0) <= 0).to_numpy()
                            & values[variable].notna().to_numpy()]
        if len(zero):
            note = f"'{variable}': denominator '{base}' is 0 or missing, rate left missing"
            hit = rows["area_code"].isin(zero) & (rows["status"] == STATUS_USED)
            rows.loc[hit, "detail"] = [f"{d}; {note}" if d else note
                                       for d in rows.loc[hit, "detail"]]
    # a count the same in every area says nothing of who lives there; divided by a total
    # it would only follow the areas' size: screening drops it as a constant (said)
    constant = {}
    for variable, base in pairs.items():
        counts = values[variable].dropna()
        if variable not in bases and len(counts) and counts.nunique() == 1:
            constant[variable] = (float(counts.iloc[0]), base)
    out = AreaTable(table.name, table.path, table.code_column, rates, rows,
                    table.suppressed_cells, table.skipped_columns, table.bad_cells,
                    table.source, constant)
    return out, bases


def read_lookup(path: Path, from_column: str, to_column: str) -> pd.Series:
    """A lookup file (e.g. OA -> LSOA -> MSOA -> ward) as code -> code, checked: every code
    once, or the same target each time it repeats."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: lookup file not found")
    if path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        frame, _, _ = read_excel_text(path, path.name, None)
    else:
        frame, _, _, _ = read_text_table(path, path.name)
    missing = [c for c in (from_column, to_column) if c not in frame.columns]
    if missing:
        raise InputError(f"{path.name}: no lookup column {', '.join(repr(c) for c in missing)}; "
                         f"columns are {', '.join(frame.columns)}")
    pairs = pd.DataFrame({"from": clean_codes(frame[from_column].astype(str)),
                          "to": clean_codes(frame[to_column].astype(str))})
    pairs = pairs[(pairs["from"] != "") & (pairs["to"] != "")].drop_duplicates()
    clashes = pairs["from"][pairs["from"].duplicated()].unique()
    if len(clashes):
        raise InputError(f"{path.name}: codes in '{from_column}' lead to more than one "
                         f"'{to_column}': {', '.join(clashes[:5])}")
    return pairs.set_index("from")["to"]


# ----------------------------------------------------------------------------- matching


def code_looks_like(codes: pd.Series, reference: pd.Index) -> pd.Series:
    """Whether each code is of the same kind as the reference codes (same first three
    characters and length, e.g. E00 + 6 digits for 2011 output areas in England)."""
    prefixes = {c[:3] for c in reference}
    lengths = {len(c) for c in reference}
    return codes.str[:3].isin(prefixes) & codes.str.len().isin(lengths)


def match_table(
    table: AreaTable, area_codes: pd.Index, join_key: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table's values for each area, and its reconciliation rows.

    ``join_key`` (index: area code, values: the code the table is keyed on) joins a table
    kept at another geography, e.g. an LSOA table through each output area's LSOA code.
    """
    keys = pd.Series(area_codes, index=area_codes) if join_key is None else join_key
    key_set = pd.Index(keys.dropna().unique())
    rows = table.rows.copy()
    used = rows["status"] == STATUS_USED
    found = rows["area_code"].isin(key_set)
    same_kind = code_looks_like(rows["area_code"], key_set)
    outside = used & ~found & same_kind
    unmatched = used & ~found & ~same_kind
    rows.loc[outside, ["status", "detail"]] = [STATUS_OUTSIDE, "code not in the boundaries"]
    rows.loc[unmatched, ["status", "detail"]] = [
        STATUS_UNMATCHED, "not an area code of the boundaries' kind"]

    by_area = table.values.reindex(keys.to_numpy())
    by_area.index = keys.index
    covered = keys.isin(table.values.index)
    if not covered.all():
        unread = rows.loc[(rows["status"] == STATUS_UNREADABLE) & (rows["area_code"] != "")]
        unread = unread.drop_duplicates("area_code").set_index("area_code")["row"]
        absent = keys[~covered.to_numpy()]
        no_data = pd.DataFrame({"source": table.named, "row": pd.NA,
                                "area_code": absent.index,
                                "status": STATUS_NO_DATA,
                                "detail": [f"its row (line {unread[key]}) could not be read"
                                           if key in unread.index else "area not in this table"
                                           for key in absent.to_numpy()]})
        rows = pd.concat([rows, no_data], ignore_index=True) if len(rows) else no_data
    return by_area, rows
