"""The commands for the services' work: ``demand`` (frequent service users and the
shared demand) and ``target`` (the visit list, or a backtest on past fires)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError
from .options import _add_date_format, _add_location_options, _location, _seed, postcode_file
from .progress_bar import _run_with_bar


def _months(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}': give a whole number of months, 0 or more")
    return value


def _target(args) -> int:
    from ..store.backtest_columns import console_table
    from ..store.folders import replacement_note
    from ..targeting.backtest import backtest_step
    from ..targeting.history import IncidentFile
    from ..targeting.steps import TargetInputs, summary_lines, target_step
    from ..targeting.visit_list import TargetOptions, parse_segments

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
        if args.postcode_points:
            print("--postcode-points: without --model the backtest ranks output areas (an "
                  "area's postcode points share its score, so ranking them gives the same "
                  "figures); --model --postcode-points ranks each postcode on its own fires")
        result, written = backtest_step(args.segmentation, args.out, incidents, args.cut_off,
                                        args.date_from, args.date_to, args.seed,
                                        replace_folder=True)
        print(f"Backtest: fitted on {result.fit_incidents:,} fires {result.fit_period}, "
              f"tested on {result.test_incidents:,} fires {result.test_period}")
        if result.counted_as:
            print(f"Households: {result.counted_as}")
        print(f"Share of the later fires (%) in the top 1, 5, 10 and 20% of {result.homes}, "
              "and the area under the capture curve (0.5 = random order):")
        print(console_table(result.table).to_string(index=False))
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
    print("\n".join(summary_lines(result.summary)))
    print(f"Saved {', '.join(p.name for p in written)} to {args.out} (addresses and IDs "
          "only in target_list and target.gpkg, for the crews)")
    if replacing:
        print(replacing)
    return 0


def _model_backtest(args, incidents) -> int:
    from ..targeting.risk_study import model_backtest_step

    _, lines, written = model_backtest_step(
        args.segmentation, args.out, incidents, args.cut_off, args.date_from, args.date_to,
        args.lookup, args.project, args.seed, replace_folder=False,
        postcode_points=args.postcode_points)
    for line in lines:
        print(line)
    charts = [p.name for p in written if p.name.startswith("capture_curve_")]
    names = [p.name for p in written if p.name not in charts]
    if charts:
        names.append(f"a capture-curve chart for each of the {len(charts)} boroughs "
                     "(capture_curve_<borough>.png)")
    print(f"Saved {', '.join(names)} to {args.out}")
    return 0


def _demand(args) -> int:
    from ..demand.steps import demand_job, summary_lines
    from ..store.folders import replacement_note

    replacing = replacement_note(args.out)
    postcodes = postcode_file(args)
    result, written, key_source = _run_with_bar(
        demand_job, args.project, args.key_file, args.out, segmentation=args.segmentation,
        run_date=args.run_date, top=args.top, scale_top=args.scale_top,
        threshold=args.threshold, date_format=args.date_format, postcodes=postcodes)
    for line in summary_lines(result):
        print(line)
    shown = [c for c in result.ranked.columns if c.endswith(" rank")]
    top = result.ranked[["pseudonym", *shown]].head(10)
    print(top.where(top.notna(), "not ranked").to_string(index=False))
    views = ", ".join(f"by {by}" for by in result.shared) or "none (no wards or segments)"
    print(f"Pseudonymised with {key_source}. Shared-demand view (suppressed): {views}.")
    if args.segmentation and result.shared:
        print(f"The shared-demand tables are also in {args.segmentation}, for the report")
    print(f"Saved {len(written)} files to {args.out}")
    if replacing:
        print(replacing)
    return 0


def add_commands(sub) -> None:
    """The ``demand`` and ``target`` commands and their options."""
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
    dem.add_argument("--postcode-file", type=Path, help="postcode points (Code-Point "
                     "Open): a home area given as a postcode is placed in the output area its "
                     "point falls in (needs the segmentation's boundaries; overrides "
                     "[demand] postcodes)")
    dem.add_argument("--postcode-file-columns", default="Postcode,Eastings,Northings",
                     help="its postcode, x and y columns")
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
    tgt.add_argument("--wards", help="only these wards, by code or name (comma separated)")
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
