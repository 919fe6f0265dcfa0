"""PNG charts: box plots of each variable by segment, and the elbow plot for choosing k.

Figures are drawn with matplotlib's object API on the Agg canvas: no pyplot state, so this
works the same from the command line and inside QGIS.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..styles import segment_colour
from .words import label_of, words_for


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=100)
    return path


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "variable"


def axis_label(variable: str, values: pd.Series, labels: dict) -> str:
    """The value axis in words: '% of households' for a percentage the vocabulary knows,
    '%' for another percentage (values 0..100 and a label or name that says so), else the
    label itself."""
    words = words_for(variable, labels)
    share = bool(values.dropna().between(0, 100).all())
    if share and words.population:
        return f"% of {words.population}"
    looks_percent = re.search(r"percent|\bpct\b|^pct_|%", f"{variable} {words.label}",
                              re.IGNORECASE)
    if share and looks_percent:
        return "%"
    return textwrap.shorten(label_of(variable, labels), 60, placeholder="...")


def box_plots(values: pd.DataFrame, segments: pd.Series, out_dir: Path,
              labels: dict | None = None, names: dict | None = None,
              axis: str = "segment") -> list[Path]:
    """One PNG per variable: its distribution over the areas of each segment. Titles and
    axes are in words: the variable's label (its name without codes when it has none), its
    unit, and the segment names when ``names`` (number -> name) is given."""
    labels = labels or {}
    out_dir.mkdir(parents=True, exist_ok=True)
    numbers = sorted(int(s) for s in segments.unique())
    paths = []
    for variable in values.columns:
        data = [values.loc[segments.index[segments == n], variable].dropna().to_numpy()
                for n in numbers]
        figure = Figure(figsize=(8, 4.5))
        ax = figure.add_subplot()
        boxes = ax.boxplot(data, patch_artist=True, widths=0.6)
        for n, patch in zip(numbers, boxes["boxes"]):
            patch.set_facecolor(segment_colour(n))
        ax.set_xticks(range(1, len(numbers) + 1), [str(n) for n in numbers])
        ax.axhline(values[variable].mean(), color="black", linewidth=0.8, linestyle="--",
                   label="study-area mean")
        ax.set_xlabel(axis)
        ax.set_ylabel(axis_label(variable, values[variable], labels))
        ax.set_title("\n".join(textwrap.wrap(label_of(variable, labels), 80)), fontsize=10)
        ax.legend(loc="upper right", fontsize=8)
        if names:
            key = "   ".join(textwrap.shorten(f"{n} {names[n]}", 48, placeholder="...")
                           for n in numbers if n in names)
            figure.text(0.01, 0.01, "\n".join(textwrap.wrap(key, 150)), fontsize=6,
                        va="bottom")
        figure.tight_layout(rect=(0, 0.08 if names else 0, 1, 1))
        paths.append(_save(figure, out_dir / f"box_{safe_name(variable)}.png"))
    return paths


def elbow_plot(diagnostics: pd.DataFrame, path: Path) -> Path:
    """WCSS against k, with silhouette on a second axis."""
    figure = Figure(figsize=(7, 4.5))
    ax = figure.add_subplot()
    ax.plot(diagnostics["k"], diagnostics["wcss"], marker="o", color="#332288",
            label="within-segment sum of squares")
    ax.set_xlabel("number of segments (k)")
    ax.set_ylabel("within-segment sum of squares")
    ax.set_xticks(list(diagnostics["k"]))
    second = ax.twinx()
    second.plot(diagnostics["k"], diagnostics["silhouette"], marker="s", color="#CC6677",
                label="silhouette")
    second.set_ylabel("silhouette")
    ax.set_title("Choosing the number of segments: elbow and silhouette")
    handles = ax.get_legend_handles_labels()[0] + second.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper right", fontsize=8)
    figure.tight_layout()
    return _save(figure, path)
