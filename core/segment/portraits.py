"""Segment names and pen portraits in words, from the profile table: the descriptors
(``descriptors``), the names (``names``), and the pen portraits, here.

**Pen portraits** are 3-5 sentences: the segment's size, then one sentence per descriptor,
each quoting the segment's mean and the study area's from the profile table ("Almost half
of households rent their home privately (48%, against 31% across the whole area).").
"""

from __future__ import annotations

import math

import pandas as pd

from .descriptors import MIN_FIRST_SCORE, _unusual, descriptors
from .names import choose_names, render_name
from .vocabulary import HOUSING_PART, NEED, TRAIT, WHO
from .words import lower_first, plain_label, words_for

WHOLE_AREA = "the whole area"


_FRACTIONS = (
    (1 / 20, "one in twenty", False), (1 / 15, "one in fifteen", False),
    (1 / 12, "one in twelve", False), (1 / 10, "one in ten", False),
    (1 / 8, "one in eight", False), (1 / 7, "one in seven", False),
    (1 / 6, "one in six", False), (1 / 5, "one in five", False),
    (1 / 4, "a quarter", True), (3 / 10, "three in ten", False), (1 / 3, "a third", True),
    (2 / 5, "two in five", False), (1 / 2, "half", True), (3 / 5, "three in five", False),
    (2 / 3, "two thirds", True), (7 / 10, "seven in ten", False),
    (3 / 4, "three quarters", True), (4 / 5, "four in five", False),
    (9 / 10, "nine in ten", False),
)


ALMOST = 0.93  # "almost" a fraction: at least this share of it


def how_many(percent: float) -> str:
    """'almost half of', 'about one in seven', 'very few' for a percentage."""
    p = percent / 100
    if p < 0.03:
        return "very few"
    if p > 0.95:
        return "almost all"
    nearest = min(range(len(_FRACTIONS)), key=lambda i: abs(math.log(p / _FRACTIONS[i][0])))
    if p / _FRACTIONS[nearest][0] < ALMOST and nearest > 0:  # 55%: "just over half", not
        nearest -= 1  # "almost three in five"
    fraction, words, takes_of = _FRACTIONS[nearest]
    ratio = p / fraction
    qualifier = "about" if 0.97 <= ratio <= 1.03 else "almost" if ratio < 1 else (
        "just over" if ratio <= 1.1 else "over")
    return f"{qualifier} {words}{' of' if takes_of else ''}"


def figure(value: float, share: bool) -> str:
    if share:
        return f"{value:.0f}%" if abs(value) >= 9.95 else f"{value:.1f}%"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def _fact(row, area: str, neutral: bool = False) -> str:
    share = bool(row["share"])
    quoted = (f"({figure(row['mean'], share)}, against "
              f"{figure(row['study_area_mean'], share)} across {area})")
    words = row["_words"]
    if share and words.population and words.says:
        amount = how_many(row["mean"])
        if amount == "very few" and row["direction"] == "high":
            amount = f"{figure(row['mean'], share)} of"
            quoted = f"(against {figure(row['study_area_mean'], share)} across {area})"
        elif neutral:
            pass
        elif row["direction"] == "low" and amount.startswith("almost "):
            amount = "under " + amount[len("almost "):]
        elif row["direction"] == "low" and amount != "very few":
            amount = f"only {amount}"
        text = f"{amount} {words.population} {words.says} {quoted}."
    else:
        compared = "higher" if row["direction"] == "high" else "lower"
        said = words.noun or plain_label(words.label)  # "terraced homes", not "terraced"
        text = (f"{said} a little {compared} than average {quoted}." if neutral else
                f"{compared} than average: {said} {quoted}.")
    return text[:1].upper() + text[1:]


def _size_sentence(segment: int, size: pd.Series, total_areas: int) -> str:
    share = 100 * size["areas"] / total_areas if total_areas else float("nan")
    text = (f"Segment {segment} covers {int(size['areas']):,} of the {total_areas:,} areas "
            f"({share:.0f}%)" if share >= 1 else
            f"Segment {segment} covers {int(size['areas']):,} of the {total_areas:,} areas "
            f"({share:.1f}%)")
    people = []
    if "residents" in size and pd.notna(size["residents"]):
        people.append(f"{int(size['residents']):,} residents")
    if "households" in size and pd.notna(size["households"]):
        people.append(f"{int(size['households']):,} households")
    if people:
        text += ", home to " + " in ".join(people)
    return text + "."


def _portrait_facts(rows: pd.DataFrame, in_name: list) -> list:
    """Descriptors for up to four sentences: those in the name, in the name's order, then
    the strongest from themes not yet covered, then the strongest low if none is said yet."""
    eligible = rows[rows["eligible"] & (rows["abs_score"] >= MIN_FIRST_SCORE)]
    order = {WHO: 0, TRAIT: 1, HOUSING_PART: 2, NEED: 3}
    facts = sorted(in_name, key=lambda i: (order[rows.loc[i, "part"]], -rows.loc[i, "abs_score"]))
    themes = set(rows.loc[facts, "theme"])
    for index, row in eligible.iterrows():
        if len(facts) >= 3:
            break
        if index not in facts and row["theme"] not in themes:
            facts.append(index)
            themes.add(row["theme"])
    if not (rows.loc[facts, "direction"] == "low").any() and len(facts) < 4:
        lows = eligible[(eligible["direction"] == "low") & ~eligible.index.isin(facts)]
        if len(lows):
            facts.append(lows.index[0])
    return facts[:4]


def portrait(segment: int, rows: pd.DataFrame, in_name: list, size: pd.Series,
             total_areas: int, area: str = WHOLE_AREA) -> str:
    sentences = [_size_sentence(segment, size, total_areas)]
    facts = _portrait_facts(rows, in_name)
    for index in facts:
        sentences.append(_fact(rows.loc[index], area))
    if len(facts) < 2:
        rest = rows[~rows.index.isin(facts)]
        unusual = _unusual(rest)
        # differences outside the medium band are said as they are, never called small
        for _, row in unusual.head(2 - len(facts)).iterrows():
            sentences.append(_fact(row, area))
        said_unusual = min(len(unusual), 2 - len(facts))
        if not facts and not len(_unusual(rows)):
            sentences.append(f"On every measure it is close to the average for {area}.")
        if not said_unusual:
            closest = rest.head(2 - len(facts))
            said = [_fact(row, area, neutral=True)[:-1] for _, row in closest.iterrows()]
            if said:
                opening = ("Its other differences are small, the largest: " if facts else
                           f"Its largest difference{'s are' if len(said) > 1 else ' is'} "
                           "small: ")
                sentences.append(opening + "; and ".join(lower_first(t) for t in said)
                                 + ".")
    return " ".join(sentences)


def segment_texts(profiles: pd.DataFrame, summary: pd.DataFrame, labels: dict | None = None,
                  themes: dict | None = None, candidates=None, area: str = WHOLE_AREA,
                  sizes=(), tables: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(names and portraits by segment, the descriptor table with ``in_name``); ``sizes``:
    the residents and households columns, ``tables``: each variable's table
    (``descriptors``)."""
    labels = labels or {}
    table = descriptors(profiles, labels, themes, candidates, summary, sizes, tables)
    words = {v: words_for(v, labels, themes, (tables or {}).get(v))
             for v in table["variable"].unique()}
    table["_words"] = table["variable"].map(words)
    table["in_name"] = False
    names = choose_names(table)
    total = int(summary["areas"].sum())
    out = []
    for segment in sorted(int(s) for s in summary.index):
        rows = table[table["segment"] == segment]
        name, chosen = names.get(segment, (render_name(rows.iloc[0:0]), []))
        table.loc[chosen, "in_name"] = True
        out.append({"segment": segment, "name": name,
                    "portrait": portrait(segment, rows, chosen, summary.loc[segment], total,
                                         area)})
    texts = pd.DataFrame(out).set_index("segment")
    return texts, table.drop(columns=["_words"])
