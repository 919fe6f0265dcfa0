"""What a source's home areas are checked against: the study's output areas (their codes, and
where they come from) and, when a postcode file is given, their boundaries, so that a home
postcode is placed in the output area its point falls in (``data.locate``'s postcode
points and area index: one place for that logic).

A home-area value that is not one of the study's areas (a postcode not placed, a code of
an area elsewhere, free text) is never kept past reading: it becomes an opaque label
(``ELSEWHERE`` and a keyed hash, so that one person's records at the same place still
count together for the most common home area), which the outputs show as "not one of the
study's areas" and never as the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

# the start of the label a home area not among the study's areas is kept as
ELSEWHERE = "(elsewhere) "  # lower case: never a value read (values are upper-cased)
# a UK postcode, with or without its space ("BR6 9AT", "NW18QR")
POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"
# an output-area code of the GSS kind (E00004521, W00000001, S00088956, N00000001), for a
# run that knows no areas
AREA_CODE = r"[EWSN][0-9]{8}"


@dataclass
class KnownAreas:
    """The study's area codes (an index), where they come from (in words), and the placing
    of home postcodes (None without a postcode file)."""

    codes: pd.Index
    where: str
    postcodes: HomePostcodes | None = None


@dataclass
class HomePostcodes:
    """Postcode points and the study's output areas, to place home postcodes."""

    points: pd.DataFrame  # normalised postcode -> x, y (British National Grid)
    index: object  # data.locate.AreaIndex
    file: str  # the postcode file's name, for the notes

    def place(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each value: the area code its postcode's point falls in ('' where none),
        whether the postcode is in the file, and whether its point is in a study area."""
        from ..data.locate import normalise_postcodes

        found = self.points.reindex(normalise_postcodes(values).to_numpy())
        known = found["x"].notna().to_numpy()
        area = np.full(len(values), -1, dtype=np.int64)
        area[known] = self.index.by_location(found["x"].to_numpy()[known],
                                             found["y"].to_numpy()[known])
        codes = np.where(area >= 0, self.index.codes.to_numpy()[np.maximum(area, 0)], "")
        return codes.astype(object), known, area >= 0


def home_postcodes(postcodes, segmentation: Path | None) -> HomePostcodes | None:
    """The postcode file (``places.steps.PostcodeFile``) and the segmentation's output areas,
    ready to place home postcodes; None without a postcode file."""
    if postcodes is None:
        return None
    if segmentation is None:
        raise InputError(f"{Path(postcodes.path).name}: placing home postcodes in output "
                         "areas needs the areas' boundaries: give the saved segmentation "
                         "(--segmentation, or segmentation in [demand])")
    import geopandas as gpd

    from ..data.locate import AreaIndex
    from ..store.geopackage import gpkg_file
    from ..store.names import SEGMENT_LAYER

    path = gpkg_file(segmentation)
    try:
        areas = gpd.read_file(path, layer=SEGMENT_LAYER, columns=["area_code"],
                              engine="pyogrio")
    except Exception as err:
        raise InputError(f"{path}: not a saved segmentation ({err})") from err
    areas.index = areas.pop("area_code").astype(str).str.strip().str.upper()
    return HomePostcodes(points=postcodes.points(), index=AreaIndex(areas),
                         file=Path(postcodes.path).name)


def elsewhere(values: np.ndarray, key: bytes) -> np.ndarray:
    """The opaque labels of home-area values not among the study's areas."""
    from ..data.pseudonyms import digester

    digest = digester(key)
    return np.array([ELSEWHERE + digest(str(v)) for v in values], dtype=object)


def is_elsewhere(homes: pd.Series) -> pd.Series:
    return homes.astype(str).str.startswith(ELSEWHERE)
