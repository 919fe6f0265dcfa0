"""Bad input on the command line: one line naming the thing, exit code 2, no traceback, and
the previous outputs (the saved segmentation, an earlier run's folder) left byte-identical.

One parametrised table per subcommand; each row is a class of mistake a user makes."""

from __future__ import annotations

import pytest
from conftest import SAMPLE_DIR, fresh_copy, saved_sample

from community_safety.core.cli import main

FIRES = SAMPLE_DIR / "lfb_dwelling_fires.csv"
CRIME = SAMPLE_DIR / "street_crime_2019_07.csv"
FIRE_XY = ["--x", "easting_rounded", "--y", "northing_rounded"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return saved_sample(tmp_path_factory.mktemp("saved"), n_init=3)[1]


@pytest.fixture
def gpkg(saved, tmp_path):
    return fresh_copy(saved, tmp_path)


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


def write_project(folder, **replacements) -> str:
    """The sample project with absolute paths, few starts and the given text swapped in."""
    text = (SAMPLE_DIR / "camden.toml").read_text()
    for name in ("output_areas_2011.gpkg", "census_demography.csv", "census_housing.csv",
                 "census_health_care.csv", "census_work.csv", "imd2019_lsoa.csv"):
        text = text.replace(f'"{name}"', f'"{SAMPLE_DIR / name}"')
    text = text.replace("n_init = 1000", "n_init = 2")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "project.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("old, new, message", [
    ("threshold = 0.8 ", "threshold = 0.0 ", "[screening] threshold = 0 must lie above 0"),
    ("threshold = 0.8 ", "threshold = 1.5 ", "[screening] threshold = 1.5 must lie above 0"),
    ("high = 120 ", "high = 80 ", "[bands] high = 80 must be above low = 80"),
    ("subsegments = 0 ", "subsegments = 1 ",
     "[segmentation] subsegments = 1 must be 0 (none) or at least 2"),
    ('standardise = "zscore"', 'standardise = "z"',
     "[segmentation] standardise = 'z' is not one of"),
    ("k = 10", "k = 1", "[segmentation] k = 1 must be at least 2"),
])
def test_settings_that_cannot_give_a_sound_segmentation(tmp_path, capsys, old, new, message):
    out = tmp_path / "out"
    err = fails_cleanly(["segment", write_project(tmp_path, **{old: new}), "--out", out],
                        capsys)
    assert f"project.toml: {message}" in err
    assert not out.exists()


def test_more_sub_segments_than_a_segment_has_areas(tmp_path, capsys):
    out = tmp_path / "out"
    err = fails_cleanly(["segment", write_project(tmp_path, **{
        "subsegments = 0 ": "subsegments = 40 ",
        'file = "variables.csv"': f'file = "{SAMPLE_DIR / "variables.csv"}"'}),
                         "--out", out, "--no-plots"], capsys)
    assert "40 sub-segments per segment are more than the areas allow (segment" in err
    assert not out.exists()


def test_boundaries_in_a_geopackage_of_several_layers_need_the_layer_named(tmp_path, capsys):
    import geopandas as gpd

    both = tmp_path / "both.gpkg"
    areas = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg")
    areas.to_file(both, layer="output_areas_2011")
    areas.head(5).to_file(both, layer="test_areas")
    project = write_project(tmp_path, **{f'"{SAMPLE_DIR / "output_areas_2011.gpkg"}"':
                                         f'"{both}"', 'layer = "output_areas"\n': ""})
    err = fails_cleanly(["segment", project, "--out", tmp_path / "out"], capsys)
    assert ("both.gpkg: holds 2 layers (output_areas_2011, test_areas); name the boundary "
            "layer to use") in err


def test_wards_in_a_geopackage_of_several_layers_need_the_layer_named(gpkg, tmp_path,
                                                                      capsys):
    import geopandas as gpd

    wards = tmp_path / "wards.gpkg"
    frame = gpd.read_file(SAMPLE_DIR / "wards_2022.gpkg")
    frame.to_file(wards, layer="wards_2022")
    frame.to_file(wards, layer="wards_2018")
    err = fails_cleanly(["matrices", gpkg, "--wards", wards, "--ward-code", "WD22CD"], capsys,
                        gpkg)
    assert "wards.gpkg: holds 2 layers (wards_2022, wards_2018); name the ward layer" in err


@pytest.mark.parametrize("content", [b"", b"  \n", b"short"])
def test_an_empty_or_short_key_file(gpkg, tmp_path, capsys, content):
    key = tmp_path / "key.txt"
    key.write_bytes(content)
    err = fails_cleanly(["incidents", gpkg, FIRES, "--name", "fires", *FIRE_XY,
                         "--key-file", key, "--out", tmp_path / "out"], capsys, gpkg)
    assert "key.txt: the key file is" in err and "at least 16 characters" in err


@pytest.mark.parametrize("threshold", ["0", "-3"])
def test_a_suppression_threshold_below_one(gpkg, tmp_path, capsys, threshold):
    err = fails_cleanly(["export", gpkg, "--out", tmp_path / "p", "--threshold", threshold],
                        capsys, gpkg)
    assert f"a suppression threshold of {threshold} would publish small counts" in err
    assert "the default, 5" in err
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("value, shown", [("-1", "-1"), ("1.5", "1.5")])
def test_a_count_that_is_not_a_count(gpkg, tmp_path, capsys, value, shown):
    path = tmp_path / "fires.csv"
    path.write_text(f"id,x,y,injuries\n1,529000,184000,1\n2,529100,184100,{value}\n")
    err = fails_cleanly(["incidents", gpkg, path, "--name", "injuries", "--x", "x", "--y",
                         "y", "--count", "injuries", "--out", tmp_path / "out"], capsys, gpkg)
    assert f"fires.csv, row 3, column 'injuries': '{shown}' is not a count" in err


def test_a_run_that_matches_no_record_stores_nothing(gpkg, tmp_path, capsys):
    err = fails_cleanly(["incidents", gpkg, FIRES, "--name", "fires", *FIRE_XY,
                         "--date-column", "date", "--from", "2030-01-01",
                         "--out", tmp_path / "out"], capsys, gpkg)
    assert "no record is both in the study area and within the filters" in err
    assert "0 pass the filters" in err and not (tmp_path / "out").exists()


def test_dates_that_cannot_be_read_are_reported_not_dropped_in_silence(gpkg, tmp_path,
                                                                       capsys):
    path = tmp_path / "fires.csv"
    path.write_text("id,x,y,date\n1,529000,184000,2020-05-01\n2,529100,184100,2020-13-45\n"
                    "3,529200,184200,soon\n4,529300,184300,\n")
    assert main([str(a) for a in ["incidents", gpkg, path, "--name", "f", "--x", "x", "--y",
                                  "y", "--date-column", "date", "--from", "2020-01-01",
                                  "--out", tmp_path / "out"]]) == 0
    err = capsys.readouterr().err
    assert ("3 records have a date that is missing or could not be read and are not "
            "counted (rows 3, 4, 5)") in err


def test_a_fire_whose_date_cannot_be_read_is_not_counted_as_the_console_says(
        gpkg, tmp_path, capsys):
    """Camden's fires with one date made unreadable and no period asked for: the console
    says that record is not counted, and the profile counts one fire fewer than the clean
    file (it counted the same number before)."""
    import pandas as pd

    from community_safety.core.store.geopackage import read_gpkg_table

    fires = pd.read_csv(FIRES, dtype=str)
    fires.loc[100, "date"] = "2021-13-45"
    bad = tmp_path / "fires_onebad.csv"
    fires.to_csv(bad, index=False)
    counted = {}
    for name, path in (("clean", FIRES), ("onebad", bad)):
        assert main([str(a) for a in ["incidents", gpkg, path, "--name", name, *FIRE_XY,
                                      "--date-column", "date", "--out",
                                      tmp_path / name]]) == 0
        err = capsys.readouterr().err
        about = read_gpkg_table(gpkg, f"incident_about_{name}").iloc[0]
        profile = read_gpkg_table(gpkg, f"incident_profile_{name}")
        counted[name] = (int(about["records_counted"]), profile.loc[
            profile["measure"] == "incidents", "count"].sum())
    # row 102: the file's line (the header is line 1), as the reconciliation numbers it
    assert ("1 record has a date that is missing or could not be read and is not counted "
            "(row 102)") in err
    assert counted["onebad"] == (counted["clean"][0] - 1, counted["clean"][1] - 1)
