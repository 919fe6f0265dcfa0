"""What describes a segment: every (segment, variable) of the profile table with its
standardised difference, weight and score, and whether it may describe the segment.

For segment *s* and variable *v* (figures from the profile table, in the variable's own
units):

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
"""

from __future__ import annotations

import pandas as pd

from .vocabulary import TRAIT, WHO
from .words import lower_first, words_for

MIN_DIFFERENCE = 0.5  # |d|: at least half a standard deviation from the study area
MIN_NAME_SCORE = 0.3  # |score| of a descriptor a name uses...
MIN_FIRST_SCORE = 0.2  # ...but for the strongest, which a name always uses from this score
NOT_A_SHARE_WEIGHT = 0.5
MOST = 50.0  # % of a segment: words saying what residents are name it as such only where most are
LARGE_COMMUNITY = 10.0  # % of a segment's residents: an ethnic group that large may name it


def more_often(prep: str) -> str:
    """A phrase's preposition said as a comparison: "" -> "more often" ("more often in a
    caravan"), "in" and "living in" -> "more often in", "who" -> "who more often", "who are"
    -> "who are more often"."""
    if not prep:
        return "more often"
    if prep == "living in":  # "more often in council housing"
        return "more often in"
    if prep.startswith("who"):
        return f"{prep} more often"
    return f"more often {prep}"


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
                candidates=None, summary: pd.DataFrame | None = None,
                sizes=(), tables: dict | None = None) -> pd.DataFrame:
    """Every (segment, variable) with its standardised difference, weight and score, the
    direction, whether it may describe the segment, its theme and its words.

    ``candidates``: the variables that may describe segments; by default the clustered ones
    and any other the labels describe (screened-out variables are still profiled); a
    variable with neither a label nor a name in words is said by its column name, quoted
    and cleaned ('k016'), rather than left out (a segment would seem average). ``sizes``:
    the residents and households columns, which say how many live there, not who: never
    descriptors (a census metadata file labels them "Total", and a segment was named
    "... with a high share of total"). ``tables``: variable -> (its table's title, who it
    counts), where the labels file says (``words.words_for``)."""
    if candidates is None:
        clustered = set(profiles.loc[profiles["clustered"].astype(bool), "variable"])
        candidates = (clustered | {v for v in profiles["variable"] if v in labels}) - set(sizes)
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
    words = {v: words_for(v, labels, themes, (tables or {}).get(v))
             for v in rows["variable"].unique()}
    rows["label"] = rows["variable"].map(lambda v: words[v].label)
    rows["noun"] = rows["variable"].map(lambda v: words[v].noun or "")
    rows["theme"] = rows["variable"].map(lambda v: words[v].theme)
    rows["part"] = rows["variable"].map(lambda v: words[v].part)
    # each descriptor's (preposition, words) for its direction, ("", "") where it has none
    said = [getattr(words[v], d) or ("", "") for v, d in zip(rows["variable"], rows["direction"])]
    rows["prep"] = [prep for prep, _ in said]
    rows["object"] = [obj for _, obj in said]
    # words that say what the residents are or do ("People living alone", "renting
    # privately", "without a car", "in a caravan", "who live in a communal establishment")
    # are true of a segment only where most of it is so: where fewer are, the name says
    # they are so more often than the whole area ("People more often living alone", "more
    # often renting privately"; ``names.render_name`` says these last); words said "with
    # ..." name a feature, not everyone
    rows["minority"] = ((rows["direction"] == "high") & rows["share"] & (rows["mean"] < MOST)
                        & (rows["object"] != "")
                        & ~rows["prep"].astype(str).str.match(r"with\b"))  # not "without"
    rows["subject"] = rows["variable"].map(lambda v: words[v].subject)  # "Households"
    for index in rows.index[rows["minority"]]:
        row = rows.loc[index]
        if row["part"] in (WHO, TRAIT):  # "People living alone": who they more often are
            subject, what = words[row["variable"]].fewer or ("Residents",
                                                              lower_first(row["object"]))
            rows.loc[index, ["subject", "prep", "object"]] = [subject, "more often", what]
        else:
            rows.loc[index, "prep"] = more_often(row["prep"])
    rows["words"] = [" ".join(x for x in (prep, obj) if x)
                     for prep, obj in zip(rows["prep"], rows["object"])]
    # "with a large X community" only where the group is a sizeable share of the residents:
    # a group over-represented at 3% of them is not "large"
    community = (rows["object"].astype(str).str.endswith(" community")
                 & (rows["direction"] == "high"))
    rows.loc[community & (rows["mean"] < LARGE_COMMUNITY), "eligible"] = False
    rows["abs_score"] = rows["score"].abs()
    rows = rows.sort_values(["segment", "abs_score", "variable"], ascending=[True, False, True])
    return rows.reset_index(drop=True)


def _unusual(rows: pd.DataFrame) -> pd.DataFrame:
    """A segment's descriptors whose index lies outside the medium band (strongest first)."""
    return rows[rows["band"].astype(str) != "medium"]
