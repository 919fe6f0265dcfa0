"""What the new-segmentation wizard guesses from a file's first rows, for the user to confirm.

Which field of the boundaries holds the output-area code, which column of a partner table is
its key, how the table joins (output-area code directly, through a boundary column such as
the LSOA code, or through a lookup file), and which columns are context (counts and
denominators, deprivation measures: profiled, never clustered). Plus the per-table summary of
the reconciliation the wizard shows before anything runs. Plain functions over the first
rows of a file; nothing here decides for the user.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from ..data.ingest import (
    STATUS_DUPLICATE,
    STATUS_NO_DATA,
    STATUS_OUTSIDE,
    STATUS_UNMATCHED,
    STATUS_UNREADABLE,
    STATUS_USED,
    parse_numbers,
)
from ..data.text_tables import _decode, _sniff_separator

# an ONS/GSS code: a country letter and eight digits (E00004120: a 2011 output area)
ONS_CODE = re.compile(r"^[EWSNK]\d{8}$")
OA_PREFIXES = ("E00", "W00", "S00", "N00")
OA_NAMES = re.compile(r"^(oa\d{0,2}(cd|_cd|code)?|oa_?code|output_?area(_?code)?|code|"
                      r"area_?code)$", re.IGNORECASE)
SPREADSHEETS = {".xlsx", ".xlsm", ".xls"}
# context: counts and denominators (residents, households...) and deprivation measures
_CONTEXT = re.compile(r"(resident|household|dwelling|population|persons|people|spaces|total|"
                      r"^all_|count|^imd|imd\d*$|rank|decile|score)", re.IGNORECASE)
# a rate or percentage anywhere in the name: "pct_no_car", "Households with no car (%)",
# "households_no_car_pct", "Residents in bad health percentage", "fire rate per 1,000"
_RATE = re.compile(r"(^|[^a-z])(pct|percent(age)?|per_?cent|rate|share|prop(ortion)?|ratio)"
                   r"([^a-z]|$)|%|per[ _]?1,?000", re.IGNORECASE)
STATUSES = (STATUS_USED, STATUS_OUTSIDE, STATUS_UNMATCHED, STATUS_DUPLICATE, STATUS_UNREADABLE,
            STATUS_NO_DATA)


def _text(values) -> pd.Series:
    return pd.Series(list(values), dtype=object).dropna().astype(str).str.strip() \
        .str.strip("\"'").str.upper()


def code_share(values, prefixes: tuple | None = None) -> float:
    """The share of non-blank values that are ONS codes (optionally of these kinds)."""
    text = _text(values)
    text = text[text != ""]
    if text.empty:
        return 0.0
    hits = text.str.match(ONS_CODE.pattern)
    if prefixes is not None:
        hits &= text.str[:3].isin(prefixes)
    return float(hits.mean())


def guess_code_field(samples: dict) -> str | None:
    """The boundary field holding the output-area code: values like E00.../W00.../S00...,
    else a field named like OA11CD, OA21CD or code, else any field of ONS codes."""
    def best(prefixes):
        scored = [(code_share(values, prefixes), name) for name, values in samples.items()]
        scored = [pair for pair in scored if pair[0] >= 0.9]
        return max(scored, key=lambda pair: pair[0])[1] if scored else None

    named = [name for name in samples if OA_NAMES.match(str(name))]
    return best(OA_PREFIXES) or (named[0] if named else None) or best(None)


def code_examples(values, count: int = 2) -> list[str]:
    text = _text(values)
    return list(dict.fromkeys(text[text != ""]))[:count]


# --- partner tables ----------------------------------------------------------------------

def excel_sheets(path: Path) -> list[str]:
    with pd.ExcelFile(path) as book:
        return [str(name) for name in book.sheet_names]


def table_preview(path: Path, sheet=None, rows: int = 500) -> pd.DataFrame:
    """The table's first rows as text, columns named as the engine reads them (the same
    encodings and separators as ``ingest``). Only the start of a large file is read."""
    path = Path(path)
    if path.suffix.lower() in SPREADSHEETS:
        frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=str,
                              keep_default_na=False, nrows=rows)
    else:
        with open(path, "rb") as handle:
            raw = handle.read(1 << 20)
        text, _ = _decode(raw, path.name)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if len(raw) == 1 << 20:  # cut at the last whole line
            text = text[:text.rfind("\n") + 1] or text
        header = text.split("\n", 1)[0]
        frame = pd.read_csv(io.StringIO(text), sep=_sniff_separator(header), dtype=str,
                            keep_default_na=False, na_filter=False, nrows=rows,
                            on_bad_lines="skip", engine="python")
    frame = frame.fillna("").astype(str)
    frame.columns = [str(c).strip().strip('"') for c in frame.columns]
    return frame


def numeric_columns(frame: pd.DataFrame, exclude=()) -> list[str]:
    """Columns whose cells are numbers or suppression marks (at least one number)."""
    out = []
    for column in frame.columns:
        if column in exclude:
            continue
        values, suppressed, unreadable = parse_numbers(frame[column])
        if values.notna().any() and not unreadable.any():
            out.append(column)
    return out


def guess_key_column(frame: pd.DataFrame, boundary_code: str | None = None) -> str | None:
    """The column of area codes: the boundaries' own code name if the table has it, else
    the column with the most ONS codes (output areas first)."""
    if boundary_code and boundary_code in frame.columns:
        return boundary_code
    for prefixes in (OA_PREFIXES, None):
        scored = [(code_share(frame[c], prefixes), c) for c in frame.columns]
        scored = [(share, c) for share, c in scored if share >= 0.9]
        if scored:
            return max(scored, key=lambda pair: pair[0])[1]
    named = [c for c in frame.columns if OA_NAMES.match(c)]
    return named[0] if named else None


def guess_join(key_values, boundary_samples: dict, boundary_code: str,
               key_name: str | None = None) -> tuple[str, str | None]:
    """How a table joins: ("direct", None) when its keys are codes of the boundaries' kind,
    ("join_on", field) when a boundary field holds codes of the keys' kind (e.g. LSOA11CD),
    else ("lookup", None)."""
    keys = _text(key_values)
    keys = keys[keys != ""]
    if keys.empty:
        return "direct", None
    def kind(values):
        return {(v[:3], len(v)) for v in _text(values) if v}

    key_kinds = kind(keys.head(200))
    boundary = boundary_samples.get(boundary_code, [])
    if key_kinds & kind(boundary):
        return "direct", None
    ordered = sorted(boundary_samples, key=lambda name: name != key_name)
    for name in ordered:
        if name != boundary_code and key_kinds & kind(boundary_samples[name]):
            return "join_on", name
    return "lookup", None


def guess_context(frame: pd.DataFrame, key: str | None) -> list[str]:
    """Numeric columns that look like counts or denominators (residents, households...) or
    deprivation measures (IMD, rank, score), not rates or percentages."""
    return [c for c in numeric_columns(frame, exclude=(key,))
            if _CONTEXT.search(c) and not _RATE.search(c)]


def guess_lookup_columns(frame: pd.DataFrame, boundary_codes, key_values
                         ) -> tuple[str | None, str | None]:
    """A lookup file's column of the boundaries' codes and its column of the table's codes."""
    def best(values):
        wanted = set(_text(values).head(500))
        scored = [(len(wanted & set(_text(frame[c]))), c) for c in frame.columns]
        score, column = max(scored, default=(0, None))
        return column if score else None

    return best(boundary_codes), best(key_values)


# --- the reconciliation, per table ----------------------------------------------------------

def reconciliation_summary(reconciliation: pd.DataFrame) -> pd.DataFrame:
    """Rows per source (file) and status, in the order the files came, statuses as columns
    (used, outside the area, unmatched, duplicate, unreadable, no data)."""
    counts = reconciliation.groupby(["source", "status"], sort=False).size().unstack(
        fill_value=0)
    order = list(dict.fromkeys(reconciliation["source"]))
    counts = counts.reindex(index=order, columns=list(STATUSES), fill_value=0)
    counts.index.name = "file"
    return counts.astype(int)


# --- boundaries: layers of a file, and whether the CRS fits the coordinates ---------------

POLYGONS = {"Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z", "3D Polygon",
            "3D MultiPolygon", "CurvePolygon", "MultiSurface"}


def polygon_layers(path: Path) -> list[str]:
    """The polygon layers of a vector file (a shapefile: its one layer)."""
    import pyogrio

    layers = pyogrio.list_layers(Path(path))
    polygons = [str(name) for name, kind in layers if kind is None or str(kind) in POLYGONS]
    return polygons or [str(name) for name, _ in layers]


def crs_findings(bounds, crs_text: str | None, source: str) -> tuple[str, str]:
    """("ok" | "warning" | "error", what to tell the user) about the boundaries' CRS: it
    must fit the coordinates (metres are not degrees) and put them in Great Britain; any
    CRS but British National Grid is reprojected to it, which the user is told."""
    from pyproj import CRS, Transformer

    from ..data.crs import BNG, check_declared_crs, check_in_great_britain, parse_crs
    from ..errors import InputError

    if not crs_text:
        return "error", (f"{source} has no coordinate reference system. Tick \"The CRS is "
                         "wrong\" below and choose the right one (British National Grid is "
                         "EPSG:27700).")
    try:
        crs = parse_crs(crs_text, source)
        check_declared_crs(bounds, crs, source)
        minx, miny, maxx, maxy = bounds
        transformer = Transformer.from_crs(crs, BNG, always_xy=True)
        xs, ys = transformer.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
        check_in_great_britain((min(xs), min(ys), max(xs), max(ys)), crs, source)
    except InputError as err:
        return "error", (f"{err}. If the CRS is wrong, tick \"The CRS is wrong\" below and "
                         "choose the one the coordinates are really in.")
    name = f"{crs.name} ({crs.to_string()})"
    if crs.equals(CRS.from_epsg(27700)):
        return "ok", (f"{name}: the coordinates fit it and lie in Great Britain.")
    if crs.is_geographic:
        return "warning", (f"{name} is a geographic CRS (longitude and latitude in degrees). "
                           "The coordinates fit it and lie in Great Britain; the areas will be "
                           "reprojected to British National Grid (EPSG:27700) for the "
                           "segmentation. If they are really in metres, tick \"The CRS is "
                           "wrong\" below.")
    return "warning", (f"{name} is not British National Grid. The coordinates fit it and lie "
                       "in Great Britain; the areas will be reprojected to British National "
                       "Grid (EPSG:27700). If the coordinates are really British National "
                       "Grid, tick \"The CRS is wrong\" below and choose EPSG:27700.")
