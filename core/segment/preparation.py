"""How each variable was made from its table (a share of which total, per how many, or the
table's own values), recorded in a segmentation's manifest when it is built, and checked when
new data are assigned to its segments: a variable prepared otherwise (counts where the
segmentation clustered shares, say) lands on another scale and moves areas between segments
for no reason, so the assignment is refused, naming the table and what the segmentation used.
"""

from __future__ import annotations

import json

import pandas as pd

from ..errors import InputError
from ..project.project_file import Project, TableSpec


def way_of(spec: TableSpec, variable: str) -> dict:
    """How ``spec``'s entry prepares ``variable``: ``shares_of`` (the total it is divided by:
    a column, a list of columns added up, or "row total"; None when it is taken as the
    table gives it), ``per`` (when a share) and ``counts`` ("as is" when its entry says so)."""
    from ..data.derive import ROW_TOTAL

    denominator = spec.denominator
    if isinstance(denominator, dict):
        base = denominator.get(variable)
    elif isinstance(denominator, list):
        base = list(denominator)
    elif denominator == ROW_TOTAL:
        base = ROW_TOTAL
    elif isinstance(denominator, str) and denominator != variable:
        base = denominator
    else:
        base = None
    if variable in spec.context:
        base = None  # context is carried as it is
    way = {"table": spec.title, "shares_of": base}
    if base is not None:
        way["per"] = float(spec.per)
    else:
        way["counts"] = spec.counts
    return way


def preparation_record(project: Project, origin: dict[str, str]) -> dict[str, dict]:
    """Per variable read from a table (``origin``: variable -> the table's title, from
    ``gather_area_data``): how its entry prepared it (``way_of``), for the manifest."""
    specs = {spec.title: spec for spec in project.tables}
    return {variable: way_of(specs[title], variable) for variable, title in origin.items()
            if title in specs}


def _entry_for(project: Project, variable: str, saved_table: str) -> TableSpec | None:
    """The project's entry that gives ``variable``: the one listing it, else the table of the
    same name reading every column, else None (its absence is said later)."""
    for spec in project.tables:
        if spec.variables is not None and variable in spec.variables:
            return spec
    for spec in project.tables:
        if spec.variables is None and spec.title == saved_table:
            return spec
    return None


def _setting(way: dict) -> str:
    """The project-file setting that prepares ``variables`` as ``way`` says."""
    base = way.get("shares_of")
    if base is None:
        return ('counts = "as is"' if way.get("counts") else
                "no denominator (the values as the table gives them)")
    said = f"denominator = {json.dumps(base)}"
    per = way.get("per", 100.0)
    return said + (f", per = {per:g}" if per != 100 else "")


def _said(way: dict, past: bool = False) -> str:
    """What an entry does (or, ``past``, did) to its variables, in words."""
    took, made = ("took", "made") if past else ("takes", "makes")
    base = way.get("shares_of")
    if base is None:
        return (f"{took} them as the counts they are (counts = \"as is\")" if way.get("counts")
                else f"{took} them as the table gives them (no denominator)")
    total = (" + ".join(base) if isinstance(base, list)
             else "the sum of the table's count columns" if base == "row total" else base)
    per = way.get("per", 100.0)
    return f"{made} them {'percentages' if per == 100 else f'rates per {per:g}'} of {total}"


def _same(saved: dict, new: dict) -> bool:
    if (saved.get("shares_of") is None) != (new.get("shares_of") is None):
        return False
    if saved.get("shares_of") is not None:
        return (saved["shares_of"] == new["shares_of"]
                and float(saved.get("per", 100)) == float(new.get("per", 100)))
    return bool(saved.get("counts")) == bool(new.get("counts"))


def check_same_preparation(record: dict, clustered: list, project: Project) -> None:
    """Refuse a project that prepares a clustering variable otherwise than the segmentation
    did (``record``: its manifest's ``preparation``): one line per table, naming it, saying
    what the segmentation used and the setting that does the same. Nothing to check when the
    segmentation predates the record."""
    wrong: dict[tuple, tuple[dict, dict, list]] = {}
    for variable in clustered:
        saved = record.get(variable)
        if saved is None:
            continue
        spec = _entry_for(project, variable, saved.get("table", ""))
        if spec is None:
            continue
        new = way_of(spec, variable)
        if not _same(saved, new):
            key = (spec.title, json.dumps(saved, sort_keys=True), json.dumps(new, sort_keys=True))
            wrong.setdefault(key, (saved, new, []))[2].append(variable)
    if not wrong:
        return
    lines = []
    for (title, _, _), (saved, new, variables) in wrong.items():
        count = (f"its {len(variables)} clustering variables" if len(variables) > 1
                 else "its clustering variable")
        used = _said(saved, past=True).replace("them", count, 1)
        lines.append(f"{title}: the segmentation {used}; "
                     f"this project {_said(new)}. On another scale its areas would change "
                     "segment for no reason: give its [[tables]] entry "
                     f"{_setting(saved)}, as when the segmentation was built")
    raise InputError("\n".join(lines))


# how far (in the segmentation's standard deviations over its areas) the new data's median
# of a variable may lie from the segmentation's mean before it is taken for another scale:
# a year's change moves a median a fraction of that (Barnet's refresh: at most 0.46), counts
# given for shares move it 4 to 20
FAR = 3.0
# the share of the new areas above 100 that says a variable made percentages now holds counts
OVER_100 = 0.01
# the median change of the same areas' values, in the segmentation's standard deviations,
# beyond which a variable is on another scale (Camden's social and private renting, owning
# and no-car shares moved 0.03-0.21 of one from the 2011 census to 2021's; counts of
# residents given for shares moved 1.05-2.5: 8 of the desk tester's 20 variables left as
# counts; counts of households, near the shares where an area holds ~125 households,
# 0.2-0.9 and pass); looked at where this many areas are in both
SHIFT = 1.0
MIN_SAME_AREAS = 30


def off_scale(built: pd.DataFrame, new: pd.DataFrame, record: dict) -> dict[str, str]:
    """The clustering variables (``built``'s columns: the segmentation's values, by area)
    whose ``new`` values sit on another scale, each with what shows it: the new median more
    than ``FAR`` standard deviations from the segmentation's mean, or, for a variable the
    segmentation made percentages (``record``: its manifest's ``preparation``), more than
    ``OVER_100`` of the new areas above 100 where it had none."""
    found = {}
    for variable in built.columns:
        old = pd.to_numeric(built[variable], errors="coerce").dropna()
        now = pd.to_numeric(new[variable], errors="coerce").dropna()
        if not len(old) or not len(now):
            continue
        sd, mean, median = float(old.std()), float(old.mean()), float(now.median())
        way = record.get(variable, {})
        percent = way.get("shares_of") is not None and float(way.get("per", 100)) == 100
        over = float((now > 100).mean())
        far = abs(median - mean) / sd if sd > 0 else 0.0
        both = old.index.intersection(now.index)
        shift = (float((now[both] - old[both]).median()) / sd
                 if sd > 0 and len(both) >= MIN_SAME_AREAS else 0.0)
        if percent and old.max() <= 100 and over > OVER_100:
            found[variable] = (FAR + 100 * over, f"values above 100 in {over:.0%} of the "
                               "areas, where the segmentation has none")
        elif far > FAR:
            found[variable] = (far, f"a median of {median:,.4g} against a mean of "
                               f"{mean:,.4g} ({old.min():,.4g} to {old.max():,.4g}) in the "
                               "segmentation")
        elif abs(shift) > SHIFT:
            way_said = "up" if shift > 0 else "down"
            found[variable] = (abs(shift), f"the same areas' values {way_said} by a median "
                               f"of {abs(shift):.1f} standard deviations (median "
                               f"{float(old[both].median()):,.4g} in the segmentation, "
                               f"{float(now[both].median()):,.4g} now)")
    return {v: said for v, (_, said) in sorted(found.items(), key=lambda i: -i[1][0])}


LISTED = 6  # variables named by their codes after the two described


def check_same_scale(built: pd.DataFrame, new: pd.DataFrame, record: dict,
                     labels: dict) -> None:
    """Refuse new values of the clustering variables on another scale from the
    segmentation's (``off_scale``; counts where it clustered shares, say), in one line
    naming a variable or two, what the segmentation used and what to do: every path to
    the segments (a project file, a layer's fields in Processing) passes here."""
    from .screening import described

    found = off_scale(built, new, record)
    if not found:
        return
    named = list(found)[:2]
    said = "; ".join(f"{described(v, labels)}: {found[v]}" for v in named)
    more = len(found) - len(named)
    rest = list(found)[2:2 + LISTED]
    ways = [(v, record[v]) for v in named if v in record]
    if ways:
        variable, way = ways[0]
        used = _said(way, past=True).replace("them", variable, 1)
        used = f"the segmentation {used} (its preparation record)"
        fix = ("prepare every field as when the segmentation was built ("
               + ("percentages of their totals, not counts"
                  if way.get("shares_of") is not None
                  else "the values as its tables gave them: percentages where they were") + ")")
    else:
        used = "the segmentation was built on the values quoted"
        fix = ("prepare every field as when the segmentation was built (percentages, not "
               "counts)")
    raise InputError(
        f"the new values of {len(found)} of the {len(built.columns)} clustering variables "
        f"are on another scale from the segmentation's, e.g. {said}"
        + (f" (and {more} more: {', '.join(rest)}"
           + (f" and {more - len(rest)} others" if more > len(rest) else "") + ")"
           if more else "")
        + f"; {used}. Assigned as they are, areas would change segment for no reason: "
        f"{fix}, then assign again")
