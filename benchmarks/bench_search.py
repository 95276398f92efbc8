"""The matching index at scale: build (`MatchIndex.add_many`), memory, and one search each way, end to end.

N unrelated couples (case i: a father and a mother typed on the 23 shipped markers) are streamed into a
`MatchIndex` in the worker's start-up path (`add_many`); the drawing of the profiles is timed apart and
subtracted. Then one child (of a planted couple) is searched against every family, and that couple against N/10
unrelated children plus the child: identity against every profile, the pruned scans, and the exact recomputation
of the hits with `matching.kinship`, with the default stepwise mutation model.

Memory: the resident set's growth over the build (RSS, what the machine pays, allocator slack included), the bytes
the index's arrays hold (`MatchIndex.memory`), and with `--tracemalloc` a second, traced build of the same
families: the bytes Python allocated and the index still holds once the entries are gone. Each is also given per
million families. `make bench-search` runs it at 1,000,000 families.

    .venv/bin/python -m benchmarks.bench_search [--families 1000000] [--repeats 3] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterator

import numpy as np

from matching.frequencies import FrequencyTable
from matching.profiles import Profile
from matching.search import Entry, MatchIndex, Side
from matching.simulate import child_of, random_profiles


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace a second build's allocations")
    args = parser.parse_args()
    print("command:", ".venv/bin/python -m benchmarks.bench_search", *sys.argv[1:])
    table = FrequencyTable.default()
    rng = np.random.default_rng(2026)
    drawing = [0.0, 0.0]  # wall and CPU seconds spent drawing profiles
    planted: list[Profile] = []

    def entries(n: int, chunk: int = 50_000) -> Iterator[Entry]:
        for start in range(0, n, chunk):
            t0, c0 = time.perf_counter(), time.process_time()
            size = min(chunk, n - start)
            fathers, mothers = random_profiles(table, rng, size), random_profiles(table, rng, size)
            block = []
            for k in range(size):
                i = start + k
                block.append(Entry(f"f{i}", 2 * i, i, Side.FAMILY, "father", "male", fathers[k]))
                block.append(Entry(f"m{i}", 2 * i + 1, i, Side.FAMILY, "mother", "female", mothers[k]))
            if start == 0:
                planted.extend((fathers[0], mothers[0]))
            drawing[0] += time.perf_counter() - t0
            drawing[1] += time.process_time() - c0
            yield from block

    per_million = 1e6 / args.families
    before = _rss_mb()
    index = MatchIndex(table)
    t0, c0 = time.perf_counter(), time.process_time()
    index.add_many(entries(args.families))
    build = time.perf_counter() - t0 - drawing[0]
    cpu = time.process_time() - c0 - drawing[1]
    after = _rss_mb()
    arrays = index.memory() / 2**20
    print(
        f"add_many: {args.families:,} families ({2 * args.families:,} profiles) in {build:.1f} s wall, {cpu:.1f} s CPU"
        f" ({build * per_million:.1f} s wall per million families)"
    )
    print(f"  (drawing the profiles, subtracted: {drawing[0]:.1f} s)")
    print(
        f"  memory: RSS growth {after - before:.0f} MB ({(after - before) * per_million:.0f} MB per million"
        f" families; entries streamed), the index's arrays {arrays:.0f} MB ({arrays * per_million:.0f} MB per million)"
    )

    kid = child_of(planted[0], planted[1], rng)
    index.add(Entry("kid", -1, -1, Side.CHILD, "child", "unknown", kid))
    children = random_profiles(table, rng, args.families // 10)
    index.add_many(
        Entry(f"c{i}", -10 - i, -10 - i, Side.CHILD, "child", "unknown", p) for i, p in enumerate(children)
    )
    for name, pid in (("child -> families", "kid"), ("couple -> children", "m0")):
        times: list[float] = []
        cpus: list[float] = []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            result = index.search(pid)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        found = [
            (c.relationship, c.child_profile_id, c.family_profile_ids, round(c.log10_lr, 2))
            for c in result.comparisons
        ]
        print(
            f"search {name}: median {statistics.median(times) * 1000:.0f} ms wall,"
            f" {statistics.median(cpus) * 1000:.0f} ms CPU (all threads), over {result.compared:,} compared; {found}"
        )
    if args.tracemalloc:  # after the timed build, so that its RSS growth is not memory freed by this one
        del index
        traced = MatchIndex(table)
        tracemalloc.start()
        traced.add_many(entries(args.families))
        held = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        print(
            f"tracemalloc: the index holds {held:.0f} MB after add_many"
            f" ({held * per_million:.0f} MB per million families)"
        )
        del traced


if __name__ == "__main__":
    main()
