"""Outputs written to files and folders a user chose (Processing, the dock) are whole or
nothing (issue 22): the new files of one step replace their namesakes all together, with
the tables the step adds to the segmentation's GeoPackage, or none of them go in.

The child process dies (``os._exit``, as a kill -9) at every rename of the commit in turn,
or raises an error there; the next run or reader of the folder then finds every file and
the GeoPackage's table of one run, never a mix, and the user's own files untouched.
"""

from __future__ import annotations

import os
import sys

import pandas as pd
import pytest
from forking import forked

from community_safety.core.errors import InputError
from community_safety.core.store import together
from community_safety.core.store.geopackage import read_gpkg_table, write_table
from community_safety.core.store.tidying import tidy

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
    exitcode = forked(_child(folder, gpkg, at, how))
    runs = _state(folder, gpkg)
    assert len(runs) == 1, (at, how, runs)  # one run's files and table, never a mix
    if exitcode == 0:
        assert runs == {"new"}
    elif how == "error":
        assert exitcode == 3 and runs == {"old"}  # an error puts back what went in


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
        forked(child)
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


@pytest.fixture(scope="module")
def placed(tmp_path_factory):
    from dataclasses import replace

    from conftest import SAMPLE_DIR

    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.build import build_segmentation
    from community_safety.core.segment.saved import save_segmentation

    seg = build_segmentation(replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=2))
    saved = save_segmentation(seg, tmp_path_factory.mktemp("seg"), plots=False)
    return saved if saved.suffix == ".gpkg" else saved / "segmentation.gpkg"


def test_incidents_killed_while_committing_keep_folder_and_geopackage_together(placed,
                                                                             tmp_path):
    """``incidents`` (and Processing's 'Profile incidents') writes its files into a shared
    folder and its tables into the GeoPackage: killed at each rename of the commit, the
    folder's profile and the GeoPackage's are always of the same run."""
    import shutil

    from conftest import SAMPLE_DIR

    from community_safety.core.cli import main

    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(placed, gpkg)
    folder = tmp_path / "incidents"

    def args(start: str) -> list[str]:
        return [str(a) for a in ("incidents", gpkg, SAMPLE_DIR / "lfb_dwelling_fires.csv",
                                 "--name", "fires", "--x", "easting_rounded", "--y",
                                 "northing_rounded", "--date-column", "date", "--from", start,
                                 "--out", folder)]

    def counted() -> tuple[float, float]:
        tidy(folder)
        tidy(gpkg.parent)
        in_folder = pd.read_csv(folder / "incident_profile_fires.csv")["count"].sum()
        in_gpkg = read_gpkg_table(gpkg, "incident_profile_fires")["count"].sum()
        return in_folder, in_gpkg

    assert main(args("2015-01-01")) == 0
    first = counted()
    assert first[0] == first[1]
    outcomes, seen_runs = set(), {first[0]}
    for at, start in enumerate(["2023-01-01", "2016-01-01"] * 4, start=1):
        def child(at=at, start=start):
            real_commit = together._commit

            def commit(*a, **k):
                real, seen = os.replace, []

                def replace(src, dst):
                    seen.append(dst)
                    if len(seen) == at:
                        os._exit(9)
                    return real(src, dst)
                os.replace = replace
                return real_commit(*a, **k)
            together._commit = commit
            os._exit(main(args(start)))
        exitcode = forked(child)
        in_folder, in_gpkg = counted()
        assert in_folder == in_gpkg, (at, start, in_folder, in_gpkg)
        outcomes.add(exitcode)
        seen_runs.add(in_folder)
    assert 9 in outcomes  # the kills did land inside the commit
    assert len(seen_runs) >= 2  # and the runs differ, so a mix would show
    assert not [p for p in (*folder.iterdir(), *gpkg.parent.iterdir())
                if "staging" in p.name]
