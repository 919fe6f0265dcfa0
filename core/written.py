"""What this process has put in place: the outputs a step has committed (a folder swapped
in, a file or GeoPackage replaced), so that a run stopped with Ctrl-C says one true line:
"nothing was written", or which outputs are already complete and in place.

``store`` records each commit the moment it happens (``record``); the command line reads
``committed()`` when interrupted and clears the list when a command starts.
"""

from __future__ import annotations

from pathlib import Path

_COMMITTED: list[Path] = []


def record(path) -> None:
    path = Path(path)
    if path not in _COMMITTED:
        _COMMITTED.append(path)


def committed() -> list[Path]:
    return list(_COMMITTED)


def clear() -> None:
    _COMMITTED.clear()
