"""Full re-match throughput: every child against every family unit, in one direction, vs the old re-match.

N synthetic families (80% couples, 20% one parent, on the 23 shipped markers) and C found children (half of them a
family's child) go into a `MatchIndex`. Then, in the same run:

- new: `matching.service.rematch.rematch_batches` (what `reunite match --all` runs between reading and storing):
  identity once for all profiles, then the children in batches over 1 and over 2 forked processes; wall time and
  the CPU time of this process and its children, as child-family pairs per second per core (CPU);
- old (the baseline): `MatchIndex.search` of a sample of children and of family profiles (what every profile's
  rematch job ran: identity against everyone, the family side's searches too), projected to all profiles;
- the per-child fixed cost at this size: the child's tables, one identity scan, the pruned scans, and each exact
  recomputation of a hit; and the index's memory per million families.

The machine is shared: the CPU figures are the ones to compare; wall times are noise.

    .venv/bin/python -m benchmarks.bench_rematch [--families 100000] [--children 1000] [--sample 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from matching.batch import DuoScorer, TrioScorer
from matching.frequencies import FrequencyTable
from matching.search import Entry, MatchIndex, Side
from matching.search.identity import identity_flags
from matching.service.rematch import rematch_batches
from matching.simulate import child_of, random_profiles


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _population(table: FrequencyTable, families: int, children: int, seed: int) -> list[Entry]:
    rng = np.random.default_rng(seed)
    fathers, mothers = random_profiles(table, rng, families), random_profiles(table, rng, families)
    out: list[Entry] = []
    for i in range(families):
        out.append(Entry(f"f{i}", 3 * i, i, Side.FAMILY, "father", "male", fathers[i]))
        if i % 5:
            out.append(Entry(f"m{i}", 3 * i + 1, i, Side.FAMILY, "mother", "female", mothers[i]))
    strangers = random_profiles(table, rng, children)
    for k in range(children):
        i = k * (families // max(children, 1))
        kid = child_of(fathers[i], mothers[i], rng) if k % 2 else strangers[k]
        out.append(Entry(f"c{k}", -1 - k, -1 - k, Side.CHILD, "child", "unknown", kid))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--children", type=int, default=1_000)
    parser.add_argument("--sample", type=int, default=30, help="profiles of each side the old path searches")
    args = parser.parse_args()
    print("command:", ".venv/bin/python -m benchmarks.bench_rematch", *sys.argv[1:])
    print(f"cores: {os.cpu_count()} (shared with other work: compare CPU figures)")
    table = FrequencyTable.default()
    entries = _population(table, args.families, args.children, 2026)
    index = MatchIndex(table)
    index.add_many(entries)
    units = sum(len(p) for k, p in index.pools.items() if k != "child")
    pairs = units * args.children
    print(
        f"{args.families:,} families ({units:,} units), {args.children:,} children: {pairs:,} child-unit pairs"
    )
    print(f"index memory: {index.memory() / 2**20:.0f} MB ({index.memory() / 2**20 * 1e6 / args.families:.0f} MB per"
          " million families)")  # fmt: skip

    results = {}
    for workers in (1, 2):
        c0, t0 = _cpu(), time.perf_counter()
        found = sum(len(r.comparisons) for _, batch in rematch_batches(index, workers) for r, _ in batch)
        cpu, wall = _cpu() - c0, time.perf_counter() - t0
        results[workers] = (cpu, wall, found)
        print(
            f"new, {workers} process(es): {wall:.1f} s wall, {cpu:.1f} s CPU, {found} comparisons;"
            f" {pairs / cpu:,.0f} pairs per CPU-second, {cpu / args.children * 1000:.1f} ms CPU per child"
        )
    one, two = results[1], results[2]
    print(f"  wall speed-up 1 -> 2 processes: {one[1] / two[1]:.2f}x (CPU {one[0]:.1f} vs {two[0]:.1f} s)")

    kids = [e.profile_id for e in entries if e.side is Side.CHILD][: args.sample]
    fams = [e.profile_id for e in entries if e.side is Side.FAMILY][: args.sample]
    c0 = _cpu()
    for pid in kids:
        index.search(pid)
    per_child = (_cpu() - c0) / len(kids)
    c0 = _cpu()
    for pid in fams:
        index.search(pid)
    per_family = (_cpu() - c0) / len(fams)
    n_family = sum(1 for e in entries if e.side is Side.FAMILY)
    old = per_child * args.children + per_family * n_family
    print(
        f"old (baseline, same run): search per child {per_child * 1000:.1f} ms, per family profile"
        f" {per_family * 1000:.1f} ms CPU; projected for every profile {old:.0f} s CPU"
        f" ({pairs / old:,.0f} pairs per CPU-second); new/old CPU {one[0] / old:.3f}"
    )

    kid = index.profile(kids[1])
    encoding = index.encoder.encoding
    slot = index.slot(kids[1])
    for name, fn in (
        ("trio tables", lambda: TrioScorer(encoding, kid, index.settings.mutation)),
        ("duo tables", lambda: DuoScorer(encoding, kid, index.settings.mutation)),
        ("identity scan of one profile (old path; now once for all)", lambda: identity_flags(index, slot)),
        ("identity once for all profiles", index.identical_pairs),
        (
            "one child's search without identity (tables, scans, exact hits)",
            lambda: index.search_slot(slot, []),
        ),
    ):
        c0 = time.process_time()
        for _ in range(10):
            fn()
        print(f"per-child cost: {name}: {(time.process_time() - c0) / 10 * 1000:.2f} ms CPU")


if __name__ == "__main__":
    main()
