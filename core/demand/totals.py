"""The names a run counts by: the nine totals and their metrics, the kinds of source, the
scalings."""

from __future__ import annotations

INVESTIGATIONS = "investigations and custody"
ORIGINATOR = "originator"
SUBJECT = "subject"
OVERALL = "overall"
METRICS = (INVESTIGATIONS, ORIGINATOR, SUBJECT, OVERALL)
# how a project names a metric for a new total ("none": shown, not ranked)
METRIC_NAMES = {"investigations": INVESTIGATIONS, "originator": ORIGINATOR,
                "subject": SUBJECT, "none": None}

SUSPECT, OFFENDER, VICTIM = "times a suspect", "times an offender", "times a victim"
EPISODES, CUSTODY_HOURS = "custody episodes", "custody hours"
CALLS_CALLER, HOURS_CALLER = "calls as caller", "resource hours as caller"
CALLS_SUBJECT, HOURS_SUBJECT = "calls as subject", "resource hours as subject"
NINE_TOTALS = {SUSPECT: INVESTIGATIONS, OFFENDER: INVESTIGATIONS, VICTIM: INVESTIGATIONS,
               EPISODES: INVESTIGATIONS, CUSTODY_HOURS: INVESTIGATIONS,
               CALLS_CALLER: ORIGINATOR, HOURS_CALLER: ORIGINATOR,
               CALLS_SUBJECT: SUBJECT, HOURS_SUBJECT: SUBJECT}
HOUR_TOTALS = {CUSTODY_HOURS, HOURS_CALLER, HOURS_SUBJECT}
HARM_CAUSED, HARM_RECEIVED = "harm caused", "harm received"
CAUSING, RECEIVING = (SUSPECT, OFFENDER), (VICTIM,)
CUSTODY_LIMIT = 200.0

KINDS = ("roles", "custody", "calls", "count")
DEFAULT_ROLES = {"roles": {"suspect": SUSPECT, "offender": OFFENDER, "victim": VICTIM},
                 "calls": {"caller": "caller", "subject": "subject"}}
CALL_TOTALS = {"caller": (CALLS_CALLER, HOURS_CALLER), "subject": (CALLS_SUBJECT, HOURS_SUBJECT)}
PRE_PLANNED = ("pre-planned", "pre-planned event", "preplanned", "planned event", "operation",
               "planned operation")
SCALING_WORDS = {"max": "divided by the largest ratio (0 stays 0, the largest is 1)",
                 "cap": "capped at 1"}
SCALINGS = tuple(SCALING_WORDS)
