"""Home fire safety check targeting: a ranked, explained visit list within capacity.

From a saved segmentation, its address gazetteer and an incident history, every address
gets an **expected number of fires per year**, and the list is filled in that order.

The score: *theta_i*, the fire rate per household of the address's area *i* shrunk toward
its segment's (``rates``), then **per address**: ``expected fires = theta_i / years x
households at the address (1 where not known: a ``households`` column in the gazetteer's
address layer, when present) x the product of the weights of the address's partner flags``
(``visit_inputs``).

Exclusions (each address gets at most one reason, the first that applies, in this order):
area not classified, opted out, non-residential, visited within the last N months,
outside the chosen wards, outside the chosen segments.

Order: one row is one visit, so addresses are ranked by expected fires (higher first); with
postcode points the capacity counts households, so postcodes are ranked by expected fires
*per household* (the visits that prevent the most fires per household visited: a large
postcode does not use up the budget first). Ties (areas that take their segment's rate, or
any other): then the output area's own fires per household, then its own fires (both
higher first), then area code, then address ID (both ascending); with "cluster by area"
areas are ranked by their shrunk rate (higher first), then the same own figures, then area
code, and each chosen area lists its eligible addresses in address rank order until
capacity is reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..segment.words import counted
from .rates import shrunk_rates
from .reasons import (
    EXCLUDING_FLAGS,
    NON_RESIDENTIAL,
    NOT_CLASSIFIED,
    OPTED_OUT,
    OUTSIDE_SEGMENTS,
    OUTSIDE_WARDS,
    PRIORITIES,
    VISITED,
    explain,
    priority,
)
from .visit_inputs import Reconciliation


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


def parse_segments(text: str | None) -> tuple[int, ...]:
    """Segment numbers typed as "8,9,10" (none: every segment), or one line saying why not."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise InputError(f"--segments '{text}': segments are numbers, comma separated "
                         "(e.g. 8,9,10)")
    return tuple(int(p) for p in parts)


def score_addresses(addresses: pd.DataFrame, areas: pd.DataFrame,
                    flags: pd.DataFrame | None = None, weights: dict | None = None,
                    years: float | None = None, point_rates: pd.Series | None = None
                    ) -> pd.DataFrame:
    """``addresses``: id, area_code[, households]; ``areas``: ``shrunk_rates`` output.
    Adds households (1 where unknown), multiplier, flags (names), expected_fires.
    ``point_rates``: per address ID, fires per household per year (the risk model at
    postcode points), used instead of the area's rate where given."""
    out = addresses[["id", "area_code"]].copy()
    out["households"] = households_given(addresses).fillna(1.0).to_numpy()
    position = area_positions(out["area_code"], areas.index)
    out["_area"] = position
    rate = np.where(position >= 0, areas["shrunk_rate"].to_numpy()[np.maximum(position, 0)],
                    np.nan)
    if point_rates is not None:
        own = point_rates.reindex(out["id"]).to_numpy(dtype=float) * (years or 1.0)
        rate = np.where(np.isfinite(own) & (position >= 0), own, rate)
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


def rank_order(scored: pd.DataFrame, per_household: bool = False,
               areas: pd.DataFrame | None = None) -> np.ndarray:
    """Positions by expected fires (desc; per household with ``per_household``, where the
    capacity counts households); within equal scores (areas that take their segment's
    rate, or any tie) by their output area's own fires per household, then its own fires
    (both desc, from ``areas``: ``shrunk_rates`` output), then area code, then address ID
    (as numbers when the IDs are numbers, such as UPRNs, else as text)."""
    score = scored["expected_fires"].to_numpy(dtype=float)
    if per_household:
        score = score / scored["households"].to_numpy(dtype=float)
    keys = [sort_key(scored["id"]), sort_key(scored["area_code"])]
    if areas is not None:
        own_rate, own_fires = own_figures(scored["_area"].to_numpy(), areas)
        keys += [-own_fires, -own_rate]
    return np.lexsort((*keys, -equal_to_rounding(np.nan_to_num(score, nan=-np.inf))))


def own_figures(position: np.ndarray, areas: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each place's output area's own fires per household and own fires (-inf where the
    place has no area in ``areas`` or the area no households)."""
    found = position >= 0
    where = np.maximum(position, 0)
    rate = np.where(found, areas["own_rate"].to_numpy(dtype=float)[where], np.nan)
    fires = np.where(found, areas["fires"].to_numpy(dtype=float)[where], np.nan)
    return np.nan_to_num(rate, nan=-np.inf), np.nan_to_num(fires, nan=-np.inf)


def equal_to_rounding(score: np.ndarray) -> np.ndarray:
    """Scores rounded to 12 significant figures, so that places whose scores differ only
    by floating-point rounding (the same rate reached by another sum) tie."""
    finite = np.isfinite(score) & (score != 0)
    scale = np.ones(len(score))
    scale[finite] = 10.0 ** np.floor(np.log10(np.abs(score[finite])))
    return np.where(finite, np.round(score / scale, 11) * scale, score)


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
    order = rank_order(scored, per_household=options.postcode_points, areas=areas)
    order = order[eligible[order]]
    if options.cluster_by_area:
        own_rate, own_fires = own_figures(np.arange(len(areas)), areas)
        area_rank = np.lexsort((areas.index.astype(str).to_numpy(), -own_fires, -own_rate,
                                -equal_to_rounding(areas["shrunk_rate"].to_numpy())))
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


# a postcode's reason where the postcodes are ranked by their output area's rate (not
# by the risk model, which ranks each postcode on its own fires: ``--model``)
AREA_RANKED = "ranked by its output area (its postcodes alike, in code order)"

# the summary's note on the households listed (the list may pass the capacity: ``_take``)
CAPACITY_IN_HOUSEHOLDS = ("the capacity counts households; the postcode that reaches it is "
                          "listed whole, so the list may pass it by a few")


# the summary's note where the rates are per address (the segmentation knows no households)
UNKNOWN_HOUSEHOLDS = "no households are known: each address counts as one"


def _take(order: np.ndarray, capacity: int, size: np.ndarray) -> np.ndarray:
    """The first places in ``order`` until their sizes reach ``capacity`` (the place that
    reaches it included)."""
    reached = np.cumsum(size[order]) >= capacity - 1e-9
    count = int(np.argmax(reached)) + 1 if reached.any() else len(order)
    return order[:count if capacity > 0 else 0]


def households_given(addresses: pd.DataFrame) -> pd.Series:
    """Each address's households as the gazetteer gives them (above 0), else NaN (not
    known: the address is scored as one household)."""
    if "households" not in addresses:
        return pd.Series(np.nan, index=addresses.index)
    households = pd.to_numeric(addresses["households"], errors="coerce")
    return households.where(households > 0)


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
    """``unit``: what the capacity counts ("eligible addresses", or households where the
    gazetteer is postcode points)."""
    if capacity is None:
        raise InputError("give a capacity: --capacity N visits, or --capacity-table")
    counted = "households" if "households" in unit else "visits"
    if capacity < 0 or (capacity == 0 and not allow_zero):
        raise InputError(f"a capacity of {capacity} {counted}: give 1 or more")
    if capacity > eligible + 1e-9:
        raise InputError(f"a capacity of {capacity:,} {counted} is more than the "
                         f"{int(round(eligible)):,} {unit} in {where}; lower it (or relax "
                         "the exclusions)")


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
                  model_reasons: pd.Series | None = None,
                  point_rates: pd.Series | None = None,
                  point_reasons: pd.Series | None = None,
                  segment_names: dict | None = None, unit: str = "household") -> TargetResult:
    """``addresses``: id, area_code[, households][, non_residential]; ``fires``,
    ``households``: per area over the window; ``segments``: area -> segment (classified);
    ``wards``: area_code index -> ward_code, ward_name. ``model_rates`` (the risk model's
    expected fires per household per year, per area) replace the shrunk rates, and
    ``model_reasons`` (per area, in words) the explanations; ``point_rates`` and
    ``point_reasons`` (per address ID: the model at postcode points) come first.
    ``segment_names`` (segment -> name) name the segments in the reasons, whose rates are
    per ``unit`` ("address" where addresses stand for households)."""
    areas = shrunk_rates(fires, households, segments)
    if model_rates is not None:
        areas["shrunk_rate"] = (model_rates.reindex(areas.index).to_numpy(dtype=float)
                                * (options.years or 1.0))
    if options.postcode_points and "households" not in addresses:
        addresses = addresses.assign(households=households_per_point(
            addresses["area_code"], areas["households"]))
    scored = score_addresses(addresses, areas, flags, weights, options.years, point_rates)
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
        table["own_ratio"] = info["own_rate"].to_numpy() / borough
        per_household = table["expected_fires"] / table["households"] / per_year
        table["ratio"] = (per_household / borough).to_numpy()
    table["last_visit"] = (last_visits.reindex(table["id"]).to_numpy()
                           if last_visits is not None else pd.NaT)
    table["last_visit"] = pd.to_datetime(table["last_visit"])
    weights = weights or {}
    table["flag_weights"] = [[weights.get(f, 1.0) for f in s.split(";")] if s else []
                             for s in table["flags"]]
    if model_reasons is None:
        table["why"] = explain(table, options.window, segment_names=segment_names, unit=unit)
    else:  # the model's factors in place of the area's and segment's rates
        table["why"] = [f"{model_reasons.get(a, '')}; {w}" for a, w in
                        zip(table["area_code"], explain(table, options.window, area=False))]
    if point_reasons is not None:
        table["why"] = [f"{point_reasons[i]}; {w}" if i in point_reasons.index else w
                        for i, w in zip(table["id"], table["why"])]
    elif options.postcode_points and point_rates is None:  # each has its area's rate
        table["why"] = [f"{AREA_RANKED}; {w}" for w in table["why"]]
    if options.postcode_points:
        table.insert(table.columns.get_loc("households"), "address", [
            f"{i} (about {counted(max(1, round(h)), 'households')})"
            for i, h in zip(table["id"], table["households"])])
    # households where the gazetteer (or the postcode's share of its area) gives them;
    # elsewhere empty: each address was scored as one, which is not a count to state
    table["households"] = households_given(addresses).to_numpy()[chosen]
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
    crews["own_ratio"] = crews["own_ratio"].round(2)
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
    per = unit  # what the rates are per: "household", or "address" where none is known
    homes = "households" if per == "household" else "addresses"
    unit = "per year" if options.years else f"over {options.window or 'the history'}"
    places = "postcodes" if options.postcode_points else "addresses"
    rows = [
        ("visits", len(chosen), f"{places} on the list"),
        *([("households on the list", int(round(scored["households"].to_numpy()[chosen]
                                               .sum())), CAPACITY_IN_HOUSEHOLDS)]
          if options.postcode_points else []),
        ("areas", int(targeted.sum()), "output areas with at least one visit"),
        ("wards", int(area_table.loc[targeted, "ward_code"].nunique())
         if "ward_code" in area_table else "", "wards with at least one visit"),
        (f"{places} in the gazetteer", len(scored), ""),
        (f"eligible {places}", int(eligible.sum()), "after the exclusions"),
        *[(f"excluded: {why}", int(n), "") for why, n in excluded.items()],
        ("expected fires covered", round(covered, 3), unit),
        ("share of eligible expected fires covered (%)",
         round(100 * covered / total_expected, 1) if total_expected else "", ""),
        ("fires in the window", int(fires_all), options.window or "the incident history"),
        ("fires in the window in targeted areas", int(fires_in), ""),
        ("share of the window's fires in targeted areas (%)",
         round(100 * fires_in / fires_all, 1) if fires_all else "", ""),
        (f"{homes} in targeted areas (%)",
         round(100 * area_table.loc[targeted, "households"].sum()
               / max(area_table["households"].sum(), 1), 1),
         "" if per == "household" else UNKNOWN_HOUSEHOLDS),
        (f"borough fire rate per 1,000 {homes}", round(1000 * borough * per_year, 3),
         unit if per == "household" else f"{unit}; {UNKNOWN_HOUSEHOLDS}"),
        ("capacity", options.capacity if options.capacity_by_ward is None
         else int(options.capacity_by_ward.sum()),
         "; ".join(n for n in ("households" if options.postcode_points else "",
                               "by ward, from the capacity table"
                               if options.capacity_by_ward is not None else "") if n)),
        ("cluster by area", "yes" if options.cluster_by_area else "no", ""),
    ]
    summary = pd.DataFrame(rows, columns=["measure", "value", "note"])
    if visited_since is not None:
        summary.loc[len(summary)] = ["visited since (excluded)",
                                     f"{visited_since:%Y-%m-%d}", ""]
    log = reconciliation or Reconciliation()
    return TargetResult(crews, area_table, summary, log.frame(), excluded)
