"""The project file: a TOML description of inputs and parameters for a segmentation.

Paths are relative to the project file. Unknown sections or keys are refused, naming them,
so a misspelt option never passes silently. See resources/sample_data/camden/camden.toml.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import InputError
from .profiles import BandRule
from .screening import ScreeningRules


@dataclass(frozen=True)
class TableSpec:
    path: Path
    code: str
    variables: tuple | None = None  # None: every numeric column not in context
    context: tuple = ()  # carried and profiled, never clustered
    join_on: str | None = None  # boundary attribute that the table's code matches
    sheet: str | None = None
    # counts -> rates: one denominator column for every variable, or {variable: column}
    denominator: str | dict | None = None
    per: float = 100.0  # 100: percentages; 1000: rates per 1,000
    # a table kept at another geography, joined through a lookup file of area code -> its code
    lookup: Path | None = None
    lookup_from: str | None = None  # the lookup's column of the boundaries' area codes
    lookup_to: str | None = None  # its column of the codes the table is keyed on

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class Project:
    path: Path
    name: str
    boundaries: Path
    boundary_code: str
    boundary_layer: str | None
    tables: tuple
    boundary_crs: str | None = None  # assigned over the file's own label, when that is wrong
    k: int = 10
    n_init: int = 50
    seed: int = 2011
    standardise: str = "zscore"
    missing: str = "median"
    subsegments: int = 0
    min_share: float = 2.0  # % of areas: a smaller segment is flagged as not a target group
    winsorise: float = 0.0  # > 0: standardised values clipped to ±this (extreme areas)
    screening: ScreeningRules = ScreeningRules()
    deprivation: str | None = None
    more_deprived: str = "lower"
    residents: str | None = None
    households: str | None = None
    bands: BandRule = BandRule()
    labels_file: Path | None = None
    segment_text: dict = field(default_factory=dict)  # number -> {"name":..., "portrait":...}

    def __post_init__(self):
        for problem in settings_problems(self):
            raise InputError(f"{self.path.name}: {problem}")

    def with_overrides(self, **changes) -> Project:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


STANDARDISATIONS = ("zscore", "range", "ihs_range")
MISSING_POLICIES = ("median", "drop")


def settings_problems(project: Project) -> list[str]:
    """Settings that cannot give a sound segmentation, each in words (none: fine)."""
    problems = []
    if not 0 < project.screening.threshold <= 1:
        problems.append(f"[screening] threshold = {project.screening.threshold:g} must lie "
                        "above 0 and at most 1 (|Pearson r|; 0.8 is the usual choice)")
    if project.screening.min_range < 0:
        problems.append(f"[screening] min_range = {project.screening.min_range:g} cannot be "
                        "negative")
    if project.bands.high <= project.bands.low:
        problems.append(f"[bands] high = {project.bands.high:g} must be above low = "
                        f"{project.bands.low:g} (index scores; 120 and 80 are usual)")
    if project.k < 2:
        problems.append(f"[segmentation] k = {project.k} must be at least 2")
    if project.n_init < 1:
        problems.append(f"[segmentation] n_init = {project.n_init} must be at least 1")
    if project.subsegments < 0 or project.subsegments == 1:
        problems.append(f"[segmentation] subsegments = {project.subsegments} must be 0 (none) "
                        "or at least 2")
    if not 0 <= project.min_share < 100:
        problems.append(f"[segmentation] min_share = {project.min_share:g} must be a "
                        "percentage of the areas, from 0 to below 100")
    if project.winsorise < 0 or 0 < project.winsorise < 1:
        problems.append(f"[segmentation] winsorise = {project.winsorise:g} must be 0 (off) or "
                        "a bound of 1 or more standard deviations (3 is usual)")
    if project.standardise not in STANDARDISATIONS:
        problems.append(f"[segmentation] standardise = '{project.standardise}' is not one of: "
                        f"{', '.join(STANDARDISATIONS)}")
    if project.missing not in MISSING_POLICIES:
        problems.append(f"[segmentation] missing = '{project.missing}' is not one of: "
                        f"{', '.join(MISSING_POLICIES)}")
    if project.more_deprived not in ("lower", "higher"):
        problems.append(f"[deprivation] more_deprived = '{project.more_deprived}' is not one "
                        "of: lower, higher")
    return problems


SECTIONS = {
    "name": None, "boundaries": {"path", "layer", "code", "crs"}, "tables": None,
    "segmentation": {"k", "n_init", "seed", "standardise", "missing", "subsegments",
                     "min_share", "winsorise"},
    "screening": {"threshold", "min_distinct", "min_range", "force_in", "force_out"},
    "deprivation": {"column", "more_deprived"}, "sizes": {"residents", "households"},
    "bands": {"high", "low"}, "labels": {"file"}, "segments": None,
}
TABLE_KEYS = {"path", "code", "variables", "context", "join_on", "sheet", "denominator",
              "per", "lookup"}
LOOKUP_KEYS = {"path", "from", "to"}


def _check_keys(where: str, given: dict, allowed: set, source: Path) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise InputError(f"{source.name}: unknown key(s) in [{where}]: {', '.join(unknown)} "
                         f"(allowed: {', '.join(sorted(allowed))})")


def _typed(source: Path, where: str, value, kind, name: str):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        wanted = {int: "a whole number", list: 'a list, e.g. ["pct_no_car"]'}.get(
            kind, kind.__name__)
        raise InputError(f"{source.name}: [{where}] {name} = {value!r} should be {wanted}")
    return value


def _toml():
    """The TOML reader: the standard library's from Python 3.11, else the tomli package (only
    project files need it, so QGIS and Processing load without it)."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11 (older QGIS builds ship 3.9)
        import tomli as tomllib
    return tomllib


def load_project(path: Path) -> Project:
    tomllib = _toml()
    path = Path(path).resolve()
    if not path.exists():
        raise InputError(f"{path}: project file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path.name}: not a valid TOML project file ({err})") from err
    _check_keys("top level", data, set(SECTIONS), path)
    for section, keys in SECTIONS.items():
        if keys is not None and section in data:
            _check_keys(section, data[section], keys, path)
    base = path.parent

    boundaries = data.get("boundaries")
    if not boundaries or "path" not in boundaries or "code" not in boundaries:
        raise InputError(f"{path.name}: [boundaries] needs path and code")
    tables = []
    for i, table in enumerate(data.get("tables", []), start=1):
        _check_keys(f"tables #{i}", table, TABLE_KEYS, path)
        if "path" not in table or "code" not in table:
            raise InputError(f"{path.name}: [[tables]] #{i} needs path and code")
        lookup = table.get("lookup", {})
        if lookup:
            if not isinstance(lookup, dict) or set(lookup) != LOOKUP_KEYS:
                raise InputError(f"{path.name}: [[tables]] #{i} lookup needs path, from and to "
                                 '(e.g. lookup = {path = "oa_lsoa_lookup.csv", from = "oa_cd", '
                                 'to = "lsoa_cd"})')
            if "join_on" in table:
                raise InputError(f"{path.name}: [[tables]] #{i} has both join_on and lookup; "
                                 "keep one")
        per = _typed(path, f"tables #{i}", table.get("per", 100.0), float, "per")
        if per <= 0:
            raise InputError(f"{path.name}: [[tables]] #{i} per = {per:g} must be above 0 "
                             "(100 for percentages, 1000 for rates per 1,000)")
        denominator = table.get("denominator")
        if denominator is not None and not isinstance(denominator, (str, dict)):
            raise InputError(f"{path.name}: [[tables]] #{i} denominator should be a column name "
                             "or a table of variable = column")
        tables.append(TableSpec(
            path=base / table["path"], code=table["code"],
            variables=tuple(table["variables"]) if "variables" in table else None,
            context=tuple(table.get("context", ())), join_on=table.get("join_on"),
            sheet=table.get("sheet"), denominator=denominator,
            per=per,
            lookup=base / lookup["path"] if lookup else None,
            lookup_from=lookup.get("from"), lookup_to=lookup.get("to"),
        ))
    if not tables:
        raise InputError(f"{path.name}: no [[tables]] of area data")

    seg = data.get("segmentation", {})
    scr = data.get("screening", {})
    dep = data.get("deprivation", {})
    sizes = data.get("sizes", {})
    bands = data.get("bands", {})
    labels = data.get("labels", {})
    segment_text = {}
    for number, text in data.get("segments", {}).items():
        if not str(number).isdigit() or not isinstance(text, dict):
            raise InputError(f"{path.name}: [segments.{number}] should be a segment number "
                             "with name and/or portrait")
        _check_keys(f"segments.{number}", text, {"name", "portrait"}, path)
        segment_text[int(number)] = text
    return Project(
        path=path, name=str(data.get("name", path.stem)),
        boundaries=base / boundaries["path"], boundary_code=boundaries["code"],
        boundary_layer=boundaries.get("layer"), tables=tuple(tables),
        boundary_crs=boundaries.get("crs"),
        k=_typed(path, "segmentation", seg.get("k", 10), int, "k"),
        n_init=_typed(path, "segmentation", seg.get("n_init", 50), int, "n_init"),
        seed=_typed(path, "segmentation", seg.get("seed", 2011), int, "seed"),
        standardise=seg.get("standardise", "zscore"), missing=seg.get("missing", "median"),
        subsegments=_typed(path, "segmentation", seg.get("subsegments", 0), int, "subsegments"),
        min_share=_typed(path, "segmentation", seg.get("min_share", 2.0), float, "min_share"),
        winsorise=_typed(path, "segmentation", seg.get("winsorise", 0.0), float, "winsorise"),
        screening=ScreeningRules(
            threshold=_typed(path, "screening", scr.get("threshold", 0.8), float, "threshold"),
            min_distinct=_typed(path, "screening", scr.get("min_distinct", 5), int,
                                "min_distinct"),
            min_range=_typed(path, "screening", scr.get("min_range", 0.0), float, "min_range"),
            force_in=tuple(_typed(path, "screening", scr.get("force_in", []), list, "force_in")),
            force_out=tuple(_typed(path, "screening", scr.get("force_out", []), list,
                                   "force_out")),
        ),
        deprivation=dep.get("column"), more_deprived=dep.get("more_deprived", "lower"),
        residents=sizes.get("residents"), households=sizes.get("households"),
        bands=BandRule(high=_typed(path, "bands", bands.get("high", 120.0), float, "high"),
                       low=_typed(path, "bands", bands.get("low", 80.0), float, "low")),
        labels_file=base / labels["file"] if "file" in labels else None,
        segment_text=segment_text,
    )
