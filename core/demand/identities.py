"""Who a record is about: the identity columns (person IDs, or names and date of birth)
normalised and linked, and each distinct identity pseudonymised with the user's key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .columns import Columns, distinct, distinct_merged, in_capitals, keeps_capitals, on_lines
from .project import Source


def _have(n: int) -> str:
    return "has" if n == 1 else "have"


def _normalised(values: pd.Series, how: str, source: Source | None = None, lines=None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct normalised texts) of one identity column; code -1 where blank.
    IDs are compared in capitals with spaces trimmed and collapsed, names case-folded with
    punctuation read as a space, dates of birth as YYYY-MM-DD (-1 where unreadable too)."""
    if how == "id":  # one pass over the distinct IDs (millions at national scale)
        codes, text = distinct_merged(values, each=_id_text)
        return np.where((text == "").to_numpy()[codes], -1, codes), text.to_numpy()
    if how == "name":
        codes, text = distinct(values, lambda t: t.str.casefold().str.replace(
            r"[^\w]+", " ", regex=True).str.strip())
    else:
        codes, text = distinct(values)
        from ..data.dates import parse_dates

        text = on_lines(codes, text, values.index if lines is None else lines)
        dates = parse_dates(text, source and source.date_format, source and source.dob,
                            source.name if source else "the file")
        text = dates.dt.strftime("%Y-%m-%d").where(dates.notna(), "")
    again, unique = pd.factorize(text)
    again = np.where((text == "").to_numpy(), -1, again)
    return again[codes], np.asarray(unique)


@keeps_capitals
def _id_text(value: str) -> str:
    """An ID as compared: capitals, spaces trimmed and collapsed; one already so (letters
    and digits, no small letter) is returned as it is, the same object."""
    return value if in_capitals(value) else " ".join(value.split()).upper()


def identities(frame, source: Source) -> tuple[np.ndarray, np.ndarray]:
    """(per row the code of its person, -1 where no identity; the distinct identity texts).
    Texts are "ID" for one ID column, parts joined by "|" for several, "name|...|YYYY-MM-DD"
    when linking on names and date of birth. ``frame``: the records, or their ``Columns``."""
    column = frame if isinstance(frame, Columns) else Columns(frame, source.name,
                                                              file=source.path.name)
    wanted = [(c, "id") for c in source.id] or [(c, "name") for c in source.names] + [
        (source.dob, "dob")]
    parts = [_normalised(column(c), how, source, column.lines()) for c, how in wanted]
    if len(parts) == 1:  # one ID column: its codes are the people
        codes, unique = parts[0]
        used = np.zeros(len(unique) + 1, dtype=bool)
        used[codes + 1] = True
        used = used[1:]
        new = np.cumsum(used) - 1
        return np.where(codes >= 0, new[np.maximum(codes, 0)], -1), unique[used]
    rows = len(parts[0][0])
    missing = np.zeros(rows, dtype=bool)
    key = np.zeros(rows, dtype=np.int64)
    for codes, values in parts:
        missing |= codes < 0
        key = pd.factorize(key * (len(values) + 1) + (codes + 1))[0].astype(np.int64)
    person, _ = pd.factorize(np.where(missing, -1, key))
    _, row_of = np.unique(person, return_index=True)  # one row of each identity
    texts = pd.Series(parts[0][1][parts[0][0][row_of]], dtype=object) if len(row_of) else \
        pd.Series([], dtype=object)
    for codes, values in parts[1:]:
        texts = texts + "|" + pd.Series(values[codes[row_of]], dtype=object).to_numpy()
    valid = ~missing[row_of]
    new = np.cumsum(valid) - 1
    person = np.where(valid[person], new[person], -1) if len(person) else person
    return person, texts.to_numpy()[valid]


def name_links(columns: Columns, source: Source, key: bytes, known: dict | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """For a source with person IDs that gives names and a date of birth too: the distinct
    pairs (pseudonym of the names and date of birth, pseudonym of the ID) its records carry,
    by which a source linking on names and date of birth finds the same person. Only
    pseudonyms are kept: no name or date of birth."""
    from dataclasses import replace

    ids, id_texts = identities(columns, source)
    names, name_texts = identities(columns, replace(source, id=()))
    both = (ids >= 0) & (names >= 0)
    pairs = np.unique(np.stack([names[both], ids[both]], axis=1), axis=0) if both.any() \
        else np.zeros((0, 2), dtype=np.int64)
    return (pseudonyms_of(name_texts[pairs[:, 0]], key),
            pseudonyms_of(id_texts[pairs[:, 1]], key, known))


def linked_by_name(sources: list) -> list[str]:
    """Link the people of each source that identifies them by names and date of birth
    (``by_name``) to a person ID, where a source with IDs gives the same names and date of
    birth (``links``) for exactly one ID: their pseudonyms become that ID's, so the person
    is counted once. Two IDs are never merged: names and a date of birth that two IDs
    carry link to neither. Returns the notes that say what was linked."""
    pairs = [pd.DataFrame({"name": s.links[0], "id": s.links[1]}) for s in sources
             if s.links is not None]
    by_name = [s for s in sources if s.by_name]
    if not by_name:
        return []
    if not pairs:
        return [f"{s.name}: links its records on names and date of birth, and no source "
                "with person IDs gives names and a date of birth (names and dob in its "
                "[[demand.sources]] table): its people are counted apart from the other "
                "sources' (a person in both is counted twice)" for s in by_name]
    pairs = pd.concat(pairs, ignore_index=True).drop_duplicates()
    ids_of = pairs.groupby("name")["id"].nunique()
    one = pairs[pairs["name"].map(ids_of).to_numpy() == 1].set_index("name")["id"]
    givers = ", ".join(s.name for s in sources if s.links is not None)
    notes = []
    for source in by_name:
        own = pd.Series(source.pseudonyms, dtype=object)
        to_id = own.map(one)
        matched = to_id.notna().to_numpy()
        shared = int(own.isin(ids_of.index[ids_of > 1]).sum())
        source.pseudonyms = np.where(matched, to_id.to_numpy(object), source.pseudonyms)
        people = "person" if len(own) == 1 else "people"
        notes.append(
            f"{source.name}: {int(matched.sum()):,} of its {len(own):,} {people} "
            f"(linked on names and date of birth) {_have(int(matched.sum()))} the names and "
            f"date of birth of one person ID in {givers}, and "
            f"{'is' if int(matched.sum()) == 1 else 'are'} counted as that person"
            + (f"; {shared:,} {_have(shared)} those of two or more IDs and "
               f"{'is' if shared == 1 else 'are'} counted apart (IDs are never merged)"
               if shared else ""))
    return notes


def pseudonyms_of(texts: np.ndarray, key: bytes, known: dict | None = None) -> np.ndarray:
    """The pseudonym of each distinct identity (texts trimmed, none blank, as ``identities``
    gives them); ``known`` (ID -> pseudonym, shared by the sources of one run) spares
    hashing an ID again that another source has."""
    from ..data.pseudonyms import digester

    texts = np.asarray(texts, dtype=object)
    hashed = np.frompyfunc(digester(key), 1, 1)
    if known is None:
        return hashed(texts) if len(texts) else texts.copy()
    found = np.frompyfunc(known.get, 1, 1)(texts) if len(texts) else texts.copy()
    new = np.equal(found, None)
    if new.any():
        fresh = hashed(texts[new])
        known.update(zip(texts[new], fresh))
        found[new] = fresh
    return found


def demand_key(key_file: Path | None, names=()) -> tuple[bytes, str]:
    """The user's pseudonymisation key and where it came from; no key, no run (a one-off
    key would give pseudonyms no partner could link). ``names``: the project's name, which
    does not count toward the key's strength."""
    import os

    from ..data.pseudonyms import KEY_ENVIRONMENT, pseudonymisation_key

    if key_file is None and not os.environ.get(KEY_ENVIRONMENT):
        raise InputError("no pseudonymisation key: give --key-file FILE (a secret of at "
                         f"least 16 characters, kept outside the project) or set "
                         f"${KEY_ENVIRONMENT}; nothing was written")
    return pseudonymisation_key(key_file, names)
