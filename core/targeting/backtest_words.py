"""The risk model's backtest for a person: the tables as written (headings in words,
numbers rounded, ``store.backtest_columns``) and what the command line and Processing's
log say: what was tested, the verdict in a sentence, the calibration in a sentence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..store.backtest_columns import BOROUGHS, SHORT, worded
from .capture import TOP

VERDICT = "top_10pct"  # the share the verdict quotes (the top 10% of households)


def unit_words(table: pd.DataFrame, loo: bool, study: str) -> pd.DataFrame:
    """The per-unit table with the unit named: the borough, or the study area by name."""
    if loo:
        return table
    return table.assign(borough=f"{study} (whole study area)")


def means_table(means: pd.DataFrame, loo: bool) -> pd.DataFrame:
    """``backtest_means.csv``: per ranking, the mean over the boroughs (one row per
    ranking with the whole study's figures in a time split, without a count of 1)."""
    return worded(means if loo else means.drop(columns=["boroughs"]))


def ahead_table(ahead: pd.DataFrame, own: str, loo: bool) -> pd.DataFrame:
    """``model_vs_own_rate.csv``: per measure, the risk model minus ``own`` (points of
    the share of later fires, or of the area under the curve) with its 95% interval, and
    in a leave-one-borough-out the boroughs where the model is ahead."""
    rows = []
    for row in ahead.to_dict("records"):
        auc = row["measure"] == "auc"
        digits = 3 if auc else 1
        out = {"Measure": SHORT[row["measure"]] + ("" if auc else ": share of later fires"),
               "Unit": "area under the curve" if auc else "percentage points",
               f"Risk model minus the {own}": round(row["mean_difference"], digits) + 0.0,
               "95% interval, low": round(row["low"], digits) + 0.0,
               "95% interval, high": round(row["high"], digits) + 0.0}
        if loo:
            out.update({"Boroughs where the model is ahead": row["ahead_in"],
                        "Boroughs level": row["level_in"], BOROUGHS: row["boroughs"]})
        rows.append(out)
    return pd.DataFrame(rows)


def settings_words(table: pd.DataFrame) -> pd.DataFrame:
    """``model_settings.csv``: the settings (named as in a project's ``[risk_model]``),
    their validation in words and rounded, for which fit, and the one chosen."""
    return table.round({"validation_top_10pct": 1, "validation_auc": 3,
                        "validation_seen_over_expected": 2}).rename(columns={
        "validation_top_10pct": "Validation: share of fires in the top 10% of households (%)",
        "validation_auc": "Validation: area under the capture curve",
        "validation_seen_over_expected": "Validation: fires seen ÷ expected (the scale "
                                         "of the expected fires)",
        "validation_period": "Validation years",
        "fitted_for": "Fitted for", "chosen": "Chosen", "note": "Note"})


def calibration_words(table: pd.DataFrame, period: str) -> pd.DataFrame:
    """``calibration.csv`` in words, with the test period on the fire counts."""
    return pd.DataFrame({
        "Tenth of households (1 = highest expected rate)": table["decile"],
        "Households": table["households"].round().astype(int),
        f"Fires expected, {period}": table["expected"].round(1),
        f"Fires seen, {period}": table["observed"].round().astype(int),
        "Seen ÷ expected": table["observed_over_expected"].round(2)})


def calibration_sentence(table: pd.DataFrame, period: str, scaling: str = "") -> str:
    """The calibration in a sentence, leading with how many times the fires seen the
    model expected ("the model expected 1.10 times the fires seen"), then by tenth of
    households, how its expected fires were scaled (``scaling_sentence``) and whether,
    as counts, they can be read as a forecast."""
    ratio = table["observed_over_expected"].replace([np.inf, -np.inf], np.nan).dropna()
    expected, seen = table["expected"].sum(), table["observed"].sum()
    if ratio.empty:
        return "Calibration: no fire was expected, so there is nothing to compare."
    if not seen > 0:
        return (f"Calibration: the model expected {expected:,.0f} fires in {period} and "
                "none was seen.")
    times = expected / seen
    close = 0.8 <= times <= 1.25
    return (f"Calibration: the model expected {_times(times)} times the fires seen "
            f"({expected:,.0f} expected in {period}, {seen:,.0f} seen); by tenth of "
            f"households, highest expected first, the fires seen were {ratio.min():.2f} to "
            f"{ratio.max():.2f} times those expected (calibration.csv). "
            + (f"{scaling} " if scaling else "")
            + ("As counts its expected fires are close to the fires seen." if close else
               f"As counts its expected fires are {'too many' if times > 1 else 'too few'}: "
               "they rank homes, they do not forecast fires."))


def _times(value: float) -> str:
    return f"{value:.1f}" if value >= 2 else f"{value:.2f}"


def scaling_sentence(evaluation) -> str:
    """How the model's expected fires were scaled in the backtest: by the fires seen ÷
    expected in the validation years before the cut-off (one factor per fitted model,
    from fires up to the cut-off only), and what the unscaled model expected."""
    units = [u for u in evaluation.observed if u in evaluation.factors]
    factors = {u: evaluation.factors[u] for u in units}
    scaled = {u: f for u, (f, years) in factors.items() if years}
    if not scaled:
        return ("Its expected fires are not scaled (too short a history before the "
                "cut-off to validate the model on).")
    seen = sum(float(np.sum(evaluation.observed[u])) for u in units)
    unscaled = sum(float(np.sum(evaluation.expected[u] * evaluation.households[u]))
                   * evaluation.test_years / factors[u][0] for u in units)
    before = (f"; unscaled it expected {_times(unscaled / seen)} times the fires seen"
              if seen > 0 else "")
    values = sorted(set(round(f, 2) for f in scaled.values()))
    if len(values) == 1:
        years = next(y for _, y in factors.values() if y)
        return (f"Its expected fires were scaled by {values[0]:.2f}, the fires seen ÷ "
                f"expected in {years} (the validation years before the cut-off, by the "
                f"model fitted before them){before}.")
    return (f"Each borough's model had its expected fires scaled by the fires seen ÷ "
            f"expected in the validation years before the cut-off in the other boroughs "
            f"({values[0]:.2f} to {values[-1]:.2f}){before}.")


def tested_sentence(reconciliation: pd.DataFrame, tested: int, period: str) -> str:
    """What was tested: the fires of the test period, and the fires left out and why."""
    total = len(reconciliation)
    left = reconciliation.loc[reconciliation["status"] == "excluded", "detail"].value_counts()
    text = f"Tested on {tested:,} fires of {period} (after the cut-off)"
    if left.empty:
        return text + f"; every one of the {total:,} fire records was used."
    reasons = "; ".join(f"{n:,} {_reason(why)}" for why, n in left.items())
    return text + (f"; {int(left.sum()):,} of {total:,} fire records left out: {reasons} "
                   "(reconciliation.csv).")


def _reason(detail: str) -> str:
    return {"area not classified": "in output areas without a segment",
            "outside the periods": "outside the periods fitted and tested"}.get(
                detail, str(detail))


def signed(value: float, digits: int) -> str:
    """A difference with its sign, 0 without one ("+2.3", "-0.4", "0.0", never "-0.0")."""
    shown = round(float(value), digits) + 0.0  # (-0.0 + 0.0 is 0.0)
    return f"{shown:.{digits}f}" if shown == 0 else f"{shown:+.{digits}f}"


def verdict_sentence(means: pd.DataFrame, ahead: pd.DataFrame, own: str, loo: bool) -> str:
    """The model against ``own`` on the share of later fires in the top 10% of
    households, in a sentence."""
    rows = means.set_index("ranking")
    model, base = rows.loc["risk model", VERDICT], rows.loc[own, VERDICT]
    diff = ahead.set_index("measure").loc[VERDICT]
    over = f" (the mean over {int(diff['boroughs'])} boroughs)" if loo else ""
    p = VERDICT.split("_")[1][:-3]
    gap = round(float(diff["mean_difference"]), 1)
    side = (f"{abs(gap):.1f} points ahead" if gap > 0 else f"{abs(gap):.1f} points behind"
            if gap < 0 else "level")
    text = (f"The model put {model:.1f}% of the later fires in the top {p}% of households"
            f"{over}, against {base:.1f}% for the {own}: {side} "
            f"(95% interval {signed(diff['low'], 1)} to {signed(diff['high'], 1)})")
    if loo:
        text += f", ahead in {int(diff['ahead_in'])} of {int(diff['boroughs'])} boroughs"
    if diff["low"] <= 0 <= diff["high"]:
        text += "; the interval holds no difference, so neither is clearly better"
    return text + "."


def backtest_lines(means: pd.DataFrame, ahead: pd.DataFrame, own: str, how: str,
                   why: str, tested: str, calibration: str, loo: bool) -> list[str]:
    """What ``target --backtest --model`` says (the command line and Processing's log)."""
    lines = [f"Backtest of the risk model: {why}.", tested,
             "Share of the later fires (%) in the top " + ", ".join(f"{p}%" for p in TOP)
             + " of households, and the area under the capture curve (0.5 = random order)"
             + (", mean over the boroughs" if loo else "") + ", with 95% intervals:"]
    for row in means.to_dict("records"):
        cells = []
        for measure in [f"top_{p}pct" for p in TOP] + ["auc"]:
            digits = 3 if measure == "auc" else 1
            low, high = row.get(f"{measure}_low"), row.get(f"{measure}_high")
            interval = (f" ({low:.{digits}f}–{high:.{digits}f})"
                        if low is not None and low == low else "")
            cells.append(f"{row[measure]:.{digits}f}{interval}")
        lines.append(f"  {row['ranking']}: " + ", ".join(cells))
    lines.append(verdict_sentence(means, ahead, own, loo))
    lines.append(f"The risk model minus the {own}:")
    for row in ahead.to_dict("records"):
        digits, unit = (3, "") if row["measure"] == "auc" else (1, " points")
        words = SHORT[row["measure"]].lower()
        text = (f"  {words}: {signed(row['mean_difference'], digits)}{unit} (95% interval "
                f"{signed(row['low'], digits)} to {signed(row['high'], digits)})")
        if loo:
            text += f", ahead in {row['ahead_in']} of {row['boroughs']} boroughs"
        lines.append(text)
    lines.append(calibration)
    return lines

