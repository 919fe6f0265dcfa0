"""The whole chain on many real areas: every borough of the London open data pack, plus a
generated council with coded column names, no labels, no deprivation measure and no
households column.

    .venv/bin/python scripts/london_boroughs.py [--pack ../shared/data/london] [--out DIR]
                                                [--boroughs E09000029,E09000013] [--k 8]

For each council it cuts the pack to the borough (output areas, Census 2021 count tables,
IMD by LSOA through the OA -> LSOA lookup, wards, dwelling fires, postcodes), writes a
project file and runs segment -> gazetteer -> incidents -> matrices -> target -> export ->
report with the ``community-safety`` command line, then checks: every command exits 0,
every input row is reconciled (census rows, fires, postcodes), segment names are unique and
in words, no sentence the data contradict ("close to the average" with an index outside
80-120, "least deprived" without a deprivation measure), and no column code where a label
exists. Prints one line per council and exits 1 if any check fails.

The tests use ``cut_borough`` and ``run_council`` on two boroughs kept small in
``tests/data/london_boroughs`` (see its SOURCES.md).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PACK = ROOT.parent / "shared" / "data" / "london"
# Census 2021 tables used: counts with their total cell as the denominator
TABLES = {
    "ts054": ("ts0540001", ["ts0540003", "ts0540004", "ts0540008", "ts0540009",
                            "ts0540011"]),  # tenure
    "ts045": ("ts0450001", ["ts0450002", "ts0450004"]),  # cars or vans
    "ts037": ("ts0370001", ["ts0370004", "ts0370005", "ts0370006"]),  # general health
    "ts062": ("ts0620001", ["ts0620002", "ts0620003", "ts0620007", "ts0620008",
                            "ts0620009", "ts0620010"]),  # NS-SEC
    "ts017": ("ts0170001", ["ts0170003", "ts0170004", "ts0170007"]),  # household size
}
SIZES = {"ts001": "ts0010001", "ts041": "ts0410001"}  # residents, households
CODE = re.compile(r"\bts\d{7}\b")
FIRE_XY = ["--x", "easting_rounded", "--y", "northing_rounded"]


# ------------------------------------------------------------------ cutting the pack

def cut_borough(pack: Path, code: str, folder: Path, simplify: float = 0.0) -> Path:
    """The borough's own copy of the pack's files in ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    areas = gpd.read_file(pack / "boundaries" / "output_areas_2011.gpkg", engine="pyogrio")
    areas = areas[areas["LAD11CD"] == code][["OA11CD", "LSOA11CD", "geometry"]]
    if simplify:
        areas["geometry"] = areas.geometry.simplify(simplify)
    areas.to_file(folder / "output_areas.gpkg", layer="output_areas", engine="pyogrio")
    wards = gpd.read_file(pack / "boundaries" / "wards.gpkg", engine="pyogrio")
    wards = wards[wards["LAD13CD"] == code][["WD13CD", "WD13NM", "geometry"]]
    if simplify:
        wards["geometry"] = wards.geometry.simplify(simplify)
    wards.to_file(folder / "wards.gpkg", layer="wards", engine="pyogrio")
    lookup = pd.read_csv(pack / "lookups" / "oa11_lsoa11_lad.csv", dtype=str)
    lookup = lookup[lookup["LAD11CD"] == code]
    lookup[["OA11CD", "LSOA11CD"]].to_csv(folder / "oa_lsoa.csv", index=False)
    imd = pd.read_csv(pack / "lookups" / "imd2019_rank_lsoa11.csv", dtype=str)
    imd[imd["LAD19CD"] == code][["LSOA11CD", "IMD19"]].to_csv(folder / "imd.csv", index=False)
    oas = set(lookup["OA11CD"])
    census = pack / "census2021_oa"
    for table in [*TABLES, *SIZES]:
        frame = pd.read_csv(census / f"{table}.csv", dtype=str)
        # the 2021 rows of the borough's 2011 OAs (a 2021 code not in 2011 is left out by
        # the cut, as a council would cut its own extract)
        frame[frame["OA"].isin(oas)].to_csv(folder / f"{table}.csv", index=False)
    # the census's own description of every column of the tables cut (what a council
    # downloads with them), not only of the cells the project uses
    metadata = pd.read_csv(census / "table_metadata.csv", dtype=str)
    metadata = metadata[metadata["Table_ID"].isin([*TABLES, *SIZES])]
    metadata[["new_names", "Variable_Name", "Table_Name"]].to_csv(
        folder / "census_variables.csv", index=False)
    fires = pd.read_csv(pack / "lfb_dwelling_fires_2009_2024.csv", dtype=str)
    fires[fires["borough"] == code][["date", "easting_rounded", "northing_rounded",
                                     "property_type"]].to_csv(folder / "fires.csv", index=False)
    postcodes = pd.read_csv(pack / "codepoint_open_2014_postcodes.csv", dtype=str)
    postcodes[postcodes["Admin_district_code"] == code][
        ["Postcode", "Eastings", "Northings"]].to_csv(folder / "postcodes.csv", index=False)
    return folder


def borough_project(folder: Path, name: str, k: int = 8, n_init: int = 20) -> Path:
    """A project file for a cut borough: the count tables divided by their totals, IMD by
    LSOA, sizes from the residents and households tables, labels from the census
    metadata (its own column names)."""
    lines = [f'name = "{name}"', "", "[boundaries]", 'path = "output_areas.gpkg"',
             'layer = "output_areas"', 'code = "OA11CD"']
    for table, (total, cells) in TABLES.items():
        lines += ["", "[[tables]]", f'path = "{table}.csv"', 'code = "OA"',
                  f"variables = {cells!r}".replace("'", '"'), f'denominator = "{total}"']
    for table, cell in SIZES.items():
        lines += ["", "[[tables]]", f'path = "{table}.csv"', 'code = "OA"',
                  "variables = []", f'context = ["{cell}"]']
    lines += ["", "[[tables]]", 'path = "imd.csv"', 'code = "LSOA11CD"',
              'lookup = {path = "oa_lsoa.csv", from = "OA11CD", to = "LSOA11CD"}',
              'context = ["IMD19"]',
              "", "[segmentation]", f"k = {k}", f"n_init = {n_init}", "seed = 2011",
              "winsorise = 3.0",
              "", "[deprivation]", 'column = "IMD19"', 'more_deprived = "lower"',
              "", "[sizes]", f'residents = "{SIZES["ts001"]}"',
              f'households = "{SIZES["ts041"]}"',
              "", "[labels]", 'file = "census_variables.csv"', 'variable = "new_names"',
              'description = "Variable_Name"', ""]
    path = folder / "project.toml"
    path.write_text("\n".join(lines))
    return path


def inside_areas(folder: Path) -> pd.Series:
    """The postcodes of ``folder``'s postcodes.csv whose point lies in one of its output
    areas (Code-Point's district can hold a point just outside the borough's areas, which
    the gazetteer then leaves out)."""
    points = pd.read_csv(folder / "postcodes.csv", dtype={"Postcode": str})
    areas = gpd.read_file(folder / "output_areas.gpkg", engine="pyogrio")
    located = gpd.GeoDataFrame(points, geometry=gpd.points_from_xy(
        points["Eastings"].astype(float), points["Northings"].astype(float)), crs=areas.crs)
    inside = gpd.sjoin(located, areas[["geometry"]], predicate="within").index.unique()
    return points.loc[sorted(inside), "Postcode"]


def generated_council(source: Path, folder: Path, k: int = 6, n_init: int = 20,
                      seed: int = 7) -> Path:
    """A council unlike the pack: the areas of a cut borough (``source``) with generated
    age counts under coded column names (a24under, a25to44, m65over...), a residents
    total only (no households column), no labels and no deprivation measure; visit dates
    written month first (US order), so ``target`` needs --visited-date-format."""
    folder.mkdir(parents=True, exist_ok=True)
    areas = gpd.read_file(source / "output_areas.gpkg", engine="pyogrio")
    areas.to_file(folder / "output_areas.gpkg", layer="output_areas", engine="pyogrio")
    for name in ("wards.gpkg", "fires.csv", "postcodes.csv"):
        (folder / name).write_bytes((source / name).read_bytes())
    rng = np.random.default_rng(seed)
    n = len(areas)
    size = rng.integers(150, 450, n)
    # three kinds of area (young, family, older), mixed in each area
    kinds = rng.dirichlet([1.0, 1.0, 1.0], n)
    shares = np.array([[0.20, 0.45, 0.25, 0.10], [0.35, 0.25, 0.30, 0.10],
                       [0.15, 0.20, 0.30, 0.35]])
    mix = kinds @ shares
    counts = np.vstack([rng.multinomial(s, p) for s, p in zip(size, mix)])
    table = pd.DataFrame(counts, columns=["a24under", "a25to44", "a45to64", "m65over"])
    split = rng.binomial(table["a24under"], 0.4)
    table.insert(0, "u014", split)  # under 15: a part of a24under
    table["a24under"] -= split
    table.insert(0, "popn", table[["u014", "a24under", "a25to44", "a45to64",
                                   "m65over"]].sum(axis=1))
    table.insert(0, "zone", areas["OA11CD"].to_numpy())
    table.to_csv(folder / "age_cons.csv", index=False)
    lines = ['name = "Generated council"', "", "[boundaries]", 'path = "output_areas.gpkg"',
             'layer = "output_areas"', 'code = "OA11CD"',
             "", "[[tables]]", 'path = "age_cons.csv"', 'code = "zone"',
             'context = ["popn"]', 'denominator = "row total"',
             'variables = ["a24plus", "a25to44", "a45to64", "m65over", "u014"]',
             "", "[derive]", 'a24plus = "u014 + a24under"',
             "", "[segmentation]", f"k = {k}", f"n_init = {n_init}", "seed = 2011",
             "", "[sizes]", 'residents = "popn"', ""]
    path = folder / "project.toml"
    path.write_text("\n".join(lines))
    return path


# ------------------------------------------------------------------ running and checking

@dataclass
class Outcome:
    name: str
    steps: dict = field(default_factory=dict)  # command -> exit code
    problems: list = field(default_factory=list)
    names: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(code == 0 for code in self.steps.values())


def _run(outcome: Outcome, step: str, *args) -> str:
    from community_safety.core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    outcome.steps[step] = code
    if code != 0:
        outcome.problems.append(f"{step} exited {code}: {err.getvalue().strip()[:300]}")
    return out.getvalue() + err.getvalue()


def _rows(path: Path) -> int:
    return len(pd.read_csv(path, dtype=str))


def run_council(project: Path, out: Path, name: str, visited: Path | None = None,
                visited_format: str | None = None) -> Outcome:
    """The chain on one council's project (its files beside it), with the checks."""

    started = time.perf_counter()
    outcome = Outcome(name)
    folder = project.parent
    seg_dir, gpkg = out / "segmentation", out / "segmentation" / "segmentation.gpkg"
    console = _run(outcome, "segment", "segment", project, "--out", seg_dir, "--no-plots")
    if outcome.steps["segment"] != 0:
        return outcome
    _run(outcome, "gazetteer", "gazetteer", gpkg, folder / "postcodes.csv", "--id",
         "Postcode", "--x", "Eastings", "--y", "Northings")
    _run(outcome, "incidents", "incidents", gpkg, folder / "fires.csv", "--name", "fires",
         *FIRE_XY, "--date-column", "date", "--out", out / "incidents")
    _run(outcome, "matrices", "matrices", gpkg, "--wards", folder / "wards.gpkg",
         "--ward-code", "WD13CD", "--ward-name", "WD13NM")
    visits = ["--visited", visited, "--today", "2024-09-01"] if visited else []
    if visited_format:
        visits += ["--visited-date-format", visited_format]
    _run(outcome, "target", "target", gpkg, "--out", out / "target", "--capacity", 200,
         "--incidents", folder / "fires.csv", *FIRE_XY, "--date-column", "date",
         "--from", "2019-01-01", *visits)
    _run(outcome, "export", "export", gpkg, "--out", out / "partners")
    _run(outcome, "report", "report", gpkg, "--out", out / "report.html")
    if not outcome.ok:
        return outcome
    check_council(outcome, project, out, console)
    outcome.seconds = time.perf_counter() - started
    return outcome


def check_council(outcome: Outcome, project: Path, out: Path, console: str) -> None:
    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.saved import load_segmentation

    problems = outcome.problems
    folder = project.parent
    spec = load_project(project)
    seg = load_segmentation(out / "segmentation" / "segmentation.gpkg")
    # every input row reconciled
    recon = pd.read_csv(out / "segmentation" / "reconciliation.csv", dtype=str)
    for table in spec.tables:
        given = _rows(table.path)
        found = recon[(recon["source"] == table.path.name) & recon["row"].notna()]
        if len(found) != given:
            problems.append(f"{table.path.name}: {given} rows, {len(found)} reconciled")
    fires = _rows(folder / "fires.csv")
    records = _rows(out / "incidents" / "incident_records_fires.csv")
    if records != fires:
        problems.append(f"fires.csv: {fires} rows, {records} in the incident records")
    target_recon = pd.read_csv(out / "target" / "reconciliation.csv", dtype=str)
    in_target = (target_recon["source"] == "fires.csv").sum()
    if in_target != fires:
        problems.append(f"target: {fires} fire rows, {in_target} reconciled")
    addresses = seg_table(out, "address_match_report")
    postcodes = _rows(folder / "postcodes.csv")
    if addresses is not None and len(addresses) != postcodes:
        problems.append(f"postcodes.csv: {postcodes} rows, {len(addresses)} in the match "
                        "report")
    # names unique, in words, no code where a label exists
    names = seg.summary["name"]
    outcome.names = list(names)
    keys = {tuple(sorted(re.findall(r"[a-z0-9']+", n.lower()))) for n in names}
    if len(keys) != len(names):
        problems.append(f"names not unique: {list(names)}")
    if not all(re.search(r"[A-Za-z]{3}", n) for n in names):
        problems.append(f"a name without words: {list(names)}")
    labelled = {v for v, label in seg.labels.items() if label}
    texts = " ".join([*names, *seg.summary["portrait"]])
    report = (out / "report.html").read_text(encoding="utf-8")
    for code in sorted(labelled):
        if re.search(rf"\b{re.escape(code)}\b", texts):
            problems.append(f"the column code {code} is said although it has a label")
    if labelled and CODE.search(texts):
        problems.append(f"a census cell code in the names or portraits: "
                        f"{CODE.search(texts).group(0)}")
    # no statement the data contradict
    profiles = seg.profiles[seg.profiles["clustered"].astype(bool)]
    for number, row in seg.summary.iterrows():
        index = profiles.loc[profiles["segment"] == number, "index"].dropna()
        outside = ((index < 80) | (index > 120)).any()
        said = row["name"] + " " + row["portrait"]
        if outside and "close to the average" in said:
            problems.append(f"segment {number} is called average with indexes "
                            f"{index.min():.0f}-{index.max():.0f}")
    if spec.deprivation is None:
        for where, text in (("console", console), ("report", report),
                            ("layer abstract", seg.manifest.get("numbering", {}).get(
                                "description", ""))):
            if re.search(r"least deprived|most deprived|mean deprivation", text):
                problems.append(f"the {where} speaks of deprivation without a measure")
        notes = pd.read_excel(out / "partners" / "partner_matrices.xlsx", sheet_name="Notes",
                              header=None).astype(str).to_string()
        if "least deprived" in notes:
            problems.append("the partner Notes speak of deprivation without a measure")


def seg_table(out: Path, name: str) -> pd.DataFrame | None:
    from community_safety.core.store.geopackage import read_gpkg_table

    try:
        return read_gpkg_table(out / "segmentation" / "segmentation.gpkg", name)
    except Exception:  # noqa: BLE001 - a table the step did not write: not checked
        return None


def boroughs(pack: Path) -> list[tuple[str, str]]:
    if not (pack / "lookups" / "oa11_lsoa11_lad.csv").exists():
        raise SystemExit(f"{pack}: the London open data pack is not there (README: 'The "
                         "London open data pack'); give --pack FOLDER")
    lookup = pd.read_csv(pack / "lookups" / "oa11_lsoa11_lad.csv", dtype=str)
    return sorted(lookup[["LAD11CD", "LAD11NM"]].drop_duplicates().itertuples(index=False,
                                                                              name=None))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", type=Path, default=DEFAULT_PACK)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "london_boroughs")
    parser.add_argument("--boroughs", help="borough codes, comma separated (default: all)")
    parser.add_argument("--k", type=int, default=8)
    args = parser.parse_args(argv)
    chosen = boroughs(args.pack)
    if args.boroughs:
        wanted = set(args.boroughs.split(","))
        unknown = sorted(wanted - {code for code, _ in chosen})
        if unknown:
            parser.error(f"--boroughs: {', '.join(unknown)} not in the pack at {args.pack} "
                         f"(its boroughs: {', '.join(code for code, _ in chosen)})")
        chosen = [b for b in chosen if b[0] in wanted]
    outcomes = []
    for code, name in chosen:
        folder = cut_borough(args.pack, code, args.out / "data" / code)
        project = borough_project(folder, name, k=args.k)
        outcome = run_council(project, args.out / "results" / code, name)
        outcomes.append(outcome)
        print(_line(outcome), flush=True)
    source = args.out / "data" / chosen[0][0]
    generated = generated_council(source, args.out / "data" / "generated")
    visited = generated.parent / "visited.csv"
    postcodes = inside_areas(generated.parent)  # a visit at a postcode of the gazetteer
    dates = pd.date_range("2023-09-13", periods=20, freq="17D").strftime("%m/%d/%Y")
    pd.DataFrame({"id": postcodes.iloc[:20].to_numpy(), "date": dates}).to_csv(
        visited, index=False)
    outcome = run_council(generated, args.out / "results" / "generated",
                          "Generated council (coded columns, no labels, no IMD, no "
                          "households)", visited, "%m/%d/%Y")
    outcomes.append(outcome)
    print(_line(outcome), flush=True)
    failed = [o for o in outcomes if not o.ok]
    print(f"\n{len(outcomes) - len(failed)} of {len(outcomes)} councils passed every check")
    return 1 if failed else 0


def _line(outcome: Outcome) -> str:
    if not outcome.ok:
        return f"FAIL {outcome.name}: " + "; ".join(outcome.problems)
    names = "; ".join(outcome.names[:3])
    return (f"ok   {outcome.name}: {len(outcome.names)} segments in {outcome.seconds:.0f} s "
            f"(e.g. {names})")


if __name__ == "__main__":
    sys.exit(main())
