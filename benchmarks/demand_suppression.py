"""Shared demand suppressed together: the views by ward and by segment of one run, against
the same suppression at an earlier commit, in the same run.

SYNTHETIC people (none is real): each with a home ward and a segment, contacts with six
services (heavy-tailed: a few people account for most), ranked on their contacts, then
counted by ward and by segment as the demand step counts them (people, contacts, each
total, the people in the top 1% and 5% and their contacts). Both views are suppressed
together at threshold 5 (``demand.shared_view.suppress_views``) by this working tree and
by the engine as it was at ``--previous`` (read from git, loaded beside this one), on the
same counts; prints each time, the ratio and whether the two hide the same cells.

    .venv/bin/python benchmarks/demand_suppression.py [--wards 600] [--people 150000]
                                                      [--previous 7b23c89]

The machine's other jobs make times noisy: compare the ratio of the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "community_safety"
# the modules whose earlier versions are loaded (the suppression and the views around it)
MODULES = ("core/share/suppression.py", "core/demand/shared_view.py")
SERVICES = ("crime", "custody", "calls", "missing", "fire", "asb")


def synthetic_counts(wards: int, people: int, segments: int = 10, seed: int = 3) -> dict:
    """The counts by ward and by segment of ``people`` SYNTHETIC people, as the demand step
    makes them (``group_counts``): people, contacts, each service's total, the top 1% and
    5% of everyone (by contacts) and their contacts; a "home area not known" row."""
    from community_safety.core.demand.shared_view import NOT_KNOWN, top_contacts, top_people

    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.5, people) + 0.2
    counts = {s: rng.poisson(weight * rate) for s, rate in
              zip(SERVICES, (1.2, 0.2, 0.9, 0.05, 0.1, 0.15))}
    contacts = sum(counts.values())
    order = np.argsort(-contacts, kind="stable")
    rank = np.empty(people, dtype=int)
    rank[order] = np.arange(1, people + 1)
    ward = rng.zipf(1.3, people) % wards  # some wards far busier than others
    frame = pd.DataFrame({"people": 1.0, "contacts": contacts.astype(float),
                          **{s: c.astype(float) for s, c in counts.items()}})
    for share in (1, 5):
        top = rank <= max(1, math.ceil(people * share / 100))
        frame[top_people(share)] = top.astype(float)
        frame[top_contacts(share)] = np.where(top, contacts, 0).astype(float)
    known = rng.random(people) > 0.03
    by_ward = np.where(known, pd.Series(ward).map("W{:04d}".format), NOT_KNOWN)
    segment = np.where(known, (ward * 7 + rng.integers(0, 3, people)) % segments + 1, 0)
    by_segment = np.where(segment > 0, pd.Series(segment).map("{} – segment".format),
                          NOT_KNOWN)
    return {by: frame.groupby(group).sum() for by, group in
            (("segment", by_segment), ("ward", by_ward))}


def _load(name: str, source: str):
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = name.rpartition(".")[0]
    exec(compile(source, f"<{name} at the previous commit>", "exec"), module.__dict__)
    return module


def previous_modules(commit: str) -> dict:
    """``MODULES`` as they were at ``commit``: module name -> module (not registered)."""
    modules = {}
    for path in MODULES:
        source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
        name = PACKAGE + "." + path.removesuffix(".py").replace("/", ".")
        modules[name] = source
    return modules


@contextmanager
def using(sources: dict):
    """The engine with the given modules' earlier versions in place (their lazy imports
    of each other find them), the current ones put back after."""
    import importlib

    kept = {name: importlib.import_module(name) for name in sources}
    try:
        for name, source in sources.items():
            sys.modules[name] = _load(name, source)
        yield sys.modules[PACKAGE + ".core.demand.shared_view"]
    finally:
        sys.modules.update(kept)


def timed(suppress_views, counts: dict) -> tuple[float, dict]:
    start = time.perf_counter()
    shown = suppress_views(counts, 5)
    return time.perf_counter() - start, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wards", type=int, default=600)
    parser.add_argument("--people", type=int, default=150_000)
    parser.add_argument("--previous", default="7b23c89")
    args = parser.parse_args()
    from community_safety.core.demand import shared_view

    counts = synthetic_counts(args.wards, args.people)
    rows = {by: len(table) for by, table in counts.items()}
    primary = sum(int(((t >= 1) & (t <= 5)).to_numpy().sum()) for t in counts.values())
    print(f"{args.people:,} SYNTHETIC people in {rows['ward']:,} ward rows and "
          f"{rows['segment']} segment rows, {len(next(iter(counts.values())).columns)} "
          f"columns; {primary:,} counts of 1 to 5")
    now, shown = timed(shared_view.suppress_views, counts)
    with using(previous_modules(args.previous)) as before:
        then, shown_before = timed(before.suppress_views, counts)
    hidden = sum(int(t.isna().to_numpy().sum()) for t in shown.values())
    same = all(shown[by].isna().equals(shown_before[by].isna()) for by in shown)
    print(f"this tree: {now:.1f} s ({hidden:,} cells hidden); at {args.previous}: "
          f"{then:.1f} s; ratio {now / then:.2f}; same cells hidden: "
          f"{'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
