"""`export --for-partners`: the Camden sample taken through every step, then exported.

The partner GeoPackage must hold no address ID, no address point, no record-level table
and no count of 1..threshold in a suppressed table; its matrices are the CSV files'; and
every suppressed count holds against a reader who sees all the published tables (checked
independently, by integer programming, as in test_suppression).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import SAMPLE_DIR
from test_suppression import check_rule

from community_safety.core.cli import main
from community_safety.core.places.matrices import TOTAL, matrix_from_table
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.saved import save_segmentation
from community_safety.core.share.suppression import matrix_total_links, structural_links
from community_safety.core.store.geopackage import read_gpkg_table

POSTCODES = SAMPLE_DIR / "postcodes.csv"
FIRES = SAMPLE_DIR / "lfb_dwelling_fires.csv"
CRIMES = SAMPLE_DIR / "street_crime_2019_07.csv"
WARDS = SAMPLE_DIR / "wards_2022.gpkg"
THRESHOLD = 5
RECORD_LEVEL = ("addresses", "address_match_report", "incident_records_", "incident_counts_",
                "incident_areas_", "area_values")


def run(*args) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The sample through segment, gazetteer (the postcodes as addresses), fires, crimes
    (IDs pseudonymised) and possession of weapons (24 crimes: small counts per segment),
    ward matrices and ``export --for-partners``."""
    folder = tmp_path_factory.mktemp("partners")
    seg = build_segmentation(replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=5))
    gpkg = save_segmentation(seg, folder / "seg", plots=False)
    steps = [
        ["gazetteer", gpkg, POSTCODES, "--id", "Postcode", "--x", "Eastings", "--y",
         "Northings"],
        ["incidents", gpkg, FIRES, "--name", "fires", "--x", "easting_rounded", "--y",
         "northing_rounded", "--out", folder / "fires"],
        ["incidents", gpkg, CRIMES, "--name", "crime", "--id", "ID", "--x", "Easting", "--y",
         "Northing", "--out", folder / "crime"],
        ["incidents", gpkg, CRIMES, "--name", "weapons", "--x", "Easting", "--y", "Northing",
         "--category-column", "Category", "--category", "Possession of weapons", "--out",
         folder / "weapons"],
        ["matrices", gpkg, "--wards", WARDS, "--ward-code", "WD22CD", "--ward-name", "WD22NM"],
    ]
    for args in steps:
        assert run(*args) == 0, args
    started = time.perf_counter()
    assert run("export", gpkg, "--out", folder / "out", "--for-partners") == 0
    seconds = time.perf_counter() - started
    print(f"\nexport --for-partners of the Camden sample: {seconds:.1f} s")
    return gpkg, folder / "out", seconds


def postcodes_in(raw: bytes) -> set[str]:
    """Every postcode-shaped run of bytes, starting anywhere (overlapping): SQLite stores
    text as it is, next to other bytes."""
    shape = rb"(?=([A-Z]{1,2}[0-9][A-Z0-9]? *[0-9][A-Z]{2}))"
    return {found.decode() for found in re.findall(shape, raw)}


def every_table(path) -> dict[str, pd.DataFrame]:
    """Every table in the file, GeoPackage system tables and styles included."""
    with sqlite3.connect(path) as db:
        names = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        tables = {name: pd.read_sql_query(f'SELECT * FROM "{name}"', db) for name in names}
    db.close()
    return tables


def test_the_partner_geopackage_is_written_with_the_csv_files(exported):
    _, out, seconds = exported
    assert (out / "segmentation_for_partners.gpkg").exists()
    assert (out / "partner_matrices.xlsx").exists() and (out / "areas.csv").exists()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no leftovers
    assert seconds < 60  # a few seconds on a quiet machine


def test_no_address_id_or_record_identifier_anywhere_in_the_file(exported):
    _, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    raw = path.read_bytes()
    postcodes = pd.read_csv(POSTCODES, dtype=str)["Postcode"]
    spellings = set(postcodes) | set(postcodes.str.replace(r"\s+", " ", regex=True)) | set(
        postcodes.str.replace(r"\s+", "", regex=True))
    assert not postcodes_in(raw) & spellings
    assert postcodes_in(exported[0].read_bytes()) & spellings  # (the check finds them there)
    crime_ids = set(pd.read_csv(CRIMES, dtype=str)["ID"].dropna())
    pseudonyms = set(read_gpkg_table(exported[0], "incident_records_crime")["record_id"])
    text = {str(v) for table in every_table(path).values() for v in table.to_numpy().ravel()
            if isinstance(v, str)}
    words = {w for v in text for w in re.split(r"[\s,;:()\[\]{}\"'=<>/]+", v)}
    assert not words & crime_ids and not words & pseudonyms
    assert not text & crime_ids and not text & pseudonyms


def test_no_record_level_table_and_no_point_geometry(exported):
    _, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert not [name for name in layers if name.startswith(RECORD_LEVEL)]
    assert {name: kind for name, kind in layers.items() if kind} == {
        "segments": "Polygon", "wards": "MultiPolygon"}
    for name in layers:
        table = read_gpkg_table(path, name)
        assert not {"record_id", "row", "uprn", "postcode"} & {c.lower() for c in table}, name
    reconciliation = read_gpkg_table(path, "reconciliation")
    assert list(reconciliation.columns) == ["source", "area_code", "status", "detail"]
    left_out = read_gpkg_table(path, "notes").set_index("item").loc["Left out", "value"]
    for name in ("addresses", "address_match_report", "incident_records_fires",
                 "incident_records_crime", "area_values"):
        assert name in left_out


def test_no_exact_address_coordinates(exported):
    _, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    points = pd.read_csv(POSTCODES)
    exact = set(zip(points["Eastings"].astype(float), points["Northings"].astype(float)))
    for name in ("segments", "wards"):
        vertices = shapely.get_coordinates(gpd.read_file(path, layer=name).geometry.values)
        assert not exact & set(map(tuple, vertices)), name
    eastings, northings = set(points["Eastings"].astype(float)), set(points["Northings"])
    for name, table in every_table(path).items():
        numbers = table.select_dtypes("number")
        for column in numbers:
            values = set(numbers[column].dropna().astype(float))
            assert not (values & eastings and values & northings), (name, column)


def test_no_small_count_in_a_suppressed_table(exported):
    _, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    layers = [name for name, _ in pyogrio.list_layers(path)]
    counts = [name for name in layers if name.startswith("matrix_")
              and not name.endswith("_pct")]
    assert len(counts) == 7
    for name in counts:
        table = read_gpkg_table(path, name).drop(columns=["ward", "ward_name"])
        values = table.to_numpy(dtype=float)
        if name == "matrix_areas":  # every area's segment and ward are public: shown whole
            source = read_gpkg_table(exported[0], name).drop(columns=["ward", "ward_name"])
            assert np.array_equal(values, source.to_numpy(dtype=float))
            continue
        assert not ((values >= 1) & (values <= THRESHOLD)).any(), name
        assert np.isnan(values).any() or name in ("matrix_households", "matrix_residents")
    for name in ("incident_profile_fires", "incident_profile_crime",
                 "incident_profile_weapons"):
        profile = read_gpkg_table(path, name)
        small = profile["count"].between(1, THRESHOLD)
        assert not small.any(), name
        hidden = profile["count"].isna()
        for column in ("share_pct", "rate_per_1000_households", "index", "index_low_95",
                       "representation"):
            assert profile.loc[hidden, column].isna().all(), (name, column)
    wards = gpd.read_file(path, layer="wards")
    totals = wards[[c for c in wards.columns if c.endswith("_total")]].to_numpy(dtype=float)
    assert not ((totals >= 1) & (totals <= THRESHOLD)).any()
    weapons = read_gpkg_table(path, "incident_profile_weapons").set_index("segment")
    original = read_gpkg_table(exported[0], "incident_profile_weapons").set_index("segment")
    small = original["count"].between(1, THRESHOLD)
    assert small.any()  # the sample has segments with few such crimes
    assert weapons.loc[small, "count"].isna().all()
    assert weapons["count"].isna().sum() >= 2


def test_matrices_are_the_csv_files_and_hold_against_a_reader_of_everything(exported):
    gpkg, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    truth, published = {}, {}
    for name, _ in pyogrio.list_layers(gpkg):
        if not name.startswith("matrix_"):
            continue
        measure = name.removeprefix("matrix_")
        truth[measure] = matrix_from_table(read_gpkg_table(gpkg, name))[0]
        published[measure] = matrix_from_table(read_gpkg_table(path, name))[0]
        csv = pd.read_csv(out / f"{measure}.csv", dtype=str, encoding="utf-8-sig")
        csv = csv.drop(columns="Ward name").set_index("Ward code")
        shown = published[measure]
        assert (csv.to_numpy() == np.where(shown.isna(), "*", shown.fillna(0).astype(
            "int64").astype(str))).all(), measure
    links = structural_links(truth)
    # and the incident counts per segment, published beside the matrices
    for incident in ("fires", "crime", "weapons"):
        for tables, source in ((truth, gpkg), (published, path)):
            profile = read_gpkg_table(source, f"incident_profile_{incident}")
            counts = pd.Series(profile["count"].to_numpy(dtype=float),
                               index=profile["segment"].astype(int).tolist())
            # the study-area total is known wherever a share is shown (count / share)
            shown = profile["share_pct"].notna().any() or counts.notna().all()
            counts[TOTAL] = read_gpkg_table(gpkg, f"incident_profile_{incident}")[
                "count"].sum() if shown else np.nan
            tables[f"profile {incident}"] = counts
        links += matrix_total_links(f"{incident}_incidents", truth[f"{incident}_incidents"],
                                    f"profile {incident}", truth[f"profile {incident}"])
    started = time.perf_counter()
    check_rule(truth, published, THRESHOLD, links, public={"areas"})
    print(f"\nindependent check of {len(truth)} Camden tables: "
          f"{time.perf_counter() - started:.1f} s")
    small = sum(int(((t.to_numpy(dtype=float) >= 1) & (t.to_numpy(dtype=float)
                                                        <= THRESHOLD)).sum())
                for t in truth.values())
    hidden = sum(int(np.isnan(t.to_numpy(dtype=float)).sum()) for t in published.values())
    print(f"Camden: {small} counts of 1..{THRESHOLD}; {hidden} entries suppressed in all")


def test_suppressed_counts_are_said_as_the_file_holds_them_and_variables_in_words(
        exported):
    """A suppressed count is NULL in the GeoPackage (the Notes say so, not '*', which the
    CSV files use), and each table of variables gives their descriptions beside the codes."""
    gpkg, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    rule = read_gpkg_table(path, "notes").set_index("item").loc["Suppression rule", "value"]
    assert "left empty (NULL)" in rule and "'*'" not in rule
    assert any(read_gpkg_table(path, name).isna().any().any()
               for name, _ in pyogrio.list_layers(path) if name.startswith("matrix_"))
    labels = read_gpkg_table(gpkg, "variable_labels").set_index("variable")["description"]
    for name in ("segment_profiles", "screening", "standardisation"):
        table = read_gpkg_table(path, name)
        assert list(table.columns[:2]) == ["variable", "description"], name
        said = table.set_index("variable")["description"]
        assert (said == labels.reindex(said.index).fillna(said)).all(), name
        assert (said != said.index).mean() > 0.9, name  # words, not the codes again
    notes = read_gpkg_table(path, "notes").set_index("item")["value"]
    assert "centres and subcentres have a column per variable" in notes["Variables"]


def test_layers_open_styled_with_their_descriptions(exported):
    gpkg, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    styles = read_gpkg_table(path, "layer_styles").set_index("f_table_name")
    source = read_gpkg_table(gpkg, "layer_styles").set_index("f_table_name")
    assert set(styles.index) == {"segments", "wards"}
    for layer in styles.index:
        assert styles.loc[layer, "styleQML"] == source.loc[layer, "styleQML"]
        assert bool(styles.loc[layer, "useAsDefault"])
    with sqlite3.connect(path) as db:
        described = dict(db.execute("SELECT table_name, description FROM gpkg_contents"))
    db.close()
    assert "segment 1 = least deprived" in described["segments"].lower()
    assert described["wards"]
    manifest = json.loads(read_gpkg_table(path, "manifest")["manifest"].iloc[0])
    files = [manifest.get("project") or "", *(source["file"] for source in manifest["inputs"])]
    assert files and not [f for f in files if "/" in f or "\\" in f]


def test_a_threshold_below_1_is_refused_and_nothing_is_written(exported, tmp_path, capsys):
    gpkg, _, _ = exported
    assert run("export", gpkg, "--out", tmp_path / "x", "--for-partners", "--threshold",
               "0") == 2
    err = capsys.readouterr().err
    assert "would publish small counts" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_the_layers_open_styled_in_qgis(exported, qgis_app):
    core = pytest.importorskip("qgis.core")
    _, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    segments = core.QgsVectorLayer(f"{path}|layername=segments", "segments", "ogr")
    wards = core.QgsVectorLayer(f"{path}|layername=wards", "wards", "ogr")
    assert segments.isValid() and wards.isValid()
    assert segments.renderer().type() == "categorizedSymbol"
    assert len(segments.renderer().categories()) >= 10
    assert wards.renderer().type() != "singleSymbol"
    assert "least deprived" in segments.metadata().abstract()


def test_incident_profiles_say_their_period_and_rates_a_year_as_their_csv_files(exported):
    """A partner reads "31 per 1,000 households" as nothing without its period: the
    profiles carry the segment's name, the period, whole counts and the rates a year, as
    the profile's CSV file does, and where the incidents came from (not left out)."""
    gpkg, out, _ = exported
    path = out / "segmentation_for_partners.gpkg"
    fires = read_gpkg_table(path, "incident_profile_fires").set_index("segment")
    csv = pd.read_csv(out.parent / "fires" / "incident_profile_fires.csv").set_index("segment")
    assert (fires["period"] == "Jan 2009 – Aug 2024").all()
    assert fires["segment_name"].tolist() == csv["segment_name"].tolist()
    for column in ("count", "rate_per_1000_households", "rate_per_1000_households_per_year",
                   "rate_per_1000_residents_per_year", "index"):
        shown = fires[column].notna()
        assert shown.sum() >= len(fires) - 2, column
        assert np.allclose(fires.loc[shown, column], csv.loc[shown, column]), column
    assert str(fires["count"].dtype).lower().startswith("int")
    about = read_gpkg_table(path, "incident_about_fires").iloc[0]
    source = read_gpkg_table(gpkg, "incident_about_fires").iloc[0]
    assert (about["period"], about["records_counted"]) == (source["period"],
                                                           source["records_counted"])
    notes = read_gpkg_table(path, "notes").set_index("item")["value"]
    assert notes["Incidents: Fires"].startswith(
        f"From lfb_dwelling_fires.csv, Jan 2009 – Aug 2024, all categories; "
        f"{source['records_counted']:,} of {source['records_read']:,} records were counted")
    assert "incident_about_fires" not in notes["Left out"]
    crime = read_gpkg_table(path, "incident_profile_crime")
    assert (crime["period"] == "Jul 2019").all()  # a month: no rate a year
    assert "rate_per_1000_households_per_year" not in crime.columns


def test_small_counts_of_what_a_profile_leaves_out_are_suppressed_for_partners():
    """The note on incidents in output areas the profile does not count gives counts; a
    partner reads those from 1 to the threshold as suppressed, never the areas' number
    (places, published in full)."""
    from community_safety.core.places.incidents import not_profiled_note
    from community_safety.core.share.partner_words import incident_note

    counts = pd.DataFrame({"fires": [40, 3, 0, 2], "fatalities": [0, 1, 0, 0]},
                          index=["A", "B", "C", "D"])
    segments = pd.Series([1, 2], index=["A", "C"])
    note = not_profiled_note(counts, pd.Index(["A"]), segments, "households")
    assert note == ("Not in the profile's counts, rates and indices: 5 fires, 1 fatality "
                    "in 2 output areas without a segment (too little data)")
    about = {"source": "fires.csv", "period": "Jan 2009 – Aug 2024", "categories": "all",
             "records_read": 60, "records_counted": 40, "records_not_profiled": 5,
             "note": note}
    said = incident_note(about, threshold=5)
    assert "40 of 60 records were counted" in said and ", * in output areas the" in said
    assert "indices: * fires, * fatalities in 2 output areas" in said
    assert "indices: 5 fires, 1 fatality in 2" in incident_note(about, threshold=0)
    # a suppressed one is said in the plural: the singular would tell the count
    assert "indices: 5 fires, * fatalities in 2" in incident_note(about, threshold=1)
