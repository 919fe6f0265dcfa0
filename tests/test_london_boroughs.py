"""The whole chain on real areas that are not Camden: two boroughs of the London pack (cut
small into tests/data/london_boroughs) and a generated council with coded count columns,
no labels, no deprivation measure and no households, run through segment -> gazetteer ->
incidents -> matrices -> target -> export -> report by the command line, with the checks
of ``scripts/london_boroughs.py`` (every command exits 0, every input row reconciled,
names unique and in words, no sentence the figures contradict, no code where a label
exists). ``scripts/london_boroughs.py`` runs the same on all 16 boroughs."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import london_boroughs as chain  # noqa: E402

BOROUGHS = Path(__file__).parent / "data" / "london_boroughs"


@pytest.mark.parametrize("code,name", [("E09000029", "Sutton"),
                                       ("E09000020", "Kensington and Chelsea")])
def test_the_whole_chain_on_a_borough(tmp_path, code, name):
    folder = tmp_path / "data"
    shutil.copytree(BOROUGHS / code, folder)
    project = chain.borough_project(folder, name, k=6, n_init=5)
    outcome = chain.run_council(project, tmp_path / "out", name)
    assert outcome.ok, outcome.problems
    assert len(outcome.names) == 6
    # the census cells' labels are used: no cell code in any name
    assert not any(chain.CODE.search(n) for n in outcome.names), outcome.names
    # the residents and households columns (the census metadata labels them "Total") say how
    # many live in an area, not who: no name or portrait describes a segment by them
    summary = pd.read_csv(tmp_path / "out" / "segmentation" / "segment_summary.csv")
    texts = [*summary["name"], *summary["portrait"]]
    assert not [t for t in texts if re.search(r"\btotal\b", t, re.IGNORECASE)], texts
    # one kind of incident: each segment's table says its period once, in its heading, and
    # keeps the columns that fit beside the map
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    segment = report[report.index('id="segment-1"'):report.index('id="segment-2"')]
    assert re.search(r"<h4>Incidents, \w{3} \d{4} – \w{3} \d{4}</h4>", segment), segment
    assert ">Period<" not in segment and ">Index (95% interval)<" in segment


def test_the_whole_chain_on_a_council_unlike_the_pack(tmp_path, capsys):
    """Coded count columns, no labels, no IMD, no households; visit dates in US order."""
    project = chain.generated_council(BOROUGHS / "E09000029", tmp_path / "data", k=5,
                                      n_init=5)
    visited = tmp_path / "data" / "visited.csv"
    postcodes = pd.read_csv(tmp_path / "data" / "postcodes.csv", dtype=str)["Postcode"]
    dates = pd.date_range("2023-09-13", periods=20, freq="17D").strftime("%m/%d/%Y")
    pd.DataFrame({"id": postcodes.iloc[:20], "date": dates}).to_csv(visited, index=False)
    out = tmp_path / "out"
    # without the format the US-order visit dates are refused, naming the column
    refused = chain.Outcome("refused")
    chain._run(refused, "segment", "segment", project, "--out", out / "segmentation",
               "--no-plots")
    gpkg = out / "segmentation" / "segmentation.gpkg"
    chain._run(refused, "gazetteer", "gazetteer", gpkg, tmp_path / "data" / "postcodes.csv",
               "--id", "Postcode", "--x", "Eastings", "--y", "Northings")
    said = chain._run(refused, "target", "target", gpkg, "--out", tmp_path / "t",
                      "--capacity", 10, "--incidents", tmp_path / "data" / "fires.csv",
                      *chain.FIRE_XY, "--date-column", "date", "--visited", visited,
                      "--today", "2024-09-01")
    assert refused.steps["target"] == 2 and "month first" in said
    shutil.rmtree(out)

    outcome = chain.run_council(project, out, "generated", visited, "%m/%d/%Y")
    assert outcome.ok, outcome.problems
    # names from the cleaned column names, in quotes, all different
    assert any("'" in n for n in outcome.names), outcome.names
    summary = pd.read_csv(out / "segmentation" / "segment_summary.csv")
    assert "mean_deprivation" not in summary.columns
    # the incidents compare with residents (there are no households) and say so
    profile = pd.read_csv(out / "incidents" / "incident_profile_fires.csv")
    assert "resident_share_pct" in profile.columns
    assert "household_share_pct" not in profile.columns
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Share of residents" in report and "least deprived" not in report
    # no households column of hidden marks, wards read from the residents, the targeting
    # box's rates per address; nothing a partner would have to run
    assert "households ·" not in report and "<th>Households</th>" not in report
    assert "Ward figures appear once" not in report and "% of residents</li>" in report
    box = report[report.index("Fire rate across the study area"):]
    assert re.match(r'Fire rate across the study area</th><td class="text">[\d.,]+ per 1,000 '
                    'addresses', box), box[:200]
    assert "community-safety" not in report
    # the derived column (u014 + a24under) was made and profiled
    profiles = pd.read_csv(out / "segmentation" / "segment_profiles.csv")
    assert "a24plus" in set(profiles["variable"])
    # US-order visits read with the format: those within 12 months excluded
    recon = pd.read_csv(out / "target" / "reconciliation.csv")
    visits = recon[recon["source"] == "visited.csv"]
    assert len(visits) == 20
    assert visits["detail"].str.contains("excluded").sum() == 20 - (
        pd.to_datetime(pd.Series(dates), format="%m/%d/%Y") <= "2023-09-01").sum()
    # the ward atlas's pages: residents alone, and no word of deprivation
    from community_safety.core.report.ward_pages import ward_pages

    pages = ward_pages(out / "segmentation" / "segmentation.gpkg")
    assert [c.heading for c in pages.columns][:2] == ["Residents", "Share"]
    assert "households" not in " ".join(pages.summaries.values())
    assert "deprived" not in pages.numbering
