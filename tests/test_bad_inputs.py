"""Bad input on the command line: one line naming the thing, exit code 2, no traceback, and
the previous outputs (the saved segmentation, an earlier run's folder) left byte-identical.

One parametrised table per subcommand; each row is a class of mistake a user makes."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from conftest import SAMPLE_DIR

from community_safety.core.cli import main
from community_safety.core.project import load_project
from community_safety.core.segmentation import build_segmentation
from community_safety.core.store import save_segmentation

FIRES = SAMPLE_DIR / "lfb_dwelling_fires.csv"
CRIME = SAMPLE_DIR / "street_crime_2019_07.csv"
FIRE_XY = ["--x", "easting_rounded", "--y", "northing_rounded"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    seg = build_segmentation(replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=3))
    return save_segmentation(seg, tmp_path_factory.mktemp("saved"), plots=False)


@pytest.fixture
def gpkg(saved, tmp_path):
    target = tmp_path / "seg" / "segmentation.gpkg"
    target.parent.mkdir()
    shutil.copy(saved, target)
    return target


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def fails_cleanly(args, capsys, *unchanged) -> str:
    """Run the command; it must fail with one line and exit 2, leaving ``unchanged`` as they
    were (files or folders, compared byte for byte)."""
    before = {path: path.read_bytes() if path.is_file() else snapshot(path)
              for path in unchanged}
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, captured
    assert len(err.splitlines()) == 1, err
    assert err.startswith("community-safety: error: ") and "Traceback" not in err
    for path, content in before.items():
        assert (path.read_bytes() if path.is_file() else snapshot(path)) == content, path
    return err


@pytest.mark.parametrize("extra, message", [
    (["--from", "2023-02-30"], "the start date '2023-02-30' is not a date (YYYY-MM-DD)"),
    (["--to", "31/12/2024"], "the end date '31/12/2024' is not a date (YYYY-MM-DD)"),
    (["--from", "2024-01-01", "--to", "2020-01-01"],
     "the start date 2024-01-01 is after the end date 2020-01-01"),
    (["--crs", "EPSG:999999"], "'EPSG:999999' is not a coordinate reference system"),
    (["--crs", "British grid"], "'British grid' is not a coordinate reference system"),
])
def test_incident_settings(gpkg, tmp_path, capsys, extra, message):
    err = fails_cleanly(["incidents", gpkg, FIRES, "--name", "fires", *FIRE_XY,
                         "--date-column", "date", *extra, "--out", tmp_path / "out"],
                        capsys, gpkg)
    assert message in err
    assert not (tmp_path / "out").exists()


def test_an_unknown_category_lists_the_known_ones(gpkg, tmp_path, capsys):
    err = fails_cleanly(["incidents", gpkg, CRIME, "--name", "asb", "--id", "ID",
                         "--x", "Easting", "--y", "Northing", "--category-column", "Category",
                         "--category", "Anti social behavior", "--out", tmp_path / "out"],
                        capsys, gpkg)
    assert "no record has the category 'anti social behavior' in column 'Category'" in err
    assert "its categories are: Anti-social behaviour; Bicycle theft;" in err


def test_output_path_that_is_a_file(gpkg, tmp_path, capsys):
    out = tmp_path / "results.txt"
    out.write_text("an earlier note")
    err = fails_cleanly(["export", gpkg, "--out", out], capsys, gpkg, out)
    assert f"{out}: is a file; --out needs a folder" in err


def test_choose_k_with_the_range_upside_down(tmp_path, capsys):
    err = fails_cleanly(["choose-k", SAMPLE_DIR / "camden.toml", "--out", tmp_path / "k",
                         "--k-min", "5", "--k-max", "2"], capsys)
    assert "--k-min 5 is larger than --k-max 2" in err
    assert not (tmp_path / "k").exists()


def test_a_full_disk_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    import pandas as pd

    def disk_full(self, path, *args, **kwargs):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    out = tmp_path / "k"
    err = fails_cleanly(["choose-k", SAMPLE_DIR / "camden.toml", "--out", out, "--k-min", "2",
                         "--k-max", "3", "--n-init", "1"], capsys)
    assert "diagnostics.csv: No space left on device" in err
    assert not out.exists()
