"""Reading a source: the window first, then the records in it pseudonymised and reduced to
counts, hours, home areas and theme matches, with a status for every record; calls
counted with their resources' hours."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.ingest import code_looks_like
from ..errors import InputError
from ..segment.words import counted as in_words
from .columns import (
    Columns,
    _column,
    cells,
    distinct,
    distinct_together,
    read_dates,
    read_hours,
    upper_trimmed,
)
from .home_places import AREA_CODE, POSTCODE, KnownAreas, elsewhere
from .identities import identities, name_links, pseudonyms_of
from .project import Resources, Source
from .reconciliation import (
    _S,
    AREA_NOT_CODE,
    AREA_OUTSIDE,
    BAD_DATE,
    BAD_DURATION,
    BAD_LINE,
    BAD_TIMES,
    DUPLICATE,
    INCIDENT_UNUSED,
    NO_ID,
    NO_INCIDENT,
    NOT_COUNTED,
    OUTSIDE,
    PER_ROW,
    PLANNED,
    REPEAT,
    STATUSES,
    USED,
    _quoted,
    _statuses,
    _summarised,
    identical_repeats,
)
from .totals import CALL_TOTALS, CUSTODY_HOURS, CUSTODY_LIMIT, EPISODES, NINE_TOTALS


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def run_window(run_date: str | None, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end): ``months`` before the run date, the run date itself outside."""
    from ..places.incidents import window_date

    end = window_date(run_date, "the run date") or pd.Timestamp.today().normalize()
    return end - pd.DateOffset(months=months), end


def read_source(source: Source) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """A source's records (text, indexed by line), its unreadable lines, its resources."""
    from ..data.locate import read_records

    frame, unreadable, _ = read_records(source.path)
    resources = None
    if source.resources is not None:
        resources, bad, _ = read_records(source.resources.path)
        if len(bad):
            lines = ", ".join(map(str, bad["row"][:5]))
            raise InputError(f"{source.resources.path.name}: lines {lines} cannot be read "
                             "(resource rows must all be readable)")
    return frame, unreadable, resources


@dataclass
class Ingested:
    """A source reduced to pseudonyms and counts: nothing personal is left."""

    name: str
    pseudonyms: np.ndarray  # the distinct pseudonyms of the source's people
    parts: pd.DataFrame  # person (local code), total (position in totals), amount
    places: pd.DataFrame  # person, area (code into area_names), date (used, with an area)
    area_names: np.ndarray
    matched: dict  # filter name -> local person codes matching it
    statuses: pd.DataFrame  # source, row, status, detail, records (see ``_summarised``)
    harm: pd.DataFrame  # person, offence (code into offences), total (used, with offence)
    offences: pd.Series | None
    totals: list
    notes: list = field(default_factory=list)
    by_name: bool = False  # people identified by names and date of birth
    # a source with IDs giving names and dates of birth too: (pseudonym of the names and
    # date of birth, pseudonym of the ID) pairs, to link the people of ``by_name`` sources
    links: tuple | None = None


def _keyword_pattern(keywords) -> re.Pattern:
    words = "|".join(re.escape(k.strip()) for k in keywords if k.strip())
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


def _matches(codes: np.ndarray, text: pd.Series, pattern: re.Pattern) -> np.ndarray:
    return text.str.contains(pattern, regex=True).to_numpy(bool)[codes]


def _theme_hits(columns: Columns, source: Source, filters, used: np.ndarray,
                person: np.ndarray) -> dict:
    """Filter name -> the local codes of people with a used record matching it."""
    matched = {}
    for rule in filters:
        hit = None
        if rule.keywords and (source.text or source.offence):
            pattern = _keyword_pattern(rule.keywords)
            hit = np.zeros(len(person), dtype=bool)
            for column in (*source.text, *((source.offence,) if source.offence else ())):
                hit |= _matches(*columns.distinct(column), pattern)
        elif rule.offences and source.offence:
            wanted = {o.strip().casefold() for o in rule.offences}
            codes, offences = columns.distinct(source.offence)
            hit = offences.str.casefold().isin(wanted).to_numpy()[codes]
        if hit is not None:
            matched[rule.name] = np.unique(person[hit & used])
    return matched


def _role_targets(columns: Columns, source: Source, status: np.ndarray, detail: np.ndarray
                  ) -> np.ndarray:
    """Per row its role's target (index into the distinct ``source.roles`` values, -1: not
    counted); a used row whose role is not counted gets that status, its role quoted."""
    codes, text = columns.distinct(source.role)
    targets = list(dict.fromkeys(source.roles.values()))
    of_unique = np.array([targets.index(source.roles[u]) if u in source.roles else -1
                          for u in text.str.casefold()], dtype=int)
    target = of_unique[codes]
    unmapped = (status == _S[USED]) & (target < 0)
    status[unmapped] = _S[NOT_COUNTED]
    detail[unmapped] = _quoted("role '", text.to_numpy(object)[codes[unmapped]], "'")
    return target


def _unread_hours(columns: Columns, column: str, unreadable: np.ndarray) -> np.ndarray:
    """Per unreadable custody episode what its hours say: none, or the value not read."""
    codes, text = columns.distinct(column)
    given = text.to_numpy(object)[codes[unreadable]]
    return np.where(given == "", f"no custody hours ({column} blank)",
                    _quoted(f"{column} '", given, "' is not a number of hours"))


def _parts(person: np.ndarray, total: int | np.ndarray, amount=1.0) -> pd.DataFrame:
    return pd.DataFrame({"person": person.astype(np.int64),
                         "total": np.broadcast_to(np.asarray(total, dtype=np.int16),
                                                  person.shape),
                         "amount": np.broadcast_to(np.asarray(amount, dtype=float),
                                                   person.shape)})


def ingest_source(frame: pd.DataFrame, source: Source, window, key: bytes, filters=(),
                  resources: pd.DataFrame | None = None, unreadable_lines=None,
                  known: dict | None = None, totals: list | None = None, areas=None
                  ) -> Ingested:
    """One source's records (text or typed columns, indexed by row number) -> pseudonymised
    counts, places, theme matches and a status per record. ``known``: pseudonyms of IDs
    already hashed in this run (names and dates of birth are never kept there);
    ``totals``: the names of every total (parts carry their positions); ``areas``: the
    area codes known (an index) and where from, against which home areas are checked."""
    start, end = window
    name = source.name
    totals = list(totals) if totals is not None else list(NINE_TOTALS)
    for extra in (*source.roles.values(), source.total, source.hours_total):
        if extra and extra not in totals and extra not in CALL_TOTALS:
            totals.append(extra)
    at = {total: i for i, total in enumerate(totals)}
    # the date first: records outside the window (or without a date) go no further
    whole = Columns(frame, name, file=source.path.name)
    dated = whole(source.date)
    # text dates: their codes are the key of the rows that may be identical (read_dates's
    # distinct texts, found once); typed dates are their own key
    coded = None if pd.api.types.is_datetime64_any_dtype(dated) else whole.distinct(source.date)
    dates, bad_date = read_dates(dated, source.date_format, source.date, name, coded=coded)
    del dated
    has_date = ~np.isnat(dates)
    keep = has_date & (dates >= start.to_datetime64()) & (dates < end.to_datetime64())
    early = np.where(has_date, _S[OUTSIDE], _S[BAD_DATE]).astype(np.int8)
    early_detail = np.full(len(frame), "", dtype=object)
    early_detail[~has_date] = "no date"
    if bad_date.any():
        codes, text = whole.distinct(source.date)
        early_detail[bad_date] = _quoted("date '", text.to_numpy(object)[codes[bad_date]],
                                         "' cannot be read")
    statuses = [_summarised(name, frame.index.to_numpy()[~keep], early[~keep],
                            early_detail[~keep], labels=STATUSES,
                            listed=~has_date[~keep])]
    del early, early_detail
    columns = Columns(frame, name, None if keep.all() else keep, file=source.path.name)
    rows, dates = frame.index.to_numpy()[keep], dates[keep]
    person, texts = identities(columns, source)
    pseudonyms = pseudonyms_of(texts, key, known if source.id else None)
    status = np.zeros(len(rows), dtype=np.int8)
    detail = np.full(len(rows), "", dtype=object)
    status[person < 0] = _S[NO_ID]
    detail[person < 0] = "no " + " / ".join(source.id or (*source.names, source.dob))
    # a line repeated whole (every column the same) is one record given twice: skipped
    again, first_line = identical_repeats(
        frame, np.flatnonzero(keep),
        [person, dates.view(np.int64) if coded is None else coded[0][keep]])
    del coded
    status[again] = _S[DUPLICATE]
    detail[again] = _quoted("same as line ", first_line[again], " in every column")
    notes, parts = [], []
    if again.any():
        repeated = int(again.sum())
        notes.append(f"{name}: {in_words(repeated, 'records')} identical in every column to an "
                     f"earlier line of {source.path.name} {_were(repeated)} skipped as "
                     f"{'a duplicate' if repeated == 1 else 'duplicates'} ("
                     f"{'' if repeated == 1 else 'each '}listed in demand_rows_to_check.csv)")
    harm = pd.DataFrame({"person": [], "offence": [], "total": []})
    offences = None
    resource_statuses = None

    if source.kind == "roles":
        target = _role_targets(columns, source, status, detail)
        used = status == _S[USED]
        where = np.array([at[t] for t in dict.fromkeys(source.roles.values())], dtype=np.int16)
        parts.append(_parts(person[used], where[target[used]]))
        if source.offence:
            codes, offences = columns.distinct(source.offence)
            harm = pd.DataFrame({"person": person[used], "offence": codes[used],
                                 "total": where[target[used]]})
    elif source.kind == "custody":
        if source.hours:
            hours = read_hours(columns(source.hours))
        else:
            began, _ = read_dates(columns(source.start), source.date_format, source.start,
                                  source.name, columns.lines())
            ended, _ = read_dates(columns(source.end), source.date_format, source.end,
                                  source.name, columns.lines())
            hours = (ended - began) / np.timedelta64(1, "h")
        used = status == _S[USED]
        unreadable = used & np.isnan(hours)
        status[unreadable] = _S[BAD_DURATION]
        detail[unreadable] = (_unread_hours(columns, source.hours, unreadable) if source.hours
                              else "start or end unreadable")
        # an episode counts even when its hours cannot be read
        clipped = np.clip(np.nan_to_num(hours[used], nan=0.0), 0.0, CUSTODY_LIMIT)
        above = int((used & (hours > CUSTODY_LIMIT)).sum())
        below = int((used & (hours < 0)).sum())
        notes.append(f"{name}: {in_words(above, 'custody episodes')} above "
                     f"{CUSTODY_LIMIT:g} hours set to {CUSTODY_LIMIT:g}, "
                     f"{in_words(below, 'negative durations')} set to 0")
        parts += [_parts(person[used], at[EPISODES]),
                  _parts(person[used], at[CUSTODY_HOURS], clipped)]
    elif source.kind == "count":
        used = status == _S[USED]
        parts.append(_parts(person[used], at[source.total]))
        if source.hours and source.hours_total:
            hours = read_hours(columns(source.hours))
            parts.append(_parts(person[used], at[source.hours_total],
                                np.nan_to_num(hours[used], nan=0.0)))
    else:  # calls
        call_parts, resource_statuses = _calls(columns, source, status, detail, person,
                                               resources, at, whole)
        parts.append(call_parts)
        counted = resource_statuses[resource_statuses["row"] == -1]
        repeats = int(counted.loc[counted["status"] == DUPLICATE, "records"].sum())
        if repeats:
            notes.append(f"{name}: {in_words(repeats, 'resource rows')} identical in every "
                         f"column to an earlier line of {source.resources.path.name} "
                         f"{_were(repeats)} skipped as "
                         f"{'a duplicate' if repeats == 1 else 'duplicates'} (no hours added; "
                         f"{'' if repeats == 1 else 'each '}listed in "
                         "demand_rows_to_check.csv)")

    used = (status == _S[USED]) | (status == _S[BAD_DURATION])
    places = pd.DataFrame({"person": [], "area": [], "date": []})
    area_names = np.array([], dtype=object)
    if source.home_area:
        codes, text = distinct(columns(source.home_area), each=upper_trimmed)
        keep = used & (text != "").to_numpy()[codes]
        places = pd.DataFrame({"person": person[keep], "area": codes[keep],
                               "date": dates[keep]})
        text, words = _home_areas(source, status, detail, used, codes, text, areas, key)
        notes += words
        area_names = text.to_numpy(object)
    statuses.append(_summarised(name, rows, status, detail, labels=STATUSES,
                                listed=np.isin(status, [_S[s] for s in PER_ROW if s in _S])))
    if unreadable_lines is not None and len(unreadable_lines):
        statuses.append(_statuses(name, unreadable_lines["row"], BAD_LINE,
                                  unreadable_lines["detail"]))
    if resource_statuses is not None:
        statuses.append(resource_statuses)
    return Ingested(name=name, pseudonyms=pseudonyms, parts=pd.concat(parts, ignore_index=True),
                    places=places, area_names=area_names,
                    matched=_theme_hits(columns, source, filters, used, person),
                    statuses=pd.concat(statuses, ignore_index=True), harm=harm,
                    offences=offences, totals=totals, notes=notes, by_name=not source.id,
                    links=name_links(whole, source, key, known)
                    if source.id and source.names and source.dob else None)


def _home_areas(source: Source, status: np.ndarray, detail: np.ndarray,
                counted: np.ndarray, codes: np.ndarray, text: pd.Series,
                areas: KnownAreas | None, key: bytes) -> tuple[pd.Series, list[str]]:
    """The source's distinct home-area values as kept (``text``: one per code): a study
    area's code as it is, a postcode placed by its point as its area's code, any other
    value as an opaque label (never the value). The counted records whose home area is not
    among the study's areas are counted all the same and listed by line, a used one with a
    status of its own (one whose hours are unreadable keeps that status, the reason added
    to its detail), without the value; the notes say how many."""
    given = (text != "").to_numpy()
    if areas is None:  # no areas known: only a value shaped as an area code is kept
        other = given & ~text.str.fullmatch(AREA_CODE).to_numpy(bool)
        kept = text.where(~other, pd.Series(elsewhere(text[other], key), index=text.index[other]))
        hidden = int(other[codes[counted]].sum())
        return kept, ([f"{source.name}: {_records(hidden)} a home area that is not an output-"
                       "area code: counted all the same, shown as not one of the study's "
                       "areas (give the areas, [demand] areas or --segmentation, to check "
                       "home areas against them)"] if hidden else [])
    known, where = areas.codes, areas.where
    unknown = given & ~text.isin(known).to_numpy()
    text = text.copy()
    postcode = text.str.fullmatch(POSTCODE).to_numpy(bool)
    placing = areas.postcodes
    outside = np.zeros(len(text), dtype=bool)  # a postcode whose point is in no study area
    notes = []
    if placing is not None and unknown.any():
        at = np.flatnonzero(unknown)
        placed, in_file, inside = placing.place(text.iloc[at])
        text.iloc[at[inside]] = placed[inside]
        unknown[at[inside]] = False
        outside[at[in_file & ~inside]] = True
        per_record = codes[counted]
        by_postcode = int(np.isin(per_record, at[inside]).sum())
        far = int(outside[per_record].sum())
        not_found = int((unknown & postcode & ~outside)[per_record].sum())
        if by_postcode + far + not_found:
            notes.append(f"{source.name}: home postcodes placed in their output area by the "
                         f"postcode's point in {placing.file}: {by_postcode:,} counted "
                         f"{'record' if by_postcode == 1 else 'records'}; {far:,} "
                         f"{'gives' if far == 1 else 'give'} a postcode outside the study's "
                         f"areas, {not_found:,} a postcode not in {placing.file} (listed by "
                         "line in demand_rows_to_check.csv)")
    shaped = code_looks_like(text, known).to_numpy(bool)  # a code of the areas' kind
    missing = (f"home postcode is not in {placing.file}" if placing is not None else
               "home area is a postcode, not an area code (a postcode file would place it)")
    kinds = ((AREA_OUTSIDE, outside, "home postcode's point is outside the study's areas"),
             (AREA_OUTSIDE, ~outside & shaped,
              f"home area is not in {where} (the code of an area elsewhere, or of no area)"),
             (AREA_NOT_CODE, ~outside & ~shaped & postcode, missing),
             (AREA_NOT_CODE, ~outside & ~shaped & ~postcode, "home area is not an area code"))
    found = []
    for label, of_text, words in kinds:
        mine = counted & (unknown & of_text)[codes]
        plain = status[mine] == _S[USED]
        rows = np.flatnonzero(mine)
        status[rows[plain]] = _S[label]
        detail[rows[plain]] = words
        detail[rows[~plain]] = detail[rows[~plain]] + "; " + words
        found.append(len(rows))
    if unknown.any():  # never kept past here: an opaque label in its place
        text[unknown] = elsewhere(text[unknown].to_numpy(object), key)
    if not sum(found):
        return text, notes
    hint = (f" ({found[2]:,} of them postcodes: a postcode file, --postcode-file or postcodes "
            "in [demand], places each in its output area)" if found[2] and placing is None
            else "")
    return text, notes + [
        f"{source.name}: {_records(sum(found))} a home area not in {where} ("
        f"{found[0] + found[1]:,} an area outside it, or no area; {found[2] + found[3]:,} not "
        f"an area code){hint}: counted all the same, each listed in demand_rows_to_check.csv "
        "by line (the value is not written); a person whose home area is one of these is "
        "left out of the shared views"]


def _records(count: int) -> str:
    return f"{count:,} counted record gives" if count == 1 else f"{count:,} counted records give"


def resource_hours(resources: pd.DataFrame, spec: Resources, source: str
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per resource row: (incident text, hours from the earliest of assigned / deployed /
    arrived to released, readable mask). A row with no start, no release or a release
    before its start is unreadable (it adds nothing)."""
    incident = cells(_column(resources, spec.incident, source))
    return (incident, *_resource_hours(resources, spec, source))


def _resource_hours(resources: pd.DataFrame, spec: Resources, source: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    starts = [read_dates(_column(resources, c, source), spec.date_format, c, source)[0]
              for c in (spec.assigned, spec.deployed, spec.arrived) if c]
    if not starts:
        raise InputError(f"{source}: the resources need at least one of assigned, deployed, "
                         "arrived")
    earliest = starts[0]
    for start in starts[1:]:
        earlier = ~np.isnat(start) & (np.isnat(earliest) | (start < earliest))
        earliest = np.where(earlier, start, earliest)
    released, _ = read_dates(_column(resources, spec.released, source), spec.date_format,
                             spec.released, source)
    hours = (released - earliest) / np.timedelta64(1, "h")
    readable = ~np.isnan(hours) & (hours >= 0)
    return np.where(readable, hours, 0.0), readable


def _calls(columns: Columns, source: Source, status, detail, person, resources, at: dict,
           whole: Columns):
    """Calls in the window: each (call, person, role) counted once, with the call's
    resource hours; ``whole``: every call, to tell a resource of a call outside the window
    from one of no call at all."""
    spec = source.resources
    where = spec.path.name
    # every call (in the window or not) and its resources' call IDs, coded together
    incident, r_call, incident_text = distinct_together(
        whole(source.incident), _column(resources, spec.incident, where))
    a_call = np.zeros(len(incident_text), dtype=bool)  # a call ID in the calls table
    a_call[incident] = True
    a_call &= (incident_text != "").to_numpy()
    if columns.keep is not None:
        incident = incident[columns.keep]
    blank_incident = (incident_text == "").to_numpy()[incident]
    if source.exclude:
        codes, flags = columns.distinct(source.exclude)
        planned = flags.str.casefold().isin(source.exclude_values).to_numpy()[codes]
        # an incident marked pre-planned on any of its rows is left out whole
        planned = (np.bincount(incident, weights=planned, minlength=len(incident_text))
                   > 0)[incident] & ~blank_incident
        status[planned & (status == _S[USED])] = _S[PLANNED]
    target = _role_targets(columns, source, status, detail)
    blank = (status == _S[USED]) & blank_incident
    status[blank] = _S[NO_ID]
    detail[blank] = f"no call ID ({source.incident})"
    used = np.flatnonzero(status == _S[USED])
    roles = list(dict.fromkeys(source.roles.values()))  # "caller" / "subject"
    people = int(person.max(initial=0)) + 1
    key = (incident[used].astype(np.int64) * people + person[used]) * len(roles) + target[used]
    repeat = pd.Series(key).duplicated().to_numpy()
    status[used[repeat]] = _S[REPEAT]
    used = used[~repeat]

    r_hours, readable = _resource_hours(resources, spec, where)
    known = a_call[r_call]
    counted_calls = np.zeros(len(incident_text), dtype=bool)
    counted_calls[incident[used]] = True
    counted = known & counted_calls[r_call]
    again, first_line = identical_repeats(resources, np.arange(len(resources)),
                                          [r_call, r_hours.view(np.int64)])
    labels = (USED, INCIDENT_UNUSED, BAD_TIMES, NO_INCIDENT, DUPLICATE)
    r_status = np.zeros(len(r_call), dtype=np.int8)  # positions in labels
    r_status[~counted] = 1
    r_status[counted & ~readable] = 2
    r_status[~known] = 3
    r_status[again] = 4
    r_detail = np.full(len(r_call), "", dtype=object)
    r_detail[counted & ~readable] = "no start, no release, or released before the start"
    r_detail[~known] = _quoted("call '", incident_text.to_numpy(object)[r_call[~known]], "'")
    r_detail[again] = _quoted("same as line ", first_line[again], " in every column")
    statuses = _summarised(where, resources.index.to_numpy(), r_status, r_detail,
                           listed=(~known) | (counted & ~readable) | again, labels=labels)

    adds = known & ~again
    per_call = np.bincount(r_call[adds], weights=r_hours[adds],
                           minlength=len(incident_text))
    hours = per_call[incident[used]]
    parts = []
    for i, role in enumerate(roles):
        count_total, hours_total = CALL_TOTALS[role]
        mine = target[used] == i
        parts += [_parts(person[used][mine], at[count_total]),
                  _parts(person[used][mine], at[hours_total], hours[mine])]
    return pd.concat(parts, ignore_index=True), statuses
