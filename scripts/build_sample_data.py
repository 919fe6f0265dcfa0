"""Build the Camden sample dataset shipped in resources/sample_data/camden/.

    python scripts/build_sample_data.py --source ../shared/data/camden \
        --out resources/sample_data/camden                    (or: make sample-data)

Reads the open data pack (see its SOURCES.md) and writes:

- output_areas_2011.gpkg  the 749 Camden 2011 output areas (OA11CD, LSOA11CD), EPSG:27700
- wards_2022.gpkg         the 20 May-2022 electoral wards (WD22CD, WD22NM), EPSG:27700,
                          geometries repaired with shapely's make_valid where invalid
- oa_lsoa_lookup.csv      OA -> LSOA -> MSOA -> local authority
- imd2019_lsoa.csv        IMD 2019 overall rank by LSOA (1 = most deprived in England)
- census_demography.csv, census_housing.csv, census_health_care.csv, census_work.csv
                          derived area variables (percentages rounded to 4 decimal places)
                          with the denominators they were computed from, keyed
                          on OA11CD, in the shape of partner tables
- variables.csv           every derived variable: table, description, theme (for segment
                          names and pen portraits), unit, denominator, census cells
- lfb_dwelling_fires.csv  London Fire Brigade dwelling fires 2009-2024 (as published)
- street_crime_2019_07.csv street crime and ASB, July 2019 (columns needed for mapping)
- postcodes.csv           Code-Point Open postcode points (the demo gazetteer)
- ATTRIBUTION.md          sources, licences and the attribution lines to keep

The script is deterministic: the same pack gives the same tables. It is a build step for
developers; the plugin and engine only ever read the files it writes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.validation import make_valid

BNG = "EPSG:27700"
OA_CODE = "OA11CD"


@dataclass(frozen=True)
class Variable:
    name: str
    table: str
    description: str
    numerator: tuple[str, ...]  # census cells summed for the numerator
    denominator: str  # denominator column written beside the variable
    unit: str = "percent"
    theme: str = ""  # for names and pen portraits: see THEMES


# Denominators: column written to the table -> census cell holding it.
DENOMINATORS = {
    "usual_residents": "KS102EW0001",
    "households": "KS105EW0001",
    "dwellings": "KS401EW0001",
    "household_spaces": "KS401EW0005",
    "residents_16_74": "KS601EW0001",
    "residents_16_plus": "KS501EW0001",
    "household_reference_persons_16_64": "QS611EW0001",
}

TABLE_DENOMINATORS = {
    "census_demography": ("usual_residents", "households"),
    "census_housing": ("households", "dwellings", "household_spaces"),
    "census_health_care": ("usual_residents", "households"),
    "census_work": ("residents_16_74", "residents_16_plus", "household_reference_persons_16_64"),
}


def _cells(prefix: str, first: int, last: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i:04d}" for i in range(first, last + 1))


# The themes that organise segment names and pen portraits ("[age/household] [housing]
# [need]"), as core/segment/vocabulary.py names them; each variable's is written to variables.csv.
AGE_HOUSEHOLD, HOUSING = "age and household", "housing and tenure"
WORK, HEALTH = "work, income and benefits", "health and care"
THEMES = {
    AGE_HOUSEHOLD: ("pct_age_0_15", "pct_age_16_24", "pct_age_25_44", "pct_age_45_64",
                    "pct_age_65_plus", "pct_age_80_plus", "pct_lone_parent_households",
                    "pct_households_dependent_children", "pct_pensioners_living_alone",
                    "pct_one_person_under_65", "pct_student_households",
                    "pct_full_time_students", "pct_retired"),
    HOUSING: ("pct_social_rented", "pct_private_rented", "pct_owner_occupied",
              "pct_converted_flats", "pct_purpose_built_flats", "pct_shared_dwellings",
              "pct_overcrowded_rooms", "pct_overcrowded_bedrooms", "pct_no_central_heating"),
    WORK: ("pct_no_car", "pct_unemployed", "pct_long_term_unemployed", "pct_long_term_sick",
           "pct_no_qualifications", "pct_social_grade_ab", "pct_social_grade_c2",
           "pct_social_grade_de"),
    HEALTH: ("pct_limited_a_lot", "pct_limited_a_little", "pct_bad_health", "pct_unpaid_care",
             "pct_unpaid_care_50h", "pct_households_with_disabled_person"),
}
THEME_OF = {name: theme for theme, names in THEMES.items() for name in names}

VARIABLES = (
    # demography
    Variable("pct_age_0_15", "census_demography", "Residents aged 0 to 15",
             _cells("KS102EW", 2, 6), "usual_residents"),
    Variable("pct_age_16_24", "census_demography", "Residents aged 16 to 24",
             _cells("KS102EW", 7, 9), "usual_residents"),
    Variable("pct_age_25_44", "census_demography", "Residents aged 25 to 44",
             _cells("KS102EW", 10, 11), "usual_residents"),
    Variable("pct_age_45_64", "census_demography", "Residents aged 45 to 64",
             _cells("KS102EW", 12, 13), "usual_residents"),
    Variable("pct_age_65_plus", "census_demography", "Residents aged 65 and over",
             _cells("KS102EW", 14, 17), "usual_residents"),
    Variable("pct_age_80_plus", "census_demography", "Residents aged 80 and over",
             _cells("QS103EW", 82, 102), "usual_residents"),
    Variable("pct_lone_parent_households", "census_demography",
             "Lone parent households with dependent children", ("KS105EW0011",), "households"),
    Variable("pct_households_dependent_children", "census_demography",
             "Households with dependent children", ("KS106EW0004",), "households"),
    Variable("pct_pensioners_living_alone", "census_demography",
             "One person households: aged 65 and over", ("KS105EW0002",), "households"),
    Variable("pct_one_person_under_65", "census_demography",
             "One person households: under 65", ("KS105EW0003",), "households"),
    Variable("pct_student_households", "census_demography",
             "Households of full-time students only", ("KS105EW0014",), "households"),
    # housing
    Variable("pct_social_rented", "census_housing", "Households renting socially",
             ("KS402EW0005", "KS402EW0006"), "households"),
    Variable("pct_private_rented", "census_housing", "Households renting privately",
             ("KS402EW0007", "KS402EW0008"), "households"),
    Variable("pct_owner_occupied", "census_housing", "Households owning their home",
             ("KS402EW0002", "KS402EW0003"), "households"),
    Variable("pct_converted_flats", "census_housing",
             "Household spaces in a converted or shared house (including bed-sits)",
             ("KS401EW0012",), "household_spaces"),
    Variable("pct_purpose_built_flats", "census_housing",
             "Household spaces in a purpose-built block of flats", ("KS401EW0011",),
             "household_spaces"),
    Variable("pct_shared_dwellings", "census_housing",
             "Dwellings shared by two or more household spaces",
             ("KS401EW0003", "KS401EW0004"), "dwellings"),
    Variable("pct_overcrowded_rooms", "census_housing",
             "Households with an occupancy rating (rooms) of -1 or less", ("KS403EW0004",),
             "households"),
    Variable("pct_overcrowded_bedrooms", "census_housing",
             "Households with an occupancy rating (bedrooms) of -1 or less", ("KS403EW0005",),
             "households"),
    Variable("pct_no_central_heating", "census_housing", "Households without central heating",
             ("KS403EW0002",), "households"),
    Variable("pct_no_car", "census_housing", "Households with no car or van",
             ("KS404EW0002",), "households"),
    # health and care
    Variable("pct_limited_a_lot", "census_health_care",
             "Residents whose day-to-day activities are limited a lot (disability / LLTI)",
             ("KS301EW0002",), "usual_residents"),
    Variable("pct_limited_a_little", "census_health_care",
             "Residents whose day-to-day activities are limited a little", ("KS301EW0003",),
             "usual_residents"),
    Variable("pct_bad_health", "census_health_care", "Residents in bad or very bad health",
             ("KS301EW0011", "KS301EW0012"), "usual_residents"),
    Variable("pct_unpaid_care", "census_health_care", "Residents providing any unpaid care",
             _cells("KS301EW", 14, 16), "usual_residents"),
    Variable("pct_unpaid_care_50h", "census_health_care",
             "Residents providing 50 or more hours of unpaid care a week", ("KS301EW0016",),
             "usual_residents"),
    Variable("pct_households_with_disabled_person", "census_health_care",
             "Households with one person with a long-term health problem or disability",
             ("KS106EW0006", "KS106EW0007"), "households"),
    # work, education, social grade
    Variable("pct_unemployed", "census_work", "Residents aged 16-74 unemployed",
             ("KS601EW0005",), "residents_16_74"),
    Variable("pct_long_term_unemployed", "census_work", "Residents aged 16-74 long-term unemployed",
             ("KS601EW0015",), "residents_16_74"),
    Variable("pct_long_term_sick", "census_work",
             "Residents aged 16-74 economically inactive: long-term sick or disabled",
             ("KS601EW0010",), "residents_16_74"),
    Variable("pct_full_time_students", "census_work", "Residents aged 16-74 in full-time study",
             ("KS601EW0006", "KS601EW0008"), "residents_16_74"),
    Variable("pct_retired", "census_work", "Residents aged 16-74 retired", ("KS601EW0007",),
             "residents_16_74"),
    Variable("pct_no_qualifications", "census_work", "Residents aged 16+ with no qualifications",
             ("KS501EW0002",), "residents_16_plus"),
    Variable("pct_social_grade_ab", "census_work", "Household reference persons aged 16-64: approximated social grade AB",
             ("QS611EW0002",), "household_reference_persons_16_64"),
    Variable("pct_social_grade_c2", "census_work", "Household reference persons aged 16-64: approximated social grade C2",
             ("QS611EW0004",), "household_reference_persons_16_64"),
    Variable("pct_social_grade_de", "census_work", "Household reference persons aged 16-64: approximated social grade DE",
             ("QS611EW0005",), "household_reference_persons_16_64"),
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_census_cells(census_dir: Path, cells: set[str]) -> pd.DataFrame:
    """The named census cells as one frame indexed by OA code."""
    by_table: dict[str, list[str]] = {}
    for cell in sorted(cells):
        by_table.setdefault(cell[:7], []).append(cell)
    frames = []
    for table, columns in by_table.items():
        frame = pd.read_csv(census_dir / f"{table}_oa11.csv", usecols=["GeographyCode", *columns])
        frames.append(frame.set_index("GeographyCode"))
    return pd.concat(frames, axis=1, join="outer")


def derive_tables(census: pd.DataFrame) -> dict[str, pd.DataFrame]:
    tables = {}
    for table, denominators in TABLE_DENOMINATORS.items():
        out = pd.DataFrame(index=census.index)
        for name in denominators:
            out[name] = census[DENOMINATORS[name]].astype("int64")
        for var in (v for v in VARIABLES if v.table == table):
            numerator = census[list(var.numerator)].sum(axis=1)
            denominator = out[var.denominator]
            out[var.name] = (100.0 * numerator / denominator.where(denominator > 0)).round(4)
        out.index.name = OA_CODE
        tables[table] = out.sort_index().reset_index()
    return tables


def variables_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variable": v.name,
            "table": f"{v.table}.csv",
            "description": v.description,
            "theme": v.theme or THEME_OF[v.name],
            "unit": v.unit,
            "denominator": v.denominator,
            "denominator_census_cell": DENOMINATORS[v.denominator],
            "numerator_census_cells": " + ".join(v.numerator),
        }
        for v in VARIABLES
    )


def build_boundaries(source: Path, out: Path, lookup: pd.DataFrame) -> None:
    oa = gpd.read_file(source / "boundaries" / "Camden_oa11.shp")
    # The shapefile's .prj is an ESRI rendering of British National Grid; name it exactly.
    oa = oa.set_crs(BNG, allow_override=True)
    oa = oa.merge(lookup[["oa_cd", "lsoa_cd"]], left_on=OA_CODE, right_on="oa_cd", how="left")
    oa = oa.rename(columns={"lsoa_cd": "LSOA11CD"})[[OA_CODE, "LSOA11CD", "geometry"]]
    oa = oa.sort_values(OA_CODE).reset_index(drop=True)
    oa.to_file(out / "output_areas_2011.gpkg", layer="output_areas", driver="GPKG",
               VERSION="1.2")

    wards = gpd.read_file(source / "boundaries" / "camden_wards_2022.gpkg", layer="wards_2022")
    wards = wards.to_crs(BNG)
    invalid = ~wards.geometry.is_valid
    wards.loc[invalid, "geometry"] = wards.loc[invalid, "geometry"].apply(make_valid)
    wards = wards[["WD22CD", "WD22NM", "LAD22CD", "LAD22NM", "geometry"]]
    wards = wards.sort_values("WD22CD").reset_index(drop=True)
    wards.to_file(out / "wards_2022.gpkg", layer="wards", driver="GPKG", VERSION="1.2")
    print(f"wards: {int(invalid.sum())} invalid geometries repaired with make_valid")


def build_points(source: Path, out: Path) -> None:
    fires = pd.read_csv(source / "lfb_dwelling_fires_camden_2009_2024.csv")
    fires.to_csv(out / "lfb_dwelling_fires.csv", index=False)

    crime = pd.read_csv(source / "police_street_crime_camden_2019_07.csv")
    keep = ["ID", "Category", "Street ID", "Street Name", "Outcome Category", "Location Subtype",
            "Ward Code", "Ward Name", "Easting", "Northing", "Longitude", "Latitude"]
    crime = crime[keep].copy()
    crime.insert(1, "Month", "2019-07")
    crime.to_csv(out / "street_crime_2019_07.csv", index=False)

    postcodes = pd.read_csv(source / "codepoint_open_2014_camden_postcodes.csv")
    keep = ["Postcode", "Positional_quality_indicator", "Eastings", "Northings",
            "Admin_district_code", "Admin_ward_code"]
    postcodes[keep].to_csv(out / "postcodes.csv", index=False)


def attribution(source: Path, outputs: list[Path]) -> str:
    text = (source / "SOURCES.md").read_text(encoding="utf-8")
    attribution_lines = text[text.index("Attribution to keep with any copy:"):].strip()
    rows = "\n".join(f"| `{p.name}` | `{sha256(p)}` |" for p in sorted(outputs))
    return f"""# Camden sample dataset: sources and attribution

Real, openly licensed data for the London Borough of Camden (E09000007), cut down and derived
by `scripts/build_sample_data.py` from an open data pack. All layers are in British National
Grid (EPSG:27700).

| file | derived from | publisher and licence |
|---|---|---|
| `output_areas_2011.gpkg` | 2011 Census Output Area boundaries (749), with the LSOA from the lookup | ONS / CDRC 2011 Census Geodata Pack, OGL v3 |
| `wards_2022.gpkg` | electoral wards, May 2022 boundaries (20); invalid rings repaired | ONS Open Geography Portal, OGL v3 |
| `oa_lsoa_lookup.csv` | OA -> LSOA -> MSOA -> local authority lookup | ONS, OGL v3 |
| `imd2019_lsoa.csv` | English Indices of Deprivation 2019, overall IMD rank (1 = most deprived of 32,844) | MHCLG, OGL v3 |
| `census_*.csv`, `variables.csv` | 2011 Census Key and Quick Statistics at OA level: percentages derived from counts; see `variables.csv` for the cells | ONS via CDRC, OGL v3 |
| `lfb_dwelling_fires.csv` | London Fire Brigade dwelling fires Jan 2009 - Aug 2024, locations rounded to 50 m | London Fire Brigade, OGL v3 |
| `street_crime_2019_07.csv` | street-level crime and ASB, July 2019, locations anonymised to snap points | data.police.uk (Metropolitan Police), OGL v3 |
| `postcodes.csv` | Code-Point Open postcode unit points (Aug 2014) in Camden: the demo gazetteer | Ordnance Survey Code-Point Open, OS OpenData licence |

Known quirks kept on purpose: ward vintages differ (fires 2022 codes, crimes and postcodes 2014
codes: join points to polygons spatially); fire points are rounded to 50 m so a few fall just
outside the borough; the IMD file holds ranks, not scores (a lower rank is more deprived);
postcode points are postcode centroids, not individual addresses.

Gap in `street_crime_2019_07.csv`: it holds the records of Haringey's Highgate ward (E05000272,
78 records) and Westminster's Regent's Park ward (00BK15N, 154 records), the neighbouring
wards of the same names, but none for Camden's own Highgate (E05000137) and Regent's Park
(E05000142) wards, so both show 0 anti-social behaviour (the source pack has no other July
2019 file to rebuild it from). The demo says so wherever this file is the source (the
`--note` of `community-safety incidents`).

{attribution_lines}

## Checksums (SHA-256) of the files as built

| file | sha256 |
|---|---|
{rows}
"""


def build(source: Path, out: Path) -> list[Path]:
    if not (source / "SOURCES.md").exists():
        raise SystemExit(f"{source}: not the Camden open data pack (no SOURCES.md)")
    out.mkdir(parents=True, exist_ok=True)

    lookup = pd.read_csv(source / "oa11_lsoa11_msoa11_lookup_camden.csv")
    lookup.sort_values("oa_cd").to_csv(out / "oa_lsoa_lookup.csv", index=False)
    imd = pd.read_csv(source / "imd2019_rank_lsoa11_camden.csv")
    imd.sort_values("LSOA11CD").to_csv(out / "imd2019_lsoa.csv", index=False)

    build_boundaries(source, out, lookup)

    cells = {c for v in VARIABLES for c in v.numerator} | set(DENOMINATORS.values())
    census = read_census_cells(source / "census2011_oa", cells)
    for name, table in derive_tables(census).items():
        table.to_csv(out / f"{name}.csv", index=False)
    variables_table().to_csv(out / "variables.csv", index=False)

    build_points(source, out)

    outputs = sorted(p for p in out.iterdir() if p.suffix in {".csv", ".gpkg"})
    (out / "ATTRIBUTION.md").write_text(attribution(source, outputs), encoding="utf-8")
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Camden sample dataset.")
    parser.add_argument("--source", type=Path, required=True, help="the Camden open data pack")
    parser.add_argument("--out", type=Path, required=True, help="resources/sample_data/camden")
    args = parser.parse_args(argv)
    outputs = build(args.source, args.out)
    total = sum(p.stat().st_size for p in outputs)
    print(f"wrote {len(outputs)} files, {total / 1e6:.1f} MB, to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
