"""The README's backtest figures are what `make backtest` gives now: the chain of
scripts/backtest_camden.sh run again here, and the README's text between the backtest
markers compared with the text the script writes (rounded once from full precision)."""

from __future__ import annotations

import importlib.util
import subprocess

import pandas as pd
import pytest
from conftest import REPO_ROOT, SAMPLE_DIR

from community_safety.core.store.backtest_columns import columns

CLI = [str(REPO_ROOT / ".venv" / "bin" / "community-safety")]


def script():
    spec = importlib.util.spec_from_file_location(
        "readme_backtest", REPO_ROOT / "scripts" / "readme_backtest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backtest")
    gpkg = folder / "camden" / "segmentation.gpkg"
    for args in (["segment", SAMPLE_DIR / "camden.toml", "--out", gpkg.parent, "--no-plots"],
                 ["gazetteer", gpkg, SAMPLE_DIR / "postcodes.csv", "--id", "Postcode", "--x",
                  "Eastings", "--y", "Northings"]):
        subprocess.run(CLI + [str(a) for a in args], check=True, capture_output=True)
    return script().run_backtest(gpkg, folder / "out"), folder / "out"


def test_the_readme_holds_the_figures_make_backtest_gives(backtest):
    module = script()
    result, _ = backtest
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(module.START + "\n")[1].split("\n" + module.END)[0]
    assert shown == module.readme_block(result), "run `make backtest` and commit README.md"


def test_the_figures_are_rounded_once_from_full_precision(backtest):
    module = script()
    result, out = backtest
    block = module.readme_block(result)
    score = result.table.iloc[0]
    assert score["ranking"] == module.SCORE
    assert f"| {score['top_10pct']:.1f}% |" in block
    assert round(score["top_10pct"], 2) != score["top_10pct"]  # the result is not rounded
    written = pd.read_csv(out / "backtest.csv")  # the CSV: 1 place, rounded once
    assert written[columns("top_10pct")[0]].tolist() == result.table["top_10pct"].round(
        1).tolist()
    with pytest.raises(SystemExit):
        module.with_block("no markers here", block)
