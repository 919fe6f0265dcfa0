"""A segment's name never says what its figures contradict (a tester's Bromley and Harrow,
session 38): a share of households is said of households ("One-person households", never
"People living alone" where 52% of households but 26.5% of residents live alone); a segment
where a fifth have no qualifications and a third a degree is "more often without
qualifications", never "with few qualifications"; 71% is "about seven in ten", not "just
over two thirds". A council's own percentage columns with no labels file are named in the
vocabulary's words where their names are usual ones ("pct_housing_assoc": "housing
association homes") and quoted as they are otherwise, never made into phrases such as
"Residents with housing assoc with one person" or "... owning their homes outright with
semi"; the console says which.

Real data: the Camden sample (2011 tables), Kensington and Chelsea's Census 2021 tables
(``test_names_more_often``), Sutton's Census 2021 tables made into percentage columns named
as the tester named Harrow's."""

from __future__ import annotations

import json
import re

import pandas as pd
from test_names_more_often import kensington  # noqa: F401  (the module's fixture)
from test_portraits import camden, camden_texts  # noqa: F401
from test_segment_inputs_said import council

from community_safety.core.cli import main
from community_safety.core.segment.descriptors import MOST
from community_safety.core.segment.portraits import how_many
from community_safety.core.segment.words import words_for


def test_a_share_of_households_is_said_of_households(kensington, camden_texts):  # noqa: F811
    for texts, described in (kensington[1:], camden_texts):
        said = " ".join([*texts["name"], *texts["portrait"]])
        assert "living alone" not in " ".join(texts["name"]), texts["name"].tolist()
        alone = described[described["in_name"] & described["label"].str.contains(
            r"^1 person in household|one person household", case=False)]
        for _, row in alone.iterrows():
            name = texts.loc[row["segment"], "name"]
            assert re.search(r"households", name, re.IGNORECASE), name
            assert row["object"] in name
        # the portrait: of households ("... of households are of one person (52%, ...")
        if "ts0170003" in set(described["variable"]):
            assert "households are of one person (" in said or alone.empty
    assert words_for("ts0170003", {"ts0170003": "1 person in household"}).high == (
        "", "One-person households")


def test_no_qualifications_is_said_as_a_share_never_few(camden_texts):  # noqa: F811
    texts, described = camden_texts
    rows = described[described["label"].str.contains("no qualifications", case=False)
                     & (described["direction"] == "high") & (described["words"] != "")]
    assert len(rows), "no segment high on no qualifications in the sample"
    for _, row in rows.iterrows():
        if row["mean"] < MOST:  # a fifth, not most: "more often without qualifications"
            assert row["words"] == "more often without qualifications", row
        else:
            assert row["words"] == "without qualifications", row
    said = " ".join([*texts["name"], *texts["portrait"]])
    assert "few qualifications" not in said


def test_seventy_percent_is_seven_in_ten():
    assert how_many(71) == "about seven in ten"
    assert how_many(70.6) == "about seven in ten"
    assert how_many(66.7) == "about two thirds of"


# the tester's Harrow columns, made from Sutton's census tables: (table, total, cells)
COLUMNS = {
    "pct_owned_outright": ("ts054", "ts0540001", ["ts0540003"]),
    "pct_mortgage": ("ts054", "ts0540001", ["ts0540004"]),
    "pct_council_rent": ("ts054", "ts0540001", ["ts0540008"]),
    "pct_housing_assoc": ("ts054", "ts0540001", ["ts0540009"]),
    "pct_private_rent": ("ts054", "ts0540001", ["ts0540011"]),
    "pct_no_car": ("ts045", "ts0450001", ["ts0450002"]),
    "pct_two_cars": ("ts045", "ts0450001", ["ts0450004"]),
    "pct_one_person": ("ts017", "ts0170001", ["ts0170003"]),
    "pct_large_household": ("ts017", "ts0170001", ["ts0170007", "ts0170008", "ts0170009",
                                                   "ts0170010"]),
    "pct_never_worked": ("ts062", "ts0620001", ["ts0620009"]),
    "pct_students": ("ts062", "ts0620001", ["ts0620010"]),
    "pct_own_account": ("ts062", "ts0620001", ["ts0620005"]),  # a name no vocabulary knows
    "pct_bad_health": ("ts037", "ts0370001", ["ts0370005", "ts0370006"]),
}


def test_a_councils_own_column_names_read_as_english_or_are_quoted(tmp_path, capsys):
    project = council(tmp_path, tables=(
        '[[tables]]\npath = "ts001.csv"\ncode = "OA"\nvariables = []\n'
        'context = ["ts0010001"]\n'
        '[[tables]]\npath = "ts041.csv"\ncode = "OA"\nvariables = []\n'
        'context = ["ts0410001"]\n'
        '[[tables]]\npath = "pct.csv"\ncode = "OA11CD"\n'
        f'variables = {list(COLUMNS)}\n'
        '[[tables]]\npath = "imd.csv"\ncode = "LSOA11CD"\njoin_on = "LSOA11CD"\n'
        'context = ["IMD19"]\n'))
    folder = project.parent
    text = project.read_text().replace("k = 4", "k = 8")
    project.write_text(text)
    tables = {t: pd.read_csv(folder / f"{t}.csv").set_index("OA")
              for t in {t for t, _, _ in COLUMNS.values()}}
    pct = pd.DataFrame({column: (100 * tables[t][cells].sum(axis=1) / tables[t][total]).round(1)
                        for column, (t, total, cells) in COLUMNS.items()})
    pct.rename_axis("OA11CD").reset_index().to_csv(folder / "pct.csv", index=False)
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    err = capsys.readouterr().err
    names = pd.read_csv(out / "segment_summary.csv")["name"].tolist()
    clustered = json.loads((out / "manifest.json").read_text())["results"][
        "clustered_variables"]
    for name in names:
        quoted = re.findall(r"'([^']+)'", name)
        assert set(quoted) <= {"pct_own_account"}, name  # only the column no one knows
        bare = re.sub(r"'[^']+'", "", name)
        assert "pct" not in bare and "_" not in bare, name
        # a column's name is never made into a phrase from its parts
        for made in ("housing assoc", "council rent", "with one person", "with semi",
                     "never worked with", "who are more often never", "many two cars",
                     "flats converted", "flats purpose built", "large household"):
            assert not re.search(rf"\b{made}\b", name, re.IGNORECASE), name
    # the console says what happens: the known names in words, the other quoted
    assert "pct_own_account" in clustered, clustered
    first = clustered[0] if clustered[0] != "pct_own_account" else clustered[1]
    words = " ".join(w for w in words_for(first, {}).high if w)
    assert ("No labels file was given, so the segment names and pen portraits say in words "
            f"the columns whose names they know (e.g. '{first}' as \"{words}\", "
            f"{len(clustered) - 1} of {len(clustered)}) and the others by their column names "
            "(e.g. 'pct_own_account')") in err, err
    assert "column codes" not in err


def test_areas_in_no_table_are_said_so_in_every_step_and_a_single_area_is_one(tmp_path,
                                                                            capsys,
                                                                            monkeypatch):
    """Sutton's 10 output areas with no row in any of its Census 2021 tables (2011 codes
    changed in 2021): the segment step says "no row in any of the tables"; the gazetteer,
    incidents, matrices and target steps said "too little data". Each now says what the
    segment step says, from one place (``words.why_no_segment``)."""
    monkeypatch.setenv("COMMUNITY_SAFETY_KEY", "Qm7#zR2!vKp9@tL4wX8$nB-test")
    project = council(tmp_path)
    folder, out = project.parent, tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    assert "have no row in any of the tables" in capsys.readouterr().err
    gpkg = str(out / "segmentation.gpkg")
    fires = ["--x", "easting_rounded", "--y", "northing_rounded", "--date-column", "date"]
    assert main(["gazetteer", gpkg, str(folder / "postcodes.csv"), "--id", "Postcode",
                 "--x", "Eastings", "--y", "Northings"]) == 0
    assert main(["incidents", gpkg, str(folder / "fires.csv"), "--name", "fires", *fires,
                 "--out", str(tmp_path / "fires")]) == 0
    assert main(["matrices", gpkg, "--wards", str(folder / "wards.gpkg"), "--ward-code",
                 "WD13CD", "--ward-name", "WD13NM"]) == 0
    assert main(["target", gpkg, "--out", str(tmp_path / "target"), "--capacity", "200",
                 "--incidents", str(folder / "fires.csv"), *fires]) == 0
    said = capsys.readouterr()
    written = [said.out, said.err,
               *(p.read_text() for p in (tmp_path / "target").glob("*.csv")),
               *(p.read_text() for p in (tmp_path / "fires").glob("*.csv"))]
    text = "\n".join(written)
    phrase = "without a segment (no row in any of the tables)"
    assert "without one (no row in any of the tables)" in said.out  # the gazetteer
    assert f"output areas are {phrase}: they" in said.err  # the matrices
    assert f"fires of the window in output areas {phrase}" in text  # the target summary
    assert re.search(r"incidents in \d+ output areas without a segment \(no row", text)
    assert "too little data" not in text

    # a small segment of one area is "1 area"
    from community_safety.core.segment.build import small_segments_note

    manifest = {"parameters": {"min_share": 2.0}, "results": {"small_segments": [
        {"segment": 4, "areas": 1, "share_of_areas": 0.16}]}}
    assert "segment 4 (1 area, 0.16%)" in small_segments_note(manifest)
