"""Segment names, from the descriptors (see ``descriptors``).

**Names** read "[who] [housing] [need]", like the published segments ("Young families with
high benefit need"): *who* from the age and household theme (with a trait such as
"Professional" from social grade), *housing* from housing and tenure, *need* from work,
income and benefits, health and care, ethnicity and language. The strongest descriptor of
each part is taken, at most three parts (and 13 words), the *who* part always when there
is one; never a census category with its own sub-category ("disabled" and "limited a
lot"). What a name says the residents are is said so only where most of the segment is;
what under half are comes after it, "more often" than the whole area ("People living in
purpose-built flats, more often living alone"; ``descriptors.MOST``). Names are made unique
by adding each tied segment's next descriptor; only if that runs out is the segment number
added. A label the vocabulary does not know is said as its
kind of phrase asks (``phrases``: "Residents in terraced homes"). A variable with neither
a label nor a name in words (only a code such as k016) is never said.
"""

from __future__ import annotations

import re

import pandas as pd

from .descriptors import MIN_FIRST_SCORE, MIN_NAME_SCORE, _unusual
from .vocabulary import HOUSING_PART, NEED, TRAIT, WHO
from .words import lower_first, plain_label

MAX_PARTS = 3
MAX_WORDS = 10  # "about eight": the detail goes in the portrait


def _named(rows: pd.DataFrame) -> pd.DataFrame:
    """A segment's descriptors a name may use, strongest first: eligible, with words for
    their direction, with |score| >= MIN_NAME_SCORE (the strongest: >= MIN_FIRST_SCORE)."""
    named = rows[rows["eligible"] & (rows["words"] != "")]
    strong = named["abs_score"] >= MIN_NAME_SCORE
    strong.iloc[:1] = named["abs_score"].iloc[:1] >= MIN_FIRST_SCORE
    return named[strong]


def _fallback_choice(rows: pd.DataFrame, table: pd.DataFrame | None = None) -> list:
    """For a segment no descriptor names although some index lies outside the medium band:
    its strongest such difference (a name must not call it average). One without words for
    its direction is given plain ones in ``table`` ("with a low share of ...")."""
    unusual = _unusual(rows)
    # a "large" community held back by its rule (3% of residents) is not said here either
    held_back = unusual["object"].astype(str).str.endswith(" community") & ~unusual["eligible"]
    worded = unusual[(unusual["words"] != "") & ~held_back]
    if len(worded) or not len(unusual) or table is None:
        return list(worded.index[:1])
    index = unusual.index[0]
    row = unusual.loc[index]
    amount = ("a high share of" if row["direction"] == "high" else "a low share of") \
        if row["share"] else ("high" if row["direction"] == "high" else "low")
    thing = str(row.get("noun") or "") or plain_label(str(row["label"]))
    table.loc[index, ["prep", "object", "words"]] = ["with", f"{amount} {thing}",
                                                     f"with {amount} {thing}"]
    table.loc[index, "part"] = NEED
    return [index]


def _base_choice(named: pd.DataFrame) -> list:
    """Up to three parts (who, housing, need), one descriptor each, strongest first, the
    who part whenever the segment has one, and a trait ('Professional') when there is one;
    a name of one part takes a second descriptor of that part ('Students and young
    adults'); a name over MAX_WORDS words loses its weakest parts but a who most of the
    segment is (``_said_who``)."""
    chosen, parts = [], set()
    for index, row in named.iterrows():
        if row["part"] not in parts:
            chosen.append(index)
            parts.add(row["part"])
    main = [i for i in chosen if named.loc[i, "part"] != TRAIT]
    kept = main[:MAX_PARTS]
    who = [i for i in main if named.loc[i, "part"] == WHO]
    if who and who[0] not in kept:
        kept = [*main[:MAX_PARTS - 1], who[0]]
    kept += [i for i in chosen if named.loc[i, "part"] == TRAIT][:1]
    if len(kept) == 1 and named.loc[kept[0], "part"] != TRAIT:
        same = named[(named["part"] == named.loc[kept[0], "part"])
                     & (named["words"] != named.loc[kept[0], "words"])
                     & ~named["label"].map(lambda x: _nested(x, named.loc[kept[0], "label"]))]
        kept += list(same.index[:1])
    while len(kept) > 1 and len(render_name(named.loc[kept]).split()) > MAX_WORDS:
        weakest = min((i for i in kept if not _said_who(named.loc[i])),
                      key=lambda i: named.loc[i, "abs_score"], default=None)
        if weakest is None:
            break
        kept.remove(weakest)
    return kept


def _said_who(row) -> bool:
    """Whether a descriptor is the who a name keeps: one most of the segment is ("Students"),
    not one said "more often" ("Residents more often students"), which a stronger part may
    push out of a name too long."""
    return row["part"] == WHO and not row.get("minority", False)


def _extend(named: pd.DataFrame, chosen: list) -> list | None:
    """The choice with one more descriptor (a second in the housing or need part, or a part
    not yet used), the strongest that keeps the name within MAX_WORDS words if any does
    (else the strongest, the others but who dropped, weakest first, until it fits), or
    None when nothing is left that changes the name."""
    used_parts = set(named.loc[chosen, "part"])
    used_words = set(named.loc[chosen, "words"])
    used_labels = list(named.loc[chosen, "label"])
    grown = []
    for index, row in named.iterrows():
        if index in chosen or row["words"] in used_words \
                or any(_nested(row["label"], label) for label in used_labels):
            continue
        if row["part"] in (WHO, TRAIT) and row["part"] in used_parts:
            continue
        grown.append([*chosen, index])
    short = [g for g in grown if len(render_name(named.loc[g]).split()) <= MAX_WORDS]
    if short or not grown:
        return short[0] if short else None
    # none fits: the new descriptor kept, the weakest of the others but who dropped
    chosen = grown[0]
    while len(render_name(named.loc[chosen]).split()) > MAX_WORDS:
        others = [i for i in chosen[:-1] if not _said_who(named.loc[i])]
        if not others:
            break
        chosen = [i for i in chosen if i != min(others, key=lambda i: named.loc[i, "abs_score"])]
    return chosen


def _nested(label: str, other: str) -> bool:
    """Whether one label is a category of the other ("Disabled under the Equality Act:
    Day-to-day activities limited a lot" of "Disabled under the Equality Act"): a name
    saying both says one thing twice."""
    a, b = str(label).strip().lower(), str(other).strip().lower()
    return a != b and (a.startswith(b + ":") or b.startswith(a + ":"))


def _join(rows: pd.DataFrame) -> str:
    """'living in social housing and overcrowded homes', 'renting privately and living in
    shared houses'."""
    pieces, last_prep = [], None
    for prep, obj in zip(rows["prep"], rows["object"]):
        pieces.append(obj if prep == last_prep else f"{prep} {obj}".strip())
        last_prep = prep
    return " and ".join(pieces)


def render_name(chosen: pd.DataFrame) -> str:
    """The name from the chosen descriptors; "Residents close to the average for the whole
    area" only for no descriptor (``choose_names`` gives one to a segment with any index
    outside the medium band). What most of the segment is comes first, then what under half
    of it is, said once as "more often" than the whole area ("People living in purpose-built
    flats, more often living alone"; "Residents more often renting privately and without a
    car")."""
    if chosen.empty:
        return "Residents close to the average for the whole area"
    fewer = chosen["minority"].astype(bool) if "minority" in chosen else \
        pd.Series(False, index=chosen.index)
    # a feature ("with many disabled residents") is said after what under half are, if any
    feature = chosen["prep"].astype(str).str.match(r"with\b") & (chosen["part"] != WHO) \
        & fewer.any()
    most, some, last = chosen[~fewer & ~feature], chosen[fewer], chosen[feature & ~fewer]
    by_part = {part: most[most["part"] == part] for part in (TRAIT, WHO, HOUSING_PART, NEED)}
    # who the name is of where no who part says it: "People" (more often living alone),
    # "Households" (not deprived in any dimension), else residents
    subjects = [s for s in (*some.get("subject", ()), *chosen.get("subject", ())) if s]
    who = " and ".join([by_part[WHO]["object"].iloc[0],
                        *map(lower_first, by_part[WHO]["object"].iloc[1:2])]
                       ) if len(by_part[WHO]) else (subjects[0] if subjects else "Residents")
    if len(by_part[TRAIT]):
        who = f"{by_part[TRAIT]['object'].iloc[0]} {lower_first(who)}"
    words = [who]
    for part in (HOUSING_PART, NEED):
        if not len(by_part[part]):
            continue
        said = _join(by_part[part])
        if part == HOUSING_PART and "living" in who.lower() and said.startswith("living in "):
            said = said[len("living "):]
        first = by_part[part].iloc[0]
        if len(words) > 1 and first.get("subject") and not first["prep"]:
            said = f"and {said}"  # "Households renting privately and not deprived ..."
        words.append(said)
    if len(some):
        order = {WHO: 0, TRAIT: 1, HOUSING_PART: 2, NEED: 3}
        some = some.iloc[sorted(range(len(some)), key=lambda i: order[some["part"].iloc[i]])]
        said = _join(some)
        for later in some["words"].iloc[1:]:  # "more often" once: "... and without a car"
            if later.startswith("more often "):
                said = said.replace(f" and {later}", f" and {later[len('more often '):]}", 1)
        if len(words) > 1 or len(by_part[WHO]):
            words[-1] += ","  # "People living in purpose-built flats, more often ..."
        words.append(said)
    if len(last):
        words.append(_join(last))
    name = " ".join(words)
    return name[:1].upper() + name[1:]


def choose_names(table: pd.DataFrame) -> dict[int, tuple[str, list]]:
    """Segment -> (name, [descriptor rows of ``table`` the name uses]); names are unique
    (ignoring case and word order). Segments with the same name take their next
    descriptor (from those a name may use, then those a portrait may) until they differ,
    one of each group keeping its name; only if that runs out is the number added."""
    groups = {int(s): rows for s, rows in table.groupby("segment")}
    named = {s: _named(rows) for s, rows in groups.items()}
    choice = {s: _base_choice(rows) for s, rows in named.items()}
    for s, chosen in choice.items():
        fallback = _fallback_choice(groups[s], table) if not chosen else []
        if fallback:
            named[s] = table.loc[fallback]
            choice[s] = fallback
    # a name may grow with any descriptor a portrait would say
    pool = {s: pd.concat([named[s], _said(groups[s]).drop(index=named[s].index,
                                                           errors="ignore")])
            for s in named}
    names = {s: render_name(table.loc[choice[s]]) for s in named}
    for _ in range(8):
        clashes = _clashes(names)
        if not clashes:
            break
        for group in _clash_groups(names, clashes):
            grown = {s: _extend(pool[s], choice[s]) for s in group}
            # the one that keeps its name: the first that cannot grow, else the first
            keep = next((s for s in group if grown[s] is None), group[0])
            for s in group:
                if s != keep and grown[s] is not None:
                    choice[s] = grown[s]
                    names[s] = render_name(table.loc[grown[s]])
    for group in _clash_groups(names, _clashes(names)):
        for s in group[1:]:
            names[s] = f"{names[s]} (segment {s})"
    return {s: (names[s], choice[s]) for s in named}


def _said(rows: pd.DataFrame) -> pd.DataFrame:
    """The descriptors a portrait may say (eligible, with words), strongest first."""
    return rows[rows["eligible"] & (rows["words"] != "")
                & (rows["abs_score"] >= MIN_FIRST_SCORE)]


def _clash_groups(names: dict, clashes) -> list[list]:
    """The segments ``clashes`` names grouped by name (``name_key``), in segment order."""
    groups: dict[tuple, list] = {}
    for s in sorted(clashes):
        groups.setdefault(name_key(names[s]), []).append(s)
    return list(groups.values())


def name_key(name: str) -> tuple:
    """Names that differ only in case or word order are the same name."""
    return tuple(sorted(re.findall(r"[a-z0-9']+", name.lower())))


def _clashes(names: dict) -> set:
    return {s for group in _clash_groups(names, names) if len(group) > 1 for s in group}
