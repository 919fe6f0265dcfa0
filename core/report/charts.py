"""The report's pictures: maps of the segments and charts of their profiles, as PNG bytes.

Drawn with matplotlib's object API on the Agg canvas (no pyplot state), like ``plots``, so
they render the same from the command line and inside QGIS. Every chart is labelled in
words: variable labels, segment names, units.
"""

from __future__ import annotations

import io
import re
import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..places.incidents import draw_index_bars
from ..recent import remembered
from ..styles import NO_DATA_HATCH, segment_colour

BAND_COLOURS = {"high": "#B2182B", "medium": "#BBBBBB", "low": "#2166AC"}
DPI = 96


def png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _bare_map(figure: Figure):
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_aspect("equal")
    return ax


def _renderer(figure: Figure):
    """The figure's Agg renderer, its limits and aspect applied: where text lands on it."""
    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    for ax in figure.axes:
        ax.apply_aspect()
    return figure.canvas.get_renderer()


def _clear_of(box, placed: list, frame, gap: float):
    """``box`` moved just inside ``frame`` (a label at the map's edge stays whole), or None
    when it would then come within ``gap`` of a box in ``placed``."""
    dx = max(frame.x0 - box.x0, 0) - max(box.x1 - frame.x1, 0)
    dy = max(frame.y0 - box.y0, 0) - max(box.y1 - frame.y1, 0)
    box = box.translated(dx, dy)
    if any(box.padded(gap).overlaps(other) for other in placed):
        return None
    return box


# where a ward's name may go when it does not fit at its point: there, then half a label
# above, below, to the right or to the left (in the ward still, at a ward's size)
NUDGES = ((0, 0), (0, 0.6), (0, -0.6), (0.5, 0), (-0.5, 0))


def ward_names(ax, wards: gpd.GeoDataFrame | None, size: float,
               order: list[str] | None = None, most: int | None = None) -> list:
    """Each ward's name at a point inside it, dark on a white halo, and returned (nothing
    when the wards have no names). ``order``: only these wards (by ward code), most
    important first; ``most``: at most this many. Labels never overlap (the rule of the
    ward layer's labels in QGIS): one that cannot be placed clear of those placed before it,
    at its point or a little off it (``NUDGES``), is left out, and one at the picture's
    edge is moved inside it."""
    if wards is None or "ward_name" not in wards.columns:
        return []
    if order is not None:
        wards = wards.set_index("ward_code").reindex([c for c in order
                                                      if c in set(wards["ward_code"])])
    renderer = _renderer(ax.figure)
    frame, gap = ax.figure.bbox, size * ax.figure.dpi / 72 / 4
    halo = [patheffects.withStroke(linewidth=2, foreground="white")]
    placed, texts = [], []
    for name, point in zip(wards["ward_name"], wards.geometry.representative_point()):
        if most is not None and len(texts) == most:
            break
        if not isinstance(name, str) or not name or point is None or point.is_empty:
            continue
        text = ax.annotate("\n".join(textwrap.wrap(name, 14)), (point.x, point.y),
                           ha="center", va="center", fontsize=size, color="#111111",
                           path_effects=halo, annotation_clip=False)
        box = text.get_window_extent(renderer)
        inside = next(filter(None, (_clear_of(box.translated(dx * box.width, dy * box.height),
                                              placed, frame, gap)
                                    for dx, dy in NUDGES)), None)
        if inside is None:
            text.remove()
            continue
        # the move, in points: the same at any resolution the figure is saved at
        points = 72 / ax.figure.dpi
        text.set_position(((inside.x0 - box.x0) * points, (inside.y0 - box.y0) * points))
        text.set_anncoords("offset points")
        placed.append(inside)
        texts.append(text)
    return texts


def _no_data(ax, areas: gpd.GeoDataFrame) -> bool:
    """The areas without a segment hatched on white (never a flat grey, which segment 10's
    colour could be taken for); True when there are any."""
    missing = areas[areas["segment"].isna()]
    if len(missing):
        missing.plot(ax=ax, facecolor="white", edgecolor=NO_DATA_HATCH, hatch="////",
                     linewidth=0.15)
    return bool(len(missing))


OVERVIEW_LABEL_SIZE = 8.5  # points: 11.3 px in the 864 px picture, about 10 px on a laptop


@remembered(size=4)
def overview_map(areas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None = None) -> bytes:
    """``overview_figure`` as PNG bytes."""
    return png(overview_figure(areas, wards))


def overview_figure(areas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None = None) -> Figure:
    """Every output area in its segment's colour (areas with no data hatched), ward
    boundaries and names over them; the map alone, as wide as the study area's shape allows
    (its key is the report's text, readable at any width)."""
    left, bottom, right, top = areas.total_bounds
    ratio = (top - bottom) / (right - left) if right > left else 1.0
    figure = Figure(figsize=(9, min(max(9 * ratio, 4.0), 12.0)))
    ax = _bare_map(figure)
    classified = areas[areas["segment"].notna()]
    classified.plot(ax=ax, color=[segment_colour(s) for s in classified["segment"]],
                    edgecolor="white", linewidth=0.15)
    _no_data(ax, areas)
    if wards is not None:
        wards.boundary.plot(ax=ax, color="#222222", linewidth=0.6)
    ward_names(ax, wards, OVERVIEW_LABEL_SIZE)
    return figure


MAP_WIDTH = 5.0  # a segment's map, inches: 480 px, shown at about that on a laptop
MAP_LABEL_SIZE = 10.0  # points: 13.3 px in the picture, 10.8 px on a phone showing it 390 px wide
MAP_LABELS = 6  # at most this many wards named on a segment's map


def segment_figures(areas: gpd.GeoDataFrame, segments: list[int],
                    wards: gpd.GeoDataFrame | None = None,
                    holding: dict[int, list[str]] | None = None):
    """For each segment, (segment, figure): its output areas in its colour on the other
    areas in light grey, cropped to the study area (one figure, recoloured for each
    segment). ``holding``: for each segment, the codes of the wards holding its areas, most
    first; the first ``MAP_LABELS`` of them that fit clear of each other are named, large
    enough to read on a phone (without it, the first that fit in the ward layer's order)."""
    left, bottom, right, top = areas.total_bounds
    pad = 0.01 * max(right - left, top - bottom)
    left, bottom, right, top = left - pad, bottom - pad, right + pad, top + pad
    ratio = (top - bottom) / (right - left) if right > left else 0.8
    figure = Figure(figsize=(MAP_WIDTH, min(max(MAP_WIDTH * ratio, 3.0), 7.0)))
    ax = _bare_map(figure)
    areas.plot(ax=ax, color="#E8E8E8", edgecolor="white", linewidth=0.1)
    polygons = ax.collections[-1]
    if wards is not None:
        wards.boundary.plot(ax=ax, color="#555555", linewidth=0.4)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    # geopandas draws a multipolygon as one path per part: colour every part of an area
    parts = areas.geometry.apply(lambda g: len(getattr(g, "geoms", [g]))).to_numpy()
    owner = np.repeat(areas["segment"].to_numpy(), parts)
    for segment in segments:
        polygons.set_facecolor(np.where(owner == segment, segment_colour(segment),
                                        "#E8E8E8"))
        order = None if holding is None else holding.get(segment, [])
        labels = ward_names(ax, wards, MAP_LABEL_SIZE, order, MAP_LABELS)
        yield segment, figure
        for label in labels:
            label.remove()


@remembered(size=4)
def segment_maps(areas: gpd.GeoDataFrame, segments: list[int],
                 wards: gpd.GeoDataFrame | None = None,
                 holding: dict[int, list[str]] | None = None) -> dict[int, bytes]:
    """Each segment's map (``segment_figures``) as PNG bytes."""
    return {segment: png(figure)
            for segment, figure in segment_figures(areas, segments, wards, holding)}


# "A long name (ACRONYM): detail", as census tables' descriptions begin ("National
# Statistics Socio-economic Classification (NS-SEC): L13 Routine occupations")
_NAMED_BY_ACRONYM = re.compile(r"^[^:()]{12,}\(([A-Z][A-Z0-9-]{1,11})\):\s*")
LABEL_LINES = 3  # a variable's label on a chart: at most this many lines


def chart_label(text: str) -> str:
    """A variable's description as a chart's axis shows it: a long name that its own
    acronym follows said by the acronym ("NS-SEC: L13 Routine occupations")."""
    return _NAMED_BY_ACRONYM.sub(r"\1: ", str(text))


def _wrapped(variables, labels: dict[str, str], width: int = 48) -> list[str]:
    return ["\n".join(textwrap.wrap(chart_label(labels.get(v, v)), width,
                                    max_lines=LABEL_LINES, placeholder=" …"))
            for v in variables]


def _row_pitch(labels: list[str], one_line: float) -> float:
    """Inches a row of a chart takes: room for its labels' lines (8 points, spaced 1.2)
    and a gap, so that no label runs into the next row's."""
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    return max(one_line, 0.135 * lines + 0.04) if lines > 1 else one_line


def _left_for_labels(figure: Figure, ax, width: float, least: float) -> float:
    """The figure's left margin (a share of its ``width`` in inches) that holds ``ax``'s
    widest tick label whole (capitals, long words), at least ``least``."""
    renderer = _renderer(figure)
    widest = max((t.get_window_extent(renderer).width for t in ax.get_yticklabels()),
                 default=0.0) / figure.dpi
    return min(0.6, max(least, (widest + 0.15) / width))


INDEX_AXIS = 400  # index scores beyond (and far beyond the others) end at the axis, labelled


def _cut_long_bars(ax, index) -> None:
    """One index far above the rest (a segment with 12 times the area's share of
    something) would squeeze every other bar to a sliver: the axis ends a little past the
    others (at INDEX_AXIS at least), and a bar beyond it ends there with its score written
    in it."""
    index = np.asarray(index, dtype=float)
    rest = index[index <= INDEX_AXIS]
    end = max(INDEX_AXIS, 1.15 * float(np.nanmax(rest, initial=100.0)))
    if not np.nanmax(index, initial=0.0) > end:
        return
    ax.set_xlim(min(ax.get_xlim()[0], 0.0), end)
    for row, value in enumerate(index):
        if value > end:
            ax.text(end, row, f"{value:,.0f} ▸ ", ha="right", va="center", fontsize=8,
                    color="white", fontweight="bold")


def _index_bars(ax, rows: pd.DataFrame, high: float, low: float, key: bool = True) -> None:
    """Bars from 100 to each row's index score (rows in drawing order, bottom first),
    coloured by band, the band limits dotted, and the key (unless the text around the
    chart gives it)."""
    index = rows["index"].to_numpy(dtype=float)
    ax.barh(range(len(rows)), index - 100, left=100,
            color=[BAND_COLOURS.get(b, "#BBBBBB") for b in rows["band"]])
    ax.axvline(100, color="black", linewidth=0.8)
    for limit in (low, high):
        ax.axvline(limit, color="#777777", linewidth=0.6, linestyle=":")
    ax.set_xlabel("index score (100 = study-area average)")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    _cut_long_bars(ax, index)
    if not key:
        return
    key = [Patch(facecolor=BAND_COLOURS["high"], label=f"high (≥ {high:g})"),
           Patch(facecolor=BAND_COLOURS["medium"], label="medium"),
           Patch(facecolor=BAND_COLOURS["low"], label=f"low (≤ {low:g})")]
    ax.legend(handles=key, fontsize=8, loc="lower right")


def _spread(ax, standardised: pd.DataFrame, variables: list, segment: int) -> None:
    """Each variable's spread over the segment's areas, in standard deviations from the
    study-area mean (0): boxes the middle half, whiskers the 5th to 95th percentiles, and
    no single area drawn (the chart describes the group, not an area)."""
    data = [standardised[v].dropna().to_numpy() for v in variables]
    boxes = ax.boxplot(data, vert=False, whis=(5, 95), showfliers=False, patch_artist=True,
                       widths=0.6, positions=range(len(variables)))
    for patch in boxes["boxes"]:
        patch.set_facecolor(segment_colour(segment))
        patch.set_alpha(0.8)
    for median in boxes["medians"]:
        median.set_color("black")
    ax.axvline(0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlabel("standard deviations from the study-area mean (0)")


def _margins(figure: Figure, height: float, left: float, bottom: float = 0.75) -> None:
    """Fixed margins (in inches where it matters): the same for every segment's chart, and
    far cheaper than matplotlib's tight layout."""
    figure.subplots_adjust(left=left, right=0.98, bottom=bottom / height,
                           top=1 - 0.45 / height, wspace=0.08)


def index_chart(rows: pd.DataFrame, labels: dict[str, str], high: float,
                low: float) -> bytes:
    """Horizontal bars from 100 to each variable's index score, coloured by band, with the
    band limits drawn; ``rows``: variable, index, band (one segment's clustered
    variables)."""
    rows = rows.sort_values("index")
    ticks = _wrapped(rows["variable"], labels)
    height = 1.2 + _row_pitch(ticks, 0.28) * len(rows)
    figure = Figure(figsize=(7.5, height))
    ax = figure.add_subplot()
    _index_bars(ax, rows, high, low)
    ax.set_yticks(range(len(rows)), ticks, fontsize=8)
    _margins(figure, height, left=_left_for_labels(figure, ax, 7.5, 0.42))
    return png(figure)


@remembered(size=64)  # a report written again draws only what changed
def profile_chart(rows: pd.DataFrame, standardised: pd.DataFrame, labels: dict[str, str],
                  segment: int, high: float, low: float) -> bytes:
    """A segment's profile on its clustering variables, side by side on one row per
    variable (ordered by index score): the index score (left) and the spread over its
    areas (right). The band key is the report's text beside it (``BAND_COLOURS``). Sized
    to be read at a page's width: a segment and its chart fit on one A4 page, and the
    labels are as large as a phone's screen allows."""
    return png(profile_figure(rows, standardised, labels, segment, high, low))


def profile_figure(rows: pd.DataFrame, standardised: pd.DataFrame, labels: dict[str, str],
                   segment: int, high: float, low: float) -> Figure:
    """``profile_chart``'s figure."""
    rows = rows.sort_values("index")
    variables = list(rows["variable"])
    ticks = _wrapped(variables, labels, 44)
    height = 1.4 + _row_pitch(ticks, 0.24) * len(rows)
    figure = Figure(figsize=(8.5, height))
    left, right = figure.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 1]})
    _index_bars(left, rows, high, low, key=False)
    _spread(right, standardised, variables, segment)
    left.set_yticks(range(len(variables)), ticks, fontsize=8)
    left.set_title("Index score", fontsize=10)
    right.set_title("Spread over the segment's areas", fontsize=10)
    left.set_xlabel("index score\n(100 = study-area average)", fontsize=9)
    right.set_xlabel("standard deviations from\nthe study-area mean (0)", fontsize=9)
    _margins(figure, height, left=_left_for_labels(figure, left, 8.5, 0.34), bottom=0.85)
    return figure


def incident_chart(rows: pd.DataFrame, title: str, axis: str = "segment",
                   threshold: int = 5) -> bytes:
    """``incident_figure`` as PNG bytes."""
    return png(incident_figure(rows, title, axis, threshold))


def incident_figure(rows: pd.DataFrame, title: str, axis: str = "segment",
                    threshold: int = 5) -> Figure:
    """Index by segment with its 95% interval and the 100 line. A suppressed segment's bar
    is a hatched stub marked "*", said under the chart (a missing bar would read as 0);
    with every index suppressed (or no incidents), the chart is the title and a sentence
    saying so."""
    rows = rows.assign(segment=rows["segment"].astype(int))
    hidden = rows["index"].isna().to_numpy()  # its count, or the total, suppressed
    why = (f"a count of 1 to {threshold}, or one that would reveal such a count, is "
           "suppressed")
    if hidden.all():
        said = ("No incidents counted, so no index to chart."
                if (rows["count"] == 0).all() else
                f"Every segment's index is suppressed, so no chart: {why}.")
        lines = ["\n".join(textwrap.wrap(text, width)) for text, width in ((title, 90),
                                                                          (said, 100))]
        figure = Figure(figsize=(8, 0.6 + 0.2 * sum(t.count("\n") + 1 for t in lines)))
        figure.text(0.5, 0.95, lines[0], ha="center", va="top", fontsize=10)
        figure.text(0.5, 0.08, lines[1], ha="center", va="bottom", fontsize=9,
                    color="#444444")
        return figure
    figure = Figure(figsize=(8, 4.3 if hidden.any() else 4))
    ax = figure.add_subplot()
    draw_index_bars(ax, rows, title, axis, "its share of")
    if hidden.any():
        stub = 0.04 * ax.get_ylim()[1]
        for x in np.flatnonzero(hidden):
            ax.bar(x, stub, color="white", edgecolor="#777777", hatch="////", linewidth=0.6)
            ax.text(x, stub, "*", ha="center", va="bottom", fontsize=13, fontweight="bold")
        figure.text(0.01, 0.01, f"* suppressed, no bar: {why}.", fontsize=8,
                    color="#444444")
    figure.tight_layout(rect=(0, 0.05 if hidden.any() else 0, 1, 1))
    return figure
