"""Bad input in Processing: a QgsProcessingException carrying the engine's one line (no
traceback inside the message), and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_parameters
from test_processing import processing_error


def one_line(message: str) -> str:
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1, message
    return message


@pytest.mark.parametrize("change, expected", [
    ({"THRESHOLD": 0.0}, "[screening] threshold = 0 must lie above 0"),
    ({"K": 800}, "k = 800 is larger than the number of areas (749)"),
    ({"VARIABLES": ["LSOA11CD"]}, "column 'LSOA11CD': 'E01000842' is not a number"),
])
def test_build_segmentation(provider, layers, tmp_path, change, expected):
    output = tmp_path / "bad.gpkg"
    message = one_line(processing_error("community_safety:buildsegmentation",
                                        build_parameters(layers, output, **change)))
    assert expected in message
    assert not output.exists()


def test_an_output_inside_a_file_is_one_line(provider, layers, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    message = one_line(processing_error("community_safety:buildsegmentation",
                                        build_parameters(layers, blocker / "seg.gpkg")))
    assert "not_a_folder" in message
    assert blocker.read_text() == "a file where a folder should be"


def fires(layers, built, tmp_path, **change):
    return {"SEGMENTATION": built["OUTPUT"], "INCIDENTS": layers["fires"], "NAME": "fires",
            "DATE": "date", "OUTPUT_FOLDER": str(tmp_path / "incidents"), **change}


@pytest.mark.parametrize("change, expected", [
    ({"DATE_FROM": "2023-02-30"}, "the start date '2023-02-30' is not a date (YYYY-MM-DD)"),
    ({"DATE_FROM": "2024-01-01", "DATE_TO": "2020-01-01"},
     "the start date 2024-01-01 is after the end date 2020-01-01"),
    ({"DATE_FROM": "2030-01-01"}, "no record is both in the study area and within the"),
    ({"CATEGORY": "property_type", "CATEGORIES": "Castle"},
     "no record has the category 'castle' in column 'property_type'"),
])
def test_profile_incidents(provider, layers, built, tmp_path, change, expected):
    before = Path(built["OUTPUT"]).read_bytes()
    message = one_line(processing_error("community_safety:profileincidents",
                                        fires(layers, built, tmp_path, **change)))
    assert expected in message
    assert Path(built["OUTPUT"]).read_bytes() == before
    assert not (tmp_path / "incidents").exists()


# --- every algorithm: a table of mistakes each ------------------------------------------------
# Each case: the algorithm ends with a QgsProcessingException carrying one line that names the
# thing, no traceback; the segmentation GeoPackage it read and the files given are unchanged,
# and no output is written. Layers and files named "@name" are made by ``bad`` below. Rows
# marked xfail(strict=True) do not fail cleanly today; the reason says what happens instead.

import shutil  # noqa: E402

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402
from conftest import SAMPLE_DIR  # noqa: E402

from community_safety.core.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def bad(built, layers, tmp_path_factory):
    """Bad layers and files, and a copy of the built segmentation with its gazetteer and
    ward matrices added (``@full``)."""
    folder = tmp_path_factory.mktemp("bad")
    areas = gpd.read_file(layers["areas"].source().split("|")[0])
    twice = areas.copy()
    twice.loc[1, "OA11CD"] = twice.loc[0, "OA11CD"]
    twice.to_file(folder / "duplicate_codes.gpkg")
    constant = areas.copy()
    constant["pct_constant"] = 7.0
    constant.to_file(folder / "constant.gpkg")
    areas.set_crs(4326, allow_override=True).to_file(folder / "metres_as_degrees.gpkg")
    areas.head(5).to_file(folder / "five_areas.gpkg")
    areas.drop(columns=["pct_no_car"]).to_file(folder / "without_no_car.gpkg")
    unknown = areas.copy()
    unknown["OA11CD"] = [f"E0099{i:04d}" for i in range(len(unknown))]
    unknown.to_file(folder / "unknown_codes.gpkg")

    def points(name, frame, crs=27700):
        gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame.x, frame.y),
                         crs=crs).to_file(folder / f"{name}.gpkg")

    points("degrees_as_metres", pd.DataFrame({"id": ["a", "b"], "x": [-0.14, -0.13],
                                              "y": [51.55, 51.54]}))
    points("far_away", pd.DataFrame({"id": ["a", "b"], "x": [400000, 400100],
                                     "y": [300000, 300100], "date": ["2020-01-01"] * 2}))
    points("unknown_areas", pd.DataFrame({"id": ["a", "b"], "x": [529000, 529100],
                                          "y": [184000, 184100], "oa": ["E00999999"] * 2}))
    points("empty_points", pd.DataFrame({"id": ["a"], "x": [529000], "y": [184000],
                                         "date": ["2020-01-01"]}).iloc[:0])
    points("counts", pd.DataFrame({"id": ["a", "b"], "x": [529000, 529100],
                                   "y": [184000, 184100], "injuries": [1, -2]}))
    wards = gpd.read_file(SAMPLE_DIR / "wards_2022.gpkg")
    twice = wards.copy()
    twice.loc[1, "WD22CD"] = twice.loc[0, "WD22CD"]
    twice.to_file(folder / "duplicate_wards.gpkg")
    wards.head(3).to_file(folder / "three_wards.gpkg")
    wards.set_crs(4326, allow_override=True).to_file(folder / "wards_metres_as_degrees.gpkg")
    for name, text in {
        "notgpkg.gpkg": "not a GeoPackage\n",
        "empty.toml": "",
        "unknown_key.toml": '[boundaries]\npath = "x.gpkg"\ncode = "OA11CD"\nlayer_name = "a"\n',
        "broken.toml": "name = [\n",
        "cap_unknown.csv": "ward_code,visits\nE05999999,10\n",
        "visited_unknown.csv": "id,date\nNOT AN ID,2020-01-01\n",
        "visited_future.csv": "id,date\nN1 9NL,2031-03-04\n",
        "visited_nodate.csv": "id\nN1 9NL\n",
        "optout_unknown.csv": "id\nNOWHERE\n",
        "flags_noflag.csv": "id\nN1 9NL\n",
    }.items():
        (folder / name).write_text(text)
    gpd.read_file(SAMPLE_DIR / "wards_2022.gpkg").to_file(folder / "wards_only.gpkg")
    full = folder / "full.gpkg"
    shutil.copy(built["OUTPUT"], full)
    assert main([str(a) for a in ["incidents", full, SAMPLE_DIR / "lfb_dwelling_fires.csv",
                                  "--name", "fires", "--x", "easting_rounded", "--y",
                                  "northing_rounded", "--out",
                                  tmp_path_factory.mktemp("fires")]]) == 0
    assert main([str(a) for a in ["gazetteer", full, SAMPLE_DIR / "postcodes.csv", "--id",
                                  "Postcode", "--x", "Eastings", "--y", "Northings"]]) == 0
    assert main([str(a) for a in ["matrices", full, "--wards", SAMPLE_DIR / "wards_2022.gpkg",
                                  "--ward-code", "WD22CD", "--ward-name", "WD22NM"]]) == 0
    return folder


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def fails_in_processing(algorithm, parameters, bad, built, tmp_path) -> str:
    """Run with "@name" resolved (a file made by ``bad``; "@built" the built segmentation's
    own copy, "@full" one with gazetteer and matrices); return the one-line message after
    checking nothing given changed and no output was written."""
    seg = tmp_path / "seg"
    seg.mkdir()
    shutil.copy(built["OUTPUT"], seg / "built.gpkg")
    shutil.copy(bad / "full.gpkg", seg / "full.gpkg")
    inputs = tmp_path / "inputs"
    shutil.copytree(bad, inputs, ignore=shutil.ignore_patterns("full.gpkg"))

    def resolve(value):
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:]
            if name in ("built", "full"):
                return str(seg / f"{name}.gpkg")
            found = [p for p in inputs.iterdir() if p.stem == name or p.name == name]
            assert len(found) == 1, value
            return str(found[0])
        if isinstance(value, str) and value.startswith("/OUT/"):
            return str(tmp_path / "out" / value[5:])
        return value

    parameters = {key: resolve(value) for key, value in parameters.items()}
    before = snapshot(seg), snapshot(inputs)
    message = one_line(processing_error(f"community_safety:{algorithm}", parameters))
    assert (snapshot(seg), snapshot(inputs)) == before
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    return message


def xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)


QGIS_CHECK = ("QGIS's own parameter check (below minValue / required value empty) gives two "
              "lines: 'Unable to execute algorithm' then 'Incorrect parameter value for {}' "
              "(the dialog prevents it; a script or model gets the two lines)")


def case(change, expected, mark=None, id=None):
    return pytest.param(change, expected, marks=[mark] if mark else [], id=id)


BUILD = [
    case({"AREAS": "@duplicate_codes"}, "duplicate_codes: area codes appear more than once in "
         "column 'OA11CD': E00004120", id="duplicate-area-codes"),
    case({"AREAS": "@constant", "VARIABLES": ["pct_constant"], "K": 2},
         "screening left no variable to cluster on", id="constant-variable-only"),
    case({"AREAS": "@metres_as_degrees"}, "cannot be longitude/latitude in degrees, but "
         "the CRS (WGS 84) says degrees; they look like metres (British National Grid?): "
         "correct the CRS and try again (set the layer's right CRS: in QGIS, Layer "
         "Properties › Source", id="metres-labelled-degrees"),
    case({"AREAS": "@five_areas"}, "k = 10 is larger than the number of areas (5)",
         id="k-above-areas"),
    case({"DEPRIVATION": "LSOA11CD"}, "row 1, column 'LSOA11CD': 'E01000842' is not a number",
         id="deprivation-field-of-text"),
    case({"SUBSEGMENTS": 200, "N_INIT": 1}, "200 sub-segments per segment are more than the "
         "areas allow", id="subsegments-above-areas"),
    case({"K": 1}, "K", xfail(QGIS_CHECK.format("K")), id="k-1"),
]


@pytest.mark.parametrize("change, expected", BUILD)
def test_build_segmentation_table(provider, layers, built, bad, tmp_path, change, expected):
    parameters = build_parameters(layers, "/OUT/seg.gpkg", **{"N_INIT": 1, **change})
    message = fails_in_processing("buildsegmentation", parameters, bad, built, tmp_path)
    assert expected in message


PROJECT = [
    case({"PROJECT": "@nope.toml"}, "nope.toml", id="project-missing"),
    case({"PROJECT": "@empty"}, "empty.toml: [boundaries] needs path and code",
         id="project-empty"),
    case({"PROJECT": "@unknown_key"}, "unknown key(s) in [boundaries]: layer_name",
         id="unknown-key"),
    case({"PROJECT": "@broken"}, "broken.toml: not a valid TOML project file",
         id="not-toml"),
    case({"PROJECT": str(SAMPLE_DIR / "camden.toml"), "K": 800},
         "Number of segments (k) 800 is larger than the number of areas (749)",
         id="k-above-areas"),
    case({"PROJECT": str(SAMPLE_DIR / "camden.toml"), "K": 1}, "K",
         xfail(QGIS_CHECK.format("K")), id="k-1"),
]


@pytest.mark.parametrize("change, expected", PROJECT)
def test_build_from_project(provider, layers, built, bad, tmp_path, change, expected):
    if change.get("PROJECT") == "@nope.toml":
        change = {**change, "PROJECT": str(tmp_path / "nope.toml")}
    parameters = {"N_INIT": 1, "PLOTS": False, "OUTPUT": "/OUT/seg.gpkg", **change}
    message = fails_in_processing("buildfromproject", parameters, bad, built, tmp_path)
    assert expected in message


CHOOSE = [
    case({"K_MIN": 5, "K_MAX": 2}, "the largest k (2) is below the smallest (5)",
         id="range-upside-down"),
    case({"AREAS": "@five_areas", "K_MIN": 2, "K_MAX": 8},
         "is larger than the number of areas (5)", id="k-above-areas"),
    case({"VARIABLES": ["LSOA11CD"]}, "column 'LSOA11CD': 'E0", id="text-variable"),
    case({"AREAS": "@duplicate_codes"}, "area codes appear more than once in column 'OA11CD'",
         id="duplicate-area-codes"),
    case({"AREA_CODE": "code"}, "code", id="area-code-field-missing"),
]


@pytest.mark.parametrize("change, expected", CHOOSE)
def test_choose_segments(provider, layers, built, bad, tmp_path, change, expected):
    parameters = {"AREAS": layers["areas"], "AREA_CODE": "OA11CD",
                  "VARIABLES": layers["variables"], "K_MIN": 2, "K_MAX": 3, "N_INIT": 1,
                  "OUTPUT": "/OUT/k.csv", "ELBOW": "/OUT/elbow.png", **change}
    message = fails_in_processing("choosesegments", parameters, bad, built, tmp_path)
    assert expected in message


ASSIGN = [
    case({"SEGMENTATION": "@notgpkg"}, "notgpkg.gpkg: not a GeoPackage", id="not-a-geopackage"),
    case({"SEGMENTATION": "@wards_only"}, "wards_only.gpkg: not a saved segmentation",
         id="geopackage-without-our-tables"),
    case({"AREAS": "@without_no_car"}, "pct_no_car", id="clustered-field-missing"),
    case({"AREAS": "@duplicate_codes"}, "areas to assign: area codes appear more than once in "
         "column 'OA11CD': E00004120", id="duplicate-area-codes"),
    case({"AREAS": "@metres_as_degrees"}, "cannot be longitude/latitude in degrees, but "
         "the CRS (WGS 84) says degrees; they look like metres (British National Grid?): "
         "correct the CRS and try again (set the layer's right CRS: in QGIS, Layer "
         "Properties › Source", id="metres-labelled-degrees"),
    case({"AREA_CODE": "code"}, "code", id="area-code-field-missing"),
]


@pytest.mark.parametrize("change, expected", ASSIGN)
def test_assign_areas(provider, layers, built, bad, tmp_path, change, expected):
    parameters = {"SEGMENTATION": "@built", "AREAS": layers["areas"], "AREA_CODE": "OA11CD",
                  "OUTPUT": "/OUT/assigned.gpkg", **change}
    message = fails_in_processing("assignareas", parameters, bad, built, tmp_path)
    assert expected in message


GAZETTEER = [
    case({"ID": "UPRN"}, "postcodes: no ID column 'UPRN' (columns are fid, Postcode,",
         id="id-field-missing"),
    case({"ADDRESSES": "@degrees_as_metres", "ID": "id"},
         "look like longitude/latitude in degrees, but the CRS (OSGB36 / British National "
         "Grid) is in metres: correct the CRS (EPSG:4326 for GPS coordinates) and try again "
         "(set the layer's right CRS: in QGIS, Layer Properties › Source",
         id="degrees-labelled-metres"),
    case({"ADDRESSES": "@empty_points", "ID": "id"}, "empty_points: the layer has no features",
         id="empty-point-layer"),
    case({"SEGMENTATION": "@notgpkg"}, "notgpkg.gpkg: not a GeoPackage", id="not-a-geopackage"),
    case({"SEGMENTATION": "@wards_only"}, "wards_only.gpkg: not a saved segmentation",
         id="geopackage-without-our-tables"),
    case({"ADDRESSES": "@far_away", "ID": "id"}, "far_away",
         id="all-outside-the-area"),
    case({"ADDRESSES": "@unknown_areas", "ID": "id", "AREA_CODE": "oa"}, "unknown_areas",
         id="unknown-area-codes-only"),
]


@pytest.mark.parametrize("change, expected", GAZETTEER)
def test_join_gazetteer(provider, layers, built, bad, tmp_path, change, expected):
    parameters = {"SEGMENTATION": "@built", "ADDRESSES": layers["postcodes"], "ID": "Postcode",
                  **change}
    message = fails_in_processing("joingazetteer", parameters, bad, built, tmp_path)
    assert expected in message


INCIDENTS = [
    case({"DATE": "when", "DATE_FROM": "2020-01-01"}, "fires: no date column 'when'",
         id="date-field-missing"),
    case({"INCIDENTS": "@empty_points", "DATE": "date"}, "empty_points: the layer has no "
         "features",
         id="empty-point-layer"),
    case({"INCIDENTS": "@far_away", "DATE": "date"},
         "no record is both in the study area and within the filters", id="all-outside"),
    case({"INCIDENTS": "@degrees_as_metres", "DATE": None},
         "look like longitude/latitude in degrees, but the CRS (OSGB36 / British National "
         "Grid) is in metres: correct the CRS (EPSG:4326 for GPS coordinates) and try again "
         "(set the layer's right CRS: in QGIS, Layer Properties › Source",
         id="degrees-labelled-metres"),
    case({"INCIDENTS": "@counts", "DATE": None, "COUNTS": ["injuries"]},
         "counts, row 2, column 'injuries': '-2' is not a count",
         id="negative-count"),
    case({"DATE_TO": "31/12/2024"}, "the end date '31/12/2024' is not a date",
         id="end-date-not-a-date"),
    case({"NAME": ""}, "NAME", xfail(QGIS_CHECK.format("NAME")), id="name-empty"),
    case({"SEGMENTATION": "@notgpkg"}, "notgpkg.gpkg: not a GeoPackage", id="not-a-geopackage"),
    case({"SEGMENTATION": "@wards_only"}, "wards_only.gpkg: not a saved segmentation",
         id="geopackage-without-our-tables"),
    case({"OUTPUT_FOLDER": "@notgpkg"}, "notgpkg.gpkg: File exists", id="output-is-a-file"),
]


@pytest.mark.parametrize("change, expected", INCIDENTS)
def test_profile_incidents_table(provider, layers, built, bad, tmp_path, change, expected):
    parameters = {"SEGMENTATION": "@built", "INCIDENTS": layers["fires"], "NAME": "fires",
                  "DATE": "date", "OUTPUT_FOLDER": "/OUT/incidents", **change}
    parameters = {k: v for k, v in parameters.items() if v is not None}
    message = fails_in_processing("profileincidents", parameters, bad, built, tmp_path)
    assert expected in message


TARGET = [
    case({"CAPACITY": 0}, "a capacity of 0 visits: give 1 or more", id="capacity-0"),
    case({"CAPACITY": 100000}, "a capacity of 100,000 visits is more than the 8,354 eligible "
         "addresses", id="capacity-above-addresses"),
    case({"VISITED": "@visited_unknown"}, "visited_unknown.csv: 1 of 1 rows have IDs not in "
         "the gazetteer", id="visited-unknown-ids"),
    case({"VISITED": "@visited_future"}, "dated after", id="visited-in-the-future"),
    case({"VISITED": "@visited_nodate"}, "visited_nodate.csv: no column 'date'",
         id="visited-without-dates"),
    case({"OPTED_OUT": "@optout_unknown"}, "optout_unknown.csv: 1 of 1 rows have IDs not in",
         id="opted-out-unknown-ids"),
    case({"FLAGS": "@flags_noflag"}, "flags_noflag.csv: no column 'flag'", id="flags-column"),
    case({"FLAG_WEIGHTS": "smoker"}, "'smoker' is not flag=weight", id="flag-weights"),
    case({"CAPACITY_TABLE": "@cap_unknown"}, "cap_unknown.csv: 1 ward codes are not wards",
         id="capacity-table-unknown-ward"),
    case({"WARDS": "E05999999"}, "“E05999999” is not a ward of this segmentation",
         id="wards-unknown"),
    case({"SEGMENTS": "42"}, "42 is not a segment (1 to 10)", id="segments-unknown"),
    case({"SEGMENTS": "high"}, "segments are numbers, comma separated", id="segments-text"),
    case({"TODAY": "2025-13-01"}, "'2025-13-01' is not a date", id="today-not-a-date"),
    case({"INCIDENT_TABLE": "floods"}, "no incident profile 'floods'",
         id="incident-table-unknown"),
    case({"INCIDENTS": "@fires", "DATE": "date", "DATE_FROM": "2024-01-01",
          "DATE_TO": "2020-01-01"}, "the window starts (2024-01-01) after it ends",
         id="window-upside-down"),
    case({"INCIDENTS": "@fires", "DATE": None}, "incident points need their date field",
         id="incidents-without-date-field"),
    case({"SEGMENTATION": "@built"}, "no address gazetteer yet", id="no-gazetteer-yet"),
    case({"SEGMENTATION": "@notgpkg"}, "notgpkg.gpkg: not a GeoPackage", id="not-a-geopackage"),
]


@pytest.mark.parametrize("change, expected", TARGET)
def test_target_visits(provider, layers, built, bad, tmp_path, change, expected):
    parameters = {"SEGMENTATION": "@full", "CAPACITY": 10, "TODAY": "2025-01-01",
                  "OUTPUT_FOLDER": "/OUT/target", **change}
    if parameters.get("INCIDENTS") == "@fires":
        parameters["INCIDENTS"] = layers["fires"]
    if "INCIDENTS" not in parameters and "INCIDENT_TABLE" not in parameters:
        parameters["INCIDENT_TABLE"] = ""
    parameters = {k: v for k, v in parameters.items() if v is not None}
    message = fails_in_processing("targetvisits", parameters, bad, built, tmp_path)
    assert expected in message


WARDS = [
    case({"WARDS": "@duplicate_wards"}, "a ward code on more than one feature: E05013652 (2 "
         "features)", id="duplicate-ward-codes"),
    case({"WARDS": "@three_wards"}, "580 output areas fall in no ward (E00004122,",
         id="areas-in-no-ward"),
    case({"WARD_NAME": "NAME"}, "NAME", id="ward-name-field-missing"),
    case({"WARDS": "@wards_metres_as_degrees"}, "(British National Grid?): correct the CRS "
         "and try again (set the layer's right CRS: in QGIS, Layer Properties › Source",
         id="metres-labelled-degrees"),
    case({"SEGMENTATION": "@notgpkg"}, "notgpkg.gpkg: not a GeoPackage", id="not-a-geopackage"),
    case({"SEGMENTATION": "@wards_only"}, "wards_only.gpkg: not a saved segmentation",
         id="geopackage-without-our-tables"),
]


@pytest.mark.parametrize("change, expected", WARDS)
def test_ward_matrices(provider, layers, built, bad, tmp_path, change, expected):
    parameters = {"SEGMENTATION": "@built", "WARDS": layers["wards"], "WARD_CODE": "WD22CD",
                  "WARD_NAME": "WD22NM", "RULE": 0, **change}
    message = fails_in_processing("wardmatrices", parameters, bad, built, tmp_path)
    assert expected in message


EXPORT = [
    case({"THRESHOLD": 0}, "THRESHOLD", xfail(QGIS_CHECK.format("THRESHOLD")),
         id="threshold-0"),
    case({"SEGMENTATION": "@built"}, "no ward x segment matrices yet", id="no-matrices-yet"),
    case({"SEGMENTATION": "@notgpkg"}, "notgpkg.gpkg: not a GeoPackage", id="not-a-geopackage"),
    case({"SEGMENTATION": "@wards_only"}, "wards_only.gpkg: not a saved segmentation",
         id="geopackage-without-our-tables"),
    case({"OUTPUT_FOLDER": "@notgpkg"}, "notgpkg.gpkg: File exists", id="output-is-a-file"),
]


@pytest.mark.parametrize("change, expected", EXPORT)
def test_export_matrices(provider, layers, built, bad, tmp_path, change, expected):
    parameters = {"SEGMENTATION": "@full", "THRESHOLD": 5, "OUTPUT_FOLDER": "/OUT/export",
                  **change}
    message = fails_in_processing("exportmatrices", parameters, bad, built, tmp_path)
    assert expected in message
