"""The choose-k chart the wizard shows: one small panel per diagnostic, drawn to PNG bytes
with matplotlib (no GUI backend, off the main thread), the recommended k marked; the chosen
k is painted over the picture with Qt (``with_chosen_k``), so that pressing the k spin box
redraws nothing: matplotlib took 0.3-4 s per drawing and, in a thread, still held Python's
lock long enough to freeze the wizard at each press."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

PANELS = [
    ("wcss", "Within-segment sum of squares\n(look for the elbow)", None),
    ("silhouette", "Silhouette\n(higher is better)", None),
    ("calinski_harabasz", "Calinski–Harabasz\n(higher is better)", None),
    ("davies_bouldin", "Davies–Bouldin\n(lower is better)", None),
    ("stability_ari", "Stability across random starts\n(adjusted Rand; ≥ 0.8 agrees)", 0.8),
    ("smallest_segment_pct", "Smallest segment\n(% of areas)", "min_share"),
]
CHOSEN_COLOUR = "#CC6677"
LEGEND_POINTS = 8  # the legend's font size (points)


@dataclass(frozen=True)
class ChartMarks:
    """Where a chosen k goes on the picture, in its pixels (origin top left): per panel its
    top, bottom and the x of each k; the legend's row (its middle) and the x where the
    chosen k's entry starts; the recommended k (not marked again)."""

    panels: tuple  # ((top, bottom, {k: x}), ...)
    legend_y: float
    legend_x: float
    dpi: int
    recommended: int | None


@dataclass(frozen=True)
class KChart:
    png: bytes
    marks: ChartMarks


def diagnostics_chart(table: pd.DataFrame, recommended: int | None = None,
                      min_share: float = 2.0, width: float = 9.6, height: float = 4.6,
                      dpi: int = 100) -> KChart:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 3, sharex=True)
    ks = [int(k) for k in table["k"]]
    for ax, (column, title, line) in zip(axes.flat, PANELS):
        ax.plot(table["k"], table[column], marker="o", markersize=3.5, color="#332288",
                linewidth=1.4)
        ax.set_title(title, fontsize=8.5)
        ax.tick_params(labelsize=7.5)
        ax.grid(alpha=0.3)
        if line is not None:
            value = min_share if line == "min_share" else line
            ax.axhline(value, color="#999999", linestyle="--", linewidth=1)
        if recommended is not None and recommended in ks:
            ax.axvline(recommended, color="#117733", linewidth=1.6, alpha=0.8,
                       label=f"recommended k = {recommended}")
    for ax in axes[1]:
        ax.set_xlabel("number of segments (k)", fontsize=LEGEND_POINTS)
        ax.set_xticks(ks if len(ks) <= 16 else ks[::2])
    handles, labels = axes.flat[0].get_legend_handles_labels()
    legend = None
    if handles:  # left of the middle: the chosen k's entry is painted right of it
        legend = figure.legend(handles, labels, loc="lower right",
                               bbox_to_anchor=(0.5, 0.0), fontsize=LEGEND_POINTS,
                               frameon=False)
    figure.tight_layout(rect=(0, 0.06, 1, 1), h_pad=1.0, w_pad=1.2)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    tall = figure.bbox.height
    panels = []
    for ax in axes.flat:
        box = ax.get_window_extent()
        xs = {k: float(ax.transData.transform((k, 0))[0]) for k in ks}
        panels.append((tall - box.y1, tall - box.y0, xs))
    legend_y = (tall - (legend.get_window_extent().y0 + legend.get_window_extent().y1) / 2
                if legend is not None else tall - 0.03 * tall)
    marks = ChartMarks(tuple(panels), legend_y, figure.bbox.width / 2 + 12, dpi,
                       recommended)
    return KChart(buffer.getvalue(), marks)


def chosen_lines(marks: ChartMarks, chosen: int) -> list[tuple[float, float, float]]:
    """The chosen k's vertical line in each panel, (x, top, bottom) in pixels; none when
    it is the recommended k (marked already) or outside the chart's k."""
    if chosen == marks.recommended:
        return []
    return [(xs[chosen], top, bottom) for top, bottom, xs in marks.panels if chosen in xs]


def with_chosen_k(chart: KChart, chosen: int):
    """The chart as a QPixmap with the chosen k marked (a dotted line in each panel and its
    legend entry), painted with Qt on the main thread in well under a millisecond."""
    from qgis.PyQt.QtCore import QPointF, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QPainter, QPen, QPixmap

    picture = QPixmap()
    picture.loadFromData(chart.png, "PNG")
    lines = chosen_lines(chart.marks, chosen)
    if not lines:
        return picture
    pixels = 1.6 * chart.marks.dpi / 72  # matplotlib's line width, in points
    painter = QPainter(picture)
    painter.setRenderHint(QPainter.Antialiasing)
    pen = QPen(QColor(CHOSEN_COLOUR), pixels)
    pen.setCapStyle(Qt.FlatCap)
    pen.setDashPattern([1.0, 1.65])  # matplotlib's dotted line ":", in line widths
    painter.setPen(pen)
    for x, top, bottom in lines:
        painter.drawLine(QPointF(x, top), QPointF(x, bottom))
    x, y = chart.marks.legend_x, chart.marks.legend_y
    painter.drawLine(QPointF(x, y), QPointF(x + 2 * LEGEND_POINTS * chart.marks.dpi / 72, y))
    font = QFont("DejaVu Sans")
    font.setPixelSize(round(LEGEND_POINTS * chart.marks.dpi / 72))
    painter.setFont(font)
    painter.setPen(QColor("black"))
    text_x = x + 2.8 * LEGEND_POINTS * chart.marks.dpi / 72
    painter.drawText(QPointF(text_x, y + font.pixelSize() * 0.35), f"chosen k = {chosen}")
    painter.end()
    return picture
