"""The visit list and the report say what was measured, on real data: a capacity in
households is refused at postcode points whose households are not known (never "about 1
household" of a postcode); the report quotes a backtest as the list's ranking only when it
tested that ranking, says where the list's expected fires come from, and says the risk
model's calibration in a sentence."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from conftest import SAMPLE_DIR

from community_safety.core.cli import main

FIRES = ["--incidents", str(SAMPLE_DIR / "lfb_dwelling_fires.csv"), "--x", "easting_rounded",
         "--y", "northing_rounded", "--date-column", "date"]


@pytest.fixture(scope="module")
def no_households(tmp_path_factory):
    """Camden segmented with no households column named, the sample's postcodes as its
    gazetteer."""
    from community_safety.core.data.locate import LocationColumns
    from community_safety.core.places.steps import gazetteer_step
    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.build import build_segmentation
    from community_safety.core.segment.saved import save_segmentation

    project = replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=5, households=None)
    seg = build_segmentation(project)
    gpkg = save_segmentation(seg, tmp_path_factory.mktemp("nohh"), plots=False)
    gazetteer_step(gpkg, SAMPLE_DIR / "postcodes.csv", "Postcode",
                   LocationColumns(x="Eastings", y="Northings"))
    return gpkg


def test_postcode_points_without_households_refuse_a_capacity_in_households(
        no_households, tmp_path, capsys):
    out = tmp_path / "target"
    code = main(["target", str(no_households), "--out", str(out), "--capacity", "500",
                 *FIRES, "--from", "2021-01-01", "--postcode-points"])
    said = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "--postcode-points" in said and "names no households column" in said
    assert "'The gazetteer is postcode points (capacity in households)'" in said
    assert "Target home fire safety checks" in said  # the Processing tool's box
    assert "each postcode would count as one household" in said
    assert "a capacity of 500 households would list 500 postcodes" in said
    assert "[sizes] households" in said and "leave out --postcode-points" in said
    # without the option: one visit per postcode, no household stated
    assert main(["target", str(no_households), "--out", str(out), "--capacity", "500",
                 *FIRES, "--from", "2021-01-01"]) == 0
    import pandas as pd

    listed = pd.read_csv(out / "target_list.csv")
    assert len(listed) == 500 and listed["households"].isna().all()
    assert not listed["address_id"].astype(str).str.contains("household").any()
    # the summary's rates and shares are per address, and named so (the console prints them)
    summary = pd.read_csv(out / "target_summary.csv").set_index("measure")
    assert "borough fire rate per 1,000 addresses" in summary.index
    assert "addresses in targeted areas (%)" in summary.index
    assert not summary.index.str.contains("per 1,000 households|households in").any()
    assert "each address counts as one" in summary.loc["borough fire rate per 1,000 addresses",
                                                       "note"]
    page = tmp_path / "report.html"
    assert main(["report", str(no_households), "--out", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    rate = float(summary.loc["borough fire rate per 1,000 addresses", "value"])
    assert f"{rate:,.2f} per 1,000 addresses" in text
    share = float(summary.loc["addresses in targeted areas (%)", "value"])
    assert f"{share:.1f}% of the addresses" in text



def test_backtests_without_households_say_what_counts_as_one(no_households, tmp_path, capsys):
    """The risk model's backtest at postcode points is refused as the list is (its "top 10%
    of households" would be postcodes); the backtest by output area says each address of
    the gazetteer counts as one household, on the console and in its about table."""
    import pandas as pd

    out = tmp_path / "model"
    project = tmp_path / "model.toml"
    project.write_text('[risk_model]\nkind = "gradient_boosting"\nmax_iter = 30\n')
    model = ["--model", "--lookup", str(SAMPLE_DIR / "oa_lsoa_lookup.csv"), "--project",
             str(project)]
    code = main(["target", str(no_households), "--out", str(out), "--backtest", "--cut-off",
                 "2019-12-31", *FIRES, *model, "--postcode-points"])
    said = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "each postcode would count as one household" in said
    assert "the top 10% of households would be the top 10% of postcodes" in said
    assert "leave out --postcode-points" in said and "Nothing was written" in said

    out = tmp_path / "areas"
    assert main(["target", str(no_households), "--out", str(out), "--backtest", "--cut-off",
                 "2019-12-31", *FIRES, "--postcode-points"]) == 0
    printed = capsys.readouterr().out
    assert "without --model the backtest ranks output areas" in printed
    assert ("Households: the segmentation names no households column: each address of the "
            "gazetteer counts as one household") in printed
    assert "in the top 1, 5, 10 and 20% of addresses" in printed
    about = pd.read_csv(out / "backtest_about.csv").iloc[0]
    assert about["How it was tested"] == "time split"
    assert about["What counts as a household"].endswith(
        "each address of the gazetteer counts as one household")
    # the report's key finding quotes the top 10% of addresses, never of households
    from community_safety.core.share.findings import key_findings

    shutil.copytree(out, no_households.parent / "backtest", dirs_exist_ok=True)
    finding = next(f for f in key_findings(no_households) if f.topic == "targeting")
    assert "the top 10% of addresses held" in finding.text, finding.text
    assert "households held" not in finding.text
    assert "each address of the gazetteer counts as one household" in finding.text

@pytest.fixture(scope="module")
def camden_model_list(tmp_path_factory):
    """The sample segmented (households known), its postcodes as the gazetteer and a visit
    list from the risk model ranking each postcode (``--model --postcode-points``), in the
    folders the README uses; a quick model from a project file."""
    from conftest import saved_sample

    out = tmp_path_factory.mktemp("honest") / "camden"
    gpkg = saved_sample(out / "segmentation", n_init=3)[1]
    assert main(["gazetteer", str(gpkg), str(SAMPLE_DIR / "postcodes.csv"), "--id",
                 "Postcode", "--x", "Eastings", "--y", "Northings"]) == 0
    project = out / "model.toml"
    project.write_text('[risk_model]\nkind = "gradient_boosting"\nmax_iter = 30\n')
    model = [*FIRES, "--property-column", "property_type", "--lookup",
             str(SAMPLE_DIR / "oa_lsoa_lookup.csv"), "--project", str(project), "--model"]
    assert main(["target", str(gpkg), "--out", str(out / "target_model"), "--capacity",
                 "500", *model, "--postcode-points"]) == 0
    return gpkg, out, model


def _box(gpkg, out) -> tuple[dict, str]:
    import html
    import re

    assert main(["report", str(gpkg), "--out", str(out / "report.html")]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    start = page.index('id="targeting"')
    box = page[start:page.index('</section>', start)]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", box, re.DOTALL):
        cells = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
        rows[cells[0]] = cells[1]
    return rows, html.unescape(box)


TESTED, EXPECTED = "Tested on later fires (out of sample)", "Expected fires in the listed homes"


def test_the_report_quotes_a_backtest_as_the_lists_ranking_only_when_it_tested_it(
        camden_model_list, capsys):
    import re

    import pandas as pd

    gpkg, out, model = camden_model_list
    rows, _ = _box(gpkg, out)
    assert "average rate over" not in rows[EXPECTED]  # a model's figure, not an average
    summary = pd.read_csv(out / "target_model" / "target_summary.csv").set_index("measure")
    assert summary.loc["ranking", "value"] == "risk model"
    assert summary.loc["ranked", "value"] == "postcode points"
    assert rows["Ranked by"].startswith("the risk model ranking postcode points (each postcode")
    # no backtest yet: the model's expected fires are said to be its own, scaled to the
    # fires seen in the years before the window's end, and not checked on later fires
    expected = rows[EXPECTED]
    assert "These are the risk model's expected fires per household per year" in expected
    scaled = re.search(r"scaled by (\d\.\d\d): the fires seen ÷ those expected in "
                       r"\w{3} 2020 – Aug 2024 by the same model fitted before them", expected)
    assert scaled, expected
    assert f"scaled by {scaled.group(1)}" in summary.loc["score", "note"]
    assert "have not been checked against later fires" in expected
    assert "average rate over" not in expected

    # the README's pair: the backtest of the risk model ranking output areas
    assert main(["target", str(gpkg), "--out", str(out / "backtest_model"), "--backtest",
                 "--cut-off", "2019-12-31", *model]) == 0
    about = pd.read_csv(out / "backtest_model" / "backtest_about.csv").iloc[0]
    assert about["What the rankings rank"] == "output areas"
    means = pd.read_csv(out / "backtest_model" / "backtest_means.csv").set_index("Ranking")
    top10 = "Share of later fires in the top 10% of households (%)"
    rows, _ = _box(gpkg, out)
    tested = rows[TESTED]
    assert "by the list's ranking" not in tested, tested
    assert (f"by the risk model ranking output areas held "
            f"{means.loc['risk model', top10]:.1f}%") in tested, tested
    assert ("This is not the list's ranking: the list is ranked by the risk model ranking "
            "postcode points, which no backtest found tested.") in tested
    assert "have not been checked against later fires" in rows[EXPECTED]
    # the backtest's calibration, after scaling on the years before its cut-off, beside
    # what the unscaled model expected
    calibration = about["Calibration"]
    assert re.match(r"Calibration: the model expected \d\.\d+ times the fires seen", calibration)
    assert re.search(r"Its expected fires were scaled by \d\.\d\d, the fires seen ÷ "
                     r"expected in 2016–2019 \(the validation years before the cut-off, by "
                     r"the model fitted before them\); unscaled it expected \d\.\d+ times "
                     r"the fires seen\.", calibration), calibration
    settings = pd.read_csv(out / "backtest_model" / "model_settings.csv")
    assert settings["Validation years"].tolist() == ["2016–2019"]
    assert "In that backtest the model expected" in tested

    # the backtest of the list's own ranking (postcode points): quoted as the list's, with
    # the model's calibration in a sentence
    assert main(["target", str(gpkg), "--out", str(out / "backtest_postcodes"),
                 "--backtest", "--cut-off", "2019-12-31", *model, "--postcode-points"]) == 0
    printed = capsys.readouterr().out
    about = pd.read_csv(out / "backtest_postcodes" / "backtest_about.csv").iloc[0]
    assert about["What the rankings rank"] == "postcode points"
    assert about["Calibration"] in printed
    means = pd.read_csv(out / "backtest_postcodes" / "backtest_means.csv").set_index("Ranking")
    rows, _ = _box(gpkg, out)
    tested = rows[TESTED]
    assert f"by the list's ranking held {means.loc['risk model', top10]:.1f}%" in tested
    assert "not the list's ranking" not in tested
    times = about["Calibration"].removeprefix("Calibration: ").split(" (")[0]
    assert times.startswith("the model expected ") and times.endswith(" times the fires seen")
    assert f"In the backtest of this ranking {times}" in rows[EXPECTED], rows[EXPECTED]


def test_postcodes_taken_as_homes_are_said(camden_model_list, tmp_path, capsys):
    """A gazetteer of postcodes given without --postcode-points counts each postcode as one
    home: with households known, the list says the gazetteer has far fewer points than
    households and names the option (a tester's Islington: 6,406 postcodes for 89,530
    households, "1.53 expected fires a year, 14.8% of every home's", a tenth of the
    borough's fires)."""
    import pandas as pd
    import pyogrio

    gpkg, out, _ = camden_model_list
    assert main(["target", str(gpkg), "--out", str(tmp_path / "t"), "--capacity", "500",
                 *FIRES, "--from", "2021-01-01"]) == 0
    printed = capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "t" / "target_summary.csv").set_index("measure")
    from community_safety.core.segment.saved import load_segmentation

    classified = load_segmentation(gpkg).areas["segment"].dropna().index
    codes = pyogrio.read_dataframe(gpkg, layer="addresses", read_geometry=False)["area_code"]
    points = int(codes.isin(classified).sum())
    note = summary.loc["gazetteer", "note"]
    assert note.startswith(f"the gazetteer has {points:,} points in the classified areas "
                           "for their ")
    assert "give --postcode-points" in note and note in printed
    # with the option, each point holds its share of its area's households: nothing to say
    with_option = pd.read_csv(out / "target_model" / "target_summary.csv")
    assert "gazetteer" not in set(with_option["measure"])
