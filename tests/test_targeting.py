"""Home fire safety check targeting: the score, exclusions, capacity, explanations, bad
input, and the Camden backtest against past fires."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from community_safety.core.cli import main
from community_safety.core.errors import InputError
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.saved import save_segmentation
from community_safety.core.store.backtest_columns import RANKING, columns
from community_safety.core.targeting.rates import shrunk_rates
from community_safety.core.targeting.visit_list import TargetOptions, build_targets

FIRES = SAMPLE_DIR / "lfb_dwelling_fires.csv"
FIRE_XY = ["--incidents", FIRES, "--x", "easting_rounded", "--y", "northing_rounded",
           "--date-column", "date"]


def run(*args) -> int:
    return main([str(a) for a in args])


# --- the score, by hand ---------------------------------------------------------------------

def test_shrinkage_worked_by_hand():
    # segment 1: three areas of 100 households with 0, 1 and 5 fires
    #   mu = 6/300 = 0.02; rates 0, 0.01, 0.05
    #   d = 100*0.02^2 + 100*0.01^2 + 100*0.03^2 - 3*0.02 = 0.14 - 0.06 = 0.08
    # segment 2: two areas with 1 fire in 100 households each: mu = 0.01, no spread,
    #   d = 0 - 2*0.01 = -0.02 (alone, its variance would fall to 0)
    # pooled: v = (0.08 - 0.02) / (300*0.02^2 + 200*0.01^2) = 0.06/0.14 = 3/7
    #   segment 1: alpha = 1/v = 7/3, beta = 1/(v*mu) = 350/3, w = 100/(100+350/3) = 6/13
    #   theta = (7/3 + y) / (350/3 + 100) = (7 + 3y) / 650
    #   segment 2: tau2 = v * 0.01^2, w = 0.3/7 / (0.3/7 + 1e-4)... = 0.3
    codes = ["A1", "A2", "A3", "B1", "B2"]
    fires = pd.Series([0, 1, 5, 1, 1], index=codes, dtype=float)
    households = pd.Series([100] * 5, index=codes, dtype=float)
    segments = pd.Series([1, 1, 1, 2, 2], index=codes)
    rates = shrunk_rates(fires, households, segments)
    assert rates.loc["A1":"A3", "shrunk_rate"].to_numpy() == pytest.approx(
        [7 / 650, 10 / 650, 22 / 650])
    assert rates.loc["A1", "weight"] == pytest.approx(6 / 13)
    assert rates.loc["A1", "prior_alpha"] == pytest.approx(7 / 3)
    assert rates.loc["A1", "prior_beta"] == pytest.approx(350 / 3)
    assert rates.loc["B1", "weight"] == pytest.approx(0.3)
    assert rates.loc[["B1", "B2"], "shrunk_rate"].tolist() == pytest.approx([0.01, 0.01])
    assert rates["borough_rate"].iloc[0] == pytest.approx(8 / 500)
    # segment 1 alone is Marshall's estimate: tau2 = s2 - mu/nbar = 0.14/300 - 0.02/100
    #   = 0.08/300, alpha = mu^2/tau2 = 1.5, beta = mu/tau2 = 75, w = 100/(100+75) = 4/7
    alone = shrunk_rates(fires[:3], households[:3], segments[:3])
    assert alone["shrunk_rate"].to_numpy() == pytest.approx([1.5 / 175, 2.5 / 175, 6.5 / 175])
    assert alone.loc["A1", "weight"] == pytest.approx(4 / 7)
    # areas that vary no more than chance anywhere: each takes its segment's rate
    flat = shrunk_rates(pd.Series([1, 2], index=["C1", "C2"], dtype=float),
                        pd.Series([100, 100], index=["C1", "C2"], dtype=float),
                        pd.Series([1, 1], index=["C1", "C2"]))
    assert flat["weight"].tolist() == [0, 0]
    assert flat["shrunk_rate"].tolist() == pytest.approx([0.015, 0.015])
    # a small area with one fire does not jump to the top
    # S: 1 fire in 5 households (rate 0.2); A: 6 in 100 (0.06); eight areas 2 in 100
    codes = ["S", "A"] + [f"B{i}" for i in range(8)]
    small = shrunk_rates(pd.Series([1, 6] + [2] * 8, index=codes, dtype=float),
                         pd.Series([5, 100] + [100] * 8, index=codes, dtype=float),
                         pd.Series(1, index=codes))
    assert small.loc["S", "own_rate"] > small.loc["A", "own_rate"]
    assert small.loc["S", "shrunk_rate"] < small.loc["A", "shrunk_rate"]


def frames(n_per_area=3):
    """Four areas in two segments; addresses A1-1.. with one household each."""
    codes = ["A1", "A2", "B1", "B2"]
    fires = pd.Series([4, 4, 1, 0], index=codes, dtype=float)
    households = pd.Series([100] * 4, index=codes, dtype=float)
    segments = pd.Series([2, 2, 1, 1], index=codes)
    wards = pd.DataFrame({"ward_code": ["W1", "W2", "W1", "W2"],
                          "ward_name": ["North", "South", "North", "South"]}, index=codes)
    addresses = pd.DataFrame({"id": [f"{c}-{i}" for c in codes for i in range(n_per_area)],
                              "area_code": [c for c in codes for _ in range(n_per_area)]})
    return addresses, fires, households, segments, wards


def test_ties_are_broken_by_area_code_then_address_id():
    addresses, fires, households, segments, wards = frames()
    addresses = addresses.iloc[::-1].reset_index(drop=True)  # input order must not matter
    result = build_targets(addresses, fires, households, segments,
                           TargetOptions(capacity=6), wards)
    ranked = result.targets.sort_values("rank")["address_id"].tolist()
    # A1 and A2 have the same score: A1's three addresses, then A2's, each by ID
    assert ranked == ["A1-0", "A1-1", "A1-2", "A2-0", "A2-1", "A2-2"]
    again = build_targets(addresses.sample(frac=1, random_state=3), fires, households,
                          segments, TargetOptions(capacity=6), wards)
    assert again.targets.equals(result.targets)
    # the crews' list is ordered by ward and area
    assert result.targets["ward_name"].tolist() == ["North"] * 3 + ["South"] * 3


def test_areas_on_their_segments_rate_are_ordered_by_their_own_fires():
    """Where the areas vary no more than chance (every weight 0) they share their
    segment's rate: the one with more fires of its own comes first, not the lower code,
    and one with none is said to be listed for its segment's rate."""
    codes = ["C1", "C2", "C3"]
    fires = pd.Series([1, 2, 0], index=codes, dtype=float)
    households = pd.Series([100, 100, 100], index=codes, dtype=float)
    segments = pd.Series(1, index=codes)
    addresses = pd.DataFrame({"id": [f"{c}-{i}" for c in codes for i in range(2)],
                              "area_code": [c for c in codes for _ in range(2)]})
    result = build_targets(addresses, fires, households, segments,
                           TargetOptions(capacity=6, window="2020–2024", years=5))
    assert result.areas["weight"].eq(0).all()
    ranked = result.targets.sort_values("rank")
    assert ranked["area_code"].tolist() == ["C2", "C2", "C1", "C1", "C3", "C3"]
    clustered = build_targets(addresses, fires, households, segments,
                              TargetOptions(capacity=2, cluster_by_area=True))
    assert clustered.targets["area_code"].tolist() == ["C2", "C2"]
    why = ranked.set_index("address_id")["why"]
    assert why["C3-0"].startswith("no fires of its own in 2020–2024: listed for its "
                                  "segment's rate (expected 1.0x the borough's rate per "
                                  "household)")
    assert why["C2-0"].startswith("2 fires in this output area in 2020–2024 (its own rate "
                                  "2.0x the borough's per household; expected 1.0x")


def test_exclusions_and_capacity():
    addresses, fires, households, segments, wards = frames()
    visits = pd.Series(pd.to_datetime(["2024-06-01", "2018-01-05"]), index=["A1-0", "A1-1"])
    result = build_targets(addresses, fires, households, segments,
                           TargetOptions(capacity=5), wards, last_visits=visits,
                           visited_since=pd.Timestamp("2024-01-01"), opted_out=["A2-0"])
    listed = set(result.targets["address_id"])
    assert {"A1-0", "A2-0"}.isdisjoint(listed) and "A1-1" in listed
    assert len(listed) == 5
    assert result.excluded.to_dict() == {"visited recently": 1, "opted out": 1}
    # segments and wards filters
    only = build_targets(addresses, fires, households, segments,
                         TargetOptions(capacity=3, segments=(1,), wards=("W2",)), wards)
    assert set(only.targets["area_code"]) == {"B2"}
    # capacity larger than the eligible addresses, or 0: refused
    with pytest.raises(InputError, match="more than the 3 eligible"):
        build_targets(addresses, fires, households, segments,
                      TargetOptions(capacity=4, segments=(1,), wards=("W2",)), wards)
    with pytest.raises(InputError, match="capacity of 0"):
        build_targets(addresses, fires, households, segments, TargetOptions(capacity=0), wards)
    # visits per ward
    by_ward = build_targets(addresses, fires, households, segments,
                            TargetOptions(capacity_by_ward=pd.Series({"W1": 2, "W2": 1})),
                            wards)
    assert by_ward.targets.groupby("ward_code").size().to_dict() == {"W1": 2, "W2": 1}
    assert set(by_ward.targets["address_id"]) == {"A1-0", "A1-1", "A2-0"}


def test_capacity_in_households_ranks_by_expected_fires_per_household():
    """The tester's Kensington case by hand: W8 6QL holds 66 households at 0.023 fires per
    household a year (1.5 a year in all), W10 5NY 18 at 0.063 (1.1 in all). Where the
    capacity counts households the denser postcode comes first: its visits prevent the most
    fires per household visited; where one row is one visit, the larger one does."""
    from community_safety.core.targeting.crew_workbook import list_table
    from community_safety.core.targeting.steps import summary_lines
    from community_safety.core.targeting.visit_list import CAPACITY_IN_HOUSEHOLDS

    addresses = pd.DataFrame({"id": ["W8 6QL", "W10 5NY"], "area_code": ["A", "B"],
                              "households": [66, 18]})
    fires = pd.Series({"A": 20.0, "B": 10.0})
    households = pd.Series({"A": 66.0, "B": 18.0})
    segments = pd.Series({"A": 1, "B": 1})
    points = pd.Series({"W8 6QL": 0.023, "W10 5NY": 0.063})

    def listed(**options):
        result = build_targets(addresses, fires, households, segments,
                               TargetOptions(years=10.0, **options), point_rates=points)
        return result, result.targets.sort_values("rank")

    result, both = listed(capacity=84, postcode_points=True)
    assert both["address_id"].tolist() == ["W10 5NY", "W8 6QL"]
    assert both["expected_fires_per_year"].round(3).tolist() == [1.134, 1.518]
    # the priority bands (per household) agree with the order
    assert both["priority"].is_monotonic_increasing
    assert both["priority"].iloc[0] < both["priority"].iloc[1]
    # 18 households of capacity: the denser postcode alone
    small, first = listed(capacity=18, postcode_points=True)
    assert first["address_id"].tolist() == ["W10 5NY"]
    said = small.summary.set_index("measure")
    assert said.loc["households on the list", "value"] == 18
    assert said.loc["postcodes in the gazetteer", "value"] == 2
    assert said.loc["capacity", "note"] == "households"
    assert f"households on the list: 18 ({CAPACITY_IN_HOUSEHOLDS})" in summary_lines(
        small.summary)
    # the crews' workbook says what the rank means
    _, columns = list_table(small.targets, {}, 10.0, "2015–2024")
    rank = next(c for c in columns if c.heading == "Rank")
    assert "per household: the capacity counts households" in rank.meaning
    # the report's box says postcodes and households, not addresses and visits
    from community_safety.core.report.targeting_box import targeting_box

    box = {r["item"]: r["value"] for r in targeting_box(small.summary.astype(str))["rows"]}
    assert box["Households on the list"] == f"18 ({CAPACITY_IN_HOUSEHOLDS})"
    assert box["Postcodes that could be visited"] == "2 of 2 in the gazetteer"
    assert box["Capacity"] == "18 households"
    # one row = one visit: the larger postcode's visit prevents more fires
    _, visits = listed(capacity=1)
    assert visits["address_id"].tolist() == ["W8 6QL"]
    # ranked by each postcode's own rate: its reasons do not say it is ranked by its area;
    # without them (no risk model) every postcode of an area has the area's rate: said
    from community_safety.core.targeting.visit_list import AREA_RANKED

    assert not both["why"].str.startswith(AREA_RANKED).any()
    by_area = build_targets(addresses, fires, households, segments,
                            TargetOptions(years=10.0, capacity=84, postcode_points=True))
    assert by_area.targets["why"].str.startswith(AREA_RANKED).all()


def test_households_not_known_are_not_stated():
    """Without households in the gazetteer each address is scored as one household, which
    is not a count: the list leaves it empty and the workbook leaves the column out."""
    from community_safety.core.targeting.crew_workbook import list_table

    addresses, fires, households, segments, wards = frames()
    result = build_targets(addresses, fires, households, segments,
                           TargetOptions(capacity=4), wards)
    assert result.targets["households"].isna().all()
    assert result.targets["expected_fires"].gt(0).all()  # still scored, as one each
    table, _ = list_table(result.targets, {}, None, "")
    assert "Households" not in table.columns
    given = build_targets(addresses.assign(households=[3] + [""] * 11), fires, households,
                          segments, TargetOptions(capacity=12), wards)
    shown = given.targets.set_index("address_id")["households"]
    assert shown["A1-0"] == 3 and shown.drop("A1-0").isna().all()
    assert "Households" in list_table(given.targets, {}, None, "")[0].columns


def test_cluster_by_area_keeps_whole_areas():
    addresses, fires, households, segments, wards = frames()
    # a flagged address in the lower-risk area B1 outscores every address in A1/A2...
    flags = pd.DataFrame({"id": ["B1-2"], "flag": ["over_75_alone"]})
    weights = {"over_75_alone": 10.0}
    plain = build_targets(addresses, fires, households, segments, TargetOptions(capacity=4),
                          wards, flags, weights)
    assert plain.targets.sort_values("rank")["address_id"].iloc[0] == "B1-2"
    # ...but clustered by area, the list takes the highest areas whole, in rank order
    clustered = build_targets(addresses, fires, households, segments,
                              TargetOptions(capacity=4, cluster_by_area=True), wards, flags,
                              weights)
    assert clustered.targets.sort_values("rank")["address_id"].tolist() == [
        "A1-0", "A1-1", "A1-2", "A2-0"]


def test_explanations_are_traceable_to_the_figures():
    addresses, fires, households, segments, wards = frames()
    flags = pd.DataFrame({"id": ["A1-1", "A1-1"], "flag": ["over_75_alone", "smoker"]})
    weights = {"over_75_alone": 2.0, "smoker": 1.5}
    visits = pd.Series(pd.to_datetime(["2019-05-01"]), index=["A1-1"])
    result = build_targets(addresses, fires, households, segments,
                           TargetOptions(capacity=3, window="2020–2024", years=5), wards,
                           flags, weights, last_visits=visits,
                           visited_since=pd.Timestamp("2024-01-01"))
    row = result.targets.set_index("address_id").loc["A1-1"]
    borough = 9 / 400
    segment_rate = 8 / 200
    assert row["segment_ratio"] == pytest.approx(segment_rate / borough, abs=0.01)
    assert row["multiplier"] == pytest.approx(3.0)
    assert row["expected_fires_per_year"] == pytest.approx(
        row["area_ratio"] * borough / 5 * 3.0, rel=0.01)
    assert row["why"] == (
        f"4 fires in this output area in 2020–2024 (its own rate {4 / 100 / borough:.1f}x the "
        f"borough's per household; expected {row['area_ratio']:.1f}x, allowing for chance in "
        "a small area), segment 2 "
        f"({segment_rate / borough:.1f}x the borough's fire rate), not visited since May 2019, "
        "flag: over 75 alone (x2), smoker (x1.5)")
    assert row["priority"] == 1  # 1.78x borough x 3 flags
    assert result.targets.set_index("address_id").loc["A1-0", "why"].endswith(
        "no visit on record")
    named = build_targets(addresses, fires, households, segments,
                          TargetOptions(capacity=3, window="2020–2024", years=5), wards,
                          segment_names={2: "Older renters in flats"})
    # a crew manager reads the segment's name, not only its number
    assert "segment 2 “Older renters in flats” (" in named.targets.set_index(
        "address_id").loc["A1-1", "why"]
    quoted = build_targets(addresses, fires, households, segments,
                           TargetOptions(capacity=3, window="2020–2024", years=5), wards,
                           segment_names={2: 'The "quiet" streets'})
    assert "segment 2 “The 'quiet' streets” (" in quoted.targets.set_index(
        "address_id").loc["A1-1", "why"]  # no quotation marks inside quotation marks
    # with no households, each address counts as one: the rate is said per address
    per_address = build_targets(addresses, fires, households, segments,
                                TargetOptions(capacity=3, window="2020–2024", years=5), wards,
                                unit="address")
    assert "the borough's per address; expected" in per_address.targets["why"].iloc[0]


# --- on the Camden sample ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def camden(tmp_path_factory):
    seg = build_segmentation(replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=5))
    gpkg = save_segmentation(seg, tmp_path_factory.mktemp("seg"), plots=False)
    gpkg = gpkg if gpkg.suffix == ".gpkg" else gpkg / "segmentation.gpkg"
    assert run("gazetteer", gpkg, SAMPLE_DIR / "postcodes.csv", "--id", "Postcode",
               "--x", "Eastings", "--y", "Northings") == 0
    assert run("matrices", gpkg, "--wards", SAMPLE_DIR / "wards_2022.gpkg", "--ward-code",
               "WD22CD", "--ward-name", "WD22NM") == 0
    assert run("incidents", gpkg, FIRES, "--name", "fires", "--x", "easting_rounded", "--y",
               "northing_rounded", "--out", gpkg.parent / "incidents") == 0
    return gpkg


def test_camden_target_list_and_outputs(camden, tmp_path, capsys):
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "visited.csv").write_text("id,date\nN1 9NL,2019-03-04\nN19 5AA,2024-11-01\n")
    (folder / "flags.csv").write_text("id,flag\nNW1 0AA,over_75_alone\nN19 5AB,non_residential\n")
    out = tmp_path / "out"
    assert run("target", camden, "--out", out, "--capacity", 500, *FIRE_XY,
               "--from", "2021-01-01", "--visited", folder / "visited.csv", "--today",
               "2025-01-01", "--flags", folder / "flags.csv", "--flag-weights",
               "over_75_alone=2") == 0
    capsys.readouterr()
    crews = pd.read_csv(out / "target_list.csv")
    assert len(crews) == 500 and crews["rank"].is_unique
    assert {"N19 5AA", "N19 5AB"}.isdisjoint(crews["address_id"])
    book = pd.read_excel(out / "target_list.xlsx", sheet_name="Visits")
    assert book["Rank"].tolist() == crews["rank"].tolist()
    # the flags and last visits get a column only when a listed address has one
    assert ("Partner flags" in book.columns) == crews["flags"].notna().any()
    assert ("Last visit" in book.columns) == crews["last_visit"].notna().any()
    keys = list(zip(crews["ward_name"], crews["area_code"]))
    assert keys == sorted(keys)
    # the summary holds aggregates only: no address ID appears in it
    summary = pd.read_csv(out / "target_summary.csv").set_index("measure")["value"]
    assert int(summary["visits"]) == 500
    assert not set(crews["address_id"]) & set(summary.astype(str))
    assert float(summary["share of the window's fires in targeted areas (%)"]) > float(
        summary["households in targeted areas (%)"])
    # every incident row accounted for
    recon = pd.read_csv(out / "reconciliation.csv")
    fires = recon[recon["source"] == FIRES.name]
    assert len(fires) == len(pd.read_csv(FIRES))
    assert set(recon.loc[recon["source"] == "visited.csv", "status"]) == {"used"}


@pytest.mark.parametrize("content,args,message", [
    ("id,date\nN1 9NL,2019-03-04\nNOT AN ID,2020-01-01\n", ["--visited"], "not in the "
     "gazetteer"),
    ("id,date\nN1 9NL,2031-03-04\n", ["--visited"], "dated after"),
    ("id,flag\nNOWHERE,smoker\n", ["--flags", None, "--flag-weights", "smoker=2"],
     "not in the gazetteer"),
    ("", ["--capacity", "0"], "capacity of 0"),
    ("", ["--capacity", "100000"], "more than the"),
    ("", ["--backtest", "--cut-off", "2030-01-01"], "outside the incidents' dates"),
    ("", ["--wards", "Bellingham"], "“Bellingham” is not a ward of this "
     "segmentation (by name or code). It has 20 wards, e.g. "),
])
def test_bad_input_one_line_exit_2_nothing_written(camden, tmp_path, capsys, content, args,
                                                   message):
    given = tmp_path / "given.csv"
    given.write_text(content)
    args = [given if a is None else a for a in args]
    if args[0] in ("--visited",):
        args = [args[0], given, "--capacity", 10]
    elif "--capacity" not in args and "--backtest" not in args:
        args = [*args, "--capacity", 10]
    out = tmp_path / "out"
    assert run("target", camden, "--out", out, *FIRE_XY, "--today", "2025-01-01", *args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("community-safety: error: ")
    assert message in err
    assert not out.exists()


def test_wards_are_chosen_by_name_or_code(camden, tmp_path):
    out = tmp_path / "out"
    assert run("target", camden, "--out", out, *FIRE_XY, "--capacity", 100, "--wards",
               "belsize, E05013665") == 0
    crews = pd.read_csv(out / "target_list.csv")
    assert set(crews["ward_name"]) == {"Belsize", "Kilburn"} and len(crews) == 100


def test_a_ward_name_two_boroughs_share_asks_for_the_code():
    """A service over several boroughs: two wards called Abbey. The name alone is refused,
    naming both codes; either code, or another ward's name, is taken."""
    from community_safety.core.errors import InputError
    from community_safety.core.targeting.visit_inputs import chosen_wards

    wards = pd.DataFrame({"ward_code": ["E05000026", "E05000026", "E05009999", "E05000400"],
                          "ward_name": ["Abbey", "Abbey", "abbey ", "Bellingham"]})
    with pytest.raises(InputError, match="“Abbey” is the name of 2 wards of this "
                       r"segmentation \(E05000026, E05009999\): give the ward's code"):
        chosen_wards(["Abbey"], wards)
    assert chosen_wards(["e05009999", "bellingham"], wards) == ("E05009999", "E05000400")


def test_a_short_window_lists_an_areas_own_fires_before_its_code(camden, tmp_path, capsys):
    """The tester's Bromley case on Camden: with eight months of fires, the areas of most
    segments vary no more than chance would make them, and each area's own weight fell to
    0: the areas of such a segment were listed in code order, those without fires before
    those with the segment's most. Now no area without fires above its segment's is listed
    while an area of the same segment with more fires per household than the segment's is
    left off, and the crews read what the list's rate is."""
    out = tmp_path / "short"
    assert run("target", camden, "--out", out, "--capacity", 2000, *FIRE_XY,
               "--from", "2024-01-01") == 0
    capsys.readouterr()
    import pyogrio

    areas = pyogrio.read_dataframe(out / "target.gpkg", layer="target_areas",
                                   read_geometry=False)
    crews = pd.read_csv(out / "target_list.csv")
    areas["listed"] = areas["area_code"].isin(set(crews["area_code"]))
    below = areas["own_rate"] < areas["segment_rate"]
    for segment, group in areas.groupby("segment"):
        listed_below = group["listed"] & below[group.index]
        left_off_above = ~group["listed"] & ~below[group.index] & (group["fires"] > 0)
        assert not (listed_below.any() and left_off_above.any()), (
            segment, group.loc[left_off_above, ["area_code", "fires", "households"]])
    assert (crews["area_fires"] == 0).any()
    # the rate the list ranks by is named for what it is; an area's own is beside it
    book = pd.read_excel(out / "target_list.xlsx", sheet_name="Visits")
    assert not any(h.startswith("Output area's fire rate") for h in book.columns)
    expected = "Expected fire rate, from its segment's and its own (× the borough's)"
    none = book[book["Fires in the output area in Jan–Aug 2024"] == 0]
    assert len(none) and (none["Output area's own fire rate (× the borough's)"] == 0).all()
    assert none[expected].gt(0).all()
    assert none["Why on the list"].str.startswith(
        "no fires of its own in Jan–Aug 2024: listed for its segment's rate (expected ").all()
    some = book[book["Fires in the output area in Jan–Aug 2024"] > 0]
    assert some["Why on the list"].str.contains(" in this output area in Jan–Aug 2024 (its "
                                                "own rate ", regex=False).all()


def test_camden_backtest_beats_random_order(camden, tmp_path, capsys):
    out = tmp_path / "backtest"
    assert run("target", camden, "--out", out, "--backtest", "--cut-off", "2019-12-31",
               *FIRE_XY) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "backtest.csv").set_index(RANKING)
    top10, auc = columns("top_10pct")[0], columns("auc")[0]
    score = table.loc["segment + area score (empirical Bayes)"]
    random = table.loc[[r for r in table.index if r.startswith("random")][0]]
    imd = table.loc["deprivation alone (IMD)"]
    assert score[top10] > random[top10]
    assert score[auc] > random[auc]
    assert 0.45 < random[auc] < 0.55
    assert (out / "capture_curve.png").stat().st_size > 10_000
    assert "tested on" in printed
    # the console's table in words, each figure as the CSV rounds it
    assert "Top 10% (%)" in printed and "Area under curve" in printed
    assert "top_10pct" not in printed and "auc" not in printed
    assert f"{score[top10]:.1f}" in printed
    print(f"\nCamden backtest (IMD for comparison, not asserted): score top 10% "
          f"{score[top10]}, IMD {imd[top10]}, random {random[top10]}")
    recon = pd.read_csv(out / "reconciliation.csv")
    assert len(recon) == len(pd.read_csv(FIRES))
    assert np.isin(recon["detail"], ["fitted on", "tested on"]).sum() > 2500


def test_processing_algorithm_writes_the_list(camden, provider, tmp_path):
    import processing

    out = tmp_path / "q"
    result = processing.run("community_safety:targetvisits", {
        "SEGMENTATION": str(camden), "CAPACITY": 50, "CLUSTER": True,
        "OUTPUT_FOLDER": str(out)})
    crews = pd.read_csv(result["TARGET_LIST"])
    assert len(crews) == 50
    # clustered: each area's addresses are consecutive in the ranking
    ranked = crews.sort_values("rank")["area_code"]
    assert (ranked != ranked.shift()).sum() == ranked.nunique()
    assert (out / "target.gpkg").exists()


def test_the_target_layer_names_its_fields_in_words_and_rounds_its_numbers(
        camden, provider, layers, tmp_path):
    """The *Target addresses* layer the Processing algorithm loads, as QGIS shows it: each
    field's alias in words with its unit and period, numbers to the workbook's decimals
    (not 0.00269611...), and households empty where the gazetteer gives none (not 1)."""
    import processing
    from qgis.core import QgsApplication, QgsVectorLayer

    out = tmp_path / "q"
    result = processing.run("community_safety:targetvisits", {
        "SEGMENTATION": str(camden), "CAPACITY": 20, "INCIDENTS": layers["fires"],
        "DATE": "date", "OUTPUT_FOLDER": str(out)})
    layer = QgsVectorLayer(result["TARGETS"], "Target addresses", "ogr")
    assert layer.isValid()
    names = {field.name(): layer.attributeDisplayName(i)
             for i, field in enumerate(layer.fields())}
    assert names["expected_fires_per_year"] == ("Expected fires per year (from the fires of "
                                                "Jan 2009 – Aug 2024)")
    assert names["segment_ratio"] == "Segment's fire rate (× the borough's)"
    assert names["address_id"] == "Address (gazetteer ID)"
    assert names["households"] == "Households (not known: each address counts as one)"
    assert not {"ward_code", "multiplier", "segment_ratio", "area_ratio"} & set(
        names.values())
    feature = next(layer.getFeatures())
    assert feature["households"] is None or str(feature["households"]) == "NULL"

    def shown(name):
        i = layer.fields().indexOf(name)
        setup = layer.editorWidgetSetup(i)
        formatter = QgsApplication.fieldFormatterRegistry().fieldFormatter(setup.type())
        return formatter.representValue(layer, i, setup.config(), None, feature[i])

    expected = feature["expected_fires_per_year"]
    assert shown("expected_fires_per_year") == f"{expected:.4f}"
    assert shown("segment_ratio") == f"{feature['segment_ratio']:.2f}"

    # the output areas beside it: every field in words too, the rate to the legend's 2 places
    areas = QgsVectorLayer(f"{out / 'target.gpkg'}|layername=target_areas", "areas", "ogr")
    assert areas.isValid()
    names = {field.name(): areas.attributeDisplayName(i)
             for i, field in enumerate(areas.fields()) if field.name() != "fid"}
    assert all(alias != name and alias[:1].isupper() for name, alias in names.items()), names
    assert names["rate_per_1000_households"] == "Expected fires per 1,000 households per year"
    assert names["fires"] == "Fires in Jan 2009 – Aug 2024"
    assert names["weight"].startswith("Weight of the output area's own rate")
    layer, feature = areas, next(areas.getFeatures())
    assert shown("rate_per_1000_households") == f"{feature['rate_per_1000_households']:.2f}"


def test_a_capacity_in_households_is_said_in_households():
    import pytest

    from community_safety.core.errors import InputError
    from community_safety.core.targeting.visit_list import _check_capacity

    with pytest.raises(InputError, match="a capacity of 200,000 households is more than the "
                                         "121,932 households at the eligible postcodes"):
        _check_capacity(200_000, 121_932, "the study area",
                        unit="households at the eligible postcodes")
    with pytest.raises(InputError, match="a capacity of 900 visits is more than the 800 "
                                         "eligible addresses"):
        _check_capacity(900, 800, "the study area")
