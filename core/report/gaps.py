"""What a report section needs from the GeoPackage and is not there: said, never dropped.

A step stores the tables its report section reads (the ward matrices, an incident profile
with its source, the shared demand by segment and by ward, the targeting summary, the
variables' descriptions). When one of a step's tables is missing or unreadable while the
step ran (the GeoPackage's record of written tables lists it, or the step's other tables
are there: a table deleted by hand, a copy made half-way), the section would silently
vanish or lose a part; ``left_out`` names each such table with the section it leaves out,
in words, for the report itself, the command line, Processing and the dock. A step that
never ran leaves nothing out.
"""

from __future__ import annotations

from pathlib import Path

import pyogrio

from ..places.incidents import words
from ..store.geopackage import recorded_tables

INCIDENT_PREFIXES = ("incident_profile_", "incident_about_", "incident_counts_",
                     "incident_records_", "incident_areas_")
# the columns a section reads from each kind of table
NEEDED_COLUMNS = {"incident_profile_": {"segment", "measure"}, "matrix_": {"ward"},
                  "demand_counts_by_": {"people"}}


# the segment step cannot be run again for one of its tables: it builds a new segmentation
RESTORE_SEGMENTATION = ("restore the GeoPackage from a copy (the segment step run again "
                        "builds a new segmentation, which every later step must follow)")


def _again(step: str) -> str:
    return f"run {step} again"


def _columns(path: Path, layer: str) -> set | None:
    """The columns of ``layer`` (None when it cannot be read)."""
    try:
        return set(pyogrio.read_info(path, layer=layer)["fields"])
    except Exception:
        return None


def left_out(path: Path, layers: list[str], summary_columns=()) -> list[dict]:
    """Each table a report section needs that is missing (while the step that writes it
    has left its other tables) or broken (unreadable, or without the columns the section
    reads): [{"table", "section", "why"}], in the GeoPackage's order of sections."""
    present = set(layers)
    ran = present | recorded_tables(path)  # what the steps wrote, there or not
    gaps = []

    def need(table: str, section: str, fix: str) -> None:
        if table not in present:
            gaps.append({"table": table, "section": section,
                         "why": f"{table} is missing; {fix}"})
            return
        prefix = next((p for p in NEEDED_COLUMNS if table.startswith(p)), None)
        if prefix is None:
            return
        columns = _columns(path, table)
        lacking = sorted(NEEDED_COLUMNS[prefix] - (columns or set()))
        if columns is None or lacking:
            said = "cannot be read" if columns is None else f"has no {', '.join(lacking)} column"
            gaps.append({"table": table, "section": section,
                         "why": f"{table} {said}; {fix}"})

    if "variable_labels" in ran:
        need("variable_labels", "the variables' descriptions (charts and tables name the "
             "variables by their column names)", RESTORE_SEGMENTATION)
    if any(name.startswith("matrix_") for name in ran):
        for measure in ("areas", "households", "residents"):
            if measure == "areas" or measure in summary_columns:
                need(f"matrix_{measure}", f"the ward table of {measure}" + (
                    " and where each segment lives" if measure == "households" else ""),
                    _again("the ward matrices step"))
    incidents = sorted({layer.removeprefix(prefix) for layer in ran
                        for prefix in INCIDENT_PREFIXES if layer.startswith(prefix)})
    for name in incidents:
        need(f"incident_profile_{name}", f"the incidents '{words(name)}'",
             _again(f"the incidents step for '{words(name)}'"))
        if f"incident_profile_{name}" in present:
            need(f"incident_about_{name}", f"where the incidents '{words(name)}' came from",
                 _again(f"the incidents step for '{words(name)}'"))
    if "target_summary" in ran:
        need("target_summary", "the home fire safety check targeting", _again("the target step"))
    for by in ("segment", "ward"):
        # by ward only where the wards were known; by segment whenever the step has run
        if f"demand_counts_by_{by}" in ran or (
                by == "segment" and "demand_counts_by_ward" in ran):
            need(f"demand_counts_by_{by}", f"the shared demand by {by}",
                 _again("the service users step"))
    if any(name.startswith("demand_counts_by_") for name in present):
        need("demand_about", "whether the shared demand's records are real, and their "
             "window", _again("the service users step"))
    return gaps


def broken(gaps: list[dict], layers: list[str]) -> list[dict]:
    """The gaps whose table is there but cannot be used (nothing is published from it)."""
    return [g for g in gaps if g["table"] in set(layers)]


def in_one_line(gaps: list[dict], shown: str) -> str:
    """"report.html leaves out the incidents 'fires' (incident_profile_fires is missing;
    run the incidents step for 'fires' again)" - one line for every gap."""
    parts = [f"{g['section']} ({g['why']})" for g in gaps]
    return f"{shown} leaves out " + "; ".join(parts)
