"""What several commands share: the seed's type, the date format option, and the
location options (x/y, CRS, area code, postcodes) with how they are read."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError


def _seed(text: str) -> int:
    from ..project.project_file import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"'{text}': a seed is a whole number from 0 to "
                                         f"{MAX_SEED:,}")
    return value


def _location(args):
    from ..data.locate import LocationColumns

    columns = LocationColumns(x=args.x, y=args.y, crs=args.crs or "EPSG:27700",
                              area_code=args.area_code, postcode=args.postcode,
                              uprn=getattr(args, "uprn", None),
                              crs_given=args.crs is not None)
    return columns, postcode_file(args)


def postcode_file(args):
    """The postcode points ``--postcode-file`` gives (its columns ``--postcode-file-columns``),
    or None."""
    from ..places.steps import PostcodeFile

    if not args.postcode_file:
        return None
    names = args.postcode_file_columns.split(",")
    if len(names) != 3:
        raise InputError("--postcode-file-columns takes POSTCODE,X,Y")
    return PostcodeFile(args.postcode_file, *names)


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
