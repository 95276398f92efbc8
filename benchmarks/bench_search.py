"""The matching index at scale: build (`MatchIndex.add_many`), memory, and one search each way, end to end.

N unrelated couples (case i: a father and a mother typed on the 23 shipped markers) are streamed into a
`MatchIndex` in the worker's start-up path (`add_many`); the drawing of the profiles is timed apart and
subtracted. Then one child (of a planted couple) is searched against every family, and that couple against N/10
unrelated children plus the child: identity against every profile, the pruned scans, and the exact recomputation
of the hits with `matching.kinship`, with the default stepwise mutation model.

    .venv/bin/python -m benchmarks.bench_search [--families 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
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
    args = parser.parse_args()
    table = FrequencyTable.default()
    rng = np.random.default_rng(2026)
    drawing = [0.0]
    planted: list[Profile] = []

    def entries(n: int, chunk: int = 50_000) -> Iterator[Entry]:
        for start in range(0, n, chunk):
            t0 = time.perf_counter()
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
            yield from block

    before = _rss_mb()
    index = MatchIndex(table)
    t0 = time.perf_counter()
    index.add_many(entries(args.families))
    build = time.perf_counter() - t0 - drawing[0]
    after = _rss_mb()
    print(f"add_many: {args.families:,} families ({2 * args.families:,} profiles) in {build:.1f} s")
    print(f"  (drawing the profiles, subtracted: {drawing[0]:.1f} s)")
    print(f"  resident memory of the index: about {after - before:.0f} MB (RSS growth; entries streamed)")

    kid = child_of(planted[0], planted[1], rng)
    index.add(Entry("kid", -1, -1, Side.CHILD, "child", "unknown", kid))
    children = random_profiles(table, rng, args.families // 10)
    index.add_many(
        Entry(f"c{i}", -10 - i, -10 - i, Side.CHILD, "child", "unknown", p) for i, p in enumerate(children)
    )
    for name, pid in (("child -> families", "kid"), ("couple -> children", "m0")):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            result = index.search(pid)
            times.append(time.perf_counter() - t0)
        found = [
            (c.relationship, c.child_profile_id, c.family_profile_ids, round(c.log10_lr, 2))
            for c in result.comparisons
        ]
        print(
            f"search {name}: median {statistics.median(times) * 1000:.0f} ms over {result.compared:,} compared; {found}"
        )


if __name__ == "__main__":
    main()
