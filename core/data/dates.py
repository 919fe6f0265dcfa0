"""Reading dates from partner files: the one date reader of every step.

- ISO dates and times (``2021-03-04``, ``2021-03-04T10:15:00``), with a zone suffix or
  not (``Z``, ``+01:00``, ``-0500``, ``UTC``): a zoned time is converted to UK local time
  (Europe/London) and the zone dropped, so every date of a column compares with the others.
- Numeric dates with the day and month in either order (``04/03/2021``, ``4.3.21``): the
  order is judged per column from the column's own values. A value whose first number is
  above 12 can only be day first; one whose second number is above 12 can only be month
  first (US order). A column with only day-first evidence is read day first. A column in
  US order, one with both kinds, and one where no value tells the order are refused with
  a message naming the column and rows, unless the caller gives the format (``--date-format
  "%m/%d/%Y"`` on the command line, ``date_format`` in a project file).
- With a format, every value is read with it (strftime codes), ISO values as ISO; a value
  that fits neither is unreadable (NaT), as a blank or a word is without one.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import InputError

LOCAL_ZONE = "Europe/London"

# a zone after a time (or directly after an ISO date): Z, UTC, GMT, +01:00, +0100, -05
_ZONED = re.compile(
    r"^(?P<when>.*?(?:\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?|\d{4}-\d{2}-\d{2}))\s*"
    r"(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?!\d)")
_ISO = re.compile(r"^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?$")

# a date written year first with slashes or dots (2009/05/06, 2009.5.6): year, month, day
_YEAR_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?!\d)")
_YEAR_FIRST_ISO = r"^\d{4}-\d{2}-\d{2}"

DAY_FIRST = "%d/%m/%Y"
MONTH_FIRST = "%m/%d/%Y"


def _format_hint(example: str) -> str:
    return (f'give the format: --date-format "{example}" on the command line, '
            f'date_format = "{example}" in the project file, or {example} in the Date '
            "format box of the QGIS tool")


def _rows(labels) -> str:
    labels = list(labels)
    shown = ", ".join(str(label) for label in labels[:5])
    return shown + (f" and {len(labels) - 5:,} more" if len(labels) > 5 else "")


def _split_zones(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(the texts without their zone suffix, the offset from UTC in minutes; NaN where the
    text has no zone)."""
    found = texts.str.extract(_ZONED)
    zoned = found["when"].notna()
    bare = texts.where(~zoned, found["when"]).str.replace(r"T(?=\d)", " ", regex=True)
    zone = found["zone"].str.upper()
    minutes = pd.Series(np.nan, index=texts.index)
    utc = zone.isin(["Z", "UTC", "GMT"])
    minutes[utc] = 0.0
    numeric = zoned & ~utc
    if numeric.any():
        parts = zone[numeric].str.extract(r"^([+-])(\d{2}):?(\d{2})?$")
        sign = np.where(parts[0] == "-", -1.0, 1.0)
        minutes[numeric] = sign * (parts[1].astype(float) * 60
                                   + parts[2].fillna("0").astype(float))
    return bare, minutes


def _year_first_as_iso(texts: pd.Series) -> pd.Series:
    """Dates written year first with slashes or dots as ISO text (2009/5/6 -> 2009-05-06),
    so that they are read year, month, day: a general reader taking days first would read
    2009/13/02 as 13 February, where no system writes year, day, month (it is unreadable,
    and counted so)."""
    return texts.str.replace(_YEAR_FIRST, lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}",
                             regex=True)


def day_order(texts: pd.Series, column: str, source: str, row_of=None) -> bool:
    """True when the column's numeric dates are day first (its values decide); refuses a
    column in US order, one mixing both orders and one whose values cannot tell.
    ``row_of``: the file's row label of a value's index (default: the index itself)."""
    row_of = row_of or (lambda label: label)
    parts = texts.str.extract(_DAY_MONTH)
    numeric = parts[0].notna()
    if not numeric.any():
        return True  # ISO, month names...: the order is not in question
    first = parts.loc[numeric, 0].astype(int)
    second = parts.loc[numeric, 1].astype(int)
    day_first = first.index[(first > 12).to_numpy()]
    month_first = second.index[(second > 12).to_numpy()]
    where = f"{source}, column '{column}'"

    def example(label) -> str:
        return f"row {row_of(label)} ('{texts[label]}')"

    if len(day_first) and len(month_first):
        raise InputError(
            f"{where}: the dates mix two orders: {example(day_first[0])} can only be day "
            f"first and {example(month_first[0])} only month first; correct the file, or "
            + _format_hint(DAY_FIRST) + " (dates that do not fit it are left unread)")
    if len(month_first):
        raise InputError(
            f"{where}: the dates are month first (US order, MM/DD/YYYY): "
            f"{example(month_first[0])} has a second number above 12 (as "
            f"{len(month_first):,} distinct dates have); reading them day first would misdate "
            "the others, so nothing was read. If they are month first, "
            + _format_hint(MONTH_FIRST))
    if not len(day_first):
        raise InputError(
            f"{where}: the dates could be day first (DD/MM/YYYY) or month first "
            f"(MM/DD/YYYY): none of its {len(first):,} distinct dates has a number above "
            f"12 to tell (e.g. {example(first.index[0])}); "
            + _format_hint(DAY_FIRST) + f' (or "{MONTH_FIRST}")')
    return True


def parse_dates(values: pd.Series, date_format: str | None = None, column: str = "date",
                source: str = "the file") -> pd.Series:
    """Dates as partner files give them, as naive UK local timestamps; NaT where a value is
    blank or cannot be read (callers count those). Refuses (``InputError``) a column whose
    day/month order is US, mixed or undecided when no ``date_format`` is given. Each
    distinct text is read once."""
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = pd.Series(values)
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_convert(LOCAL_ZONE).dt.tz_localize(None)
        return dates
    text = pd.Series(values, copy=False).astype("string").str.strip()
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    unique = pd.Series(pd.Index(uniques).astype(str), dtype="string")
    unique = unique.where(unique != "", pd.NA)
    parsed = _parse_distinct(unique.dropna(), date_format, column, source, text, codes)
    whole = pd.Series(pd.NaT, index=range(len(unique)), dtype="datetime64[ns]")
    whole[parsed.index] = parsed.to_numpy()
    out = whole.to_numpy()[np.where(codes >= 0, codes, 0)]
    out[codes < 0] = np.datetime64("NaT")
    return pd.Series(out, index=values.index, name=getattr(values, "name", None))


def _plain_iso(unique: pd.Series) -> bool:
    """True when every text is an ISO date, or date and time to the minute or the second,
    with no zone and nothing else (``2021-03-04``, ``2021-03-04 10:15``,
    ``2021-03-04T10:15:00``), as most systems export them: such texts need no zone, no
    day/month order and no other reading. Checked character by character on the texts as
    one array of code points, not by a regular expression per text."""
    points = unique.to_numpy(dtype=str)
    if points.dtype.itemsize > 4 * 19:
        return False
    points = points.view(np.uint32).reshape(len(points), -1)
    points = np.pad(points, ((0, 0), (0, 19 - points.shape[1])))
    length = (points != 0).sum(axis=1)
    digit = (points >= ord("0")) & (points <= ord("9"))
    date = (digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1) & (points[:, 4] == ord("-"))
            & (points[:, 7] == ord("-")))
    time = (((points[:, 10] == ord(" ")) | (points[:, 10] == ord("T")))
            & digit[:, [11, 12, 14, 15]].all(axis=1) & (points[:, 13] == ord(":")))
    seconds = digit[:, [17, 18]].all(axis=1) & (points[:, 16] == ord(":"))
    return bool((date & ((length == 10) | ((length == 16) & time)
                         | ((length == 19) & time & seconds))).all())


def _parse_distinct(unique: pd.Series, date_format, column, source, text, codes
                    ) -> pd.Series:
    if unique.empty:
        return pd.Series(dtype="datetime64[ns]")
    if not date_format and _plain_iso(unique):  # (what the general reading below gives)
        dates = pd.to_datetime(unique, format="ISO8601", errors="coerce")
        return pd.Series(dates.to_numpy(dtype="datetime64[ns]"), index=unique.index)
    bare, minutes = _split_zones(unique)
    if date_format:
        if "%z" in date_format or "%Z" in date_format:
            dates = pd.to_datetime(unique, format=date_format, errors="coerce", utc=True)
            return dates.dt.tz_convert(LOCAL_ZONE).dt.tz_localize(None)
        dates = pd.to_datetime(bare, format=date_format, errors="coerce")
        iso = dates.isna() & bare.str.fullmatch(_ISO.pattern)
        if iso.any():  # ISO dates cannot be misread: they stay readable beside the format
            dates[iso] = pd.to_datetime(bare[iso], format="ISO8601", errors="coerce")
    else:
        def row_of(position) -> object:  # the file's first row holding that value
            return text.index[int(np.argmax(codes == position))]

        day_order(bare, column, source, row_of)
        bare = _year_first_as_iso(bare)
        if bare.str.fullmatch(_ISO.pattern).all():
            dates = pd.to_datetime(bare, format="ISO8601", errors="coerce")
        else:
            dates = pd.to_datetime(bare, format="mixed", dayfirst=True, errors="coerce")
            year_first = bare.str.match(_YEAR_FIRST_ISO)
            if year_first.any():  # year, month, day only: never read year, day, month
                dates[year_first] = pd.to_datetime(bare[year_first], format="ISO8601",
                                                   errors="coerce")
    zoned = minutes.notna() & dates.notna()
    if zoned.any():
        utc = dates[zoned] - pd.to_timedelta(minutes[zoned], unit="min")
        dates = dates.astype("datetime64[ns]")
        dates[zoned] = (utc.dt.tz_localize("UTC").dt.tz_convert(LOCAL_ZONE)
                        .dt.tz_localize(None).to_numpy())
    return pd.Series(dates.to_numpy(dtype="datetime64[ns]"), index=unique.index)
