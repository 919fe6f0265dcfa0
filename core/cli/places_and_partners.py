"""The commands that place records in segments and share the results with partners:
``gazetteer``, ``incidents``, ``matrices`` and ``export``."""

from __future__ import annotations

import sys
from pathlib import Path

from .options import _add_date_format, _add_location_options, _location


def _gazetteer(args) -> int:
    from ..places.gazetteer import placed_line
    from ..places.steps import gazetteer_step

    columns, postcodes = _location(args)
    layer, report, summary = gazetteer_step(
        args.segmentation, args.addresses, args.id, columns, postcodes,
        warn=lambda text: print(f"Warning: {text}", file=sys.stderr))
    print(summary.to_string(index=False))
    print(f"\n{placed_line(layer, len(report))}; the address layer and match report are "
          f"in {args.segmentation}")
    return 0


def _incidents(args) -> int:
    from ..places.incidents import IncidentFilter, console_profile, words
    from ..places.steps import counted_line, incidents_step, safe_name, unreadable_dates_note

    columns, postcodes = _location(args)
    rules = IncidentFilter(args.date_column, args.date_from, args.date_to,
                           args.category_column, tuple(args.category or ()),
                           args.date_format)
    earlier = (Path(args.out) / f"incident_profile_{safe_name(args.name)}.csv").exists()
    profile, records = incidents_step(args.segmentation, args.records, args.name, columns,
                                      args.out, args.id, tuple(args.count or ()), rules,
                                      postcodes, args.key_file, note=args.note or "")
    from ..store.geopackage import gpkg_file, read_gpkg_table

    gpkg = gpkg_file(Path(args.segmentation))
    names = read_gpkg_table(gpkg, "segment_summary").set_index("segment")["name"]
    about = read_gpkg_table(gpkg, f"incident_about_{safe_name(args.name)}").iloc[0]
    period = str(about.get("period") or "")
    print(f"{words(args.name)}, by segment"
          + (f" ({period}; rates over the whole period)" if period not in ("", "not known")
             else ""))
    print(console_profile(profile, names.to_dict()).to_string(index=False))
    status = records["status"].value_counts()
    print("\nRecords: " + ", ".join(f"{n:,} {s}" for s, n in status.items()))
    print(counted_line(about))
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
    from ..share.partner_steps import WardSource, matrices_step
    from ..share.partner_words import matrices_said

    source = WardSource(args.wards, args.ward_code, args.ward_name, args.ward_layer,
                        args.rule, args.lookup_area_column, args.crs)
    matrices, layer = matrices_step(
        args.segmentation, source,
        warn=lambda text: print(f"community-safety: warning: {text}", file=sys.stderr))
    for line in matrices_said(args.segmentation, matrices):
        print(line)
    if layer is not None:
        print(f"Ward layer with dominant segments saved in {args.segmentation}")
    return 0


def _export(args) -> int:
    from ..share.partner_steps import export_step
    from ..store.folders import replacement_note

    replacing = replacement_note(args.out)
    written = export_step(args.segmentation, args.out, args.threshold, replace_folder=True,
                          geopackage=args.for_partners)
    print(f"Wrote {len(written)} files for partners to {args.out} (counts of 1 to "
          f"{args.threshold} suppressed, with secondary suppression)")
    if replacing:
        print(replacing)
    return 0


def add_commands(sub) -> None:
    """The ``gazetteer``, ``incidents``, ``matrices`` and ``export`` commands and their
    options."""
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
    inc.add_argument("--note", help="what a reader should know about the file (e.g. wards "
                     "it has no records for), shown with its source in the report")
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
