"""The Camden sample dataset the project ships: complete, consistent and attributed."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

CENSUS_TABLES = ["census_demography", "census_housing", "census_health_care", "census_work"]


@pytest.fixture(scope="module")
def output_areas():
    return gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg", layer="output_areas")


@pytest.fixture(scope="module")
def variables():
    return pd.read_csv(SAMPLE_DIR / "variables.csv")


def test_749_valid_output_areas_in_british_national_grid(output_areas):
    assert len(output_areas) == 749
    assert output_areas.crs.to_epsg() == 27700
    assert output_areas.geometry.is_valid.all()
    assert not output_areas.geometry.is_empty.any()
    assert output_areas["OA11CD"].is_unique
    assert output_areas["OA11CD"].str.fullmatch(r"E00\d{6}").all()
    # Camden lies in north-west inner London: eastings ~523-531 km, northings ~181-187 km
    minx, miny, maxx, maxy = output_areas.total_bounds
    assert 520_000 < minx < maxx < 535_000 and 178_000 < miny < maxy < 190_000


def test_wards_are_valid_and_cover_the_output_areas(output_areas):
    wards = gpd.read_file(SAMPLE_DIR / "wards_2022.gpkg", layer="wards")
    assert len(wards) == 20 and wards["WD22CD"].is_unique
    assert wards.crs.to_epsg() == 27700
    assert wards.geometry.is_valid.all()
    uncovered = output_areas.representative_point().within(wards.union_all()).sum()
    assert uncovered == 749


@pytest.mark.parametrize("table", CENSUS_TABLES)
def test_every_output_area_in_every_table_once(output_areas, table):
    frame = pd.read_csv(SAMPLE_DIR / f"{table}.csv")
    assert frame["OA11CD"].is_unique
    assert set(frame["OA11CD"]) == set(output_areas["OA11CD"])


def test_lookup_and_deprivation_cover_every_output_area(output_areas):
    lookup = pd.read_csv(SAMPLE_DIR / "oa_lsoa_lookup.csv")
    imd = pd.read_csv(SAMPLE_DIR / "imd2019_lsoa.csv")
    assert lookup["oa_cd"].is_unique and set(lookup["oa_cd"]) == set(output_areas["OA11CD"])
    assert imd["LSOA11CD"].is_unique and set(imd["LSOA11CD"]) == set(lookup["lsoa_cd"])
    assert imd["IMD19"].between(1, 32_844).all()
    assert (output_areas["LSOA11CD"] == output_areas["OA11CD"].map(
        lookup.set_index("oa_cd")["lsoa_cd"])).all()


def test_variables_are_documented_percentages_with_denominators(variables):
    assert 25 <= len(variables) <= 40
    assert variables["variable"].is_unique
    for table, described in variables.groupby("table"):
        frame = pd.read_csv(SAMPLE_DIR / table)
        for row in described.itertuples():
            assert row.variable in frame.columns, f"{row.variable} missing from {table}"
            assert row.denominator in frame.columns, f"{row.denominator} missing from {table}"
            assert (frame[row.denominator] > 0).all()
            assert frame[row.variable].between(0, 100).all(), row.variable
            assert frame[row.variable].nunique() > 10, f"{row.variable} is nearly constant"


def test_the_method_risk_themes_are_present(variables):
    themes = {
        "disability": "pct_limited_a_lot",
        "lone parents": "pct_lone_parent_households",
        "converted flats": "pct_converted_flats",
        "shared dwellings": "pct_shared_dwellings",
        "65+": "pct_age_65_plus",
        "80+": "pct_age_80_plus",
        "social grade": "pct_social_grade_de",
        "pensioners alone": "pct_pensioners_living_alone",
        "bad health": "pct_bad_health",
        "unpaid care": "pct_unpaid_care",
        "social renting": "pct_social_rented",
        "private renting": "pct_private_rented",
        "overcrowding": "pct_overcrowded_rooms",
        "no central heating": "pct_no_central_heating",
        "unemployment": "pct_unemployed",
        "students": "pct_full_time_students",
        "no car": "pct_no_car",
    }
    assert set(themes.values()) <= set(variables["variable"])


def test_incident_and_postcode_points_have_coordinates():
    fires = pd.read_csv(SAMPLE_DIR / "lfb_dwelling_fires.csv")
    crimes = pd.read_csv(SAMPLE_DIR / "street_crime_2019_07.csv")
    postcodes = pd.read_csv(SAMPLE_DIR / "postcodes.csv")
    assert len(fires) == 2936 and fires[["easting_rounded", "northing_rounded"]].notna().all().all()
    assert len(crimes) == 4075 and {"Category", "Easting", "Northing"} <= set(crimes.columns)
    assert len(postcodes) == 8354 and postcodes["Postcode"].is_unique


def test_attribution_ships_with_the_data():
    text = (SAMPLE_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for line in (
        "Contains National Statistics data © Crown copyright",
        "Contains Ordnance Survey data © Crown copyright",
        "Contains Royal Mail data © Royal Mail copyright",
        "Contains London Fire Brigade data",
        "data.police.uk",
        "Open Government Licence v3.0",
    ):
        assert line in text
    data_files = [p for p in SAMPLE_DIR.iterdir() if p.suffix in {".csv", ".gpkg"}]
    assert len(data_files) == 12
    for path in data_files:
        assert f"`{path.name}`" in text, f"{path.name} is not listed in ATTRIBUTION.md"


def test_sample_data_is_under_10_mb():
    assert sum(p.stat().st_size for p in SAMPLE_DIR.iterdir()) < 10 * 1024 * 1024
