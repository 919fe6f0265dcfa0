"""The choose-k chart the wizard shows: one small panel per diagnostic, drawn to PNG bytes
with matplotlib (no GUI backend), the recommended and the chosen k marked."""

from __future__ import annotations

import io

import pandas as pd

PANELS = [
    ("wcss", "Within-segment sum of squares\n(look for the elbow)", None),
    ("silhouette", "Silhouette\n(higher is better)", None),
    ("calinski_harabasz", "Calinski–Harabasz\n(higher is better)", None),
    ("davies_bouldin", "Davies–Bouldin\n(lower is better)", None),
    ("stability_ari", "Stability across random starts\n(adjusted Rand; ≥ 0.8 agrees)", 0.8),
    ("smallest_segment_pct", "Smallest segment\n(% of areas)", "min_share"),
]


def diagnostics_png(table: pd.DataFrame, recommended: int | None = None,
                    chosen: int | None = None, min_share: float = 2.0,
                    width: float = 9.6, height: float = 4.6, dpi: int = 100) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 3, sharex=True)
    ks = list(table["k"])
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
        if chosen is not None and chosen in ks and chosen != recommended:
            ax.axvline(chosen, color="#CC6677", linewidth=1.6, linestyle=":",
                       label=f"chosen k = {chosen}")
    for ax in axes[1]:
        ax.set_xlabel("number of segments (k)", fontsize=8)
        ax.set_xticks(ks if len(ks) <= 16 else ks[::2])
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.06 if handles else 0, 1, 1), h_pad=1.0, w_pad=1.2)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
