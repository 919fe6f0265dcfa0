"""The yearly refresh: a borough's census tables a year later (some areas changed, some
rows missing, a code the boundaries do not hold) assigned to the segmentation built the year
before, by the command line, and every later step run on what ``assign`` saved."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from test_council_shapes import FIRE_XY, SUTTON, chain, run

from community_safety.core.errors import InputError
from community_safety.core.segment.assign import assign_areas
from community_safety.core.segment.portraits import figure
from community_safety.core.segment.saved import load_segmentation


def assert_portrait_agrees(number: int, row: pd.Series, profiles: pd.DataFrame,
                           areas: int) -> None:
    """A pen portrait's size sentence is the segment's row of the summary, and each
    figure it quotes ("(49%, against 29% across the whole area)") is a mean of the segment
    and the study area's mean of one variable in the profiles."""
    text = row["portrait"]
    assert text.startswith(f"Segment {number} covers {int(row['areas']):,} of the "
                           f"{areas:,} areas"), text
    assert (f"home to {int(row['residents']):,} residents in {int(row['households']):,} "
            "households") in text
    own = profiles[profiles["segment"] == number]
    quoted = [(figure(m, True), figure(a, True))
              for m, a in zip(own["mean"], own["study_area_mean"])]
    pairs = re.findall(r"\(([\d.]+%), against ([\d.]+%) across", text)
    assert pairs, text
    for pair in pairs:
        assert pair in quoted, (number, pair, text)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Sutton segmented (tenure and the other census tables as shares of their totals),
    and a copy of its data a year later."""
    base = tmp_path_factory.mktemp("refresh")
    shutil.copytree(SUTTON, base / "data")
    project = chain.borough_project(base / "data", "Sutton", k=6, n_init=5)
    assert run("segment", project, "--out", base / "seg", "--no-plots") == 0
    later = base / "later"
    shutil.copytree(base / "data", later)
    tenure = pd.read_csv(later / "ts054.csv")
    seg = load_segmentation(base / "seg")
    classified = seg.areas["segment"].dropna()
    # five areas of the least deprived segment become council estates
    changed = classified[classified == 1].index[:5].tolist()
    rows = tenure["OA"].isin(changed)
    owned = [c for c in tenure.columns if c.startswith("ts054") and c not in
             ("ts0540001", "ts0540007", "ts0540008")]
    tenure.loc[rows, owned] = 0
    tenure.loc[rows, ["ts0540007", "ts0540008"]] = tenure.loc[rows, ["ts0540001"] * 2].to_numpy()
    # three areas missing from this year's tenure table, one new code
    gone = classified[classified == 3].index[:3].tolist()
    tenure = tenure[~tenure["OA"].isin(gone)]
    new = tenure.iloc[[0]].assign(OA="E00999001")
    pd.concat([tenure, new]).to_csv(later / "ts054.csv", index=False)
    return {"base": base, "project": project, "later": later / "project.toml",
            "gpkg": base / "seg" / "segmentation.gpkg", "changed": changed, "gone": gone}


def test_a_refresh_is_a_segmentation_every_later_step_takes(built, capsys, tmp_path):
    capsys.readouterr()
    out = tmp_path / "assigned"
    assert run("assign", built["gpkg"], built["later"], "--out", out, "--no-plots") == 0
    said = capsys.readouterr()
    seg, refreshed = load_segmentation(built["gpkg"]), load_segmentation(out)
    # the same segments as built: numbers, names, centres
    assert refreshed.segment_names == seg.segment_names
    pd.testing.assert_frame_equal(refreshed.centres, seg.centres)
    # their profiles and pen portraits counted again on this year's areas and values
    segments = refreshed.areas["segment"].dropna().astype(int)
    council = refreshed.profiles.query("variable == 'ts0540008'").set_index("segment")["mean"]
    pd.testing.assert_series_equal(
        council, refreshed.values.loc[segments.index, "ts0540008"].groupby(segments).mean(),
        check_names=False, check_index_type=False)
    assert refreshed.summary["portrait"].tolist() != seg.summary["portrait"].tolist()
    for number, row in refreshed.summary.iterrows():
        assert_portrait_agrees(number, row, refreshed.profiles, len(segments))
    # this year's values and segments; only the areas whose data changed move
    assert refreshed.values.loc[built["changed"], "ts0540008"].eq(100).all()
    moved = refreshed.areas["segment"].ne(seg.areas["segment"]).fillna(False)
    moved = set(refreshed.areas.index[moved & refreshed.areas["segment"].notna()])
    assert moved and moved <= set(built["changed"]) | set(built["gone"])
    assert int(refreshed.summary["areas"].sum()) == int(refreshed.areas["segment"].notna().sum())
    # the manifest says what it was assigned from, with which inputs
    assigned = refreshed.manifest["assigned"]
    assert assigned["from"]["identity"] == seg.manifest["identity"]
    assert assigned["from"]["segmentation"] == str(built["gpkg"])
    assert assigned["changed_segment"] == len(moved)
    assert any(Path(i["file"]).parent == built["later"].parent
               for i in refreshed.manifest["inputs"])
    changes = pd.read_csv(out / "assigned.csv").set_index("area_code")
    assert set(changes.index[changes["segment"].ne(changes["previous_segment"])
                             & changes["previous_segment"].notna()]) == moved
    # the console: what changed, the rows missing and the code left out, as segment says them
    today, then = (str(m["created"])[:10] for m in (refreshed.manifest, seg.manifest))
    line = (f"This year's {len(segments)} areas were assigned on {today} to the segments "
            f"built on {then} from segmentation.gpkg (centres and names kept; {len(moved)} "
            "areas changed segment)")
    assert line in said.out
    numbering = (f"Segments keep the numbers they were given when built on {then}: 1 (least "
                 "deprived) to 6 (most deprived) by the mean deprivation measure (IMD19) of "
                 "their areas then (lower values are more deprived).")
    assert numbering in said.out
    assert "Segments are numbered 1 (least deprived)" not in said.out
    # the segment layer's abstract says it too
    with sqlite3.connect(out / "segmentation.gpkg") as db:
        abstract = dict(db.execute("SELECT table_name, description FROM gpkg_contents"))
    assert line in abstract["segments"] and numbering.rstrip(".") in abstract["segments"]
    assert ("ts054.csv: no row for 3 output areas, placed in a segment on the other tables "
            "with the segmentation's medians for its variables (listed in reconciliation.csv): "
            + ", ".join(sorted(built["gone"]))) in said.err
    assert "ts054.csv: 1 area code is not among the areas" in said.err
    assert "E00999001" in said.err
    # later steps take it as they take the segmentation segment wrote
    data = built["base"] / "data"
    assert run("gazetteer", out, data / "postcodes.csv", "--id", "Postcode",
               "--x", "Eastings", "--y", "Northings") == 0
    assert run("incidents", out, data / "fires.csv", "--name", "fires", *FIRE_XY,
               "--out", tmp_path / "fires") == 0
    assert run("target", out, "--out", tmp_path / "target", "--capacity", 100,
               "--postcode-points", "--incidents", data / "fires.csv", *FIRE_XY,
               "--date-column", "date") == 0
    assert run("report", out, "--out", tmp_path / "report.html") == 0
    page = html.unescape((tmp_path / "report.html").read_text())
    assert f"areas assigned {today} to the segments built {then}" in page
    assert "segmentation built" not in page
    assert page.count(line) == 2  # the overview and the method
    assert numbering in page
    # every figure of each segment's card agrees with its pen portrait and with the summary
    cards = re.findall(r'<p class="muted">([\d,]+) output areas · ([\d,]+) households · '
                       r'([\d,]+) residents · [^<]*</p>\s*<p class="portrait">([^<]*)</p>', page)
    assert len(cards) == len(refreshed.summary)
    for (areas, households, residents, text), (number, row) in zip(
            cards, refreshed.summary.iterrows()):
        assert (areas, households, residents) == tuple(
            f"{int(row[c]):,}" for c in ("areas", "households", "residents"))
        assert text == row["portrait"]
        assert text.startswith(f"Segment {number} covers {areas} of the ")
        assert f"home to {residents} residents in {households} households" in text


@pytest.mark.parametrize("entry, said", [
    ('counts = "as is"', 'this project takes them as the counts they are (counts = "as is")'),
    ("", "this project takes them as the table gives them (no denominator)"),
])
def test_a_table_prepared_otherwise_than_the_segmentation_is_refused(built, capsys, tmp_path,
                                                                     entry, said):
    text = built["later"].read_text()
    assert 'denominator = "ts0540001"' in text
    project = built["later"].parent / f"otherwise{len(entry)}.toml"  # beside its files
    project.write_text(text.replace('denominator = "ts0540001"', entry))
    capsys.readouterr()
    out = tmp_path / "out"
    assert run("assign", built["gpkg"], project, "--out", out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("community-safety: error: ts054.csv: the segmentation made its ")
    assert "percentages of ts0540001; " + said in err
    # the one fix offered is what the segmentation used
    assert err.endswith('give its [[tables]] entry denominator = "ts0540001", as when the '
                        "segmentation was built")
    assert not out.exists()


def test_a_variable_the_new_data_lack_is_named_in_words(built, capsys, tmp_path):
    seg = load_segmentation(built["gpkg"])
    tenure = [v for v in seg.clustered if v.startswith("ts054")]
    project = built["project"].parent / "lacking.toml"  # beside its files
    kept = [v for v in chain.TABLES["ts054"][1] if v != tenure[0]]
    project.write_text(built["project"].read_text().replace(
        repr(chain.TABLES["ts054"][1]).replace("'", '"'), repr(kept).replace("'", '"')))
    capsys.readouterr()
    assert run("assign", built["gpkg"], project, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"“{seg.labels[tenure[0]]}” ({tenure[0]})" in err
    assert "the segmentation read it from ts054.csv" in err


def test_a_file_that_is_not_a_segmentation_says_what_it_lacks_in_words(built, capsys):
    capsys.readouterr()
    assert run("report", SUTTON / "wards.gpkg", "--out", built["base"] / "r.html") == 2
    err = capsys.readouterr().err
    assert "wards.gpkg: not a saved segmentation (no segments, centres or area values" in err
    assert "area_values" not in err and "segmentation.gpkg that segment or assign wrote" in err


def test_the_numbering_says_where_this_years_means_break_the_order(built, capsys, tmp_path):
    """Segments keep their numbers; when this year's deprivation no longer follows them
    (here the most deprived segment's neighbourhoods ranked least deprived), it is said."""
    seg = load_segmentation(built["gpkg"])
    later = tmp_path / "ranked"
    shutil.copytree(built["later"].parent, later)
    lookup = pd.read_csv(later / "oa_lsoa.csv")
    last = seg.areas.index[seg.areas["segment"] == 6]
    imd = pd.read_csv(later / "imd.csv")
    moved = imd["LSOA11CD"].isin(lookup.loc[lookup["OA11CD"].isin(last), "LSOA11CD"])
    imd.loc[moved, "IMD19"] = imd["IMD19"].max()
    imd.to_csv(later / "imd.csv", index=False)
    capsys.readouterr()
    assert run("assign", built["gpkg"], later / "project.toml", "--out", tmp_path / "out",
               "--no-plots") == 0
    said = capsys.readouterr().out
    refreshed = load_segmentation(tmp_path / "out")
    means = refreshed.summary["mean_deprivation"]
    assert means[5] < means[6]  # lower ranks are more deprived
    assert "With this year's values the means no longer follow that order: segment " in said
    assert (f"segment 5's mean ({means[5]:,.1f}) is now more deprived than segment 6's "
            f"({means[6]:,.1f})") in said
    assert "Segments are numbered 1 (least deprived)" not in said
    assert refreshed.segment_names == seg.segment_names


def census_counts(folder: Path, variables: list) -> pd.DataFrame:
    """The census tables' counts of ``variables`` by output area, as published (not the
    shares the segmentation clustered)."""
    frame = None
    for path in sorted(folder.glob("ts*.csv")):
        table = pd.read_csv(path).drop_duplicates("OA").set_index("OA")
        table = table[[v for v in variables if v in table.columns]]
        frame = table if frame is None else frame.join(table, how="outer")
    return frame


def test_counts_where_the_segmentation_clustered_shares_are_refused_on_every_path(built):
    """A layer's fields taken as they are (Processing's path, or any caller of
    assign_areas) holding the tables' counts: refused in one line naming the variables,
    what the segmentation used and what to do; this year's shares pass."""
    seg = load_segmentation(built["gpkg"])
    counts = census_counts(built["later"].parent, seg.clustered)
    assert set(seg.clustered) <= set(counts.columns)
    with pytest.raises(InputError) as refused:
        assign_areas(seg, counts)
    said = str(refused.value)
    assert "\n" not in said
    assert said.startswith("the new values of ")
    assert "clustering variables are on another scale from the segmentation's, e.g. " in said
    named = sorted((v for v in seg.clustered if f"({v})" in said),
                   key=lambda v: said.index(f"({v})"))
    assert 1 <= len(named) <= 2
    way = seg.manifest["preparation"][named[0]]
    assert f"the segmentation made {named[0]} percentages of {way['shares_of']} " in said
    assert said.endswith("prepare every field as when the segmentation was built "
                         "(percentages of their totals, not counts), then assign again")
    # the desk tester put back as shares only the variables a refusal named, the rest left
    # as counts (385 of Camden's 749 areas then changed segment): still refused, naming
    # others, by the same areas' values moving far
    flagged = [v for v in seg.clustered if v in said]
    mixed = counts.copy()
    mixed[flagged] = seg.values[flagged].reindex(mixed.index)
    with pytest.raises(InputError) as again:
        assign_areas(seg, mixed)
    assert not [v for v in flagged if f"({v})" in str(again.value)]
    # the shares the segmentation was built on are taken (this year's: the refresh test)
    assert assign_areas(seg, seg.values)["segment"].notna().any()


def test_many_areas_changing_segment_asks_for_a_check_of_the_fields():
    """The assigned line says when more than a fifth of the areas in both changed segment
    (fields prepared otherwise than the segmentation's move many), and not otherwise."""
    from community_safety.core.segment.notes import assigned_note

    manifest = {"created": "2027-01-05T10:00:00+00:00",
                "assigned": {"from": {"segmentation": "/x/segmentation.gpkg",
                                      "created": "2026-12-07T09:00:00+00:00"},
                             "areas_assigned": 749, "areas_in_segmentation": 749,
                             "changed_segment": 385}}
    said = assigned_note(manifest)
    assert said.startswith("This year's 749 areas were assigned on 2027-01-05 to the segments "
                           "built on 2026-12-07 from segmentation.gpkg (centres and names "
                           "kept; 385 areas changed segment). That is 51% of the areas in both")
    assert "(percentages, not counts)" in said
    manifest["assigned"]["changed_segment"] = 6
    assert assigned_note(manifest).endswith("6 areas changed segment)")


def test_a_k_in_the_project_that_differs_is_said_unused(built, capsys, tmp_path):
    """A refresh keeps the segments as built: a project asking for another k is told so."""
    text = built["later"].read_text()
    assert "k = 6" in text
    project = built["later"].parent / "asks_eight.toml"  # beside its files
    project.write_text(text.replace("k = 6", "k = 8"))
    capsys.readouterr()
    assert run("assign", built["gpkg"], project, "--out", tmp_path / "out", "--no-plots") == 0
    err = capsys.readouterr().err
    assert ("asks_eight.toml: k = 8 is not used: assign keeps the 6 segments of "
            "segmentation.gpkg (k is for segment)") in err
    capsys.readouterr()
    assert run("assign", built["gpkg"], built["later"], "--out", tmp_path / "same",
               "--no-plots") == 0
    assert "is not used" not in capsys.readouterr().err


def test_areas_that_fit_no_segment_well_are_named(built, capsys, tmp_path):
    """Five areas of the least deprived segment rebuilt as council estates are placed in
    the nearest segment all the same, but farther from its centre than any of its areas
    was when the segments were built: the console, assigned.csv, the manifest and the
    report name them (a tester's six Bromley areas went to segment 3 at 8.5-9.1 from its
    centre, most areas lying 3-4 away, and nothing said so). The same data again: none."""
    capsys.readouterr()
    out = tmp_path / "assigned"
    assert run("assign", built["gpkg"], built["later"], "--out", out, "--no-plots") == 0
    err = capsys.readouterr().err
    seg, refreshed = load_segmentation(built["gpkg"]), load_segmentation(out)
    # worked out here: the greatest distance of each segment's areas when built
    bound = seg.areas.dropna(subset=["segment"]).groupby("segment")["distance"].max()
    placed = refreshed.areas.dropna(subset=["segment"])
    far = placed[placed["distance"] > placed["segment"].map(bound)]
    assert len(far) and set(far.index) <= set(built["changed"]), far
    said = [line for line in err.splitlines() if "fit no segment well" in line]
    assert len(said) == 1
    for code, row in far.iterrows():
        assert code in said[0]
        assert f"segment {int(row['segment'])}: " in said[0]
    assert said[0].startswith(f"{len(far)} area{'s are' if len(far) > 1 else ' is'} farther "
                              "from")
    assert said[0].endswith("Check their data (new building, a change of use), or rebuild "
                            "the segmentation")
    changes = pd.read_csv(out / "assigned.csv").set_index("area_code")
    assert set(changes.index[changes["fits_no_segment_well"]]) == set(far.index)
    recorded = refreshed.manifest["assigned"]["far_from_centre"]["areas"]
    assert set(recorded) == set(far.index)
    assert run("report", out, "--out", tmp_path / "report.html") == 0
    page = html.unescape((tmp_path / "report.html").read_text())
    assert said[0] in page
    # the segmentation's own data again: every area as near its centre as when built
    assert run("assign", built["gpkg"], built["project"], "--out", tmp_path / "again",
               "--no-plots") == 0
    assert "fit no segment well" not in capsys.readouterr().err
    assert not load_segmentation(tmp_path / "again").manifest["assigned"][
        "far_from_centre"]["areas"]
