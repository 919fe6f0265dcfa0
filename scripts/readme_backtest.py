"""The README's backtest figures, regenerated (``make backtest``, after
scripts/backtest_camden.sh has segmented the sample and placed its addresses).

Runs the targeting backtest on the Camden sample exactly as the README's command does
(``target --backtest --cut-off 2019-12-31`` on the London Fire Brigade dwelling fires),
writes its files (backtest.csv, capture_curve.png, reconciliation.csv) to ``--out``, copies
the capture curve to docs/, and rewrites the README's text between the backtest markers:
the periods and fire counts, the table (each figure rounded once from the backtest's full
precision) and the comparisons quoted under it.

    .venv/bin/python scripts/readme_backtest.py build/backtest/camden/segmentation.gpkg \
        --out build/backtest/backtest --readme README.md --docs docs
"""

from __future__ import annotations

import argparse
import re
import shutil
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "resources" / "sample_data" / "camden"
CUT_OFF = "2019-12-31"
START = "<!-- backtest figures: written by `make backtest` (scripts/readme_backtest.py) -->"
END = "<!-- end of the backtest figures -->"
SCORE = "segment + area score (empirical Bayes)"
OWN = "area's own past rate"
IMD = "deprivation alone (IMD)"
RANDOM = "random order"
TOP = (1, 5, 10, 20)
WIDTH = 92  # the README's lines


def run_backtest(segmentation: Path, out: Path):
    from community_safety.core.data.locate import LocationColumns
    from community_safety.core.targeting.backtest import backtest_step
    from community_safety.core.targeting.history import IncidentFile

    fires = IncidentFile(SAMPLE / "lfb_dwelling_fires.csv",
                         LocationColumns(x="easting_rounded", y="northing_rounded"), "date")
    result, _ = backtest_step(segmentation, out, fires, CUT_OFF)
    return result


def _row(table, name: str):
    found = table[table["ranking"].str.startswith(name)]
    return found.iloc[0] if len(found) else None


def readme_block(result) -> str:
    """The README's backtest text from a backtest result (``backtest.BacktestResult``):
    every figure from its full precision, rounded once."""
    table = result.table
    rows = ["| ranking | " + " | ".join(f"top {p}%" for p in TOP) + " | area under curve |",
            "|---" * (len(TOP) + 2) + "|"]
    for row in table.itertuples(index=False):
        shares = " | ".join(f"{getattr(row, f'top_{p}pct'):.1f}%" for p in TOP)
        rows.append(f"| {row.ranking} | {shares} | {row.auc:.3f} |")
    score, own = _row(table, SCORE), _row(table, OWN)
    imd, random = _row(table, IMD), _row(table, RANDOM)
    against = "by deprivation (IMD) alone, " if imd is not None else ""
    lines = [textwrap.fill(
        f"**Proven on past fires** (`make backtest`): fitted on the sample's "
        f"{result.fit_incidents:,} dwelling fires of {result.fit_period}, the ranking is "
        f"tested on the {result.test_incidents:,} fires of {result.test_period} — the "
        "share of those later fires in the top 1, 5, 10 and 20% of households, against "
        f"the same households ranked {against}by each part of the score alone and in "
        "random order:", WIDTH), "", *rows, "",
        "![Capture curve of the Camden backtest](docs/capture_curve.png)", ""]
    top10 = score["top_10pct"]
    compared = [f"{top10 / random['top_10pct']:.1f} times the fires that random visits "
                "would find"]
    if imd is not None:
        compared.append(f"{top10 / imd['top_10pct']:.2f} times what IMD alone would")
    lines.append(textwrap.fill(
        f"The top 10% of households by the score held {top10:.1f}% of the later fires: "
        f"{' and '.join(compared)}. Each area's own past rate alone held "
        f"{own['top_10pct']:.1f}% (area under the curve {own['auc']:.3f}, against "
        f"{score['auc']:.3f} for the score).", WIDTH))
    return "\n".join(lines)


def with_block(text: str, block: str) -> str:
    """``text`` with what lies between the markers replaced by ``block``."""
    pattern = re.compile(re.escape(START) + r"\n.*?\n" + re.escape(END), re.S)
    if len(pattern.findall(text)) != 1:
        raise SystemExit(f"the README needs the backtest markers once each:\n{START}\n{END}")
    return pattern.sub(lambda _: f"{START}\n{block}\n{END}", text)


def main() -> int:
    from community_safety.core.store.folders import atomic_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("segmentation", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    result = run_backtest(args.segmentation, args.out)
    args.docs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.out / "capture_curve.png", args.docs / "capture_curve.png")
    text = with_block(args.readme.read_text(encoding="utf-8"), readme_block(result))
    with atomic_file(args.readme) as work:
        Path(work).write_text(text, encoding="utf-8")
    print(f"wrote {args.docs / 'capture_curve.png'} and the backtest figures in "
          f"{args.readme.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
