"""Bad input, round 2 (issue 22): each case ends with exit code 2 and one clean line that
names what is wrong, no traceback, and nothing written (``fails_cleanly``).

By class: seeds and month counts out of range in every command that takes them; weights
that would overflow; a targeting window with no fires; a GeoPackage whose tables come
from two segmentations, or whose ward matrices lost their ward layer; a full disk; terminal
escape sequences and hidden work-folder names kept out of messages; the area code field
chosen as a variable in Processing.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR
from test_bad_inputs import fails_cleanly
from test_bad_inputs_more import full  # noqa: F401  (the module's segmentation fixture)

from community_safety.core.cli import main
from community_safety.core.errors import public_text
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.saved import save_segmentation
from community_safety.core.store.geopackage import read_gpkg_table, write_table

S = SAMPLE_DIR
FIRES = S / "lfb_dwelling_fires.csv"
XY = ["--x", "easting_rounded", "--y", "northing_rounded"]
TOML = S / "camden.toml"


def run(*args) -> int:
    return main([str(a) for a in args])


def copy_of(gpkg: Path, folder: Path) -> Path:
    target = folder / "seg" / "segmentation.gpkg"
    target.parent.mkdir(parents=True)
    shutil.copy(gpkg, target)
    return target


# --- numbers out of range ------------------------------------------------------------------

@pytest.mark.parametrize("command", ["segment", "choose-k", "backtest"])
@pytest.mark.parametrize("seed", ["-1", "4294967296", "abc"])
def test_a_seed_out_of_range_in_every_command(full, tmp_path, capsys, command, seed):  # noqa: F811
    out = tmp_path / "out"
    args = {
        "segment": ["segment", TOML, "--out", out, "--seed", seed],
        "choose-k": ["choose-k", TOML, "--out", out, "--seed", seed],
        "backtest": ["target", full["full"], "--out", out, "--backtest", "--cut-off",
                     "2019-12-31", "--incidents", FIRES, *XY, "--date-column", "date",
                     "--seed", seed],
    }[command]
    err = fails_cleanly(args, capsys, full["full"])
    assert f"'{seed}': a seed is a whole number from 0 to 4,294,967,295" in err
    assert not out.exists()


def test_a_seed_out_of_range_in_the_project_file(tmp_path, capsys):
    text = re.sub(r"^seed = \d+", "seed = -1", TOML.read_text(), flags=re.MULTILINE)
    assert "seed = -1" in text
    text = text.replace('path = "', f'path = "{S}/')
    project = tmp_path / "p.toml"
    project.write_text(text)
    err = fails_cleanly(["segment", project, "--out", tmp_path / "out"], capsys)
    assert "seed = -1 must be a whole number from 0 to 4,294,967,295" in err


@pytest.mark.parametrize("extra, message", [
    (["--visited-months", "-1"], "'-1': give a whole number of months, 0 or more"),
    (["--flag-weights", "smoker=1e300"], "'smoker=1e300' is not flag=weight with a weight "
     "above 0 and at most 1,000"),
    (["--from", "2024-09-01", "--to", "2024-12-31"], "no fires in"),
])
def test_targeting_settings_that_make_nonsense(full, tmp_path, capsys, extra,  # noqa: F811
                                               message):
    flags = tmp_path / "flags.csv"
    flags.write_text("id,flag\nNW1 0AA,smoker\n")
    more = ["--flags", flags] if "--flag-weights" in extra else []
    if "--from" not in extra:
        extra = [*extra, "--from", "2021-01-01"]
    err = fails_cleanly(["target", full["full"], "--out", tmp_path / "out", "--capacity",
                         50, "--incidents", FIRES, *XY, "--date-column", "date", *more,
                         *extra], capsys, full["full"])
    assert message in err
    assert "nan" not in err
    assert not (tmp_path / "out").exists()


# --- a GeoPackage whose tables do not belong together ----------------------------------------

@pytest.fixture(scope="module")
def other(tmp_path_factory):
    """Another segmentation of the sample (k = 6) with its own ward matrices and fires."""
    seg = build_segmentation(replace(load_project(TOML), n_init=2, k=6))
    folder = tmp_path_factory.mktemp("other")
    saved = save_segmentation(seg, folder, plots=False)
    gpkg = saved if saved.suffix == ".gpkg" else saved / "segmentation.gpkg"
    assert run("matrices", gpkg, "--wards", S / "wards_2022.gpkg", "--ward-code", "WD22CD",
               "--ward-name", "WD22NM") == 0
    assert run("incidents", gpkg, FIRES, "--name", "fires", *XY, "--out",
               folder / "incidents") == 0
    return gpkg


@pytest.mark.parametrize("table", ["matrix_areas", "matrix_households",
                                   "incident_profile_fires"])
@pytest.mark.parametrize("command", ["report", "export"])
def test_tables_from_another_segmentation_are_refused(full, other, tmp_path, capsys,  # noqa: F811
                                                      table, command):
    gpkg = copy_of(full["full"], tmp_path)
    write_table(gpkg, table, read_gpkg_table(other, table))
    out = tmp_path / ("report.html" if command == "report" else "partners")
    args = [command, gpkg, "--out", out] + (["--for-partners"] if command == "export" else [])
    err = fails_cleanly(args, capsys, gpkg)
    assert f"{table}" in err and "were not made from the segmentation" in err
    assert not out.exists()


@pytest.mark.parametrize("command", ["report", "export"])
def test_ward_matrices_without_their_ward_layer_are_named(full, tmp_path, capsys,  # noqa: F811
                                                          command):
    gpkg = copy_of(full["full"], tmp_path)
    with sqlite3.connect(gpkg) as db:
        db.execute("DROP TABLE wards")
        for meta in ("gpkg_contents", "gpkg_geometry_columns"):
            db.execute(f"DELETE FROM {meta} WHERE table_name = 'wards'")
        db.execute("DELETE FROM layer_styles WHERE f_table_name = 'wards'")
    out = tmp_path / ("report.html" if command == "report" else "partners")
    err = fails_cleanly([command, gpkg, "--out", out], capsys, gpkg)
    assert "the ward matrices are there but wards is missing" in err


# --- a full disk -------------------------------------------------------------------------------

@pytest.fixture()
def small_disk(tmp_path):
    """A 300 kB file system (tmpfs), or the test is skipped where none can be mounted."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip("cannot mount a small file system here")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("command", ["segment", "export"])
def test_a_full_disk_is_said_in_one_line(full, small_disk, tmp_path, capsys,  # noqa: F811
                                         command):
    out = small_disk / "out"
    args = (["segment", TOML, "--out", out, "--n-init", 2, "--no-plots"] if command ==
            "segment" else ["export", full["full"], "--out", out, "--for-partners"])
    err = fails_cleanly(args, capsys, full["full"])
    assert "the disk is full; free some space and run again" in err
    assert ".staging-" not in err and not out.exists()
    assert not [p for p in small_disk.iterdir()]  # no work folder left behind


# --- what a message may carry ------------------------------------------------------------------

def test_terminal_escapes_from_a_file_header_are_not_echoed(full, tmp_path, capsys):  # noqa: F811
    records = tmp_path / "fires.csv"
    header = "id,\x1b]0;pwned\x07easting\x1b[2J,\x1b[31mnorthing\x1b[0m\x9b1m"
    records.write_text(header + "\n1,529000,184000\n", encoding="utf-8")
    err = fails_cleanly(["incidents", full["full"], records, "--name", "fires", "--x", "x",
                         "--y", "y", "--out", tmp_path / "out"], capsys, full["full"])
    assert not any(ch in err for ch in "\x1b\x07\x9b")
    assert "easting" in err  # the column is still named, without its escapes


@pytest.mark.parametrize("raw, shown", [
    ("/data/.camden.staging-host-123-ab12cd34/segmentation.gpkg: no space",
     "/data/camden/segmentation.gpkg: no space"),
    ("/data/out/.output.staging-host-9-0a0b0c0d/target_list.csv: denied",
     "/data/out/target_list.csv: denied"),
    ("/d/.report.html.staging-h-77-ffee0011.html: read-only", "/d/report.html: read-only"),
    ("/d/.segmentation.gpkg.staging-h-5-12345678/segmentation.gpkg: locked",
     "/d/segmentation.gpkg: locked"),
    ("/d/.camden.incoming-host-12: gone", "/d/camden: gone"),
    ("a\ttab\nand a new line\r\x00", "a tab and a new line"),
])
def test_messages_name_outputs_not_hidden_work_folders(raw, shown):
    assert public_text(raw) == shown


# --- Processing ----------------------------------------------------------------------------

def test_processing_code_field_chosen_as_a_variable(provider, layers, tmp_path):
    from conftest import build_parameters
    from test_processing import processing_error

    parameters = build_parameters(layers, tmp_path / "out.gpkg",
                                  VARIABLES=[*layers["variables"][:5], "OA11CD"])
    message = processing_error("community_safety:buildsegmentation", parameters)
    assert "the area code field 'OA11CD' is also chosen as a variable" in message
    assert "AttributeError" not in message and "Traceback" not in message
    assert not (tmp_path / "out.gpkg").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
