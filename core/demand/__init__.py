"""Demand: the most frequent service users across agencies, pseudonymised, ranked and
shared as counts.
"""

from ..public import lazy_exports

_HOMES = {
    "demand_step": "steps",
    "write_demand": "steps",
    "load_demand_project": "steps",
    "demand_job": "steps",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
