"""Targeting: which areas and addresses get home fire safety visits, and how well that
choice would have done.

- ``rates``: each area's fire rate per household, shrunk toward its segment's, and the
  households per area;
- ``history``: the incident file, each incident's area and date, and counts in a window;
- ``capture``: capture curves (later fires in the top households of a ranking) and the
  area under them;
- ``visit_inputs``: the service's files keyed by address ID (visits made, opt-outs, partner
  flags, capacity by ward) and the reconciliation of their rows;
- ``reasons``: exclusion reasons, priority bands and each address's reasons in words;
- ``visit_list``: the visit list within the visits a service can afford (score, exclude,
  fill);
- ``steps``: the visit list's step on a saved segmentation, writing the crews' list and
  its layers;
- ``backtest``: a choice tested on incidents after a cut-off date;
- ``risk_features``, ``risk_model``, ``risk_backtest``, ``risk_study``: the risk model,
  fitted and tested across boroughs.
"""

from ..public import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "steps": "target_step TargetInputs",
    "visit_list": "TargetOptions build_targets",
    "rates": "shrunk_rates",
    "history": "IncidentFile",
    "backtest": "backtest_step",
    "risk_study": "model_backtest_step",
})
