"""An output folder and tables added to a saved segmentation, replaced together or not at all.

``demand --segmentation`` writes its folder (the lists and the shared views) and adds the
counts behind the shared views to the segmentation's GeoPackage, which the report and the
dock read. Each replacement is atomic on its own (``folders.replaced_folder``,
``geopackage.add_to_geopackage``), but two renames in two places cannot be one, so a kill between
them used to leave the new folder beside the old GeoPackage tables (or the reverse).

``replaced_together(out_dir, gpkg, tables, identity)`` commits both with a journal:

1. the new folder is built in a hidden work folder beside ``out_dir`` (the block);
2. the GeoPackage is copied and the tables written into the copy (``identity``: only if it
   still holds the segmentation the results came from);
3. a journal naming both complete work copies is written beside ``out_dir`` and beside the
   GeoPackage (atomically, each a hidden work file of this process);
4. the copy replaces the GeoPackage (one rename), then the folder is swapped in (one
   exchange), then the journals go.

A run killed after step 3 is finished by the next run or reader that looks in either
folder (``tidying.finish_commits``, called first by ``tidy`` and by ``load_segmentation``):
the GeoPackage copy goes in if it has not (its inode tells), then the folder. Killed
before step 3 nothing was committed and the work copies are cleared away as any killed
run's are; killed between the two journals, the half with no journal may already have
been cleared, and the commit is then dropped whole (both outputs stay as they were).

The same commit (``_commit``) serves outputs in a folder a user chose, which holds other
things too (Processing, the dock, ``incidents``): ``staged_together`` moves a step's files
over their namesakes one by one, with the GeoPackage's tables, under one journal (each
staged file's inode tells whether it went in); ``files_together`` does it for files
picked one by one, maybe in different folders (a journal beside each).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager, nullcontext
from pathlib import Path

from .. import written
from . import geopackage
from .result_files import _target, check_replaceable
from .swap import _swap_in
from .tidying import _journal_path, _write_journal, tidy
from .work_names import _fresh_name, _new_staging, _remove


def _keep(path: Path, link: Path) -> None:
    """``path`` as it is now, kept at ``link`` (a hard link, or a copy where none can be)."""
    try:
        os.link(path, link)
    except OSError:
        shutil.copy2(path, link)


def _commit(moves: list, gpkg: Path | None = None, tables: dict | None = None,
            identity: str | None = None, swap: tuple | None = None,
            remove: tuple = (), journal_in: tuple = (), additions: dict | None = None) -> None:
    """Put in place, all or none: ``tables`` into a copy of ``gpkg`` (only if it still
    holds the segmentation ``identity``), each staged file of ``moves`` (staged, place)
    over its place, and the folder ``swap`` (staging, target). A journal in every folder
    involved names them all before the first goes in, so a kill at any later point is
    finished by the next run or reader (``finish_commits``); an error or Ctrl-C puts back
    what had gone in. ``remove``: work paths to clear once done; ``journal_in``: the
    folders whose readers finish the moves (by default each file's own); ``additions``:
    layers, styles and descriptions for the GeoPackage too (``geopackage.write_additions``)."""
    moves = [(Path(src), Path(dst)) for src, dst in moves]
    entry = {"moves": [[str(src), str(dst), os.stat(src).st_ino] for src, dst in moves],
             "remove": [str(p) for p in remove]}
    places = []  # (folder, label) of each journal
    if swap is not None:
        entry.update(staging=str(swap[0]), target=str(swap[1]))
        places.append((swap[1].parent, swap[1].name))
    places += [(Path(f), "output") for f in journal_in or [dst.parent for _, dst in moves]]
    work_dir = old = None
    journals: list = []
    kept: list = []  # (place, the old file kept aside or None when there was none)
    try:
        with geopackage._one_writer(gpkg.parent) if gpkg is not None else nullcontext():
            if gpkg is not None:
                tidy(gpkg.parent)
                work_dir = _new_staging(gpkg.parent, gpkg.name)
                work = work_dir / gpkg.name
                shutil.copy2(gpkg, work)
                if identity is not None:
                    geopackage._same_segmentation(work, identity, gpkg)
                geopackage.write_additions(work, tables, **(additions or {}))
                if identity is not None:
                    geopackage._same_segmentation(gpkg, identity, gpkg)
                entry.update(gpkg=str(gpkg), work=str(work), work_inode=os.stat(work).st_ino)
                places.append((gpkg.parent, gpkg.name))
                old = work_dir / "before.gpkg"  # the GeoPackage as it was, to put back
                _keep(gpkg, old)
            for _, dst in moves:
                link = None
                if os.path.lexists(dst):  # kept in the staging folder when there is one
                    beside = Path(remove[0]) if remove else dst.parent
                    link = _fresh_name(beside, dst.name, dst.suffix)
                    _keep(dst, link)
                kept.append((dst, link))
            journals = list(dict.fromkeys(_journal_path(f, label) for f, label in places))
            entry["journals"] = [str(j) for j in journals]
            for journal in journals:
                _write_journal(journal, entry)
            moved, gpkg_in = [], False
            try:
                if gpkg is not None:
                    os.replace(work, gpkg)
                    gpkg_in = True
                for src, dst in moves:
                    os.replace(src, dst)
                    moved.append(dst)
                if swap is not None:
                    _swap_in(*swap)
            except BaseException:
                # an error or Ctrl-C (not a kill): the folder swap puts itself back unless
                # it had happened; then the files and the GeoPackage go back too
                if swap is None or swap[1] not in written.committed():
                    for dst, link in reversed(kept):
                        if dst in moved:
                            if link is not None:
                                os.replace(link, dst)
                            else:
                                _remove(dst)
                    if gpkg_in:
                        os.replace(old, gpkg)
                raise
            for _, dst in moves:
                written.record(dst)
            if gpkg is not None:
                written.record(gpkg)
    finally:
        for path in [*journals, *(link for _, link in kept if link is not None),
                     *([work_dir] if work_dir is not None else []), *map(Path, remove)]:
            if os.path.lexists(path):
                _remove(path)


@contextmanager
def replaced_together(out_dir: Path, gpkg: Path, tables: dict, identity: str | None = None):
    """A hidden folder to build ``out_dir``'s new contents in; when the block succeeds,
    ``tables`` go into ``gpkg`` and the folder replaces ``out_dir``, both or neither,
    whatever the moment of a kill (see the module)."""
    target = _target(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tidy(target.parent)
    check_replaceable(out_dir)
    gpkg = geopackage.gpkg_file(Path(gpkg))
    staging = _new_staging(target.parent, target.name)
    try:
        yield staging
        _commit([], gpkg, tables, identity, swap=(staging, target))
    finally:
        if os.path.lexists(staging):
            _remove(staging)


@contextmanager
def staged_together(folder: Path, gpkg: Path | None = None, tables: dict | None = None,
                    identity: str | None = None, **additions):
    """A hidden folder inside ``folder`` (one a user chose, holding other things too) whose
    files each replace their namesake in ``folder`` when the block succeeds, together with
    ``tables`` (and ``additions``: layers, styles, descriptions) added to ``gpkg`` when
    given: all or none, whatever the moment of a kill.
    Everything else in ``folder`` is left alone."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tidy(folder)
    gpkg = geopackage.gpkg_file(Path(gpkg)) if gpkg is not None else None
    staging = _new_staging(folder, "output")
    try:
        yield staging
        moves = []
        for path in sorted(staging.rglob("*")):
            place = folder / path.relative_to(staging)
            if path.is_dir():
                place.mkdir(exist_ok=True)
            else:
                moves.append((path, place))
        _commit(moves, gpkg, tables, identity, remove=(staging,), journal_in=(folder,),
                additions=additions)
    finally:
        if os.path.lexists(staging):
            _remove(staging)


@contextmanager
def files_together(*paths: Path):
    """A temporary path beside each of ``paths`` (files a user chose one by one, maybe in
    different folders); when the block succeeds they replace them, all or none."""
    paths = [Path(p) for p in paths]
    temporaries = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            tidy(path.parent)
            temporary = _fresh_name(path.parent, path.name, path.suffix)
            os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            temporaries.append(temporary)
        yield temporaries
        _commit(list(zip(temporaries, paths)))
    finally:
        for temporary in temporaries:
            if os.path.lexists(temporary):
                _remove(temporary)
