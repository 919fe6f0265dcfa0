"""Ward x segment matrices: every area lands in exactly one ward, and the totals add up.

Small hand-made ward layers from the sample's wards: one ward dropped (its areas fall in no
ward), a code on two features, a ward without a code, wards with no geometry; and lookups
with an area given two wards, an area missing, a code with two names. What would change the
matrices' totals is refused in one line naming it, exit 2, the GeoPackage byte-identical;
a ward with no geometry is a warning and the matrices still add up to the segmentation's
totals (checked before anything is written)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from conftest import SAMPLE_DIR, fresh_copy, saved_sample
from shapely.geometry import MultiPolygon

from community_safety.core.cli import main
from community_safety.core.errors import InputError
from community_safety.core.places.matrices import (
    TOTAL,
    check_matrix_totals,
    usable_wards,
    ward_segment_matrices,
    wards_from_polygons,
)
from community_safety.core.share.partner_steps import WardSource, matrices_step
from community_safety.core.store.geopackage import read_gpkg_table

WARDS = SAMPLE_DIR / "wards_2022.gpkg"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return saved_sample(tmp_path_factory.mktemp("built") / "seg", n_init=2)


@pytest.fixture
def gpkg(built, tmp_path):
    return fresh_copy(built[1], tmp_path)


@pytest.fixture(scope="module")
def wards():
    return gpd.read_file(WARDS)


@pytest.fixture(scope="module")
def lookup(built, wards):
    """Area -> ward as the polygons give it, as a lookup table."""
    table = wards_from_polygons(built[0].areas, wards, "WD22CD", "WD22NM")
    table.columns = ["WD22CD", "WD22NM"]
    return table.rename_axis("OA11CD").reset_index()


def run(args, capsys):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def fails(args, capsys, gpkg) -> str:
    before = gpkg.read_bytes()
    code, _, err = run(args, capsys)
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("community-safety: error: ")
    assert "Traceback" not in err
    assert gpkg.read_bytes() == before
    assert sorted(p.name for p in gpkg.parent.iterdir()) == ["segmentation.gpkg"]
    return err


def write(frame: gpd.GeoDataFrame, path) -> str:
    frame.to_file(path, driver="GPKG", layer="wards")
    return path


def matrices_args(gpkg, wards_path, *extra):
    return ["matrices", gpkg, "--wards", wards_path, "--ward-code", "WD22CD", "--ward-name",
            "WD22NM", *extra]


def test_the_sample_wards_hold_every_area_once(gpkg, capsys, built):
    code, out, err = run(matrices_args(gpkg, WARDS), capsys)
    assert code == 0 and err == ""
    areas = read_gpkg_table(gpkg, "matrix_areas").set_index("ward")
    assert areas.loc[TOTAL, TOTAL] == 749
    households = read_gpkg_table(gpkg, "matrix_households").set_index("ward")
    assert households.loc[TOTAL, TOTAL] == pytest.approx(built[0].summary["households"].sum())


@pytest.mark.parametrize("rule", ["overlap", "centroid"])
def test_areas_in_no_ward_are_refused(gpkg, capsys, tmp_path, wards, rule, built):
    dropped = wards.iloc[1:]  # the first ward's polygon is missing
    err = fails(matrices_args(gpkg, write(dropped, tmp_path / "w.gpkg"), "--rule", rule),
                capsys, gpkg)
    assert "w.gpkg:" in err and "output areas fall in no ward (E00" in err
    assert "the wards must cover every area" in err
    # the areas named are the dropped ward's
    inside = wards_from_polygons(built[0].areas, wards, "WD22CD", rule=rule)
    first = sorted(inside.index[inside["ward_code"] == wards["WD22CD"].iloc[0]])[0]
    assert first in err


def test_a_ward_code_on_two_features_is_refused(gpkg, capsys, tmp_path, wards):
    doubled = wards.copy()
    doubled.loc[1, "WD22CD"] = doubled.loc[0, "WD22CD"]
    err = fails(matrices_args(gpkg, write(doubled, tmp_path / "w.gpkg")), capsys, gpkg)
    code = wards.loc[0, "WD22CD"]
    assert f"a ward code on more than one feature: {code} (2 features)" in err
    assert "dissolve the layer by 'WD22CD'" in err


def test_a_ward_without_a_code_is_refused(gpkg, capsys, tmp_path, wards):
    blank = wards.copy()
    blank.loc[3, "WD22CD"] = None
    err = fails(matrices_args(gpkg, write(blank, tmp_path / "w.gpkg")), capsys, gpkg)
    assert "1 ward feature has no code in 'WD22CD' (feature 4, counting from 1)" in err


def test_wards_with_no_geometry_are_a_warning(gpkg, capsys, tmp_path, wards):
    extra = gpd.GeoDataFrame(
        {"WD22CD": ["E05999998", "E05999999"], "WD22NM": ["Nowhere", "Empty"],
         "LAD22CD": ["E09000007"] * 2, "LAD22NM": ["Camden"] * 2},
        geometry=[None, MultiPolygon()], crs=wards.crs)
    with_empty = pd.concat([wards, extra], ignore_index=True)
    code, out, err = run(matrices_args(gpkg, write(with_empty, tmp_path / "w.gpkg")), capsys)
    assert code == 0
    assert err.splitlines() == ["community-safety: warning: w.gpkg: 2 wards have no "
                                "geometry and get no areas: E05999998 (Nowhere), E05999999 "
                                "(Empty)"]
    areas = read_gpkg_table(gpkg, "matrix_areas").set_index("ward")
    assert areas.loc[TOTAL, TOTAL] == 749 and len(areas) == 21
    assert len(gpd.read_file(gpkg, layer="wards")) == 20


def test_warnings_reach_a_caller_such_as_processing(gpkg, wards):
    extra = gpd.GeoDataFrame({"WD22CD": ["E05999999"], "WD22NM": ["Empty"]},
                             geometry=[None], crs=wards.crs)
    frame = pd.concat([wards[["WD22CD", "WD22NM", "geometry"]], extra], ignore_index=True)
    said = []
    matrices, layer = matrices_step(gpkg, WardSource(WARDS, "WD22CD", "WD22NM"),
                                    ward_frame=gpd.GeoDataFrame(frame, crs=wards.crs),
                                    warn=said.append)
    assert said == ["wards_2022.gpkg: 1 ward has no geometry and gets no areas: "
                    "E05999999 (Empty)"]
    assert matrices["areas"].loc[TOTAL, TOTAL] == 749


def lookup_args(gpkg, path):
    return ["matrices", gpkg, "--wards", path, "--ward-code", "WD22CD", "--ward-name",
            "WD22NM", "--rule", "lookup", "--lookup-area-column", "OA11CD"]


def test_a_lookup_gives_the_same_matrices(gpkg, capsys, tmp_path, lookup):
    run(matrices_args(gpkg, WARDS), capsys)
    by_polygons = read_gpkg_table(gpkg, "matrix_areas")
    lookup.to_csv(tmp_path / "lookup.csv", index=False)
    code, _, err = run(lookup_args(gpkg, tmp_path / "lookup.csv"), capsys)
    assert code == 0, err
    assert read_gpkg_table(gpkg, "matrix_areas").equals(by_polygons)


def test_a_lookup_naming_areas_not_in_the_boundaries_says_so(gpkg, capsys, tmp_path, lookup):
    """A ward lookup with a row for an output area code the boundaries do not hold
    (E00999999, a tester's typing slip) and one that is no output area code at all: the
    matrices are made, and one warning says how many codes were left out and which, the
    slip as outside the study area, the other as not a code of the areas' kind."""
    extra = pd.DataFrame({"OA11CD": ["E00999999", "Bickley"],
                          "WD22CD": lookup["WD22CD"].iloc[0], "WD22NM": lookup["WD22NM"].iloc[0]})
    pd.concat([lookup, extra]).to_csv(tmp_path / "lookup.csv", index=False)
    code, _, err = run(lookup_args(gpkg, tmp_path / "lookup.csv"), capsys)
    assert code == 0, err
    said = [line for line in err.splitlines() if "lookup.csv" in line]
    assert said == ["community-safety: warning: lookup.csv: 2 area codes of the lookup are "
                    "not among the segmentation's output areas and are left out: 1 outside "
                    "the study area (E00999999); 1 not a code of the segmentation's kind of "
                    "area (BICKLEY)"]
    lookup.to_csv(tmp_path / "lookup.csv", index=False)  # the lookup as it should be
    code, _, err = run(lookup_args(gpkg, tmp_path / "lookup.csv"), capsys)
    assert code == 0 and "lookup.csv" not in err


def test_a_lookup_giving_an_area_two_wards_is_refused(gpkg, capsys, tmp_path, lookup):
    row = lookup.iloc[[0]].assign(WD22CD="E05000001", WD22NM="Elsewhere")
    pd.concat([lookup, row, lookup.iloc[[5]]]).to_csv(tmp_path / "lookup.csv", index=False)
    err = fails(lookup_args(gpkg, tmp_path / "lookup.csv"), capsys, gpkg)
    area = lookup["OA11CD"].iloc[0]
    assert (f"lookup.csv: output area {area} is given more than one ward "
            f"({lookup['WD22CD'].iloc[0]}, E05000001)") in err


def test_a_lookup_missing_areas_is_refused(gpkg, capsys, tmp_path, lookup):
    lookup.iloc[3:].to_csv(tmp_path / "lookup.csv", index=False)
    err = fails(lookup_args(gpkg, tmp_path / "lookup.csv"), capsys, gpkg)
    missing = sorted(lookup["OA11CD"].iloc[:3])
    assert f"3 output areas fall in no ward ({', '.join(missing)})" in err


def test_a_lookup_giving_a_ward_code_two_names_is_refused(gpkg, capsys, tmp_path, lookup):
    renamed = lookup.copy()
    renamed.loc[0, "WD22NM"] = "Another name"
    renamed.to_csv(tmp_path / "lookup.csv", index=False)
    err = fails(lookup_args(gpkg, tmp_path / "lookup.csv"), capsys, gpkg)
    assert f"ward code {lookup['WD22CD'].iloc[0]} has more than one name" in err


def test_usable_wards_keeps_the_good_ones(wards):
    kept, said = usable_wards(wards, "WD22CD", "WD22NM", "w.gpkg")
    assert len(kept) == 20 and said == []
    with pytest.raises(InputError, match="no ward code column 'CODE'"):
        usable_wards(wards, "CODE", None, "w.gpkg")


def test_matrix_totals_must_match_the_segmentation(built):
    seg = built[0]
    classified = seg.areas["segment"].dropna().astype(int)
    ward = pd.DataFrame({"ward_code": ["W1" if i % 2 else "W2"
                                       for i in range(len(classified))]},
                        index=classified.index)
    households = seg.values[seg.manifest["parameters"]["households"]]
    matrices = ward_segment_matrices(ward, classified, {"areas": None,
                                                        "households": households})
    check_matrix_totals(matrices, seg.summary)  # adds up
    short = seg.summary.copy()
    short.loc[short.index[2], "areas"] += 1
    with pytest.raises(InputError, match=(rf"areas matrix does not add up to the "
                                          rf"segmentation's areas \(segment "
                                          rf"{short.index[2]}: ")):
        check_matrix_totals(matrices, short)
    matrices["households"].loc[TOTAL, TOTAL] += 10
    with pytest.raises(InputError, match="households matrix does not add up"):
        check_matrix_totals(matrices, seg.summary)
