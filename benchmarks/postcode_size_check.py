"""How much of the postcode ranking's lead could come from postcodes of unequal size alone?

    .venv/bin/python benchmarks/postcode_size_check.py [--data ../shared/data/london]

The London pack's postcodes carry no address count, so the backtest at postcode points
(``targeting_london.py --postcodes``) judges every ranking in households shared equally
over each output area's postcodes. A postcode holding more homes than its share (a block of
flats) then has more fires per "household" with no more risk per home, and ranking by past
fires finds it again. This script measures how large that effect can be: it keeps each
area's observed fires per household (all 2009-2024), gives the area's postcodes true sizes
drawn around the equal share (lognormal, coefficient of variation ``cv``; the area's total
kept), draws fires in proportion to the true households (no postcode riskier per home than
another in its area) for the fit period and the test period, and judges, as the backtest
does, the postcode's own past rate against the area's own past rate shared over its
postcodes, in the shared households. It prints the observed lead beside the lead made by
size alone for each ``cv``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from targeting_london import DATA, load_pack, postcode_points

from community_safety.core.targeting.risk_backtest import measures
from community_safety.core.targeting.risk_postcodes import (
    AREA,
    fires_at_postcodes,
    postcode_study,
)

CUT, END = pd.Timestamp("2019-12-31"), pd.Timestamp("2024-08-31")


def lead(study, past: np.ndarray, later: np.ndarray) -> tuple[float, float, float]:
    """Borough means at the top 10%: the postcode's own past rate, the area's shared, and
    the difference."""
    hh, area = study.households, study.groups[AREA]
    area_rate = (pd.Series(past).groupby(area).transform("sum").to_numpy()
                 / pd.Series(hh).groupby(area).transform("sum").to_numpy())
    borough = study.groups["borough"]
    codes = study.codes.to_numpy()
    own, shared = [], []
    for unit in pd.unique(borough):
        m = borough == unit
        own.append(measures(past[m] / hh[m], hh[m], later[m], False, codes[m])[2])
        shared.append(measures(area_rate[m], hh[m], later[m], False, codes[m])[2])
    return float(np.mean(own)), float(np.mean(shared)), float(np.mean(own) - np.mean(shared))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--seed", type=int, default=2011)
    args = parser.parse_args(argv)
    from pathlib import Path

    areas, history, _, _ = load_pack(Path(args.data), log=lambda *a: None)
    points = postcode_points(Path(args.data), areas, log=lambda *a: None)
    study = postcode_study(areas, points)
    fires = fires_at_postcodes(history, points)
    counts = {}
    for name, keep in (("past", fires["date"] <= CUT),
                       ("later", (fires["date"] > CUT) & (fires["date"] <= END))):
        counts[name] = fires[keep].groupby("area_code").size().reindex(
            study.codes).fillna(0).to_numpy()
    own, shared, diff = lead(study, counts["past"], counts["later"])
    print("top 10% of households (shared equally over each area's postcodes), borough means")
    print(f"observed: postcode's own past rate {own:.1f}%, area's own rate shared {shared:.1f}%"
          f": lead {diff:+.1f} points")
    hh, area = study.households, study.groups[AREA]
    total = counts["past"] + counts["later"]
    rate = (pd.Series(total).groupby(area).transform("sum").to_numpy()
            / pd.Series(hh).groupby(area).transform("sum").to_numpy())
    past_share = counts["past"].sum() / total.sum()
    rng = np.random.default_rng(args.seed)
    for cv in (0.0, 0.5, 0.75, 1.0, 1.5):
        s2 = np.log(1 + cv ** 2)
        size = np.exp(rng.normal(-s2 / 2, np.sqrt(s2), len(hh)))
        size /= pd.Series(size).groupby(area).transform("mean").to_numpy()
        true = hh * size
        past = rng.poisson(true * rate * past_share).astype(float)
        later = rng.poisson(true * rate * (1 - past_share)).astype(float)
        own, shared, diff = lead(study, past, later)
        print(f"size alone, postcode sizes' coefficient of variation {cv:.2f}: "
              f"{own:.1f}% against {shared:.1f}%: lead {diff:+.1f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
