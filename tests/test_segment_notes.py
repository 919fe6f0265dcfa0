"""What the segment step says about the project's choices it does not follow to the letter,
on Sutton's real census files: the deprivation measure also listed as a variable to cluster
(it numbers the segments, so it is not clustered: said, and in the screening table), and no
labels file (the names are column codes: said, with how to give one)."""

from __future__ import annotations

import json

import pandas as pd
from test_segment_inputs_said import CENSUS, IMD, council

from community_safety.core.cli import main

LABELS = ('[labels]\nfile = "census_variables.csv"\nvariable = "new_names"\n'
          'description = "Variable_Name"\n')


def test_the_deprivation_measure_listed_as_a_variable_is_said_not_clustered(tmp_path,
                                                                            capsys):
    project = council(tmp_path, CENSUS + IMD.replace('context = ["IMD19"]',
                                                     'variables = ["IMD19"]'), LABELS)
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    said = capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text())
    clustered = manifest["results"]["clustered_variables"]
    assert "IMD19" not in clustered
    screening = pd.read_csv(out / "screening.csv").set_index("variable")
    reason = ("the deprivation measure: it numbers the segments (least to most deprived), "
              "so it is not clustered; its mean is in each segment's profile")
    assert not screening.loc["IMD19", "kept"] and screening.loc["IMD19", "reason"] == reason
    assert (f"Listed as a variable but not clustered: IMD19 is {reason} ({len(clustered)} "
            "variables clustered; screening.csv says so)") in said.err
    assert "No labels file" not in said.err  # the labels file is given
    # the report's method: the decision in words, and the same line
    assert main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    report = (tmp_path / "report.html").read_text(encoding="utf-8").replace("&#39;", "'")
    assert f"<td class=\"text\">not clustered</td><td class=\"text\">{reason}</td>" in report
    assert f"Listed as a variable but not clustered: IMD19 is {reason}" in report


def test_names_in_column_codes_are_said_with_how_to_give_a_labels_file(tmp_path, capsys):
    project = council(tmp_path)
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    said = capsys.readouterr()
    summary = pd.read_csv(out / "segment_summary.csv")
    assert summary["name"].str.contains("'ts0", regex=False).any()  # codes, as said
    first = json.loads((out / "manifest.json").read_text())["results"][
        "clustered_variables"][0]
    note = ("No labels file was given, so the segment names and pen portraits name the "
            f"variables by their column names (e.g. '{first}'); to name them in your own "
            "words, ")
    assert (note + "add a [labels] section to the project file naming a file of each "
            "column's description (e.g. the census's table_metadata.csv: file = "
            "\"table_metadata.csv\", variable = \"new_names\", description = "
            "\"Variable_Name\")") in said.err
    assert "Listed as a variable" not in said.err  # nothing listed twice here
    assert main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    report = (tmp_path / "report.html").read_text(encoding="utf-8").replace("&#39;", "'")
    assert note + "give a labels file (the [labels] section of the project file" in report

    # with the census's labels file the names are in words and nothing is said
    labelled = council(tmp_path / "labelled", extra=LABELS)
    assert main(["segment", str(labelled), "--out", str(tmp_path / "o2"), "--no-plots"]) == 0
    assert "No labels file" not in capsys.readouterr().err
    names = pd.read_csv(tmp_path / "o2" / "segment_summary.csv")["name"]
    assert not names.str.contains("'ts0", regex=False).any()


def test_a_labels_file_missing_some_variables_says_which_are_named_by_code(tmp_path, capsys):
    """Hillingdon's labels file without a few rows gave names such as "Residents with high
    'ts0620008'" and said nothing: the variables it leaves out are now said, with what to
    do, on the console and in the report."""
    labelled = council(tmp_path, extra=LABELS)
    out = tmp_path / "out"
    assert main(["segment", str(labelled), "--out", str(out), "--no-plots"]) == 0
    assert json.loads((out / "manifest.json").read_text())["results"][
        "undescribed_variables"] == []
    missing = json.loads((out / "manifest.json").read_text())["results"][
        "clustered_variables"][1:3]
    labels = pd.read_csv(labelled.parent / "census_variables.csv")
    labels[~labels["new_names"].isin(missing)].to_csv(labelled.parent / "census_variables.csv",
                                                      index=False)
    capsys.readouterr()
    assert main(["segment", str(labelled), "--out", str(out), "--no-plots"]) == 0
    err = capsys.readouterr().err
    results = json.loads((out / "manifest.json").read_text())["results"]
    assert results["clustered_variables"][1:3] == missing  # the same variables clustered
    assert results["undescribed_variables"] == missing
    note = (f"{len(missing)} of the {len(results['clustered_variables'])} clustered variables "
            "have no description in census_variables.csv ("
            + ", ".join(f"'{v}'" for v in missing) + "), so the segment names and pen "
            "portraits name them by their column names (e.g. '" + missing[0] + "'); add a row for "
            "each to that file")
    assert note in err
    assert "No labels file" not in err
    assert main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    report = (tmp_path / "report.html").read_text(encoding="utf-8").replace("&#39;", "'")
    assert note in report


def test_a_count_the_same_in_every_area_is_dropped_as_a_constant_and_said(tmp_path, capsys):
    """A partner's constant count inside a table with a denominator: its share (7 per 100
    households) differs only with the areas' size; screening drops it as a constant, says
    why in screening.csv and on the console."""
    project = council(tmp_path)
    tenure = pd.read_csv(project.parent / "ts054.csv")
    tenure["const"] = 7
    tenure.to_csv(project.parent / "ts054.csv", index=False)
    out = tmp_path / "out"
    assert main(["segment", str(project), "--out", str(out), "--no-plots"]) == 0
    said = capsys.readouterr()
    reason = ("constant count: 7 in every area of ts054.csv; as a share of ts0540001 it would "
              "only follow the areas' size, so it is dropped as a constant")
    screening = pd.read_csv(out / "screening.csv").set_index("variable")
    assert not screening.loc["const", "kept"] and screening.loc["const", "reason"] == reason
    assert "const" not in json.loads((out / "manifest.json").read_text())["results"][
        "clustered_variables"]
    assert f"Dropped before clustering: const, a {reason} (screening.csv says so)" in said.err


def test_a_setting_given_on_the_command_line_is_refused_by_its_option(tmp_path, capsys):
    """`--k 1` is refused as `--k 1`, not as the project file's [segmentation] k."""
    project = council(tmp_path)
    for option, value, rule in (("--k", "1", "must be at least 2"),
                                ("--n-init", "0", "must be at least 1")):
        assert main(["segment", str(project), "--out", str(tmp_path / "o"), option,
                     value]) == 2
        said = capsys.readouterr().err
        assert f"{option} {value} {rule}" in said and "p.toml" not in said
