"""Segment names and pen portraits from raw Census 2021 category labels: the census's own
metadata file as the labels file, its labels ("Terraced", "In a commercial building, for
example, ...", "Occupancy rating of bedrooms: 0") said in grammatical phrases of at most
about ten words, with the table's title and population (from its total) where the label
alone is an adjective, a place or a clause.

Real data: Kensington and Chelsea's ts038, ts044 and ts052 as published, with the census
metadata's rows for them (tests/data/census2021_labels, see its SOURCES.md)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from community_safety.core.project.project_file import load_project
from community_safety.core.segment.build import build_segmentation
from community_safety.core.segment.labels import read_labels
from community_safety.core.segment.names import name_key, render_name
from community_safety.core.segment.phrases import table_contexts
from community_safety.core.segment.words import words_for

DATA = Path(__file__).parent / "data"
LABELS = DATA / "census2021_labels"
BOROUGH = DATA / "london_boroughs" / "E09000020"
METADATA = LABELS / "table_metadata.csv"


def kensington_project(name: str, tables: str, labels: Path) -> str:
    """A project file's text for Kensington and Chelsea's Census 2021 ``tables`` (their
    [[tables]] entries), with its residents, households and deprivation (IMD by LSOA) and
    the ``labels`` file: what an officer writes from README's census steps."""
    return f'''name = "{name}"

[boundaries]
path = "{BOROUGH / 'output_areas.gpkg'}"
layer = "output_areas"
code = "OA11CD"
{tables}
[[tables]]
path = "{BOROUGH / 'ts001.csv'}"
code = "OA"
variables = []
context = ["ts0010001"]

[[tables]]
path = "{BOROUGH / 'ts041.csv'}"
code = "OA"
variables = []
context = ["ts0410001"]

[[tables]]
path = "{BOROUGH / 'imd.csv'}"
code = "LSOA11CD"
lookup = {{path = "{BOROUGH / 'oa_lsoa.csv'}", from = "OA11CD", to = "LSOA11CD"}}
context = ["IMD19"]

[segmentation]
k = 8
n_init = 10
seed = 2011

[deprivation]
column = "IMD19"
more_deprived = "lower"

[sizes]
residents = "ts0010001"
households = "ts0410001"

[labels]
file = "{labels}"
variable = "new_names"
description = "Variable_Name"
'''
COLUMNS = ("new_names", "Variable_Name")


def _metadata(path: Path = METADATA):
    table = read_labels(path, COLUMNS)
    return dict(zip(table["variable"], table["description"])), table_contexts(table)


def _name(variable: str, path: Path = METADATA) -> str:
    """The name a segment high on one variable alone gets."""
    import pandas as pd

    labels, tables = _metadata(path)
    words = words_for(variable, labels, None, tables.get(variable))
    row = pd.DataFrame([{"part": words.part, "prep": words.high[0],
                         "object": words.high[1], "subject": words.subject}])
    return render_name(row)


@pytest.mark.parametrize("variable, name", [
    # "In a commercial building, for example, in an office building, hotel or over a shop"
    ("ts0440008", "Residents in a commercial building"),
    ("ts0440004", "Residents in terraced homes"),  # "Terraced", of accommodation types
    ("ts0440003", "Residents in semi-detached homes"),
    ("ts0440009", "Residents in a caravan"),  # "... or other mobile or temporary structure"
    # "Not disabled under the Equality Act: Has long term physical or mental health
    # condition but day-to-day activities are not limited": a clause, cut before "but"
    ("ts0380006", "Residents who have long term physical or mental health condition"),
    ("ts0380002", "Residents who are disabled under the Equality Act"),
    # occupancy rating for bedrooms, each cell in words (never "occupancy rating of -2")
    ("ts0520002", "Residents living in homes with two or more spare bedrooms"),
    ("ts0520003", "Residents living in homes with a spare bedroom"),
    ("ts0520005", "Residents living in overcrowded homes"),  # the vocabulary's, 2021 wording
    ("ts0520004", "Residents living in homes with just enough bedrooms"),
    ("ts0520006", "Households overcrowded by two or more bedrooms"),  # a household measure
    ("ts0110002", "Households not deprived in any dimension"),  # not "Residents who are ..."
])
def test_a_census_label_is_said_as_a_phrase(variable, name):
    assert _name(variable) == name


@pytest.mark.parametrize("variable, name, says", [
    # "National Statistics Socio-economic Classification (NS-SEC): L7 Intermediate
    # occupations", "...: L8 and L9 Small employers and own account workers"
    ("ts0620004", "Residents in intermediate occupations",
     "work in intermediate occupations"),
    ("ts0620005", "Residents with many small employers and own account workers",
     "are small employers and own account workers"),
])
def test_kinds_of_work_and_of_people_are_said_as_such(variable, name, says):
    path = BOROUGH / "census_variables.csv"  # the metadata's columns as a council cuts it
    assert _name(variable, path) == name
    labels, tables = _metadata(path)
    words = words_for(variable, labels, None, tables[variable])
    assert (words.population, words.says) == ("residents aged 16 and over", says)


def test_who_a_table_counts_comes_from_its_total():
    _, tables = _metadata()
    assert tables["ts0440004"] == ("Accommodation type", "households")
    assert tables["ts0380006"] == ("Disability", "residents")
    assert tables["ts0520004"] == ("Occupancy rating for bedrooms", "households")


def test_a_portrait_says_the_label_of_its_population():
    labels, tables = _metadata()
    terraced = words_for("ts0440004", labels, None, tables["ts0440004"])
    assert (terraced.population, terraced.says) == ("households", "live in terraced homes")
    assert terraced.theme == "housing and tenure"  # from the table's title
    clause = words_for("ts0380006", labels, None, tables["ts0380006"])
    assert clause.says == ("have long term physical or mental health condition but "
                           "day-to-day activities are not limited")  # whole in a portrait
    # without the table (a labels file of two columns): words, never the bare adjective
    bare = words_for("ts0440004", labels)
    assert bare.population is None and bare.noun == "terraced homes"


@pytest.fixture(scope="module")
def kensington(tmp_path_factory):
    folder = tmp_path_factory.mktemp("census_labels")
    tables = "".join(
        f'\n[[tables]]\npath = "{LABELS / t}.csv"\ncode = "OA"\ndenominator = "{t}0001"\n'
        for t in ("ts038", "ts044", "ts052"))
    (folder / "p.toml").write_text(kensington_project("Kensington and Chelsea, Census 2021", tables,
                                                         METADATA))
    return build_segmentation(replace(load_project(folder / "p.toml")))


def test_names_from_census_labels_are_short_and_grammatical(kensington):
    names = kensington.summary["name"]
    labels, _ = _metadata()
    for name in names:
        assert len(name.split()) <= 10, name  # README: at most about ten words
        assert not re.search(r"[:,(]", name), name  # a label cut short, never quoted whole
        # never "a high share of" an adjective or a clause ("... of terraced", "... of has")
        assert not re.search(r"share of (?:in|has|have|is|disabled)\b|share of terraced$",
                             name), name
        assert "Total" not in name
    assert len({name_key(n) for n in names}) == len(names)  # never two alike


def test_a_category_said_as_its_own_phrase_is_had_by_most_of_the_segment(kensington):
    """'Residents in terraced homes' says the segment lives in them: only where most of it
    does; where fewer do, 'more often in terraced homes' than the whole area (a name must
    not state of a segment what 6% of it have)."""
    from community_safety.core.segment.descriptors import MOST
    from community_safety.core.segment.portraits import segment_texts

    labels, tables = _metadata()
    sizes = ["ts0010001", "ts0410001", "ts0380001", "ts0440001", "ts0520001"]
    texts, table = segment_texts(kensington.profiles, kensington.summary.drop(
        columns=["name", "portrait"]), labels, sizes=sizes, tables=tables)
    assert texts["name"].tolist() == kensington.summary["name"].tolist()  # as built
    used = table[table["in_name"] & (table["noun"] != "") & (table["direction"] == "high")]
    qualified = used["prep"].str.contains("more often")
    absolute = ~used["prep"].str.startswith("with") & ~qualified  # "in ...", "who ..."
    assert (qualified | absolute).any(), "no census category phrase is used in a name"
    for _, row in used[qualified].iterrows():
        assert row["mean"] < MOST, (texts.loc[row["segment"], "name"], row["mean"])
        # "more often" said once before it ("... more often in A and in B")
        name = texts.loc[row["segment"], "name"]
        assert row["object"] in name and "more often" in name[:name.index(row["object"])]
    for _, row in used[absolute].iterrows():
        assert row["mean"] >= MOST, (texts.loc[row["segment"], "name"], row["mean"])


def test_portraits_from_census_labels_say_whole_sentences(kensington):
    for portrait in kensington.summary["portrait"]:
        # a bare label after "than average:" ("Lower than average: occupancy rating of
        # bedrooms: 0") is never said
        for said in re.findall(r"than average: ([^(]+)\(", portrait):
            assert ":" not in said and said.strip() not in ("terraced", "detached"), portrait


@pytest.mark.parametrize("label, high, says, subject", [
    # what a household is, said of households: "Households not deprived in any dimension"
    ("Household is not deprived in any dimension", ("", "not deprived in any dimension"),
     "are not deprived in any dimension", "Households"),
    ("1 car or van in household", ("with", "1 car or van"), "have 1 car or van", ""),
])
def test_a_label_with_its_population_as_subject_is_said_once(label, high, says, subject):
    """'households have household is not deprived ...' and 'households have 1 car or van
    in household' (a QGIS tester's Sutton portraits): the subject and the trailing
    'in household' are the population the portrait already names."""
    from community_safety.core.segment.phrases import category_phrase

    phrase = category_phrase(label[:1].lower() + label[1:], "households", False)
    assert (phrase.high, phrase.says, phrase.subject) == (high, says, subject)
