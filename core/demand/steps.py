"""The demand step: every source read, pseudonymised, totalled, ranked, listed, filtered and
shared (``demand_step``); the whole step as the command line, Processing and the dock run
it (``demand_job``); and what a run says (its notes and summary lines)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..progress import Progress, silent
from .context import _area_context, _harm_weights
from .home_places import KnownAreas, home_postcodes
from .identities import demand_key, linked_by_name
from .ingest import ingest_source, read_source, run_window
from .output import SYNTHETIC, DemandResult, detail_table, ranked_table, write_demand
from .project import DemandProject, check_parameters, load_demand_project
from .ranking import (
    chosen,
    combine,
    combined_parts,
    combined_places,
    harm_totals,
    not_ranked_notes,
    rank_people,
)
from .reconciliation import COUNTED, reconciliation
from .shared_view import NOT_KNOWN, _stored_counts, group_counts, shared_views
from .totals import SCALING_WORDS


def demand_step(project: DemandProject, key: bytes, segmentation: Path | None = None,
                frames: dict | None = None, progress: Progress | None = None
                ) -> DemandResult:
    """Read (or take, ``frames``: source name -> (records, unreadable lines, resources))
    every source, pseudonymise, total, rank, list, filter and build the shared view."""
    progress = progress or silent
    window = run_window(project.run_date, project.months)
    context, residents = _area_context(project, segmentation or project.segmentation)
    saved = segmentation or project.segmentation
    areas = KnownAreas(context.index, _areas_from(project, saved),
                       home_postcodes(project.postcodes, saved)) if len(context) else None
    if project.postcodes is not None and areas is None:
        home_postcodes(project.postcodes, None)  # refused: no areas to place them in
    ingested, known = [], {}
    totals = list(project.total_metrics())
    for i, source in enumerate(project.sources):
        progress(0.7 * i / len(project.sources), f"reading {source.name}")
        if frames is not None and source.name in frames:
            frame, unreadable, resources = frames[source.name]
        else:
            frame, unreadable, resources = read_source(source)
        ingested.append(ingest_source(frame, source, window, key, project.filters, resources,
                                      unreadable, known, totals, areas))
        del frame, resources
    del known
    progress(0.7, "ranking")
    statuses = pd.concat([i.statuses for i in ingested], ignore_index=True)
    summary, rows = reconciliation(statuses)
    in_window = int(summary.loc[summary["status"].isin(COUNTED), "records"].sum())
    if in_window == 0:
        raise InputError(f"no record falls in the window {window[0]:%Y-%m-%d} to "
                         f"{window[1] - pd.Timedelta(days=1):%Y-%m-%d} (12 months before the "
                         "run date; check the run date and the date columns); nothing was "
                         "written")
    link_notes = linked_by_name(ingested)
    everyone, codes = combine(ingested)
    parts = combined_parts(ingested, codes, totals)
    places, area_names = combined_places(ingested, codes)
    people = rank_people(everyone, parts, places, project, area_names)
    del places
    harm, harm_notes = harm_totals(ingested, codes, len(everyone), _harm_weights(project))

    themes = {}
    for rule in project.filters:
        if rule.total is not None:
            members = np.flatnonzero(people.totals[rule.total].to_numpy() > 0)
        elif rule.areas or rule.wards:
            home = people.home.to_numpy()
            if rule.wards:
                if "home ward" not in context.columns:
                    raise InputError(f"filter '{rule.name}': wards need the ward of each area "
                                     "([demand] areas with ward, or a segmentation with "
                                     "ward matrices)")
                wanted = set(context.index[context["home ward"].isin(rule.wards)])
            else:
                wanted = {a.strip().upper() for a in rule.areas}
            members = np.flatnonzero(np.isin(home, list(wanted)))
        else:
            members = np.unique(np.concatenate(
                [local[i.matched.get(rule.name, np.array([], dtype=np.int64))]
                 for i, local in zip(ingested, codes)]).astype(np.int64))
        themes[rule.name] = members
    theme_sets = {name: set(members.tolist()) for name, members in themes.items()}

    listed = chosen(people.ranks, people.scores, project.top)
    ranked = ranked_table(people, listed, project.top, harm, context, theme_sets)
    filtered = {}
    shown = set(listed.tolist())
    for name, members in themes.items():
        codes_ = chosen(people.ranks, people.scores, project.top, members)
        shown |= set(codes_.tolist())
        filtered[name] = ranked_table(people, codes_, project.top, harm, context, theme_sets)
    progress(0.85, "details and the shared view")
    details = detail_table(parts, people.pseudonyms, np.array(sorted(shown), dtype=np.int64),
                           totals, [source.name for source in ingested],
                           project.hour_totals())

    group_tables, segment_names, left_out = _group_tables(people, context, residents,
                                                          project)
    # the partners' tables: suppressed from the stored counts, as the report and dock do
    shared = shared_views(group_tables, project.threshold, segment_names)

    notes = _notes(project, window, everyone, summary, ingested,
                   not_ranked_notes(people.scores, project.total_metrics()) + harm_notes
                   + link_notes, listed)
    if group_tables:
        notes = pd.concat([notes, pd.DataFrame(
            [("Shared views", _left_out_words(left_out, len(everyone), areas,
                                              list(group_tables)))],
            columns=notes.columns)], ignore_index=True)
    progress(1.0, "done")
    return DemandResult(ranked=ranked, filtered=filtered, details=details,
                        reconciliation=summary, rows=rows, shared=shared, notes=notes,
                        people=people, counts=group_tables)


def _group_tables(people, context: pd.DataFrame, residents: pd.Series | None,
                  project: DemandProject) -> tuple[dict, dict, tuple[int, float]]:
    """The true counts behind the shared views (by -> table, a row per segment or ward of
    the home area), the segments' names, and (people, contacts) left out: a person whose
    home area has no segment or no ward (not among the areas known, or none on their
    records) is in no view, so that every view counts the same people and no row of a few
    people of unknown home forces the suppression of a whole column."""
    metrics_of = project.total_metrics()
    home = people.home
    groups, residents_of, segment_names = {}, {}, {}
    if "segment" in context.columns:
        labels = (context["segment"] + " – " + context["segment name"]).where(
            context["segment"] != "", "")
        segment_names = {int(s): name for s, name in zip(context["segment"],
                                                          context["segment name"]) if s}
        groups["segment"] = labels
    if "home ward" in context.columns:
        groups["ward"] = context["home ward"]
    by_person = {by: home.map(labels).fillna("").where(home != "", "")
                 for by, labels in groups.items()}
    unknown = np.zeros(len(home), dtype=bool)
    for group in by_person.values():
        unknown |= (group == "").to_numpy()
    # the areas every view counts the people of: those with a label in every view
    counted = np.ones(len(context), dtype=bool)
    for labels in groups.values():
        counted &= (labels != "").to_numpy()
    tables, left_out = {}, (int(unknown.sum()), 0.0)
    for by, labels in groups.items():
        counts = group_counts(people, by_person[by].where(~unknown, NOT_KNOWN), metrics_of,
                              project.hour_totals())
        if NOT_KNOWN in counts.index:
            left_out = (left_out[0], float(counts.loc[NOT_KNOWN, "contacts"]))
            counts = counts.drop(index=NOT_KNOWN)
        # every group of the study area is a row, one without people a row of 0, so that
        # each view's Total is over the same areas and residents
        order = sorted(set(labels[counted]) | set(counts.index),
                       key=(lambda g: int(g.split(" – ")[0])) if by == "segment" else None)
        counts = counts.reindex(order, fill_value=0.0)
        if residents is not None:
            inside = labels[counted]
            residents_of[by] = residents.reindex(inside.index).groupby(
                inside.to_numpy()).sum()
        tables[by] = _stored_counts(counts, residents_of.get(by), order)
    if "ward" in tables:
        names = context.get("home ward name", pd.Series("", index=context.index))
        ward_names = dict(zip(context["home ward"], names))
        tables["ward"] = tables["ward"].assign(
            **{"ward name": lambda t: t["group"].map(ward_names).fillna("")})
    return tables, segment_names, left_out


def _left_out_words(left_out: tuple[int, float], everyone: int, areas, views: list) -> str:
    """What the shared views count, and who they leave out."""
    people, contacts = left_out
    where = f" in {areas.where}" if areas else ""
    has = " and ".join(f"a {by}" for by in sorted(views, reverse=True))
    if not people:
        return f"they count all {everyone:,} people: each has a home area with {has}{where}"
    return (f"they count the {everyone - people:,} of the {everyone:,} people whose home "
            f"area has {has}{where}. {people:,} people "
            f"({contacts:,.0f} contacts) are left out of every view: the most common area "
            f"on their records has no {has.replace('a ', '').replace(' and ', ' or ')} "
            "(an output area without data, left without a segment, or one not among the "
            "areas known), or none of their records gives one (see the notes on home areas "
            "above and demand_rows_to_check.csv)")


def _areas_from(project: DemandProject, segmentation: Path | None) -> str:
    """Where the areas known come from, in words."""
    files = ([project.areas.path.name] if project.areas is not None else []) + (
        ["the segmentation"] if segmentation is not None else [])
    return " or ".join(files)


def summary_lines(result: DemandResult) -> list[str]:
    """What a run says on the console or in the Processing log, from its notes."""
    shown = ("Window", "People with a record in the window", "Records read", "Records used",
             "People listed", "Note", "Shared views")
    return [f"{row.item}: {row.value}" for row in result.notes.itertuples(index=False)
            if row.item in shown]


def _notes(project, window, everyone, summary, ingested, harm_notes, listed
           ) -> pd.DataFrame:
    from ..share.export import suppression_rule

    start, end = window
    used = int(summary.loc[summary["status"].isin(COUNTED), "records"].sum())
    rows = [
        ("Project", project.name),
        *([(SYNTHETIC, "yes: invented records, not real people")] if project.synthetic
          else []),
        ("Window", f"{start:%Y-%m-%d} to {end - pd.Timedelta(days=1):%Y-%m-%d} "
                   f"({project.months} months before the run date {end:%Y-%m-%d})"),
        ("People with a record in the window", f"{len(everyone):,}"),
        ("Records read", f"{int(summary['records'].sum()):,}"),
        ("Records used", f"{used:,}"),
        ("People listed", f"{len(listed):,} (the top {project.top} of each metric, "
                          "de-duplicated; ties at the boundary all kept)"),
        ("Scaling", f"each total divided by the mean of its top {project.scale_top:,} values "
                    f"(all values when fewer), then {SCALING_WORDS[project.scaling]}"),
        ("Ranks", "1 = highest; tied people share the best rank of their group; a person "
                  "whose score on a metric is 0 (no record counted toward it) is not ranked "
                  "on it (the rank is blank); lists are ordered by overall rank, then best "
                  "rank on any metric, then pseudonym"),
        ("Home area", "the most common output area on the person's records in the window; a "
                      "tie goes to the most recent record's area, then the lowest code"),
        ("Pseudonyms", "HMAC-SHA-256 of the person ID (or names and date of birth) with the "
                       "user's key, first 16 hex digits; the same key gives the same "
                       "pseudonym in every run and agency. No name, date of birth, phone "
                       "number or address is kept past reading."),
        ("Linking", "people are the same person across sources when their IDs are the same; "
                    "a source without IDs links on names and date of birth, and one of its "
                    "people is the person of an ID when a source with IDs gives that ID the "
                    "same names (in the same order) and date of birth (names and dob in its "
                    "table), for that ID alone: two IDs are never merged"),
        ("Suppression (shared view)", suppression_rule(project.threshold) + (
            f" The contacts of 1 to {project.threshold} people in the top 1% or 5%, in a "
            "ward's, a segment's or the Total row, are those few people's own figures and "
            "are suppressed and protected the same way; so is every figure (contacts, each "
            f"total, hours) of a row of 1 to {project.threshold} people. Every ward and "
            "segment of the study area is a row (0 where no one lives), so the views' "
            "Totals count the same residents.")),
    ]
    for source in ingested:
        rows += [("Note", note) for note in source.notes]
    rows += [("Note", note) for note in harm_notes]
    return pd.DataFrame(rows, columns=["item", "value"])


def demand_job(project_path: Path, key_file: Path | None, out_dir: Path,
               segmentation: Path | None = None, replace_folder: bool = True,
               progress: Progress = silent, **overrides) -> tuple[DemandResult, list, str]:
    """The whole step as the command line, Processing and the dock run it: the project's
    ``[demand]`` section with ``overrides`` (run_date, top, scale_top, scaling, threshold),
    the user's key, the outputs written to ``out_dir`` and, with a segmentation, the shared
    view added to its GeoPackage. Returns (result, files written, where the key came
    from)."""
    date_format = overrides.pop("date_format", None)
    project = load_demand_project(Path(project_path)).with_overrides(**overrides)
    # the key after the project file (its name, nor the segmentation's, must not make the
    # key) and before any source
    from ..segment.saved import saved_name

    saved = segmentation or project.segmentation
    key, key_source = demand_key(Path(key_file) if key_file else None,
                                 (project.name, saved_name(saved) if saved else ""))
    if date_format:  # --date-format: every source's dates (and its resources' times)
        from dataclasses import replace

        project = replace(project, sources=tuple(
            replace(s, date_format=date_format,
                    resources=replace(s.resources, date_format=date_format)
                    if s.resources else None) for s in project.sources))
    check_parameters(project)
    result = demand_step(project, key, Path(segmentation) if segmentation else None,
                         progress=progress)
    # the files and the GeoPackage's tables together (the folder whole, or file by file)
    written = write_demand(result, out_dir, replace_folder=replace_folder,
                           segmentation=Path(segmentation) if segmentation else None)
    return result, written, key_source
