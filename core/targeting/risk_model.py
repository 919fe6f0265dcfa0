"""The service-wide fire risk model: expected dwelling fires per household per year.

One model over every area given (all the boroughs of a service in one fit), from the
features of ``risk_features`` at a cut-off date ``T``. It is fitted the way it will be
used: the features at earlier dates (``T - horizon``, ``T - 2 x horizon`` ..., each with
enough history) against the fires that followed them over ``horizon`` years, weighted by
households x years; then applied to the features at ``T``. Nothing after ``T`` is read.

The library is scikit-learn: ``HistGradientBoostingRegressor(loss="poisson")``
(``kind = "gradient_boosting"``) or the Poisson GLM ``PoissonRegressor`` on standardised,
log-scaled features (``kind = "poisson_glm"``). Its settings come from the project file's
``[risk_model]`` section (``ModelSettings``); ``choose_settings`` picks among candidates by
validation *inside the fit period* (fit at ``T - horizon``, validate on the fires of the
horizon before ``T``), so the test years are never used to tune; ``fit_scaled`` scales the
chosen model's expected fires by one factor, the fires seen ÷ expected in those validation
years (the model over- or under-shoots when fire rates drift: 2.5 times the fires seen on
Wandsworth unscaled, 0.91 scaled), again from fires up to ``T`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from ..errors import InputError
from .capture import area_under, capture_at, capture_curve
from .risk_features import StudyAreas, feature_table, later_rate

MIN_HISTORY_YEARS = 2
COUNTS = ("busiest_spot_10y",)  # with every "fires_..." column: counts, not rates


def threadpool_limits(n: int):
    """One OpenMP/BLAS thread: on a busy machine the boosting's threads spin waiting for
    each other (a fit ran 30x slower with two threads on a loaded two-core machine), and a
    model of a few thousand areas gains little from more."""
    from threadpoolctl import threadpool_limits as limits

    return limits(n)


class _one_thread:
    """scikit-learn's histogram binning uses joblib threads as well: one."""

    def __enter__(self):
        from joblib import parallel_config

        self._context = parallel_config(n_jobs=1)
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


@dataclass(frozen=True)
class ModelSettings:
    """``[risk_model]`` in the project file (every key optional)."""

    kind: str = "gradient_boosting"  # or "poisson_glm"
    learning_rate: float = 0.05
    max_iter: int = 200
    max_leaf_nodes: int = 7
    min_samples_leaf: int = 200
    l2_regularization: float = 1.0
    max_bins: int = 63  # bins of each feature (fewer: a faster fit, no loss on validation)
    alpha: float = 1e-3  # the GLM's ridge penalty
    horizon_years: int = 4  # each training origin predicts the fires of this many years
    origins: int = 1  # training origins stacked (T - horizon, T - 2 x horizon, ...)
    seed: int = 2011
    # "rates": leave out the fire counts (fires in the last 1-3 years, all fires, the
    # busiest spot), whose scale grows with the length of history, so a model fitted at
    # T - horizon reads the features at T on the same scale
    features: str = "all"

    @classmethod
    def from_table(cls, table: dict | None, source: str = "[risk_model]") -> ModelSettings:
        table = dict(table or {})
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise InputError(f"{source}: unknown setting {', '.join(unknown)} (known: "
                             f"{', '.join(known)})")
        settings = cls()
        for key, value in table.items():
            current = getattr(settings, key)
            if isinstance(current, str):
                ok = isinstance(value, str)
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = type(current)(value) if ok else value
            if not ok:
                raise InputError(f"{source}: {key} = {value!r} should be a "
                                 f"{type(current).__name__}")
            settings = replace(settings, **{key: value})
        if settings.kind not in ("gradient_boosting", "poisson_glm"):
            raise InputError(f"{source}: kind = '{settings.kind}' (use \"gradient_boosting\" "
                             "or \"poisson_glm\")")
        if settings.features not in ("all", "rates"):
            raise InputError(f"{source}: features = '{settings.features}' (use \"all\" or "
                             "\"rates\")")
        if settings.horizon_years < 1 or settings.origins < 1:
            raise InputError(f"{source}: horizon_years and origins must be 1 or more")
        return settings


# the candidates choose_settings validates: the gradient boosting of the defaults and the
# Poisson GLM (on the London pack's validation, fit <= 2011 -> 2012-2015 and fit <= 2015 ->
# 2016-2019, larger trees, more iterations and stacked origins gained nothing)
CANDIDATES = (ModelSettings(), ModelSettings(kind="poisson_glm"))


def training_origins(cut_off: pd.Timestamp, start: pd.Timestamp, settings: ModelSettings
                     ) -> list[pd.Timestamp]:
    """T - horizon, T - 2 x horizon ... while at least MIN_HISTORY_YEARS of history lie
    before the origin."""
    origins = []
    for k in range(1, settings.origins + 1):
        origin = cut_off - pd.DateOffset(years=k * settings.horizon_years)
        if (origin - start).days / 365.25 >= MIN_HISTORY_YEARS - 0.01:
            origins.append(pd.Timestamp(origin))
    if not origins:
        need = settings.horizon_years + MIN_HISTORY_YEARS
        raise InputError(f"the risk model needs at least {need} years of incidents before "
                         f"the cut-off {cut_off:%Y-%m-%d} "
                         f"(they start {start:%Y-%m-%d}); shorten horizon_years in "
                         "[risk_model] or use the simple score")
    return origins


@dataclass
class RiskModel:
    settings: ModelSettings
    columns: list
    estimator: object
    scale: dict = field(default_factory=dict)  # the GLM's standardisation
    origins: list = field(default_factory=list)
    training_rows: int = 0
    # the expected fires' scale: the fires seen ÷ expected in the validation years before
    # the cut-off (``fit_scaled``), and those years in words ("" where not scaled)
    factor: float = 1.0
    factor_period: str = ""

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        """Expected fires per household per year, per row of ``table``."""
        X = self._matrix(table)
        return np.clip(self.estimator.predict(X), 1e-9, None) * self.factor

    def _matrix(self, table: pd.DataFrame) -> np.ndarray:
        X = table.reindex(columns=self.columns).to_numpy(dtype=float)
        if self.settings.kind == "gradient_boosting":
            return X
        return _glm_matrix(X, self.columns, self.scale)


def _glm_matrix(X: np.ndarray, columns: list, scale: dict) -> np.ndarray:
    X = X.copy()
    for j, name in enumerate(columns):
        if name.startswith(("rate_", "shrunk_", "fires_")) or name == "households":
            X[:, j] = np.log(np.maximum(np.nan_to_num(X[:, j]), 0) + scale["eps"][j])
    X = np.where(np.isnan(X), scale["median"], X)
    X = (X - scale["mean"]) / scale["sd"]
    # within the range the model was fitted on: a borough left out (or a new cut-off) can
    # lie far beyond it on a feature, and a linear predictor extrapolated there overflowed
    # exp() (every expected rate inf, or 0)
    return np.clip(X, scale["low"], scale["high"]) if "low" in scale else X


def _training_set(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
                  start: pd.Timestamp, settings: ModelSettings):
    tables, targets, weights = [], [], []
    origins = training_origins(cut_off, start, settings)
    for origin in origins:
        horizon_end = min(cut_off, origin + pd.DateOffset(years=settings.horizon_years))
        tables.append(feature_table(areas, history, origin, start))
        rate, exposure = later_rate(areas, history, origin, pd.Timestamp(horizon_end))
        targets.append(rate)
        weights.append(exposure)
    table = pd.concat(tables, ignore_index=True)
    return table, np.concatenate(targets), np.concatenate(weights), origins


def fit_model(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
              start: pd.Timestamp, settings: ModelSettings = ModelSettings()) -> RiskModel:
    """Fit on the areas given (only fires up to ``cut_off`` are read)."""
    table, y, w, origins = _training_set(areas, history, cut_off, start, settings)
    keep = w > 0
    table, y, w = table[keep], y[keep], w[keep]
    if settings.features == "rates":
        table = table.drop(columns=[c for c in table.columns if c in COUNTS
                                    or c.startswith("fires_")])
    columns = list(table.columns)
    X = table.to_numpy(dtype=float)
    scale = {}
    if settings.kind == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingRegressor

        categorical = [c == "segment" for c in columns]
        estimator = HistGradientBoostingRegressor(
            loss="poisson", learning_rate=settings.learning_rate, max_iter=settings.max_iter,
            max_leaf_nodes=settings.max_leaf_nodes, min_samples_leaf=settings.min_samples_leaf,
            l2_regularization=settings.l2_regularization, max_bins=settings.max_bins,
            categorical_features=categorical if any(categorical) else None,
            early_stopping=False, random_state=settings.seed)
    else:
        from sklearn.linear_model import PoissonRegressor

        columns = [c for c in columns if c != "segment"]
        X = table[columns].to_numpy(dtype=float)
        eps = np.array([max(np.nanmedian(np.where(X[:, j] > 0, X[:, j], np.nan)) / 2, 1e-9)
                        if np.any(X[:, j] > 0) else 1.0 for j in range(X.shape[1])])
        scale = {"eps": eps}
        raw = _glm_matrix(X, columns, {**scale, "median": 0.0, "mean": 0.0, "sd": 1.0})
        scale["median"] = np.nanmedian(raw, axis=0)
        filled = np.where(np.isnan(raw), scale["median"], raw)
        scale["mean"] = filled.mean(axis=0)
        scale["sd"] = np.where(filled.std(axis=0) > 0, filled.std(axis=0), 1.0)
        X = (filled - scale["mean"]) / scale["sd"]
        scale["low"], scale["high"] = X.min(axis=0), X.max(axis=0)
        estimator = PoissonRegressor(alpha=settings.alpha, max_iter=1000)
    with threadpool_limits(1), _one_thread():
        estimator.fit(X, y, sample_weight=w)
    return RiskModel(settings, columns, estimator, scale, origins, int(keep.sum()))


def predict_at(model: RiskModel, areas: StudyAreas, history: pd.DataFrame,
               cut_off: pd.Timestamp, start: pd.Timestamp) -> pd.Series:
    """Expected fires per household per year after ``cut_off``, per area."""
    table = feature_table(areas, history, cut_off, start)
    return pd.Series(model.predict(table), index=areas.codes)


def choose_settings(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
                    start: pd.Timestamp, candidates=CANDIDATES, group: str | None = "borough"
                    ) -> tuple[ModelSettings, pd.DataFrame]:
    """The candidate that ranks best the fires of the last horizon before ``cut_off`` when
    fitted at ``cut_off - horizon`` (a shorter horizon when the history is too short for
    two): mean over ``group`` (or overall) of the share of those
    fires in the top 10% of households, the area under the capture curve breaking ties.
    Only fires up to ``cut_off`` are read."""
    from ..places.steps import period_label

    rows = []
    years = (cut_off - start).days / 365.25
    for settings in candidates:
        # a shorter history validates over a shorter horizon (fit and validate both fit in)
        horizon = min(settings.horizon_years,
                      max(1, int((years - MIN_HISTORY_YEARS + 0.01) // 2)))
        validate = pd.Timestamp(cut_off - pd.DateOffset(years=horizon))
        try:
            model = fit_model(areas, history, validate, start,
                              replace(settings, horizon_years=horizon))
        except InputError:
            continue
        score = predict_at(model, areas, history, validate, start)
        rate, _ = later_rate(areas, history, validate, cut_off)
        later = pd.Series(rate * areas.households, index=areas.codes)
        hh = pd.Series(areas.households, index=areas.codes)
        labels = areas.groups.get(group) if group else None
        units = pd.unique(labels) if labels is not None else [None]
        tops, aucs = [], []
        for unit in units:
            mask = np.ones(len(areas), bool) if unit is None else labels == unit
            x, y = capture_curve(score[mask], hh[mask], later[mask])
            tops.append(capture_at(x, y, 10))
            aucs.append(area_under(x, y))
        # both per year: the fires seen (``later``) and those the model expected
        expected, seen = float(np.sum(score.to_numpy() * areas.households)), float(later.sum())
        rows.append({**{f.name: getattr(settings, f.name) for f in fields(settings)},
                     "validation_top_10pct": float(np.mean(tops)),
                     "validation_auc": float(np.mean(aucs)),
                     "validation_seen_over_expected": seen / expected
                     if expected > 0 and seen > 0 else np.nan,
                     "validation_period": period_label(validate + pd.Timedelta(days=1),
                                                       cut_off)})
    if not rows:
        raise InputError("no candidate setting of the risk model could be validated: too "
                         "short a history before the cut-off")
    table = pd.DataFrame(rows)
    best = table.sort_values(["validation_top_10pct", "validation_auc"],
                             ascending=False).index[0]
    chosen = ModelSettings(**{f.name: table.loc[best, f.name] for f in fields(ModelSettings)})
    table["chosen"] = table.index == best
    return chosen, table


def fit_scaled(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
               start: pd.Timestamp, candidates=CANDIDATES, group: str | None = None
               ) -> tuple[RiskModel, ModelSettings, pd.DataFrame | None]:
    """The candidate chosen by validation before ``cut_off`` (``choose_settings``; one
    candidate: it, validated), fitted at ``cut_off``, its expected fires scaled by one
    factor: the fires seen ÷ expected in the validation years, by the same settings
    fitted before them. Only fires up to ``cut_off`` are read, so a backtest stays
    honest. Where the history is too short to validate one candidate, it is fitted
    unscaled (``factor`` 1, no ``factor_period``)."""
    try:
        chosen, table = choose_settings(areas, history, cut_off, start, candidates, group)
    except InputError:
        if len(candidates) != 1:
            raise
        chosen, table = candidates[0], None
    model = fit_model(areas, history, cut_off, start, chosen)
    if table is not None:
        row = table[table["chosen"]].iloc[0]
        factor = float(row["validation_seen_over_expected"])
        if np.isfinite(factor) and factor > 0:
            model.factor, model.factor_period = factor, str(row["validation_period"])
    return model, chosen, table


def calibration_table(expected: np.ndarray, observed: np.ndarray, households: np.ndarray,
                      bins: int = 10) -> pd.DataFrame:
    """Expected against observed fires by decile of expected fires per household (deciles
    of households, highest first)."""
    order = np.argsort(-expected, kind="stable")
    cum = np.cumsum(households[order]) / max(households.sum(), 1e-300)
    decile = np.minimum((cum * bins - 1e-12).astype(int), bins - 1)
    decile = np.maximum(decile, 0)
    frame = pd.DataFrame({"decile": decile + 1, "households": households[order],
                          "expected": expected[order] * households[order],
                          "observed": observed[order]})
    table = frame.groupby("decile").sum()
    table["observed_over_expected"] = (table["observed"] / table["expected"]).round(3)
    table["expected"] = table["expected"].round(1)
    return table.reset_index()
