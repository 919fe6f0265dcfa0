"""National-scale gazetteer join: 30 million address points into 188,880 output areas.

    .venv/bin/python benchmarks/gazetteer_national.py [--points 30000000] [--chunk 2000000]

The areas are synthetic but shaped like real ones: a Voronoi tessellation of 188,880 random
sites over a 600 x 600 km square, densified so that areas average about 30 vertices. The
points stream through in chunks (the engine's join never holds all 30 million at once):

- by code: each point carries its area's code (as an LLPG/AddressBase extract does);
- by location: point-in-polygon through the STRtree, with the shared-boundary rule.

Generating each chunk is not timed; the join is. Prints throughput and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import geopandas as gpd
import numpy as np
import shapely

from community_safety.core.data.locate import AreaIndex

N_AREAS = 188_880
EXTENT = 600_000.0


def synthetic_areas(seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    sites = shapely.multipoints(rng.uniform(0, EXTENT, size=(N_AREAS, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=shapely.box(
        0, 0, EXTENT, EXTENT)))
    cells = shapely.intersection(cells, shapely.box(0, 0, EXTENT, EXTENT))
    cells = shapely.segmentize(cells, max_segment_length=60.0)
    codes = [f"E00{i:06d}" for i in range(len(cells))]
    return gpd.GeoDataFrame(index=codes, geometry=cells, crs=27700)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=30_000_000)
    parser.add_argument("--chunk", type=int, default=2_000_000)
    args = parser.parse_args()

    start = time.perf_counter()
    areas = synthetic_areas()
    vertices = shapely.get_num_coordinates(areas.geometry.values).mean()
    built = time.perf_counter()
    index = AreaIndex(areas)
    indexed = time.perf_counter()
    print(f"areas      {len(areas):,} polygons, {vertices:.0f} vertices on average: made in "
          f"{built - start:.1f} s, spatial index built in {indexed - built:.1f} s")

    rng = np.random.default_rng(1)
    codes = index.codes.to_numpy()
    by_code = by_location = 0.0
    matched_code = matched_location = agree = 0
    done = 0
    while done < args.points:
        n = min(args.chunk, args.points - done)
        truth = rng.integers(0, len(codes), n)
        chunk_codes = codes[truth]
        x = rng.uniform(0, EXTENT, n)
        y = rng.uniform(0, EXTENT, n)

        t = time.perf_counter()
        found = index.by_code(chunk_codes)
        by_code += time.perf_counter() - t
        matched_code += int((found == truth).sum())

        t = time.perf_counter()
        located = index.by_location(x, y)
        by_location += time.perf_counter() - t
        matched_location += int((located >= 0).sum())
        # check a sample against a direct containment test
        sample = rng.choice(n, 200, replace=False)
        agree += sum(int(areas.geometry.values[located[i]].intersects(shapely.Point(x[i], y[i])))
                     for i in sample)
        done += n
        print(f"  {done:>11,} points: by code {done / by_code:>12,.0f}/s, by location "
              f"{done / by_location:>10,.0f}/s, peak {peak_mb():,.0f} MB", flush=True)

    checked = 200 * -(-args.points // args.chunk)
    print(f"by code      {args.points:,} points in {by_code:.1f} s: "
          f"{args.points / by_code:,.0f} points/s ({matched_code:,} matched)")
    print(f"by location  {args.points:,} points in {by_location:.1f} s: "
          f"{args.points / by_location:,.0f} points/s ({matched_location:,} inside an area; "
          f"{agree}/{checked} sampled points confirmed inside their area)")
    print(f"peak memory  {peak_mb():,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
