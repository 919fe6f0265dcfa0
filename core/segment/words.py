"""The words for one variable: its label (or its column name in words), its theme, and
what a name and a pen portrait say of it, from the ``vocabulary`` or made from the label
itself, never from a column code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .phrases import category_phrase, cut_label
from .vocabulary import (
    AGE_HOUSEHOLD,
    COLUMN_VOCABULARY,
    ETHNICITY,
    HOUSING,
    HOUSING_PART,
    NEED,
    OTHER,
    PART_OF_THEME,
    THEME_KEYWORDS,
    THEMES,
    VOCABULARY,
    WHO,
    WORKING_AGE,
    Term,
)

_AGE = re.compile(r"\bage[sd]? (\d+) ?(?:to|-) ?(\d+)\b|\bage[sd]? (\d+) (?:and over|plus)\b"
                  r"|\b(\d+) and over\b", re.IGNORECASE)
_ETHNIC_PREFIX = re.compile(r"^(white|mixed[^:]*|asian[^:]*|black[^:]*|other ethnic group)"
                            r"\s*:\s*(.+)$", re.IGNORECASE)
_CODE = re.compile(r"[A-Za-z]*\d+[A-Za-z]+\d*|[A-Za-z]+\d+[A-Za-z\d]*")


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
    noun: str | None = None  # what a share is of, as a noun phrase ("terraced homes")
    fewer: tuple | None = None  # (who, what) where under half are so (``Term.fewer``)
    subject: str = ""  # who the words are said of, where not residents ("Households")


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


def deprivation_label(column: str, labels: dict) -> str:
    """The deprivation measure in words: its label, else "deprivation measure" for a
    column named by a code (IMD19), else its name in words ("imd rank")."""
    label = label_of(column, labels)
    if label == column and has_code(column):
        return "deprivation measure"
    return label


def deprivation_words(column: str, labels: dict) -> str:
    """The measure a sentence names: "deprivation measure (IMD19)", "Index of Multiple
    Deprivation rank (IMD19)" (a label), "imd rank (imd_rank)"; the column alone where its
    name is its words."""
    label = deprivation_label(column, labels)
    return label if label == column else f"{label} ({column})"


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


def column_words(variable: str) -> str | None:
    """What a name says of a column no labels file describes, where its name is one the
    vocabulary knows ('pct_owned_outright' -> "owning their homes outright"); None where
    the column is said by its name ('pct_semi_x', 'k016')."""
    words = words_for(variable, {})
    if words.label.startswith("'") or words.high is None:
        return None
    return " ".join(w for w in words.high if w)


def column_term(name: str) -> Term | None:
    """The words for a column no labels file describes, from its name in words
    (``humanise``): the usual column names first (``COLUMN_VOCABULARY``: "housing assoc",
    "semi"), then the census's words ("owned outright"); None where neither knows it."""
    for term in COLUMN_VOCABULARY:
        if re.search(term.pattern, name.strip(), re.IGNORECASE):
            return term
    return _vocabulary_term(name)


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
    # under half of the residents of those ages: "Residents more often aged 25 to 44"
    fewer = ("Residents", f"aged {low} to {high}" if high is not None else f"aged {low} and over")
    return Term(AGE_HOUSEHOLD, "", ("", who), None, "residents", says, fewer=fewer)


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
        group = short_label(label)
    group = group.replace(" and ", " & ") if len(group) > 30 else group
    return Term(ETHNICITY, "", ("with", f"a large {group} community"), None, "residents",
                f"describe their ethnic group as {group}")


def short_label(label: str) -> str:
    """The informative end of a census-style label ('Economically inactive: Looking after
    home or family' -> 'looking after home or family')."""
    parts = [p.strip() for p in label.split(":") if p.strip()]
    text = parts[-1] if parts else label
    # a classification's own codes before the words (NS-SEC's "L4, L5 and L6 ...")
    text = re.sub(r"^L\d+(?:\.\d+)?(?:(?:,| and) L\d+(?:\.\d+)?)*\s+", "", text)
    if len(parts) > 1 and (len(text.split()) < 2 or text.lower() in
                           ("other", "total", "all", "none", "with dependent children",
                            "no dependent children")
                           or re.match(r"[-+]?\d", text)):  # a value: "... bedrooms: +1"
        text = f"{parts[-2]}: {text}"
    # a household size as households ("5 people in household" -> "5-person households")
    size = re.fullmatch(r"(\d+)( or more)? (?:people|person) in household", text, re.I)
    if size:
        text = (f"households of {size[1]} or more people" if size[2]
                else f"{size[1]}-person households")
    return text


def plain_label(label: str) -> str:
    """A label said inside a sentence where no words of its own say it: its table's prefix
    and asides in brackets left out, a value joined by "of" ("Main language is not English
    (English or Welsh in Wales): Cannot speak English well" -> "cannot speak English well",
    "Occupancy rating of bedrooms: 0" -> "occupancy rating of bedrooms of 0")."""
    text = re.sub(r"\s*\([^()]*\)", "", label).strip() or label
    return lower_first(cut_label(short_label(text)))


def with_descriptions(table, labels: dict):
    """A table of variables (screening, profiles, standardisation) with each one's
    description beside its code, first among its columns: ``variable``, ``description``
    (a partner reads "Social rented: Rents from council or Local Authority", not ts0540003;
    a variable the labels do not describe is said by ``label_of``). A table that has its
    descriptions already, or has no variables, is returned as it is."""
    if "variable" not in table.columns or "description" in table.columns:
        return table
    return table.assign(description=[label_of(v, labels) for v in table["variable"]])[
        ["variable", "description", *table.columns.drop("variable")]]


# why an output area has no segment, in the segment step's words, wherever a sentence
# names it (gazetteer, incidents, target, matrices): its code in no table, or no value of
# its own in more than half of the clustering variables
NO_ROW = "no row in any of the tables"
TOO_LITTLE = "too little data"


def why_no_segment(manifest: dict | None) -> str:
    """Why a segmentation's unclassified areas have none, from its manifest: "no row in any
    of the tables" (boundaries of another census), "too little data", or both."""
    results = (manifest or {}).get("results", {})
    codes = set(results.get("unclassified_areas", []))
    absent = codes & set(results.get("unclassified_in_no_table", []))
    if not absent:
        return TOO_LITTLE
    return NO_ROW if absent == codes else f"{NO_ROW}, or {TOO_LITTLE}"


def without_segment(manifest: dict | None) -> str:
    """'without a segment (no row in any of the tables)', as ``why_no_segment`` says."""
    return f"without a segment ({why_no_segment(manifest)})"


def counted(n: int, measure: str) -> str:
    """A count and what it counts, in agreement: "2 fatalities", "1 fatality", "1 fire"
    (a measure is named in the plural, as its column is; its last word made singular for
    one; ``plural`` gives it back)."""
    if n != 1:
        return f"{n:,} {measure}"
    head, space, last = measure.rpartition(" ")
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss") and last.isalpha():
        last = last[:-1]
    return f"1 {head}{space}{last}"


def plural(measure: str) -> str:
    """A measure ``counted`` made singular, named in the plural again ("fatality" ->
    "fatalities"): where its count of 1 is not shown."""
    head, space, last = measure.rpartition(" ")
    if last.endswith("y") and last[-2:-1] not in ("", *"aeiou"):
        last = last[:-1] + "ies"
    elif last.isalpha() and not last.endswith("s"):
        last += "s"
    return head + space + last


def lower_first(text: str) -> str:
    """A label to go inside a sentence: its first letter in lower case, unless the first word
    is an acronym, a name, or begins a name of capitalised words ("National Statistics")."""
    first, _, rest = text.partition(" ")
    if first.isupper() and len(first) > 1 or re.search(r"[A-Z]", first[1:]):
        return text
    if first.isalpha() and rest[:1].isupper():
        return text
    if first.lower() in _PROPER:
        return text
    return text[:1].lower() + text[1:]


_PROPER = {"white", "black", "asian", "mixed", "arab", "chinese", "indian", "pakistani",
           "bangladeshi", "african", "caribbean", "irish", "english", "british", "christian",
           "muslim", "jewish", "hindu", "sikh", "buddhist", "england", "wales", "scotland",
           "ireland", "northern", "eu", "uk"}


def population_of(population: str | None, label: str) -> str | None:
    """Who a share is of: a term's population, but the economic activity of residents
    aged 16 to 74 (the 2011 census's) only where the label says that range; Census 2021
    counts every resident aged 16 and over, and a label that says neither is said of
    adult residents (either census's, never contradicted)."""
    if population != WORKING_AGE or re.search(r"16\s*(?:-|to)\s*74", label):
        return population
    if re.search(r"16 (?:years )?and over", label, re.IGNORECASE):
        return "residents aged 16 and over"
    return "adult residents"


def words_for(variable: str, labels: dict, themes: dict | None = None,
              table: tuple | None = None) -> Words:
    """``table``: the variable's table (title, who it counts), where the labels file says
    (``phrases.table_contexts``): a label the vocabulary does not know is said with it."""
    if _coded(variable, labels):  # no label and no words: the column's name, quoted
        quoted = f"'{cleaned_name(variable)}'"
        theme = (themes or {}).get(variable)
        return Words(variable, quoted, theme if theme in THEMES else OTHER, NEED,
                     ("with", f"high {quoted}"), ("with", f"low {quoted}"), None, None)
    label = label_of(variable, labels)
    described = label != humanise(variable) or variable in labels
    term = _vocabulary_term(label) if described else column_term(label)
    theme = (themes or {}).get(variable) or (term.theme if term else theme_of(label))
    theme = theme if theme in THEMES else OTHER
    if term is not None:
        part = term.part or (PART_OF_THEME[theme] if term.high is None or term.high[0]
                             else WHO)
        population = population_of(term.population, label)
        # a column's name says what it is but not of whom: a portrait quotes the column
        noun = None if described or (population and term.says) else f"'{variable}'"
        return Words(variable, label, theme, part, term.high, term.low, population,
                     term.says, noun, fewer=term.fewer)
    if not described:  # a column name the vocabulary does not know: said as it is
        quoted = f"'{variable}'"
        return Words(variable, quoted, theme, HOUSING_PART if theme == HOUSING else NEED,
                     ("with", f"high {quoted}"), ("with", f"low {quoted}"), None, None,
                     quoted)
    title, population = table or (None, None)
    if title and theme == OTHER and not (themes or {}).get(variable):
        theme = theme_of(f"{title}: {label}")  # "Accommodation type: Terraced": housing
    phrase = category_phrase(lower_first(short_label(label)), population, theme == HOUSING)
    return Words(variable, label, theme, HOUSING_PART if theme == HOUSING else NEED,
                 phrase.high, None, population, phrase.says if population else None,
                 phrase.noun, subject=phrase.subject)
