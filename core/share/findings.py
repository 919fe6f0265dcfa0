"""Key findings: the few sentences a board reads first, each with its figure.

``key_findings(path, threshold, previous)`` reads a saved segmentation and returns its
findings as data (``Finding``: a topic, a sentence and the figures it quotes), for the
report, the ward atlas and the partner workbook's Notes to render (they never compute):

- **incidents**: for each incident type (each measure of each incident profile), the
  segments with the most incidents per household (or per resident where the profile
  compares with residents): those whose 95% interval of the index lies above 100, highest
  first (at most two); when none does, the highest, said as not standing out. The rate is
  per 1,000 households a year when the profile's period is known and at least a year, else
  over the stated period; the index (100 = the study area's average) and its exact
  (Poisson) interval are computed from the counts, rounded once;
- **wards**: where those segments live, from the published households matrix: the wards
  holding most of each one's households and the wards where it is the largest segment
  (names, not codes);
- **targeting**: what the visit list's ranking reached out of sample, from a backtest run
  on this segmentation (``backtest_about.json`` beside the GeoPackage's folder names the
  segmentation by its identity; ``store.backtest_columns``); nothing when there is none
  (in-sample figures are never quoted);
- **changes**: against the previous run of the same project (the same name; found at
  ``<parent>/.<name>.previous``, or given): segments whose share of output areas moved by
  a percentage point or more, and wards whose largest segment changed; nothing when there
  is no previous run or it is the same segmentation.

Where no segment can be named for its incidents, ``no_incident_findings`` says why in a
sentence (for the atlas's first page, which always shows its findings).

Only published figures: counts pass the partner export's suppression
(``export.partner_tables``), so a finding never shows a count the workbook hides, and a
segment whose count is suppressed is never named for it. No incident sentence without
incidents, no ward sentence without the ward matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from ..places.incidents import exact_poisson_interval, measure_title, words
from ..places.matrices import TOTAL
from ..places.steps import period_months
from ..store.backtest_columns import (
    ABOUT,
    AREAS,
    MODEL,
    POSTCODES,
    RANKING,
    SCORE,
    columns,
    read_identity,
)
from ..store.geopackage import gpkg_file, read_gpkg_table
from ..store.swap import previous_folder
from .export import partner_tables, read_matrices
from .partner_words import incident_sources

MOST = 2  # segments named per incident type
WARDS = 3  # wards named per segment
MOVED = 1.0  # percentage points of output areas: a segment's share said to have moved
BACKTEST_ABOUT = "backtest_about.csv"  # targeting.backtest.ABOUT (written by the backtests)
TOP_SHARE = 10  # the share of households the targeting finding quotes (top 10%)


@dataclass(frozen=True)
class Finding:
    topic: str  # "incidents", "wards", "targeting" or "changes"
    lead: str  # what it is about, in a few words: "Fires (Jan 2009 – Aug 2024)"
    text: str  # what it says, with its figures
    figures: dict = field(default_factory=dict)  # the figures it quotes, as numbers

    @property
    def sentence(self) -> str:
        return f"{self.lead}: {self.text}"


def segment_label(number: int, names: dict) -> str:
    name = names.get(number)
    return f"segment {number} – {name}" if name else f"segment {number}"


def _percent(value: float) -> str:
    return f"{value:.0f}%" if value >= 9.5 else f"{value:.1f}%"


# --- incidents ---------------------------------------------------------------------------

def incident_title(name: str, measure: str, about: dict | None) -> str:
    """"Dwelling fires", "Anti-social behaviour", "Fires: injuries": the categories when
    the profile counts one or two of them, else the profile's name."""
    what = words(name)
    if about is not None:
        categories = [c.strip() for c in str(about.get("categories") or "all").split(";")]
        if categories != ["all"] and 0 < len(categories) <= 2:
            what = " and ".join(categories)
    return measure_title(what, measure)


def incident_rates(raw: pd.DataFrame, shown: pd.DataFrame, months: int | None) -> pd.DataFrame:
    """One measure's rows with the figures a finding quotes, from the counts (full
    precision): ``rate`` (per 1,000 of the base, a year when ``months`` >= 12, else over the
    period), ``index`` and its 95% interval; only segments whose count is published
    (``shown``: the partner export's profile), sorted by rate, highest first."""
    base = "households" if "household_share_pct" in raw.columns else "residents"
    count = raw["count"].astype(float).to_numpy()
    people = raw[base].astype(float).to_numpy()
    total, everyone = count.sum(), people.sum()
    expected = total * people / everyone
    low, high = exact_poisson_interval(count)
    years = months / 12 if months and months >= 12 else 1.0
    frame = pd.DataFrame({"segment": raw["segment"].astype(int).to_numpy(), "count": count,
                          "base": base, "rate": 1000 * count / people / years,
                          "index": 100 * count / expected,
                          "low": 100 * low / expected, "high": 100 * high / expected})
    frame["average"] = 1000 * total / everyone / years
    if base == "households" and "residents" in raw.columns:  # residents per household
        residents = raw["residents"].astype(float).to_numpy()
        frame["per_household"] = residents / people
        frame["area_per_household"] = residents.sum() / everyone
        frame["rate_residents"] = 1000 * count / residents / years
        frame["average_residents"] = 1000 * total / residents.sum() / years
    published = shown["count"].notna().to_numpy() & shown["index"].notna().to_numpy()
    return frame[published & (people > 0)].sort_values("rate", ascending=False)


def incident_findings(path: Path, layers: list[str], profiles: dict, names: dict,
                      small: dict | None = None) -> tuple[list[Finding], list[int]]:
    """A sentence per incident type, and the segments named (in order); ``small``: the
    segments too small to be a target group (segment -> its output areas), said as such
    and never ranked above the others (``small_segments``)."""
    abouts = incident_sources(path, layers)
    findings, named = [], []
    for table, shown in profiles.items():
        name = table.removeprefix("incident_profile_")
        raw = read_gpkg_table(path, table)
        about = abouts.get(name)
        period = str(about.get("period") or "") if about is not None else ""
        months = period_months(period)
        for measure in raw["measure"].unique():
            rows = raw["measure"] == measure
            if raw.loc[rows, "count"].sum() <= 0:
                continue  # no incidents of this kind: nothing to say
            rates = incident_rates(raw[rows].reset_index(drop=True),
                                   shown[shown["measure"] == measure].reset_index(drop=True),
                                   months)
            if rates.empty:
                continue
            title = incident_title(name, str(measure), about)
            hidden = hidden_segments(raw[rows], shown[shown["measure"] == measure])
            findings.append(_incident_sentence(title, period, months, rates, names,
                                               small or {}, hidden))
            named += [s for s in findings[-1].figures["segments"] if s not in named]
    return findings, named


def hidden_segments(raw: pd.DataFrame, shown: pd.DataFrame) -> list[int]:
    """The segments (with households or residents) whose count the partner export
    suppresses for one measure: a finding cannot name them."""
    base = "households" if "household_share_pct" in raw.columns else "residents"
    people = raw.set_index(raw["segment"].astype(int))[base].astype(float)
    counts = shown.set_index(shown["segment"].astype(int))["count"]
    return [int(s) for s in counts.index[counts.isna().to_numpy()] if people.get(s, 0) > 0]


def _hidden_said(hidden: list[int], names: dict) -> str:
    """A sentence on the segments a finding could not compare, or nothing."""
    if not hidden:
        return ""
    which = _listed([segment_label(s, names) for s in hidden])
    one = len(hidden) == 1
    return (f" Not compared: {which}, whose count{'' if one else 's'} "
            f"{'is' if one else 'are'} suppressed (a small count, or one hidden so that a "
            "small count cannot be worked out from the total).")


def small_segments(manifest: dict) -> dict[int, int]:
    """Segment -> output areas of the segments the build flagged as too small to be a
    target group (under ``min_share``% of the areas)."""
    return {int(s["segment"]): int(s["areas"])
            for s in manifest.get("results", {}).get("small_segments", [])}


def _small(segment: int, small: dict) -> str:
    return (f" (a small segment: {small[segment]:,} output "
            f"area{'' if small[segment] == 1 else 's'})" if segment in small else "")


def _crowded(row, yearly: bool, over: str) -> str:
    """For a segment with far more residents per household than the study area (residents
    of communal establishments, such as student halls or care homes, are in no household),
    its rate per resident too: its rate per household overstates it."""
    ratio = getattr(row, "per_household", np.nan)
    if not ratio > 1.5 * getattr(row, "area_per_household", np.nan):
        return ""
    return (f"; a rate per household overstates it: it has {ratio:.1f} residents per "
            f"household against {row.area_per_household:.1f} across the study area (many "
            f"may live in communal establishments, in no household); per 1,000 residents it "
            f"is {row.rate_residents:,.2f}{' a year' if yearly else ''}{over}, against "
            f"{row.average_residents:,.2f} across the study area")


def _incident_sentence(title: str, period: str, months: int | None, rates: pd.DataFrame,
                       names: dict, small: dict, hidden: list[int] = ()) -> Finding:
    # ranked among the segments large enough to be a target group, where there are any
    large = rates[~rates["segment"].isin(list(small))]
    ranked = large if len(large) else rates
    above = ranked[ranked["low"] > 100].sort_values("index", ascending=False).head(MOST)
    top = above if len(above) else ranked.head(1)
    base = top["base"].iloc[0]
    yearly = bool(months and months >= 12)
    unit = f"a year per 1,000 {base}" if yearly else f"per 1,000 {base}"
    when = f" ({period})" if period and period != "not known" else ""
    over = "" if yearly else (f" in {period}" if when else " over the period counted")

    def said(r) -> str:
        return (f"{segment_label(int(r.segment), names)}{_small(int(r.segment), small)}: "
                f"{r.rate:,.2f} {unit}{over}, index {r.index:.0f} (95% interval "
                f"{r.low:.0f}–{r.high:.0f}){_crowded(r, yearly, over)}")

    parts = [said(r) for r in top.itertuples()]
    average = (f"The study area's average is {top['average'].iloc[0]:,.2f} {unit}{over} "
               "(index 100).")
    if len(above):
        text = (f"the most per {base.removesuffix('s')} in {'; '.join(parts)}. {average}")
    else:
        text = (f"no segment has clearly more than its {base} would suggest (every 95% "
                f"interval includes 100); the highest rate is in {parts[0]}. {average}")
    if len(large) and len(large) < len(rates):  # a small segment above those named
        higher = rates[rates["segment"].isin(list(small)) & (rates["low"] > 100)
                       & (rates["rate"] > top["rate"].max())]
        text += "".join(f" Higher still, but too small to be a target group: {said(r)}."
                        for r in higher.head(1).itertuples())
    text += _hidden_said(list(hidden), names)
    return Finding("incidents", f"{title}{when}", text[:1].upper() + text[1:], {
        "incident": title, "period": period, "per_year": yearly, "base": base,
        "segments": [int(s) for s in top["segment"]],
        "rates": [float(v) for v in top["rate"]], "index": [float(v) for v in top["index"]],
        "interval": [(float(a), float(b)) for a, b in zip(top["low"], top["high"])],
        "stands_out": bool(len(above)), "not_compared": [int(s) for s in hidden]})


# --- where the segments live -------------------------------------------------------------

def ward_shares(households: pd.DataFrame) -> pd.DataFrame:
    """Each ward's published households by segment as % of its total (wards x segments)."""
    body = households.drop(index=TOTAL, errors="ignore")
    segments = [c for c in body.columns if c != TOTAL]
    return body[segments].div(body[TOTAL], axis=0) * 100


def largest_segments(households: pd.DataFrame) -> pd.Series:
    """Each ward's largest segment by published households (wards whose every share is
    suppressed have none)."""
    share = ward_shares(households)
    return share[share.notna().any(axis=1)].idxmax(axis=1, skipna=True)


def ward_findings(households: pd.DataFrame, segments: list[int], names: dict,
                  ward_names: dict) -> list[Finding]:
    findings = []
    shares = ward_shares(households)
    tops = largest_segments(households)
    body = households.drop(index=TOTAL, errors="ignore")
    for segment in segments:
        if segment not in body.columns:
            continue
        total = households.at[TOTAL, segment] if TOTAL in households.index else np.nan
        held = body[segment].dropna()
        held = held[held > 0].sort_values(ascending=False).head(WARDS)
        if held.empty or pd.isna(total) or total <= 0:
            continue
        where = [f"{ward_names.get(w, w)} ({v:,.0f}" + (f" of its {total:,.0f}" if i == 0
                                                          else "")
                 + f", {_percent(100 * v / total)})" for i, (w, v) in enumerate(held.items())]
        largest = [w for w in tops.index if tops[w] == segment]
        largest.sort(key=lambda w: -shares.at[w, segment])
        dominates = [f"{ward_names.get(w, w)} ({_percent(shares.at[w, segment])}"
                     + (" of the ward's households)" if i == 0 else ")")
                     for i, w in enumerate(largest)]
        text = f"Its largest numbers of households are in {_listed(where)}. "
        text += (f"It is the largest segment in {_listed(dominates)}." if largest else
                 f"It is the largest segment in none of the {len(body):,} wards.")
        findings.append(Finding("wards", f"Where segment {segment} lives", text, {
            "segment": segment, "wards": [ward_names.get(w, w) for w in held.index],
            "households": [float(v) for v in held], "largest_in":
            [ward_names.get(w, w) for w in largest]}))
    return findings


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- targeting, out of sample ------------------------------------------------------------

def backtests_beside(path: Path) -> list[Path]:
    """The backtest folders near a saved segmentation: its own folder, the folders in it
    (``out/segmentation/backtest/``, where QGIS users often put one) and the folders
    beside it (``out/segmentation/`` and ``out/backtest/``)."""
    folder = Path(path).parent

    def folders_in(parent: Path) -> list[Path]:
        return sorted(p for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []

    found = [folder, *folders_in(folder),
             *(p for p in folders_in(folder.parent) if p != folder)]
    return [f for f in found if (f / BACKTEST_ABOUT).is_file()]


def list_ranking(path: Path, layers: list[str]) -> tuple[str, str] | None:
    """The visit list's ranking and what it ranks (output areas or postcode points), from
    its summary (``target_summary``); None without a list. A list made before the summary
    said so is read from its score row."""
    if "target_summary" not in layers:
        return None
    summary = read_gpkg_table(path, "target_summary").fillna("").astype(str)
    values = dict(zip(summary["measure"], summary["value"]))
    if "ranking" in values:
        return values["ranking"], values.get("ranked", AREAS)
    notes = dict(zip(summary["measure"], summary["note"]))
    model = values.get("score") == MODEL
    return (MODEL if model else SCORE,
            POSTCODES if model and POSTCODES in notes.get("score", "") else AREAS)


def ranking_words(ranking: str, ranks: str) -> str:
    """A ranking as the report names it: "the risk model ranking postcode points"."""
    return f"the {ranking} ranking {ranks}"


def _tested(folder: Path) -> tuple[pd.Series, pd.DataFrame, str]:
    """A backtest folder's about row, its table (the means where written) and what its
    rankings rank (backtests written before they said: postcode points when their score
    is named for postcodes)."""
    about = pd.read_csv(folder / BACKTEST_ABOUT).rename(
        columns={v: k for k, v in ABOUT.items()}).iloc[0]
    means = folder / "backtest_means.csv"
    table = pd.read_csv(means if means.is_file() else folder / "backtest.csv")
    ranks = about.get("ranks")
    if not isinstance(ranks, str):
        ranks = POSTCODES if "postcode" in str(about["score"]) else AREAS
    return about, table, ranks


def targeting_finding(path: Path, identity: str, layers: list[str]) -> list[Finding]:
    """What a ranking reached out of sample, from a backtest of this very segmentation:
    the visit list's own ranking (the same score of the same units: the risk model at
    postcode points is not the risk model at output areas) where a backtest tested it,
    else the ranking a backtest did test, named and said not to be the list's; with the
    95% interval where the backtest gives one, against random order, and the risk model's
    calibration where the backtest measured it."""
    listed_by = list_ranking(path, layers)  # None: no visit list made
    used = listed_by or (SCORE, AREAS)
    column, low_column, high_column = columns(f"top_{TOP_SHARE}pct")
    found = []
    for folder in backtests_beside(path):
        if read_identity(folder) != identity:
            continue  # a backtest of another (earlier) segmentation
        about, table, ranks = _tested(folder)
        model = about["model"] if isinstance(about["model"], str) else None
        ranking = model if used[0] == MODEL and model else about["score"]
        row = table[table[RANKING] == ranking]
        if row.empty:
            continue
        same = (ranking, ranks) == used
        # the list's own ranking first, then one with intervals, then the model's
        found.append(((same, low_column in table.columns, ranking == MODEL),
                      about, row.iloc[0], table, ranks, same))
    if not found:
        return []
    _, about, row, table, ranks, same = max(found, key=lambda f: f[0])
    value = float(row[column])
    low, high = row.get(low_column), row.get(high_column)
    interval = (f" (95% interval {float(low):.1f}–{float(high):.1f}%)"
                if low is not None and pd.notna(low) and pd.notna(high) else "")
    random = table[table[RANKING].astype(str).str.startswith("random")]
    chance = None if random.empty else float(random[column].iloc[0])
    against = f"; in random order {chance:.1f}%" if chance is not None else ""
    tested = ranking_words(str(row[RANKING]), ranks)
    # no households known: each address of the gazetteer counted as one
    counted_as = about.get("counted_as")
    counted_as = counted_as if isinstance(counted_as, str) and counted_as else ""
    homes = "addresses" if counted_as else "households"
    counted = f" ({counted_as})" if counted_as else ""
    listed = ranking_words(*used)
    calibration = about.get("calibration")
    calibration = (calibration if isinstance(calibration, str) and row[RANKING] == MODEL
                   else "")
    text = ((f"ranked by {tested}" if listed_by is None else
             f"ranked by the visit list's score, {tested}" if same else
             f"ranked by {tested} (not the visit list's ranking: the list is ranked by "
             f"{listed}, which this backtest did not test)")
            + f", fitted on fires {about['fitted_on']}: the top {TOP_SHARE}% of {homes} "
            f"held {value:.1f}%{interval} of the {int(about['fires_tested_on']):,} later "
            f"fires ({about['tested_on']}, {about['how']}){against}{counted}.")
    return [Finding("targeting", "Targeting, tested on later fires",
                    text[:1].upper() + text[1:], {
        "share": value, "low": None if not interval else float(low),
        "high": None if not interval else float(high), "ranking": str(row[RANKING]),
        "tested_on": str(about["tested_on"]), "fires": int(about["fires_tested_on"]),
        "fitted_on": str(about["fitted_on"]), "how": str(about["how"]), "random": chance,
        "top": TOP_SHARE, "tested": tested, "listed": listed, "same": same,
        "calibration": calibration.removeprefix("Calibration: "), "counted_as": counted_as})]


# --- since the last run ------------------------------------------------------------------

def previous_run(path: Path) -> Path | None:
    """The previous run's GeoPackage of a saved segmentation: in ``.<folder>.previous``
    beside its folder, or beside the folder above (``out/segmentation/``: ``.out.previous/
    segmentation/``)."""
    path = Path(path)
    folder = path.parent
    for candidate in (previous_folder(folder) / path.name,
                      previous_folder(folder.parent) / folder.name / path.name):
        if candidate.is_file():
            return candidate
    return None


def change_findings(seg, path: Path, previous: Path, threshold: int) -> list[Finding]:
    """Segments whose share of output areas moved, and wards whose largest segment
    changed, against ``previous`` (a run of the same project; else nothing)."""
    from ..segment.saved import load_segmentation

    try:
        before = load_segmentation(previous)
    except Exception:  # an unreadable previous run: nothing to compare with
        return []
    if before.name != seg.name or (before.manifest.get("identity")
                                   == seg.manifest.get("identity")):
        return []
    names, findings = seg.segment_names, []
    now, then = seg.summary, before.summary
    if set(now.index) != set(then.index):
        return [Finding("changes", "Since the last run", f"The number of segments changed "
                        f"from {len(then)} to {len(now)}, so segments are not compared one "
                        "by one.", {"segments_before": len(then), "segments_now": len(now)})]
    renumbered = _renumbered(before.areas["segment"], seg.areas["segment"])
    if renumbered:
        parts = [f"{segment_label(n, names)} holds "
                 + (f"mostly ({share:.0f}% of its areas) the last run's "
                    f"{segment_label(m, before.segment_names)}" if m is not None else
                    "no majority of any one segment of the last run")
                 for n, (m, share) in renumbered.items()]
        return [Finding("changes", "Since the last run (built "
                        f"{str(before.manifest.get('created', ''))[:10]})",
                        f"The segments were built anew and {len(renumbered)} of {len(now)} "
                        "do not match the last run's segment of the same number, so shares "
                        "and wards are not compared by number: " + "; ".join(parts) + ".",
                        {"renumbered": {n: m for n, (m, _) in renumbered.items()}})]
    moved = (now["share_of_areas"] - then["share_of_areas"]).round(2)
    moved = moved[moved.abs() >= MOVED].sort_values(key=abs, ascending=False)
    if len(moved):
        parts = []
        for n in moved.index:
            renamed = before.segment_names.get(n)
            was_named = (f", then named “{renamed}”" if renamed and renamed != names.get(n)
                         else "")
            parts.append(f"{segment_label(int(n), names)} {now.at[n, 'share_of_areas']:.1f}% "
                         f"of output areas ({int(now.at[n, 'areas']):,}), was "
                         f"{then.at[n, 'share_of_areas']:.1f}% ({int(then.at[n, 'areas']):,})"
                         f"{was_named}")
        findings.append(Finding("changes", "Since the last run (built "
                                f"{str(before.manifest.get('created', ''))[:10]})",
                                "; ".join(parts)[:1].upper() + "; ".join(parts)[1:] + ".",
                                {"moved": {int(n): float(v) for n, v in moved.items()}}))
    findings += _ward_changes(path, previous, threshold, names, before.segment_names)
    return findings


def _renumbered(before: pd.Series, now: pd.Series) -> dict:
    """The segments (numbers) whose output areas were not mostly in the segment of the same
    number in the last run: number -> (the last run's segment holding most of its areas,
    or None when none holds a majority; that segment's share of its areas, %). Empty when
    every segment kept its number (a refresh, or a rebuild that found the same segments)."""
    both = pd.concat({"before": before, "now": now}, axis=1, join="inner").dropna()
    overlap = pd.crosstab(both["now"].astype(int), both["before"].astype(int))
    share = overlap.div(overlap.sum(axis=1), axis=0) * 100
    found = {}
    for n in share.index:
        m = int(share.loc[n].idxmax())
        if m != n or share.at[n, m] < 50:
            found[int(n)] = (m if share.at[n, m] >= 50 else None, float(share.at[n, m]))
    return found


def _ward_changes(path: Path, previous: Path, threshold: int, names: dict,
                  names_before: dict) -> list[Finding]:
    layers = [n for n, _ in pyogrio.list_layers(previous)]
    if "matrix_households" not in layers:
        return []
    try:
        published_before, _ = partner_tables(previous, threshold)
    except Exception:  # tables of the previous run that do not fit together: not compared
        return []
    published, _ = partner_tables(path, threshold)
    if "households" not in published or "households" not in published_before:
        return []
    _, ward_names = read_matrices(path, [n for n, _ in pyogrio.list_layers(path)])
    now, then = published["households"], published_before["households"]
    top, top_before = largest_segments(now), largest_segments(then)
    share, share_before = ward_shares(now), ward_shares(then)
    changed = [w for w in top.index if w in top_before.index and top[w] != top_before[w]]
    if not changed:
        return []
    parts = [f"{ward_names.get(w, w)}: now {segment_label(int(top[w]), names)} "
             f"({_percent(share.at[w, top[w]])} of households), was "
             f"{segment_label(int(top_before[w]), names_before)} "
             f"({_percent(share_before.at[w, top_before[w]])})"
             for w in sorted(changed, key=lambda w: ward_names.get(w, w))]
    return [Finding("changes", "Wards whose largest segment changed since the last run",
                    "; ".join(parts) + ".",
                    {"wards": {ward_names.get(w, w): (int(top_before[w]), int(top[w]))
                               for w in changed}})]


# --- all of them -------------------------------------------------------------------------

def key_findings(path: Path, threshold: int = 5, previous: Path | None = None,
                 read: tuple | None = None) -> list[Finding]:
    """The key findings of the saved segmentation at ``path`` (see the module).
    ``previous``: the last run's GeoPackage (default: found by ``previous_run``); ``read``:
    what a caller has already read of ``path`` at ``threshold``, (the segmentation,
    ``partner_tables``), so that it is not read and suppressed again."""
    from ..segment.saved import load_segmentation

    path = gpkg_file(Path(path))
    seg, (published, profiles) = read or (load_segmentation(path),
                                          partner_tables(path, threshold))
    layers = [name for name, _ in pyogrio.list_layers(path)]
    names = seg.segment_names
    findings, named = incident_findings(path, layers, profiles, names,
                                        small_segments(seg.manifest))
    if "households" in published and named:
        _, ward_names = read_matrices(path, layers)
        findings += ward_findings(published["households"], named, names, ward_names)
    findings += targeting_finding(path, str(seg.manifest.get("identity", "")), layers)
    previous = previous if previous is not None else previous_run(path)
    if previous is not None and Path(previous).is_file():
        findings += change_findings(seg, path, Path(previous), threshold)
    return findings


def no_incident_findings(path: Path, findings: list[Finding]) -> str | None:
    """Why no segment is named for its incidents, in a sentence (None when one is): no
    incident profile yet, or none with a published count by segment. For a page that
    always opens with the findings (the ward atlas), so it never looks as if there were
    none to find."""
    if any(f.topic == "incidents" for f in findings):
        return None
    profiled = [n.removeprefix("incident_profile_") for n, _ in
                pyogrio.list_layers(gpkg_file(Path(path)))
                if n.startswith("incident_profile_")]
    if not profiled:
        return ("No incidents are profiled for this segmentation, so no segment is named "
                "for carrying the most: profile fires or other incidents by segment first "
                "(Processing: 'Profile incidents by segment', or `community-safety "
                "incidents`), then make this again.")
    return (f"The incidents profiled ({_listed([words(n) for n in sorted(profiled)])}) "
            "have no published count by segment, so no segment is named for carrying the "
            "most.")


def finding_rows(findings: list[Finding]) -> list[tuple[str, str]]:
    """The findings as (item, sentence) rows, for the Notes of the partner workbook."""
    return [(f"Key finding: {f.lead}", f.text) for f in findings]
