"""The visit list's step on a saved segmentation (``target_step``): read the segmentation,
its gazetteer, the incidents and the service's files, score and fill the list
(``visit_list``), and write the crews' list, its layers, the summary and the
reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..cells import write_csv
from ..errors import InputError
from ..segment.words import without_segment
from .crew_workbook import area_layer_fields, layer_fields, write_crew_workbook
from .rates import (
    ADDRESSES_AS_HOUSEHOLDS,
    area_households,
    households_unknown_at_postcodes,
    rate_unit,
)
from .reasons import PRIORITIES
from .visit_inputs import (
    Reconciliation,
    chosen_wards,
    clean_ids,
    parse_flag_weights,
    read_capacity_table,
    read_flags,
    read_id_list,
    read_input_table,
    read_visits,
)
from .visit_list import TargetOptions, TargetResult, build_targets

TARGET_GPKG = "target.gpkg"
@dataclass
class TargetInputs:
    """What the step reads besides the segmentation (paths; any may be None)."""

    incidents: object = None  # history.IncidentFile: scored on its dates in the window
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


def no_segment_fire(manifest: dict | None) -> str:
    """The reconciliation's detail for a fire in an output area without a segment."""
    return (f"in an output area {without_segment(manifest)}: it ranks no area and is not in "
            "the window's fires")


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


def _stored_period(gpkg: Path, name: str, layers: set) -> tuple[float | None, str]:
    """The stored incidents' window: its length in years (None when its days are not
    known: profiles stored before they were, or incidents without dates) and in words."""
    from ..places.steps import stored_period
    from ..store.geopackage import read_gpkg_table

    if f"incident_about_{name}" not in layers:
        return None, ""
    label, years = stored_period(read_gpkg_table(gpkg, f"incident_about_{name}").iloc[0]
                                 .to_dict())
    return years, label


FEW_HOMES = 3.0  # households per gazetteer point above which the points look like postcodes


def few_homes_said(points: int, households: pd.Series, classified: pd.Series, unit: str,
                   postcode_points: bool) -> str:
    """Where a gazetteer taken as one home a point has far fewer points than the classified
    areas' households (postcode points, given without --postcode-points), the note that says
    so: each point counts as one home, so the expected fires covered are those of that many
    homes, a fraction of the area's; "" otherwise."""
    if postcode_points or unit != "household" or not points:
        return ""
    known = float(pd.to_numeric(households.reindex(classified.index), errors="coerce").sum())
    if known < FEW_HOMES * points:
        return ""
    return (f"the gazetteer has {points:,} points in the classified areas for their "
            f"{known:,.0f} households (about {known / points:,.0f} a point), and each counts "
            "as one home: the expected fires covered are those of one home a point. If the "
            "points are postcodes, give --postcode-points (in QGIS, tick 'The gazetteer is "
            "postcode points (capacity in households)') so that each holds its share of its "
            "area's households")


def target_step(segmentation: Path, out_dir: Path, options: TargetOptions,
                inputs: TargetInputs, replace_folder: bool = True
                ) -> tuple[TargetResult, list[Path]]:
    """Score, exclude, fill and write the crews' list, layer, summary and reconciliation
    into ``out_dir`` (built aside and moved in whole: nothing is written on bad input)."""
    import geopandas as gpd
    import pyogrio

    from ..places.incidents import window_date
    from ..places.steps import gpkg_path, period_label, period_years
    from ..segment.saved import load_segmentation
    from ..store.geopackage import read_gpkg_table
    from .history import incident_history, window_counts

    gpkg = gpkg_path(segmentation)
    seg = load_segmentation(gpkg)
    layers = {n for n, _ in pyogrio.list_layers(gpkg)}
    if "addresses" not in layers:
        raise InputError(f"{gpkg.name}: no address gazetteer yet; run `community-safety "
                         "gazetteer` first")
    if options.postcode_points and rate_unit(seg) == "address" and "households" not in (
            pyogrio.read_info(gpkg, layer="addresses")["fields"]):
        raise InputError(households_unknown_at_postcodes(options.capacity))
    households = area_households(seg, gpkg)
    today = window_date(inputs.today, "--today") or pd.Timestamp.today().normalize()
    log = Reconciliation()

    classified = seg.areas["segment"].dropna().astype(int)  # area -> segment
    unranked_fires = 0  # fires in the window in output areas without a segment
    start = window_date(inputs.window_from, "the start date")
    end = window_date(inputs.window_to, "the end date")
    if inputs.incidents is not None:
        history, outcomes, source = incident_history(seg.areas, inputs.incidents)
        if (history["date"] > today).any():
            raise InputError(f"{source}: {int((history['date'] > today).sum())} incidents are "
                             f"dated after {today:%Y-%m-%d}; nothing was written")
        first = start if start is not None else history["date"].min()
        last = end if end is not None else history["date"].max()
        if first > last:
            raise InputError(f"the window starts ({first:%Y-%m-%d}) after it ends "
                             f"({last:%Y-%m-%d})")
        fires = window_counts(history, first, last)
        options.years, options.window = period_years(first, last), period_label(first, last)
        in_window = pd.Series(False, index=outcomes.index)
        in_window[history.index] = ((history["date"] >= first)
                                    & (history["date"] < last + pd.Timedelta(days=1))).to_numpy()
        # a fire in an output area without a segment (no data) ranks nothing: said, not lost
        no_segment = pd.Series(False, index=outcomes.index)
        no_segment[history.index] = ~history["area_code"].isin(classified.index).to_numpy()
        log.add(source, outcomes.index[(in_window & ~no_segment).to_numpy()], "used",
                "counted in the window")
        unranked = in_window & no_segment
        unranked_fires = int(unranked.sum())
        log.add(source, outcomes.index[unranked.to_numpy()], "excluded",
                no_segment_fire(seg.manifest))
        log.add(source, outcomes.index[(outcomes == "matched").to_numpy()
                                       & ~in_window.to_numpy()], "excluded", "outside the window")
        other = (outcomes != "matched").to_numpy()
        log.add(source, outcomes.index[other], "excluded", outcomes[other].to_numpy())
    else:
        if start is not None or end is not None:
            raise InputError("a window (--from/--to) needs the incident file (--incidents) "
                             "with its --date-column: the stored counts have no dates")
        fires, name = _stored_counts(gpkg, inputs.incident_table, layers)
        if options.years is None:  # the stored counts' period, where their source gave it
            options.years, options.window = _stored_period(gpkg, name, layers)

    address_layer = gpd.read_file(gpkg, layer="addresses", engine="pyogrio")
    address_layer["id"] = clean_ids(address_layer["record_id"]).to_numpy()
    known = pd.Index(address_layer["id"])

    weights = parse_flag_weights(inputs.flag_weights)
    if inputs.visited_months < 0:
        raise InputError(f"--visited-months {inputs.visited_months}: give 0 or more months")
    last_visits, since, opted, flags = None, None, (), None
    if inputs.visited is not None:
        last_visits, since = read_visits(read_input_table(inputs.visited), known, today,
                                         inputs.visited_months, Path(inputs.visited).name, log,
                                         inputs.visited_date_format)
    if inputs.opted_out is not None:
        opted = read_id_list(read_input_table(inputs.opted_out), known,
                             Path(inputs.opted_out).name, log, "opted out: excluded")
    if inputs.flags is not None:
        flags = read_flags(read_input_table(inputs.flags), known, weights,
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
            read_input_table(inputs.capacity_table), pd.Index(wards["ward_code"].unique()),
            Path(inputs.capacity_table).name, log)
    if options.wards and wards is not None:
        options.wards = chosen_wards(options.wards, wards)  # its message says what was typed
    if options.segments:
        unknown = sorted(set(options.segments) - set(seg.summary.index))
        if unknown:
            raise InputError(f"--segments: {', '.join(map(str, unknown))} "
                             f"{'is not a segment' if len(unknown) == 1 else 'are not segments'}"
                             f" (1 to {max(seg.summary.index)})")

    rates = reasons = point_rates = point_reasons = None
    if inputs.model:
        if inputs.incidents is None:
            raise InputError("the risk model reads the incidents' dates: give the "
                             "incidents (--incidents FILE with its --date-column on the "
                             "command line; the incident points and their date field in "
                             "QGIS)")
        from .risk_postcodes import gazetteer_points
        from .risk_study import model_scores, postcode_model_scores

        if options.postcode_points and {"x", "y"} <= set(history.columns):
            points = gazetteer_points(address_layer, address_layer["id"])
            point_rates, point_reasons, rates, reasons, scaled = postcode_model_scores(
                seg, households, wards, history, first, last, points, inputs.lookup,
                inputs.project)
        else:
            rates, reasons, scaled = model_scores(seg, households, wards, history, first,
                                                  last, inputs.lookup, inputs.project)
    columns = ["id", "area_code"] + [c for c in ("households", "non_residential")
                                     if c in address_layer.columns]
    result = build_targets(address_layer[columns], fires, households,
                           classified, options, wards, flags,
                           weights, last_visits, since, opted, log, rates, reasons, point_rates,
                           point_reasons, seg.segment_names, rate_unit(seg))
    if inputs.model:
        of = f" of {options.window}" if options.window else ""
        fitted = (f"fitted on the fires{of} at {len(point_rates):,} postcode points, each "
                  "ranked on its own fires, its output area's and the census"
                  if point_rates is not None else
                  f"fitted on the fires{of} in {len(rates):,} classified output areas")
        result.summary.loc[len(result.summary)] = [
            "score", "risk model", f"{fitted}; expected fires per household per year, "
            f"{scaled}"]
    log.add("addresses (gazetteer)", [""], "used",
            f"{len(address_layer):,} {'postcodes' if options.postcode_points else 'addresses'}"
            f" scored: {len(result.targets):,} listed, "
            f"{int(result.excluded.sum()):,} excluded by rule (counts in target_summary.csv)")
    for row in ranking_rows(inputs.model, point_rates is not None, options.postcode_points):
        result.summary.loc[len(result.summary)] = row
    few = few_homes_said(int(address_layer["area_code"].isin(classified.index).sum()),
                         households, classified, rate_unit(seg),
                         options.postcode_points)
    if few:
        result.summary.loc[len(result.summary)] = ["gazetteer", "fewer points than households",
                                                   few]
    if unranked_fires:
        result.summary.loc[len(result.summary)] = [
            "fires in output areas without a segment", unranked_fires,
            f"fires of the window in output areas {without_segment(seg.manifest)}: they rank "
            "no area and "
            "are not in the window's fires above"]
    if rate_unit(seg) == "address":
        log.add("households", [""], "used", ADDRESSES_AS_HOUSEHOLDS)
        result.summary.loc[len(result.summary)] = ["households", "addresses",
                                                   ADDRESSES_AS_HOUSEHOLDS]
    result.reconciliation = log.frame()
    written = _write_targets(result, address_layer, seg, out_dir, replace_folder, options,
                             inputs.model, postcodes=point_rates is not None)
    # the summary (no address or ID) joins the segmentation, for the report and the dock
    from ..store.geopackage import add_to_geopackage

    add_to_geopackage(gpkg, {"target_summary": result.summary.astype(str)},
                      identity=seg.manifest["identity"])
    return result, written


def ranking_rows(model: bool, at_postcodes: bool, postcode_points: bool) -> list[list]:
    """The summary's rows saying which ranking the list used and what it ranks, in the
    backtests' words (``risk_backtest``; ``store.backtest_columns``), so the report quotes a
    backtest as the list's ranking only when it tested that ranking of those units."""
    from ..store.backtest_columns import AREAS, MODEL, POSTCODES, SCORE

    ranks = POSTCODES if at_postcodes else AREAS
    how = ("each postcode on its own fires, its output area's and the census"
           if at_postcodes else "each output area's postcodes alike, by the area's rate"
           if postcode_points else "each output area's addresses alike, by the area's rate")
    return [["ranking", MODEL if model else SCORE, "the score the list is ranked by"],
            ["ranked", ranks, how]]


def figure_text(value) -> str:
    """A summary value as people read it: numbers with thousands separators ("4,915"),
    words as they are."""
    from numbers import Number

    if isinstance(value, bool) or not isinstance(value, Number) or value != value:
        return "" if value is None or value != value else str(value)
    return f"{value:,}"


def summary_lines(summary: pd.DataFrame) -> list[str]:
    """The summary as lines for people (the command line, Processing's log): "measure:
    value (note)", numbers with thousands separators; a measure without a value left out."""
    lines = []
    for row in summary.itertuples(index=False):
        value = figure_text(row.value)
        if value:
            lines.append(f"{row.measure}: {value}" + (f" ({row.note})" if row.note else ""))
    return lines


def priority_heading(unit: str, window: str) -> str:
    """The visits layer's legend heading: of what its priority classes are, and when
    ("expected fires per household against the borough rate, Jan 2009 – Aug 2024")."""
    heading = f"expected fires per {unit} against the borough rate"
    return f"{heading}, {window}" if window else heading


def _write_targets(result: TargetResult, address_layer, seg, out_dir: Path,
                   replace_folder: bool, options: TargetOptions, model: bool = False,
                   postcodes: bool = False) -> list[Path]:
    import geopandas as gpd

    from ..places.steps import class_breaks
    from ..store.folders import replaced_folder, staged_files
    from ..store.geopackage import write_layer_description, write_layer_style
    from ..store.names import GPKG_OPTIONS
    from ..styles import PRIORITY_COLOURS, graduated_qml, segment_layer_qml

    points = address_layer.set_index("id").geometry
    crews = result.targets
    layer = gpd.GeoDataFrame(crews.drop(columns=["why"]).assign(why=crews["why"]),
                             geometry=points.reindex(crews["address_id"]).to_numpy(),
                             crs=address_layer.crs)
    area_layer = seg.areas[["geometry"]].join(result.areas.drop(
        columns=["prior_alpha", "prior_beta"]), how="inner").rename_axis(
        "area_code").reset_index()
    area_layer = gpd.GeoDataFrame(area_layer, geometry="geometry", crs=seg.areas.crs)
    folder = replaced_folder(out_dir) if replace_folder else staged_files(out_dir)
    with folder as staging:
        write_csv(crews, staging / "target_list.csv", index=False)
        write_crew_workbook(crews, staging / "target_list.xlsx", seg.segment_names,
                            options.years, options.window,
                            f"Home fire safety visits: {seg.name}", model, postcodes)
        write_csv(result.summary, staging / "target_summary.csv", index=False)
        write_csv(result.reconciliation, staging / "reconciliation.csv", index=False)
        path = staging / TARGET_GPKG
        layer.to_file(path, layer="target_addresses", driver="GPKG", engine="pyogrio",
                      dataset_options=GPKG_OPTIONS)
        area_layer.to_file(path, layer="target_areas", driver="GPKG", engine="pyogrio")
        write_layer_style(path, "target_addresses",
                          segment_layer_qml(PRIORITIES, field="priority",
                                            name_field="priority_label", kind="marker",
                                            colours=PRIORITY_COLOURS,
                                            heading=priority_heading(rate_unit(seg),
                                                                     options.window),
                                            fields=layer_fields(crews, options.years,
                                                                options.window, model,
                                                                postcodes)))
        write_layer_description(path, "target_addresses",
                                "Home fire safety check visits, by priority: the address's "
                                "expected fires per household over the borough's rate.")
        field = "rate_per_1000_households"
        fields = area_layer_fields(rate_unit(seg), options.window, bool(options.years),
                                   options.postcode_points)
        write_layer_style(path, "target_areas", graduated_qml(
            field, class_breaks(area_layer[field]), "area_code",
            heading=fields[field][0][0].lower() + fields[field][0][1:], zero_class=True,
            decimals=2, fields={name: fields[name] for name in area_layer.columns
                                if name in fields}))
        write_layer_description(path, "target_areas",
                                "Output areas: fire rate shrunk toward the segment's "
                                "(empirical Bayes), visits on the list, fires in the window.")
        names = sorted(p.name for p in staging.iterdir())
    return [Path(out_dir) / name for name in names]
