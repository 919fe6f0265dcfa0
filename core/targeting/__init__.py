"""Targeting: which areas and addresses get home fire safety visits, and how well that
choice would have done.

- ``visits``: the visit list within the visits a service can afford, with reasons;
- ``backtest``: a choice tested on incidents after a cut-off date;
- ``risk_features``, ``risk_model``, ``risk_backtest``, ``risk_study``: the risk model,
  fitted and tested across boroughs.
"""

from ..public import lazy_exports

_HOMES = {
    "target_step": "visits",
    "TargetOptions": "visits",
    "build_targets": "visits",
    "backtest_step": "backtest",
    "model_backtest_step": "risk_study",
}
__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
