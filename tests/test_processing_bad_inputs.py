"""Bad input in Processing: a QgsProcessingException carrying the engine's one line (no
traceback inside the message), and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_parameters
from test_processing import processing_error


def one_line(message: str) -> str:
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1, message
    return message


@pytest.mark.parametrize("change, expected", [
    ({"THRESHOLD": 0.0}, "[screening] threshold = 0 must lie above 0"),
    ({"K": 800}, "k = 800 is larger than the number of areas (749)"),
    ({"VARIABLES": ["LSOA11CD"]}, "column 'LSOA11CD': 'E01000842' is not a number"),
])
def test_build_segmentation(provider, layers, tmp_path, change, expected):
    output = tmp_path / "bad.gpkg"
    message = one_line(processing_error("community_safety:buildsegmentation",
                                        build_parameters(layers, output, **change)))
    assert expected in message
    assert not output.exists()


def test_an_output_inside_a_file_is_one_line(provider, layers, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    message = one_line(processing_error("community_safety:buildsegmentation",
                                        build_parameters(layers, blocker / "seg.gpkg")))
    assert "not_a_folder" in message
    assert blocker.read_text() == "a file where a folder should be"


def fires(layers, built, tmp_path, **change):
    return {"SEGMENTATION": built["OUTPUT"], "INCIDENTS": layers["fires"], "NAME": "fires",
            "DATE": "date", "OUTPUT_FOLDER": str(tmp_path / "incidents"), **change}


@pytest.mark.parametrize("change, expected", [
    ({"DATE_FROM": "2023-02-30"}, "the start date '2023-02-30' is not a date (YYYY-MM-DD)"),
    ({"DATE_FROM": "2024-01-01", "DATE_TO": "2020-01-01"},
     "the start date 2024-01-01 is after the end date 2020-01-01"),
    ({"DATE_FROM": "2030-01-01"}, "no record is both in the study area and within the"),
    ({"CATEGORY": "property_type", "CATEGORIES": "Castle"},
     "no record has the category 'castle' in column 'property_type'"),
])
def test_profile_incidents(provider, layers, built, tmp_path, change, expected):
    before = Path(built["OUTPUT"]).read_bytes()
    message = one_line(processing_error("community_safety:profileincidents",
                                        fires(layers, built, tmp_path, **change)))
    assert expected in message
    assert Path(built["OUTPUT"]).read_bytes() == before
    assert not (tmp_path / "incidents").exists()
