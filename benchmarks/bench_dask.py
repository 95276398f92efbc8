"""Full re-match on a local Dask cluster: 1 vs 2 worker processes, same population, same run.

The population of `benchmarks.bench_rematch` (N families, C children) is indexed once; then
`matching.service.distributed.shards_on_dask` (what `reunite match --all --dask` runs between reading the database
and storing) searches every child on a local cluster of 1, then 2 worker processes (one thread each): the index
snapshot written once, children in 8 shards per worker, results streamed back (here counted, not stored). Wall
time includes starting the cluster and each worker loading the snapshot; the load average is printed, since the
machine may be shared. The local re-match on one process (`rematch_batches`) is the baseline of the same run.

    .venv/bin/python -m benchmarks.bench_dask [--families 20000] [--children 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks.bench_rematch import _population
from matching.frequencies import FrequencyTable
from matching.search import MatchIndex, SearchResult
from matching.service.distributed import shards_on_dask
from matching.service.rematch import rematch_batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--children", type=int, default=400)
    args = parser.parse_args()
    print("command:", ".venv/bin/python -m benchmarks.bench_dask", *sys.argv[1:])
    table = FrequencyTable.default()
    index = MatchIndex(table)
    index.add_many(_population(table, args.families, args.children, 2026))
    units = sum(len(p) for k, p in index.pools.items() if k != "child")
    pairs = units * args.children
    print(f"{args.families:,} families ({units:,} units) x {args.children:,} children = {pairs:,} pairs")
    t0, c0 = time.perf_counter(), time.process_time()
    found = sum(len(r.comparisons) for _, batch in rematch_batches(index, 1) for r, _ in batch)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"baseline, local re-match on one process: {wall:.1f} s wall, {cpu:.1f} s CPU, {found} comparisons,"
          f" {pairs / cpu:,.0f} pairs per CPU-second; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    pair_tables = index.identical_pairs()
    walls = {}
    for workers in (1, 2):
        got: list[int] = []

        def count(results: list[SearchResult], got: list[int] = got) -> None:
            got.append(sum(len(r.comparisons) for r in results))

        t0 = time.perf_counter()
        shards, n = shards_on_dask(index, pair_tables, count, workers=workers)
        walls[workers] = time.perf_counter() - t0
        print(
            f"Dask, {n} worker(s), {shards} shards: {walls[workers]:.1f} s wall, {sum(got)} comparisons,"
            f" {pairs / walls[workers] / n:,.0f} pairs per second per worker; load average {os.getloadavg()[0]:.1f}"
        )
    print(f"speed-up 1 -> 2 Dask workers (wall): {walls[1] / walls[2]:.2f}x")


if __name__ == "__main__":
    main()
