"""An output folder and tables added to a saved segmentation, replaced together or not at all.

``demand --segmentation`` writes its folder (the lists and the shared views) and adds the
counts behind the shared views to the segmentation's GeoPackage, which the report and the
dock read. Each replacement is atomic on its own (``store.replaced_folder``,
``store.add_to_geopackage``), but two renames in two places cannot be one, so a kill between
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
folder (``finish_commits``, called first by ``store.tidy`` and by ``load_segmentation``):
the GeoPackage copy goes in if it has not (its inode tells), then the folder. Killed
before step 3 nothing was committed and the work copies are cleared away as any killed
run's are; killed between the two journals, the half with no journal may already have
been cleared, and the commit is then dropped whole (both outputs stay as they were).
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from . import store, written

_SUFFIX = "-commit.json"


def _journal_path(folder: Path, label: str) -> Path:
    # a hidden work name of this process (``store._WORK``), so that a journal left by a
    # killed run is finished (and then removed) by ``store.tidy``
    return folder / f".{label}.staging-{store._HOST}-{os.getpid()}{_SUFFIX}"


def _write_journal(path: Path, entry: dict) -> None:
    work = path.with_name(path.name + ".tmp")
    with open(work, "w", encoding="utf-8") as handle:
        json.dump(entry, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(work, path)


def _finish(entry: dict) -> None:
    """Complete a commit whose journal is ``entry``: the GeoPackage copy in (unless it is
    already), then the folder; or, when the copy is gone without having gone in, nothing
    (the staged folder is dropped with the journal)."""
    gpkg, work = Path(entry["gpkg"]), Path(entry["work"])
    staging, target = Path(entry["staging"]), Path(entry["target"])
    try:
        done = os.stat(gpkg).st_ino == entry["work_inode"]
    except OSError:
        done = False
    if not done:
        if not work.exists():
            store._remove(staging)  # the GeoPackage half is lost: neither goes in
            store._remove(work.parent)
            return
        os.replace(work, gpkg)
    if staging.exists():
        store._swap_in(staging, target)
    store._remove(work.parent)  # the work folder, with the GeoPackage as it was


def finish_commits(folder: Path) -> None:
    """Finish the commits that killed runs left journals for in ``folder``."""
    try:
        names = [e.name for e in os.scandir(folder) if e.name.endswith(_SUFFIX)]
    except OSError:
        return
    for name in names:
        path = Path(folder) / name
        found = store._WORK.match(name)
        if found is None or not store._abandoned(found, path):
            continue
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            store._remove(path)
            continue
        _finish(entry)
        for journal in entry.get("journals", []):
            store._remove(Path(journal))
        store._remove(path)


@contextmanager
def replaced_together(out_dir: Path, gpkg: Path, tables: dict, identity: str | None = None):
    """A hidden folder to build ``out_dir``'s new contents in; when the block succeeds,
    ``tables`` go into ``gpkg`` and the folder replaces ``out_dir``, both or neither,
    whatever the moment of a kill (see the module)."""
    target = store._target(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    store.tidy(target.parent)
    store.check_replaceable(out_dir)
    gpkg = store.gpkg_file(Path(gpkg))
    staging = store._new_staging(target.parent, target.name)
    work_dir = journals = None
    try:
        yield staging
        with store._one_writer(gpkg.parent):
            store.tidy(gpkg.parent)
            work_dir = store._new_staging(gpkg.parent, gpkg.name)
            work = work_dir / gpkg.name
            shutil.copy2(gpkg, work)
            if identity is not None:
                store._same_segmentation(work, identity, gpkg)
            for name, frame in tables.items():
                store.write_table(work, name, frame)
            if identity is not None:
                store._same_segmentation(gpkg, identity, gpkg)
            journals = [_journal_path(target.parent, target.name),
                        _journal_path(gpkg.parent, gpkg.name)]
            entry = {"gpkg": str(gpkg), "work": str(work), "work_inode": os.stat(work).st_ino,
                     "staging": str(staging), "target": str(target),
                     "journals": [str(j) for j in journals]}
            old = work_dir / "before.gpkg"  # the GeoPackage as it was, to put back
            try:
                os.link(gpkg, old)
            except OSError:
                shutil.copy2(gpkg, old)
            for journal in dict.fromkeys(journals):
                _write_journal(journal, entry)
            try:
                os.replace(work, gpkg)
                store._swap_in(staging, target)
            except BaseException:
                # an error or Ctrl-C (not a kill): the folder swap puts itself back unless
                # it had happened; then the GeoPackage goes back too
                if target not in written.committed():
                    os.replace(old, gpkg)
                raise
            written.record(gpkg)
    finally:
        for journal in journals or []:
            store._remove(journal)
        if work_dir is not None:
            store._remove(work_dir)
        if os.path.lexists(staging):
            store._remove(staging)
