"""Sharing with partners: nothing personal, small numbers suppressed.

- ``suppression``: small counts suppressed across all published tables together;
- ``export``: the partner workbook, CSV files and GeoPackage, with their notes;
- ``partner_steps``: the ``matrices`` and ``export`` steps.
"""

from ..public import lazy_exports

_HOMES = {
    "matrices_step": "partner_steps",
    "export_step": "partner_steps",
    "WardSource": "partner_steps",
    "write_partner_export": "export",
    "write_partner_geopackage": "export",
    "suppress_tables": "suppression",
    "suppress": "suppression",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
