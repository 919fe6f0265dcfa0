"""What a run gives: the tables people read (the ranked list, the details per person), the
result that holds every table, and the files written from it (with the counts behind
the shared view in the segmentation's GeoPackage)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..cells import write_csv
from .home_places import is_elsewhere
from .ranking import People, listing_order
from .totals import (
    HARM_CAUSED,
    HARM_RECEIVED,
    HOUR_TOTALS,
    INVESTIGATIONS,
    ORIGINATOR,
    OVERALL,
    SUBJECT,
)


def rank_column(metric: str) -> str:
    return f"{metric} rank"


HOME_ELSEWHERE = "(home area not one of the study's areas)"
HOME_NOT_GIVEN = "(no home area on the records)"
HOME_NO_DATA = "(home area without data: no segment)"


def ranked_table(people: People, codes: np.ndarray, top: int, harm: pd.DataFrame,
                 places: pd.DataFrame, themes: dict) -> pd.DataFrame:
    """One row per person listed: pseudonym, the four ranks, which top lists, the totals,
    harm, home area, ward and segment, themes."""
    codes = listing_order(people, codes)
    ranks = people.ranks.iloc[codes]
    scores = people.scores.iloc[codes]
    table = pd.DataFrame({"pseudonym": people.pseudonyms[codes]})
    for metric in (OVERALL, INVESTIGATIONS, ORIGINATOR, SUBJECT):
        # a score of 0 (no record counted toward the metric) is no rank: blank, not a tie
        # of everyone at the bottom (or at 1 when no one scores on it)
        table[rank_column(metric)] = pd.Series(ranks[metric].to_numpy(), dtype=object).where(
            scores[metric].to_numpy() > 0, None)
    table[f"in the top {top} of"] = [
        ", ".join(m for m in (OVERALL, INVESTIGATIONS, ORIGINATOR, SUBJECT)
                  if r[m] <= top and s[m] > 0)
        for r, s in zip(ranks.to_dict("records"), scores.to_dict("records"))]
    for total in people.totals.columns:
        values = people.totals[total].to_numpy()[codes]
        table[total] = np.round(values, 1) if total in HOUR_TOTALS or values.dtype.kind == "f" \
            and not np.allclose(values, np.round(values)) else values.astype(np.int64)
    for column in (HARM_CAUSED, HARM_RECEIVED):
        table[column] = np.round(harm[column].to_numpy()[codes], 1)
    table["overall score"] = np.round(scores[OVERALL].to_numpy(), 4)
    table["home area"] = people.home.to_numpy()[codes]
    for column in ("home ward", "home ward name", "segment", "segment name"):
        if column in places.columns:
            table[column] = places[column].reindex(table["home area"]).fillna("").to_numpy()
    unplaced = ~table["home area"].isin(places.index)
    # a home area not among the study's areas was kept as a label, never as its value
    table.loc[is_elsewhere(table["home area"]), "home area"] = HOME_ELSEWHERE
    for column in ("home ward name", "segment name"):
        if column in table:  # a reader sees why a row has no ward or segment
            table.loc[unplaced, column] = np.where(
                table.loc[unplaced, "home area"] == "", HOME_NOT_GIVEN, HOME_ELSEWHERE)
    if "segment name" in table:  # an area of the study without data: no segment
        table.loc[~unplaced & (table["segment"] == ""), "segment name"] = HOME_NO_DATA
    if themes:
        table["themes"] = [", ".join(name for name, members in themes.items()
                                     if code in members) for code in codes]
    return table


def detail_table(parts: pd.DataFrame, pseudonyms: np.ndarray, codes: np.ndarray,
                 totals: list, sources: list, hours: set = HOUR_TOTALS) -> pd.DataFrame:
    """Per listed person: records and hours by source and total."""
    mine = parts[np.isin(parts["person"].to_numpy(), codes)]
    grouped = mine.groupby(["person", "source", "total"], sort=False).agg(
        records=("amount", "size"), amount=("amount", "sum")).reset_index()
    names = np.asarray(totals, dtype=object)[grouped["total"].to_numpy(np.int64)]
    hours = pd.Series(names).isin(hours).to_numpy()
    out = pd.DataFrame({
        "pseudonym": pseudonyms[grouped["person"].to_numpy(np.int64)],
        "source": np.asarray(sources, dtype=object)[grouped["source"].to_numpy(np.int64)],
        "counted as": names,
        "records": grouped["records"].to_numpy(),
        "hours": np.where(hours, np.round(grouped["amount"], 1), np.nan),
    })
    return out.sort_values(["pseudonym", "source", "counted as"], ignore_index=True)


@dataclass
class DemandResult:
    ranked: pd.DataFrame
    filtered: dict  # filter name -> table
    details: pd.DataFrame
    reconciliation: pd.DataFrame
    rows: pd.DataFrame
    shared: dict  # "segment" / "ward" -> table
    notes: pd.DataFrame
    people: People | None = None
    # "segment" / "ward" -> the true counts behind the shared view (internal: they go into
    # the segmentation's GeoPackage, from which the report and the dock suppress them)
    counts: dict = field(default_factory=dict)


# --- writing -----------------------------------------------------------------------------------

RANKED_FILE = "frequent_service_users.csv"
DETAILS_FILE = "service_user_details.csv"
RECONCILIATION_FILE = "demand_reconciliation.csv"
ROWS_FILE = "demand_rows_to_check.csv"
NOTES_FILE = "demand_notes.csv"
README_FILE = "demand_readme.txt"


def filter_file(name: str) -> str:
    return f"frequent_service_users_{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}.csv"


def shared_file(by: str) -> str:
    return f"shared_demand_by_{by}.csv"


README_TEXT = """Frequent service users and shared demand

For the tasking meeting (pseudonymised; keep within the partnership's agreement):
  frequent_service_users.csv      the people in the top N of any metric: pseudonym, ranks out
                                  of everyone (blank: a score of 0 on that metric, not
                                  ranked), the totals, harm, home area, ward and segment
                                  (the ward and segment names say where a home area is not
                                  one of the study's areas, or is on no record)
  frequent_service_users_<filter>.csv   the same for each filter (ranks not recomputed)
  service_user_details.csv        per listed person: records and hours by source and total

For partners (aggregates, small numbers suppressed):
  shared_demand_by_segment.csv / shared_demand_by_ward.csv   the people whose home area
                                  has a segment and ward (those whose home area is not
                                  known are left out: demand_notes.csv says how many)

People are linked across sources on their IDs; a source without IDs links on names and
date of birth, and its people join the person of an ID where a source with IDs gives the
same names and date of birth for that ID alone (demand_notes.csv says how many).

For the analyst:
  demand_reconciliation.csv       every input record: used, outside the window, pre-planned,
                                  unreadable, no person ID, duplicate, home area not
                                  among the areas known...
  demand_rows_to_check.csv        the records to look at one by one (by line number)
  demand_notes.csv                window, parameters, rules and notes
"""


SHARED_TABLES = {"segment": "demand_counts_by_segment", "ward": "demand_counts_by_ward"}


# the notes a reader of the shared view needs with it (what the records are, their window)
ABOUT_TABLE = "demand_about"
SYNTHETIC = "Synthetic"
ABOUT_ITEMS = ("Project", SYNTHETIC, "Window")


def _shared_tables(result: DemandResult) -> dict:
    tables = {SHARED_TABLES[by]: table for by, table in result.counts.items()
              if by in SHARED_TABLES}
    if tables:
        notes = result.notes
        tables[ABOUT_TABLE] = notes[notes["item"].isin(ABOUT_ITEMS)].reset_index(drop=True)
    return tables


def store_shared_view(segmentation: Path, result: DemandResult) -> list[str]:
    """Add the counts behind the shared demand to the segmentation's GeoPackage (an
    internal file: the partner GeoPackage leaves them out), where the report and the dock
    read them and suppress them at their own threshold; returns the tables written. Only if
    the GeoPackage still holds the segmentation the home areas were matched with."""
    from ..segment.saved import load_segmentation
    from ..store.geopackage import add_to_geopackage, gpkg_file

    tables = _shared_tables(result)
    if not tables:
        return []
    gpkg = gpkg_file(Path(segmentation))
    add_to_geopackage(gpkg, tables, identity=load_segmentation(gpkg).manifest["identity"])
    return list(tables)


def write_demand(result: DemandResult, out_dir: Path, replace_folder: bool = True,
                 segmentation: Path | None = None) -> list[Path]:
    """Every table into ``out_dir``: built aside and moved in whole (the command line), or
    file by file (``replace_folder=False``, a folder a user chose in QGIS). With
    ``segmentation``, the counts behind the shared views go into its GeoPackage in the same
    commit as the files: all or none (``together``)."""
    from ..segment.saved import load_segmentation
    from ..store.folders import replaced_folder, staged_files
    from ..store.geopackage import gpkg_file
    from ..store.together import replaced_together, staged_together

    if segmentation is not None and _shared_tables(result):
        gpkg = gpkg_file(Path(segmentation))
        together = replaced_together if replace_folder else staged_together
        folder = together(out_dir, gpkg, _shared_tables(result),
                          load_segmentation(gpkg).manifest["identity"])
    else:
        folder = replaced_folder(out_dir) if replace_folder else staged_files(out_dir)
    with folder as staging:
        write_csv(result.ranked, staging / RANKED_FILE, index=False)
        for name, table in result.filtered.items():
            write_csv(table, staging / filter_file(name), index=False)
        write_csv(result.details, staging / DETAILS_FILE, index=False)
        write_csv(result.reconciliation, staging / RECONCILIATION_FILE, index=False)
        write_csv(result.rows, staging / ROWS_FILE, index=False)
        for by, table in result.shared.items():
            write_csv(table, staging / shared_file(by), index=False, encoding="utf-8-sig")
        write_csv(result.notes, staging / NOTES_FILE, index=False, encoding="utf-8-sig")
        (staging / README_FILE).write_text(README_TEXT, encoding="utf-8")
        names = sorted(p.name for p in staging.iterdir())
    return [Path(out_dir) / name for name in names]
