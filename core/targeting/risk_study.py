"""The risk model on a saved segmentation: the areas it knows, the reasons in words, the
``target --model`` scores and the ``target --backtest --model`` evaluation.

What a saved segmentation gives the model: each classified area's households, segment,
polygon (its neighbours), variables (the census risk factors, named by their labels) and
deprivation measure; the ward of each area when ``matrices`` has run; and, from an
optional lookup file (first column the area code, then larger areas, smallest first, e.g.
``OA11CD, LSOA11CD, MSOA11CD, LAD11CD``), the LSOA, borough... The last column of the
lookup, when it holds several values (several boroughs), is what leave-one-out leaves out.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..cells import write_csv
from ..errors import InputError
from ..progress import Progress, scaled, silent
from ..segment.phrases import cut_label
from ..segment.words import counted, lower_first, short_label
from .borough_split import borough_split
from .risk_features import KINDS, StudyAreas, feature_table, touching_pairs
from .risk_model import ModelSettings, RiskModel

REASONS_SHOWN = 2
HIGH_SHARE = 0.8  # a factor is "high" in the area's top 20% of the study's areas


def read_lookup(path: Path, codes: pd.Index) -> dict:
    """name -> code of each area (in ``codes`` order), from the lookup's columns after
    the first; every area needs a row."""
    from ..data.locate import read_records

    table, unreadable, _ = read_records(Path(path))
    source = Path(path).name
    if len(unreadable):
        raise InputError(f"{source}: {len(unreadable)} lines cannot be read")
    if table.shape[1] < 2:
        raise InputError(f"{source}: a lookup needs the area code, then at least one larger "
                         "area (e.g. OA11CD, LSOA11CD, LAD11CD)")
    key = table.iloc[:, 0].astype(str).str.strip()
    if key.duplicated().any():
        raise InputError(f"{source}: area {key[key.duplicated()].iloc[0]} has two rows")
    table = table.set_axis(key.to_numpy())
    missing = ~codes.isin(table.index)
    if missing.all():
        raise InputError(f"{source}: none of the segmentation's {len(codes):,} output areas "
                         f"has a row (the lookup's first codes: {', '.join(key[:3])}; the "
                         f"segmentation's: {', '.join(codes[:3])}): is it the lookup of "
                         "another area?")
    if missing.any():
        raise InputError(f"{source}: {int(missing.sum()):,} of the segmentation's "
                         f"{len(codes):,} output areas have no row (e.g. {codes[missing][0]})")
    groups, seen = {}, []
    for column in table.columns[1:]:
        values = table.loc[codes, column].astype(str).str.strip().to_numpy()
        pattern = pd.factorize(values)[0]
        if any(np.array_equal(pattern, other) for other in seen):
            continue  # a name column beside its code: the same grouping
        seen.append(pattern)
        groups[str(column)] = values
    return groups


def classified_codes(seg) -> pd.Index:
    """The codes of the segmentation's classified areas (the study's areas, in order)."""
    return pd.Index(seg.areas["segment"].dropna().index.astype(str))


def study_from_segmentation(seg, households: pd.Series, wards: pd.DataFrame | None = None,
                            lookup: Path | dict | None = None
                            ) -> tuple[StudyAreas, np.ndarray | None, bool, dict]:
    """The classified areas as the model sees them, the deprivation measure (and whether
    lower is more deprived) and the words for each factor column. ``lookup``: its file, or
    its columns as ``read_lookup`` gives them."""
    classified = seg.areas["segment"].dropna()
    codes = classified_codes(seg)
    hh = pd.to_numeric(households, errors="coerce").reindex(codes).fillna(0).clip(lower=0)
    groups = {}
    if lookup is not None:
        groups.update(lookup if isinstance(lookup, dict) else read_lookup(lookup, codes))
    if wards is not None and "ward_code" in wards:
        ward = wards["ward_code"].reindex(codes).astype(object)
        groups["ward"] = ward.fillna("no ward").astype(str).to_numpy()
    ordered = {k: groups[k] for k in sorted(groups, key=lambda k: len(set(groups[k])),
                                            reverse=True)}
    values = seg.values.reindex(codes).apply(pd.to_numeric, errors="coerce")
    values = values.loc[:, values.notna().any()]
    params = seg.manifest.get("parameters", {})
    column = params.get("deprivation")
    deprivation = values[column].to_numpy(float) if column in values else None
    hh_column = params.get("households")
    residents = params.get("residents")
    factors = values.drop(columns=[c for c in (hh_column, residents) if c in values])
    # a census factor said by the informative end of its label ("routine occupations", not
    # "National Statistics Socio-economic Classification (NS-SEC): L13 Routine occupations")
    # and a value after a colon or an example cut as names cut them ("occupancy rating of
    # bedrooms of -1", not "occupancy rating of bedrooms: -1")
    words = {c: cut_label(short_label(str(seg.labels.get(c, c)))) for c in factors.columns}
    geometry = seg.areas.loc[classified.index, "geometry"].to_numpy()
    areas = StudyAreas(codes=codes, households=hh.to_numpy(float), groups=ordered,
                       neighbours=touching_pairs(geometry),
                       factors=factors.reset_index(drop=True),
                       segment=classified.astype(int).to_numpy(), shapes=geometry)
    return areas, deprivation, params.get("more_deprived", "higher") == "lower", words


def area_reasons(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
                 words: dict, deprivation: np.ndarray | None = None,
                 lower_is_deprived: bool = False) -> pd.Series:
    """Per area, the facts that raise its risk, in words a crew manager reads: its recent
    fires ("3 fires in this output area since 2021"), fires around it, what the past fires
    were in (flats, houses...), and up to three census factors in which the area is among
    the highest 20% of the study and which go with more fires in the study ("high:
    one-person households (41%)")."""
    n = len(areas)
    since = cut_off - pd.DateOffset(years=3)
    recent = history[(history["date"] > since)
                     & (history["date"] < cut_off + pd.Timedelta(days=1))]
    pos = areas.codes.get_indexer(recent["area_code"])
    keep = pos >= 0
    own = np.bincount(pos[keep], minlength=n)
    table = feature_table(areas, history, cut_off, history["date"].min())
    near = table["rate_near_3y"].to_numpy()
    near_high = near >= np.nanquantile(near, HIGH_SHARE)
    kinds = None
    if "kind" in recent:
        kind = recent["kind"].to_numpy()[keep]
        kinds = pd.crosstab(pos[keep], kind)
    # only the factors that go with more fires in this study (rank correlation with the
    # areas' fire rate over the history above 0.1) are named
    past_rate = pd.Series(table["rate_all"].to_numpy())
    factors = areas.factors
    related = factors.apply(lambda c: c.corr(past_rate, method="spearman"))
    factors = factors.loc[:, related.fillna(0) > 0.1]
    share = factors.rank(pct=True).to_numpy()
    deprived = None if deprivation is None else pd.Series(deprivation).rank(
        pct=True, ascending=not lower_is_deprived).to_numpy()
    texts = []
    when = f"{since + pd.Timedelta(days=1):%B %Y}"
    for i in range(n):
        parts = []
        if own[i]:
            parts.append(f"{counted(own[i], 'fires')} in this output area since {when}")
        else:
            parts.append(f"no fire in this output area since {when}")
        if near_high[i]:
            parts.append("many fires in the neighbouring areas")
        if kinds is not None and i in kinds.index:
            row = kinds.loc[i]
            row = row[[k for k in row.index if k in KINDS]]
            if len(row) and row.max() > 0:
                parts.append(f"past fires in {KINDS[row.idxmax()]}")
        if deprived is not None and deprived[i] >= HIGH_SHARE:
            parts.append("among the most deprived areas")
        order = np.argsort(-np.nan_to_num(share[i], nan=0))
        shown = 0
        for j in order:
            if shown >= REASONS_SHOWN or not share[i, j] >= HIGH_SHARE:
                break
            value = factors.iloc[i, j]
            label = words.get(factors.columns[j], factors.columns[j])
            label = lower_first(label)
            parts.append(f"high: {label} ({value:.0f}{'%' if 0 <= value <= 100 else ''})")
            shown += 1
        texts.append("; ".join(parts))
    return pd.Series(texts, index=areas.codes)


def settings_from(project: Path | None) -> ModelSettings:
    """``[risk_model]`` of a project file (defaults without one)."""
    if project is None:
        return ModelSettings()
    from ..project.project_file import read_toml

    data, path = read_toml(Path(project))
    return ModelSettings.from_table(data.get("risk_model"), f"{path.name} [risk_model]")


def model_rates(areas: StudyAreas, history: pd.DataFrame, cut_off: pd.Timestamp,
                start: pd.Timestamp, settings: ModelSettings) -> tuple[pd.Series, RiskModel]:
    """Expected fires per household per year after ``cut_off``, per area, from a model
    fitted on every area of the study (fires up to ``cut_off`` only), scaled to the fires
    seen in the validation years before ``cut_off`` (``risk_model.fit_scaled``)."""
    from .risk_model import fit_scaled, predict_at

    model = fit_scaled(areas, history, cut_off, start, (settings,))[0]
    return predict_at(model, areas, history, cut_off, start), model


def scaling_words(model: RiskModel) -> str:
    """How the model's expected fires were scaled, for the visit list's summary."""
    if not model.factor_period:
        return ("not scaled to the fires seen (too short a history before the window's end "
                "to check the model on)")
    return (f"scaled by {model.factor:.2f}: the fires seen ÷ those expected in "
            f"{model.factor_period} by the same model fitted before them")


def _read_study(segmentation: Path, lookup: Path | None):
    import pyogrio

    from ..places.steps import gpkg_path
    from ..segment.saved import load_segmentation
    from ..store.geopackage import read_gpkg_table
    from .rates import area_households

    gpkg = gpkg_path(segmentation)
    seg = load_segmentation(gpkg)
    layers = {n for n, _ in pyogrio.list_layers(gpkg)}
    wards = (read_gpkg_table(gpkg, "area_wards").set_index("area_code")
             if "area_wards" in layers else None)
    columns = read_lookup(lookup, classified_codes(seg)) if lookup is not None else {}
    areas, deprivation, lower, words = study_from_segmentation(seg, area_households(seg, gpkg),
                                                               wards, columns)
    return seg, areas, deprivation, lower, words, columns


def model_backtest_step(segmentation: Path, out_dir: Path, incidents, cut_off: str,
                        start: str | None = None, end: str | None = None,
                        lookup: Path | None = None, project: Path | None = None,
                        seed: int = 2011, replace_folder: bool = True,
                        postcode_points: bool = False, progress: Progress = silent):
    """``target --backtest --model``: the risk model and the simple rules fitted on fires
    up to the cut-off and judged on the later ones, per borough (leave-one-out, when the
    lookup's last column holds several) or over the whole study (a time split). Writes
    ``backtest.csv`` (per borough and ranking, with 95% intervals), ``backtest_means.csv``,
    ``model_vs_own_rate.csv``, ``calibration.csv``, ``model_settings.csv`` (the validation
    of each candidate setting), capture-curve charts and ``reconciliation.csv``.
    ``postcode_points``: the gazetteer's postcode points are ranked, each on its own fires
    (``risk_postcodes``; the incidents need their points), and judged in households
    shared over each area's points, beside the area's own rate shared over them.
    ``progress`` hears each fold and the writing; cancelled before the writing, nothing is
    written."""
    from ..places.incidents import window_date
    from ..places.steps import gpkg_path, period_label
    from ..store.backtest_columns import AREAS, POSTCODES, worded
    from ..store.folders import replaced_folder, staged_files
    from .backtest import about_table, cut_off_date, segmentation_words, write_about
    from .backtest_words import (
        ahead_table,
        backtest_lines,
        calibration_sentence,
        calibration_words,
        means_table,
        scaling_sentence,
        settings_words,
        tested_sentence,
        unit_words,
    )
    from .history import incident_history
    from .rates import ADDRESSES_AS_HOUSEHOLDS, rate_unit
    from .risk_backtest import MODEL, OWN, SCORE, capture_chart, evaluate, named
    from .risk_model import calibration_table

    cut = cut_off_date(cut_off)
    seg, areas, deprivation, lower, _, columns = _read_study(segmentation, lookup)
    if postcode_points:
        _households_known_at_postcodes(seg, gpkg_path(segmentation))
    group, why = borough_split(columns)
    history, outcomes, source = incident_history(seg.areas, incidents)
    first = window_date(start, "the start date") or history["date"].min()
    last = window_date(end, "the end date") or history["date"].max()
    if not first <= cut < last:
        raise InputError(f"the cut-off {cut:%Y-%m-%d} must lie between the first and last "
                         f"incident dates used ({first:%Y-%m-%d} to {last:%Y-%m-%d})")
    loo = group is not None
    if deprivation is not None and lower is False:
        deprivation = -deprivation  # rank ascending: the most deprived first
    settings = settings_from(project) if project is not None else None
    if postcode_points:
        areas, history, deprivation, settings = _at_postcodes(
            segmentation, areas, history, deprivation, settings)
    evaluation = evaluate(areas, history, cut, first, last, deprivation,
                          group if loo else None, leave_one_out=loo, settings=settings,
                          seed=seed, progress=scaled(progress, 0.1, 0.85))
    table = evaluation.table()
    means = evaluation.means()
    ahead = evaluation.ahead(MODEL, named(OWN, postcode_points))
    units = list(evaluation.observed)
    calibration = calibration_table(
        np.concatenate([evaluation.expected[u] for u in units]) * evaluation.test_years,
        np.concatenate([evaluation.observed[u] for u in units]),
        np.concatenate([evaluation.households[u] for u in units]))
    chosen = []
    for unit, (setting, validation) in evaluation.settings.items():
        frame = validation if validation is not None else pd.DataFrame(
            [{"kind": setting.kind}])
        if settings is not None:
            frame = frame.assign(note="from the project file")
        chosen.append(frame.assign(fitted_for=unit, chosen=[
            str(row.get("kind")) == setting.kind for row in frame.to_dict("records")]))
    settings_table = pd.concat(chosen, ignore_index=True)
    dates = history["date"]
    detail = pd.Series(outcomes.to_numpy(), index=outcomes.index, dtype=object)
    detail[history.index[(dates >= first) & (dates < cut + pd.Timedelta(days=1))]] = (
        "fitted on (features)")
    detail[history.index[(dates > cut) & (dates < last + pd.Timedelta(days=1))]] = "tested on"
    detail[history.index[(dates < first) | (dates >= last + pd.Timedelta(days=1))]] = (
        "outside the periods")
    detail[history.index[~history["area_code"].isin(areas.codes)]] = "area not classified"
    reconciliation = pd.DataFrame({"source": source, "row": detail.index,
                                   "status": np.where(detail.isin(["fitted on (features)",
                                                                   "tested on"]),
                                                      "used", "excluded"),
                                   "detail": detail.to_numpy()})
    how = "leave one borough out" if loo else "time split"
    own = named(OWN, postcode_points)
    test_period = period_label(cut + pd.Timedelta(days=1), last)
    gpkg = gpkg_path(segmentation)
    study = seg.name or gpkg.stem
    tested = int(sum(float(np.sum(v)) for v in evaluation.observed.values()))
    lines = backtest_lines(means, ahead, own, how, why,
                           tested_sentence(reconciliation, tested, test_period),
                           calibration_sentence(calibration, test_period,
                                                scaling_sentence(evaluation)), loo)
    progress(0.9, "writing the tables and charts")
    folder = replaced_folder(out_dir) if replace_folder else staged_files(out_dir)
    with folder as staging:
        write_csv(worded(unit_words(table, loo, study)), staging / "backtest.csv",
                  index=False)
        write_csv(means_table(means, loo), staging / "backtest_means.csv", index=False)
        write_about(staging, seg, gpkg, about_table(
            segmentation_words(seg, gpkg), how, period_label(first, cut), test_period,
            tested, named(SCORE, postcode_points), MODEL, why,
            POSTCODES if postcode_points else AREAS,
            calibration_sentence(calibration, test_period, scaling_sentence(evaluation)),
            counted_as=ADDRESSES_AS_HOUSEHOLDS if rate_unit(seg) == "address" else ""))
        write_csv(ahead_table(ahead, own, loo), staging / "model_vs_own_rate.csv",
                  index=False)
        write_csv(calibration_words(calibration, test_period), staging / "calibration.csv",
                  index=False)
        write_csv(settings_words(settings_table), staging / "model_settings.csv", index=False)
        write_csv(reconciliation, staging / "reconciliation.csv", index=False)
        tests = f"fitted on fires to {cut:%d %b %Y}, tested on {test_period}"
        capture_chart(evaluation, "all", staging / "capture_curve.png",
                      f"{study}, mean of {len(units)} boroughs (leave one borough out)\n"
                      f"{tests}" if loo else f"{study}, whole study area (time split)\n{tests}")
        if loo:
            for unit in units:
                capture_chart(evaluation, unit, staging / f"capture_curve_{file_part(unit)}.png",
                              f"{unit}: fitted on the other boroughs' fires to "
                              f"{cut:%d %b %Y}\ntested on {test_period}")
        names = sorted(p.name for p in staging.iterdir())
        # the last moment a cancel can stop it: the staged files are then thrown away
        progress(1.0, "the tables and charts written")
    return evaluation, lines, [Path(out_dir) / name for name in names]


def _households_known_at_postcodes(seg, gpkg: Path) -> None:
    """Refused, in words, where neither the segmentation nor the gazetteer knows the
    postcodes' households: the backtest's "top 10% of households" would be postcodes."""
    import pyogrio

    from .rates import households_unknown_at_postcodes, rate_unit

    if rate_unit(seg) == "address" and "households" not in (
            pyogrio.read_info(gpkg, layer="addresses")["fields"]):
        raise InputError(households_unknown_at_postcodes(None, backtest=True))


def _at_postcodes(segmentation: Path, areas: StudyAreas, history: pd.DataFrame,
                  deprivation: np.ndarray | None, settings: ModelSettings | None):
    """The study, fires, deprivation and settings at the gazetteer's postcode points."""
    import geopandas as gpd

    from ..places.steps import gpkg_path
    from .risk_postcodes import (
        AREA,
        POSTCODE_SETTINGS,
        fires_at_postcodes,
        gazetteer_points,
        postcode_study,
    )

    if not {"x", "y"} <= set(history.columns):
        raise InputError("--postcode-points with --model ranks each postcode on its own "
                         "fires: give the incidents as points (--x and --y)")
    points = gazetteer_points(gpd.read_file(gpkg_path(segmentation), layer="addresses",
                                            engine="pyogrio"))
    study = postcode_study(areas, points)
    if deprivation is not None:
        deprivation = pd.Series(deprivation, index=areas.codes).reindex(
            study.groups[AREA]).to_numpy()
    return (study, fires_at_postcodes(history, points), deprivation,
            settings or POSTCODE_SETTINGS)


def model_scores(seg, households: pd.Series, wards: pd.DataFrame | None,
                 history: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp,
                 lookup: Path | None = None, project: Path | None = None
                 ) -> tuple[pd.Series, pd.Series, str]:
    """``target --model``: per classified area, expected fires per household per year
    (the model fitted on the fires from ``first`` to ``last``, scaled: ``model_rates``),
    the reasons in words, and how the expected fires were scaled."""
    areas, deprivation, lower, words = study_from_segmentation(seg, households, wards, lookup)
    window = history[(history["date"] >= first)
                     & (history["date"] < last + pd.Timedelta(days=1))]
    rates, model = model_rates(areas, window, last, first, settings_from(project))
    reasons = area_reasons(areas, window, last, words, deprivation, lower)
    return rates, reasons, scaling_words(model)


def postcode_model_scores(seg, households: pd.Series, wards: pd.DataFrame | None,
                          history: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp,
                          points: pd.DataFrame, lookup: Path | None = None,
                          project: Path | None = None
                          ) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, str]:
    """``target --model --postcode-points``: the model fitted on the postcode points
    (``code``, ``area_code``, ``x``, ``y``[, ``households``]; ``risk_postcodes``), each
    fire at the nearest point of its area. Returns per point its expected fires per
    household per year and its own fires in words, per area the households' mean of
    its points' rates and the area's reasons, and how the expected fires were scaled
    (``model_rates``)."""
    from .risk_postcodes import AREA, POSTCODE_SETTINGS, fires_at_postcodes, postcode_study

    areas, deprivation, lower, words = study_from_segmentation(seg, households, wards, lookup)
    window = history[(history["date"] >= first)
                     & (history["date"] < last + pd.Timedelta(days=1))]
    study = postcode_study(areas, points)
    placed = fires_at_postcodes(window, points)
    settings = settings_from(project) if project is not None else POSTCODE_SETTINGS
    rates, model = model_rates(study, placed, last, first, settings)
    since = last - pd.DateOffset(years=3)
    recent = placed[placed["date"] > since].groupby("area_code").size()
    recent = recent.reindex(study.codes).fillna(0).astype(int)
    every = placed.groupby("area_code").size().reindex(study.codes).fillna(0).astype(int)
    when, begun = f"{since + pd.Timedelta(days=1):%B %Y}", f"{first:%B %Y}"
    near = nearby_fires(points, placed[placed["date"] > since]).reindex(study.codes)
    point_words = pd.Series([
        (counted(k, "fires") if k else "no fire")
        + f" at this postcode since {when}" + (f" ({a} since {begun})" if a > k else "")
        + (f"; {counted(m, 'fires')} at other postcodes within {NEAR_METRES} m since {when}"
           if m else "")
        for k, a, m in zip(recent, every, near.fillna(0).astype(int))], index=study.codes)
    area = pd.Series(study.groups[AREA])
    weight = pd.Series(study.households)
    area_rates = ((rates.to_numpy() * weight).groupby(area).sum()
                  / weight.groupby(area).sum()).reindex(areas.codes)
    reasons = area_reasons(areas, window, last, words, deprivation, lower)
    return rates, point_words, area_rates, reasons, scaling_words(model)


NEAR_METRES = 100  # the fires around a postcode that its visit list's reasons count


def nearby_fires(points: pd.DataFrame, fires: pd.DataFrame) -> pd.Series:
    """Per postcode point (by code), the ``fires`` (placed at postcodes:
    ``fires_at_postcodes``) within NEAR_METRES of it that went to other postcodes: the
    fires around it, which rank it with its own."""
    from .risk_points import fires_near

    codes = points["code"].astype(str).to_numpy()
    went = pd.Index(codes).get_indexer(fires["area_code"].astype(str))
    where = fires[["x", "y"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    counts = fires_near(points[["x", "y"]].to_numpy(float), where, went, NEAR_METRES)
    return pd.Series(counts, index=codes).groupby(level=0).max()


def file_part(text) -> str:
    """``text`` (a borough's code or name from the user's lookup) as part of a file name:
    letters, digits, dots and hyphens kept, anything else one underscore."""
    return re.sub(r"[^\w.-]+", "_", str(text)).strip("._") or "area"
