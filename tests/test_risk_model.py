"""The service-wide fire risk model and its proof, on small hand-made cases: leave-one-
borough-out never sees the tested borough's fires, the oracle is an upper bound, the
bootstrap intervals cover the point estimates; the features, the settings, the visit list
in households and the reasons in words."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely

from community_safety.core.errors import InputError
from community_safety.core.store.backtest_columns import RANKING, columns
from community_safety.core.targeting import risk_model
from community_safety.core.targeting.rates import shrunk_rates
from community_safety.core.targeting.risk_backtest import MEASURES, ORACLE, RANDOM, evaluate
from community_safety.core.targeting.risk_features import (
    StudyAreas,
    feature_table,
    property_kind,
    shrink_toward,
    touching_pairs,
)
from community_safety.core.targeting.risk_model import ModelSettings, fit_model
from community_safety.core.targeting.visit_list import TargetOptions, build_targets

START, CUT, END = pd.Timestamp("2009-01-01"), pd.Timestamp("2019-12-31"), pd.Timestamp(
    "2024-08-31")
SMALL = ModelSettings(max_iter=30, min_samples_leaf=10, max_leaf_nodes=4)


def toy_study(boroughs: int = 3, side: int = 6, seed: int = 1):
    """``boroughs`` blocks of side x side square areas (100 m) side by side; each area's
    risk rises with a census factor; Poisson fires every year 2009 to Aug 2024."""
    rng = np.random.default_rng(seed)
    squares, codes, borough, lsoa = [], [], [], []
    for b in range(boroughs):
        for i in range(side):
            for j in range(side):
                x0, y0 = (b * side + i) * 100, j * 100
                squares.append(shapely.box(x0, y0, x0 + 100, y0 + 100))
                codes.append(f"B{b}A{i}{j}")
                borough.append(f"B{b}")
                lsoa.append(f"B{b}L{i // 2}{j // 2}")
    n = len(codes)
    factor = rng.uniform(0, 60, n)
    rate = 0.002 * np.exp(factor / 30)  # fires per household per year
    households = rng.integers(80, 160, n).astype(float)
    rows = []
    for year in range(2009, 2025):
        months = 8 if year == 2024 else 12
        counts = rng.poisson(rate * households * months / 12)
        for k in np.flatnonzero(counts):
            for _ in range(counts[k]):
                day = pd.Timestamp(year, 1, 1) + pd.Timedelta(days=int(rng.integers(
                    0, 28 * months)))
                rows.append((codes[k], day, "purpose_built_flat" if k % 2 else "house"))
    history = pd.DataFrame(rows, columns=["area_code", "date", "kind"])
    areas = StudyAreas(codes=pd.Index(codes), households=households,
                       groups={"lsoa": np.array(lsoa), "borough": np.array(borough)},
                       neighbours=touching_pairs(np.array(squares)),
                       factors=pd.DataFrame({"one-person households (%)": factor}),
                       segment=(factor // 20).astype(int) + 1)
    return areas, history


@pytest.fixture(scope="module")
def toy():
    return toy_study()


@pytest.fixture(scope="module")
def evaluation(toy):
    areas, history = toy
    return evaluate(areas, history, CUT, START, END, deprivation=-areas.factors.iloc[:, 0]
                    .to_numpy(), settings=SMALL, draws=200)


def test_neighbours_are_the_touching_squares(toy):
    areas, _ = toy
    i, j = areas.neighbours
    first = areas.codes.get_loc("B0A00")
    assert sorted(areas.codes[j[i == first]]) == ["B0A01", "B0A10", "B0A11"]
    # the corner square of borough 1 touches borough 0's squares across the border
    corner = areas.codes.get_loc("B1A00")
    assert "B0A50" in set(areas.codes[j[i == corner]])


def test_features_read_no_fire_after_the_cut_off(toy):
    areas, history = toy
    later = history.assign(date=history["date"] + pd.DateOffset(years=30))
    extra = pd.concat([history, later.assign(area_code="B0A00")])
    before = feature_table(areas, history, CUT, START)
    after = feature_table(areas, extra, CUT, START)
    pd.testing.assert_frame_equal(before, after)


def test_own_fire_counts_by_hand():
    areas = StudyAreas(codes=pd.Index(["A", "B"]), households=np.array([100.0, 50.0]),
                       groups={"borough": np.array(["X", "X"])},
                       neighbours=(np.array([0, 1]), np.array([1, 0])),
                       factors=pd.DataFrame({"f": [1.0, 2.0]}))
    history = pd.DataFrame({"area_code": ["A", "A", "A", "B"],
                            "date": pd.to_datetime(["2019-06-01", "2018-06-01", "2012-01-01",
                                                    "2019-12-31"]),
                            "kind": ["house", "house", "hmo", "sheltered"]})
    table = feature_table(areas, history, CUT, START)
    assert table.loc["A", "fires_last_1y"] == 1
    assert table.loc["A", "fires_last_2y"] == 2
    assert table.loc["A", "fires_all"] == 3
    assert table.loc["B", "fires_last_1y"] == 1
    # the whole history is 11 years: 3 fires in 100 households
    assert table.loc["A", "rate_all"] == pytest.approx(3 / 100 / (4017 / 365.25))
    # B's neighbour is A; the borough rate of A leaves A out: B's fires over B's households
    assert table.loc["B", "rate_near_10y"] == pytest.approx(table.loc["A", "rate_own_10y"])
    assert table.loc["A", "rate_borough_10y"] == pytest.approx(table.loc["B",
                                                                         "rate_own_10y"])


def test_shrinkage_toward_a_prior_is_the_targeting_score_when_the_prior_is_one_segment():
    """The model's features shrink within each pool (Marshall's estimate per pool); the
    visit list's score pools the spread over its segments (``rates``): with one segment
    the two are the same estimate."""
    rng = np.random.default_rng(3)
    fires = rng.poisson(3, 40).astype(float)
    households = rng.integers(50, 200, 40).astype(float)
    segments = np.ones(40, dtype=int)
    expected = shrunk_rates(pd.Series(fires), pd.Series(households), pd.Series(segments))
    assert expected["weight"].gt(0).all()
    prior = expected["segment_rate"].to_numpy()
    assert shrink_toward(fires, households, prior, segments) == pytest.approx(
        expected["shrunk_rate"].to_numpy())


def test_property_types_as_published_in_words():
    kinds = property_kind(pd.Series([
        "House - single occupancy", "Purpose Built Flats/Maisonettes - 4 to 9 storeys",
        "Purpose Built Flats/Maisonettes - 10 or more storeys",
        "Converted Flat/Maisonette - Up to 2 storeys",
        "Licensed House in Multiple Occupation - Up to 2 storeys",
        "Self contained Sheltered Housing", "Houseboat (permanent dwelling)", None]))
    assert kinds.tolist() == ["house", "purpose_built_flat", "tall_flats", "converted_flat",
                              "hmo", "sheltered", "house", "other"]


def test_leave_one_borough_out_never_sees_the_tested_boroughs_fires(toy, monkeypatch):
    areas, history = toy
    seen = []
    real_fit = risk_model.fit_model

    def spy(study, fires, *args, **kwargs):
        seen.append(set(study.codes))
        return real_fit(study, fires, *args, **kwargs)

    monkeypatch.setattr(risk_model, "fit_model", spy)
    evaluate(areas, history, CUT, START, END, settings=SMALL, draws=20)
    boroughs = areas.groups["borough"]
    # each fold: the fit that validates the settings and scales them, then the model
    assert len(seen) == 6
    for codes, tested in zip(seen, ["B0", "B0", "B1", "B1", "B2", "B2"]):
        assert not codes & set(areas.codes[boroughs == tested])
        assert codes == set(areas.codes[boroughs != tested])
    # and the model that scores B0 is the same whatever B0's fires were
    others = areas.subset(boroughs != "B0")
    moved = history.copy()
    in_b0 = moved["area_code"].str.startswith("B0")
    moved.loc[in_b0, "date"] = moved.loc[in_b0, "date"] - pd.Timedelta(days=200)
    tripled = pd.concat([moved, moved[in_b0], moved[in_b0]])
    table = feature_table(areas, history, CUT, START)
    a = fit_model(others, history, CUT, START, SMALL).predict(table)
    b = fit_model(others, tripled, CUT, START, SMALL).predict(table)
    assert a == pytest.approx(b)


def test_choosing_settings_in_a_fold_sees_only_the_other_boroughs(toy, monkeypatch):
    areas, history = toy
    seen = []
    real = risk_model.choose_settings

    def spy(study, *args, **kwargs):
        seen.append(set(study.groups["borough"]))
        return real(study, *args, **kwargs)

    monkeypatch.setattr(risk_model, "choose_settings", spy)
    evaluation = evaluate(areas, history, CUT, START, END, candidates=(SMALL, ModelSettings(
        kind="poisson_glm")), draws=20)
    assert seen == [{"B1", "B2"}, {"B0", "B2"}, {"B0", "B1"}]
    for chosen, table in evaluation.settings.values():
        assert len(table) == 2
        assert chosen.kind in set(table["kind"])


def test_the_glm_scores_a_borough_it_was_not_fitted_on_without_overflow(toy):
    import warnings

    from community_safety.core.targeting.risk_model import predict_at

    areas, history = toy
    tested = areas.groups["borough"] == "B0"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # exp() overflowed here before
        for cut in (pd.Timestamp("2015-12-31"), CUT):
            model = fit_model(areas.subset(~tested), history, cut, START,
                              ModelSettings(kind="poisson_glm"))
            rates = predict_at(model, areas, history, cut, START)[tested]
            assert np.isfinite(rates).all() and (rates > 1e-6).all() and (rates < 1).all()
            factor = areas.factors.iloc[:, 0][tested].to_numpy()
            assert pd.Series(rates.to_numpy()).corr(pd.Series(factor), "spearman") > 0.3


def test_the_oracle_is_an_upper_bound(evaluation):
    for unit in evaluation.units:
        oracle = evaluation.point[(unit, ORACLE)]
        for ranking in evaluation.rankings():
            if (unit, ranking) in evaluation.point:
                assert np.all(evaluation.point[(unit, ranking)] <= oracle + 1e-9), ranking
    # and in every bootstrap draw (the same resampled areas for every ranking)
    for unit in evaluation.units:
        oracle = evaluation.draws[(unit, ORACLE)]
        for ranking in evaluation.rankings():
            draws = evaluation.draws.get((unit, ranking))
            if draws is not None:
                assert np.all(draws <= oracle + 1e-9)


def test_intervals_cover_the_point_estimates(evaluation):
    table = evaluation.table()
    assert len(table)
    for measure in MEASURES:
        rows = table[table["ranking"] != RANDOM]
        assert (rows[f"{measure}_low"] <= rows[measure] + 1e-9).all(), measure
        assert (rows[measure] <= rows[f"{measure}_high"] + 1e-9).all(), measure
        assert (rows[f"{measure}_low"] < rows[f"{measure}_high"]).all(), measure
    means = evaluation.means()
    for measure in MEASURES:
        rows = means[means["ranking"] != RANDOM]
        assert (rows[f"{measure}_low"] <= rows[measure] + 1e-9).all()
        assert (rows[measure] <= rows[f"{measure}_high"] + 1e-9).all()


def test_the_interval_of_a_mean_over_small_units_covers_the_mean():
    # 18 units of 4 areas, each with one later fire in one area (as when LSOAs were taken
    # for boroughs): a resample missing that area holds no later fire and measures
    # nothing. Counted as a ranking that caught none (0%), it dragged the interval of the
    # mean below the mean ("0.529 (0.369-0.515)", the oracle "3.4 (1.6-3.1)").
    areas, history = toy_study(boroughs=2, side=6, seed=3)
    before = history[history["date"] <= CUT]
    lsoa = pd.Series(areas.codes, index=areas.codes).groupby(areas.groups["lsoa"]).first()
    later = pd.DataFrame({"area_code": lsoa.to_numpy(), "date": pd.Timestamp("2022-06-01"),
                          "kind": "house"})
    evaluation = evaluate(areas, pd.concat([before, later], ignore_index=True), CUT, START,
                          END, group="lsoa", leave_one_out=False, settings=SMALL, draws=200)
    assert len(evaluation.observed) == 18
    means = evaluation.means()
    rows = means[means["ranking"] != RANDOM]
    for measure in MEASURES:
        assert (rows[f"{measure}_low"] <= rows[measure] + 1e-9).all(), measure
        assert (rows[measure] <= rows[f"{measure}_high"] + 1e-9).all(), measure
    # each unit's draws its own (not the same resampled positions in every unit): the
    # mean of 18 units is known more closely than one unit
    table = evaluation.table()
    model = table[table["ranking"] == "risk model"]
    width = (model["top_10pct_high"] - model["top_10pct_low"]).median()
    row = rows.set_index("ranking").loc["risk model"]
    assert row["top_10pct_high"] - row["top_10pct_low"] < 0.7 * width
    ahead = evaluation.ahead("risk model", "area's own past rate")
    assert (ahead["low"] <= ahead["mean_difference"] + 1e-9).all()
    assert (ahead["mean_difference"] <= ahead["high"] + 1e-9).all()


def test_the_model_finds_the_risk_factor(evaluation):
    # fires rise with the census factor: the model, which sees it, ranks well ahead of
    # random order in every borough
    for unit in evaluation.units:
        assert evaluation.point[(unit, "risk model")][-1] > 0.58
    ahead = evaluation.ahead("risk model", "area's own past rate").set_index("measure")
    assert ahead.loc["auc", "boroughs"] == 3


def test_settings_from_the_project_file(tmp_path):
    assert ModelSettings.from_table({"max_iter": 50, "kind": "poisson_glm"}) == ModelSettings(
        max_iter=50, kind="poisson_glm")
    with pytest.raises(InputError, match="unknown setting learning_rat"):
        ModelSettings.from_table({"learning_rat": 0.1})
    with pytest.raises(InputError, match="kind = 'forest'"):
        ModelSettings.from_table({"kind": "forest"})
    with pytest.raises(InputError, match="max_iter = 'many' should be a int"):
        ModelSettings.from_table({"max_iter": "many"})
    from community_safety.core.targeting.risk_study import settings_from

    project = tmp_path / "p.toml"
    project.write_text('name = "x"\n[risk_model]\nmax_iter = 80\nhorizon_years = 3\n')
    assert settings_from(project) == ModelSettings(max_iter=80, horizon_years=3)


def test_too_short_a_history_is_refused_in_words(toy):
    areas, history = toy
    with pytest.raises(InputError, match="needs at least 6 years of incidents"):
        fit_model(areas, history, pd.Timestamp("2012-12-31"), START, SMALL)


def test_postcode_points_carry_households_and_capacity_counts_them():
    # two areas of 100 households: A has 2 postcodes (50 each), B has 4 (25 each)
    addresses = pd.DataFrame({"id": ["A1", "A2", "B1", "B2", "B3", "B4"],
                              "area_code": ["A", "A", "B", "B", "B", "B"]})
    fires = pd.Series({"A": 9.0, "B": 1.0})
    households = pd.Series({"A": 100.0, "B": 100.0})
    segments = pd.Series({"A": 1, "B": 1})
    result = build_targets(addresses, fires, households, segments,
                           TargetOptions(capacity=120, postcode_points=True, years=10.0))
    listed = result.targets.sort_values("rank")
    # A's two postcodes hold 100 households, one of B's reaches 125 >= 120
    assert listed["address_id"].tolist() == ["A1", "A2", "B1"]
    assert listed["address"].tolist() == ["A1 (about 50 households)",
                                          "A2 (about 50 households)",
                                          "B1 (about 25 households)"]
    summary = result.summary.set_index("measure")["value"]
    assert summary["households on the list"] == 125
    assert summary["visits"] == 3
    # per postcode: the area's rate per household per year x its households
    rate_a = shrunk_rates(fires, households, segments).loc["A", "shrunk_rate"] / 10
    assert listed["expected_fires_per_year"].iloc[0] == pytest.approx(rate_a * 50)
    with pytest.raises(InputError, match="more than the 200 households at the eligible"):
        build_targets(addresses, fires, households, segments,
                      TargetOptions(capacity=201, postcode_points=True, years=10.0))


def test_model_rates_and_reasons_replace_the_score_and_the_words():
    addresses = pd.DataFrame({"id": ["A1", "B1"], "area_code": ["A", "B"]})
    fires = pd.Series({"A": 9.0, "B": 1.0})
    households = pd.Series({"A": 100.0, "B": 100.0})
    segments = pd.Series({"A": 1, "B": 1})
    rates = pd.Series({"A": 0.001, "B": 0.004})
    reasons = pd.Series({"A": "no fire in this output area since September 2021",
                         "B": "2 fires in this output area since September 2021; flats"})
    result = build_targets(addresses, fires, households, segments,
                           TargetOptions(capacity=1, years=10.0), model_rates=rates,
                           model_reasons=reasons)
    row = result.targets.iloc[0]
    assert row["address_id"] == "B1"
    assert row["expected_fires_per_year"] == pytest.approx(0.004)
    assert row["why"].startswith("2 fires in this output area since September 2021; flats")
    assert "shrinking" not in row["why"]


# --- on the Camden sample, through the command line --------------------------------------------

@pytest.fixture(scope="module")
def camden(tmp_path_factory):
    from dataclasses import replace

    from conftest import SAMPLE_DIR

    from community_safety.core.cli import main
    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.build import build_segmentation
    from community_safety.core.segment.saved import save_segmentation

    seg = build_segmentation(replace(load_project(SAMPLE_DIR / "camden.toml"), n_init=5))
    gpkg = save_segmentation(seg, tmp_path_factory.mktemp("seg"), plots=False)
    gpkg = gpkg if gpkg.suffix == ".gpkg" else gpkg / "segmentation.gpkg"
    assert main(["gazetteer", str(gpkg), str(SAMPLE_DIR / "postcodes.csv"), "--id",
                 "Postcode", "--x", "Eastings", "--y", "Northings"]) == 0
    fires = ["--incidents", str(SAMPLE_DIR / "lfb_dwelling_fires.csv"), "--x",
             "easting_rounded", "--y", "northing_rounded", "--date-column", "date",
             "--property-column", "property_type", "--lookup",
             str(SAMPLE_DIR / "oa_lsoa_lookup.csv")]
    return gpkg, fires, main


def test_camden_visit_list_from_the_model_in_households(camden, tmp_path, capsys):
    gpkg, fires, main = camden
    out = tmp_path / "visits"
    assert main(["target", str(gpkg), "--out", str(out), "--capacity", "500", *fires,
                 "--model", "--postcode-points", "--today", "2024-09-01"]) == 0
    capsys.readouterr()
    crews = pd.read_csv(out / "target_list.csv").sort_values("rank")
    households = crews["households"].to_numpy()
    assert households.sum() >= 500 > households[:-1].sum()  # capacity counts households
    assert crews["address"].str.fullmatch(r".+ \(about \d+ households?\)").all()
    assert crews["why"].str.contains(r"fires? in this output area since \w+ 2021").all()
    assert not crews["why"].str.contains("shrinking").any()
    # a census factor by the informative end of its label, not the whole census heading
    assert crews["why"].str.contains("high: ").any()
    assert not crews["why"].str.contains(r"high: [^;(]*: ").any()
    # the capacity counts households: ranked by expected fires per household
    assert (crews["expected_fires_per_year"] / crews["households"]).is_monotonic_decreasing
    # each postcode ranked on its own (the fires have points): the postcodes at the top of
    # the list had fires of their own, and the list picks postcodes out of their areas
    # (ranking areas listed every postcode of an area before the next area's)
    own = crews["why"].str.extract(r"^(\d+|no) fires? at this postcode since \w+ 2021"
                                   r"(?: \((\d+) since \w+ 20\d\d\))?")
    assert own[0].notna().all()
    # (per household, 68% of them had one since 2021 on the sample: smaller postcodes with
    # an older fire come in among the large ones with a recent one)
    assert (own[0] != "no").mean() >= 0.6
    assert (own[0].str.isdigit() | own[1].notna()).all()  # every one had fires of its own
    # the fires around each postcode (which rank it with its own) are said, and true: of
    # the fires within 100 m in the last 3 years of the data, those that are not its own
    near = crews["why"].str.extract(
        r"; (\d+) fires? at other postcodes within 100 m since \w+ 2021")[0]
    assert near.notna().sum() >= 5
    from conftest import SAMPLE_DIR

    points = pd.read_csv(SAMPLE_DIR / "postcodes.csv")
    points.index = points["Postcode"].str.split().str.join(" ")  # "N1  0FF" is "N1 0FF"
    fired = pd.read_csv(SAMPLE_DIR / "lfb_dwelling_fires.csv")
    when = pd.to_datetime(fired["date"])
    fired = fired[(when > when.max() - pd.DateOffset(years=3)) & (when <= "2024-09-01")]
    for address, said, mine in zip(crews["address"], near, own[0]):
        x, y = points.loc[address.split(" (")[0], ["Eastings", "Northings"]]
        within = int((np.hypot(fired["easting_rounded"] - x, fired["northing_rounded"] - y)
                      <= 100).sum())
        mine = 0 if mine == "no" else int(mine)
        said = 0 if pd.isna(said) else int(said)
        assert within - mine <= said <= within, (address, said, within, mine)
    import geopandas as gpd

    held = gpd.read_file(gpkg, layer="addresses", engine="pyogrio").groupby(
        "area_code").size()
    listed = crews.groupby("area_code").size()
    assert (listed < held.reindex(listed.index)).mean() > 0.5
    summary = pd.read_csv(out / "target_summary.csv").set_index("measure")["value"]
    assert summary["score"] == "risk model"
    assert "postcode points, each ranked on its own fires" in pd.read_csv(
        out / "target_summary.csv").set_index(
        "measure").loc["score", "note"]
    assert int(summary["households on the list"]) == round(households.sum())
    # the crews' Columns sheet says each postcode is ranked on its own, not by its area
    import openpyxl

    sheet = openpyxl.load_workbook(out / "target_list.xlsx")["Columns"]
    meanings = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "for the postcode itself" in meanings and "for its output area ×" not in meanings


def test_camden_backtest_of_the_model_is_a_time_split_with_intervals(camden, tmp_path,
                                                                    capsys):
    gpkg, fires, main = camden
    out = tmp_path / "backtest"
    assert main(["target", str(gpkg), "--out", str(out), "--backtest", "--model",
                 "--cut-off", "2019-12-31", *fires]) == 0
    printed = capsys.readouterr().out
    assert "time split" in printed
    means = pd.read_csv(out / "backtest_means.csv").set_index(RANKING)
    oracle = means.loc["oracle (the later fires themselves)"]
    top10, low, high = columns("top_10pct")
    for ranking, row in means.iterrows():
        assert row[top10] <= oracle[top10] + 1e-9, ranking
        if ranking != "random order (expected)":
            assert row[low] <= row[top10] <= row[high]
    calibration = pd.read_csv(out / "calibration.csv")
    assert calibration["Fires seen, Jan 2020 – Aug 2024"].sum() == pd.read_csv(
        out / "reconciliation.csv")["detail"].eq("tested on").sum()
    assert {"capture_curve.png", "model_settings.csv"} <= {p.name for p in out.iterdir()}


def test_the_written_tables_and_the_log_say_words(camden, tmp_path, capsys):
    from conftest import SAMPLE_DIR

    gpkg, fires, main = camden
    lookup = pd.read_csv(SAMPLE_DIR / "oa_lsoa_lookup.csv")[["oa_cd", "lsoa_cd"]]
    lookup.to_csv(tmp_path / "oa_lsoa.csv", index=False)
    project = tmp_path / "model.toml"
    project.write_text('[risk_model]\nkind = "gradient_boosting"\nmax_iter = 30\n')
    out = tmp_path / "backtest"
    assert main(["target", str(gpkg), "--out", str(out), "--backtest", "--model",
                 "--cut-off", "2019-12-31", "--lookup", str(tmp_path / "oa_lsoa.csv"),
                 "--project", str(project), *fires[:-2]]) == 0
    printed = capsys.readouterr().out
    # the LSOA column is no borough: one capture chart, a time split, and why
    assert "time split: the lookup's last column, lsoa_cd, holds small-area codes" in printed
    assert not [p for p in out.iterdir() if p.name.startswith("capture_curve_")]
    assert re.search(r"^Tested on [\d,]+ fires of Jan 2020 – ", printed, re.M), printed
    verdict = re.search(r"^The model put \d+\.\d% of the later fires in the top 10% of "
                        r"households, against \d+\.\d% for the area's own past rate: "
                        r"\d+\.\d points (ahead|behind|level) \(95% interval ", printed, re.M)
    assert verdict, printed
    said = re.search(r"^Calibration: the model expected (\d+\.\d+) times the fires seen "
                     r"\(([\d,]+) expected in Jan 2020 – Aug 2024, ([\d,]+) seen\).*$",
                     printed, re.M)
    assert said, printed
    times, expected, seen = (float(g.replace(",", "")) for g in said.groups())
    assert abs(times - expected / seen) < 0.06
    # and in the folder's about table, for the report
    about = pd.read_csv(out / "backtest_about.csv").iloc[0]
    assert about["Calibration"] == said.group(0)
    assert about["What the rankings rank"] == "output areas"
    assert "top_" not in printed and "auc" not in printed
    for csv in out.glob("*.csv"):
        if csv.name == "reconciliation.csv":
            continue
        text = csv.read_text(encoding="utf-8")
        header = text.splitlines()[0]
        assert "top_" not in header and "_low" not in header and "boroughs" not in header, \
            (csv.name, header)
        assert not re.search(r"\b[0-9a-f]{64}\b", text), csv.name  # no segmentation hash
        assert not re.search(r"\d\.\d{4,}", text), (csv.name, text[:400])  # rounded
    about = pd.read_csv(out / "backtest_about.csv").iloc[0]
    assert about["How it was tested"] == "time split"
    assert "segmentation.gpkg" in about["Segmentation"]
    calibration = pd.read_csv(out / "calibration.csv")
    assert "Fires seen, Jan 2020 – Aug 2024" in calibration.columns
    table = pd.read_csv(out / "backtest.csv")
    assert table["Area tested"].str.endswith("(whole study area)").all()


def test_camden_backtest_at_postcode_points_beside_the_areas_rate(camden, tmp_path, capsys):
    gpkg, fires, main = camden
    out = tmp_path / "backtest_postcodes"
    assert main(["target", str(gpkg), "--out", str(out), "--backtest", "--model",
                 "--postcode-points", "--cut-off", "2019-12-31", *fires]) == 0
    printed = capsys.readouterr().out
    assert "The risk model minus the postcode's own past rate:" in printed
    means = pd.read_csv(out / "backtest_means.csv").set_index(RANKING)
    top10 = columns("top_10pct")[0]
    own, area = "postcode's own past rate", "output area's own past rate, shared over its postcodes"
    assert {"risk model", own, area} <= set(means.index)
    # each ranking named for what it ranks: the postcode's rates, not the area's (but the
    # area's own rate, which is the area's, shared), in the tables, the log and the charts'
    # legends (drawn from the same names)
    assert {"postcode's own rate shrunk to the borough's",
            "segment + postcode score (each postcode's rate shrunk toward its segment's)"
            } <= set(means.index)
    table = pd.read_csv(out / "backtest.csv")
    for ranking in set(means.index) | set(table[RANKING]):
        assert "area" not in ranking or ranking == area, ranking
    shown = [line for line in printed.splitlines() if line.startswith("  ")
             and ": " in line and not line.startswith("  top ")
             and not line.startswith("  area under the curve")]
    assert shown and all("area" not in line.split(": ")[0] or area in line for line in shown)
    about = pd.read_csv(out / "backtest_about.csv").iloc[0]
    assert about["Visit list's ranking"] in means.index  # the report quotes the list's score
    oracle = means.loc["oracle (the later fires themselves)"]
    for ranking, row in means.iterrows():
        assert row[top10] <= oracle[top10] + 1e-9, ranking
    # the later fires counted at postcodes are the fires tested on, every one
    calibration = pd.read_csv(out / "calibration.csv")
    assert calibration["Fires seen, Jan 2020 – Aug 2024"].sum() == pd.read_csv(
        out / "reconciliation.csv")["detail"].eq("tested on").sum()
    # Camden's fires come back to the same postcodes: ranking them beats its areas' rate
    assert means.loc["risk model", top10] > means.loc[area, top10] + 10


def test_processing_scores_with_the_model_in_households(camden, layers, provider, tmp_path):
    import processing
    from conftest import SAMPLE_DIR

    gpkg, _, _ = camden
    out = tmp_path / "q"
    result = processing.run("community_safety:targetvisits", {
        "SEGMENTATION": str(gpkg), "CAPACITY": 300, "INCIDENTS": layers["fires"],
        "DATE": "date", "PROPERTY": "property_type", "MODEL": True, "POSTCODE_POINTS": True,
        "LOOKUP": str(SAMPLE_DIR / "oa_lsoa_lookup.csv"), "TODAY": "2024-09-01",
        "OUTPUT_FOLDER": str(out)})
    crews = pd.read_csv(result["TARGET_LIST"]).sort_values("rank")
    assert crews["households"].sum() >= 300 > crews["households"].iloc[:-1].sum()
    assert crews["why"].str.contains("in this output area since").all()
    assert crews["address"].str.fullmatch(r".+ \(about \d+ households?\)").all()


def processing_log():
    """A Processing feedback keeping the lines an algorithm logs (``.lines``)."""
    from qgis.core import QgsProcessingFeedback

    class Log(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.lines = []

        def pushInfo(self, info):  # noqa: N802 (QGIS's name)
            self.lines.append(info)

    return Log()


def processing_backtest(gpkg, fires, tmp_path, settings: str = "", **parameters):
    """*Prove the risk model on past fires* on the Camden sample with a small model (so the
    test stays quick): its result, output folder and log."""
    import processing
    from conftest import SAMPLE_DIR

    project = tmp_path / "model.toml"
    project.write_text('[risk_model]\nkind = "gradient_boosting"\nmax_iter = 30\n' + settings)
    out = tmp_path / "q"
    log = processing_log()
    result = processing.run("community_safety:modelbacktest", {
        "SEGMENTATION": str(gpkg), "INCIDENTS": fires, "DATE": "date",
        "PROPERTY": "property_type", "CUT_OFF": "2019-12-31",
        "LOOKUP": str(SAMPLE_DIR / "oa_lsoa_lookup.csv"), "PROJECT": str(project),
        "OUTPUT_FOLDER": str(out), **parameters}, feedback=log)
    return result, out, log


def test_processing_backtest_of_the_model_loads_its_tables_and_logs_the_means(
        camden, layers, provider, tmp_path):
    from qgis.core import QgsVectorLayer

    result, out, log = processing_backtest(camden[0], layers["fires"], tmp_path)
    assert any("time split" in line for line in log.lines)  # one borough: a time split
    means = pd.read_csv(out / "backtest_means.csv").set_index(RANKING)
    model = means.loc["risk model"]
    top1, top10 = columns("top_1pct")[0], columns("top_10pct")[0]
    assert any(line.startswith(f"  risk model: {model[top1]:.1f} (")
               for line in log.lines), log.lines
    assert any(line.startswith("The model put ") and " points " in line
               for line in log.lines), log.lines  # the verdict in a sentence
    oracle = means.loc["oracle (the later fires themselves)"]
    assert (means[top10] <= oracle[top10] + 1e-9).all()
    for output, csv in (("MEANS", "backtest_means.csv"), ("TABLE", "backtest.csv")):
        table = QgsVectorLayer(result[output], output, "ogr")
        assert table.isValid(), result[output]
        assert table.featureCount() == len(pd.read_csv(out / csv))
        assert table.fields().field(top10).isNumeric()  # numbers, not text
    reconciliation = pd.read_csv(out / "reconciliation.csv")
    assert len(reconciliation) == layers["fires"].featureCount()  # every fire accounted for
    settings = pd.read_csv(out / "model_settings.csv")
    assert settings["Note"].eq("from the project file").all()
    assert (out / "capture_curve.png").stat().st_size > 0
    assert result["CHART"] == str(out / "capture_curve.png")


def test_processing_backtest_ranks_postcode_points(camden, layers, provider, tmp_path):
    from qgis.core import QgsVectorLayer

    result, out, log = processing_backtest(camden[0], layers["fires"], tmp_path,
                                           'features = "rates"\n', POSTCODE_POINTS=True)
    own, area = "postcode's own past rate", "output area's own past rate, shared over its postcodes"
    assert any(line.startswith(f"The risk model minus the {own}:") for line in log.lines)
    for output in ("MEANS", "TABLE"):  # the tables loaded name the postcodes' rules
        layer = QgsVectorLayer(result[output], output, "ogr")
        assert layer.isValid(), result[output]
        rankings = {feature[RANKING] for feature in layer.getFeatures()}
        assert {"risk model", own, area, "postcode's own rate shrunk to the borough's"} <= \
            rankings, rankings
        assert all("area" not in r or r == area for r in rankings), rankings
    means = pd.read_csv(out / "backtest_means.csv").set_index(RANKING)
    top10 = columns("top_10pct")[0]
    assert means.loc["risk model", top10] > means.loc[area, top10] + 10


def test_processing_backtest_leaves_each_borough_out_with_a_lookup_of_several(
        camden, layers, provider, tmp_path):
    import processing
    from conftest import SAMPLE_DIR

    gpkg, _, _ = camden
    lookup = pd.read_csv(SAMPLE_DIR / "oa_lsoa_lookup.csv")  # Camden cut in two "boroughs"
    north = lookup["msoa_nm"].str[-3:].astype(int) <= 14
    lookup["lad_nm"] = north.map({True: "North Camden", False: "South Camden"})
    lookup["lad_cd"] = lookup["lad_nm"]
    lookup.to_csv(tmp_path / "two.csv", index=False)
    project = tmp_path / "model.toml"
    project.write_text('[risk_model]\nkind = "gradient_boosting"\nmax_iter = 30\n')
    out = tmp_path / "q"
    processing.run("community_safety:modelbacktest", {
        "SEGMENTATION": str(gpkg), "INCIDENTS": layers["fires"], "DATE": "date",
        "CUT_OFF": "2019-12-31", "LOOKUP": str(tmp_path / "two.csv"),
        "PROJECT": str(project), "OUTPUT_FOLDER": str(out)})
    table = pd.read_csv(out / "backtest.csv")
    assert set(table["Area tested"]) == {"North Camden", "South Camden"}
    ahead = pd.read_csv(out / "model_vs_own_rate.csv")
    assert (ahead["Boroughs averaged"] == 2).all()
    names = {p.name for p in out.iterdir()}
    assert {"capture_curve_North_Camden.png", "capture_curve_South_Camden.png"} <= names


@pytest.mark.parametrize("at", [15, 86])
def test_a_cancelled_processing_backtest_writes_nothing(camden, layers, provider, tmp_path,
                                                        at):
    """Cancel pressed while the model is fitted (15%) or while its files are written (86%):
    the run stops and nothing is left (it wrote all eight, then said it had failed)."""
    from conftest import SAMPLE_DIR
    from qgis.core import QgsProcessingContext
    from test_processing import CancelAt, processing_error

    gpkg, _, _ = camden
    out = tmp_path / "q"
    project = tmp_path / "model.toml"
    project.write_text('[risk_model]\nkind = "gradient_boosting"\nmax_iter = 30\n')
    message = processing_error("community_safety:modelbacktest", {
        "SEGMENTATION": str(gpkg), "INCIDENTS": layers["fires"], "DATE": "date",
        "CUT_OFF": "2019-12-31", "LOOKUP": str(SAMPLE_DIR / "oa_lsoa_lookup.csv"),
        "PROJECT": str(project), "OUTPUT_FOLDER": str(out)},
        feedback=CancelAt(at), context=QgsProcessingContext())
    assert "Cancelled: nothing was written" in message
    assert not out.exists() or not list(out.iterdir())


def test_processing_backtest_refuses_a_cut_off_after_the_last_fire(camden, layers, provider,
                                                                    tmp_path):
    from test_processing import processing_error

    gpkg, _, _ = camden
    out = tmp_path / "q"
    message = processing_error("community_safety:modelbacktest", {
        "SEGMENTATION": str(gpkg), "INCIDENTS": layers["fires"], "DATE": "date",
        "CUT_OFF": "2030-12-31", "OUTPUT_FOLDER": str(out)})
    assert "the cut-off 2030-12-31 must lie between the first and last incident dates" in \
        message
    assert not out.exists() or not any(out.glob("*.csv"))  # nothing written


def test_reasons_in_words_a_crew_manager_reads(toy):
    from community_safety.core.targeting.risk_study import area_reasons

    areas, history = toy
    reasons = area_reasons(areas, history, CUT, {"one-person households (%)":
                                                 "One-person households"})
    since = history[(history["date"] > CUT - pd.DateOffset(years=3))
                    & (history["date"] <= CUT)]
    busiest = since["area_code"].value_counts()
    code, count = busiest.index[0], busiest.iloc[0]
    assert reasons[code].startswith(f"{count} fires in this output area since January 2017")
    quiet = areas.codes[~areas.codes.isin(since["area_code"])]
    for code in quiet:
        assert reasons[code].startswith("no fire in this output area since January 2017")
    # the factor goes with more fires here: named where the area is in the top fifth
    factor = areas.factors.iloc[:, 0]
    top = areas.codes[factor.rank(pct=True).to_numpy() >= 0.8]
    for code in top:
        value = factor[areas.codes.get_loc(code)]
        assert f"high: one-person households ({value:.0f}%)" in reasons[code]
    assert not any("high:" in reasons[c] for c in areas.codes.difference(top))
    assert not reasons.str.contains("segment|shrink|rate_", regex=True).any()


def test_the_models_expected_fires_are_scaled_on_the_years_before_the_cut_off_only(toy):
    """One factor: the fires seen ÷ expected in the validation years before the cut-off,
    by the settings fitted before them; the fires after the cut-off change nothing."""
    from community_safety.core.targeting.risk_features import later_rate
    from community_safety.core.targeting.risk_model import fit_scaled, predict_at

    areas, history = toy
    model, chosen, table = fit_scaled(areas, history, CUT, START, (SMALL,))
    validate = pd.Timestamp("2015-12-31")  # the cut-off less the 4-year horizon
    before = fit_model(areas, history, validate, START, SMALL)
    expected = (predict_at(before, areas, history, validate, START) * areas.households).sum()
    rate, exposure = later_rate(areas, history, validate, CUT)
    seen = (rate * exposure).sum() / 4.0  # a year
    assert model.factor == pytest.approx(seen / expected, rel=1e-3)
    assert model.factor_period == "2016–2019" and bool(table["chosen"].iloc[0])
    unscaled = fit_model(areas, history, CUT, START, SMALL)
    table_at_cut = feature_table(areas, history, CUT, START)
    assert model.predict(table_at_cut) == pytest.approx(
        unscaled.predict(table_at_cut) * model.factor)
    later = history[history["date"] > CUT]
    more = pd.concat([history, later, later])  # three times the later fires
    assert fit_scaled(areas, more, CUT, START, (SMALL,))[0].factor == pytest.approx(
        model.factor)
