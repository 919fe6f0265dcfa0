"""How results reach the disk, so that a failure, Ctrl-C or a kill never leaves a mix:

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
- ``add_to_geopackage`` (``geopackage``): later steps change a copy of the GeoPackage and
  move it back, only if the segmentation there is still the one they read (its identity).

Hidden work folders carry this machine's name and the process id
(``.<name>.staging-<host>-<pid>-<random>``); those of processes that no longer run are
removed at the start of the next run, and a run killed mid-swap is completed then (or by
the next reader), so they never pile up.
"""

from __future__ import annotations

import ctypes
import errno
import fnmatch
import os
import re
import secrets
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from .. import written
from ..errors import InputError
from .names import CSV_TABLES, GPKG_NAME

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


# --- which segmentation: its identity -----------------------------------------------------


# --- save and load ----------------------------------------------------------------------------


