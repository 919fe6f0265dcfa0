"""The project: the TOML file that says what a segmentation is built from, and the wizard's
guesses when a GIS officer starts one.

- ``project_file``: read, check and write the project file;
- ``rules``: the screening and banding rules a project may set;
- ``guesses``: what the wizard proposes from a table's columns.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "project_file": "Project TableSpec load_project save_project project_to_toml",
    "rules": "BandRule ScreeningRules",
})
