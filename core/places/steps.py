"""The steps that work on a saved segmentation: gazetteer, incidents, ward matrices, export.

Each reads the segmentation's GeoPackage, runs the engine functions and adds its results to
the GeoPackage (atomically, and only if it still holds the segmentation the step read: its
identity is checked just before writing), so that later steps find them there:

- ``addresses`` layer and ``address_match_report`` table (gazetteer);
- ``incident_counts_<name>``, ``incident_profile_<name>``, ``incident_records_<name>``
  (incidents; record IDs pseudonymised, no other record columns kept);
- ``matrix_<measure>`` tables (ward code and name columns, segment columns headed
  "n – name", totals) and a ``wards`` layer (matrices).

Each layer is stored with its style and a description (its abstract in QGIS) so that it
opens readable wherever the GeoPackage goes.

Files outside the GeoPackage: an incident profile's files join whatever else its folder
holds (each replaced atomically; charts of measures it no longer has removed); the partner
export replaces its folder whole from the command line (``replace_folder``) and file by
file in a folder a user chose in QGIS.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from ..cells import write_csv
from ..data.dates import parse_dates
from ..data.locate import (
    MATCHED,
    UNREADABLE,
    AreaIndex,
    LocationColumns,
    locate,
    postcode_points,
    read_records,
    records_from_points,
)
from ..data.pseudonyms import pseudonymisation_key, pseudonymise
from ..errors import InputError
from ..segment.saved import load_segmentation
from ..store.geopackage import add_to_geopackage, gpkg_file, read_gpkg_table
from ..styles import (
    address_layer_abstract,
    graduated_qml,
    incident_layer_abstract,
    numbering_axis,
    segment_layer_qml,
    tip_text,
)
from .gazetteer import join_gazetteer, match_summary
from .incidents import (
    ONE_PER_ROW,
    IncidentFilter,
    filter_records,
    incident_counts,
    incident_profile,
    measure_title,
    not_profiled_note,
    profile_base,
    profile_chart,
    profile_for_readers,
    profiled_areas,
    words,
)


@dataclass(frozen=True)
class PostcodeFile:
    path: Path
    postcode: str = "Postcode"
    x: str = "Eastings"
    y: str = "Northings"
    crs: str = "EPSG:27700"

    def points(self) -> pd.DataFrame:
        table, _, _ = read_records(self.path)
        return postcode_points(table, self.postcode, self.x, self.y, self.crs, self.path.name)


def gpkg_path(path: Path) -> Path:
    """The GeoPackage of a saved segmentation given as a file or its folder."""
    return gpkg_file(path)


def safe_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    if not name:
        raise InputError(f"'{text}' cannot name a table: use letters, digits or _")
    return name


RECORD_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".gpkg", ".shp",
                   ".geojson", ".json"}


def record_files(paths) -> list[Path]:
    """The files of one profile: each path given, a folder standing for the record files in
    it (sorted by name; police.uk publishes one CSV a month)."""
    files = []
    for path in map(Path, paths if isinstance(paths, (list, tuple)) else [paths]):
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in RECORD_SUFFIXES
                           and not p.name.startswith("."))
            if not found:
                raise InputError(f"{path}: the folder holds no record files (CSV, XLSX or "
                                 "point layers)")
            files.extend(found)
        else:
            files.append(path)
    names = [f.name for f in files]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"{repeated[0]}: given twice (the file names the rows in the record "
                         "reconciliation, so each file is given once)")
    return files


def read_record_sources(source, name: str | None = None):
    """(records as text, unreadable rows, CRS, source name) from a file, a point layer, or
    several files (or a folder) of the same columns read as one: their rows are labelled
    "file.csv:line", and the reconciliation's source and row columns name each."""
    if isinstance(source, gpd.GeoDataFrame):
        name = name or "layer"
        return (*records_from_points(source, name), name)
    files = record_files(source)
    if len(files) == 1:
        return (*read_records(files[0]), files[0].name)
    frames, bad, crss = [], [], set()
    for path in files:
        records, unreadable, crs = read_records(path)
        if frames and set(records.columns) != set(frames[0].columns):
            first = files[0].name
            extra = sorted(set(records.columns) - set(frames[0].columns))
            lacking = sorted(set(frames[0].columns) - set(records.columns))
            raise InputError(f"{path.name}: its columns differ from {first}'s ("
                             + "; ".join(p for p in (
                                 f"not in {first}: {', '.join(extra)}" if extra else "",
                                 f"missing: {', '.join(lacking)}" if lacking else "") if p)
                             + "); files read as one profile need the same columns")
        records = records.copy()
        records.index = [f"{path.name}:{line}" for line in records.index]
        frames.append(records)
        bad.append(unreadable)
        crss.add(crs)
    if len(crss) > 1:
        raise InputError(f"{', '.join(f.name for f in files)}: the layers are in different "
                         "coordinate systems; give them in one")
    shown = ", ".join(f.name for f in files[:3]) + (" ..." if len(files) > 3 else "")
    return (pd.concat(frames)[list(frames[0].columns)], pd.concat(bad, ignore_index=True),
            crss.pop(), f"{len(files)} files ({shown})")


def _split_rows(reconciliation: pd.DataFrame) -> pd.DataFrame:
    """Rows labelled "file.csv:line" (several files read as one): the file into ``source``,
    the line into ``row``."""
    rows = reconciliation["row"].astype(str)
    several = rows.str.contains(":", regex=False) & (reconciliation["status"] != UNREADABLE)
    if several.any():
        parts = rows[several].str.rsplit(":", n=1, expand=True)
        reconciliation.loc[several, "source"] = parts[0].to_numpy()
        reconciliation.loc[several, "row"] = parts[1].to_numpy()
    return reconciliation


def gazetteer_step(segmentation: Path, addresses, id_column: str,
                   columns: LocationColumns, postcodes: PostcodeFile | None = None,
                   source_name: str | None = None, warn: Callable[[str], None] | None = None
                   ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """``addresses``: a file, or a point layer as a GeoDataFrame (``source_name`` names it).
    A new gazetteer far smaller than the one it replaces is said through ``warn`` (default:
    Python's ``warnings``)."""
    warn = warn or (lambda text: warnings.warn(text, stacklevel=3))
    seg = load_segmentation(segmentation)
    before = _gazetteer_size(segmentation)
    records, unreadable, crs, source = read_record_sources(addresses, source_name)
    layer, report = join_gazetteer(seg.areas, records, id_column, columns,
                                   postcodes.points() if postcodes else None, source, crs,
                                   seg.manifest)
    report = pd.concat([report, unreadable], ignore_index=True)
    summary = match_summary(report)
    if len(layer) == 0:
        said = ", ".join(f"{n:,} {s}" for s, n in report["status"].value_counts().items())
        raise InputError(f"{source}: no address could be placed in a segment "
                         f"({said or 'no records'}); the saved gazetteer was kept as it was")
    add_to_geopackage(gpkg_path(segmentation), {"address_match_report": report,
                                                "address_match_summary": summary},
                      layers={"addresses": layer},
                      styles={"addresses": segment_layer_qml(seg.segment_names, kind="marker")},
                      descriptions={"addresses": address_layer_abstract(seg.name,
                                                                        seg.manifest)},
                      identity=seg.manifest["identity"])
    note = shrunk_gazetteer_note(before, len(layer))
    if note:
        warn(note)
    return layer, report, summary


def incidents_step(segmentation: Path, incidents, name: str,
                   columns: LocationColumns, out_dir: Path, id_column: str | None = None,
                   count_columns=(), rules: IncidentFilter | None = None,
                   postcodes: PostcodeFile | None = None, key_file: Path | None = None,
                   source_name: str | None = None, note: str = ""
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Locate incidents (a file, or a point layer as a GeoDataFrame), profile them by
    segment, save tables, chart, record reconciliation and a styled area layer of rates.
    ``note``: what a reader should know about the file (a gap in it, say), kept with its
    source and shown wherever the source is, with what the profile leaves out (incidents
    in areas without a segment or with unknown households: ``not_profiled_note``)."""
    name = safe_name(name)
    seg = load_segmentation(segmentation)
    records, unreadable, crs, source = read_record_sources(incidents, source_name)
    if id_column and id_column not in records.columns:
        raise InputError(f"{source}: no ID column '{id_column}'")
    located = locate(records, columns, AreaIndex(seg.areas),
                     postcodes.points() if postcodes else None, source, crs,
                     _gazetteer_ids(segmentation) if columns.uprn else None)
    rules = rules or IncidentFilter()
    keep, bad_dates = filter_records(records, rules, source)
    if not ((located["status"] == MATCHED) & keep).any():
        found = located["status"].value_counts()
        said = ", ".join(f"{n:,} {status}" for status, n in found.items()) or "no records"
        raise InputError(f"{source}: no record is both in the study area and within the "
                         f"filters ({said}; {int(keep.sum()):,} pass the filters); nothing "
                         "was stored")
    counts = incident_counts(records, located, count_columns, keep, source)
    classified = seg.areas["segment"].dropna().astype(int)
    bases = area_bases(seg)
    profile = incident_profile(counts, classified, bases)
    profiled = profiled_areas(classified, bases).index
    left_out = not_profiled_note(counts, profiled, classified, profile_base(bases),
                                 seg.manifest)
    note = "; ".join(n for n in (str(note or "").strip(), left_out) if n)

    # the key must not be made of the project's name, nor of what the incidents are called
    key, key_source = pseudonymisation_key(key_file, (seg.name, name, source_name))
    ids = (records[id_column] if id_column else pd.Series(records.index.astype(str),
                                                          index=records.index))
    reconciliation = pd.DataFrame({
        "source": source, "row": records.index, "record_id": pseudonymise(ids, key).to_numpy(),
        "area_code": located["area_code"].to_numpy(), "status": located["status"].to_numpy(),
        "method": located["method"].to_numpy(), "detail": located["detail"].to_numpy(),
        "in_filter": keep.to_numpy(), "date_unreadable": bad_dates.to_numpy()})
    reconciliation = _split_rows(pd.concat([reconciliation, unreadable.assign(
        in_filter=False, date_unreadable=False)], ignore_index=True))
    area_counts = counts.rename_axis("area_code").reset_index()
    dates = incident_dates(records, (located["status"] == MATCHED) & keep, rules)
    period = period_label(*dates) if dates else ""
    rates, rates_qml, rates_abstract = incident_area_layer(
        seg, counts, profile, name, period, rules.categories)
    about = incident_about(name, source, dates, rules, reconciliation, note, profiled)
    earlier_charts = _chart_files(Path(out_dir), name)
    # the profile's files join whatever else the folder holds (other profiles, or the
    # segmentation's own folder), the rest left alone; they and the GeoPackage's tables go
    # in together, only if it still holds the segmentation these results were computed from
    from ..store.together import staged_together

    with staged_together(out_dir, gpkg_path(segmentation), {
            f"incident_counts_{name}": area_counts, f"incident_profile_{name}": profile,
            f"incident_records_{name}": reconciliation, f"incident_about_{name}": about},
            identity=seg.manifest["identity"], layers={f"incident_areas_{name}": rates},
            styles={f"incident_areas_{name}": rates_qml},
            descriptions={f"incident_areas_{name}": rates_abstract}) as staging:
        years = period_years(*dates) if dates else None
        write_csv(profile_for_readers(profile, seg.segment_names, period or "not known",
                                      years),
                  staging / f"incident_profile_{name}.csv", index=False)
        write_csv(reconciliation.astype({"row": "Int64"}),
                  staging / f"incident_records_{name}.csv", index=False)
        (staging / f"incident_records_{name}.txt").write_text(
            f"record_id: HMAC-SHA-256 pseudonyms made with {key_source}\n", encoding="utf-8")
        charts = set()
        for measure in profile["measure"].unique():
            chart = f"incident_profile_{name}_{safe_name(measure)}.png"
            charts.add(chart)
            what = measure_title(words(name), measure)
            base = "households" if "household_share_pct" in profile else "residents"
            profile_chart(profile, measure, f"{what}, {period or 'period not known'}, by "
                          f"segment\nindex against the segment's share of {base}, with its "
                          "95% interval",
                          staging / chart, numbering_axis(seg.manifest), seg.segment_names)
    for stale in earlier_charts - charts:  # charts of measures this profile no longer has
        (Path(out_dir) / stale).unlink(missing_ok=True)
    return profile, reconciliation


def incident_about(name: str, source: str, dates: tuple | None, rules: IncidentFilter,
                   reconciliation: pd.DataFrame, note: str = "",
                   profiled: pd.Index | None = None) -> pd.DataFrame:
    """One row saying where a profile's incidents came from, for readers of the report and
    the partner workbook: the file's name (never its folder), the period in words and its
    first and last days (ISO; empty when not known), the categories kept, how many records
    were counted of how many read, and the note (the user's, and what the profile leaves
    out)."""
    located = (reconciliation["status"] == MATCHED) & reconciliation["in_filter"].astype(bool)
    # counted: in an area the profile counts (``profiled``: classified, households known)
    counted = located & (reconciliation["area_code"].isin(profiled) if profiled is not None
                         else True)
    return pd.DataFrame([{
        "incidents": name,
        "source": (str(source) if " files (" in str(source)
                   else Path(str(source).split(" (")[0]).name),
        "period": period_label(*dates) if dates else "not known",
        "first_day": f"{dates[0]:%Y-%m-%d}" if dates else "",
        "last_day": f"{dates[1]:%Y-%m-%d}" if dates else "",
        "categories": "; ".join(rules.categories) if rules.categories else "all",
        "category_column": rules.category_column or "",
        "records_read": int(len(reconciliation)), "records_counted": int(counted.sum()),
        "records_not_profiled": int((located & ~counted).sum()),
        "note": str(note or "").strip()}])


def _chart_files(folder: Path, name: str) -> set[str]:
    """The chart files an earlier profile of this name left in ``folder`` (from the
    measures its saved profile lists)."""
    try:
        earlier = pd.read_csv(folder / f"incident_profile_{name}.csv", usecols=["measure"])
        return {f"incident_profile_{name}_{safe_name(str(m))}.png"
                for m in earlier["measure"].dropna().unique()}
    except (OSError, ValueError, InputError, pd.errors.ParserError):
        return set()


def unreadable_dates_note(records: pd.DataFrame) -> str | None:
    """One line on the records with no date that can be read, empty or not a date (None
    when there are none): they are not counted."""
    rows = records.loc[records["date_unreadable"].astype(bool), "row"]
    if not len(rows):
        return None
    shown = ", ".join(str(int(r)) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
    one = len(rows) == 1
    return (f"{len(rows):,} record{'' if one else 's'} {'has' if one else 'have'} a date "
            f"that is missing or could not be read and {'is' if one else 'are'} not counted "
            f"(row{'' if one else 's'} {shown})")


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
          "Dec")


def _month(day: pd.Timestamp) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def period_label(first: pd.Timestamp, last: pd.Timestamp) -> str:
    """A period in words: "2009–2024" (whole years), "Jul 2019" (one month), "Mar–Sep 2019",
    "Jan 2009 – Aug 2024"."""
    if (first.year, first.month) == (last.year, last.month):
        return _month(first)
    if first.month == 1 and last.month == 12:
        return str(first.year) if first.year == last.year else f"{first.year}–{last.year}"
    if first.year == last.year:
        return f"{MONTHS[first.month - 1]}–{_month(last)}"
    return f"{_month(first)} – {_month(last)}"


def period_months(label: str | None) -> int | None:
    """The whole months a ``period_label`` covers ("2009–2024": 192, "Jul 2019": 1,
    "Jan 2009 – Aug 2024": 188); None for a period not known or not in that form."""
    import re

    month = "|".join(MONTHS)
    forms = ((r"(\d{4})–(\d{4})", lambda y1, y2: (1, int(y1), 12, int(y2))),
             (r"(\d{4})", lambda y: (1, int(y), 12, int(y))),
             (rf"({month}) (\d{{4}})", lambda m, y: (m, int(y), m, int(y))),
             (rf"({month})–({month}) (\d{{4}})", lambda m1, m2, y: (m1, int(y), m2, int(y))),
             (rf"({month}) (\d{{4}}) – ({month}) (\d{{4}})",
              lambda m1, y1, m2, y2: (m1, int(y1), m2, int(y2))))
    for pattern, parts in forms:
        found = re.fullmatch(pattern, str(label or "").strip())
        if found:
            m1, y1, m2, y2 = (MONTHS.index(p) + 1 if isinstance(p, str) else p
                              for p in parts(*found.groups()))
            months = (y2 - y1) * 12 + m2 - m1 + 1
            return months if months > 0 else None
    return None


def _date_column(records: pd.DataFrame, rules: IncidentFilter) -> str | None:
    if rules.date_column:
        return rules.date_column
    named = [c for c in records.columns if str(c).strip().lower() in ("date", "month")]
    named += [c for c in records.columns if "date" in str(c).lower() and c not in named]
    return named[0] if named else None


def period_years(first: pd.Timestamp, last: pd.Timestamp) -> float:
    """The length in years of a period from ``first`` to ``last`` (both days counted)."""
    return ((pd.Timestamp(last) - pd.Timestamp(first)).days + 1) / 365.25


def stored_period(about) -> tuple[str, float | None]:
    """An incident source's period as stored (``incident_about``): its label ('' when not
    known) and its length in years (None where its first and last days were not stored:
    sources stored before they were, or incidents without dates)."""
    if about is None:
        return "", None
    label = str(about.get("period") or "")
    label = "" if label in ("not known", "nan") else label
    first, last = (pd.to_datetime(str(about.get(day) or ""), errors="coerce")
                   for day in ("first_day", "last_day"))
    return label, None if pd.isna(first) or pd.isna(last) else period_years(first, last)


def incident_period(records: pd.DataFrame, counted: pd.Series,
                    rules: IncidentFilter) -> str:
    """The period the counted incidents cover, in words, for legends ("" when unknown)."""
    dates = incident_dates(records, counted, rules)
    return period_label(*dates) if dates else ""


def incident_dates(records: pd.DataFrame, counted: pd.Series,
                   rules: IncidentFilter) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last days the counted incidents cover (None when unknown): the date
    filter's bounds where given, else the first and last dates of the counted records, in
    the filter's date column or else a column named "date", "month" or "...date..." whose
    values are (nearly all) dates. Dates that are all the first of a month are months
    ("2019-07": July 2019), so the last one runs to its month's end."""
    column = _date_column(records, rules)
    first = pd.Timestamp(rules.date_from) if rules.date_from else None
    last = pd.Timestamp(rules.date_to) if rules.date_to else None
    if column in records.columns and (first is None or last is None):
        try:
            dates = parse_dates(records.loc[counted.to_numpy(), column], rules.date_format,
                                column)
        except InputError:
            if rules.date_column:  # read (and checked) by the filter already
                raise
            return None  # a guessed column of undecided dates: no period, not a wrong one
        readable = dates.notna().mean() if len(dates) else 0.0
        if rules.date_column or readable >= 0.9:
            first = first if first is not None else dates.min()
            if last is None and dates.notna().any():
                months = bool((dates.dropna().dt.day == 1).all())
                last = dates.max() + (pd.offsets.MonthEnd(0) if months else pd.Timedelta(0))
    if first is None or last is None or pd.isna(first) or pd.isna(last) or first > last:
        return None
    return pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()


def class_breaks(values: pd.Series, classes: int = 5) -> list[float]:
    """Quantile class limits of the non-zero values (fewer classes when values repeat)."""
    positive = values[values > 0]
    if positive.empty:
        return []
    breaks = sorted(set(np.quantile(positive, np.linspace(0, 1, classes + 1)).round(3)))
    return breaks if len(breaks) > 1 else [breaks[0], breaks[0]]


def incident_area_layer(seg, counts: pd.DataFrame, profile: pd.DataFrame,
                        name: str = "incidents", period: str = "", categories=()
                        ) -> tuple[gpd.GeoDataFrame, str, str]:
    """Areas with their incidents (first count column), rate per 1,000 households and their
    segment's index; a graduated style on the rate (0 a class of its own, then quintiles of
    the non-zero rates, under a heading with the unit and period); and the layer's abstract.
    """
    measure = counts.columns[0]
    bases = area_bases(seg)
    layer = seg.areas[["segment", "segment_name", "geometry"]].copy()
    layer["incidents"] = counts[measure].reindex(layer.index).fillna(0).to_numpy()
    base = next((b for b in ("households", "residents") if b in bases.columns), None)
    if base is not None:
        people = bases[base].reindex(layer.index)
        layer[f"rate_per_1000_{base}"] = (1000 * layer["incidents"]
                                          / people.where(people > 0)).round(3)
    index = profile[profile["measure"] == measure].set_index("segment")["index"]
    layer["segment_index"] = layer["segment"].map(index)
    layer = layer.rename_axis("area_code").reset_index()
    field = f"rate_per_1000_{base}" if base is not None else "incidents"
    what = (name if measure == ONE_PER_ROW else str(measure)).replace("_", " ")
    if measure == ONE_PER_ROW and 0 < len(categories) <= 2:  # e.g. "Anti-social behaviour"
        what = " and ".join(str(c).strip() for c in categories)
    unit = f"{what} per 1,000 {base}" if field != "incidents" else f"{what} per area"
    heading = f"{unit}, {period}" if period else unit
    breaks = class_breaks(layer[field].dropna())
    if field == "incidents":
        decimals = 0  # counts (no households to make a rate)
    else:
        decimals = 1 if not breaks or breaks[0] >= 0.1 else 3
    # the category names and period are the user's text: shown, never evaluated
    tip = (f'[% "area_code" %]: [% "{field}" %] ' + tip_text(unit) +
           f' ([% "incidents" %] {tip_text(what)}'
           f'{tip_text(", " + period) if period else ""})'
           if field != "incidents" else
           f'[% "area_code" %]: [% "incidents" %] {tip_text(what)}')
    qml = graduated_qml(field, breaks, "area_code", heading=heading, zero_class=True,
                        tip=tip, decimals=decimals)
    abstract = incident_layer_abstract(heading, what, int(counts[measure].sum()), field)
    return layer, qml, abstract


SHRUNK_GAZETTEER = 0.9  # a new gazetteer under this share of the one it replaces is said


def _gazetteer_size(segmentation: Path) -> int | None:
    """How many addresses the (loaded, so readable) segmentation's gazetteer holds (None:
    it has none)."""
    path = gpkg_path(segmentation)
    if "addresses" not in {name for name, _ in pyogrio.list_layers(path)}:
        return None
    return int(pyogrio.read_info(path, layer="addresses")["features"])


def shrunk_gazetteer_note(before: int | None, after: int) -> str | None:
    """A warning when a new gazetteer holds far fewer addresses than the one it replaced
    (a file cut short, or filtered by mistake); None otherwise."""
    if not before or after >= SHRUNK_GAZETTEER * before:
        return None
    share = after / before
    said = "under 1%" if share < 0.01 else f"{int(100 * share)}%"  # never rounded up to 90%
    return (f"The gazetteer now holds {after:,} addresses; the one it replaced held "
            f"{before:,} ({said} as many). If the address file was incomplete, join the "
            "whole file again.")


def _gazetteer_ids(segmentation: Path) -> pd.Series | None:
    """Address ID -> area code from the segmentation's gazetteer, if it has one."""
    path = gpkg_path(segmentation)
    if "addresses" not in {name for name, _ in pyogrio.list_layers(path)}:
        return None
    addresses = read_gpkg_table(path, "addresses")
    table = addresses.drop_duplicates("record_id").set_index("record_id")
    return table["area_code"]


def area_bases(seg) -> pd.DataFrame:
    """Households and residents per area, from the columns the project named."""
    params = seg.manifest.get("parameters", {})
    bases = {}
    for role in ("households", "residents"):
        column = params.get(role)
        if column and column in seg.values.columns:
            bases[role] = seg.values[column]
    return pd.DataFrame(bases, index=seg.values.index)


