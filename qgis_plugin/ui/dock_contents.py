"""What the Community safety dock shows of a saved segmentation, read in one go off the main
thread (``read_contents`` runs in a task): the segmentation, its ward matrices and area
wards, its incident profiles, what it does not hold yet, and its shared demand views
suppressed together (seconds on a demand run's tables: on the main thread this froze
QGIS for four seconds each time the dock opened)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyogrio

from ...core.demand.output import SHARED_TABLES
from ...core.demand.shared_view import shared_views
from ...core.segment.saved import load_segmentation
from ...core.share.export import read_matrices
from ...core.share.partner_words import matrix_title
from ...core.store.geopackage import read_gpkg_table
from ...core.targeting.visit_inputs import looks_like_postcodes

THRESHOLD = 5  # partner views from the dock suppress counts of 1 to 5

# what a later step adds, and the step (as the user finds it) that adds it
STEPS = {
    "sizes": "households and residents (name their columns on the wizard's Variables page, "
             "or [sizes] in the project file, and build again)",
    "wards": "ward matrices (Processing ▸ Community safety ▸ Ward x segment matrices)",
    "addresses": "an address gazetteer (Processing ▸ Join segments to a gazetteer)",
    "incidents": "incident profiles (Processing ▸ Profile incidents by segment)",
}


def missing_steps(seg, layers, incidents) -> str:
    """One sentence on what this segmentation does not hold yet and which step adds it."""
    absent = []
    if not {"households", "residents"} & set(seg.summary.columns):
        absent.append(STEPS["sizes"])
    if "wards" not in layers:
        absent.append(STEPS["wards"])
    if "addresses" not in layers:
        absent.append(STEPS["addresses"])
    if not incidents:
        absent.append(STEPS["incidents"])
    if not absent:
        return ""
    return "Not in it yet: " + "; ".join(absent) + "."


@dataclass(frozen=True)
class DockContents:
    gpkg: Path
    seg: object  # core.segment.saved's Segmentation
    layers: list[str]
    matrices: dict
    matrix_titles: dict
    ward_names: dict
    area_wards: pd.DataFrame | None  # area_code -> ward_code, when wards were matched
    incidents: list[str]  # the profiled incident kinds
    missing: str  # "Not in it yet: …" or ""
    shared: dict  # "demand_by_segment"/"demand_by_ward" -> the partners' view
    postcode_gazetteer: bool = False  # the gazetteer's IDs are postcodes (points of households)
    stamp: tuple = ()  # the file as it was when read (``file_stamp``)


def file_stamp(gpkg: Path) -> tuple:
    """What changes when a step writes to the GeoPackage (or replaces it): its inode, size
    and time of change; () when it is gone."""
    try:
        status = Path(gpkg).stat()
    except OSError:
        return ()
    return status.st_ino, status.st_size, status.st_mtime_ns


SAMPLED_IDS = 500  # the gazetteer's first IDs, read to judge whether they are postcodes


def postcode_gazetteer(gpkg: Path, layers) -> bool:
    """Whether the segmentation's gazetteer is postcode points (its IDs are postcodes)."""
    if "addresses" not in layers:
        return False
    ids = pyogrio.read_dataframe(gpkg, layer="addresses", columns=["record_id"],
                                 read_geometry=False, max_features=SAMPLED_IDS)["record_id"]
    return looks_like_postcodes(ids)


def read_contents(gpkg: Path, progress=None) -> DockContents:
    """Everything the dock shows of the segmentation in ``gpkg``."""
    def said(fraction, message):
        if progress is not None:
            progress(fraction, message)

    said(0.05, "reading the segmentation")
    stamp = file_stamp(gpkg)  # before reading: a change made meanwhile is read next time
    seg = load_segmentation(gpkg)
    layers = [name for name, _ in pyogrio.list_layers(gpkg)]
    said(0.3, "reading the ward matrices")
    matrices, ward_names = read_matrices(gpkg, layers)
    area_wards = (read_gpkg_table(gpkg, "area_wards").set_index("area_code")
                  if "area_wards" in layers else None)
    incidents = [n.removeprefix("incident_profile_") for n in layers
                 if n.startswith("incident_profile_")]
    said(0.5, "suppressing the shared demand views")
    views = shared_views({by: read_gpkg_table(gpkg, name)
                          for by, name in SHARED_TABLES.items() if name in layers},
                         THRESHOLD, seg.segment_names)
    said(1.0, "read")
    return DockContents(
        gpkg=gpkg, seg=seg, layers=layers, matrices=matrices,
        matrix_titles={n: matrix_title(n, incidents) for n in matrices},
        ward_names=ward_names, area_wards=area_wards, incidents=incidents,
        missing=missing_steps(seg, layers, incidents),
        shared={f"demand_by_{by}": view for by, view in views.items()},
        postcode_gazetteer=postcode_gazetteer(gpkg, layers), stamp=stamp)
