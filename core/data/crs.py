"""Coordinate sanity: coordinates must fit their declared CRS, and land in Great Britain.

One place for the checks that boundaries, address points and incident points all need:
metres labelled as degrees (or degrees labelled as metres) are refused with a message that
says so, and data that reproject outside Great Britain are refused.
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from ..errors import InputError

BNG = "EPSG:27700"
# British National Grid's extent with a margin: anything outside is not in Great Britain.
GB_BOUNDS = (-100_000, -100_000, 800_000, 1_300_000)


PROJECT_FIX = 'a project file can set it: crs = "EPSG:27700" under [boundaries]'
# how the CRS of a file's coordinate columns is given on the command line
OPTION_FIX = "give the right one with --crs, e.g. --crs EPSG:27700"
# how a layer's own (declared) CRS is corrected, in QGIS or on the command line
LAYER_FIX = ("set the layer's right CRS: in QGIS, Layer Properties › Source, or the "
             "'Assign projection' tool; on the command line, --crs, e.g. --crs EPSG:27700")


def check_declared_crs(bounds, crs: CRS, source: str, fix: str | None = None) -> None:
    """Refuse coordinates whose extent contradicts the units of their declared CRS; ``fix``
    says how this input's CRS is set (default: the project file's [boundaries] crs)."""
    fix = fix or PROJECT_FIX
    minx, miny, maxx, maxy = bounds
    looks_like_degrees = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    example = f"({minx:.6g}, {miny:.6g})"
    if crs.is_geographic and not looks_like_degrees:
        raise InputError(
            f"{source}: coordinates such as {example} cannot be longitude/latitude in degrees, "
            f"but the CRS ({crs.name}) says degrees; they look like metres "
            f"(British National Grid?): correct the CRS and try again ({fix})"
        )
    if crs.is_projected and looks_like_degrees:
        raise InputError(
            f"{source}: coordinates such as {example} look like longitude/latitude in degrees, "
            f"but the CRS ({crs.name}) is in metres: correct the CRS (EPSG:4326 for GPS "
            f"coordinates) and try again ({fix.replace('27700', '4326')})"
        )


def check_in_great_britain(bounds, crs: CRS, source: str) -> None:
    minx, miny, maxx, maxy = bounds
    gx0, gy0, gx1, gy1 = GB_BOUNDS
    if not (gx0 <= minx and maxx <= gx1 and gy0 <= miny and maxy <= gy1):
        raise InputError(
            f"{source}: after reprojection from {crs.name} the data lie outside Great "
            f"Britain (extent {minx:.0f}, {miny:.0f} to {maxx:.0f}, {maxy:.0f} m): check the CRS"
        )


def parse_crs(text, source: str) -> CRS:
    """A CRS from what a user typed (EPSG:27700, 27700, a WKT...), or one clear line."""
    try:
        return CRS.from_user_input(text)
    except CRSError as err:
        raise InputError(f"{source}: '{text}' is not a coordinate reference system that PROJ "
                         "knows (for example EPSG:27700 or EPSG:4326)") from err


def points_to_bng(x: np.ndarray, y: np.ndarray, crs, source: str, fix: str | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Reproject coordinate arrays (NaN where missing) to British National Grid, checked."""
    crs = parse_crs(crs, source)
    valid = np.isfinite(x) & np.isfinite(y)
    if not valid.any():
        return x.astype(float), y.astype(float)
    bounds = (x[valid].min(), y[valid].min(), x[valid].max(), y[valid].max())
    check_declared_crs(bounds, crs, source, fix)
    if crs.equals(CRS.from_epsg(27700)):
        ex, ny = x.astype(float), y.astype(float)
    else:
        transformer = Transformer.from_crs(crs, BNG, always_xy=True)
        ex, ny = np.full(len(x), np.nan), np.full(len(y), np.nan)
        ex[valid], ny[valid] = transformer.transform(x[valid], y[valid])
    check_not_swapped(bounds, crs, source)
    check_in_great_britain((ex[valid].min(), ny[valid].min(), ex[valid].max(), ny[valid].max()),
                           crs, source)
    return ex, ny


# Great Britain in longitude and latitude, with a margin
GB_DEGREES = (-9.0, 49.0, 3.0, 61.0)


def check_not_swapped(bounds, crs: CRS, source: str) -> None:
    """Refuse degrees whose x holds Great Britain's latitudes and y its longitudes (the
    columns given the wrong way round), saying so: after reprojection they would only be
    "outside Great Britain"."""
    minx, miny, maxx, maxy = bounds
    west, south, east, north = GB_DEGREES
    if crs.is_geographic and south <= minx <= maxx <= north and west <= miny <= maxy <= east \
            and not (west <= minx <= maxx <= east):
        raise InputError(
            f"{source}: the x coordinates ({minx:.6g} to {maxx:.6g}) are Great Britain's "
            f"latitudes and the y coordinates ({miny:.6g} to {maxy:.6g}) its longitudes: "
            "the columns are the wrong way round; give the longitude as x (--x) and the "
            "latitude as y (--y)")
