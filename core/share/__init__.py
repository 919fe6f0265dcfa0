"""Sharing with partners: nothing personal, small numbers suppressed.

- ``suppression``: small counts suppressed across all published tables together;
- ``export``: the partner workbook, CSV files and GeoPackage, with their notes;
- ``partner_steps``: the ``matrices`` and ``export`` steps.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "partner_steps": "matrices_step export_step WardSource",
    "export": "write_partner_export write_partner_geopackage",
    "suppression": "suppress_tables suppress",
})
