"""Partner tables read as text, every physical line accounted for (see ``ingest`` for the
cleaning that follows): the encoding and separator found, lines with too many or too few
fields set aside as unreadable (in one wording, "Expected 14 fields in line 6, saw 16"), with
the area code such a line holds where it can be read.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

_SKIPPED_LINE = re.compile(r"Skipping line (\d+): (.*)")
_FIELDS_SEEN = re.compile(r"expected (\d+) fields, saw (\d+)", re.IGNORECASE)


def clean_codes(codes: pd.Series) -> pd.Series:
    return codes.str.strip().str.strip("\"'").str.strip().str.upper()


def _decode(raw: bytes, source: str) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _sniff_separator(header: str) -> str:
    counts = {sep: 0 for sep in ",;\t|"}
    inside = False
    for char in header:
        if char == '"':
            inside = not inside
        elif not inside and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_delimited(text: str, separator: str, quoting: int, dtype=str
                    ) -> tuple[pd.DataFrame, dict]:
    """Every physical line kept, fields as text (or as ``dtype`` says, each column's type
    judged from all its cells at once); lines pandas skipped are returned."""
    bad: dict[int, str] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = pd.read_csv(
            io.StringIO(text), sep=separator, dtype=dtype, keep_default_na=False,
            na_filter=False, skip_blank_lines=False, on_bad_lines="warn", engine="c",
            quoting=quoting, encoding_errors="strict", low_memory=dtype is str,
        )
    for warning in caught:
        for match in _SKIPPED_LINE.finditer(str(warning.message)):
            bad[int(match.group(1))] = fields_seen(int(match.group(1)), match.group(2).strip())
    return frame, bad


def fields_seen(line: int, detail: str) -> str:
    """One wording for a line with too many or too few fields, whoever found it (pandas says
    "expected 14 fields, saw 16"): "Expected 14 fields in line 6, saw 16"."""
    found = _FIELDS_SEEN.fullmatch(detail)
    return (f"Expected {found.group(1)} fields in line {line}, saw {found.group(2)}"
            if found else detail)


def _numbers_where_plain(text: str, separator: str, text_columns: Sequence[str]
                         ) -> tuple[pd.DataFrame, dict]:
    """As ``_read_delimited``, but a column whose every cell is a plain finite number comes
    back as numbers (pandas' parser: the same values as ``parse_numbers`` gives from the
    text), so that a national table's millions of cells are not held as text. The
    ``text_columns`` (area codes: ``007`` is not 7), and every column with a cell that is
    not a plain number (suppressed, ``1,234``, ``inf``, ``True``), are text."""
    names = pd.read_csv(io.StringIO(text), sep=separator, nrows=0).columns
    frame, bad = _read_delimited(text, separator, csv.QUOTE_MINIMAL, dtype={
        name: str for name in names if str(name).strip() in text_columns})
    as_text = [name for name in frame.columns if frame[name].dtype != object and (
        frame[name].dtype.kind not in "iuf" or not np.isfinite(frame[name]).all())]
    if as_text:  # rare: read again, as text, for those columns' cells
        frame[as_text] = _read_delimited(text, separator, csv.QUOTE_MINIMAL)[0][as_text]
    return frame, bad


def read_text_table(path: Path, source: str, text_columns: Sequence[str] | None = None
                    ) -> tuple[pd.DataFrame, np.ndarray, dict, str]:
    """Rows as text, their line numbers in the file, the unreadable lines, the separator.
    With ``text_columns``: only those columns are sure to be text, the others are numbers
    where all their cells are (see ``_numbers_where_plain``)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from err
    text, _ = _decode(raw, source)
    if "\r" in text:  # Windows (CR LF) and old Mac (CR only) line endings
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(f"{source}: the file is empty")
    header = text.split("\n", 1)[0].rstrip("\r")
    separator = _sniff_separator(header)
    data_lines = text.count("\n") + (0 if text.endswith("\n") else 1) - 1
    try:
        frame, bad = (_read_delimited(text, separator, csv.QUOTE_MINIMAL)
                      if text_columns is None
                      else _numbers_where_plain(text, separator, text_columns))
    except pd.errors.ParserError:  # e.g. a quote left open to the end of the file
        frame, bad = pd.DataFrame(), {}
    if len(frame) + len(bad) != data_lines:
        # quotes that do not pair up swallowed lines: read quotes as plain characters
        frame, bad = _read_delimited(text, separator, csv.QUOTE_NONE)
        frame.columns = [c.strip('"') for c in frame.columns]
        frame = frame.apply(lambda col: col.str.replace('"', "", regex=False))
        text_columns = None  # all text now
    if len(frame) + len(bad) != data_lines:
        raise InputError(
            f"{source}: {data_lines} data lines but only {len(frame) + len(bad)} could be "
            "accounted for; check the file's quoting"
        )
    line_numbers = np.array([n for n in range(2, data_lines + 2) if n not in bad])
    frame.columns = [str(c).strip() for c in frame.columns]
    short = _short_lines(text, separator, len(frame.columns), line_numbers)
    if short and text_columns is not None:  # their cells took part in judging the types
        frame = _read_delimited(text, separator, csv.QUOTE_MINIMAL)[0]
        frame.columns = [str(c).strip() for c in frame.columns]
    if short:
        keep = ~np.isin(line_numbers, list(short))
        frame, line_numbers = frame[keep].reset_index(drop=True), line_numbers[keep]
        bad = dict(sorted({**bad, **short}.items()))
    return frame, line_numbers, bad, separator


def _short_lines(text: str, separator: str, n_columns: int, line_numbers: np.ndarray) -> dict:
    """Lines with fewer fields than the header (pandas pads them with blanks, which would
    read as missing values): line number -> what is wrong. Blank lines are left to the
    area-code check. (Fields are counted in place, line by line: a national table's lines
    are not copied.)"""
    if n_columns < 2:
        return {}
    newlines = np.fromiter((m.start() for m in re.finditer("\n", text)), dtype=np.int64)
    starts = newlines + 1  # of the lines after the header
    ends = np.append(newlines[1:], len(text))
    short = {}
    for number in line_numbers:
        index = number - 2
        if index >= len(starts):
            continue
        start, end = int(starts[index]), int(ends[index])
        if text.count(separator, start, end) + 1 >= n_columns:
            continue
        line = text[start:end]
        if line.strip():
            fields = next(csv.reader([line], delimiter=separator))
            if 0 < len(fields) < n_columns:
                short[int(number)] = fields_seen(
                    int(number), f"expected {n_columns} fields, saw {len(fields)}")
    return short


def codes_on_lines(path: Path, code_column: str, lines) -> dict[int, str]:
    """The area code on each of the ``lines`` that could not be read as a row (too many or
    too few fields, a quote left open), where its field can be read: the field at the code
    column's place in the header. The file is read again only when there are such lines,
    line by line."""
    lines = set(int(n) for n in lines)
    if not lines:
        return {}
    text, _ = _decode(Path(path).read_bytes(), path.name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    codes = {}
    position, separator = None, ","
    for number, line in enumerate(io.StringIO(text), start=1):
        if number == 1:
            separator = _sniff_separator(line)
            names = [f.strip() for f in next(csv.reader([line.rstrip("\n")],
                                                         delimiter=separator), [])]
            if code_column not in names:
                return {}
            position = names.index(code_column)
        elif number in lines:
            fields = next(csv.reader([line.rstrip("\n")], delimiter=separator), [])
            if len(fields) > position:
                code = clean_codes(pd.Series([fields[position]], dtype="string")).iloc[0]
                if code:
                    codes[number] = str(code)
            if number >= max(lines):
                break
    return codes


def read_excel_text(path: Path, source: str, sheet) -> tuple[pd.DataFrame, np.ndarray, dict]:
    try:
        frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=str,
                              keep_default_na=False)
    except ValueError as err:
        raise InputError(f"{source}: {err}") from err
    except Exception as err:
        raise InputError(f"{source}: cannot be read as a spreadsheet ({err})") from err
    frame = frame.fillna("").astype(str)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, np.arange(2, len(frame) + 2), {}
