"""The targeting backtest ("proven on past fires").

The backtest fits the targeting score (``rates.shrunk_rates``: segment rate, and the
area's rate shrunk toward it) on the incidents up to a cut-off date, ranks the households
(every household of an area shares its area's score; ties by area code), and counts the
incidents *after* the cut-off that fall in the top 1, 5, 10 and 20% of households (the
capture curve, ``capture``).

Baselines, computed the same way: the deprivation measure of the segmentation (IMD rank,
most deprived first) alone, and random order (the mean of 100 random orders of the areas
drawn from a fixed seed). Also shown: the segment's rate alone and the area's own past rate
(no shrinkage), to show what each part of the score adds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..cells import write_csv
from ..errors import InputError
from ..places.incidents import window_date
from ..store.backtest_columns import ABOUT as ABOUT_COLUMNS
from ..store.backtest_columns import AREAS, SCORE, worded, write_identity
from .capture import TOP, area_under, capture_at, capture_curve, curve_in_order
from .history import IncidentFile, incident_history, window_counts
from .rates import ADDRESSES_AS_HOUSEHOLDS, area_households, shrunk_rates

RANDOM_ORDERS = 100
ABOUT = "backtest_about.csv"  # what a backtest folder's tables are about (``about_table``)


@dataclass
class BacktestResult:
    table: pd.DataFrame  # one row per ranking: captures at TOP (%) and the area under the
    # curve, at full precision (``store.backtest_columns.worded`` and ``console_table`` for people)
    curves: dict  # ranking -> (x, y)
    fit_period: str
    test_period: str
    fit_incidents: int
    test_incidents: int
    counted_as: str = ""  # what counts as a household, when the segmentation knows none

    @property
    def homes(self) -> str:
        """What the rankings' top shares are of: households, or addresses."""
        return "addresses" if self.counted_as else "households"


def backtest(history: pd.DataFrame, segments: pd.Series, households: pd.Series,
             cut_off: pd.Timestamp, deprivation: pd.Series | None = None,
             more_deprived: str = "higher", seed: int = 2011,
             start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
             ) -> BacktestResult:
    """Fit on incidents from ``start`` to ``cut_off`` (inclusive), test on those after it
    (to ``end``); rankings compared on the classified areas."""
    from ..places.steps import period_label

    first, last = history["date"].min(), history["date"].max()
    if pd.isna(first) or not first <= cut_off < last:
        raise InputError(f"the cut-off {cut_off:%Y-%m-%d} is outside the incidents' dates "
                         f"({first:%Y-%m-%d} to {last:%Y-%m-%d}): it must leave incidents "
                         "on both sides")
    start = start if start is not None else first
    end = end if end is not None else last
    if start > cut_off or end <= cut_off:
        raise InputError(f"the fit period ({start:%Y-%m-%d} to {cut_off:%Y-%m-%d}) and the "
                         f"test period (to {end:%Y-%m-%d}) must both follow the cut-off rule")
    fit = window_counts(history, start, cut_off)
    test_start = cut_off + pd.Timedelta(days=1)
    later = window_counts(history, test_start, end)
    classified = segments.dropna().astype(int)
    later = later.reindex(classified.index).fillna(0)
    if later.sum() == 0:
        raise InputError(f"no incident in the study's classified areas after the cut-off "
                         f"{cut_off:%Y-%m-%d}: nothing to test on")
    rates = shrunk_rates(fit, households, classified)
    hh = rates["households"]
    rankings = {
        SCORE: (rates["shrunk_rate"], False),
        "segment rate alone": (rates["segment_rate"], False),
        "area's own past rate": (rates["own_rate"], False),
    }
    if deprivation is not None:
        rankings["deprivation alone (IMD)"] = (
            pd.to_numeric(deprivation, errors="coerce").reindex(classified.index),
            more_deprived == "lower")
    rows, curves = [], {}
    for name, (score, ascending) in rankings.items():
        x, y = capture_curve(score, hh, later, ascending)
        curves[name] = (x, y)
        rows.append({"ranking": name, **{f"top_{p}pct": capture_at(x, y, p) for p in TOP},
                     "auc": area_under(x, y)})
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, 501)
    hh_values, later_values = hh.to_numpy(), later.reindex(hh.index).to_numpy()
    tops, aucs, ys = [], [], []
    for _ in range(RANDOM_ORDERS):
        order = rng.permutation(len(hh_values))
        x, y = curve_in_order(hh_values[order], later_values[order])
        tops.append([capture_at(x, y, p) for p in TOP])
        aucs.append(area_under(x, y))
        ys.append(np.interp(grid, x, y))
    rows.append({"ranking": f"random order (mean of {RANDOM_ORDERS}, seed {seed})",
                 **{f"top_{p}pct": v for p, v in zip(TOP, np.mean(tops, axis=0))},
                 "auc": float(np.mean(aucs))})
    curves[rows[-1]["ranking"]] = (grid, np.mean(ys, axis=0))
    return BacktestResult(pd.DataFrame(rows), curves, period_label(start, cut_off),
                          period_label(test_start, end), int(fit.reindex(
                              classified.index).fillna(0).sum()), int(later.sum()))


def about_table(segmentation: str, how: str, fit_period: str, test_period: str, tested: int,
                score: str, model: str = "", why: str = "", ranks: str = AREAS,
                calibration: str = "", counted_as: str = "") -> pd.DataFrame:
    """One row saying what a backtest's tables are about, in words, for the report's key
    findings and for a person opening the folder: the segmentation it ran on (its name
    and file; its identity goes beside, ``backtest_columns.write_identity``: a backtest of
    an earlier segmentation is not quoted), how the fires were split and why, the periods
    fitted on and tested on, the fires tested on, and the rankings a visit list uses
    (``score``: the default; ``model``: the risk model, in the model backtest), what they
    rank (``ranks``: output areas or postcode points), the model's calibration in a
    sentence and, where the segmentation knows no households, what counts as one
    (``counted_as``: each address of the gazetteer)."""
    return pd.DataFrame([{ABOUT_COLUMNS["segmentation"]: segmentation,
                          ABOUT_COLUMNS["how"]: how, ABOUT_COLUMNS["fitted_on"]: fit_period,
                          ABOUT_COLUMNS["tested_on"]: test_period,
                          ABOUT_COLUMNS["fires_tested_on"]: int(tested),
                          ABOUT_COLUMNS["score"]: score, ABOUT_COLUMNS["model"]: model,
                          ABOUT_COLUMNS["why"]: why, ABOUT_COLUMNS["ranks"]: ranks,
                          ABOUT_COLUMNS["calibration"]: calibration,
                          ABOUT_COLUMNS["counted_as"]: counted_as}])


def write_about(folder: Path, seg, gpkg: Path, table: pd.DataFrame) -> None:
    """``backtest_about.csv`` (``about_table``) and the segmentation's identity beside it."""
    write_csv(table, Path(folder) / ABOUT, index=False)
    write_identity(folder, str(seg.manifest.get("identity", "")))


def segmentation_words(seg, gpkg: Path) -> str:
    """The segmentation as a person knows it: its name and its file."""
    where = f"{Path(gpkg).parent.name}/{Path(gpkg).name}"
    return f"{seg.name} ({where})" if getattr(seg, "name", "") else where


def capture_plot(result: BacktestResult, path: Path, title: str = "") -> Path:
    """The capture curves on one chart (PNG), the diagonal for reference."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 5.5))
    axes = figure.add_subplot()
    styles = ["-", "--", ":", "-.", "-"]
    for i, (name, (x, y)) in enumerate(result.curves.items()):
        auc = result.table.loc[result.table["ranking"] == name, "auc"].iloc[0]
        axes.plot(100 * x, 100 * y, styles[i % len(styles)],
                  linewidth=2.2 if i == 0 else 1.4, label=f"{name} (area {auc:.3f})")
    for p in TOP:
        axes.axvline(p, color="#BBBBBB", linewidth=0.6)
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_xlabel(f"{result.homes}, highest score first (%)")
    axes.set_ylabel(f"fires {result.test_period} captured (%)")
    axes.set_title(title or f"Fitted on fires {result.fit_period}, tested on "
                   f"{result.test_period}", fontsize=10)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=100)
    return path


def cut_off_date(text: str | None) -> pd.Timestamp:
    date = window_date(text, "the cut-off")
    if date is None:
        raise InputError("the backtest needs --cut-off YYYY-MM-DD")
    return date


def backtest_step(segmentation: Path, out_dir: Path, incidents: IncidentFile, cut_off: str,
                  start: str | None = None, end: str | None = None, seed: int = 2011,
                  replace_folder: bool = True) -> tuple[BacktestResult, list[Path]]:
    """Read the segmentation and the incident file, run the backtest and write
    ``backtest.csv``, ``capture_curve.png`` and ``reconciliation.csv`` (every incident row:
    fitted on, tested on, or not used and why) into ``out_dir``."""
    from ..places.steps import gpkg_path
    from ..segment.saved import load_segmentation
    from ..store.folders import replaced_folder, staged_files
    from .rates import rate_unit

    cut = cut_off_date(cut_off)
    first = window_date(start, "the start date")
    last = window_date(end, "the end date")
    gpkg = gpkg_path(segmentation)
    seg = load_segmentation(gpkg)
    households = area_households(seg, gpkg)
    history, outcomes, source = incident_history(seg.areas, incidents)
    params = seg.manifest.get("parameters", {})
    column = params.get("deprivation")
    deprivation = seg.values[column] if column and column in seg.values.columns else None
    result = backtest(history, seg.areas["segment"], households, cut, deprivation,
                      params.get("more_deprived", "higher"), seed, first, last)
    if rate_unit(seg) == "address":
        result = replace(result, counted_as=ADDRESSES_AS_HOUSEHOLDS)
    lo = first if first is not None else history["date"].min()
    hi = last if last is not None else history["date"].max()
    detail = pd.Series(outcomes.to_numpy(), index=outcomes.index, dtype=object)
    dates = history["date"]
    detail[history.index[(dates >= lo) & (dates < cut + pd.Timedelta(days=1))]] = "fitted on"
    detail[history.index[(dates > cut) & (dates < hi + pd.Timedelta(days=1))]] = "tested on"
    detail[history.index[(dates < lo) | (dates >= hi + pd.Timedelta(days=1))]] = (
        "outside the periods")
    classified = seg.areas["segment"].dropna().index
    unclassified = history.index[~history["area_code"].isin(classified)]
    detail[unclassified] = "area not classified"
    reconciliation = pd.DataFrame({"source": source, "row": detail.index,
                                   "status": np.where(detail.isin(["fitted on", "tested on"]),
                                                      "used", "excluded"),
                                   "detail": detail.to_numpy()})
    folder = replaced_folder(out_dir) if replace_folder else staged_files(out_dir)
    with folder as staging:
        write_csv(worded(result.table), staging / "backtest.csv", index=False)
        write_about(staging, seg, gpkg, about_table(
            segmentation_words(seg, gpkg), "time split", result.fit_period,
            result.test_period, result.test_incidents, result.table["ranking"].iloc[0],
            counted_as=result.counted_as))
        capture_plot(result, staging / "capture_curve.png")
        write_csv(reconciliation, staging / "reconciliation.csv", index=False)
        names = sorted(p.name for p in staging.iterdir())
    return result, [Path(out_dir) / name for name in names]
