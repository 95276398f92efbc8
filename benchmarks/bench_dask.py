"""Full re-match on a local Dask cluster: 1 vs 2 worker processes, same population, same run, phase by phase.

The population of `benchmarks.bench_rematch` (N families, C children) is indexed once; then
`matching.service.distributed.shards_on_dask` (what `reunite match --all --dask` runs between reading the database
and storing) searches every child on a local cluster of 1, then 2 worker processes (one thread each): the index
snapshot written once and loaded by every worker at once, children in shards largest first, results streamed back
(here counted, not stored). Each run prints its phases' wall times: starting the cluster (processes, imports),
writing the snapshot, the workers loading it (and their compiled kernels), the scan phase (first shard submitted
to last result), closing; "whole" is their sum, the command's wall time between building the index and storing.
The local re-match on one process (`rematch_batches`, one thread) is the CPU baseline of the same run. The load
average is printed: on a shared machine two workers may not get two cores.

    .venv/bin/python -m benchmarks.bench_dask [--families 100000] [--children 5000]   # the issue's size
    .venv/bin/python -m benchmarks.bench_dask --families 5000 --children 200          # a smoke run
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks.bench_rematch import _population
from matching import fast
from matching.frequencies import FrequencyTable
from matching.search import MatchIndex, SearchResult
from matching.service.distributed import DaskOptions, DaskTimes, shards_on_dask
from matching.service.rematch import rematch_batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--children", type=int, default=5_000)
    args = parser.parse_args()
    print("command:", ".venv/bin/python -m benchmarks.bench_dask", *sys.argv[1:])
    table = FrequencyTable.default()
    index = MatchIndex(table)
    index.add_many(_population(table, args.families, args.children, 2026))
    units = sum(len(p) for k, p in index.pools.items() if k != "child")
    pairs = units * args.children
    print(f"{args.families:,} families ({units:,} units) x {args.children:,} children = {pairs:,} pairs")
    serial, fast.SERIAL_BELOW = fast.SERIAL_BELOW, 2**62  # one thread, as a Dask worker
    t0, c0 = time.perf_counter(), time.process_time()
    found = sum(len(r.comparisons) for _, batch in rematch_batches(index, 1) for r, _ in batch)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    fast.SERIAL_BELOW = serial
    print(f"baseline, local re-match on one process, one thread: {wall:.1f} s wall, {cpu:.1f} s CPU"
          f" ({cpu / args.children * 1000:.1f} ms per child), {found} comparisons,"
          f" {pairs / cpu:,.0f} pairs per CPU-second; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    identical = index.identical_pairs()
    runs: dict[int, DaskTimes] = {}
    for workers in (1, 2):
        got: list[int] = []

        def count(results: list[SearchResult], got: list[int] = got) -> None:
            got.append(sum(len(r.comparisons) for r in results))

        shards, n, times = shards_on_dask(index, identical, count, DaskOptions(workers=workers))
        runs[workers] = times
        print(
            f"Dask, {n} worker(s), {shards} shards, {sum(got)} comparisons: whole {times.whole:.1f} s wall ="
            f" start {times.start:.1f} + snapshot write {times.snapshot:.1f} + load {times.load:.1f}"
            f" + scan {times.scan:.1f} + close {times.close:.1f};"
            f" scan {pairs / times.scan / n:,.0f} pairs per second per worker; load average {os.getloadavg()[0]:.1f}"
        )
    one, two = runs[1], runs[2]
    print(f"speed-up 1 -> 2 Dask workers: whole {one.whole / two.whole:.2f}x, scan phase {one.scan / two.scan:.2f}x;"
          f" serial (start + snapshot + load + close) {one.whole - one.scan:.1f} s and"
          f" {two.whole - two.scan:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
