"""A segment's profile chart read on a council's own census descriptions (Sutton's, from
the census metadata: "National Statistics Socio-economic Classification (NS-SEC): L1, L2
and L3 Higher managerial, administrative and professional occupations"): every variable's
label on its own row, none drawn over another, the long name its acronym follows said by
the acronym."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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
