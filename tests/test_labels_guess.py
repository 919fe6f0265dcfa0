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
