"""The partner report (``report``) and the whole job on the Camden sample (``demo``)."""

from __future__ import annotations

import sys
from pathlib import Path

from .progress_bar import _run_with_bar
from .segmentation import _print_summary


def _demo(args) -> int:
    from ..demo import run_demo
    from ..store.folders import replacement_note

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
    from ..report.html_report import missing_for_report
    from ..report.pdf import write_report_files

    written = write_report_files(args.segmentation, args.out, args.threshold, args.pdf)
    suppressed = f"safe to share (counts of 1 to {args.threshold} suppressed)"
    if written.pdf:
        print(f"Wrote {written.pdf}: the report on A4 pages, {suppressed}, printed from "
              f"{written.html}")
    else:
        print(f"Wrote {written.html}: one HTML file with its pictures, {suppressed}; open it "
              "in a web browser or print it")
    gaps = missing_for_report(args.segmentation)
    for warning in (gaps, written.unnumbered):
        if warning:
            print(f"community-safety: warning: {warning}", file=sys.stderr)
    if written.no_pdf:
        print(f"community-safety: error: {written.no_pdf}", file=sys.stderr)
        return 1
    return 0


def add_commands(sub) -> None:
    """The ``report`` and ``demo`` commands and their options."""
    rep = sub.add_parser("report", help="the partner report: one HTML file (maps, segment "
                         "profiles, incidents, ward matrices, method), safe to share")
    rep.add_argument("segmentation", type=Path, help="saved segmentation.gpkg")
    rep.add_argument("--out", type=Path, required=True, help="the report file, e.g. "
                     "report.html, or report.pdf for an A4 PDF beside the HTML (replaced "
                     "if it exists)")
    rep.add_argument("--pdf", action="store_true", help="also print the report to an A4 "
                     "PDF of the same name (needs Chromium, Chrome or Edge; "
                     "COMMUNITY_SAFETY_BROWSER names one)")
    rep.add_argument("--threshold", type=int, default=5,
                     help="suppress counts from 1 to this (default 5; at least 1)")
    rep.set_defaults(run=_report)

    demo = sub.add_parser("demo", help="the whole job on the Camden sample: segments, "
                          "addresses, fires and anti-social behaviour, wards, a visit list, "
                          "the partner export and the report")
    demo.add_argument("--out", type=Path, default=Path("out") / "camden")
    demo.set_defaults(run=_demo)
