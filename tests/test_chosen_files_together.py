"""Outputs written to files and folders a user chose (Processing, the dock) are whole or
nothing (issue 22): the new files of one step replace their namesakes all together, with
the tables the step adds to the segmentation's GeoPackage, or none of them go in.

The child process dies (``os._exit``, as a kill -9) at every rename of the commit in turn,
or raises an error there; the next run or reader of the folder then finds every file and
the GeoPackage's table of one run, never a mix, and the user's own files untouched.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

import pandas as pd
import pytest

from community_safety.core import together
from community_safety.core.errors import InputError
from community_safety.core.store import read_gpkg_table, tidy, write_table

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork and kill: Linux")
FILES = ("demand_notes.csv", "demand_ranked.csv", "plots/elbow.csv")
RENAMES = 8  # more than any commit below makes: the last runs finish undisturbed


def _run(state: str) -> pd.DataFrame:
    return pd.DataFrame({"group": ["a"], "run": [state]})


def _setup(tmp_path):
    folder, seg = tmp_path / "chosen", tmp_path / "seg"
    (folder / "plots").mkdir(parents=True)
    seg.mkdir()
    for name in FILES:
        (folder / name).write_text("run\nold\n")
    (folder / "my notes.txt").write_text("the user's own")
    gpkg = seg / "segmentation.gpkg"
    write_table(gpkg, "demand_counts_by_ward", _run("old"))
    return folder, gpkg


def _state(folder, gpkg) -> set:
    """The run each output holds, once the next reader of both places has looked."""
    tidy(folder)
    tidy(gpkg.parent)
    runs = {pd.read_csv(folder / name)["run"].iloc[0] for name in FILES}
    runs.add(read_gpkg_table(gpkg, "demand_counts_by_ward")["run"].iloc[0])
    assert (folder / "my notes.txt").read_text() == "the user's own"
    leftovers = [p.name for place in (folder, folder / "plots", gpkg.parent)
                 for p in place.iterdir() if "staging" in p.name or "incoming" in p.name]
    assert not leftovers, leftovers
    return runs


def _child(folder, gpkg, at: int, how: str):
    def child():
        real, seen = os.replace, []

        def replace(a, b):
            seen.append(b)
            if len(seen) == at:
                if how == "kill":
                    os._exit(9)
                raise OSError(28, "No space left on device", str(b))
            return real(a, b)
        os.replace = replace
        try:
            with together.staged_together(folder, gpkg,
                                          {"demand_counts_by_ward": _run("new")}) as staging:
                (staging / "plots").mkdir()
                for name in FILES:
                    (staging / name).write_text("run\nnew\n")
        except OSError:
            os._exit(3)
        os._exit(0)
    return child


@pytest.mark.parametrize("how", ["kill", "error"])
@pytest.mark.parametrize("at", range(1, RENAMES + 1))
def test_files_and_geopackage_chosen_by_a_user_go_in_together(tmp_path, at, how):
    folder, gpkg = _setup(tmp_path)
    process = multiprocessing.get_context("fork").Process(target=_child(folder, gpkg, at, how))
    process.start()
    process.join()
    runs = _state(folder, gpkg)
    assert len(runs) == 1, (at, how, runs)  # one run's files and table, never a mix
    if process.exitcode == 0:
        assert runs == {"new"}
    elif how == "error":
        assert process.exitcode == 3 and runs == {"old"}  # an error puts back what went in


def test_files_picked_one_by_one_in_two_folders_go_in_together(tmp_path):
    """Processing's 'Choose the number of segments': a table and a chart, each chosen in its
    own dialog; a kill between their renames still gives both of one run."""
    table, chart = tmp_path / "a" / "k.csv", tmp_path / "b" / "elbow.csv"
    for path in (table, chart):
        path.parent.mkdir()
        path.write_text("run\nold\n")
    for at in range(1, 6):
        def child(at=at):
            real, seen = os.replace, []

            def replace(a, b):
                seen.append(b)
                if len(seen) == at:
                    os._exit(9)
                return real(a, b)
            os.replace = replace
            with together.files_together(table, chart) as (first, second):
                first.write_text("run\nnew\n")
                second.write_text("run\nnew\n")
            os._exit(0)
        process = multiprocessing.get_context("fork").Process(target=child)
        process.start()
        process.join()
        tidy(table.parent)
        tidy(chart.parent)
        runs = {pd.read_csv(p)["run"].iloc[0] for p in (table, chart)}
        assert len(runs) == 1, (at, runs)
        assert not [p for p in (*table.parent.iterdir(), *chart.parent.iterdir())
                    if p.name.startswith(".")]


def test_the_user_folder_step_refuses_a_replaced_segmentation_and_writes_nothing(tmp_path):
    """The tables go in only if the GeoPackage still holds the segmentation the files were
    computed from; then no file goes in either."""
    folder, gpkg = _setup(tmp_path)
    with pytest.raises(InputError, match="segmentation"):
        with together.staged_together(folder, gpkg, {"demand_counts_by_ward": _run("new")},
                                      identity="not the one there") as staging:
            (staging / "plots").mkdir()
            for name in FILES:
                (staging / name).write_text("run\nnew\n")
    assert _state(folder, gpkg) == {"old"}
