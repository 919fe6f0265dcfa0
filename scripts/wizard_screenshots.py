"""Pictures of each page of the "New segmentation" wizard, filled on the Camden sample, for
the README: docs/wizard_1_boundaries.png … docs/wizard_5_run.png.

Runs the real wizard in QGIS (headless: QT_QPA_PLATFORM=offscreen, or under xvfb-run), fills
it from the sample's files as a GIS officer would, waits for each background step, and grabs
each page. ``make screenshots`` runs it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "resources" / "sample_data" / "camden"
TABLES = ["census_demography.csv", "census_housing.csv", "census_health_care.csv",
          "census_work.csv", "imd2019_lsoa.csv"]
NAMES = ["wizard_1_boundaries", "wizard_2_tables", "wizard_3_variables", "wizard_4_segments",
         "wizard_5_run"]
SIZE = (1200, 860)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=Path, default=REPO / "docs")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "wizard")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from qgis.core import QgsApplication

    app = QgsApplication([], True)
    app.initQgis()
    from qgis.PyQt.QtWidgets import QApplication

    from community_safety.qgis_plugin.ui.wizard import SegmentationWizard

    def wait_for(condition, timeout=600.0):
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise SystemExit("timed out waiting for the wizard")
            QApplication.processEvents()
            time.sleep(0.02)
        for _ in range(20):  # let the page lay itself out
            QApplication.processEvents()

    def shot(index: int) -> None:
        wait_for(lambda: True)
        path = args.docs / f"{NAMES[index]}.png"
        wizard.grab().save(str(path))
        print(path)

    args.docs.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    wizard = SegmentationWizard()
    wizard.resize(*SIZE)
    wizard.show()

    page = wizard.boundaries
    page.file_widget.setFilePath(str(SAMPLE / "output_areas_2011.gpkg"))
    page.name_edit.setText("Camden output areas, 2011 Census")
    shot(0)

    wizard.next()
    tables = wizard.tables
    tables.add_files([SAMPLE / name for name in TABLES])
    wait_for(lambda: tables.task is None)  # read in a task
    tables.check()
    wait_for(lambda: tables.task is None)
    tables.list.setCurrentRow(4)  # IMD by LSOA: joined through a boundary field
    shot(1)

    wizard.next()
    variables = wizard.variables
    variables.min_range.setValue(1.0)
    wait_for(variables.isComplete)
    shot(2)

    segments = wizard.segments
    segments.winsorise.setValue(3.0)  # as the sample project: before the diagnostics
    wizard.next()
    wait_for(lambda: segments.task is None and segments.diagnostics is not None)
    # the chart is drawn in a thread and reaches the page a moment later
    wait_for(lambda: segments.chart.pixmap() is not None and not segments.chart.pixmap().isNull())
    shot(3)

    wizard.next()
    run = wizard.run_page
    run.output.setFilePath(str(args.work / "segmentation.gpkg"))
    run.start()
    wait_for(lambda: run.task is None)
    shot(4)
    wizard.close()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
