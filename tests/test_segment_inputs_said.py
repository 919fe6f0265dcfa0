"""What the segment step says about its input tables, on Sutton's real census files: count
tables found only where the data show counts, bad rows and unknown codes on the console,
column descriptions beside the codes, and counts and plurals in words."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from community_safety.core.cli import main
from community_safety.core.data.derive import TableOfCounts
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.area_data import gather_area_data

SUTTON = Path(__file__).parent / "data" / "london_boroughs" / "E09000029"
CENSUS = ('[[tables]]\npath = "ts001.csv"\ncode = "OA"\ncontext = ["ts0010001"]\n'
          'denominator = "ts0010001"\n'
          '[[tables]]\npath = "ts041.csv"\ncode = "OA"\ncontext = ["ts0410001"]\n'
          '[[tables]]\npath = "ts054.csv"\ncode = "OA"\ndenominator = "ts0540001"\n'
          '[[tables]]\npath = "ts045.csv"\ncode = "OA"\ndenominator = "ts0450001"\n')
IMD = ('[[tables]]\npath = "imd.csv"\ncode = "LSOA11CD"\njoin_on = "LSOA11CD"\n'
       'context = ["IMD19"]\n')
SETTINGS = ('[segmentation]\nk = 4\nn_init = 5\nseed = 1\n'
            '[deprivation]\ncolumn = "IMD19"\nmore_deprived = "lower"\n'
            '[sizes]\nresidents = "ts0010001"\nhouseholds = "ts0410001"\n')


def council(tmp_path: Path, tables: str = CENSUS + IMD, extra: str = "") -> Path:
    folder = tmp_path / "council"
    shutil.copytree(SUTTON, folder)
    project = folder / "p.toml"
    project.write_text('name = "Sutton"\n[boundaries]\npath = "output_areas.gpkg"\n'
                       'code = "OA11CD"\n' + tables + SETTINGS + extra)
    return project


# ----------------------------------------------------------------- 2: counts detection


def test_a_constant_and_a_flag_beside_the_rank_are_not_called_counts(tmp_path):
    """A constant column and a 0/1 column in the deprivation table (kept at another
    geography): their 'row total' follows the flag exactly (r = 1), which says nothing of
    the areas' size; each is screened out on its own (constant, binary)."""
    project = council(tmp_path)
    imd = pd.read_csv(project.parent / "imd.csv")
    imd["const"] = 7
    imd["flag"] = (imd.index % 2).astype(int)
    imd.to_csv(project.parent / "imd.csv", index=False)
    assert main(["segment", str(project), "--out", str(tmp_path / "out"), "--no-plots"]) == 0
    screening = pd.read_csv(tmp_path / "out" / "screening.csv").set_index("variable")
    assert screening.loc["const", "reason"] == "constant"
    assert screening.loc["flag", "reason"].startswith("binary")


def test_a_table_of_counts_is_refused_with_true_evidence_and_never_the_rank_as_total(
        tmp_path):
    """Car counts per output area beside the area's deprivation rank: refused as counts,
    with the evidence the data give (the row totals against the residents of the same
    areas), and the fix never names the rank as the table's own total."""
    project = council(tmp_path, CENSUS.replace(
        'path = "ts045.csv"\ncode = "OA"\ndenominator = "ts0450001"\n',
        'path = "cars.csv"\ncode = "OA"\n') + IMD.replace('context = ["IMD19"]\n', ''))
    folder = project.parent
    cars = pd.read_csv(folder / "ts045.csv").drop(columns="ts0450001")
    lsoa = pd.read_csv(folder / "oa_lsoa.csv").set_index("OA11CD")["LSOA11CD"]
    rank = pd.read_csv(folder / "imd.csv").set_index("LSOA11CD")["IMD19"]
    cars.insert(1, "rank", cars["OA"].map(lsoa).map(rank))
    cars.to_csv(folder / "cars.csv", index=False)
    (folder / "imd.csv").write_text("LSOA11CD,IMD19\n" + "".join(
        f"{code},{value}\n" for code, value in rank.items()))
    text = project.read_text().replace('column = "IMD19"', 'column = "rank"')
    project.write_text(text)
    with pytest.raises(TableOfCounts) as refused:
        gather_area_data(load_project(project))
    message = str(refused.value)
    assert refused.value.total is None and "rank" not in refused.value.columns
    assert 'denominator = "rank"' not in message
    totals = cars.set_index("OA").drop(columns="rank").sum(axis=1)
    residents = pd.read_csv(folder / "ts001.csv").set_index("OA")["ts0010001"]
    r = totals.corr(residents.reindex(totals.index))
    assert f"their row totals follow ts0010001 (r = {r:.2f})" in message


# ----------------------------------------------------------------- 8: bad rows said


def spoil(project: Path) -> dict:
    """Sutton's tenure table with a line too long, one too short and an open quote; its
    car table with a code outside the borough and one that is no code: what was spoilt."""
    folder = project.parent
    lines = (folder / "ts054.csv").read_text().splitlines()
    codes = [line.split(",")[0] for line in lines]
    lines[5] += ",99,98"
    lines[9] = ",".join(lines[9].split(",")[:5])
    lines[12] = lines[12].split(",")[0] + ',"open quote,1,2'
    (folder / "ts054.csv").write_text("\n".join(lines) + "\n")
    cars = pd.read_csv(folder / "ts045.csv")
    extra = cars.iloc[:2].copy()
    extra["OA"] = ["E00999999", "NOTACODE"]
    pd.concat([cars, extra]).to_csv(folder / "ts045.csv", index=False)
    return {"spoilt": [codes[5], codes[9], codes[12]], "cars_rows": len(cars)}


def test_rows_not_read_and_codes_not_found_are_said_on_the_console(tmp_path, capsys):
    project = council(tmp_path)
    spoilt = spoil(project)
    assert main(["segment", str(project), "--out", str(tmp_path / "out"), "--no-plots"]) == 0
    said = capsys.readouterr().err.splitlines()
    tenure = next(line for line in said if line.startswith("ts054.csv: "))
    assert tenure.startswith("ts054.csv: 3 rows could not be read and are left out, listed in "
                             "reconciliation.csv: Expected 14 fields in line 6, saw 16 "
                             f"({spoilt['spoilt'][0]}); Expected 14 fields in line 10, saw 5 "
                             f"({spoilt['spoilt'][1]}); ")
    cars = next(line for line in said if line.startswith("ts045.csv: "))
    n = spoilt["cars_rows"]
    assert cars == ("ts045.csv: 2 area codes are not among the areas and are left out, listed "
                    f"in reconciliation.csv: E00999999 (row {n + 2}, outside the area); "
                    f"NOTACODE (row {n + 3}, not a code of the areas' kind)")
    # the unreadable rows keep the code they hold; their areas say why they have no data
    rows = pd.read_csv(tmp_path / "out" / "reconciliation.csv", dtype={"row": "Int64"})
    unread = rows[rows["status"] == "unreadable"]
    assert unread["area_code"].tolist() == spoilt["spoilt"]
    assert unread["detail"].str.fullmatch(r"Expected 14 fields in line \d+, saw \d+").all()
    no_data = rows[(rows["status"] == "no data") & (rows["source"] == "ts054.csv")]
    assert no_data.set_index("area_code").loc[spoilt["spoilt"][0], "detail"] == (
        "its row (line 6) could not be read")


# ----------------------------------------------------------------- 9: descriptions


LABELS = ('[labels]\nfile = "census_variables.csv"\nvariable = "new_names"\n'
          'description = "Variable_Name"\n')


def test_tables_of_variables_carry_their_descriptions_and_totals_get_no_box_plot(tmp_path):
    """With a labels file: screening.csv, segment_profiles.csv and the GeoPackage's tables
    give each variable's description beside its code, and a correlated variable's reason
    names the other by its description; the tables' totals used only to make shares
    ("Total: All households" of tenure and of cars) are no variable: no box plot, no
    profile row."""
    import pyogrio

    project = council(tmp_path, extra=LABELS)
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out)]) == 0
    described = pd.read_csv(SUTTON / "census_variables.csv").set_index("new_names")[
        "Variable_Name"]
    screening = pd.read_csv(out / "screening.csv").set_index("variable")
    gpkg_screening = pyogrio.read_dataframe(out / "segmentation.gpkg", layer="screening",
                                            read_geometry=False).set_index("variable")
    for table in (screening, gpkg_screening):
        assert table.loc["ts0540003", "description"] == described["ts0540003"]
    paired = screening[screening["correlated_with"].notna()]
    assert len(paired)
    for _, row in paired.iterrows():
        other = row["correlated_with"]
        assert f"with “{described[other]}” ({other}), threshold" in row["reason"]
    profiles = pd.read_csv(out / "segment_profiles.csv")
    assert list(profiles.columns[:2]) == list(screening.reset_index().columns[:2]) == [
        "variable", "description"]
    said = profiles.set_index("variable")["description"]
    assert (said == described.reindex(said.index).fillna(said)).all()
    assert profiles.set_index("variable").loc["ts0540003", "description"].iloc[0] == (
        described["ts0540003"])
    # the totals that only divide: not among the profiles nor the box plots
    for total in ("ts0540001", "ts0450001"):
        assert total not in set(profiles["variable"])
        assert not (out / "plots" / f"box_{total}.png").exists()
    # the residents and households (sizes) are still profiled and drawn
    assert {"ts0010001", "ts0410001"} <= set(profiles["variable"])
    assert (out / "plots" / "box_ts0410001.png").exists()
    assert (out / "plots" / "box_ts0540003.png").exists()


# ----------------------------------------------------------------- 10: words


def test_incidents_and_areas_are_counted_in_words_on_the_console_and_in_the_workbook(
        tmp_path, capsys):
    """Sutton's fires through incidents, matrices and export: the matrix of fires is
    "Fires" (not "Fires: incidents") on the console and in the workbook, and the fires in
    the areas left without a segment are said in "N output areas", never "output area(s)"."""
    import openpyxl

    project = council(tmp_path)
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    gpkg = out / "segmentation.gpkg"
    unclassified = gpd_unclassified(gpkg)
    assert len(unclassified) > 1
    assert main(["incidents", str(gpkg), str(SUTTON / "fires.csv"), "--name", "fires",
                 "--x", "easting_rounded", "--y", "northing_rounded", "--date-column", "date",
                 "--out", str(tmp_path / "fires")]) == 0
    said = capsys.readouterr().out
    assert "output area(s)" not in said
    assert re.search(r"[\d,]+ incidents in [\d,]+ output areas without a segment", said)
    assert main(["matrices", str(gpkg), "--wards", str(SUTTON / "wards.gpkg"),
                 "--ward-code", "WD13CD", "--ward-name", "WD13NM"]) == 0
    said = capsys.readouterr().out
    assert re.search(r"^Fires: \d+ wards, [\d,]+ in all$", said, re.MULTILINE), said
    assert "Fires: incidents" not in said
    assert main(["export", str(gpkg), "--out", str(tmp_path / "partners")]) == 0
    book = openpyxl.load_workbook(tmp_path / "partners" / "partner_matrices.xlsx")
    assert "Fires" in book.sheetnames
    assert book["Fires"]["A1"].value.startswith("Fires, ")
    notes = " ".join(str(cell) for row in book["Notes"].iter_rows(values_only=True)
                     for cell in row if cell)
    assert "output area(s)" not in notes and "output areas without a segment" in notes


def gpd_unclassified(gpkg: Path) -> list:
    import geopandas as gpd

    layer = gpd.read_file(gpkg, layer="segments")
    return layer.loc[layer["segment"].isna(), "area_code"].tolist()


def test_the_residents_and_households_columns_are_never_clustered(tmp_path):
    """A table kept for its count of households (ts041, one column), listed without
    `variables = []` or `context` as the wizard may leave it: its count says how many live
    in an area, not who, so it is profiled but never clustered (it was clustered as a raw
    count, the segments following the areas' size)."""
    from community_safety.core.segment.prepare import prepare

    folder = tmp_path / "council"
    shutil.copytree(SUTTON, folder)
    (folder / "p.toml").write_text(
        'name = "Sutton"\n[boundaries]\npath = "output_areas.gpkg"\ncode = "OA11CD"\n'
        '[[tables]]\npath = "ts054.csv"\ncode = "OA"\ndenominator = "ts0540001"\n'
        'variables = ["ts0540003", "ts0540004", "ts0540008", "ts0540011"]\n'
        '[[tables]]\npath = "ts041.csv"\ncode = "OA"\n'
        '[[tables]]\npath = "ts001.csv"\ncode = "OA"\nvariables = ["ts0010001"]\n'
        '[sizes]\nresidents = "ts0010001"\nhouseholds = "ts0410001"\n')
    prepared = prepare(load_project(folder / "p.toml"))
    clustered = set(prepared.screening.loc[prepared.screening["kept"], "variable"])
    assert clustered == {"ts0540003", "ts0540004", "ts0540008", "ts0540011"}, clustered
    # each has its row in the screening table, saying why it is not clustered
    reasons = prepared.screening.set_index("variable")["reason"]
    assert reasons["ts0410001"].startswith("the households count: it says how many")
    assert reasons["ts0010001"].startswith("the residents count: it says how many live")
