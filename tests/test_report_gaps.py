"""Missing report tables (issue 22): a table a report section needs that is missing or
broken in the GeoPackage is named in one line, never dropped silently.

By class: every table of a saved segmentation with its gazetteer, ward matrices, fires
profile, targeting and shared demand is deleted in turn from a copy. The report then either refuses
in one line naming the table (a table every segmentation has, or one another step checks),
or is written and says, in a warning line and in the report itself, which section it
leaves out and which table that section needs; a table no section reads changes nothing.
Broken tables (without the columns a section reads) are refused by name, nothing written.
A step that never ran leaves nothing out; a GeoPackage without its record of written
tables (made before it was kept) says what its steps' other tables show.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pyogrio
import pytest
from conftest import SAMPLE_DIR
from test_bad_inputs import fails_cleanly
from test_bad_inputs_more import (
    FIRES,
    XY,
    full,  # noqa: F401  (the module's segmentation fixture)
)

from community_safety.core.cli import main
from community_safety.core.store.geopackage import read_gpkg_table, write_table

KEY = "7f3a9c01e4b25d86c0f1a7e39b4d2c58"
# tables no report section reads (other steps' working tables and the address layer; the
# record of written tables tells what is missing, it is no section)
NOT_READ = {"addresses", "address_match_report", "address_match_summary", "area_wards",
            "layer_styles", "incident_counts_fires", "incident_records_fires",
            "incident_areas_fires", "matrix_addresses", "tables_written"}


@pytest.fixture(scope="module")
def with_demand(full, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("gaps")
    gpkg = folder / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(full["full"], gpkg)
    mp = pytest.MonkeyPatch()
    mp.setenv("COMMUNITY_SAFETY_KEY", KEY)
    try:
        assert main([str(a) for a in (
            "demand", SAMPLE_DIR / "service_users" / "service_users.toml", "--out",
            folder / "users", "--segmentation", gpkg, "--run-date", "2024-04-01")]) == 0
        assert main([str(a) for a in (
            "target", gpkg, "--out", folder / "target", "--capacity", 100, "--incidents",
            FIRES, *XY, "--date-column", "date", "--from", "2021-01-01", "--today",
            "2025-01-01")]) == 0
    finally:
        mp.undo()
    return gpkg


def _drop(gpkg, table: str) -> None:
    with sqlite3.connect(gpkg) as db:
        db.execute(f'DROP TABLE "{table}"')
        for meta in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_ogr_contents"):
            db.execute(f"DELETE FROM {meta} WHERE table_name = ?", (table,))


def _tables(gpkg) -> list[str]:
    return [name for name, _ in pyogrio.list_layers(gpkg)]


@pytest.fixture(scope="module")
def tables(with_demand):
    found = _tables(with_demand)
    assert {"matrix_households", "incident_profile_fires", "demand_counts_by_segment",
            "demand_counts_by_ward", "target_summary", "variable_labels",
            "tables_written"} <= set(found), found
    return found


def test_every_table_deleted_in_turn_is_named_or_changes_nothing(with_demand, tables,
                                                                 tmp_path, capsys):
    seen = {}
    for table in tables:
        gpkg = tmp_path / table / "segmentation.gpkg"
        gpkg.parent.mkdir()
        shutil.copy(with_demand, gpkg)
        _drop(gpkg, table)
        out = tmp_path / table / "report.html"
        capsys.readouterr()
        code = main(["report", str(gpkg), "--out", str(out)])
        err = capsys.readouterr().err.strip()
        assert "Traceback" not in err and len(err.splitlines()) <= 1, (table, err)
        if code == 2:
            assert table in err and not out.exists(), (table, err)
            seen[table] = "refused"
            continue
        assert code == 0, (table, err)
        if table in NOT_READ:
            assert not err, (table, err)
            seen[table] = "written"
            continue
        assert err.startswith("community-safety: warning: the report leaves out "), err
        assert f"{table} is missing" in err, (table, err)
        html = out.read_text(encoding="utf-8")
        assert "Left out of this report" in html and f"{table} is missing" in html, table
        seen[table] = "said"
    # every table the sections read was named
    named = {t for t, how in seen.items() if how in ("refused", "said")}
    assert set(tables) - NOT_READ <= named, sorted(set(tables) - named)
    assert {"matrix_households", "incident_profile_fires", "incident_about_fires",
            "demand_counts_by_segment", "demand_counts_by_ward", "target_summary",
            "variable_labels"} <= {t for t, how in seen.items() if how == "said"}


def _report_after_dropping(gpkg, tables, tmp_path, capsys) -> tuple[str, str]:
    """The report's warning line and its text once ``tables`` are gone from ``gpkg``."""
    for table in tables:
        _drop(gpkg, table)
    out = tmp_path / "report.html"
    capsys.readouterr()
    assert main(["report", str(gpkg), "--out", str(out)]) == 0
    return capsys.readouterr().err.strip(), out.read_text(encoding="utf-8")


def test_shared_demand_gone_whole_is_said_for_segments_and_wards(with_demand, tmp_path,
                                                                 capsys):
    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(with_demand, gpkg)
    err, html = _report_after_dropping(
        gpkg, ["demand_counts_by_segment", "demand_counts_by_ward"], tmp_path, capsys)
    for by in ("segment", "ward"):
        said = f"the shared demand by {by} (demand_counts_by_{by} is missing; run the " \
               "service users step again)"
        assert said in err, err
        assert f"demand_counts_by_{by} is missing" in html
    assert 'id="demand"' not in html  # the section itself is left out, and says why
    assert "Left out of this report" in html


def test_targeting_and_variable_descriptions_gone_are_said(with_demand, tmp_path, capsys):
    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(with_demand, gpkg)
    err, html = _report_after_dropping(gpkg, ["target_summary", "variable_labels"],
                                       tmp_path, capsys)
    assert ("the home fire safety check targeting (target_summary is missing; run the "
            "target step again)") in err, err
    assert "the variables' descriptions" in err and "variable_labels is missing" in err
    assert 'id="targeting"' not in html
    assert "The home fire safety check targeting: target_summary is missing" in html
    # the segment step would build a new segmentation: the fix is the GeoPackage's copy
    assert "variable_labels is missing; restore the GeoPackage from a copy" in html


def test_steps_that_never_ran_leave_nothing_out(full, tmp_path, capsys):  # noqa: F811
    from community_safety.core.report.html_report import missing_for_report
    from community_safety.core.store.geopackage import recorded_tables

    gpkg = full["full"]  # segmented, gazetteer, matrices, fires: no targeting, no demand
    assert missing_for_report(gpkg) is None
    assert not {"target_summary", "demand_counts_by_segment"} & recorded_tables(gpkg)
    assert {"segments", "variable_labels", "matrix_households",
            "incident_profile_fires"} <= recorded_tables(gpkg)


def test_without_the_record_only_other_tables_tell(with_demand, tmp_path, capsys):
    """A GeoPackage made before the record was kept: a lone table whose step left nothing
    else behind cannot be told missing (and is not claimed to be); one whose step's other
    tables are there still is."""
    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(with_demand, gpkg)
    err, _ = _report_after_dropping(
        gpkg, ["tables_written", "target_summary", "demand_counts_by_segment"], tmp_path,
        capsys)
    assert "target_summary" not in err
    assert "demand_counts_by_segment is missing" in err


@pytest.mark.parametrize("table, column", [("incident_profile_fires", "segment"),
                                           ("matrix_residents", "ward"),
                                           ("demand_counts_by_ward", "people")])
def test_a_broken_table_is_refused_by_name(with_demand, tmp_path, capsys, table, column):
    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(with_demand, gpkg)
    write_table(gpkg, table, read_gpkg_table(gpkg, table).drop(columns=[column]))
    out = tmp_path / "report.html"
    err = fails_cleanly(["report", gpkg, "--out", out], capsys, gpkg)
    assert f"{table} has no {column} column" in err and "the report leaves out" in err
    assert not out.exists()


def test_the_processing_report_names_the_section_it_leaves_out(provider, with_demand,
                                                               tmp_path):
    import processing
    from qgis.core import QgsProcessingFeedback

    class Warnings(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.lines = []

        def pushWarning(self, text):  # noqa: N802
            self.lines.append(text)
            super().pushWarning(text)

    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(with_demand, gpkg)
    _drop(gpkg, "incident_profile_fires")
    feedback = Warnings()
    result = processing.run("community_safety:writereport", {
        "SEGMENTATION": str(gpkg), "OUTPUT": str(tmp_path / "report.html")},
        feedback=feedback)
    said = [line for line in feedback.lines if "leaves out" in line]
    assert len(said) == 1 and "incident_profile_fires is missing" in said[0], feedback.lines
    html = Path(result["REPORT"]).read_text(encoding="utf-8")
    assert "Left out of this report" in html and "incident_profile_fires" in html


@pytest.mark.parametrize("table", ["matrix_households", "matrix_residents",
                                   "incident_profile_fires"])
def test_the_ward_atlas_names_a_column_it_leaves_out(with_demand, tmp_path, table):
    from community_safety.core.report.ward_pages import missing_for_atlas, ward_pages

    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(with_demand, gpkg)
    assert missing_for_atlas(gpkg) is None
    _drop(gpkg, table)
    said = missing_for_atlas(gpkg)
    assert said.startswith("the ward atlas leaves out ") and f"{table} is missing" in said
    sources = ward_pages(gpkg, 5).sources  # printed in every page's footer
    assert any(line.startswith("left out: ") and table in line for line in sources), sources


def test_the_ward_atlas_refuses_a_broken_table_by_name(with_demand, tmp_path):
    from community_safety.core.errors import InputError
    from community_safety.core.report.ward_pages import ward_pages

    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    gpkg.parent.mkdir()
    shutil.copy(with_demand, gpkg)
    table = "incident_profile_fires"
    write_table(gpkg, table, read_gpkg_table(gpkg, table).drop(columns=["measure"]))
    with pytest.raises(InputError, match=f"{table} has no measure column"):
        ward_pages(gpkg, 5)
