"""The files a service adds to the visit list, keyed by address ID: visits made,
opt-outs, partner flags with their weights and the capacity by ward; every row of them
accounted for in the reconciliation (used, unknown or excluded, and why).

Partner flags: a CSV with columns ``id`` and ``flag`` (one row per address and flag), and
weights given as ``"over_75_alone=2,smoker=1.5"`` (``--flag-weights``). Every flag in the
file needs a weight, except ``non_residential`` and ``opted_out``, which exclude the
address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.dates import parse_dates
from ..errors import InputError
from .reasons import EXCLUDING_FLAGS

SHOWN_ROWS = 5  # rows named in an error message


def clean_ids(values) -> pd.Series:
    """Address IDs as compared: text, trimmed, inner spaces collapsed ("N1  0FF" = "N1 0FF")."""
    return pd.Series(values).astype(str).str.strip().str.replace(r"\s+", " ", regex=True)


# a UK postcode, with or without its space ("W10 5NY", "RM141ND")
POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"


def looks_like_postcodes(ids, share: float = 0.9) -> bool:
    """Whether the gazetteer's IDs are postcodes (at least ``share`` of them), so that its
    points are postcode points holding households rather than addresses."""
    ids = clean_ids(ids).str.upper()
    return bool(len(ids)) and bool(ids.str.fullmatch(POSTCODE).mean() >= share)


def column_named(table: pd.DataFrame, wanted: str, source: str) -> str:
    for column in table.columns:
        if str(column).strip().lower() == wanted:
            return column
    raise InputError(f"{source}: no column '{wanted}' (columns are "
                     f"{', '.join(map(str, table.columns))})")


def _rows(rows) -> str:
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:SHOWN_ROWS])
    return shown + (" ..." if len(rows) > SHOWN_ROWS else "")


def _refuse_unknown(unknown: np.ndarray, rows, source: str, what: str = "IDs") -> None:
    if unknown.any():
        bad = np.asarray(rows)[unknown]
        raise InputError(f"{source}: {len(bad):,} of {len(unknown):,} rows have {what} not in "
                         f"the gazetteer (rows {_rows(bad)}); nothing was written")


MAX_FLAG_WEIGHT = 1000


def parse_flag_weights(text: str | None) -> dict[str, float]:
    """"over_75_alone=2,smoker=1.5" -> {"over_75_alone": 2.0, "smoker": 1.5}."""
    weights = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not name.strip() or not np.isfinite(number) or number <= 0 \
                or number > MAX_FLAG_WEIGHT:  # (larger ones overflow when multiplied)
            raise InputError(f"--flag-weights: '{part.strip()}' is not flag=weight with a "
                             f"weight above 0 and at most {MAX_FLAG_WEIGHT:,} (e.g. "
                             "over_75_alone=2,smoker=1.5)")
        weights[name.strip()] = number
    return weights


@dataclass
class Reconciliation:
    """Every row of every input file: used, unknown or excluded, with the reason (row
    numbers, not IDs: the IDs stay in the crews' list)."""

    rows: list = field(default_factory=list)

    def add(self, source: str, rows, status, detail) -> None:
        rows = np.asarray(rows)
        self.rows.append(pd.DataFrame({"source": source, "row": rows,
                                       "status": np.broadcast_to(status, rows.shape),
                                       "detail": np.broadcast_to(detail, rows.shape)}))

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return pd.DataFrame(columns=["source", "row", "status", "detail"])
        return pd.concat(self.rows, ignore_index=True)


def read_visits(table: pd.DataFrame, known: pd.Index, today: pd.Timestamp, months: int,
                source: str, log: Reconciliation, date_format: str | None = None
                ) -> tuple[pd.Series, pd.Timestamp]:
    """The last visit per known address (ID -> date) and the cut date: addresses visited
    after it are excluded. Unknown IDs, unreadable dates and dates after ``today`` are
    refused."""
    ids = clean_ids(table[column_named(table, "id", source)]).to_numpy()
    column = column_named(table, "date", source)
    dates = parse_dates(table[column], date_format, column, source)
    rows = table.index.to_numpy()
    unreadable = dates.isna().to_numpy()
    if unreadable.any():
        raise InputError(f"{source}: {int(unreadable.sum()):,} rows have no readable visit "
                         f"date (rows {_rows(rows[unreadable])}); nothing was written")
    future = (dates > today).to_numpy()
    if future.any():
        raise InputError(f"{source}: {int(future.sum()):,} visits are dated after "
                         f"{today:%Y-%m-%d} (rows {_rows(rows[future])}); nothing was written")
    _refuse_unknown(~pd.Index(ids).isin(known), rows, source)
    since = today - pd.DateOffset(months=months)
    last = pd.Series(dates.to_numpy(), index=ids).groupby(level=0).max()
    recent = (dates > since).to_numpy()
    log.add(source, rows[recent], "used", f"visited within {months} months: excluded")
    log.add(source, rows[~recent], "used", "earlier visit: shown as the last visit")
    return last, since


def read_id_list(table: pd.DataFrame, known: pd.Index, source: str, log: Reconciliation,
                 detail: str) -> pd.Index:
    ids = clean_ids(table[column_named(table, "id", source)]).to_numpy()
    rows = table.index.to_numpy()
    _refuse_unknown(~pd.Index(ids).isin(known), rows, source)
    log.add(source, rows, "used", detail)
    return pd.Index(ids).unique()


def read_flags(table: pd.DataFrame, known: pd.Index, weights: dict[str, float], source: str,
               log: Reconciliation) -> pd.DataFrame:
    """(id, flag) rows, deduplicated; every flag needs a weight unless it excludes."""
    ids = clean_ids(table[column_named(table, "id", source)]).to_numpy()
    flags = table[column_named(table, "flag", source)].astype(str).str.strip().to_numpy()
    rows = table.index.to_numpy()
    blank = flags == ""
    if blank.any():
        raise InputError(f"{source}: {int(blank.sum()):,} rows have no flag (rows "
                         f"{_rows(rows[blank])}); nothing was written")
    _refuse_unknown(~pd.Index(ids).isin(known), rows, source)
    unweighted = sorted(set(flags) - set(weights) - set(EXCLUDING_FLAGS))
    if unweighted:
        raise InputError(f"{source}: no weight for the flag {', '.join(unweighted)}; give "
                         f"one with --flag-weights (e.g. {unweighted[0]}=2)")
    pairs = pd.DataFrame({"id": ids, "flag": flags, "row": rows})
    repeated = pairs.duplicated(["id", "flag"]).to_numpy()
    log.add(source, rows[repeated], "excluded", "repeats an earlier row: counted once")
    excluding = np.isin(flags, list(EXCLUDING_FLAGS)) & ~repeated
    log.add(source, rows[excluding], "used", "excludes the address")
    log.add(source, rows[~excluding & ~repeated], "used",
            [f"flag weight {weights.get(f, 1):g}" for f in flags[~excluding & ~repeated]])
    return pairs[~repeated].reset_index(drop=True)


def read_capacity_table(table: pd.DataFrame, wards: pd.Index, source: str,
                        log: Reconciliation) -> pd.Series:
    """Ward code -> visits."""
    codes = table[column_named(table, "ward_code", source)].astype(str).str.strip()
    visits = pd.to_numeric(table[column_named(table, "visits", source)].astype(str)
                           .str.replace(",", "").str.strip(), errors="coerce")
    rows = table.index.to_numpy()
    bad = (visits.isna() | (visits < 0) | (visits.round() != visits)).to_numpy()
    if bad.any():
        raise InputError(f"{source}: {int(bad.sum())} rows have visits that are not a whole "
                         f"number 0 or more (rows {_rows(rows[bad])}); nothing was written")
    unknown = ~codes.isin(wards).to_numpy()
    if unknown.any():
        raise InputError(f"{source}: {int(unknown.sum())} ward codes are not wards of the "
                         f"segmentation (rows {_rows(rows[unknown])}); nothing was written")
    if codes.duplicated().any():
        raise InputError(f"{source}: ward {codes[codes.duplicated()].iloc[0]} is listed twice")
    log.add(source, rows, "used", "capacity of the ward")
    return pd.Series(visits.astype(int).to_numpy(), index=codes.to_numpy())


KNOWN_WARDS_SHOWN = 4  # wards of the segmentation named when a typed one is not among them


def chosen_wards(typed, area_wards: pd.DataFrame) -> tuple[str, ...]:
    """The codes of the wards typed by code or by name, either in any case ("E05000437",
    "bellingham"), in the order typed, each once. ``area_wards``: the segmentation's
    ``ward_code`` (and ``ward_name``) of each area. InputError, in words, naming what was
    typed that is neither and a few wards the segmentation has (the nearest in spelling
    first)."""
    import difflib

    wards = area_wards.drop_duplicates("ward_code")
    codes = wards["ward_code"].astype(str).to_list()
    names = (wards["ward_name"].fillna("").astype(str).to_list() if "ward_name" in wards
             else [""] * len(codes))
    by_key = {name.strip().casefold(): code for code, name in zip(codes, names)
              if name.strip()}
    shared = pd.Series(codes).groupby(pd.Series(names).str.strip().str.casefold()).agg(list)
    by_key.update({code.casefold(): code for code in codes})
    found, unknown = [], []
    for text in (str(t).strip() for t in typed if str(t).strip()):
        code = by_key.get(text.casefold())
        if code is not None and code.casefold() != text.casefold() and len(
                shared.get(text.casefold(), [])) > 1:
            same = shared[text.casefold()]  # (several boroughs' wards of one name)
            raise InputError(f"“{text}” is the name of {len(same)} wards of this "
                             f"segmentation ({', '.join(same)}): give the ward's code")
        if code is None:
            unknown.append(text)
        elif code not in found:
            found.append(code)
    if unknown:
        shown = {code: f"{name} ({code})" if name else code for code, name in zip(codes, names)}
        near = [by_key[k] for t in unknown
                for k in difflib.get_close_matches(t.casefold(), list(by_key), n=3, cutoff=0.6)]
        known = list(dict.fromkeys(near + sorted(shown, key=lambda c: shown[c].casefold())))
        said = " and ".join(f"“{t}”" for t in unknown)
        raise InputError(
            f"{said} {'is not a ward' if len(unknown) == 1 else 'are not wards'} of this "
            f"segmentation (by name or code). It has {len(codes)} wards, e.g. "
            f"{', '.join(shown[c] for c in known[:KNOWN_WARDS_SHOWN])}.")
    return tuple(found)


def read_input_table(path: Path) -> pd.DataFrame:
    from ..data.locate import read_records

    table, unreadable, _ = read_records(Path(path))
    if len(unreadable):
        raise InputError(f"{Path(path).name}: {len(unreadable)} lines cannot be read (rows "
                         f"{_rows(unreadable['row'])}); nothing was written")
    return table
