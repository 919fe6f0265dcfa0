"""National-scale benchmark: 188,880 synthetic output areas x 60 variables, k = 10.

    .venv/bin/python benchmarks/segment_national.py            # all phases
    .venv/bin/python benchmarks/segment_national.py --phase kmeans|reference|pipeline|choose-k

Each phase runs in its own process so that its peak memory (max RSS) is its own. Prints:

- kmeans:    the engine's k-means (n_init = 10, full convergence): wall time, peak memory,
             within-cluster sum of squares (WCSS), iterations of the final pass;
- reference: scikit-learn's KMeans in double precision, tol = 0, n_init = 10, same data:
             the careful reference run the engine's WCSS is compared with;
- pipeline:  the whole segmentation from files (60-variable CSV, 188,880 square polygons in a
             GeoPackage, a deprivation table) to a saved GeoPackage, without box plots;
- choose-k:  diagnostics for k = 2..20 (n_init = 10, silhouette on a 10,000-area sample).

The synthetic areas: 12 latent area types in 60 dimensions with overlapping spread, so that
k-means has real work to do (it is not told the number of types).
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_AREAS, N_VARIABLES, K, N_INIT, SEED = 188_880, 60, 10, 10, 2011


def synthetic_matrix(n=N_AREAS, p=N_VARIABLES, types=12, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.0, size=(types, p))
    labels = rng.integers(0, types, size=n)
    return centres[labels] + rng.normal(0, 0.9, size=(n, p))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_kmeans() -> None:
    from community_safety.core.segment.kmeans import fit_kmeans

    X = synthetic_matrix()
    start = time.perf_counter()
    fit = fit_kmeans(X, K, n_init=N_INIT, seed=SEED)
    wall = time.perf_counter() - start
    print(f"kmeans     {N_AREAS:,} areas x {N_VARIABLES} vars, k={K}, n_init={N_INIT}: "
          f"{wall:.2f} s, peak {peak_mb():.0f} MB, WCSS {fit.wcss:,.1f}, "
          f"final pass {fit.n_iter} iterations, stability ARI {fit.stability:.3f}")


def phase_reference() -> None:
    from sklearn.cluster import KMeans

    X = synthetic_matrix()
    start = time.perf_counter()
    km = KMeans(K, n_init=N_INIT, random_state=SEED, tol=0.0, max_iter=3000).fit(X)
    wall = time.perf_counter() - start
    wcss = float(((X - km.cluster_centers_[km.labels_]) ** 2).sum())
    print(f"reference  scikit-learn float64, tol=0, n_init={N_INIT}: {wall:.2f} s, "
          f"peak {peak_mb():.0f} MB, WCSS {wcss:,.1f}")


def phase_pipeline() -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely import box

    from community_safety.core.project.project_file import load_project
    from community_safety.core.segment.build import build_segmentation
    from community_safety.core.segment.saved import save_segmentation

    X = synthetic_matrix()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        codes = [f"E00{i:06d}" for i in range(N_AREAS)]
        side = int(np.ceil(np.sqrt(N_AREAS)))
        x0 = 100_000 + (np.arange(N_AREAS) % side) * 200.0
        y0 = 100_000 + (np.arange(N_AREAS) // side) * 200.0
        areas = gpd.GeoDataFrame({"code": codes, "lsoa": [c[:-1] for c in codes]},
                                 geometry=box(x0, y0, x0 + 200, y0 + 200), crs=27700)
        areas.to_file(folder / "areas.gpkg", layer="areas", driver="GPKG", engine="pyogrio")
        table = pd.DataFrame(np.round(X * 10 + 50, 3),
                             columns=[f"v{j:02d}" for j in range(N_VARIABLES)])
        table.insert(0, "code", codes)
        table["residents"] = 300
        table.to_csv(folder / "variables.csv", index=False)
        deprivation = pd.DataFrame({"lsoa": sorted(set(areas["lsoa"]))})
        deprivation["rank"] = np.arange(1, len(deprivation) + 1)
        deprivation.to_csv(folder / "deprivation.csv", index=False)
        (folder / "project.toml").write_text(
            'name = "synthetic national"\n[boundaries]\npath = "areas.gpkg"\nlayer = "areas"\n'
            'code = "code"\n[[tables]]\npath = "variables.csv"\ncode = "code"\n'
            'context = ["residents"]\n[[tables]]\npath = "deprivation.csv"\ncode = "lsoa"\n'
            'join_on = "lsoa"\ncontext = ["rank"]\n'
            f"[segmentation]\nk = {K}\nn_init = {N_INIT}\nseed = {SEED}\n"
            '[deprivation]\ncolumn = "rank"\n[sizes]\nresidents = "residents"\n'
            "[screening]\nthreshold = 0.99\n")
        del X, areas, table, deprivation  # the generator's data: not the pipeline's memory
        gc.collect()
        before = peak_mb()
        start = time.perf_counter()
        seg = build_segmentation(load_project(folder / "project.toml"))
        built = time.perf_counter() - start
        save_segmentation(seg, folder / "out", plots=False)
        total = time.perf_counter() - start
        print(f"pipeline   files -> saved GeoPackage: build {built:.2f} s, with saving "
              f"{total:.2f} s, peak {peak_mb():.0f} MB (generating the files: {before:.0f} MB), "
              f"{len(seg.clustered)} variables "
              f"clustered, WCSS {seg.manifest['results']['wcss']:,.1f}")


def phase_choose_k() -> None:
    from community_safety.core.segment.choosing_k import choose_k

    X = synthetic_matrix()
    start = time.perf_counter()
    table = choose_k(X, range(2, 21), n_init=N_INIT, seed=SEED)
    wall = time.perf_counter() - start
    print(f"choose-k   k = 2..20, n_init={N_INIT}: {wall:.1f} s, peak {peak_mb():.0f} MB")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


PHASES = {"kmeans": phase_kmeans, "reference": phase_reference, "pipeline": phase_pipeline,
          "choose-k": phase_choose_k}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", choices=sorted(PHASES))
    args = parser.parse_args()
    if args.phase:
        PHASES[args.phase]()
        return 0
    for phase in PHASES:
        subprocess.run([sys.executable, __file__, "--phase", phase], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
