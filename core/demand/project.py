"""The project's ``[demand]`` section: the sources and how their columns map to totals, the
filters, the area table, the harm weights and the settings, read and checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .totals import (
    CALL_TOTALS,
    DEFAULT_ROLES,
    HARM_CAUSED,
    HARM_RECEIVED,
    HOUR_TOTALS,
    KINDS,
    METRIC_NAMES,
    NINE_TOTALS,
    PRE_PLANNED,
    SCALINGS,
)


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
    synthetic: bool = False  # invented records (a sample): said wherever their figures are
    # postcode points (places.steps.PostcodeFile), to place home areas given as postcodes
    postcodes: object | None = None

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
               "date_format", "synthetic", "postcodes"}
SOURCE_KEYS = {"name", "path", "kind", "id", "names", "dob", "date", "role", "roles",
               "offence", "text", "home_area", "hours", "start", "end", "incident", "exclude",
               "exclude_values", "resources", "total", "hours_total", "date_format"}
RESOURCE_KEYS = {"path", "incident", "assigned", "deployed", "arrived", "released"}
FILTER_KEYS = {"name", "keywords", "offences", "total", "areas", "wards"}
AREA_KEYS = {"path", "code", "ward", "ward_name", "residents"}
HARM_KEYS = {"path", "offence", "weight"}
POSTCODE_KEYS = {"path", "postcode", "x", "y", "crs"}


def _listed(value, where: str, source: Path) -> tuple:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{source.name}: [{where}] should be a name or a list of names")
    return tuple(value)


def _source(spec: dict, i: int, base: Path, totals: dict, path: Path,
            date_format: str | None = None) -> Source:
    from ..project.project_file import check_keys, path_under

    where = f"demand.sources #{i}"
    check_keys(where, spec, SOURCE_KEYS, path)
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
    if ids and bool(names) != bool(spec.get("dob")):
        raise InputError(f"{path.name}: [[demand.sources]] #{i} gives "
                         f"{'names' if names else 'dob'} without {'dob' if names else 'names'}: "
                         "a source with person IDs links to sources without IDs on names "
                         "and date of birth together")
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
        check_keys(f"{where} resources", given, RESOURCE_KEYS, path)
        resources = Resources(path=path_under(base, given["path"]),
                              incident=given.get("incident", spec["incident"]),
                              released=given["released"], date_format=date_format,
                              **{k: given[k] for k in ("assigned", "deployed", "arrived")
                                 if k in given})
    date_format = spec.get("date_format", date_format)
    exclude_values = tuple(v.casefold() for v in _listed(
        spec.get("exclude_values", list(PRE_PLANNED)), f"{where}] exclude_values", path))
    return Source(
        name=str(spec.get("name", Path(spec["path"]).stem)), path=path_under(base, spec["path"]),
        kind=kind, id=ids, names=names, dob=spec.get("dob"), date=spec.get("date", "date"),
        role=spec.get("role"), roles=roles, offence=spec.get("offence"),
        text=_listed(spec.get("text", []), f"{where}] text", path),
        home_area=spec.get("home_area"), hours=spec.get("hours"), start=spec.get("start"),
        end=spec.get("end"), incident=spec.get("incident"), exclude=spec.get("exclude"),
        exclude_values=exclude_values, resources=resources, total=spec.get("total"),
        hours_total=spec.get("hours_total"), date_format=date_format)


def demand_from_toml(data: dict, path: Path) -> DemandProject:
    """The ``[demand]`` section of a project file, checked (paths relative to the file)."""
    from ..project.project_file import check_keys, path_under, typed

    if "demand" not in data or not isinstance(data["demand"], dict):
        raise InputError(f"{path.name}: no [demand] section (see "
                         "resources/sample_data/camden/service_users/service_users.toml)")
    section = data["demand"]
    check_keys("demand", section, DEMAND_KEYS, path)
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
        check_keys(f"demand.filters #{i}", spec, FILTER_KEYS, path)
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
        harm = (path_under(base, harm["path"]), harm["offence"], harm["weight"])
    areas = section.get("areas")
    if areas is not None:
        if not isinstance(areas, dict) or "path" not in areas or "code" not in areas:
            raise InputError(f"{path.name}: [demand] areas needs path and code (and ward, "
                             "ward_name, residents)")
        check_keys("demand.areas", areas, AREA_KEYS, path)
        areas = AreaTable(path=path_under(base, areas["path"]), code=areas["code"],
                          ward=areas.get("ward"), ward_name=areas.get("ward_name"),
                          residents=areas.get("residents"))
    postcodes = section.get("postcodes")
    if postcodes is not None:
        from ..places.steps import PostcodeFile

        if not isinstance(postcodes, dict) or "path" not in postcodes:
            raise InputError(f"{path.name}: [demand] postcodes needs path (and postcode, x, "
                             'y, crs), e.g. {path = "postcodes.csv", postcode = "Postcode", '
                             'x = "Eastings", y = "Northings"}')
        check_keys("demand.postcodes", postcodes, POSTCODE_KEYS, path)
        postcodes = PostcodeFile(path_under(base, postcodes["path"]),
                                 **{k: str(postcodes[k]) for k in ("postcode", "x", "y", "crs")
                                    if k in postcodes})
    project = DemandProject(
        path=path, name=str(section.get("name", data.get("name", path.stem))),
        sources=tuple(sources), totals=totals, filters=tuple(filters),
        run_date=section.get("run_date"),
        months=typed(path, "demand", section.get("months", 12), int, "months"),
        top=typed(path, "demand", section.get("top", 100), int, "top"),
        scale_top=typed(path, "demand", section.get("scale_top", 1000), int, "scale_top"),
        scaling=section.get("scaling", "max"), harm=harm, areas=areas,
        segmentation=(path_under(base, section["segmentation"]) if section.get("segmentation")
                      else None),
        threshold=typed(path, "demand", section.get("threshold", 5), int, "threshold"),
        synthetic=typed(path, "demand", section.get("synthetic", False), bool, "synthetic"),
        postcodes=postcodes)
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
