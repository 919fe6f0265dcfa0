"""The project file the wizard saves: load_project(save_project(p)) == p, and the command
line runs it."""

from __future__ import annotations

import shutil
from dataclasses import replace

from conftest import SAMPLE_DIR

from community_safety.core.project.guesses import (
    guess_code_field,
    guess_context,
    guess_join,
    guess_key_column,
    table_preview,
)
from community_safety.core.project.project_file import (
    TableSpec,
    load_project,
    project_to_toml,
    save_project,
)


def test_the_camden_project_round_trips_from_another_folder(tmp_path):
    camden = load_project(SAMPLE_DIR / "camden.toml")
    moved = replace(camden, path=(tmp_path / "projects" / "camden.toml").resolve())
    saved = save_project(moved)
    assert saved == moved.path
    assert load_project(saved) == moved
    text = saved.read_text(encoding="utf-8")
    assert '"../' in text  # paths relative to the project file's folder, not absolute
    assert 'path = "/' not in text and 'file = "/' not in text


def test_the_camden_project_saved_beside_its_data_names_files_plainly(tmp_path):
    for path in SAMPLE_DIR.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    camden = load_project(tmp_path / "camden.toml")
    saved = save_project(camden, tmp_path / "again.toml")
    assert load_project(saved) == replace(camden, path=saved)
    text = saved.read_text(encoding="utf-8")
    assert 'path = "output_areas_2011.gpkg"' in text
    assert 'path = "imd2019_lsoa.csv"' in text and 'join_on = "LSOA11CD"' in text


def test_lookup_denominators_forced_variables_and_segment_texts_round_trip(tmp_path):
    camden = load_project(SAMPLE_DIR / "camden.toml")
    imd = TableSpec(path=SAMPLE_DIR / "imd2019_lsoa.csv", code="LSOA11CD", context=("IMD19",),
                    lookup=SAMPLE_DIR / "oa_lsoa_lookup.csv", lookup_from="oa_cd",
                    lookup_to="lsoa_cd")
    counts = TableSpec(path=SAMPLE_DIR / "census_housing.csv", code="OA11CD",
                       variables=("dwellings", "household_spaces"),
                       context=("households",), denominator={"dwellings": "households",
                                                             "household spaces": "households"},
                       per=1000.0)
    single = TableSpec(path=SAMPLE_DIR / "census_work.csv", code="OA11CD",
                       context=("residents_16_74",), denominator="residents_16_74")
    project = replace(
        camden, path=(tmp_path / "p.toml").resolve(),
        tables=(camden.tables[0], imd, counts, single), boundary_crs="EPSG:27700",
        screening=replace(camden.screening, force_in=("pct_no_car", "pct_bad_health"),
                          force_out=("pct_retired",)),
        segment_text={10: {"name": 'Social renting, "lone" parents',
                           "portrait": "Line one.\nLine two ± ü"}, 2: {"name": "B"}},
        subsegments=3, missing="drop", standardise="ihs_range", more_deprived="higher")
    assert load_project(save_project(project)) == project
    text = project_to_toml(project)
    assert 'lookup = {path = "' in text and 'from = "oa_cd"' in text
    assert '"household spaces" = "households"' in text  # a key that needs quotes


def test_the_command_line_runs_a_saved_project(tmp_path):
    from community_safety.core.cli import main

    camden = load_project(SAMPLE_DIR / "camden.toml")
    saved = save_project(replace(camden, path=(tmp_path / "refresh.toml").resolve()))
    assert main(["segment", str(saved), "--out", str(tmp_path / "out"), "--n-init", "3",
                 "--no-plots"]) == 0
    assert (tmp_path / "out" / "segmentation.gpkg").exists()


def test_the_wizard_guesses_the_camden_sample_as_its_project_file_says():
    import pyogrio

    camden = load_project(SAMPLE_DIR / "camden.toml")
    frame = pyogrio.read_dataframe(camden.boundaries, max_features=100, read_geometry=False)
    samples = {column: frame[column].tolist() for column in frame.columns}
    assert guess_code_field(samples) == "OA11CD"  # not LSOA11CD: output areas first
    for spec in camden.tables:
        preview = table_preview(spec.path)
        key = guess_key_column(preview, "OA11CD")
        assert key == spec.code
        join, join_on = guess_join(preview[key], samples, "OA11CD", key)
        assert (join, join_on) == (("join_on", spec.join_on) if spec.join_on
                                   else ("direct", None))
        assert tuple(guess_context(preview, key)) == spec.context, spec.path.name


def test_a_semicolon_file_in_windows_1252_is_previewed_with_its_columns(tmp_path):
    path = tmp_path / "claimants.csv"
    path.write_bytes("Code;Claimants;Taux £\r\nE00004120;1.234,5;12\r\n".encode("cp1252"))
    preview = table_preview(path)
    assert list(preview.columns) == ["Code", "Claimants", "Taux £"]
    assert guess_key_column(preview, "OA11CD") == "Code"




def test_a_demand_section_survives_saving(tmp_path):
    """The wizard saves a project read from a file that also holds the [demand] section of
    the monthly service-user run: the section is written back as it was read."""
    from community_safety.core.demand.project import load_demand_project

    users = SAMPLE_DIR / "service_users"
    text = (users / "service_users.toml").read_text(encoding="utf-8")
    text = text.replace('path = "', f'path = "{users.as_posix()}/')  # absolute: any folder
    project_file = tmp_path / "camden.toml"
    project_file.write_text((SAMPLE_DIR / "camden.toml").read_text(encoding="utf-8")
                            .replace('path = "', f'path = "{SAMPLE_DIR.as_posix()}/')
                            + "\n" + text, encoding="utf-8")
    project = load_project(project_file)
    saved = save_project(project, tmp_path / "elsewhere" / "saved.toml")
    assert load_project(saved).demand == project.demand
    before, after = load_demand_project(project_file), load_demand_project(saved)
    assert after.name == before.name and len(after.sources) == len(before.sources)
    assert [s.path for s in after.sources] == [s.path for s in before.sources]


def test_percentages_are_not_guessed_as_context():
    """A partner's percentage columns are variables to cluster, however they are named;
    counts and denominators are context."""
    import pandas as pd

    names = ["Households with no car (%)", "households_no_car_pct",
             "Social rented households %", "Residents in bad health percentage",
             "fires per 1000 households", "hh_rate", "usual_residents", "Total households",
             "IMD19"]
    frame = pd.DataFrame({name: [1.0, 2.0] for name in names} | {"code": ["a", "b"]})
    assert guess_context(frame, "code") == ["usual_residents", "Total households", "IMD19"]
