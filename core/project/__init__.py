"""The project: the TOML file that says what a segmentation is built from, and the wizard's
guesses when a GIS officer starts one.

- ``project_file``: read, check and write the project file;
- ``rules``: the screening and banding rules a project may set;
- ``guesses``: what the wizard proposes from a table's columns.
"""

from ..public import lazy_exports

_HOMES = {
    "Project": "project_file",
    "TableSpec": "project_file",
    "load_project": "project_file",
    "save_project": "project_file",
    "project_to_toml": "project_file",
    "BandRule": "rules",
    "ScreeningRules": "rules",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
