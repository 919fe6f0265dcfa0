"""Reading a source's columns fast: each distinct cell of a column read once (ID, date,
hours), however many millions of rows repeat it."""

from __future__ import annotations

import ctypes
import operator

import numpy as np
import pandas as pd

from ..errors import InputError


def _column(frame: pd.DataFrame, name: str, source: str, file: str | None = None
            ) -> pd.Series:
    if name not in frame.columns:
        where = f"{source} ({file})" if file and file != source else source
        raise InputError(f"{where}: no column '{name}' (columns are "
                         f"{', '.join(map(str, frame.columns))})")
    return frame[name]


def cells_of(values: pd.Series):
    """A column's cells as an array, its type kept: a NumPy column as NumPy's own array (a
    pandas array of text would be scanned whole again each time it is taken from)."""
    return values.to_numpy() if isinstance(values.dtype, np.dtype) else values.array


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values)``: the same codes and distinct values, faster on a long column
    of text objects. Cells that are one object (a file reader gives repeated texts one
    object; copies of a cell are one) are grouped by the object's address first, a fast
    integer hashing; then only the distinct objects are compared by value."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if not _long_objects(array):
        return pd.factorize(values, use_na_sentinel=True)
    by_object, objects = _by_object(array)
    codes, uniques = pd.factorize(objects, use_na_sentinel=True)
    return codes[by_object], uniques


def _long_objects(array: np.ndarray) -> bool:
    return array.dtype == object and array.ndim == 1 and len(array) >= 100_000


def _by_object(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cell the code of its object (in order of first appearance), and the objects."""
    array = np.ascontiguousarray(array)
    address = np.ctypeslib.as_array(
        (ctypes.c_ssize_t * len(array)).from_address(array.ctypes.data))
    by_object, first_row = _address_codes(address)
    return by_object, array[first_row]


def _address_codes(address: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cell the code of its address (in order of first appearance), and each address's
    first row. Most objects of a column lie close together (its texts were made one after
    another, as a reader makes them): their addresses are placed in a table as long as
    their span, no hashing (several times faster on millions of cells); the few that lie
    elsewhere (a missing value, a text made earlier) are hashed."""
    n = len(address)
    bits = int(np.bitwise_or.reduce(address))  # objects' alignment: low bits never set
    shift = min((bits & -bits).bit_length() - 1, 6) if bits else 0
    low = _dense_start(address, 2 * n << shift)
    if low is None:
        return _hashed(address)
    place = address - low
    place >>= shift
    span = min(2 * n, (int(address.max()) - low >> shift) + 1)
    inside = place.view(np.uint64) < span  # (below the start: negative, read as huge)
    if inside.all():
        return _placed(place, span)
    rows = np.flatnonzero(inside)
    codes, first_in = _placed(place[inside], span)
    del place
    others = np.flatnonzero(~inside)
    other_codes, first_out = _hashed(address[others])
    # the two sets of addresses (none in both) numbered together by first row
    firsts = np.concatenate([rows[first_in], others[first_out]])
    order = np.argsort(firsts, kind="stable")
    code_of = np.empty(len(firsts), dtype=np.int64)
    code_of[order] = np.arange(len(firsts))
    out = np.empty(n, dtype=np.int64)
    out[rows] = code_of[codes]
    out[others] = code_of[len(first_in) + other_codes]
    return out, firsts[order]


def _dense_start(address: np.ndarray, width: int) -> int | None:
    """The lowest address of a stretch ``width`` bytes long holding at least half of a
    sample of the addresses, or None when none does (objects scattered)."""
    sample = np.sort(address[::max(1, len(address) // 4096)])
    if (sample[1:] != sample[:-1]).sum() < 256:
        return None  # few objects: a hash table of them is as quick
    within = np.searchsorted(sample, sample + width) - np.arange(len(sample))
    best = int(np.argmax(within))
    if 2 * within[best] < len(sample):
        return None
    # the stretch moved down as far as it can go and still hold the same sampled addresses
    # (the lowest address may not be in the sample)
    start = int(sample[best]) - (width - int(sample[best + within[best] - 1] - sample[best]))
    lowest = int(address.min())
    if lowest >= start:
        return lowest
    return int(np.min(address, where=address >= start, initial=sample[best]))


def _placed(place: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes (in order of first appearance) and first rows of places 0..span-1."""
    n = len(place)
    first = np.full(span, n, dtype=np.int32 if n < 2 ** 31 - 1 else np.int64)
    # each place's first row: the rows written last to first, the earliest written last
    first[place[::-1]] = np.arange(n - 1, -1, -1, dtype=first.dtype)
    is_first = np.zeros(n, dtype=bool)
    is_first[first[first < n]] = True
    first_row = np.flatnonzero(is_first)  # in order of first appearance
    first[place[first_row]] = np.arange(len(first_row), dtype=first.dtype)  # each's code
    return first[place], first_row


def _hashed(address: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_address_codes`` by a hash table (on scrambled bits: see ``_scrambled``)."""
    codes, _ = pd.factorize(_scrambled(address))
    # each address's first row, in that order: codes come in order of first appearance,
    # so a row holds a new one exactly where the codes so far reach a new highest
    highest = np.maximum.accumulate(codes)
    return codes, np.flatnonzero(np.r_[True, highest[1:] > highest[:-1]])


# an odd number: multiplying by it (modulo 2**64) maps distinct integers to distinct integers
_ODD = np.int64(-0x61C8864680B583EB)  # 0x9E3779B97F4A7C15, the golden-ratio constant


def _scrambled(values: np.ndarray) -> np.ndarray:
    """Integers with the same pattern of equal values (distinct ones stay distinct), their
    bits spread: object addresses (multiples of 16) and times in nanoseconds (of 60e9)
    share their low bits, which a hash table uses to place them, so grouping them as they
    are piles them into a few places (up to twice as slow on millions of rows)."""
    with np.errstate(over="ignore"):
        return values.astype(np.int64, copy=False) * _ODD


def in_capitals(value: str) -> bool:
    """Letters and digits only, no small letter: already as an ID or code is compared (the
    common case, which then needs no new text)."""
    return value.isalnum() and (value.isupper() or value.isdigit())


def keeps_capitals(each):
    """Mark ``each`` (a function of one text) as one that gives a text of letters and
    digits without a small letter back as it is (the same text): ``_each`` then checks a
    column's distinct texts for that all at once, not one by one."""
    each.keeps_capitals = True
    return each


def _all_in_capitals(uniques: np.ndarray) -> bool:
    """Whether every text is letters and digits with no small letter (or blank), checked
    on the texts joined: capitals of the whole are the capitals of each part."""
    try:
        whole = "".join(uniques)
    except TypeError:  # not all texts
        return False
    return (whole.isalnum() or not whole) and whole.upper() == whole


@keeps_capitals
def upper_trimmed(value: str) -> str:
    """A code as compared (an output area's): trimmed, in capitals."""
    return value if in_capitals(value) else value.strip().upper()


def _each(uniques, each) -> np.ndarray:
    """``each`` of every distinct cell, as one object array (one ufunc, no list between)."""
    uniques = np.asarray(uniques, dtype=object)
    if not len(uniques):
        return uniques
    if getattr(each, "keeps_capitals", False) and _all_in_capitals(uniques):
        return uniques  # (the common case: IDs and area codes as systems write them)
    try:  # text cells (as files are read): no conversion
        return np.frompyfunc(each, 1, 1)(uniques)
    except (TypeError, AttributeError):  # numbers, dates...
        return np.frompyfunc(lambda v: each(str(v)), 1, 1)(uniques)


def _with_blank(codes: np.ndarray, text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The texts with '' added last, missing cells (code -1) coded to it."""
    return np.where(codes < 0, len(text), codes), np.append(text, np.array([""], dtype=object))


def distinct(values: pd.Series, how=None, each=str.strip) -> tuple[np.ndarray, pd.Series]:
    """(per row a code, the distinct cells as text, trimmed; a blank or missing cell is '').
    Work on a column of millions is done once per distinct value: ``each`` (a function of
    one text, trimming by default) and then ``how`` (of the Series of texts)."""
    codes, uniques = factorize(values)
    codes, text = _with_blank(codes, _each(uniques, each))
    text = pd.Series(text, dtype=object, copy=False)
    if how is not None:
        text = how(text)
    return codes, text


def distinct_merged(values, each=str.strip) -> tuple[np.ndarray, pd.Series]:
    """``distinct`` where cells that ``each`` makes equal get one code (``" a"`` and
    ``"a"`` trimmed). On a long column of texts ``each`` is applied to each distinct object
    and the results grouped by value once; otherwise the distinct texts are grouped again
    only when ``each`` changed one (it returns a text unchanged as the same object, as
    ``str.strip`` does)."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if _long_objects(array):
        by_object, objects = _by_object(array)
        if pd.api.types.infer_dtype(objects, skipna=False) == "string":
            codes, text = pd.factorize(_each(objects, each), use_na_sentinel=True)
            codes, text = _with_blank(codes[by_object], np.asarray(text, dtype=object))
            return codes, pd.Series(text, dtype=object, copy=False)
    codes, uniques = factorize(array)
    uniques = np.asarray(uniques, dtype=object)
    text = _each(uniques, each)
    if len(text) and np.frompyfunc(operator.is_not, 2, 1)(text, uniques).any():
        again, text = pd.factorize(text)
        codes = np.where(codes < 0, -1, again[codes])
    codes, text = _with_blank(codes, np.asarray(text, dtype=object))
    return codes, pd.Series(text, dtype=object, copy=False)


def distinct_together(first: pd.Series, second: pd.Series
                      ) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """``distinct_merged`` of two columns at once (the call IDs of the calls and of their
    resources): each column's codes into one set of distinct trimmed texts, so no text of
    one column is looked up in the other."""
    codes, text = distinct_merged(np.concatenate([np.asarray(first, dtype=object),
                                                  np.asarray(second, dtype=object)]))
    return codes[:len(first)], codes[len(first):], text


def cells(values: pd.Series, how=None) -> np.ndarray:
    """Every cell as trimmed text ('' where blank), ``how`` applied to the distinct ones."""
    codes, text = distinct(values, how)
    return text.to_numpy(dtype=object)[codes]


def on_lines(codes: np.ndarray, text: pd.Series, lines) -> pd.Series:
    """The distinct texts labelled by the file line of the first row holding each (``lines``:
    per row its line), so that a message about a value names the line a user can open."""
    first = np.zeros(len(text), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return pd.Series(text.to_numpy(), index=np.asarray(lines)[first] if len(codes) else
                     np.zeros(len(text), dtype=np.int64), dtype=object, copy=False)


def read_dates(values: pd.Series, date_format: str | None = None, column: str = "date",
               source: str = "the file", lines=None, coded=None
               ) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64 values, unreadable mask: given but not a date), each distinct text read
    once by the one date reader (``dates.parse_dates``: zones converted, a US or undecided
    day/month order refused unless the format is given, naming the value's file line:
    ``lines``, per row, else the values' index). ``coded``: the column's ``distinct``
    (codes, texts) when the caller has it already."""
    from ..data.dates import parse_dates

    if pd.api.types.is_datetime64_any_dtype(values):
        dates = parse_dates(values).to_numpy(dtype="datetime64[ns]")
        return dates, np.zeros(len(values), dtype=bool)
    codes, text = distinct(values) if coded is None else coded
    text = on_lines(codes, text, values.index if lines is None else lines)
    parsed = parse_dates(text, date_format, column, source).to_numpy(dtype="datetime64[ns]")
    bad = np.isnat(parsed) & (text != "").to_numpy()
    return parsed[codes], bad[codes]


def read_hours(values: pd.Series) -> np.ndarray:
    """Durations in hours (NaN where blank or not a number), each distinct text read once."""
    from ..data.ingest import parse_numbers

    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    codes, text = distinct(values)
    parsed, _, _ = parse_numbers(text)
    return parsed.to_numpy(dtype=float)[codes]


class Columns:
    """A source's columns (only the rows ``keep`` when given), each read once:
    ``distinct(name)`` gives (codes, texts); ``file``: the source's file, named with the
    source when a column is missing."""

    def __init__(self, frame: pd.DataFrame, source: str, keep: np.ndarray | None = None,
                 file: str | None = None):
        self.frame, self.source, self.keep, self.file, self._seen = (frame, source, keep,
                                                                     file, {})

    def lines(self) -> np.ndarray:
        """The file line of each row (the frame's index, of the rows kept)."""
        lines = self.frame.index.to_numpy()
        return lines if self.keep is None else lines[self.keep]

    def __call__(self, name: str) -> pd.Series:
        values = _column(self.frame, name, self.source, self.file)
        if self.keep is None:
            return values
        # the cells alone (their type kept), without the rows' index to carry along
        return pd.Series(cells_of(values)[self.keep], name=name, dtype=values.dtype,
                         copy=False)

    def distinct(self, name: str) -> tuple[np.ndarray, pd.Series]:
        if name not in self._seen:
            self._seen[name] = distinct(self(name))
        return self._seen[name]
