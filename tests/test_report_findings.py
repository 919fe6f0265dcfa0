"""Key findings first: the report, the partner workbook's Notes (and the ward atlas) open
with the segments carrying the most incidents per household, where they live, what the
targeting reached out of sample and what changed since the last run, each with its figure.

Every figure is checked against numbers worked out here from the sample's own files and
the saved tables, not from the findings module."""

from __future__ import annotations

import html
import re
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from conftest import SAMPLE_DIR, fresh_copy, saved_sample

from community_safety.core.cli import main
from community_safety.core.places.matrices import TOTAL
from community_safety.core.share.export import partner_tables
from community_safety.core.share.findings import key_findings
from community_safety.core.store.backtest_columns import (
    IDENTITY_FILE,
    RANKING,
    columns,
    write_identity,
)
from community_safety.core.store.geopackage import read_gpkg_table

THRESHOLD = 5
FIRES = SAMPLE_DIR / "lfb_dwelling_fires.csv"
FIRE_COLUMNS = ["--x", "easting_rounded", "--y", "northing_rounded"]
WARDS = ["--wards", str(SAMPLE_DIR / "wards_2022.gpkg"), "--ward-code", "WD22CD",
         "--ward-name", "WD22NM"]


def _run(*args) -> None:
    assert main([str(a) for a in args]) == 0


@pytest.fixture(scope="module")
def camden(tmp_path_factory):
    """The sample segmented, with its dwelling fires, wards, and the visit list's ranking
    tested on the fires after 2019, in the folders the README uses (``out/segmentation``,
    ``out/backtest``)."""
    out = tmp_path_factory.mktemp("findings") / "camden"
    gpkg = saved_sample(out / "segmentation", n_init=3)[1]
    _run("incidents", gpkg, FIRES, "--name", "fires", *FIRE_COLUMNS, "--date-column",
         "date", "--out", out / "incidents")
    _run("matrices", gpkg, *WARDS)
    _run("target", gpkg, "--out", out / "backtest", "--backtest", "--cut-off", "2019-12-31",
         "--incidents", FIRES, *FIRE_COLUMNS, "--date-column", "date")
    return gpkg


def _months_of_fires() -> int:
    """The whole months the sample's fires cover, from the file's own dates."""
    dates = pd.to_datetime(pd.read_csv(FIRES)["date"])
    first, last = dates.min(), dates.max()
    return (last.year - first.year) * 12 + last.month - first.month + 1


def test_findings_name_the_segments_with_most_fires_per_household(camden):
    table = read_gpkg_table(camden, "incident_profile_fires")
    seg_names = read_gpkg_table(camden, "segment_summary").set_index("segment")["name"]
    # independently: the rate per household and the segments whose interval lies above 100
    table["rate"] = 1000 * table["count"] / table["households"] / (_months_of_fires() / 12)
    over = table[table["index_low_95"] > 100].sort_values("index", ascending=False)
    expected = [int(s) for s in over["segment"].head(2)]
    assert expected  # the sample has segments with clearly more fires

    finding = next(f for f in key_findings(camden, THRESHOLD) if f.topic == "incidents")
    assert finding.figures["segments"] == expected
    assert finding.figures["per_year"] and finding.lead.startswith("Fires (")
    for n, rate, index, (low, high) in zip(expected, finding.figures["rates"],
                                           finding.figures["index"],
                                           finding.figures["interval"]):
        row = table[table["segment"] == n].iloc[0]
        assert rate == pytest.approx(row["rate"], rel=1e-9)
        assert abs(index - row["index"]) <= 0.05 + 1e-9  # stored rounded to 0.1
        assert abs(low - row["index_low_95"]) <= 0.05 + 1e-9
        assert abs(high - row["index_high_95"]) <= 0.05 + 1e-9
        # the sentence names the segment and quotes its figures as shown
        assert f"segment {n} – {seg_names[n]}" in finding.text
        assert f"{row['rate']:,.2f} a year per 1,000 households" in finding.text
        assert f"index {index:.0f} (95% interval {low:.0f}–{high:.0f})" in finding.text
    average = 1000 * table["count"].sum() / table["households"].sum() / (
        _months_of_fires() / 12)
    assert f"average is {average:,.2f} a year per 1,000 households" in finding.text


def test_where_they_live_names_wards_with_published_figures(camden):
    findings = key_findings(camden, THRESHOLD)
    fire_segments = next(f for f in findings if f.topic == "incidents").figures["segments"]
    wards = [f for f in findings if f.topic == "wards"]
    assert [f.figures["segment"] for f in wards] == fire_segments
    layer = pyogrio.read_dataframe(camden, layer="wards", read_geometry=False)
    names = dict(zip(layer["ward_code"], layer["ward_name"]))
    published = partner_tables(camden, THRESHOLD)[0]["households"]
    body = published.drop(index=TOTAL)
    for finding in wards:
        n = finding.figures["segment"]
        top3 = body[n].dropna().sort_values(ascending=False).head(3)
        assert finding.figures["wards"] == [names[w] for w in top3.index]
        assert finding.figures["households"] == [float(v) for v in top3]
        assert not re.search(r"E0\d{7}", finding.text)  # names, never codes
        first = top3.index[0]
        assert (f"{names[first]} ({top3.iloc[0]:,.0f} of its "
                f"{published.at[TOTAL, n]:,.0f}") in finding.text
        # the wards where it is the largest segment, from the published shares
        shares = body.drop(columns=TOTAL).div(body[TOTAL], axis=0)
        largest = sorted(names[w] for w in shares.index if shares.loc[w].idxmax() == n)
        assert sorted(finding.figures["largest_in"]) == largest


def test_targeting_is_quoted_out_of_sample_and_only_for_this_segmentation(camden, tmp_path):
    backtest = pd.read_csv(camden.parent.parent / "backtest" / "backtest.csv")
    finding = next(f for f in key_findings(camden, THRESHOLD) if f.topic == "targeting")
    score = backtest.iloc[0]  # the visit list's own score comes first
    top10 = columns("top_10pct")[0]
    assert finding.figures["share"] == pytest.approx(score[top10])
    assert f"held {score[top10]:.1f}%" in finding.text
    assert "2009–2019" in finding.text and "Jan 2020 – Aug 2024" in finding.text
    random = backtest[backtest[RANKING].str.startswith("random")].iloc[0]
    assert f"in random order {random[top10]:.1f}%" in finding.text
    # no visit list was made from this segmentation: the finding names the ranking it
    # tested, never "the visit list's"
    assert finding.text.startswith(f"Ranked by the {score[RANKING]} ranking output areas, ")
    assert "visit list" not in finding.text

    # a backtest of another segmentation beside a copy is not quoted, nor is one absent
    copy = fresh_copy(camden, tmp_path)
    assert not any(f.topic == "targeting" for f in key_findings(copy, THRESHOLD))
    (tmp_path / "backtest").mkdir()
    about = pd.read_csv(camden.parent.parent / "backtest" / "backtest_about.csv")
    about.to_csv(tmp_path / "backtest" / "backtest_about.csv", index=False)
    write_identity(tmp_path / "backtest", "an earlier segmentation")
    backtest.to_csv(tmp_path / "backtest" / "backtest.csv", index=False)
    assert not any(f.topic == "targeting" for f in key_findings(copy, THRESHOLD))
    shutil.copy(camden.parent.parent / "backtest" / IDENTITY_FILE, tmp_path / "backtest")
    assert any(f.topic == "targeting" for f in key_findings(copy, THRESHOLD))


def test_report_and_workbook_open_with_the_findings(camden, tmp_path):
    findings = key_findings(camden, THRESHOLD)
    _run("report", camden, "--out", tmp_path / "report.html")
    page = html.unescape((tmp_path / "report.html").read_text(encoding="utf-8"))
    top = page.index('id="findings"')
    assert top < page.index('id="overview"') and top < page.index('class="contents"')
    for finding in findings:
        assert f"{finding.lead}: {finding.text}" in re.sub(r"</?strong>", "", page)

    _run("export", camden, "--out", tmp_path / "partners")
    book = openpyxl.load_workbook(tmp_path / "partners" / "partner_matrices.xlsx")
    notes = [(r[0].value, r[1].value) for r in book["Notes"].iter_rows(min_row=3)]
    assert notes[0][0] == "Produced"
    assert notes[1:1 + len(findings)] == [(f"Key finding: {f.lead}", f.text)
                                         for f in findings]


def test_a_small_segment_never_leads_the_findings_unsaid(camden, tmp_path):
    """The sample segmented again with the smallest share a target group may have raised
    just above the share of the segment with the most fires per household: that segment is
    now flagged as small, so the finding names the largest-enough segments first and says
    the small one is small (6 output areas of a tester's Wandsworth led the report's first
    sentence, unsaid); where a segment has far more residents per household than the
    study area, its rate per household is said to be inflated, with its rate per
    resident."""
    from dataclasses import replace

    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.build import build_segmentation
    from community_safety.core.segment.saved import save_segmentation

    first = next(f for f in key_findings(camden, THRESHOLD) if f.topic == "incidents")
    leader = first.figures["segments"][0]
    summary = read_gpkg_table(camden, "segment_summary").set_index("segment")
    share = float(summary.at[leader, "share_of_areas"])
    project = replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=3,
                      min_share=share + 0.01)
    gpkg = save_segmentation(build_segmentation(project), tmp_path / "seg", plots=False)
    again = read_gpkg_table(gpkg, "segment_summary").set_index("segment")
    assert again["areas"].equals(summary["areas"])  # the same segmentation, flagged anew
    small = again[again["share_of_areas"] < share + 0.01]
    _run("incidents", gpkg, FIRES, "--name", "fires", *FIRE_COLUMNS, "--date-column",
         "date", "--out", tmp_path / "incidents")
    finding = next(f for f in key_findings(gpkg, THRESHOLD) if f.topic == "incidents")
    assert leader not in finding.figures["segments"]
    assert not set(finding.figures["segments"]) & set(small.index)
    areas = int(again.at[leader, "areas"])
    assert (f"Higher still, but too small to be a target group: segment {leader} – "
            f"{again.at[leader, 'name']} (a small segment: {areas} output areas): "
            f"{first.figures['rates'][0]:,.2f} a year per 1,000 households") in finding.text
    # residents per household, from the saved profile: a segment far above the area's
    profile = read_gpkg_table(gpkg, "incident_profile_fires")
    ratio = profile["residents"] / profile["households"]
    area_ratio = profile["residents"].sum() / profile["households"].sum()
    for segment, r in zip(profile["segment"], ratio):
        if f"segment {segment} – " not in finding.text:
            continue
        said = f"it has {r:.1f} residents per household against {area_ratio:.1f}"
        assert (said in finding.text) == (r > 1.5 * area_ratio)


def test_no_incidents_no_incident_sentence(tmp_path):
    gpkg = saved_sample(tmp_path / "run", n_init=2)[1]
    assert key_findings(gpkg, THRESHOLD) == []
    _run("matrices", gpkg, *WARDS)
    assert key_findings(gpkg, THRESHOLD) == []  # wards alone: no segment to place
    _run("report", gpkg, "--out", tmp_path / "report.html")
    assert 'id="findings"' not in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_what_changed_since_the_last_run(tmp_path):
    """A refresh that keeps the segments: the shares that moved and the wards whose largest
    segment changed, against the last run (here the same segments with 15 areas of segment
    2 moved into segment 1, saved as the run before)."""
    from dataclasses import replace

    from community_safety.core.places.steps import area_bases
    from community_safety.core.segment.saved import load_segmentation, save_segmentation

    out = tmp_path / "results"
    _run("segment", SAMPLE_DIR / "camden.toml", "--out", out, "--n-init", 2, "--seed", 1,
         "--no-plots")
    _run("matrices", out / "segmentation.gpkg", *WARDS)
    now = out / "segmentation.gpkg"
    seg = load_segmentation(now)
    areas = seg.areas.copy()
    moved_areas = areas.index[areas["segment"] == 2][:15]
    areas.loc[moved_areas, "segment"] = 1
    summary = seg.summary.copy()
    counts = areas["segment"].value_counts()
    summary["areas"] = counts.reindex(summary.index).astype(int)
    summary["share_of_areas"] = (100 * summary["areas"] / counts.sum()).round(2)
    bases = area_bases(seg)
    for role in bases.columns:
        summary[role] = bases[role].groupby(areas["segment"]).sum()
    before = save_segmentation(replace(seg, areas=areas, summary=summary),
                               tmp_path / ".results.previous", plots=False)
    before = before if before.suffix == ".gpkg" else before / "segmentation.gpkg"
    _run("matrices", before, *WARDS)
    changes = [f for f in key_findings(now, THRESHOLD, previous=before)
               if f.topic == "changes"]

    # independently: the segments whose share of output areas moved by a point or more
    a = read_gpkg_table(now, "segment_summary").set_index("segment")["share_of_areas"]
    b = read_gpkg_table(before, "segment_summary").set_index("segment")["share_of_areas"]
    moved = {int(n): float(round(a[n] - b[n], 2)) for n in a.index if abs(a[n] - b[n]) >= 1}
    assert set(moved) == {1, 2}
    segments = next(f for f in changes if "moved" in f.figures)
    assert segments.figures["moved"] == moved
    for n in moved:
        assert f"{a[n]:.1f}% of output areas" in segments.text
        assert f"was {b[n]:.1f}%" in segments.text

    # ... and the wards whose largest segment (by published households) changed
    def largest(gpkg):
        counts = partner_tables(gpkg, THRESHOLD)[0]["households"].drop(index=TOTAL)
        return counts.drop(columns=TOTAL).astype(float).fillna(-np.inf).idxmax(axis=1)

    layer = pyogrio.read_dataframe(now, layer="wards", read_geometry=False)
    names = dict(zip(layer["ward_code"], layer["ward_name"]))
    x, y = largest(now), largest(before)
    expected = {names[w]: (int(y[w]), int(x[w])) for w in x.index if x[w] != y[w]}
    wards = [f for f in changes if "wards" in f.figures]
    assert expected and wards[0].figures["wards"] == expected

    # the report of the new run says so; a run with nothing before it says nothing
    _run("report", now, "--out", tmp_path / "report.html")
    assert "Since the last run" in (tmp_path / "report.html").read_text(encoding="utf-8")
    alone = fresh_copy(now, tmp_path)
    assert not any(f.topic == "changes" for f in key_findings(alone, THRESHOLD))
    # the same segmentation again is no change
    assert not any(f.topic == "changes" for f in key_findings(now, THRESHOLD, previous=now))

    # built anew with another seed (the sample's segments differ from seed to seed): the
    # segments are matched by their areas, not compared by number
    _run("segment", SAMPLE_DIR / "camden.toml", "--out", out, "--n-init", 2, "--seed", 2,
         "--no-plots")
    rebuilt = [f for f in key_findings(now, THRESHOLD) if f.topic == "changes"]
    assert len(rebuilt) == 1 and "renumbered" in rebuilt[0].figures
    assert "built anew" in rebuilt[0].text and "not compared by number" in rebuilt[0].text


def test_segments_built_anew_are_matched_by_their_areas_not_by_number(camden):
    """Barnet rebuilt with five areas' data changed: 8 of 10 segments were numbered or
    named otherwise, and the report compared "segment 10 ... 8.5%, was 4.3%" of two
    different segments. A segment is compared by number only where most of its areas were
    in the segment of that number; otherwise the finding says which it mostly was."""
    from community_safety.core.segment.saved import load_segmentation
    from community_safety.core.share.findings import _renumbered

    areas = load_segmentation(camden).areas["segment"]
    assert _renumbered(areas, areas) == {}  # a refresh that keeps every segment
    swapped = areas.replace({1: 2, 2: 1})
    moved = areas.copy()
    moved.iloc[: len(areas) // 2] = 3  # half the areas moved into segment 3
    assert _renumbered(areas, swapped) == {1: (2, 100.0), 2: (1, 100.0)}
    # segment 3 now mostly holds areas of other segments: said, and no other is compared
    # by a number whose areas went elsewhere
    found = _renumbered(areas, moved)
    assert 3 in found and found[3][0] != 3
    assert all(m is None or share >= 50 for m, share in found.values())


def test_the_method_says_the_random_starts_run_not_only_those_asked_for(camden):
    """Where the starts disagreed and more were run (Islington: 250 where 50 were asked
    for), the report's and the workbook's method say so with the fit's own note; it said
    "50 random starts" while the console warned the best was reached once."""
    from community_safety.core.segment.saved import load_segmentation
    from community_safety.core.share.partner_words import settings_in_words

    manifest = load_segmentation(camden).manifest
    asked = manifest["parameters"]["n_init"]
    run = manifest["results"]["random_starts_run"]
    said = dict(settings_in_words(manifest))["k-means"]
    assert said.startswith(f"{run:,} random starts from seed ")
    if run != asked:
        assert f"({asked:,} asked for)" in said
        assert said.endswith(manifest["results"]["random_starts_note"])
    shown = {**manifest, "results": {**manifest["results"], "random_starts_run": 5 * asked,
                                     "random_starts_note": "The starts disagreed."}}
    said = dict(settings_in_words(shown))["k-means"]
    assert said == (f"{5 * asked:,} random starts from seed {manifest['parameters']['seed']} "
                    f"({asked:,} asked for); the start with the least within-segment sum of "
                    "squares is kept. The starts disagreed.")


def test_a_small_count_is_protected_by_a_segment_that_does_not_stand_out(camden, tmp_path):
    """A segment with 1 to 5 incidents needs another segment's count hidden too (else the
    total gives it away): the one hidden is a segment whose incidents are as its households
    would suggest, never one that stands out (over- or under-represented) while such a
    count is there to hide; the key findings say which segments they leave out, and why
    (Harrow: segment 1's 95 fires, index 138, hidden to protect a one-area segment's 2).
    On the sample's fires of each property type over the whole period, the types whose
    smallest other count is a segment that stands out."""
    from community_safety.core.places.incidents import exact_poisson_interval

    gpkg = fresh_copy(camden, tmp_path)
    fires = pd.read_csv(FIRES)
    checked = 0
    for n, kind in enumerate(sorted(fires["property_type"].dropna().unique())):
        name = f"kind{n}"
        _run("incidents", gpkg, FIRES, "--name", name, *FIRE_COLUMNS, "--date-column",
             "date", "--category-column", "property_type", "--category", kind,
             "--out", tmp_path / name)
        raw = read_gpkg_table(gpkg, f"incident_profile_{name}").set_index("segment")
        count, households = raw["count"].astype(float), raw["households"].astype(float)
        expected = count.sum() * households / households.sum()
        low, high = exact_poisson_interval(count.to_numpy())
        stands_out = pd.Series((low > expected) | (high < expected), index=count.index)
        small = count[(count >= 1) & (count <= THRESHOLD)]
        others = count[(count > THRESHOLD)].sort_values(kind="stable")
        if len(small) != 1 or len(others) < 3 or not stands_out[others.index[0]]:
            continue  # the smallest other count is not a finding: nothing to choose
        if stands_out[others.index].all():
            continue
        checked += 1
        shown = partner_tables(gpkg, THRESHOLD)[1][f"incident_profile_{name}"]
        hidden = set(shown.loc[shown["count"].isna(), "segment"].astype(int))
        assert small.index[0] in hidden
        secondary = hidden - {small.index[0]}
        assert secondary and not stands_out[list(secondary)].any(), (kind, dict(count))
        finding = next(f for f in key_findings(gpkg, THRESHOLD)
                       if f.topic == "incidents" and kind.lower() in f.lead.lower())
        assert sorted(finding.figures["not_compared"]) == sorted(hidden)
        assert "Not compared: " in finding.text and "suppressed" in finding.text
        for segment in hidden:
            assert f"segment {segment} – " in finding.text.split("Not compared: ")[1]
    assert checked, "no property type of the sample's fires has a small count to protect"
