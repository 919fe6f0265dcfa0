"""Segments to places and incidents: gazetteer, incident profiles, ward matrices, export."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from conftest import SAMPLE_DIR, fresh_copy, saved_sample
from scipy.optimize import linprog
from shapely.geometry import Point

from community_safety.core.cli import main
from community_safety.core.data.locate import AreaIndex, LocationColumns, locate
from community_safety.core.data.pseudonyms import pseudonymise
from community_safety.core.places.matrices import TOTAL
from community_safety.core.segment.saved import load_segmentation
from community_safety.core.share.suppression import suppress
from community_safety.core.store.geopackage import read_gpkg_table

FIRES = SAMPLE_DIR / "lfb_dwelling_fires.csv"
CRIMES = SAMPLE_DIR / "street_crime_2019_07.csv"
WARDS = SAMPLE_DIR / "wards_2022.gpkg"
FIRE_XY = ["--x", "easting_rounded", "--y", "northing_rounded"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return saved_sample(tmp_path_factory.mktemp("built"), n_init=5)


@pytest.fixture
def gpkg(built, tmp_path):
    """A fresh copy of the saved segmentation for each test to add to."""
    return fresh_copy(built[1], tmp_path)


@pytest.fixture(scope="module")
def areas(built):
    return built[0].areas


def run(*args) -> int:
    return main([str(a) for a in args])


def test_every_fire_and_crime_is_accounted_for_and_counts_add_up(gpkg, tmp_path, capsys):
    assert run("incidents", gpkg, FIRES, "--name", "fires", *FIRE_XY, "--out", tmp_path) == 0
    records = pd.read_csv(tmp_path / "incident_records_fires.csv")
    assert len(records) == 2936
    assert records["status"].value_counts().to_dict() == {"matched": 2902,
                                                          "outside the area": 34}
    profile = pd.read_csv(tmp_path / "incident_profile_fires.csv")
    assert profile["count"].sum() == 2902
    assert profile["share_pct"].sum() == pytest.approx(100, abs=0.05)
    assert profile["household_share_pct"].sum() == pytest.approx(100, abs=0.05)
    assert (tmp_path / "incident_profile_fires_incidents.png").stat().st_size > 10_000
    # read by a person: names beside numbers, the period, whole counts, rates a year too
    names = load_segmentation(gpkg).segment_names
    assert profile["segment_name"].tolist() == [names[s] for s in profile["segment"]]
    dates = pd.to_datetime(pd.read_csv(FIRES)["date"])
    first, last = dates.min(), dates.max()
    assert set(profile["period"]) == {f"{first:%b %Y} – {last:%b %Y}"}
    assert profile["count"].dtype == np.int64 and records["row"].dtype == np.int64
    years = ((last - first).days + 1) / 365.25
    assert np.allclose(profile["rate_per_1000_households_per_year"],
                       profile["rate_per_1000_households"] / years, atol=0.002)

    assert run("incidents", gpkg, CRIMES, "--name", "crime", "--id", "ID", "--x", "Easting",
               "--y", "Northing", "--out", tmp_path) == 0
    crimes = pd.read_csv(tmp_path / "incident_records_crime.csv")
    assert len(crimes) == 4075 and set(crimes["status"]) <= {"matched", "outside the area"}
    crime_profile = pd.read_csv(tmp_path / "incident_profile_crime.csv")
    assert crime_profile["count"].sum() == (crimes["status"] == "matched").sum()


def test_a_profile_without_dates_says_its_period_is_not_known(gpkg, tmp_path, capsys):
    fires = pd.read_csv(FIRES).drop(columns=["date"])
    fires.to_csv(tmp_path / "undated.csv", index=False)
    assert run("incidents", gpkg, tmp_path / "undated.csv", "--name", "fires", *FIRE_XY,
               "--out", tmp_path / "out") == 0
    profile = pd.read_csv(tmp_path / "out" / "incident_profile_fires.csv")
    assert set(profile["period"]) == {"not known"}
    assert "rate_per_1000_households_per_year" not in profile.columns  # no length, no year


def test_category_and_date_filters(gpkg, tmp_path, capsys):
    assert run("incidents", gpkg, CRIMES, "--name", "asb", "--x", "Easting", "--y",
               "Northing", "--category-column", "Category", "--category",
               "Anti-social behaviour", "--out", tmp_path) == 0
    crimes = pd.read_csv(CRIMES)
    records = pd.read_csv(tmp_path / "incident_records_asb.csv")
    asb = (crimes["Category"] == "Anti-social behaviour").to_numpy()
    expected = ((records["status"] == "matched") & asb).sum()
    assert pd.read_csv(tmp_path / "incident_profile_asb.csv")["count"].sum() == expected
    assert run("incidents", gpkg, FIRES, "--name", "fires2019", *FIRE_XY, "--date-column",
               "date", "--from", "2019-01-01", "--to", "2019-12-31", "--out", tmp_path) == 0
    fires = pd.read_csv(FIRES)
    located = pd.read_csv(tmp_path / "incident_records_fires2019.csv")
    in_2019 = fires["date"].str.startswith("2019").to_numpy()
    expected = ((located["status"] == "matched").to_numpy() & in_2019).sum()
    assert pd.read_csv(tmp_path / "incident_profile_fires2019.csv")["count"].sum() == expected


def test_exact_poisson_intervals_bracket_the_index(gpkg, tmp_path, capsys):
    run("incidents", gpkg, FIRES, "--name", "fires", *FIRE_XY, "--out", tmp_path)
    profile = pd.read_csv(tmp_path / "incident_profile_fires.csv")
    assert (profile["index_low_95"] <= profile["index"]).all()
    assert (profile["index"] <= profile["index_high_95"]).all()
    share = profile["count"] / profile["count"].sum()
    household_share = profile["households"] / profile["households"].sum()
    assert np.allclose(profile["index"], 100 * share / household_share, atol=0.051)
    # a segment with 26 fires: Garwood's interval for 26 is 16.98 to 38.10
    row = profile.set_index("count").loc[26] if (profile["count"] == 26).any() else None
    if row is not None:
        assert row["index_low_95"] == pytest.approx(row["index"] * 16.98 / 26, abs=0.1)


def test_ward_matrices_add_up_to_the_areas_and_incidents(gpkg, tmp_path, capsys):
    run("incidents", gpkg, FIRES, "--name", "fires", *FIRE_XY, "--out", tmp_path)
    assert run("matrices", gpkg, "--wards", WARDS, "--ward-code", "WD22CD", "--ward-name",
               "WD22NM") == 0
    areas = read_gpkg_table(gpkg, "matrix_areas").set_index("ward")
    assert areas.loc[TOTAL, TOTAL] == 749 and len(areas) == 21
    assert areas.drop(index=TOTAL)[TOTAL].sum() == 749
    fires = read_gpkg_table(gpkg, "matrix_fires_incidents").set_index("ward")
    assert fires.loc[TOTAL, TOTAL] == 2902
    wards = gpd.read_file(gpkg, layer="wards")
    assert len(wards) == 20 and wards["dominant_segment"].between(1, 10).all()
    assert wards["areas_total"].sum() == 749


def test_ward_layer_in_another_crs_gives_the_same_matrices(gpkg, tmp_path, capsys):
    gpd.read_file(WARDS).to_crs(4326).to_file(tmp_path / "wards_wgs84.gpkg", driver="GPKG")
    run("matrices", gpkg, "--wards", WARDS, "--ward-code", "WD22CD")
    in_bng = read_gpkg_table(gpkg, "matrix_areas")
    assert run("matrices", gpkg, "--wards", tmp_path / "wards_wgs84.gpkg", "--ward-code",
               "WD22CD") == 0
    assert read_gpkg_table(gpkg, "matrix_areas").equals(in_bng)


def test_a_point_exactly_on_a_shared_boundary_is_counted_once(areas):
    geoms = areas.geometry
    first = geoms.iloc[0]
    neighbour = geoms[geoms.touches(first)].index[0]
    shared = first.boundary.intersection(geoms[neighbour].boundary)
    x, y = shapely.get_coordinates(shared)[0]  # a vertex of both rings: exactly on both
    assert geoms.intersects(Point(x, y)).sum() >= 2
    records = pd.DataFrame({"x": [repr(x)], "y": [repr(y)]})
    located = locate(records, LocationColumns(x="x", y="y"), AreaIndex(areas))
    assert located["status"].tolist() == ["matched"]
    assert located["area_code"].iloc[0] == min(areas.index[0], neighbour)


def test_gazetteer_match_report_by_code_location_and_postcode(gpkg, tmp_path, capsys):
    code = read_gpkg_table(gpkg, "segments")["area_code"].iloc[5]
    pd.DataFrame({
        "UPRN": ["1", "2", "3", "4", "5", "6", "2"],
        "OA": [code, "", "", "", "", "", ""],
        "E": ["", "529000", "", "", "abc", "400000", "529000"],
        "N": ["", "184000", "", "", "184000", "400000", "184000"],
        "PC": ["", "", "NW1 0AA", "ZZ9 9ZZ", "", "", ""],
    }).to_csv(tmp_path / "llpg.csv", index=False)
    assert run("gazetteer", gpkg, tmp_path / "llpg.csv", "--id", "UPRN", "--area-code", "OA",
               "--x", "E", "--y", "N", "--postcode", "PC", "--postcode-file",
               SAMPLE_DIR / "postcodes.csv") == 0
    report = read_gpkg_table(gpkg, "address_match_report").set_index("row")
    assert report["status"].to_dict() == {
        2: "matched", 3: "matched", 4: "matched", 5: "unmatched", 6: "unmatched",
        7: "outside the area", 8: "duplicate"}
    assert report.loc[[2, 3, 4], "method"].tolist() == ["by code", "by location",
                                                        "by postcode"]
    assert report.loc[5, "detail"] == "postcode not found"
    assert report.loc[6, "detail"] == "coordinates are not numbers"
    assert report.loc[7, "detail"] == "coordinates outside the study area"
    layer = gpd.read_file(gpkg, layer="addresses")
    assert sorted(layer["record_id"]) == ["1", "2", "3"] and layer["segment"].notna().all()
    summary = read_gpkg_table(gpkg, "address_match_summary")
    assert summary["records"].sum() == 7


def test_addresses_in_areas_without_a_segment_are_not_said_to_be_placed_in_one(areas):
    """Havering: 330 of 4,915 postcodes lie in output areas without a segment (no data);
    the line said "4,915 of 4,915 records placed in a segment"."""
    from community_safety.core.places.gazetteer import (
        join_gazetteer,
        match_summary,
        placed_line,
    )

    areas = areas.copy()
    codes = areas.index[:3]
    areas.loc[codes[2], "segment"] = np.nan  # an area with no data
    points = areas.geometry.loc[codes].representative_point()
    records = pd.DataFrame({"UPRN": ["1", "2", "3", "4"],
                            "E": [*map(str, points.x), "1"], "N": [*map(str, points.y), "1"]})
    layer, report = join_gazetteer(areas, records, "UPRN", LocationColumns(x="E", y="N"))
    assert len(layer) == 3 and layer["segment"].isna().sum() == 1
    assert placed_line(layer, len(report)) == ("2 of 4 records placed in a segment; 1 in 1 "
                                               "output area without one (too little data)")
    outcomes = dict(zip(*match_summary(report)[["outcome", "records"]].to_numpy().T))
    assert outcomes["matched by location"] == 2
    assert outcomes["matched by location: in an output area without a segment "
                    "(too little data)"] == 1
    assert placed_line(layer.iloc[:2], 2) == "2 of 2 records placed in a segment"


def test_the_sample_postcodes_serve_as_the_demo_gazetteer(gpkg, capsys, tmp_path):
    assert run("gazetteer", gpkg, SAMPLE_DIR / "postcodes.csv", "--id", "Postcode", "--x",
               "Eastings", "--y", "Northings") == 0
    layer = gpd.read_file(gpkg, layer="addresses")
    assert len(layer) == 8354 and layer["segment"].between(1, 10).all()
    assert "Warning" not in capsys.readouterr().err
    # a file cut short replaces it, and the user is told how far the gazetteer shrank
    cut = pd.read_csv(SAMPLE_DIR / "postcodes.csv", dtype=str).head(300)
    cut.to_csv(tmp_path / "cut.csv", index=False)
    assert run("gazetteer", gpkg, tmp_path / "cut.csv", "--id", "Postcode", "--x",
               "Eastings", "--y", "Northings") == 0
    kept = len(gpd.read_file(gpkg, layer="addresses"))
    assert kept <= 300
    assert (f"Warning: The gazetteer now holds {kept:,} addresses; the one it replaced held "
            f"8,354 ({100 * kept // 8354}% as many)") in capsys.readouterr().err


def suppressed_cells_are_determined(published: pd.DataFrame) -> list:
    """Independent check: for each hidden cell, the least and greatest value it can take
    given every published figure, the row and column sums and non-negativity."""
    values = published.to_numpy(dtype=float)
    hidden = np.argwhere(np.isnan(values))
    index = {tuple(p): i for i, p in enumerate(hidden)}
    rows, cols = values.shape
    a_eq, b_eq = [], []
    lines = [([(r, c) for c in range(cols - 1)], (r, cols - 1)) for r in range(rows)]
    lines += [([(r, c) for r in range(rows - 1)], (rows - 1, c)) for c in range(cols)]
    for cells, total in lines:
        row, rhs = np.zeros(len(hidden)), 0.0
        for cell in cells:
            if cell in index:
                row[index[cell]] += 1
            else:
                rhs -= values[cell]
        if total in index:
            row[index[total]] -= 1
        else:
            rhs += values[total]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    determined = []
    for i, cell in enumerate(hidden):
        c = np.zeros(len(hidden))
        c[i] = 1
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)).fun
        high = -linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)).fun
        if high - low < 1e-6:
            determined.append(tuple(cell))
    return determined


def test_suppression_leaves_no_cell_recoverable_from_the_margins(gpkg, tmp_path, capsys):
    run("incidents", gpkg, FIRES, "--name", "fires", *FIRE_XY, "--out", tmp_path / "i")
    run("matrices", gpkg, "--wards", WARDS, "--ward-code", "WD22CD")
    for name in ("areas", "fires_incidents", "households"):
        matrix = read_gpkg_table(gpkg, f"matrix_{name}").set_index("ward")
        published = suppress(matrix, threshold=5)
        original = matrix.to_numpy(dtype=float)
        shown = published.to_numpy()
        assert np.isnan(shown[(original >= 1) & (original <= 5)]).all()  # primary
        assert (shown[original == 0] == 0).all()  # zeros stay zeros
        assert published.loc[TOTAL, TOTAL] == matrix.loc[TOTAL, TOTAL]
        assert suppressed_cells_are_determined(published) == [], name


def test_suppression_example():
    matrix = pd.DataFrame([[10, 3, 20], [0, 12, 8], [7, 9, 2]], index=["a", "b", "c"],
                          columns=[1, 2, 3])
    matrix[TOTAL] = matrix.sum(axis=1)
    matrix.loc[TOTAL] = matrix.sum()
    published = suppress(matrix, threshold=5)
    # primary: 3 and 2; secondary: the smallest pair that closes the rectangle a/c x 2/3
    hidden = {(r, c) for r in published.index for c in published.columns
              if np.isnan(published.loc[r, c])}
    assert hidden == {("a", 2), ("a", 3), ("c", 2), ("c", 3)}
    assert suppressed_cells_are_determined(published) == []


def test_partner_export_xlsx_notes_and_no_personal_data(gpkg, tmp_path, capsys):
    fires = pd.read_csv(FIRES).head(400)
    rng = np.random.default_rng(3)
    names = [f"Forename{i} Surname{i}" for i in range(len(fires))]
    dobs = [f"19{rng.integers(30, 99)}-0{rng.integers(1, 9)}-1{rng.integers(0, 9)}"
            for _ in range(len(fires))]
    uprns = [str(100023000000 + i) for i in range(len(fires))]
    fires.insert(0, "UPRN", uprns)
    fires.insert(1, "victim_name", names)
    fires.insert(2, "date_of_birth", dobs)
    fires.to_csv(tmp_path / "personal.csv", index=False)
    assert run("incidents", gpkg, tmp_path / "personal.csv", "--name", "fires", "--id", "UPRN",
               *FIRE_XY, "--out", tmp_path / "incidents") == 0
    assert run("matrices", gpkg, "--wards", WARDS, "--ward-code", "WD22CD", "--ward-name",
               "WD22NM") == 0
    assert run("export", gpkg, "--out", tmp_path / "partners", "--threshold", "5") == 0

    book = openpyxl.load_workbook(tmp_path / "partners" / "partner_matrices.xlsx")
    assert book.sheetnames[0] == "Notes"
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(min_row=3, values_only=True)}
    assert "Counts from 1 to 5 are suppressed" in notes["Suppression rule"]
    assert "Produced" in notes and "Area data" in notes and "Method" in notes
    assert notes["Incidents: Fires"].startswith("From personal.csv, ")
    assert {"Output areas", "Fires", "Households", "Residents"} <= set(book.sheetnames)
    # the output areas' counts are in full, small ones too, and the notes and the sheet say so
    assert notes["Suppression threshold"] == ("Counts from 1 to 5 are suppressed, except the "
                                              "counts of output areas.")
    assert "shown in full" in notes["Output areas"]
    areas = book["Output areas"]
    assert areas["A2"].value.startswith("Counts, in full: ") and "*" not in areas["A2"].value
    assert any(v in (1, 2, 3) for row in areas.iter_rows(min_row=4, values_only=True)
               for v in row[2:])
    assert book["Fires"]["A2"].value.startswith("Counts. * = suppressed")
    period = notes["Incidents: Fires"].split(", ")[1]  # "From personal.csv, <period>, ..."
    assert " – " in period and book["Fires"]["A1"].value == (
        f"Fires, {period}, by ward and segment")

    exported = [p for folder in ("partners", "incidents") for p in (tmp_path / folder).iterdir()]
    texts = []
    for path in exported:
        if path.suffix == ".xlsx":
            workbook = openpyxl.load_workbook(path)
            texts.append(" ".join(str(v) for ws in workbook for row in ws.iter_rows(
                values_only=True) for v in row))
        elif path.suffix in {".csv", ".txt"}:
            texts.append(path.read_text())
    blob = "\n".join(texts)
    for secret in [*names[:50], *dobs[:50], *uprns]:
        assert secret not in blob
    records = pd.read_csv(tmp_path / "incidents" / "incident_records_fires.csv", dtype=str)
    assert set(records.columns) == {"source", "row", "record_id", "area_code", "status",
                                    "method", "detail", "in_filter", "date_unreadable"}
    assert records["record_id"].str.fullmatch(r"[0-9a-f]{16}").all()


def test_sheet_names_read_as_words():
    from community_safety.core.share.export import _sheet_names

    # Excel forbids ':' and '/': they become spaces, never two in a row
    assert _sheet_names(["Twos: n", "A/B: row", "Twos: n"]) == ["Twos n", "A B row",
                                                                  "Twos n 2"]


def test_pseudonyms_are_keyed():
    ids = pd.Series(["100023000001", "100023000002", ""])
    one, two = pseudonymise(ids, b"key one"), pseudonymise(ids, b"key two")
    assert one.iloc[0] != two.iloc[0] and one.iloc[0] == pseudonymise(ids, b"key one").iloc[0]
    assert one.iloc[2] == ""


@pytest.mark.parametrize("content, args, message", [
    ("id,x,y\n1,51.5,-0.13\n", ["--x", "x", "--y", "y"],
     "look like longitude/latitude in degrees, but the CRS (OSGB36 / British National Grid)"),
    ("id,place\n1,somewhere\n", [], "no usable location column"),
    ("", ["--x", "x", "--y", "y"], "the file is empty"),
    ("id,x\n1,2\n", ["--x", "x", "--y", "y"], "no column 'y'"),
])
def test_bad_incident_files(gpkg, tmp_path, capsys, content, args, message):
    (tmp_path / "bad.csv").write_text(content)
    before = gpkg.read_bytes()
    out = tmp_path / "out"
    assert run("incidents", gpkg, tmp_path / "bad.csv", "--name", "bad", *args,
               "--out", out) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert gpkg.read_bytes() == before and not out.exists()


def test_missing_and_non_numeric_coordinates_are_unmatched_with_a_reason(gpkg, tmp_path,
                                                                          capsys):
    pd.DataFrame({"x": ["529000", "", "abc", "529100"],
                  "y": ["184000", "", "184000", "n/a"]}).to_csv(tmp_path / "c.csv",
                                                                index=False)
    assert run("incidents", gpkg, tmp_path / "c.csv", "--name", "c", "--x", "x", "--y", "y",
               "--out", tmp_path / "o") == 0
    records = pd.read_csv(tmp_path / "o" / "incident_records_c.csv", keep_default_na=False)
    assert records["status"].tolist() == ["matched", "unmatched", "unmatched", "unmatched"]
    assert records["detail"].tolist()[1:] == ["no location", "coordinates are not numbers",
                                              "incomplete coordinates"]


def test_incidents_located_by_uprn_through_the_gazetteer(gpkg, tmp_path, capsys):
    assert run("incidents", gpkg, FIRES, "--name", "x", "--uprn", "id", "--out",
               tmp_path / "o") == 2
    assert "run `community-safety gazetteer` first" in capsys.readouterr().err
    postcodes = pd.read_csv(SAMPLE_DIR / "postcodes.csv").head(50)
    postcodes.assign(UPRN=[str(10_000 + i) for i in range(50)]).to_csv(tmp_path / "g.csv",
                                                                        index=False)
    assert run("gazetteer", gpkg, tmp_path / "g.csv", "--id", "UPRN", "--x", "Eastings", "--y",
               "Northings") == 0
    pd.DataFrame({"uprn": ["10003", "10049", "99999", ""]}).to_csv(tmp_path / "i.csv",
                                                                   index=False)
    assert run("incidents", gpkg, tmp_path / "i.csv", "--name", "by_uprn", "--uprn", "uprn",
               "--out", tmp_path / "o") == 0
    records = pd.read_csv(tmp_path / "o" / "incident_records_by_uprn.csv", keep_default_na=False)
    assert records["method"].tolist()[:2] == ["by UPRN", "by UPRN"]
    assert records["detail"].tolist()[2:] == ["UPRN not in the gazetteer", "no location"]
    addresses = gpd.read_file(gpkg, layer="addresses").set_index("record_id")
    assert records["area_code"].tolist()[:2] == addresses.loc[["10003", "10049"],
                                                              "area_code"].tolist()


def test_an_unknown_id_column_is_named(gpkg, tmp_path, capsys):
    assert run("incidents", gpkg, FIRES, "--name", "f", "--id", "incident_no", *FIRE_XY,
               "--out", tmp_path / "o") == 2
    assert "lfb_dwelling_fires.csv: no ID column 'incident_no'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
