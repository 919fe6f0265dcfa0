"""More bad input on the command line, one table per subcommand: every row must end with
exit code 2 and one line naming the file, column, row or option, no traceback and no
warning printed above it, and leave the saved GeoPackage, an earlier --out folder and the
input files byte-identical (``fails_cleanly`` in test_bad_inputs.py).

Rows marked xfail(strict=True) are inputs that do not fail cleanly today; the reason says
what happens instead. When the engine is fixed the test turns XPASS and fails: drop the mark.

One segmentation (n_init 2) with its gazetteer, ward matrices and a fires profile is built
per module and copied for each case."""

from __future__ import annotations

import shutil
import sqlite3
import warnings
from dataclasses import replace

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SAMPLE_DIR
from test_bad_inputs import fails_cleanly, write_project

from community_safety.core.cli import main
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.saved import save_segmentation

S = SAMPLE_DIR
FIRES = S / "lfb_dwelling_fires.csv"
XY = ["--x", "easting_rounded", "--y", "northing_rounded"]
PC = ["--x", "Eastings", "--y", "Northings"]


def run(*args) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """A saved segmentation without anything added (``bare``) and the same with its
    gazetteer, ward matrices and fires profile (``full``)."""
    seg = build_segmentation(replace(load_project(S / "camden.toml"), n_init=2))
    folder = tmp_path_factory.mktemp("full")
    gpkg = save_segmentation(seg, folder, plots=False)
    gpkg = gpkg if gpkg.suffix == ".gpkg" else gpkg / "segmentation.gpkg"
    bare = tmp_path_factory.mktemp("bare") / "segmentation.gpkg"
    shutil.copy(gpkg, bare)
    assert run("gazetteer", gpkg, S / "postcodes.csv", "--id", "Postcode", *PC) == 0
    assert run("matrices", gpkg, "--wards", S / "wards_2022.gpkg", "--ward-code", "WD22CD",
               "--ward-name", "WD22NM") == 0
    assert run("incidents", gpkg, FIRES, "--name", "fires", *XY, "--date-column", "date",
               "--out", folder / "incidents") == 0
    return {"full": gpkg, "bare": bare}


INPUTS = {
    "empty.csv": "",
    "header.csv": "id,x,y,date\n",
    "latlong.csv": "id,x,y\n1,-0.14,51.55\n2,-0.13,51.54\n",
    "latlong_swapped.csv": "id,lat,lon\n1,51.55,-0.14\n2,51.54,-0.13\n",
    "notgpkg.gpkg": "this is not a GeoPackage\n",
    "far.csv": "id,x,y\n1,400000,300000\n2,400100,300100\n",
    "unknown_areas.csv": "id,oa\n1,E00999999\n2,E00888888\n",
    "lookup_dup.csv": "oa,ward\nE00004120,W1\nE00004120,W2\n",
    "lookup_empty.csv": "OA11CD,ward\n",
    "lookup_other.csv": "OA11CD,LSOA11CD,LAD11CD\nE00000576,E01000119,E09000003\n"
                        "E00000577,E01000124,E09000003\n",
    "cap_unknown.csv": "ward_code,visits\nE05999999,10\n",
    "cap_empty.csv": "ward_code,visits\n",
    "cap_column.csv": "ward,visits\nE05013653,10\n",
    "cap_negative.csv": "ward_code,visits\nE05013653,-4\n",
    "cap_text.csv": "ward_code,visits\nE05013653,ten\n",
    "visited_nodate.csv": "id\nN1 9NL\n",
    "visited_baddate.csv": "id,date\nN1 9NL,2020-02-30\n",
    "optout_noid.csv": "code\nN1 9NL\n",
    "optout_unknown.csv": "id\nNOWHERE\n",
    "flags_noflag.csv": "id\nN1 9NL\n",
    "counts_text.csv": "id,x,y,injuries\n1,529000,184000,1\n2,529100,184100,two\n",
}


@pytest.fixture
def env(full, tmp_path):
    """Placeholders for a case: {G} the saved segmentation with everything added, {B} one
    with nothing added, {OUT} an earlier run's --out folder, {IN} the bad input files, {S}
    the sample data. All but {S} are this test's own copies."""
    seg = tmp_path / "seg"
    seg.mkdir()
    shutil.copy(full["full"], seg / "segmentation.gpkg")
    shutil.copy(full["bare"], seg / "bare.gpkg")
    out = tmp_path / "earlier"
    out.mkdir()
    for name in ("segment_summary.csv", "segment_profiles.csv", "screening.csv",
                 "manifest.json"):
        shutil.copy(full["full"].parent / name, out / name)
    given = tmp_path / "in"
    given.mkdir()
    for name, text in INPUTS.items():
        (given / name).write_text(text)
    connection = sqlite3.connect(given / "sqlite.gpkg")  # a database without our tables
    connection.execute("CREATE TABLE notes (a TEXT)")
    connection.commit()
    connection.close()
    gpd.read_file(S / "wards_2022.gpkg").to_file(given / "wards_only.gpkg", layer="wards")
    points = pd.DataFrame({"id": ["a", "b"], "x": [529000, 529100], "y": [184000, 184100]})
    gpd.GeoDataFrame(points, geometry=gpd.points_from_xy(points.x, points.y),
                     crs=27700).to_file(given / "points.gpkg")
    places = {"G": seg / "segmentation.gpkg", "B": seg / "bare.gpkg", "OUT": out,
              "IN": given, "S": S, "T": tmp_path}
    return places


def expand(args, places):
    return [str(a).format(**{k: str(v) for k, v in places.items()}) for a in args]


NOT_SHOWN = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def check(args, capsys, env) -> str:
    """fails_cleanly, and no warning printed on the console above the error line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        err = fails_cleanly(expand(args, env), capsys, env["G"], env["B"], env["OUT"],
                            env["IN"])
    shown = [f"{w.category.__name__}: {w.message}" for w in caught
             if not issubclass(w.category, NOT_SHOWN)]
    assert not shown, shown
    return err


def xfail(reason):
    return pytest.mark.xfail(strict=True, reason=reason)



def case(args, message, mark=None, id=None):
    return pytest.param(args, message, marks=[mark] if mark else [], id=id)


# --- segment --------------------------------------------------------------------------------

SEGMENT = [
    case(["{IN}/nope.toml"], "nope.toml: project file not found", id="project-missing"),
    case(["{IN}/empty.csv"], "empty.csv: [boundaries] needs path and code",
         id="project-empty"),
    case(["{IN}"], "in: Is a directory", id="project-is-a-folder"),
    case(["{S}/camden.toml", "--k", "1"], "--k 1 must be at least 2", id="k-1"),
    case(["{S}/camden.toml", "--k", "800", "--n-init", "1"],
         "--k 800 is larger than the number of areas (749)", id="k-above-areas"),
    case(["{S}/camden.toml", "--n-init", "0"], "--n-init 0 must be at least 1",
         id="n-init-0"),
    case(["{S}/camden.toml", "--n-init", "1", "--out", "{IN}/empty.csv"],
         "empty.csv: is a file; --out needs a folder", id="out-is-a-file"),
    case(["{S}/camden.toml", "--k", "ten"], "argument --k: invalid int value: 'ten'", id="k-text"),
    case(["{S}/camden.toml", "--choose-k", "15-2", "--n-init", "1"], "--choose-k",
         id="choose-k-upside-down"),
]


@pytest.mark.parametrize("args, message", SEGMENT)
def test_segment(env, capsys, args, message):
    if "--out" not in args:
        args = [*args, "--out", "{OUT}"]
    assert message in check(["segment", *args, "--no-plots"], capsys, env)


def labels_absolute(**replacements):
    return {'file = "variables.csv"': f'file = "{S / "variables.csv"}"', **replacements}


DEMOGRAPHY = f'"{S / "census_demography.csv"}"'
FIRST_TABLE_END = 'context = ["usual_residents", "households"]\n\n[[tables]]\npath'
PROJECTS = [
    case({"[bands]": "[bandz]"}, "unknown key(s) in [top level]: bandz (allowed: bands,",
         id="unknown-section"),
    case({"k = 10": "k = 10\nclusters = 4"}, "unknown key(s) in [segmentation]: clusters",
         id="unknown-key"),
    case({"k = 10": 'k = "ten"'}, "[segmentation] k = 'ten' should be a whole number",
         id="k-text"),
    case({"n_init = 2": "n_init = 2.5"}, "[segmentation] n_init = 2.5 should be a whole "
         "number", id="n-init-fraction"),
    case({"seed = 2011": 'seed = "x"'}, "[segmentation] seed = 'x' should be a whole number",
         id="seed-text"),
    case({"threshold = 0.8 ": 'threshold = "high" '},
         "[screening] threshold = 'high' should be", id="threshold-text"),
    case({"[boundaries]": "[boundary]"}, "unknown key(s) in [top level]: boundary",
         id="boundaries-section-misspelt"),
    case({'code = "OA11CD"\n\n#': "\n#"}, "[boundaries] needs path and code",
         id="boundaries-without-code"),
    case({"[[tables]]": "[[table]]"}, "unknown key(s) in [top level]: table",
         id="tables-misspelt"),
    case({'code = "OA11CD"\n\n#': 'code = "OA_CODE"\n\n#'},
         "no column 'OA_CODE' for the area code; columns are OA11CD, LSOA11CD",
         id="boundary-code-column-missing"),
    case({"output_areas_2011.gpkg": "output_areas_2021.gpkg"},
         "output_areas_2021.gpkg: boundary file not found", id="boundary-file-missing"),
    case({'layer = "output_areas"': 'layer = "oas"'},
         "output_areas_2011.gpkg (layer oas): cannot be read as a boundary layer",
         id="boundary-layer-missing"),
    case({'layer = "output_areas"': 'layer = "output_areas"\ncrs = "EPSG:4326"'},
         "with the CRS set to EPSG:4326: coordinates such as (", id="metres-labelled-degrees"),
    case({'layer = "output_areas"': 'layer = "output_areas"\ncrs = "BNG"'},
         "'BNG' is not a coordinate reference system", id="crs-label-unknown"),
    case({"census_work.csv": "census_works.csv"}, "census_works.csv: table not found",
         id="table-missing"),
    case({FIRST_TABLE_END: FIRST_TABLE_END.replace("\n\n", "\ncode2 = 1\n\n")},
         "unknown key(s) in [tables #1]: code2", id="table-unknown-key"),
    case({"force_in = []": 'force_in = ["pct_no_car"]',
          "force_out = []": 'force_out = ["pct_no_car"]'},
         "screening: pct_no_car forced both in and out", id="force-in-and-out"),
    case({"force_in = []": 'force_in = ["pct_flying_cars"]'},
         "forced variable(s) pct_flying_cars are not among the candidates",
         id="force-in-unknown"),
    case({"force_out = []": 'force_out = ["pct_flying_cars"]'},
         "forced variable(s) pct_flying_cars are not among the candidates",
         id="force-out-unknown"),
    case({'missing = "median"': 'missing = "zero"'},
         "[segmentation] missing = 'zero' is not one of: median, drop", id="missing-policy"),
    case({'column = "IMD19"': 'column = "IMD2019"'},
         "deprivation column 'IMD2019' is in none of the tables", id="deprivation-column"),
    case({'more_deprived = "lower"': 'more_deprived = "down"'},
         "[deprivation] more_deprived = 'down' is not one of: lower, higher",
         id="more-deprived"),
    case({'residents = "usual_residents"': 'residents = "population"'},
         "residents column 'population' is in none of the tables", id="residents-column"),
    case({"min_share = 2.0": "min_share = -1"}, "[segmentation] min_share = -1 must be a "
         "percentage", id="min-share-negative"),
    case({"winsorise = 3.0": "winsorise = -2"}, "[segmentation] winsorise = -2 must be 0",
         id="winsorise-negative"),
    case({"[labels]": '[segments.42]\nname = "x"\n\n[labels]'},
         "[segments.42] but there are only 10 segments", id="segment-name-unknown-number"),
    case({"[labels]": '[segments.3]\ntitle = "x"\n\n[labels]'},
         "unknown key(s) in [segments.3]: title (allowed: name, portrait)",
         id="segment-name-unknown-key"),
    case({'join_on = "LSOA11CD"': 'join_on = "LSOA21CD"'},
         "imd2019_lsoa.csv: join_on 'LSOA21CD' is not a column of the boundaries",
         id="join-on-missing"),
    case({'join_on = "LSOA11CD"': 'lookup = {path = "nolookup.csv", from = "a", to = "b"}'},
         "nolookup.csv: lookup file not found", id="lookup-file-missing"),
    case({'join_on = "LSOA11CD"': f'lookup = {{path = "{S / "oa_lsoa_lookup.csv"}", '
                                  'from = "oa", to = "lsoa_cd"}'},
         "oa_lsoa_lookup.csv: no lookup column 'oa'; columns are oa_cd,", id="lookup-column"),
    case({'context = ["residents_16_74"': 'denominator = "all_people"\n'
                                          'context = ["residents_16_74"'},
         "census_work.csv: denominator setting names no column 'all_people'",
         id="denominator-column"),
    case({FIRST_TABLE_END: FIRST_TABLE_END.replace("\n\n", '\nvariables = ["pct_martians"]'
                                                   "\n\n")},
         "census_demography.csv: no column 'pct_martians'", id="variable-column-missing"),
    case({DEMOGRAPHY: '"{IN}/empty.csv"'}, "empty.csv: the file is empty", id="table-empty"),
    case({"force_in = []": 'force_in = "pct_no_car"'}, "force_in",
         id="force-in-not-a-list"),
    case({'context = ["residents_16_74"': 'denominator = "residents_16_74"\nper = 0\n'
                                          'context = ["residents_16_74"'}, "per = 0",
         id="per-0"),
    case({f'"{S / "census_work.csv"}"': '"{IN}/unknown_areas.csv"',
          'code = "OA11CD"\ncontext = ["residents_16_74"': 'code = "oa"\ncontext = []\n#'},
         "unknown_areas.csv",
         id="table-of-unknown-areas-only"),
    case({DEMOGRAPHY: '"{IN}/header.csv"', '"OA11CD"\ncontext = ["usual_residents", '
          '"households"]\n\n[[tables]]\npath = "' + str(S / "census_housing.csv"):
          '"id"\n\n[[tables]]\npath = "' + str(S / "census_housing.csv")},
         "header.csv",
         id="table-header-only"),
    case({'context = ["IMD19"]': 'context = ["IMD"]'}, "'IMD'",
         id="context-column-missing"),
]


@pytest.mark.parametrize("replacements, message", PROJECTS)
def test_segment_project_file(env, capsys, replacements, message):
    replacements = {old: new.replace("{IN}", str(env["IN"])) for old, new in replacements.items()}
    project = write_project(env["T"], **labels_absolute(**replacements))
    err = check(["segment", project, "--out", "{OUT}", "--no-plots", "--n-init", "1"],
                capsys, env)
    assert "project.toml" in err or message.split(":")[0] in err
    assert message in err


def test_segment_labels_file_missing(env, capsys):
    project = write_project(env["T"], **{'file = "variables.csv"': 'file = "labels.csv"'})
    err = check(["segment", project, "--out", "{OUT}", "--no-plots", "--n-init", "1"], capsys,
                env)
    assert "labels.csv: cannot read variable descriptions" in err


# --- choose-k -------------------------------------------------------------------------------

CHOOSE_K = [
    case(["{IN}/nope.toml"], "nope.toml: project file not found", id="project-missing"),
    case(["{S}/camden.toml", "--k-min", "1", "--k-max", "3"],
         "k = 1: at least 2 segments are needed", id="k-min-1"),
    case(["{S}/camden.toml", "--k-min", "2", "--k-max", "900"],
         "is larger than the number of areas (749)", id="k-max-above-areas"),
    case(["{S}/camden.toml", "--k-min", "2", "--k-max", "3", "--n-init", "0"],
         "n_init = 0: at least one random start is needed", id="n-init-0"),
    case(["{S}/camden.toml", "--k-min", "2", "--k-max", "3", "--out", "{IN}/empty.csv"],
         "empty.csv: is a file; --out needs a folder", id="out-is-a-file"),
    case(["{IN}/empty.csv"], "empty.csv: [boundaries] needs path and code",
         id="project-empty"),
    case(["{S}/camden.toml", "--k-min", "two"], "argument --k-min: invalid int value",
         id="k-min-text"),
]


@pytest.mark.parametrize("args, message", CHOOSE_K)
def test_choose_k(env, capsys, args, message):
    if "--out" not in args:
        args = [*args, "--out", "{OUT}"]
    if "--n-init" not in args:
        args = [*args, "--n-init", "1"]
    assert message in check(["choose-k", *args], capsys, env)


# --- assign ---------------------------------------------------------------------------------

ASSIGN = [
    case(["{IN}/nope.gpkg", "{S}/camden.toml"], "nope.gpkg: saved segmentation not found",
         id="segmentation-missing"),
    case(["{IN}/notgpkg.gpkg", "{S}/camden.toml"], "notgpkg.gpkg: not a GeoPackage",
         id="not-a-geopackage"),
    case(["{IN}/wards_only.gpkg", "{S}/camden.toml"],
         "wards_only.gpkg: not a saved segmentation (no segments, centres or area values in "
         "it); give the segmentation.gpkg that segment or assign wrote",
         id="geopackage-without-our-tables"),
    case(["{S}/lfb_dwelling_fires.csv", "{S}/camden.toml"],
         "lfb_dwelling_fires.csv: not a saved segmentation", id="csv-as-segmentation"),
    case(["{G}", "{IN}/nope.toml"], "nope.toml: project file not found",
         id="project-missing"),
    case(["{G}", "{IN}/empty.csv"], "empty.csv: [boundaries] needs path and code",
         id="project-empty"),
    case(["{G}", "{S}/camden.toml", "--out", "{IN}/empty.csv"],
         "empty.csv: is a file; --out needs a folder", id="out-is-a-file"),
    case(["{IN}/sqlite.gpkg", "{S}/camden.toml"], "sqlite.gpkg",
         id="sqlite-without-geopackage-tables"),
]


@pytest.mark.parametrize("args, message", ASSIGN)
def test_assign(env, capsys, args, message):
    if "--out" not in args:
        args = [*args, "--out", "{OUT}"]
    assert message in check(["assign", *args], capsys, env)


# --- gazetteer ------------------------------------------------------------------------------

GAZETTEER = [
    case(["{G}", "{IN}/nope.csv", "--id", "id", "--x", "x", "--y", "y"],
         "nope.csv: file not found", id="file-missing"),
    case(["{G}", "{IN}/empty.csv", "--id", "id", "--x", "x", "--y", "y"],
         "empty.csv: the file is empty", id="file-empty"),
    case(["{G}", "{IN}/header.csv", "--id", "id", "--x", "x", "--y", "y"],
         "header.csv: the file has no records", id="no-records"),
    case(["{G}", "{S}/postcodes.csv", "--id", "UPRN", *PC],
         "postcodes.csv: no ID column 'UPRN' (columns are Postcode,", id="id-column-missing"),
    case(["{G}", "{S}/postcodes.csv", "--id", "Postcode", "--x", "East", "--y", "Northings"],
         "postcodes.csv: no column 'East' (columns are Postcode,", id="x-column-missing"),
    case(["{G}", "{IN}/latlong.csv", "--id", "id", "--x", "x", "--y", "y"],
         "latlong.csv (x, y): coordinates such as (-0.14, 51.5", id="degrees-labelled-metres"),
    case(["{G}", "{S}/postcodes.csv", "--id", "Postcode", *PC, "--crs", "EPSG:4326"],
         "postcodes.csv (Eastings, Northings): coordinates such as (", id="metres-as-degrees"),
    case(["{G}", "{IN}/latlong_swapped.csv", "--id", "id", "--x", "lat", "--y", "lon",
          "--crs", "EPSG:4326"],
         "latlong_swapped.csv (lat, lon): the x coordinates (51.54 to 51.55) are Great "
         "Britain's latitudes and the y coordinates (-0.14 to -0.13) its longitudes: the "
         "columns are the wrong way round; give the longitude as x (--x)",
         id="latitude-as-x"),
    case(["{G}", "{S}/postcodes.csv", "--id", "Postcode", *PC, "--crs", "EPSG:0"],
         "'EPSG:0' is not a coordinate reference system", id="crs-unknown"),
    case(["{G}", "{S}/postcodes.csv", "--id", "Postcode"],
         "postcodes.csv: no usable location column", id="no-location"),
    case(["{G}", "{S}/postcodes.csv", "--id", "Postcode", "--postcode", "Postcode"],
         "postcodes.csv: records are located by postcode, but no postcode file was given",
         id="postcode-without-file"),
    case(["{G}", "{S}/postcodes.csv", "--id", "Postcode", "--area-code", "OA11CD"],
         "postcodes.csv: no column 'OA11CD'", id="area-code-column-missing"),
    case(["{G}", "{S}/postcodes.csv", "--id", "Postcode", "--postcode", "Postcode",
          "--postcode-file", "{S}/postcodes.csv", "--postcode-file-columns", "pc,e,n"],
         "postcodes.csv: no column 'pc'", id="postcode-file-columns"),
    case(["{IN}/notgpkg.gpkg", "{S}/postcodes.csv", "--id", "Postcode", *PC],
         "notgpkg.gpkg: not a GeoPackage", id="segmentation-not-a-geopackage"),
    case(["{IN}/wards_only.gpkg", "{S}/postcodes.csv", "--id", "Postcode", *PC],
         "wards_only.gpkg: not a saved segmentation", id="geopackage-without-our-tables"),
    case(["{IN}/nope.gpkg", "{S}/postcodes.csv", "--id", "Postcode", *PC],
         "nope.gpkg: saved segmentation not found", id="segmentation-missing"),
    case(["{G}", "{IN}/unknown_areas.csv", "--id", "id", "--area-code", "oa"],
         "unknown_areas.csv",
         id="unknown-area-codes-only"),
    case(["{G}", "{IN}/far.csv", "--id", "id", "--x", "x", "--y", "y"], "far.csv",
         id="all-outside-the-area"),
    case(["{IN}/sqlite.gpkg", "{S}/postcodes.csv", "--id", "Postcode", *PC], "sqlite.gpkg",
         id="sqlite-without-geopackage-tables"),
]


@pytest.mark.parametrize("args, message", GAZETTEER)
def test_gazetteer(env, capsys, args, message):
    assert message in check(["gazetteer", *args], capsys, env)


# --- incidents ------------------------------------------------------------------------------

INCIDENTS = [
    case(["{G}", "{IN}/nope.csv", *XY], "nope.csv: file not found", id="file-missing"),
    case(["{G}", "{IN}/empty.csv", "--x", "x", "--y", "y"], "empty.csv: the file is empty",
         id="file-empty"),
    case(["{G}", "{IN}/header.csv", "--x", "x", "--y", "y"],
         "header.csv: the file has no records", id="empty-point-file"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--date-column", "when"],
         "lfb_dwelling_fires.csv: no date column 'when'", id="date-column-missing"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--category-column", "kind",
          "--category", "x"], "lfb_dwelling_fires.csv: no category column 'kind'",
         id="category-column-missing"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--count", "injuries"],
         "lfb_dwelling_fires.csv: no count column 'injuries'", id="count-column-missing"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--count", "borough"],
         "lfb_dwelling_fires.csv, row 2, column 'borough': 'E09000007' is not a number",
         id="count-column-of-codes"),
    case(["{G}", "{IN}/counts_text.csv", "--x", "x", "--y", "y", "--count", "injuries"],
         "counts_text.csv, row 3, column 'injuries': 'two' is not a", id="count-in-words"),
    case(["{G}", "{S}/street_crime_2019_07.csv", "--x", "Longitude", "--y", "Latitude"],
         "street_crime_2019_07.csv (Longitude, Latitude): coordinates such as (",
         id="degrees-labelled-metres"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--crs", "EPSG:4326"],
         "(easting_rounded, northing_rounded): coordinates such as (", id="metres-as-degrees"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", "--x", "easting", "--y", "northing_rounded"],
         "lfb_dwelling_fires.csv: no column 'easting' (columns are date,",
         id="x-column-missing"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--id", "incident_id"],
         "lfb_dwelling_fires.csv: no ID column 'incident_id'", id="id-column-missing"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", "--uprn", "UPRN"],
         "lfb_dwelling_fires.csv: no column 'UPRN'", id="uprn-column-missing"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", "--uprn", "ward"],
         "no record is both in the study area and within the filters (2,936 unmatched",
         id="uprns-not-in-gazetteer"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--name", ""],
         "'' cannot name a table: use letters, digits or _", id="name-empty"),
    case(["{G}", "{IN}/far.csv", "--x", "x", "--y", "y"],
         "far.csv: no record is both in the study area and within the filters (2 outside",
         id="all-outside-the-area"),
    case(["{G}", "{IN}/unknown_areas.csv", "--area-code", "oa"],
         "unknown_areas.csv: no record is both in the study area", id="unknown-areas-only"),
    case(["{IN}/notgpkg.gpkg", "{S}/lfb_dwelling_fires.csv", *XY],
         "notgpkg.gpkg: not a GeoPackage", id="segmentation-not-a-geopackage"),
    case(["{IN}/wards_only.gpkg", "{S}/lfb_dwelling_fires.csv", *XY],
         "wards_only.gpkg: not a saved segmentation", id="geopackage-without-our-tables"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--out", "{IN}/empty.csv"],
         "empty.csv: is a file; --out needs a folder", id="out-is-a-file"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--key-file", "{IN}/nokey.txt"],
         "nokey.txt: cannot read the key file", id="key-file-missing"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--from", "2020-01-01"], "--from",
         id="from-without-date-column"),
    case(["{G}", "{S}/lfb_dwelling_fires.csv", *XY, "--category", "Castle"], "--category",
         id="category-without-column"),
    case(["{IN}/sqlite.gpkg", "{S}/lfb_dwelling_fires.csv", *XY], "sqlite.gpkg",
         id="sqlite-without-geopackage-tables"),
]


@pytest.mark.parametrize("args, message", INCIDENTS)
def test_incidents(env, capsys, args, message):
    if "--name" not in args:
        args = [*args, "--name", "fires_again"]
    if "--out" not in args:
        args = [*args, "--out", "{OUT}"]
    assert message in check(["incidents", *args], capsys, env)


# --- matrices -------------------------------------------------------------------------------

WARDS = ["--wards", "{S}/wards_2022.gpkg", "--ward-code", "WD22CD"]
MATRICES = [
    case(["{G}", "--wards", "{IN}/nope.gpkg", "--ward-code", "WD22CD"],
         "nope.gpkg: cannot be read as a ward layer", id="wards-missing"),
    case(["{G}", "--wards", "{S}/wards_2022.gpkg", "--ward-code", "WARD"],
         "wards_2022.gpkg: no ward code column 'WARD'", id="ward-code-column-missing"),
    case(["{G}", *WARDS, "--ward-name", "NAME"], "wards_2022.gpkg: no ward name column 'NAME'",
         id="ward-name-column-missing"),
    case(["{G}", *WARDS, "--ward-layer", "nope"],
         "wards_2022.gpkg (layer nope): cannot be read as a ward layer", id="layer-missing"),
    case(["{G}", "--wards", "{IN}/lookup_empty.csv", "--ward-code", "ward", "--rule",
          "lookup", "--lookup-area-column", "OA11CD"], "lookup_empty.csv: the file has no "
         "records", id="lookup-empty"),
    case(["{G}", "--wards", "{S}/oa_lsoa_lookup.csv", "--ward-code", "lsoa_cd", "--rule",
          "lookup", "--lookup-area-column", "OA"], "oa_lsoa_lookup.csv: no column 'OA'",
         id="lookup-area-column-missing"),
    case(["{G}", "--wards", "{IN}/lookup_dup.csv", "--ward-code", "ward", "--rule", "lookup",
          "--lookup-area-column", "oa"],
         "lookup_dup.csv: output area E00004120 is given more than one ward (W1, W2)",
         id="lookup-area-twice"),
    case(["{G}", "--wards", "{IN}/empty.csv", "--ward-code", "ward"],
         "empty.csv: cannot be read as a ward layer", id="wards-empty-file"),
    case(["{G}", "--wards", "{IN}/points.gpkg", "--ward-code", "id"],
         "points.gpkg: no output area falls in any ward", id="points-as-wards"),
    case(["{IN}/notgpkg.gpkg", *WARDS], "notgpkg.gpkg: not a GeoPackage",
         id="segmentation-not-a-geopackage"),
    case(["{IN}/wards_only.gpkg", *WARDS], "wards_only.gpkg: not a saved segmentation",
         id="geopackage-without-our-tables"),
    case(["{G}", "--wards", "{S}/lfb_dwelling_fires.csv", "--ward-code", "ward"],
         "lfb_dwelling_fires.csv",
         id="table-as-ward-polygons"),
    case(["{G}", *WARDS, "--rule", "nearest"], "argument --rule: invalid choice",
         id="rule-unknown"),
    case(["{IN}/sqlite.gpkg", *WARDS], "sqlite.gpkg",
         id="sqlite-without-geopackage-tables"),
]


@pytest.mark.parametrize("args, message", MATRICES)
def test_matrices(env, capsys, args, message):
    assert message in check(["matrices", *args], capsys, env)


# --- export ---------------------------------------------------------------------------------

EXPORT = [
    case(["{IN}/nope.gpkg"], "nope.gpkg: saved segmentation not found",
         id="segmentation-missing"),
    case(["{IN}/notgpkg.gpkg"], "notgpkg.gpkg: not a GeoPackage", id="not-a-geopackage"),
    case(["{IN}/wards_only.gpkg"], "wards_only.gpkg: not a saved segmentation",
         id="geopackage-without-our-tables"),
    case(["{B}"], "bare.gpkg: no ward x segment matrices yet; run `community-safety "
         "matrices` first", id="no-matrices-yet"),
    case(["{G}", "--out", "{IN}/empty.csv"], "empty.csv: is a file; --out needs a folder",
         id="out-is-a-file"),
    case(["{G}", "--out", "{IN}"], "in", id="out-holds-the-users-files"),
    case(["{G}", "--threshold", "five"], "argument --threshold: invalid int value",
         id="threshold-text"),
    case(["{IN}/sqlite.gpkg"], "sqlite.gpkg",
         id="sqlite-without-geopackage-tables"),
]


@pytest.mark.parametrize("args, message", EXPORT)
def test_export(env, capsys, args, message):
    if "--out" not in args:
        args = [*args, "--out", "{OUT}"]
    assert message in check(["export", *args], capsys, env)


# --- target ---------------------------------------------------------------------------------

FIRE_FILE = ["--incidents", "{S}/lfb_dwelling_fires.csv", *XY, "--date-column", "date"]
TARGET = [
    case(["--capacity", "0"], "a capacity of 0 visits: give 1 or more", id="capacity-0"),
    case(["--capacity", "-5"], "a capacity of -5 visits: give 1 or more",
         id="capacity-negative"),
    case([], "give a capacity: --capacity N visits, or --capacity-table FILE",
         id="no-capacity"),
    case(["--capacity-table", "{IN}/cap_unknown.csv"],
         "cap_unknown.csv: 1 ward codes are not wards of the segmentation (rows 2)",
         id="capacity-table-unknown-ward"),
    case(["--capacity-table", "{IN}/cap_empty.csv"], "cap_empty.csv: the file has no records",
         id="capacity-table-empty"),
    case(["--capacity-table", "{IN}/cap_column.csv"],
         "cap_column.csv: no column 'ward_code' (columns are ward, visits)",
         id="capacity-table-column"),
    case(["--capacity-table", "{IN}/cap_negative.csv"],
         "cap_negative.csv: 1 rows have visits that are not a whole number 0 or more (rows 2)",
         id="capacity-table-negative"),
    case(["--capacity-table", "{IN}/cap_text.csv"],
         "cap_text.csv: 1 rows have visits that are not a whole number", id="capacity-text"),
    case(["--capacity-table", "{IN}/nope.csv"], "nope.csv: file not found",
         id="capacity-table-missing"),
    case(["--capacity", "10", "--visited", "{IN}/visited_nodate.csv"],
         "visited_nodate.csv: no column 'date' (columns are id)", id="visited-without-dates"),
    case(["--capacity", "10", "--visited", "{IN}/visited_baddate.csv"],
         "visited_baddate.csv: 1 rows have no readable visit date (rows 2)",
         id="visited-impossible-date"),
    case(["--capacity", "10", "--visited", "{IN}/nope.csv"], "nope.csv: file not found",
         id="visited-missing"),
    case(["--capacity", "10", "--opted-out", "{IN}/optout_noid.csv"],
         "optout_noid.csv: no column 'id' (columns are code)", id="opted-out-id-column"),
    case(["--capacity", "10", "--opted-out", "{IN}/optout_unknown.csv"],
         "optout_unknown.csv: 1 of 1 rows have IDs not in the gazetteer (rows 2)",
         id="opted-out-unknown-ids"),
    case(["--capacity", "10", "--flags", "{IN}/flags_noflag.csv"],
         "flags_noflag.csv: no column 'flag' (columns are id)", id="flags-column"),
    case(["--capacity", "10", "--flag-weights", "smoker"],
         "--flag-weights: 'smoker' is not flag=weight", id="flag-weights-no-value"),
    case(["--capacity", "10", "--flag-weights", "smoker=high"],
         "--flag-weights: 'smoker=high' is not flag=weight", id="flag-weights-text"),
    case(["--capacity", "10", "--flag-weights", "smoker=0"],
         "--flag-weights: 'smoker=0' is not flag=weight with a weight above 0",
         id="flag-weight-0"),
    case(["--capacity", "10", "--wards", "E05999999"],
         "“E05999999” is not a ward of this segmentation", id="wards-unknown"),
    case(["--capacity", "10", "--segments", "42"], "--segments: 42 is not a segment (1 to 10)",
         id="segments-unknown"),
    case(["--capacity", "10", "--today", "2025-13-01"],
         "--today '2025-13-01' is not a date (YYYY-MM-DD)", id="today-not-a-date"),
    case(["--capacity", "10", "--incident-table", "floods"],
         "segmentation.gpkg: no incident profile 'floods' (there are: fires)",
         id="incident-table-unknown"),
    case(["--capacity", "10", "--incidents", "{IN}/nope.csv", *XY, "--date-column", "date"],
         "nope.csv: file not found", id="incidents-missing"),
    case(["--capacity", "10", "--incidents", "{S}/lfb_dwelling_fires.csv", *XY,
          "--date-column", "when"], "lfb_dwelling_fires.csv: no date column 'when' (its "
         "columns are date, borough, ward, easting_rounded, northing_rounded, hmo_yn, "
         "hmo_license, property_type)", id="incidents-date-column-missing"),
    case(["--capacity", "10", "--incidents", "{S}/lfb_dwelling_fires.csv", *XY,
          "--date-column", "property_type"],
         "lfb_dwelling_fires.csv: column 'property_type' holds no date (row 2: 'Purpose Built "
         "Flats/Maisonettes - Up to 3 storeys'): name the column that holds the incidents' "
         "dates", id="incidents-date-column-of-text"),
    case(["--capacity", "10", *FIRE_FILE, "--model", "--lookup", "{IN}/lookup_other.csv"],
         "lookup_other.csv: none of the segmentation's 749 output areas has a row (the "
         "lookup's first codes: E00000576, E00000577; the segmentation's: E0",
         id="lookup-of-another-borough"),
    case(["--capacity", "10", *FIRE_FILE, "--from", "2024-01-01", "--to", "2020-01-01"],
         "the window starts (2024-01-01) after it ends (2020-01-01)", id="from-after-to"),
    case(["--backtest", *FIRE_FILE], "the backtest needs --cut-off YYYY-MM-DD",
         id="backtest-without-cut-off"),
    case(["--backtest", "--cut-off", "1990-01-01", *FIRE_FILE],
         "the cut-off 1990-01-01 is outside the incidents' dates (2009-01-02 to 2024-08-29)",
         id="cut-off-before-the-dates"),
    case(["--backtest", "--cut-off", "2024-08-29", *FIRE_FILE],
         "the cut-off 2024-08-29 is outside the incidents' dates", id="cut-off-at-the-end"),
    case(["--backtest", "--cut-off", "2019-02-30", *FIRE_FILE],
         "the cut-off '2019-02-30' is not a date (YYYY-MM-DD)", id="cut-off-not-a-date"),
    case(["--backtest", "--cut-off", "2019-12-31"],
         "the backtest reads the incidents' dates: give --incidents FILE",
         id="backtest-without-incidents"),
    case(["--capacity", "10", "--segmentation", "{B}"],
         "bare.gpkg: no address gazetteer yet; run `community-safety gazetteer` first",
         id="no-gazetteer-yet"),
    case(["--capacity", "10", "--out", "{IN}/empty.csv"],
         "empty.csv: is a file; --out needs a folder", id="out-is-a-file"),
    case(["--capacity", "10", "--segmentation", "{IN}/notgpkg.gpkg"],
         "notgpkg.gpkg: not a GeoPackage", id="segmentation-not-a-geopackage"),
    case(["--capacity", "10", "--segmentation", "{IN}/wards_only.gpkg"],
         "wards_only.gpkg: not a saved segmentation", id="geopackage-without-our-tables"),
    case(["--capacity", "10", "--segments", "high"], "--segments",
         id="segments-text"),
    case(["--capacity", "ten"], "argument --capacity: invalid int value",
         id="capacity-in-words"),
]


@pytest.mark.parametrize("args, message", TARGET)
def test_target(env, capsys, args, message):
    segmentation = "{G}"
    if "--segmentation" in args:  # not an option of target: the positional, swapped in
        at = args.index("--segmentation")
        segmentation, args = args[at + 1], args[:at] + args[at + 2:]
    if "--out" not in args:
        args = [*args, "--out", "{OUT}"]
    if "--incidents" not in args and "--incident-table" not in args:
        args = [*args, "--incident-table", "fires"]
    assert message in check(["target", segmentation, *args, "--today", "2025-01-01"]
                            if "--today" not in args else ["target", segmentation, *args],
                            capsys, env)


# --- demo and check -------------------------------------------------------------------------

def test_demo_out_is_a_file(env, capsys):
    assert "empty.csv: is a file; --out needs a folder" in check(
        ["demo", "--out", "{IN}/empty.csv"], capsys, env)


def test_demo_out_holding_the_users_files(env, capsys):
    (env["IN"] / "notes.docx").write_text("my notes")
    err = check(["demo", "--out", "{IN}"], capsys, env)
    assert str(env["IN"]) in err


def test_demo_unknown_option(env, capsys):
    check(["demo", "--k", "4"], capsys, env)


def test_check_takes_no_arguments(env, capsys):
    check(["check", "numpy"], capsys, env)


@xfail("a missing package: exit 1 and two lines ('Missing Python packages: ...' then "
       "'Install them with: ...'), by design; listed for the lead to decide")
def test_check_with_a_package_missing(env, capsys, monkeypatch):
    from types import SimpleNamespace

    import community_safety.core.cli as cli

    missing = SimpleNamespace(dependency="scikit-learn")
    monkeypatch.setattr(cli, "dependency_problems", lambda: [missing])
    monkeypatch.setattr(cli, "install_command", lambda missing: "pip install scikit-learn")
    check(["check"], capsys, env)
