"""Which columns of a labels file hold the variable names and their descriptions, guessed
from the tables' column names (what the wizard's data page shows for the user to confirm):
on the census's own metadata for Sutton's raw tables, on a plain variable/description file
(CSV and spreadsheet), and on a file that describes none of the tables' columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from community_safety.core.segment.labels import (
    described,
    guess_labels_file,
    read_labels,
)

SUTTON = Path(__file__).parent / "data" / "london_boroughs" / "E09000029"
TABLES = ["ts017", "ts037", "ts045", "ts054"]


def columns_of(tables) -> list[str]:
    return [c for t in tables for c in pd.read_csv(SUTTON / f"{t}.csv", nrows=0).columns
            if c != "OA"]


def test_the_census_metadata_file_is_read_with_its_own_column_names():
    variables = columns_of(TABLES)
    guess = guess_labels_file(SUTTON / "census_variables.csv", variables)
    # new_names holds ts0170001...; Variable_Name is longer text than Table_Name
    assert (guess.variable, guess.description) == ("new_names", "Variable_Name")
    found, missing = described(guess.table, guess.variable, guess.description, variables)
    assert len(found) == len(variables) == 34 and missing == []
    labels = read_labels(SUTTON / "census_variables.csv", (guess.variable, guess.description))
    words = dict(zip(labels["variable"], labels["description"]))
    assert words["ts0170003"] == "1 person in household"
    assert words["ts0540008"] == "Social rented: Rents from council or Local Authority"


def test_a_partial_file_names_what_it_leaves_undescribed():
    variables = [*columns_of(["ts017"]), "a24under"]
    guess = guess_labels_file(SUTTON / "census_variables.csv", variables)
    found, missing = described(guess.table, guess.variable, guess.description, variables)
    assert len(found) == 10 and missing == ["a24under"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_plain_variable_description_file(tmp_path, suffix):
    table = pd.DataFrame({"theme": ["Housing", "Housing", "Health"],
                          "variable": ["pct_social_rent", "pct_no_car", "pct_bad_health"],
                          "description": ["Households renting from the council",
                                          "Households without a car",
                                          "Residents in bad or very bad health"]})
    path = tmp_path / f"labels{suffix}"
    if suffix == ".csv":
        table.to_csv(path, index=False, encoding="cp1252")
    else:
        table.to_excel(path, index=False)
    guess = guess_labels_file(path, ["pct_no_car", "pct_bad_health", "households"])
    assert (guess.variable, guess.description) == ("variable", "description")
    found, missing = described(guess.table, "variable", "description",
                               ["pct_no_car", "pct_bad_health", "households"])
    assert found == ["pct_no_car", "pct_bad_health"] and missing == ["households"]
    assert read_labels(path)["description"].tolist()[1] == "Households without a car"
    # describing none of these tables' columns, its columns are still known by their names
    other = guess_labels_file(path, ["IMD19"])
    assert (other.variable, other.description) == ("variable", "description")


def test_a_file_describing_none_of_the_columns_has_no_names_column(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("code,label\nu001,All persons\nu002,Males\n")
    guess = guess_labels_file(path, columns_of(["ts017"]))
    assert guess.variable is None and guess.description == "label"


def full_metadata(folder: Path) -> Path:
    """Sutton's census metadata with every column of the pack's table_metadata.csv: Type,
    Table_ID and old_names ("Table: Variable; measures: Value", the longest text)."""
    table = pd.read_csv(SUTTON / "census_variables.csv", dtype=str)
    table["Type"] = "Value"
    table["Table_ID"] = table["new_names"].str[:5]
    table["old_names"] = table["Table_Name"] + ": " + table["Variable_Name"] + "; measures: Value"
    path = folder / "table_metadata.csv"
    table[["Table_Name", "Variable_Name", "Type", "new_names", "Table_ID", "old_names"]
          ].to_csv(path, index=False)
    return path


def test_the_short_label_is_guessed_over_a_longer_column_repeating_the_table_name(tmp_path):
    variables = columns_of(TABLES)
    guess = guess_labels_file(full_metadata(tmp_path), variables)
    assert (guess.variable, guess.description) == ("new_names", "Variable_Name")


def test_a_column_made_of_the_others_is_passed_over_whatever_the_columns_are_called(tmp_path):
    """Judged by the cells, not the names: "Full" repeats "Topic" and "Short"."""
    topics = ["Cars", "Cars", "Health", "Health"]
    short = ["No cars or vans", "1 car or van", "Very good health", "Bad health"]
    path = tmp_path / "labels.csv"
    pd.DataFrame({"Topic": topics, "Code": ["c1", "c2", "h1", "h2"], "Short": short,
                  "Full": [f"{t} - {s} (% of households)" for t, s in zip(topics, short)]}
                 ).to_csv(path, index=False)
    guess = guess_labels_file(path, ["c1", "c2", "h2"])
    assert (guess.variable, guess.description) == ("Code", "Short")
    # where only the composed column tells the variables apart, it is still taken
    alone = tmp_path / "alone.csv"
    pd.DataFrame({"Code": ["c1", "c2"], "Topic": ["Cars", "Cars"],
                  "Full": ["Cars: none", "Cars: one"]}).to_csv(alone, index=False)
    assert guess_labels_file(alone, ["c1"]).description == "Full"
