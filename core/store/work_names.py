"""Hidden work names: the folders and files a run builds its outputs in before they go in,
named for this machine and process (``.<name>.staging-<host>-<pid>-<random>``) so that
those of processes that no longer run can be told and removed (``tidying.tidy``).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path

_HOST = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40] or "host"
# .<label>.staging-<host>-<pid>-<random>[.suffix] (work folders and files), and
# .<label>.incoming-<host>-<pid> (a complete new run about to be swapped in)
_WORK = re.compile(r"^\.(?P<label>.+)\.(?P<kind>staging|incoming)-(?P<host>[A-Za-z0-9_]+)"
                   r"-(?P<pid>\d+)(?:-[a-z0-9]+)?(?:\.[A-Za-z0-9]+)?$")
# work folders of earlier versions (no process id): removed once a day old
_OLD_WORK = re.compile(r"^\.(?:.+-staging-|gpkg-)[a-z0-9_]{8}$")
_STALE_AFTER = 24 * 3600  # seconds; for work folders whose process cannot be checked


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

