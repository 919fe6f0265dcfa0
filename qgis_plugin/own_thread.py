"""Running a step off QGIS's main thread in a Python thread made for it.

QGIS runs background work (a ``QgsTask``: the wizard's and dock's steps, a Processing
algorithm started from its dialog) in the threads of its task pool, which it reuses from one
task to the next. Python gives such a thread a state for each call into Python and frees it
when the call returns. pyproj (3.7) keeps each thread's PROJ context in two places: the
context itself is found through the operating system's thread (a pointer that outlives the
call), but it is freed with Python's thread state. The next CRS built in that reused thread
then gets a freed context, and QGIS dies (signal 11, in ``proj_create``; pyproj issues
#1509, #1622). A thread made for the step, which the pool thread waits for, starts with no
context and takes its context with it when it ends.
"""

from __future__ import annotations

import threading


def in_a_thread_of_its_own(function, *args, name: str):
    """``function(*args)`` in a new thread, which the calling thread waits for: returns its
    result, or raises here the exception it raised (with its traceback)."""
    outcome: dict = {}

    def work():
        try:
            outcome["result"] = function(*args)
        except BaseException as err:  # noqa: BLE001 (raised again in the caller's thread)
            outcome["error"] = err

    worker = threading.Thread(target=work, name=name)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome.pop("error")
    return outcome["result"]


def on_main_thread() -> bool:
    """Whether this is QGIS's main thread, whose Python thread state lives as long as QGIS
    (so pyproj's context there is never freed under it)."""
    return threading.current_thread() is threading.main_thread()
