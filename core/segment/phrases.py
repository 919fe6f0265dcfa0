"""A census category label the vocabulary does not know, made words a name and a pen
portrait can say: "Terraced" in the table "Accommodation type" of households is said
"Residents in terraced homes" and "Half of households live in terraced homes".

Census category labels are of five kinds, told apart by their first and last words:
a place ("In a commercial building", "Part of a converted ... house"), a clause ("Has long
term physical or mental health condition ...", "Lives rent free"), a participle with its
complement ("Disabled under the Equality Act"), an adjective ("Terraced", "Semi-detached",
"Private rented") and a noun phrase ("Very good health", "Small employers and own account
workers", "A caravan or other mobile or temporary structure"). A label is first cut
short: its informative end (``short_label``), a value after a colon joined by "of"
("Occupancy rating of bedrooms: 0" -> "occupancy rating of bedrooms of 0"), cut before an
example (", for example", ", including", "(") and, for a name, before a contrast (" but
...") when longer than ``NAME_WORDS`` words. The table's population (from its total's label,
"Total: All households" -> "households"; ``table_contexts``) says who a share is of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_WORDS = 7  # a phrase in a name: longer ones are cut before a contrast
_PLACE = re.compile(r"^(?:in|on|at|part of|within|outside|inside|under|over|near|from|"
                    r"living in|staying in)\b", re.IGNORECASE)
_VERB = re.compile(r"^(?:has|is|does|was|lives|works|provides|uses|speaks|rents|owns|cares|"
                   r"looks|travels|holds|identifies|describes|needs|receives|claims)\b",
                   re.IGNORECASE)
_PLURAL_VERB = {"has": "have", "is": "are", "does": "do", "was": "were"}
_EXAMPLE = re.compile(r"\s*(?:,\s*(?:for example|including|such as|e\.g\.|excluding|except)"
                      r"\b|\().*$", re.IGNORECASE)
_HOMES = re.compile(r"household|dwelling|home|accommodation", re.IGNORECASE)
_WORK = re.compile(r"\b(?:occupations|jobs|trades|industries|services)$", re.IGNORECASE)


@dataclass(frozen=True)
class Phrase:
    """A label's words: ``high`` (preposition, words) a name says of a segment high on it;
    ``noun``: what a share is of, as a noun phrase ("households in a commercial building");
    ``says``: what a portrait says of the population ("are in a commercial building")."""

    high: tuple
    noun: str
    says: str
    subject: str = ""  # who a name says it of, where not residents ("Households")


def _plural(verb: str) -> str:
    lower = verb.lower()
    if lower in _PLURAL_VERB:
        return _PLURAL_VERB[lower]
    return lower[:-3] + "y" if lower.endswith("ies") else lower[:-1]


# a label whose subject is who its table counts ("Household is not deprived in any
# dimension"), and a count said of its household ("1 car or van in household")
_SUBJECT = re.compile(r"^(?:the\s+)?(?:households?|persons?|people|residents?)\s+(?=(?:is|are|"
                      r"has|have|does|do|was|were|lives|live)\b)", re.IGNORECASE)
_IN_HOUSEHOLD = re.compile(r"\s+in\s+(?:the\s+)?household$", re.IGNORECASE)


def cut_label(text: str) -> str:
    """A label cut short: a value after a colon joined by "of", an example cut off, a
    subject that is the table's population and a trailing "in household" left out."""
    value = re.fullmatch(r"(.+?):\s*([-+]?\d.*)", text)
    if value:
        text = f"{value[1]} of {value[2]}"
    text = _EXAMPLE.sub("", text).strip() or text
    return _IN_HOUSEHOLD.sub("", _SUBJECT.sub("", text)) or text


def _for_name(text: str) -> str:
    """A phrase short enough for a name: cut before a contrast (" but ...") when over
    ``NAME_WORDS`` words, and a list's catch-all (" or other ...") over 5 words ("a caravan
    or other mobile or temporary structure" -> "a caravan"; the portrait says it whole)."""
    if len(text.split()) > NAME_WORDS:
        text = re.split(r"\s+but\s+", text, maxsplit=1)[0]
    if len(text.split()) > 5:
        text = re.split(r"\s+or\s+other\s+", text, maxsplit=1)[0]
    return text


def category_phrase(text: str, population: str | None, housing: bool) -> Phrase:
    """The words for a label's informative end ``text`` (already in sentence case: its
    first letter lower unless a name); ``population``: who its table counts (None when not
    known); ``housing``: whether its theme is housing (an adjective then says homes)."""
    text = cut_label(text)
    short = _for_name(text)
    people = population or "residents"
    homes = housing or bool(population and _HOMES.search(population))
    words = text.split()
    if _PLACE.match(text):
        place = f"in {text}" if text.lower().startswith("part of") else text
        named = f"in {short}" if short.lower().startswith("part of") else short
        return Phrase(("", named), f"{people} {place}", f"are {place}")
    if _VERB.match(text):
        clause = " ".join([_plural(words[0]), *words[1:]])
        named = " ".join([_plural(words[0]), *short.split()[1:]])
        if words[0].lower() in ("is", "are") and population == "households":
            # what a household is, said of households: "Households not deprived in any
            # dimension" (never "Residents who are not deprived ...")
            return Phrase(("", " ".join(short.split()[1:])), f"{people} that {clause}",
                          clause, "Households")
        return Phrase(("who", named), f"{people} who {clause}", clause)
    participle = re.match(r"(?:not\s+)?[\w-]+ed\s+(?:under|by|in|at|with|for|to|from|on|"
                          r"or|and)\b", text, re.IGNORECASE)
    if participle:  # with its complement: "disabled under the Equality Act"
        return Phrase(("who are", short), f"{people} {text}", f"are {text}")
    if words[-1].lower().endswith("ed") and len(words) <= 3:  # adjective
        if homes:
            return Phrase(("in", f"{short} homes"), f"{text} homes",
                          f"live in {text} homes")
        return Phrase(("who are", short), f"{people} who are {text}", f"are {text}")
    if re.match(r"(?:a|an|the)\s", text, re.IGNORECASE) and homes:
        return Phrase(("in", short), f"{people} in {text}", f"live in {text}")
    heads = [re.split(r"\s+(?:and|or|in|of|with|who)\s+", text)[0].split()[-1], words[-1]]
    plural = any(h.lower().endswith("s") and not h.lower().endswith(("ss", "us"))
                 for h in heads)
    if _WORK.search(text):  # kinds of work: "in intermediate occupations"
        return Phrase(("in", short), f"{people} in {text}", f"work in {text}")
    if plural and words[0].lower() != "no":  # people: "with many own account workers"
        return Phrase(("with many", short), text, f"are {text}")
    return Phrase(("with", short), text, f"have {text}")


def table_contexts(table) -> dict:
    """variable -> (its table's title, who the table counts: "households", "residents aged
    16 and over", None where no label says), from a labels table with a ``title`` column
    (the census metadata's table names); who is counted comes from the table's total, the
    label holding "Total: All ..." ({} without titles)."""
    if table is None or "title" not in getattr(table, "columns", ()):
        return {}
    out = {}
    for title, rows in table.dropna(subset=["title"]).groupby("title"):
        totals = rows["description"].str.extract(r"Total:\s*All\s+(.+)$", flags=re.I)[0]
        totals = totals.dropna()
        population = population_words(totals.iloc[0]) if len(totals) else None
        out.update(dict.fromkeys(rows["variable"], (str(title).strip(), population)))
    return out


def population_words(total: str) -> str:
    """'usual residents aged 16 years and over' -> 'residents aged 16 and over'."""
    text = re.sub(r"\busual\s+", "", total.strip(), flags=re.IGNORECASE)
    text = re.sub(r"\s+years\b", "", text, flags=re.IGNORECASE)
    return text[:1].lower() + text[1:]
