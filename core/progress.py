"""Progress and cancellation: one callback passed down from the caller.

The caller (a command-line progress bar, a QgsTask, a Processing feedback object) passes
``progress(fraction, message)``; it returns nothing, and raises ``Cancelled`` when the user
has asked to stop. Engine steps call it between units of work.
"""

from __future__ import annotations

from typing import Callable

Progress = Callable[[float, str], None]


class Cancelled(Exception):
    """The user stopped the run; nothing has been written."""


def silent(fraction: float, message: str) -> None:
    """The callback used when the caller gives none."""


def scaled(progress: Progress | None, start: float, end: float) -> Progress:
    """A callback for a sub-step that reports 0..1 into the caller's start..end."""
    progress = progress or silent

    def report(fraction: float, message: str) -> None:
        progress(start + (end - start) * min(max(fraction, 0.0), 1.0), message)

    return report
