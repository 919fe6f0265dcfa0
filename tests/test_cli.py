"""The command line: a summary on success; on bad input one line naming the file, column or
row, exit code 2, and no output left behind."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from community_safety.core.cli import main
from community_safety.core.segment.saved import load_segmentation
from community_safety.core.store.geopackage import read_gpkg_table

TABLES = ["census_demography", "census_housing", "census_health_care", "census_work"]


def write_project(folder, boundaries=None, tables=None, append="", force_in=(),
                  variables=None):
    """The sample project (camden.toml) with the test's files swapped in, absolute paths and
    few k-means starts. ``variables``: {file name: [columns]} to name a table's variables."""
    text = (SAMPLE_DIR / "camden.toml").read_text()
    swaps = {f"{name}.csv": SAMPLE_DIR / f"{name}.csv"
             for name in [*TABLES, "imd2019_lsoa", "variables"]}
    swaps["output_areas_2011.gpkg"] = boundaries or SAMPLE_DIR / "output_areas_2011.gpkg"
    swaps.update({f"{name}.csv": path for name, path in (tables or {}).items()})
    for relative, target in swaps.items():
        text = text.replace(f'"{relative}"', f'"{target}"')
    for path, columns in (variables or {}).items():
        text = text.replace(f'path = "{path}"\n', f'path = "{path}"\nvariables = {columns!r}\n')
    text = text.replace("n_init = 1000", "n_init = 5")
    text = text.replace("force_in = []", f"force_in = {list(force_in)!r}")
    path = folder / "project.toml"
    path.write_text(text + append)
    return path


def run_fails(args, capsys, out) -> str:
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("community-safety: error: ")
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if "staging" in p.name]
    return err


def sample_table(name):
    return pd.read_csv(SAMPLE_DIR / f"{name}.csv")


def test_segment_prints_a_summary_and_saves(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["segment", str(write_project(tmp_path)), "--out", str(out), "--no-plots"]) == 0
    printed = capsys.readouterr().out
    assert "749 areas in 10 segments" in printed and "Saved to" in printed
    assert {"segmentation.gpkg", "segment_summary.csv", "manifest.json"} <= {
        p.name for p in out.iterdir()}


def test_conflicting_duplicate_rows(tmp_path, capsys):
    table = sample_table("census_housing")
    bad = pd.concat([table, table.head(1).assign(pct_no_car=99.0)])
    bad.to_csv(tmp_path / "housing.csv", index=False)
    project = write_project(tmp_path, tables={"census_housing": tmp_path / "housing.csv"})
    out = tmp_path / "out"
    err = run_fails(["segment", str(project), "--out", str(out)], capsys, out)
    assert f"housing.csv: area codes repeated with different values: {table.OA11CD[0]}" in err


def test_text_in_a_named_variable_column(tmp_path, capsys):
    table = sample_table("census_work").astype({"pct_unemployed": object})
    table["pct_unemployed"] = "n.k."
    table.to_csv(tmp_path / "work.csv", index=False)
    project = write_project(tmp_path, tables={"census_work": tmp_path / "work.csv"},
                            variables={tmp_path / "work.csv": ["pct_unemployed"]})
    out = tmp_path / "out"
    err = run_fails(["segment", str(project), "--out", str(out)], capsys, out)
    assert "work.csv, row 2, column 'pct_unemployed': 'n.k.' is not a number" in err


def test_a_few_bad_cells_are_kept_missing_and_reported_in_screening_and_reconciliation(
        tmp_path, capsys):
    table = sample_table("census_work").astype({"pct_unemployed": object})
    table.loc[10, "pct_unemployed"] = "n.k."
    table["notes"] = "see source"
    table.to_csv(tmp_path / "work.csv", index=False)
    project = write_project(tmp_path, tables={"census_work": tmp_path / "work.csv"})
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    screening = pd.read_csv(out / "screening.csv").set_index("variable")
    assert screening.loc["pct_unemployed", "cells_not_numbers"] == 1
    assert screening.loc["notes", "kept"] == False  # noqa: E712 (a CSV value)
    assert screening.loc["notes", "reason"].startswith(
        "work.csv: not used: not numeric (row 2: 'see source'")
    reconciliation = pd.read_csv(out / "reconciliation.csv")
    (row,) = reconciliation[(reconciliation["source"] == "work.csv")
                            & (reconciliation["row"] == 12)].itertuples()
    assert row.status == "used"
    assert row.detail == "column 'pct_unemployed': 'n.k.' is not a number (left missing)"


def test_boundaries_in_metres_labelled_as_degrees(tmp_path, capsys):
    oa = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg")
    oa.set_crs(4326, allow_override=True).to_file(tmp_path / "oa.gpkg", layer="output_areas",
                                                  driver="GPKG")
    out = tmp_path / "out"
    err = run_fails(["segment", str(write_project(tmp_path, boundaries=tmp_path / "oa.gpkg")),
                     "--out", str(out)], capsys, out)
    assert "oa.gpkg (layer output_areas): coordinates such as (523954, 180960) cannot be" in err
    assert "the CRS (WGS 84) says degrees" in err


def test_constant_column_forced_in(tmp_path, capsys):
    sample_table("census_health_care").assign(pct_flat=5.0).to_csv(tmp_path / "h.csv",
                                                                    index=False)
    project = write_project(tmp_path, tables={"census_health_care": tmp_path / "h.csv"},
                            force_in=["pct_flat"])
    out = tmp_path / "out"
    err = run_fails(["segment", str(project), "--out", str(out)], capsys, out)
    assert "pct_flat are constant" in err


def test_a_constant_column_is_screened_out_with_its_reason(tmp_path, capsys):
    sample_table("census_health_care").assign(pct_flat=5.0).to_csv(tmp_path / "h.csv",
                                                                    index=False)
    project = write_project(tmp_path, tables={"census_health_care": tmp_path / "h.csv"})
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    screening = pd.read_csv(out / "screening.csv").set_index("variable")
    assert screening.loc["pct_flat", "reason"] == "constant"


def test_k_larger_than_the_number_of_areas(tmp_path, capsys):
    out = tmp_path / "out"
    err = run_fails(["segment", str(write_project(tmp_path)), "--out", str(out), "--k", "800"],
                    capsys, out)
    assert "--k 800 is larger than the number of areas (749): ask for at most 749" in err
    # set in the project file: the file and its setting named, as the user would look for it
    project = write_project(tmp_path, append="").read_text().replace("k = 10", "k = 2000")
    (tmp_path / "bromley_k.toml").write_text(project)
    err = run_fails(["segment", str(tmp_path / "bromley_k.toml"), "--out", str(out)],
                    capsys, out)
    assert err == ("community-safety: error: bromley_k.toml: [segmentation] k = 2000 is "
                   "larger than the number of areas (749): ask for at most 749 segments (10 "
                   "is usual)")


def test_a_row_repeated_exactly_is_said_on_the_console(tmp_path, capsys):
    """A census table with row 41 copied in again under itself (a tester's Bromley
    ts054): read once, and one line on the console names the file and both rows (it was
    only in reconciliation.csv)."""
    table = sample_table("census_housing")
    pd.concat([table.iloc[:40], table.iloc[[39]], table.iloc[40:]]).to_csv(
        tmp_path / "housing.csv", index=False)
    project = write_project(tmp_path, tables={"census_housing": tmp_path / "housing.csv"})
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if line.startswith("housing.csv")]
    assert said == [f"housing.csv: 1 row repeats an earlier row exactly and was read once, "
                    f"listed in reconciliation.csv: row 42 ({table.OA11CD[39]}) repeats row "
                    "41; check the file was not put together twice"]


@pytest.mark.parametrize("append, message", [
    ('\n[segmentation2]\nk = 3\n', "unknown key(s) in [top level]: segmentation2"),
    ('\n[sizes2]\n', "unknown key(s) in [top level]: sizes2"),
])
def test_misspelt_project_keys(tmp_path, capsys, append, message):
    out = tmp_path / "out"
    err = run_fails(["segment", str(write_project(tmp_path, append=append)), "--out", str(out)],
                    capsys, out)
    assert message in err


def test_missing_and_empty_files(tmp_path, capsys):
    out = tmp_path / "out"
    err = run_fails(["segment", str(tmp_path / "nope.toml"), "--out", str(out)], capsys, out)
    assert "nope.toml: project file not found" in err
    (tmp_path / "empty.csv").write_text("")
    project = write_project(tmp_path, tables={"census_work": tmp_path / "empty.csv"})
    err = run_fails(["segment", str(project), "--out", str(out)], capsys, out)
    assert "empty.csv: the file is empty" in err


def test_a_failed_run_leaves_an_earlier_result_untouched(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["segment", str(write_project(tmp_path)), "--out", str(out), "--no-plots"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["segment", str(write_project(tmp_path)), "--out", str(out), "--k", "900"]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_choose_k_writes_diagnostics_and_elbow_plot(tmp_path, capsys):
    out = tmp_path / "k"
    assert main(["choose-k", str(write_project(tmp_path)), "--out", str(out), "--k-min", "3",
                 "--k-max", "6", "--n-init", "2"]) == 0
    table = pd.read_csv(out / "diagnostics.csv")
    assert list(table["k"]) == [3, 4, 5, 6]
    assert {"wcss", "silhouette", "calinski_harabasz", "davies_bouldin",
            "stability_ari"} <= set(table.columns)
    assert (out / "elbow.png").stat().st_size > 10_000


def test_assign_keeps_the_segment_numbers(tmp_path, capsys):
    project = write_project(tmp_path)
    out = tmp_path / "seg"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    assert main(["assign", str(out / "segmentation.gpkg"), str(project), "--out",
                 str(tmp_path / "assigned")]) == 0
    said = capsys.readouterr().out
    assert "749 areas were assigned on " in said and "0 areas changed segment)" in said
    assert "749 of the areas were in segmentation.gpkg;" in said
    # the same data: the sizes, profiles and pen portraits counted again are the build's
    seg, again = (load_segmentation(p) for p in (out, tmp_path / "assigned"))
    pd.testing.assert_frame_equal(again.profiles, seg.profiles)
    assert again.summary["portrait"].tolist() == seg.summary["portrait"].tolist()
    assigned = pd.read_csv(tmp_path / "assigned" / "assigned.csv")
    assert (assigned["segment"] == assigned["previous_segment"]).all()
    styles = gpd.read_file(tmp_path / "assigned" / "segmentation.gpkg", layer="layer_styles")
    assert styles["f_table_name"].tolist() == ["segments"]  # opens styled in QGIS


def test_console_script_exit_code_and_no_traceback(tmp_path):
    exe = [sys.executable, "-m", "community_safety.core.cli"]
    result = subprocess.run([*exe, "segment", str(tmp_path / "missing.toml"), "--out",
                             str(tmp_path / "o")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "project file not found" in result.stderr


@pytest.mark.parametrize("policy", ["median", "drop"])
def test_missing_value_policies(tmp_path, capsys, policy):
    table = sample_table("census_work").astype({"pct_long_term_sick": object})
    table.loc[[3, 50, 400], "pct_long_term_sick"] = ["*", "..", "c"]
    table.to_csv(tmp_path / "work.csv", index=False)
    project = write_project(tmp_path, tables={"census_work": tmp_path / "work.csv"})
    project.write_text(project.read_text().replace('missing = "median"', f'missing = "{policy}"'))
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    layer = gpd.read_file(out / "segmentation.gpkg", layer="segments")
    unclassified = layer.loc[layer["segment"].isna(), "area_code"].tolist()
    filled = gpd.read_file(out / "segmentation.gpkg", layer="missing_values")
    filled = filled.set_index("variable")["cells_filled"]
    manifest = json.loads((out / "manifest.json").read_text())
    if policy == "drop":
        assert sorted(unclassified) == sorted(table.loc[[3, 50, 400], "OA11CD"])
        assert sorted(manifest["results"]["unclassified_areas"]) == sorted(unclassified)
        assert filled.sum() == 0
    else:
        assert unclassified == []
        assert filled["pct_long_term_sick"] == 3 and filled.drop("pct_long_term_sick").sum() == 0


def test_areas_in_no_table_are_left_unclassified_and_their_incidents_said(tmp_path, capsys):
    """Output areas missing from every table (as 2011 areas the 2021 census redrew) get no
    segment under the median policy (the medians alone would place them on no evidence),
    the build says so; their fires are not counted against the other areas' households
    (which would inflate every rate and index) and the profile's source says how many."""
    boundaries = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg")
    fires = pd.read_csv(SAMPLE_DIR / "lfb_dwelling_fires.csv")
    points = gpd.GeoDataFrame(fires, geometry=gpd.points_from_xy(
        fires["easting_rounded"], fires["northing_rounded"]), crs=boundaries.crs)
    per_area = gpd.sjoin(points, boundaries[["OA11CD", "geometry"]],
                         predicate="within")["OA11CD"].value_counts()
    gone = per_area.index[:3].tolist()  # the three areas with the most fires
    tables = {}
    for name in TABLES:
        table = sample_table(name)
        table[~table["OA11CD"].isin(gone)].to_csv(tmp_path / f"{name}.csv", index=False)
        tables[name] = tmp_path / f"{name}.csv"
    out = tmp_path / "out"
    assert main(["segment", str(write_project(tmp_path, tables=tables)), "--out", str(out),
                 "--no-plots"]) == 0
    said = capsys.readouterr()
    assert "746 areas in 10 segments" in said.out
    # why (their codes in no table), what it costs and what to do
    assert ("3 output areas of the boundaries have no row in any of the tables of output "
            "areas (a code they do not use: boundaries of another census, e.g. 2011 output "
            "areas with 2021 tables) and are left unclassified: ") in said.err
    assert ("Their addresses and incidents are left out of the visit list and the incident "
            "profiles; use the boundaries the tables were published for, or add a table (or "
            "a lookup) covering these areas") in said.err
    assert "no value in any clustering variable" not in said.err
    layer = gpd.read_file(out / "segmentation.gpkg", layer="segments")
    assert sorted(layer.loc[layer["segment"].isna(), "area_code"]) == sorted(gone)
    # assigning the same data again leaves them as the build did
    assert main(["assign", str(out / "segmentation.gpkg"), str(tmp_path / "project.toml"),
                 "--out", str(tmp_path / "assigned")]) == 0
    said = capsys.readouterr()
    assert "This year's 746 areas were assigned on " in said.out
    assert ("from segmentation.gpkg (centres and names kept; 0 areas changed segment). 746 of "
            "the areas were in segmentation.gpkg;") in said.out
    assert ("3 output areas of the boundaries have no row in any of the tables of output "
            "areas") in said.err  # as segment says it
    assigned = pd.read_csv(tmp_path / "assigned" / "assigned.csv")
    assert sorted(assigned.loc[assigned["segment"].isna(), "area_code"]) == sorted(gone)

    assert main(["incidents", str(out), str(SAMPLE_DIR / "lfb_dwelling_fires.csv"),
                 "--name", "fires", "--x", "easting_rounded", "--y", "northing_rounded",
                 "--out", str(tmp_path / "fires")]) == 0
    profile = pd.read_csv(tmp_path / "fires" / "incident_profile_fires.csv")
    records = pd.read_csv(tmp_path / "fires" / "incident_records_fires.csv")
    matched = int((records["status"] == "matched").sum())
    lost = int(per_area[gone].sum())
    assert profile["count"].sum() == matched - lost
    about = read_gpkg_table(out / "segmentation.gpkg", "incident_about_fires")
    left_out = (f"Not in the profile's counts, rates and indices: {lost:,} incidents in 3 "
                "output areas without a segment (no row in any of the tables)")
    assert left_out in about["note"][0]
    # the records counted are those the table counts, and the console says so
    assert about["records_counted"][0] == matched - lost
    assert about["records_not_profiled"][0] == lost
    said = capsys.readouterr().out
    assert f"Counted in the profile: {matched - lost:,} (matched" in said and left_out in said
    # counts of injuries and fatalities: each measure left out said in its own words
    harm = fires.assign(injuries=0, fatalities=0)
    in_gone = points.index.isin(gpd.sjoin(points, boundaries[boundaries["OA11CD"].isin(gone)],
                                          predicate="within").index)
    harm.loc[in_gone, "injuries"] = 2
    harm.loc[np.flatnonzero(in_gone)[:1], "fatalities"] = 1
    harm.loc[~in_gone, "injuries"] = 1
    harm.to_csv(tmp_path / "harm.csv", index=False)
    assert main(["incidents", str(out), str(tmp_path / "harm.csv"), "--name", "harm",
                 "--count", "injuries", "--count", "fatalities", "--x", "easting_rounded",
                 "--y", "northing_rounded", "--out", str(tmp_path / "harm")]) == 0
    about = read_gpkg_table(out / "segmentation.gpkg", "incident_about_harm")
    assert (f"{2 * lost:,} injuries, 1 fatality in 3 output areas without a segment"
            in about["note"][0])
    # the visit list's fires: those of the three areas said, not silently dropped
    from community_safety.core.targeting.steps import no_segment_fire

    assert main(["gazetteer", str(out), str(SAMPLE_DIR / "postcodes.csv"), "--id", "Postcode",
                 "--x", "Eastings", "--y", "Northings"]) == 0
    assert main(["target", str(out), "--out", str(tmp_path / "target"), "--capacity", "50",
                 "--incidents", str(SAMPLE_DIR / "lfb_dwelling_fires.csv"), "--x",
                 "easting_rounded", "--y", "northing_rounded", "--date-column", "date"]) == 0
    log = pd.read_csv(tmp_path / "target" / "reconciliation.csv")
    assert (log["detail"] == no_segment_fire(json.loads(
        (out / "manifest.json").read_text()))).sum() == lost
    summary = pd.read_csv(tmp_path / "target" / "target_summary.csv").set_index("measure")
    assert int(summary.loc["fires in output areas without a segment", "value"]) == lost
    assert int(summary.loc["fires in the window", "value"]) == (
        log["detail"] == "counted in the window").sum()
    # the partners' notes say the tables leave them out
    assert main(["matrices", str(out), "--wards", str(SAMPLE_DIR / "wards_2022.gpkg"),
                 "--ward-code", "WD22CD", "--ward-name", "WD22NM"]) == 0
    assert ("warning: 3 of the 749 output areas are without a segment (no row in any of the "
            "tables): they, their households, residents, addresses and incidents are in no "
            "column of the matrices") in capsys.readouterr().err
    assert main(["export", str(out), "--out", str(tmp_path / "partners"),
                 "--for-partners"]) == 0
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "partners" / "partner_matrices.xlsx")
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(min_row=3, values_only=True)}
    assert notes["Areas without a segment"].startswith(
        "3 of the 749 output areas are without a segment (no row in any of the tables)")
    # ... and the GeoPackage's notes, the same sentence, with where its incidents came from
    shared = read_gpkg_table(tmp_path / "partners" / "segmentation_for_partners.gpkg",
                             "notes").set_index("item")["value"]
    assert shared["Areas without a segment"].startswith(notes["Areas without a segment"])
    assert f"{lost:,} incidents in 3 output areas without a segment" in shared[
        "Incidents: Fires"]
    # the report's map says they are there, and its incidents' source says what is left out
    assert main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "The 3 output areas with no data (not classified) are white with grey" in report
    assert re.search(r"The 746 output areas with data \([\d,]+ households, [\d,]+ residents; "
                     r"of 749 output areas, 3 have none\) are grouped", report)
    assert "every area here is classified" not in report
    assert f"{lost:,} incidents in 3 output areas without a segment" in report
