"""Areas with too little data of their own are left unclassified, and said, on Sutton's real
files: its 2011 output areas with 2021 census tables (10 areas of 2011 that the 2021 tables
do not have) and one partner table keyed by 2011 codes that covers every area. Before, the
partner's one value was enough: the areas took the medians for every census variable and
were put in segments, and nothing said so."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
from test_segment_inputs_said import CENSUS, IMD, council

from community_safety.core.cli import main
from community_safety.core.store.geopackage import read_gpkg_table

PARTNER = ('[[tables]]\npath = "partner_postcodes.csv"\ncode = "OA11CD"\n'
           'variables = ["postcodes"]\ncounts = "as is"\n')


def partner_council(tmp_path):
    """Sutton's project with a partner table of postcodes per 2011 output area, counted
    from the borough's Code-Point Open postcodes (every area, as the boundaries have it)."""
    project = council(tmp_path, CENSUS + IMD + PARTNER)
    folder = project.parent
    areas = gpd.read_file(folder / "output_areas.gpkg")
    postcodes = pd.read_csv(folder / "postcodes.csv")
    points = gpd.GeoDataFrame(postcodes, geometry=gpd.points_from_xy(
        postcodes["Eastings"], postcodes["Northings"]), crs=areas.crs)
    counts = gpd.sjoin(points, areas[["OA11CD", "geometry"]], predicate="within")[
        "OA11CD"].value_counts().reindex(areas["OA11CD"], fill_value=0)
    counts.rename("postcodes").rename_axis("OA11CD").reset_index().to_csv(
        folder / "partner_postcodes.csv", index=False)
    census = pd.read_csv(folder / "ts054.csv")
    gone = sorted(areas.loc[~areas["OA11CD"].isin(census["OA"]), "OA11CD"])
    return project, gone


def test_areas_in_the_partner_table_only_are_left_unclassified_and_said(tmp_path, capsys):
    project, gone = partner_council(tmp_path)
    assert len(gone) == 10  # Sutton's 2011 areas the 2021 census redrew
    # one area keeps all but one census value of its own: filled, classified (the rule is
    # more than half of the clustering variables, not any)
    folder = project.parent
    tenure = pd.read_csv(folder / "ts054.csv").astype({"ts0540003": object})
    partly = str(tenure.loc[5, "OA"])
    tenure.loc[5, "ts0540003"] = "*"
    tenure.to_csv(folder / "ts054.csv", index=False)
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    said = capsys.readouterr()
    layer = gpd.read_file(out / "segmentation.gpkg", layer="segments")
    unclassified = sorted(layer.loc[layer["segment"].isna(), "area_code"])
    assert unclassified == gone
    assert layer.set_index("area_code").loc[partly, "segment"] > 0
    manifest = json.loads((out / "manifest.json").read_text())
    clustered = manifest["results"]["clustered_variables"]
    assert "postcodes" in clustered and len(clustered) >= 3
    lacking = len(clustered) - 1
    # the console: how many, why, which, what it costs and what to do
    sentence = (f"10 output areas have no value of their own in {lacking} of the "
                f"{len(clustered)} clustering variables: no row in 4 of the 5 tables of output "
                "areas, a code those tables do not use (boundaries of another census, e.g. "
                "2011 output areas with 2021 tables). Filled with the study area's medians in "
                "more than half of them, they would be placed in a segment on too little "
                f"evidence, so they are left unclassified: {', '.join(gone[:5])} and 5 more. "
                "Their addresses and incidents are left out of the visit list and the "
                "incident profiles; use the boundaries the tables were published for, or add "
                "a table (or a lookup) covering these areas")
    assert sentence in said.err
    # the reconciliation names each on its boundaries row, the missing values count them
    rows = pd.read_csv(out / "reconciliation.csv")
    boundary = rows[rows["source"].str.startswith("output_areas.gpkg")].set_index(
        "area_code")
    assert (boundary.loc[gone, "detail"] == f"left unclassified: no value of its own in "
            f"{lacking} of the {len(clustered)} clustering variables").all()
    assert boundary["detail"].fillna("").str.startswith("left unclassified").sum() == 10
    missing = read_gpkg_table(out / "segmentation.gpkg", "missing_values").set_index(
        "variable")
    assert missing.loc["postcodes", "unclassified_areas_without_a_value"] == 0
    assert (missing.drop(index="postcodes")["unclassified_areas_without_a_value"] == 10).all()
    # the one suppressed cell is filled, and counted, in an area classified
    assert missing.loc["ts0540003", "cells_filled"] == 1
    assert missing["cells_filled"].sum() == 1

    # assigning the same data again leaves them as the build did (one rule, one place)
    assert main(["assign", str(out / "segmentation.gpkg"), str(project),
                 "--out", str(tmp_path / "assigned")]) == 0
    assert sentence in capsys.readouterr().err  # as segment says it
    assigned = pd.read_csv(tmp_path / "assigned" / "assigned.csv")
    assert sorted(assigned.loc[assigned["segment"].isna(), "area_code"]) == gone

    # the report: the overview's sentence, the map's words
    assert main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    report = (tmp_path / "report.html").read_text(encoding="utf-8").replace("&#39;", "'")
    assert sentence + "." in report
    assert "The 10 output areas with too little data (not classified) are white" in report
    assert re.search(r"of \d+ output areas, 10 have none or too little\)", report)
    assert "every area here is classified" not in report
