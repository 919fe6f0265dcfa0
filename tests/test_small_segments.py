"""No useless tiny segments: flagged below a minimum share, and winsorising as the remedy,
reported area by area and applied the same way when new areas are assigned."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import SAMPLE_DIR

from community_safety.core.cli import main
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.area_data import gather_area_data
from community_safety.core.segment.assign import assign_areas
from community_safety.core.segment.build import build_segmentation, small_segments_note


@pytest.fixture(scope="module")
def project():
    return replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=50)


@pytest.fixture(scope="module")
def data(project):
    return gather_area_data(project)


def test_without_winsorising_camden_has_tiny_segments_and_they_are_flagged(project, data):
    from community_safety.core.segment.prepare import prepare

    raw = replace(project, winsorise=0.0)
    seg = build_segmentation(raw, prepared=prepare(raw, data=data))
    small = seg.manifest["results"]["small_segments"]
    assert small and all(s["share_of_areas"] < 2.0 for s in small)
    assert {s["areas"] for s in small} <= {3, 4, 5, 6}
    note = small_segments_note(seg.manifest)
    assert note.startswith("Small segments, under 2% of the areas: segment")
    assert "winsorise = 3" in note


def test_winsorising_at_three_leaves_no_tiny_segment_and_lists_the_clipped_areas(project,
                                                                                data):
    from community_safety.core.segment.prepare import prepare

    prepared = prepare(project, data=data)
    assert np.abs(prepared.X).max() <= 3.0
    seg = build_segmentation(project, prepared=prepared)
    assert seg.manifest["results"]["small_segments"] == []
    assert seg.summary["share_of_areas"].min() >= 2.0
    clipped = prepared.clipped
    assert len(clipped) == seg.manifest["results"]["winsorised"]["cells"] > 0
    assert (clipped["standardised_value"].abs() > 3).all()
    assert set(clipped["clipped_to"].abs()) == {3.0}
    # new data for the same areas land in the same segments: the clip is applied there too
    assigned = assign_areas(seg, data.values)
    built = seg.areas["segment"].dropna().astype(int)
    assert (assigned.loc[built.index, "segment"] == built).mean() == 1.0


def test_the_command_line_warns_of_small_segments(tmp_path, capsys):
    text = (SAMPLE_DIR / "camden.toml").read_text()
    for name in ("output_areas_2011.gpkg", "census_demography.csv", "census_housing.csv",
                 "census_health_care.csv", "census_work.csv", "imd2019_lsoa.csv",
                 "variables.csv"):
        text = text.replace(f'"{name}"', f'"{SAMPLE_DIR / name}"')
    text = text.replace("winsorise = 3.0", "winsorise = 0").replace("n_init = 1000", "n_init = 20")
    (tmp_path / "p.toml").write_text(text)
    assert main(["segment", str(tmp_path / "p.toml"), "--out", str(tmp_path / "o"),
                 "--no-plots"]) == 0
    assert "Small segments, under 2% of the areas" in capsys.readouterr().err
