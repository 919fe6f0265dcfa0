"""Reports for people: the partner HTML report and the ward atlas pages.

- ``html_report``: the report (template in ``templates/``);
- ``charts``: its pictures;
- ``gaps``: what a report leaves out when a table is missing, said in words;
- ``ward_pages``: one page per ward for the atlas.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "html_report": "write_report",
    "ward_pages": "ward_pages",
})
