"""Places: the segments taken to addresses, incidents and wards.

- ``gazetteer``: the address gazetteer (UPRN/LLPG) joined to its output areas' segments;
- ``incidents``: incidents filtered, counted by segment, rates and over/under-representation;
- ``matrices``: wards from polygons or a lookup, and ward x segment matrices;
- ``steps``: the ``gazetteer`` and ``incidents`` steps, which add their layers and tables to
  the saved segmentation.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "steps": "gazetteer_step incidents_step",
    "incidents": "IncidentFilter incident_profile",
    "matrices": "wards_from_polygons wards_from_lookup ward_segment_matrices",
})
