"""A complete folder put in place of another (``_swap_in``): in one atomic exchange on
Linux, else by two renames whose gap a later run or reader closes; the old folder is kept
at ``<parent>/.<name>.previous``, and the one before it removed.
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

from .. import written
from .work_names import _HOST, _fresh_name, _remove

PREVIOUS = ".previous"  # <parent>/.<name>.previous: the run before the current one


def previous_folder(out_dir: Path) -> Path:
    """Where the run before the current one is kept: ``<parent>/.<name>.previous``."""
    out_dir = Path(out_dir)
    return out_dir.parent / f".{out_dir.name}{PREVIOUS}"


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

