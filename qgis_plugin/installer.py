"""Install the engine's packages into QGIS's own Python, in the background (a QgsTask).

The task runs pip with the requirements and ranges of ``constraints.txt`` (numpy pinned to
the one QGIS has loaded), streams pip's output line by line, and ends with one sentence:
installed, or why not (no pip, offline, no permission...).
"""

from __future__ import annotations

import importlib
import os
import site
import subprocess
import sys

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..core.dependencies import (
    explain_pip_failure,
    install_argv,
    loaded_numpy_version,
    python_executable,
)


def make_user_site_visible() -> None:
    """Python adds the user's site-packages to sys.path at start-up only if it existed then;
    after a first ``pip install --user`` it is added for this session, where start-up puts
    it: before the system's site-packages, so the versions just installed are the ones used
    (as after a restart)."""
    user_site = site.getusersitepackages()
    if os.path.isdir(user_site) and user_site not in sys.path:
        site.addsitedir(user_site)  # runs its .pth files, and appends it
        sys.path.remove(user_site)
        system = [i for i, path in enumerate(sys.path)
                  if path.rstrip("/").endswith(("site-packages", "dist-packages"))]
        sys.path.insert(system[0] if system else len(sys.path), user_site)
    importlib.invalidate_caches()


class InstallTask(QgsTask):
    """pip install of the missing packages; ``line`` carries pip's output as it comes,
    ``done`` (ok, message) the outcome, on the main thread."""

    line = pyqtSignal(str)
    done = pyqtSignal(bool, str)

    def __init__(self, missing, python: str | None = None):
        super().__init__("Installing Python packages for Community Safety Segmentation",
                         QgsTask.CanCancel)
        self.python = python or python_executable()
        self.argv = install_argv(self.python or "python3", missing, loaded_numpy_version())
        self.ok = False
        self.message = ""
        self.output: list[str] = []

    def run(self):  # in a background thread
        if self.python is None:
            self.message = ("QGIS's Python interpreter was not found beside QGIS "
                            f"(looked in {sys.exec_prefix}); install with the command below.")
            return False
        environment = dict(os.environ, PYTHONUNBUFFERED="1", PIP_NO_INPUT="1")
        try:
            process = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, env=environment)
        except OSError as err:
            self.message = f"could not start {self.python}: {err.strerror}"
            return False
        for text in process.stdout:
            self.output.append(text)
            self.line.emit(text.rstrip("\n"))
            if self.isCanceled():
                process.terminate()
                process.wait()
                self.message = "Cancelled: pip was stopped."
                return False
        process.wait()
        if process.returncode != 0:
            self.message = explain_pip_failure("".join(self.output), self.python)
            return False
        self.ok = True
        self.message = "The packages are installed."
        return True

    def finished(self, result):  # on the main thread
        if result:
            make_user_site_visible()
        elif not self.message:
            self.message = "The installation stopped."
        self.done.emit(bool(result), self.message)
