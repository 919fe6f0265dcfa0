"""A segment's profile chart read on a council's own census descriptions (Sutton's, from
the census metadata: "National Statistics Socio-economic Classification (NS-SEC): L1, L2
and L3 Higher managerial, administrative and professional occupations"): every variable's
label on its own row, none drawn over another, the long name its acronym follows said by
the acronym."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from community_safety.core.report.charts import LABEL_LINES, chart_label, profile_figure

SUTTON = Path(__file__).parent / "data" / "london_boroughs" / "E09000029"


def test_a_long_name_followed_by_its_acronym_is_said_by_the_acronym():
    assert chart_label("National Statistics Socio-economic Classification (NS-SEC): L13 "
                       "Routine occupations") == "NS-SEC: L13 Routine occupations"
    # a bracket that is not an acronym (a word, a name), or no colon after it: as written
    for kept in ("Households with an occupancy rating (bedrooms) of -1 or less",
                 "Owned: Owns outright", "Day-to-day activities limited a lot (LTLI)",
                 "Usual residents aged 16 years and over (Total): Full-time students",
                 "Number of people aged 65 and over (Over65): count"):
        assert chart_label(kept) == kept


def test_no_label_of_the_profile_chart_runs_into_another():
    described = pd.read_csv(SUTTON / "census_variables.csv")
    described = described[~described["Variable_Name"].str.contains("Total")]
    longest = described.loc[described["Variable_Name"].str.len().sort_values(
        ascending=False).index[:24]]
    labels = dict(zip(longest["new_names"], longest["Variable_Name"]))
    variables = list(labels)
    rng = np.random.default_rng(1)
    rows = pd.DataFrame({"variable": variables, "index": rng.uniform(40, 200, len(variables)),
                         "band": "medium"})
    standardised = pd.DataFrame(rng.normal(size=(60, len(variables))), columns=variables)
    figure = profile_figure(rows, standardised, labels, 3, 120, 80)
    renderer = FigureCanvasAgg(figure).get_renderer()
    ticks = [t for t in figure.axes[0].get_yticklabels() if t.get_text()]
    assert len(ticks) == len(variables)
    assert max(t.get_text().count("\n") + 1 for t in ticks) <= LABEL_LINES
    boxes = sorted((t.get_window_extent(renderer) for t in ticks), key=lambda b: b.y0)
    touching = [(a.y1, b.y0) for a, b in zip(boxes, boxes[1:]) if b.y0 - a.y1 < 2]
    assert touching == []  # a gap of 2 pixels or more between any two labels
    assert min(b.x0 for b in boxes) >= 0  # none cut at the picture's left edge
    assert any(t.get_text().startswith("NS-SEC: ") for t in ticks)


def test_labels_in_capitals_or_one_long_word_are_not_cut():
    """Council exports often say their columns in capitals, or as one long word."""
    labels = {"a": "HOUSEHOLDS RENTING FROM A COUNCIL OR HOUSING ASSOCIATION (SOCIAL RENTED), "
                   "PERCENT",
              "b": "LONE PARENT HOUSEHOLDS WITH DEPENDENT CHILDREN, PERCENT OF ALL HOUSEHOLDS",
              "c": "x" * 80, "d": "Owned: Owns outright"}
    rows = pd.DataFrame({"variable": list(labels), "index": [70, 100, 140, 90],
                         "band": ["low", "medium", "high", "medium"]})
    standardised = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 4)),
                                columns=list(labels))
    figure = profile_figure(rows, standardised, labels, 1, 120, 80)
    renderer = FigureCanvasAgg(figure).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in figure.axes[0].get_yticklabels()
             if t.get_text()]
    assert len(boxes) == 4 and min(b.x0 for b in boxes) >= 0


def test_one_index_far_above_the_rest_does_not_squeeze_the_others():
    """An Islington segment with an index of 1,205 on one variable drew every other bar as
    a sliver: the axis ends past the others, and that bar ends there with its score."""
    labels = {"a": "Overcrowded by two bedrooms or more", "b": "No car", "c": "Owned"}
    rows = pd.DataFrame({"variable": list(labels), "index": [1205.0, 180.0, 60.0],
                         "band": ["high", "high", "low"]})
    standardised = pd.DataFrame(np.random.default_rng(0).normal(size=(30, 3)),
                                columns=list(labels))
    left = profile_figure(rows, standardised, labels, 7, 120, 80).axes[0]
    assert left.get_xlim()[1] == pytest.approx(400)  # the others fill the chart
    assert [t.get_text() for t in left.texts] == ["1,205 ▸ "]
    rows["index"] = [300.0, 180.0, 60.0]  # no bar far out: the axis as matplotlib draws it
    left = profile_figure(rows, standardised, labels, 7, 120, 80).axes[0]
    assert len(left.texts) == 0 and left.get_xlim()[1] > 300


@pytest.fixture(scope="module")
def rare_fires(tmp_path_factory):
    """The sample with fires in flats of 10 storeys or more (a few segments with 1 to 5)
    and in houseboats (3 in all: every count suppressed), as the report publishes them."""
    from conftest import SAMPLE_DIR, saved_sample

    from community_safety.core.cli import main
    from community_safety.core.share.export import partner_tables

    folder = tmp_path_factory.mktemp("rare")
    _, gpkg = saved_sample(folder / "seg", n_init=2)
    for name, category in (("tall_flats", "Purpose Built Flats/Maisonettes - 10 or more "
                                          "storeys"),
                           ("houseboats", "Houseboat (permanent dwelling)")):
        assert main(["incidents", str(gpkg), str(SAMPLE_DIR / "lfb_dwelling_fires.csv"),
                     "--name", name, "--x", "easting_rounded", "--y", "northing_rounded",
                     "--category-column", "property_type", "--category", category,
                     "--out", str(folder / "incidents")]) == 0
    _, profiles = partner_tables(gpkg, 5)
    return profiles


def texts_of(figure) -> list[str]:
    return [t.get_text() for t in figure.texts] + [
        t.get_text() for ax in figure.axes for t in ax.texts]


def test_a_suppressed_bar_is_marked_not_missing(rare_fires):
    """A missing bar reads as an index of 0: each suppressed segment has a hatched stub
    marked "*", and the chart says what "*" means."""
    from community_safety.core.report.charts import incident_figure

    rows = rare_fires["incident_profile_tall_flats"]
    hidden = rows["index"].isna()
    assert 0 < hidden.sum() < len(rows)  # some segments suppressed, not all
    figure = incident_figure(rows, "Tall flats", threshold=5)
    texts = texts_of(figure)
    assert texts.count("*") == hidden.sum()
    assert ("* suppressed, no bar: a count of 1 to 5, or one that would reveal such a "
            "count, is suppressed.") in texts
    stubs = [p for p in figure.axes[0].patches if p.get_hatch()]
    assert sorted(round(p.get_x() + p.get_width() / 2) for p in stubs) == [
        i for i, h in enumerate(hidden) if h]


def test_a_profile_whose_every_index_is_suppressed_says_so_instead_of_an_empty_chart(
        rare_fires):
    from community_safety.core.report.charts import incident_chart, incident_figure

    rows = rare_fires["incident_profile_houseboats"]
    assert rows["index"].isna().all() and not (rows["count"] == 0).all()
    figure = incident_figure(rows, "Houseboats, 2009–2024", threshold=5)
    assert figure.axes == []  # no empty axes
    assert "Houseboats, 2009–2024" in texts_of(figure)
    said = " ".join(" ".join(texts_of(figure)).split())
    assert ("Every segment's index is suppressed, so no chart: a count of 1 to 5, or one "
            "that would reveal such a count, is suppressed.") in said
    renderer = FigureCanvasAgg(figure).get_renderer()  # every word within the picture
    for text in figure.texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= figure.bbox.x1 and box.y0 >= 0, text.get_text()
    assert incident_chart(rows, "Houseboats").startswith(b"\x89PNG")
