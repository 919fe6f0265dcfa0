"""The store: how results reach the disk whole, and the saved segmentation's GeoPackage.

Read from the top down (each module uses only those below it):

- ``folders``: a command's ``--out`` folder replaced whole, files in a folder the user
  chose replaced all or none, and single files replaced atomically;
- ``together``: two outputs (a folder and the GeoPackage, or files and the GeoPackage)
  committed together by a journal;
- ``geopackage``: tables, layer styles and descriptions in a GeoPackage, changed on a copy
  that replaces it only if the segmentation there is still the one a step read;
- ``result_files``: the files the commands write, and whether a run may replace an output
  folder whole;
- ``tidying``: what killed runs left, finished (commits, from their journals) or removed;
- ``swap``: a complete folder put in place of another, the one before kept as
  ``.<name>.previous``;
- ``work_names``: the hidden work names of this machine and process, and their removal;
- ``names``: the names of a saved segmentation's files and layers.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "folders": "replaced_folder staged_files atomic_file",
    "tidying": "tidy",
    "geopackage": "read_gpkg_table write_table add_to_geopackage gpkg_file",
    "names": "GPKG_NAME SEGMENT_LAYER",
})
