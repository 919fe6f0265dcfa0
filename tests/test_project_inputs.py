"""Real data in without outside tools: census counts made into percentages by the tool,
tables at another geography joined through a lookup file, old Mac line endings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from community_safety.core.errors import InputError
from community_safety.core.project.project_file import load_project
from community_safety.core.segment.area_data import gather_area_data
from community_safety.core.styles import numbering_axis

COUNTS = Path(__file__).parent / "data" / "ks402ew_tenure_counts_camden.csv"


def project_file(folder: Path, tables: str) -> Path:
    path = folder / "project.toml"
    path.write_text(f"""
name = "test"
[boundaries]
path = "{SAMPLE_DIR / 'output_areas_2011.gpkg'}"
layer = "output_areas"
code = "OA11CD"
{tables}
""")
    return path


def test_census_counts_become_percentages_of_their_denominator(tmp_path):
    project = load_project(project_file(tmp_path, f"""
[[tables]]
path = "{COUNTS}"
code = "GeographyCode"
denominator = "KS402EW0001"
"""))
    data = gather_area_data(project)
    counts = pd.read_csv(COUNTS).set_index("GeographyCode")
    expected = counts["KS402EW0007"] / counts["KS402EW0001"] * 100
    got = data.values["KS402EW0007"]
    assert np.allclose(got, expected.reindex(got.index))
    assert data.values["KS402EW0001"].equals(counts["KS402EW0001"].reindex(got.index)
                                             .astype(float))  # the denominator stays a count
    assert "KS402EW0001" in data.context  # profiled, never clustered
    # the tool's percentages agree with the sample's own, derived independently
    sample = pd.read_csv(SAMPLE_DIR / "census_housing.csv").set_index("OA11CD")
    social = data.values["KS402EW0005"] + data.values["KS402EW0006"]
    assert np.allclose(social, sample["pct_social_rented"].reindex(social.index), atol=1e-3)


def test_rates_per_1000_and_one_denominator_per_variable(tmp_path):
    project = load_project(project_file(tmp_path, f"""
[[tables]]
path = "{COUNTS}"
code = "GeographyCode"
variables = ["KS402EW0005"]
denominator = {{KS402EW0005 = "KS402EW0001"}}
per = 1000
"""))
    data = gather_area_data(project)
    counts = pd.read_csv(COUNTS).set_index("GeographyCode")
    expected = (counts["KS402EW0005"] / counts["KS402EW0001"] * 1000).reindex(data.values.index)
    assert np.allclose(data.values["KS402EW0005"], expected)


def test_a_zero_denominator_leaves_the_rate_missing_and_says_so(tmp_path):
    table = pd.read_csv(COUNTS)
    table.loc[3, "KS402EW0001"] = 0
    table.to_csv(tmp_path / "counts.csv", index=False)
    project = load_project(project_file(tmp_path, f"""
[[tables]]
path = "{tmp_path / 'counts.csv'}"
code = "GeographyCode"
denominator = "KS402EW0001"
"""))
    data = gather_area_data(project)
    code = table.loc[3, "GeographyCode"]
    assert np.isnan(data.values.loc[code, "KS402EW0007"])
    rows = data.reconciliation[(data.reconciliation["area_code"] == code)
                               & (data.reconciliation["source"] == "counts.csv")]
    assert "denominator 'KS402EW0001' is 0 or missing, rate left missing" in rows["detail"].iloc[0]


def test_an_unknown_denominator_is_named(tmp_path):
    project = load_project(project_file(tmp_path, f"""
[[tables]]
path = "{COUNTS}"
code = "GeographyCode"
denominator = "households"
"""))
    with pytest.raises(InputError, match="denominator setting names no column 'households'"):
        gather_area_data(project)


def test_a_table_by_lsoa_joins_through_a_lookup_file(tmp_path):
    via_lookup = load_project(project_file(tmp_path, f"""
[[tables]]
path = "{SAMPLE_DIR / 'imd2019_lsoa.csv'}"
code = "LSOA11CD"
context = ["IMD19"]
lookup = {{path = "{SAMPLE_DIR / 'oa_lsoa_lookup.csv'}", from = "oa_cd", to = "lsoa_cd"}}
"""))
    data = gather_area_data(via_lookup)
    lookup = pd.read_csv(SAMPLE_DIR / "oa_lsoa_lookup.csv").set_index("oa_cd")["lsoa_cd"]
    imd = pd.read_csv(SAMPLE_DIR / "imd2019_lsoa.csv").set_index("LSOA11CD")["IMD19"]
    expected = imd.reindex(lookup.reindex(data.values.index)).to_numpy()
    assert np.array_equal(data.values["IMD19"].to_numpy(), expected)
    assert any(i["file"].endswith("oa_lsoa_lookup.csv") for i in data.inputs)  # hashed


def test_a_lookup_that_sends_a_code_two_ways_is_refused(tmp_path):
    lookup = pd.read_csv(SAMPLE_DIR / "oa_lsoa_lookup.csv")
    lookup = pd.concat([lookup, lookup.head(1).assign(lsoa_cd="E01999999")])
    lookup.to_csv(tmp_path / "lookup.csv", index=False)
    project = load_project(project_file(tmp_path, f"""
[[tables]]
path = "{SAMPLE_DIR / 'imd2019_lsoa.csv'}"
code = "LSOA11CD"
lookup = {{path = "{tmp_path / 'lookup.csv'}", from = "oa_cd", to = "lsoa_cd"}}
"""))
    with pytest.raises(InputError, match="lookup.csv: codes in 'oa_cd' lead to more than one"):
        gather_area_data(project)


def test_old_mac_line_endings_are_read(tmp_path):
    text = (SAMPLE_DIR / "census_work.csv").read_text().replace("\n", "\r")
    (tmp_path / "work_mac.csv").write_bytes(text.encode())
    project = load_project(project_file(tmp_path, f"""
[[tables]]
path = "{tmp_path / 'work_mac.csv'}"
code = "OA11CD"
"""))
    data = gather_area_data(project)
    sample = pd.read_csv(SAMPLE_DIR / "census_work.csv").set_index("OA11CD")
    assert np.allclose(data.values["pct_unemployed"],
                       sample["pct_unemployed"].reindex(data.values.index))
    assert (data.reconciliation["status"] == "used").sum() >= 2 * 749


def test_a_wrong_crs_label_is_fixed_by_the_project_file(tmp_path):
    import geopandas as gpd

    areas = gpd.read_file(SAMPLE_DIR / "output_areas_2011.gpkg")
    mislabelled = tmp_path / "council_oa.gpkg"
    areas.set_crs(4326, allow_override=True).to_file(mislabelled, layer="oa")
    tables = f"""
[[tables]]
path = "{SAMPLE_DIR / 'census_work.csv'}"
code = "OA11CD"
"""
    text = project_file(tmp_path, tables).read_text()
    text = text.replace(str(SAMPLE_DIR / "output_areas_2011.gpkg"), str(mislabelled))
    text = text.replace('layer = "output_areas"', 'layer = "oa"')
    plain = tmp_path / "plain.toml"
    plain.write_text(text)
    with pytest.raises(InputError, match='crs = "EPSG:27700" under \\[boundaries\\]'):
        gather_area_data(load_project(plain))

    fixed = tmp_path / "fixed.toml"
    fixed.write_text(text.replace('code = "OA11CD"\n', 'code = "OA11CD"\ncrs = "EPSG:27700"\n',
                                  1))
    data = gather_area_data(load_project(fixed))
    assert data.areas.crs.to_epsg() == 27700 and len(data.areas) == 749
    assert np.allclose(data.areas.total_bounds, areas.total_bounds)

    wrong = tmp_path / "wrong.toml"  # a label that does not fit the coordinates either
    wrong.write_text(text.replace('code = "OA11CD"\n', 'code = "OA11CD"\ncrs = "EPSG:4258"\n',
                                  1))
    with pytest.raises(InputError, match="with the CRS set to EPSG:4258: coordinates such as"):
        gather_area_data(load_project(wrong))


def test_without_a_deprivation_measure_segments_are_numbered_by_the_first_component(tmp_path):
    from dataclasses import replace

    from community_safety.core.segment.build import build_segmentation

    project = replace(load_project(SAMPLE_DIR / "camden.toml"), deprivation=None, n_init=3,
                      k=5)
    seg = build_segmentation(project)
    numbering = seg.manifest["numbering"]
    assert numbering["measure"] == "first principal component"
    assert "No deprivation measure was given" in numbering["description"]
    assert "the numbers do not rank deprivation" in numbering["description"]
    # numbered by the component: the mean score rises from segment 1 to segment 5
    assert "mean_deprivation" not in seg.summary.columns
    assert seg.summary["mean_numbering_score"].is_monotonic_increasing
    strongest = max(numbering["loadings"].items(), key=lambda kv: abs(kv[1]))
    assert strongest[1] > 0  # the stated orientation
    # the explanation is in the variables' labels, not their column codes
    assert f"more '{seg.labels[strongest[0]]}'" in numbering["description"]
    assert strongest[0] not in numbering["description"]
    assert "deprived" not in numbering_axis(seg.manifest)

    # nothing the partners read says "least deprived": layer abstract, notes, report, atlas
    from community_safety.core.cli import main
    from community_safety.core.report.ward_pages import ward_pages
    from community_safety.core.segment.saved import save_segmentation, segment_abstract
    from community_safety.core.share.partner_words import partner_notes

    gpkg = save_segmentation(seg, tmp_path / "seg", plots=False)
    assert "deprived" not in segment_abstract(seg)
    notes = " ".join(text for _, text in partner_notes(seg, gpkg, []))
    assert "least deprived" not in notes and "most deprived" not in notes
    # the screening said as the rules set: no "range below 0.0" where no range rule is set
    said = dict(partner_notes(seg, gpkg, []))["Screening"]
    rules = seg.manifest["parameters"]["screening"]
    assert ("range" in said) == (rules["min_range"] > 0) and "0.0" not in said, said
    assert main(["matrices", str(gpkg), "--wards", str(SAMPLE_DIR / "wards_2022.gpkg"),
                 "--ward-code", "WD22CD", "--ward-name", "WD22NM"]) == 0
    assert main(["report", str(gpkg), "--out", str(tmp_path / "report.html")]) == 0
    report = (tmp_path / "report.html").read_text()
    assert "least deprived" not in report and "do not rank deprivation" in report
    assert "deprived" not in ward_pages(gpkg, 5).numbering
