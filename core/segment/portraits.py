"""Segment names and pen portraits in words, from the profile table.

**What describes a segment.** For segment *s* and variable *v* (figures from the profile
table, in the variable's own units):

    d = (segment mean - study-area mean) / study-area standard deviation
    a = sqrt(max(segment mean, study-area mean) / 100)     for a percentage (0..100)
      = 0.5                                                for any other measure
    score = d x a

*d* says how distinctive the segment is (how many standard deviations its mean lies from the
study area's); *a* says how large the thing is in absolute terms: a segment that is 68% one
group scores far above one where another group is 2.8%, however high that group's index.
For a high value *a* is set by the segment's own share; for a low value by the study area's
share (what the segment lacks is common elsewhere). A variable can describe a segment only
when its band agrees with the direction (band *high* and d > 0, or band *low* and d < 0)
and |d| >= 0.5; a name uses descriptors with |score| >= 0.3 (its strongest from 0.2, so
a segment near the average on everything is called that rather than named after a rare
group), and a portrait those with |score| >= 0.2.

**Names** read "[who] [housing] [need]", like the published segments ("Young families with
high benefit need"): *who* from the age and household theme (with a trait such as
"Professional" from social grade), *housing* from housing and tenure, *need* from work,
income and benefits, health and care, ethnicity and language. The strongest descriptor of
each part is taken, at most three parts (and 13 words), the *who* part always when there
is one. Names are made unique by adding each tied segment's next descriptor; only if that
runs out is the segment number added. A variable with neither a label nor a name in words
(only a code such as k016) is never said.

**Words.** ``VOCABULARY`` maps variables, by their labels (the descriptions in the labels
file), to a theme and to words; it holds the sample's variables (its ``variables.csv``
themes) and the usual census descriptions. A variable it does not know gets its theme from
keywords in its label and words made from the label itself, never from a column code.

**Pen portraits** are 3-5 sentences: the segment's size, then one sentence per descriptor,
each quoting the segment's mean and the study area's from the profile table ("Almost half
of households rent their home privately (48%, against 31% across the whole area).").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

AGE_HOUSEHOLD = "age and household"
HOUSING = "housing and tenure"
WORK = "work, income and benefits"
HEALTH = "health and care"
ETHNICITY = "ethnicity and language"
OTHER = "other"
THEMES = (AGE_HOUSEHOLD, HOUSING, WORK, HEALTH, ETHNICITY, OTHER)

# name parts, in the order a name reads
TRAIT, WHO, HOUSING_PART, NEED = "trait", "who", "housing", "need"
PART_OF_THEME = {AGE_HOUSEHOLD: WHO, HOUSING: HOUSING_PART, WORK: NEED, HEALTH: NEED,
                 ETHNICITY: NEED, OTHER: NEED}

MIN_DIFFERENCE = 0.5  # |d|: at least half a standard deviation from the study area
MIN_NAME_SCORE = 0.3  # |score| of a descriptor a name uses...
MIN_FIRST_SCORE = 0.2  # ...but for the strongest, which a name always uses from this score
NOT_A_SHARE_WEIGHT = 0.5
LARGE_COMMUNITY = 10.0  # % of a segment's residents: an ethnic group that large may name it
MAX_PARTS = 3
MAX_WORDS = 10  # "about eight": the detail goes in the portrait
WHOLE_AREA = "the whole area"


@dataclass(frozen=True)
class Term:
    """Words for the variables whose label matches ``pattern`` (case-insensitive).

    ``high``/``low``: (preposition, words) a name uses when the segment is high/low on the
    variable (None: the name never says it). ``population`` and ``says`` make a portrait
    sentence: "<how many> <population> <says> (48%, against 31% ...)"; without them the
    sentence quotes the label. ``part`` overrides the name part the theme gives.
    """

    theme: str
    pattern: str
    high: tuple | None = None
    low: tuple | None = None
    population: str | None = None
    says: str | None = None
    part: str | None = None


T = Term
# Order matters: the first term whose pattern matches a label is used.
VOCABULARY: tuple[Term, ...] = (
    # --- age and household
    T(AGE_HOUSEHOLD, r"one person household\w*:? (?:aged )?65 and over|pensioners? living alone",
      ("", "Older people living alone"), None, "households",
      "are people aged 65 or over living alone"),
    T(AGE_HOUSEHOLD, r"one person household\w*:? (?:under 65|other)\b",
      ("", "People living alone"), None, "households", "are people under 65 living alone"),
    T(AGE_HOUSEHOLD, r"lone parent (?:households )?with dependent children|"
                     r"lone parent: dependent children",
      ("", "Lone parent families"), None, "households",
      "are lone parents with dependent children"),
    T(AGE_HOUSEHOLD, r"households with dependent children|"
                     r"dependent children in household: all ages",
      ("", "Families with children"), ("", "Adults without children"), "households",
      "have dependent children"),
    T(AGE_HOUSEHOLD, r"households of full-time students|all full-time students",
      ("", "Students"), None, "households", "are made up only of full-time students"),
    T(AGE_HOUSEHOLD, r"in full-time study", ("", "Students"), None, "residents aged 16 to 74",
      "are in full-time study"),
    T(AGE_HOUSEHOLD, r"economically inactive: student", ("", "Students"), None,
      "residents aged 16 to 74", "are students not in work or looking for work"),
    T(AGE_HOUSEHOLD, r"\bretired\b", ("", "Retired residents"), None,
      "residents aged 16 to 74", "are retired"),
    # ages: words made from the numbers in the label (see _age_term)
    # --- housing and tenure
    T(HOUSING, r"rented from (?:the )?council", ("living in", "council housing"), None,
      "households", "rent their home from the council"),
    T(HOUSING, r"social rented: other", ("living in", "housing association homes"), None,
      "households", "rent their home from a housing association or other social landlord"),
    T(HOUSING, r"renting socially|social(?:ly)? rent", ("living in", "social housing"), None,
      "households", "rent their home from a social landlord"),
    T(HOUSING, r"rents from council", ("living in", "council housing"), None,
      "households", "rent their home from the council"),
    T(HOUSING, r"other social rented", ("living in", "housing association homes"), None,
      "households", "rent their home from a housing association or other social landlord"),
    T(HOUSING, r"renting privately|private(?:ly)? rent|private landlord",
      ("renting", "privately"), None,
      "households", "rent their home privately"),
    T(HOUSING, r"owned outright|owns outright", ("owning", "their homes outright"), None,
      "households", "own their home outright"),
    T(HOUSING, r"owned with a mortgage|owns with a mortgage", ("buying", "their homes"), None,
      "households",
      "are buying their home with a mortgage or loan"),
    T(HOUSING, r"owning their home|owner.occupied|^owned$|home owners?",
      ("owning", "their homes"), None, "households", "own their home"),
    T(HOUSING, r"converted or shared house", ("living in", "converted houses and bedsits"),
      None, "homes", "are flats in a converted or shared house, including bedsits"),
    T(HOUSING, r"purpose-built block", ("living in", "purpose-built flats"), None, "homes",
      "are in a purpose-built block of flats"),
    T(HOUSING, r"dwellings shared|shared dwelling", ("living in", "shared houses"), None,
      "dwellings", "are shared by two or more households"),
    T(HOUSING, r"occupancy rating \(rooms\) of -1", ("living in", "overcrowded homes"), None,
      "households", "have fewer rooms than they need"),
    T(HOUSING, r"occupancy rating \(bedrooms\) of -1|overcrowd",
      ("living in", "overcrowded homes"), None, "households",
      "have fewer bedrooms than they need"),
    T(HOUSING, r"without central heating|not have central heating|no central heating",
      ("living in", "homes without central heating"), None, "households",
      "have no central heating"),
    T(HOUSING, r"whole house or bungalow: detached", ("living in", "detached houses"), None,
      "homes", "are detached houses or bungalows"),
    T(HOUSING, r"whole house or bungalow: semi-detached", ("living in", "semi-detached houses"),
      None, "homes", "are semi-detached houses or bungalows"),
    T(HOUSING, r"whole house or bungalow: terraced", ("living in", "terraced houses"), None,
      "homes", "are terraced houses or bungalows"),
    # --- work, income and benefits
    T(WORK, r"no cars? or vans?|no car\b", ("without", "a car"), ("with", "cars"),
      "households", "have no car or van"),
    T(WORK, r"\b[23] (?:or more )?cars? or vans?", ("with", "two or more cars"), None,
      "households", "have two or more cars or vans"),
    T(WORK, r"higher managerial", ("", "Professional"), None, "residents aged 16 and over",
      "are in higher managerial, administrative or professional work", TRAIT),
    T(WORK, r"lower managerial", ("in", "managerial work"), None,
      "residents aged 16 and over",
      "are in lower managerial, administrative or professional work"),
    T(WORK, r"\bsemi-routine occupations|\broutine occupations", ("in", "routine work"), None,
      "residents aged 16 and over", "are in routine or semi-routine work"),
    T(AGE_HOUSEHOLD, r"\bL15 full-time students|^full-time students$", ("", "Students"),
      None, "residents aged 16 and over", "are full-time students"),
    T(AGE_HOUSEHOLD, r"^1 person in household", ("", "People living alone"), None,
      "households", "are one person"),
    T(AGE_HOUSEHOLD, r"^[5-8](?: or more)? people in household", ("", "Large households"),
      None, "households", "are of five or more people"),
    T(HEALTH, r"^fair health$", ("in", "fair health"), None, "residents",
      "are in fair health"),
    T(WORK, r"long-term unemployed", ("with", "long-term unemployment"), None,
      "residents aged 16 to 74", "are long-term unemployed"),
    T(WORK, r"\bunemployed\b|\bunemployment\b", ("with", "high unemployment"), None,
      "residents aged 16 to 74", "are unemployed"),
    T(WORK, r"long-term sick", ("with", "long-term sickness"), None,
      "residents aged 16 to 74", "are out of work because of long-term sickness or disability"),
    T(WORK, r"no adults in employment", ("with", "many workless households")),
    T(WORK, r"no qualifications", ("with", "few qualifications"), None,
      "residents aged 16 and over", "have no qualifications"),
    T(WORK, r"level 4 qualifications", ("", "Highly qualified"), None,
      "residents aged 16 and over", "have a degree or equivalent, level 4 or above", TRAIT),
    T(WORK, r"social grade ab\b", ("", "Professional"), None, "household heads aged 16 to 64",
      "are in managerial or professional work, social grade AB", TRAIT),
    T(WORK, r"social grade c1\b", None, None, "household heads aged 16 to 64",
      "are in supervisory, clerical or junior managerial work, social grade C1"),
    T(WORK, r"social grade c2\b", ("in", "skilled manual work"), None,
      "household heads aged 16 to 64", "are in skilled manual work, social grade C2"),
    T(WORK, r"social grade de\b", ("on", "low incomes"), None,
      "household heads aged 16 to 64",
      "are in semi-skilled or unskilled work, unemployed or on benefits: social grade DE"),
    T(WORK, r"benefit|universal credit|claimant|jobseeker|pension credit|income support|"
            r"free school meals", ("with", "high benefit need")),
    # --- health and care
    T(HEALTH, r"limited a lot", ("with", "high disability"), None, "residents",
      "have day-to-day activities limited a lot by a health problem or disability"),
    T(HEALTH, r"limited a little", ("with", "long-term illness"), None, "residents",
      "have day-to-day activities limited a little by a health problem or disability"),
    T(HEALTH, r"bad or very bad health", ("in", "poor health"), ("in", "good health"),
      "residents", "are in bad or very bad health"),
    T(HEALTH, r"\bbad health\b", ("in", "poor health"), None),
    T(HEALTH, r"50 or more hours (?:of )?unpaid care", ("with", "many full-time carers"), None,
      "residents", "provide 50 or more hours of unpaid care a week"),
    T(HEALTH, r"providing any unpaid care", ("with", "many unpaid carers"), None, "residents",
      "provide unpaid care"),
    T(HEALTH, r"(?<!no )unpaid care", ("with", "many unpaid carers")),
    T(HEALTH, r"long-term health problem or disability", ("with", "disability at home"), None,
      "households", "include one person with a long-term health problem or disability"),
    # --- ethnicity and language
    T(ETHNICITY, r"cannot speak english", ("with", "limited English")),
    T(ETHNICITY, r"main language (?:is )?not english", ("with", "many other first languages")),
    # ethnic groups: words made from the group's name (see _ethnic_term)
)

THEME_KEYWORDS = (
    (ETHNICITY, r"ethnic|\bwhite\b|\bblack\b|\basian\b|\bmixed\b|\barab|chinese|indian|"
                r"pakistani|bangladeshi|african|caribbean|gypsy|traveller|language|english|"
                r"\bborn\b|birth|religio|christian|muslim|jewish|hindu|sikh|buddhist|passport|"
                r"migra"),
    (HEALTH, r"health|disab|\bcare\b|carer|\bill|sick|limited"),
    (WORK, r"employ|\bwork|occupation|grade|income|benefit|claim|qualification|\bcars?\b|"
           r"\bvans?\b|\bjob|industry|apprentice|econom|deprivation|\bpoverty"),
    (AGE_HOUSEHOLD, r"\bage[sd]?\b|child|famil|household composition|couple|lone parent|"
                    r"one person|student|retired|pensioner|married|single"),
    (HOUSING, r"rent|owned|owner|tenure|dwelling|\bhouses?\b|\bflats?\b|bungalow|room|"
              r"heating|caravan|overcrowd|housing|accommodation"),
)

_AGE = re.compile(r"\bage[sd]? (\d+) ?(?:to|-) ?(\d+)\b|\bage[sd]? (\d+) (?:and over|plus)\b"
                  r"|\b(\d+) and over\b", re.IGNORECASE)
_ETHNIC_PREFIX = re.compile(r"^(white|mixed[^:]*|asian[^:]*|black[^:]*|other ethnic group)"
                            r"\s*:\s*(.+)$", re.IGNORECASE)
_CODE = re.compile(r"[A-Za-z]*\d+[A-Za-z]+\d*|[A-Za-z]+\d+[A-Za-z\d]*")


# ---------------------------------------------------------------- words for one variable

@dataclass(frozen=True)
class Words:
    """What the vocabulary (or the fallback) says about one variable."""

    variable: str
    label: str
    theme: str
    part: str
    high: tuple | None
    low: tuple | None
    population: str | None
    says: str | None


def humanise(variable: str) -> str:
    """A column name in words, for a variable with no label: codes (k016, KS201EW0030) and
    'pct' dropped, underscores as spaces ('pct_age_0_15' -> 'age 0 to 15'); a name that is
    nothing but a code stays as it is (see ``has_code``)."""
    tokens = [t for t in re.split(r"[_\s.]+", str(variable)) if t]
    words = [t for t in tokens if t.lower() not in ("pct", "percent", "perc", "p")
             and not _CODE.fullmatch(t)]
    if not any(re.search(r"[A-Za-z]{2}", t) for t in words):
        return str(variable)
    text = re.sub(r"\b(\d+) (\d+)\b", r"\1 to \2", " ".join(words))
    return text.strip()


def has_code(text: str) -> bool:
    """Whether text holds a column code (letters and digits run together: k016, IMD19)."""
    return any(_CODE.fullmatch(t) for t in re.split(r"[\s_:/(),.;]+", str(text)) if t)


def label_of(variable: str, labels: dict) -> str:
    label = labels.get(variable)
    if isinstance(label, str) and label.strip():
        return label.strip()
    return humanise(variable)


def cleaned_name(variable: str) -> str:
    """A column with neither a label nor words in its name (``a24under``, ``k016_pct``),
    as written but cleaned: 'pct' and separators dropped ('k016')."""
    tokens = [t for t in re.split(r"[_\s.]+", str(variable)) if t]
    kept = [t for t in tokens if t.lower() not in ("pct", "percent", "perc", "p")]
    return " ".join(kept or tokens) or str(variable)


def _coded(variable: str, labels: dict) -> bool:
    """True when all the words we have for a variable are its column code."""
    return variable not in labels and has_code(humanise(variable))


def theme_of(label: str) -> str:
    """The theme of a variable from its label: the vocabulary's, else by keywords."""
    term = _vocabulary_term(label)
    if term is not None:
        return term.theme
    for theme, pattern in THEME_KEYWORDS:
        if re.search(pattern, label, re.IGNORECASE):
            return theme
    return OTHER


def _vocabulary_term(label: str) -> Term | None:
    for term in VOCABULARY:
        if re.search(term.pattern, label, re.IGNORECASE):
            return term
    return _ethnic_term(label) or _age_term(label)


def _age_term(label: str) -> Term | None:
    if re.search(r"household|one person|employ|student|retired|limited|health|care",
                 label, re.IGNORECASE):
        return None
    match = _AGE.search(label)
    if match is None:
        return None
    low, high = (int(match.group(1)), int(match.group(2))) if match.group(1) else (
        int(match.group(3) or match.group(4)), None)
    if high is not None and high <= 15:
        who, says = "Families with children", f"are children aged {low} to {high}"
    elif high is None:
        who = "Older residents" if low <= 70 else f"Residents aged {low} and over"
        says = f"are aged {low} or over"
    elif low >= 60:
        who = "Older residents" if low <= 70 else f"Residents aged {low} to {high}"
        says = f"are aged {low} to {high}"
    elif low >= 16 and high <= 29:
        who, says = "Young adults", f"are aged {low} to {high}"
    else:
        who, says = f"Adults aged {low} to {high}", f"are aged {low} to {high}"
    return Term(AGE_HOUSEHOLD, "", ("", who), None, "residents", says)


def _ethnic_term(label: str) -> Term | None:
    match = _ETHNIC_PREFIX.match(label.strip())
    if match is None and not re.search(r"\bethnic", label, re.IGNORECASE):
        return None
    if match is not None:
        prefix, group = match.group(1).split("/")[0].strip(), match.group(2).strip()
        if re.search(r"british", group, re.IGNORECASE) and prefix.lower() == "white":
            group = "White British"
        elif group.lower().startswith("any other"):
            group = "other " + (prefix if prefix.lower() != "other ethnic group" else "ethnic")
            group += " groups" if prefix.lower() == "other ethnic group" else ""
        elif prefix.lower() in ("black", "mixed") and prefix.lower() not in group.lower():
            group = f"{prefix} {group}"
    else:
        group = _short(label)
    group = group.replace(" and ", " & ") if len(group) > 30 else group
    return Term(ETHNICITY, "", ("with", f"a large {group} community"), None, "residents",
                f"describe their ethnic group as {group}")


def _short(label: str) -> str:
    """The informative end of a census-style label ('Economically inactive: Looking after
    home or family' -> 'looking after home or family')."""
    parts = [p.strip() for p in label.split(":") if p.strip()]
    text = parts[-1] if parts else label
    # a classification's own codes before the words (NS-SEC's "L4, L5 and L6 ...")
    text = re.sub(r"^L\d+(?:\.\d+)?(?:(?:,| and) L\d+(?:\.\d+)?)*\s+", "", text)
    if len(parts) > 1 and (len(text.split()) < 2 or text.lower() in
                           ("other", "total", "all", "none", "with dependent children",
                            "no dependent children")):
        text = f"{parts[-2]}: {text}"
    return text


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first.isupper() and len(first) > 1 or re.search(r"[A-Z]", first[1:]):
        return text
    if first.lower() in _PROPER:
        return text
    return text[:1].lower() + text[1:]


_PROPER = {"white", "black", "asian", "mixed", "arab", "chinese", "indian", "pakistani",
           "bangladeshi", "african", "caribbean", "irish", "english", "british", "christian",
           "muslim", "jewish", "hindu", "sikh", "buddhist", "england", "wales", "scotland",
           "ireland", "northern", "eu", "uk"}


def words_for(variable: str, labels: dict, themes: dict | None = None) -> Words:
    if _coded(variable, labels):  # no label and no words: the column's name, quoted
        quoted = f"'{cleaned_name(variable)}'"
        theme = (themes or {}).get(variable)
        return Words(variable, quoted, theme if theme in THEMES else OTHER, NEED,
                     ("with", f"high {quoted}"), ("with", f"low {quoted}"), None, None)
    label = label_of(variable, labels)
    term = _vocabulary_term(label)
    theme = (themes or {}).get(variable) or (term.theme if term else theme_of(label))
    theme = theme if theme in THEMES else OTHER
    if term is not None:
        part = term.part or (PART_OF_THEME[theme] if term.high is None or term.high[0]
                             else WHO)
        return Words(variable, label, theme, part, term.high, term.low, term.population,
                     term.says)
    short = _lower_first(_short(label))
    return Words(variable, label, theme, NEED, ("with a high share of", short),
                 None, None, None)


# ---------------------------------------------------------------- descriptors

def study_area_sd(profiles: pd.DataFrame, summary: pd.DataFrame | None = None) -> pd.Series:
    """Per variable: the study area's standard deviation over areas, from the profile table
    (its ``study_area_sd`` column; tables saved before it existed: the spread of the
    segment means, weighted by areas, which understates it)."""
    if "study_area_sd" in profiles.columns:
        return profiles.groupby("variable")["study_area_sd"].first()
    weights = profiles["segment"].map(summary["areas"]) if summary is not None else 1.0
    frame = profiles.assign(w=weights, sq=(profiles["mean"] - profiles["study_area_mean"]) ** 2)
    grouped = frame.assign(wsq=frame["w"] * frame["sq"]).groupby("variable")
    return (grouped["wsq"].sum() / grouped["w"].sum()) ** 0.5


def descriptors(profiles: pd.DataFrame, labels: dict, themes: dict | None = None,
                candidates=None, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every (segment, variable) with its standardised difference, weight and score, the
    direction, whether it may describe the segment, its theme and its words.

    ``candidates``: the variables that may describe segments; by default the clustered ones
    and any other the labels describe (screened-out variables are still profiled); a
    variable with neither a label nor a name in words is said by its column name, quoted
    and cleaned ('k016'), rather than left out (a segment would seem average)."""
    if candidates is None:
        clustered = set(profiles.loc[profiles["clustered"].astype(bool), "variable"])
        candidates = clustered | {v for v in profiles["variable"] if v in labels}
    rows = profiles[profiles["variable"].isin(candidates)].copy()
    rows = rows[rows["study_area_mean"].notna() & rows["mean"].notna()]
    sd = study_area_sd(profiles, summary)
    rows["sd"] = rows["variable"].map(sd)
    rows = rows[rows["sd"] > 0]
    bounds = rows.groupby("variable")["mean"].agg(["min", "max"])
    share = ((bounds["min"] >= 0) & (bounds["max"] <= 100)).reindex(rows["variable"]).to_numpy()
    share &= rows["study_area_mean"].between(0, 100).to_numpy()
    rows["difference"] = (rows["mean"] - rows["study_area_mean"]) / rows["sd"]
    larger = rows[["mean", "study_area_mean"]].max(axis=1).clip(0, 100)
    rows["weight"] = (larger / 100) ** 0.5
    rows.loc[~share, "weight"] = NOT_A_SHARE_WEIGHT
    rows["share"] = share
    rows["score"] = rows["difference"] * rows["weight"]
    rows["direction"] = rows["difference"].map(lambda d: "high" if d > 0 else "low")
    band = rows["band"].astype(str)
    rows["eligible"] = ((rows["difference"].abs() >= MIN_DIFFERENCE)
                        & (band == rows["direction"]))
    words = {v: words_for(v, labels, themes) for v in rows["variable"].unique()}
    rows["label"] = rows["variable"].map(lambda v: words[v].label)
    rows["theme"] = rows["variable"].map(lambda v: words[v].theme)
    rows["part"] = rows["variable"].map(lambda v: words[v].part)
    rows["words"] = [getattr(words[v], d) for v, d in zip(rows["variable"], rows["direction"])]
    rows["words"] = rows["words"].map(lambda w: " ".join(x for x in w if x) if w else "")
    rows["prep"] = [(getattr(words[v], d) or ("", ""))[0]
                    for v, d in zip(rows["variable"], rows["direction"])]
    rows["object"] = [(getattr(words[v], d) or ("", ""))[1]
                      for v, d in zip(rows["variable"], rows["direction"])]
    # "with a large X community" only where the group is a sizeable share of the residents:
    # a group over-represented at 3% of them is not "large"
    community = (rows["object"].astype(str).str.endswith(" community")
                 & (rows["direction"] == "high"))
    rows.loc[community & (rows["mean"] < LARGE_COMMUNITY), "eligible"] = False
    rows["abs_score"] = rows["score"].abs()
    rows = rows.sort_values(["segment", "abs_score", "variable"], ascending=[True, False, True])
    return rows.reset_index(drop=True)


# ---------------------------------------------------------------- names

def _named(rows: pd.DataFrame) -> pd.DataFrame:
    """A segment's descriptors a name may use, strongest first: eligible, with words for
    their direction, with |score| >= MIN_NAME_SCORE (the strongest: >= MIN_FIRST_SCORE)."""
    named = rows[rows["eligible"] & (rows["words"] != "")]
    strong = named["abs_score"] >= MIN_NAME_SCORE
    strong.iloc[:1] = named["abs_score"].iloc[:1] >= MIN_FIRST_SCORE
    return named[strong]


def _unusual(rows: pd.DataFrame) -> pd.DataFrame:
    """A segment's descriptors whose index lies outside the medium band (strongest first)."""
    return rows[rows["band"].astype(str) != "medium"]


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
    thing = _lower_first(_short(str(row["label"])))
    table.loc[index, ["prep", "object", "words"]] = ["with", f"{amount} {thing}",
                                                     f"with {amount} {thing}"]
    table.loc[index, "part"] = NEED
    return [index]


def _base_choice(named: pd.DataFrame) -> list:
    """Up to three parts (who, housing, need), one descriptor each, strongest first, the
    who part whenever the segment has one, and a trait ('Professional') when there is one;
    a name of one part takes a second descriptor of that part ('Students and young
    adults'); a name over MAX_WORDS words loses its weakest parts but who."""
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
                     & (named["words"] != named.loc[kept[0], "words"])]
        kept += list(same.index[:1])
    while len(kept) > 1 and len(render_name(named.loc[kept]).split()) > MAX_WORDS:
        weakest = min((i for i in kept if named.loc[i, "part"] != WHO),
                      key=lambda i: named.loc[i, "abs_score"])
        kept.remove(weakest)
    return kept


def _extend(named: pd.DataFrame, chosen: list) -> list | None:
    """The choice with one more descriptor (a second in the housing or need part, or a part
    not yet used), or None when nothing is left that changes the name."""
    used_parts = set(named.loc[chosen, "part"])
    used_words = set(named.loc[chosen, "words"])
    for index, row in named.iterrows():
        if index in chosen or row["words"] in used_words:
            continue
        if row["part"] in (WHO, TRAIT) and row["part"] in used_parts:
            continue
        return [*chosen, index]
    return None


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
    outside the medium band)."""
    if chosen.empty:
        return "Residents close to the average for the whole area"
    by_part = {part: chosen[chosen["part"] == part] for part in (TRAIT, WHO, HOUSING_PART, NEED)}
    who = " and ".join([by_part[WHO]["object"].iloc[0],
                        *map(_lower_first, by_part[WHO]["object"].iloc[1:2])]
                       ) if len(by_part[WHO]) else "Residents"
    if len(by_part[TRAIT]):
        who = f"{by_part[TRAIT]['object'].iloc[0]} {_lower_first(who)}"
    words = [who]
    if len(by_part[HOUSING_PART]):
        housing = _join(by_part[HOUSING_PART])
        if "living" in who.lower() and housing.startswith("living in "):
            housing = housing[len("living "):]
        words.append(housing)
    if len(by_part[NEED]):
        words.append(_join(by_part[NEED]))
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


def _clash_groups(names: dict, clashes: set) -> list[list]:
    groups: dict[tuple, list] = {}
    for s in sorted(clashes):
        groups.setdefault(name_key(names[s]), []).append(s)
    return list(groups.values())


def name_key(name: str) -> tuple:
    """Names that differ only in case or word order are the same name."""
    return tuple(sorted(re.findall(r"[a-z0-9']+", name.lower())))


def _clashes(names: dict) -> set:
    seen: dict[tuple, list] = {}
    for s, name in names.items():
        seen.setdefault(name_key(name), []).append(s)
    return {s for group in seen.values() if len(group) > 1 for s in group}


# ---------------------------------------------------------------- portraits

_FRACTIONS = (
    (1 / 20, "one in twenty", False), (1 / 15, "one in fifteen", False),
    (1 / 12, "one in twelve", False), (1 / 10, "one in ten", False),
    (1 / 8, "one in eight", False), (1 / 7, "one in seven", False),
    (1 / 6, "one in six", False), (1 / 5, "one in five", False),
    (1 / 4, "a quarter", True), (3 / 10, "three in ten", False), (1 / 3, "a third", True),
    (2 / 5, "two in five", False), (1 / 2, "half", True), (3 / 5, "three in five", False),
    (2 / 3, "two thirds", True), (3 / 4, "three quarters", True), (4 / 5, "four in five", False),
    (9 / 10, "nine in ten", False),
)


def how_many(percent: float) -> str:
    """'almost half of', 'about one in seven', 'very few' for a percentage."""
    p = percent / 100
    if p < 0.03:
        return "very few"
    if p > 0.95:
        return "almost all"
    fraction, words, takes_of = min(_FRACTIONS, key=lambda f: abs(math.log(p / f[0])))
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
        text = f"{compared} than average: {_lower_first(words.label)} {quoted}."
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
                sentences.append(opening + "; and ".join(_lower_first(t) for t in said)
                                 + ".")
    return " ".join(sentences)


def segment_texts(profiles: pd.DataFrame, summary: pd.DataFrame, labels: dict | None = None,
                  themes: dict | None = None, candidates=None, area: str = WHOLE_AREA
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(names and portraits by segment, the descriptor table with ``in_name``)."""
    labels = labels or {}
    table = descriptors(profiles, labels, themes, candidates, summary)
    words = {v: words_for(v, labels, themes) for v in table["variable"].unique()}
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


def read_themes(path) -> dict:
    """variable -> theme from a labels file's optional ``theme`` column ({} without one);
    ``path``: the file, or the table ``segmentation.read_labels`` read."""
    if path is None:
        return {}
    table = path if isinstance(path, pd.DataFrame) else pd.read_csv(path, dtype=str)
    if not {"variable", "theme"} <= set(table.columns):
        return {}
    table = table.dropna(subset=["variable", "theme"])
    return {v: t.strip() for v, t in zip(table["variable"], table["theme"]) if t.strip()}
