"""k-means against R's kmeans (Hartigan-Wong) in the same run, on real data, and the
engine's other k-means figures; rewrites the table in README.md's performance section (after
every k, so that an interrupted run still leaves the rows it measured; rows of runs not
measured, such as other k, are kept).

    .venv/bin/python benchmarks/kmeans_vs_r.py --census FOLDER            # everything
    .venv/bin/python benchmarks/kmeans_vs_r.py --census FOLDER --ks 10,15  # some k only
    .venv/bin/python benchmarks/kmeans_vs_r.py --census FOLDER --quick     # k = 10, one seed
    .venv/bin/python benchmarks/kmeans_vs_r.py ... --london DIR --no-readme

- national (real): the 188,880 output areas of England and Wales x 60 Census 2021
  percentage variables, z-scored (``census_national.py``: FOLDER is the parquet folder of
  https://github.com/alexsingleton/Census_2021_Output_Areas, which is not in this
  repository; without it these rows are skipped and the script says how to get it). For
  k = 5, 10, 15, 20, 30 and seeds 2011, 1, 2: the engine (10 starts; more where they
  disagree, as the fit says) and R's kmeans (10 starts, Hartigan-Wong, iter.max = 100) with
  the same seed; goals: the engine's WCSS no worse than R's best of the three seeds, for
  every seed, in at most 0.05 of R's time for the same seed. R gets the matrix through a
  binary file of float64 (readBin), so its time is kmeans alone, timed inside R with
  system.time. Skipped with a message where Rscript is missing (Debian: apt-get install
  r-base-core).
- London (real, with --london DIR, the development pack's ``census2021_oa`` folder): the
  same 60 variables for its 12,495 areas, k = 10, against R.
- many starts: 1,000 starts on 1,000 areas drawn from the national matrix (real); 10,000
  starts on the Camden sample (749 areas, the sample project's variables, winsorised as it
  says; real).
- choose-k: k = 2..20 on the national matrix (real), 10 starts each.
- pipeline: peak memory of the national pipeline on SYNTHETIC data (segment_national.py
  --phase pipeline: the real tables are not in the project's input format).

The machine's other jobs make every time noisy: compare the ratios of the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
LOAD_AT_START = 0.0
PREVIOUS: dict[str, str] = {}  # README's table block before this run rewrote it
sys.path.insert(0, str(HERE))
from segment_national import N_INIT, SEED, K  # noqa: E402

R_SCRIPT = """
x <- readBin("{path}", "double", n = {n} * {p}, endian = "little")
dim(x) <- c({n}, {p})
set.seed({seed})
elapsed <- system.time(fit <- kmeans(x, {k}, nstart = {starts}, iter.max = 100,
                                     algorithm = "Hartigan-Wong"))[["elapsed"]]
cat(sprintf("%.6f %.6f\\n", elapsed, fit$tot.withinss))
"""


def run_r(X: np.ndarray, k: int, starts: int, seed: int) -> dict | None:
    if shutil.which("Rscript") is None:
        print("R: Rscript not found, R's kmeans skipped (Debian: apt-get install r-base-core)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.bin"
        np.asfortranarray(X, dtype="<f8").T.tofile(path)  # column-major, as R holds it
        script = R_SCRIPT.format(path=path, n=len(X), p=X.shape[1], seed=seed, k=k,
                                 starts=starts)
        start = time.perf_counter()
        done = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True,
                              check=True)
        whole = time.perf_counter() - start
    elapsed, wcss = (float(v) for v in done.stdout.split())
    notes = " ".join(line.strip() for line in done.stderr.splitlines() if line.strip())
    return {"seconds": elapsed, "wcss": wcss, "with_start": whole, "notes": notes}


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def camden_matrix() -> np.ndarray:
    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.prepare import prepare

    sample = HERE.parent / "resources" / "sample_data" / "camden" / "camden.toml"
    return prepare(load_project(sample)).X


KS = (5, 10, 15, 20, 30)
NATIONAL_SEEDS = (SEED, 1, 2)
GOAL = 0.05  # engine time / R's time for the same seed, at most


def engine_fit(X: np.ndarray, k: int, seed: int, n_init: int = N_INIT):
    from community_safety.core.segment.kmeans import fit_kmeans

    return timed(fit_kmeans, X, k, n_init=n_init, seed=seed)


def versus_r(X: np.ndarray, what: str, k: int, seeds) -> list[tuple]:
    """The engine and R for one k and each seed: printed, and the table rows (the last
    row's WCSS cell says whether every seed's WCSS is within R's best)."""
    rows, results = [], []
    for seed in seeds:
        fit, ours = engine_fit(X, k, seed)
        print(f"engine  {what}, k = {k}, seed {seed}: {ours:.2f} s, WCSS {fit.wcss:,.3f}, "
              f"{fit.n_starts} starts, {fit.restarts} restarts (best reached by "
              f"{fit.best_found}), group moves kept: {fit.group_moves}, "
              f"{fit.n_iter} polish steps" + (f"; {fit.note}" if fit.note else ""), flush=True)
        r = run_r(X, k, N_INIT, seed)
        if r:
            print(f"R       {r['seconds']:.2f} s inside R ({r['with_start']:.2f} s with R's "
                  f"start and reading), WCSS {r['wcss']:,.3f}; ratio {ours / r['seconds']:.3f}"
                  + (f"; R said: {r['notes']}" if r["notes"] else ""), flush=True)
        results.append((seed, fit, ours, r))
    r_best = min((r["wcss"] for *_, r in results if r), default=None)
    for seed, fit, ours, r in results:
        starts = (f"{fit.n_starts}" + (f" + {fit.restarts} restarts" if fit.restarts else "")
                  + (f" (best reached by {fit.best_found})"
                     if fit.n_starts > N_INIT or fit.restarts else "")
                  + (f"; {fit.group_moves} group move" + "s" * (fit.group_moves > 1)
                     if fit.group_moves else ""))
        wcss = f"engine {fit.wcss:,.1f}"
        if r:
            wcss += f", R {r['wcss']:,.1f}; engine - R's best {fit.wcss - r_best:+,.3f}"
        rows.append((f"{what}, k = {k}, seed {seed}", f"{ours:.2f} s",
                     f"{r['seconds']:.2f} s" if r else "R missing",
                     (f"{ours / r['seconds']:.3f} (goal ≤ {GOAL})" if r else ""), wcss, starts))
    if r_best is not None:
        worst = max(fit.wcss for _, fit, *_ in results)
        ratios = [ours / r["seconds"] for _, _, ours, r in results]
        print(f"k = {k}: worst engine WCSS - R's best {worst - r_best:+,.3f} (goal <= 0); "
              f"ratios {min(ratios):.3f}-{max(ratios):.3f} (goal <= {GOAL})", flush=True)
    return rows


def phase_line(phase: str) -> tuple[str, str]:
    """The phase's output, and its last error line if it failed ("" if not)."""
    done = subprocess.run([sys.executable, str(HERE / "segment_national.py"), "--phase", phase],
                          capture_output=True, text=True)
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    return done.stdout, (errors[-1].replace("|", "/") if done.returncode and errors else "")


HEADER = ["| k-means run (real data unless it says synthetic) | engine | R | ratio / goal | "
          "WCSS | starts |", "|---|---|---|---|---|---|"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--census", help="the parquet folder of alexsingleton/"
                        "Census_2021_Output_Areas (see census_national.py)")
    parser.add_argument("--london", help="the London pack's census2021_oa folder (CSV)")
    parser.add_argument("--ks", default=",".join(map(str, KS)), help="k values, e.g. 10,15")
    parser.add_argument("--seeds", default=",".join(map(str, NATIONAL_SEEDS)))
    parser.add_argument("--quick", action="store_true",
                        help="k = 10, one seed; no choose-k, no pipeline")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite README.md")
    args = parser.parse_args()
    global LOAD_AT_START
    LOAD_AT_START = os.getloadavg()[0]
    from community_safety.core.segment.choosing_k import choose_k
    from community_safety.core.segment.kmeans import fit_kmeans

    ks = [10] if args.quick else [int(k) for k in args.ks.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")][:1 if args.quick else None]
    rows: list[tuple] = []

    def publish():
        table = HEADER + [f"| {' | '.join(row)} |" for row in rows]
        print("\n".join(table), flush=True)
        if not args.no_readme:
            write_readme(table, " ".join(
                f"--{name} {'FOLDER' if name in ('census', 'london') else value}"
                for name, value in (("census", args.census), ("london", args.london),
                                    ("ks", ",".join(map(str, ks))),
                                    ("seeds", ",".join(map(str, seeds))))
                if value))

    fit_kmeans(np.random.default_rng(0).normal(size=(2000, 60)), K, n_init=2, seed=1)
    # the quick rows first, then the national ones (R's long runs), each k published
    camden = camden_matrix()
    fit, seconds = engine_fit(camden, K, SEED, n_init=10_000)
    print(f"engine  10,000 starts on Camden ({len(camden)} x {camden.shape[1]}): "
          f"{seconds:.2f} s (goal <= 5 s)")
    rows.append((f"10,000 starts, Camden sample {len(camden)} x {camden.shape[1]}, k = 10",
                 f"{seconds:.2f} s", "", "goal ≤ 5 s", f"{fit.wcss:,.3f}", f"{fit.n_starts}"))
    national = None
    if args.census:
        from census_national import national_matrix

        national, _ = national_matrix(args.census)
        small = national[np.sort(np.random.default_rng(0).choice(len(national), 1000,
                                                                 replace=False))]
        fit, seconds = engine_fit(small, K, SEED, n_init=1000)
        print(f"engine  1,000 starts on 1,000 national areas x 60: {seconds:.2f} s")
        rows.append(("1,000 starts, 1,000 national areas x 60, k = 10", f"{seconds:.2f} s", "",
                     "goal ≤ 1 s", f"{fit.wcss:,.1f}", f"{fit.n_starts}"))
    else:
        from census_national import HOW_TO_GET

        print(f"national rows skipped: no --census FOLDER ({HOW_TO_GET})")
    if args.london:
        from census_national import national_matrix

        london, _ = national_matrix(args.london, kind="csv")
        rows += versus_r(london, f"London pack {len(london):,} x {london.shape[1]}", K,
                         seeds[:1])
    publish()
    if national is not None:
        what = f"national {len(national):,} x {national.shape[1]}"
        for k in ks:
            rows += versus_r(national, what, k, seeds)
            publish()
    if not args.quick and national is not None:
        _, wall = timed(choose_k, national, range(2, 21), n_init=N_INIT, seed=SEED)
        print(f"choose-k 2..20 on the national matrix: {wall:.1f} s")
        rows.append(("choose-k 2..20, national, 10 starts each", f"{wall:.1f} s", "",
                     "goal ≤ 60 s", "", ""))
    if not args.quick:
        out, error = phase_line("pipeline")
        what = "SYNTHETIC national pipeline 188,880 x 60, files to GeoPackage: peak memory"
        if error:
            print(f"pipeline failed: {error}")
            rows.append((what, f"failed: {error}", "", "goal ≤ 1,536 MB", "", ""))
        else:
            print(out.strip())
            peak = float(re.search(r"peak (\d+) MB", out).group(1))
            rows.append((what, f"{peak:,.0f} MB", "", "goal ≤ 1,536 MB", "", ""))
    publish()
    return 0


def merged_rows(previous: str, table: list[str]) -> tuple[list[str], bool]:
    """The table's rows merged into the ``previous`` block's: a row measured now replaces
    the row of the same run (its first cell) where it stood, rows of runs not measured now
    (another k, choose-k, ...) stay, new runs go after the last row of the same data (or
    at the end); and whether any row stayed."""
    def label(line: str) -> str:
        return line.split("|")[1].strip()

    rows = table[len(HEADER):]
    now = {label(line): line for line in rows}
    before = [line for line in previous.splitlines()
              if line.startswith("| ") and line not in HEADER and not line.startswith(
                  HEADER[0][:20])]
    merged = [now.pop(label(line), line) for line in before]
    kept = any(label(line) not in {label(r) for r in rows} for line in before)
    for line in now.values():  # after the last row of the same data, else at the end
        same = [i for i, row in enumerate(merged)
                if label(row).split(", k =")[0] == label(line).split(", k =")[0]]
        merged.insert(same[-1] + 1 if same else len(merged), line)
    return HEADER + merged, kept


def write_readme(table: list[str], arguments: str) -> None:
    text = README.read_text()
    start, end = "<!-- kmeans-benchmark -->", "<!-- /kmeans-benchmark -->"
    if start not in text or end not in text:
        print(f"README.md has no {start} ... {end} block: not rewritten")
        return
    machine = (f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} "
               f"cores, load average {LOAD_AT_START:.1f} at the start (other jobs make the "
               "times noisy)")
    before, rest = text.split(start, 1)
    previous = PREVIOUS.setdefault("block", rest.split(end, 1)[0])  # as the run found it
    table, kept = merged_rows(previous, table)
    caption = (f"*`benchmarks/kmeans_vs_r.py {arguments}`, {time.strftime('%Y-%m-%d %H:%M')}, "
               f"{machine}; R and the engine timed in the same run.*")
    # the runs the rows not measured now come from: every earlier caption but those of the
    # same command (whose rows this run measured again)
    earlier = [c for c in re.findall(r"\*`benchmarks/kmeans_vs_r\.py[^*]*\*", previous)
               if not c.startswith(f"*`benchmarks/kmeans_vs_r.py {arguments}`")]
    if kept and earlier:
        caption += ("\n\nRows not measured in that run are kept from earlier runs: "
                    + " ".join(dict.fromkeys(earlier)))
    block = f"{start}\n{caption}\n\n" + "\n".join(table) + f"\n{end}"
    README.write_text(before + block + rest.split(end, 1)[1])
    print("README.md: table rewritten" + (" (rows of runs not measured now kept)"
                                          if kept else ""))

if __name__ == "__main__":
    sys.exit(main())
