"""Home fire safety check targeting: a ranked, explained visit list within capacity.

From a saved segmentation, its address gazetteer and an incident history, every address
gets an **expected number of fires per year**, and the list is filled in that order.

The score
---------
For output area *i* in segment *s*: *y_i* fires in the window, *n_i* households.

1. **Segment rate**: ``mu_s = sum(y) / sum(n)`` over the segment's areas (fires per
   household over the window; x 1,000 for the rate per 1,000 households). The borough rate
   is the same over every classified area; "2.3x the borough's fire rate" is
   ``mu_s / borough``.
2. **Area rate shrunk toward its segment** (empirical Bayes, Poisson-gamma): the area's
   fires ``y_i ~ Poisson(n_i * theta_i)`` with ``theta_i ~ Gamma(alpha_s, beta_s)``, whose
   mean is ``mu_s`` and variance ``tau2_s``, estimated per segment by the method of moments
   (Marshall 1991)::

       r_i    = y_i / n_i                                   (the area's own rate)
       s2_s   = sum(n_i * (r_i - mu_s)^2) / sum(n_i)        (household-weighted variance)
       nbar_s = sum(n_i) / m_s                              (m_s areas with households)
       tau2_s = max(0, s2_s - mu_s / nbar_s)                (less the Poisson noise)
       alpha_s = mu_s^2 / tau2_s,  beta_s = mu_s / tau2_s

   and the area's rate is the posterior mean::

       theta_i = (alpha_s + y_i) / (beta_s + n_i) = mu_s + w_i * (r_i - mu_s),
       w_i = tau2_s / (tau2_s + mu_s / n_i)

   A small area with one fire moves only a little from its segment's rate (small n_i: small
   weight w_i); when ``tau2_s`` is 0 every area of the segment takes the segment's rate;
   an area without households takes it too.
3. **Per address**: ``expected fires = theta_i / years x households at the address (1 where
   not known: a ``households`` column in the gazetteer's address layer, when present) x the
   product of the weights of the address's partner flags``.

Partner flags: a CSV with columns ``id`` and ``flag`` (one row per address and flag), and
weights given as ``"over_75_alone=2,smoker=1.5"`` (``--flag-weights``). Every flag in the
file needs a weight, except ``non_residential`` and ``opted_out``, which exclude the
address.

Exclusions (each address gets at most one reason, the first that applies, in this order):
area not classified, opted out, non-residential, visited within the last N months,
outside the chosen wards, outside the chosen segments.

Ties: addresses are ranked by expected fires (higher first), then area code, then address
ID (both ascending, as text); with "cluster by area" areas are ranked by their shrunk rate
(higher first), then area code, and each chosen area lists its eligible addresses in
address rank order until capacity is reached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..cells import write_csv, write_xlsx
from ..data.dates import parse_dates
from ..errors import InputError

# exclusion reasons, in the order they are tested
NOT_CLASSIFIED = "area not classified"
OPTED_OUT = "opted out"
NON_RESIDENTIAL = "non-residential"
VISITED = "visited recently"
OUTSIDE_WARDS = "outside the chosen wards"
OUTSIDE_SEGMENTS = "outside the chosen segments"
EXCLUDING_FLAGS = {"opted_out": OPTED_OUT, "non_residential": NON_RESIDENTIAL}


def parse_segments(text: str | None) -> tuple[int, ...]:
    """Segment numbers typed as "8,9,10" (none: every segment), or one line saying why not."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise InputError(f"--segments '{text}': segments are numbers, comma separated "
                         "(e.g. 8,9,10)")
    return tuple(int(p) for p in parts)

PRIORITIES = {1: "very high (3x the borough rate or more)", 2: "high (2x to 3x)",
              3: "raised (1.5x to 2x)", 4: "other chosen (under 1.5x)"}
PRIORITY_LIMITS = (3.0, 2.0, 1.5)

SHOWN_ROWS = 5  # rows named in an error message


# --- the score --------------------------------------------------------------------------------

def shrunk_rates(fires: pd.Series, households: pd.Series, segments: pd.Series
                 ) -> pd.DataFrame:
    """Per area: its segment's rate, its own rate, the weight on it and the shrunk rate
    (fires per household over the window), and the segment's gamma prior (alpha, beta).
    All three series share the area index; ``segments`` holds classified areas only."""
    frame = pd.DataFrame({"segment": segments.astype(int)})
    frame["fires"] = fires.reindex(frame.index).fillna(0).astype(float)
    frame["households"] = households.reindex(frame.index).fillna(0).astype(float).clip(
        lower=0)
    has = frame["households"] > 0
    sums = frame[has].groupby("segment")[["fires", "households"]].sum()
    mu = (sums["fires"] / sums["households"]).reindex(frame["segment"]).fillna(0).to_numpy()
    n = frame["households"].to_numpy()
    y = frame["fires"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(n > 0, y / np.where(n > 0, n, 1), np.nan)
    deviation = np.where(n > 0, n * (np.nan_to_num(raw) - mu) ** 2, 0.0)
    moments = pd.DataFrame({"segment": frame["segment"].to_numpy(), "dev": deviation,
                            "n": n, "m": (n > 0).astype(float)}).groupby("segment").sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = moments["dev"] / moments["n"]
        nbar = moments["n"] / moments["m"]
    seg_mu = (sums["fires"] / sums["households"]).reindex(moments.index).fillna(0)
    tau2 = (s2 - seg_mu / nbar).clip(lower=0).fillna(0)
    tau2_i = tau2.reindex(frame["segment"]).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where((n > 0) & (tau2_i > 0), tau2_i / (tau2_i + mu / np.where(n > 0, n, 1)),
                          0.0)
        alpha = np.where(tau2_i > 0, mu ** 2 / tau2_i, np.inf)
        beta = np.where(tau2_i > 0, mu / tau2_i, np.inf)
    frame["segment_rate"] = mu
    frame["own_rate"] = raw
    frame["weight"] = weight
    frame["shrunk_rate"] = mu + weight * (np.nan_to_num(raw) - mu)
    frame["prior_alpha"], frame["prior_beta"] = alpha, beta
    borough = frame.loc[has, "fires"].sum() / max(frame.loc[has, "households"].sum(), 1e-300)
    frame["borough_rate"] = borough
    return frame


# --- inputs keyed by address ID -----------------------------------------------------------------

def clean_ids(values) -> pd.Series:
    """Address IDs as compared: text, trimmed, inner spaces collapsed ("N1  0FF" = "N1 0FF")."""
    return pd.Series(values).astype(str).str.strip().str.replace(r"\s+", " ", regex=True)


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


# --- scoring, exclusions and the fill -----------------------------------------------------------

@dataclass
class TargetOptions:
    capacity: int | None = None
    capacity_by_ward: pd.Series | None = None  # ward code -> visits
    cluster_by_area: bool = False
    wards: tuple = ()
    segments: tuple = ()
    years: float | None = None  # the window's length: expected fires per year when known
    window: str = ""  # the window in words, e.g. "2009–2024"
    postcode_points: bool = False  # each point holds households: capacity counts them


def score_addresses(addresses: pd.DataFrame, areas: pd.DataFrame,
                    flags: pd.DataFrame | None = None, weights: dict | None = None,
                    years: float | None = None) -> pd.DataFrame:
    """``addresses``: id, area_code[, households]; ``areas``: ``shrunk_rates`` output.
    Adds households (1 where unknown), multiplier, flags (names), expected_fires."""
    out = addresses[["id", "area_code"]].copy()
    hh = addresses["households"] if "households" in addresses else None
    if hh is not None:
        hh = pd.to_numeric(hh, errors="coerce")
        hh = hh.where(hh > 0)
    out["households"] = 1.0 if hh is None else hh.fillna(1.0).to_numpy()
    position = area_positions(out["area_code"], areas.index)
    out["_area"] = position
    rate = np.where(position >= 0, areas["shrunk_rate"].to_numpy()[np.maximum(position, 0)],
                    np.nan)
    out["multiplier"] = 1.0
    out["flags"] = ""
    if flags is not None and len(flags):
        weighted = flags[~flags["flag"].isin(list(EXCLUDING_FLAGS))]
        if len(weighted):
            w = weighted["flag"].map(weights or {}).astype(float)
            by_id = weighted["id"].to_numpy()
            product = np.exp(np.log(w).groupby(by_id).sum())
            # the flags' names, joined in name order: one bit per flag, then a lookup
            kinds, code = np.unique(weighted["flag"].to_numpy(), return_inverse=True)
            bits = pd.Series(np.left_shift(1, code.astype(np.int64))).groupby(by_id).sum()
            words = {m: ";".join(k for b, k in enumerate(kinds) if m >> b & 1)
                     for m in np.unique(bits.to_numpy())}
            where = pd.Index(out["id"]).get_indexer(product.index)
            out.iloc[where, out.columns.get_loc("multiplier")] = product.to_numpy()
            where = pd.Index(out["id"]).get_indexer(bits.index)
            out.iloc[where, out.columns.get_loc("flags")] = bits.map(words).to_numpy()
    per_year = 1.0 / years if years else 1.0
    out["expected_fires"] = rate * per_year * out["households"].to_numpy() * out[
        "multiplier"].to_numpy()
    return out


def exclusion_reasons(scored: pd.DataFrame, segments_of_areas: pd.Series,
                      ward_of_areas: pd.Series | None, options: TargetOptions,
                      opted_out=(), non_residential=(), recently_visited=()) -> np.ndarray:
    """'' for an eligible address, else its first reason."""
    reason = np.full(len(scored), "", dtype=object)

    def mark(mask, why):
        mask = np.asarray(mask) & (reason == "")
        reason[mask] = why

    ids = pd.Index(scored["id"])
    position = scored["_area"].to_numpy()
    segment = np.where(position >= 0, segments_of_areas.reindex(
        segments_of_areas.index).to_numpy(dtype=float)[np.maximum(position, 0)], np.nan)
    mark(pd.isna(segment) | ~np.isfinite(scored["expected_fires"].to_numpy()), NOT_CLASSIFIED)
    mark(ids.isin(pd.Index(opted_out)), OPTED_OUT)
    mark(ids.isin(pd.Index(non_residential)), NON_RESIDENTIAL)
    mark(ids.isin(pd.Index(recently_visited)), VISITED)
    if options.wards:
        if ward_of_areas is None:
            raise InputError("--wards needs the ward of each area: run `community-safety "
                             "matrices` first")
        ward = ward_of_areas.reindex(segments_of_areas.index).to_numpy()[
            np.maximum(position, 0)]
        mark(~pd.Index(ward).isin(list(options.wards)), OUTSIDE_WARDS)
    if options.segments:
        wanted = np.isin(np.nan_to_num(segment, nan=-1),
                         [float(s) for s in options.segments])
        mark(~wanted, OUTSIDE_SEGMENTS)
    return reason


def sort_key(values: pd.Series) -> np.ndarray:
    """Integers that sort as the values do: numbers as numbers (e.g. UPRNs), text as text."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        rank = np.argsort(np.argsort(categories.astype(str).to_numpy(), kind="stable"))
        return np.where(values.cat.codes.to_numpy() >= 0, rank[values.cat.codes.to_numpy()], -1)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy()
    return pd.factorize(values.astype(str), sort=True)[0]


def rank_order(scored: pd.DataFrame) -> np.ndarray:
    """Positions by expected fires (desc), then area code, then address ID (as numbers when
    the IDs are numbers, such as UPRNs, else as text)."""
    return np.lexsort((sort_key(scored["id"]), sort_key(scored["area_code"]),
                       -np.nan_to_num(scored["expected_fires"].to_numpy(), nan=-np.inf)))


def area_positions(area_codes: pd.Series, index: pd.Index) -> np.ndarray:
    """Each address's area as a position in ``index`` (-1 when not there); fast for a
    categorical column of codes."""
    if isinstance(area_codes.dtype, pd.CategoricalDtype):
        found = index.get_indexer(area_codes.cat.categories)
        codes = area_codes.cat.codes.to_numpy()
        return np.where(codes >= 0, found[codes], -1)
    return index.get_indexer(area_codes)


def fill(scored: pd.DataFrame, eligible: np.ndarray, areas: pd.DataFrame, options: TargetOptions,
         ward_of_areas: pd.Series | None = None) -> np.ndarray:
    """Positions of the chosen addresses, in rank order."""
    order = rank_order(scored)
    order = order[eligible[order]]
    if options.cluster_by_area:
        area_rank = np.lexsort((areas.index.astype(str).to_numpy(),
                                -areas["shrunk_rate"].to_numpy()))
        place = np.empty(len(areas), dtype=np.int64)
        place[area_rank] = np.arange(len(areas))
        key = place[scored["_area"].to_numpy()[order]]
        order = order[np.argsort(key, kind="stable")]
    size = (scored["households"].to_numpy(dtype=float) if options.postcode_points
            else np.ones(len(scored)))
    if options.capacity_by_ward is None:
        _check_capacity(options.capacity, size[order].sum(), "the study area",
                        unit=_unit(options))
        return _take(order, options.capacity, size)
    ward = ward_of_areas.reindex(areas.index).to_numpy()[scored["_area"].to_numpy()[order]]
    chosen = []
    for code, visits in options.capacity_by_ward.items():
        in_ward = order[ward == code]
        _check_capacity(int(visits), size[in_ward].sum(), f"ward {code}", allow_zero=True,
                        unit=_unit(options))
        chosen.append(_take(in_ward, int(visits), size))
    chosen = np.concatenate(chosen) if chosen else np.array([], dtype=int)
    if not len(chosen):
        raise InputError("the capacity table gives 0 visits in every ward: nothing to list")
    rank = np.empty(len(scored), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return chosen[np.argsort(rank[chosen], kind="stable")]


def _unit(options: TargetOptions) -> str:
    return "households at the eligible postcodes" if options.postcode_points else (
        "eligible addresses")


def _take(order: np.ndarray, capacity: int, size: np.ndarray) -> np.ndarray:
    """The first places in ``order`` until their sizes reach ``capacity`` (the place that
    reaches it included)."""
    reached = np.cumsum(size[order]) >= capacity - 1e-9
    count = int(np.argmax(reached)) + 1 if reached.any() else len(order)
    return order[:count if capacity > 0 else 0]


def households_per_point(area_codes: pd.Series, households: pd.Series) -> np.ndarray:
    """Each point's share of its area's households (the area's households over its points
    in the gazetteer), at least 1."""
    codes = area_codes.astype(str).to_numpy()
    points = pd.Series(codes).value_counts()
    share = households.reindex(points.index).fillna(0).to_numpy() / points.to_numpy()
    return np.maximum(pd.Series(share, index=points.index).reindex(codes).fillna(1.0)
                      .to_numpy(), 1.0)


def _check_capacity(capacity, eligible: float, where: str, allow_zero: bool = False,
                    unit: str = "eligible addresses") -> None:
    if capacity is None:
        raise InputError("give a capacity: --capacity N visits, or --capacity-table")
    if capacity < 0 or (capacity == 0 and not allow_zero):
        raise InputError(f"a capacity of {capacity} visits: give 1 or more")
    if capacity > eligible + 1e-9:
        raise InputError(f"a capacity of {capacity:,} visits is more than the "
                         f"{int(round(eligible)):,} {unit} in {where}; lower it (or relax "
                         "the exclusions)")


# --- explanations ---------------------------------------------------------------------------------

def flag_words(name: str) -> str:
    return re.sub(r"[_\s]+", " ", name).strip()


def times(ratio: float) -> str:
    return f"{ratio:.1f}x"


def explain(chosen: pd.DataFrame, window: str) -> list[str]:
    """One sentence per chosen address from its figures: segment and its ratio to the
    borough's rate, the area's fires and shrunk ratio, last visit, flags with weights."""
    texts = []
    period = f"in {window}" if window else "in the incident history"
    for row in chosen.itertuples(index=False):
        fires = int(row.area_fires)
        parts = [f"segment {int(row.segment)} ({times(row.segment_ratio)} the borough's fire "
                 "rate)",
                 f"{fires} fire{'s' if fires != 1 else ''} in this area {period} "
                 f"(area rate {times(row.area_ratio)} the borough's after shrinking toward "
                 "its segment)"]
        if pd.isna(row.last_visit):
            parts.append("no visit on record")
        else:
            parts.append(f"not visited since {row.last_visit:%b %Y}")
        if row.flags:
            parts.append("flag: " + ", ".join(
                f"{flag_words(f)} (x{w:g})" for f, w in zip(row.flags.split(";"),
                                                         row.flag_weights)))
        texts.append(", ".join(parts))
    return texts


def priority(ratio: np.ndarray) -> np.ndarray:
    """1 (very high) .. 4 from the address's expected fires per household over the
    borough's rate."""
    out = np.full(len(ratio), 4, dtype=int)
    for level, limit in zip((3, 2, 1), reversed(PRIORITY_LIMITS)):
        out[ratio >= limit] = level
    return out


# --- the whole step on frames -------------------------------------------------------------------

@dataclass
class TargetResult:
    targets: pd.DataFrame  # the crews' list, ordered by ward and area
    areas: pd.DataFrame  # per area: scores, fires, visits (no addresses)
    summary: pd.DataFrame  # aggregates only
    reconciliation: pd.DataFrame
    excluded: pd.Series  # reason -> addresses


def build_targets(addresses: pd.DataFrame, fires: pd.Series, households: pd.Series,
                  segments: pd.Series, options: TargetOptions,
                  wards: pd.DataFrame | None = None, flags: pd.DataFrame | None = None,
                  weights: dict | None = None, last_visits: pd.Series | None = None,
                  visited_since: pd.Timestamp | None = None, opted_out=(),
                  reconciliation: Reconciliation | None = None,
                  model_rates: pd.Series | None = None,
                  model_reasons: pd.Series | None = None) -> TargetResult:
    """``addresses``: id, area_code[, households][, non_residential]; ``fires``,
    ``households``: per area over the window; ``segments``: area -> segment (classified);
    ``wards``: area_code index -> ward_code, ward_name. ``model_rates`` (the risk model's
    expected fires per household per year, per area) replace the shrunk rates, and
    ``model_reasons`` (per area, in words) the explanations."""
    areas = shrunk_rates(fires, households, segments)
    if model_rates is not None:
        areas["shrunk_rate"] = (model_rates.reindex(areas.index).to_numpy(dtype=float)
                                * (options.years or 1.0))
    if options.postcode_points and "households" not in addresses:
        addresses = addresses.assign(households=households_per_point(
            addresses["area_code"], areas["households"]))
    scored = score_addresses(addresses, areas, flags, weights, options.years)
    non_residential = []
    if "non_residential" in addresses:
        flag = addresses["non_residential"].astype(str).str.strip().str.lower()
        non_residential = addresses.loc[flag.isin(["1", "true", "yes", "y"]).to_numpy(), "id"]
    if flags is not None and len(flags):
        opted_out = pd.Index(opted_out).append(
            pd.Index(flags.loc[flags["flag"] == "opted_out", "id"]))
        non_residential = pd.Index(non_residential).append(
            pd.Index(flags.loc[flags["flag"] == "non_residential", "id"]))
    recent = ()
    if last_visits is not None and visited_since is not None:
        recent = last_visits.index[last_visits > visited_since]
    ward_of = wards["ward_code"] if wards is not None else None
    reasons = exclusion_reasons(scored, areas["segment"], ward_of, options, opted_out,
                                non_residential, recent)
    eligible = reasons == ""
    chosen = fill(scored, eligible, areas, options, ward_of)

    borough = float(areas["borough_rate"].iloc[0]) if len(areas) else 0.0
    if not borough > 0:  # every ratio would be 0/0
        when = f"in {options.window}" if options.window else "in the incident history"
        raise InputError(f"no fires {when} in the study's areas: there is nothing to rank "
                         "the addresses by (choose --from/--to that hold some); nothing was "
                         "written")
    per_year = 1.0 / options.years if options.years else 1.0
    table = scored.iloc[chosen].drop(columns="_area")
    table["area_code"] = table["area_code"].astype(str)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    info = areas.reindex(table["area_code"])
    table["segment"] = info["segment"].to_numpy()
    table["area_fires"] = info["fires"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["segment_ratio"] = info["segment_rate"].to_numpy() / borough
        table["area_ratio"] = info["shrunk_rate"].to_numpy() / borough
        per_household = table["expected_fires"] / table["households"] / per_year
        table["ratio"] = (per_household / borough).to_numpy()
    table["last_visit"] = (last_visits.reindex(table["id"]).to_numpy()
                           if last_visits is not None else pd.NaT)
    table["last_visit"] = pd.to_datetime(table["last_visit"])
    weights = weights or {}
    table["flag_weights"] = [[weights.get(f, 1.0) for f in s.split(";")] if s else []
                             for s in table["flags"]]
    table["why"] = explain(table, options.window)
    if model_reasons is not None:
        table["why"] = [f"{model_reasons.get(a, '')}; {w.split(', ', 2)[-1]}" for a, w in
                        zip(table["area_code"], table["why"])]
    if options.postcode_points:
        table.insert(table.columns.get_loc("households"), "address", [
            f"{i} (about {max(1, round(h))} household{'s' if round(h) != 1 else ''})"
            for i, h in zip(table["id"], table["households"])])
    table["priority"] = priority(table["ratio"].to_numpy())
    table["priority_label"] = [PRIORITIES[p] for p in table["priority"]]
    if wards is not None:
        w = wards.reindex(table["area_code"])
        table.insert(1, "ward_code", w["ward_code"].to_numpy())
        table.insert(2, "ward_name", w["ward_name"].to_numpy() if "ward_name" in w else "")
    else:
        table.insert(1, "ward_code", "")
        table.insert(2, "ward_name", "")
    crews = table.rename(columns={"id": "address_id",
                                  "expected_fires": "expected_fires_per_year"
                                  if options.years else "expected_fires"})
    crews["last_visit"] = crews["last_visit"].dt.strftime("%Y-%m-%d").fillna("")
    crews = crews.drop(columns=["flag_weights", "ratio"])
    crews["segment_ratio"] = crews["segment_ratio"].round(2)
    crews["area_ratio"] = crews["area_ratio"].round(2)
    crews = crews.sort_values(["ward_name", "ward_code", "area_code", "rank"],
                              kind="stable").reset_index(drop=True)

    # per area, no addresses: for the layer and the summary
    area_table = areas.copy()
    area_table["rate_per_1000_households"] = (1000 * area_table["shrunk_rate"] * per_year)
    chosen_areas = areas.index[scored["_area"].to_numpy()[chosen]]
    visits = pd.Series(chosen_areas).value_counts()
    area_table["visits"] = visits.reindex(area_table.index).fillna(0).astype(int).to_numpy()
    area_table["expected_fires_covered"] = (
        pd.Series(scored["expected_fires"].to_numpy()[chosen],
                  index=chosen_areas).groupby(level=0).sum()
        .reindex(area_table.index).fillna(0).to_numpy())
    if wards is not None:
        area_table = area_table.join(wards[["ward_code"] + (["ward_name"] if "ward_name" in
                                                            wards else [])])

    excluded = pd.Series(reasons[~eligible]).value_counts()
    targeted = area_table["visits"] > 0
    total_expected = float(np.nansum(scored["expected_fires"].to_numpy()[eligible]))
    covered = float(np.nansum(scored["expected_fires"].to_numpy()[chosen]))
    fires_all = float(area_table["fires"].sum())
    fires_in = float(area_table.loc[targeted, "fires"].sum())
    unit = "per year" if options.years else f"over {options.window or 'the history'}"
    rows = [
        ("visits", len(chosen), "postcodes on the list" if options.postcode_points
         else "addresses on the list"),
        *([("households on the list", int(round(scored["households"].to_numpy()[chosen]
                                               .sum())), "capacity counts households")]
          if options.postcode_points else []),
        ("areas", int(targeted.sum()), "output areas with at least one visit"),
        ("wards", int(area_table.loc[targeted, "ward_code"].nunique())
         if "ward_code" in area_table else "", "wards with at least one visit"),
        ("addresses in the gazetteer", len(scored), ""),
        ("eligible addresses", int(eligible.sum()), "after the exclusions"),
        *[(f"excluded: {why}", int(n), "") for why, n in excluded.items()],
        ("expected fires covered", round(covered, 3), unit),
        ("share of eligible expected fires covered (%)",
         round(100 * covered / total_expected, 1) if total_expected else "", ""),
        ("fires in the window", int(fires_all), options.window or "the incident history"),
        ("fires in the window in targeted areas", int(fires_in), ""),
        ("share of the window's fires in targeted areas (%)",
         round(100 * fires_in / fires_all, 1) if fires_all else "", ""),
        ("households in targeted areas (%)",
         round(100 * area_table.loc[targeted, "households"].sum()
               / max(area_table["households"].sum(), 1), 1), ""),
        ("borough fire rate per 1,000 households", round(1000 * borough * per_year, 3), unit),
        ("capacity", options.capacity if options.capacity_by_ward is None
         else int(options.capacity_by_ward.sum()),
         "by ward, from the capacity table" if options.capacity_by_ward is not None else ""),
        ("cluster by area", "yes" if options.cluster_by_area else "no", ""),
    ]
    summary = pd.DataFrame(rows, columns=["measure", "value", "note"])
    if visited_since is not None:
        summary.loc[len(summary)] = ["visited since (excluded)",
                                     f"{visited_since:%Y-%m-%d}", ""]
    log = reconciliation or Reconciliation()
    return TargetResult(crews, area_table, summary, log.frame(), excluded)


# --- the step on a saved segmentation: read, score, write ---------------------------------------

TARGET_GPKG = "target.gpkg"
CREW_COLUMNS_ABOUT = {
    "rank": "position in the whole list (1 = highest expected fires)",
    "ward_code / ward_name": "the ward of the address's output area",
    "area_code": "the output area",
    "address_id": "the address (gazetteer ID)",
    "households": "households at the address (1 where not known)",
    "multiplier": "product of the partner flags' weights (1 without flags)",
    "flags": "partner flags at the address",
    "expected_fires_per_year": "area's fires per household (shrunk toward its segment) per "
                               "year x households x multiplier",
    "segment": "the area's segment",
    "area_fires": "fires in the area in the window",
    "segment_ratio": "the segment's fire rate over the borough's",
    "area_ratio": "the area's shrunk fire rate over the borough's",
    "last_visit": "date of the last recorded visit",
    "why": "the reasons in words, from the figures on the row",
    "priority": "1 very high (3x the borough rate or more), 2 high (2x-3x), 3 raised "
                "(1.5x-2x), 4 other chosen",
}


def _read_table(path: Path) -> pd.DataFrame:
    from ..data.locate import read_records

    table, unreadable, _ = read_records(Path(path))
    if len(unreadable):
        raise InputError(f"{Path(path).name}: {len(unreadable)} lines cannot be read (rows "
                         f"{_rows(unreadable['row'])}); nothing was written")
    return table


@dataclass
class TargetInputs:
    """What the step reads besides the segmentation (paths; any may be None)."""

    incidents: object = None  # backtest.IncidentFile: scored on its dates in the window
    incident_table: str | None = None  # else a stored incident_counts_<name> table
    window_from: str | None = None
    window_to: str | None = None
    visited: Path | None = None
    visited_months: int = 12
    opted_out: Path | None = None
    flags: Path | None = None
    flag_weights: str | None = None
    capacity_table: Path | None = None
    today: str | None = None
    visited_date_format: str | None = None  # e.g. "%m/%d/%Y"; None: ISO or judged day first
    model: bool = False  # score with the risk model (risk_model) instead of the shrunk rates
    lookup: Path | None = None  # area -> LSOA -> ... -> borough, for the model
    project: Path | None = None  # a project file whose [risk_model] sets the model


ADDRESSES_AS_HOUSEHOLDS = ("the segmentation names no households column: each address of "
                           "the gazetteer counts as one household")


def _households(seg, gpkg: Path | None = None) -> pd.Series:
    """Households per area: the project's households column, or (without one) the
    gazetteer's addresses per area (``ADDRESSES_AS_HOUSEHOLDS``)."""
    column = seg.manifest.get("parameters", {}).get("households")
    if column and column in seg.values.columns:
        return pd.to_numeric(seg.values[column], errors="coerce")
    if gpkg is not None:
        import pyogrio

        if "addresses" in {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]}:
            areas = pyogrio.read_dataframe(gpkg, layer="addresses", columns=["area_code"],
                                           read_geometry=False)["area_code"]
            return areas.value_counts().reindex(seg.values.index).fillna(0).astype(float)
    raise InputError("the segmentation names no households column ([sizes] households "
                     "in the project) and has no address gazetteer to count households "
                     "by: fire rates per household cannot be computed")


def _stored_counts(gpkg: Path, name: str | None, layers: set) -> tuple[pd.Series, str]:
    from ..places.steps import safe_name
    from ..store.geopackage import read_gpkg_table

    stored = sorted(n.removeprefix("incident_counts_") for n in layers
                    if n.startswith("incident_counts_"))
    if name is None:
        if len(stored) != 1:
            raise InputError(f"{gpkg.name}: name the incidents to score on (--incident-table "
                             f"{' or '.join(stored) or 'NAME, after `incidents`'}, or give "
                             "--incidents FILE)")
        name = stored[0]
    name = safe_name(name)
    if name not in stored:
        raise InputError(f"{gpkg.name}: no incident profile '{name}' (there are: "
                         f"{', '.join(stored) or 'none'}); run `community-safety incidents`")
    counts = read_gpkg_table(gpkg, f"incident_counts_{name}").set_index("area_code")
    return counts.iloc[:, 0].astype(float), name


def target_step(segmentation: Path, out_dir: Path, options: TargetOptions,
                inputs: TargetInputs, replace_folder: bool = True
                ) -> tuple[TargetResult, list[Path]]:
    """Score, exclude, fill and write the crews' list, layer, summary and reconciliation
    into ``out_dir`` (built aside and moved in whole: nothing is written on bad input)."""
    import geopandas as gpd
    import pyogrio

    from ..places.incidents import window_date
    from ..places.steps import gpkg_path, period_label
    from ..segment.saved import load_segmentation
    from ..store.geopackage import read_gpkg_table
    from .backtest import incident_history, window_counts

    gpkg = gpkg_path(segmentation)
    seg = load_segmentation(gpkg)
    layers = {n for n, _ in pyogrio.list_layers(gpkg)}
    if "addresses" not in layers:
        raise InputError(f"{gpkg.name}: no address gazetteer yet; run `community-safety "
                         "gazetteer` first")
    households = _households(seg, gpkg)
    today = window_date(inputs.today, "--today") or pd.Timestamp.today().normalize()
    log = Reconciliation()

    start = window_date(inputs.window_from, "the start date")
    end = window_date(inputs.window_to, "the end date")
    if inputs.incidents is not None:
        history, outcomes, source = incident_history(seg.areas, inputs.incidents)
        if history.empty:
            raise InputError(f"{source}: no incident located in the study area with a date")
        if (history["date"] > today).any():
            raise InputError(f"{source}: {int((history['date'] > today).sum())} incidents are "
                             f"dated after {today:%Y-%m-%d}; nothing was written")
        first = start if start is not None else history["date"].min()
        last = end if end is not None else history["date"].max()
        if first > last:
            raise InputError(f"the window starts ({first:%Y-%m-%d}) after it ends "
                             f"({last:%Y-%m-%d})")
        fires = window_counts(history, first, last)
        options.years = ((last - first).days + 1) / 365.25
        options.window = period_label(first, last)
        counted = pd.Series(False, index=outcomes.index)
        counted[history.index] = ((history["date"] >= first)
                                  & (history["date"] < last + pd.Timedelta(days=1))).to_numpy()
        log.add(source, outcomes.index[counted.to_numpy()], "used", "counted in the window")
        log.add(source, outcomes.index[(outcomes == "matched").to_numpy() & ~counted.to_numpy()],
                "excluded", "outside the window")
        other = (outcomes != "matched").to_numpy()
        log.add(source, outcomes.index[other], "excluded", outcomes[other].to_numpy())
    else:
        if start is not None or end is not None:
            raise InputError("a window (--from/--to) needs the incident file (--incidents) "
                             "with its --date-column: the stored counts have no dates")
        fires, _ = _stored_counts(gpkg, inputs.incident_table, layers)

    address_layer = gpd.read_file(gpkg, layer="addresses", engine="pyogrio")
    address_layer["id"] = clean_ids(address_layer["record_id"]).to_numpy()
    known = pd.Index(address_layer["id"])

    weights = parse_flag_weights(inputs.flag_weights)
    if inputs.visited_months < 0:
        raise InputError(f"--visited-months {inputs.visited_months}: give 0 or more months")
    last_visits, since, opted, flags = None, None, (), None
    if inputs.visited is not None:
        last_visits, since = read_visits(_read_table(inputs.visited), known, today,
                                         inputs.visited_months, Path(inputs.visited).name, log,
                                         inputs.visited_date_format)
    if inputs.opted_out is not None:
        opted = read_id_list(_read_table(inputs.opted_out), known,
                             Path(inputs.opted_out).name, log, "opted out: excluded")
    if inputs.flags is not None:
        flags = read_flags(_read_table(inputs.flags), known, weights,
                           Path(inputs.flags).name, log)
    elif weights:
        raise InputError("--flag-weights given without a flag file (--flags FILE)")

    wards = None
    if "area_wards" in layers:
        wards = read_gpkg_table(gpkg, "area_wards").set_index("area_code")
    if inputs.capacity_table is not None:
        if wards is None:
            raise InputError("a capacity table by ward needs the ward of each area: run "
                             "`community-safety matrices` first")
        options.capacity_by_ward = read_capacity_table(
            _read_table(inputs.capacity_table), pd.Index(wards["ward_code"].unique()),
            Path(inputs.capacity_table).name, log)
    if options.wards and wards is not None:
        unknown = sorted(set(options.wards) - set(wards["ward_code"]))
        if unknown:
            raise InputError(f"--wards: {', '.join(unknown)} are not wards of the "
                             "segmentation")
    if options.segments:
        unknown = sorted(set(options.segments) - set(seg.summary.index))
        if unknown:
            raise InputError(f"--segments: {', '.join(map(str, unknown))} are not segments "
                             f"(1 to {max(seg.summary.index)})")

    rates = reasons = None
    if inputs.model:
        if inputs.incidents is None:
            raise InputError("the risk model reads the incidents' dates: give --incidents "
                             "FILE with its --date-column")
        from .risk_study import model_scores

        rates, reasons = model_scores(seg, households, wards, history, first, last,
                                      inputs.lookup, inputs.project)
    columns = ["id", "area_code"] + [c for c in ("households", "non_residential")
                                     if c in address_layer.columns]
    result = build_targets(address_layer[columns], fires, households,
                           seg.areas["segment"].dropna().astype(int), options, wards, flags,
                           weights, last_visits, since, opted, log, rates, reasons)
    if inputs.model:
        result.summary.loc[len(result.summary)] = [
            "score", "risk model", f"fitted on the {len(rates):,} classified areas' fires "
            f"{options.window}; expected fires per household per year"]
    log.add("addresses (gazetteer)", [""], "used",
            f"{len(address_layer):,} addresses scored: {len(result.targets):,} listed, "
            f"{int(result.excluded.sum()):,} excluded by rule (counts in target_summary.csv)")
    if not seg.manifest.get("parameters", {}).get("households"):
        log.add("households", [""], "used", ADDRESSES_AS_HOUSEHOLDS)
        result.summary.loc[len(result.summary)] = ["households", "addresses",
                                                   ADDRESSES_AS_HOUSEHOLDS]
    result.reconciliation = log.frame()
    written = _write_targets(result, address_layer, seg, out_dir, replace_folder)
    # the summary (no address or ID) joins the segmentation, for the report and the dock
    from ..store.geopackage import add_to_geopackage

    add_to_geopackage(gpkg, {"target_summary": result.summary.astype(str)},
                      identity=seg.manifest["identity"])
    return result, written


def _write_targets(result: TargetResult, address_layer, seg, out_dir: Path,
                   replace_folder: bool) -> list[Path]:
    import geopandas as gpd

    from ..places.steps import _breaks
    from ..store.folders import replaced_folder, staged_files
    from ..store.geopackage import write_layer_description, write_layer_style
    from ..store.names import GPKG_OPTIONS
    from ..styles import graduated_qml, segment_layer_qml

    points = address_layer.set_index("id").geometry
    crews = result.targets
    layer = gpd.GeoDataFrame(crews.drop(columns=["why"]).assign(why=crews["why"]),
                             geometry=points.reindex(crews["address_id"]).to_numpy(),
                             crs=address_layer.crs)
    area_layer = seg.areas[["geometry"]].join(result.areas.drop(
        columns=["prior_alpha", "prior_beta"]), how="inner").rename_axis(
        "area_code").reset_index()
    area_layer = gpd.GeoDataFrame(area_layer, geometry="geometry", crs=seg.areas.crs)
    about = pd.DataFrame({"column": list(CREW_COLUMNS_ABOUT),
                          "meaning": list(CREW_COLUMNS_ABOUT.values())})
    folder = replaced_folder(out_dir) if replace_folder else staged_files(out_dir)
    with folder as staging:
        write_csv(crews, staging / "target_list.csv", index=False)
        write_xlsx({"Visits": crews, "Columns": about}, staging / "target_list.xlsx",
                   index=False)
        write_csv(result.summary, staging / "target_summary.csv", index=False)
        write_csv(result.reconciliation, staging / "reconciliation.csv", index=False)
        path = staging / TARGET_GPKG
        layer.to_file(path, layer="target_addresses", driver="GPKG", engine="pyogrio",
                      dataset_options=GPKG_OPTIONS)
        area_layer.to_file(path, layer="target_areas", driver="GPKG", engine="pyogrio")
        write_layer_style(path, "target_addresses",
                          segment_layer_qml(PRIORITIES, field="priority",
                                            name_field="priority_label", kind="marker"))
        write_layer_description(path, "target_addresses",
                                "Home fire safety check visits, by priority: the address's "
                                "expected fires per household over the borough's rate.")
        field = "rate_per_1000_households"
        write_layer_style(path, "target_areas", graduated_qml(
            field, _breaks(area_layer[field]), "area_code",
            heading="expected fires per 1,000 households" + (" per year" if result.summary.loc[
                result.summary["measure"] == "expected fires covered", "note"].iloc[0]
                == "per year" else ""), zero_class=True, decimals=2))
        write_layer_description(path, "target_areas",
                                "Output areas: fire rate shrunk toward the segment's "
                                "(empirical Bayes), visits on the list, fires in the window.")
        names = sorted(p.name for p in staging.iterdir())
    return [Path(out_dir) / name for name in names]
