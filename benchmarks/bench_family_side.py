"""Family-side search: a new parent (couple, single parent or relative) against every child, old tables vs new.

For each unit kind, one fixed family's per-marker log10 LR tables over every child genotype are built two ways in
the same run: the previous path (`family_scan.pedigree_family_table`: the general pedigree likelihood with the
child batch-typed, numpy einsum per marker; the baseline) and today's (`FamilyScorer`: the closed-form trio for
parents, a cached pair-table row for relatives). The two must agree to 1e-9 relative (checked and printed). Then
the pruned scan of N children at the search's threshold (log10 2,000), and the whole `MatchIndex.search` of the
family's profile (identity against every profile, tables, scan, exact recomputation of the hits). The child side's
relative tables (`PairScorer`, the child fixed) are timed the same way. Times are CPU seconds of this process
(`time.process_time`, all threads: the machine is shared, wall-clock is noise); the median of `--repeats`.

    .venv/bin/python -m benchmarks.bench_family_side [--children 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from matching.family_scan import (
    RELATIVE_RELATIONSHIP,
    FamilyScorer,
    PairScorer,
    genotype_indices,
    pedigree_family_table,
)
from matching.frequencies import FrequencyTable
from matching.profiles import Profile
from matching.search import DEFAULT_MUTATION, Entry, MatchIndex, Side
from matching.simulate import child_of, random_profiles


def _cpu_ms(repeats: int, fn: Callable[..., object], *args: object) -> float:
    times = []
    for _ in range(repeats):
        c0 = time.process_time()
        fn(*args)
        times.append(time.process_time() - c0)
    return statistics.median(times) * 1000


def _old_tables(
    index: MatchIndex, relationship: str, family: dict[str, Profile], child_role: str
) -> np.ndarray:
    encoding = index.encoder.encoding
    parts = []
    for marker in encoding.markers:
        codes = encoding.loci[marker]
        fixed = {
            r: g for r, p in family.items() if (g := genotype_indices(codes, p.genotype(marker))) is not None
        }
        if fixed:
            parts.append(
                pedigree_family_table(
                    encoding, relationship, fixed, child_role, marker, DEFAULT_MUTATION, 0.0
                )
            )
    return np.concatenate(parts)


def _old_pair_tables(index: MatchIndex, relationship: str, kid: Profile) -> list[np.ndarray]:
    encoding = index.encoder.encoding
    return [
        pedigree_family_table(encoding, relationship, {"person2": g}, "person1", m, DEFAULT_MUTATION, 0.0)
        for m in encoding.markers
        if (g := genotype_indices(encoding.loci[m], kid.genotype(m))) is not None
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("command:", ".venv/bin/python -m benchmarks.bench_family_side", *sys.argv[1:])
    print("times: CPU ms of this process (all threads), median of", args.repeats, "(a shared machine)")
    table = FrequencyTable.default()
    rng = np.random.default_rng(2026)
    father, mother = random_profiles(table, rng, 2)
    relative = random_profiles(table, rng, 1)[0]
    index = MatchIndex(table)
    entries = [
        Entry("f", 1, 1, Side.FAMILY, "father", "male", father),
        Entry("m", 2, 1, Side.FAMILY, "mother", "female", mother),
        Entry("d", 3, 2, Side.FAMILY, "father", "male", relative),
        Entry("s", 4, 3, Side.FAMILY, "full_sibling", "male", relative),
        Entry("kid", 5, 4, Side.CHILD, "child", "unknown", child_of(father, mother, rng)),
    ]
    children = random_profiles(table, rng, args.children - 1)
    entries += [
        Entry(f"c{i}", 10 + i, 10 + i, Side.CHILD, "child", "unknown", p) for i, p in enumerate(children)
    ]
    index.add_many(entries)
    encoding = index.encoder.encoding
    codes = index.pools["child"].codes()  # the pool the family search scans
    threshold = np.log10(2000.0) - 1e-6
    cases: list[tuple[str, dict[str, Profile], str, str]] = [
        ("trio_couple", {"father": father, "mother": mother}, "child", "m"),
        ("duo", {"parent": relative}, "child", "d"),
        *((rel, {"person1": relative}, "person2", "s") for rel in RELATIVE_RELATIONSHIP.values()),
    ]
    print(f"{args.children:,} children; stepwise mutation; theta 0")
    print(
        "| unit | tables before (pedigree likelihood) | tables now | max rel. diff | pruned scan | search |"
    )
    print("|---|---|---|---|---|---|")
    for relationship, family, child_role, pid in cases:
        FamilyScorer(encoding, relationship, family, DEFAULT_MUTATION)  # warm the pair table's cache
        old = _cpu_ms(max(1, args.repeats // 2), _old_tables, index, relationship, family, child_role)
        new = _cpu_ms(args.repeats, FamilyScorer, encoding, relationship, family, DEFAULT_MUTATION)
        scorer = FamilyScorer(encoding, relationship, family, DEFAULT_MUTATION)
        want = _old_tables(index, relationship, family, child_role)
        finite = np.isfinite(want)
        assert np.array_equal(finite, np.isfinite(scorer.tables))
        diff = float(
            np.max(np.abs(scorer.tables[finite] - want[finite]) / np.maximum(np.abs(want[finite]), 1e-300))
        )
        scan = _cpu_ms(args.repeats, scorer.above, codes, threshold)
        search = (
            ""
            if relationship not in ("trio_couple", "duo", "full_siblings")
            else (f"{_cpu_ms(args.repeats, index.search, pid):.1f} ms")
        )
        print(f"| {relationship} | {old:.1f} ms | {new:.2f} ms | {diff:.1e} | {scan:.1f} ms | {search} |")
    kid = entries[4].profile
    print("child side, one child's relative tables (PairScorer):")
    for relationship in RELATIVE_RELATIONSHIP.values():
        old = _cpu_ms(max(1, args.repeats // 2), _old_pair_tables, index, relationship, kid)
        new = _cpu_ms(args.repeats, PairScorer, encoding, relationship, kid, DEFAULT_MUTATION)
        print(f"  {relationship}: before {old:.1f} ms, now {new:.2f} ms")
    print(f"search child -> families (incremental, now): {_cpu_ms(args.repeats, index.search, 'kid'):.1f} ms")


if __name__ == "__main__":
    main()
