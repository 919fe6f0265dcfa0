"""The backtest tables' headings, in words, and their rounding for reading: written by the
backtests (``targeting.backtest``, ``targeting.risk_study``), read by the key findings
(``share.findings``), so both use the names here.

The measures, kept under short keys in memory (``top_10pct``, ``auc``, with ``_low`` and
``_high`` for the 95% interval), are written as "Share of later fires in the top 10% of
households (%)", "Top 10% of households: 95% interval, low"...; shares rounded to one
decimal place, the area under the curve to three.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

TOP = (1, 5, 10, 20)
RANKING = "Ranking"
BOROUGH = "Area tested"
BOROUGHS = "Boroughs averaged"
AUC = "Area under the capture curve (0.5 = random order, 1 = perfect)"
SHORT = {**{f"top_{p}pct": f"Top {p}% of households" for p in TOP},
         "auc": "Area under the curve"}
HEADINGS = {**{f"top_{p}pct": f"Share of later fires in the top {p}% of households (%)"
               for p in TOP}, "auc": AUC}
DIGITS = {**{f"top_{p}pct": 1 for p in TOP}, "auc": 3}

# backtest_about.csv: what a backtest folder's tables are about
ABOUT = {"segmentation": "Segmentation", "how": "How it was tested",
         "fitted_on": "Fitted on fires of", "tested_on": "Tested on fires of",
         "fires_tested_on": "Later fires tested on", "score": "Visit list's ranking",
         "model": "Risk model's ranking", "why": "Why this test",
         "ranks": "What the rankings rank", "calibration": "Calibration",
         "counted_as": "What counts as a household"}
# what a backtest's rankings rank ("ranks"): a visit list's ranking is tested only by a
# backtest of the same ranking of the same units (the risk model at postcode points is
# not the risk model at output areas)
AREAS, POSTCODES = "output areas", "postcode points"
# the rankings a visit list uses, as the backtests name them
MODEL = "risk model"
SCORE = "segment + area score (empirical Bayes)"
IDENTITY_FILE = "backtest_about.json"  # the segmentation's identity, for the findings


def columns(measure: str) -> tuple[str, str, str]:
    """The headings of a measure (``top_10pct``, ``auc``): its value, its interval's
    low and high."""
    return (HEADINGS[measure], f"{SHORT[measure]}: 95% interval, low",
            f"{SHORT[measure]}: 95% interval, high")


def worded(table: pd.DataFrame) -> pd.DataFrame:
    """A backtest table as written: headings in words, numbers rounded for reading."""
    names = {"ranking": RANKING, "borough": BOROUGH, "boroughs": BOROUGHS}
    digits = {}
    for measure in HEADINGS:
        value, low, high = columns(measure)
        for key, heading in ((measure, value), (f"{measure}_low", low),
                             (f"{measure}_high", high)):
            if key in table:
                names[key] = heading
                digits[heading] = DIGITS[measure]
    return table.rename(columns=names).round(digits)


def console_table(table: pd.DataFrame) -> pd.DataFrame:
    """A backtest table as the command line prints it: short headings in words ("Top 10%
    of households (%)" as "Top 10% (%)"), numbers rounded for reading."""
    names = {"ranking": RANKING, "borough": BOROUGH, "boroughs": BOROUGHS,
             **{f"top_{p}pct": f"Top {p}% (%)" for p in TOP}, "auc": "Area under curve"}
    shown = table[[c for c in names if c in table.columns]]
    return shown.round({c: DIGITS[c] for c in shown.columns if c in DIGITS}).rename(
        columns=names)


def write_identity(folder: Path, identity: str) -> None:
    """The segmentation a backtest ran on (its identity), beside backtest_about.csv."""
    (Path(folder) / IDENTITY_FILE).write_text(json.dumps({"segmentation": identity}),
                                              encoding="utf-8")


def read_identity(folder: Path) -> str | None:
    """The identity of the segmentation a backtest folder's tables are about (None when
    the folder does not say)."""
    try:
        return str(json.loads((Path(folder) / IDENTITY_FILE).read_text(encoding="utf-8"))
                   ["segmentation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
