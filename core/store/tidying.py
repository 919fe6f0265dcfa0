"""What killed runs left, finished or removed (``tidy``, first thing a run or reader does
in a folder): a commit of several outputs whose journal was written is finished (its
journal's name and writing are here too, beside the reading), then work folders and files
of processes that no longer run are removed, and a folder killed mid-swap is moved in.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .swap import _swap_in
from .work_names import _HOST, _OLD_WORK, _STALE_AFTER, _WORK, _abandoned, _remove

_SUFFIX = "-commit.json"


def _journal_path(folder: Path, label: str) -> Path:
    # a hidden work name of this process (``work_names._WORK``), so that a journal left by
    # a killed run is finished (and then removed) by ``tidy``
    return folder / f".{label}.staging-{_HOST}-{os.getpid()}{_SUFFIX}"


def _write_journal(path: Path, entry: dict) -> None:
    # a hidden work name too (``.<label>.staging-<host>-<pid>-commit.tmp``), so that one
    # left by a kill is cleared by ``tidy``
    work = path.with_name(path.name.removesuffix(".json") + ".tmp")
    with open(work, "w", encoding="utf-8") as handle:
        json.dump(entry, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(work, path)


def _finish(entry: dict) -> None:
    """Complete a commit whose journal is ``entry``: the GeoPackage copy in (unless it is
    already), the staged files each over its namesake (unless already), then the folder;
    or, when a part is gone without having gone in, nothing (every staged part is dropped
    with the journal)."""
    gpkg = Path(entry["gpkg"]) if entry.get("gpkg") else None
    work = Path(entry["work"]) if gpkg else None
    moves = [(Path(src), Path(dst), inode) for src, dst, inode in entry.get("moves", [])]
    staging = Path(entry["staging"]) if entry.get("staging") else None
    leftovers = [Path(p) for p in entry.get("remove", [])] + ([work.parent] if work else [])

    def _in(path: Path, inode: int) -> bool:
        try:
            return os.stat(path).st_ino == inode
        except OSError:
            return False

    gpkg_done = gpkg is None or _in(gpkg, entry["work_inode"])
    pending = [(src, dst) for src, dst, inode in moves if not _in(dst, inode)]
    lost = (not gpkg_done and not work.exists()) or any(not src.exists() for src, _ in pending)
    if lost:  # a half was cleared before its journal was written: neither goes in
        for path in [src for src, _ in pending] + ([staging] if staging else []) + leftovers:
            _remove(path)
        return
    if not gpkg_done:
        os.replace(work, gpkg)
    for src, dst in pending:
        os.replace(src, dst)
    if staging is not None and staging.exists():
        _swap_in(staging, Path(entry["target"]))
    for path in leftovers:
        _remove(path)


def finish_commits(folder: Path) -> None:
    """Finish the commits that killed runs left journals for in ``folder``."""
    try:
        names = [e.name for e in os.scandir(folder) if e.name.endswith(_SUFFIX)]
    except OSError:
        return
    for name in names:
        path = Path(folder) / name
        found = _WORK.match(name)
        if found is None or not _abandoned(found, path):
            continue
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            _remove(path)
            continue
        _finish(entry)
        for journal in entry.get("journals", []):
            _remove(Path(journal))
        _remove(path)


def tidy(folder: Path) -> None:
    """Finish or remove what killed runs left in ``folder``: a complete new run that was
    about to be swapped in goes in if its folder is missing (the kill came between the two
    renames) and is dropped otherwise; work folders and files of processes that no longer
    run are removed (and those of earlier versions once a day old)."""
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


def recovered(path: Path) -> bool:
    """Whether ``path`` exists, once a run killed while swapping its folder in (between
    the two renames) is finished."""
    path = Path(path)
    for candidate in (path, path.parent):
        if not candidate.exists() and candidate.parent.is_dir():
            tidy(candidate.parent)
    return path.exists()

