"""The segmentation commands: ``segment``, ``choose-k`` and ``assign``, with the summary
of a segmentation they print."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError
from .options import _seed
from .progress_bar import _run_with_bar


def _k_range(text: str) -> list[int]:
    try:
        low, high = (int(part) for part in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a range such as 2-15") from None
    if not 2 <= low <= high:
        raise argparse.ArgumentTypeError(f"'{text}': need 2 <= first <= last")
    return list(range(low, high + 1))


def _print_table(seg) -> None:
    """The segments: number, areas, residents, mean deprivation, name."""
    import pandas as pd

    summary = seg.summary
    print(f"\n{seg.name}: {int(summary['areas'].sum())} areas in {len(summary)} segments "
          f"({len(seg.clustered)} variables clustered)")
    # "mean deprivation" only where a deprivation measure numbers the segments
    # headed by its measure and which way is more deprived ("mean IMD19, lower = more
    # deprived"): a mean IMD rank is largest in the least deprived segment
    deprivation = "mean_deprivation" in summary.columns
    numbering = seg.manifest.get("numbering", {})
    said = numbering.get("said") or numbering.get("measure")  # "deprivation measure (IMD19)"
    heading = f"mean {said}" if said else "mean deprivation"
    if numbering.get("more_deprived") in ("lower", "higher"):
        heading += f" ({numbering['more_deprived']} = more deprived)"
    width = max(16, len(heading))
    measure = f"  {heading:>{width}}" if deprivation else ""
    header = f"{'seg':>3}  {'areas':>5}  {'residents':>9}{measure}  name"
    print(header)
    print("-" * max(len(header), 60))
    for number, row in summary.iterrows():
        residents = row.get("residents")
        residents = (f"{int(residents):,}" if residents is not None and pd.notna(residents)
                     and residents >= 0 else "-")
        value = f"  {row['mean_deprivation']:>{width},.1f}" if deprivation else ""
        print(f"{number:>3}  {int(row['areas']):>5}  {residents:>9}{value}  {row['name']}")
    if numbering.get("description"):
        print(numbering["description"])


def _print_summary(seg, path: Path) -> None:
    from ..segment.area_data import filled_rows_notes, reconciliation_notes
    from ..segment.build import small_segments_note, unclassified_note
    from ..segment.notes import constant_counts_note, labels_note, set_aside_note

    _print_table(seg)
    winsorised = seg.manifest["results"].get("winsorised", {})
    if winsorised.get("cells"):
        print(f"Winsorised at ±{winsorised['bound']:g}: {winsorised['cells']} values in "
              f"{len(winsorised['areas'])} areas clipped (listed in manifest.json)")
    if seg.manifest["results"].get("random_starts_note"):
        print(seg.manifest["results"]["random_starts_note"])
    tables = {way["table"] for v, way in seg.manifest.get("preparation", {}).items()
              if v in seg.clustered}
    unclassified = seg.manifest["results"].get("unclassified_areas", [])
    for warning in (*reconciliation_notes(seg.reconciliation),
                    *filled_rows_notes(seg.reconciliation, tables, unclassified,
                                       "the study area's medians"),
                    unclassified_note(seg.manifest),
                    set_aside_note(seg.manifest), constant_counts_note(seg.manifest),
                    labels_note(seg.manifest),
                    small_segments_note(seg.manifest)):
        if warning:
            print(warning, file=sys.stderr)
    print(f"\nSaved to {path}")


def _segment(args) -> int:
    from ..project.project_file import load_project
    from ..segment.build import build_segmentation
    from ..segment.choosing_k import choose_k
    from ..segment.prepare import prepare
    from ..segment.saved import save_segmentation
    from ..store.folders import replacement_note

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
    from ..project.project_file import load_project
    from ..segment.choosing_k import choose_k, diagnostics_for_readers, recommend_k
    from ..segment.plots import elbow_plot
    from ..segment.prepare import prepare
    from ..store.folders import replaced_folder, replacement_note

    if args.k_min > args.k_max:
        raise InputError(f"--k-min {args.k_min} is larger than --k-max {args.k_max}")
    project = load_project(args.project).with_overrides(seed=args.seed)
    prepared = _run_with_bar(prepare, project)
    ks = list(range(args.k_min, args.k_max + 1))
    table = _run_with_bar(choose_k, prepared.X, ks, n_init=args.n_init, seed=project.seed)
    replacing = replacement_note(args.out)
    from ..cells import write_csv

    with replaced_folder(args.out) as staging:
        write_csv(table, staging / "diagnostics.csv", index=False)
        elbow_plot(table, staging / "elbow.png")
    print(diagnostics_for_readers(table).to_string(index=False))
    sampled = bool(table["silhouette_sampled"].any()) if "silhouette_sampled" in table else False
    if sampled:
        print("(silhouette on a sample of the areas)")
    print(f"\nRecommended: {recommend_k(table)[1]}")
    print(f"\nSaved diagnostics.csv and elbow.png to {args.out}")
    if replacing:
        print(replacing)
    return 0


def _assign(args) -> int:
    from ..project.project_file import load_project
    from ..segment.area_data import filled_rows_notes, gather_area_data, reconciliation_notes
    from ..segment.assign import assigned_segmentation, far_areas_note
    from ..segment.build import unclassified_note
    from ..segment.notes import assigned_note
    from ..segment.preparation import check_same_preparation
    from ..segment.saved import load_segmentation, save_segmentation
    from ..store.folders import replacement_note
    from ..store.geopackage import gpkg_file

    source = gpkg_file(args.segmentation)
    seg = load_segmentation(source)
    project = load_project(args.project)
    record = seg.manifest.get("preparation")
    check_same_preparation(record or {}, seg.clustered, project)
    data = _run_with_bar(gather_area_data, project)
    refreshed, changes = assigned_segmentation(seg, data, source, project)
    replacing = replacement_note(args.out)
    path = _run_with_bar(save_segmentation, refreshed, args.out, plots=not args.no_plots,
                         also={"assigned.csv": changes.rename_axis("area_code").reset_index()})
    done = refreshed.manifest["assigned"]
    _print_table(refreshed)
    new = len(done["new_areas"])
    print(f"\n{assigned_note(refreshed.manifest)}. {done['areas_in_segmentation']:,} of the "
          f"areas were in {source.name}"
          + (f", {new:,} {'is' if new == 1 else 'are'} new" if new else "")
          + "; assigned.csv lists each area's segment beside its previous one. Sizes, "
          "profiles and pen portraits are counted again on this year's areas and values.")
    tables = {way["table"] for v, way in (record or {}).items() if v in seg.clustered}
    for note in (*reconciliation_notes(refreshed.reconciliation),
                 *filled_rows_notes(refreshed.reconciliation, tables,
                                    refreshed.manifest["results"]["unclassified_areas"],
                                    "the segmentation's medians"),
                 unclassified_note(refreshed.manifest), far_areas_note(refreshed.manifest)):
        if note:
            print(note, file=sys.stderr)
    if project.k != len(refreshed.summary):
        print(f"{args.project.name}: k = {project.k} is not used: assign keeps the "
              f"{len(refreshed.summary)} segments of {source.name} (k is for segment)",
              file=sys.stderr)
    if record is None:
        print(f"{source.name} was saved by an earlier version that does not record how each "
              "table's counts were made into shares: check each [[tables]] entry gives the "
              "denominator (or counts = \"as is\") it had when the segmentation was built",
              file=sys.stderr)
    print(f"\nSaved to {path}: the same segments with this year's areas and values, a saved "
          "segmentation like the one segment writes; give it to incidents, gazetteer, "
          "matrices, target and report")
    if replacing:
        print(replacing)
    return 0


def add_commands(sub) -> None:
    """The ``segment``, ``choose-k`` and ``assign`` commands and their options."""
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
    assign.add_argument("--out", type=Path, required=True,
                        help="output folder: the refreshed segmentation (segmentation.gpkg)")
    assign.add_argument("--no-plots", action="store_true", help="skip the box plots")
    assign.set_defaults(run=_assign)
