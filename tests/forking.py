"""Forked children for the tests that kill a run mid-commit (as kill -9 would)."""

from __future__ import annotations

import multiprocessing

HUNG = 120  # seconds: a forked child still running then is stuck, not committing


def forked(target) -> int:
    """Run ``target`` in a forked child and return its exit code. A child forked from a
    worker where other threads (QGIS's, a BLAS's) held a lock at the fork can wait on it
    for ever, before it reaches the commit under test: such a child is killed and the
    case forked again (three tries), so a stuck fork never hangs the suite."""
    for _ in range(3):
        process = multiprocessing.get_context("fork").Process(target=target)
        process.start()
        process.join(HUNG)
        if process.exitcode is not None:
            return process.exitcode
        process.kill()
        process.join()
    raise AssertionError(f"the forked child hung {HUNG} s three times in a row")
