"""Segments: from the areas' variables to numbered, named and profiled segments.

- ``area_data``: the boundaries and every table gathered and matched to the areas;
- ``labels``: the labels file, each variable's description and theme;
- ``screening``: one of each highly correlated pair, binary and low-range variables dropped;
- ``standardise``: z-scores (or ranges) and the missing values' fill;
- ``prepare``: the matrix k-means runs on (screened, filled, standardised, winsorised);
- ``kmeans``: k-means with many starts (the fit, described step by step), using
  ``starts`` (the random starts in single precision), ``polish`` (the exact steps in
  double precision), ``finalists`` (a large matrix's starts judged on a sample),
  ``partitions`` (partitions compared) and ``threads`` (the engine's pool of threads);
- ``choosing_k``: the diagnostics for each k, and the k recommended;
- ``profiles``: index scores, bands, numbering from least to most deprived;
- ``vocabulary`` and ``words``: the words for each variable, and its theme;
- ``descriptors``: what describes a segment (each variable's difference and score);
- ``names`` and ``portraits``: names and pen portraits in words;
- ``plots``: box plots and the elbow chart;
- ``build``: the whole build from a project;
- ``assign``: new areas assigned to a saved segmentation's segments;
- ``renaming``: the GIS officer's names and portraits written back;
- ``saved``: a segmentation saved to and loaded from its GeoPackage.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "build": "build_segmentation Segmentation",
    "assign": "assign_areas",
    "area_data": "gather_area_data",
    "kmeans": "fit_kmeans",
    "choosing_k": "choose_k recommend_k",
    "screening": "screen",
    "standardise": "fit_standardiser",
    "renaming": "rename_segments",
    "saved": "save_segmentation save_segmentation_as load_segmentation",
})
