"""Data not shaped like the Camden sample: count tables, derived columns, labels files
with their own column names, ward files with a wrong CRS label, incidents in several files."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from community_safety.core.cli import main
from community_safety.core.data.derive import TableOfCounts
from community_safety.core.errors import InputError
from community_safety.core.project.project_file import load_project, project_to_toml
from community_safety.core.segment.area_data import gather_area_data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import london_boroughs as chain  # noqa: E402

SUTTON = Path(__file__).parent / "data" / "london_boroughs" / "E09000029"
FIRE_XY = ["--x", "easting_rounded", "--y", "northing_rounded"]


def run(*args) -> int:
    return main([str(a) for a in args])


def council(tmp_path: Path, table: str) -> Path:
    """Sutton's areas with one table described by ``table`` (a [[tables]] entry)."""
    folder = tmp_path / "council"
    shutil.copytree(SUTTON, folder)
    project = folder / "p.toml"
    project.write_text('name = "Sutton"\n[boundaries]\npath = "output_areas.gpkg"\n'
                       'code = "OA11CD"\n' + table)
    return project


def test_a_table_of_counts_is_named_before_clustering_with_the_fix(tmp_path):
    project = council(tmp_path, '[[tables]]\npath = "ts054.csv"\ncode = "OA"\n'
                                'variables = ["ts0540003", "ts0540008", "ts0540011"]\n')
    with pytest.raises(InputError) as refused:
        gather_area_data(load_project(project))
    message = str(refused.value)
    assert message.startswith("ts054.csv: the columns ts0540003, ts0540008, ts0540011 hold "
                              "counts")
    # the entry names three columns, yet the refusal finds the table's own total among
    # all the file's columns (offering "row total" first led a tester to a second refusal)
    assert 'denominator = "ts0540001" (its own total' in message, message
    assert '"row total"' not in message and 'counts = "as is"' in message
    # another fix: shares of a row total of the columns listed
    fixed = council(tmp_path / "b", '[[tables]]\npath = "ts054.csv"\ncode = "OA"\n'
                                    'variables = ["ts0540003", "ts0540008", "ts0540011"]\n'
                                    'denominator = ["ts0540003", "ts0540004", "ts0540008", '
                                    '"ts0540009", "ts0540011"]\n')
    data = gather_area_data(load_project(fixed))
    raw = pd.read_csv(SUTTON / "ts054.csv").set_index("OA")
    row = raw.index[0]
    total = raw.loc[row, ["ts0540003", "ts0540004", "ts0540008", "ts0540009",
                          "ts0540011"]].sum()
    assert data.values.loc[row, "ts0540008"] == pytest.approx(
        100 * raw.loc[row, "ts0540008"] / total)
    assert "ts054_row_total" in data.context
    # counts = "as is" keeps them
    kept = council(tmp_path / "c", '[[tables]]\npath = "ts054.csv"\ncode = "OA"\n'
                                   'variables = ["ts0540003", "ts0540008"]\ncounts = "as is"\n')
    assert gather_area_data(load_project(kept)).values.loc[row, "ts0540008"] == raw.loc[
        row, "ts0540008"]


def test_a_census_table_of_counts_is_pointed_to_its_own_total(tmp_path):
    """Census tables publish their total first, and sub-totals among the rest ("Owned" =
    "Owns outright" + "Owns with a mortgage"): the row total of every column would count
    households two or three times, so the refusal names the table's own total."""
    project = council(tmp_path, '[[tables]]\npath = "ts054.csv"\ncode = "OA"\n')
    with pytest.raises(TableOfCounts) as refused:
        gather_area_data(load_project(project))
    assert refused.value.total == "ts0540001" and refused.value.sheet is None
    message = str(refused.value)
    assert 'denominator = "ts0540001" (its own total' in message
    assert '"row total"' not in message
    fixed = council(tmp_path / "b", '[[tables]]\npath = "ts054.csv"\ncode = "OA"\n'
                                    'denominator = "ts0540001"\n')
    data = gather_area_data(load_project(fixed))
    raw = pd.read_csv(SUTTON / "ts054.csv").set_index("OA")
    row = raw.index[0]
    assert data.values.loc[row, "ts0540003"] == pytest.approx(
        100 * raw.loc[row, "ts0540003"] / raw.loc[row, "ts0540001"])


def test_every_table_of_counts_is_named_at_once_with_its_own_total(tmp_path):
    """Three census tables of counts: the refusal names each (the first's finding, then
    the others with their own totals), not one check at a time."""
    entries = "".join(f'[[tables]]\npath = "{t}.csv"\ncode = "OA"\n'
                      for t in ("ts054", "ts045", "ts037"))
    with pytest.raises(TableOfCounts) as refused:
        gather_area_data(load_project(council(tmp_path, entries)))
    assert refused.value.table == "ts054.csv"
    assert [(o.table, o.total) for o in refused.value.others] == [
        ("ts045.csv", "ts0450001"), ("ts037.csv", "ts0370001")]
    assert str(refused.value).endswith(
        '2 more tables hold counts, each needing the same in its entry: ts045.csv (its own '
        'total: denominator = "ts0450001"); ts037.csv (its own total: denominator = '
        '"ts0370001")')


def test_each_sheet_of_a_workbook_is_named_wherever_its_rows_are_counted(tmp_path):
    """Three sheets of one workbook, each missing some areas: the reconciliation's rows
    (used and no data) and the list of inputs name each sheet."""
    from community_safety.core.segment.area_data import input_name

    book = tmp_path / "three.xlsx"
    sheets = {"Tenure": "ts054", "Cars or vans": "ts045", "Household size": "ts017"}
    with pd.ExcelWriter(book) as writer:
        for i, (sheet, table) in enumerate(sheets.items()):
            frame = pd.read_csv(SUTTON / f"{table}.csv")
            frame.iloc[i + 1:].to_excel(writer, sheet_name=sheet, index=False)  # i + 1 left out
    tables = "".join(f'[[tables]]\npath = "{book}"\nsheet = "{sheet}"\ncode = "OA"\n'
                     f'denominator = "{table}0001"\n' for sheet, table in sheets.items())
    data = gather_area_data(load_project(council(tmp_path, tables)))
    counts = data.reconciliation.groupby(["source", "status"]).size()
    for i, sheet in enumerate(sheets):
        assert counts[(f"three.xlsx, sheet {sheet}", "no data")] >= i + 1
        assert counts[(f"three.xlsx, sheet {sheet}", "used")] > 0
    assert "three.xlsx" not in set(data.reconciliation["source"])
    assert [input_name(i) for i in data.inputs][1:] == [f"three.xlsx, sheet {s}"
                                                        for s in sheets]


def test_derived_columns_and_the_row_total(tmp_path):
    table = ('[[tables]]\npath = "ts054.csv"\ncode = "OA"\n'
             'denominator = "row total"\nvariables = ["owned", "social", "ts0540011"]\n'
             '[derive]\nowned = "ts0540003 + ts0540004"\nsocial = "ts0540007 - ts0540009"\n')
    project = council(tmp_path, table)
    spec = load_project(project)
    assert spec.derive == {"owned": "ts0540003 + ts0540004", "social": "ts0540007 - ts0540009"}
    assert load_project(project).derive == spec.derive
    written = tmp_path / "again.toml"  # the project writer keeps [derive]
    written.write_text(project_to_toml(spec, project.parent))
    shutil.copy(written, project.parent / "again.toml")
    assert load_project(project.parent / "again.toml").derive == spec.derive
    # ts054 publishes its total (ts0540001) and sub-totals (owned, social rented, private
    # rented): its row total would count each household three times, so it is refused
    with pytest.raises(InputError, match=r"ts054.csv: a row total adds up every count "
                       r"column, but ts0540001 holds the table's own total \(the other "
                       r"columns add up to 2 times it: it has sub-totals too\): the sum "
                       r"would count each person or household 3 times"):
        gather_area_data(spec)
    # the row total of the columns that do not overlap: what the derived shares are of
    raw = pd.read_csv(SUTTON / "ts054.csv").set_index("OA")
    parts = ["ts0540003", "ts0540004", "ts0540006", "ts0540008", "ts0540009", "ts0540011",
             "ts0540012", "ts0540013"]
    own = council(tmp_path / "a", table.replace('"row total"', str(parts).replace("'", '"')))
    data = gather_area_data(load_project(own))
    row = raw.index[3]
    total = raw.loc[row, parts].sum()
    assert total == raw.loc[row, "ts0540001"]  # the parts add up to the table's own total
    assert data.values.loc[row, "owned"] == pytest.approx(
        100 * (raw.loc[row, "ts0540003"] + raw.loc[row, "ts0540004"]) / total)
    assert data.values.loc[row, "social"] == pytest.approx(
        100 * (raw.loc[row, "ts0540007"] - raw.loc[row, "ts0540009"]) / total)
    bad = council(tmp_path / "b", '[[tables]]\npath = "ts054.csv"\ncode = "OA"\n'
                                  'denominator = "ts0540001"\n'
                                  '[derive]\nelsewhere = "ts0540003 + nowhere"\n')
    with pytest.raises(InputError, match="no table holds all of its columns"):
        gather_area_data(load_project(bad))


def test_a_labels_file_with_its_own_column_names(tmp_path):
    project = council(tmp_path, '[[tables]]\npath = "ts054.csv"\ncode = "OA"\n'
                                'denominator = "ts0540001"\n'
                                'variables = ["ts0540003", "ts0540008", "ts0540011"]\n'
                                '[labels]\nfile = "census_variables.csv"\n'
                                'variable = "new_names"\ndescription = "Variable_Name"\n')
    from community_safety.core.segment.labels import _labels

    labels = _labels(load_project(project))
    assert labels["ts0540008"] == "Social rented: Rents from council or Local Authority"
    unnamed = council(tmp_path / "b", '[[tables]]\npath = "ts054.csv"\ncode = "OA"\n'
                                      'denominator = "ts0540001"\n'
                                      '[labels]\nfile = "census_variables.csv"\n')
    with pytest.raises(InputError, match="name the columns holding the variable names"):
        _labels(load_project(unnamed))


@pytest.fixture(scope="module")
def sutton(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sutton") / "data"
    shutil.copytree(SUTTON, folder)
    project = chain.borough_project(folder, "Sutton", k=4, n_init=2)
    out = folder.parent / "seg"
    assert run("segment", project, "--out", out, "--no-plots") == 0
    return folder, out / "segmentation.gpkg"


def test_wards_with_a_wrong_crs_label_are_refused_then_read_with_crs(sutton, tmp_path,
                                                                     capsys):
    folder, built = sutton
    gpkg = tmp_path / "segmentation.gpkg"
    shutil.copy(built, gpkg)
    wards = gpd.read_file(folder / "wards.gpkg").set_crs("EPSG:4326", allow_override=True)
    wrong = tmp_path / "wards_wrong.gpkg"
    wards.to_file(wrong, layer="wards")
    args = ["matrices", gpkg, "--wards", wrong, "--ward-code", "WD13CD"]
    capsys.readouterr()
    assert run(*args) == 2
    err = capsys.readouterr().err
    assert "wards_wrong.gpkg" in err and "--crs" in err and "[boundaries]" not in err
    assert run(*args, "--crs", "EPSG:27700") == 0


def test_a_folder_of_monthly_files_is_one_profile_every_row_named(sutton, tmp_path, capsys):
    folder, built = sutton
    gpkg = tmp_path / "segmentation.gpkg"
    shutil.copy(built, gpkg)
    fires = pd.read_csv(folder / "fires.csv", dtype=str)
    months = tmp_path / "fires"
    months.mkdir()
    for year, rows in fires.groupby(fires["date"].str[:4]):
        rows.to_csv(months / f"fires_{year}.csv", index=False)
    window = ["--date-column", "date", "--from", "2015-01-01", "--to", "2019-12-31"]
    assert run("incidents", gpkg, folder / "fires.csv", "--name", "one", *FIRE_XY, *window,
               "--out", tmp_path / "inc") == 0
    assert run("incidents", gpkg, months, "--name", "folder", *FIRE_XY, *window,
               "--out", tmp_path / "inc") == 0
    one = pd.read_csv(tmp_path / "inc" / "incident_profile_one.csv")
    many = pd.read_csv(tmp_path / "inc" / "incident_profile_folder.csv")
    assert many["count"].tolist() == one["count"].tolist()
    records = pd.read_csv(tmp_path / "inc" / "incident_records_folder.csv")
    assert len(records) == len(fires)
    per_file = records.groupby("source").size()
    assert per_file.to_dict() == {f"fires_{y}.csv": len(r)
                                  for y, r in fires.groupby(fires["date"].str[:4])}
    # several files given one by one: the same; a file of other columns is refused
    files = sorted(months.iterdir())
    assert run("incidents", gpkg, *files, "--name", "files", *FIRE_XY, *window,
               "--out", tmp_path / "inc") == 0
    assert pd.read_csv(tmp_path / "inc" / "incident_profile_files.csv")["count"].tolist() == \
        one["count"].tolist()
    odd = tmp_path / "odd.csv"
    fires.drop(columns=["property_type"]).to_csv(odd, index=False)
    capsys.readouterr()
    assert run("incidents", gpkg, files[0], odd, "--name", "odd", *FIRE_XY,
               "--out", tmp_path / "inc") == 2
    assert "odd.csv: its columns differ" in capsys.readouterr().err


@pytest.mark.parametrize("parameters,winsorised,advice", [
    ({"standardise": "zscore", "winsorise": 0}, 0, "set winsorise = 3"),
    ({"standardise": "ihs_range", "winsorise": 0}, 0, None),
    ({"standardise": "zscore", "winsorise": 3.0}, 0, "already clipped at ±3 (0 clipped)"),
])
def test_winsorising_is_advised_only_where_it_can_do_something(parameters, winsorised,
                                                                advice):
    from community_safety.core.segment.build import small_segments_note

    manifest = {"parameters": {"min_share": 2.0, **parameters},
                "results": {"small_segments": [{"segment": 9, "areas": 5,
                                                "share_of_areas": 0.7}],
                            "winsorised": {"cells": winsorised}}}
    note = small_segments_note(manifest)
    assert note.count("winsorise") <= 1 and "smaller k" in note
    if advice is None:
        assert "winsorise" not in note
    else:
        assert advice in note
