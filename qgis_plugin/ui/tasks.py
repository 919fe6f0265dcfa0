"""The one task runner the plugin's widgets use: a core step in a ``QgsTask``.

``run_task(description, function, *args, on_done=..., on_error=..., **kwargs)`` runs
``function(*args, progress=progress, **kwargs)`` in QGIS's task manager (its progress shows
in QGIS's status bar, where the user can also cancel it). ``progress(fraction, message)``
moves the task's progress and raises ``core.progress.Cancelled`` once the task is cancelled,
so the step stops between units of work and writes nothing. ``on_done(result)`` or
``on_error(message)`` is then called on the main thread; a cancelled run calls
``on_error`` with "Cancelled: nothing was written.". ``on_progress(fraction, message)``, if
given, is also called on the main thread as the step reports.

Widgets never compute themselves: they gather parameters, call ``run_task`` and show the
result.

While a step runs off the main thread, the objects that existed before it are left out of
Python's garbage collections (``old_objects_set_aside``): a step that makes many objects
(matplotlib's box plots, dozens of figures) set off full collections of QGIS's whole heap,
0.3-0.6 s each, during which the step's thread holds Python's lock and QGIS's window
cannot answer (four of them froze the wizard's run for 0.4-0.6 s each on Sutton).
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import QObject, pyqtSignal

from ...core.errors import InputError
from ...core.progress import Cancelled
from ..own_thread import in_a_thread_of_its_own

CANCELLED = "Cancelled: nothing was written."


_ASIDE_LOCK = threading.Lock()
_aside = 0  # how many threads run with the older objects set aside


@contextmanager
def old_objects_set_aside():
    """Python's collections, while this runs, look only at objects made since it began
    (``gc.freeze``): a full collection then takes milliseconds, not the half second of
    traversing QGIS's heap while holding Python's lock. When the last such thread ends the
    older objects are collected as usual again (``gc.unfreeze``)."""
    global _aside
    with _ASIDE_LOCK:
        _aside += 1
        gc.freeze()
    try:
        yield
    finally:
        with _ASIDE_LOCK:
            _aside -= 1
            if _aside == 0:
                gc.unfreeze()


class _Relay(QObject):
    """Carries the step's progress messages to the main thread."""

    said = pyqtSignal(float, str)


class EngineTask(QgsTask):
    def __init__(self, description: str, function, args=(), kwargs=None, on_done=None,
                 on_error=None, on_progress=None):
        super().__init__(description, QgsTask.CanCancel)
        self.function, self.args, self.kwargs = function, args, kwargs or {}
        self.on_done, self.on_error = on_done, on_error
        self.result = None
        self.error: str | None = None
        self.exception: Exception | None = None  # the InputError behind ``error``, if any
        self.message = ""
        self.relay = _Relay()
        if on_progress is not None:
            self.relay.said.connect(on_progress)

    def report(self, fraction: float, message: str) -> None:
        """The step's ``progress`` callback (QgsTask's own ``progress()`` reads the value)."""
        if self.isCanceled():
            raise Cancelled()
        self.setProgress(100 * max(0.0, min(1.0, fraction)))
        if message:
            self.message = message
        self.relay.said.emit(fraction, message or self.message)

    def run(self) -> bool:  # a thread of QGIS's task pool
        # The step runs in a thread of its own, which QGIS's pool thread waits for: see
        # own_thread (a CRS built in a reused pool thread crashed QGIS).
        in_a_thread_of_its_own(self._work, name=f"engine: {self.description()}")
        return self.error is None

    def _work(self) -> None:
        try:
            with old_objects_set_aside():
                self.result = self.function(*self.args, progress=self.report,
                                            **self.kwargs)
        except Cancelled:
            self.error = CANCELLED
        except (InputError, OSError) as err:
            self.exception = err
            where = f"{err.filename}: " if isinstance(err, OSError) and err.filename else ""
            self.error = f"{where}{getattr(err, 'strerror', None) or err}"
        except Exception as err:  # noqa: BLE001 (shown to the user, not swallowed)
            self.error = f"{type(err).__name__}: {err}"

    def finished(self, ok: bool) -> None:  # the main thread
        if ok:
            if self.on_done is not None:
                self.on_done(self.result)
        elif self.on_error is not None:
            self.on_error(self.error or CANCELLED)


_RUNNING: set = set()  # Python must keep the task alive while QGIS runs it


def run_task(description: str, function, *args, on_done=None, on_error=None,
             on_progress=None, **kwargs) -> EngineTask:
    task = EngineTask(description, function, args, kwargs, on_done, on_error, on_progress)
    _RUNNING.add(task)
    task.taskCompleted.connect(lambda: _RUNNING.discard(task))
    task.taskTerminated.connect(lambda: _RUNNING.discard(task))
    QgsApplication.taskManager().addTask(task)
    return task
