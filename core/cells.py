"""Spreadsheet cells that are data, never formulas: every CSV and XLSX the tools write.

A cell whose text begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return,
which some spreadsheets skip before reading the rest as a formula) is run as a formula when
a CSV is opened in Excel or LibreOffice, and openpyxl writes such a string into an XLSX as
a formula. A ward named ``=HYPERLINK("http://...","x")`` or an address ID beginning with
``=`` would then become a live link or a calculation on a partner's machine. Following
the OWASP rule for CSV injection, such text is written with a leading apostrophe
(``'=HYPERLINK(...``), which spreadsheets show as text; the rest of the text is kept
as it was.

The rule applies to text cells only: numbers stay numbers (``-3`` in a numeric column, or
text that is a plain number such as ``-3`` or ``+44``, cannot be a formula) and column
headings are treated like cells. ``write_csv`` and ``write_xlsx`` are the one way the
engine and the plugin write a table to a spreadsheet file; ``text_cell`` is the rule for a
single cell (the formatted partner workbook, written cell by cell).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(,\d{3})*|\d*)(\.\d+)?%?")
PREFIX = "'"
LINE_HEIGHT = 15  # points: a line of text in a spreadsheet row


def text_cell(value):
    """``value`` as a spreadsheet shows it safely: text beginning with a formula character
    gets a leading apostrophe; anything else (numbers, other text, missing) is returned as
    it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        if any(ch.isdigit() for ch in value) and _PLAIN_NUMBER.fullmatch(value):
            return value
        return PREFIX + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column heading made safe
    (``text_cell``); numeric, date and boolean columns are left exactly as they are."""
    out = frame.copy()
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if series.dtype == object or isinstance(series.dtype, (pd.StringDtype,
                                                               pd.CategoricalDtype)):
            values = series.astype(object)
            if values.map(lambda v: isinstance(v, str)).any():
                out.isetitem(i, values.map(text_cell))
    out.columns = [text_cell(c) if isinstance(c, str) else c for c in frame.columns]
    return out


def write_csv(frame: pd.DataFrame, path, **options) -> None:
    """``frame.to_csv(path, **options)`` with its text cells safe (``safe_frame``)."""
    safe_frame(frame).to_csv(path, **options)


def write_xlsx(sheets: dict, path: Path, **options) -> None:
    """A workbook of one sheet per table (sheet name -> frame), text cells safe."""
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        for name, frame in sheets.items():
            safe_frame(frame).to_excel(book, sheet_name=name, **options)


def wrapped_lines(text, width: int) -> int:
    """About how many lines ``text`` takes wrapped in a spreadsheet column ``width``
    characters wide (a row's height must be set: spreadsheets do not all fit it on
    opening)."""
    per_line = max(int(width * 1.15) - 2, 1)  # proportional type: more than the width
    return max(1, -(-len(str(text or "")) // per_line))
