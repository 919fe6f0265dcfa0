"""Segments: from the areas' variables to numbered, named and profiled segments.

- ``screening``: one of each highly correlated pair, binary and low-range variables dropped;
- ``standardise``: z-scores (or ranges) and the missing values' fill;
- ``clustering``: k-means with many starts, and the choice of k;
- ``profiles``: index scores, bands, numbering from least to most deprived;
- ``portraits``: names and pen portraits in words;
- ``plots``: box plots and the elbow chart;
- ``build``: the whole build from a project, and assigning new areas;
- ``renaming``: the GIS officer's names and portraits written back;
- ``saved``: a segmentation saved to and loaded from its GeoPackage.
"""

from ..public import lazy_exports

_HOMES = {
    "build_segmentation": "build",
    "assign_areas": "build",
    "gather_area_data": "build",
    "Segmentation": "build",
    "fit_kmeans": "clustering",
    "choose_k": "clustering",
    "recommend_k": "clustering",
    "screen": "screening",
    "fit_standardiser": "standardise",
    "rename_segments": "renaming",
    "save_segmentation": "saved",
    "save_segmentation_as": "saved",
    "load_segmentation": "saved",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
