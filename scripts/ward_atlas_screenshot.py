"""One page of the ward atlas as a PNG, for the README (run by ``make screenshots``).

    .venv/bin/python scripts/ward_atlas_screenshot.py --out docs/ward_atlas.png
        [--segmentation SEGMENTATION.gpkg] [--ward "Kentish Town South"] [--pdf atlas.pdf]

Without ``--segmentation`` it segments the Camden sample, profiles its fires and
anti-social behaviour and builds the ward matrices in a temporary folder first (about
20 s), then builds the atlas in headless QGIS exactly as the Processing algorithm does,
and renders the chosen ward's page.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "resources" / "sample_data" / "camden"
WARD = "Kentish Town South"  # ten segments, fires and anti-social behaviour


def sample_segmentation(folder: Path) -> Path:
    """The Camden sample with fires, anti-social behaviour and ward matrices."""
    from community_safety.core.cli import main

    def run(*args):
        if main([str(a) for a in args]) != 0:
            raise SystemExit(f"community-safety {args[0]} failed")

    run("segment", SAMPLE / "camden.toml", "--out", folder / "camden", "--no-plots")
    gpkg = folder / "camden" / "segmentation.gpkg"
    run("incidents", gpkg, SAMPLE / "lfb_dwelling_fires.csv", "--name", "fires",
        "--x", "easting_rounded", "--y", "northing_rounded", "--date-column", "date",
        "--out", folder / "incidents")
    run("incidents", gpkg, SAMPLE / "street_crime_2019_07.csv", "--name",
        "antisocial_behaviour", "--x", "Easting", "--y", "Northing", "--category-column",
        "Category", "--category", "Anti-social behaviour", "--out", folder / "incidents")
    run("matrices", gpkg, "--wards", SAMPLE / "wards_2022.gpkg", "--ward-code", "WD22CD",
        "--ward-name", "WD22NM")
    return gpkg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--segmentation", type=Path, help="a segmentation with ward matrices")
    parser.add_argument("--ward", default=WARD, help="the ward whose page is shown")
    parser.add_argument("--pdf", type=Path, help="also keep the whole atlas here")
    parser.add_argument("--dpi", type=float, default=120)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    try:
        from community_safety.qgis_plugin.ward_atlas import export_ward_atlas, render_page

        with tempfile.TemporaryDirectory() as work:
            gpkg = args.segmentation or sample_segmentation(Path(work))
            pdf = args.pdf or Path(work) / "ward_atlas.pdf"
            layout, pages = export_ward_atlas(gpkg, pdf)
            atlas = layout.atlas()
            names = [atlas.nameForPage(index) for index in range(atlas.count())]
            if args.ward not in names:
                raise SystemExit(f"no ward '{args.ward}' in the atlas: {', '.join(names)}")
            render_page(layout, args.out, names.index(args.ward), dpi=args.dpi)
        print(f"{args.out}: page {names.index(args.ward) + 1} of {pages} ({args.ward})")
    finally:
        app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
