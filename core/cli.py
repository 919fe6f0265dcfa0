"""The ``community-safety`` command line.

    community-safety segment PROJECT.toml --out DIR [--k 10] [--seed N] [--choose-k 2-15]
    community-safety choose-k PROJECT.toml --out DIR [--k-min 2 --k-max 15]
    community-safety assign SEGMENTATION.gpkg PROJECT.toml --out DIR
    community-safety gazetteer SEGMENTATION.gpkg ADDRESSES.csv --id UPRN --x E --y N
    community-safety incidents SEGMENTATION.gpkg FIRES.csv --name fires --x E --y N --out DIR
    community-safety matrices SEGMENTATION.gpkg --wards WARDS.gpkg --ward-code WD22CD
    community-safety export SEGMENTATION.gpkg --out DIR [--threshold 5]
    community-safety demo [--out DIR]        (the Camden sample)
    community-safety check                   (are the engine's packages installed?)

Bad input ends with a one-line message naming the file, column or row, and exit code 2;
nothing is left half-written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import __version__
from .dependencies import dependency_problems, install_command
from .errors import InputError

SAMPLE_PROJECT = (Path(__file__).resolve().parent.parent / "resources" / "sample_data"
                  / "camden" / "camden.toml")
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


def _k_range(text: str) -> list[int]:
    try:
        low, high = (int(part) for part in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a range such as 2-15") from None
    if not 2 <= low <= high:
        raise argparse.ArgumentTypeError(f"'{text}': need 2 <= first <= last")
    return list(range(low, high + 1))


def _print_summary(seg, path: Path) -> None:
    from .segmentation import small_segments_note

    summary = seg.summary
    print(f"\n{seg.name}: {int(summary['areas'].sum())} areas in {len(summary)} segments "
          f"({len(seg.clustered)} variables clustered)")
    header = f"{'seg':>3}  {'areas':>5}  {'residents':>9}  {'mean deprivation':>16}  name"
    print(header)
    print("-" * max(len(header), 60))
    for number, row in summary.iterrows():
        residents = row.get("residents")
        residents = f"{int(residents):,}" if residents is not None and residents >= 0 else "-"
        print(f"{number:>3}  {int(row['areas']):>5}  {residents:>9}  "
              f"{row['mean_deprivation']:>16}  {row['name']}")
    numbering = seg.manifest.get("numbering", {}).get("description")
    if numbering:
        print(numbering)
    winsorised = seg.manifest["results"].get("winsorised", {})
    if winsorised.get("cells"):
        print(f"Winsorised at ±{winsorised['bound']:g}: {winsorised['cells']} values in "
              f"{len(winsorised['areas'])} areas clipped (listed in manifest.json)")
    small = small_segments_note(seg.manifest)
    if small:
        print(small, file=sys.stderr)
    print(f"\nSaved to {path}")


def _segment(args) -> int:
    from .clustering import choose_k
    from .project import load_project
    from .segmentation import build_segmentation, prepare
    from .store import save_segmentation

    project = load_project(args.project).with_overrides(k=args.k, seed=args.seed,
                                                        n_init=args.n_init)
    prepared = _run_with_bar(prepare, project)
    seg = _run_with_bar(build_segmentation, project, prepared=prepared)
    if args.choose_k:
        seg.diagnostics = _run_with_bar(choose_k, prepared.X, args.choose_k,
                                        n_init=min(project.n_init, 10), seed=project.seed)
    path = _run_with_bar(save_segmentation, seg, args.out, plots=not args.no_plots)
    _print_summary(seg, path)
    return 0


def _choose_k(args) -> int:
    from .clustering import choose_k, recommend_k
    from .plots import elbow_plot
    from .project import load_project
    from .segmentation import prepare
    from .store import staged_output

    if args.k_min > args.k_max:
        raise InputError(f"--k-min {args.k_min} is larger than --k-max {args.k_max}")
    project = load_project(args.project).with_overrides(seed=args.seed)
    prepared = _run_with_bar(prepare, project)
    ks = list(range(args.k_min, args.k_max + 1))
    table = _run_with_bar(choose_k, prepared.X, ks, n_init=args.n_init, seed=project.seed)
    with staged_output(args.out) as staging:
        table.to_csv(staging / "diagnostics.csv", index=False)
        elbow_plot(table, staging / "elbow.png")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\nRecommended: {recommend_k(table)[1]}")
    print(f"\nSaved diagnostics.csv and elbow.png to {args.out}")
    return 0


def _assign(args) -> int:
    from .project import load_project
    from .segmentation import assign_areas, gather_area_data
    from .store import load_segmentation, staged_output, write_assigned_layer

    seg = load_segmentation(args.segmentation)
    project = load_project(args.project)
    data = gather_area_data(project)
    assigned = assign_areas(seg, data.values)
    previous = seg.areas["segment"].reindex(assigned.index)
    assigned["previous_segment"] = previous
    with staged_output(args.out) as staging:
        write_assigned_layer(seg, data.areas, assigned, staging / "assigned.gpkg")
        assigned.rename_axis("area_code").reset_index().to_csv(staging / "assigned.csv",
                                                               index=False)
        data.reconciliation.to_csv(staging / "reconciliation.csv", index=False)
    known = previous.notna()
    changed = int((previous[known] != assigned.loc[known, "segment"]).sum())
    print(f"Assigned {len(assigned)} areas to the {len(seg.centres)} existing segments; "
          f"{int(known.sum())} were in the segmentation, {changed} of them changed segment.")
    print(f"Saved assigned.gpkg and assigned.csv to {args.out}")
    return 0


def _location(args):
    from .locate import LocationColumns
    from .places import PostcodeFile

    columns = LocationColumns(x=args.x, y=args.y, crs=args.crs, area_code=args.area_code,
                              postcode=args.postcode, uprn=getattr(args, "uprn", None))
    postcodes = None
    if args.postcode_file:
        names = args.postcode_file_columns.split(",")
        if len(names) != 3:
            raise InputError("--postcode-file-columns takes POSTCODE,X,Y")
        postcodes = PostcodeFile(args.postcode_file, *names)
    return columns, postcodes


def _gazetteer(args) -> int:
    from .places import gazetteer_step

    columns, postcodes = _location(args)
    layer, report, summary = gazetteer_step(args.segmentation, args.addresses, args.id,
                                            columns, postcodes)
    print(summary.to_string(index=False))
    print(f"\n{len(layer):,} of {len(report):,} records placed in a segment; the address "
          f"layer and match report are in {args.segmentation}")
    return 0


def _incidents(args) -> int:
    from .incidents import IncidentFilter
    from .places import incidents_step, unreadable_dates_note

    columns, postcodes = _location(args)
    rules = IncidentFilter(args.date_column, args.date_from, args.date_to,
                           args.category_column, tuple(args.category or ()))
    profile, records = incidents_step(args.segmentation, args.records, args.name, columns,
                                      args.out, args.id, tuple(args.count or ()), rules,
                                      postcodes, args.key_file)
    shown = ["segment", "measure", "count", "share_pct", "rate_per_1000_households", "index",
             "index_low_95", "index_high_95", "representation"]
    print(profile[shown].to_string(index=False))
    status = records["status"].value_counts()
    print("\nRecords: " + ", ".join(f"{n:,} {s}" for s, n in status.items()))
    note = unreadable_dates_note(records)
    if note:
        print(note, file=sys.stderr)
    print(f"Saved the profile, chart and record reconciliation to {args.out}")
    return 0


def _matrices(args) -> int:
    from .places import WardSource, matrices_step

    source = WardSource(args.wards, args.ward_code, args.ward_name, args.ward_layer,
                        args.rule, args.lookup_area_column)
    matrices, layer = matrices_step(args.segmentation, source)
    for name, matrix in matrices.items():
        print(f"{name}: {len(matrix) - 1} wards, total {matrix.loc['Total', 'Total']:,.0f}")
    if layer is not None:
        print(f"Ward layer with dominant segments saved in {args.segmentation}")
    return 0


def _export(args) -> int:
    from .places import export_step

    written = export_step(args.segmentation, args.out, args.threshold)
    print(f"Wrote {len(written)} files for partners to {args.out} (counts of 1 to "
          f"{args.threshold} suppressed, with secondary suppression)")
    return 0


def _add_location_options(parser) -> None:
    parser.add_argument("--x", help="easting / longitude column")
    parser.add_argument("--y", help="northing / latitude column")
    parser.add_argument("--crs", default="EPSG:27700", help="CRS of x/y (default EPSG:27700)")
    parser.add_argument("--area-code", help="output-area code column")
    parser.add_argument("--postcode", help="postcode column (needs --postcode-file)")
    parser.add_argument("--postcode-file", type=Path, help="postcode points (Code-Point Open)")
    parser.add_argument("--postcode-file-columns", default="Postcode,Eastings,Northings",
                        help="its postcode, x and y columns")


def _demo(args) -> int:
    args.project, args.k, args.seed, args.n_init = SAMPLE_PROJECT, None, None, None
    args.choose_k, args.no_plots = None, False
    return _segment(args)


def _check(args) -> int:
    problems = dependency_problems()
    if not problems:
        print("All engine dependencies are installed in supported versions.")
        return 0
    print(f"Missing Python packages: {', '.join(str(p) for p in problems)}", file=sys.stderr)
    missing = [problem.dependency for problem in problems]
    print(f"Install them with: {install_command(missing)}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="community-safety",
        description="Community Safety Segmentation: segment output areas by risk.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    seg = sub.add_parser("segment", help="build, profile and save a segmentation")
    seg.add_argument("project", type=Path, help="project file (TOML)")
    seg.add_argument("--out", type=Path, required=True, help="output folder")
    seg.add_argument("--k", type=int, help="number of segments (overrides the project)")
    seg.add_argument("--seed", type=int, help="random seed (overrides the project)")
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
    ck.add_argument("--seed", type=int)
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
    inc.add_argument("records", type=Path, help="incident file (CSV, XLSX or point layer)")
    inc.add_argument("--name", required=True, help="a name for this profile, e.g. fires")
    inc.add_argument("--out", type=Path, required=True)
    inc.add_argument("--id", help="record ID column (pseudonymised in outputs)")
    inc.add_argument("--count", action="append", help="count column (repeatable); default: "
                     "one incident per row")
    inc.add_argument("--date-column")
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
    mat.set_defaults(run=_matrices)

    exp = sub.add_parser("export", help="suppressed matrices for partners (CSV and XLSX)")
    exp.add_argument("segmentation", type=Path)
    exp.add_argument("--out", type=Path, required=True)
    exp.add_argument("--threshold", type=int, default=5)
    exp.set_defaults(run=_export)

    demo = sub.add_parser("demo", help="segment the Camden sample data")
    demo.add_argument("--out", type=Path, default=Path("out") / "camden")
    demo.set_defaults(run=_demo)

    check = sub.add_parser("check", help="say whether the engine's Python packages are installed")
    check.set_defaults(run=_check)
    return parser


def check_output_folder(out: Path | None) -> None:
    """--out must be a folder we can write in (or one we can create)."""
    if out is None:
        return
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file; --out needs a folder")
    existing = next((p for p in [out, *out.parents] if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{existing}: no permission to write there; choose another --out")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_output_folder(getattr(args, "out", None))
        return args.run(args)
    except InputError as err:
        print(f"community-safety: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as err:  # disk full, permissions, a path that is not a folder...
        where = f"{err.filename}: " if err.filename else ""
        print(f"community-safety: error: {where}{err.strerror or err}",
              file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("community-safety: stopped; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
