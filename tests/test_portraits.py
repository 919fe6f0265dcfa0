"""Segment names and pen portraits in words: chosen by how distinctive and how large, by
theme, unique, with no column codes, every word and figure backed by the profile table; on
the Camden sample and on two other areas made from real census tables."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.descriptors import MOST
from community_safety.core.segment.kmeans import distance_to_centres, fit_kmeans
from community_safety.core.segment.labels import read_themes
from community_safety.core.segment.plots import axis_label, box_plots
from community_safety.core.segment.portraits import how_many, segment_texts
from community_safety.core.segment.profiles import (
    number_by_deprivation,
    pen_portraits,
    profile_table,
    segment_summary,
)
from community_safety.core.segment.standardise import fit_standardiser
from community_safety.core.segment.vocabulary import HOUSING, THEMES
from community_safety.core.segment.words import has_code, humanise, theme_of, words_for

DATA = Path(__file__).parent / "data"
CENSUS_CODE = re.compile(r"\b[A-Z]{2}\d{3}[A-Z]{2}\d{4}\b")
SENTENCE_END = re.compile(r"[.](?=\s+[A-Z0-9]|\s*$)")  # a sentence may open with a figure


# ------------------------------------------------------------------ checks shared by areas

def check_names_and_portraits(texts: pd.DataFrame, table: pd.DataFrame, profiles: pd.DataFrame,
                              summary: pd.DataFrame, codes: list) -> None:
    """Unique names; no column code; each name's words from a variable that is high/low as
    the words say; 3-5 sentences; every percentage a figure of the profile or summary."""
    assert texts["name"].is_unique, texts["name"].tolist()
    codes = [c for c in codes if "_" in c or has_code(c)]  # not 'households'
    for segment, row in texts.iterrows():
        for text in (row["name"], row["portrait"]):
            assert not CENSUS_CODE.search(text), text
            assert not any(re.search(rf"\b{re.escape(c)}\b", text) for c in codes), text
            assert "pct" not in text and "_" not in text, text
        used = table[(table["segment"] == segment) & table["in_name"]]
        for _, d in used.iterrows():
            # its words, "more often" before them only where under half the segment is so
            name, said = row["name"].lower(), d["object"].lower()
            assert said in name, (row, d)
            before = name[:name.index(said)]
            if d["minority"]:
                assert d["mean"] < MOST and "more often" in before, (row["name"], d)
            elif not re.match(r"with\b", d["prep"]):
                assert "more often" not in before, (row["name"], d)
            band = profiles.loc[(profiles["segment"] == segment)
                                & (profiles["variable"] == d["variable"]), "band"].iloc[0]
            assert band == d["direction"], (row["name"], d["variable"], band)
            assert (d["difference"] > 0) == (d["direction"] == "high")
        sentences = len(SENTENCE_END.findall(row["portrait"]))
        assert 3 <= sentences <= 5, row["portrait"]
        rows = profiles[profiles["segment"] == segment]
        allowed = [*rows["mean"], *rows["study_area_mean"],
                   100 * summary.loc[segment, "areas"] / summary["areas"].sum()]
        for number in re.findall(r"(\d+(?:\.\d)?)%", row["portrait"]):
            tolerance = 0.051 if "." in number else 0.51
            assert any(abs(float(number) - a) <= tolerance for a in allowed), (number, row)


# ------------------------------------------------------------------ the Camden sample

@pytest.fixture(scope="module")
def camden():
    project = load_project(SAMPLE_DIR / "camden.toml")
    custom = {1: {"name": "Our own name", "portrait": "Our own words."}}
    return build_segmentation(replace(project, n_init=10, segment_text=custom))


@pytest.fixture(scope="module")
def camden_texts(camden):
    return segment_texts(camden.profiles, camden.summary.drop(columns=["name", "portrait"]),
                         camden.labels)


def test_camden_names_and_portraits_are_in_words_and_backed(camden, camden_texts):
    texts, table = camden_texts
    check_names_and_portraits(texts, table, camden.profiles, camden.summary,
                              list(camden.values.columns))
    # the names read like the published ones: a who/housing/need phrase, no 'High ...'
    assert not texts["name"].str.startswith("High ").any()
    assert texts["name"].str.contains("social housing").any()
    # 44% of residents students: "more often students" (never "Students" of a minority)
    assert texts["name"].str.contains("students", case=False).any()


def test_names_and_portraits_in_the_project_file_still_win(camden, camden_texts):
    texts, _ = camden_texts
    assert camden.summary.loc[1, "name"] == "Our own name"
    assert camden.summary.loc[1, "portrait"] == "Our own words."
    others = camden.summary.drop(index=1)
    assert (others["name"] == texts.loc[others.index, "name"]).all()
    assert (camden.areas.loc[camden.areas["segment"] == 1, "segment_name"]
            == "Our own name").all()


def test_profile_table_carries_the_standardised_difference(camden):
    p = camden.profiles
    row = p[(p["segment"] == 2) & (p["variable"] == "pct_no_car")].iloc[0]
    values = camden.values.loc[camden.areas["segment"].dropna().index, "pct_no_car"]
    assert row["study_area_sd"] == pytest.approx(values.std())
    assert row["difference"] == pytest.approx(
        (row["mean"] - row["study_area_mean"]) / values.std(), abs=0.006)


def test_the_sample_variables_carry_themes_the_vocabulary_agrees_with():
    variables = pd.read_csv(SAMPLE_DIR / "variables.csv")
    assert set(variables["theme"]) <= set(THEMES)
    for row in variables.itertuples():
        assert theme_of(row.description) == row.theme, row.variable
    themes = read_themes(SAMPLE_DIR / "variables.csv")
    assert themes["pct_social_rented"] == HOUSING


# ------------------------------------------------------------------ a second area

def census_area(half: str, k: int = 8):
    """A segmentation of one half of Camden from other census cells, as published (KS
    percentages, a QS count made a percentage), labelled by the census descriptions."""
    data = pd.read_csv(DATA / "census_extract_camden.csv", index_col="GeographyCode")
    described = pd.read_csv(DATA / "census_extract_camden_variables.csv")
    labels = dict(zip(described["ColumnVariableCode"], described["ColumnVariableDescription"]))
    data = data[data["half"] == half].copy()
    data["QS205EW0005"] = 100 * data["QS205EW0005"] / data["QS205EW0001"]
    values = data.drop(columns=["half", "QS205EW0001", "QS205EW0006"])
    variables = [c for c in values.columns if c != "IMD19"]
    X = fit_standardiser(values[variables], "zscore").transform(values[variables]).to_numpy()
    fit = fit_kmeans(X, k, n_init=5, seed=2011)
    order = number_by_deprivation(fit.labels, values["IMD19"], "lower")
    segments = pd.Series([order[label] for label in fit.labels], index=values.index)
    profiles = profile_table(values, segments, variables)
    distance = pd.Series(distance_to_centres(X, fit.centres, fit.labels), index=values.index)
    summary = segment_summary(segments, pd.DataFrame(index=values.index), values["IMD19"],
                              distance)
    return values, profiles, summary, labels


@pytest.mark.parametrize("half", ["north", "south"])
def test_another_area_from_census_tables_gets_names_in_words(half):
    values, profiles, summary, labels = census_area(half)
    texts, table = segment_texts(profiles, summary, labels)
    check_names_and_portraits(texts, table, profiles, summary, list(values.columns))
    # words come from the census descriptions: tenure and ethnic groups in plain English
    assert texts["name"].str.contains("council housing|social housing|housing association").any()
    # an ethnic group names a segment only where it is a sizeable share of its residents
    for segment, name in texts["name"].items():
        group = re.search(r"a large (.+?) community", name)
        if group:
            rows = table[(table["segment"] == segment) & table["in_name"]
                         & (table["theme"] == "ethnicity and language")]
            assert len(rows) == 1 and rows["mean"].iloc[0] >= 10, (name, rows)


# ------------------------------------------------------------------ the rule, on made-up data

def made_up(segment_means: dict, labels: dict, areas: int = 40, seed: int = 1):
    """Areas whose variables are normal around each segment's means (percentages)."""
    rng = np.random.default_rng(seed)
    frames = []
    for segment, means in segment_means.items():
        frame = pd.DataFrame({v: np.clip(rng.normal(m, max(m * 0.15, 0.3), areas), 0, 100)
                              for v, m in means.items()})
        frame["segment"] = segment
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    data.index = [f"A{i:04d}" for i in range(len(data))]
    segments = data.pop("segment")
    profiles = profile_table(data, segments, list(data.columns))
    summary = segment_summary(segments, pd.DataFrame(index=data.index),
                              pd.Series(segments.to_numpy(), index=data.index),
                              pd.Series(0.0, index=data.index))
    return profiles, summary


def test_a_large_group_names_a_segment_before_a_rare_group_with_a_higher_index():
    labels = {"k_indian": "Asian/Asian British: Indian",
              "k_other_rare": "Other ethnic group: Arab",
              "k_rent": "Households renting privately"}
    profiles, summary = made_up({
        1: {"k_indian": 68, "k_other_rare": 2.8, "k_rent": 30},
        2: {"k_indian": 10, "k_other_rare": 0.3, "k_rent": 30},
        3: {"k_indian": 8, "k_other_rare": 0.3, "k_rent": 60},
    }, labels)
    index = profiles.set_index(["segment", "variable"])["index"]
    assert index[(1, "k_other_rare")] > index[(1, "k_indian")]  # the rare group's is higher
    texts, table = segment_texts(profiles, summary, labels)
    assert "Indian" in texts.loc[1, "name"] and "Arab" not in texts.loc[1, "name"]
    first = table[table["segment"] == 1].iloc[0]
    assert first["variable"] == "k_indian"
    assert "68%" in texts.loc[1, "portrait"]


def test_lows_describe_too_and_segments_alike_get_different_names():
    labels = {"a": "Households owning their home", "b": "Households with no car or van",
              "c": "Residents in bad or very bad health", "d": "Residents aged 65 and over"}
    profiles, summary = made_up({
        1: {"a": 70, "b": 20, "c": 4, "d": 30},
        2: {"a": 70, "b": 20, "c": 8, "d": 12},
        3: {"a": 20, "b": 70, "c": 6, "d": 12},
        4: {"a": 20, "b": 70, "c": 6, "d": 12},
    }, labels, seed=3)
    texts, table = segment_texts(profiles, summary, labels)
    assert texts["name"].is_unique, texts["name"].tolist()
    # few without a car: a low, said in words (segment 1's name says first that it is more
    # often aged 65 and over, 30% of its residents, and has no room left for it)
    assert "with cars" in texts.loc[2, "name"]
    lows = table[table["in_name"] & (table["direction"] == "low")]
    assert set(lows["variable"]) >= {"b"}


def test_census_2021_household_size_and_council_renting_in_words():
    # the Census 2021 labels (TS017, TS054) as the census's own metadata writes them
    labels = {"h2": "2 people in household", "rc": "Social rented: Rents from council or "
              "Local Authority", "own": "Owned: Owns outright"}
    profiles, summary = made_up({
        1: {"h2": 60, "rc": 4, "own": 50},
        2: {"h2": 20, "rc": 40, "own": 10},
        3: {"h2": 25, "rc": 20, "own": 25},
    }, labels)
    texts, _ = segment_texts(profiles, summary, labels)
    assert texts.loc[1, "name"].startswith("Two-person households"), texts["name"].tolist()
    # the council's part of social renting alone (TS054 gives the rest apart), 40% of the
    # households: under half, said so
    assert texts.loc[2, "name"] == "Residents more often in council housing"
    assert "rent their home from the council (40%" in texts.loc[2, "portrait"]
    names = " ".join(texts["name"])
    assert "2 people in household" not in names and "Rents from council" not in names
    assert "are of two people" in texts.loc[1, "portrait"]


def test_census_2021_never_worked_is_said_of_residents_aged_16_and_over():
    # TS062 (NS-SEC) counts the never worked with the long-term unemployed, of all
    # residents aged 16 and over (the 2011 variable was of those aged 16 to 74)
    labels = {"nw": "L14.1 and L14.2 Never worked and long-term unemployed",
              "own": "Owned: Owns outright"}
    profiles, summary = made_up({1: {"nw": 14, "own": 20}, 2: {"nw": 3, "own": 50},
                                 3: {"nw": 5, "own": 40}}, labels)
    texts, _ = segment_texts(profiles, summary, labels)
    said = texts.loc[1, "portrait"]
    assert "residents aged 16 and over have never worked or are long-term unemployed" in said
    assert "16 to 74" not in said


def test_household_sizes_are_said_as_households():
    # Census 2021 TS017's labels; segment 2 has few large households and many of 3 people
    labels = {"h3": "3 people in household", "h5": "5 people in household",
              "h8": "8 or more people in household"}
    profiles, summary = made_up({
        1: {"h3": 15, "h5": 12, "h8": 6},
        2: {"h3": 30, "h5": 2, "h8": 0.5},
        3: {"h3": 16, "h5": 11, "h8": 5},
    }, labels)
    texts, _ = segment_texts(profiles, summary, labels)
    assert "people in household" not in " ".join(texts["name"]), texts["name"].tolist()
    # "Smaller households" only from the households of 8 or more, not from one size
    assert texts.loc[2, "name"].startswith("Smaller households"), texts["name"].tolist()
    assert words_for("h5", labels).low is None
    # a portrait says each size in words, and never "five or more" of the households of 5
    said = " ".join(texts["portrait"])
    assert "five or more" not in said and "people in household" not in said
    assert "households are of three people (29%" in texts.loc[2, "portrait"]
    assert "households are of eight or more people (0.4%" in texts.loc[2, "portrait"]
    assert words_for("h8", labels).label == "8 or more people in household"


def test_variables_without_known_words_are_said_with_their_labels():
    labels = {"x1": "Residents who cycle to the shops", "x2": "Households with a dog"}
    profiles, summary = made_up({
        1: {"x1": 40, "x2": 10, "k016_pct": 30},
        2: {"x1": 10, "x2": 40, "k016_pct": 30},
        3: {"x1": 12, "x2": 12, "k016_pct": 60},
    }, labels)
    texts, _ = segment_texts(profiles, summary, labels)
    assert "cycle to the shops" in texts.loc[1, "name"]
    assert "with a dog" in texts.loc[2, "name"]
    # a code and no label: said by its column name, cleaned and quoted, never as "average"
    assert texts.loc[3, "name"] == "Residents with high 'k016'"
    assert "Higher than average: 'k016' (59%, against 39%" in texts.loc[3, "portrait"]
    assert not texts["portrait"].str.contains("close to the average").any()
    assert texts["name"].is_unique


def test_the_function_segmentation_calls_keeps_its_signature():
    labels = {"a": "Households renting socially", "b": "Residents aged 0 to 15"}
    profiles, summary = made_up({1: {"a": 70, "b": 30}, 2: {"a": 10, "b": 10}}, labels)
    out = pen_portraits(profiles, summary, labels)
    assert list(out.columns) == ["name", "portrait"] and list(out.index) == [1, 2]
    # 70% renting socially; 30% of residents aged 0 to 15 is no family of everyone (said
    # "more often aged 0 to 15", which the name has no room for)
    assert out.loc[1, "name"] == "Residents living in social housing"


# ------------------------------------------------------------------ words

@pytest.mark.parametrize("percent, words", [
    (48, "almost half of"), (50, "about half of"), (69, "about seven in ten"),
    (71, "about seven in ten"), (67, "about two thirds of"),  # 71%: nearer 70 than 66.7
    (14, "about one in seven"), (31, "just over three in ten"), (2, "very few"),
    (97, "almost all"), (26, "just over a quarter of"), (55, "just over half of"),
    (57, "almost three in five"), (4.5, "almost one in twenty"), (37, "over a third of"),
])
def test_how_many_in_words(percent, words):
    assert how_many(percent) == words


def test_column_names_in_words():
    assert humanise("pct_age_0_15") == "age 0 to 15"
    assert humanise("k016_bangladeshi") == "bangladeshi"
    assert has_code(humanise("KS201EW0030")) and has_code("IMD19")
    assert not has_code("Households renting socially")
    census = words_for("KS402EW0013", {"KS402EW0013":
                                       "Social rented: Rented from council (Local Authority)"})
    assert census.theme == HOUSING and census.high == ("living in", "council housing")


def test_box_plots_speak_in_words(tmp_path):
    labels = {"pct_no_car": "Households with no car or van"}
    values = pd.DataFrame({"pct_no_car": [10.0, 20, 30, 40], "IMD19": [100, 200, 300, 400]},
                          index=list("abcd"))
    segments = pd.Series([1, 1, 2, 2], index=list("abcd"))
    assert axis_label("pct_no_car", values["pct_no_car"], labels) == "% of households"
    assert axis_label("IMD19", values["IMD19"], labels) == "IMD19"
    paths = box_plots(values, segments, tmp_path, labels, names={1: "One", 2: "Two"})
    assert [p.name for p in paths] == ["box_pct_no_car.png", "box_IMD19.png"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_no_segment_is_called_average_when_an_index_says_otherwise(camden, camden_texts):
    texts, _ = camden_texts
    for segment, row in texts.iterrows():
        bands = camden.profiles.loc[(camden.profiles["segment"] == segment)
                                    & camden.profiles["clustered"].astype(bool), "band"]
        if (bands != "medium").any():
            assert "close to the average" not in row["name"] + row["portrait"], row
        assert len(row["name"].split()) <= 10, row["name"]


def test_codes_without_labels_name_segments_and_portraits_follow_the_figures():
    """A council's coded count columns with no labels (as Leeds's age_cons.csv): the names
    use the cleaned column names, differ, and no portrait calls a segment average."""
    rng = np.random.default_rng(4)
    segments = {s: {f"a{c}under": float(v) for c, v in zip((24, 44, 64), rng.integers(
        5, 95, 3))} for s in range(1, 6)}
    profiles, summary = made_up(segments, {})
    texts, _ = segment_texts(profiles, summary, {})
    assert texts["name"].is_unique, texts["name"].tolist()
    assert not texts["name"].str.contains("close to the average").any()
    assert texts["name"].str.contains("'a").all()
    index = profiles.set_index(["segment", "variable"])["index"]
    for segment, row in texts.iterrows():
        if not index[segment].between(80, 120).all():
            assert "close to the average" not in row["portrait"], row["portrait"]


def test_the_same_name_for_two_segments_in_the_project_is_refused(tmp_path):
    from community_safety.core.errors import InputError

    project = load_project(SAMPLE_DIR / "camden.toml")
    twice = {2: {"name": "Our people"}, 5: {"name": "people our"}}
    with pytest.raises(InputError, match=r"\[segments.2\] and \[segments.5\] give the same"):
        build_segmentation(replace(project, n_init=2, segment_text=twice))


def test_small_differences_of_unlabelled_columns_read_as_a_sentence():
    profiles, summary = made_up({1: {"a45to64": 50, "b": 10}, 2: {"a45to64": 10, "b": 50},
                                 3: {"a45to64": 29, "b": 30.5}}, {})
    texts, _ = segment_texts(profiles, summary, {})
    said = texts.loc[3, "portrait"]
    assert "'a45to64' a little lower than average (29%, against 30%" in said, said
    assert ": lower than average" not in said and ": higher than average" not in said


def test_a_label_inside_a_sentence_keeps_the_capitals_of_a_name():
    from community_safety.core.segment.words import lower_first

    assert lower_first("Households with dependent children") == (
        "households with dependent children")
    # the census's own name for NS-SEC stays a name: "national Statistics" was a crew's reason
    named = "National Statistics Socio-economic Classification (NS-SEC): L12 Semi-routine"
    assert lower_first(named) == named
    assert lower_first("NS-SEC L12") == "NS-SEC L12"
    assert lower_first("Owned: Owns outright") == "owned: Owns outright"


def test_economic_activity_is_said_of_the_ages_its_label_gives():
    # the 2011 census counted economic activity of residents aged 16 to 74; Census 2021
    # (TS066) of every resident aged 16 and over: the ages are said as the label gives them,
    # and a label silent on them is said of adult residents, never of the wrong range
    labels = {"sick11": "Residents aged 16-74 economically inactive: long-term sick or disabled",
              "sick21": "Economic activity status: Economically inactive: Long-term sick or "
                        "disabled: All usual residents aged 16 years and over",
              "sick": "Economically inactive: Long-term sick or disabled"}
    said = {}
    for variable in labels:
        profiles, summary = made_up({1: {variable: 12}, 2: {variable: 3},
                                     3: {variable: 4}}, {variable: labels[variable]})
        texts, _ = segment_texts(profiles, summary, {variable: labels[variable]})
        said[variable] = texts.loc[1, "portrait"]
    out_of_work = "are out of work because of long-term sickness or disability"
    assert f"residents aged 16 to 74 {out_of_work}" in said["sick11"]
    assert f"residents aged 16 and over {out_of_work}" in said["sick21"]
    assert f"adult residents {out_of_work}" in said["sick"]
    assert "16 to 74" not in said["sick21"] + said["sick"]


@pytest.mark.parametrize("label, high, says", [
    ("2 cars or vans in household", "two cars", "have two cars or vans"),
    ("Number of cars or vans: 3 or more cars or vans in household", "three or more cars",
     "have three or more cars or vans"),
    ("3 cars or vans in household", "three cars", "have three cars or vans"),
    ("4 or more cars or vans in household", "four or more cars",
     "have four or more cars or vans"),
])
def test_each_count_of_cars_has_its_own_words(label, high, says):
    """A portrait quotes the share of one census cell: the households with exactly two cars
    are not 'two or more' (Census 2021's ts045 has 2, and 3 or more, in cells apart)."""
    words = words_for("cars", {"cars": label})
    assert words.high == ("with", high) and words.says == says


@pytest.mark.parametrize("label, high, says", [
    ("National Statistics Socio-economic Classification (NS-SEC): L13 Routine occupations",
     "routine work", "are in routine work"),
    ("National Statistics Socio-economic Classification (NS-SEC): L12 Semi-routine "
     "occupations", "semi-routine work", "are in semi-routine work"),
    ("Routine and semi-routine occupations", "routine work",
     "are in routine or semi-routine work"),
])
def test_each_class_of_work_has_its_own_words(label, high, says):
    """Barnet's segment 9 said "11% are in routine or semi-routine work" where 11% were in
    routine work alone (22.2% in both, Census 2021 ts062): each class is said as itself."""
    words = words_for("work", {"work": label})
    assert words.high == ("in", high) and words.says == says


def test_the_numbering_names_the_deprivation_measure_in_words(camden, capsys, tmp_path):
    """The sample's labels do not describe IMD19: the report's numbering sentence, the
    partners' notes (both the manifest's description), the layer's abstract and the
    console say "deprivation measure (IMD19)", never the column's code alone."""
    from community_safety.core.cli.segmentation import _print_summary
    from community_safety.core.segment.saved import segment_abstract

    assert "IMD19" not in camden.labels
    description = camden.manifest["numbering"]["description"]
    assert "by the mean deprivation measure (IMD19) of their areas" in description
    assert "deprivation measure (IMD19)" in segment_abstract(camden)
    _print_summary(camden, tmp_path)
    printed = capsys.readouterr().out
    assert "mean deprivation measure (IMD19) (lower = more deprived)" in printed
    assert not re.search(r"mean IMD19|by the mean IMD19", printed + description)
