"""Incident profiles by segment: the method's "Table 1".

For each count column (fires, injuries, fatalities...; one row = one incident when none is
given), per segment:

- **count** and **share** (% of the incidents located in the study area);
- **rate per 1,000 households** and **per 1,000 residents**;
- **index** of over/under-representation: share of incidents / share of households x 100
  (100 = as many as the segment's households would suggest), with a 95% confidence
  interval from the exact (Garwood) Poisson interval of the count, the study total held
  fixed.

Filters: a date range on a date column, and a list of categories on a category column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.dates import parse_dates
from ..data.ingest import parse_numbers
from ..data.locate import MATCHED
from ..errors import InputError
from ..segment.words import counted, without_segment

ONE_PER_ROW = "incidents"


@dataclass(frozen=True)
class IncidentFilter:
    date_column: str | None = None
    date_from: str | None = None  # inclusive, ISO date
    date_to: str | None = None  # inclusive, ISO date
    category_column: str | None = None
    categories: tuple = ()
    date_format: str | None = None  # e.g. "%m/%d/%Y"; None: ISO or judged day first


def exact_poisson_interval(counts: np.ndarray, level: float = 0.95) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Garwood's exact interval for Poisson counts."""
    from scipy.stats import chi2  # (a second's import, not paid by steps that only read dates)

    counts = np.asarray(counts, dtype=float)
    alpha = 1 - level
    low = np.where(counts > 0, chi2.ppf(alpha / 2, 2 * counts) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * (counts + 1)) / 2
    return low, high


def window_date(text: str | None, what: str) -> pd.Timestamp | None:
    """A date of the window (YYYY-MM-DD), or one line saying why it is not one."""
    if not text:
        return None
    try:
        return pd.Timestamp(pd.to_datetime(text, format="%Y-%m-%d"))
    except (ValueError, TypeError) as err:
        raise InputError(f"{what} '{text}' is not a date (YYYY-MM-DD)") from err


def filter_records(records: pd.DataFrame, rules: IncidentFilter, source: str
                   ) -> tuple[pd.Series, pd.Series]:
    """Which records pass the filters (all, when none is set), and which have no date that
    can be read, empty or not a date (with a date column named, never counted, with a
    period asked for or not: a profile's period is that of the dates it counts, and the
    caller says so)."""
    keep = pd.Series(True, index=records.index)
    unreadable = pd.Series(False, index=records.index)
    start = window_date(rules.date_from, "the start date")
    end = window_date(rules.date_to, "the end date")
    if (start is not None or end is not None) and not rules.date_column:
        raise InputError("a date window (--from/--to) needs the date column named "
                         "(--date-column)")
    if rules.categories and not rules.category_column:
        raise InputError("a category (--category) needs the category column named "
                         "(--category-column)")
    if start is not None and end is not None and start > end:
        raise InputError(f"the start date {rules.date_from} is after the end date "
                         f"{rules.date_to}")
    if rules.date_column:
        if rules.date_column not in records.columns:
            raise InputError(f"{source}: no date column '{rules.date_column}'")
        dates = parse_dates(records[rules.date_column], rules.date_format,
                            rules.date_column, source)
        unreadable = dates.isna()
        keep &= ~unreadable
        if start is not None:
            keep &= dates >= start
        if end is not None:
            keep &= dates < end + pd.Timedelta(days=1)
    if rules.category_column:
        if rules.category_column not in records.columns:
            raise InputError(f"{source}: no category column '{rules.category_column}'")
        if rules.categories:
            values = records[rules.category_column].astype(str).str.strip()
            known = sorted(set(values[values != ""]))
            wanted = {c.strip().lower() for c in rules.categories}
            unknown = sorted(wanted - {k.lower() for k in known})
            if unknown:
                listed = "; ".join(known[:15]) + (" ..." if len(known) > 15 else "")
                raise InputError(f"{source}: no record has the category "
                                 f"{', '.join(repr(u) for u in unknown)} in column "
                                 f"'{rules.category_column}'; its categories are: {listed}")
            keep &= values.str.lower().isin(wanted)
    return keep, unreadable


def incident_counts(records: pd.DataFrame, located: pd.DataFrame, count_columns, keep,
                    source: str) -> pd.DataFrame:
    """Incidents per area, one column per count (``incidents`` = one per row)."""
    in_area = (located["status"] == MATCHED) & keep
    columns = list(count_columns) or [ONE_PER_ROW]
    counts = {}
    for column in columns:
        if column == ONE_PER_ROW and column not in records.columns:
            values = pd.Series(1.0, index=records.index)
        else:
            if column not in records.columns:
                raise InputError(f"{source}: no count column '{column}'")
            values, _, unreadable = parse_numbers(records[column])
            if unreadable.any():
                row = records.index[unreadable.to_numpy()][0]
                raise InputError(f"{source}, row {row}, column '{column}': "
                                 f"'{records.loc[row, column]}' is not a number")
            wrong = (values < 0) | (values.round() != values)
            if wrong.fillna(False).any():
                row = records.index[wrong.fillna(False).to_numpy()][0]
                raise InputError(f"{source}, row {row}, column '{column}': "
                                 f"'{records.loc[row, column]}' is not a count (a whole "
                                 "number, 0 or more)")
            values = values.fillna(0)
        counts[column] = values[in_area].groupby(located.loc[in_area, "area_code"]).sum()
    return pd.DataFrame(counts).fillna(0)


def profile_base(bases: pd.DataFrame) -> str:
    """What a profile's incidents are compared with: households, else residents."""
    base = next((b for b in ("households", "residents") if b in bases.columns), None)
    if base is None:
        raise InputError("incident profile: the segmentation has neither households nor "
                         "residents to compare with; name them under [sizes] in the project")
    return base


def profiled_areas(segments: pd.Series, bases: pd.DataFrame) -> pd.Series:
    """The areas a profile counts (area -> segment): those classified whose households (or
    residents) are known. An incident in an area of unknown households counted against the
    households of the others would inflate every rate and index."""
    known = bases[profile_base(bases)].reindex(segments.index).notna().to_numpy()
    return segments[known]


NOT_PROFILED = "Not in the profile's counts, rates and indices: "


def not_profiled_note(area_counts: pd.DataFrame, profiled: pd.Index, segments: pd.Series,
                      base: str, manifest: dict | None = None) -> str:
    """A sentence on what is in areas the profile does not count, each measure in its own
    words ("6 injuries, 4 fatalities"), by why ('' when nothing is)."""
    left = area_counts.drop(index=profiled, errors="ignore")
    left = left[(left > 0).any(axis=1)]
    if left.empty:
        return ""
    unclassified = ~left.index.isin(segments.index)
    why = {without_segment(manifest): unclassified,
           f"whose {base} are not known": ~unclassified}
    parts = []
    for reason, rows in why.items():
        if rows.any():
            totals = left[rows].sum()
            said = ", ".join(counted(int(n), words(column).lower())
                             for column, n in totals.items() if n > 0)
            parts.append(f"{said} in {counted(int(rows.sum()), 'output areas')} {reason}")
    return NOT_PROFILED + "; and ".join(parts)


def incident_profile(area_counts: pd.DataFrame, segments: pd.Series,
                     bases: pd.DataFrame) -> pd.DataFrame:
    """The profile table: one row per segment and count column.

    ``segments``: area -> segment; ``bases``: area -> households, residents. The index
    compares with the segment's share of households, or of residents where the project
    names no households (columns ``resident_share_pct``; ``profile_base`` says which).
    """
    base = profile_base(bases)
    segments = profiled_areas(segments, bases)
    frame = bases.reindex(segments.index).assign(segment=segments.to_numpy())
    frame = frame.join(area_counts.reindex(segments.index).fillna(0))
    by_segment = frame.groupby("segment").sum(numeric_only=True)
    one = base[:-1]  # household, resident
    rows = []
    for column in area_counts.columns:
        count = by_segment[column]
        total = count.sum()
        people = by_segment[base]
        base_share = people / people.sum()
        expected = total * base_share
        low, high = exact_poisson_interval(count.to_numpy())
        table = pd.DataFrame({
            "segment": by_segment.index.astype(int), "measure": column, "count": count,
            "share_pct": 100 * count / total if total else np.nan,
            base: people,
            f"{one}_share_pct": 100 * base_share,
            f"rate_per_1000_{base}": 1000 * count / people,
        })
        if "residents" in by_segment.columns and base != "residents":
            table["residents"] = by_segment["residents"]
            table["rate_per_1000_residents"] = 1000 * count / by_segment["residents"]
        table["index"] = 100 * count / expected
        table["index_low_95"] = 100 * low / expected.to_numpy()
        table["index_high_95"] = 100 * high / expected.to_numpy()
        table["representation"] = np.select(
            [table["index_low_95"] > 100, table["index_high_95"] < 100],
            ["over-represented", "under-represented"], "as expected")
        rows.append(table)
    return pd.concat(rows, ignore_index=True)  # full precision: rounded once, when shown


# the profile's figures as written to its CSV file (the GeoPackage keeps full precision, so
# a report rounds once, from the full value)
PROFILE_DECIMALS = {"share_pct": 2, "household_share_pct": 2, "resident_share_pct": 2,
                    "rate_per_1000_households": 3, "rate_per_1000_residents": 3, "index": 1,
                    "index_low_95": 1, "index_high_95": 1}


def words(name: str) -> str:
    """A stored name (``antisocial_behaviour``) as words ("Antisocial behaviour")."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def measure_title(what: str, measure: str) -> str:
    """An incident profile's measure as a title: "Fires" for the incidents themselves (one
    per row: "Fires: incidents" would say it twice), "Fires: injuries" for a count column."""
    return what if measure == ONE_PER_ROW else f"{what}: {words(measure).lower()}"


# the profile's columns as the console shows them: headings in words, with units
CONSOLE_HEADINGS = {"segment": "Segment", "segment_name": "Name", "measure": "Measure",
                    "count": "Count", "share_pct": "Share of all (%)",
                    "rate_per_1000_households": "Per 1,000 households",
                    "rate_per_1000_residents": "Per 1,000 residents",
                    "index": "Index (100 = average)", "index_low_95": "95% interval: low",
                    "index_high_95": "high", "representation": "Compared with its share"}


def console_profile(profile: pd.DataFrame, segment_names: dict) -> pd.DataFrame:
    """The profile as the command line prints it: each segment's name (shortened to 30
    characters), the counts, shares, rates over the period and index with its interval,
    headed in words; the rate per households where the project names households, else
    per residents."""
    table = profile_for_readers(profile, segment_names)
    table["segment_name"] = table["segment_name"].map(
        lambda name: (name if len(name) <= 30 else name[:29] + "…").ljust(30))
    shown = [c for c in CONSOLE_HEADINGS if c in table.columns]
    if "rate_per_1000_households" in shown:
        shown.remove("rate_per_1000_residents")
    return table[shown].rename(columns=CONSOLE_HEADINGS)


def profile_for_readers(profile: pd.DataFrame, segment_names: dict, period: str = "",
                        years: float | None = None) -> pd.DataFrame:
    """The profile as its CSV file gives it to a person: each segment's name beside its
    number, the period the incidents cover, counts as whole numbers, and the rates per
    year too where the period is a year or more (``years`` long); shares, rates and
    indices to a few decimals (``PROFILE_DECIMALS``)."""
    table = profile.round(PROFILE_DECIMALS)
    for column in ("count", "households", "residents"):
        values = table[column] if column in table else None
        if values is not None and np.allclose(values.dropna(), values.dropna().round()):
            table[column] = values.round().astype("Int64")
    table.insert(table.columns.get_loc("segment") + 1, "segment_name",
                 [segment_names.get(int(s), "") for s in table["segment"]])
    if period:
        table.insert(table.columns.get_loc("measure") + 1, "period", period)
    if years is not None and years >= 1:
        for base in ("households", "residents"):
            column = f"rate_per_1000_{base}"
            if column in table:
                table.insert(table.columns.get_loc(column) + 1, f"{column}_per_year",
                             (profile[column] / years).round(PROFILE_DECIMALS[column]))
    return table


def draw_index_bars(ax, rows: pd.DataFrame, title: str, axis: str, reference: str,
                    names: dict | None = None) -> None:
    """The index by segment on ``ax``: bars in the segments' colours with their 95%
    intervals, the 100 line, the axes named (``reference``: what 100 is, "share of" or "its
    share of" the households or residents). A missing index (suppressed) has no bar.
    With ``names`` (segment -> name) the bars lie across, one row per segment labelled
    "number – name", segment 1 at the top."""
    from ..styles import segment_colour

    segments = rows["segment"].to_numpy()
    index = rows["index"].to_numpy(dtype=float)
    error = np.vstack([index - rows["index_low_95"].to_numpy(dtype=float),
                       rows["index_high_95"].to_numpy(dtype=float) - index])
    colours = [segment_colour(s) for s in segments]
    error = np.where(np.isnan(error), 0, error)
    base = "households" if "household_share_pct" in rows.columns else "residents"
    if names is None:
        ax.bar([str(s) for s in segments], np.nan_to_num(index), color=colours, yerr=error,
               capsize=3, ecolor="black")
        ax.axhline(100, color="black", linewidth=0.8, linestyle="--")
        ax.set_xlabel(axis)
        ax.set_ylabel(f"index (100 = {reference} {base})")
    else:
        import textwrap

        labels = ["\n".join(textwrap.wrap(f"{s} – {names.get(int(s), '')}".rstrip(" –"),
                                          40, max_lines=3, placeholder="…"))
                  for s in segments]
        ax.barh(range(len(segments)), np.nan_to_num(index), color=colours, xerr=error,
                capsize=3, ecolor="black")
        ax.set_yticks(range(len(segments)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(100, color="black", linewidth=0.8, linestyle="--")
        ax.set_ylabel(axis)
        ax.set_xlabel(f"index (100 = {reference} {base})")
    ax.set_title(title, fontsize=10)


def profile_chart(profile: pd.DataFrame, measure: str, title: str, path: Path,
                  axis: str = "segment", names: dict | None = None) -> Path:
    """Bar chart of the index by segment, with its 95% interval and the 100 line (with
    ``names``, a row per segment labelled with its name)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = profile[profile["measure"] == measure]
    figure = Figure(figsize=(8, 4.5 if names is None else 1.6 + 0.5 * len(rows)))
    FigureCanvasAgg(figure)
    draw_index_bars(figure.add_subplot(), rows, title, axis, "share of", names)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path
