"""The project file: a TOML description of inputs and parameters for a segmentation.

Paths are relative to the project file. Unknown sections or keys are refused, naming them,
so a misspelt option never passes silently. See resources/sample_data/camden/camden.toml.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import SimpleNamespace

from ..errors import InputError
from .rules import BandRule, ScreeningRules


@dataclass(frozen=True)
class TableSpec:
    path: Path
    code: str
    variables: tuple | None = None  # None: every numeric column not in context
    context: tuple = ()  # carried and profiled, never clustered
    join_on: str | None = None  # boundary attribute that the table's code matches
    sheet: str | None = None
    # counts -> rates: one denominator column for every variable, {variable: column},
    # "row total" (the sum of the table's count columns) or a list of columns to add up
    denominator: str | dict | list | None = None
    counts: str | None = None  # "as is": counts clustered as counts (not refused)
    per: float = 100.0  # 100: percentages; 1000: rates per 1,000
    # a table kept at another geography, joined through a lookup file of area code -> its code
    lookup: Path | None = None
    lookup_from: str | None = None  # the lookup's column of the boundaries' area codes
    lookup_to: str | None = None  # its column of the codes the table is keyed on

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def title(self) -> str:
        """The table as messages and lists of inputs name it (its sheet too, if given)."""
        from ..data.ingest import sheet_title

        return sheet_title(self.path.name, self.sheet)


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
    labels_columns: tuple = ("variable", "description")  # [labels] variable, description
    segment_text: dict = field(default_factory=dict)  # number -> {"name":..., "portrait":...}
    derive: dict = field(default_factory=dict)  # [derive] name -> "col + col - col"
    # the [demand] section as written (read by demand.load_demand_project), kept so that
    # saving the project (the wizard) does not lose it
    demand: dict | None = None
    # settings given elsewhere than the file (``with_overrides``): setting -> its name there
    given_elsewhere: dict = field(default_factory=dict, compare=False)
    from_file: bool = field(default=False, compare=False)  # read by ``load_project``

    def __post_init__(self):
        for problem in settings_problems(self):
            raise InputError(f"{self.path.name}: {problem}")

    def with_overrides(self, given_as: dict | None = None, **changes) -> Project:
        """The project with the settings given elsewhere (the command line's ``--k``, a
        Processing parameter) in place of the file's; a value that cannot be used is
        refused naming where it was given (``given_as``: setting -> its name there, by
        default the command line's ``--k``, ``--n-init``...), not the project file."""
        changes = {k: v for k, v in changes.items() if v is not None}
        said = {key: (given_as or {}).get(key, f"--{key.replace('_', '-')}")
                for key in changes}
        everything = SimpleNamespace(**{**{f.name: getattr(self, f.name)
                                           for f in fields(self)}, **changes})
        for problem in settings_problems(everything):
            for key, name in said.items():
                written = f"[segmentation] {key} = {changes[key]} "
                if problem.startswith(written):
                    raise InputError(f"{name} {changes[key]} {problem[len(written):]}")
        return replace(self, **changes, given_elsewhere={**self.given_elsewhere, **said})

    def setting(self, key: str, section: str = "segmentation") -> str:
        """Where a setting's value came from, as a user finds it: "bromley.toml:
        [segmentation] k = 2000", or "--k 2000" when given on the command line (or its
        name in a dialog); "k = 2000" for a project made in a dialog."""
        value = getattr(self, key)
        if key in self.given_elsewhere:
            return f"{self.given_elsewhere[key]} {value}"
        if self.from_file:
            return f"{self.path.name}: [{section}] {key} = {value}"
        return f"{key} = {value}"


STANDARDISATIONS = ("zscore", "range", "ihs_range")
MAX_SEED = 2**32 - 1  # the random generators' seeds are 32-bit
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
    if not 0 <= project.seed <= MAX_SEED:
        problems.append(f"[segmentation] seed = {project.seed} must be a whole number from 0 "
                        f"to {MAX_SEED:,}")
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
    "bands": {"high", "low"}, "labels": {"file", "variable", "description"}, "segments": None,
    "demand": None,  # frequent service users: read by demand.load_demand_project
    "derive": None,  # name = "column + column - column", made in the table holding them
    "risk_model": None,  # the fire risk model: read by risk_model.ModelSettings.from_table
}
TABLE_KEYS = {"path", "code", "variables", "context", "join_on", "sheet", "denominator",
              "per", "lookup", "counts"}
LOOKUP_KEYS = {"path", "from", "to"}


def check_keys(where: str, given: dict, allowed: set, source: Path) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise InputError(f"{source.name}: unknown key(s) in [{where}]: {', '.join(unknown)} "
                         f"(allowed: {', '.join(sorted(allowed))})")


def typed(source: Path, where: str, value, kind, name: str):
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


def path_under(base: Path, written: str) -> Path:
    """A path from the project file, relative to its folder (or absolute), normalised:
    ``../data/x.csv`` loads as the same path it was saved from."""
    return Path(os.path.normpath(base / written))


def read_toml(path: Path) -> tuple[dict, Path]:
    """A project file's contents and its resolved path, or one line saying why not."""
    tomllib = _toml()
    path = Path(path).resolve()
    if not path.exists():
        raise InputError(f"{path}: project file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path.name}: not a valid TOML project file ({err})") from err
    return data, path


def load_project(path: Path) -> Project:
    data, path = read_toml(path)
    check_keys("top level", data, set(SECTIONS), path)
    for section, keys in SECTIONS.items():
        if keys is not None and section in data:
            check_keys(section, data[section], keys, path)
    base = path.parent

    boundaries = data.get("boundaries")
    if not boundaries or "path" not in boundaries or "code" not in boundaries:
        raise InputError(f"{path.name}: [boundaries] needs path and code")
    tables = []
    for i, table in enumerate(data.get("tables", []), start=1):
        check_keys(f"tables #{i}", table, TABLE_KEYS, path)
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
        per = typed(path, f"tables #{i}", table.get("per", 100.0), float, "per")
        if per <= 0:
            raise InputError(f"{path.name}: [[tables]] #{i} per = {per:g} must be above 0 "
                             "(100 for percentages, 1000 for rates per 1,000)")
        denominator = table.get("denominator")
        if denominator is not None and not isinstance(denominator, (str, dict)) and not (
                isinstance(denominator, list) and denominator
                and all(isinstance(c, str) for c in denominator)):
            raise InputError(f"{path.name}: [[tables]] #{i} denominator should be a column "
                             'name, "row total", a list of columns to add up, or a table of '
                             "variable = column")
        counts = table.get("counts")
        if counts is not None and counts != "as is":
            raise InputError(f"{path.name}: [[tables]] #{i} counts = '{counts}': the only "
                             'setting is counts = "as is" (cluster the counts unchanged)')
        tables.append(TableSpec(
            path=path_under(base, table["path"]), code=table["code"],
            variables=tuple(table["variables"]) if "variables" in table else None,
            context=tuple(table.get("context", ())), join_on=table.get("join_on"),
            sheet=table.get("sheet"), denominator=denominator,
            per=per, counts=counts,
            lookup=path_under(base, lookup["path"]) if lookup else None,
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
        check_keys(f"segments.{number}", text, {"name", "portrait"}, path)
        segment_text[int(number)] = text
    derive = data.get("derive", {})
    if not isinstance(derive, dict) or not all(isinstance(v, str) for v in derive.values()):
        raise InputError(f'{path.name}: [derive] holds lines such as age_5_14 = "u008 + u009"')
    from ..data.derive import parse_expression

    for name, text in derive.items():
        parse_expression(name, text, path.name)
    return Project(
        path=path, from_file=True, name=str(data.get("name", path.stem)),
        boundaries=path_under(base, boundaries["path"]), boundary_code=boundaries["code"],
        boundary_layer=boundaries.get("layer"), tables=tuple(tables),
        boundary_crs=boundaries.get("crs"),
        k=typed(path, "segmentation", seg.get("k", 10), int, "k"),
        n_init=typed(path, "segmentation", seg.get("n_init", 50), int, "n_init"),
        seed=typed(path, "segmentation", seg.get("seed", 2011), int, "seed"),
        standardise=seg.get("standardise", "zscore"), missing=seg.get("missing", "median"),
        subsegments=typed(path, "segmentation", seg.get("subsegments", 0), int, "subsegments"),
        min_share=typed(path, "segmentation", seg.get("min_share", 2.0), float, "min_share"),
        winsorise=typed(path, "segmentation", seg.get("winsorise", 0.0), float, "winsorise"),
        screening=ScreeningRules(
            threshold=typed(path, "screening", scr.get("threshold", 0.8), float, "threshold"),
            min_distinct=typed(path, "screening", scr.get("min_distinct", 5), int,
                                "min_distinct"),
            min_range=typed(path, "screening", scr.get("min_range", 0.0), float, "min_range"),
            force_in=tuple(typed(path, "screening", scr.get("force_in", []), list, "force_in")),
            force_out=tuple(typed(path, "screening", scr.get("force_out", []), list,
                                   "force_out")),
        ),
        deprivation=dep.get("column"), more_deprived=dep.get("more_deprived", "lower"),
        residents=sizes.get("residents"), households=sizes.get("households"),
        bands=BandRule(high=typed(path, "bands", bands.get("high", 120.0), float, "high"),
                       low=typed(path, "bands", bands.get("low", 80.0), float, "low")),
        labels_file=path_under(base, labels["file"]) if "file" in labels else None,
        labels_columns=(str(labels.get("variable", "variable")),
                        str(labels.get("description", "description"))),
        segment_text=segment_text, derive=dict(derive),
        demand=data.get("demand"),
    )


# --- writing a project file (the wizard's "Save project file") -----------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key) -> str:
    key = str(key)
    return key if _BARE_KEY.match(key) else _toml_value(key)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a TOML basic string (the same escapes)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} to a project file")


def _relative(path: Path, folder: Path) -> str:
    """``path`` as written in a project file in ``folder``: relative to it (with ``/``),
    or absolute when no relative path exists (another drive on Windows)."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), folder)).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def project_to_toml(project: Project, folder: Path | None = None) -> str:
    """The project file's text: what ``load_project`` reads back as the same project.
    Paths are written relative to ``folder`` (default: the project file's own folder)."""
    folder = Path(folder if folder is not None else Path(project.path).parent).resolve()
    lines = ["# Community Safety Segmentation project file. Run it with:",
             f"#   community-safety segment {Path(project.path).name} --out results/",
             "# Paths are relative to this file.",
             f"name = {_toml_value(project.name)}", "", "[boundaries]",
             f"path = {_toml_value(_relative(project.boundaries, folder))}"]
    if project.boundary_layer is not None:
        lines.append(f"layer = {_toml_value(project.boundary_layer)}")
    lines.append(f"code = {_toml_value(project.boundary_code)}")
    if project.boundary_crs is not None:
        lines.append(f"crs = {_toml_value(project.boundary_crs)}  # the CRS the coordinates "
                     "are really in")
    for table in project.tables:
        lines += ["", "[[tables]]", f"path = {_toml_value(_relative(table.path, folder))}",
                  f"code = {_toml_value(table.code)}"]
        if table.sheet is not None:
            lines.append(f"sheet = {_toml_value(table.sheet)}")
        if table.variables is not None:
            lines.append(f"variables = {_toml_value(list(table.variables))}")
        if table.context:
            lines.append(f"context = {_toml_value(list(table.context))}")
        if table.join_on is not None:
            lines.append(f"join_on = {_toml_value(table.join_on)}")
        if table.lookup is not None:
            lookup = {"path": _relative(table.lookup, folder), "from": table.lookup_from,
                      "to": table.lookup_to}
            lines.append(f"lookup = {_toml_value(lookup)}")
        if table.denominator is not None:
            lines.append(f"denominator = {_toml_value(table.denominator)}")
            lines.append(f"per = {_toml_value(float(table.per))}  # 100: percentages; "
                         "1000: rates per 1,000")
        elif float(table.per) != 100.0:
            lines.append(f"per = {_toml_value(float(table.per))}")
        if table.counts is not None:
            lines.append(f"counts = {_toml_value(table.counts)}")
    if project.derive:
        lines += ["", "[derive]"] + [f"{_toml_key(name)} = {_toml_value(text)}"
                                     for name, text in project.derive.items()]
    rules = project.screening
    lines += ["", "[screening]", f"threshold = {_toml_value(float(rules.threshold))}",
              f"min_distinct = {_toml_value(int(rules.min_distinct))}",
              f"min_range = {_toml_value(float(rules.min_range))}",
              f"force_in = {_toml_value(list(rules.force_in))}",
              f"force_out = {_toml_value(list(rules.force_out))}",
              "", "[segmentation]", f"k = {project.k}", f"n_init = {project.n_init}",
              f"seed = {project.seed}", f"standardise = {_toml_value(project.standardise)}",
              f"missing = {_toml_value(project.missing)}",
              f"subsegments = {project.subsegments}",
              f"min_share = {_toml_value(float(project.min_share))}",
              f"winsorise = {_toml_value(float(project.winsorise))}"]
    if project.deprivation is not None or project.more_deprived != "lower":
        lines += ["", "[deprivation]"]
        if project.deprivation is not None:
            lines.append(f"column = {_toml_value(project.deprivation)}")
        lines.append(f"more_deprived = {_toml_value(project.more_deprived)}")
    if project.residents is not None or project.households is not None:
        lines += ["", "[sizes]"]
        if project.residents is not None:
            lines.append(f"residents = {_toml_value(project.residents)}")
        if project.households is not None:
            lines.append(f"households = {_toml_value(project.households)}")
    lines += ["", "[bands]", f"high = {_toml_value(float(project.bands.high))}",
              f"low = {_toml_value(float(project.bands.low))}"]
    if project.labels_file is not None:
        lines += ["", "[labels]", f"file = {_toml_value(_relative(project.labels_file, folder))}"]
        if tuple(project.labels_columns) != ("variable", "description"):
            lines += [f"variable = {_toml_value(project.labels_columns[0])}",
                      f"description = {_toml_value(project.labels_columns[1])}"]
    for number in sorted(project.segment_text):
        lines += ["", f"[segments.{int(number)}]"]
        lines += [f"{key} = {_toml_value(str(text))}"
                  for key, text in project.segment_text[number].items()]
    if project.demand:
        # as read: its paths stay relative to the folder the project was read from
        lines += ["", "# frequent service users: `community-safety demand` reads this section",
                  "[demand]"]
        lines += [f"{_toml_key(key)} = {_toml_value(value)}"
                  for key, value in project.demand.items()]
    return "\n".join(lines) + "\n"


def save_project(project: Project, path: Path | None = None) -> Path:
    """Write the project file (default: ``project.path``) atomically, paths relative to its
    folder; ``load_project`` of the result gives the project back (with that path)."""
    from ..store.folders import atomic_file

    path = Path(path if path is not None else project.path).resolve()
    text = project_to_toml(project, path.parent)
    with atomic_file(path) as temporary:
        Path(temporary).write_text(text, encoding="utf-8")
    return path
