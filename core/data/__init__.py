"""Data in: partner tables, boundaries, coordinates, dates and identifiers, read and checked.

- ``ingest``: CSV/Excel tables and boundary files, area codes matched, counts to rates;
- ``crs``: coordinate reference systems declared, guessed and checked against Great Britain;
- ``dates``: one reader of dates for every step;
- ``derive``: the project's ``[derive]`` sums and differences, and row totals;
- ``locate``: records placed in output areas (coordinates, postcodes, UPRNs);
- ``pseudonyms``: the secret key checked, identifiers replaced by keyed hashes.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "ingest": "read_table read_boundaries read_vector read_lookup reproject_to_bng",
    "dates": "parse_dates",
    "crs": "parse_crs",
    "locate": "LocationColumns AreaIndex locate",
    "pseudonyms": "pseudonymise key_problem",
})
