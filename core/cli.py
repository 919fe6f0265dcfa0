"""The ``community-safety`` command line.

    community-safety segment PROJECT.toml --out DIR [--k 10] [--seed N] [--choose-k 2-15]
    community-safety choose-k PROJECT.toml --out DIR [--k-min 2 --k-max 15]
    community-safety assign SEGMENTATION.gpkg PROJECT.toml --out DIR
    community-safety gazetteer SEGMENTATION.gpkg ADDRESSES.csv --id UPRN --x E --y N
    community-safety incidents SEGMENTATION.gpkg FIRES.csv --name fires --x E --y N --out DIR
    community-safety matrices SEGMENTATION.gpkg --wards WARDS.gpkg --ward-code WD22CD
    community-safety export SEGMENTATION.gpkg --out DIR [--threshold 5] [--for-partners]
    community-safety demand PROJECT.toml --out DIR [--key-file KEY] [--run-date YYYY-MM-DD]
    community-safety report SEGMENTATION.gpkg --out report.html [--threshold 5]
    community-safety demo [--out DIR]        (the whole job on the Camden sample)
    community-safety check                   (are the engine's packages installed?)

Bad input ends with a one-line message naming the file, column or row, and exit code 2;
nothing is left half-written.

The --out folder of segment, choose-k, assign, export, demo and demand is the run's
own: a rerun replaces it whole (built beside it, swapped in by renames, so a kill leaves
the old run or the new one, never a mix) and keeps the run before at
<parent>/.<name>.previous; a folder holding other files is refused. incidents adds its
files to its --out folder and leaves other files there alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import __version__
from .dependencies import dependency_problems, install_command
from .errors import InputError, public_text, user_message

EXIT_INPUT = 2


class ProgressBar:
    """A one-line bar on a terminal; nothing when the output is a file or a pipe."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.active = hasattr(stream, "isatty") and stream.isatty()
        self.start = time.perf_counter()
        self.message = ""  # the last words said; steps speak only now and then

    def __call__(self, fraction: float, message: str) -> None:
        if not self.active:
            return
        if message:
            self.message = message
        filled = int(self.width * fraction)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r[{bar}] {fraction:4.0%} {elapsed:5.0f}s {self.message[:50]:<50}")
        self.stream.flush()

    def close(self) -> None:
        if self.active:
            self.stream.write("\n")


def _run_with_bar(step, *args, **kwargs):
    bar = ProgressBar()
    try:
        return step(*args, progress=bar, **kwargs)
    finally:
        bar.close()


def _seed(text: str) -> int:
    from .project.project_file import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"'{text}': a seed is a whole number from 0 to "
                                         f"{MAX_SEED:,}")
    return value


def _months(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}': give a whole number of months, 0 or more")
    return value


def _k_range(text: str) -> list[int]:
    try:
        low, high = (int(part) for part in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a range such as 2-15") from None
    if not 2 <= low <= high:
        raise argparse.ArgumentTypeError(f"'{text}': need 2 <= first <= last")
    return list(range(low, high + 1))


def _print_summary(seg, path: Path) -> None:
    import pandas as pd

    from .segment.build import small_segments_note

    summary = seg.summary
    print(f"\n{seg.name}: {int(summary['areas'].sum())} areas in {len(summary)} segments "
          f"({len(seg.clustered)} variables clustered)")
    # "mean deprivation" only where a deprivation measure numbers the segments
    deprivation = "mean_deprivation" in summary.columns
    measure = f"  {'mean deprivation':>16}" if deprivation else ""
    header = f"{'seg':>3}  {'areas':>5}  {'residents':>9}{measure}  name"
    print(header)
    print("-" * max(len(header), 60))
    for number, row in summary.iterrows():
        residents = row.get("residents")
        residents = (f"{int(residents):,}" if residents is not None and pd.notna(residents)
                     and residents >= 0 else "-")
        value = f"  {row['mean_deprivation']:>16}" if deprivation else ""
        print(f"{number:>3}  {int(row['areas']):>5}  {residents:>9}{value}  {row['name']}")
    numbering = seg.manifest.get("numbering", {}).get("description")
    if numbering:
        print(numbering)
    winsorised = seg.manifest["results"].get("winsorised", {})
    if winsorised.get("cells"):
        print(f"Winsorised at ±{winsorised['bound']:g}: {winsorised['cells']} values in "
              f"{len(winsorised['areas'])} areas clipped (listed in manifest.json)")
    if seg.manifest["results"].get("random_starts_note"):
        print(seg.manifest["results"]["random_starts_note"])
    small = small_segments_note(seg.manifest)
    if small:
        print(small, file=sys.stderr)
    print(f"\nSaved to {path}")


def _segment(args) -> int:
    from .project.project_file import load_project
    from .segment.build import build_segmentation
    from .segment.choosing_k import choose_k
    from .segment.prepare import prepare
    from .segment.saved import save_segmentation
    from .store.folders import replacement_note

    project = load_project(args.project).with_overrides(k=args.k, seed=args.seed,
                                                        n_init=args.n_init)
    prepared = _run_with_bar(prepare, project)
    seg = _run_with_bar(build_segmentation, project, prepared=prepared)
    if args.choose_k:
        seg.diagnostics = _run_with_bar(choose_k, prepared.X, args.choose_k,
                                        n_init=min(project.n_init, 10), seed=project.seed)
    replacing = replacement_note(args.out)
    path = _run_with_bar(save_segmentation, seg, args.out, plots=not args.no_plots)
    _print_summary(seg, path)
    if replacing:
        print(replacing)
    return 0


def _choose_k(args) -> int:
    from .project.project_file import load_project
    from .segment.choosing_k import choose_k, recommend_k
    from .segment.plots import elbow_plot
    from .segment.prepare import prepare
    from .store.folders import replaced_folder, replacement_note

    if args.k_min > args.k_max:
        raise InputError(f"--k-min {args.k_min} is larger than --k-max {args.k_max}")
    project = load_project(args.project).with_overrides(seed=args.seed)
    prepared = _run_with_bar(prepare, project)
    ks = list(range(args.k_min, args.k_max + 1))
    table = _run_with_bar(choose_k, prepared.X, ks, n_init=args.n_init, seed=project.seed)
    replacing = replacement_note(args.out)
    from .cells import write_csv

    with replaced_folder(args.out) as staging:
        write_csv(table, staging / "diagnostics.csv", index=False)
        elbow_plot(table, staging / "elbow.png")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\nRecommended: {recommend_k(table)[1]}")
    print(f"\nSaved diagnostics.csv and elbow.png to {args.out}")
    if replacing:
        print(replacing)
    return 0


def _assign(args) -> int:
    from .project.project_file import load_project
    from .segment.area_data import gather_area_data
    from .segment.assign import assign_areas
    from .segment.saved import load_segmentation, write_assigned_layer
    from .store.folders import replaced_folder, replacement_note

    seg = load_segmentation(args.segmentation)
    project = load_project(args.project)
    data = gather_area_data(project)
    assigned = assign_areas(seg, data.values)
    previous = seg.areas["segment"].reindex(assigned.index)
    assigned["previous_segment"] = previous
    replacing = replacement_note(args.out)
    from .cells import write_csv

    with replaced_folder(args.out) as staging:
        write_assigned_layer(seg, data.areas, assigned, staging / "assigned.gpkg")
        write_csv(assigned.rename_axis("area_code").reset_index(), staging / "assigned.csv",
                  index=False)
        write_csv(data.reconciliation, staging / "reconciliation.csv", index=False)
    known = previous.notna()
    changed = int((previous[known] != assigned.loc[known, "segment"]).sum())
    print(f"Assigned {len(assigned)} areas to the {len(seg.centres)} existing segments; "
          f"{int(known.sum())} were in the segmentation, {changed} of them changed segment.")
    print(f"Saved assigned.gpkg and assigned.csv to {args.out}")
    if replacing:
        print(replacing)
    return 0


def _location(args):
    from .data.locate import LocationColumns
    from .places.steps import PostcodeFile

    columns = LocationColumns(x=args.x, y=args.y, crs=args.crs or "EPSG:27700",
                              area_code=args.area_code, postcode=args.postcode,
                              uprn=getattr(args, "uprn", None),
                              crs_given=args.crs is not None)
    postcodes = None
    if args.postcode_file:
        names = args.postcode_file_columns.split(",")
        if len(names) != 3:
            raise InputError("--postcode-file-columns takes POSTCODE,X,Y")
        postcodes = PostcodeFile(args.postcode_file, *names)
    return columns, postcodes


def _gazetteer(args) -> int:
    from .places.steps import gazetteer_step

    columns, postcodes = _location(args)
    layer, report, summary = gazetteer_step(args.segmentation, args.addresses, args.id,
                                            columns, postcodes)
    print(summary.to_string(index=False))
    print(f"\n{len(layer):,} of {len(report):,} records placed in a segment; the address "
          f"layer and match report are in {args.segmentation}")
    return 0


def _incidents(args) -> int:
    from .places.incidents import IncidentFilter
    from .places.steps import incidents_step, safe_name, unreadable_dates_note

    columns, postcodes = _location(args)
    rules = IncidentFilter(args.date_column, args.date_from, args.date_to,
                           args.category_column, tuple(args.category or ()),
                           args.date_format)
    earlier = (Path(args.out) / f"incident_profile_{safe_name(args.name)}.csv").exists()
    profile, records = incidents_step(args.segmentation, args.records, args.name, columns,
                                      args.out, args.id, tuple(args.count or ()), rules,
                                      postcodes, args.key_file)
    shown = ["segment", "measure", "count", "share_pct", "rate_per_1000_households",
             "rate_per_1000_residents", "index", "index_low_95", "index_high_95",
             "representation"]
    if "rate_per_1000_households" in profile.columns:
        shown.remove("rate_per_1000_residents")
    print(profile[[c for c in shown if c in profile.columns]].to_string(index=False))
    status = records["status"].value_counts()
    print("\nRecords: " + ", ".join(f"{n:,} {s}" for s, n in status.items()))
    note = unreadable_dates_note(records)
    if note:
        print(note, file=sys.stderr)
    print(f"Saved the profile, chart and record reconciliation to {args.out}")
    if earlier:
        print(f"Replaced the earlier '{safe_name(args.name)}' profile, charts and records in "
              f"{args.out} and its tables in {args.segmentation}; other files there are "
              "untouched")
    return 0


def _matrices(args) -> int:
    from .share.partner_steps import WardSource, matrices_step

    source = WardSource(args.wards, args.ward_code, args.ward_name, args.ward_layer,
                        args.rule, args.lookup_area_column, args.crs)
    matrices, layer = matrices_step(
        args.segmentation, source,
        warn=lambda text: print(f"community-safety: warning: {text}", file=sys.stderr))
    for name, matrix in matrices.items():
        print(f"{name}: {len(matrix) - 1} wards, total {matrix.loc['Total', 'Total']:,.0f}")
    if layer is not None:
        print(f"Ward layer with dominant segments saved in {args.segmentation}")
    return 0


def _export(args) -> int:
    from .share.partner_steps import export_step
    from .store.folders import replaced_folder, replacement_note

    replacing = replacement_note(args.out)
    if not args.for_partners:
        written = export_step(args.segmentation, args.out, args.threshold, replace_folder=True)
    else:
        from .share.export import PARTNER_GPKG, write_partner_geopackage

        with replaced_folder(args.out) as staging:  # the GeoPackage is part of the unit
            written = export_step(args.segmentation, staging, args.threshold)
            written.append(write_partner_geopackage(args.segmentation,
                                                    staging / PARTNER_GPKG, args.threshold))
        written = [Path(args.out) / Path(path).relative_to(staging) for path in written]
    print(f"Wrote {len(written)} files for partners to {args.out} (counts of 1 to "
          f"{args.threshold} suppressed, with secondary suppression)")
    if replacing:
        print(replacing)
    return 0


def _target(args) -> int:
    from .store.folders import replacement_note
    from .targeting.backtest import IncidentFile, backtest_step
    from .targeting.visits import TargetInputs, TargetOptions, parse_segments, target_step

    replacing = replacement_note(args.out)
    incidents = None
    if args.incidents is not None:
        columns, _ = _location(args)
        incidents = IncidentFile(args.incidents, columns, args.date_column,
                                 date_format=args.date_format,
                                 property_column=args.property_column)
    if args.backtest:
        if incidents is None:
            raise InputError("the backtest reads the incidents' dates: give --incidents FILE "
                             "with --x/--y (or --area-code) and --date-column")
        if args.model:
            return _model_backtest(args, incidents)
        result, written = backtest_step(args.segmentation, args.out, incidents, args.cut_off,
                                        args.date_from, args.date_to, args.seed,
                                        replace_folder=True)
        print(f"Backtest: fitted on {result.fit_incidents:,} fires {result.fit_period}, "
              f"tested on {result.test_incidents:,} fires {result.test_period}")
        print("Share of the later fires in the top 1/5/10/20% of households, and the area "
              "under the capture curve:")
        print(result.table.to_string(index=False))
        print(f"Saved {', '.join(p.name for p in written)} to {args.out}")
        if replacing:
            print(replacing)
        return 0
    segments = parse_segments(args.segments)
    wards = tuple(w.strip() for w in args.wards.split(",") if w.strip()) if args.wards else ()
    options = TargetOptions(capacity=args.capacity, cluster_by_area=args.cluster_by_area,
                            wards=wards, segments=segments,
                            postcode_points=args.postcode_points)
    inputs = TargetInputs(incidents=incidents, incident_table=args.incident_table,
                          window_from=args.date_from, window_to=args.date_to,
                          visited=args.visited, visited_months=args.visited_months,
                          opted_out=args.opted_out, flags=args.flags,
                          flag_weights=args.flag_weights, capacity_table=args.capacity_table,
                          today=args.today,
                          visited_date_format=args.visited_date_format or args.date_format,
                          model=args.model, lookup=args.lookup, project=args.project)
    if args.capacity is None and args.capacity_table is None:
        raise InputError("give a capacity: --capacity N visits, or --capacity-table FILE "
                         "(ward_code, visits)")
    # the list, workbook, layer, summary and reconciliation are one unit: the --out folder
    # is swapped in whole (a kill leaves the previous run or this one, never a mix)
    result, written = target_step(args.segmentation, args.out, options, inputs,
                                  replace_folder=True)
    print(result.summary.to_string(index=False))
    print(f"Saved {', '.join(p.name for p in written)} to {args.out} (addresses and IDs "
          "only in target_list and target.gpkg, for the crews)")
    if replacing:
        print(replacing)
    return 0


def _model_backtest(args, incidents) -> int:
    from .targeting.risk_study import backtest_lines, model_backtest_step

    evaluation, means, ahead, how, written = model_backtest_step(
        args.segmentation, args.out, incidents, args.cut_off, args.date_from, args.date_to,
        args.lookup, args.project, args.seed, replace_folder=False)
    for line in backtest_lines(means, ahead, how, len(evaluation.observed)):
        print(line)
    print(f"Saved {', '.join(p.name for p in written)} to {args.out}")
    return 0


def _demand(args) -> int:
    from .demand.steps import demand_job, summary_lines
    from .store.folders import replacement_note

    replacing = replacement_note(args.out)
    result, written, key_source = _run_with_bar(
        demand_job, args.project, args.key_file, args.out, segmentation=args.segmentation,
        run_date=args.run_date, top=args.top, scale_top=args.scale_top,
        threshold=args.threshold, date_format=args.date_format)
    for line in summary_lines(result):
        print(line)
    shown = [c for c in result.ranked.columns if c.endswith(" rank")]
    print(result.ranked[["pseudonym", *shown]].head(10).to_string(index=False))
    views = ", ".join(f"by {by}" for by in result.shared) or "none (no wards or segments)"
    print(f"Pseudonymised with {key_source}. Shared-demand view (suppressed): {views}.")
    if args.segmentation and result.shared:
        print(f"The shared-demand tables are also in {args.segmentation}, for the report")
    print(f"Saved {len(written)} files to {args.out}")
    if replacing:
        print(replacing)
    return 0


def _add_date_format(parser) -> None:
    parser.add_argument("--date-format", help='how the dates are written, e.g. "%%m/%%d/%%Y" '
                        'for US order or "%%d/%%m/%%Y %%H:%%M" (default: ISO, or day first '
                        "when the file shows it; dates whose order the file cannot tell are "
                        "refused)")


def _add_location_options(parser) -> None:
    parser.add_argument("--x", help="easting / longitude column")
    parser.add_argument("--y", help="northing / latitude column")
    parser.add_argument("--crs", help="CRS of x/y, or of a point layer whose own label is "
                        "wrong (default: the layer's, else EPSG:27700)")
    parser.add_argument("--area-code", help="output-area code column")
    parser.add_argument("--postcode", help="postcode column (needs --postcode-file)")
    parser.add_argument("--postcode-file", type=Path, help="postcode points (Code-Point Open)")
    parser.add_argument("--postcode-file-columns", default="Postcode,Eastings,Northings",
                        help="its postcode, x and y columns")


def _demo(args) -> int:
    from .demo import run_demo
    from .store.folders import replacement_note

    replacing = replacement_note(args.out)
    result = _run_with_bar(run_demo, args.out)
    _print_summary(result.segmentation, result.gpkg)
    print(f"Incident tables (Table 1) and charts: {result.incidents}")
    print(f"Home fire safety check list for the crews: {result.visits}")
    print(f"Frequent service users (synthetic, pseudonymised): {result.service_users}")
    print(f"For partners (suppressed): {result.partners}")
    print(f"\nThe report: {result.report.resolve()}  (open it in a web browser)")
    if replacing:
        print(replacing)
    return 0


def _report(args) -> int:
    from .report.html_report import missing_for_report, write_report

    path = write_report(args.segmentation, args.out, args.threshold)
    print(f"Wrote {path}: one HTML file with its pictures, safe to share (counts of 1 to "
          f"{args.threshold} suppressed); open it in a web browser or print it")
    gaps = missing_for_report(args.segmentation)
    if gaps:
        print(f"community-safety: warning: {gaps}", file=sys.stderr)
    return 0


def _check(args) -> int:
    problems = dependency_problems()
    if not problems:
        print("All engine dependencies are installed in supported versions.")
        return 0
    print(f"Missing Python packages: {', '.join(str(p) for p in problems)}", file=sys.stderr)
    missing = [problem.dependency for problem in problems]
    print(f"Install them with: {install_command(missing)}", file=sys.stderr)
    return 1


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes end like every other error: one line, exit 2 (``--help`` shows the
    usage)."""

    def error(self, message):
        raise InputError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="community-safety",
        description="Community Safety Segmentation: segment output areas by risk.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    seg = sub.add_parser("segment", help="build, profile and save a segmentation")
    seg.add_argument("project", type=Path, help="project file (TOML)")
    seg.add_argument("--out", type=Path, required=True, help="output folder")
    seg.add_argument("--k", type=int, help="number of segments (overrides the project)")
    seg.add_argument("--seed", type=_seed, help="random seed (overrides the project)")
    seg.add_argument("--n-init", type=int, help="k-means random starts (overrides)")
    seg.add_argument("--choose-k", type=_k_range, metavar="K1-K2",
                     help="also store choose-k diagnostics for this range")
    seg.add_argument("--no-plots", action="store_true", help="skip the box plots")
    seg.set_defaults(run=_segment)

    ck = sub.add_parser("choose-k", help="diagnostics for choosing the number of segments")
    ck.add_argument("project", type=Path)
    ck.add_argument("--out", type=Path, required=True)
    ck.add_argument("--k-min", type=int, default=2)
    ck.add_argument("--k-max", type=int, default=15)
    ck.add_argument("--n-init", type=int, default=10)
    ck.add_argument("--seed", type=_seed)
    ck.set_defaults(run=_choose_k)

    assign = sub.add_parser("assign", help="assign areas to an existing segmentation")
    assign.add_argument("segmentation", type=Path, help="saved segmentation.gpkg")
    assign.add_argument("project", type=Path, help="project file describing the new data")
    assign.add_argument("--out", type=Path, required=True)
    assign.set_defaults(run=_assign)

    gaz = sub.add_parser("gazetteer", help="give each address its segment")
    gaz.add_argument("segmentation", type=Path, help="saved segmentation.gpkg")
    gaz.add_argument("addresses", type=Path, help="address file (CSV, XLSX or point layer)")
    gaz.add_argument("--id", required=True, help="address ID column (e.g. UPRN)")
    _add_location_options(gaz)
    gaz.set_defaults(run=_gazetteer)

    inc = sub.add_parser("incidents", help="profile incidents by segment (Table 1)")
    inc.add_argument("segmentation", type=Path)
    inc.add_argument("records", type=Path, nargs="+", help="incident file (CSV, XLSX or point "
                     "layer); several files, or a folder of them (e.g. police.uk's monthly "
                     "CSVs), of the same columns make one profile")
    inc.add_argument("--name", required=True, help="a name for this profile, e.g. fires")
    inc.add_argument("--out", type=Path, required=True)
    inc.add_argument("--id", help="record ID column (pseudonymised in outputs)")
    inc.add_argument("--count", action="append", help="count column (repeatable); default: "
                     "one incident per row")
    inc.add_argument("--date-column")
    _add_date_format(inc)
    inc.add_argument("--from", dest="date_from", help="first date, YYYY-MM-DD")
    inc.add_argument("--to", dest="date_to", help="last date, YYYY-MM-DD")
    inc.add_argument("--category-column")
    inc.add_argument("--category", action="append", help="category to keep (repeatable)")
    inc.add_argument("--uprn", help="UPRN column, looked up in the segmentation's gazetteer")
    inc.add_argument("--key-file", type=Path, help="secret key for pseudonymising IDs "
                     "(default: $COMMUNITY_SAFETY_KEY, else a one-off key)")
    _add_location_options(inc)
    inc.set_defaults(run=_incidents)

    mat = sub.add_parser("matrices", help="ward x segment matrices and the ward layer")
    mat.add_argument("segmentation", type=Path)
    mat.add_argument("--wards", type=Path, required=True, help="ward polygons or lookup table")
    mat.add_argument("--ward-code", required=True)
    mat.add_argument("--ward-name")
    mat.add_argument("--ward-layer")
    mat.add_argument("--rule", choices=["overlap", "centroid", "lookup"], default="overlap")
    mat.add_argument("--lookup-area-column", help="area-code column of a lookup table")
    mat.add_argument("--crs", help="the CRS the ward polygons are really in, when their "
                     "file's label is wrong (e.g. EPSG:27700)")
    mat.set_defaults(run=_matrices)

    exp = sub.add_parser("export", help="suppressed matrices for partners (CSV and XLSX)")
    exp.add_argument("segmentation", type=Path)
    exp.add_argument("--out", type=Path, required=True)
    exp.add_argument("--threshold", type=int, default=5,
                     help="suppress counts from 1 to this (default 5; at least 1)")
    exp.add_argument("--for-partners", action="store_true",
                     help="also write segmentation_for_partners.gpkg: segments, wards and "
                     "aggregate tables, suppressed, without address points or records")
    exp.set_defaults(run=_export)

    dem = sub.add_parser("demand", help="frequent service users across agencies "
                         "(pseudonymised) and the shared demand by segment and ward")
    dem.add_argument("project", type=Path, help="project file with a [demand] section")
    dem.add_argument("--out", type=Path, required=True, help="output folder (replaced whole)")
    dem.add_argument("--key-file", type=Path, help="secret key for the pseudonyms, kept "
                     "outside the project (default: $COMMUNITY_SAFETY_KEY; one is needed)")
    dem.add_argument("--run-date", help="the window is the 12 months before this date "
                     "(YYYY-MM-DD; default: the project's run_date, else today)")
    dem.add_argument("--top", type=int, help="the top N of each metric (default 100)")
    dem.add_argument("--scale-top", type=int, help="each total is divided by the mean of "
                     "its top this many values (default 1000)")
    dem.add_argument("--segmentation", type=Path, help="saved segmentation.gpkg: home "
                     "areas' segments and the shared view by segment")
    dem.add_argument("--threshold", type=int, help="shared view: suppress counts from 1 to "
                     "this (default 5)")
    _add_date_format(dem)
    dem.set_defaults(run=_demand)

    tgt = sub.add_parser("target", help="home fire safety checks: a ranked, explained visit "
                         "list within capacity (or --backtest on past fires)")
    tgt.add_argument("segmentation", type=Path, help="saved segmentation.gpkg (with its "
                     "gazetteer)")
    tgt.add_argument("--out", type=Path, required=True, help="folder for the list, layer, "
                     "summary and reconciliation (replaced whole)")
    tgt.add_argument("--capacity", type=int, help="number of visits")
    tgt.add_argument("--capacity-table", type=Path, help="visits per ward: CSV with "
                     "ward_code, visits")
    tgt.add_argument("--cluster-by-area", action="store_true", help="rank output areas and "
                     "list every eligible address of each chosen area")
    tgt.add_argument("--incidents", type=Path, nargs="+", help="incident file with dates (as "
                     "given to `incidents`; several files or a folder of the same columns "
                     "read as one); default: the stored incident counts")
    tgt.add_argument("--incident-table", help="name of a stored incident profile (e.g. fires)")
    tgt.add_argument("--date-column", help="the incidents' date column")
    _add_date_format(tgt)
    tgt.add_argument("--visited-date-format", help="the format of the visit dates, when it "
                     "differs from --date-format")
    tgt.add_argument("--from", dest="date_from", help="window start, YYYY-MM-DD")
    tgt.add_argument("--to", dest="date_to", help="window end, YYYY-MM-DD")
    tgt.add_argument("--visited", type=Path, help="CSV of visits: id, date")
    tgt.add_argument("--visited-months", type=_months, default=12,
                     help="exclude addresses visited within this many months (default 12)")
    tgt.add_argument("--opted-out", type=Path, help="CSV of addresses that opted out: id")
    tgt.add_argument("--flags", type=Path, help="partner flags: CSV with id, flag "
                     "(non_residential and opted_out exclude the address)")
    tgt.add_argument("--flag-weights", help='weights of the flags, e.g. '
                     '"over_75_alone=2,smoker=1.5"')
    tgt.add_argument("--wards", help="only these ward codes (comma separated)")
    tgt.add_argument("--segments", help="only these segments (comma separated)")
    tgt.add_argument("--today", help="the date visits are counted back from (default today)")
    tgt.add_argument("--backtest", action="store_true", help="fit on incidents up to "
                     "--cut-off and count the later ones captured")
    tgt.add_argument("--cut-off", help="last date of the fit period, YYYY-MM-DD")
    tgt.add_argument("--seed", type=_seed, default=2011, help="seed of the random baseline")
    tgt.add_argument("--model", action="store_true", help="score with the service-wide risk "
                     "model (own, neighbouring and LSOA/ward fires with time decay, property "
                     "types, census factors, segment) instead of the segment-shrunk rate")
    tgt.add_argument("--property-column", help="the incidents' property type column (e.g. "
                     "property_type): what past fires were in, for the model")
    tgt.add_argument("--lookup", type=Path, help="CSV: area code, then larger areas "
                     "(e.g. OA11CD, LSOA11CD, LAD11CD); with several boroughs the model's "
                     "backtest leaves each borough out in turn")
    tgt.add_argument("--project", type=Path, help="project file whose [risk_model] section "
                     "sets the model (default: settings chosen by validation)")
    tgt.add_argument("--postcode-points", action="store_true", help="the gazetteer is "
                     "postcode points: each holds its share of the area's households, and "
                     "--capacity counts households")
    _add_location_options(tgt)
    tgt.set_defaults(run=_target)

    rep = sub.add_parser("report", help="the partner report: one HTML file (maps, segment "
                         "profiles, incidents, ward matrices, method), safe to share")
    rep.add_argument("segmentation", type=Path, help="saved segmentation.gpkg")
    rep.add_argument("--out", type=Path, required=True, help="the report file, e.g. "
                     "report.html (replaced if it exists)")
    rep.add_argument("--threshold", type=int, default=5,
                     help="suppress counts from 1 to this (default 5; at least 1)")
    rep.set_defaults(run=_report)

    demo = sub.add_parser("demo", help="the whole job on the Camden sample: segments, "
                          "addresses, fires and anti-social behaviour, wards, a visit list, "
                          "the partner export and the report")
    demo.add_argument("--out", type=Path, default=Path("out") / "camden")
    demo.set_defaults(run=_demo)

    check = sub.add_parser("check", help="say whether the engine's Python packages are installed")
    check.set_defaults(run=_check)
    return parser


# commands whose --out folder is theirs alone, replaced whole by a rerun (the previous
# run kept at <parent>/.<name>.previous); incidents adds its files to a shared folder
WHOLE_FOLDER_COMMANDS = ("segment", "choose-k", "assign", "export", "demo", "demand")
# commands whose --out is one file, written atomically
FILE_COMMANDS = ("report",)


def check_output_folder(out: Path | None, whole: bool = False) -> None:
    """--out must be a folder we can write in (or one we can create); a folder a run
    replaces whole is checked by ``store.check_replaceable`` (which also refuses a file, an
    unwritable parent, and a folder holding anything but results of earlier runs)."""
    if out is None:
        return
    if whole:
        from .store.folders import check_replaceable

        check_replaceable(out)
        return
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file; --out needs a folder")
    existing = next((p for p in [out, *out.parents] if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{existing}: no permission to write there; choose another --out")


def check_inputs_outside(args) -> None:
    """A run that replaces its --out folder whole must not read from inside it: the swap
    would carry the input away (a segmentation, a project's tables)."""
    out = getattr(args, "out", None)
    if out is None:
        return
    folder = Path(os.path.realpath(os.path.abspath(out)))
    for name, value in vars(args).items():
        if name == "out" or not isinstance(value, Path):
            continue
        path = Path(os.path.realpath(os.path.abspath(value)))
        if path == folder or folder in path.parents:
            raise InputError(f"--out {out} holds the input {value}: a run replaces its "
                             "output folder whole, so give it a folder of its own (e.g. "
                             f"{Path(out).parent / (Path(out).name + '_' + args.command)})")


def _interrupted() -> str:
    """The one line said when the user stops a run with Ctrl-C: what is already in place
    (complete: each output is committed whole) or that nothing was written."""
    from .written import committed

    done = committed()
    if not done:
        return "community-safety: stopped; nothing was written"
    places = ", ".join(str(p) for p in done[:3]) + (f" and {len(done) - 3} more"
                                                    if len(done) > 3 else "")
    return (f"community-safety: stopped after writing {places} (complete); whatever "
            "had not been written yet was not")


def main(argv: list[str] | None = None) -> int:
    import signal

    from .written import clear

    clear()
    try:
        args = build_parser().parse_args(argv)
    except InputError as err:
        print(f"community-safety: error: {public_text(str(err))}", file=sys.stderr)
        return EXIT_INPUT
    try:
        if args.command in WHOLE_FOLDER_COMMANDS:
            check_inputs_outside(args)
        if args.command not in FILE_COMMANDS:
            check_output_folder(getattr(args, "out", None),
                                whole=args.command in WHOLE_FOLDER_COMMANDS)
        return args.run(args)
    except Exception as err:  # bad input, a full disk, permissions, a broken GeoPackage
        message = user_message(err)
        if message is None:  # a bug: its traceback is needed
            raise
        print(f"community-safety: error: {message}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        # a second Ctrl-C while saying so would print a traceback: ignored until said
        before = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            print(_interrupted(), file=sys.stderr)
        finally:
            if argv is not None:  # called from Python: the caller's handler back
                signal.signal(signal.SIGINT, before)
        return 130
    finally:
        if argv is None:  # the command itself: a Ctrl-C after the last line is ignored
            signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
