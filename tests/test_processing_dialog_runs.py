"""The plugin's algorithms run as their dialogs run them: in QGIS's task pool, one run after
another, in a process of its own (tests/dialog_runs.py) so that a crash fails this test
instead of taking pytest down. QGIS died (signal 11, in pyproj building a CRS) on the second
run in a reused pool thread before the algorithms ran in a thread of their own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import saved_sample

RUNS = 8


def test_runs_in_a_row_from_the_dialog_do_not_crash_qgis(tmp_path):
    _, segmentation = saved_sample(tmp_path, n_init=1)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("dialog_runs.py")), str(segmentation),
         str(RUNS)], capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-4000:]}"
    runs = {run["run"]: run for run in map(json.loads, done.stdout.splitlines())}

    for number in range(1, RUNS + 1):  # the wards as a layer, then as a file, in turn
        run = runs[number]
        assert run["ok"], run
        assert run["log"] == ["Output areas: 20 wards, 749 in all",
                              "Households: 20 wards, 97,534 in all",
                              "Residents: 20 wards, 220,338 in all"], run
        assert run["threads"] == ["Processing: wardmatrices"]  # the algorithm's own thread
        assert run["progress"] >= 30
    # a layer opened from a file belongs to QGIS's thread, in the context's layer store
    assert "Cannot set parent" not in done.stderr

    wrong = runs["not a segmentation"]
    assert not wrong["ok"]
    (message,) = wrong["log"]
    assert message.startswith("error: ") and "notes.gpkg: not a GeoPackage" in message
    assert "Traceback" not in message
    cancelled = runs["cancelled"]
    assert not cancelled["ok"] and cancelled["log"] == ["error: Cancelled: nothing was written"]
