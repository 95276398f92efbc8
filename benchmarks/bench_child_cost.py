"""What one child costs in the full re-match, at 100,000 and at 1,000,000 families, and the projection from it.

`matching.synthetic.Generator` draws N families (80% couples, 20% one parent typed, no other relatives; kits 60%
the table's 23 markers, 25% PowerPlex 21, 15% Identifiler; stepwise mutation in the draws) and C found children
(half of them a family's missing child). One in-memory `MatchIndex` holds the children and the first N0 families
(the baseline, default 100,000), then all N. At each size, in this one process and one thread (as each forked
worker of `reunite match --all` runs), every child is searched as the re-match searches it
(`MatchIndex.search_slot`, its identity flags aside) and that CPU time is split by timing, inside the same calls:

- tables: building the child's couple scorer (`matching.batch.trio_scorer`: the separable vectors, theta 0) and
  `DuoScorer` (its per-marker tables and the scan's marker order);
- exact: every hit the scans returned, recomputed exactly with per-marker evidence (`compare`), and how many;
- scan: the rest of the search (the pruned scans of every pool, decoding, gathering).

With `--two-d K` the first K children are searched again with the 2-D trio tables and scan of `TrioScorer` (the
numba path before the separable scan), same run, the baseline of the separable scan. Then identity, computed once for every profile (`MatchIndex.identical_pairs`), and "before": the same searches
of the first `--before` children with the previous paths (the per-marker numpy tables and `kinship_lr` for every
hit), same run. The projection for `--project-children` children against N families on `--cores` processes is
built from those measured parts plus the index build, which is not measured here (`--build-seconds`, default
today's figure from PostgreSQL, docs/matching.md "Index size and build").

    .venv/bin/python -m benchmarks.bench_child_cost [--families 1000000] [--baseline 100000] [--children 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import matching.batch
import matching.search.compare
import matching.search.match_index
import matching.search.scans
from matching import fast
from matching.frequencies import FrequencyTable
from matching.kinship import kinship_lr
from matching.profiles import Profile
from matching.search import Entry, MatchIndex, Side
from matching.synthetic import Config, Generator, genotype_dicts

BUILD_SECONDS = 136.0  # build_index from PostgreSQL, 1,000,000 families + 200,000 children (docs/matching.md)


@dataclass
class Parts:
    """One child's search: CPU seconds in all, in its tables, in the exact recomputations, and how many hits."""

    whole: float = 0.0
    tables: float = 0.0  # the couple scorer and DuoScorer built (tables or vectors, and marker order)
    exact: float = 0.0  # `compare` of every hit
    hits: int = 0

    @property
    def scan(self) -> float:
        return self.whole - self.tables - self.exact


@dataclass
class Timer:
    """Wraps the functions a search calls, adding their CPU time to the current child's parts."""

    now: Parts = field(default_factory=Parts)

    def wrap(self, fn: Callable[..., Any], part: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            c0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self.now, part, getattr(self.now, part) + time.process_time() - c0)
                if part == "exact":
                    self.now.hits += 1

        return timed


def _profiles(
    table: FrequencyTable, gen: Generator, genotypes: np.ndarray, kits: np.ndarray
) -> list[Profile]:
    out: list[Profile | None] = [None] * len(genotypes)
    for k, kit in enumerate(gen.kits):
        rows = np.flatnonzero(kits == k)
        for row, raw in zip(rows.tolist(), genotype_dicts(table, genotypes[rows], kit.markers), strict=True):
            out[row] = Profile({m: (g[0], g[1]) for m, g in raw.items()})
    return out  # type: ignore[return-value]


def _population(
    table: FrequencyTable, families: int, children: int, seed: int
) -> tuple[list[Any], list[Entry]]:
    """Draw the families (kept as compact chunks) and the found children (as entries)."""
    config = Config(families, children, true_share=0.5, one_parent_share=0.2, relative_share=0.0)
    gen = Generator(table, config, seed=seed, chunk=50_000)
    chunks = [
        (gen, c.start, c.father, c.mother, c.father_typed, c.mother_typed, c.kit) for c in gen.families()
    ]
    kids: list[Entry] = []
    for found in gen.found():
        for i, p in enumerate(_profiles(table, gen, found.genotypes, found.kit)):
            k = found.start + i
            kids.append(Entry(f"c{k}", -1 - k, -1 - k, Side.CHILD, "child", "unknown", p))
    return chunks, kids


def _family_entries(table: FrequencyTable, chunks: list[Any], start: int, stop: int) -> Iterator[Entry]:
    for gen, first, father, mother, father_typed, mother_typed, kit in chunks:
        lo, hi = max(start, first), min(stop, first + len(father))
        if lo >= hi:
            continue
        rows = slice(lo - first, hi - first)
        fathers = _profiles(table, gen, father[rows], kit[rows, 0])
        mothers = _profiles(table, gen, mother[rows], kit[rows, 1])
        for j in range(hi - lo):
            i = lo + j
            if father_typed[rows][j]:
                yield Entry(f"f{i}", 3 * i, i, Side.FAMILY, "father", "unknown", fathers[j])
            if mother_typed[rows][j]:
                yield Entry(f"m{i}", 3 * i + 1, i, Side.FAMILY, "mother", "unknown", mothers[j])


def _search_all(index: MatchIndex, slots: list[int], timer: Timer) -> list[Parts]:
    parts = []
    claimed = index.cases_with(Side.CLAIMED)  # as `MatchIndex.rematch`, once
    for slot in slots:
        timer.now = Parts()
        c0 = time.process_time()
        index.search_slot(slot, [], with_claimed=index.case_of(slot) in claimed)
        timer.now.whole = time.process_time() - c0
        parts.append(timer.now)
    return parts


def _ms(values: list[float]) -> str:
    return f"{statistics.mean(values) * 1000:7.2f} ms (median {statistics.median(values) * 1000:.2f})"


def _report(label: str, parts: list[Parts]) -> float:
    whole = statistics.mean(p.whole for p in parts)
    hits = [p.hits for p in parts]
    print(f"{label}: {len(parts)} children, CPU per child (mean, one thread):")
    print(f"  whole search  {_ms([p.whole for p in parts])}")
    print(f"  tables        {_ms([p.tables for p in parts])}")
    print(f"  scan          {_ms([p.scan for p in parts])}")
    per_hit = sum(p.exact for p in parts) / max(1, sum(hits))
    print(
        f"  exact         {_ms([p.exact for p in parts])}: {statistics.mean(hits):.2f} hits per child"
        f" (max {max(hits)}), {per_hit * 1000:.2f} ms per hit"
    )
    return whole


def _before(index: MatchIndex, slots: list[int], timer: Timer, now: list[Parts]) -> float:
    """Search the same children with the previous paths: numpy tables per marker, `kinship_lr` for every hit."""
    exact = matching.search.compare.exact_lr
    matching.batch.HAVE_NUMBA = False
    matching.search.compare.exact_lr = kinship_lr  # type: ignore[assignment]
    try:
        before = _report("  before (same children, previous paths)", _search_all(index, slots, timer))
    finally:
        matching.batch.HAVE_NUMBA = fast.HAVE_NUMBA
        matching.search.compare.exact_lr = exact
    print(
        f"  before / now, whole search of these children: {before / statistics.mean(p.whole for p in now):.1f}x"
    )
    return before


def _two_d(index: MatchIndex, slots: list[int], timer: Timer, now: list[Parts]) -> None:
    """Search the same children with the 2-D trio tables and scan (`TrioScorer`, numba) instead of the separable."""
    separable = matching.search.scans.trio_scorer
    matching.search.scans.trio_scorer = timer.wrap(  # type: ignore[assignment]
        lambda *a: (built := matching.batch.TrioScorer(*a), built.order)[0], "tables"
    )
    try:
        two_d = _report("  2-D trio tables and scan (same children)", _search_all(index, slots, timer))
    finally:
        matching.search.scans.trio_scorer = separable
    print(
        f"  2-D / separable, whole search of these children: {two_d / statistics.mean(p.whole for p in now):.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default, meaning in (
        ("--families", 1_000_000, "families of the full size"),
        ("--baseline", 100_000, "families of the baseline size"),
        ("--children", 300, "children searched at each size"),
        ("--before", 40, "children searched with the previous paths too"),
        ("--two-d", 300, "children searched with the 2-D trio scan too"),
        ("--project-children", 100_000, "children of the projection"),
        ("--cores", 16, "processes of the projection"),
    ):
        parser.add_argument(name, type=int, default=default, help=meaning)
    parser.add_argument(
        "--build-seconds", type=float, default=BUILD_SECONDS, help="index build of the projection"
    )
    args = parser.parse_args()
    print("command:", ".venv/bin/python -m benchmarks.bench_child_cost", *sys.argv[1:])
    fast.SERIAL_BELOW = 2**62  # one thread, as each forked worker of the re-match
    table = FrequencyTable.default()
    c0, t0 = time.process_time(), time.perf_counter()
    chunks, kids = _population(table, args.families, args.children, 2026)
    print(f"drawn: {args.families:,} families, {args.children} children in {time.perf_counter() - t0:.0f} s")

    timer = Timer()
    scans, compare_module = matching.search.scans, matching.search.match_index
    for name in ("trio_scorer", "DuoScorer"):  # the marker order too (the previous path built it lazily)
        scorer = getattr(scans, name)
        setattr(scans, name, timer.wrap(lambda *a, _s=scorer: (built := _s(*a), built.order)[0], "tables"))
    compare_module.compare = timer.wrap(compare_module.compare, "exact")  # type: ignore[assignment]

    index = MatchIndex(table)
    sizes = sorted({n for n in (args.baseline, args.families) if n <= args.families})
    done = 0
    per_child: dict[int, float] = {}
    before: dict[int, float] = {}
    for n in sizes:
        t0, c0 = time.perf_counter(), time.process_time()
        index.add_many(_family_entries(table, chunks, done, n) if done else
                       [*kids, *_family_entries(table, chunks, 0, n)])  # fmt: skip
        done = n
        units = sum(len(p) for k, p in index.pools.items() if k != "child")
        print(
            f"\nindex: {n:,} families ({units:,} units: {len(index.pools['trio_couple']):,} couples,"
            f" {len(index.pools['duo']):,} single parents), {len(index):,} profiles; drawing and add_many"
            f" {time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU;"
            f" index arrays {index.memory() / 2**20:.0f} MB"
        )
        slots = index.child_slots()
        index.search_slot(slots[0], [])  # compile or load the kernels
        now = _search_all(index, slots, timer)
        per_child[n] = _report(f"re-match search at {n:,} families", now)
        c0 = time.process_time()
        pairs = index.identical_pairs()
        identity = time.process_time() - c0
        print(f"  identity once for all {len(index):,} profiles: {identity:.2f} s CPU ({len(pairs)} pairs)")
        c0 = time.process_time()
        for slot in slots:
            index.members(index.case_of(slot))
        print(
            f"  a case's members, looked up per child by the claimed-parent check before (now once per batch):"
            f" {(time.process_time() - c0) / len(slots) * 1000:.2f} ms CPU"
        )
        if args.two_d:
            _two_d(index, slots[: args.two_d], timer, now[: args.two_d])
        if args.before:
            before[n] = _before(index, slots[: args.before], timer, now[: args.before])
    n = args.families
    for label, cost in (("now", per_child[n]), ("before", before.get(n))):
        if cost is None:
            continue
        compute = cost * args.project_children
        print(
            f"\nprojection ({label}), {n:,} families x {args.project_children:,} children on {args.cores} cores:"
            f" searches {compute:,.0f} CPU-s / {args.cores} = {compute / args.cores:,.0f} s; identity"
            f" {identity:.1f} s (once, before the searches); index build {args.build_seconds:.0f} s (not measured"
            f" here: today's figure from PostgreSQL); total"
            f" {(compute / args.cores + identity + args.build_seconds) / 60:.1f} min (storing the results, in the"
            " parent while the workers search, not included)"
        )


if __name__ == "__main__":
    main()
