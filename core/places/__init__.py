"""Places: the segments taken to addresses, incidents and wards.

- ``gazetteer``: the address gazetteer (UPRN/LLPG) joined to its output areas' segments;
- ``incidents``: incidents filtered, counted by segment, rates and over/under-representation;
- ``matrices``: wards from polygons or a lookup, and ward x segment matrices;
- ``steps``: the ``gazetteer`` and ``incidents`` steps, which add their layers and tables to
  the saved segmentation.
"""

from ..public import lazy_exports

_HOMES = {
    "gazetteer_step": "steps",
    "incidents_step": "steps",
    "IncidentFilter": "incidents",
    "incident_profile": "incidents",
    "wards_from_polygons": "matrices",
    "wards_from_lookup": "matrices",
    "ward_segment_matrices": "matrices",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
