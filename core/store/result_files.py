"""The files the commands write (``RESULT_FILES``), and whether a run may replace an
output folder whole (``check_replaceable``): only a folder holding nothing but results of
earlier runs, never a file, the current folder or one the user cannot write beside.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from ..errors import InputError
from .names import CSV_TABLES, GPKG_NAME
from .swap import PREVIOUS
from .work_names import _OLD_WORK, _WORK

# The files (name patterns, lower case) the commands write: a folder holding only these,
# folders of them, and our hidden work folders is a results folder a rerun may replace
# whole. A step that writes new files into an output folder adds their names here.
RESULT_FILES = (
    GPKG_NAME, "manifest.json", *(f"{name}.csv" for name in CSV_TABLES), "diagnostics.csv",
    "elbow.png", "assigned.gpkg", "assigned.csv", "partner_matrices.xlsx", "notes.csv",
    "segmentation_for_partners.gpkg", "incident_profile_*.csv", "incident_profile_*.png",
    "incident_records_*.csv", "incident_records_*.txt", "target.gpkg", "target_list.csv",
    "target_list.xlsx", "target_summary.csv", "backtest.csv", "backtest_about.csv",
    "backtest_about.json", "backtest_means.csv", "model_vs_own_rate.csv", "calibration.csv",
    "model_settings.csv", "capture_curve_*.png",
    "capture_curve.png",
    "frequent_service_users*.csv", "service_user_details.csv", "demand_*.csv",
    "demand_readme.txt", "shared_demand_by_*.csv",
    "report.html",
    "*.gpkg-wal", "*.gpkg-shm", "*.gpkg-journal",
)
_JUNK = (".ds_store", "thumbs.db", "desktop.ini", "~$*", ".~lock.*")


def _not_results(folder: Path) -> list[str]:
    """Entries of ``folder`` (recursively) that no command of ours writes."""
    foreign = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return foreign
    partner_folder = any(e.name == "partner_matrices.xlsx" for e in entries)
    for entry in entries:
        name = entry.name.lower()
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in _JUNK):
            continue
        if _WORK.match(entry.name) or _OLD_WORK.match(entry.name) or (
                entry.name.startswith(".") and entry.name.endswith(PREVIOUS)):
            continue
        if entry.is_dir(follow_symlinks=False):
            inside = _not_results(Path(entry.path))
            foreign += [f"{entry.name}/{n}" for n in inside]
            continue
        if entry.is_file(follow_symlinks=False) and (
                any(fnmatch.fnmatchcase(name, p) for p in RESULT_FILES)
                or (partner_folder and name.endswith(".csv"))
                or (folder.name == "plots" and name.endswith(".png"))):
            continue
        foreign.append(entry.name)
    return foreign


def _target(out_dir: Path) -> Path:
    """The folder to replace, as an absolute path with symbolic links resolved (the swap
    happens where the files are)."""
    return Path(os.path.realpath(os.path.abspath(out_dir)))


def check_replaceable(out_dir: Path) -> None:
    """Refuse an output folder that a run must not replace whole: a file, the current
    folder (or one holding it), a folder whose parent is not writable, or a folder holding
    files that are not results of an earlier run (e.g. the user's own documents)."""
    shown, target = Path(out_dir), _target(out_dir)
    if target.exists() and not target.is_dir():
        raise InputError(f"{shown}: is a file; --out needs a folder")
    here = Path(os.path.realpath(os.getcwd()))
    if target == here or target in here.parents or target.parent == target:
        raise InputError(f"{shown}: is the current folder or holds it; a run replaces its "
                         "output folder whole, so give it a folder of its own (e.g. "
                         f"{shown / 'results'})")
    parent = next((p for p in target.parents if p.exists()), None)
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{parent}: no permission to write there (new results are built "
                         f"beside {shown.name} and swapped in); choose another --out")
    if target.is_dir():
        foreign = _not_results(target)
        if foreign:
            more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            raise InputError(
                f"{shown}: holds {', '.join(foreign[:3])}{more}, which are not results of an "
                "earlier run; a run replaces its output folder whole, so choose a new or "
                "empty folder for --out (or move them)")

