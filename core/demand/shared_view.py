"""The shared-demand view partners can act on without linking individuals: demand by segment
and by ward of the home area, the views of a run suppressed together against an informed
reader (see the package notes), rates and shares from the published counts only."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..places.matrices import ALL_WARDS
from .ranking import People
from .totals import HOUR_TOTALS, OVERALL

NOT_KNOWN = "home area not known"
COUNTS = ("people", "contacts")


def top_people(share: int) -> str:
    return f"people in the top {share}%"


def top_contacts(share: int) -> str:
    return f"contacts by the top {share}% of people"


def group_counts(people: People, group: pd.Series, metrics_of: dict,
                 hours: set = HOUR_TOTALS) -> pd.DataFrame:
    """Per group (a label per person): people, contacts (every counted event), the totals,
    and the contacts of the people in the top 1% and 5% of everyone (overall metric)."""
    counted = [t for t, m in metrics_of.items() if m is not None and t not in hours]
    contacts = people.totals[counted].sum(axis=1).to_numpy()
    everyone = len(people.pseudonyms)
    overall = people.ranks[OVERALL].to_numpy()
    frame = pd.DataFrame({"group": group.to_numpy(), "people": 1.0, "contacts": contacts})
    for share in (1, 5):
        cut = max(1, math.ceil(everyone * share / 100))
        frame[top_people(share)] = (overall <= cut).astype(float)
        frame[top_contacts(share)] = np.where(overall <= cut, contacts, 0)
    for total, metric in metrics_of.items():
        if metric is not None:
            frame[total] = np.round(people.totals[total].to_numpy())
    return frame.groupby("group", sort=False).sum()


def _counted_columns(counts: pd.DataFrame) -> list[str]:
    """The totals whose sum is ``contacts`` in every row (the counted events, as
    ``group_counts`` adds them: every total but hours), found from the figures so that a
    view rebuilt from stored counts knows it too; [] when no set of totals adds up."""
    from itertools import combinations

    tops = tuple(f(s) for f in (top_people, top_contacts) for s in (1, 5))
    totals = [c for c in counts.columns if c not in (*COUNTS, *tops)]
    whole = [c for c in totals if np.allclose(counts[c], np.round(counts[c]))]
    target = counts["contacts"].to_numpy(dtype=float)

    def adds_up(columns) -> bool:
        return bool(np.allclose(counts[list(columns)].to_numpy(dtype=float).sum(axis=1)
                                if columns else 0.0, target))

    preferred = [c for c in whole if c not in HOUR_TOTALS]
    if adds_up(preferred):
        return preferred
    for dropped in range(1, len(whole) + 1):
        for removed in combinations(whole, dropped):
            kept = [c for c in whole if c not in removed]
            if adds_up(kept):
                return kept
    return []


def _reader_facts(by: str, counts: pd.DataFrame, threshold: int):
    """What a partner reading a view knows besides each column adding up to its total:
    (sums, links, entries to protect). Contacts are the sum of the counted totals, in every
    row and the total; the top 1% are among the top 5%, who are among everyone (people and
    their contacts); and the figures of 1 to ``threshold`` people (``_own_figures``), in
    a group's row or in the Total row, are those few people's own, protected as small
    counts are."""
    from ..share.suppression import Link, Sum

    rows = [*counts.index, "Total"]
    full = pd.concat([counts, counts.sum().to_frame("Total").T])
    sums, links, protect = [], [], []
    counted = _counted_columns(counts)
    if counted:
        sums = [Sum(tuple(((by, c), row, None) for c in counted), ((by, "contacts"), row, None))
                for row in rows]
    pairs = ((top_people(1), top_people(5)), (top_people(5), "people"),
             (top_contacts(1), top_contacts(5)), (top_contacts(5), "contacts"))
    for low, high in pairs:
        if low in full and high in full and bool((full[low] <= full[high]).all()):
            links += [Link(((by, low), row, None), ((by, high), row, None)) for row in rows]
    protect = [((by, column), row, None) for row, column in _own_figures(full, threshold)]
    return sums, links, protect


def _own_figures(full: pd.DataFrame, threshold: int) -> list[tuple]:
    """(row, column) of the figures that are a few people's own (a group's row, with the
    Total row): every figure of a row of 1 to ``threshold`` people (their contacts, each
    total and hours), and the contacts of 1 to ``threshold`` top people. In a ward, a
    segment or the Total row alike: the contacts of 2 people are their own contacts
    added, which either of them could take their own from."""
    own = []
    if "people" in full:
        few = full["people"].between(1, threshold)
        own += [(row, column) for row in few[few].index for column in full.columns
                if column != "people"]
    for share in (1, 5):
        if top_people(share) in full and top_contacts(share) in full:
            few = full[top_people(share)].between(1, threshold)
            own += [(row, top_contacts(share)) for row in few[few].index]
    return list(dict.fromkeys(own))


def suppress_views(counts_of: dict, threshold: int) -> dict:
    """The views' counts (by -> frame, a group per row) with every count an informed
    partner could narrow to fewer than ``threshold`` + 1 values hidden (NaN), and a Total
    row: all views of a run are suppressed together (``share.suppression.suppress_tables``), the
    reader knowing each column's total, ``_reader_facts`` in every view, and that the
    views count the same people (each column's total is the same in every view)."""
    from ..share.suppression import Link, suppress_tables

    tables, sums, links, protect = {}, [], [], []
    for by, counts in counts_of.items():
        for column in counts.columns:
            series = counts[column].astype(float)
            tables[(by, column)] = pd.concat([series, pd.Series({"Total": series.sum()})])
        facts = _reader_facts(by, counts, threshold)
        sums += facts[0]
        links += facts[1]
        protect += facts[2]
    views = list(counts_of)
    for a, b in zip(views, views[1:]):
        for column in counts_of[a].columns:
            if column in counts_of[b].columns and np.isclose(
                    counts_of[a][column].sum(), counts_of[b][column].sum()):
                links.append(Link(((a, column), "Total", None), ((b, column), "Total", None),
                                  equal=True))
    shown = suppress_tables(tables, threshold, links, sums=sums, protect=protect)
    return {by: pd.DataFrame({column: shown[(by, column)] for column in counts.columns})
            for by, counts in counts_of.items()}


def shared_view(counts: pd.DataFrame, residents: pd.Series | None, threshold: int,
                order: list, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """The partners' table: the counts as suppressed (``published``, from
    ``suppress_views``; else this view suppressed on its own), then rates per 1,000
    residents and shares from the published counts only."""
    from ..share.export import for_people

    counts = counts.reindex([g for g in order if g in counts.index])
    out = (published if published is not None
           else suppress_views({"view": counts}, threshold)["view"]).copy()
    if residents is not None:
        res = residents.reindex(out.index[:-1]).astype(float)
        res = pd.concat([res, pd.Series({"Total": res.sum()})])
        out.insert(0, "residents", res)
        for column in COUNTS:
            out[f"{column} per 1,000 residents"] = (out[column] / res * 1000).round(2)
    total = out.loc["Total", "contacts"]
    out["share of all contacts %"] = (out["contacts"] / total * 100).round(1)
    for share in (1, 5):
        out[f"share of its contacts by the top {share}% of people %"] = (
            out[top_contacts(share)] / out["contacts"] * 100).round(1)
    shown = for_people(out)
    if residents is not None:
        shown["residents"] = shown["residents"].where(out["residents"].notna(), "")
    return shown


def _stored_counts(counts: pd.DataFrame, residents: pd.Series | None, order: list
                   ) -> pd.DataFrame:
    """The true counts of a shared view in its order, a group per row (a segment stored by
    its number, so that renaming the segments renames them here too)."""
    table = counts.reindex([g for g in order if g in counts.index])
    table.insert(0, "residents", residents.reindex(table.index).astype(float)
                 if residents is not None else np.nan)
    groups = [g.split(" – ")[0] if " – " in g else g for g in table.index]
    return table.reset_index(drop=True).assign(group=groups)[["group", *table.columns]]


def shared_from_counts(stored: pd.DataFrame, by: str, threshold: int,
                       segment_names: dict | None = None) -> pd.DataFrame:
    """One shared view (as ``DemandResult.shared``) from its stored true counts; with
    the other views of the same run, use ``shared_views`` (suppressed together)."""
    return shared_views({by: stored}, threshold, segment_names)[by]


def shared_views(stored: dict, threshold: int, segment_names: dict | None = None) -> dict:
    """The shared views (by -> table, as ``DemandResult.shared``) from the stored true
    counts of one run (by -> table), suppressed together at ``threshold``
    (``suppress_views``), segments named with their current names."""
    if not stored:
        return {}
    prepared = {}
    for by, table in stored.items():
        table = table.drop(columns=["fid"], errors="ignore")
        names = table.pop("ward name") if "ward name" in table.columns else None
        group = table.pop("group").astype(str)
        if by == "segment":
            group = group.map(lambda g: f"{g} – {(segment_names or {}).get(int(g), '')}"
                              if g.isdigit() else g)
        residents = table.pop("residents").astype(float)
        counts = table.set_axis(group.to_numpy()).astype(float)
        residents = (residents.set_axis(group.to_numpy()) if residents.notna().any()
                     else None)
        prepared[by] = (counts, residents, group, names)
    published = suppress_views({by: p[0] for by, p in prepared.items()}, threshold)
    views = {}
    for by, (counts, residents, group, names) in prepared.items():
        view = _with_label(shared_view(counts, residents, threshold, list(group),
                                       published[by]),
                           "segment" if by == "segment" else "ward code")
        if names is not None:
            view.insert(1, "ward name", view["ward code"].map(
                {**dict(zip(group, names.fillna(""))), "Total": ALL_WARDS}).fillna(""))
        views[by] = view
    return views


def _with_label(table: pd.DataFrame, label: str) -> pd.DataFrame:
    return table.rename_axis(label).reset_index()
