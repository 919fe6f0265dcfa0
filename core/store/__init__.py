"""The store: how results reach the disk whole, and the saved segmentation's GeoPackage.

- ``folders``: a command's ``--out`` folder replaced whole, files in a folder the user
  chose replaced all or none, single files replaced atomically, and the tidying of what a
  killed run left;
- ``together``: two outputs (a folder and the GeoPackage) committed together by a journal;
- ``geopackage``: tables, layer styles and descriptions in a GeoPackage, changed on a copy
  that replaces it only if the segmentation there is still the one a step read;
- ``names``: the names of a saved segmentation's files and layers.
"""

from ..public import lazy_exports

_HOMES = {
    "replaced_folder": "folders",
    "staged_files": "folders",
    "atomic_file": "folders",
    "tidy": "folders",
    "read_gpkg_table": "geopackage",
    "write_table": "geopackage",
    "add_to_geopackage": "geopackage",
    "gpkg_file": "geopackage",
    "GPKG_NAME": "names",
    "SEGMENT_LAYER": "names",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
