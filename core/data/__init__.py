"""Data in: partner tables, boundaries, coordinates, dates and identifiers, read and checked.

- ``ingest``: CSV/Excel tables and boundary files, area codes matched, counts to rates;
- ``crs``: coordinate reference systems declared, guessed and checked against Great Britain;
- ``dates``: one reader of dates for every step;
- ``derive``: the project's ``[derive]`` sums and differences, and row totals;
- ``locate``: records placed in output areas (coordinates, postcodes, UPRNs);
- ``pseudonyms``: the secret key checked, identifiers replaced by keyed hashes.
"""

from ..public import lazy_exports

_HOMES = {
    "read_table": "ingest",
    "read_boundaries": "ingest",
    "read_vector": "ingest",
    "read_lookup": "ingest",
    "reproject_to_bng": "ingest",
    "parse_dates": "dates",
    "parse_crs": "crs",
    "LocationColumns": "locate",
    "AreaIndex": "locate",
    "locate": "locate",
    "pseudonymise": "pseudonyms",
    "key_problem": "pseudonyms",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
