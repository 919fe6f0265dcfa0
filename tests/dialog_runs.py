"""Runs the plugin's algorithms the way their dialogs do, in a process of its own (a crash
takes only this process down): each run in a ``QgsProcessingAlgRunnerTask`` on QGIS's task
manager, so in one of the task pool's threads, which QGIS reuses from one run to the next.

``python dialog_runs.py SEGMENTATION.gpkg RUNS`` runs "Ward x segment matrices" on the
Camden wards ``RUNS`` times in a row (the wards as a project layer, then as a file not in
the project, in turn), then once on a file that is not a segmentation and once cancelled
as it starts. It prints one JSON line per run (succeeded, the log's lines, the threads the
log came from, the highest progress) and exits 0 unless it crashed. Used by
tests/test_processing_dialog_runs.py."""

from __future__ import annotations

import faulthandler
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
faulthandler.enable(all_threads=True)

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "resources" / "sample_data" / "camden"


def start_qgis() -> QgsApplication:
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append(os.path.join(app.pkgDataPath(), "python", "plugins"))
    from processing.core.Processing import Processing

    Processing.initialize()
    return app


class Feedback(QgsProcessingFeedback):
    """What the dialog's log shows, kept, with the thread each line came from."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []
        self.threads: set[str] = set()
        self.progress_seen = 0.0
        self.progressChanged.connect(self.keep_progress)

    def keep_progress(self, value):
        self.progress_seen = max(self.progress_seen, value)

    def pushInfo(self, info):  # noqa: N802
        self.threads.add(threading.current_thread().name)
        self.lines.append(info)
        super().pushInfo(info)

    def reportError(self, error, fatalError=False):  # noqa: N802, N803
        self.lines.append(f"error: {error}")
        super().reportError(error, fatalError)


def run_in_task(algorithm_id: str, parameters: dict, feedback=None, timeout=300.0):
    """One run as the dialog's Run button makes it: (succeeded, results, feedback)."""
    algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = feedback or Feedback()
    task = QgsProcessingAlgRunnerTask(algorithm, parameters, context, feedback)
    ended: dict = {}
    task.executed.connect(lambda ok, results: ended.update(ok=ok, results=results))
    QgsApplication.taskManager().addTask(task)
    deadline = time.monotonic() + timeout
    while "ok" not in ended and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.01)
    return ended.get("ok", False), ended.get("results"), feedback


def main(segmentation: str, runs: int) -> int:
    app = start_qgis()
    from community_safety.qgis_plugin.processing.provider import CommunitySafetyProvider

    provider = CommunitySafetyProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    wards = QgsVectorLayer(str(SAMPLE_DIR / "wards_2022.gpkg"), "wards", "ogr")
    QgsProject.instance().addMapLayer(wards)
    wards_file = Path(segmentation).with_name("wards_file.gpkg")  # a file not in the project
    shutil.copy(SAMPLE_DIR / "wards_2022.gpkg", wards_file)
    not_a_segmentation = Path(segmentation).with_name("notes.gpkg")
    not_a_segmentation.write_text("not a GeoPackage")

    def report(name, ok, feedback):
        print(json.dumps({"run": name, "ok": ok, "log": feedback.lines,
                          "threads": sorted(feedback.threads),
                          "progress": feedback.progress_seen}), flush=True)

    for run in range(1, runs + 1):
        # the layer in the project, as the dialog's layer list gives it; every other run
        # the file, as the dialog's "..." button gives it
        given = wards.id() if run % 2 else str(wards_file)
        ok, _, feedback = run_in_task("community_safety:wardmatrices", {
            "SEGMENTATION": segmentation, "WARDS": given, "WARD_CODE": "WD22CD",
            "WARD_NAME": "WD22NM"})
        report(run, ok, feedback)
    ok, _, feedback = run_in_task("community_safety:wardmatrices", {
        "SEGMENTATION": str(not_a_segmentation), "WARDS": wards.id(),
        "WARD_CODE": "WD22CD"})
    report("not a segmentation", ok, feedback)
    cancelled = Feedback()
    cancelled.cancel()  # the dialog's Cancel button, pressed as the run starts
    ok, _, feedback = run_in_task("community_safety:wardmatrices", {
        "SEGMENTATION": segmentation, "WARDS": wards.id(), "WARD_CODE": "WD22CD"},
        feedback=cancelled)
    report("cancelled", ok, feedback)
    QgsProject.instance().removeAllMapLayers()
    QgsApplication.processingRegistry().removeProvider(provider)
    del provider
    app.exitQgis()
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1], int(sys.argv[2])))
