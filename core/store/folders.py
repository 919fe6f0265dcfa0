"""How results reach the disk, so that a failure, Ctrl-C or a kill never leaves a mix:

- ``replaced_folder(out)``: a command's ``--out`` folder is one unit. The new results are
  built in a hidden folder beside it and swapped in by renames (on Linux one atomic
  exchange), so ``out`` is at every instant either the complete old run or the complete
  new one. The previous run stays recoverable at ``<parent>/.<name>.previous`` (one only:
  the run before it is removed). A folder holding files that are not results of a run is
  refused rather than swapped (``result_files``); the swap itself is ``swap``.
- ``staged_files(folder)`` / ``atomic_file(path)``: for outputs a user picks in a file
  dialog (Processing), whose folder may be their Documents: the new files replace their
  namesakes all or none (a journal, ``together``), other files in the folder are left
  alone.
- ``add_to_geopackage`` (``geopackage``): later steps change a copy of the GeoPackage and
  move it back, only if the segmentation there is still the one they read (its identity).

Hidden work folders carry this machine's name and the process id
(``.<name>.staging-<host>-<pid>-<random>``, ``work_names``); those of processes that no
longer run are removed at the start of the next run, and a run killed mid-swap is
completed then (or by the next reader): ``tidying``, so they never pile up.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from .. import written
from .result_files import _target, check_replaceable
from .swap import _swap_in, previous_folder
from .tidying import tidy
from .together import staged_together
from .work_names import _fresh_name, _new_staging, _remove

# --- a command's output folder, replaced whole ----------------------------------------------

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

