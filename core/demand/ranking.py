"""Everyone with a used record in the window: totals, scaling, metrics and ranks, home areas
and harm, and who is listed (the top of each metric, within a filter or not)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .columns import factorize
from .ingest import Ingested
from .project import DemandProject
from .totals import CAUSING, HARM_CAUSED, HARM_RECEIVED, METRICS, OVERALL, RECEIVING


@dataclass
class People:
    """Everyone with a used record in the window (in the order the sources met them)."""

    pseudonyms: np.ndarray
    totals: pd.DataFrame  # person x total (the nine, then new ones, then harm)
    scores: pd.DataFrame  # person x metric
    ranks: pd.DataFrame  # person x metric (min ranks, 1 = highest; shown only where the
    # person's score is above 0)
    home: pd.Series  # person -> home output area ('' where unknown)


def combine(ingested: list[Ingested]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The pseudonyms of everyone with a used record, and per source its local ->
    global codes (-1 for people whose records were all left out)."""
    used = []
    for i in ingested:
        seen = np.zeros(len(i.pseudonyms), dtype=bool)
        seen[i.parts["person"].to_numpy(np.int64)] = True
        used.append(np.flatnonzero(seen))
    # one grouping of every source's pseudonyms (a pseudonym met again is mostly the same
    # object: ``pseudonyms_of`` shares them between the sources of a run)
    every, everyone = factorize(np.concatenate(
        [np.asarray(i.pseudonyms, dtype=object)[u] for i, u in zip(ingested, used)]))
    codes, at = [], 0
    for i, u in zip(ingested, used):
        local = np.full(len(i.pseudonyms), -1, dtype=np.int64)
        local[u] = every[at:at + len(u)]
        at += len(u)
        codes.append(local)
    return np.asarray(everyone, dtype=object), codes


def combined_parts(ingested: list[Ingested], codes: list[np.ndarray], totals: list
                   ) -> pd.DataFrame:
    """Every source's parts on global person codes, with its source (position)."""
    frames = []
    for s, (source, local) in enumerate(zip(ingested, codes)):
        parts = source.parts
        position = np.array([totals.index(t) for t in source.totals], dtype=np.int16)
        frames.append(pd.DataFrame({
            "person": local[parts["person"].to_numpy(np.int64)],
            "total": position[parts["total"].to_numpy(np.int64)],
            "amount": parts["amount"].to_numpy(float), "source": np.int16(s)}))
    return pd.concat(frames, ignore_index=True)


def combined_places(ingested: list[Ingested], codes: list[np.ndarray]
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """Every source's places on global person and area codes, and the area names."""
    every, names = pd.factorize(np.concatenate([i.area_names for i in ingested]).astype(object))
    frames, at = [], 0
    for source, local in zip(ingested, codes):
        area, at = every[at:at + len(source.area_names)], at + len(source.area_names)
        if len(source.places):
            frames.append(pd.DataFrame({
                "person": local[source.places["person"].to_numpy(np.int64)],
                "area": area[source.places["area"].to_numpy(np.int64)],
                "date": source.places["date"].to_numpy()}))
    places = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {"person": [], "area": [], "date": []})
    return places, np.asarray(names, dtype=object)


def person_totals(parts: pd.DataFrame, people: int, names: list[str]) -> pd.DataFrame:
    """Sum of amounts per person and total (np.bincount over person x total)."""
    column = parts["total"]
    if column.dtype == object:  # total names
        column = pd.Categorical(column, categories=names).codes
    column = np.asarray(column, dtype=np.int64)
    flat = np.bincount(parts["person"].to_numpy(np.int64) * len(names) + column,
                       weights=parts["amount"].to_numpy(float), minlength=people * len(names))
    return pd.DataFrame(flat.reshape(people, len(names)), columns=names)


def top_mean(values: np.ndarray, top: int = 1000) -> float:
    """Mean of the ``top`` largest values (of all values when there are fewer)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return 0.0
    if len(values) > top:
        values = np.partition(values, len(values) - top)[len(values) - top:]
    return float(values.mean())


def scale_total(values: np.ndarray, top: int = 1000, scaling: str = "max") -> np.ndarray:
    """A total divided by its top-``top`` mean, then scaled to 0..1 (see the package notes)."""
    values = np.asarray(values, dtype=float)
    mean = top_mean(values, top)
    if mean <= 0:
        return np.zeros(len(values))
    ratio = values / mean
    if scaling == "cap":
        return np.minimum(ratio, 1.0)
    return ratio / ratio.max()


def min_ranks(scores: np.ndarray) -> np.ndarray:
    """1 for the highest score; ties share the best rank of their group (1, 2, 2, 4)."""
    return smaller_than(-np.asarray(scores, dtype=float)) + 1


def smaller_than(values: np.ndarray) -> np.ndarray:
    """Per value how many values are strictly smaller (no NaN): one sort, each run of equal
    values given the position where it starts."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(values) else np.array([], bool)
    out = np.empty(len(values), dtype=np.int64)
    out[order] = np.maximum.accumulate(np.where(starts, np.arange(len(values)), 0))
    return out


def metric_scores(totals: pd.DataFrame, metrics_of: dict, top: int = 1000,
                  scaling: str = "max") -> pd.DataFrame:
    """Each metric the equal-weight sum of its scaled totals; overall: every ranked total."""
    scores = pd.DataFrame(0.0, index=totals.index, columns=list(METRICS))
    for total, metric in metrics_of.items():
        if metric is None or total not in totals.columns:
            continue
        scaled = scale_total(totals[total].to_numpy(), top, scaling)
        scores[metric] += scaled
        scores[OVERALL] += scaled
    return scores


def home_areas(places: pd.DataFrame, people: int, names=None) -> np.ndarray:
    """Per person the most common area on their records; a tie goes to the area of the most
    recent record among those tied, then to the lowest code ('' where none). ``area``: area
    codes, or positions in ``names``."""
    home = np.full(people, "", dtype=object)
    if places.empty:
        return home
    if names is None:
        codes, areas = pd.factorize(places["area"])
    else:
        codes, areas = places["area"].to_numpy(np.int64), np.asarray(names, dtype=object)
    order = np.argsort(areas.astype(str), kind="stable")  # area codes in text order
    rank_of = np.empty(len(areas), dtype=np.int64)
    rank_of[order] = np.arange(len(areas))
    key = places["person"].to_numpy(np.int64) * len(areas) + rank_of[codes]
    # the records in order of person, then area (text order): each (person, area) a run
    by_key = np.argsort(key)
    key = key[by_key]
    date = places["date"].to_numpy().astype("datetime64[ns]").view(np.int64)[by_key]
    del by_key
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    size = np.diff(np.r_[starts, len(key)])
    latest = np.maximum.reduceat(date, starts)
    person, area = np.divmod(key[starts], len(areas))
    del key, date
    # per person (runs of their areas): the most records, then the latest, then the first
    # area in text order
    begins = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])
    whose = np.cumsum(np.r_[True, person[1:] != person[:-1]]) - 1  # run -> its person's
    best = size == np.maximum.reduceat(size, begins)[whose]
    latest = np.where(best, latest, np.iinfo(np.int64).min)
    best &= latest == np.maximum.reduceat(latest, begins)[whose]
    chosen = np.flatnonzero(best)
    chosen = chosen[np.r_[True, whose[chosen][1:] != whose[chosen][:-1]]]
    home[person[chosen]] = areas.astype(str)[order][area[chosen]]
    return home


def harm_totals(ingested: list[Ingested], codes: list[np.ndarray], people: int,
                weights: pd.Series | None) -> tuple[pd.DataFrame, list[str]]:
    """Harm caused (as suspect or offender) and received (as victim) per person, from the
    weight of each offence (offences without a weight add 0 and are named)."""
    out = pd.DataFrame(0.0, index=range(people), columns=[HARM_CAUSED, HARM_RECEIVED])
    if weights is None:
        return out, []
    lookup = {str(k).strip().casefold(): float(v) for k, v in weights.items()}
    missing = {}
    for source, local in zip(ingested, codes):
        if source.harm.empty:
            continue
        text = source.offences
        per_offence = np.array([lookup.get(u.casefold(), np.nan) for u in text])
        offence = source.harm["offence"].to_numpy(np.int64)
        counts = np.bincount(offence, minlength=len(text))
        for i in np.flatnonzero(np.isnan(per_offence) & (counts > 0) & (text != "").to_numpy()):
            missing[text.iloc[i]] = missing.get(text.iloc[i], 0) + int(counts[i])
        weight = np.nan_to_num(per_offence)[offence]
        person = local[source.harm["person"].to_numpy(np.int64)]
        role = np.asarray(source.totals, dtype=object)[source.harm["total"].to_numpy(np.int64)]
        for column, roles in ((HARM_CAUSED, CAUSING), (HARM_RECEIVED, RECEIVING)):
            mine = pd.Series(role).isin(roles).to_numpy()
            out[column] += np.bincount(person[mine], weights=weight[mine], minlength=people)
    notes = ["offences without a harm weight (counted as 0): " + "; ".join(
        f"{k} ({v:,} records)" for k, v in sorted(missing.items()))] if missing else []
    return out, notes


def rank_people(everyone: np.ndarray, parts: pd.DataFrame, places: pd.DataFrame,
                project: DemandProject, area_names=None) -> People:
    """Totals, scores and ranks of everyone (``parts`` and ``places`` on global codes)."""
    metrics_of = project.total_metrics()
    names = list(metrics_of)
    totals = person_totals(parts, len(everyone), names)
    scores = metric_scores(totals, metrics_of, project.scale_top, project.scaling)
    ranks = pd.DataFrame({m: min_ranks(scores[m].to_numpy()) for m in METRICS})
    home = pd.Series(home_areas(places, len(everyone), area_names))
    return People(pseudonyms=everyone, totals=totals, scores=scores, ranks=ranks, home=home)


def not_ranked_notes(scores: pd.DataFrame, metrics_of: dict) -> list[str]:
    """A note for each metric on which no one scores above 0 (no source records anyone in
    its roles): no one is ranked on it. Each person's rank on a metric where they score 0
    is blank (``output.ranked_table``)."""
    notes = []
    for metric in METRICS:
        if len(scores) and not (scores[metric].to_numpy() > 0).any():
            totals = [t for t, m in metrics_of.items() if m == metric or (
                metric == OVERALL and m is not None)]
            notes.append(f"{metric}: no one has a record counted toward it in the window "
                         f"({', '.join(totals) or 'no totals'} are 0 for everyone), so no "
                         f"one is ranked on it: its rank column is blank")
    return notes


def chosen(ranks: pd.DataFrame, scores: pd.DataFrame, top: int,
           among: np.ndarray | None = None) -> np.ndarray:
    """The people (codes) in the top ``top`` of any metric, de-duplicated: within ``among``
    (a filter) those with fewer than ``top`` members of ``among`` ranked strictly above
    them; scores of 0 never qualify. Ranks are never recomputed."""
    among = np.arange(len(ranks)) if among is None else np.asarray(among, dtype=np.int64)
    keep = np.zeros(len(ranks), dtype=bool)
    for metric in METRICS:
        rank = ranks[metric].to_numpy()[among]
        above = smaller_than(rank)  # strictly better
        keep[among[(above < top) & (scores[metric].to_numpy()[among] > 0)]] = True
    return np.flatnonzero(keep)


def listing_order(people: People, codes: np.ndarray) -> np.ndarray:
    """Codes in order of overall rank, then best rank on any metric, then pseudonym."""
    ranks = people.ranks.iloc[codes]
    best = ranks.min(axis=1).to_numpy()
    order = np.lexsort((people.pseudonyms[codes], best, ranks[OVERALL].to_numpy()))
    return codes[order]
