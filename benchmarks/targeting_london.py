"""The risk model against the simple rules on 16 London boroughs, borough by borough.

    .venv/bin/python benchmarks/targeting_london.py [--data ../shared/data/london]
        [--cut-off 2019-12-31] [--end 2024-08-31] [--time-split] [--postcodes]
        [--boroughs N] [--out out/london]

Reads the London open data pack (SOURCES.md beside it): 2011 output areas with their LSOA
and borough, the 2013 wards (each area's ward: the ward holding its representative
point), Census 2021 tables (the 2011 areas whose code is not in the 2021 census have no
households or risk factors: they and their fires are left out, and counted), IMD 2019
ranks by LSOA, and LFB dwelling fires 2009-2024 (each fire's 50 m point in the area
holding it, else the nearest area within 150 m, else left out, and counted). Segments:
k-means (k = 10, the engine's own) on the standardised risk factors of every area.

Then, by default, **leave-one-borough-out**: for each borough the risk model is fitted,
and its settings chosen by validation inside the fit period (fit <= 2015, validate on
2016-2019), on the other 15 boroughs only; it scores the borough from its fires up to the
cut-off; all rankings are judged on the borough's fires after it. ``--time-split`` fits
one model on every borough instead (the time split alone). Prints the per-borough table,
the means with bootstrap 95% intervals, the model against the own past rate, the
calibration table and whether the issue's goals are met; writes the tables and one
capture-curve chart per borough and overall into ``--out``.

``--postcodes`` ranks Code-Point Open's postcode points instead of the output areas
(``core/targeting/risk_postcodes.py``): each holds an equal share of its area's
households, each fire goes to the nearest postcode of its area, and the model (settings
``POSTCODE_SETTINGS``) is judged against the postcode's own past rate and against the
output area's own past rate shared over its postcodes, in the same households.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from community_safety.core.targeting.risk_backtest import (
    AREA_OWN,
    MODEL,
    OWN,
    capture_chart,
    evaluate,
    named,
)
from community_safety.core.targeting.risk_features import (
    StudyAreas,
    property_kind,
    touching_pairs,
)
from community_safety.core.targeting.risk_model import ModelSettings, calibration_table
from community_safety.core.targeting.risk_postcodes import (
    AREA,
    POSTCODE_SETTINGS,
    fires_at_postcodes,
    postcode_study,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "london"

# census risk factors: name in words -> (table, numerator cells, denominator cell)
FACTORS = {
    "residents in communal establishments (%)": ("ts001", ["ts0010003"], ["ts0010001"]),
    "one-person households (%)": ("ts017", ["ts0170003"], ["ts0170001", "-ts0170002"]),
    "widowed residents (%)": ("ts002", ["ts0020016"], ["ts0020001"]),
    "social renting (%)": ("ts054", ["ts0540007"], ["ts0540001"]),
    "private renting (%)": ("ts054", ["ts0540010"], ["ts0540001"]),
    "purpose-built flats (%)": ("ts044", ["ts0440005"], ["ts0440001"]),
    "converted flats and bedsits (%)": ("ts044", ["ts0440006", "ts0440007"], ["ts0440001"]),
    "homes over shops or offices (%)": ("ts044", ["ts0440008"], ["ts0440001"]),
    "overcrowded homes (%)": ("ts052", ["ts0520005", "ts0520006"], ["ts0520001"]),
    "bad or very bad health (%)": ("ts037", ["ts0370005", "ts0370006"], ["ts0370001"]),
    "disabled, limited a lot (%)": ("ts038", ["ts0380003"], ["ts0380001"]),
    "households deprived in 3+ dimensions (%)": ("ts011", ["ts0110005", "ts0110006"],
                                                 ["ts0110001"]),
    "households without a car (%)": ("ts045", ["ts0450002"], ["ts0450001"]),
    "homes without central heating (%)": ("ts046", ["ts0460002"], ["ts0460001"]),
    "residents with little or no English (%)": ("ts029", ["ts0290006", "ts0290007"],
                                                ["ts0290001"]),
}


def _cells(table: pd.DataFrame, cells: list) -> pd.Series:
    total = 0
    for cell in cells:
        sign = -1 if cell.startswith("-") else 1
        total = total + sign * table[cell.lstrip("-")]
    return total


def check_pack(data: Path, option: str = "--data") -> None:
    """Stop in one line when the London open data pack is not at ``data``."""
    if not (Path(data) / "boundaries" / "output_areas_2011.gpkg").exists():
        raise SystemExit(f"{data}: the London open data pack is not there (README: 'The London "
                         f"open data pack'); give {option} FOLDER")


def load_pack(data: Path, log=print):
    import geopandas as gpd

    check_pack(data)

    oas = gpd.read_file(data / "boundaries" / "output_areas_2011.gpkg",
                        layer="output_areas_2011", engine="pyogrio")
    wards = gpd.read_file(data / "boundaries" / "wards.gpkg", layer="wards_2013",
                          engine="pyogrio")
    census = data / "census2021_oa"
    hh = pd.read_csv(census / "ts041.csv", index_col="OA")["ts0410001"]
    factors = {}
    tables = {}
    for name, (table, top, bottom) in FACTORS.items():
        if table not in tables:
            tables[table] = pd.read_csv(census / f"{table}.csv", index_col="OA")
        t = tables[table]
        factors[name] = 100 * _cells(t, top) / _cells(t, bottom).where(_cells(t, bottom) > 0)
    density = pd.read_csv(census / "ts006.csv", index_col="OA")["ts0060001"]
    factors["people per square km"] = density
    factors = pd.DataFrame(factors)
    imd = pd.read_csv(data / "lookups" / "imd2019_rank_lsoa11.csv").set_index(
        "LSOA11CD")["IMD19"]

    keep = oas["OA11CD"].isin(hh.index[hh > 0]).to_numpy()
    log(f"areas: {len(oas):,} 2011 output areas; {int((~keep).sum()):,} without a 2021 "
        "census row (new codes in 2021): left out with their fires")
    points = oas.geometry.representative_point()
    ward_of = gpd.sjoin(gpd.GeoDataFrame(geometry=points, crs=oas.crs),
                        wards[["WD13CD", "geometry"]], how="left", predicate="within")
    ward_of = ward_of[~ward_of.index.duplicated()]["WD13CD"].reindex(oas.index)
    ward_of = ward_of.fillna(oas["LSOA11CD"])  # none here; an area off every ward keeps its LSOA

    fires = pd.read_csv(data / "lfb_dwelling_fires_2009_2024.csv")
    located = _locate(fires["easting_rounded"], fires["northing_rounded"], oas)
    fire_area = located.to_numpy()
    codes_kept = set(oas.loc[keep, "OA11CD"])
    in_kept = pd.Series(fire_area).isin(codes_kept).to_numpy()
    log(f"fires: {len(fires):,}; {int(pd.isna(fire_area).sum()):,} more than 150 m from "
        f"every area; {int((~in_kept & ~pd.isna(fire_area)).sum()):,} in areas without a "
        f"2021 census row; {int(in_kept.sum()):,} used")
    history = pd.DataFrame({"area_code": fire_area[in_kept],
                            "date": pd.to_datetime(fires["date"]).to_numpy()[in_kept],
                            "kind": property_kind(fires["property_type"]).to_numpy()[in_kept],
                            "x": fires["easting_rounded"].to_numpy()[in_kept],
                            "y": fires["northing_rounded"].to_numpy()[in_kept]})

    sub = oas[keep].reset_index(drop=True)
    codes = pd.Index(sub["OA11CD"])
    areas = StudyAreas(
        codes=codes, households=hh.reindex(codes).to_numpy(dtype=float),
        groups={"lsoa": sub["LSOA11CD"].to_numpy(),
                "ward": ward_of[keep].to_numpy(),
                "borough": sub["LAD11CD"].to_numpy()},
        neighbours=touching_pairs(sub.geometry.to_numpy()),
        factors=factors.reindex(codes).reset_index(drop=True).assign(
            **{"IMD rank (1 = most deprived)": imd.reindex(sub["LSOA11CD"]).to_numpy()}),
        shapes=sub.geometry.to_numpy())
    areas.segment = _segments(areas.factors)
    names = dict(zip(sub["LAD11CD"], sub["LAD11NM"]))
    deprivation = areas.factors["IMD rank (1 = most deprived)"].to_numpy()
    return areas, history, names, deprivation


def _locate(x, y, oas) -> pd.Series:
    """The output area holding each point (x, y), else the nearest within 150 m (else
    missing)."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=oas.crs)
    inside = gpd.sjoin(pts, oas[["OA11CD", "geometry"]], how="left", predicate="within")
    inside = inside.sort_values("OA11CD")
    inside = inside[~inside.index.duplicated()]["OA11CD"].reindex(pts.index)
    missing = inside.isna().to_numpy()
    near = gpd.sjoin_nearest(pts[missing], oas[["OA11CD", "geometry"]], how="left",
                             max_distance=150)
    near = near[~near.index.duplicated()]["OA11CD"]
    inside[near.index] = near.to_numpy()
    return inside


def postcode_points(data: Path, areas: StudyAreas, log=print) -> pd.DataFrame:
    """Code-Point Open's postcodes as points of the study's output areas (the area holding
    the point, else the nearest within 150 m); an area without a postcode point gets one at
    its representative point, so every household of the study is in the ranking."""
    import geopandas as gpd

    oas = gpd.read_file(data / "boundaries" / "output_areas_2011.gpkg",
                        layer="output_areas_2011", engine="pyogrio")
    oas = oas[oas["OA11CD"].isin(areas.codes)].reset_index(drop=True)
    codepoint = pd.read_csv(data / "codepoint_open_2014_postcodes.csv")
    inside = _locate(codepoint["Eastings"], codepoint["Northings"], oas)
    points = pd.DataFrame({"code": codepoint["Postcode"].str.replace(r"\s+", " ", regex=True),
                           "area_code": inside.to_numpy(), "x": codepoint["Eastings"],
                           "y": codepoint["Northings"]}).dropna(subset=["area_code"])
    bare = oas[~oas["OA11CD"].isin(set(points["area_code"]))]
    spot = bare.geometry.representative_point()
    points = pd.concat([points, pd.DataFrame({
        "code": "no postcode point in " + bare["OA11CD"], "area_code": bare["OA11CD"],
        "x": spot.x, "y": spot.y})], ignore_index=True)
    log(f"postcodes: {len(codepoint):,} in the pack, {len(points) - len(bare):,} in the "
        f"study's areas; {len(bare)} areas without a postcode point ranked as one point")
    return points


def _segments(factors: pd.DataFrame) -> np.ndarray:
    from community_safety.core.segment.kmeans import fit_kmeans

    X = factors.copy()
    X["people per square km"] = np.log1p(X["people per square km"])
    X = X.fillna(X.median())
    X = ((X - X.mean()) / X.std()).clip(-3, 3).to_numpy()
    return fit_kmeans(X, 10, n_init=20, seed=2011).labels.astype(int) + 1


def _per_borough(table: pd.DataFrame, label: str) -> str:
    per = table[table["ranking"].isin([MODEL, label])].pivot(
        index="name", columns="ranking", values=["top_1pct", "top_5pct", "top_10pct",
                                                 "top_20pct", "auc"])
    for m in ["top_1pct", "top_5pct", "top_10pct", "top_20pct", "auc"]:
        per[(m, "ahead by")] = per[(m, MODEL)] - per[(m, label)]
    return f"Per borough: the risk model and the {label}\n{per.round(3).to_string()}\n"


def _goals(top: pd.DataFrame, label: str) -> list:
    m10 = top.loc["top_10pct"]
    boroughs = int(m10["boroughs"])
    need = math.ceil(14 * boroughs / 16)  # the goal's 14 of 16 boroughs
    return [
        (f"mean top-10% >= {label} + 3 points: {m10['mean_difference']:+.2f}",
         m10["mean_difference"] >= 3),
        (f"ahead of the {label} at top 10% in >= {need} of {boroughs} boroughs"
         + (" (14 of 16, scaled)" if boroughs != 16 else "") + f": {int(m10['ahead_in'])}",
         m10["ahead_in"] >= need),
        (f"ahead of the {label} at the top 1% on average: "
         f"{top.loc['top_1pct', 'mean_difference']:+.2f}",
         top.loc["top_1pct", "mean_difference"] > 0),
        (f"ahead of the {label} at the top 5% on average: "
         f"{top.loc['top_5pct', 'mean_difference']:+.2f}",
         top.loc["top_5pct", "mean_difference"] > 0),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cut-off", default="2019-12-31")
    parser.add_argument("--end", default="2024-08-31")
    parser.add_argument("--start", default="2009-01-01")
    parser.add_argument("--time-split", action="store_true",
                        help="one model fitted on every borough (no leave-one-out)")
    parser.add_argument("--postcodes", action="store_true",
                        help="rank postcode points (households shared over each output "
                             "area's postcodes) instead of output areas")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a [risk_model] setting for every fold (validation runs: "
                             "e.g. --set features=all)")
    parser.add_argument("--draws", type=int, default=400, help="bootstrap draws")
    parser.add_argument("--boroughs", type=int, default=0, metavar="N",
                        help="only the first N boroughs by code (quick runs, profiling; "
                             "the segments are still those of every borough)")
    parser.add_argument("--out", type=Path, default=Path("out/london_targeting"))
    args = parser.parse_args(argv)
    began = time.perf_counter()
    cut, end, start = (pd.Timestamp(args.cut_off), pd.Timestamp(args.end),
                       pd.Timestamp(args.start))
    areas, history, names, deprivation = load_pack(args.data)
    if args.boroughs:
        keep = np.isin(areas.groups["borough"], sorted(names)[:args.boroughs])
        areas, deprivation = areas.subset(keep), deprivation[keep]
        history = history[history["area_code"].isin(areas.codes)]
    settings = None
    if args.postcodes:
        points = postcode_points(args.data, areas)
        areas_of = pd.Series(deprivation, index=areas.codes)
        areas = postcode_study(areas, points)
        history = fires_at_postcodes(history, points)
        deprivation = areas_of.reindex(areas.groups[AREA]).to_numpy()
        settings = POSTCODE_SETTINGS
    if args.set:
        given = dict(item.split("=", 1) for item in args.set)
        base = asdict(settings or ModelSettings())
        settings = ModelSettings.from_table({k: (type(base[k])(v) if k in base else v)
                                             for k, v in {**base, **given}.items()})
    print(f"loaded in {time.perf_counter() - began:.0f} s: {len(areas):,} "
          f"{'postcodes' if args.postcodes else 'areas'}, {len(history):,} fires, "
          f"{len(areas.neighbours[0]) // 2:,} neighbour pairs")
    loo = not args.time_split
    evaluation = evaluate(areas, history, cut, start, end, deprivation, "borough",
                          leave_one_out=loo, draws=args.draws, settings=settings,
                          progress=lambda f, m: print(f"  [{time.perf_counter() - began:5.0f} "
                                                      f"s] {m}", flush=True))
    seconds = time.perf_counter() - began
    how = "leave-one-borough-out" if loo else "time split, one model for all boroughs"
    print(f"\n{how}: fitted on fires {start:%Y-%m-%d} to {cut:%Y-%m-%d}, tested on "
          f"{cut + pd.Timedelta(days=1):%Y-%m-%d} to {end:%Y-%m-%d}\n")
    table = evaluation.table()
    table.insert(1, "name", table["borough"].map(names))
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_rows", 400)
    own = named(OWN, args.postcodes)
    rivals = [own, AREA_OWN] if args.postcodes else [OWN]
    for rival in rivals:
        print(_per_borough(table, rival))
    print("\nBorough means (95% bootstrap intervals)")
    means = evaluation.means()
    shown = means[["ranking"]].copy()
    for m in ["top_1pct", "top_5pct", "top_10pct", "top_20pct", "auc"]:
        d = 3 if m == "auc" else 1
        shown[m] = [f"{r[m]:.{d}f}" + (f" ({r[m + '_low']:.{d}f}-{r[m + '_high']:.{d}f})"
                                       if m + "_low" in r and pd.notna(r[m + "_low"])
                                       else "") for _, r in means.iterrows()]
    print(shown.to_string(index=False))
    ahead = {rival: evaluation.ahead(MODEL, rival) for rival in rivals}
    for rival, versus in ahead.items():
        print(f"\nRisk model minus {rival} (points; AUC in its units)")
        print(versus.round(3).to_string(index=False))
    expected = np.concatenate([evaluation.expected[u] for u in evaluation.observed])
    observed = np.concatenate([evaluation.observed[u] for u in evaluation.observed])
    households = np.concatenate([evaluation.households[u] for u in evaluation.observed])
    calibration = calibration_table(expected * evaluation.test_years, observed, households)
    calibration = calibration.rename(columns={"expected": "expected fires",
                                              "observed": "observed fires"})
    print(f"\nCalibration over the test period ({evaluation.test_years:.2f} years), deciles "
          "of households by expected fires per household (1 = highest)")
    print(calibration.to_string(index=False))
    chosen = pd.Series({u: str(s[0]) for u, s in evaluation.settings.items()})
    print("\nSettings chosen by validation inside the fit period (fit at cut-off - h, "
          "validated on the h years before the cut-off; h = 4, or 2 for a short history), "
          "per fold:")
    print(chosen.value_counts().to_string())

    model_auc = means.set_index("ranking").loc[MODEL, "auc"]
    print("\nGoals (issue 26)")
    for rival, versus in ahead.items():
        for text, ok in _goals(versus.set_index("measure"), rival):
            print(f"  [{'met' if ok else 'NOT met'}] {text}")
    print(f"  [{'met' if model_auc >= 0.65 else 'NOT met'}] mean AUC >= 0.65: "
          f"{model_auc:.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "per_borough.csv", index=False)
    means.to_csv(args.out / "means.csv", index=False)
    ahead[own].to_csv(args.out / "model_vs_own_rate.csv", index=False)
    if args.postcodes:
        ahead[AREA_OWN].to_csv(args.out / "model_vs_output_area_rate.csv", index=False)
    calibration.to_csv(args.out / "calibration.csv", index=False)
    capture_chart(evaluation, "all", args.out / "capture_all.png",
                  f"Mean of {len(evaluation.observed)} boroughs ({how})")
    for unit in evaluation.observed:
        capture_chart(evaluation, unit, args.out / f"capture_{unit}.png",
                      f"{names.get(unit, unit)} ({how})")
    print(f"\ntables and charts in {args.out}; whole run {time.perf_counter() - began:.0f} s "
          f"(evaluation {seconds:.0f} s); target under 600 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
