"""The matching index at scale: build (`MatchIndex.add_many`), memory, and one search each way, end to end.

N unrelated couples (case i: a father and a mother typed on the 23 shipped markers) are streamed into a
`MatchIndex` in the worker's start-up path (`add_many`); the drawing of the profiles is timed apart and
subtracted. Then one child (of a planted couple) is searched against every family, and that couple against N/10
unrelated children plus the child: identity against every profile, the pruned scans, and the exact recomputation
of the hits with `matching.kinship`, with the default stepwise mutation model.

Then the scan alone (`--scan-children K`, default 20): K children of couples drawn from the index, each scanned
against every couple by the exact pruned trio scan with the stepwise model, on one thread (the one-thread build
of the kernel), CPU time per child (median of `--repeats` runs, then the median and mean over the children), the
child's tables timed apart. With `--baseline-fast FILE` (an earlier `matching/fast.py`, e.g. `git show
main:matching/fast.py > /tmp/fast_main.py`) the same scans run in the same process with that file's kernel on
two-byte codes, the baseline, and must give the same couples and bit-identical LRs. The separable scan (what a
search runs with theta 0: `SeparableTrioScorer`, two vectors per marker instead of a 2-D table, products in the
linear domain) runs on the same codes and must return every couple the 2-D scans return (and nothing more than
`fast.PRUNE_MARGIN` below the threshold). The child's per-child data are timed both ways: the 2-D tables and
marker order (`TrioScorer`), and the separable vectors with a cold cache of per-genotype orders and bounds (a
fresh `Transmission`, as for the first children of a re-match) and with a warm one (the same child again, as for
a child whose genotypes were seen before).

Memory: the resident set's growth over the build (RSS, what the machine pays, allocator slack included), the bytes
the index's arrays hold (`MatchIndex.memory`), and with `--tracemalloc` a second, traced build of the same
families: the bytes Python allocated and the index still holds once the entries are gone. Each is also given per
million families. `make bench-search` runs it at 1,000,000 families.

    .venv/bin/python -m benchmarks.bench_search [--families 1000000] [--repeats 3] [--tracemalloc]
        [--scan-children 20] [--baseline-fast /tmp/fast_main.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from matching import fast
from matching.batch import SeparableTrioScorer, TrioScorer
from matching.frequencies import FrequencyTable
from matching.profiles import Profile
from matching.search import DEFAULT_MUTATION, Entry, MatchIndex, Side
from matching.simulate import child_of, random_profiles


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_ms(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        times.append(time.process_time() - c0)
    return statistics.median(times) * 1000


def _baseline(path: str) -> ModuleType:
    """Load an earlier `matching/fast.py` (it imports nothing of the project) as a module of its own."""
    name = Path(path).stem  # numba's cache finds the module again by this name
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _same_couples(separable: tuple[Any, Any], exact: tuple[Any, Any], threshold: float, full: Any) -> None:
    """Check the separable scan found every couple of the 2-D scan and nothing more than the margin below."""
    extra = np.setdiff1d(separable[0], exact[0])
    assert np.isin(exact[0], separable[0]).all(), "the separable scan lost a couple"
    assert (full[extra] >= threshold - 2 * fast.PRUNE_MARGIN).all(), "the separable scan kept a couple below"


def _scan_child(
    trio: TrioScorer,
    separable: SeparableTrioScorer,
    codes: tuple[Any, Any],
    two_byte: tuple[Any, Any],
    base: ModuleType | None,
    threshold: float,
    repeats: int,
) -> tuple[tuple[Any, Any], dict[str, float]]:
    """Return one child's hits and the CPU ms of its scan by each kernel and layout (all checked equal)."""
    order = trio.order
    head = (trio.tables, trio.offsets, trio.rows)
    scans: dict[str, Callable[[], Any]] = {
        "planes": partial(trio.above, *codes, threshold),
        "two-byte": partial(
            fast.sum_above, *head, two_byte[0], threshold, pairs=(trio.strides, two_byte[1]), order=order
        ),
    }
    if base is not None:
        scans["baseline"] = partial(
            base.sum_trio_above,
            trio.tables,
            trio.offsets,
            trio.strides,
            trio.rows,
            *two_byte,
            threshold,
            order=order,
        )
    got = scans["planes"]()
    for scan in scans.values():
        other = scan()
        assert np.array_equal(other[0], got[0]) and np.array_equal(other[1], got[1]), "the scans differ"
    scans["separable"] = partial(separable.above, *codes, threshold)
    hits = scans["separable"]()
    full = fast.sum_trio(trio.tables, trio.offsets, trio.strides, trio.rows, *two_byte)
    _same_couples(hits, got, threshold, full)
    return got, {name: _cpu_ms(scan, repeats) for name, scan in scans.items()}


def scan_alone(index: MatchIndex, args: argparse.Namespace, rng: np.random.Generator) -> None:
    """Time the exact pruned trio scan alone, one thread, for several children (see the module docstring)."""
    pool = index.pools["trio_couple"]
    codes = (pool.codes(0), pool.codes(1))
    two_byte = (codes[0].full(), codes[1].full())
    base = _baseline(args.baseline_fast) if args.baseline_fast else None
    encoding = index.encoder.encoding
    threshold = math.log10(index.settings.inconclusive_lr) - 1e-6
    serial = fast.SERIAL_BELOW
    fast.SERIAL_BELOW = 2**62  # the one-thread build of every kernel
    if base is not None:
        base.SERIAL_BELOW = 2**62
    runs: dict[str, list[float]] = {
        "tables": [], "cold": [], "warm": [], "baseline": [], "two-byte": [], "planes": [], "separable": [],
    }  # fmt: skip
    stats = encoding.transmission(DEFAULT_MUTATION)._stats
    seen = dict(stats)
    try:
        for i in rng.choice(args.families, size=args.scan_children, replace=False).tolist():
            child = child_of(index.profile(f"f{i}"), index.profile(f"m{i}"), rng)
            c0 = time.process_time()
            trio = TrioScorer(encoding, child, DEFAULT_MUTATION)
            trio.order  # noqa: B018  (computed once per child, with the tables)
            runs["tables"].append((time.process_time() - c0) * 1000)
            stats.clear()  # cold: no genotype's order and bound known yet
            c0 = time.process_time()
            SeparableTrioScorer(encoding, child, DEFAULT_MUTATION)
            runs["cold"].append((time.process_time() - c0) * 1000)
            runs["warm"].append(
                _cpu_ms(lambda c=child: SeparableTrioScorer(encoding, c, DEFAULT_MUTATION), 3)
            )
            separable = SeparableTrioScorer(encoding, child, DEFAULT_MUTATION)
            got, times = _scan_child(trio, separable, codes, two_byte, base, threshold, args.repeats)
            assert index.slot(f"f{i}") in pool.owner[0, got[0]].tolist(), "the true couple was not found"
            for name, ms in times.items():
                runs[name].append(ms)
    finally:
        fast.SERIAL_BELOW = serial
        stats.clear()
        stats.update(seen)
    n = codes[0].shape[1]
    print(
        f"scan alone: {args.scan_children} children, each against {n:,} couples, one thread, CPU ms per child:"
    )
    labels = {
        "tables": "the child's 2-D tables and marker order (TrioScorer), not part of the scan",
        "cold": "the child's separable vectors (SeparableTrioScorer), cold per-genotype cache",
        "warm": "the child's separable vectors (SeparableTrioScorer), warm per-genotype cache",
        "baseline": f"baseline: {args.baseline_fast}'s kernel, two-byte codes",
        "two-byte": "this kernel, two-byte codes",
        "planes": "the 2-D kernel (sum_above), the index's byte planes",
        "separable": "the separable kernel, the index's byte planes (the search's scan with theta 0)",
    }
    for name, label in labels.items():
        if runs[name]:
            values = runs[name]
            print(
                f"  {label}: median {statistics.median(values):.2f} ms, mean {statistics.mean(values):.2f} ms,"
                f" range {min(values):.2f}-{max(values):.2f} ms"
            )


def two_byte_memory(index: MatchIndex) -> int:
    """Return what `index.memory()` would be with every marker's codes in two bytes (the pools of before)."""
    extra = 0
    for pool in (index.loose, *index.pools.values()):
        extra += pool.width * pool.capacity * (2 * len(pool.untyped) - pool.bytes_per_column)
    return index.memory() + extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace a second build's allocations")
    parser.add_argument("--scan-children", type=int, default=20, help="children for the scan alone (0: none)")
    parser.add_argument("--baseline-fast", help="an earlier matching/fast.py to time the scan against")
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
    before = two_byte_memory(index) / 2**20
    print(
        f"add_many: {args.families:,} families ({2 * args.families:,} profiles) in {build:.1f} s wall, {cpu:.1f} s CPU"
        f" ({build * per_million:.1f} s wall per million families)"
    )
    print(f"  (drawing the profiles, subtracted: {drawing[0]:.1f} s)")
    print(
        f"  memory: RSS growth {after - before:.0f} MB ({(after - before) * per_million:.0f} MB per million"
        f" families; entries streamed), the index's arrays {arrays:.0f} MB ({arrays * per_million:.0f} MB per million)"
    )
    print(
        f"  with two-byte codes (every marker, as before) the arrays would be {before:.0f} MB"
        f" ({before * per_million:.0f} MB per million)"
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
    if args.scan_children:
        scan_alone(index, args, rng)
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
