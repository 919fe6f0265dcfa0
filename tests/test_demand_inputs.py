"""Frequent service users on inputs a tester found wrong: lines repeated whole, home areas
outside the areas file, one person linked on an ID in one source and on names and date of
birth in another, and messages naming file lines and files. Each on the SYNTHETIC sample's
real files, changed as the tester changed them, through the command."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import test_demand
from conftest import SAMPLE_DIR
from test_demand import KEY

from community_safety.core.cli import main
from community_safety.core.demand.output import (
    NOTES_FILE,
    RANKED_FILE,
    RECONCILIATION_FILE,
    ROWS_FILE,
)
from community_safety.core.demand.reconciliation import BAD_DURATION, COUNTED, DUPLICATE

SAMPLE = SAMPLE_DIR / "service_users"
key_file = test_demand.key_file  # the fixtures: a key file, the sample segmented
segmentation = test_demand.segmentation


def sample_copy(tmp_path: Path, name: str = "sample") -> Path:
    folder = tmp_path / name
    shutil.copytree(SAMPLE, folder)
    return folder


def table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def run(folder: Path, out: Path, key_file: Path, *extra) -> int:
    return main(["demand", str(folder / "service_users.toml"), "--out", str(out),
                 "--key-file", str(key_file), *extra])


def notes(out: Path) -> str:
    return " ".join(pd.read_csv(out / NOTES_FILE, encoding="utf-8-sig")["value"])


def used(out: Path) -> str:
    values = pd.read_csv(out / NOTES_FILE, encoding="utf-8-sig").set_index("item")["value"]
    return values["Records used"]


# --- lines repeated whole ----------------------------------------------------------------------

def test_lines_repeated_whole_are_skipped_as_duplicates_by_line(tmp_path, capsys, key_file):
    """50 crime-role lines and 20 resource lines appended again: the same people, records
    used and ranks as without them; each copy in the window reconciled as a duplicate naming
    the line it repeats, and counted in the notes."""
    plain = tmp_path / "plain"
    assert run(SAMPLE, plain, key_file) == 0
    folder = sample_copy(tmp_path)
    roles = table(folder, "crime_roles.csv")
    pd.concat([roles, roles.iloc[100:150]]).to_csv(folder / "crime_roles.csv", index=False)
    resources = table(folder, "call_resources.csv")
    pd.concat([resources, resources.iloc[:20]]).to_csv(folder / "call_resources.csv",
                                                       index=False)
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 0
    said = capsys.readouterr().out
    assert used(out) == used(plain)
    ranked, before = pd.read_csv(out / RANKED_FILE), pd.read_csv(plain / RANKED_FILE)
    pd.testing.assert_frame_equal(ranked, before)
    summary = pd.read_csv(out / RECONCILIATION_FILE).set_index(["source file", "status"])
    window = (pd.to_datetime(roles["offence_date"].iloc[100:150]) >= "2023-04-01") & (
        pd.to_datetime(roles["offence_date"].iloc[100:150]) < "2024-04-01")
    assert 0 < window.sum() < 50  # some copies in the window, some outside
    assert summary.loc[("police crime roles", DUPLICATE), "records"] == window.sum()
    assert summary.loc[("call_resources.csv", DUPLICATE), "records"] == 20
    assert summary["records"].sum() == pd.read_csv(plain / RECONCILIATION_FILE)[
        "records"].sum() + 70  # every line accounted for
    rows = pd.read_csv(out / ROWS_FILE)
    copies = rows[(rows["source file"] == "police crime roles")
                  & (rows["status"] == DUPLICATE)]
    first_copy = len(roles) + 2  # the header is line 1
    in_window = [first_copy + i for i, inside in enumerate(window) if inside]
    assert copies["line"].tolist() == in_window
    original = in_window[0] - len(roles) + 100  # the copies are of lines 102 to 151
    assert copies["detail"].iloc[0] == f"same as line {original} in every column"
    resource_copies = rows[(rows["source file"] == "call_resources.csv")
                           & (rows["status"] == DUPLICATE)]
    assert resource_copies["line"].tolist() == list(range(len(resources) + 2,
                                                          len(resources) + 22))
    assert f"{window.sum()} records identical in every column" in said
    assert "20 resource rows identical in every column" in notes(out)


def test_one_line_repeated_whole_is_said_in_the_singular(tmp_path, capsys, key_file):
    """One crime-role line in the window and one resource line given twice (the tester's
    demand2 case): "1 record ... was skipped as a duplicate", not "1 records ... were"."""
    folder = sample_copy(tmp_path)
    roles = table(folder, "crime_roles.csv")
    dates = pd.to_datetime(roles["offence_date"], errors="coerce")  # the sample's bad dates
    inside = int(((dates >= "2023-04-01") & (dates < "2024-04-01")).to_numpy().argmax())
    pd.concat([roles, roles.iloc[[inside]]]).to_csv(folder / "crime_roles.csv", index=False)
    resources = table(folder, "call_resources.csv")
    pd.concat([resources, resources.iloc[:1]]).to_csv(folder / "call_resources.csv",
                                                      index=False)
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 0
    said = capsys.readouterr().out
    for words in ("police crime roles: 1 record identical in every column to an earlier line "
                  "of crime_roles.csv was skipped as a duplicate (listed in "
                  "demand_rows_to_check.csv)",
                  "police calls: 1 resource row identical in every column to an earlier line "
                  "of call_resources.csv was skipped as a duplicate (no hours added; listed "
                  "in demand_rows_to_check.csv)"):
        assert words in notes(out)
    assert "1 record identical" in said
    assert not re.search(r"\b1 (records|resource rows|custody episodes|negative durations)\b",
                         notes(out) + said)


# --- messages that name lines and files ---------------------------------------------------------

def test_a_us_order_date_is_named_by_its_file_line(tmp_path, capsys, key_file):
    folder = sample_copy(tmp_path)
    custody = table(folder, "custody.csv")
    dates = pd.to_datetime(custody["arrival"], format="%d/%m/%Y %H:%M")
    custody["arrival"] = dates.dt.strftime("%m/%d/%Y %H:%M")
    custody.to_csv(folder / "custody.csv", index=False)
    assert run(folder, tmp_path / "out", key_file) == 2
    err = capsys.readouterr().err
    line = 2 + int((dates.dt.day > 12).to_numpy().argmax())  # the first line telling
    assert f"row {line} ('{custody['arrival'].iloc[line - 2]}')" in err, err
    assert "row 0 " not in err


def test_unreadable_custody_hours_show_the_value(tmp_path, key_file):
    folder = sample_copy(tmp_path)
    custody = table(folder, "custody.csv")
    custody.loc[custody.index % 50 == 0, "detention_hours"] = "n/a"
    custody.to_csv(folder / "custody.csv", index=False)
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 0
    rows = pd.read_csv(out / ROWS_FILE, keep_default_na=False)
    unread = rows[rows["source file"] == "police custody"].set_index("line")["detail"]
    assert len(unread) > 0
    assert set(unread) == {"detention_hours 'n/a' is not a number of hours"}
    assert all(custody.loc[line - 2, "detention_hours"] == "n/a" for line in unread.index)


def test_a_missing_column_names_the_source_and_its_file(tmp_path, capsys, key_file):
    folder = sample_copy(tmp_path)
    table(folder, "crime_roles.csv").drop(columns=["role"]).to_csv(
        folder / "crime_roles.csv", index=False)
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 2
    assert ("police crime roles (crime_roles.csv): no column 'role'"
            in capsys.readouterr().err)
    assert not out.exists()


# --- home areas outside the areas known ----------------------------------------------------------

def _in_window(dates: pd.Series) -> pd.Series:
    read = pd.to_datetime(dates, format="mixed", dayfirst=True, errors="coerce")
    return (read >= "2023-04-01") & (read < "2024-04-01")


def test_home_areas_not_known_are_listed_and_left_out_of_the_shared_views(
        tmp_path, capsys, key_file, segmentation):
    """The two busiest people given a home area of no such code (E00999999) and one in
    Lewisham (outside the Camden areas), one record an area that is no code at all: each
    such record in the window reconciled and listed by line; the two left out of the shared
    views (said in the notes), which still publish every segment's people; and every hidden
    count still protected against an informed reader (an independent integer program)."""
    from test_bad_inputs_hostile import _assert_protected

    from community_safety.core.demand.reconciliation import AREA_NOT_CODE, AREA_OUTSIDE
    from community_safety.core.demand.shared_view import NOT_KNOWN

    plain = tmp_path / "plain"
    seg_args = ["--segmentation", str(segmentation)]
    assert run(SAMPLE, plain, key_file, *seg_args) == 0
    folder = sample_copy(tmp_path)
    roles = table(folder, "crime_roles.csv")
    busiest = roles["person_id"].value_counts().index[:2]
    expected = {}  # (file, line) -> status
    for name, id_column, date in (("crime_roles.csv", "person_id", "offence_date"),
                                  ("custody.csv", "person_id", "arrival"),
                                  ("calls.csv", "person_id", "call_date"),
                                  ("missing_persons.csv", "person_id", "reported"),
                                  ("council_asb.csv", "partnership_id", "opened")):
        records = table(folder, name)
        for person, code in zip(busiest, ("E00999999", "E00016112")):
            records.loc[records[id_column] == person, "home_oa"] = code
        if name == "custody.csv":  # an episode in the window, with its hours
            fine = _in_window(records[date]) & pd.to_numeric(
                records["detention_hours"], errors="coerce").notna()
            records.loc[fine.idxmax(), "home_oa"] = "not a code"
        records.to_csv(folder / name, index=False)
        changed = records["home_oa"].isin(["E00999999", "E00016112", "not a code"])
        for i in records.index[changed & _in_window(records[date])]:
            expected[(name, i + 2)] = (AREA_NOT_CODE if records.loc[i, "home_oa"] ==
                                       "not a code" else AREA_OUTSIDE)
    out = tmp_path / "out"
    assert run(folder, out, key_file, *seg_args) == 0
    capsys.readouterr()

    rows = pd.read_csv(out / ROWS_FILE, keep_default_na=False)
    flagged = rows[rows["status"].isin([AREA_OUTSIDE, AREA_NOT_CODE])]
    sources = {"police crime roles": "crime_roles.csv", "police custody": "custody.csv",
               "police calls": "calls.csv", "missing person reports": "missing_persons.csv",
               "council anti-social behaviour": "council_asb.csv"}
    found = {(sources[s], line): status for s, line, status in zip(
        flagged["source file"], flagged["line"], flagged["status"])}
    assert found.items() <= expected.items() and len(found) > 0.9 * len(expected)
    # the rest were not used (pre-planned, a call repeated...) or had unreadable hours,
    # whose status they keep with the area said in their detail
    listed = {(sources.get(s), line): (status, detail) for s, line, status, detail in zip(
        rows["source file"], rows["line"], rows["status"], rows["detail"])}
    for key in expected.keys() - found.keys():
        if key in listed and listed[key][0] == BAD_DURATION:
            assert "; home area is not" in listed[key][1]
        else:
            assert key not in listed or listed[key][0] not in COUNTED
    assert AREA_NOT_CODE in found.values()
    assert ("home area is not in areas.csv or the segmentation (the code of an area "
            "elsewhere, or of no area)") in set(flagged["detail"])
    # the values themselves are written nowhere (a home area may be a postcode)
    written = " ".join(path.read_text(encoding="utf-8-sig") for path in out.iterdir())
    for value in ("E00999999", "E00016112", "NOT A CODE"):
        assert value not in written and value.lower() not in written
    # the counts are those of the plain run: the records are still counted
    assert used(out) == used(plain)

    said = notes(out)
    left_out = re.search(r"(\d+) people \([\d,]+ contacts\) are left out of every view"
                         ": the most common area on their records has no ward or segment",
                         said)
    assert left_out and int(left_out[1]) >= 2  # the two, and the custody record's person
    left_out = int(left_out[1])
    ranked = pd.read_csv(out / RANKED_FILE, keep_default_na=False)
    elsewhere = ranked[ranked["home area"] == "(home area not one of the study's areas)"]
    assert len(elsewhere) >= 2
    # a reader of the list sees why these rows have no ward or segment
    for column in ("home ward name", "segment name"):
        assert (elsewhere[column] == "(home area not one of the study's areas)").all()
    placed = ranked[ranked["home ward"] != ""]
    assert not placed["segment name"].str.startswith("(").any()
    views = {by: pd.read_csv(out / f"shared_demand_by_{by}.csv", dtype=str,
                             keep_default_na=False) for by in ("segment", "ward")}
    before = {by: pd.read_csv(plain / f"shared_demand_by_{by}.csv", dtype=str,
                              keep_default_na=False) for by in ("segment", "ward")}
    for by, view in views.items():
        label = "segment" if by == "segment" else "ward code"
        assert NOT_KNOWN not in set(view[label])
        total = int(view["people"].iloc[-1])
        assert total == int(before[by]["people"].iloc[-1]) - left_out
        # no row of a few people of unknown home hides the people of every segment
        assert (view["people"] == "*").sum() <= (before[by]["people"] == "*").sum()
    assert (views["segment"]["people"] != "*").all()
    assert _assert_protected(views, 5) > 0


def test_the_total_contacts_of_a_few_top_people_are_protected_like_a_wards(
        tmp_path, capsys, key_file, segmentation):
    """A month's records (the sample with months = 1): the top 1% are 4 people, so the
    Total row's "contacts by the top 1% of people" is those 4 people's own contacts added,
    as a ward's would be. It is hidden in both views, like every row's (Total or not) where
    1 to 5 top people are counted, and no hidden count can be narrowed below the threshold
    by an informed reader (Total minus the cells shown included)."""
    from test_bad_inputs_hostile import _assert_protected

    from community_safety.core.demand.project import load_demand_project
    from community_safety.core.demand.shared_view import top_contacts, top_people
    from community_safety.core.demand.steps import demand_step

    folder = sample_copy(tmp_path)
    toml = folder / "service_users.toml"
    toml.write_text(toml.read_text().replace("\nmonths = 12\n", "\nmonths = 1\n"))
    result = demand_step(load_demand_project(toml), KEY, segmentation)
    assert set(result.shared) == {"segment", "ward"}
    few = 0
    for by, stored in result.counts.items():
        true = stored.drop(columns=["group", "residents", "ward name"], errors="ignore")
        true = pd.concat([true, true.sum().to_frame().T], ignore_index=True)  # the Total
        shown = result.shared[by]
        assert shown.iloc[-1, 0] == "Total" and len(shown) == len(true)
        assert 1 <= true[top_people(1)].iloc[-1] <= 5  # the case the tester found
        for share in (1, 5):
            small = true[top_people(share)].between(1, 5).to_numpy()
            few += int(small.sum())
            assert (shown[top_contacts(share)].astype(str)[small] == "*").all(), (by, share)
        assert shown[top_contacts(1)].iloc[-1] == "*"
    assert few >= 4
    # the same run through the command: the files partners get
    out = tmp_path / "out"
    assert run(folder, out, key_file, "--segmentation", str(segmentation)) == 0
    capsys.readouterr()
    views = {by: pd.read_csv(out / f"shared_demand_by_{by}.csv", dtype=str,
                             keep_default_na=False) for by in ("segment", "ward")}
    for view in views.values():
        assert view[top_contacts(1)].iloc[-1] == "*"
    assert _assert_protected(views, 5) > 0
    assert ("The contacts of 1 to 5 people in the top 1% or 5%, in a ward's, a segment's or "
            "the Total row, are those few people's own figures") in notes(out)


def test_a_few_peoples_figures_are_hidden_in_every_row_and_every_ward_is_a_row(
        tmp_path, capsys, key_file, segmentation):
    """A month's records of every sixth area (the sample thinned, months = 1): most wards
    and some segments hold 1 to 5 people, one ward no one. Every figure of such a row
    (their contacts, each total, hours) is those few people's own, so it is hidden (or
    0), as their number is; a ward where no one lives is
    a row of 0, so both views' Totals are over the same areas and residents. The files,
    and the tables the report and the dock make from the stored counts, are the same, and
    no hidden count can be narrowed below the threshold by an informed reader."""
    from test_bad_inputs_hostile import _assert_protected, _count_columns

    from community_safety.core.demand.output import SHARED_TABLES
    from community_safety.core.demand.project import load_demand_project
    from community_safety.core.demand.shared_view import shared_views
    from community_safety.core.demand.steps import demand_step
    from community_safety.core.segment.saved import load_segmentation
    from community_safety.core.store.geopackage import read_gpkg_table

    folder = sample_copy(tmp_path)
    toml = folder / "service_users.toml"
    toml.write_text(toml.read_text().replace("\nmonths = 12\n", "\nmonths = 1\n"))
    areas = sorted(table(folder, "areas.csv")["OA11CD"])
    for name in ("crime_roles.csv", "custody.csv", "calls.csv", "missing_persons.csv",
                 "fire_repeat_callers.csv", "council_asb.csv"):  # every 6th area's records
        records = table(folder, name)
        records[records["home_oa"].isin(areas[::6])].to_csv(folder / name, index=False)
    result = demand_step(load_demand_project(toml), KEY, segmentation)
    rows_of_few = figures = 0
    for by, stored in result.counts.items():
        true = stored.drop(columns=["group", "residents", "ward name"], errors="ignore")
        true = pd.concat([true, true.sum().to_frame().T], ignore_index=True)  # the Total
        shown = result.shared[by].astype(str)
        few = true["people"].between(1, 5).to_numpy()
        rows_of_few += int(few.sum())
        for column in _count_columns(shown):
            if column == "people":
                continue
            own = few & (true[column] > 0).to_numpy()
            figures += int(own.sum())
            assert (shown[column][own] == "*").all(), (by, column)
            assert (shown[column][few & ~own].isin(["0", "0.0"])).all(), (by, column)
    assert rows_of_few >= 5 and figures >= 20
    # every ward of the study area is a row, those without people a row of 0
    wards = result.counts["ward"]
    seg = load_segmentation(segmentation)
    area_wards = table(folder, "areas.csv").set_index("OA11CD")["WD22CD"]
    classified = seg.areas.index[seg.areas["segment"].notna()]
    assert set(wards["group"]) == set(area_wards.reindex(classified).dropna())
    empty = wards["people"] == 0
    assert empty.any() and (wards.loc[empty, "residents"] > 0).all()
    assert (result.shared["ward"].set_index("ward code").loc[wards.loc[empty, "group"],
                                                           "people"] == 0).all()
    totals = {by: float(view["residents"].iloc[-1].replace(",", "")) if isinstance(
        view["residents"].iloc[-1], str) else float(view["residents"].iloc[-1])
              for by, view in result.shared.items()}
    assert totals["ward"] == totals["segment"] == result.counts["ward"]["residents"].sum()
    # the ward view's Total row is named, in the files and the dock as in the report
    assert result.shared["ward"]["ward name"].iloc[-1] == "All wards"

    # through the command: the files partners get, and the report's and dock's tables
    out = tmp_path / "out"
    assert run(folder, out, key_file, "--segmentation", str(segmentation)) == 0
    capsys.readouterr()
    files = {by: table(out, f"shared_demand_by_{by}.csv") for by in ("segment", "ward")}
    stored = {by: read_gpkg_table(segmentation, name) for by, name in SHARED_TABLES.items()}
    again = shared_views(stored, 5, seg.segment_names)
    for by, view in files.items():
        assert view["ward code" if by == "ward" else "segment"].tolist() == \
            again[by].iloc[:, 0].astype(str).tolist()
        for column in _count_columns(view):
            assert view[column].tolist() == again[by][column].astype(str).str.replace(
                r"\.0$", "", regex=True).tolist(), (by, column)
    assert _assert_protected(files, 5) > 0


# --- one person, an ID in one source, names and date of birth in another ------------------------

def _people(toml: Path):
    """The run's people: pseudonym -> their totals (every source's, linked)."""
    from community_safety.core.demand.project import load_demand_project
    from community_safety.core.demand.steps import demand_step

    result = demand_step(load_demand_project(toml), KEY)
    people = result.people
    return people.totals.set_index(pd.Index(people.pseudonyms)), result



def _pseudonym(text: str) -> str:
    from community_safety.core.data.pseudonyms import pseudonymise

    return pseudonymise(pd.Series([text]), KEY).iloc[0]


def test_a_fire_caller_with_a_police_ids_names_and_birth_date_is_that_person(tmp_path):
    """The synthetic fire caller LIMA SyntheticC0002, born 09/03/1964, is police PN100002
    (the crime records give the same names and date of birth): counted once, as PN100002,
    with the fire calls added to the police records; without names and dob on the crime
    records the notes say the fire callers are counted apart."""
    fire = table(SAMPLE, "fire_repeat_callers.csv")
    mine = fire[(fire["caller_surname"] == "SyntheticC0002")]
    assert len(mine) and set(mine["caller_dob"]) == {"09/03/1964"}
    calls = int(_in_window(mine["call_date"]).sum())
    assert calls > 0
    totals, result = _people(SAMPLE / "service_users.toml")
    police = _pseudonym("PN100002")
    by_name = _pseudonym("lima|syntheticc0002|1964-03-09")
    assert totals.loc[police, "fire service calls"] == calls
    assert totals.loc[police, "times a suspect"] + totals.loc[police, "times a victim"] > 0
    assert by_name not in totals.index
    said = " ".join(result.notes["value"])
    assert "people (linked on names and date of birth) have the names and date of birth of " \
           "one person ID in police crime roles, and are counted as that person" in said

    folder = sample_copy(tmp_path, "without")
    toml = folder / "service_users.toml"
    text = toml.read_text()
    start = text.index('names = ["forename", "surname"]')
    toml.write_text(text[:start] + text[text.index('date = "offence_date"'):])
    apart, result = _people(toml)
    assert apart.loc[by_name, "fire service calls"] == calls
    assert apart.loc[police, "fire service calls"] == 0
    assert len(apart) > len(totals)
    assert "its people are counted apart from the other sources'" in " ".join(
        result.notes["value"])


def test_names_and_birth_date_of_two_ids_link_to_neither(tmp_path):
    """Police PN100001 given PN100002's names and date of birth on one record: the fire
    caller with those names and date of birth is linked to neither ID (two IDs are never
    merged), and the two IDs stay two people."""
    folder = sample_copy(tmp_path)
    roles = table(folder, "crime_roles.csv")
    other = roles.index[roles["person_id"] == "PN100001"][0]
    roles.loc[other, ["forename", "surname", "date_of_birth"]] = ["Lima", "SyntheticC0002",
                                                                  "09/03/1964"]
    roles.to_csv(folder / "crime_roles.csv", index=False)
    totals, result = _people(folder / "service_users.toml")
    police, other_id = _pseudonym("PN100002"), _pseudonym("PN100001")
    by_name = _pseudonym("lima|syntheticc0002|1964-03-09")
    assert totals.loc[by_name, "fire service calls"] > 0
    assert totals.loc[police, "fire service calls"] == 0
    assert totals.loc[other_id, "fire service calls"] == 0
    assert {police, other_id} <= set(totals.index)
    assert "1 has those of two or more IDs and is counted apart (IDs are never merged)" \
        in " ".join(result.notes["value"])


def test_an_id_source_giving_names_without_dob_is_refused(tmp_path, capsys, key_file):
    folder = sample_copy(tmp_path)
    toml = folder / "service_users.toml"
    toml.write_text(toml.read_text().replace('dob = "date_of_birth"', "", 1))
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 2
    assert "gives names without dob" in capsys.readouterr().err
    assert not out.exists()


# --- home postcodes ---------------------------------------------------------------------------

def _postcode_inside(segmentation: Path) -> pd.Series:
    """Output area -> one postcode (written as a record gives it: one space) whose point in
    the sample's postcode file falls in that area of the segmentation."""
    import geopandas as gpd

    from community_safety.core.store.names import SEGMENT_LAYER

    areas = gpd.read_file(segmentation, layer=SEGMENT_LAYER, columns=["area_code"])
    points = pd.read_csv(SAMPLE_DIR / "postcodes.csv", dtype=str)
    layer = gpd.GeoDataFrame(points, crs=areas.crs, geometry=gpd.points_from_xy(
        points["Eastings"].astype(float), points["Northings"].astype(float)))
    inside = gpd.sjoin(layer, areas, predicate="within")
    one = inside.drop_duplicates("area_code").set_index("area_code")["Postcode"]
    return one.str.split().str.join(" ")


def test_home_postcodes_are_never_written_and_a_postcode_file_places_them(
        tmp_path, capsys, key_file, segmentation):
    """The fire service's repeat callers give a home postcode instead of an output-area
    code (as fire service records do), one of them a postcode of no file. Without a
    postcode file no postcode is written to any output (a tester found one beside a
    pseudonym in the list for the tasking meeting, and 55 quoted by line): every file is
    searched; the rows to check give the line and the reason. With the sample's postcode
    file each postcode is placed in the area its point falls in: the list, the details and
    the shared views are those of the run on output-area codes."""
    from community_safety.core.demand.reconciliation import AREA_NOT_CODE

    seg_args = ["--segmentation", str(segmentation)]
    plain = tmp_path / "plain"
    assert run(SAMPLE, plain, key_file, *seg_args) == 0
    folder = sample_copy(tmp_path)
    callers = table(folder, "fire_repeat_callers.csv")
    postcode_of = _postcode_inside(segmentation)
    placeable = callers["home_oa"].isin(postcode_of.index)
    callers.loc[placeable, "home_oa"] = callers.loc[placeable, "home_oa"].map(postcode_of)
    assert placeable.sum() > 300
    callers.to_csv(folder / "fire_repeat_callers.csv", index=False)
    postcodes = set(callers.loc[placeable, "home_oa"])
    out = tmp_path / "out"
    assert run(folder, out, key_file, *seg_args) == 0
    capsys.readouterr()

    def written(folder: Path) -> str:
        return " ".join(path.read_text(encoding="utf-8-sig") for path in folder.iterdir())

    text = written(out)
    leaked = {p for p in postcodes if p in text or p.replace(" ", "") in text}
    assert not leaked, sorted(leaked)[:5]
    rows = table(out, ROWS_FILE)
    mine = rows[rows["source file"] == "fire service repeat callers"]
    said = mine[mine["status"] == AREA_NOT_CODE]
    in_window = callers.index[placeable & _in_window(callers["call_date"])] + 2
    assert set(said["line"].astype(int)) == set(in_window)
    assert set(said["detail"]) == {"home area is a postcode, not an area code (a postcode "
                                   "file would place it)"}
    assert f"{len(in_window):,} of them postcodes" in notes(out)

    # with the postcode file: each postcode in its area, as the codes were
    placed = tmp_path / "placed"
    assert run(folder, placed, key_file, *seg_args, "--postcode-file",
               str(SAMPLE_DIR / "postcodes.csv")) == 0
    for name in (RANKED_FILE, "service_user_details.csv", "shared_demand_by_segment.csv",
                 "shared_demand_by_ward.csv"):
        assert (placed / name).read_bytes() == (plain / name).read_bytes(), name
    assert (f"home postcodes placed in their output area by the postcode's point in "
            f"postcodes.csv: {len(in_window):,} counted records") in notes(placed)
    assert not (table(placed, ROWS_FILE)["status"] == AREA_NOT_CODE).any()
    assert not {p for p in postcodes if p in written(placed)}


def test_a_home_postcode_of_no_file_or_outside_is_listed_without_its_value(
        tmp_path, capsys, key_file, segmentation):
    """A postcode not in the postcode file, and one whose point is outside the study's
    areas (Bromley's, added to the file), each listed by line with the reason, not the
    value; the project's [demand] postcodes option gives the file as --postcode-file does."""
    from community_safety.core.demand.reconciliation import AREA_NOT_CODE, AREA_OUTSIDE

    folder = sample_copy(tmp_path)
    points = table(SAMPLE_DIR, "postcodes.csv")
    points.loc[len(points)] = {**points.iloc[0].to_dict(), "Postcode": "BR6  9AT",
                               "Eastings": "546420", "Northings": "164900"}
    points.to_csv(folder / "postcodes.csv", index=False)
    callers = table(folder, "fire_repeat_callers.csv")
    first = callers.index[_in_window(callers["call_date"])][:2]
    callers.loc[first, "home_oa"] = ["ZZ9 9ZZ", "BR6 9AT"]
    callers.to_csv(folder / "fire_repeat_callers.csv", index=False)
    toml = folder / "service_users.toml"
    toml.write_text(toml.read_text().replace(
        "[demand]\n", '[demand]\npostcodes = {path = "postcodes.csv"}\n', 1))
    out = tmp_path / "out"
    assert run(folder, out, key_file, "--segmentation", str(segmentation)) == 0
    capsys.readouterr()
    rows = table(out, ROWS_FILE).set_index("line")
    assert rows.loc[str(first[0] + 2), ["status", "detail"]].tolist() == [
        AREA_NOT_CODE, "home postcode is not in postcodes.csv"]
    assert rows.loc[str(first[1] + 2), ["status", "detail"]].tolist() == [
        AREA_OUTSIDE, "home postcode's point is outside the study's areas"]
    text = " ".join(path.read_text(encoding="utf-8-sig") for path in out.iterdir())
    assert "ZZ9" not in text and "BR6" not in text
    assert ("0 counted records; 1 gives a postcode outside the study's areas, 1 a postcode "
            "not in postcodes.csv") in notes(out)


def test_home_postcodes_are_not_written_when_no_areas_are_known(tmp_path, capsys, key_file):
    """A project without its areas file and run without a segmentation has nothing to check
    home areas against: every source giving postcodes for home areas, none is written (the
    list says each home area is not one of the study's areas)."""
    from community_safety.core.demand.output import HOME_ELSEWHERE

    folder = sample_copy(tmp_path)
    toml = folder / "service_users.toml"
    lines = toml.read_text().splitlines(keepends=True)
    text = "".join(line for line in lines if not line.startswith("areas = "))
    toml.write_text(text.replace('[[demand.filters]]\nname = "Kentish Town wards"\n'
                                 'wards = ["E05013663", "E05013664"]\n', ""))
    points = table(SAMPLE_DIR, "postcodes.csv")["Postcode"].str.split().str.join(" ")
    postcode_of = {}  # the same area, the same postcode, in every source
    for name in ("crime_roles.csv", "custody.csv", "calls.csv", "missing_persons.csv",
                 "fire_repeat_callers.csv", "council_asb.csv"):
        records = table(folder, name)
        for code in records["home_oa"].unique():
            postcode_of.setdefault(code, points.iloc[len(postcode_of)])
        records["home_oa"] = records["home_oa"].map(postcode_of)
        records.to_csv(folder / name, index=False)
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 0
    capsys.readouterr()
    text = " ".join(path.read_text(encoding="utf-8-sig") for path in out.iterdir())
    postcodes = set(postcode_of.values())
    assert not {p for p in postcodes if p in text or p.replace(" ", "") in text}
    assert "a home area that is not an output-area code" in notes(out)
    ranked = table(out, RANKED_FILE)
    assert (ranked["home area"] == HOME_ELSEWHERE).mean() > 0.9
