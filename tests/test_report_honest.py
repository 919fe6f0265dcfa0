"""Honest figures in the report (#23): on the sample's report, every count says its period
and every rate its unit and period; figures are rounded once, from the GeoPackage's full
values; synthetic inputs say so; the targeting box says what its figures are; each ward
table says what it suppressed and why; maps name the wards and give "no data" a look of its
own; the sample's gap in its street-crime file is said where that file is the source."""

from __future__ import annotations

import html as html_text
import re
import shutil

import pandas as pd
import pytest
from conftest import SAMPLE_DIR, fresh_copy

from community_safety.core.cli import main
from community_safety.core.report.targeting_box import tested_on_later_fires as said_tested
from community_safety.core.share.export import partner_tables
from community_safety.core.share.suppression import SUPPRESSED
from community_safety.core.store.backtest_columns import (
    ABOUT,
    IDENTITY_FILE,
    RANKING,
    columns,
    write_identity,
)
from community_safety.core.store.geopackage import read_gpkg_table, write_table

THRESHOLD = 5
FIRES, ASB = "Jan 2009 – Aug 2024", "Jul 2019"


@pytest.fixture(scope="module")
def demo(camden_demo):
    return camden_demo


@pytest.fixture(scope="module")
def page(demo) -> str:
    return (demo / "report.html").read_text(encoding="utf-8")


def _between(page: str, start: str, end: str) -> str:
    return page[page.index(start):page.index(end, page.index(start))]


def _cells(row: str, tag: str = "td") -> list[str]:
    """The text of each cell, tags dropped and spaces collapsed."""
    return [" ".join(html_text.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            for cell in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", row, re.DOTALL)]


def _tables(section: str) -> list[str]:
    return re.findall(r"<table.*?</table>", section, re.DOTALL)


def test_every_count_and_rate_says_its_period_and_unit(page):
    incidents = _between(page, 'id="incidents"', 'id="wards"')
    headers = [h for table in _tables(incidents) for h in _cells(table, "th")]
    rates = [h for h in headers if "per 1,000" in h.lower()]
    counts = [h for h in headers if h.startswith("Count")]
    assert len(rates) == 2 and len(counts) == 2
    # fires over 15 years a year; anti-social behaviour over its one month, not per year
    assert rates[0] == f"Per 1,000 households a year (average, {FIRES})"
    assert rates[1] == f"Per 1,000 households in {ASB}"
    assert counts == [f"Count, {FIRES}", f"Count, {ASB}"]
    # each segment's own table: a period column and the unit in every rate cell
    segment = _between(page, 'id="segment-9"', 'id="segment-10"')
    table = next(t for t in _tables(segment) if "Period" in t)
    rows = [_cells(r) for r in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)][1:]
    assert [r[1] for r in rows] == [FIRES, ASB]
    assert rows[0][4].endswith(" a year") and rows[1][4].endswith(f" in {ASB}")
    # the ward tables of incidents name their period
    assert f"Fires, {FIRES}</h3>" in page
    assert f"Antisocial behaviour, {ASB}</h3>" in page


def test_each_figure_is_rounded_once_from_the_full_value(demo, page):
    gpkg = demo / "segmentation" / "segmentation.gpkg"
    _, profiles = partner_tables(gpkg, THRESHOLD)
    about = read_gpkg_table(gpkg, "incident_about_fires").iloc[0]
    years = ((pd.Timestamp(about["last_day"]) - pd.Timestamp(about["first_day"])).days
             + 1) / 365.25
    assert 15 < years < 16
    fires = profiles["incident_profile_fires"]
    # the GeoPackage keeps full precision (nothing stored rounded to re-round)
    assert (fires["share_pct"] != fires["share_pct"].round(2)).any()
    table = _tables(_between(page, 'id="incidents-fires_incidents"', "<figure"))[0]
    rows = [_cells(r) for r in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)][1:]
    assert len(rows) == len(fires) == 10
    for shown, (_, full) in zip(rows, fires.iterrows()):
        assert shown[1] == f"{full['count']:,.0f}"
        assert shown[2] == f"{full['share_pct']:.1f}%"
        assert shown[3] == f"{full['household_share_pct']:.1f}%"
        assert shown[4] == f"{full['rate_per_1000_households'] / years:.2f}"
        assert shown[5] == f"{full['index']:.0f}"
        assert shown[6] == f"{full['index_low_95']:.0f} – {full['index_high_95']:.0f}"
    # the cells that stored-then-rounded values got wrong before
    assert rows[2][2] == "9.6%" and rows[0][6] == "77 – 98" and rows[2][6] == "73 – 93"
    # the CSV file keeps its few decimals for people
    csv = pd.read_csv(demo / "incidents" / "incident_profile_fires.csv")
    assert (csv["share_pct"] == csv["share_pct"].round(2)).all()


def test_synthetic_demand_says_so_with_its_window(demo, page, tmp_path):
    section = _between(page, 'id="demand"', 'id="method"')
    assert "SYNTHETIC: invented records, not real people" in section
    assert "2023-04-01 to 2024-03-31" in section  # the window
    assert "Contacts per 1,000 residents (2023-04-01 to 2024-03-31)" in section
    assert "Shared demand (synthetic)" in page
    # real records: no such words
    copy = tmp_path / "segmentation.gpkg"
    shutil.copy(demo / "segmentation" / "segmentation.gpkg", copy)
    about = read_gpkg_table(copy, "demand_about")
    write_table(copy, "demand_about", about[about["item"] != "Synthetic"])
    assert main(["report", str(copy), "--out", str(tmp_path / "r.html")]) == 0
    real = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Demand by segment" in real and "2023-04-01 to 2024-03-31" in real
    assert "invented records" not in real and "(synthetic)" not in real


def test_the_targeting_box_says_what_its_figures_are(demo, page):
    box = _between(page, 'id="targeting"', 'id="demand"')
    rows = {r[0]: r[1] for r in (_cells(t, "th") + _cells(t) for t in
                                 re.findall(r"<tr>(.*?)</tr>", box, re.DOTALL))}
    expected = rows["Expected fires in the listed homes"]
    assert re.match(rf"\d+\.\d\d a year \(average rate over {FIRES}\)", expected), expected
    assert float(expected.split()[0]) < 5  # a year's fires, not the 15-year total
    assert rows["Visits grouped by output area"].startswith("no: homes are listed one")
    assert "cluster by area" not in box
    said = html_text.unescape(box)
    # the in-sample share quoted is the visit list's own, with its fires counted
    summary = pd.read_csv(demo / "visits" / "target_summary.csv").set_index("measure")["value"]
    share = float(summary["share of the window's fires in targeted areas (%)"])
    assert 5 < share < 60
    assert (f"In sample, not a prediction: the output areas with a visit held {share:.1f}% of "
            f"the fires of Jan 2009 – Aug 2024 "
            f"({int(summary['fires in the window in targeted areas']):,} of "
            f"{int(summary['fires in the window']):,})") in said, said
    assert "overstates what the list would reach of future fires" in said


def _targeting_rows(page: str) -> dict:
    box = _between(page, 'id="targeting"', 'id="demand"')
    return {r[0]: r[1] for r in (_cells(t, "th") + _cells(t) for t in
                                 re.findall(r"<tr>(.*?)</tr>", box, re.DOTALL))}


TESTED = "Tested on later fires (out of sample)"


def test_the_targeting_box_quotes_the_backtest_of_this_segmentation(demo, page):
    about = pd.read_csv(demo / "backtest" / "backtest_about.csv").iloc[0]
    table = pd.read_csv(demo / "backtest" / "backtest.csv")
    ranked = table[table[RANKING] == about[ABOUT["score"]]].iloc[0]  # the list's ranking
    chance = table[table[RANKING].str.startswith("random")].iloc[0]
    top10 = columns("top_10pct")[0]
    tested = _targeting_rows(page)[TESTED]
    assert tested == (
        f"Fitted on fires {about[ABOUT['fitted_on']]}, tested on later fires "
        f"({about[ABOUT['tested_on']]}): the top 10% of households by the list's ranking "
        f"held {ranked[top10]:.1f}% of the {about[ABOUT['fires_tested_on']]:,} later fires; "
        f"in random order {chance[top10]:.1f}%."), tested
    assert "2009–2019" in tested and "Jan 2020 – Aug 2024" in tested
    said = html_text.unescape(_between(page, 'id="targeting"', 'id="demand"'))
    assert "In sample, not a prediction" in said and "the test on later fires above" in said


NOT_FOUND = "no backtest of this segmentation was found"


def test_the_targeting_box_keeps_to_in_sample_words_without_its_own_backtest(demo, tmp_path):
    copy = fresh_copy(demo / "segmentation" / "segmentation.gpkg", tmp_path)

    def box() -> tuple[dict, str]:
        assert main(["report", str(copy), "--out", str(tmp_path / "r.html")]) == 0
        page = (tmp_path / "r.html").read_text(encoding="utf-8")
        return _targeting_rows(page), html_text.unescape(
            _between(page, 'id="targeting"', 'id="demand"'))

    rows, said = box()  # no backtest beside it
    assert TESTED not in rows and NOT_FOUND in said
    about = pd.read_csv(demo / "backtest" / "backtest_about.csv")
    (tmp_path / "backtest").mkdir()
    shutil.copy(demo / "backtest" / "backtest.csv", tmp_path / "backtest")
    about.to_csv(tmp_path / "backtest" / "backtest_about.csv", index=False)
    write_identity(tmp_path / "backtest", "an earlier segmentation")
    rows, said = box()  # a backtest of another segmentation
    assert TESTED not in rows and NOT_FOUND in said
    shutil.copy(demo / "backtest" / IDENTITY_FILE, tmp_path / "backtest")
    rows, said = box()  # the same segmentation's: quoted
    assert TESTED in rows and NOT_FOUND not in said
    shutil.move(tmp_path / "backtest", copy.parent / "backtest")
    rows, said = box()  # in a folder inside the segmentation's, where QGIS users put it
    assert TESTED in rows and NOT_FOUND not in said


def test_the_tested_figure_gives_its_interval_when_the_backtest_has_one():
    figures = {"share": 20.04, "low": 17.46, "high": 22.51, "fitted_on": "2009–2019",
               "tested_on": "Jan 2020 – Aug 2024", "fires": 714, "random": 9.97, "top": 10}
    assert "held 20.0% (95% interval 17.5–22.5%) of the 714 later fires; in random order " \
        "10.0%." in said_tested(figures)
    assert "interval" not in said_tested({**figures, "low": None, "high": None})


def test_suppression_is_said_and_agrees_with_the_tables(demo, page):
    wards = _between(page, 'id="wards"', 'id="targeting"')
    sections = re.split(r'<h3 id="matrix-', wards)[1:]
    assert len(sections) == 6
    for section in sections:
        hidden = re.findall(r'<td class="heat"[^>]*>([^<]*)</td>', section).count(SUPPRESSED)
        said = html_text.unescape(re.search(r'<p class="muted">(.*?)</p>', section).group(1))
        if hidden:
            assert said.startswith(f"{hidden:,} of ") and "cells suppressed" in said
        else:
            assert said.startswith("Shown in full")
        if section.startswith("areas"):  # places whose segment and ward are public
            assert hidden == 0 and "protect nothing" in said
    # the partner export publishes output areas in full too
    areas = pd.read_csv(demo / "partners" / "areas.csv", dtype=str, encoding="utf-8-sig")
    assert not (areas == SUPPRESSED).any().any()
    overview = html_text.unescape(_between(page, 'id="overview"', 'id="segments"'))
    for section in sections:  # the overview says what each table says
        title = html_text.unescape(re.search(r'">(.*?)</h3>', section).group(1))
        said = html_text.unescape(re.search(r'<p class="muted">(.*?)</p>', section).group(1))
        assert f"{title}: {said[:1].lower()}{said[1:]}" in overview


def test_maps_name_the_wards_and_no_data_has_its_own_look(demo):
    import geopandas as gpd
    from matplotlib.figure import Figure

    from community_safety.core.report import charts
    from community_safety.core.styles import NO_DATA_LABEL, PALETTE, segment_layer_qml

    gpkg = demo / "segmentation" / "segmentation.gpkg"
    wards = gpd.read_file(gpkg, layer="wards", engine="pyogrio")
    areas = gpd.read_file(gpkg, layer="segments", engine="pyogrio").set_index("area_code")
    figure = charts.overview_figure(areas, wards)
    named = {t.get_text().replace("\n", " ") for t in figure.axes[0].texts}
    assert named == set(wards["ward_name"]) and "Kentish Town North" in named
    # an area with no data is hatched on white, not a grey like segment 10's
    qml = segment_layer_qml({1: "One"}, unclassified=True)
    assert NO_DATA_LABEL in qml and 'v="b_diagonal"' in qml
    assert PALETTE[9] == "#555555"  # segment 10 keeps its colour; "no data" differs
    with_gap = areas.assign(segment=areas["segment"].where(areas.index != areas.index[0]))
    ax = Figure().add_subplot()
    assert charts._no_data(ax, with_gap) and not charts._no_data(Figure().add_subplot(),
                                                                 areas)
    assert ax.collections[-1].get_hatch() == "////"


def test_the_samples_street_crime_gap_is_said(demo, page):
    crime = pd.read_csv(SAMPLE_DIR / "street_crime_2019_07.csv", dtype=str)
    codes = set(crime["Ward Code"])
    # what the note says is what the file holds
    assert {"E05000272", "00BK15N"} <= codes
    assert not {"E05000137", "E05000142"} & codes
    attribution = (SAMPLE_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "E05000137" in attribution and "E05000142" in attribution
    source = html_text.unescape(_between(page, 'id="incidents-antisocial_behaviour',
                                         "<table"))
    assert "no records for Camden's own Highgate and Regent's Park wards" in source
    fires = html_text.unescape(_between(page, 'id="incidents-fires', "<table"))
    assert "Note:" not in fires  # the note is the file's, not every source's
    # and the ward table shows those wards' zeros
    gpkg = demo / "segmentation" / "segmentation.gpkg"
    table = read_gpkg_table(gpkg, "matrix_antisocial_behaviour_incidents")
    names = table.set_index("ward_name")["Total"]
    assert names["Highgate"] == 0 and names["Regent's Park"] == 0


def test_a_month_of_records_runs_to_the_months_end():
    from community_safety.core.places.incidents import IncidentFilter
    from community_safety.core.places.steps import incident_dates, period_years

    months = pd.DataFrame({"Month": ["2019-07", "2019-07", "2019-07"]})
    first, last = incident_dates(months, pd.Series([True] * 3), IncidentFilter())
    assert (first, last) == (pd.Timestamp("2019-07-01"), pd.Timestamp("2019-07-31"))
    assert period_years(first, last) == pytest.approx(31 / 365.25)
    days = pd.DataFrame({"date": ["2010-05-03", "2012-02-17"]})
    assert incident_dates(days, pd.Series([True, True]), IncidentFilter("date")) == (
        pd.Timestamp("2010-05-03"), pd.Timestamp("2012-02-17"))
    assert incident_dates(days[[]], pd.Series([True, True]), IncidentFilter()) is None
