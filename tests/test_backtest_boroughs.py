"""Which test the risk model's backtest runs, said why: leave one borough out only when the
lookup's last column holds boroughs (an OA -> LSOA lookup is a time split, not "leave one
borough out, 133 boroughs"); and what it writes and says reads in words."""

from __future__ import annotations

import numpy as np

from community_safety.core.targeting.borough_split import borough_split

LSOA = np.array(["E01002250", "E01002248", "E01002250", "E01002391"])


def test_an_oa_to_lsoa_lookup_is_a_time_split_and_says_why():
    group, why = borough_split({"LSOA11CD": LSOA})
    assert group is None
    assert why.startswith("time split") and "LSOA11CD" in why and "not boroughs" in why
    # small-area codes are never boroughs, whatever the column is called
    group, _ = borough_split({"borough": LSOA})
    assert group is None


def test_a_lookup_ending_in_boroughs_leaves_each_out():
    codes = np.array(["E09000016", "E09000020", "E09000016", "E09000020"])
    group, why = borough_split({"LSOA11CD": LSOA, "LAD11CD": codes})
    assert group == "LAD11CD"
    assert why.startswith("leave one borough out") and "2 boroughs" in why
    # boroughs by the column's name, when the values are names
    names = np.array(["North Camden", "South Camden", "North Camden", "South Camden"])
    assert borough_split({"lsoa_cd": LSOA, "lad_nm": names})[0] == "lad_nm"
    assert borough_split({"lsoa_cd": LSOA, "Local authority": names})[0] == "Local authority"
    # the LAST column decides: a borough column before the LSOAs is not taken
    assert borough_split({"LAD11CD": codes, "LSOA11CD": LSOA})[0] is None


def test_one_borough_or_no_lookup_is_a_time_split():
    group, why = borough_split({"lsoa_cd": LSOA, "lad_cd": np.array(["E09000007"] * 4)})
    assert group is None and "one borough (E09000007)" in why
    group, why = borough_split({})
    assert group is None and "no lookup" in why
    # a column neither named nor coded as boroughs (wards, say) is not taken for them
    assert borough_split({"WD22CD": np.array(["E05000001", "E05000002"] * 2)})[0] is None


def test_differences_are_said_without_a_negative_zero():
    from community_safety.core.targeting.backtest_words import signed

    assert [signed(v, 1) for v in (-0.04, 0.0, 0.05, -2.34, 3.0)] == [
        "0.0", "0.0", "+0.1", "-2.3", "+3.0"]
    assert signed(-0.0004, 3) == "0.000"

