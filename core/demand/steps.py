"""Frequent service users: the police method across agencies, pseudonymised, and the
shared-demand view partners can act on without linking individuals.

The method (a police force's frequent-service-user tool), as implemented here
-------------------------------------------------------------------------------
- **Window**: records dated on or after ``run date - months`` (12 by default) and before
  the run date (the run date itself is outside). A call counts by its own date; its
  resource times only measure it. The date is read first: a record without a readable
  date, or outside the window, gets that status whatever else is wrong with it, and only
  the records in the window are read further (their IDs, roles, areas...).
- **Nine totals per person**: (1) times a suspect, (2) times an offender, (3) times a
  victim, (4) custody episodes, (5) custody hours: each episode's duration clipped to
  0..200 (above 200 set to 200, negative set to 0), then summed; (6) calls as caller,
  (7) resource hours as caller, (8) calls as subject, (9) resource hours as subject. A call
  counts once per person and role however often the person is listed on it. The resource
  hours of an incident are the sum, over every resource sent, of released - the earliest
  of assigned / deployed / arrived; a resource row whose times cannot be read (or whose
  release comes before its start) adds nothing and is listed. Incidents marked as
  pre-planned events or operations are left out with all their rows. Partner sources add
  to these totals or to new totals declared in the project (``[demand.totals]``).
- **Scaling**: each total is divided by the mean of its largest ``scale_top`` (1,000)
  values over everyone (all values when there are fewer people), then scaled to 0..1:
  ``max`` (default) divides the ratios by the largest (the largest becomes 1, 0 stays 0:
  min-max scaling, as someone always has 0 when there are many people; note that this
  makes the scaled value the total over the largest total, whatever the top mean);
  ``cap`` keeps the ratio and sets ratios above 1 to 1 (everyone at or above the top
  users' mean counts fully, so one extreme person cannot flatten everyone else). A total
  nobody has scores 0.
- **Metrics**: the scaled totals summed with equal weight: investigations and custody
  (1-5), originator (6-7), subject (8-9), overall (every total in a metric; the nine by
  default).
- **Ranks**: out of everyone with a used record in the window, on every metric, highest
  first; tied people share the best rank of their group (1, 2, 2, 4: "min" ranks). Lists
  are ordered by rank, then by pseudonym (a fixed, arbitrary tie-break that depends on the
  key only).
- **The list**: on each metric the people ranked ``top`` (100) or better with a score above
  0 (so ties at the boundary are all kept), de-duplicated: 100 to 400 people as a rule.
- **Filters** (area, theme from keywords in flag or text columns, a total above 0 such as
  missing-person reports in the window, priority crime types): the people who match, and
  of them the ``top`` best placed on each metric, de-duplicated; ranks stay those out of
  everyone (a filter never re-ranks).
- **Context columns**, not in the ranking: harm caused (the sum of a crime-harm weight per
  offence as suspect or offender, from a weight table the user supplies, e.g. the
  Cambridge Crime Harm Index) and harm received (as victim); the home area, the most
  common output area on the person's records in the window (a tie goes to the area of the
  most recent record among those tied, then to the lowest code), with its ward and
  segment.

Personal data
-------------
Person IDs (or names and date of birth, where a source links on those) become a keyed
hash (HMAC-SHA-256, ``privacy.pseudonymise``) as each source is read: only the distinct
identities are hashed, and nothing else of a record is kept but its date, its counts and
hours, its offence, its home area and whether it matches a theme. Names, dates of birth,
phone numbers and addresses never go past ingest, so no output can hold them. The key is
the user's, kept outside the project (a key file or ``$COMMUNITY_SAFETY_KEY``); without it
nothing runs. The same key gives the same pseudonyms in every run and agency.

The shared-demand view
----------------------
Demand by segment and by ward of the home area (people, contacts, the totals, the contacts
of the people in the top 1% and 5% of everyone on the overall metric). Both views of a run
are suppressed together (``suppress_views``, with ``privacy.suppress_tables``) against a
reader who knows every identity between the published figures: each column adds up to its
total, contacts are the sum of the counted totals in every row, both views count the same
people, and the top 1% are among the top 5%, who are among everyone; rates per 1,000
residents and shares are computed from the published counts only.
"""

from __future__ import annotations

import ctypes
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..cells import write_csv
from ..errors import InputError
from ..progress import Progress, silent

# --- the totals and metrics -------------------------------------------------------------------

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

# reconciliation statuses: every input record lands in exactly one
USED = "used"
OUTSIDE = "outside the window"
PLANNED = "pre-planned event or operation (excluded)"
BAD_DATE = "date unreadable"
BAD_DURATION = "used, duration unreadable (counted without hours)"
NO_ID = "no person ID"
NOT_COUNTED = "role not counted"
REPEAT = "same person, call and role again (counted once)"
BAD_LINE = "line unreadable"
NO_INCIDENT = "no such call in the calls table"
INCIDENT_UNUSED = "call not used (outside the window, pre-planned or no person)"
BAD_TIMES = "resource times unreadable (adds no hours)"
PER_ROW = (BAD_DATE, BAD_DURATION, NO_ID, NOT_COUNTED, BAD_LINE, NO_INCIDENT, BAD_TIMES)


# --- the project's [demand] section -------------------------------------------------------------

@dataclass(frozen=True)
class Resources:
    """A call's resources: one row per resource sent, with its times."""

    path: Path
    incident: str
    released: str
    assigned: str | None = "assigned"
    deployed: str | None = "deployed"
    arrived: str | None = "arrived"
    date_format: str | None = None  # the source's, for its times


@dataclass(frozen=True)
class Source:
    """One table of one source system, mapped to totals."""

    name: str
    path: Path
    kind: str  # roles | custody | calls | count
    id: tuple = ()  # person ID column(s), each value normalised
    names: tuple = ()  # or names ...
    dob: str | None = None  # ... and date of birth, when the source links on those
    date: str = "date"
    role: str | None = None  # roles, calls
    roles: dict = field(default_factory=dict)  # role value (any case) -> total / caller|subject
    offence: str | None = None  # roles: harm weights and priority crime filters
    text: tuple = ()  # columns searched for theme keywords (never kept)
    home_area: str | None = None  # output-area code of the person's home on the record
    hours: str | None = None  # custody: duration in hours; count: hours for hours_total
    start: str | None = None  # custody: start and end times instead of hours
    end: str | None = None
    incident: str | None = None  # calls: incident ID, shared with the resources table
    exclude: str | None = None  # calls: column marking pre-planned events and operations
    exclude_values: tuple = PRE_PLANNED
    resources: Resources | None = None
    total: str | None = None  # count: the total each row adds 1 to
    hours_total: str | None = None  # count: the total its hours add to
    date_format: str | None = None  # e.g. "%m/%d/%Y %H:%M"; None: ISO or judged day first


@dataclass(frozen=True)
class ThemeFilter:
    """People matching: a keyword in a source's text columns or offence, an offence, a total
    above 0, or a home in the given areas or wards (any one that is set)."""

    name: str
    keywords: tuple = ()
    offences: tuple = ()
    total: str | None = None
    areas: tuple = ()
    wards: tuple = ()


@dataclass(frozen=True)
class AreaTable:
    """Output areas with their ward and residents (any of them), for the shared view."""

    path: Path
    code: str
    ward: str | None = None
    ward_name: str | None = None
    residents: str | None = None


@dataclass(frozen=True)
class DemandProject:
    path: Path
    name: str
    sources: tuple
    totals: dict = field(default_factory=dict)  # new total -> metric (None: not ranked)
    filters: tuple = ()
    run_date: str | None = None
    months: int = 12
    top: int = 100
    scale_top: int = 1000
    scaling: str = "max"
    harm: tuple | None = None  # (path, offence column, weight column)
    areas: AreaTable | None = None
    segmentation: Path | None = None
    threshold: int = 5

    def with_overrides(self, **changes) -> DemandProject:
        from dataclasses import replace

        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def hour_totals(self) -> set:
        """The totals that are hours (the rest count events)."""
        return HOUR_TOTALS | {s.hours_total for s in self.sources if s.hours_total}

    def total_metrics(self) -> dict:
        """Every total -> its metric (None: context only), the nine first."""
        return {**NINE_TOTALS, **self.totals}


DEMAND_KEYS = {"name", "run_date", "months", "top", "scale_top", "scaling", "harm_weights",
               "areas", "segmentation", "threshold", "totals", "sources", "filters",
               "date_format"}
SOURCE_KEYS = {"name", "path", "kind", "id", "names", "dob", "date", "role", "roles",
               "offence", "text", "home_area", "hours", "start", "end", "incident", "exclude",
               "exclude_values", "resources", "total", "hours_total", "date_format"}
RESOURCE_KEYS = {"path", "incident", "assigned", "deployed", "arrived", "released"}
FILTER_KEYS = {"name", "keywords", "offences", "total", "areas", "wards"}
AREA_KEYS = {"path", "code", "ward", "ward_name", "residents"}
HARM_KEYS = {"path", "offence", "weight"}


def _listed(value, where: str, source: Path) -> tuple:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{source.name}: [{where}] should be a name or a list of names")
    return tuple(value)


def _source(spec: dict, i: int, base: Path, totals: dict, path: Path,
            date_format: str | None = None) -> Source:
    from ..project.project_file import _check_keys, _under

    where = f"demand.sources #{i}"
    _check_keys(where, spec, SOURCE_KEYS, path)
    for needed in ("path", "kind"):
        if needed not in spec:
            raise InputError(f"{path.name}: [[demand.sources]] #{i} needs {needed}")
    kind = spec["kind"]
    if kind not in KINDS:
        raise InputError(f"{path.name}: [[demand.sources]] #{i} kind = '{kind}' is not one of: "
                         f"{', '.join(KINDS)}")
    ids = _listed(spec.get("id", []), f"{where}] id", path)
    names = _listed(spec.get("names", []), f"{where}] names", path)
    if not ids and not (names and spec.get("dob")):
        raise InputError(f"{path.name}: [[demand.sources]] #{i} needs id (the person ID "
                         "column) or names and dob (to link on name and date of birth)")
    roles = {}
    if kind in DEFAULT_ROLES:
        given = spec.get("roles", DEFAULT_ROLES[kind])
        if not isinstance(given, dict) or not given:
            raise InputError(f"{path.name}: [[demand.sources]] #{i} roles should map role "
                             'values to totals, e.g. {Suspect = "times a suspect"}')
        roles = {str(k).strip().casefold(): v for k, v in given.items()}
        allowed = set(CALL_TOTALS) if kind == "calls" else set(totals)
        for value, target in roles.items():
            if target not in allowed:
                raise InputError(
                    f"{path.name}: [[demand.sources]] #{i} maps role '{value}' to unknown "
                    f"total '{target}' (known: {', '.join(sorted(allowed))}; declare a new "
                    "total under [demand.totals])")
    elif "roles" in spec:
        raise InputError(f"{path.name}: [[demand.sources]] #{i} roles only apply to kind "
                         "roles or calls")
    for key in ("total", "hours_total"):
        if spec.get(key) is not None and spec[key] not in totals:
            raise InputError(f"{path.name}: [[demand.sources]] #{i} {key} = '{spec[key]}' is "
                             "not a known total (declare a new one under [demand.totals])")
    needs = {"roles": ("role",), "calls": ("role", "incident"), "count": ("total",),
             "custody": ()}[kind]
    for key in needs:
        if not spec.get(key):
            raise InputError(f"{path.name}: [[demand.sources]] #{i} (kind {kind}) needs {key}")
    if kind == "custody" and not spec.get("hours") and not (spec.get("start")
                                                             and spec.get("end")):
        raise InputError(f"{path.name}: [[demand.sources]] #{i} (custody) needs hours, or "
                         "start and end")
    resources = None
    if kind == "calls":
        given = spec.get("resources")
        if not isinstance(given, dict) or "path" not in given or "released" not in given:
            raise InputError(f"{path.name}: [[demand.sources]] #{i} (calls) needs resources = "
                             '{path = "...", incident = "...", released = "..."} (and '
                             "assigned, deployed, arrived)")
        _check_keys(f"{where} resources", given, RESOURCE_KEYS, path)
        resources = Resources(path=_under(base, given["path"]),
                              incident=given.get("incident", spec["incident"]),
                              released=given["released"], date_format=date_format,
                              **{k: given[k] for k in ("assigned", "deployed", "arrived")
                                 if k in given})
    date_format = spec.get("date_format", date_format)
    exclude_values = tuple(v.casefold() for v in _listed(
        spec.get("exclude_values", list(PRE_PLANNED)), f"{where}] exclude_values", path))
    return Source(
        name=str(spec.get("name", Path(spec["path"]).stem)), path=_under(base, spec["path"]),
        kind=kind, id=ids, names=names, dob=spec.get("dob"), date=spec.get("date", "date"),
        role=spec.get("role"), roles=roles, offence=spec.get("offence"),
        text=_listed(spec.get("text", []), f"{where}] text", path),
        home_area=spec.get("home_area"), hours=spec.get("hours"), start=spec.get("start"),
        end=spec.get("end"), incident=spec.get("incident"), exclude=spec.get("exclude"),
        exclude_values=exclude_values, resources=resources, total=spec.get("total"),
        hours_total=spec.get("hours_total"), date_format=date_format)


def demand_from_toml(data: dict, path: Path) -> DemandProject:
    """The ``[demand]`` section of a project file, checked (paths relative to the file)."""
    from ..project.project_file import _check_keys, _typed, _under

    if "demand" not in data or not isinstance(data["demand"], dict):
        raise InputError(f"{path.name}: no [demand] section (see "
                         "resources/sample_data/camden/service_users/service_users.toml)")
    section = data["demand"]
    _check_keys("demand", section, DEMAND_KEYS, path)
    base = path.parent
    totals = {}
    for name, metric in section.get("totals", {}).items():
        if metric not in METRIC_NAMES:
            raise InputError(f"{path.name}: [demand.totals] '{name}' = '{metric}' is not one "
                             f"of: {', '.join(METRIC_NAMES)}")
        if name in NINE_TOTALS or name in (HARM_CAUSED, HARM_RECEIVED):
            raise InputError(f"{path.name}: [demand.totals] '{name}' is already a total")
        totals[name] = METRIC_NAMES[metric]
    known = {**NINE_TOTALS, **totals}
    sources = [_source(spec, i, base, known, path, section.get("date_format"))
               for i, spec in enumerate(section.get("sources", []), start=1)]
    if not sources:
        raise InputError(f"{path.name}: no [[demand.sources]]")
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise InputError(f"{path.name}: two [[demand.sources]] have the same name; give each "
                         "a name")
    filters = []
    for i, spec in enumerate(section.get("filters", []), start=1):
        _check_keys(f"demand.filters #{i}", spec, FILTER_KEYS, path)
        given = [k for k in ("keywords", "offences", "total", "areas", "wards") if k in spec]
        if "name" not in spec or len(given) != 1:
            raise InputError(f"{path.name}: [[demand.filters]] #{i} needs a name and one of "
                             "keywords, offences, total, areas or wards")
        if spec.get("total") is not None and spec["total"] not in known:
            raise InputError(f"{path.name}: [[demand.filters]] #{i} total = '{spec['total']}'"
                             " is not a known total")
        filters.append(ThemeFilter(
            name=str(spec["name"]), total=spec.get("total"),
            **{k: _listed(spec[k], f"demand.filters #{i}] {k}", path)
               for k in ("keywords", "offences", "areas", "wards") if k in spec}))
    harm = section.get("harm_weights")
    if harm is not None:
        if not isinstance(harm, dict) or set(harm) != HARM_KEYS:
            raise InputError(f"{path.name}: [demand] harm_weights needs path, offence and "
                             'weight, e.g. {path = "harm.csv", offence = "offence", weight = '
                             '"harm_days"}')
        harm = (_under(base, harm["path"]), harm["offence"], harm["weight"])
    areas = section.get("areas")
    if areas is not None:
        if not isinstance(areas, dict) or "path" not in areas or "code" not in areas:
            raise InputError(f"{path.name}: [demand] areas needs path and code (and ward, "
                             "ward_name, residents)")
        _check_keys("demand.areas", areas, AREA_KEYS, path)
        areas = AreaTable(path=_under(base, areas["path"]), code=areas["code"],
                          ward=areas.get("ward"), ward_name=areas.get("ward_name"),
                          residents=areas.get("residents"))
    project = DemandProject(
        path=path, name=str(section.get("name", data.get("name", path.stem))),
        sources=tuple(sources), totals=totals, filters=tuple(filters),
        run_date=section.get("run_date"),
        months=_typed(path, "demand", section.get("months", 12), int, "months"),
        top=_typed(path, "demand", section.get("top", 100), int, "top"),
        scale_top=_typed(path, "demand", section.get("scale_top", 1000), int, "scale_top"),
        scaling=section.get("scaling", "max"), harm=harm, areas=areas,
        segmentation=(_under(base, section["segmentation"]) if section.get("segmentation")
                      else None),
        threshold=_typed(path, "demand", section.get("threshold", 5), int, "threshold"))
    check_parameters(project)
    return project


def check_parameters(project: DemandProject) -> None:
    """Settings that cannot give a sound ranking, in one line."""
    where = project.path.name
    if project.top < 1:
        raise InputError(f"{where}: [demand] top = {project.top} must be at least 1")
    if project.scale_top < 1:
        raise InputError(f"{where}: [demand] scale_top = {project.scale_top} must be at "
                         "least 1")
    if project.months < 1:
        raise InputError(f"{where}: [demand] months = {project.months} must be at least 1")
    if project.threshold < 1:
        raise InputError(f"{where}: [demand] threshold = {project.threshold} must be at "
                         "least 1")
    if project.scaling not in SCALINGS:
        raise InputError(f"{where}: [demand] scaling = '{project.scaling}' is not one of: "
                         f"{', '.join(SCALINGS)}")


def load_demand_project(path: Path) -> DemandProject:
    from ..project.project_file import read_toml

    return demand_from_toml(*read_toml(path))


def demand_key(key_file: Path | None) -> tuple[bytes, str]:
    """The user's pseudonymisation key and where it came from; no key, no run (a one-off
    key would give pseudonyms no partner could link)."""
    import os

    from ..data.pseudonyms import KEY_ENVIRONMENT, pseudonymisation_key

    if key_file is None and not os.environ.get(KEY_ENVIRONMENT):
        raise InputError("no pseudonymisation key: give --key-file FILE (a secret of at "
                         f"least 16 characters, kept outside the project) or set "
                         f"${KEY_ENVIRONMENT}; nothing was written")
    return pseudonymisation_key(key_file)


# --- reading a source: pseudonymise first, keep counts only ------------------------------------

def run_window(run_date: str | None, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end): ``months`` before the run date, the run date itself outside."""
    from ..places.incidents import window_date

    end = window_date(run_date, "the run date") or pd.Timestamp.today().normalize()
    return end - pd.DateOffset(months=months), end


def _column(frame: pd.DataFrame, name: str, source: str) -> pd.Series:
    if name not in frame.columns:
        raise InputError(f"{source}: no column '{name}' (columns are "
                         f"{', '.join(map(str, frame.columns))})")
    return frame[name]


def factorize(values) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values)``: the same codes and distinct values, faster on a long column
    of text objects. Cells that are one object (a file reader gives repeated texts one
    object; copies of a cell are one) are grouped by the object's address first, a fast
    integer hashing; then only the distinct objects are compared by value."""
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if array.dtype != object or array.ndim != 1 or len(array) < 100_000:
        return pd.factorize(values, use_na_sentinel=True)
    array = np.ascontiguousarray(array)
    address = np.ctypeslib.as_array(
        (ctypes.c_ssize_t * len(array)).from_address(array.ctypes.data)).copy()
    by_object, _ = pd.factorize(address)
    first_row = np.flatnonzero(~pd.Series(address).duplicated().to_numpy())  # in that order
    codes, uniques = pd.factorize(array[first_row], use_na_sentinel=True)
    return codes[by_object], uniques


def distinct(values: pd.Series, how=None, each=str.strip) -> tuple[np.ndarray, pd.Series]:
    """(per row a code, the distinct cells as text, trimmed; a blank or missing cell is '').
    Work on a column of millions is done once per distinct value: ``each`` (a function of
    one text, trimming by default) and then ``how`` (of the Series of texts)."""
    codes, uniques = factorize(values)
    try:  # text cells (as files are read): no conversion
        text = [each(v) for v in uniques]
    except (TypeError, AttributeError):  # numbers, dates...
        text = [each(str(v)) for v in uniques]
    text = pd.Series(text + [""], dtype=object)
    if how is not None:
        text = how(text)
    return np.where(codes < 0, len(text) - 1, codes), text


def cells(values: pd.Series, how=None) -> np.ndarray:
    """Every cell as trimmed text ('' where blank), ``how`` applied to the distinct ones."""
    codes, text = distinct(values, how)
    return text.to_numpy(dtype=object)[codes]


def read_dates(values: pd.Series, date_format: str | None = None, column: str = "date",
               source: str = "the file") -> tuple[np.ndarray, np.ndarray]:
    """(datetime64 values, unreadable mask: given but not a date), each distinct text read
    once by the one date reader (``dates.parse_dates``: zones converted, a US or undecided
    day/month order refused unless the format is given)."""
    from ..data.dates import parse_dates

    if pd.api.types.is_datetime64_any_dtype(values):
        dates = parse_dates(values).to_numpy(dtype="datetime64[ns]")
        return dates, np.zeros(len(values), dtype=bool)
    codes, text = distinct(values)
    parsed = parse_dates(text, date_format, column, source).to_numpy(dtype="datetime64[ns]")
    bad = np.isnat(parsed) & (text != "").to_numpy()
    return parsed[codes], bad[codes]


def read_hours(values: pd.Series) -> np.ndarray:
    """Durations in hours (NaN where blank or not a number), each distinct text read once."""
    from ..data.ingest import parse_numbers

    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    codes, text = distinct(values)
    parsed, _, _ = parse_numbers(text)
    return parsed.to_numpy(dtype=float)[codes]


def _normalised(values: pd.Series, how: str, source: Source | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct normalised texts) of one identity column; code -1 where blank.
    IDs are compared in capitals with spaces trimmed and collapsed, names case-folded with
    punctuation read as a space, dates of birth as YYYY-MM-DD (-1 where unreadable too)."""
    if how == "id":  # one pass over the distinct IDs (millions at national scale)
        codes, text = distinct(values, each=lambda v: " ".join(v.split()).upper())
    elif how == "name":
        codes, text = distinct(values, lambda t: t.str.casefold().str.replace(
            r"[^\w]+", " ", regex=True).str.strip())
    else:
        codes, text = distinct(values)
        from ..data.dates import parse_dates

        dates = parse_dates(text, source and source.date_format, source and source.dob,
                            source.name if source else "the file")
        text = dates.dt.strftime("%Y-%m-%d").where(dates.notna(), "")
    again, unique = pd.factorize(text)
    again = np.where((text == "").to_numpy(), -1, again)
    return again[codes], np.asarray(unique)


def identities(frame, source: Source) -> tuple[np.ndarray, np.ndarray]:
    """(per row the code of its person, -1 where no identity; the distinct identity texts).
    Texts are "ID" for one ID column, parts joined by "|" for several, "name|...|YYYY-MM-DD"
    when linking on names and date of birth. ``frame``: the records, or their ``Columns``."""
    column = frame if isinstance(frame, Columns) else Columns(frame, source.name)
    wanted = [(c, "id") for c in source.id] or [(c, "name") for c in source.names] + [
        (source.dob, "dob")]
    parts = [_normalised(column(c), how, source) for c, how in wanted]
    if len(parts) == 1:  # one ID column: its codes are the people
        codes, unique = parts[0]
        used = np.zeros(len(unique) + 1, dtype=bool)
        used[codes + 1] = True
        used = used[1:]
        new = np.cumsum(used) - 1
        return np.where(codes >= 0, new[np.maximum(codes, 0)], -1), unique[used]
    rows = len(parts[0][0])
    missing = np.zeros(rows, dtype=bool)
    key = np.zeros(rows, dtype=np.int64)
    for codes, distinct in parts:
        missing |= codes < 0
        key = pd.factorize(key * (len(distinct) + 1) + (codes + 1))[0].astype(np.int64)
    person, _ = pd.factorize(np.where(missing, -1, key))
    _, row_of = np.unique(person, return_index=True)  # one row of each identity
    texts = pd.Series(parts[0][1][parts[0][0][row_of]], dtype=object) if len(row_of) else \
        pd.Series([], dtype=object)
    for codes, distinct in parts[1:]:
        texts = texts + "|" + pd.Series(distinct[codes[row_of]], dtype=object).to_numpy()
    valid = ~missing[row_of]
    new = np.cumsum(valid) - 1
    person = np.where(valid[person], new[person], -1) if len(person) else person
    return person, texts.to_numpy()[valid]


@dataclass
class Ingested:
    """A source reduced to pseudonyms and counts: nothing personal is left."""

    name: str
    pseudonyms: np.ndarray  # the distinct pseudonyms of the source's people
    parts: pd.DataFrame  # person (local code), total (position in totals), amount
    places: pd.DataFrame  # person, area (code into area_names), date (used, with an area)
    area_names: np.ndarray
    matched: dict  # filter name -> local person codes matching it
    statuses: pd.DataFrame  # source, row, status, detail, records (see ``_summarised``)
    harm: pd.DataFrame  # person, offence (code into offences), total (used, with offence)
    offences: pd.Series | None
    totals: list
    notes: list = field(default_factory=list)


def _statuses(source: str, rows, status, detail="") -> pd.DataFrame:
    rows = np.asarray(rows)
    return pd.DataFrame({"source": source, "row": rows,
                         "status": np.broadcast_to(np.asarray(status, dtype=object), rows.shape),
                         "detail": np.broadcast_to(np.asarray(detail, dtype=object),
                                                   rows.shape)})


def _summarised(source: str, rows, status: np.ndarray, detail: np.ndarray,
                listed: np.ndarray, labels=None) -> pd.DataFrame:
    """Records per status (row -1, ``records``), with the ``listed`` rows to look at one by
    one (``row``, ``detail``; records 0: counted above): millions of used rows need no line
    each. ``status``: texts, or positions in ``labels``."""
    if labels is not None:
        counts = pd.Series(np.bincount(status, minlength=len(labels)), index=list(labels))
        counts = counts[counts > 0]
        status = np.asarray(labels, dtype=object)[status[listed]]
        listed_status = status
    else:
        counts = pd.Series(status).value_counts(sort=False)
        listed_status = status[listed]
    summary = pd.DataFrame({"source": source, "row": -1, "status": counts.index,
                            "detail": "", "records": counts.to_numpy()})
    one_by_one = _statuses(source, np.asarray(rows)[listed], listed_status, detail[listed])
    return pd.concat([summary, one_by_one.assign(records=0)], ignore_index=True)


def _quoted(before: str, values, after: str) -> np.ndarray:
    return (before + pd.Series(values, dtype=object).astype(str) + after).to_numpy(object)


def _keyword_pattern(keywords) -> re.Pattern:
    words = "|".join(re.escape(k.strip()) for k in keywords if k.strip())
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


def _matches(codes: np.ndarray, text: pd.Series, pattern: re.Pattern) -> np.ndarray:
    return text.str.contains(pattern, regex=True).to_numpy(bool)[codes]


class Columns:
    """A source's columns (only the rows ``keep`` when given), each read once:
    ``distinct(name)`` gives (codes, texts)."""

    def __init__(self, frame: pd.DataFrame, source: str, keep: np.ndarray | None = None):
        self.frame, self.source, self.keep, self._seen = frame, source, keep, {}

    def __call__(self, name: str) -> pd.Series:
        values = _column(self.frame, name, self.source)
        return values if self.keep is None else values[self.keep]

    def distinct(self, name: str) -> tuple[np.ndarray, pd.Series]:
        if name not in self._seen:
            self._seen[name] = distinct(self(name))
        return self._seen[name]


def _theme_hits(columns: Columns, source: Source, filters, used: np.ndarray,
                person: np.ndarray) -> dict:
    """Filter name -> the local codes of people with a used record matching it."""
    matched = {}
    for rule in filters:
        hit = None
        if rule.keywords and (source.text or source.offence):
            pattern = _keyword_pattern(rule.keywords)
            hit = np.zeros(len(person), dtype=bool)
            for column in (*source.text, *((source.offence,) if source.offence else ())):
                hit |= _matches(*columns.distinct(column), pattern)
        elif rule.offences and source.offence:
            wanted = {o.strip().casefold() for o in rule.offences}
            codes, offences = columns.distinct(source.offence)
            hit = offences.str.casefold().isin(wanted).to_numpy()[codes]
        if hit is not None:
            matched[rule.name] = np.unique(person[hit & used])
    return matched


def _role_targets(columns: Columns, source: Source) -> tuple[np.ndarray, np.ndarray]:
    """Per row its role's target (index into the distinct ``source.roles`` values, -1: not
    counted), and per row the code of its role text (into the second item's texts)."""
    codes, text = columns.distinct(source.role)
    targets = list(dict.fromkeys(source.roles.values()))
    of_unique = np.array([targets.index(source.roles[u]) if u in source.roles else -1
                          for u in text.str.casefold()], dtype=int)
    return of_unique[codes], codes


def pseudonyms_of(texts: np.ndarray, key: bytes, known: dict | None = None) -> np.ndarray:
    """The pseudonym of each distinct identity; ``known`` (ID -> pseudonym, shared by the
    sources of one run) spares hashing an ID again that another source has."""
    from ..data.pseudonyms import pseudonymise

    if known is None:
        return pseudonymise(pd.Series(texts, dtype=object), key).to_numpy(dtype=object)
    found = np.array([known.get(t) for t in texts], dtype=object)
    new = np.array([f is None for f in found], dtype=bool)
    if new.any():
        fresh = pseudonymise(pd.Series(texts[new], dtype=object), key).to_numpy(dtype=object)
        known.update(zip(texts[new], fresh))
        found[new] = fresh
    return found


# the status of a source's record, as a small number while millions are worked on
STATUSES = (USED, OUTSIDE, PLANNED, BAD_DATE, BAD_DURATION, NO_ID, NOT_COUNTED, REPEAT)
_S = {name: np.int8(i) for i, name in enumerate(STATUSES)}


def _parts(person: np.ndarray, total: int | np.ndarray, amount=1.0) -> pd.DataFrame:
    return pd.DataFrame({"person": person.astype(np.int64),
                         "total": np.broadcast_to(np.asarray(total, dtype=np.int16),
                                                  person.shape),
                         "amount": np.broadcast_to(np.asarray(amount, dtype=float),
                                                   person.shape)})


def ingest_source(frame: pd.DataFrame, source: Source, window, key: bytes, filters=(),
                  resources: pd.DataFrame | None = None, unreadable_lines=None,
                  known: dict | None = None, totals: list | None = None) -> Ingested:
    """One source's records (text or typed columns, indexed by row number) -> pseudonymised
    counts, places, theme matches and a status per record. ``known``: pseudonyms of IDs
    already hashed in this run (names and dates of birth are never kept there);
    ``totals``: the names of every total (parts carry their positions)."""
    start, end = window
    name = source.name
    totals = list(totals) if totals is not None else list(NINE_TOTALS)
    for extra in (*source.roles.values(), source.total, source.hours_total):
        if extra and extra not in totals and extra not in CALL_TOTALS:
            totals.append(extra)
    at = {total: i for i, total in enumerate(totals)}
    # the date first: records outside the window (or without a date) go no further
    whole = Columns(frame, name)
    dates, bad_date = read_dates(whole(source.date), source.date_format, source.date, name)
    has_date = ~np.isnat(dates)
    keep = has_date & (dates >= start.to_datetime64()) & (dates < end.to_datetime64())
    early = np.where(has_date, _S[OUTSIDE], _S[BAD_DATE]).astype(np.int8)
    early_detail = np.full(len(frame), "", dtype=object)
    early_detail[~has_date] = "no date"
    if bad_date.any():
        codes, text = whole.distinct(source.date)
        early_detail[bad_date] = _quoted("date '", text.to_numpy(object)[codes[bad_date]],
                                         "' cannot be read")
    statuses = [_summarised(name, frame.index.to_numpy()[~keep], early[~keep],
                            early_detail[~keep], labels=STATUSES,
                            listed=~has_date[~keep])]
    del early, early_detail
    columns = Columns(frame, name, None if keep.all() else keep)
    rows, dates = frame.index.to_numpy()[keep], dates[keep]
    person, texts = identities(columns, source)
    pseudonyms = pseudonyms_of(texts, key, known if source.id else None)
    status = np.zeros(len(rows), dtype=np.int8)
    detail = np.full(len(rows), "", dtype=object)
    status[person < 0] = _S[NO_ID]
    detail[person < 0] = "no " + " / ".join(source.id or (*source.names, source.dob))
    notes, parts = [], []
    harm = pd.DataFrame({"person": [], "offence": [], "total": []})
    offences = None
    resource_statuses = None

    if source.kind == "roles":
        target, role_codes = _role_targets(columns, source)
        unmapped = (status == _S[USED]) & (target < 0)
        status[unmapped] = _S[NOT_COUNTED]
        role_text = columns.distinct(source.role)[1].to_numpy(object)
        detail[unmapped] = _quoted("role '", role_text[role_codes[unmapped]], "'")
        used = status == _S[USED]
        where = np.array([at[t] for t in dict.fromkeys(source.roles.values())], dtype=np.int16)
        parts.append(_parts(person[used], where[target[used]]))
        if source.offence:
            codes, offences = columns.distinct(source.offence)
            harm = pd.DataFrame({"person": person[used], "offence": codes[used],
                                 "total": where[target[used]]})
    elif source.kind == "custody":
        if source.hours:
            hours = read_hours(columns(source.hours))
        else:
            began, _ = read_dates(columns(source.start), source.date_format, source.start,
                                  source.name)
            ended, _ = read_dates(columns(source.end), source.date_format, source.end,
                                  source.name)
            hours = (ended - began) / np.timedelta64(1, "h")
        used = status == _S[USED]
        unreadable = used & np.isnan(hours)
        status[unreadable] = _S[BAD_DURATION]
        detail[unreadable] = "no custody hours" if source.hours else "start or end unreadable"
        # an episode counts even when its hours cannot be read
        clipped = np.clip(np.nan_to_num(hours[used], nan=0.0), 0.0, CUSTODY_LIMIT)
        above = int((used & (hours > CUSTODY_LIMIT)).sum())
        below = int((used & (hours < 0)).sum())
        notes.append(f"{name}: {above:,} custody episodes above {CUSTODY_LIMIT:g} hours set to "
                     f"{CUSTODY_LIMIT:g}, {below:,} negative durations set to 0")
        parts += [_parts(person[used], at[EPISODES]),
                  _parts(person[used], at[CUSTODY_HOURS], clipped)]
    elif source.kind == "count":
        used = status == _S[USED]
        parts.append(_parts(person[used], at[source.total]))
        if source.hours and source.hours_total:
            hours = read_hours(columns(source.hours))
            parts.append(_parts(person[used], at[source.hours_total],
                                np.nan_to_num(hours[used], nan=0.0)))
    else:  # calls
        call_parts, resource_statuses = _calls(columns, source, status, detail, person,
                                               resources, at, whole)
        parts.append(call_parts)

    used = (status == _S[USED]) | (status == _S[BAD_DURATION])
    places = pd.DataFrame({"person": [], "area": [], "date": []})
    area_names = np.array([], dtype=object)
    if source.home_area:
        codes, text = columns.distinct(source.home_area)
        text = text.str.upper()
        keep = used & (text != "").to_numpy()[codes]
        places = pd.DataFrame({"person": person[keep], "area": codes[keep],
                               "date": dates[keep]})
        area_names = text.to_numpy(object)
    statuses.append(_summarised(name, rows, status, detail, labels=STATUSES,
                                listed=np.isin(status, [_S[s] for s in PER_ROW if s in _S])))
    if unreadable_lines is not None and len(unreadable_lines):
        statuses.append(_statuses(name, unreadable_lines["row"], BAD_LINE,
                                  unreadable_lines["detail"]))
    if resource_statuses is not None:
        statuses.append(resource_statuses)
    return Ingested(name=name, pseudonyms=pseudonyms, parts=pd.concat(parts, ignore_index=True),
                    places=places, area_names=area_names,
                    matched=_theme_hits(columns, source, filters, used, person),
                    statuses=pd.concat(statuses, ignore_index=True), harm=harm,
                    offences=offences, totals=totals, notes=notes)


def resource_hours(resources: pd.DataFrame, spec: Resources, source: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per resource row: (incident text, hours from the earliest of assigned / deployed /
    arrived to released, readable mask). A row with no start, no release or a release
    before its start is unreadable (it adds nothing)."""
    incident = cells(_column(resources, spec.incident, source))
    return (incident, *_resource_hours(resources, spec, source))


def _resource_hours(resources: pd.DataFrame, spec: Resources, source: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    starts = [read_dates(_column(resources, c, source), spec.date_format, c, source)[0]
              for c in (spec.assigned, spec.deployed, spec.arrived) if c]
    if not starts:
        raise InputError(f"{source}: the resources need at least one of assigned, deployed, "
                         "arrived")
    earliest = starts[0]
    for start in starts[1:]:
        earlier = ~np.isnat(start) & (np.isnat(earliest) | (start < earliest))
        earliest = np.where(earlier, start, earliest)
    released, _ = read_dates(_column(resources, spec.released, source), spec.date_format,
                             spec.released, source)
    hours = (released - earliest) / np.timedelta64(1, "h")
    readable = ~np.isnan(hours) & (hours >= 0)
    return np.where(readable, hours, 0.0), readable


def _calls(columns: Columns, source: Source, status, detail, person, resources, at: dict,
           whole: Columns):
    """Calls in the window: each (call, person, role) counted once, with the call's
    resource hours; ``whole``: every call, to tell a resource of a call outside the window
    from one of no call at all."""
    incident, incident_text = whole.distinct(source.incident)  # every call, in or out
    if columns.keep is not None:
        incident = incident[columns.keep]
    blank_incident = (incident_text == "").to_numpy()[incident]
    if source.exclude:
        codes, flags = columns.distinct(source.exclude)
        planned = flags.str.casefold().isin(source.exclude_values).to_numpy()[codes]
        # an incident marked pre-planned on any of its rows is left out whole
        planned = (np.bincount(incident, weights=planned, minlength=len(incident_text))
                   > 0)[incident] & ~blank_incident
        status[planned & (status == _S[USED])] = _S[PLANNED]
    target, role_codes = _role_targets(columns, source)
    unmapped = (status == _S[USED]) & (target < 0)
    status[unmapped] = _S[NOT_COUNTED]
    role_text = columns.distinct(source.role)[1].to_numpy(object)
    detail[unmapped] = _quoted("role '", role_text[role_codes[unmapped]], "'")
    blank = (status == _S[USED]) & blank_incident
    status[blank] = _S[NO_ID]
    detail[blank] = f"no call ID ({source.incident})"
    used = np.flatnonzero(status == _S[USED])
    roles = list(dict.fromkeys(source.roles.values()))  # "caller" / "subject"
    people = int(person.max(initial=0)) + 1
    key = (incident[used].astype(np.int64) * people + person[used]) * len(roles) + target[used]
    repeat = pd.Series(key).duplicated().to_numpy()
    status[used[repeat]] = _S[REPEAT]
    used = used[~repeat]

    spec = source.resources
    where = spec.path.name
    r_codes, r_text = distinct(_column(resources, spec.incident, where))
    r_hours, readable = _resource_hours(resources, spec, where)
    of_call = pd.Index(incident_text).get_indexer(r_text)
    of_call[(r_text == "").to_numpy()] = -1
    r_incident = of_call[r_codes]  # the call's code, -1 when there is no such call
    known = r_incident >= 0
    counted_calls = np.zeros(len(incident_text), dtype=bool)
    counted_calls[incident[used]] = True
    counted = known & counted_calls[np.maximum(r_incident, 0)]
    r_status = np.full(len(r_incident), USED, dtype=object)
    r_status[~counted] = INCIDENT_UNUSED
    r_status[counted & ~readable] = BAD_TIMES
    r_status[~known] = NO_INCIDENT
    r_detail = np.full(len(r_incident), "", dtype=object)
    r_detail[counted & ~readable] = "no start, no release, or released before the start"
    r_detail[~known] = _quoted("call '", r_text.to_numpy(object)[r_codes[~known]], "'")
    statuses = _summarised(where, resources.index.to_numpy(), r_status, r_detail,
                           listed=(~known) | (counted & ~readable))

    per_call = np.bincount(r_incident[known], weights=r_hours[known],
                           minlength=len(incident_text))
    hours = per_call[incident[used]]
    parts = []
    for i, role in enumerate(roles):
        count_total, hours_total = CALL_TOTALS[role]
        mine = target[used] == i
        parts += [_parts(person[used][mine], at[count_total]),
                  _parts(person[used][mine], at[hours_total], hours[mine])]
    return pd.concat(parts, ignore_index=True), statuses


# --- everyone: totals, scaling, metrics, ranks -----------------------------------------------

@dataclass
class People:
    """Everyone with a used record in the window (in the order the sources met them)."""

    pseudonyms: np.ndarray
    totals: pd.DataFrame  # person x total (the nine, then new ones, then harm)
    scores: pd.DataFrame  # person x metric
    ranks: pd.DataFrame  # person x metric (min ranks, 1 = highest)
    home: pd.Series  # person -> home output area ('' where unknown)


def combine(ingested: list[Ingested]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The pseudonyms of everyone with a used record, and per source its local ->
    global codes (-1 for people whose records were all left out)."""
    used = []
    for i in ingested:
        seen = np.zeros(len(i.pseudonyms), dtype=bool)
        seen[i.parts["person"].to_numpy(np.int64)] = True
        used.append(np.flatnonzero(seen))
    everyone = pd.Index(np.concatenate([i.pseudonyms[u] for i, u in zip(ingested, used)])
                        ).unique()
    codes = []
    for i, u in zip(ingested, used):
        local = np.full(len(i.pseudonyms), -1, dtype=np.int64)
        local[u] = everyone.get_indexer(i.pseudonyms[u])
        codes.append(local)
    return everyone.to_numpy(dtype=object), codes


def combined_parts(ingested: list[Ingested], codes: list[np.ndarray], totals: list
                   ) -> pd.DataFrame:
    """Every source's parts on global person codes, with its source (position)."""
    frames = []
    for s, (source, local) in enumerate(zip(ingested, codes)):
        parts = source.parts
        position = np.array([totals.index(t) for t in source.totals], dtype=np.int16)
        frames.append(pd.DataFrame({
            "person": local[parts["person"].to_numpy(np.int64)],
            "total": position[parts["total"].to_numpy(np.int64)],
            "amount": parts["amount"].to_numpy(float), "source": np.int16(s)}))
    return pd.concat(frames, ignore_index=True)


def combined_places(ingested: list[Ingested], codes: list[np.ndarray]
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """Every source's places on global person and area codes, and the area names."""
    names = pd.Index(np.concatenate([i.area_names for i in ingested]).astype(object)).unique()
    frames = []
    for source, local in zip(ingested, codes):
        if len(source.places):
            area = names.get_indexer(source.area_names)
            frames.append(pd.DataFrame({
                "person": local[source.places["person"].to_numpy(np.int64)],
                "area": area[source.places["area"].to_numpy(np.int64)],
                "date": source.places["date"].to_numpy()}))
    places = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {"person": [], "area": [], "date": []})
    return places, names.to_numpy(dtype=object)


def person_totals(parts: pd.DataFrame, people: int, names: list[str]) -> pd.DataFrame:
    """Sum of amounts per person and total (np.bincount over person x total)."""
    column = parts["total"]
    if column.dtype == object:  # total names
        column = pd.Categorical(column, categories=names).codes
    column = np.asarray(column, dtype=np.int64)
    flat = np.bincount(parts["person"].to_numpy(np.int64) * len(names) + column,
                       weights=parts["amount"].to_numpy(float), minlength=people * len(names))
    return pd.DataFrame(flat.reshape(people, len(names)), columns=names)


def top_mean(values: np.ndarray, top: int = 1000) -> float:
    """Mean of the ``top`` largest values (of all values when there are fewer)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return 0.0
    if len(values) > top:
        values = np.partition(values, len(values) - top)[len(values) - top:]
    return float(values.mean())


def scale_total(values: np.ndarray, top: int = 1000, scaling: str = "max") -> np.ndarray:
    """A total divided by its top-``top`` mean, then scaled to 0..1 (see the module notes)."""
    values = np.asarray(values, dtype=float)
    mean = top_mean(values, top)
    if mean <= 0:
        return np.zeros(len(values))
    ratio = values / mean
    if scaling == "cap":
        return np.minimum(ratio, 1.0)
    return ratio / ratio.max()


def min_ranks(scores: np.ndarray) -> np.ndarray:
    """1 for the highest score; ties share the best rank of their group (1, 2, 2, 4)."""
    from scipy.stats import rankdata

    return rankdata(-np.asarray(scores, dtype=float), method="min").astype(np.int64)


def metric_scores(totals: pd.DataFrame, metrics_of: dict, top: int = 1000,
                  scaling: str = "max") -> pd.DataFrame:
    """Each metric the equal-weight sum of its scaled totals; overall: every ranked total."""
    scores = pd.DataFrame(0.0, index=totals.index, columns=list(METRICS))
    for total, metric in metrics_of.items():
        if metric is None or total not in totals.columns:
            continue
        scaled = scale_total(totals[total].to_numpy(), top, scaling)
        scores[metric] += scaled
        scores[OVERALL] += scaled
    return scores


def home_areas(places: pd.DataFrame, people: int, names=None) -> np.ndarray:
    """Per person the most common area on their records; a tie goes to the area of the most
    recent record among those tied, then to the lowest code ('' where none). ``area``: area
    codes, or positions in ``names``."""
    home = np.full(people, "", dtype=object)
    if places.empty:
        return home
    if names is None:
        codes, areas = pd.factorize(places["area"])
    else:
        codes, areas = places["area"].to_numpy(np.int64), np.asarray(names, dtype=object)
    order = np.argsort(areas.astype(str), kind="stable")  # area codes in text order
    rank_of = np.empty(len(areas), dtype=np.int64)
    rank_of[order] = np.arange(len(areas))
    key = places["person"].to_numpy(np.int64) * len(areas) + rank_of[codes]
    grouped = pd.DataFrame({"key": key, "date": places["date"].to_numpy()}).groupby(
        "key", sort=False)["date"].agg(["size", "max"])
    person = grouped.index.to_numpy() // len(areas)
    area = grouped.index.to_numpy() % len(areas)
    latest = grouped["max"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    pick = np.lexsort((area, -latest, -grouped["size"].to_numpy(), person))
    person, area = person[pick], area[pick]
    first = np.r_[True, person[1:] != person[:-1]]
    home[person[first]] = areas.astype(str)[order][area[first]]
    return home


def harm_totals(ingested: list[Ingested], codes: list[np.ndarray], people: int,
                weights: pd.Series | None) -> tuple[pd.DataFrame, list[str]]:
    """Harm caused (as suspect or offender) and received (as victim) per person, from the
    weight of each offence (offences without a weight add 0 and are named)."""
    out = pd.DataFrame(0.0, index=range(people), columns=[HARM_CAUSED, HARM_RECEIVED])
    if weights is None:
        return out, []
    lookup = {str(k).strip().casefold(): float(v) for k, v in weights.items()}
    missing = {}
    for source, local in zip(ingested, codes):
        if source.harm.empty:
            continue
        text = source.offences
        per_offence = np.array([lookup.get(u.casefold(), np.nan) for u in text])
        offence = source.harm["offence"].to_numpy(np.int64)
        counts = np.bincount(offence, minlength=len(text))
        for i in np.flatnonzero(np.isnan(per_offence) & (counts > 0) & (text != "").to_numpy()):
            missing[text.iloc[i]] = missing.get(text.iloc[i], 0) + int(counts[i])
        weight = np.nan_to_num(per_offence)[offence]
        person = local[source.harm["person"].to_numpy(np.int64)]
        role = np.asarray(source.totals, dtype=object)[source.harm["total"].to_numpy(np.int64)]
        for column, roles in ((HARM_CAUSED, CAUSING), (HARM_RECEIVED, RECEIVING)):
            mine = pd.Series(role).isin(roles).to_numpy()
            out[column] += np.bincount(person[mine], weights=weight[mine], minlength=people)
    notes = ["offences without a harm weight (counted as 0): " + "; ".join(
        f"{k} ({v:,} records)" for k, v in sorted(missing.items()))] if missing else []
    return out, notes


def rank_people(everyone: np.ndarray, parts: pd.DataFrame, places: pd.DataFrame,
                project: DemandProject, area_names=None) -> People:
    """Totals, scores and ranks of everyone (``parts`` and ``places`` on global codes)."""
    metrics_of = project.total_metrics()
    names = list(metrics_of)
    totals = person_totals(parts, len(everyone), names)
    scores = metric_scores(totals, metrics_of, project.scale_top, project.scaling)
    ranks = pd.DataFrame({m: min_ranks(scores[m].to_numpy()) for m in METRICS})
    home = pd.Series(home_areas(places, len(everyone), area_names))
    return People(pseudonyms=everyone, totals=totals, scores=scores, ranks=ranks, home=home)


def chosen(ranks: pd.DataFrame, scores: pd.DataFrame, top: int,
           among: np.ndarray | None = None) -> np.ndarray:
    """The people (codes) in the top ``top`` of any metric, de-duplicated: within ``among``
    (a filter) those with fewer than ``top`` members of ``among`` ranked strictly above
    them; scores of 0 never qualify. Ranks are never recomputed."""
    among = np.arange(len(ranks)) if among is None else np.asarray(among, dtype=np.int64)
    keep = np.zeros(len(ranks), dtype=bool)
    for metric in METRICS:
        rank = ranks[metric].to_numpy()[among]
        above = np.searchsorted(np.sort(rank), rank, side="left")  # strictly better
        keep[among[(above < top) & (scores[metric].to_numpy()[among] > 0)]] = True
    return np.flatnonzero(keep)


def listing_order(people: People, codes: np.ndarray) -> np.ndarray:
    """Codes in order of overall rank, then best rank on any metric, then pseudonym."""
    ranks = people.ranks.iloc[codes]
    best = ranks.min(axis=1).to_numpy()
    order = np.lexsort((people.pseudonyms[codes], best, ranks[OVERALL].to_numpy()))
    return codes[order]


# --- the tables people read -----------------------------------------------------------------------

def rank_column(metric: str) -> str:
    return f"{metric} rank"


def ranked_table(people: People, codes: np.ndarray, top: int, harm: pd.DataFrame,
                 places: pd.DataFrame, themes: dict) -> pd.DataFrame:
    """One row per person listed: pseudonym, the four ranks, which top lists, the totals,
    harm, home area, ward and segment, themes."""
    codes = listing_order(people, codes)
    ranks = people.ranks.iloc[codes]
    scores = people.scores.iloc[codes]
    table = pd.DataFrame({"pseudonym": people.pseudonyms[codes]})
    for metric in (OVERALL, INVESTIGATIONS, ORIGINATOR, SUBJECT):
        table[rank_column(metric)] = ranks[metric].to_numpy()
    table[f"in the top {top} of"] = [
        ", ".join(m for m in (OVERALL, INVESTIGATIONS, ORIGINATOR, SUBJECT)
                  if r[m] <= top and s[m] > 0)
        for r, s in zip(ranks.to_dict("records"), scores.to_dict("records"))]
    for total in people.totals.columns:
        values = people.totals[total].to_numpy()[codes]
        table[total] = np.round(values, 1) if total in HOUR_TOTALS or values.dtype.kind == "f" \
            and not np.allclose(values, np.round(values)) else values.astype(np.int64)
    for column in (HARM_CAUSED, HARM_RECEIVED):
        table[column] = np.round(harm[column].to_numpy()[codes], 1)
    table["overall score"] = np.round(scores[OVERALL].to_numpy(), 4)
    table["home area"] = people.home.to_numpy()[codes]
    for column in ("home ward", "home ward name", "segment", "segment name"):
        if column in places.columns:
            table[column] = places[column].reindex(table["home area"]).fillna("").to_numpy()
    if themes:
        table["themes"] = [", ".join(name for name, members in themes.items()
                                     if code in members) for code in codes]
    return table


def detail_table(parts: pd.DataFrame, pseudonyms: np.ndarray, codes: np.ndarray,
                 totals: list, sources: list, hours: set = HOUR_TOTALS) -> pd.DataFrame:
    """Per listed person: records and hours by source and total."""
    mine = parts[np.isin(parts["person"].to_numpy(), codes)]
    grouped = mine.groupby(["person", "source", "total"], sort=False).agg(
        records=("amount", "size"), amount=("amount", "sum")).reset_index()
    names = np.asarray(totals, dtype=object)[grouped["total"].to_numpy(np.int64)]
    hours = pd.Series(names).isin(hours).to_numpy()
    out = pd.DataFrame({
        "pseudonym": pseudonyms[grouped["person"].to_numpy(np.int64)],
        "source": np.asarray(sources, dtype=object)[grouped["source"].to_numpy(np.int64)],
        "counted as": names,
        "records": grouped["records"].to_numpy(),
        "hours": np.where(hours, np.round(grouped["amount"], 1), np.nan),
    })
    return out.sort_values(["pseudonym", "source", "counted as"], ignore_index=True)


def reconciliation(statuses: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(records per source and status, the rows that need a look one by one). A row ``-1``
    carries a count (``records``); a listed row is counted there already (``records`` 0),
    unless it carries no count (unreadable lines: 1 each)."""
    if "records" not in statuses.columns:
        statuses = statuses.assign(records=np.nan)
    counted = statuses[(statuses["row"] == -1) | statuses["records"].isna()]
    summary = counted.assign(records=counted["records"].fillna(1)).groupby(
        ["source", "status"], sort=False)["records"].sum().astype(np.int64).reset_index()
    summary = summary.rename(columns={"source": "source file"})
    rows = statuses[statuses["row"] != -1].drop(columns="records").rename(
        columns={"source": "source file", "row": "line"}).reset_index(drop=True)
    return summary, rows


# --- the shared-demand view (aggregates, suppressed) -----------------------------------------

NOT_KNOWN = "home area not known"
COUNTS = ("people", "contacts")


def top_people(share: int) -> str:
    return f"people in the top {share}%"


def top_contacts(share: int) -> str:
    return f"contacts by the top {share}% of people"


def group_counts(people: People, group: pd.Series, metrics_of: dict,
                 hours: set = HOUR_TOTALS) -> pd.DataFrame:
    """Per group (a label per person): people, contacts (every counted event), the totals,
    and the contacts of the people in the top 1% and 5% of everyone (overall metric)."""
    counted = [t for t, m in metrics_of.items() if m is not None and t not in hours]
    contacts = people.totals[counted].sum(axis=1).to_numpy()
    everyone = len(people.pseudonyms)
    overall = people.ranks[OVERALL].to_numpy()
    frame = pd.DataFrame({"group": group.to_numpy(), "people": 1.0, "contacts": contacts})
    for share in (1, 5):
        cut = max(1, math.ceil(everyone * share / 100))
        frame[top_people(share)] = (overall <= cut).astype(float)
        frame[top_contacts(share)] = np.where(overall <= cut, contacts, 0)
    for total, metric in metrics_of.items():
        if metric is not None:
            frame[total] = np.round(people.totals[total].to_numpy())
    return frame.groupby("group", sort=False).sum()


def _counted_columns(counts: pd.DataFrame) -> list[str]:
    """The totals whose sum is ``contacts`` in every row (the counted events, as
    ``group_counts`` adds them: every total but hours), found from the figures so that a
    view rebuilt from stored counts knows it too; [] when no set of totals adds up."""
    from itertools import combinations

    tops = tuple(f(s) for f in (top_people, top_contacts) for s in (1, 5))
    totals = [c for c in counts.columns if c not in (*COUNTS, *tops)]
    whole = [c for c in totals if np.allclose(counts[c], np.round(counts[c]))]
    target = counts["contacts"].to_numpy(dtype=float)

    def adds_up(columns) -> bool:
        return bool(np.allclose(counts[list(columns)].to_numpy(dtype=float).sum(axis=1)
                                if columns else 0.0, target))

    preferred = [c for c in whole if c not in HOUR_TOTALS]
    if adds_up(preferred):
        return preferred
    for dropped in range(1, len(whole) + 1):
        for removed in combinations(whole, dropped):
            kept = [c for c in whole if c not in removed]
            if adds_up(kept):
                return kept
    return []


def _reader_facts(by: str, counts: pd.DataFrame, threshold: int):
    """What a partner reading a view knows besides each column adding up to its total:
    (sums, links, entries to protect). Contacts are the sum of the counted totals, in every
    row and the total; the top 1% are among the top 5%, who are among everyone (people and
    their contacts); and the contacts of 1 to ``threshold`` top people are those few
    people's own figures, protected as small counts are."""
    from ..share.suppression import Link, Sum

    rows = [*counts.index, "Total"]
    full = pd.concat([counts, counts.sum().to_frame("Total").T])
    sums, links, protect = [], [], []
    counted = _counted_columns(counts)
    if counted:
        sums = [Sum(tuple(((by, c), row, None) for c in counted), ((by, "contacts"), row, None))
                for row in rows]
    pairs = ((top_people(1), top_people(5)), (top_people(5), "people"),
             (top_contacts(1), top_contacts(5)), (top_contacts(5), "contacts"))
    for low, high in pairs:
        if low in full and high in full and bool((full[low] <= full[high]).all()):
            links += [Link(((by, low), row, None), ((by, high), row, None)) for row in rows]
    for share in (1, 5):
        if top_people(share) in counts and top_contacts(share) in counts:
            few = counts[top_people(share)].between(1, threshold)
            protect += [((by, top_contacts(share)), g, None) for g in few[few].index]
    return sums, links, protect


def suppress_views(counts_of: dict, threshold: int) -> dict:
    """The views' counts (by -> frame, a group per row) with every count an informed
    partner could narrow to fewer than ``threshold`` + 1 values hidden (NaN), and a Total
    row: all views of a run are suppressed together (``privacy.suppress_tables``), the
    reader knowing each column's total, ``_reader_facts`` in every view, and that the
    views count the same people (each column's total is the same in every view)."""
    from ..share.suppression import Link, suppress_tables

    tables, sums, links, protect = {}, [], [], []
    for by, counts in counts_of.items():
        for column in counts.columns:
            series = counts[column].astype(float)
            tables[(by, column)] = pd.concat([series, pd.Series({"Total": series.sum()})])
        facts = _reader_facts(by, counts, threshold)
        sums += facts[0]
        links += facts[1]
        protect += facts[2]
    views = list(counts_of)
    for a, b in zip(views, views[1:]):
        for column in counts_of[a].columns:
            if column in counts_of[b].columns and np.isclose(
                    counts_of[a][column].sum(), counts_of[b][column].sum()):
                links.append(Link(((a, column), "Total", None), ((b, column), "Total", None),
                                  equal=True))
    shown = suppress_tables(tables, threshold, links, sums=sums, protect=protect)
    return {by: pd.DataFrame({column: shown[(by, column)] for column in counts.columns})
            for by, counts in counts_of.items()}


def shared_view(counts: pd.DataFrame, residents: pd.Series | None, threshold: int,
                order: list, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """The partners' table: the counts as suppressed (``published``, from
    ``suppress_views``; else this view suppressed on its own), then rates per 1,000
    residents and shares from the published counts only."""
    from ..share.export import _for_people

    counts = counts.reindex([g for g in order if g in counts.index])
    out = (published if published is not None
           else suppress_views({"view": counts}, threshold)["view"]).copy()
    if residents is not None:
        res = residents.reindex(out.index[:-1]).astype(float)
        res = pd.concat([res, pd.Series({"Total": res.sum()})])
        out.insert(0, "residents", res)
        for column in COUNTS:
            out[f"{column} per 1,000 residents"] = (out[column] / res * 1000).round(2)
    total = out.loc["Total", "contacts"]
    out["share of all contacts %"] = (out["contacts"] / total * 100).round(1)
    for share in (1, 5):
        out[f"share of its contacts by the top {share}% of people %"] = (
            out[top_contacts(share)] / out["contacts"] * 100).round(1)
    shown = _for_people(out)
    if residents is not None:
        shown["residents"] = shown["residents"].where(out["residents"].notna(), "")
    return shown


# --- the whole step -----------------------------------------------------------------------------

@dataclass
class DemandResult:
    ranked: pd.DataFrame
    filtered: dict  # filter name -> table
    details: pd.DataFrame
    reconciliation: pd.DataFrame
    rows: pd.DataFrame
    shared: dict  # "segment" / "ward" -> table
    notes: pd.DataFrame
    people: People | None = None
    # "segment" / "ward" -> the true counts behind the shared view (internal: they go into
    # the segmentation's GeoPackage, from which the report and the dock suppress them)
    counts: dict = field(default_factory=dict)


def _area_context(project: DemandProject, segmentation: Path | None
                  ) -> tuple[pd.DataFrame, pd.Series | None]:
    """Per output area (index): home ward, ward name, segment, segment name (those known);
    and residents per area (or None)."""
    context = pd.DataFrame()
    residents = None
    if segmentation is not None:
        from ..store.geopackage import gpkg_file, read_gpkg_table
        from ..store.names import SEGMENT_LAYER

        path = gpkg_file(segmentation)
        if not path.exists():
            raise InputError(f"{path}: saved segmentation not found")
        try:
            areas = read_gpkg_table(path, SEGMENT_LAYER)
        except Exception as err:  # not a GeoPackage, or no segments layer
            raise InputError(f"{path}: not a saved segmentation ({err})") from err
        areas["area_code"] = areas["area_code"].astype(str).str.strip().str.upper()
        areas = areas.set_index("area_code")
        context["segment"] = areas["segment"].astype("Int64").astype(str).replace("<NA>", "")
        context["segment name"] = areas.get("segment_name", "")
        import json

        import pyogrio

        layers = {n for n, _ in pyogrio.list_layers(path)}
        manifest = json.loads(read_gpkg_table(path, "manifest")["manifest"].iloc[0])
        column = manifest.get("parameters", {}).get("residents")
        if column:
            values = read_gpkg_table(path, "area_values").set_index("area_code")
            if column in values.columns:
                residents = pd.to_numeric(values[column], errors="coerce")
                residents.index = residents.index.astype(str).str.upper()
        if "area_wards" in layers:
            wards = read_gpkg_table(path, "area_wards")
            wards["area_code"] = wards["area_code"].astype(str).str.upper()
            wards = wards.set_index("area_code")
            context = context.join(wards[["ward_code"]].rename(
                columns={"ward_code": "home ward"}), how="outer")
            if "ward_name" in wards:
                context["home ward name"] = wards["ward_name"].reindex(context.index)
    if project.areas is not None:
        from ..data.locate import read_records

        spec = project.areas
        table, _, _ = read_records(spec.path)
        codes = cells(_column(table, spec.code, spec.path.name), lambda t: t.str.upper())
        table = table.set_index(codes)
        if spec.ward:
            context = context.reindex(context.index.union(table.index))
            context["home ward"] = _column(table, spec.ward, spec.path.name).reindex(
                context.index)
            if spec.ward_name:
                context["home ward name"] = _column(table, spec.ward_name,
                                                    spec.path.name).reindex(context.index)
        if spec.residents:
            residents = read_hours(_column(table, spec.residents, spec.path.name))
            residents = pd.Series(residents, index=table.index)
    return context.fillna(""), residents


def _harm_weights(project: DemandProject) -> pd.Series | None:
    if project.harm is None:
        return None
    from ..data.locate import read_records

    path, offence, weight = project.harm
    table, _, _ = read_records(path)
    weights = read_hours(_column(table, weight, path.name))
    bad = np.isnan(weights)
    if bad.any():
        rows = ", ".join(map(str, table.index[bad][:5]))
        raise InputError(f"{path.name}: column '{weight}' is not a number on rows {rows}")
    return pd.Series(weights, index=cells(_column(table, offence, path.name)))


def read_source(source: Source) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """A source's records (text, indexed by line), its unreadable lines, its resources."""
    from ..data.locate import read_records

    frame, unreadable, _ = read_records(source.path)
    resources = None
    if source.resources is not None:
        resources, bad, _ = read_records(source.resources.path)
        if len(bad):
            lines = ", ".join(map(str, bad["row"][:5]))
            raise InputError(f"{source.resources.path.name}: lines {lines} cannot be read "
                             "(resource rows must all be readable)")
    return frame, unreadable, resources


def demand_step(project: DemandProject, key: bytes, segmentation: Path | None = None,
                frames: dict | None = None, progress: Progress | None = None
                ) -> DemandResult:
    """Read (or take, ``frames``: source name -> (records, unreadable lines, resources))
    every source, pseudonymise, total, rank, list, filter and build the shared view."""
    progress = progress or silent
    window = run_window(project.run_date, project.months)
    ingested, known = [], {}
    totals = list(project.total_metrics())
    for i, source in enumerate(project.sources):
        progress(0.7 * i / len(project.sources), f"reading {source.name}")
        if frames is not None and source.name in frames:
            frame, unreadable, resources = frames[source.name]
        else:
            frame, unreadable, resources = read_source(source)
        ingested.append(ingest_source(frame, source, window, key, project.filters, resources,
                                      unreadable, known, totals))
        del frame, resources
    del known
    progress(0.7, "ranking")
    statuses = pd.concat([i.statuses for i in ingested], ignore_index=True)
    summary, rows = reconciliation(statuses)
    in_window = int(summary.loc[summary["status"].isin((USED, BAD_DURATION)), "records"].sum())
    if in_window == 0:
        raise InputError(f"no record falls in the window {window[0]:%Y-%m-%d} to "
                         f"{window[1] - pd.Timedelta(days=1):%Y-%m-%d} (12 months before the "
                         "run date; check the run date and the date columns); nothing was "
                         "written")
    everyone, codes = combine(ingested)
    parts = combined_parts(ingested, codes, totals)
    places, area_names = combined_places(ingested, codes)
    people = rank_people(everyone, parts, places, project, area_names)
    del places
    harm, harm_notes = harm_totals(ingested, codes, len(everyone), _harm_weights(project))
    context, residents = _area_context(project, segmentation or project.segmentation)

    themes = {}
    for rule in project.filters:
        if rule.total is not None:
            members = np.flatnonzero(people.totals[rule.total].to_numpy() > 0)
        elif rule.areas or rule.wards:
            home = people.home.to_numpy()
            if rule.wards:
                if "home ward" not in context.columns:
                    raise InputError(f"filter '{rule.name}': wards need the ward of each area "
                                     "([demand] areas with ward, or a segmentation with "
                                     "ward matrices)")
                wanted = set(context.index[context["home ward"].isin(rule.wards)])
            else:
                wanted = {a.strip().upper() for a in rule.areas}
            members = np.flatnonzero(np.isin(home, list(wanted)))
        else:
            members = np.unique(np.concatenate(
                [local[i.matched.get(rule.name, np.array([], dtype=np.int64))]
                 for i, local in zip(ingested, codes)]).astype(np.int64))
        themes[rule.name] = members
    theme_sets = {name: set(members.tolist()) for name, members in themes.items()}

    listed = chosen(people.ranks, people.scores, project.top)
    ranked = ranked_table(people, listed, project.top, harm, context, theme_sets)
    filtered = {}
    shown = set(listed.tolist())
    for name, members in themes.items():
        codes_ = chosen(people.ranks, people.scores, project.top, members)
        shown |= set(codes_.tolist())
        filtered[name] = ranked_table(people, codes_, project.top, harm, context, theme_sets)
    progress(0.85, "details and the shared view")
    details = detail_table(parts, people.pseudonyms, np.array(sorted(shown), dtype=np.int64),
                           totals, [source.name for source in ingested],
                           project.hour_totals())

    group_tables, segment_names = {}, {}
    metrics_of = project.total_metrics()
    home = people.home
    if "segment" in context.columns:
        labels = (context["segment"] + " – " + context["segment name"]).where(
            context["segment"] != "", "")
        segment_names = {int(s): name for s, name in zip(context["segment"],
                                                          context["segment name"]) if s}
        group = home.map(labels).fillna("").replace("", NOT_KNOWN)
        group = group.where(home != "", NOT_KNOWN)
        counts = group_counts(people, group, metrics_of, project.hour_totals())
        order = sorted((g for g in counts.index if g != NOT_KNOWN),
                       key=lambda g: int(g.split(" – ")[0])) + [NOT_KNOWN]
        seg_res = None
        if residents is not None:
            seg_res = residents.groupby(labels.reindex(residents.index).fillna("")).sum()
        group_tables["segment"] = _stored_counts(counts, seg_res, order)
    if "home ward" in context.columns:
        wards = context["home ward"]
        names = context.get("home ward name", pd.Series("", index=context.index))
        group = home.map(wards).fillna("").replace("", NOT_KNOWN)
        counts = group_counts(people, group, metrics_of, project.hour_totals())
        order = sorted(g for g in counts.index if g != NOT_KNOWN) + [NOT_KNOWN]
        ward_res = None
        if residents is not None:
            ward_res = residents.groupby(wards.reindex(residents.index).fillna("")).sum()
        ward_names = dict(zip(wards, names))
        group_tables["ward"] = _stored_counts(counts, ward_res, order).assign(
            **{"ward name": lambda t: t["group"].map(ward_names).fillna("")})
    # the partners' tables: suppressed from the stored counts, as the report and dock do
    shared = shared_views(group_tables, project.threshold, segment_names)

    notes = _notes(project, window, everyone, summary, ingested, harm_notes, listed)
    progress(1.0, "done")
    return DemandResult(ranked=ranked, filtered=filtered, details=details,
                        reconciliation=summary, rows=rows, shared=shared, notes=notes,
                        people=people, counts=group_tables)


def summary_lines(result: DemandResult) -> list[str]:
    """What a run says on the console or in the Processing log, from its notes."""
    shown = ("Window", "People with a record in the window", "Records read", "Records used",
             "People listed", "Note")
    return [f"{row.item}: {row.value}" for row in result.notes.itertuples(index=False)
            if row.item in shown]


def _stored_counts(counts: pd.DataFrame, residents: pd.Series | None, order: list
                   ) -> pd.DataFrame:
    """The true counts of a shared view in its order, a group per row (a segment stored by
    its number, so that renaming the segments renames them here too)."""
    table = counts.reindex([g for g in order if g in counts.index])
    table.insert(0, "residents", residents.reindex(table.index).astype(float)
                 if residents is not None else np.nan)
    groups = [g.split(" – ")[0] if " – " in g else g for g in table.index]
    return table.reset_index(drop=True).assign(group=groups)[["group", *table.columns]]


def shared_from_counts(stored: pd.DataFrame, by: str, threshold: int,
                       segment_names: dict | None = None) -> pd.DataFrame:
    """One shared view (as ``DemandResult.shared``) from its stored true counts; with
    the other views of the same run, use ``shared_views`` (suppressed together)."""
    return shared_views({by: stored}, threshold, segment_names)[by]


def shared_views(stored: dict, threshold: int, segment_names: dict | None = None) -> dict:
    """The shared views (by -> table, as ``DemandResult.shared``) from the stored true
    counts of one run (by -> table), suppressed together at ``threshold``
    (``suppress_views``), segments named with their current names."""
    if not stored:
        return {}
    prepared = {}
    for by, table in stored.items():
        table = table.drop(columns=["fid"], errors="ignore")
        names = table.pop("ward name") if "ward name" in table.columns else None
        group = table.pop("group").astype(str)
        if by == "segment":
            group = group.map(lambda g: f"{g} – {(segment_names or {}).get(int(g), '')}"
                              if g.isdigit() else g)
        residents = table.pop("residents").astype(float)
        counts = table.set_axis(group.to_numpy()).astype(float)
        residents = (residents.set_axis(group.to_numpy()) if residents.notna().any()
                     else None)
        prepared[by] = (counts, residents, group, names)
    published = suppress_views({by: p[0] for by, p in prepared.items()}, threshold)
    views = {}
    for by, (counts, residents, group, names) in prepared.items():
        view = _with_label(shared_view(counts, residents, threshold, list(group),
                                       published[by]),
                           "segment" if by == "segment" else "ward code")
        if names is not None:
            view.insert(1, "ward name", view["ward code"].map(
                dict(zip(group, names.fillna("")))).fillna(""))
        views[by] = view
    return views


def _with_label(table: pd.DataFrame, label: str) -> pd.DataFrame:
    return table.rename_axis(label).reset_index()


def _notes(project, window, everyone, summary, ingested, harm_notes, listed
           ) -> pd.DataFrame:
    from ..share.export import suppression_rule

    start, end = window
    used = int(summary.loc[summary["status"].isin((USED, BAD_DURATION)), "records"].sum())
    rows = [
        ("Project", project.name),
        ("Window", f"{start:%Y-%m-%d} to {end - pd.Timedelta(days=1):%Y-%m-%d} "
                   f"({project.months} months before the run date {end:%Y-%m-%d})"),
        ("People with a record in the window", f"{len(everyone):,}"),
        ("Records read", f"{int(summary['records'].sum()):,}"),
        ("Records used", f"{used:,}"),
        ("People listed", f"{len(listed):,} (the top {project.top} of each metric, "
                          "de-duplicated; ties at the boundary all kept)"),
        ("Scaling", f"each total divided by the mean of its top {project.scale_top:,} values "
                    f"(all values when fewer), then {SCALING_WORDS[project.scaling]}"),
        ("Ranks", "1 = highest; tied people share the best rank of their group; lists are "
                  "ordered by overall rank, then best rank on any metric, then pseudonym"),
        ("Home area", "the most common output area on the person's records in the window; a "
                      "tie goes to the most recent record's area, then the lowest code"),
        ("Pseudonyms", "HMAC-SHA-256 of the person ID (or names and date of birth) with the "
                       "user's key, first 16 hex digits; the same key gives the same "
                       "pseudonym in every run and agency. No name, date of birth, phone "
                       "number or address is kept past reading."),
        ("Suppression (shared view)", suppression_rule(project.threshold)),
    ]
    for source in ingested:
        rows += [("Note", note) for note in source.notes]
    rows += [("Note", note) for note in harm_notes]
    return pd.DataFrame(rows, columns=["item", "value"])


# --- writing -------------------------------------------------------------------------------------

RANKED_FILE = "frequent_service_users.csv"
DETAILS_FILE = "service_user_details.csv"
RECONCILIATION_FILE = "demand_reconciliation.csv"
ROWS_FILE = "demand_rows_to_check.csv"
NOTES_FILE = "demand_notes.csv"
README_FILE = "demand_readme.txt"


def filter_file(name: str) -> str:
    return f"frequent_service_users_{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}.csv"


def shared_file(by: str) -> str:
    return f"shared_demand_by_{by}.csv"


README_TEXT = """Frequent service users and shared demand

For the tasking meeting (pseudonymised; keep within the partnership's agreement):
  frequent_service_users.csv      the people in the top N of any metric: pseudonym, ranks out
                                  of everyone, the totals, harm, home area, ward and segment
  frequent_service_users_<filter>.csv   the same for each filter (ranks not recomputed)
  service_user_details.csv        per listed person: records and hours by source and total

For partners (aggregates, small numbers suppressed):
  shared_demand_by_segment.csv / shared_demand_by_ward.csv

For the analyst:
  demand_reconciliation.csv       every input record: used, outside the window, pre-planned,
                                  unreadable, no person ID...
  demand_rows_to_check.csv        the records to look at one by one (by line number)
  demand_notes.csv                window, parameters, rules and notes
"""


def demand_job(project_path: Path, key_file: Path | None, out_dir: Path,
               segmentation: Path | None = None, replace_folder: bool = True,
               progress: Progress = silent, **overrides) -> tuple[DemandResult, list, str]:
    """The whole step as the command line, Processing and the dock run it: the project's
    ``[demand]`` section with ``overrides`` (run_date, top, scale_top, scaling, threshold),
    the user's key, the outputs written to ``out_dir`` and, with a segmentation, the shared
    view added to its GeoPackage. Returns (result, files written, where the key came
    from)."""
    key, key_source = demand_key(Path(key_file) if key_file else None)
    date_format = overrides.pop("date_format", None)
    project = load_demand_project(Path(project_path)).with_overrides(**overrides)
    if date_format:  # --date-format: every source's dates (and its resources' times)
        from dataclasses import replace

        project = replace(project, sources=tuple(
            replace(s, date_format=date_format,
                    resources=replace(s.resources, date_format=date_format)
                    if s.resources else None) for s in project.sources))
    check_parameters(project)
    result = demand_step(project, key, Path(segmentation) if segmentation else None,
                         progress=progress)
    # the files and the GeoPackage's tables together (the folder whole, or file by file)
    written = write_demand(result, out_dir, replace_folder=replace_folder,
                           segmentation=Path(segmentation) if segmentation else None)
    return result, written, key_source


SHARED_TABLES = {"segment": "demand_counts_by_segment", "ward": "demand_counts_by_ward"}


def _shared_tables(result: DemandResult) -> dict:
    return {SHARED_TABLES[by]: table for by, table in result.counts.items()
            if by in SHARED_TABLES}


def store_shared_view(segmentation: Path, result: DemandResult) -> list[str]:
    """Add the counts behind the shared demand to the segmentation's GeoPackage (an
    internal file: the partner GeoPackage leaves them out), where the report and the dock
    read them and suppress them at their own threshold; returns the tables written. Only if
    the GeoPackage still holds the segmentation the home areas were matched with."""
    from ..segment.saved import load_segmentation
    from ..store.geopackage import add_to_geopackage, gpkg_file

    tables = _shared_tables(result)
    if not tables:
        return []
    gpkg = gpkg_file(Path(segmentation))
    add_to_geopackage(gpkg, tables, identity=load_segmentation(gpkg).manifest["identity"])
    return list(tables)


def write_demand(result: DemandResult, out_dir: Path, replace_folder: bool = True,
                 segmentation: Path | None = None) -> list[Path]:
    """Every table into ``out_dir``: built aside and moved in whole (the command line), or
    file by file (``replace_folder=False``, a folder a user chose in QGIS). With
    ``segmentation``, the counts behind the shared views go into its GeoPackage in the same
    commit as the files: all or none (``together``)."""
    from ..segment.saved import load_segmentation
    from ..store.folders import replaced_folder, staged_files
    from ..store.geopackage import gpkg_file
    from ..store.together import replaced_together, staged_together

    if segmentation is not None and _shared_tables(result):
        gpkg = gpkg_file(Path(segmentation))
        together = replaced_together if replace_folder else staged_together
        folder = together(out_dir, gpkg, _shared_tables(result),
                          load_segmentation(gpkg).manifest["identity"])
    else:
        folder = replaced_folder(out_dir) if replace_folder else staged_files(out_dir)
    with folder as staging:
        write_csv(result.ranked, staging / RANKED_FILE, index=False)
        for name, table in result.filtered.items():
            write_csv(table, staging / filter_file(name), index=False)
        write_csv(result.details, staging / DETAILS_FILE, index=False)
        write_csv(result.reconciliation, staging / RECONCILIATION_FILE, index=False)
        write_csv(result.rows, staging / ROWS_FILE, index=False)
        for by, table in result.shared.items():
            write_csv(table, staging / shared_file(by), index=False, encoding="utf-8-sig")
        write_csv(result.notes, staging / NOTES_FILE, index=False, encoding="utf-8-sig")
        (staging / README_FILE).write_text(README_TEXT, encoding="utf-8")
        names = sorted(p.name for p in staging.iterdir())
    return [Path(out_dir) / name for name in names]
