"""The report's targeting box: the visit list's summary (``target_summary``) in words.

Every figure says its unit and period: expected fires covered *a year* where the targeting
knew its window's length, else over the window it names. The share of past fires in the
targeted areas is measured on the same fires that ranked them (in sample), so it is said
to be that, never offered as what the list will catch: a backtest on later fires
(``community-safety target --backtest``) is what measures that, and when one of this very
segmentation is found (the key findings' reader, ``share.findings.targeting_finding``) the
box quotes it: the share of later fires the top households by the list's ranking held,
with its 95% interval where the backtest gives one, against random order.
"""

from __future__ import annotations

import pandas as pd

from ..share.findings import ranking_words
from ..store.backtest_columns import AREAS, MODEL
from .figures import number

YES = ("yes", "true", "1")


def _figure(text, decimals: int = 0) -> str:
    """A stored value (text) as a figure for people; words as they are."""
    try:
        return number(float(str(text).replace(",", "")), decimals)
    except ValueError:
        return str(text)


def tested_on_later_fires(tested: dict) -> str:
    """The out-of-sample figure in words, from the key findings' targeting figures
    (``Finding.figures``: share, low, high, fitted_on, tested_on, fires, random, top, and
    the ranking tested, the list's and whether they are the same): "by the list's ranking"
    only when the backtest tested it, else the ranking it tested, said not to be the
    list's."""
    interval = (f" (95% interval {number(tested['low'], 1)}–{number(tested['high'], 1)}%)"
                if tested.get("low") is not None else "")
    chance = (f"; in random order {number(tested['random'], 1)}%"
              if tested.get("random") is not None else "")
    if tested.get("same", True):
        by, other = "the list's ranking", ""
    else:
        by = tested["tested"]
        other = (f" This is not the list's ranking: the list is ranked by "
                 f"{tested['listed']}, which no backtest found tested.")
    calibration = tested.get("calibration", "").split("; by tenth")[0]
    calibration = (f" In that backtest {calibration}." if calibration else "")
    return (f"fitted on fires {tested['fitted_on']}, tested on later fires "
            f"({tested['tested_on']}): the top {tested['top']}% of "
            f"{'addresses' if tested.get('counted_as') else 'households'} by "
            f"{by} held {number(tested['share'], 1)}%{interval} of the "
            f"{number(tested['fires'])} later fires{chance}.{other}{calibration}")


def expected_fires_source(values: dict, notes: dict, tested: dict | None) -> str:
    """Where the listed homes' expected fires come from, in a sentence, when the list was
    scored by the risk model: its expected fires per year, how they were scaled to the
    fires seen before the window's end (the score's note), and how they compared with the
    later fires in a backtest of the same ranking; never stated as if checked when they
    are not. "" for the areas' fire rates (said with the figure: the average over the
    window)."""
    if not (values.get("ranking") == MODEL or values.get("score") == MODEL):
        return ""
    parts = notes.get("score", "").split("; ")
    fitted = parts[0] if parts[0].startswith("fitted on") else ""
    scaled = next((p.split(", ", 1)[1] for p in parts[1:] if ", " in p), "")
    said = (". These are the risk model's expected fires per household per year"
            + (f" ({fitted})" if fitted else "") + (f", {scaled}" if scaled else ""))
    calibration = (tested or {}).get("calibration", "")
    times = calibration.split(" (")[0]
    if calibration and tested.get("same", True):
        return (f"{said}. In the backtest of this ranking {times}"
                + ("." if "close to the fires seen" in calibration else
                   ": read them as a ranking, not a forecast of fires."))
    other = f"; in the backtest of {tested['tested']}, {times}" if calibration else ""
    return (f"{said}. They have not been checked against later fires (no backtest of this "
            f"ranking was found{other}).")


def targeting_box(summary: pd.DataFrame, tested: dict | None = None) -> dict:
    """{"rows": [(item, value in words)], "in_sample": sentence or ""} from the stored
    summary (columns measure, value, note; all text). ``tested``: the figures of a
    backtest of the same segmentation (the key findings' targeting ``Finding.figures``),
    quoted as what the list's ranking reached out of sample; None when there is none."""
    table = summary.fillna("").astype(str)
    values = dict(zip(table["measure"], table["value"]))
    notes = dict(zip(table["measure"], table["note"]))
    unit = notes.get("expected fires covered", "")
    yearly = unit == "per year"
    window = notes.get("fires in the window", "") or "the incident history"
    window = "" if window == "the incident history" else window
    # without households each address of the gazetteer counts as one (``households`` row)
    homes = "addresses" if values.get("households") == "addresses" else "households"
    rows = []

    def add(item: str, value: str) -> None:
        rows.append((item, value))

    said = {"expected fires covered", "share of eligible expected fires covered (%)",
            "fires in the window", "fires in the window in targeted areas",
            "share of the window's fires in targeted areas (%)",
            "households in targeted areas (%)", "borough fire rate per 1,000 households",
            "addresses in targeted areas (%)", "borough fire rate per 1,000 addresses",
            "cluster by area", "capacity", "visits", "areas", "wards",
            "addresses in the gazetteer", "eligible addresses", "households",
            "postcodes in the gazetteer", "eligible postcodes", "households on the list",
            "ranking", "ranked"}
    # postcode points: the gazetteer holds postcodes and the capacity counts households
    places = "postcodes" if "eligible postcodes" in values else "addresses"
    add("Visits on the list", f"{_figure(values.get('visits', ''))} "
        f"{notes.get('visits') or 'addresses on the list'}")
    if values.get("households on the list"):
        add("Households on the list", f"{_figure(values['households on the list'])} "
            f"({notes.get('households on the list') or 'the capacity counts households'})")
    if values.get("ranking"):
        ranks = values.get("ranked", AREAS)
        add("Ranked by", ranking_words(values["ranking"], ranks)
            + (f" ({notes['ranked']})" if notes.get("ranked") else ""))
    if values.get("areas"):
        add("Output areas with a visit", _figure(values["areas"]))
    if values.get("wards"):
        add("Wards with a visit", _figure(values["wards"]))
    if values.get(f"eligible {places}"):
        eligible, every = values[f"eligible {places}"], values.get(
            f"{places} in the gazetteer", "")
        add(f"{places.capitalize()} that could be visited",
            f"{_figure(eligible)} of {_figure(every)} in the gazetteer"
            + ("" if eligible == every else " (the rest excluded by the rules below)"))
    if "expected fires covered" in values:
        covered = _figure(values["expected fires covered"], 2)
        source = expected_fires_source(values, notes, tested)
        when = ("a year" if source else f"a year (average rate over {window})"
                if yearly and window else "a year" if yearly else
                f"{unit or 'over the incident history'} (the window's length is not known, "
                "so not per year)")
        share = values.get("share of eligible expected fires covered (%)", "")
        add("Expected fires in the listed homes", f"{covered} {when}" + (
            f": {_figure(share, 1)}% of the expected fires of every home that could be "
            "visited" if share else "") + source)
    if tested:
        said_tested = tested_on_later_fires(tested)
        add("Tested on later fires (out of sample)",
            said_tested[:1].upper() + said_tested[1:])
    borough_rate = (values.get("borough fire rate per 1,000 households")
                    or values.get("borough fire rate per 1,000 addresses"))
    if borough_rate:
        rate = _figure(borough_rate, 2)
        add("Fire rate across the study area",
            f"{rate} per 1,000 {homes} " + ((f"a year ({window})" if window else "a year")
                                             if yearly else unit))
    if homes == "addresses":
        add("Households", "not known: each address of the gazetteer counts as one")
    for measure, value in values.items():
        if measure in said:
            continue
        note = notes.get(measure, "")
        add(measure[:1].upper() + measure[1:], " ".join(
            part for part in (_figure(value), note) if part))
    if values.get("capacity"):
        counted = "households" if places == "postcodes" else "visits"
        note = notes.get("capacity", "").removeprefix("households").strip("; ")
        add("Capacity", f"{_figure(values['capacity'])} {counted}"
            + (f" ({note})" if note else ""))
    if "cluster by area" in values:
        add("Visits grouped by output area",
            "yes: an area's listed homes are visited together"
            if values["cluster by area"].lower() in YES else
            "no: postcodes are listed one by one, by their expected fires per household"
            if places == "postcodes" else
            "no: homes are listed one by one, by their expected fires")
    in_sample = ""
    shared = values.get("share of the window's fires in targeted areas (%)", "")
    if shared:
        in_sample = (
            f"In sample, not a prediction: the output areas with a visit held "
            f"{_figure(shared, 1)}% of the fires of {window or 'the incident history'} "
            f"({_figure(values.get('fires in the window in targeted areas', ''))} of "
            f"{_figure(values.get('fires in the window', ''))}) with "
            f"{_figure(values.get(f'{homes} in targeted areas (%)', ''), 1)}% of the "
            f"{homes}. Those are the same fires the areas were ranked by, so this "
            "overstates what the list would reach of future fires; "
            + ("the test on later fires above (a backtest: fitted on earlier fires, "
               "counting later ones) measures that." if tested else
               "a backtest (fitted on earlier fires, counting later ones) would measure "
               "that; no backtest of this segmentation was found (in its folder, a folder "
               "in it or a folder beside it)."))
    return {"rows": [{"item": item, "value": value} for item, value in rows],
            "in_sample": in_sample}
