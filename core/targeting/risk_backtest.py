"""Proving the risk model on past fires: time splits and leave-one-borough-out.

For a cut-off ``T``: every ranking is made from fires up to ``T`` and judged on the fires
after ``T`` (to ``end``), per borough: the share of those later fires in the top 1, 5, 10
and 20% of households (every household of an area shares its area's score), and the area
under the capture curve (``capture.capture_curve``). 95% intervals by the bootstrap:
the borough's areas drawn again with replacement (``BOOTSTRAP`` times, from a fixed seed),
the same draws for every ranking, so differences between rankings get intervals too, and
draws independent from one borough to the next (each borough's own stream of the seed), so
the interval of a mean over boroughs narrows as boroughs are added. A draw that holds no
later fire measures nothing and is left out.

Rankings side by side:

- **risk model**: ``risk_model``; with ``leave_one_out`` the model that scores a borough
  is fitted (and its settings chosen) on the other boroughs only: it never sees the tested
  borough's fires; it reads them only as features (fires up to ``T``), as a service would;
- **area's own past rate**: fires up to ``T`` per household (of a postcode, when the
  units are postcodes: ``risk_postcodes``; then also the **output area's own past rate**
  shared by its postcodes);
- **shrunk to the borough**: the own rate shrunk toward the borough's (empirical Bayes);
- **segment + area score**: the targeting score (shrunk toward the segment's rate), and
  the **segment rate** alone, when segments are given (where the units are postcodes,
  each ranking is named for what it ranks: ``AT_POSTCODES``);
- **deprivation alone (IMD)**, when given (rank 1 = most deprived);
- **random order**: expected capture p% and area 0.5;
- **oracle**: the later fires per household themselves, an upper bound for any ranking of
  areas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..store.backtest_columns import MODEL, SCORE
from .capture import TOP, area_under, capture_at, capture_curve, score_order
from .rates import shrunk_rates
from .risk_features import StudyAreas, feature_table, later_rate
from .risk_model import ModelSettings, fit_scaled, predict_at
from .risk_postcodes import AREA

BOOTSTRAP = 400
MEASURES = [f"top_{p}pct" for p in TOP] + ["auc"]

OWN = "area's own past rate"
BOROUGH = "own rate shrunk to the borough's"
SEGMENT = "segment rate"
IMD = "deprivation alone (IMD)"
RANDOM = "random order (expected)"
ORACLE = "oracle (the later fires themselves)"
AREA_OWN = "output area's own past rate, shared over its postcodes"
POSTCODE_OWN = "postcode's own past rate"
# each ranking named for what it ranks where the units are postcodes
AT_POSTCODES = {OWN: POSTCODE_OWN,
                BOROUGH: "postcode's own rate shrunk to the borough's",
                SCORE: "segment + postcode score (each postcode's rate shrunk toward its "
                       "segment's)"}


def named(ranking: str, at_postcodes: bool) -> str:
    """``ranking``'s name where the units are postcodes (``at_postcodes``), else itself."""
    return AT_POSTCODES.get(ranking, ranking) if at_postcodes else ranking


def measures(score: np.ndarray, households: np.ndarray, later: np.ndarray,
             ascending: bool = False, codes=None) -> np.ndarray:
    """[top 1, 5, 10, 20 % shares of later fires, area under the capture curve]."""
    index = pd.Index(codes if codes is not None else np.arange(len(score)).astype(str))
    x, y = capture_curve(pd.Series(score, index=index), pd.Series(households, index=index),
                         pd.Series(later, index=index), ascending)
    return np.array([capture_at(x, y, p) for p in TOP] + [area_under(x, y)])


def bootstrap_measures(scores: dict, households: np.ndarray, later: np.ndarray,
                       codes: np.ndarray, draws: int = BOOTSTRAP, seed=2011) -> dict:
    """name -> array (draws, 5) of the measures on resampled areas (the same resamples for
    every ranking; NaN for a resample holding no later fire). ``scores``: name -> (score,
    ascending). ``seed``: a number, or numbers (the seed and the unit's position)."""
    rng = np.random.default_rng(seed)
    n = len(households)
    counts = rng.multinomial(n, np.full(n, 1 / n), size=draws).astype(float)
    out = {}
    for name, (score, ascending) in scores.items():
        order = score_order(np.asarray(score, float), codes, ascending)
        hh = counts[:, order] * households[order]
        fires = counts[:, order] * later[order]
        x = np.concatenate([np.zeros((draws, 1)), np.cumsum(hh, axis=1)], axis=1)
        y = np.concatenate([np.zeros((draws, 1)), np.cumsum(fires, axis=1)], axis=1)
        # a resample without a later fire (or a household) measures nothing: left out,
        # not counted as a ranking that caught none of them
        empty = (y[:, -1] <= 0) | (x[:, -1] <= 0)
        x /= np.maximum(x[:, -1:], 1e-300)
        y /= np.maximum(y[:, -1:], 1e-300)
        result = np.empty((draws, len(TOP) + 1))
        for b in range(draws):
            result[b, :len(TOP)] = [100 * np.interp(p / 100, x[b], y[b]) for p in TOP]
        result[:, -1] = np.sum((x[:, 1:] - x[:, :-1]) * (y[:, 1:] + y[:, :-1]) / 2, axis=1)
        result[empty] = np.nan
        out[name] = result
    return out


def baseline_scores(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
                    start: pd.Timestamp, deprivation: np.ndarray | None = None,
                    group: str = "borough") -> dict:
    """name -> (score per area, ascending) for the simple rules, from fires up to
    ``cut_off``."""
    past = history[(history["date"] >= start)
                   & (history["date"] < cut_off + pd.Timedelta(days=1))]
    fires = past.groupby("area_code").size().astype(float).reindex(areas.codes).fillna(0)
    hh = pd.Series(areas.households.astype(float), index=areas.codes)
    at_postcodes = AREA in areas.groups
    scores = {named(OWN, at_postcodes): ((fires / hh.where(hh > 0)).to_numpy(), False)}
    if at_postcodes:  # postcodes: their output area's rate, the same for each
        area = areas.groups[AREA]
        scores[AREA_OWN] = ((fires.groupby(area).transform("sum")
                             / hh.groupby(area).transform("sum").where(hh > 0)).to_numpy(),
                            False)
    unit = pd.Series(pd.factorize(areas.groups[group])[0], index=areas.codes) if (
        group in areas.groups) else pd.Series(0, index=areas.codes)
    scores[named(BOROUGH, at_postcodes)] = (shrunk_rates(fires, hh, unit)["shrunk_rate"]
                                            .to_numpy(), False)
    if areas.segment is not None:
        rates = shrunk_rates(fires, hh, pd.Series(areas.segment, index=areas.codes))
        scores[named(SCORE, at_postcodes)] = (rates["shrunk_rate"].to_numpy(), False)
        scores[SEGMENT] = (rates["segment_rate"].to_numpy(), False)
    if deprivation is not None:
        scores[IMD] = (np.asarray(deprivation, float), True)
    return scores


@dataclass
class Evaluation:
    """Per unit (borough, or the whole study for a time split): every ranking's measures,
    their bootstrap draws, the model's expected fires; and the settings chosen."""

    units: list
    point: dict = field(default_factory=dict)  # (unit, ranking) -> measures
    draws: dict = field(default_factory=dict)  # (unit, ranking) -> (B, 5)
    curves: dict = field(default_factory=dict)  # (unit, ranking) -> (x, y)
    expected: dict = field(default_factory=dict)  # unit -> per-area fires/hh/year
    observed: dict = field(default_factory=dict)  # unit -> later fires per area
    households: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)  # unit -> (ModelSettings, validation table)
    factors: dict = field(default_factory=dict)  # unit -> the model's (factor, its years)
    test_years: float = 0.0

    def rankings(self) -> list:
        return list(dict.fromkeys(r for _, r in self.point))

    def table(self) -> pd.DataFrame:
        """One row per unit and ranking: the measures with 95% intervals."""
        rows = []
        for (unit, ranking), values in self.point.items():
            row = {"borough": unit, "ranking": ranking}
            draws = self.draws.get((unit, ranking))
            for k, name in enumerate(MEASURES):
                row[name] = values[k]
                if draws is not None:
                    row[f"{name}_low"], row[f"{name}_high"] = interval(
                        draws[:, k], values[k], _bounds(name))
            rows.append(row)
        return pd.DataFrame(rows)

    def means(self) -> pd.DataFrame:
        """Per ranking: the mean over units of each measure, with a 95% interval (the
        mean of each bootstrap draw over units), and the units where the model is ahead."""
        rows = []
        for ranking in self.rankings():
            units = [u for u in self.units if (u, ranking) in self.point]
            row = {"ranking": ranking, "boroughs": len(units)}
            values = np.array([self.point[(u, ranking)] for u in units])
            have = all((u, ranking) in self.draws for u in units)
            if have:
                draws = _mean_over_units([self.draws[(u, ranking)] for u in units])
            for k, name in enumerate(MEASURES):
                row[name] = values[:, k].mean()
                if have:
                    row[f"{name}_low"], row[f"{name}_high"] = interval(
                        draws[:, k], row[name], _bounds(name))
            rows.append(row)
        return pd.DataFrame(rows)

    def ahead(self, ranking: str, than: str) -> pd.DataFrame:
        """Per measure: in how many units ``ranking`` is ahead of ``than``, the mean
        difference and its 95% interval (paired bootstrap draws)."""
        units = [u for u in self.units if (u, ranking) in self.point and (u, than) in
                 self.point]
        rows = []
        for k, name in enumerate(MEASURES):
            diff = np.array([self.point[(u, ranking)][k] - self.point[(u, than)][k]
                             for u in units])
            draws = _mean_over_units([self.draws[(u, ranking)][:, k]
                                      - self.draws[(u, than)][:, k] for u in units])
            low, high = interval(draws, diff.mean())
            rows.append({"measure": name, "mean_difference": diff.mean(), "low": low,
                         "high": high, "ahead_in": int((diff > 0).sum()),
                         "level_in": int((diff == 0).sum()), "boroughs": len(units)})
        return pd.DataFrame(rows)


def _mean_over_units(draws: list) -> np.ndarray:
    """Per bootstrap draw, the mean over the units that measured something in it."""
    stacked = np.array(draws, dtype=float)
    counted = np.isfinite(stacked).sum(axis=0)
    total = np.nansum(stacked, axis=0)
    return np.where(counted > 0, total / np.maximum(counted, 1), np.nan)


def interval(draws: np.ndarray, point: float, bounds: tuple = (-np.inf, np.inf)
             ) -> tuple[float, float]:
    """The bootstrap 95% interval of ``point``: the 2.5th and 97.5th percentiles of the
    draws that measured something, the draws first moved so that their median is the
    point (a resample repeats some areas and drops others, which pulls a capture share
    down in a borough of few areas: the interval around ``point`` keeps the draws' spread
    without that bias, and always holds the point), within ``bounds``."""
    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    if not len(draws) or not np.isfinite(point):
        return float("nan"), float("nan")
    moved = draws + (point - np.median(draws))
    low, high = np.percentile(moved, [2.5, 97.5])
    return float(np.clip(low, *bounds)), float(np.clip(high, *bounds))


def _bounds(measure: str) -> tuple[float, float]:
    """The range of a measure: a share of fires (%) or the area under the curve."""
    return (0.0, 1.0) if measure == "auc" else (0.0, 100.0)


def _judge(evaluation: Evaluation, unit, scores: dict, households: np.ndarray,
           later: np.ndarray, codes: np.ndarray, draws: int, seed) -> None:
    for name, (score, ascending) in scores.items():
        evaluation.point[(unit, name)] = measures(score, households, later, ascending, codes)
        x, y = capture_curve(pd.Series(score, index=codes), pd.Series(households, index=codes),
                             pd.Series(later, index=codes), ascending)
        evaluation.curves[(unit, name)] = (x, y)
    boot = bootstrap_measures(scores, households, later, codes, draws, seed)
    for name, values in boot.items():
        evaluation.draws[(unit, name)] = values
    n = len(TOP)
    evaluation.point[(unit, RANDOM)] = np.array([float(p) for p in TOP][:n] + [0.5])
    grid = np.linspace(0, 1, 101)
    evaluation.curves[(unit, RANDOM)] = (grid, grid)


def evaluate(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
             start: pd.Timestamp, end: pd.Timestamp, deprivation: np.ndarray | None = None,
             group: str | None = "borough", leave_one_out: bool = True,
             settings: ModelSettings | None = None, candidates=None,
             draws: int = BOOTSTRAP, seed: int = 2011, progress=None) -> Evaluation:
    """Fit up to ``cut_off``, test on (``cut_off``, ``end``], per unit of ``group``.

    ``leave_one_out``: each unit is scored by a model fitted on the other units only (and
    its settings chosen among ``candidates`` on them, unless ``settings`` is given);
    else one model fitted on every area scores them all (a time split). Without a group
    the whole study is one unit."""
    rate, exposure = later_rate(areas, history, cut_off, end)
    years = (end - cut_off).days / 365.25
    later_all = rate * exposure
    labels = areas.groups[group] if group and group in areas.groups else np.full(
        len(areas), "study area", dtype=object)
    units = list(pd.unique(labels))
    evaluation = Evaluation(units=units, test_years=years)
    base = baseline_scores(areas, history, cut_off, start, deprivation,
                           group if group in areas.groups else "")
    shared = None
    if not leave_one_out:
        shared = _fit(areas, history, cut_off, start, settings, candidates, group)
        evaluation.settings["all"] = shared[1:]
        scale = (shared[0].factor, shared[0].factor_period)
        all_expected = predict_at(shared[0], areas, history, cut_off, start).to_numpy()
    else:  # the features at the cut-off, read by every fold's model: built once
        at_cut_off = feature_table(areas, history, cut_off, start)
    codes_all = areas.codes.astype(str).to_numpy()
    for count, unit in enumerate(units):
        mask = labels == unit
        if progress:
            progress(count / len(units), f"{unit}: fitting on the other "
                     f"{len(units) - 1} boroughs" if leave_one_out else f"{unit}")
        if leave_one_out:
            model, chosen, table = _fit(areas.subset(~mask), history, cut_off, start,
                                        settings, candidates, group)
            evaluation.settings[unit] = (chosen, table)
            scale = (model.factor, model.factor_period)
            expected = model.predict(at_cut_off[mask])  # the tested borough's areas only
        else:
            expected = all_expected[mask]
        hh = areas.households[mask].astype(float)
        later = later_all[mask]
        scores = {MODEL: (expected, False)}
        scores.update({name: (score[mask], asc) for name, (score, asc) in base.items()})
        scores[ORACLE] = (later / np.maximum(hh, 1e-9), False)
        if later.sum() <= 0:
            continue
        _judge(evaluation, unit, scores, hh, later, codes_all[mask], draws, [seed, count])
        evaluation.expected[unit] = expected
        evaluation.factors[unit] = scale
        evaluation.observed[unit] = later
        evaluation.households[unit] = hh
    return evaluation


def _fit(areas, history, cut_off, start, settings, candidates, group):
    """The model chosen (or the project's ``settings``, validated) and scaled on the
    validation years before ``cut_off`` (``risk_model.fit_scaled``)."""
    from .risk_model import CANDIDATES

    return fit_scaled(areas, history, cut_off, start,
                      (settings,) if settings is not None else candidates or CANDIDATES,
                      group)


def capture_chart(evaluation: Evaluation, unit, path, title: str = "") -> None:
    """The capture curves of one unit (or "all": the mean over units) as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 5.5))
    axes = figure.add_subplot()
    grid = np.linspace(0, 1, 201)
    styles = ["-", "--", ":", "-.", (0, (1, 1)), (0, (5, 1)), "-", "--", ":"]
    for i, ranking in enumerate(evaluation.rankings()):
        units = evaluation.units if unit == "all" else [unit]
        ys = [np.interp(grid, *evaluation.curves[(u, ranking)]) for u in units
              if (u, ranking) in evaluation.curves]
        if not ys:
            continue
        y = np.mean(ys, axis=0)
        auc = float(np.sum((grid[1:] - grid[:-1]) * (y[1:] + y[:-1]) / 2))
        axes.plot(100 * grid, 100 * y, linestyle=styles[i % len(styles)],
                  linewidth=2.4 if ranking == MODEL else 1.3,
                  label=f"{ranking} (area under curve {auc:.3f})")
    for p in TOP:
        axes.axvline(p, color="#BBBBBB", linewidth=0.6)
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_xlabel("households, highest score first (%)")
    axes.set_ylabel("later fires captured (%)")
    axes.set_title(title, fontsize=10)
    axes.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=100)
