"""How fast one profile is scored against a million on the other side: the full scan and the exact pruned scan.

Three searches, each over all 23 shipped markers, in one run on the same synthetic population:

- trio: one new child against N couples (`TrioScorer`), the service's central search;
- duo: one new child against N single parents (`DuoScorer`);
- 1-D: one new family (a couple) against N children, a per-marker table indexed by the child's genotype code
  (`matching.fast.sum_above`, the kernel the family-to-children search uses).

For each: the per-profile table build, the full numba sum (`matching.fast`), the pruned scan returning only the
candidates at or above the reporting threshold (`above`, exact), the numpy reference (full sum, then filter) and
the read floor (the time to sum the code arrays once), median of several runs. The pruned scan is checked equal
to the numpy reference (same indices, bit-identical LRs) before anything is timed. Then the theta > 0 trio
tables: the closed form against the general pedigree likelihood (the path used before), timed and compared.

The population: N unrelated couples (5% typed only on the 15 Identifiler markers, the rest untyped) with the
child's true parents planted among them, and N unrelated children with the child among them. Scenarios: with the
stepwise mutation model (the service's default for parent-child) and without mutation.

    make bench      (or: .venv/bin/python -m benchmarks.bench_kinship [--families 1000000] [--repeats 5])
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching import fast  # noqa: E402
from matching.batch import (  # noqa: E402
    DuoScorer,
    GenotypeEncoding,
    LocusCodes,
    TrioScorer,
    genotype_frequencies,
    pedigree_trio_table,
)
from matching.frequencies import FrequencyTable  # noqa: E402
from matching.mutation import MutationModel  # noqa: E402
from matching.profiles import Profile  # noqa: E402

COMMAND = ".venv/bin/python -m benchmarks.bench_kinship"
IDENTIFILER = (
    "D8S1179", "D21S11", "D7S820", "CSF1PO", "D3S1358", "TH01", "D13S317", "D16S539", "D2S1338", "D19S433",
    "vWA", "TPOX", "D18S51", "D5S818", "FGA",
)  # fmt: skip
# The lowest band stored for officers: inconclusive from LR 2,000 (candidates from 10,000).
THRESHOLD = float(np.log10(2000.0))
MUTATION = MutationModel("stepwise", 0.002, 1e-6, 0.1)


def draw_alleles(enc: GenotypeEncoding, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return n unrelated people's allele indices, shape (markers, 2, n), drawn from the table."""
    out = np.empty((len(enc.markers), 2, n), dtype=np.uint8)
    for i, marker in enumerate(enc.markers):
        locus = enc.loci[marker].locus
        cdf = np.cumsum(locus.frequencies)
        for j in range(2):
            out[i, j] = np.minimum(np.searchsorted(cdf, rng.random(n)), len(locus.alleles) - 1)
    return out


def to_codes(enc: GenotypeEncoding, alleles: np.ndarray, untyped: np.ndarray) -> np.ndarray:
    """Return the genotype codes (markers, n) uint16 of allele indices; untyped[i, c] marks a missing marker."""
    codes = np.empty(alleles[:, 0].shape, dtype=np.uint16)
    for i, marker in enumerate(enc.markers):
        locus = enc.loci[marker]
        k = len(locus.locus.alleles)
        lookup = np.empty((k, k), dtype=np.uint16)
        for (x, y), code in locus.codes.items():
            lookup[x, y] = lookup[y, x] = code
        codes[i] = np.where(untyped[i], locus.untyped, lookup[alleles[i, 0], alleles[i, 1]])
    return codes


def kit_untyped(enc: GenotypeEncoding, n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Return (markers, n) flags: a `share` of the people typed only on the Identifiler markers."""
    small_kit = rng.random(n) < share
    outside = np.array([m not in IDENTIFILER for m in enc.markers])
    flags: np.ndarray = outside[:, None] & small_kit[None, :]
    return flags


def child_of(
    enc: GenotypeEncoding, father: np.ndarray, mother: np.ndarray, rng: np.random.Generator
) -> Profile:
    """Return a child of one couple (allele indices (markers, 2)), one allele from each parent at every marker."""
    genotypes = {}
    for i, marker in enumerate(enc.markers):
        alleles = enc.loci[marker].locus.alleles
        genotypes[marker] = (alleles[father[i, rng.integers(2)]], alleles[mother[i, rng.integers(2)]])
    return Profile(genotypes)  # type: ignore[arg-type]


def family_tables(
    enc: GenotypeEncoding, father: np.ndarray, mother: np.ndarray, mutation: MutationModel | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return one couple's log10 trio LR tables over every child genotype (untyped child: 0), concatenated, and
    their offsets: the 1-D tables of a family-to-children search (theta 0)."""
    tables = []
    for i, marker in enumerate(enc.markers):
        codes: LocusCodes = enc.loci[marker]
        p = codes.locus.frequencies
        m = mutation.matrix(codes.locus) if mutation else np.eye(len(p))
        t_f = 0.5 * (m[father[i, 0]] + m[father[i, 1]])
        t_m = 0.5 * (m[mother[i, 0]] + m[mother[i, 1]])
        a, b = codes.first, codes.second
        het = a != b
        lr = np.where(het, t_f[a] * t_m[b] + t_f[b] * t_m[a], t_f[a] * t_m[a]) / (
            p[a] * p[b] * np.where(het, 2.0, 1.0)
        )
        with np.errstate(divide="ignore"):
            tables.append(np.append(np.log10(lr), 0.0))
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in tables])[:-1]]).astype(np.int64)
    return np.concatenate(tables), offsets


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _sum_codes_kernel(codes: np.ndarray) -> int:  # pragma: no cover - jitted
    total = 0
    for k in fast.numba.prange(codes.shape[0]):
        row = codes[k]
        acc = 0
        for c in range(row.shape[0]):
            acc += row[c]
        total += acc
    return total


_sum_codes = fast.numba.njit(parallel=True, cache=True)(_sum_codes_kernel) if fast.HAVE_NUMBA else None


def read_floor_numba(*arrays: np.ndarray) -> int:
    """Return the sum of every code with numba on all cores: the cost of reading the data once."""
    assert _sum_codes is not None
    return sum(int(_sum_codes(a)) for a in arrays)


def read_floor_numpy(*arrays: np.ndarray) -> int:
    """Return the sum of every code with numpy (one core)."""
    return sum(int(a.sum(dtype=np.uint64)) for a in arrays)


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    numba_version = getattr(getattr(fast, "numba", None), "__version__", "absent")
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__},"
        f" numba {numba_version}, load average {os.getloadavg()[0]:.2f} (other work slows every row)"
    )


def check_same(name: str, pruned: tuple[np.ndarray, np.ndarray], full: np.ndarray, planted: int) -> int:
    """Assert the pruned scan returned exactly the reference's candidates, with bit-identical LRs."""
    keep = np.flatnonzero(full >= THRESHOLD)
    np.testing.assert_array_equal(pruned[0], keep, err_msg=name)
    np.testing.assert_array_equal(pruned[1], full[keep], err_msg=name)
    assert planted in keep, f"{name}: the planted relative is not found"
    return len(keep)


def scan_rows(args: argparse.Namespace, enc: GenotypeEncoding, rng: np.random.Generator) -> list[str]:
    n = args.families
    repeats = args.repeats
    f_alleles, m_alleles, c_alleles = (draw_alleles(enc, n, rng) for _ in range(3))
    truth = int(rng.integers(n))  # the child's parents are couple `truth`; the child is child `truth`
    child = child_of(enc, f_alleles[:, :, truth], m_alleles[:, :, truth], rng)
    for i, marker in enumerate(enc.markers):
        g = child.genotypes[marker]
        c_alleles[i, :, truth] = [enc.loci[marker].locus.index(a) for a in g]
    untyped = kit_untyped(enc, n, 0.05, rng)
    untyped[:, truth] = False
    fathers, mothers = (
        to_codes(enc, f_alleles, untyped),
        to_codes(enc, m_alleles, kit_untyped(enc, n, 0.05, rng)),
    )
    mothers[:, truth] = to_codes(
        enc, m_alleles[:, :, truth : truth + 1], np.zeros((len(enc.markers), 1), bool)
    )[:, 0]
    children = to_codes(enc, c_alleles, kit_untyped(enc, n, 0.05, rng))
    rows_all = np.arange(len(enc.markers), dtype=np.int64)
    population = (
        child,
        fathers,
        mothers,
        children,
        f_alleles[:, :, truth],
        m_alleles[:, :, truth],
        truth,
        rows_all,
    )
    lines = []
    for label, mutation in (("stepwise 0.002", MUTATION), ("no mutation", None)):
        lines += scenario(enc, label, mutation, population, repeats)
    return lines


def scenario(
    enc: GenotypeEncoding, label: str, mutation: MutationModel | None, population: tuple, repeats: int
) -> list[str]:
    """Return the table rows of one mutation setting: trio, duo and 1-D searches."""
    child, fathers, mothers, children, father, mother, truth, rows_all = population
    lines = []
    trio_build = median_ms(lambda m=mutation: TrioScorer(enc, child, m, 0.0).order, repeats)
    duo_build = median_ms(lambda m=mutation: DuoScorer(enc, child, m, 0.0).order, repeats)
    trio, duo = TrioScorer(enc, child, mutation, 0.0), DuoScorer(enc, child, mutation, 0.0)
    fam_build = median_ms(lambda m=mutation: family_tables(enc, father, mother, m), repeats)
    fam_tables, fam_offsets = family_tables(enc, father, mother, mutation)
    fam_order = fast.informative_order(fam_tables, fam_offsets, _child_weights(enc))

    # Warm up (numba compiles or loads its cache) and check that every path agrees.
    found = {
        "trio": check_same(
            "trio",
            trio.above(fathers, mothers, THRESHOLD),
            trio.log10_lr(fathers, mothers, use_numba=False),
            truth,
        ),
        "duo": check_same(
            "duo", duo.above(fathers, THRESHOLD), duo.log10_lr(fathers, use_numba=False), truth
        ),
        "1-D": check_same(
            "1-D",
            fast.sum_above(fam_tables, fam_offsets, rows_all, children, THRESHOLD, order=fam_order),
            fast.sum_duo_numpy(fam_tables, fam_offsets, rows_all, children),
            truth,
        ),
    }
    np.testing.assert_array_equal(
        trio.log10_lr(fathers, mothers), trio.log10_lr(fathers, mothers, use_numba=False)
    )
    assert np.isclose(
        fast.sum_duo_numpy(fam_tables, fam_offsets, rows_all, children[:, truth : truth + 1])[0],
        trio.log10_lr(fathers[:, truth : truth + 1], mothers[:, truth : truth + 1])[0],
        rtol=1e-9,
    ), "the 1-D family tables disagree with the trio tables"
    read_floor_numba(fathers)

    searches = {
        "trio": (
            trio_build,
            lambda: trio.log10_lr(fathers, mothers),
            lambda: trio.above(fathers, mothers, THRESHOLD),
            lambda: trio.above(fathers, mothers, THRESHOLD, use_numba=False),
            (fathers, mothers),
        ),
        "duo": (
            duo_build,
            lambda: duo.log10_lr(fathers),
            lambda: duo.above(fathers, THRESHOLD),
            lambda: duo.above(fathers, THRESHOLD, use_numba=False),
            (fathers,),
        ),
        "1-D": (
            fam_build,
            lambda: fast.sum_duo(fam_tables, fam_offsets, rows_all, children),
            lambda: fast.sum_above(fam_tables, fam_offsets, rows_all, children, THRESHOLD, order=fam_order),
            lambda: fast.sum_above(fam_tables, fam_offsets, rows_all, children, THRESHOLD, use_numba=False),
            (children,),
        ),
    }
    for name, (build, full, pruned, reference, arrays) in searches.items():
        figures = (
            build,
            median_ms(full, repeats),
            median_ms(pruned, repeats),
            median_ms(reference, max(1, repeats // 2)),
            median_ms(lambda a=arrays: read_floor_numba(*a), repeats),
            median_ms(lambda a=arrays: read_floor_numpy(*a), max(1, repeats // 2)),
        )
        lines.append(
            f"| {name} | {label} | "
            + " | ".join(f"{x:.1f}" for x in figures)
            + f" | {figures[0] + figures[2]:.1f} | {found[name]} |"
        )
    return lines


def _child_weights(enc: GenotypeEncoding) -> np.ndarray:
    """Return the genotype frequencies of a random child, laid out like the 1-D tables (untyped: 0)."""
    return np.concatenate([np.append(genotype_frequencies(enc.loci[m]), 0.0) for m in enc.markers])


def theta_rows(enc: GenotypeEncoding, rng: np.random.Generator, repeats: int, before: bool) -> list[str]:
    lines = []
    table = enc.table
    f, m = draw_alleles(enc, 1, rng), draw_alleles(enc, 1, rng)
    child = child_of(enc, f[:, :, 0], m[:, :, 0], rng)
    for theta in (0.01, 0.03):
        after = median_ms(lambda t=theta: TrioScorer(enc, child, MUTATION, t), repeats)
        scorer = TrioScorer(enc, child, MUTATION, theta)
        if before:
            start = time.perf_counter()
            reference = []
            for marker in scorer.markers:
                reference.append(
                    pedigree_trio_table(marker.codes, marker.child, marker.mutation, theta).ravel()
                )
            old = (time.perf_counter() - start) * 1000
            np.testing.assert_allclose(scorer.tables, np.concatenate(reference), rtol=1e-10, atol=1e-12)
            lines.append(f"| {theta} | {old:,.0f} | {after:.1f} | equal (rel 1e-10) |")
        else:
            lines.append(f"| {theta} | not run (--no-before) | {after:.1f} | |")
    del table
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--families", type=int, default=1_000_000, help="candidates on the other side")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (the median is printed)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--no-before", action="store_true", help="skip the slow pedigree-likelihood theta tables (~13 s)"
    )
    args = parser.parse_args()
    if not fast.HAVE_NUMBA:
        print("numba is not installed: nothing to benchmark", file=sys.stderr)
        return 1
    rng = np.random.default_rng(args.seed)
    enc = GenotypeEncoding(FrequencyTable.default())
    print(
        f"kinship scan: one profile against {args.families:,} on the other side, {len(enc.markers)} markers,"
        f" theta 0, threshold log10 LR >= {THRESHOLD:.2f} (LR 2,000), median of {args.repeats} runs (ms)"
    )
    print(f"machine: {machine()}")
    print(
        "| search | mutation | table build | full scan (numba) | pruned scan (numba) | numpy reference"
        " | read floor (numba) | read floor (numpy) | build + pruned | found |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for line in scan_rows(args, enc, rng):
        print(line, flush=True)
    print()
    print("trio table build with theta > 0 (stepwise 0.002, 23 markers, one child), ms:")
    print("| theta | before: pedigree likelihood | after: closed form | tables |")
    print("|---|---|---|---|")
    for line in theta_rows(enc, rng, args.repeats, not args.no_before):
        print(line, flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print(f"reproduce: {COMMAND} --families {args.families} --repeats {args.repeats}   (or: make bench)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
