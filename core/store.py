"""Save a segmentation to one GeoPackage (plus CSVs and plots for people), and load it back.

The GeoPackage holds:

- ``segments``: the output-area layer (area_code, segment, segment_name, subsegment,
  distance), with its style in ``layer_styles`` so QGIS opens it styled, and a description
  in ``gpkg_contents`` (which way the segments are numbered, by which deprivation measure)
  that QGIS shows as the layer's abstract;
- tables ``segment_summary``, ``segment_profiles``, ``screening``, ``reconciliation``,
  ``missing_values``, ``standardisation`` (with the fill values), ``centres``,
  ``subcentres``, ``area_values`` and ``manifest`` (one JSON document, with the
  segmentation's ``identity``: a hash of the manifest and of every area's segment).

How results reach the disk, so that a failure, Ctrl-C or a kill never leaves a mix:

- ``replaced_folder(out)``: a command's ``--out`` folder is one unit. The new results are
  built in a hidden folder beside it and swapped in by renames (on Linux one atomic
  exchange), so ``out`` is at every instant either the complete old run or the complete
  new one. The previous run stays recoverable at ``<parent>/.<name>.previous`` (one only:
  the run before it is removed). A folder holding files that are not results of a run is
  refused rather than swapped.
- ``staged_files(folder)`` / ``atomic_file(path)``: for outputs a user picks in a file
  dialog (Processing), whose folder may be their Documents: the new files replace their
  namesakes all or none (a journal, ``together``), other files in the folder are left
  alone.
- ``add_to_geopackage``: later steps change a copy of the GeoPackage and move it back, only
  if the segmentation there is still the one they read (its identity).

Hidden work folders carry this machine's name and the process id
(``.<name>.staging-<host>-<pid>-<random>``); those of processes that no longer run are
removed at the start of the next run, and a run killed mid-swap is completed then (or by
the next reader), so they never pile up.
"""

from __future__ import annotations

import ctypes
import errno
import fnmatch
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from . import written
from .cells import write_csv
from .errors import InputError
from .progress import Progress, silent
from .segmentation import Segmentation
from .standardise import Standardiser
from .styles import numbering_axis, segment_layer_abstract, segment_layer_qml

GPKG_NAME = "segmentation.gpkg"
SEGMENT_LAYER = "segments"
CSV_TABLES = ("segment_summary", "segment_profiles", "screening", "reconciliation")
# GeoPackage 1.2: readable without warnings by the older GDAL that QGIS 3.22 ships with
GPKG_OPTIONS = {"VERSION": "1.2"}

PREVIOUS = ".previous"  # <parent>/.<name>.previous: the run before the current one
_HOST = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40] or "host"
# .<label>.staging-<host>-<pid>-<random>[.suffix] (work folders and files), and
# .<label>.incoming-<host>-<pid> (a complete new run about to be swapped in)
_WORK = re.compile(r"^\.(?P<label>.+)\.(?P<kind>staging|incoming)-(?P<host>[A-Za-z0-9_]+)"
                   r"-(?P<pid>\d+)(?:-[a-z0-9]+)?(?:\.[A-Za-z0-9]+)?$")
# work folders of earlier versions (no process id): removed once a day old
_OLD_WORK = re.compile(r"^\.(?:.+-staging-|gpkg-)[a-z0-9_]{8}$")
_STALE_AFTER = 24 * 3600  # seconds; for work folders whose process cannot be checked


# --- work folders and their clean-up ------------------------------------------------------

def _fresh_name(parent: Path, label: str, suffix: str = "") -> Path:
    """An unused hidden name in ``parent`` marked with this host and process."""
    while True:
        path = parent / f".{label}.staging-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}{suffix}"
        if not os.path.lexists(path):
            return path


def _new_staging(parent: Path, label: str) -> Path:
    path = _fresh_name(parent, label)
    path.mkdir()
    return path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _running(pid: int) -> bool:
    """Whether a process of this machine still runs (True when it cannot be told)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _abandoned(found: re.Match, path: Path) -> bool:
    if found["host"] == _HOST and os.name != "nt":
        return not _running(int(found["pid"]))
    try:
        return time.time() - path.lstat().st_mtime > _STALE_AFTER
    except OSError:
        return False


def tidy(folder: Path) -> None:
    """Finish or remove what killed runs left in ``folder``: a complete new run that was
    about to be swapped in goes in if its folder is missing (the kill came between the two
    renames) and is dropped otherwise; work folders and files of processes that no longer
    run are removed (and those of earlier versions once a day old)."""
    from .together import finish_commits

    finish_commits(folder)  # first: a commit of two outputs is finished, not cleared
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        found = _WORK.match(entry.name)
        if found is None:
            if _OLD_WORK.match(entry.name):
                try:
                    old = time.time() - path.lstat().st_mtime > _STALE_AFTER
                except OSError:
                    old = False
                if old:
                    _remove(path)
            continue
        if not _abandoned(found, path):
            continue
        target = path.parent / found["label"]
        if found["kind"] == "incoming" and not os.path.lexists(target):
            try:
                os.rename(path, target)
                continue
            except OSError:
                pass
        _remove(path)


def _recovered(path: Path) -> bool:
    """Whether ``path`` exists, once a run killed while swapping its folder in (between
    the two renames) is finished."""
    path = Path(path)
    for candidate in (path, path.parent):
        if not candidate.exists() and candidate.parent.is_dir():
            tidy(candidate.parent)
    return path.exists()


# --- a command's output folder, replaced whole ----------------------------------------------

def previous_folder(out_dir: Path) -> Path:
    """Where the run before the current one is kept: ``<parent>/.<name>.previous``."""
    out_dir = Path(out_dir)
    return out_dir.parent / f".{out_dir.name}{PREVIOUS}"


# The files (name patterns, lower case) the commands write: a folder holding only these,
# folders of them, and our hidden work folders is a results folder a rerun may replace
# whole. A step that writes new files into an output folder adds their names here.
RESULT_FILES = (
    GPKG_NAME, "manifest.json", *(f"{name}.csv" for name in CSV_TABLES), "diagnostics.csv",
    "elbow.png", "assigned.gpkg", "assigned.csv", "partner_matrices.xlsx", "notes.csv",
    "segmentation_for_partners.gpkg", "incident_profile_*.csv", "incident_profile_*.png",
    "incident_records_*.csv", "incident_records_*.txt", "target.gpkg", "target_list.csv",
    "target_list.xlsx", "target_summary.csv", "backtest.csv", "capture_curve.png",
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


def replacement_note(out_dir: Path) -> str | None:
    """What a run into ``out_dir`` will replace, in words (None when it holds nothing):
    "Replaced the previous results in out/camden, with its incidents/ folder (kept in
    out/.camden.previous until the next run)". Ask before the run, say it after."""
    shown, target = Path(out_dir), _target(out_dir)
    try:
        entries = sorted(e.name for e in os.scandir(target) if not e.name.startswith("."))
    except OSError:
        return None
    if not entries:
        return None
    folders = [f"{name}/" for name in entries if (target / name).is_dir() and name != "plots"]
    also = ""
    if folders:
        listed = (" and ".join(folders) if len(folders) <= 2
                  else ", ".join(folders[:-1]) + f" and {folders[-1]}")
        also = f", with its {listed} folder{'s' if len(folders) > 1 else ''}"
    return (f"Replaced the previous results in {shown}{also} (kept in "
            f"{previous_folder(shown)} until the next run)")


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where
    the system or file system cannot, and the caller falls back to two renames."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV,
                errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _holds_anything(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(True for _ in entries)


def _swap_in(staging: Path, target: Path) -> None:
    """Put the complete folder ``staging`` at ``target``; the old ``target`` (unless empty)
    becomes ``.<name>.previous`` and the one before it is removed.

    1. staging -> ``.<name>.incoming-<host>-<pid>`` (complete, ready to go in);
    2. ``.previous`` -> a work name (removed at the end, or by the next run if killed);
    3. exchange incoming <-> target in one step (Linux), then the old run (now at incoming)
       -> ``.previous``; elsewhere: target -> ``.previous``, incoming -> target, and a kill
       between those two renames leaves no target but a complete incoming run, which the
       next run or reader moves in (``tidy``).
    A failure at any step puts back what it moved."""
    parent = target.parent
    previous = previous_folder(target)
    incoming = parent / f".{target.name}.incoming-{_HOST}-{os.getpid()}"
    if os.path.lexists(incoming):
        _remove(incoming)
    os.rename(staging, incoming)
    empty_old = None  # an empty old folder, moved aside and removed at the end
    try:
        if not os.path.lexists(target):
            os.rename(incoming, target)
            written.record(target)
            return
        keep = _holds_anything(target)
        trash = None
        if keep and os.path.lexists(previous):
            trash = _fresh_name(parent, target.name)
            os.rename(previous, trash)
        try:
            if _exchange(incoming, target):
                written.record(target)
                if keep:  # incoming now holds the old run
                    os.rename(incoming, previous)
            else:
                parked = previous if keep else _fresh_name(parent, target.name)
                os.rename(target, parked)
                empty_old = None if keep else parked
                try:
                    os.rename(incoming, target)
                    written.record(target)
                except BaseException:
                    os.rename(parked, target)
                    empty_old = None
                    raise
        except BaseException:
            if trash is not None and not os.path.lexists(previous):
                os.rename(trash, previous)
                trash = None
            raise
        finally:
            if trash is not None:
                _remove(trash)
    finally:
        for leftover in (incoming, empty_old):
            if leftover is not None and os.path.lexists(leftover):
                _remove(leftover)


@contextmanager
def replaced_folder(out_dir: Path):
    """A hidden folder beside ``out_dir`` that replaces it whole if the block succeeds.

    For a command's ``--out`` folder: ``out_dir`` is at every instant either the complete
    old run or the complete new one, stale files of the old run do not survive, and the
    old run is kept at ``<parent>/.<name>.previous``. A failed block leaves ``out_dir``
    untouched. A folder holding other files is refused (``check_replaceable``)."""
    target = _target(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tidy(target.parent)
    check_replaceable(out_dir)
    staging = _new_staging(target.parent, target.name)
    try:
        yield staging
        _swap_in(staging, target)
    finally:
        if os.path.lexists(staging):
            _remove(staging)


# --- files in a folder the user chose, replaced one by one ----------------------------------

@contextmanager
def staged_files(folder: Path):
    """A hidden staging folder inside ``folder`` whose files replace their namesakes in
    ``folder`` if the block succeeds, all or none whatever the moment of a kill (a journal,
    ``together.staged_together``); everything else in the folder is left alone. For outputs
    in a folder the user also keeps other things in (Processing's file and folder
    destinations)."""
    from .together import staged_together

    with staged_together(folder) as staging:
        yield staging


staged_output = staged_files  # the earlier name, kept for callers outside core


@contextmanager
def atomic_file(path: Path):
    """A temporary path beside ``path`` that replaces it only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tidy(path.parent)
    temporary = _fresh_name(path.parent, path.name, path.suffix)
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    try:
        yield temporary
        os.replace(temporary, path)
        written.record(path)
    finally:
        if os.path.lexists(temporary):
            os.remove(temporary)


# --- the GeoPackage ---------------------------------------------------------------------------

def write_table(path: Path, name: str, frame: pd.DataFrame) -> None:
    """A non-spatial table in a GeoPackage (registered as 'attributes' so GIS see it),
    replacing any table of that name. Column names are written as text."""
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("string"):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG",
                            layer_options={"OVERWRITE": "YES"})


def read_gpkg_table(path: Path, name: str) -> pd.DataFrame:
    return pyogrio.read_dataframe(path, layer=name, read_geometry=False)


def write_layer_style(path: Path, layer: str, qml: str, geometry_column: str = "geom") -> None:
    """Make a QML style the layer's default in the GeoPackage's layer_styles table, replacing
    any style the layer had (other layers' styles are kept)."""
    row = pd.DataFrame([{
        "f_table_catalog": "", "f_table_schema": "", "f_table_name": layer,
        "f_geometry_column": geometry_column, "styleName": layer, "styleQML": qml,
        "styleSLD": "", "useAsDefault": True, "description": "Community Safety Segmentation",
        "owner": "", "ui": "", "update_time": datetime.now(timezone.utc).replace(tzinfo=None),
    }])
    if "layer_styles" in {name for name, _ in pyogrio.list_layers(path)}:
        with sqlite3.connect(path) as db:
            db.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
        pyogrio.write_dataframe(row, path, layer="layer_styles", driver="GPKG", append=True)
    else:
        pyogrio.write_dataframe(row, path, layer="layer_styles", driver="GPKG")


def write_layer_description(path: Path, layer: str, text: str) -> None:
    """The layer's description in ``gpkg_contents``: QGIS (OGR provider) reads it as the
    layer metadata's abstract, so it travels with the GeoPackage."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                   (text, layer))
    db.close()


def segment_abstract(seg: Segmentation) -> str:
    params = seg.manifest.get("parameters", {})
    deprivation = params.get("deprivation")
    return segment_layer_abstract(seg.segment_names, seg.name, deprivation,
                                  params.get("more_deprived", "lower"),
                                  seg.labels.get(deprivation) if deprivation else None,
                                  seg.manifest.get("numbering", {}).get("description"))


def write_assigned_layer(seg: Segmentation, areas: gpd.GeoDataFrame, assigned: pd.DataFrame,
                         path: Path) -> Path:
    """Areas assigned to a saved segmentation as a GeoPackage layer with its segment style
    (the caller stages ``path``)."""
    layer = gpd.GeoDataFrame(assigned.join(areas[["geometry"]]), geometry="geometry",
                             crs=areas.crs).rename_axis("area_code").reset_index()
    layer.to_file(path, layer=SEGMENT_LAYER, driver="GPKG", engine="pyogrio",
                  dataset_options=GPKG_OPTIONS)
    write_layer_style(path, SEGMENT_LAYER, segment_layer_qml(seg.segment_names))
    write_layer_description(path, SEGMENT_LAYER, segment_abstract(seg))
    return path


# --- which segmentation: its identity -----------------------------------------------------

def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value)


def segmentation_identity(manifest: dict, areas: pd.DataFrame) -> str:
    """A hash of the manifest (inputs with their hashes, parameters, versions, the time it
    was made) and of every area's segment and sub-segment: two saved segmentations have the
    same identity only if they are the same one. ``areas``: indexed by area code."""
    body = {key: value for key, value in manifest.items() if key != "identity"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True,
                                       default=str).encode("utf-8"))
    segments = pd.to_numeric(areas["segment"], errors="coerce")
    subsegments = (areas["subsegment"] if "subsegment" in areas.columns
                   else pd.Series("", index=areas.index))
    rows = sorted(zip((str(code) for code in areas.index),
                      ("" if pd.isna(s) else str(int(s)) for s in segments),
                      (_cell(s) for s in subsegments)))
    digest.update("\n".join("\t".join(row) for row in rows).encode("utf-8"))
    return digest.hexdigest()


def identity_of(path: Path) -> str:
    """The identity of the segmentation a GeoPackage holds now (computed from its content)."""
    path = Path(path)
    try:
        manifest = json.loads(read_gpkg_table(path, "manifest")["manifest"].iloc[0])
        fields = set(pyogrio.read_info(path, layer=SEGMENT_LAYER)["fields"])
        columns = [c for c in ("area_code", "segment", "subsegment") if c in fields]
        areas = pyogrio.read_dataframe(path, layer=SEGMENT_LAYER, columns=columns,
                                       read_geometry=False).set_index("area_code")
    except Exception as err:
        raise InputError(f"{path}: no longer holds a saved segmentation ({err})") from err
    return segmentation_identity(manifest, areas)


# --- save and load ----------------------------------------------------------------------------

def _write_segmentation(seg: Segmentation, folder: Path, gpkg_name: str, plots: bool,
                        progress: Progress) -> None:
    manifest = json.loads(json.dumps(seg.manifest))
    manifest.pop("identity", None)
    manifest["identity"] = segmentation_identity(manifest, seg.areas)
    seg.manifest = manifest
    gpkg = folder / gpkg_name
    progress(0.1, f"writing {gpkg_name}")
    layer = seg.areas.reset_index().rename(columns={"index": "area_code"})
    gpd.GeoDataFrame(layer, geometry="geometry", crs=seg.areas.crs).to_file(
        gpkg, layer=SEGMENT_LAYER, driver="GPKG", engine="pyogrio",
        dataset_options=GPKG_OPTIONS)
    unclassified = bool(seg.areas["segment"].isna().any())
    write_layer_style(gpkg, SEGMENT_LAYER,
                      segment_layer_qml(seg.segment_names, unclassified=unclassified))
    write_layer_description(gpkg, SEGMENT_LAYER, segment_abstract(seg))
    tables = tables_of(seg)
    for name, frame in tables.items():
        write_table(gpkg, name, frame)
    for name in (*CSV_TABLES, "diagnostics"):
        if name in tables:
            write_csv(tables[name], folder / f"{name}.csv", index=False)
    (folder / "manifest.json").write_text(json.dumps(seg.manifest, indent=2), encoding="utf-8")
    if plots:
        from .plots import box_plots, elbow_plot  # matplotlib: only when drawing

        progress(0.5, "drawing box plots")
        classified = seg.areas["segment"].dropna().astype(int)
        columns = seg.clustered + [c for c in seg.values.columns if c not in seg.clustered]
        box_plots(seg.values.loc[classified.index, columns], classified, folder / "plots",
                  seg.labels, axis=numbering_axis(seg.manifest))
        if seg.diagnostics is not None:
            elbow_plot(seg.diagnostics, folder / "plots" / "elbow.png")


def save_segmentation(seg: Segmentation, out_dir: Path, plots: bool = True,
                      progress: Progress = silent) -> Path:
    """Write the GeoPackage, the CSV tables, the manifest and the box plots as the folder
    ``out_dir``, replacing it whole (``replaced_folder``: the previous run is kept at
    ``<parent>/.<name>.previous``). This is the command line's ``--out``. The manifest gets
    the segmentation's ``identity``.

    For a GeoPackage a user picked in a file dialog, whose folder holds other things, use
    ``save_segmentation_as``."""
    with replaced_folder(out_dir) as staging:
        _write_segmentation(seg, staging, GPKG_NAME, plots, progress)
    progress(1.0, "saved")
    return Path(out_dir) / GPKG_NAME


def save_segmentation_as(seg: Segmentation, gpkg: Path, plots: bool = True,
                         progress: Progress = silent) -> Path:
    """Write the GeoPackage at ``gpkg`` and the CSV tables, manifest and box plots beside
    it, each file replacing its namesake atomically; nothing else in that folder is touched
    (``staged_files``)."""
    gpkg = Path(gpkg)
    with staged_files(gpkg.parent) as staging:
        _write_segmentation(seg, staging, gpkg.name, plots, progress)
    progress(1.0, "saved")
    return gpkg


def tables_of(seg: Segmentation) -> dict[str, pd.DataFrame]:
    standardisation = seg.standardiser.to_table()
    standardisation["fill_value"] = seg.fill_values.reindex(seg.clustered).to_numpy()
    tables = {
        "segment_summary": seg.summary.reset_index(),
        "segment_profiles": seg.profiles,
        "screening": seg.screening,
        "reconciliation": seg.reconciliation,
        "missing_values": seg.missing,
        "standardisation": standardisation,
        "centres": seg.centres.reset_index(),
        "subcentres": seg.subcentres.reset_index(),
        "area_values": seg.values.rename_axis("area_code").reset_index(),
        "manifest": pd.DataFrame({"manifest": [json.dumps(seg.manifest)]}),
    }
    if seg.diagnostics is not None:
        tables["diagnostics"] = seg.diagnostics
    if seg.labels:
        tables["variable_labels"] = pd.DataFrame(
            {"variable": list(seg.labels), "description": list(seg.labels.values())})
    return tables


def gpkg_file(path: Path) -> Path:
    """A saved segmentation's GeoPackage: the path itself, or ``segmentation.gpkg`` in a
    folder; a run killed while swapping that folder in is finished first."""
    path = Path(path)
    _recovered(path)
    return path / GPKG_NAME if path.is_dir() else path


def needed_tables() -> set:
    """What a saved segmentation GeoPackage holds at the least (``load_segmentation``)."""
    return {SEGMENT_LAYER, "segment_summary", "standardisation", "centres", "subcentres",
            "area_values", "manifest", "segment_profiles", "screening", "reconciliation",
            "missing_values"}


def load_segmentation(path: Path) -> Segmentation:
    """A saved segmentation, ready for later steps and for assigning new areas. Its
    manifest's ``identity`` is computed from what was read (``add_to_geopackage`` checks
    the GeoPackage still holds that segmentation before writing)."""
    from .together import finish_commits

    path = gpkg_file(path)
    finish_commits(path.parent)  # what a killed run committed together is finished first
    if not _recovered(path):
        raise InputError(f"{path}: saved segmentation not found")
    try:
        with warnings.catch_warnings():  # GDAL's notes on a file that is not ours: said below
            warnings.simplefilter("ignore")
            layers = {name for name, _ in pyogrio.list_layers(path)}
    except Exception as err:
        raise InputError(f"{path}: not a GeoPackage ({err})") from err
    if not needed_tables() <= layers:
        partner = "notes" in layers and "area_values" not in layers
        raise InputError(f"{path.name}: " + (
            "a GeoPackage for partners, which holds no area data; use the segmentation "
            "GeoPackage it was made from" if partner else "not a saved segmentation "
            f"(missing {', '.join(sorted(needed_tables() - layers))})"))
    areas = gpd.read_file(path, layer=SEGMENT_LAYER, engine="pyogrio").set_index("area_code")
    areas["segment"] = areas["segment"].astype("Int64")
    standardisation = read_gpkg_table(path, "standardisation")
    clustered = standardisation["variable"].tolist()
    centres = read_gpkg_table(path, "centres").set_index("segment")
    centres.index = centres.index.astype(int)
    subcentres = read_gpkg_table(path, "subcentres")
    subcentres = subcentres.set_index("subsegment") if "subsegment" in subcentres else subcentres
    summary = read_gpkg_table(path, "segment_summary").set_index("segment")
    summary.index = summary.index.astype(int)
    values = read_gpkg_table(path, "area_values").set_index("area_code")
    diagnostics = read_gpkg_table(path, "diagnostics") if "diagnostics" in layers else None
    manifest = json.loads(read_gpkg_table(path, "manifest")["manifest"].iloc[0])
    manifest["identity"] = segmentation_identity(manifest, areas)
    labels = {}
    if "variable_labels" in layers:
        table = read_gpkg_table(path, "variable_labels")
        labels = dict(zip(table["variable"], table["description"]))
    return Segmentation(
        name=manifest.get("name", ""),
        areas=areas, values=values, clustered=clustered,
        standardiser=Standardiser.from_table(standardisation),
        fill_values=standardisation.set_index("variable")["fill_value"],
        centres=centres[clustered], subcentres=subcentres,
        screening=read_gpkg_table(path, "screening"),
        reconciliation=read_gpkg_table(path, "reconciliation"),
        profiles=read_gpkg_table(path, "segment_profiles"), summary=summary,
        missing=read_gpkg_table(path, "missing_values"),
        manifest=manifest,
        diagnostics=diagnostics, labels=labels,
    )


def _same_segmentation(path: Path, identity: str, shown: Path) -> None:
    if identity_of(path) != identity:
        raise InputError(f"{shown}: now holds another segmentation than the one this step "
                         "read (it was segmented again meanwhile); results computed from the "
                         "earlier one were not written - run the step again")


def add_to_geopackage(path: Path, tables: dict, layers: dict | None = None,
                      styles: dict | None = None, descriptions: dict | None = None,
                      identity: str | None = None) -> Path:
    """Add or replace tables and layers in a saved segmentation, atomically: the GeoPackage
    is copied, changed, and moved back only when every write has succeeded. ``styles`` and
    ``descriptions``: layer name -> QML style, and -> abstract. ``identity``: the identity
    of the segmentation the results were computed from (``load_segmentation`` gives it in
    the manifest); when given, nothing is written if the GeoPackage holds another one
    (checked on the copy, and on the file again just before the copy replaces it)."""
    path = gpkg_file(path)
    if not _recovered(path):
        raise InputError(f"{path}: saved segmentation not found")
    with _one_writer(path.parent):  # two steps adding at once: each sees the other's tables
        _add_to_geopackage(path, tables, layers, styles, descriptions, identity)
    return path


@contextmanager
def _one_writer(folder: Path):
    """Hold the folder's lock (an advisory lock on the folder itself, so nothing is left
    behind; where the system has none, nothing is held)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def write_additions(work: Path, tables: dict, layers: dict | None = None,
                    styles: dict | None = None, descriptions: dict | None = None) -> None:
    """Tables, layers, their styles and descriptions written into ``work`` (a copy of a
    GeoPackage that then replaces it: ``add_to_geopackage``, ``together``)."""
    for name, frame in (layers or {}).items():
        frame.to_file(work, layer=name, driver="GPKG", engine="pyogrio",
                      layer_options={"OVERWRITE": "YES"})
    for name, frame in (tables or {}).items():
        write_table(work, name, frame)
    for layer, qml in (styles or {}).items():
        write_layer_style(work, layer, qml)
    for layer, text in (descriptions or {}).items():
        write_layer_description(work, layer, text)


def _add_to_geopackage(path: Path, tables: dict, layers: dict | None, styles: dict | None,
                       descriptions: dict | None, identity: str | None) -> None:
    tidy(path.parent)
    work_dir = _new_staging(path.parent, path.name)
    try:
        work = work_dir / path.name
        shutil.copy2(path, work)
        if identity is not None:
            _same_segmentation(work, identity, path)
        write_additions(work, tables, layers, styles, descriptions)
        if identity is not None:
            _same_segmentation(path, identity, path)
        os.replace(work, path)
        written.record(path)
    finally:
        _remove(work_dir)
