"""The crews' visit list workbook (target_list.xlsx) on the Camden sample, as the demo and
the dock make it (from the stored fire counts): headings in words, segment names, figures
rounded from the CSV's full precision, frozen filtered headings, a Columns sheet that
matches the list, expected fires per year, and a printable list per ward."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SAMPLE_DIR, saved_sample
from openpyxl import load_workbook

from community_safety.core.data.locate import LocationColumns
from community_safety.core.places.incidents import IncidentFilter
from community_safety.core.places.steps import gazetteer_step, incident_dates, incidents_step
from community_safety.core.share.partner_steps import WardSource, matrices_step
from community_safety.core.store.geopackage import read_gpkg_table
from community_safety.core.targeting.crew_workbook import crew_columns, list_table
from community_safety.core.targeting.rates import area_households, shrunk_rates
from community_safety.core.targeting.steps import TargetInputs, target_step
from community_safety.core.targeting.visit_list import TargetOptions

VISITS = 300


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The sample segmented, its addresses, fires (with their dates) and wards stored, and
    the visit list made from the stored fire counts."""
    folder = tmp_path_factory.mktemp("crews")
    seg, gpkg = saved_sample(folder / "seg", n_init=3)
    gazetteer_step(gpkg, SAMPLE_DIR / "postcodes.csv", "Postcode",
                   LocationColumns(x="Eastings", y="Northings"))
    incidents_step(gpkg, SAMPLE_DIR / "lfb_dwelling_fires.csv", "fires",
                   LocationColumns(x="easting_rounded", y="northing_rounded"),
                   folder / "incidents", rules=IncidentFilter(date_column="date"))
    matrices_step(gpkg, WardSource(SAMPLE_DIR / "wards_2022.gpkg", "WD22CD", "WD22NM"))
    out = folder / "visits"
    result, _ = target_step(gpkg, out, TargetOptions(capacity=VISITS),
                            TargetInputs(incident_table="fires", today="2025-01-01"))
    book = load_workbook(out / "target_list.xlsx")
    return {"seg": seg, "gpkg": gpkg, "csv": pd.read_csv(out / "target_list.csv"),
            "book": book, "result": result, "summary": pd.read_csv(out / "target_summary.csv")}


def cells(sheet) -> list[list]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_headings_are_words_with_the_period_and_the_columns_sheet_matches(run):
    visits = run["book"]["Visits"]
    header = cells(visits)[0]
    assert all("_" not in h and h[:1].isupper() for h in header), header
    assert "Expected fires per year (from the fires of Jan 2009 – Aug 2024)" in header
    assert "Fires in the output area in Jan 2009 – Aug 2024" in header
    columns = cells(run["book"]["Columns"])
    assert columns[1] == ["Column", "Meaning"]
    assert [row[0] for row in columns[2:]] == header  # exactly the list's, in its order
    assert all(row[1] for row in columns[2:])
    meaning = dict(row for row in columns[2:])
    assert "divided by the 15.7 years" in meaning[
        "Expected fires per year (from the fires of Jan 2009 – Aug 2024)"]
    # the partner flags, their weights and last visits are left out when no row has one,
    # and households where the gazetteer gives none (each address counted as one)
    assert not {"Partner flags", "Flags' weight (×)", "Last visit", "Households"} & set(
        header)


def test_frozen_filtered_headings_widths_and_a4_landscape(run):
    for sheet in run["book"].worksheets:
        if sheet.title == "Columns":
            continue
        rows = sheet.max_row
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}"\
                                        f"{rows}", sheet.title
        assert sheet.print_title_rows == "$1:$1"
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == 9  # A4
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
        assert all(6 <= w <= 56 for w in widths), widths


def test_figures_rounded_once_from_the_csv_and_segments_named(run):
    csv, seg = run["csv"], run["seg"]
    table = pd.DataFrame(cells(run["book"]["Visits"])[1:],
                         columns=cells(run["book"]["Visits"])[0])
    assert len(table) == len(csv) == VISITS
    expected = "Expected fires per year (from the fires of Jan 2009 – Aug 2024)"
    assert table[expected].tolist() == csv["expected_fires_per_year"].round(4).tolist()
    assert table[expected].map(lambda v: len(str(v).split(".")[-1]) <= 4).all()
    assert table["Rank"].tolist() == csv["rank"].tolist()
    assert table["Segment's fire rate (× the borough's)"].tolist() == csv[
        "segment_ratio"].tolist()
    assert table["Fires in the output area in Jan 2009 – Aug 2024"].tolist() == csv[
        "area_fires"].astype(int).tolist()
    assert table["Segment"].tolist() == [f"{s} – {seg.segment_names[s]}"
                                         for s in csv["segment"]]
    assert table["Ward"].tolist() == csv["ward_name"].tolist()
    assert set(table["Priority"]) <= {"1 – very high (3x the borough rate or more)",
                                      "2 – high (2x to 3x)", "3 – raised (1.5x to 2x)",
                                      "4 – other chosen (under 1.5x)"}
    visits = run["book"]["Visits"]
    fmt = {c.value: visits.cell(2, c.column).number_format for c in visits[1]}
    assert fmt[expected] == "#,##0.0000" and fmt["Rank"] == "#,##0"


def test_expected_fires_per_year_times_the_years_is_the_windows_total(run):
    """Worked independently: the area's shrunk rate over the whole window (from the stored
    counts) × households at the address, against the list's per-year figure × the years
    between the stored first and last days."""
    gpkg, seg, csv = run["gpkg"], run["seg"], run["csv"]
    about = read_gpkg_table(gpkg, "incident_about_fires").iloc[0]
    assert (about["first_day"], about["last_day"]) == ("2009-01-02", "2024-08-29")
    years = ((pd.Timestamp(about["last_day"]) - pd.Timestamp(about["first_day"])).days
             + 1) / 365.25
    counts = read_gpkg_table(gpkg, "incident_counts_fires").set_index("area_code")
    rates = shrunk_rates(counts.iloc[:, 0].astype(float), area_households(seg, gpkg),
                         seg.areas["segment"].dropna().astype(int))
    assert csv["households"].isna().all()  # not in the gazetteer: each address counts as one
    total = rates["shrunk_rate"].reindex(csv["area_code"]).to_numpy() * 1.0
    assert (csv["expected_fires_per_year"] * years).to_numpy() == pytest.approx(
        total, rel=1e-9)
    sheet = cells(run["book"]["Visits"])
    column = sheet[0].index("Expected fires per year (from the fires of Jan 2009 – Aug 2024)")
    shown = [row[column] for row in sheet[1:]]
    assert pd.Series(shown).to_numpy() * years == pytest.approx(total, abs=0.00005 * years)
    summary = run["summary"].set_index("measure")
    assert summary.loc["expected fires covered", "note"] == "per year"
    assert float(summary.loc["expected fires covered", "value"]) == pytest.approx(
        csv["expected_fires_per_year"].sum(), abs=0.001)


def test_one_printable_list_per_ward(run):
    csv, book = run["csv"], run["book"]
    wards = list(dict.fromkeys(csv["ward_name"]))
    assert book.sheetnames == ["Visits", "Columns", *wards]
    header = cells(book["Visits"])[0]
    for ward in wards:
        rows = cells(book[ward])
        assert rows[0] == header
        mine = csv[csv["ward_name"] == ward]
        assert [r[0] for r in rows[1:]] == mine["rank"].tolist()
        assert book[ward].oddHeader.right.text == "&A"  # the ward's name on every page
    # the whole list prints each ward from a new page: a break before each ward's first row
    first_rows = [i + 2 for i, (a, b) in enumerate(zip(csv["ward_name"],
                                                       csv["ward_name"].shift()))
                  if i and a != b]
    assert [b.id for b in book["Visits"].row_breaks.brk] == [r - 1 for r in first_rows]


def test_without_the_windows_length_the_figures_say_their_period():
    """A profile stored before its days were: expected fires over the stated period."""
    headings = [c.heading for c in crew_columns(None, "Jan 2009 – Aug 2024")]
    assert "Expected fires over Jan 2009 – Aug 2024" in headings
    assert not any("per year" in h for h in headings)
    crews = pd.DataFrame({"rank": [1], "ward_code": [""], "ward_name": [""],
                          "address_id": ["=A1"], "area_code": ["E1"], "households": [1.0],
                          "multiplier": [2.0], "flags": ["over_75_alone"],
                          "expected_fires": [0.123456], "segment": [2], "area_fires": [3.0],
                          "segment_ratio": [1.5], "area_ratio": [2.25], "own_ratio": [3.0],
                          "last_visit": [""],
                          "why": ["..."], "priority": [2], "priority_label": ["high"]})
    table, columns = list_table(crews, {2: "Families"}, None, "")
    assert "Ward" not in table.columns  # no ward known: no empty column
    assert table.loc[0, "Expected fires over the incident history"] == 0.1235
    assert table.loc[0, "Partner flags"] == "over 75 alone"
    assert table.loc[0, "Flags' weight (×)"] == 2.0
    assert table.loc[0, "Segment"] == "2 – Families"


def test_monthly_incident_dates_run_to_the_months_end():
    records = pd.read_csv(SAMPLE_DIR / "street_crime_2019_07.csv")
    first, last = incident_dates(records, pd.Series(True, index=records.index),
                                 IncidentFilter())
    assert (first, last) == (pd.Timestamp("2019-07-01"), pd.Timestamp("2019-07-31"))


def test_postcode_points_are_headed_postcode_with_their_households(run, tmp_path):
    """Where the gazetteer is postcode points the crews' sheet says so, as the dock and the
    layer do: a postcode with the households it stands for, not an 'Address'."""
    target_step(run["gpkg"], tmp_path, TargetOptions(capacity=VISITS, postcode_points=True),
                TargetInputs(incident_table="fires", today="2025-01-01"))
    book = load_workbook(tmp_path / "target_list.xlsx")
    rows = cells(book["Visits"])
    header = rows[0]
    assert "Address" not in header
    column = header.index("Postcode (households)")
    shown = [row[column] for row in rows[1:]]
    assert shown and all(" (about " in v and v.endswith(("household)", "households)"))
                         for v in shown), shown[:5]
    meaning = dict(row for row in cells(book["Columns"])[2:])
    assert "postcode" in meaning["Postcode (households)"]
